/* vm/: /proc parsing, vCPU plans, balloon arrival; live operations against
 * the scripted fake QMP server. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/io.h"
#include "launcher/spec.h"
#include "qmp/qmp.h"
#include "tests/lib/fakeqmp.h"
#include "tests/tap.h"
#include "vm/vm-host.h"
#include "vm/vm-plan.h"
#include "vm/vm.h"

static void test_task_stat(void)
{
        struct proc_stat st = { .utime = 150, .stime = 50 };
        struct qc_err err = { 0 };
        pid_t tid = (pid_t)syscall(SYS_gettid);
        long tck = sysconf(_SC_CLK_TCK);

        is_int(vm_task_cpu_time_ns(&st), 200ull * 1000000000ull / (uint64_t)tck, "ticks to ns");
        is_str(vm_task_state_to_string('S'), "sleeping", "S is sleeping");
        /* our own thread: real /proc */
        is_int(vm_task_stat_read(getpid(), tid, &st, &err), 0, "read own thread stat");
        is_int(st.state, 'R', "we are running while we read");
        ok(st.last_cpu >= 0 && st.last_cpu < sysconf(_SC_NPROCESSORS_CONF), "last cpu is a host cpu (%d)",
           st.last_cpu);
        ok(vm_task_stat_read(getpid(), 999999999, &st, &err) < 0 && err.code == ENOENT,
           "missing thread is ENOENT: %s", err.msg);
}

static void test_rss(void)
{
        uint64_t v = 0;
        struct qc_err err = { 0 };

        is_int(vm_status_rss_parse("Name:\tqemu\nVmPeak:\t 100 kB\nVmRSS:\t  204800 kB\nRssAnon: 1 kB\n", &v), 0,
               "VmRSS parses");
        is_int(v, 204800ull * 1024, "VmRSS in bytes");
        is_int(vm_status_rss_parse("Name:\tkthreadd\nState:\tS\n", &v), -ENOENT, "no VmRSS is ENOENT");
        is_int(vm_status_rss_parse("VmRSS:\tlots kB\n", &v), -EINVAL, "bad VmRSS refused");
        is_int(vm_status_rss_parse("VmRSS:\t12 MB\n", &v), -EINVAL, "unit other than kB refused");
        v = 0;
        is_int(vm_process_rss(getpid(), &v, &err), 0, "own RSS");
        ok(v > 0, "own RSS is positive (%llu)", (unsigned long long)v);
}

static void test_affinity(void)
{
        struct cpuset cs;
        struct qc_err err = { 0 };

        is_int(vm_thread_affinity(0, &cs, &err), 0, "own affinity");
        ok(cpuset_count(&cs) >= 1, "at least one CPU allowed");
        ok(vm_thread_affinity(999999999, &cs, &err) < 0 && err.code == ESRCH, "missing thread: %s", err.msg);
}

static void test_memory_current(void)
{
        char tmpl[] = "/tmp/test-vm-cg.XXXXXX";
        char path[256];
        uint64_t v = 0;
        struct qc_err err = { 0 };
        const char *hybrid = "12:memory:/user.slice\n1:name=systemd:/x\n0::/qemuctl/vm1\n";

        if (!mkdtemp(tmpl)) {
                ok(0, "mkdtemp");
                return;
        }
        snprintf(path, sizeof path, "%s/qemuctl/vm1", tmpl);
        is_int(mkdir_p(path, 0755), 0, "fake cgroup dir");
        is_int(vm_cgroup_memory_current(hybrid, tmpl, &v, &err), 0, "no memory.current: not available (0)");
        snprintf(path, sizeof path, "%s/qemuctl/vm1/memory.current", tmpl);
        is_int(write_file(path, "123456789\n", 0644), 0, "write fake memory.current");
        is_int(vm_cgroup_memory_current(hybrid, tmpl, &v, &err), 1, "memory.current found");
        is_int(v, 123456789, "memory.current value");
        is_int(vm_cgroup_memory_current("12:memory:/user.slice\n", tmpl, &v, &err), 0, "no 0:: line");
        unlink(path);
        snprintf(path, sizeof path, "%s/qemuctl/vm1", tmpl);
        rmdir(path);
        snprintf(path, sizeof path, "%s/qemuctl", tmpl);
        rmdir(path);
        rmdir(tmpl);
        /* real: works or says "not available", never fails on this host */
        ok(vm_process_memory_current(getpid(), &v, &err) >= 0, "own memory.current: %s", err.msg);
}

static struct vm_cpu_slot slot(int s, int c, int t, bool plugged)
{
        return (struct vm_cpu_slot){ .type = strdup("qemu64-x86_64-cpu"),
                                     .socket_id = s,
                                     .die_id = -1,
                                     .core_id = c,
                                     .thread_id = t,
                                     .node_id = -1,
                                     .qom_path = plugged ? strdup("/machine/unattached/device[0]") : NULL,
                                     .vcpus_count = 1 };
}

static void test_cpu_plan(void)
{
        struct vm_cpu_slot *s = calloc(4, sizeof *s);
        struct vm_cpu_step *steps = NULL;
        size_t n = 0;
        struct qc_err err = { 0 };

        /* as query-hotpluggable-cpus lists them: reversed; 1 socket, 2 cores, 2 threads */
        s[0] = slot(0, 1, 1, false);
        s[1] = slot(0, 1, 0, false);
        s[2] = slot(0, 0, 1, true);
        s[3] = slot(0, 0, 0, true);
        vm_cpu_slots_sort(s, 4);
        ok(s[0].core_id == 0 && s[0].thread_id == 0 && s[3].core_id == 1 && s[3].thread_id == 1,
           "sorted by core, thread");
        is_int(vm_cpu_slots_plugged(s, 4), 2, "2 plugged");

        is_int(vm_cpu_plan(s, 4, 4, &steps, &n, &err), 0, "plan 2 -> 4");
        is_int(n, 2, "two steps");
        ok(n == 2 && steps[0].op == VM_CPU_PLUG && steps[0].vcpu == 2 && steps[1].vcpu == 3,
           "plug 2 then 3");
        free(steps);

        is_int(vm_cpu_plan(s, 4, 2, &steps, &n, &err), 0, "plan 2 -> 2");
        ok(n == 0 && !steps, "nothing to do");

        is_int(vm_cpu_plan(s, 4, 1, &steps, &n, &err), 0, "plan 2 -> 1");
        ok(n == 1 && steps[0].op == VM_CPU_UNPLUG && steps[0].vcpu == 1, "unplug vCPU 1");
        free(steps);

        is_int(vm_cpu_plan(s, 4, 5, &steps, &n, &err), -1, "past max refused");
        ok(strstr(err.msg, "maximum is 4") != NULL, "names the limit: %s", err.msg);
        is_int(vm_cpu_plan(s, 4, 0, &steps, &n, &err), -1, "0 refused");

        /* a hole: 0 and 3 plugged -> 3 plugs 1; -> 1 unplugs 3 (highest first) */
        free(s[1].qom_path);
        s[1].qom_path = NULL;
        free(s[2].qom_path);
        s[2].qom_path = NULL;
        s[3].qom_path = strdup("/machine/peripheral/vcpu3");
        is_int(vm_cpu_plan(s, 4, 3, &steps, &n, &err), 0, "plan with a hole");
        ok(n == 1 && steps[0].op == VM_CPU_PLUG && steps[0].vcpu == 1, "fills the lowest hole");
        free(steps);
        is_int(vm_cpu_plan(s, 4, 1, &steps, &n, &err), 0, "unplug with a hole");
        ok(n == 1 && steps[0].op == VM_CPU_UNPLUG && steps[0].vcpu == 3, "unplugs the highest");
        free(steps);

        /* vCPU 0 unplugged somehow (not by us): 1 vCPU left at index 3, target 1: nothing */
        vm_cpu_slots_free(s, 4);
}

static void test_balloon(void)
{
        ok(vm_balloon_arrived(256ull << 20, 256ull << 20), "exact");
        ok(vm_balloon_arrived((256ull << 20) + (2ull << 20), 256ull << 20), "within 1%% above");
        ok(vm_balloon_arrived((256ull << 20) - (2ull << 20), 256ull << 20), "within 1%% below");
        ok(!vm_balloon_arrived(512ull << 20, 256ull << 20), "far off");
        ok(!vm_balloon_arrived((256ull << 20) + (3ull << 20), 256ull << 20), "just over 1%%");
        ok(vm_balloon_arrived(UINT64_MAX, UINT64_MAX), "no overflow at the top");
}

/* ---- live operations against the scripted fake QMP server ---- */

struct rec {
        unsigned calls, vcpus[16];
};

static int record_cb(void *userdata, const struct vm_spec *spec, struct qc_err *err)
{
        struct rec *r = userdata;

        if (r->calls < 16)
                r->vcpus[r->calls] = spec->cpu.vcpus;
        r->calls++;
        return 0;
}

/* q35 with 1 socket x 3 cores: query-hotpluggable-cpus lists the slots in
 * reverse; core 0 is the boot vCPU, `plugged` says which others are there */
static char *slots_json(bool core1, const char *core1_path, bool core2)
{
        char *s = NULL;

        if (asprintf(&s,
                     "[{\"props\": {\"core-id\": 2, \"thread-id\": 0, \"socket-id\": 0}, \"vcpus-count\": 1, "
                     "\"type\": \"qemu64-x86_64-cpu\"%s}, "
                     "{\"props\": {\"core-id\": 1, \"thread-id\": 0, \"socket-id\": 0}, \"vcpus-count\": 1, "
                     "\"type\": \"qemu64-x86_64-cpu\"%s%s%s}, "
                     "{\"props\": {\"core-id\": 0, \"thread-id\": 0, \"socket-id\": 0}, \"vcpus-count\": 1, "
                     "\"qom-path\": \"/machine/unattached/device[0]\", \"type\": \"qemu64-x86_64-cpu\"}]",
                     core2 ? ", \"qom-path\": \"/machine/peripheral/vcpu2\"" : "", core1 ? ", \"qom-path\": \"" : "",
                     core1 ? core1_path : "", core1 ? "\"" : "") < 0)
                return NULL;
        return s;
}

static char *cpus_json(int n_extra, const char *path1, pid_t tid)
{
        char *s = NULL;

        if (asprintf(&s,
                     "[{\"cpu-index\": 0, \"qom-path\": \"/machine/unattached/device[0]\", \"thread-id\": %d, "
                     "\"props\": {\"core-id\": 0, \"thread-id\": 0, \"socket-id\": 0}, \"target\": \"x86_64\"}%s%s%s]",
                     (int)tid, n_extra ? ", {\"cpu-index\": 1, \"qom-path\": \"" : "", n_extra ? path1 : "",
                     n_extra ? "\", \"thread-id\": 1, \"props\": {\"core-id\": 1, \"thread-id\": 0, "
                               "\"socket-id\": 0}, \"target\": \"x86_64\"}"
                             : "") < 0)
                return NULL;
        return s;
}

/* query-commands as QEMU 7.2 answers it, cut to what setvcpus looks for */
#define MODERN_COMMANDS "query-hotpluggable-cpus", "device_add", "device_del", "query-cpus-fast"


static struct qmp *fake_connect(struct fakeqmp *f)
{
        struct qc_err err = { 0 };
        struct qmp *q = NULL;
        int fd = -1;

        if (fakeqmp_start(f, &fd) < 0 || qmp_open_fd(fd, 3000, &q, &err) < 0) {
                ok(0, "fake QMP: %s", err.msg);
                return NULL;
        }
        return q;
}

static void fake_done(struct fakeqmp *f, struct qmp *q, const char *what)
{
        _cleanup_free_ char *log = NULL;

        qmp_free(q);
        if (!ok(fakeqmp_finish(f, &log) == 0, "%s: QMP exchange as scripted", what))
                tap_diag("%s", log ? log : "");
        fakeqmp_free(f);
}

static void test_setvcpus_fails_halfway(void)
{
        struct fakeqmp *f = fakeqmp_new();
        _cleanup_free_ char *slots = slots_json(false, NULL, false);
        _cleanup_free_ char *cpus = cpus_json(1, "/machine/peripheral/vcpu1", getpid());
        struct vm_spec spec = { .cpu = { .vcpus = 1, .max = 3 } };
        struct rec rec = { 0 };
        struct qc_err err = { 0 };
        struct qmp *q;

        fakeqmp_greet(f);
        fakeqmp_expect_commands(f, (const char *const[]){ MODERN_COMMANDS, NULL });
        fakeqmp_expect(f, "{\"execute\": \"query-hotpluggable-cpus\"}");
        fakeqmp_reply(f, slots);
        fakeqmp_expect(f, "{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"qemu64-x86_64-cpu\", "
                          "\"id\": \"vcpu1\", \"socket-id\": 0, \"core-id\": 1, \"thread-id\": 0}}");
        fakeqmp_reply(f, "{}");
        fakeqmp_expect(f, "{\"execute\": \"query-cpus-fast\"}");
        fakeqmp_reply(f, cpus);
        fakeqmp_expect(f, "{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"qemu64-x86_64-cpu\", "
                          "\"id\": \"vcpu2\", \"socket-id\": 0, \"core-id\": 2, \"thread-id\": 0}}");
        fakeqmp_error(f, "GenericError", "out of vCPU luck");
        fakeqmp_wait_eof(f);
        if (!(q = fake_connect(f)))
                return;
        struct vm_live vm = { .qmp = q, .qemu_pid = getpid(), .spec = &spec, .record = record_cb, .userdata = &rec };
        is_int(vm_setvcpus(&vm, 3, NULL, NULL, &err), -1, "plug fails at the second vCPU");
        ok(strstr(err.msg, "plug vCPU 2") && strstr(err.msg, "out of vCPU luck"), "error names the vCPU: %s",
           err.msg);
        is_int(spec.cpu.vcpus, 2, "spec says what landed: 2");
        is_int(rec.calls, 1, "recorded once, after the vCPU that landed");
        is_int(rec.vcpus[0], 2, "the record says 2");
        fake_done(f, q, "setvcpus fails half-way");
}

static void test_setvcpus_unplug_boot_cpu(void)
{
        struct fakeqmp *f = fakeqmp_new();
        /* vCPU 1 came from -smp 2 (a restart after setvcpus): no id, only a path */
        _cleanup_free_ char *slots = slots_json(true, "/machine/unattached/device[2]", false);
        _cleanup_free_ char *before = cpus_json(1, "/machine/unattached/device[2]", getpid());
        _cleanup_free_ char *after = cpus_json(0, NULL, getpid());
        struct vm_spec spec = { .cpu = { .vcpus = 2, .max = 3 } };
        struct rec rec = { 0 };
        struct qc_err err = { 0 };
        struct qmp *q;

        fakeqmp_greet(f);
        fakeqmp_expect_commands(f, (const char *const[]){ MODERN_COMMANDS, NULL });
        fakeqmp_expect(f, "{\"execute\": \"query-hotpluggable-cpus\"}");
        fakeqmp_reply(f, slots);
        fakeqmp_expect(f, "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"/machine/unattached/device[2]\"}}");
        fakeqmp_reply(f, "{}");
        /* QEMU 7.2: DEVICE_DELETED for the lapic only, no device id */
        fakeqmp_send(f, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"DEVICE_DELETED\", "
                        "\"data\": {\"path\": \"/machine/unattached/device[2]/lapic\"}}");
        fakeqmp_expect(f, "{\"execute\": \"query-cpus-fast\"}");
        fakeqmp_reply(f, before);
        fakeqmp_expect(f, "{\"execute\": \"query-cpus-fast\"}");
        fakeqmp_reply(f, after);
        fakeqmp_wait_eof(f);
        if (!(q = fake_connect(f)))
                return;
        struct vm_live vm = { .qmp = q, .qemu_pid = getpid(), .spec = &spec, .record = record_cb, .userdata = &rec };
        is_int(vm_setvcpus(&vm, 1, NULL, NULL, &err), 0, "unplug a -smp vCPU by its QOM path: %s", err.msg);
        is_int(spec.cpu.vcpus, 1, "spec says 1");
        ok(rec.calls == 1 && rec.vcpus[0] == 1, "recorded 1");
        fake_done(f, q, "setvcpus unplugs a boot vCPU");
}

static void test_setvcpus_refuses_past_max(void)
{
        struct fakeqmp *f = fakeqmp_new();
        struct vm_spec spec = { .cpu = { .vcpus = 1, .max = 3 } };
        struct rec rec = { 0 };
        struct qc_err err = { 0 };
        struct qmp *q;

        /* refused before asking QEMU anything */
        fakeqmp_greet(f);
        fakeqmp_wait_eof(f);
        if (!(q = fake_connect(f)))
                return;
        struct vm_live vm = { .qmp = q, .qemu_pid = getpid(), .spec = &spec, .record = record_cb, .userdata = &rec };
        is_int(vm_setvcpus(&vm, 4, NULL, NULL, &err), -1, "4 > max 3 refused");
        ok(strstr(err.msg, "maximum is 3") != NULL, "names the limit: %s", err.msg);
        is_int(rec.calls, 0, "nothing recorded");
        fake_done(f, q, "setvcpus past max");
}

static void test_vcpuinfo_fake(void)
{
        struct fakeqmp *f = fakeqmp_new();
        pid_t tid = (pid_t)syscall(SYS_gettid);
        _cleanup_free_ char *cpus = cpus_json(1, "/machine/peripheral/vcpu1", tid);
        struct vm_spec spec = { .cpu = { .vcpus = 2, .max = 3 } };
        struct vm_vcpu_info *v = NULL;
        struct qc_err err = { 0 };
        size_t n = 0;
        struct qmp *q;

        fakeqmp_greet(f);
        fakeqmp_expect(f, "{\"execute\": \"query-cpus-fast\"}");
        fakeqmp_reply(f, cpus);
        fakeqmp_wait_eof(f);
        if (!(q = fake_connect(f)))
                return;
        struct vm_live vm = { .qmp = q, .qemu_pid = getpid(), .spec = &spec };
        is_int(vm_vcpuinfo(&vm, &v, &n, &err), 0, "vcpuinfo: %s", err.msg);
        is_int(n, 2, "two vCPUs");
        /* vCPU 0's "thread" is this test's own thread: real host facts */
        ok(n == 2 && v[0].host_ok && v[0].tid == tid && v[0].stat.state == 'R' && cpuset_count(&v[0].affinity) >= 1,
           "vCPU 0: host facts of a real thread");
        /* vCPU 1 claims thread 1 (init), which is not in our process */
        ok(n == 2 && !v[1].host_ok, "vCPU 1: a thread not in the process is shown as gone");
        vm_vcpu_infos_free(v, n);
        fake_done(f, q, "vcpuinfo");
}

static void test_balloon_timeout(void)
{
        struct fakeqmp *f = fakeqmp_new();
        struct vm_spec spec = { .memory = { .size = 512ull << 20 } };
        struct qc_err err = { 0 };
        uint64_t actual = 0;
        struct qmp *q;

        fakeqmp_greet(f);
        fakeqmp_expect(f, "{\"execute\": \"query-balloon\"}");
        fakeqmp_reply(f, "{\"actual\": 536870912}");
        fakeqmp_expect(f, "{\"execute\": \"balloon\", \"arguments\": {\"value\": 268435456}}");
        fakeqmp_reply(f, "{}");
        fakeqmp_expect(f, "{\"execute\": \"query-balloon\"}");
        fakeqmp_reply(f, "{\"actual\": 400000000}");
        fakeqmp_wait_eof(f);
        if (!(q = fake_connect(f)))
                return;
        struct vm_live vm = { .qmp = q, .qemu_pid = getpid(), .spec = &spec };
        /* timeout 0: one look after asking, then report where it stopped */
        is_int(vm_balloon_set(&vm, 256ull << 20, 0, &actual, &err), 0, "timed out, said so: %s", err.msg);
        is_int(actual, 400000000, "where it stopped");
        fake_done(f, q, "balloon timeout");
}

int main(void)
{
        test_task_stat();
        test_rss();
        test_affinity();
        test_memory_current();
        test_cpu_plan();
        test_balloon();
        test_setvcpus_fails_halfway();
        test_setvcpus_unplug_boot_cpu();
        test_setvcpus_refuses_past_max();
        test_vcpuinfo_fake();
        test_balloon_timeout();
        return tap_done();
}
