/* Figure 3, CPU hotplug 1 → N vCPUs. Two sides, interleaved, each on a fresh
 * VM per run (started untimed, guest running: SeaBIOS, no boot device, so
 * the guest does nothing while vCPUs arrive):
 *   qemuctl   exec `qemuctl setvcpus NAME N` → it returns;
 *   raw       on a kept-open raw QMP connection to the identical argv started
 *             by hand: query-hotpluggable-cpus, then one device_add per empty
 *             slot (props and driver copied from the reply, id vcpuK) → the
 *             last reply. That is the QEMU work any tool must ask for.
 * Prints total time and time per plugged vCPU for each N.
 *
 * Usage: bench-hotplug QEMUCTL DIR ROUNDS N... (writes DIR/hpN.json, uses
 * DIR/run as QEMUCTL_RUNDIR and DIR/bare for the raw side) */
#include <json.h>

#include "bench/bench.h"

static const char *qemuctl, *dir;
/* query-hotpluggable-cpus, then device_add for each slot without a
 * qom-path (not plugged). Returns the number plugged. */
static int raw_plug(struct b_qmp *q)
{
        json_object *reply, *ret;
        int plugged = 0;

        if (b_qmp_cmd(q, "{\"execute\":\"query-hotpluggable-cpus\"}") != 0)
                b_die("query-hotpluggable-cpus: %s", q->line);
        reply = json_tokener_parse(q->line);
        if (!reply || !json_object_object_get_ex(reply, "return", &ret))
                b_die("query-hotpluggable-cpus: unexpected reply");
        /* QEMU lists the highest slot first: plug from the end, lowest first */
        for (int i = (int)json_object_array_length(ret) - 1; i >= 0; i--) {
                json_object *slot = json_object_array_get_idx(ret, (size_t)i), *props, *type, *qp;
                json_object *cmd, *args;
                char id[32];

                if (json_object_object_get_ex(slot, "qom-path", &qp))
                        continue;
                json_object_object_get_ex(slot, "props", &props);
                json_object_object_get_ex(slot, "type", &type);
                args = json_object_new_object();
                json_object_object_foreach(props, k, v) json_object_object_add(args, k, json_object_get(v));
                json_object_object_add(args, "driver", json_object_get(type));
                snprintf(id, sizeof id, "vcpu%d", plugged + 1);
                json_object_object_add(args, "id", json_object_new_string(id));
                cmd = json_object_new_object();
                json_object_object_add(cmd, "execute", json_object_new_string("device_add"));
                json_object_object_add(cmd, "arguments", args);
                if (b_qmp_cmd(q, json_object_to_json_string_ext(cmd, JSON_C_TO_STRING_PLAIN)) != 0)
                        b_die("device_add: %s", q->line);
                json_object_put(cmd);
                plugged++;
        }
        json_object_put(reply);
        return plugged;
}

static void run_raw(int n, char **argv, struct b_series *s)
{
        static struct b_qmp q;
        char sock[4096], qlog[4096], log[4096];
        int64_t t0;
        int plugged;

        snprintf(sock, sizeof sock, "%s/bare/hp%d/ctl.sock", dir, n);
        snprintf(qlog, sizeof qlog, "%s/bare/hp%d/qemu.log", dir, n);
        snprintf(log, sizeof log, "%s/bare/hp%d/serial.log", dir, n);
        unlink(sock);
        b_bare_spawn(argv, qlog, log);
        if (b_qmp_open(&q, sock, 60000, false) < 0 || b_qmp_cmd(&q, "{\"execute\":\"cont\"}") != 0)
                b_die("bench-hotplug: bare QEMU: no QMP on %s (see %s)", sock, qlog);
        t0 = b_now_ns();
        plugged = raw_plug(&q);
        if (s)
                b_add(s, (double)(b_now_ns() - t0) / 1e6);
        if (plugged != n - 1)
                b_die("bench-hotplug: raw side plugged %d vCPUs, expected %d", plugged, n - 1);
        b_qmp_close(&q);
        b_bare_kill_all();
}

static void run_qemuctl(int n, const char *file, struct b_series *s)
{
        char name[32], num[16], sup[4096];
        char *start[] = { (char *)qemuctl, "start", (char *)file, NULL };
        char *set[] = { (char *)qemuctl, "setvcpus", name, num, NULL };
        char *kill_argv[] = { (char *)qemuctl, "kill", name, NULL };
        int64_t t0;
        long spid;

        snprintf(name, sizeof name, "hp%d", n);
        snprintf(num, sizeof num, "%d", n);
        b_run(start);
        t0 = b_now_ns();
        b_run(set);
        if (s)
                b_add(s, (double)(b_now_ns() - t0) / 1e6);
        snprintf(sup, sizeof sup, "%s/run/%s/supervisor.pid", dir, name);
        spid = b_read_pid(sup);
        b_run(kill_argv);
        if (spid > 0)
                b_wait_gone((pid_t)spid, 10000);
}

int main(int argc, char **argv)
{
        int rounds;
        char probe[4096 + 64];
        bool have_setvcpus;

        if (argc < 5)
                b_die("usage: bench-hotplug QEMUCTL DIR ROUNDS N...");
        qemuctl = argv[1], dir = argv[2];
        rounds = atoi(argv[3]);
        b_bare_guard();
        /* setvcpus may not be in this build yet: then only the raw side */
        snprintf(probe, sizeof probe, "'%s' setvcpus --help >/dev/null 2>&1", qemuctl);
        have_setvcpus = system(probe) == 0;
        for (int a = 4; a < argc; a++) {
                int n = atoi(argv[a]);
                char file[4096], cmd[16384], bdir[4096], run[4096], cap[64];
                struct b_series q = { .what = "" }, r = { .what = "" };
                char qw[128], rw[128];
                char **bare;
                FILE *f;

                if (n < 2)
                        b_die("bench-hotplug: N must be 2 or more");
                snprintf(file, sizeof file, "%s/hp%d.json", dir, n);
                f = fopen(file, "we");
                if (!f)
                        b_die("%s: %s", file, strerror(errno));
                fprintf(f, "{ \"name\": \"hp%d\", \"accel\": \"tcg\", \"memory\": { \"size\": \"128M\" },\n"
                           "  \"cpu\": { \"mode\": \"custom\", \"model\": \"qemu64\", \"vcpus\": 1, \"max\": %d },\n"
                           "  \"serial\": \"log\" }\n", n, n);
                fclose(f);
                snprintf(run, sizeof run, "%s/run", dir);
                snprintf(bdir, sizeof bdir, "%s/bare/hp%d", dir, n);
                snprintf(cmd, sizeof cmd, "mkdir -p '%s' && QEMUCTL_RUNDIR='%s/bare' '%s' cmdline '%s'", bdir, dir,
                         qemuctl, file);
                bare = b_read_lines(cmd, NULL);
                setenv("QEMUCTL_RUNDIR", run, 1);
                if (have_setvcpus)
                        run_qemuctl(n, file, NULL); /* warm-up */
                run_raw(n, bare, NULL);
                for (int i = 0; i < rounds; i++) {
                        if (i % 2 && have_setvcpus)
                                run_qemuctl(n, file, &q);
                        run_raw(n, bare, &r);
                        if (!(i % 2) && have_setvcpus)
                                run_qemuctl(n, file, &q);
                }
                snprintf(rw, sizeof rw, "raw QMP: query-hotpluggable-cpus + %d × device_add", n - 1);
                snprintf(qw, sizeof qw, "`qemuctl setvcpus hp%d %d` (1 → %d)", n, n, n);
                r.what = rw, q.what = qw;
                snprintf(cap, sizeof cap, "3 hotplug N=%d", n);
                b_row(cap, &r, 1, NULL);
                if (have_setvcpus)
                        b_row(cap, &q, 1, &r);
                snprintf(rw, sizeof rw, "raw QMP, per vCPU");
                snprintf(qw, sizeof qw, "`qemuctl setvcpus`, per vCPU");
                b_row(cap, &r, n - 1, NULL);
                if (have_setvcpus)
                        b_row(cap, &q, n - 1, &r);
                else
                        printf("| %s | `qemuctl setvcpus` | not in this build | | | | |\n", cap);
                for (char **p = bare; *p; p++)
                        free(*p);
                free(bare);
        }
        return 0;
}
