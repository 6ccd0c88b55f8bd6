/* vm/ against a real QEMU (TCG) running the test guest: setvcpus up and down
 * with the guest confirming, vcpuinfo's threads, balloon, memstat, setmem
 * with DIMMs. The CLI-level tests (lock, state dir) are
 * tests/integration/live-*.sh. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/io.h"
#include "qmp/qmp.h"
#include "tests/lib/guest.h"
#include "tests/tap.h"
#include "vm/vm.h"

#define MiB (1ull << 20)
#define ASK_MS 60000

struct recorder {
        unsigned calls;
        unsigned last_vcpus;
        uint64_t last_plugged;
};

static int record(void *userdata, const struct vm_spec *spec, struct qc_err *err)
{
        struct recorder *r = userdata;

        r->calls++;
        r->last_vcpus = spec->cpu.vcpus;
        r->last_plugged = spec->memory.plugged;
        return 0;
}

/* The guest onlines hotplugged CPUs from a uevent; wait until it counts n. */
static long long guest_wait_cpus(struct guest_vm *g, long long n)
{
        long long got = -1;
        int64_t deadline = now_ms() + ASK_MS;

        do {
                struct qc_err err = { 0 };

                if (guest_ask_number(g->ask_sock, "cpus", "cpus-online", ASK_MS, &got, &err) < 0)
                        return -1;
                if (got == n)
                        break;
                usleep(200000);
        } while (now_ms() < deadline);
        return got;
}

static long long guest_memtotal_kb(struct guest_vm *g, int timeout_ms)
{
        long long kb = -1;
        struct qc_err err = { 0 };

        if (guest_ask_number(g->ask_sock, "memtotal", "memtotal-kb", timeout_ms, &kb, &err) < 0)
                tap_diag("memtotal: %s", err.msg);
        return kb;
}

/* balloon returns within 1% of the target; the guest's driver goes on to
 * it. What the guest reports (MemTotal, the balloon's statistics) moves
 * until then: wait for actual == target before comparing them. */
static uint64_t balloon_settle(struct vm_live *vm, uint64_t target)
{
        uint64_t actual = 0;

        for (int64_t deadline = now_ms() + 120000; now_ms() < deadline; usleep(200000)) {
                struct qc_err err = { 0 };

                if (vm_balloon_query(vm, &actual, &err) < 0 || actual == target)
                        break;
        }
        return actual;
}

static void show_console(struct guest_vm *g)
{
        _cleanup_free_ char *log = NULL;
        size_t len = 0;

        if (read_file(g->serial_log, 0, &log, &len) < 0)
                return;
        tap_diag("guest console (last 3000 bytes):\n%s", len > 3000 ? log + len - 3000 : log);
        _cleanup_free_ char *qlog = NULL, *qpath = NULL;
        if (asprintf(&qpath, "%s/qemu.log", g->dir) > 0 && read_file(qpath, 0, &qlog, &len) == 0)
                tap_diag("QEMU's stderr:\n%s", qlog);
}

static void test_cpus(struct vm_live *vm, struct guest_vm *g, struct recorder *rec)
{
        struct qc_err err = { 0 };
        struct vm_vcpu_info *v = NULL;
        size_t n = 0;

        is_int(vm_setvcpus(vm, 3, NULL, NULL, &err), 0, "setvcpus 1 -> 3: %s", err.msg);
        is_int(vm->spec->cpu.vcpus, 3, "spec says 3");
        is_int(rec->last_vcpus, 3, "recorded 3");
        ok(rec->calls >= 2, "recorded after each vCPU (%u records)", rec->calls);
        is_int(guest_wait_cpus(g, 3), 3, "guest reports 3 online");

        is_int(vm_vcpuinfo(vm, &v, &n, &err), 0, "vcpuinfo: %s", err.msg);
        is_int(n, 3, "3 vCPUs listed");
        for (size_t i = 0; i < n; i++) {
                ok(v[i].vcpu == i, "vCPU %zu in order", i);
                ok(v[i].tid > 0 && v[i].tid != g->pid, "vCPU %zu has its own thread %d", i, (int)v[i].tid);
                ok(v[i].host_ok && v[i].stat.last_cpu >= 0 && cpuset_count(&v[i].affinity) >= 1,
                   "vCPU %zu host facts: state %c, cpu %d", i, v[i].stat.state, v[i].stat.last_cpu);
        }
        ok(n == 3 && v[2].qom_path && strcmp(v[2].qom_path, "/machine/peripheral/vcpu2") == 0,
           "plugged vCPU 2 has id vcpu2 (%s)", n == 3 && v[2].qom_path ? v[2].qom_path : "?");
        vm_vcpu_infos_free(v, n);

        rec->calls = 0;
        is_int(vm_setvcpus(vm, 2, NULL, NULL, &err), 0, "setvcpus 3 -> 2 completes: %s", err.msg);
        is_int(rec->last_vcpus, 2, "recorded 2");
        is_int(guest_wait_cpus(g, 2), 2, "guest reports 2 online");
        v = NULL;
        is_int(vm_vcpuinfo(vm, &v, &n, &err), 0, "vcpuinfo after unplug");
        ok(n == 2 && v[0].vcpu == 0 && v[1].vcpu == 1, "vCPUs 0 and 1 left (highest went first)");
        vm_vcpu_infos_free(v, n);

        rec->calls = 0;
        is_int(vm_setvcpus(vm, 5, NULL, NULL, &err), -1, "5 > max 4 refused");
        ok(strstr(err.msg, "maximum is 4") != NULL, "names the limit: %s", err.msg);
        is_int(rec->calls, 0, "nothing recorded when refused");
        is_int(vm_setvcpus(vm, 0, NULL, NULL, &err), -1, "0 refused: %s", err.msg);
}

static void test_memory(struct vm_live *vm, struct guest_vm *g, struct recorder *rec)
{
        struct qc_err err = { 0 };
        struct vm_memstat m;
        uint64_t actual = 0;
        long long kb0, kb;

        is_int(vm_balloon_query(vm, &actual, &err), 0, "balloon query: %s", err.msg);
        is_int(actual, 512 * MiB, "balloon actual = 512M");
        kb0 = guest_memtotal_kb(g, ASK_MS);
        ok(kb0 > 0, "guest MemTotal %lld kB", kb0);

        is_int(vm_balloon_set(vm, 256 * MiB, 120000, &actual, &err), 1, "balloon 512M -> 256M arrives: %s", err.msg);
        ok(vm_balloon_arrived(actual, 256 * MiB), "actual %llu within 1%%", (unsigned long long)actual);
        is_int(balloon_settle(vm, 256 * MiB), 256 * MiB, "the guest's driver settles at 256M");
        kb = guest_memtotal_kb(g, ASK_MS);
        ok(kb > 0 && kb <= kb0 - 200 * 1024, "guest MemTotal follows (%lld -> %lld kB)", kb0, kb);
        ok(vm_balloon_set(vm, 4096 * MiB, 1000, &actual, &err) < 0, "balloon above memory refused: %s", err.msg);

        rec->calls = 0;
        is_int(vm_memstat(vm, &m, &err), 0, "memstat: %s", err.msg);
        ok(m.has_balloon && vm_balloon_arrived(m.balloon_actual, 256 * MiB), "memstat balloon actual");
        ok(m.has_guest_stats, "memstat has guest stats");
        /* the driver sent one set at boot; memstat must ask for new ones */
        is_int(m.guest.total_memory, (uint64_t)kb * 1024, "guest total memory is today's MemTotal, not boot's");
        ok(m.guest.last_update > 0 && m.guest.last_update >= time(NULL) - 5, "last_update is recent (%lld)",
           (long long)m.guest.last_update);
        is_int(rec->calls, 0, "memstat records nothing");
        is_int(vm->spec->memory.balloon_stats_interval, 0, "the spec's stats_interval stays as written");
        ok(m.guest.free_memory != VM_UNKNOWN, "guest free memory known");
        is_int(m.base_memory, 512 * MiB, "base memory 512M");
        ok(m.host_rss > 10 * MiB, "host RSS of QEMU %llu", (unsigned long long)m.host_rss);
        is_int(vm_balloon_set(vm, 512 * MiB, 120000, &actual, &err), 1, "balloon back to 512M: %s", err.msg);

        kb0 = guest_memtotal_kb(g, ASK_MS);
        rec->calls = 0;
        is_int(vm_setmem(vm, 768 * MiB, &err), 0, "setmem 512M -> 768M: %s", err.msg);
        is_int(vm->spec->memory.plugged, 256 * MiB, "spec plugged 256M");
        is_int(rec->last_plugged, 256 * MiB, "recorded plugged 256M");
        kb = -1;
        for (int64_t deadline = now_ms() + 120000; now_ms() < deadline;) {
                kb = guest_memtotal_kb(g, 10000);
                if (kb >= kb0 + 250 * 1024)
                        break;
                usleep(500000);
        }
        if (!ok(kb >= kb0 + 250 * 1024, "guest sees +256M (%lld -> %lld kB)", kb0, kb))
                show_console(g);
        is_int(vm_memstat(vm, &m, &err), 0, "memstat after setmem");
        is_int(m.plugged_memory, 256 * MiB, "memstat plugged 256M");

        ok(vm_setmem(vm, 4096 * MiB, &err) < 0 && strstr(err.msg, "maximum"), "past memory.max: %s", err.msg);
        ok(vm_setmem(vm, 800 * MiB, &err) < 0 && strstr(err.msg, "128M"), "unaligned refused: %s", err.msg);
        ok(vm_setmem(vm, 256 * MiB, &err) < 0 && strstr(err.msg, "boot memory"), "below boot refused: %s",
           err.msg);
}

/* A second guest with a virtio-mem device as launcher/cmdline.c makes it
 * (id vmem0 over backend mem-vmem0): setmem sets requested-size and waits
 * for the guest's driver. */
static void test_virtio_mem(void)
{
        const char *args[] = { "-m", "512M,maxmem=1G", "-object", "memory-backend-ram,id=mem-vmem0,size=512M",
                               "-device", "virtio-mem-pci,id=vmem0,memdev=mem-vmem0,requested-size=0", NULL };
        struct guest_vm g = { 0 };
        struct qc_err err = { 0 };
        struct qmp *q = NULL;
        struct recorder rec = { 0 };
        struct vm_spec spec = { 0 };
        long long kb0, kb = -1;

        if (guest_vm_start(args, NULL, &g, &err) < 0 || guest_vm_wait_ready(&g, 180000, &err) < 0 ||
            qmp_connect(g.qmp_sock, 30000, &q, &err) < 0) {
                ok(0, "virtio-mem guest boots: %s", err.msg);
                guest_vm_stop(&g);
                return;
        }
        spec.cpu.vcpus = spec.cpu.max = 1;
        spec.memory.size = 512 * MiB;
        spec.memory.max = 1024 * MiB;
        spec.memory.hotplug = VM_MEM_HOTPLUG_VIRTIO_MEM;
        struct vm_live vm = { .qmp = q, .qemu_pid = g.pid, .spec = &spec, .record = record, .userdata = &rec,
                              .step_timeout_ms = 120000 };
        kb0 = guest_memtotal_kb(&g, ASK_MS);
        is_int(vm_setmem(&vm, 768 * MiB, &err), 0, "virtio-mem: setmem 512M -> 768M: %s", err.msg);
        is_int(rec.last_plugged, 256 * MiB, "virtio-mem: recorded 256M plugged");
        for (int64_t deadline = now_ms() + 120000; now_ms() < deadline;) {
                kb = guest_memtotal_kb(&g, 10000);
                if (kb >= kb0 + 250 * 1024)
                        break;
                usleep(500000);
        }
        if (!ok(kb >= kb0 + 250 * 1024, "virtio-mem: guest sees +256M (%lld -> %lld kB)", kb0, kb))
                show_console(&g);
        ok(vm_setmem(&vm, 769 * MiB, &err) < 0 && strstr(err.msg, "blocks of"), "virtio-mem: off-block refused: %s",
           err.msg);
        qmp_free(q);
        guest_vm_stop(&g);
}

int main(void)
{
        const char *reason = NULL;
        struct guest_vm g = { 0 };
        struct qc_err err = { 0 };
        _cleanup_qmp_ struct qmp *q = NULL;
        struct recorder rec = { 0 };
        struct vm_spec spec = { 0 };
        const char *args[] = { "-smp",   "1,maxcpus=4,sockets=1,cores=4,threads=1",
                               "-m",     "512M,slots=2,maxmem=2G",
                               "-device", "virtio-balloon-pci,id=balloon0",
                               NULL };

        if (!guest_dir(&reason))
                tap_skip_all("%s", reason);
        if (guest_vm_start(args, "loglevel=4", &g, &err) < 0)
                tap_skip_all("cannot start QEMU: %s", err.msg);
        if (guest_vm_wait_ready(&g, 180000, &err) < 0) {
                ok(0, "guest boots: %s", err.msg);
                guest_vm_stop(&g);
                return tap_done();
        }
        if (qmp_connect(g.qmp_sock, 30000, &q, &err) < 0) {
                ok(0, "QMP connect: %s", err.msg);
                guest_vm_stop(&g);
                return tap_done();
        }
        spec.cpu.vcpus = 1;
        spec.cpu.max = 4;
        spec.memory.size = 512 * MiB;
        spec.memory.max = 2048 * MiB;
        spec.memory.slots = 2;
        spec.memory.hotplug = VM_MEM_HOTPLUG_DIMM;
        spec.memory.balloon = true;
        struct vm_live vm = {
                .qmp = q, .qemu_pid = g.pid, .spec = &spec, .record = record, .userdata = &rec,
                .step_timeout_ms = 60000,
        };
        /* memory first: QEMU 7.2 under TCG aborts (heap corruption) on a
         * memory hotplug that follows a vCPU unplug */
        test_memory(&vm, &g, &rec);
        test_cpus(&vm, &g, &rec);
        guest_vm_stop(&g);
        test_virtio_mem();
        return tap_done();
}
