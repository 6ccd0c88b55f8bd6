/* QMP round trip cost: query-status through the library (framing, ids,
 * json-c parse, typed result) against the same request bytes written and
 * the reply line read on a raw socket (the floor: QEMU's own time plus the
 * socket). Both against one real paused QEMU (TCG), each on its own QMP
 * monitor, in interleaved rounds. Prints a markdown table row and a note. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/io.h"
#include "qmp/qmp.h"

static pid_t qemu_pid = -1;
static char dir[] = "/tmp/bench-qmp.XXXXXX";
static char lib_sock[100], raw_sock[100];

static void stop_qemu(void)
{
        if (qemu_pid > 0) {
                kill(qemu_pid, SIGKILL);
                waitpid(qemu_pid, NULL, 0);
        }
        unlink(lib_sock);
        unlink(raw_sock);
        rmdir(dir);
}

static int start_qemu(const char *bin)
{
        char a1[200], a2[200];

        if (!mkdtemp(dir))
                return -1;
        snprintf(lib_sock, sizeof lib_sock, "%s/lib.sock", dir);
        snprintf(raw_sock, sizeof raw_sock, "%s/raw.sock", dir);
        snprintf(a1, sizeof a1, "unix:%s,server=on,wait=off", lib_sock);
        snprintf(a2, sizeof a2, "unix:%s,server=on,wait=off", raw_sock);
        atexit(stop_qemu);
        qemu_pid = fork();
        if (qemu_pid == 0) {
                execlp(bin, bin, "-accel", "tcg", "-M", "q35", "-S", "-nodefaults", "-display", "none", "-m", "128M",
                      "-qmp", a1, "-qmp", a2, (char *)NULL);
                _exit(127);
        }
        for (int i = 0; i < 200; i++) {
                struct stat st;
                if (stat(raw_sock, &st) == 0 && stat(lib_sock, &st) == 0)
                        return 0;
                usleep(25000);
        }
        return -1;
}

struct raw {
        int fd;
        char buf[65536];
        size_t len;
};

/* Read up to and including the next '\n'; the line is dropped. */
static int raw_line(struct raw *r)
{
        for (;;) {
                char *nl = memchr(r->buf, '\n', r->len);
                ssize_t n;

                if (nl) {
                        size_t k = (size_t)(nl - r->buf) + 1;
                        memmove(r->buf, r->buf + k, r->len - k);
                        r->len -= k;
                        return 0;
                }
                if (r->len == sizeof r->buf)
                        return -1;
                n = read(r->fd, r->buf + r->len, sizeof r->buf - r->len);
                if (n <= 0)
                        return -1;
                r->len += (size_t)n;
        }
}

static int raw_connect(struct raw *r)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        static const char caps[] = "{\"execute\": \"qmp_capabilities\"}\r\n";

        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", raw_sock);
        r->len = 0;
        r->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (r->fd < 0 || connect(r->fd, (struct sockaddr *)&sa, sizeof sa) < 0)
                return -1;
        if (raw_line(r) < 0 || write_all(r->fd, caps, sizeof caps - 1) < 0 || raw_line(r) < 0)
                return -1;
        return 0;
}

static int64_t raw_round(struct raw *r, int n, int64_t *id)
{
        int64_t t0 = now_ns();

        for (int i = 0; i < n; i++) {
                char req[128];
                int len = snprintf(req, sizeof req, "{\"execute\":\"query-status\",\"id\":%lld}\r\n", (long long)++*id);

                if (write_all(r->fd, req, (size_t)len) < 0 || raw_line(r) < 0)
                        return -1;
        }
        return now_ns() - t0;
}

static int64_t lib_round(struct qmp *q, int n)
{
        int64_t t0 = now_ns();
        struct qc_err err;

        for (int i = 0; i < n; i++) {
                char *status = NULL;
                bool running;

                if (qmp_query_status(q, &status, &running, &err) < 0) {
                        fprintf(stderr, "bench-qmp: %s\n", err.msg);
                        return -1;
                }
                free(status);
        }
        return now_ns() - t0;
}

static int cmp64(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
        return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
        const char *bin = getenv("QEMU_BINARY");
        int calls = argc > 1 ? atoi(argv[1]) : 2000, rounds = argc > 2 ? atoi(argv[2]) : 15;
        struct qc_err err = { 0 };
        struct qmp *q = NULL;
        struct raw r;
        int64_t *lib, *raw, id = 100;
        struct qmp_version v;

        if (!bin || !*bin)
                bin = "qemu-system-x86_64";
        if (calls <= 0 || rounds <= 0) {
                fprintf(stderr, "usage: bench-qmp [CALLS-PER-ROUND [ROUNDS]]\n");
                return 2;
        }
        signal(SIGPIPE, SIG_IGN);
        if (start_qemu(bin) < 0) {
                fprintf(stderr, "bench-qmp: cannot start %s\n", bin);
                return 1;
        }
        if (qmp_connect(lib_sock, 10000, &q, &err) < 0 || raw_connect(&r) < 0) {
                fprintf(stderr, "bench-qmp: connect: %s\n", err.msg[0] ? err.msg : strerror(errno));
                return 1;
        }
        v = *qmp_greeting_version(q);
        lib = calloc((size_t)rounds, sizeof *lib);
        raw = calloc((size_t)rounds, sizeof *raw);
        if (!lib || !raw)
                return 1;
        /* warm up both paths, then alternate which goes first */
        if (lib_round(q, calls / 10 + 1) < 0 || raw_round(&r, calls / 10 + 1, &id) < 0)
                return 1;
        for (int i = 0; i < rounds; i++) {
                if (i % 2) {
                        lib[i] = lib_round(q, calls);
                        raw[i] = raw_round(&r, calls, &id);
                } else {
                        raw[i] = raw_round(&r, calls, &id);
                        lib[i] = lib_round(q, calls);
                }
                if (lib[i] < 0 || raw[i] < 0) {
                        fprintf(stderr, "bench-qmp: round %d failed\n", i);
                        return 1;
                }
        }
        qsort(lib, (size_t)rounds, sizeof *lib, cmp64);
        qsort(raw, (size_t)rounds, sizeof *raw, cmp64);
#define US(x) ((double)(x) / calls / 1000.0)
        printf("| benchmark | library | raw socket | ratio |\n|---|---|---|---|\n");
        printf("| QMP query-status round trip (QEMU %d.%d.%d, TCG, paused) | library: median %.1f µs (min %.1f, max "
               "%.1f) | raw socket: median %.1f µs (min %.1f, max %.1f) | ratio %.2f× (target ≤ 1.2×) |\n",
               v.major, v.minor, v.micro, US(lib[rounds / 2]), US(lib[0]), US(lib[rounds - 1]), US(raw[rounds / 2]),
               US(raw[0]), US(raw[rounds - 1]), (double)lib[rounds / 2] / (double)raw[rounds / 2]);
        printf("\nMethod: one paused QEMU with two QMP monitors; %d interleaved rounds of %d calls each (order "
               "alternating). Library = qmp_query_status() (CRLF framing, id check, json-c parse, typed result); raw = "
               "the same request written and the reply line read on a plain unix socket, no parsing. Per-call "
               "times are round time / calls; ratio = median library / median raw.\n",
               rounds, calls);
        free(lib);
        free(raw);
        close(r.fd);
        qmp_free(q);
        return 0;
}
