/* qmp/ against a real QEMU (TCG, paused with -S): the wrappers' requests are
 * accepted and their results make sense. The guest-side effects (the guest
 * seeing CPUs and memory, the balloon moving) are tests/integration's. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/io.h"
#include "common/strv.h"
#include "qmp/qmp.h"
#include "tests/tap.h"

static pid_t qemu_pid = -1;
static char dir[] = "/tmp/test-qmp-qemu.XXXXXX";
static char sock[128];

static void stop_qemu(void)
{
        if (qemu_pid > 0) {
                kill(qemu_pid, SIGKILL);
                waitpid(qemu_pid, NULL, 0);
                qemu_pid = -1;
        }
        unlink(sock);
        rmdir(dir);
}

static const char *qemu_binary(void)
{
        const char *b = getenv("QEMU_BINARY");
        static char found[4096];
        const char *path = getenv("PATH");

        if (b && *b)
                return access(b, X_OK) == 0 ? b : NULL;
        for (const char *p = path ? path : "/usr/bin"; p && *p;) {
                const char *c = strchr(p, ':');
                size_t n = c ? (size_t)(c - p) : strlen(p);

                snprintf(found, sizeof found, "%.*s/qemu-system-x86_64", (int)n, p);
                if (access(found, X_OK) == 0)
                        return found;
                p = c ? c + 1 : NULL;
        }
        return NULL;
}

static void start_qemu(const char *bin)
{
        char qmparg[200];

        if (!mkdtemp(dir))
                tap_skip_all("cannot make a temporary directory");
        snprintf(sock, sizeof sock, "%s/qmp.sock", dir);
        snprintf(qmparg, sizeof qmparg, "unix:%s,server=on,wait=off", sock);
        qemu_pid = fork();
        if (qemu_pid == 0) {
                execl(bin, bin, "-accel", "tcg", "-M", "q35", "-S", "-nodefaults", "-display", "none", "-name",
                      "qmptest", "-smp", "1,maxcpus=3", "-m", "256M,slots=2,maxmem=1G", "-device",
                      "virtio-balloon-pci,id=balloon0", "-qmp", qmparg, (char *)NULL);
                _exit(127);
        }
        atexit(stop_qemu);
        for (int i = 0; i < 200; i++) {
                struct stat st;
                if (stat(sock, &st) == 0)
                        return;
                if (waitpid(qemu_pid, NULL, WNOHANG) == qemu_pid) {
                        qemu_pid = -1;
                        break;
                }
                usleep(25000);
        }
        printf("Bail out! QEMU did not create its QMP socket\n");
        exit(1);
}

static void test_run_state(struct qmp *q)
{
        struct qc_err err = { 0 };
        struct qmp_version v = { 0 };
        _cleanup_free_ char *status = NULL, *name = NULL;
        bool running = true, has = false;
        enum qmp_cpu_hotplug m;

        is_int(qmp_query_version(q, &v, &err), 0, "query-version");
        ok(v.major == qmp_greeting_version(q)->major && v.minor == qmp_greeting_version(q)->minor,
           "query-version agrees with the greeting (%d.%d.%d)", v.major, v.minor, v.micro);
        qmp_version_done(&v);
        is_int(qmp_query_status(q, &status, &running, &err), 0, "query-status");
        is_str(status, "prelaunch", "-S: prelaunch");
        ok(!running, "not running");
        is_int(qmp_query_name(q, &name, &err), 0, "query-name");
        is_str(name, "qmptest", "the -name");
        is_int(qmp_has_command(q, "device_add", &has, &err), 0, "query-commands");
        ok(has, "device_add exists");
        is_int(qmp_cpu_hotplug_method(q, &m, &err), 0, "hotplug method");
        is_str(qmp_cpu_hotplug_to_string(m), "device_add", "device_add on QEMU >= 5.2");
}

static void test_cpus(struct qmp *q)
{
        struct qc_err err = { 0 };
        _cleanup_(qmp_cpu_list_freep) struct qmp_cpu_list *before = NULL, *after = NULL;
        _cleanup_(qmp_hotpluggable_cpu_list_freep) struct qmp_hotpluggable_cpu_list *slots = NULL;
        size_t idx = 0, empty = 0;

        is_int(qmp_query_cpus_fast(q, &before, &err), 0, "query-cpus-fast");
        if (before && before->n == 1) {
                char task[64];
                snprintf(task, sizeof task, "/proc/%d/task/%lld", (int)qemu_pid, (long long)before->cpus[0].thread_id);
                ok(access(task, F_OK) == 0, "vCPU 0's thread-id is a thread of QEMU (%s)", task);
        } else {
                ok(0, "one vCPU at start");
        }
        is_int(qmp_query_hotpluggable_cpus(q, &slots, &err), 0, "query-hotpluggable-cpus");
        for (size_t i = 0; slots && i < slots->n; i++)
                empty += !slots->slots[i].qom_path;
        ok(slots && slots->n == 3 && empty == 2, "three slots, two empty");
        if (!is_int(qmp_cpu_plug_next(q, "cpu1", &idx, &err), 0, "plug a vCPU with device_add"))
                tap_diag("%s", err.msg);
        is_int(qmp_query_cpus_fast(q, &after, &err), 0, "query-cpus-fast again");
        ok(after && after->n == 2 && qmp_cpu_list_find_id(after, "cpu1"), "the new vCPU is there as cpu1");
        ok(after && qmp_cpu_list_find_id(after, "cpu1") && qmp_cpu_list_find_id(after, "cpu1")->thread_id > 0,
           "with its own host thread");
        is_int(qmp_cpu_plug(q, &slots->slots[idx], "cpu1b", &err), -1, "plugging the same slot twice fails");
        ok(strstr(err.msg, "device_add: GenericError:"), "with QEMU's reason: %s", err.msg);
}

static void test_memory(struct qmp *q)
{
        struct qc_err err = { 0 };
        struct qmp_memory_summary sum = { 0 };
        _cleanup_(qmp_memory_device_list_freep) struct qmp_memory_device_list *devs = NULL;
        struct qmp_dimm d = { .id = "dimm1", .size = 128ull << 20, .node = -1 };
        _cleanup_free_ char *path = NULL;
        struct qmp_balloon_stats st;
        uint64_t actual = 0;
        bool any_known = false;

        if (!is_int(qmp_dimm_plug(q, &d, &err), 0, "plug a 128M DIMM"))
                tap_diag("%s", err.msg);
        is_int(qmp_query_memory_size_summary(q, &sum, &err), 0, "query-memory-size-summary");
        ok(sum.base_memory == 256ull << 20 && sum.plugged_memory == 128ull << 20, "256M base, 128M plugged");
        is_int(qmp_query_memory_devices(q, &devs, &err), 0, "query-memory-devices");
        ok(devs && devs->n == 1 && strcmp(devs->devs[0].type, "dimm") == 0 && devs->devs[0].size == 128ull << 20 &&
                   devs->devs[0].id && strcmp(devs->devs[0].id, "dimm1") == 0 &&
                   strcmp(devs->devs[0].memdev, "/objects/mem-dimm1") == 0,
           "the DIMM with its backend");
        d.id = "dimm2";
        d.size = 2ull << 30;
        is_int(qmp_dimm_plug(q, &d, &err), -1, "a DIMM past maxmem fails");
        ok(strstr(err.msg, "device_add:"), "device_add's error: %s", err.msg);
        {
                _cleanup_(qmp_qom_prop_list_freep) struct qmp_qom_prop_list *objs = NULL;
                bool leftover = false;
                is_int(qmp_qom_list(q, "/objects", &objs, &err), 0, "qom-list /objects");
                for (size_t i = 0; objs && i < objs->n; i++)
                        leftover |= strcmp(objs->props[i].name, "mem-dimm2") == 0;
                ok(!leftover, "the failed DIMM's backend was removed");
        }
        is_int(qmp_balloon_find(q, &path, &err), 0, "find the balloon");
        is_str(path, "/machine/peripheral/balloon0", "balloon0");
        is_int(qmp_query_balloon(q, &actual, &err), 0, "query-balloon");
        is_int(actual, (256ull + 128) << 20, "actual = all guest RAM while the guest has no driver");
        is_int(qmp_balloon(q, 200ull << 20, &err), 0, "balloon request accepted");
        is_int(qmp_balloon_set_stats_interval(q, path, 2, &err), 0, "stats polling interval");
        is_int(qmp_balloon_get_stats(q, path, &st, &err), 0, "guest-stats");
        for (int i = 0; i < _QMP_BALLOON_STAT_MAX; i++)
                any_known |= st.known[i];
        ok(!any_known, "a guest that never ran reports every statistic as unknown");
}

static void test_misc(struct qmp *q)
{
        struct qc_err err = { 0 };
        _cleanup_json_ json_object *schema = NULL, *ev = NULL;
        _cleanup_free_ char *out = NULL, *raw = NULL;

        is_int(qmp_hmp(q, "info status", &out, &err), 0, "hmp info status");
        is_str(out, "VM status: paused (prelaunch)\r\n", "HMP text");
        is_int(qmp_execute(q, "query-qmp-schema", NULL, &schema, &err), 0, "query-qmp-schema (a long line)");
        ok(json_object_array_length(schema) > 500, "%zu schema entries", json_object_array_length(schema));
        is_int(qmp_execute_json(q, "{\"execute\": \"query-kvm\"}", &raw, &err), 0, "raw execute");
        ok(raw && strstr(raw, "\"return\":{") && strstr(raw, "\"present\""), "raw reply: %s", raw ? raw : "");
        is_int(qmp_cont(q, &err), 0, "cont");
        is_int(qmp_wait_event(q, "RESUME", NULL, NULL, 5000, &ev, &err), 0, "RESUME event");
        is_int(qmp_stop(q, &err), 0, "stop");
        json_object_put(TAKE_PTR(ev));
        is_int(qmp_wait_event(q, "STOP", NULL, NULL, 5000, &ev, &err), 0, "STOP event");
        is_int(qmp_quit(q, &err), 0, "quit");
}

int main(void)
{
        const char *bin = qemu_binary();
        struct qc_err err = { 0 };
        _cleanup_qmp_ struct qmp *q = NULL;
        int status = 0;

        if (!bin)
                tap_skip_all("qemu-system-x86_64 not found (set QEMU_BINARY)");
        signal(SIGPIPE, SIG_IGN);
        start_qemu(bin);
        if (!ok(qmp_connect(sock, 10000, &q, &err) == 0, "connect to QEMU's QMP socket")) {
                tap_diag("%s", err.msg);
                return tap_done();
        }
        test_run_state(q);
        test_cpus(q);
        test_memory(q);
        test_misc(q);
        qmp_free(TAKE_PTR(q));
        ok(waitpid(qemu_pid, &status, 0) == qemu_pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "QEMU exited 0 after quit");
        qemu_pid = -1;
        return tap_done();
}
