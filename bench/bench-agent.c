/* `qemuctl exec NAME -- true` against the agent's own floor: guest-exec
 * true + guest-exec-status until it exited, as raw JSON lines on one kept
 * connection (no library, no process), and against the cost of starting a
 * qemuctl process at all (`qemuctl version`). Interleaved rounds on one
 * running test guest with qemu-ga.
 *
 * AGENT-SOCKET is the VM's agent.sock: its supervisor keeps QEMU's one
 * qga.sock connection and relays one client at a time onto it
 * (launcher/supervisor-agent.h), which is what `qemuctl exec` uses. The raw
 * kept connection is opened (and synced) before each batch, untimed, and
 * closed before qemuctl runs. A second raw series opens a fresh connection
 * per run (connect, 0xFF + guest-sync-delimited, then the same loop) 10 ms
 * after the previous one closed, as one-shot processes do. Without the
 * relay that cost ~100 ms more: qemu-ga 7.2 in virtio-serial mode, once it
 * reads EOF (no host client attached), sleeps 100 ms before it looks again
 * (qga/main.c channel_event_cb).
 *
 * DIRECT-SOCKET (optional) is QEMU's own qga.sock of a VM whose supervisor
 * is gone: the same loop on one kept connection with no relay in between,
 * the floor of the floor. Prints markdown rows (figure 7).
 *
 * Usage: bench-agent QEMUCTL NAME AGENT-SOCKET ROUNDS [DIRECT-SOCKET] */
#include "bench/bench.h"

#include <sys/socket.h>
#include <sys/un.h>

#define BATCH 5

struct raw {
        int fd;
        char buf[1 << 16];
        size_t len;
        char line[1 << 16];
};

/* The next '\n'-terminated line into r->line (0xFF sentinels dropped). */
static int raw_line(struct raw *r)
{
        for (;;) {
                char *nl = memchr(r->buf, '\n', r->len);
                ssize_t n;

                if (nl) {
                        size_t k = (size_t)(nl - r->buf) + 1, o = 0;
                        for (size_t i = 0; i < k - 1 && o < sizeof r->line - 1; i++)
                                if ((unsigned char)r->buf[i] != 0xFF)
                                        r->line[o++] = r->buf[i];
                        r->line[o] = '\0';
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

static int raw_cmd(struct raw *r, const char *json)
{
        size_t n = strlen(json);

        if (write(r->fd, json, n) != (ssize_t)n)
                return -1;
        return raw_line(r);
}

static void raw_open(struct raw *r, const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char sync[128];
        long id = (long)getpid() * 1000 + (b_now_ns() / 1000) % 1000;

        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
        r->len = 0;
        r->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (r->fd < 0 || connect(r->fd, (struct sockaddr *)&sa, sizeof sa) < 0)
                b_die("bench-agent: connect %s: %s", path, strerror(errno));
        snprintf(sync, sizeof sync, "\xff{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":%ld}}\n", id);
        if (write(r->fd, sync, strlen(sync)) < 0)
                b_die("bench-agent: write: %s", strerror(errno));
        snprintf(sync, sizeof sync, "{\"return\": %ld}", id);
        do {
                if (raw_line(r) < 0)
                        b_die("bench-agent: no sync reply");
        } while (!strstr(r->line, sync));
}

/* One guest-exec true + guest-exec-status loop; ms. */
static double raw_exec(struct raw *r)
{
        int64_t t0 = b_now_ns();
        char st[128];
        const char *p;
        long pid;

        if (raw_cmd(r, "{\"execute\":\"guest-exec\",\"arguments\":{\"path\":\"true\",\"capture-output\":true}}\n") < 0 ||
            !(p = strstr(r->line, "\"pid\":")))
                b_die("bench-agent: guest-exec: %s", r->line);
        pid = strtol(p + 6, NULL, 10);
        snprintf(st, sizeof st, "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":%ld}}\n", pid);
        do {
                if (raw_cmd(r, st) < 0)
                        b_die("bench-agent: guest-exec-status failed");
        } while (!strstr(r->line, "\"exited\": true"));
        return (double)(b_now_ns() - t0) / 1e6;
}

static double spawn_ms(char *const argv[])
{
        int64_t t0 = b_now_ns();

        b_run(argv);
        return (double)(b_now_ns() - t0) / 1e6;
}

int main(int argc, char **argv)
{
        struct b_series direct = { .what = "raw guest-exec `true` + guest-exec-status loop, one kept connection to QEMU's qga.sock (no relay)" },
                        raw = { .what = "raw guest-exec `true` + guest-exec-status loop, one kept connection to agent.sock (the floor)" },
                        ver = { .what = "`qemuctl version` (process start)" },
                        floor = { .what = "the floor + process start" },
                        fresh = { .what = "raw, a fresh connection to agent.sock per run, 10 ms after the last closed (connect, sync, the same loop)" },
                        ffloor = { .what = "the fresh-connection floor + process start" },
                        ex = { .what = "`qemuctl exec NAME -- true`" };
        struct raw *r = malloc(sizeof *r);
        int rounds;

        if ((argc != 5 && argc != 6) || !r)
                b_die("usage: bench-agent QEMUCTL NAME AGENT-SOCKET ROUNDS [DIRECT-SOCKET]");
        rounds = atoi(argv[4]);
        char *exec_argv[] = { argv[1], "exec", argv[2], "--", "true", NULL };
        char *ver_argv[] = { argv[1], "version", NULL };

        /* warm up: the guest's page cache, our binary */
        b_run(exec_argv);
        for (int i = 0; i < rounds; i++) {
                double rs = 0, vs = 0, es = 0, fs = 0, ds = 0;

                if (argc == 6) {
                        raw_open(r, argv[5]);
                        for (int k = 0; k < BATCH; k++)
                                ds += raw_exec(r);
                        close(r->fd);
                        b_add(&direct, ds / BATCH);
                }

                raw_open(r, argv[3]);
                for (int k = 0; k < BATCH; k++)
                        rs += raw_exec(r);
                close(r->fd);
                for (int k = 0; k < BATCH; k++) {
                        int64_t t0;

                        b_sleep_us(10000);
                        t0 = b_now_ns();
                        raw_open(r, argv[3]);
                        raw_exec(r);
                        close(r->fd);
                        fs += (double)(b_now_ns() - t0) / 1e6;
                }
                for (int k = 0; k < BATCH; k++) {
                        if ((i + k) % 2) {
                                vs += spawn_ms(ver_argv);
                                es += spawn_ms(exec_argv);
                        } else {
                                es += spawn_ms(exec_argv);
                                vs += spawn_ms(ver_argv);
                        }
                }
                b_add(&raw, rs / BATCH);
                b_add(&ver, vs / BATCH);
                b_add(&floor, (rs + vs) / BATCH);
                b_add(&ex, es / BATCH);
                b_add(&fresh, fs / BATCH);
                b_add(&ffloor, (fs + vs) / BATCH);
        }
        if (argc == 6)
                b_row("7 agent", &direct, 1, NULL);
        b_row("7 agent", &raw, 1, NULL);
        b_row("7 agent", &ver, 1, NULL);
        b_row("7 agent", &floor, 1, NULL);
        b_row("7 agent", &ex, 1, &floor);
        b_row("7 agent", &fresh, 1, NULL);
        b_row("7 agent", &ffloor, 1, NULL);
        {
                struct b_series ex2 = ex;
                ex2.what = "`qemuctl exec NAME -- true` (against the fresh-connection floor)";
                b_row("7 agent", &ex2, 1, &ffloor);
        }
        free(r);
        return 0;
}
