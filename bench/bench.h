/* Shared by the bench programs (bench/README in docs/performance.md): timing,
 * spawning, statistics and a raw QMP client with no JSON parser, so that the
 * baselines measure QEMU and the kernel and nothing of ours. Everything is
 * static inline: each bench program is its own main. Bench programs may print
 * and exit; they are not library code. */
#pragma once
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static inline int64_t b_now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void b_sleep_us(long us)
{
        struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

__attribute__((format(printf, 1, 2), noreturn)) static inline void b_die(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(1);
}

/* Start argv (PATH searched) with stdin from /dev/null and stdout+stderr to
 * `out` (NULL = /dev/null). posix_spawn = vfork + exec, the cheapest way
 * there is, used for the measured and the baseline side alike. */
/* b_spawn, and when fdpath is set, the file fdpath opened for appending
 * (created, truncated) as the child's fd `fdnum` too. */
static inline pid_t b_spawn_fd(char *const argv[], const char *out, int fdnum, const char *fdpath)
{
        posix_spawn_file_actions_t fa;
        pid_t pid;
        int r;

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, out ? out : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0600);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        if (fdpath)
                posix_spawn_file_actions_addopen(&fa, fdnum, fdpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
        r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r)
                b_die("spawn %s: %s", argv[0], strerror(r));
        return pid;
}

static inline pid_t b_spawn(char *const argv[], const char *out)
{
        return b_spawn_fd(argv, out, -1, NULL);
}

/* Exit status of pid, or 128+signal. */
static inline int b_wait(pid_t pid)
{
        int st;

        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Run argv to completion; dies when it fails (a failed run is no sample). */
static inline void b_run(char *const argv[])
{
        int rc = b_wait(b_spawn(argv, NULL));

        if (rc != 0) {
                fprintf(stderr, "bench: command failed (exit %d):", rc);
                for (int i = 0; argv[i]; i++)
                        fprintf(stderr, " %s", argv[i]);
                fputc('\n', stderr);
                exit(1);
        }
}

/* Gone, or a zombie (an orphaned supervisor waits for PID 1 to reap it). */
static inline bool b_pid_gone(pid_t pid)
{
        char path[64], buf[512], *p;
        FILE *f;
        size_t n;

        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        f = fopen(path, "re");
        if (!f)
                return true;
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        p = strrchr(buf, ')');
        return !p || p[1] == '\0' || p[2] == 'Z' || p[2] == 'X';
}

static inline void b_wait_gone(pid_t pid, int timeout_ms)
{
        for (int i = 0; i < timeout_ms && !b_pid_gone(pid); i++)
                b_sleep_us(1000);
}

static inline long b_read_pid(const char *path)
{
        FILE *f = fopen(path, "re");
        long pid = -1;

        if (f) {
                if (fscanf(f, "%ld", &pid) != 1)
                        pid = -1;
                fclose(f);
        }
        return pid;
}

static inline bool b_file_has(const char *path, const char *needle)
{
        FILE *f = fopen(path, "re");
        char line[4096];
        bool found = false;

        if (!f)
                return false;
        while (!found && fgets(line, sizeof line, f))
                found = strstr(line, needle) != NULL;
        fclose(f);
        return found;
}

/* ---- statistics ---- */

struct b_series {
        const char *what;
        double *v; /* milliseconds */
        int n, cap;
};

static inline void b_add(struct b_series *s, double ms)
{
        if (s->n == s->cap) {
                s->cap = s->cap ? s->cap * 2 : 16;
                s->v = realloc(s->v, (size_t)s->cap * sizeof *s->v);
                if (!s->v)
                        b_die("out of memory");
        }
        s->v[s->n++] = ms;
}

static inline int b_cmpd(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static inline double b_median(struct b_series *s)
{
        qsort(s->v, (size_t)s->n, sizeof *s->v, b_cmpd);
        if (s->n == 0)
                return 0;
        return s->n % 2 ? s->v[s->n / 2] : (s->v[s->n / 2 - 1] + s->v[s->n / 2]) / 2;
}

static inline void b_fmt(char *buf, size_t len, double v)
{
        snprintf(buf, len, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : v >= 1 ? "%.2f" : "%.3f", v);
}

/* One markdown row: | figure | what | median | min | max | n | vs baseline |.
 * Times in ms (scaled by `per`: 1, or the number of items for a per-item
 * figure). Ratio and difference against the baseline's median. */
static inline void b_row(const char *figure, struct b_series *s, double per, struct b_series *base)
{
        char med[32], mn[32], mx[32], d[32];
        double m = b_median(s) / per;

        b_fmt(med, sizeof med, m);
        b_fmt(mn, sizeof mn, s->v[0] / per);
        b_fmt(mx, sizeof mx, s->v[s->n - 1] / per);
        printf("| %s | %s | %s | %s | %s | %d |", figure, s->what, med, mn, mx, s->n);
        if (base && base->n) {
                double bm = b_median(base) / per;
                b_fmt(d, sizeof d, m - bm < 0 ? bm - m : m - bm);
                printf(" %.2f× %s (%s%s ms) |\n", bm > 0 ? m / bm : 0, base->what, m - bm < 0 ? "−" : "+", d);
        } else {
                printf(" baseline |\n");
        }
        fflush(stdout);
}

/* ---- raw QMP: bytes on a unix socket, lines split on '\n', no JSON ---- */

struct b_qmp {
        int fd;
        char buf[1 << 20];
        size_t len;
        char line[1 << 20];
};

/* Connect once; -1 while QEMU has not created/listened on the socket yet. */
static inline int b_qmp_try(struct b_qmp *q, const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        if (strlen(path) >= sizeof sa.sun_path)
                b_die("socket path too long: %s", path);
        memcpy(sa.sun_path, path, strlen(path) + 1);
        q->len = 0;
        q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (q->fd < 0)
                b_die("socket: %s", strerror(errno));
        if (connect(q->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                close(q->fd);
                q->fd = -1;
                return -1;
        }
        return 0;
}

/* Next line into q->line (without the CRLF). */
static inline int b_qmp_line(struct b_qmp *q)
{
        for (;;) {
                char *nl = memchr(q->buf, '\n', q->len);
                ssize_t n;

                if (nl) {
                        size_t k = (size_t)(nl - q->buf);
                        memcpy(q->line, q->buf, k);
                        q->line[k && q->line[k - 1] == '\r' ? k - 1 : k] = '\0';
                        memmove(q->buf, nl + 1, q->len - k - 1);
                        q->len -= k + 1;
                        return 0;
                }
                if (q->len == sizeof q->buf)
                        return -1;
                n = read(q->fd, q->buf + q->len, sizeof q->buf - q->len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return -1;
                q->len += (size_t)n;
        }
}

/* Send one request line and read lines up to its reply (events, which QEMU
 * may send before the reply they were caused by, are skipped). Returns 0 for
 * "return", 1 for "error", -1 when the connection broke. */
static inline int b_qmp_cmd(struct b_qmp *q, const char *json)
{
        size_t len = strlen(json);

        if (write(q->fd, json, len) != (ssize_t)len || write(q->fd, "\r\n", 2) != 2)
                return -1;
        for (;;) {
                if (b_qmp_line(q) < 0)
                        return -1;
                if (strncmp(q->line, "{\"return\"", 9) == 0)
                        return 0;
                if (strncmp(q->line, "{\"error\"", 8) == 0 || strncmp(q->line, "{\"id\"", 5) == 0)
                        return strstr(q->line, "\"error\"") ? 1 : 0;
        }
}

/* Connect (retrying every 0.2 ms until timeout_ms), read the greeting,
 * negotiate. With `greeting_only`, stop after the greeting. */
static inline int b_qmp_open(struct b_qmp *q, const char *path, int timeout_ms, bool greeting_only)
{
        int64_t deadline = b_now_ns() + (int64_t)timeout_ms * 1000000;

        while (b_qmp_try(q, path) < 0) {
                if (b_now_ns() > deadline)
                        return -1;
                b_sleep_us(200);
        }
        if (b_qmp_line(q) < 0 || strncmp(q->line, "{\"QMP\"", 6) != 0)
                return -1;
        if (greeting_only)
                return 0;
        return b_qmp_cmd(q, "{\"execute\":\"qmp_capabilities\"}") == 0 ? 0 : -1;
}

static inline void b_qmp_close(struct b_qmp *q)
{
        if (q->fd >= 0)
                close(q->fd);
        q->fd = -1;
}

/* The output of cmd, one element per line (NULL-terminated); a line equal to
 * skip (may be NULL) is left out. For `qemuctl cmdline`: the baselines run
 * the identical argv. Dies when cmd fails or prints nothing. */
static inline char **b_read_lines(const char *cmd, const char *skip)
{
        char line[8192], **v = NULL;
        size_t n = 0;
        FILE *p = popen(cmd, "re");

        if (!p)
                b_die("popen: %s", strerror(errno));
        while (fgets(line, sizeof line, p)) {
                line[strcspn(line, "\n")] = '\0';
                if (skip && strcmp(line, skip) == 0)
                        continue;
                v = realloc(v, (n + 2) * sizeof *v);
                if (!v || !(v[n++] = strdup(line)))
                        b_die("out of memory");
                v[n] = NULL;
        }
        if (pclose(p) != 0 || n == 0)
                b_die("%s: failed", cmd);
        return v;
}

/* QEMUs a bench started by hand (the baselines): b_bare_guard() has them
 * killed at exit and on SIGINT/SIGTERM, so no run leaves one behind. */
#define B_MAX_BARE 256
static pid_t b_bare_pids[B_MAX_BARE] __attribute__((unused));
static int b_n_bare __attribute__((unused));

static inline pid_t b_bare_spawn_fd(char *const argv[], const char *out, int fdnum, const char *fdpath)
{
        if (b_n_bare == B_MAX_BARE)
                b_die("more than %d bare QEMUs", B_MAX_BARE);
        return b_bare_pids[b_n_bare++] = b_spawn_fd(argv, out, fdnum, fdpath);
}

/* The fd qemuctl's argv names in `-add-fd fd=N,...` (the serial log's
 * pipe, which only the supervisor passes), or -1 when there is none. */
static inline int b_passed_fd(char *const argv[])
{
        for (int i = 0; argv[i] && argv[i + 1]; i++)
                if (strcmp(argv[i], "-add-fd") == 0 && strncmp(argv[i + 1], "fd=", 3) == 0)
                        return atoi(argv[i + 1] + 3);
        return -1;
}

/* Bare QEMU on qemuctl's argv (`qemuctl cmdline`). The supervisor passes
 * QEMU the serial log as a pipe it copies to serial.log; bare QEMU gets
 * the file `serial` itself as that fd: QEMU writes the same bytes to an fd
 * either way, and the copy is qemuctl's own cost. */
static inline pid_t b_bare_spawn(char *const argv[], const char *out, const char *serial)
{
        int fd = b_passed_fd(argv);

        return b_bare_spawn_fd(argv, out, fd, fd >= 0 ? serial : NULL);
}

/* Reap bare QEMU i once it is gone (it quit). */
static inline void b_bare_wait(int i)
{
        b_wait(b_bare_pids[i]);
        b_bare_pids[i] = -1;
}

static inline void b_bare_kill_all(void)
{
        for (int i = 0; i < b_n_bare; i++)
                if (b_bare_pids[i] > 0) {
                        kill(b_bare_pids[i], SIGKILL);
                        b_bare_wait(i);
                }
        b_n_bare = 0;
}

static inline void b_bare_on_signal(int sig)
{
        for (int i = 0; i < b_n_bare; i++)
                if (b_bare_pids[i] > 0)
                        kill(b_bare_pids[i], SIGKILL);
        _exit(128 + sig);
}

static inline void b_bare_guard(void)
{
        signal(SIGINT, b_bare_on_signal);
        signal(SIGTERM, b_bare_on_signal);
        signal(SIGPIPE, SIG_IGN);
        atexit(b_bare_kill_all);
}
