/* Figure 4, scale: N small VMs (64M, 1 vCPU, no boot device: the guest sits
 * in SeaBIOS) started one after another, listed, stopped. Two sides,
 * alternating round by round:
 *   qemuctl   `qemuctl start` × N (each returns once its guest runs), then
 *             `qemuctl list` timed LIST times, then `qemuctl kill` × N (each
 *             returns once its QEMU is gone);
 *   bare      the identical argv of each VM exec'd by hand → raw QMP greeting
 *             → `cont` returned, × N; then `quit` on the kept-open QMP
 *             connection + waitpid, × N.
 * Start and stop are reported per VM (total / N), so a cost that grows with
 * N shows as a per-VM figure that grows.
 *
 * Usage: bench-scale QEMUCTL DIR LIST N:ROUNDS... */
#include "bench/bench.h"

#define MAX_VMS 256

static const char *qemuctl, *dir;
static double ms_since(int64_t t0)
{
        return (double)(b_now_ns() - t0) / 1e6;
}

static void run_qemuctl(int n, int list_times, struct b_series *start, struct b_series *list, struct b_series *stop)
{
        char *list_argv[] = { (char *)qemuctl, "list", NULL };
        static long sup[MAX_VMS];
        int64_t t0 = b_now_ns();

        for (int i = 0; i < n; i++) {
                char file[4096];
                char *argv[] = { (char *)qemuctl, "start", file, NULL };

                snprintf(file, sizeof file, "%s/sc%d.json", dir, i);
                b_run(argv);
        }
        b_add(start, ms_since(t0));
        for (int i = 0; i < list_times; i++) {
                t0 = b_now_ns();
                b_run(list_argv);
                b_add(list, ms_since(t0));
        }
        for (int i = 0; i < n; i++) {
                char p[4096];

                snprintf(p, sizeof p, "%s/run/sc%d/supervisor.pid", dir, i);
                sup[i] = b_read_pid(p);
        }
        t0 = b_now_ns();
        for (int i = 0; i < n; i++) {
                char name[32];
                char *argv[] = { (char *)qemuctl, "kill", name, NULL };

                snprintf(name, sizeof name, "sc%d", i);
                b_run(argv);
        }
        b_add(stop, ms_since(t0));
        for (int i = 0; i < n; i++)
                if (sup[i] > 0)
                        b_wait_gone((pid_t)sup[i], 10000);
}

static void run_bare(int n, char ***argvs, struct b_series *start, struct b_series *stop)
{
        static struct b_qmp q[MAX_VMS];
        int64_t t0 = b_now_ns();

        for (int i = 0; i < n; i++) {
                char sock[4096], qlog[4096], log[4096];

                snprintf(sock, sizeof sock, "%s/bare/sc%d/ctl.sock", dir, i);
                snprintf(qlog, sizeof qlog, "%s/bare/sc%d/qemu.log", dir, i);
                snprintf(log, sizeof log, "%s/bare/sc%d/serial.log", dir, i);
                unlink(sock);
                b_bare_spawn(argvs[i], qlog, log);
                if (b_qmp_open(&q[i], sock, 60000, false) < 0 || b_qmp_cmd(&q[i], "{\"execute\":\"cont\"}") != 0)
                        b_die("bench-scale: bare QEMU %d: no QMP on %s (see %s)", i, sock, qlog);
        }
        b_add(start, ms_since(t0));
        t0 = b_now_ns();
        for (int i = 0; i < n; i++) {
                /* QEMU may close the socket before (or instead of) replying */
                b_qmp_cmd(&q[i], "{\"execute\":\"quit\"}");
                b_bare_wait(i);
                b_qmp_close(&q[i]);
        }
        b_add(stop, ms_since(t0));
        b_n_bare = 0;
}

int main(int argc, char **argv)
{
        static char **argvs[MAX_VMS];
        int list_times, max_n = 0;

        if (argc < 5)
                b_die("usage: bench-scale QEMUCTL DIR LIST N:ROUNDS...");
        qemuctl = argv[1], dir = argv[2];
        list_times = atoi(argv[3]);
        b_bare_guard();
        for (int a = 4; a < argc; a++)
                if (atoi(argv[a]) > max_n)
                        max_n = atoi(argv[a]);
        if (max_n < 1 || max_n > MAX_VMS)
                b_die("bench-scale: N must be 1..%d", MAX_VMS);
        for (int i = 0; i < max_n; i++) {
                char file[4096], cmd[16384];
                FILE *f;

                snprintf(file, sizeof file, "%s/sc%d.json", dir, i);
                f = fopen(file, "we");
                if (!f)
                        b_die("%s: %s", file, strerror(errno));
                fprintf(f, "{ \"name\": \"sc%d\", \"accel\": \"tcg\", \"memory\": { \"size\": \"64M\" },\n"
                           "  \"cpu\": { \"mode\": \"custom\", \"model\": \"qemu64\", \"vcpus\": 1 },\n"
                           "  \"serial\": \"log\" }\n", i);
                fclose(f);
                snprintf(cmd, sizeof cmd, "mkdir -p '%s/bare/sc%d' && QEMUCTL_RUNDIR='%s/bare' '%s' cmdline '%s'", dir,
                         i, dir, qemuctl, file);
                argvs[i] = b_read_lines(cmd, NULL);
        }
        {
                char run[4096];
                snprintf(run, sizeof run, "%s/run", dir);
                setenv("QEMUCTL_RUNDIR", run, 1);
        }
        for (int a = 4; a < argc; a++) {
                int n = atoi(argv[a]), rounds = strchr(argv[a], ':') ? atoi(strchr(argv[a], ':') + 1) : 2;
                struct b_series qs = { .what = "" }, ql = { .what = "" }, qk = { .what = "" }, bs = { .what = "" },
                                bk = { .what = "" }, warm = { .what = "" };
                char fig[64], w[5][128];

                run_bare(n < 2 ? n : 2, argvs, &warm, &warm); /* warm-up */
                for (int r = 0; r < rounds; r++) {
                        if (r % 2) {
                                run_bare(n, argvs, &bs, &bk);
                                run_qemuctl(n, list_times, &qs, &ql, &qk);
                        } else {
                                run_qemuctl(n, list_times, &qs, &ql, &qk);
                                run_bare(n, argvs, &bs, &bk);
                        }
                }
                snprintf(fig, sizeof fig, "4 scale N=%d", n);
                snprintf(w[0], sizeof w[0], "bare QEMU: exec → greeting → `cont`, per VM");
                snprintf(w[1], sizeof w[1], "`qemuctl start`, per VM");
                snprintf(w[2], sizeof w[2], "bare QEMU: `quit` + waitpid, per VM");
                snprintf(w[3], sizeof w[3], "`qemuctl kill`, per VM");
                snprintf(w[4], sizeof w[4], "`qemuctl list` with %d VMs (whole command)", n);
                bs.what = w[0], qs.what = w[1], bk.what = w[2], qk.what = w[3], ql.what = w[4];
                b_row(fig, &bs, n, NULL);
                b_row(fig, &qs, n, &bs);
                b_row(fig, &bk, n, NULL);
                b_row(fig, &qk, n, &bk);
                b_row(fig, &ql, 1, NULL);
                free(warm.v), free(qs.v), free(ql.v), free(qk.v), free(bs.v), free(bk.v);
        }
        return 0;
}
