/* Figure 1, start. Three sides, interleaved round by round (the order
 * rotating), on one VM file:
 *   qemuctl   `qemuctl start FILE`: exec → it returns (the supervisor has
 *             started QEMU -S, connected to QMP, placed it, sent `cont`);
 *   bare -S   the identical argv (`qemuctl cmdline FILE`, its paths pointed
 *             at a scratch dir) exec'd by hand → raw QMP greeting →
 *             qmp_capabilities → `cont` returned; the fd the argv's
 *             `-add-fd` names (the serial log's pipe from the supervisor)
 *             is serial.log itself, opened as that fd (b_bare_spawn);
 *   bare      the same argv without -S → the QMP greeting, and → the reply
 *             to qmp_capabilities (QMP answers).
 * In the first READY rounds each side also waits for the guest's ready line
 * in its serial log (polled every 2 ms). Between runs each VM is killed
 * (qemuctl kill, or SIGKILL for bare QEMU) and waited for, untimed.
 *
 * Usage: bench-start QEMUCTL FILE NAME RUNDIR BAREDIR ROUNDS READY [FIGURE]
 * (RUNDIR is QEMUCTL_RUNDIR for the qemuctl side; BAREDIR is a scratch dir;
 * FIGURE labels the rows, "1 start" by default) */
#include "bench/bench.h"

#define READY_LINE "qemuctl-guest: ready"

static const char *qemuctl, *file, *name, *rundir, *baredir;
static char **argv_s, **argv_plain;
/* `qemuctl cmdline FILE` with QEMUCTL_RUNDIR=BAREDIR: one arg per line. */
static char **bare_argv(bool keep_s)
{
        char cmd[4096];

        snprintf(cmd, sizeof cmd, "QEMUCTL_RUNDIR='%s' '%s' cmdline '%s'", baredir, qemuctl, file);
        return b_read_lines(cmd, keep_s ? NULL : "-S");
}

static void path(char *buf, size_t len, const char *dir, const char *f)
{
        snprintf(buf, len, "%s/%s/%s", dir, name, f);
}

static double since_ms(int64_t t0)
{
        return (double)(b_now_ns() - t0) / 1e6;
}

static void wait_ready(const char *log, int64_t t0, struct b_series *s)
{
        while (!b_file_has(log, READY_LINE)) {
                if (since_ms(t0) > 180000)
                        b_die("bench-start: no ready line in %s after 180 s", log);
                b_sleep_us(2000);
        }
        b_add(s, since_ms(t0));
}

static void run_qemuctl(bool ready, struct b_series *start, struct b_series *rdy)
{
        char *start_argv[] = { (char *)qemuctl, "start", (char *)file, NULL };
        char *kill_argv[] = { (char *)qemuctl, "kill", (char *)name, NULL };
        char log[4096], sup[4096];
        int64_t t0 = b_now_ns();
        long spid;

        b_run(start_argv);
        if (start)
                b_add(start, since_ms(t0));
        path(log, sizeof log, rundir, "serial.log");
        if (ready)
                wait_ready(log, t0, rdy);
        path(sup, sizeof sup, rundir, "supervisor.pid");
        spid = b_read_pid(sup);
        b_run(kill_argv);
        /* the supervisor records the end and removes the cgroup after QEMU
         * exits; the next start must find it gone */
        if (spid > 0)
                b_wait_gone((pid_t)spid, 10000);
}

static void run_bare(bool with_s, bool ready, struct b_series *s, struct b_series *s2, struct b_series *rdy)
{
        static struct b_qmp q;
        char sock[4096], log[4096], qlog[4096], dir[4096];
        int64_t t0;

        snprintf(dir, sizeof dir, "%s/%s", baredir, name);
        path(sock, sizeof sock, baredir, "ctl.sock"); /* QEMU's own monitor (qmp.sock is the supervisor's relay) */
        path(log, sizeof log, baredir, "serial.log");
        path(qlog, sizeof qlog, baredir, "qemu.log");
        unlink(sock);
        unlink(log);
        t0 = b_now_ns();
        b_bare_spawn(with_s ? argv_s : argv_plain, qlog, log);
        if (b_qmp_open(&q, sock, 60000, true) < 0)
                b_die("bench-start: bare QEMU: no QMP on %s (see %s)", sock, qlog);
        if (!with_s && s)
                b_add(s, since_ms(t0));
        /* QEMU 7.2 greets as soon as the monitor exists, but runs commands
         * only once its main loop does: the first reply comes ~10 ms later */
        if (b_qmp_cmd(&q, "{\"execute\":\"qmp_capabilities\"}") != 0)
                b_die("bench-start: bare QEMU: qmp_capabilities: %s", q.line);
        if (with_s && b_qmp_cmd(&q, "{\"execute\":\"cont\"}") != 0)
                b_die("bench-start: bare QEMU: cont: %s", q.line);
        if (with_s ? s != NULL : s2 != NULL)
                b_add(with_s ? s : s2, since_ms(t0));
        if (ready)
                wait_ready(log, t0, rdy);
        b_qmp_close(&q);
        b_bare_kill_all();
}

int main(int argc, char **argv)
{
        struct b_series q_start = { .what = "`qemuctl start` → returns (QMP answered, guest running)" },
                        b_cont = { .what = "bare QEMU -S → greeting → `cont` returned" },
                        b_greet = { .what = "bare QEMU → QMP greeting" },
                        b_answer = { .what = "bare QEMU → greeting → first reply (qmp_capabilities)" },
                        q_ready = { .what = "`qemuctl start` → guest ready line" },
                        b_cont_ready = { .what = "bare QEMU -S + `cont` → guest ready line" },
                        b_ready = { .what = "bare QEMU → guest ready line" };
        int rounds, ready_rounds;
        char dir[4096];
        const char *figure = argc > 8 ? argv[8] : "1 start";

        if (argc != 8 && argc != 9)
                b_die("usage: bench-start QEMUCTL FILE NAME RUNDIR BAREDIR ROUNDS READY [FIGURE]");
        qemuctl = argv[1], file = argv[2], name = argv[3], rundir = argv[4], baredir = argv[5];
        rounds = atoi(argv[6]);
        ready_rounds = atoi(argv[7]);
        b_bare_guard();
        setenv("QEMUCTL_RUNDIR", rundir, 1);
        argv_s = bare_argv(true);
        argv_plain = bare_argv(false);
        snprintf(dir, sizeof dir, "%s/%s", baredir, name);
        if (mkdir(baredir, 0700) < 0 && errno != EEXIST)
                b_die("mkdir %s: %s", baredir, strerror(errno));
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                b_die("mkdir %s: %s", dir, strerror(errno));

        /* warm-up: page cache, QEMU's modules, the state dir */
        run_qemuctl(false, NULL, NULL);
        run_bare(true, false, NULL, NULL, NULL);
        run_bare(false, false, NULL, NULL, NULL);
        for (int r = 0; r < rounds + ready_rounds; r++) {
                bool ready = r < ready_rounds;

                for (int j = 0; j < 3; j++) {
                        switch ((j + r) % 3) {
                        case 0: run_qemuctl(ready, ready ? NULL : &q_start, &q_ready); break;
                        case 1: run_bare(true, ready, ready ? NULL : &b_cont, NULL, &b_cont_ready); break;
                        default: run_bare(false, ready, ready ? NULL : &b_greet, ready ? NULL : &b_answer, &b_ready); break;
                        }
                }
        }
        b_row(figure, &b_greet, 1, NULL);
        b_row(figure, &b_answer, 1, &b_greet);
        b_row(figure, &b_cont, 1, &b_answer);
        b_row(figure, &q_start, 1, &b_cont);
        if (ready_rounds > 0) {
                b_row(figure, &b_ready, 1, NULL);
                b_row(figure, &b_cont_ready, 1, &b_ready);
                b_row(figure, &q_ready, 1, &b_cont_ready);
        }
        return 0;
}
