/* The QMP library against a real QEMU 7.2 under TCG, with the test guest
 * (tests/guest/) taking part where it must: CPU plug/unplug, balloon, guest
 * statistics, DIMM hotplug, power button. No timed assertions: every wait is
 * a generous deadline on a condition (the machine is shared and TCG is slow). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/io.h"
#include "qmp/qmp.h"
#include "tests/lib/guest.h"
#include "tests/tap.h"

#define MiB (1024ull * 1024)
#define BOOT_MS 180000
#define ASK_MS 60000
#define SETTLE_MS 180000 /* guest-side changes: onlining, inflating */

static struct guest_vm vm;

/* expr fills err; its message is shown only when expr failed (a call that
 * succeeds may leave a note from a fallback it took). */
#define call_ok(expr, desc)                                                                          \
        ({                                                                                           \
                qc_err_clear(&err);                                                                  \
                int r_ = (expr);                                                                     \
                ok(r_ >= 0, "%s%s%s", desc, r_ < 0 ? ": " : "", r_ < 0 ? err.msg : "");              \
        })

static void stop_vm(void)
{
        guest_vm_stop(&vm);
}

static long long ask(const char *question, const char *key)
{
        struct qc_err err = {};
        long long v;

        if (guest_ask_number(vm.ask_sock, question, key, ASK_MS, &v, &err) < 0) {
                tap_diag("guest: %s", err.msg);
                return -1;
        }
        return v;
}

/* Ask until the answer is want (the guest takes its time), return the last. */
static long long ask_until(const char *question, const char *key, long long want)
{
        int64_t deadline = now_ms() + SETTLE_MS;
        long long v;

        while ((v = ask(question, key)) != want && v >= 0 && now_ms() < deadline)
                usleep(300 * 1000);
        return v;
}

static struct qmp *boot(const char *const *args, const char *knobs)
{
        struct qc_err err = {};
        struct qmp *q = NULL;

        if (guest_vm_start(args, knobs, &vm, &err) < 0 || guest_vm_wait_ready(&vm, BOOT_MS, &err) < 0 ||
            qmp_connect(vm.qmp_sock, QMP_DEFAULT_TIMEOUT_MS, &q, &err) < 0) {
                ok(0, "boot the test guest: %s", err.msg);
                return NULL;
        }
        ok(1, "test guest booted (%s)", knobs ? knobs : "no knobs");
        return q;
}

static void test_cpus(struct qmp *q)
{
        struct qc_err err = {};
        enum qmp_cpu_hotplug m = _QMP_CPU_HOTPLUG_INVALID;
        _cleanup_(qmp_hotpluggable_cpu_list_freep) struct qmp_hotpluggable_cpu_list *slots = NULL;
        _cleanup_(qmp_cpu_list_freep) struct qmp_cpu_list *cpus = NULL;
        size_t idx = 99;

        call_ok(qmp_cpu_hotplug_method(q, &m, &err), "cpu hotplug method");
        is_str(qmp_cpu_hotplug_to_string(m), qmp_cpu_hotplug_to_string(QMP_CPU_HOTPLUG_DEVICE_ADD),
               "QEMU 7.2 plugs CPUs with device_add");
        call_ok(qmp_query_hotpluggable_cpus(q, &slots, &err), "query-hotpluggable-cpus");
        if (slots) {
                size_t filled = 0;

                for (size_t i = 0; i < slots->n; i++)
                        filled += slots->slots[i].qom_path != NULL;
                is_int(slots->n, 4, "-smp 1,maxcpus=4 gives 4 slots");
                is_int(filled, 1, "one slot filled");
                ok(slots->n > 0 && slots->slots[0].type && strstr(slots->slots[0].type, "-x86_64-cpu"),
                   "slot type is an x86_64 CPU (%s)", slots->n ? slots->slots[0].type : "-");
        }
        is_int(ask("cpus", "cpus-online"), 1, "guest: 1 CPU online");

        call_ok(qmp_cpu_plug_next(q, "cpu1", &idx, &err), "plug cpu1");
        call_ok(qmp_cpu_plug_next(q, "cpu2", NULL, &err), "plug cpu2");
        call_ok(qmp_query_cpus_fast(q, &cpus, &err), "query-cpus-fast");
        if (cpus) {
                const struct qmp_cpu *c1 = qmp_cpu_list_find_id(cpus, "cpu1");
                const struct qmp_cpu *c2 = qmp_cpu_list_find_id(cpus, "cpu2");

                is_int(cpus->n, 3, "QEMU has 3 vCPUs");
                ok(c1 && c2, "cpu1 and cpu2 found by id");
                ok(c1 && c2 && c1->thread_id > 0 && c2->thread_id > 0 && c1->thread_id != c2->thread_id &&
                           c1->thread_id != cpus->cpus[0].thread_id,
                   "each vCPU has its own host thread (TCG is multi-threaded)");
        }
        is_int(ask_until("cpus", "cpus-online", 3), 3, "guest onlined the plugged CPUs: 3 online");

        call_ok(qmp_cpu_unplug(q, "cpu2", SETTLE_MS, &err), "unplug cpu2 (guest ejects it)");
        qmp_cpu_list_free(cpus);
        cpus = NULL;
        call_ok(qmp_query_cpus_fast(q, &cpus, &err), "query-cpus-fast after unplug");
        if (cpus) {
                is_int(cpus->n, 2, "QEMU has 2 vCPUs");
                ok(qmp_cpu_list_find_id(cpus, "cpu1") && !qmp_cpu_list_find_id(cpus, "cpu2"),
                   "cpu1 stays, cpu2 is gone");
        }
        is_int(ask_until("cpus", "cpus-online", 2), 2, "guest: 2 CPUs online");
        ok(qmp_cpu_unplug(q, "nosuchcpu", 5000, &err) < 0 && strstr(err.msg, "nosuchcpu"),
           "unplugging an unknown id fails, naming it (%s)", err.msg);
}

static bool stats_ready(struct qmp *q, const char *path, struct qmp_balloon_stats *st, long long want_total_kb)
{
        struct qc_err err = {};

        return qmp_balloon_get_stats(q, path, st, &err) == 0 && st->last_update > 0 &&
               st->known[QMP_BALLOON_STAT_TOTAL_MEMORY] &&
               st->value[QMP_BALLOON_STAT_TOTAL_MEMORY] == (uint64_t)want_total_kb * 1024;
}

static void test_balloon(struct qmp *q)
{
        struct qc_err err = {};
        _cleanup_free_ char *path = NULL;
        struct qmp_balloon_stats st = {};
        uint64_t actual = 0;
        long long mt0, mt1;
        int64_t deadline;

        call_ok(qmp_query_balloon(q, &actual, &err), "query-balloon");
        is_int(actual, 512 * MiB, "actual = 512M at boot");
        mt0 = ask("memtotal", "memtotal-kb");
        ok(mt0 > 0, "guest MemTotal before: %lld kB", mt0);

        call_ok(qmp_balloon(q, 256 * MiB, &err), "balloon 256M");
        deadline = now_ms() + SETTLE_MS;
        while (qmp_query_balloon(q, &actual, &err) == 0 && actual != 256 * MiB && now_ms() < deadline)
                usleep(300 * 1000);
        is_int(actual, 256 * MiB, "actual follows to 256M");
        /* Without deflate-on-oom the driver takes the inflated pages out of
         * totalram (adjust_managed_page_count), so MemTotal drops by exactly
         * the balloon size. */
        mt1 = ask_until("memtotal", "memtotal-kb", mt0 - 256 * 1024);
        is_int(mt1, mt0 - 256 * 1024, "guest MemTotal dropped by 256M (%lld -> %lld kB)", mt0, mt1);

        call_ok(qmp_balloon_find(q, &path, &err), "balloon device found");
        is_str(path, "/machine/peripheral/balloon0", "balloon path");
        if (!path)
                return;
        call_ok(qmp_balloon_set_stats_interval(q, path, 1, &err), "stats polling every 1 s");
        deadline = now_ms() + SETTLE_MS;
        while (!stats_ready(q, path, &st, mt1) && now_ms() < deadline)
                usleep(500 * 1000);
        ok(st.last_update > 0, "guest stats arrived (last-update %lld)", (long long)st.last_update);
        ok(st.known[QMP_BALLOON_STAT_TOTAL_MEMORY] &&
                   st.value[QMP_BALLOON_STAT_TOTAL_MEMORY] == (uint64_t)mt1 * 1024,
           "stat-total-memory = guest MemTotal (%llu bytes)",
           (unsigned long long)st.value[QMP_BALLOON_STAT_TOTAL_MEMORY]);
        ok(st.known[QMP_BALLOON_STAT_FREE_MEMORY] && st.value[QMP_BALLOON_STAT_FREE_MEMORY] > 0 &&
                   st.value[QMP_BALLOON_STAT_FREE_MEMORY] < st.value[QMP_BALLOON_STAT_TOTAL_MEMORY],
           "stat-free-memory is a real number below the total (%llu)",
           (unsigned long long)st.value[QMP_BALLOON_STAT_FREE_MEMORY]);
        ok(st.known[QMP_BALLOON_STAT_AVAILABLE_MEMORY], "stat-available-memory known");

        call_ok(qmp_balloon(q, 512 * MiB, &err), "deflate back to 512M");
        deadline = now_ms() + SETTLE_MS;
        while (qmp_query_balloon(q, &actual, &err) == 0 && actual != 512 * MiB && now_ms() < deadline)
                usleep(300 * 1000);
        is_int(actual, 512 * MiB, "actual back to 512M");
        is_int(ask_until("memtotal", "memtotal-kb", mt0), mt0, "guest MemTotal back");
        qmp_balloon_set_stats_interval(q, path, 0, &err);
}

static void test_dimm(struct qmp *q)
{
        struct qc_err err = {};
        _cleanup_(qmp_memory_device_list_freep) struct qmp_memory_device_list *devs = NULL;
        struct qmp_memory_summary sum = {};
        struct qmp_dimm d = { .id = "dimm1", .size = 256 * MiB, .node = -1 };
        long long mt0 = ask("memtotal", "memtotal-kb"), blocks0 = ask("memblocks", "memblocks-online");

        call_ok(qmp_dimm_plug(q, &d, &err), "plug a 256M DIMM");
        call_ok(qmp_query_memory_devices(q, &devs, &err), "query-memory-devices");
        if (devs) {
                is_int(devs->n, 1, "one memory device");
                if (devs->n == 1) {
                        is_str(devs->devs[0].type, "dimm", "type dimm");
                        is_str(devs->devs[0].id, "dimm1", "id dimm1");
                        is_int(devs->devs[0].size, 256 * MiB, "size 256M");
                        ok(devs->devs[0].hotplugged, "hotplugged");
                }
        }
        call_ok(qmp_query_memory_size_summary(q, &sum, &err), "query-memory-size-summary");
        is_int(sum.base_memory, 512 * MiB, "base memory 512M");
        is_int(sum.plugged_memory, 256 * MiB, "plugged memory 256M");
        /* 128 MiB memory blocks: the DIMM is two of them, onlined by the init */
        is_int(ask_until("memblocks", "memblocks-online", blocks0 + 2), blocks0 + 2,
               "guest onlined the DIMM's 2 memory blocks");
        is_int(ask_until("memtotal", "memtotal-kb", mt0 + 256 * 1024), mt0 + 256 * 1024,
               "guest MemTotal grew by 256M");

        call_ok(qmp_dimm_unplug(q, "dimm1", SETTLE_MS, &err), "unplug the DIMM");
        is_int(ask_until("memtotal", "memtotal-kb", mt0), mt0, "guest MemTotal back after unplug");
        ok(qmp_dimm_plug(q, &(struct qmp_dimm){ .id = "big", .size = 4096 * MiB, .node = -1 }, &err) < 0,
           "a DIMM past maxmem is refused (%s)", err.msg);
}

static void test_powerdown(struct qmp *q)
{
        struct qc_err err = {};
        json_object *ev = NULL;

        call_ok(qmp_system_powerdown(q, &err), "system_powerdown");
        call_ok(qmp_wait_event(q, "SHUTDOWN", NULL, NULL, SETTLE_MS, &ev, &err),
                "SHUTDOWN event after the guest powered off");
        if (ev) {
                json_object *data, *guest;

                ok(json_object_object_get_ex(ev, "data", &data) && json_object_object_get_ex(data, "guest", &guest) &&
                           json_object_get_boolean(guest),
                   "shutdown came from the guest (%s)", json_object_to_json_string(ev));
                json_object_put(ev);
        }
        ok(guest_vm_wait_exit(&vm, SETTLE_MS), "QEMU exited");
        is_int(vm.exit_status, 0, "exit status 0");
}

static void test_no_driver(void)
{
        static const char *const args[] = { "-m", "256M", "-device", "virtio-balloon-pci,id=balloon0", NULL };
        _cleanup_qmp_ struct qmp *q = boot(args, "qemuctl.nomod=virtio_balloon");
        _cleanup_free_ char *path = NULL, *a = NULL;
        struct qc_err err = {};
        struct qmp_balloon_stats st = {};
        bool any = false;

        if (!q)
                return;
        call_ok(guest_ask(vm.ask_sock, "balloon", ASK_MS, &a, &err), "ask the guest");
        is_str(a, "balloon-driver no", "guest has no balloon driver");
        call_ok(qmp_balloon_find(q, &path, &err), "balloon device found");
        if (!path)
                return;
        call_ok(qmp_balloon_set_stats_interval(q, path, 1, &err), "stats polling every 1 s");
        /* Nothing can arrive; give a driver that would be there a few polls. */
        sleep(3);
        call_ok(qmp_balloon_get_stats(q, path, &st, &err), "guest-stats without a driver");
        for (int i = 0; i < _QMP_BALLOON_STAT_MAX; i++)
                any |= st.known[i];
        ok(!any, "every statistic is unknown (QEMU reports u64 -1)");
        is_int(st.last_update, 0, "last-update 0: never updated");
        stop_vm();
}

static void timed(const char *what, void (*fn)(struct qmp *), struct qmp *q)
{
        int64_t t0 = now_ms();

        fn(q);
        tap_diag("%s took %.1f s", what, (double)(now_ms() - t0) / 1000);
}

int main(void)
{
        static const char *const args[] = { "-smp", "1,maxcpus=4", "-m", "512M,slots=2,maxmem=2G",
                                            "-device", "virtio-balloon-pci,id=balloon0", NULL };
        const char *reason;

        if (!guest_dir(&reason))
                tap_skip_all("%s", reason);
        atexit(stop_vm);
        {
                _cleanup_qmp_ struct qmp *q = boot(args, NULL);

                if (q) {
                        struct qmp_version v = {};
                        struct qc_err err = {};

                        call_ok(qmp_query_version(q, &v, &err), "query-version");
                        ok(v.major * 100 + v.minor >= 502, "QEMU %d.%d.%d", v.major, v.minor, v.micro);
                        qmp_version_done(&v);
                        /* Memory first: QEMU 7.2 under TCG crashes ("corrupted
                         * double-linked list") on a DIMM hotplug after a vCPU
                         * was unplugged, so CPUs come last. */
                        timed("DIMM", test_dimm, q);
                        timed("balloon", test_balloon, q);
                        timed("CPUs", test_cpus, q);
                        timed("power button", test_powerdown, q);
                }
                stop_vm();
        }
        test_no_driver();
        return tap_done();
}
