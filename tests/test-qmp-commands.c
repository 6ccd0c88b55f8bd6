/* qmp/ command wrappers against the fake server: the exact request JSON
 * each one sends, and the typed result it makes of QEMU 7.2's replies. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "common/strv.h"
#include "qmp/qmp.h"
#include "tests/lib/fakeqmp-tap.h"
#include "tests/tap.h"

/* Captured from qemu-system-x86_64 7.2 (q35, -smp 1,maxcpus=2) */
#define CPUS_FAST                                                                                        \
        "[{\"thread-id\": 9975, \"props\": {\"core-id\": 0, \"thread-id\": 0, \"node-id\": 0, \"socket-id\": 0}, " \
        "\"qom-path\": \"/machine/unattached/device[0]\", \"cpu-index\": 0, \"target\": \"x86_64\"}, "       \
        "{\"thread-id\": 9980, \"props\": {\"core-id\": 1, \"thread-id\": 0, \"node-id\": 0, \"socket-id\": 0}, " \
        "\"qom-path\": \"/machine/peripheral/cpu1\", \"cpu-index\": 1, \"target\": \"x86_64\"}]"
#define CPUS_FAST_ONE                                                                                    \
        "[{\"thread-id\": 9975, \"props\": {\"core-id\": 0, \"thread-id\": 0, \"node-id\": 0, \"socket-id\": 0}, " \
        "\"qom-path\": \"/machine/unattached/device[0]\", \"cpu-index\": 0, \"target\": \"x86_64\"}]"
#define CPUS_FAST_PERI                                                                                   \
        "[{\"thread-id\": 9980, \"props\": {\"core-id\": 1, \"thread-id\": 0, \"node-id\": 0, \"socket-id\": 0}, " \
        "\"qom-path\": \"/machine/peripheral/cpu1\", \"cpu-index\": 1, \"target\": \"x86_64\"}]"
#define HOTPLUGGABLE                                                                                     \
        "[{\"props\": {\"core-id\": 2, \"thread-id\": 0, \"socket-id\": 0}, \"vcpus-count\": 1, "           \
        "\"type\": \"qemu64-x86_64-cpu\"}, "                                                              \
        "{\"props\": {\"core-id\": 1, \"thread-id\": 0, \"socket-id\": 0}, \"vcpus-count\": 1, "            \
        "\"type\": \"qemu64-x86_64-cpu\"}, "                                                              \
        "{\"props\": {\"core-id\": 0, \"thread-id\": 0, \"socket-id\": 0}, \"vcpus-count\": 1, "            \
        "\"qom-path\": \"/machine/unattached/device[0]\", \"type\": \"qemu64-x86_64-cpu\"}]"
#define UNKNOWN_U64 "18446744073709551615"

static struct fakeqmp *F;
static struct qmp *Q;

static void begin(void)
{
        F = fakeqmp_new();
        fakeqmp_greet(F);
}

static void go(void)
{
        struct qc_err err = { 0 };
        int fd;

        fakeqmp_wait_eof(F);
        if (fakeqmp_start(F, &fd) < 0 || qmp_open_fd(fd, 3000, &Q, &err) < 0) {
                tap_diag("cannot start the fake: %s", err.msg);
                abort();
        }
}

static void end(const char *what)
{
        qmp_free(Q);
        Q = NULL;
        fakeqmp_check(F, what);
        F = NULL;
}

static void test_run_state(void)
{
        struct qc_err err = { 0 };
        struct qmp_version v = { 0 };
        char *name = (char *)"untouched", *status = NULL;
        char **cmds = NULL;
        bool has = false, running = false;

        begin();
        fakeqmp_expect(F, "{\"execute\": \"query-version\"}");
        fakeqmp_reply(F, "{\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, \"package\": \"Debian 1:7.2\"}");
        fakeqmp_expect(F, "{\"execute\": \"query-commands\"}");
        fakeqmp_reply(F, "[{\"name\": \"device_add\"}, {\"name\": \"query-hotpluggable-cpus\"}, {\"name\": \"quit\"}]");
        fakeqmp_expect(F, "{\"execute\": \"query-commands\"}");
        fakeqmp_reply(F, "[{\"name\": \"device_add\"}, {\"name\": \"query-hotpluggable-cpus\"}, {\"name\": \"quit\"}]");
        fakeqmp_expect(F, "{\"execute\": \"query-status\"}");
        fakeqmp_reply(F, "{\"status\": \"running\", \"singlestep\": false, \"running\": true}");
        fakeqmp_expect(F, "{\"execute\": \"stop\"}");
        fakeqmp_reply(F, "{}");
        fakeqmp_expect(F, "{\"execute\": \"cont\"}");
        fakeqmp_reply(F, "{}");
        fakeqmp_expect(F, "{\"execute\": \"system_reset\"}");
        fakeqmp_reply(F, "{}");
        fakeqmp_expect(F, "{\"execute\": \"system_powerdown\"}");
        fakeqmp_reply(F, "{}");
        fakeqmp_expect(F, "{\"execute\": \"query-name\"}");
        fakeqmp_reply(F, "{}");
        fakeqmp_expect(F, "{\"execute\": \"query-name\"}");
        fakeqmp_reply(F, "{\"name\": \"ct7\"}");
        fakeqmp_expect(F, "{\"execute\": \"query-status\"}");
        fakeqmp_reply(F, "{\"status\": 3}");
        fakeqmp_expect(F, "{\"execute\": \"quit\"}");
        fakeqmp_reply(F, "{}");
        go();
        is_int(qmp_query_version(Q, &v, &err), 0, "query-version");
        ok(v.major == 7 && v.minor == 2 && v.micro == 22, "7.2.22");
        is_str(v.package, "Debian 1:7.2", "package");
        qmp_version_done(&v);
        is_int(qmp_query_commands(Q, &cmds, &err), 0, "query-commands");
        is_int(strv_length(cmds), 3, "three commands");
        strv_free(cmds);
        is_int(qmp_has_command(Q, "device_add", &has, &err), 0, "has device_add asks query-commands once");
        ok(has, "device_add present");
        is_int(qmp_has_command(Q, "cpu-add", &has, &err), 0, "cached");
        ok(!has, "cpu-add absent");
        is_int(qmp_query_status(Q, &status, &running, &err), 0, "query-status");
        is_str(status, "running", "running");
        ok(running, "running flag");
        free(status);
        is_int(qmp_stop(Q, &err), 0, "stop");
        is_int(qmp_cont(Q, &err), 0, "cont");
        is_int(qmp_system_reset(Q, &err), 0, "system_reset");
        is_int(qmp_system_powerdown(Q, &err), 0, "system_powerdown");
        is_int(qmp_query_name(Q, &name, &err), 0, "query-name without a name");
        ok(name == NULL, "is NULL");
        is_int(qmp_query_name(Q, &name, &err), 0, "query-name");
        is_str(name, "ct7", "the name");
        free(name);
        status = (char *)"untouched";
        is_int(qmp_query_status(Q, &status, &running, &err), -1, "a reply of the wrong shape fails");
        is_str(err.msg, "query-status: \"status\" is int, expected string", "naming the member");
        is_str(status, "untouched", "output untouched on failure");
        is_int(qmp_quit(Q, &err), 0, "quit");
        end("run state");
}

static void test_hotplug_method(void)
{
        static const struct {
                const char *commands;
                enum qmp_cpu_hotplug want;
        } cases[] = {
                { "[{\"name\": \"query-hotpluggable-cpus\"}, {\"name\": \"device_add\"}]", QMP_CPU_HOTPLUG_DEVICE_ADD },
                { "[{\"name\": \"query-hotpluggable-cpus\"}, {\"name\": \"cpu-add\"}]", QMP_CPU_HOTPLUG_DEVICE_ADD },
                { "[{\"name\": \"cpu-add\"}, {\"name\": \"device_add\"}]", QMP_CPU_HOTPLUG_CPU_ADD },
                { "[{\"name\": \"device_add\"}]", QMP_CPU_HOTPLUG_NONE },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct qc_err err = { 0 };
                enum qmp_cpu_hotplug m = _QMP_CPU_HOTPLUG_INVALID;

                begin();
                fakeqmp_expect(F, "{\"execute\": \"query-commands\"}");
                fakeqmp_reply(F, cases[i].commands);
                go();
                is_int(qmp_cpu_hotplug_method(Q, &m, &err), 0, "hotplug method %zu", i);
                is_str(qmp_cpu_hotplug_to_string(m), qmp_cpu_hotplug_to_string(cases[i].want), "method %zu", i);
                end("hotplug method");
        }
}

static void test_cpus(void)
{
        struct qc_err err = { 0 };
        struct qmp_cpu_list *cpus = NULL;
        struct qmp_hotpluggable_cpu_list *slots = NULL;
        size_t idx = 99;

        begin();
        fakeqmp_expect(F, "{\"execute\": \"query-cpus-fast\"}");
        fakeqmp_reply(F, CPUS_FAST);
        fakeqmp_expect(F, "{\"execute\": \"query-hotpluggable-cpus\"}");
        fakeqmp_reply(F, HOTPLUGGABLE);
        fakeqmp_expect(F, "{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"qemu64-x86_64-cpu\", "
                          "\"id\": \"cpu2\", \"socket-id\": 0, \"core-id\": 2, \"thread-id\": 0}}");
        fakeqmp_reply(F, "{}");
        fakeqmp_expect(F, "{\"execute\": \"query-hotpluggable-cpus\"}");
        fakeqmp_reply(F, HOTPLUGGABLE);
        fakeqmp_expect(F, "{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"qemu64-x86_64-cpu\", "
                          "\"id\": \"cpu1\", \"socket-id\": 0, \"core-id\": 1, \"thread-id\": 0}}");
        fakeqmp_reply(F, "{}");
        fakeqmp_expect(F, "{\"execute\": \"query-hotpluggable-cpus\"}");
        fakeqmp_reply(F, "[{\"props\": {\"core-id\": 0, \"thread-id\": 0, \"socket-id\": 0}, \"vcpus-count\": 1, "
                         "\"qom-path\": \"/machine/unattached/device[0]\", \"type\": \"qemu64-x86_64-cpu\"}]");
        fakeqmp_expect(F, "{\"execute\": \"cpu-add\", \"arguments\": {\"id\": 3}}");
        fakeqmp_reply(F, "{}");
        go();
        is_int(qmp_query_cpus_fast(Q, &cpus, &err), 0, "query-cpus-fast");
        if (cpus && cpus->n == 2) {
                struct qmp_cpu *c = &cpus->cpus[1];
                ok(c->cpu_index == 1 && c->thread_id == 9980, "vCPU 1 runs on host thread 9980");
                is_str(c->qom_path, "/machine/peripheral/cpu1", "qom path");
                is_str(c->target, "x86_64", "target");
                ok(c->props.socket_id == 0 && c->props.core_id == 1 && c->props.thread_id == 0 &&
                           c->props.node_id == 0 && c->props.die_id == -1,
                   "props, absent ones -1");
                ok(qmp_cpu_list_find_id(cpus, "cpu1") == c, "find by device id");
                ok(qmp_cpu_list_find_id(cpus, "cpu") == NULL, "no prefix matches");
        } else {
                ok(0, "two vCPUs");
        }
        qmp_cpu_list_free(cpus);
        is_int(qmp_query_hotpluggable_cpus(Q, &slots, &err), 0, "query-hotpluggable-cpus");
        if (slots && slots->n == 3) {
                ok(slots->slots[0].qom_path == NULL && slots->slots[2].qom_path, "plugged slots have a qom-path");
                is_str(slots->slots[0].type, "qemu64-x86_64-cpu", "type");
                is_int(slots->slots[0].vcpus_count, 1, "vcpus-count");
                is_int(qmp_cpu_plug(Q, &slots->slots[0], "cpu2", &err), 0, "device_add of a slot");
        } else {
                ok(0, "three slots");
        }
        qmp_hotpluggable_cpu_list_free(slots);
        is_int(qmp_cpu_plug_next(Q, "cpu1", &idx, &err), 0, "plug the next free slot");
        is_int(idx, 1, "core 1 comes before core 2");
        is_int(qmp_cpu_plug_next(Q, "cpu9", &idx, &err), -1, "no free slot");
        is_int(err.code, ENOSPC, "ENOSPC");
        is_str(err.msg, "every CPU slot is plugged already (1 slots)", "message");
        is_int(idx, 1, "index untouched on failure");
        is_int(qmp_cpu_add(Q, 3, &err), 0, "legacy cpu-add");
        end("cpus");
}

/* QEMU before 2.12 lists vCPUs with query-cpus only: CommandNotFound, then
 * query-cpus with its own member names; once query-commands is known to
 * lack query-cpus-fast, straight to query-cpus. */
static void test_cpus_legacy(void)
{
        static const char legacy[] =
                "[{\"current\": true, \"CPU\": 0, \"qom_path\": \"/machine/unattached/device[0]\", \"pc\": 1, "
                "\"halted\": false, \"thread_id\": 4242, \"arch\": \"x86\"}, {\"current\": false, \"CPU\": 1, "
                "\"halted\": true, \"thread_id\": 4243, \"arch\": \"x86\", \"props\": {\"core-id\": 1}}]";
        struct qc_err err = { 0 };
        struct qmp_cpu_list *cpus = NULL;
        bool has;

        begin();
        fakeqmp_expect(F, "{\"execute\": \"query-cpus-fast\"}");
        fakeqmp_error(F, "CommandNotFound", "The command query-cpus-fast has not been found");
        fakeqmp_expect(F, "{\"execute\": \"query-cpus\"}");
        fakeqmp_reply(F, legacy);
        fakeqmp_expect_commands(F, (const char *const[]){ "query-cpus", "cpu-add", NULL });
        fakeqmp_expect(F, "{\"execute\": \"query-cpus\"}");
        fakeqmp_reply(F, legacy);
        go();
        is_int(qmp_query_cpus_fast(Q, &cpus, &err), 0, "QEMU 2.6: query-cpus-fast falls back to query-cpus: %s",
               err.msg);
        if (cpus && cpus->n == 2) {
                ok(cpus->cpus[0].cpu_index == 0 && cpus->cpus[0].thread_id == 4242, "CPU and thread_id read");
                is_str(cpus->cpus[0].qom_path, "/machine/unattached/device[0]", "qom_path read");
                ok(cpus->cpus[1].qom_path == NULL, "no qom_path (before 2.4): none");
                ok(cpus->cpus[1].props.core_id == 1 && cpus->cpus[0].props.core_id == -1, "props where given");
                ok(qmp_cpu_list_find_index(cpus, 1) == &cpus->cpus[1], "find by cpu-index");
        } else {
                ok(0, "two vCPUs");
        }
        qmp_cpu_list_free(cpus);
        cpus = NULL;
        is_int(qmp_has_command(Q, "query-cpus-fast", &has, &err), 0, "query-commands");
        is_int(qmp_query_cpus_fast(Q, &cpus, &err), 0, "known to lack query-cpus-fast: query-cpus at once");
        qmp_cpu_list_free(cpus);
        end("query-cpus on QEMU 2.6");
}

static void test_cpu_unplug(void)
{
        struct qc_err err = { 0 };

        /* completion by ACPI_DEVICE_OST; DEVICE_DELETED of the lapic child
         * and an in-progress OST on the way */
        begin();
        fakeqmp_expect(F, "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"cpu1\"}}");
        fakeqmp_reply(F, "{}");
        fakeqmp_send(F, "{\"event\": \"DEVICE_DELETED\", \"data\": {\"path\": \"/machine/peripheral/cpu1/lapic\"}}");
        fakeqmp_send(F, "{\"event\": \"ACPI_DEVICE_OST\", \"data\": {\"info\": {\"device\": \"cpu1\", \"source\": 3, "
                        "\"status\": 132, \"slot\": \"1\", \"slot-type\": \"CPU\"}}}");
        fakeqmp_send(F, "{\"event\": \"ACPI_DEVICE_OST\", \"data\": {\"info\": {\"device\": \"cpu7\", \"source\": 3, "
                        "\"status\": 0, \"slot\": \"7\", \"slot-type\": \"CPU\"}}}");
        fakeqmp_send(F, "{\"event\": \"ACPI_DEVICE_OST\", \"data\": {\"info\": {\"device\": \"cpu1\", \"source\": 3, "
                        "\"status\": 0, \"slot\": \"1\", \"slot-type\": \"CPU\"}}}");
        go();
        is_int(qmp_cpu_unplug(Q, "cpu1", 3000, &err), 0, "unplug completes on ACPI_DEVICE_OST status 0");
        is_int(qmp_events_queued(Q), 2, "other events stay queued");
        end("unplug by OST");

        /* a guest that never calls _OST: the vCPU disappears from query-cpus-fast */
        begin();
        fakeqmp_expect(F, "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"cpu1\"}}");
        fakeqmp_reply(F, "{}");
        fakeqmp_expect(F, "{\"execute\": \"query-cpus-fast\"}");
        fakeqmp_reply(F, CPUS_FAST);
        fakeqmp_expect(F, "{\"execute\": \"query-cpus-fast\"}");
        fakeqmp_reply(F, CPUS_FAST_ONE);
        go();
        is_int(qmp_cpu_unplug(Q, "cpu1", 3000, &err), 0, "unplug completes when query-cpus-fast lost the vCPU");
        ok(err.code == 0 && err.msg[0] == '\0', "err untouched on success (\"%s\")", err.msg);
        end("unplug by polling");

        /* a vCPU that -smp made has no id: device_del by its QOM path, done
         * when the path is gone from query-cpus-fast (its _OST names no device) */
        begin();
        fakeqmp_expect(F, "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"/machine/unattached/device[0]\"}}");
        fakeqmp_reply(F, "{}");
        fakeqmp_send(F, "{\"event\": \"ACPI_DEVICE_OST\", \"data\": {\"info\": {\"source\": 3, "
                        "\"status\": 0, \"slot\": \"0\", \"slot-type\": \"CPU\"}}}");
        fakeqmp_expect(F, "{\"execute\": \"query-cpus-fast\"}");
        fakeqmp_reply(F, CPUS_FAST);
        fakeqmp_expect(F, "{\"execute\": \"query-cpus-fast\"}");
        fakeqmp_reply(F, CPUS_FAST_PERI);
        go();
        is_int(qmp_cpu_unplug(Q, "/machine/unattached/device[0]", 3000, &err), 0,
               "unplug by QOM path completes when the path is gone");
        ok(err.code == 0 && err.msg[0] == '\0', "err untouched on success (\"%s\")", err.msg);
        end("unplug by QOM path");

        begin();
        fakeqmp_expect(F, "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"cpu1\"}}");
        fakeqmp_reply(F, "{}");
        fakeqmp_send(F, "{\"event\": \"ACPI_DEVICE_OST\", \"data\": {\"info\": {\"device\": \"cpu1\", \"source\": 3, "
                        "\"status\": 130, \"slot\": \"1\", \"slot-type\": \"CPU\"}}}");
        go();
        is_int(qmp_cpu_unplug(Q, "cpu1", 3000, &err), -1, "a guest refusing the eject");
        is_int(err.code, EBUSY, "EBUSY");
        is_str(err.msg, "device_del cpu1: the guest refused to eject the vCPU (ACPI _OST status 0x82)", "message");
        end("unplug refused");

        begin();
        fakeqmp_expect(F, "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"cpu1\"}}");
        fakeqmp_reply(F, "{}");
        for (int i = 0; i < 2; i++) {
                fakeqmp_expect(F, "{\"execute\": \"query-cpus-fast\"}");
                fakeqmp_reply(F, CPUS_FAST);
        }
        go();
        is_int(qmp_cpu_unplug(Q, "cpu1", 300, &err), -1, "a guest that never ejects");
        is_int(err.code, ETIMEDOUT, "ETIMEDOUT");
        ok(strstr(err.msg, "did not eject the vCPU within 300 ms"), "message: %s", err.msg);
        end("unplug timeout");
}

static void test_balloon(void)
{
        struct qc_err err = { 0 };
        uint64_t actual = 0;
        char *path = NULL;
        struct qmp_balloon_stats st;
        int64_t interval = -1;

        begin();
        fakeqmp_expect(F, "{\"execute\": \"balloon\", \"arguments\": {\"value\": 536870912}}");
        fakeqmp_reply(F, "{}");
        fakeqmp_expect(F, "{\"execute\": \"query-balloon\"}");
        fakeqmp_reply(F, "{\"actual\": 268435456}");
        fakeqmp_expect(F, "{\"execute\": \"qom-list\", \"arguments\": {\"path\": \"/machine/peripheral\"}}");
        fakeqmp_reply(F, "[{\"name\": \"type\", \"type\": \"string\"}]");
        fakeqmp_expect(F, "{\"execute\": \"qom-list\", \"arguments\": {\"path\": \"/machine/peripheral-anon\"}}");
        fakeqmp_reply(F, "[{\"name\": \"type\", \"type\": \"string\"}, "
                         "{\"name\": \"device[0]\", \"type\": \"child<virtio-balloon-pci>\"}]");
        fakeqmp_expect(F, "{\"execute\": \"qom-set\", \"arguments\": {\"path\": \"/machine/peripheral-anon/device[0]\", "
                          "\"property\": \"guest-stats-polling-interval\", \"value\": 2}}");
        fakeqmp_reply(F, "{}");
        fakeqmp_expect(F, "{\"execute\": \"qom-get\", \"arguments\": {\"path\": \"/machine/peripheral-anon/device[0]\", "
                          "\"property\": \"guest-stats-polling-interval\"}}");
        fakeqmp_reply(F, "2");
        fakeqmp_expect(F, "{\"execute\": \"qom-get\", \"arguments\": {\"path\": \"/machine/peripheral-anon/device[0]\", "
                          "\"property\": \"guest-stats\"}}");
        fakeqmp_reply(F, "{\"stats\": {\"stat-free-memory\": " UNKNOWN_U64 ", \"stat-total-memory\": " UNKNOWN_U64
                         ", \"stat-swap-in\": " UNKNOWN_U64 "}, \"last-update\": 0}");
        fakeqmp_expect(F, "{\"execute\": \"qom-get\", \"arguments\": {\"path\": \"/machine/peripheral-anon/device[0]\", "
                          "\"property\": \"guest-stats\"}}");
        fakeqmp_reply(F, "{\"stats\": {\"stat-free-memory\": 123456789, \"stat-total-memory\": 18446744073709551614, "
                         "\"stat-swap-in\": 0, \"stat-htlb-pgfail\": " UNKNOWN_U64 "}, \"last-update\": 1700000000}");
        fakeqmp_expect(F, "{\"execute\": \"qom-list\", \"arguments\": {\"path\": \"/machine/peripheral\"}}");
        fakeqmp_reply(F, "[]");
        fakeqmp_expect(F, "{\"execute\": \"qom-list\", \"arguments\": {\"path\": \"/machine/peripheral-anon\"}}");
        fakeqmp_reply(F, "[]");
        fakeqmp_expect(F, "{\"execute\": \"balloon\", \"arguments\": {\"value\": 1048576}}");
        fakeqmp_error(F, "DeviceNotActive", "No balloon device has been activated");
        go();
        is_int(qmp_balloon(Q, 512ull << 20, &err), 0, "balloon 512M in bytes");
        is_int(qmp_query_balloon(Q, &actual, &err), 0, "query-balloon");
        is_int(actual, 256ull << 20, "actual");
        is_int(qmp_balloon_find(Q, &path, &err), 0, "find the balloon device");
        is_str(path, "/machine/peripheral-anon/device[0]", "in peripheral-anon");
        is_int(qmp_balloon_set_stats_interval(Q, path, 2, &err), 0, "stats polling interval");
        is_int(qmp_balloon_get_stats_interval(Q, path, &interval, &err), 0, "read the polling interval back");
        is_int(interval, 2, "2 s");
        is_int(qmp_balloon_get_stats(Q, path, &st, &err), 0, "guest stats without a driver");
        ok(!st.known[QMP_BALLOON_STAT_FREE_MEMORY] && !st.known[QMP_BALLOON_STAT_TOTAL_MEMORY] &&
                   !st.known[QMP_BALLOON_STAT_DISK_CACHES],
           "u64 -1 and missing stats are unknown");
        is_int(st.last_update, 0, "never updated");
        is_int(qmp_balloon_get_stats(Q, path, &st, &err), 0, "guest stats with a driver");
        ok(st.known[QMP_BALLOON_STAT_FREE_MEMORY] && st.value[QMP_BALLOON_STAT_FREE_MEMORY] == 123456789, "free memory");
        ok(st.known[QMP_BALLOON_STAT_TOTAL_MEMORY] && st.value[QMP_BALLOON_STAT_TOTAL_MEMORY] == UINT64_MAX - 1,
           "a large u64 that is not -1 is a number");
        ok(st.known[QMP_BALLOON_STAT_SWAP_IN] && st.value[QMP_BALLOON_STAT_SWAP_IN] == 0, "zero is known");
        ok(!st.known[QMP_BALLOON_STAT_HTLB_PGFAIL], "-1 is unknown");
        is_int(st.last_update, 1700000000, "last update");
        free(path);
        path = (char *)"untouched";
        is_int(qmp_balloon_find(Q, &path, &err), -1, "no balloon device");
        is_int(err.code, ENODEV, "ENODEV");
        is_str(path, "untouched", "output untouched");
        is_int(qmp_balloon(Q, 1 << 20, &err), -1, "balloon without an active driver");
        is_int(err.code, ENXIO, "DeviceNotActive is ENXIO");
        is_str(err.msg, "balloon: DeviceNotActive: No balloon device has been activated", "message");
        end("balloon");

        is_str(qmp_balloon_stat_to_string(QMP_BALLOON_STAT_DISK_CACHES), "stat-disk-caches", "stat names");
        is_int(qmp_balloon_stat_from_string("stat-swap-out"), QMP_BALLOON_STAT_SWAP_OUT, "stat from name");
        is_int(qmp_balloon_stat_from_string("stat-nope"), _QMP_BALLOON_STAT_INVALID, "unknown name");
}

static void test_memory(void)
{
        struct qc_err err = { 0 };
        struct qmp_memory_summary sum;
        struct qmp_memory_device_list *devs = NULL;
        struct qmp_dimm d = { .id = "dimm1", .size = 128ull << 20, .node = 1 };
        json_object *props = json_tokener_parse("{\"mem-path\": \"/dev/hugepages\", \"share\": true}");
        struct qmp_dimm d2 = { .id = "dimm2", .size = 128ull << 20, .node = -1, .backend = "memory-backend-file",
                               .props = props };

        begin();
        fakeqmp_expect(F, "{\"execute\": \"query-memory-size-summary\"}");
        fakeqmp_reply(F, "{\"base-memory\": 268435456, \"plugged-memory\": 134217728}");
        fakeqmp_expect(F, "{\"execute\": \"query-memory-devices\"}");
        fakeqmp_reply(F, "[{\"type\": \"dimm\", \"data\": {\"memdev\": \"/objects/mem-dimm1\", \"hotplugged\": true, "
                         "\"addr\": 4294967296, \"hotpluggable\": true, \"size\": 134217728, \"slot\": 0, \"node\": 0, "
                         "\"id\": \"dimm1\"}}, {\"type\": \"virtio-mem\", \"data\": {\"memaddr\": 8589934592, "
                         "\"node\": 1, \"requested-size\": 268435456, \"size\": 134217728, \"max-size\": 1073741824, "
                         "\"block-size\": 2097152, \"memdev\": \"/objects/vmem0\", \"id\": \"vm0\"}}]");
        fakeqmp_expect(F, "{\"execute\": \"object-add\", \"arguments\": {\"qom-type\": \"memory-backend-ram\", "
                          "\"id\": \"mem-dimm1\", \"size\": 134217728}}");
        fakeqmp_reply(F, "{}");
        fakeqmp_expect(F, "{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"pc-dimm\", \"id\": \"dimm1\", "
                          "\"memdev\": \"mem-dimm1\", \"node\": 1}}");
        fakeqmp_reply(F, "{}");
        fakeqmp_expect(F, "{\"execute\": \"object-add\", \"arguments\": {\"qom-type\": \"memory-backend-file\", "
                          "\"id\": \"mem-dimm2\", \"size\": 134217728, \"mem-path\": \"/dev/hugepages\", "
                          "\"share\": true}}");
        fakeqmp_reply(F, "{}");
        fakeqmp_expect(F, "{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"pc-dimm\", \"id\": \"dimm2\", "
                          "\"memdev\": \"mem-dimm2\"}}");
        fakeqmp_error(F, "GenericError", "a used vhost backend has no free memory slots left");
        fakeqmp_expect(F, "{\"execute\": \"object-del\", \"arguments\": {\"id\": \"mem-dimm2\"}}");
        fakeqmp_reply(F, "{}");
        fakeqmp_expect(F, "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"dimm1\"}}");
        fakeqmp_reply(F, "{}");
        fakeqmp_send(F, "{\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": \"dimm1\", "
                        "\"path\": \"/machine/peripheral/dimm1\"}}");
        fakeqmp_expect(F, "{\"execute\": \"object-del\", \"arguments\": {\"id\": \"mem-dimm1\"}}");
        fakeqmp_reply(F, "{}");
        fakeqmp_expect(F, "{\"execute\": \"qom-set\", \"arguments\": {\"path\": \"/machine/peripheral/vm0\", "
                          "\"property\": \"requested-size\", \"value\": 536870912}}");
        fakeqmp_reply(F, "{}");
        go();
        is_int(qmp_query_memory_size_summary(Q, &sum, &err), 0, "query-memory-size-summary");
        ok(sum.base_memory == 256ull << 20 && sum.has_plugged_memory && sum.plugged_memory == 128ull << 20, "sizes");
        is_int(qmp_query_memory_devices(Q, &devs, &err), 0, "query-memory-devices");
        if (devs && devs->n == 2) {
                struct qmp_memory_device *a = &devs->devs[0], *b = &devs->devs[1];
                is_str(a->type, "dimm", "dimm");
                is_str(a->id, "dimm1", "id");
                is_str(a->memdev, "/objects/mem-dimm1", "memdev");
                ok(a->addr == 4ull << 30 && a->size == 128ull << 20 && a->slot == 0 && a->node == 0 &&
                           a->hotplugged && a->hotpluggable,
                   "dimm fields");
                is_str(b->type, "virtio-mem", "virtio-mem");
                ok(b->addr == 8ull << 30 && b->requested_size == 256ull << 20 && b->size == 128ull << 20 &&
                           b->max_size == 1ull << 30 && b->block_size == 2ull << 20 && b->slot == -1 && b->node == 1,
                   "virtio-mem fields (memaddr as addr)");
        } else {
                ok(0, "two devices");
        }
        qmp_memory_device_list_free(devs);
        is_int(qmp_dimm_plug(Q, &d, &err), 0, "plug a DIMM: backend, then pc-dimm");
        is_int(qmp_dimm_plug(Q, &d2, &err), -1, "a failing device_add");
        json_object_put(props);
        is_str(err.msg, "device_add: GenericError: a used vhost backend has no free memory slots left",
               "reports device_add's error (and removed the backend)");
        is_int(qmp_dimm_unplug(Q, "dimm1", 2000, &err), 0, "unplug a DIMM: device_del, DEVICE_DELETED, object-del");
        is_int(qmp_virtio_mem_resize(Q, "vm0", 512ull << 20, &err), 0, "virtio-mem requested-size");
        end("memory");
}

static void test_qom_hmp(void)
{
        struct qc_err err = { 0 };
        json_object *v = NULL;
        struct qmp_qom_prop_list *l = NULL;
        char *out = NULL;

        begin();
        fakeqmp_expect(F, "{\"execute\": \"qom-get\", \"arguments\": {\"path\": \"/machine\", \"property\": \"type\"}}");
        fakeqmp_reply(F, "\"pc-q35-7.2-machine\"");
        fakeqmp_expect(F, "{\"execute\": \"qom-set\", \"arguments\": {\"path\": \"/machine/peripheral/balloon0\", "
                          "\"property\": \"guest-stats-polling-interval\", \"value\": 5}}");
        fakeqmp_error(F, "GenericError", "timer value must be greater than zero");
        fakeqmp_expect(F, "{\"execute\": \"qom-list\", \"arguments\": {\"path\": \"/machine/peripheral\"}}");
        fakeqmp_reply(F, "[{\"name\": \"type\", \"type\": \"string\"}, "
                         "{\"name\": \"balloon0\", \"type\": \"child<virtio-balloon-pci>\"}]");
        fakeqmp_expect(F, "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info balloon\"}}");
        fakeqmp_reply(F, "\"balloon: actual=256\\r\\n\"");
        go();
        is_int(qmp_qom_get(Q, "/machine", "type", &v, &err), 0, "qom-get");
        is_str(json_object_get_string(v), "pc-q35-7.2-machine", "value");
        json_object_put(v);
        is_int(qmp_qom_set(Q, "/machine/peripheral/balloon0", "guest-stats-polling-interval", json_object_new_int(5),
                           &err), -1, "qom-set error");
        is_str(err.msg, "/machine/peripheral/balloon0 guest-stats-polling-interval: qom-set: GenericError: timer "
                        "value must be greater than zero", "names path and property");
        is_int(qmp_qom_list(Q, "/machine/peripheral", &l, &err), 0, "qom-list");
        ok(l && l->n == 2 && strcmp(l->props[1].name, "balloon0") == 0 &&
                   strcmp(l->props[1].type, "child<virtio-balloon-pci>") == 0,
           "entries");
        qmp_qom_prop_list_free(l);
        is_int(qmp_hmp(Q, "info balloon", &out, &err), 0, "human-monitor-command");
        is_str(out, "balloon: actual=256\r\n", "HMP text");
        free(out);
        end("qom and hmp");
}

int main(void)
{
        signal(SIGPIPE, SIG_IGN);
        test_run_state();
        test_cpus_legacy();
        test_hotplug_method();
        test_cpus();
        test_cpu_unplug();
        test_balloon();
        test_memory();
        test_qom_hmp();
        return tap_done();
}
