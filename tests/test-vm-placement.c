/* vm/ placement (vcpupin, emulatorpin, memtune, numatune, numastat): the
 * numa_maps parser, host CPU checks against a fake /sys, and the cgroup
 * writes against a fake cgroupfs tree, with vCPU thread ids from a scripted
 * fake QMP server naming a real thread of this test, whose affinity is
 * really set. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroups/cgroups-internal.h"
#include "tests/lib/fakecg.h"
#include "common/cleanup.h"
#include "common/io.h"
#include "launcher/spec.h"
#include "qmp/qmp.h"
#include "tap.h"
#include "tests/lib/fakeqmp-tap.h"
#include "vm/vm-placement.h"

static char root[256];  /* fake cgroupfs */
static char sysroot[300]; /* fake /sys */

static void put(const char *rel, const char *text)
{
        char path[600];

        snprintf(path, sizeof path, "%s/%s", root, rel);
        if (write_file(path, text, 0644) < 0) {
                printf("# cannot write %s\n", path);
                exit(1);
        }
}

/* The whole text of a file of the fake tree ("" when absent). */
static char *get(const char *rel)
{
        static char buf[4096];
        char path[600], *text = NULL;

        snprintf(path, sizeof path, "%s/%s", root, rel);
        buf[0] = '\0';
        if (read_file(path, 0, &text, NULL) == 0) {
                snprintf(buf, sizeof buf, "%s", text);
                free(text);
        }
        return buf;
}

static void test_numastat(void)
{
        static const char maps[] =
                "55d0c0a4c000 default file=/usr/bin/qemu-system-x86_64 mapped=900 mapmax=2 N0=900 kernelpagesize_kB=4\n"
                "55d0c1000000 default heap anon=1010 dirty=1010 N0=1000 N1=10 kernelpagesize_kB=4\n"
                "7f1c00000000 bind:1 anon=65536 dirty=65536 N1=65536 kernelpagesize_kB=4\n"
                "7f1d00000000 default\n"
                "7f2000000000 bind:0 file=/dev/hugepages/qemu_back_mem.XYZ huge dirty=256 N0=200 N1=56 kernelpagesize_kB=2048\n"
                "7f3000000000 default file=/tmp/huge/stack-file mapped=2 N0=2 kernelpagesize_kB=4\n"
                "7ffd6d5e1000 default stack anon=9 dirty=9 N0=9 kernelpagesize_kB=4\n"
                "7ffd6d700000 default stack:1234 anon=3 dirty=3 N3=3 kernelpagesize_kB=4\n";
        struct vm_numastat s = { 0 };
        struct qc_err e = { 0 };

        is_int(vm_numastat_parse(maps, &s, &e), 0, "numa_maps parses");
        is_int(s.n_nodes, 4, "nodes 0..3 (the highest named is N3)");
        is_int(vm_numastat_get(&s, VM_NUMASTAT_HUGE, 0), 200ull * 2048 * 1024, "Huge on node 0: 200 2M pages");
        is_int(vm_numastat_get(&s, VM_NUMASTAT_HUGE, 1), 56ull * 2048 * 1024, "Huge on node 1: 56 2M pages");
        is_int(vm_numastat_get(&s, VM_NUMASTAT_HEAP, 0), 1000ull * 4096, "Heap on node 0");
        is_int(vm_numastat_get(&s, VM_NUMASTAT_HEAP, 1), 10ull * 4096, "Heap on node 1");
        is_int(vm_numastat_get(&s, VM_NUMASTAT_STACK, 0), 9ull * 4096, "Stack on node 0");
        is_int(vm_numastat_get(&s, VM_NUMASTAT_STACK, 3), 3ull * 4096, "a thread's stack:TID counts as Stack (node 3)");
        is_int(vm_numastat_get(&s, VM_NUMASTAT_PRIVATE, 0), (900ull + 2) * 4096,
               "Private on node 0: the binary and a file whose path says huge/stack (tokens, not substrings)");
        is_int(vm_numastat_get(&s, VM_NUMASTAT_PRIVATE, 1), 65536ull * 4096, "Private on node 1: guest RAM");
        is_int(vm_numastat_get(&s, VM_NUMASTAT_PRIVATE, 2), 0, "node 2: nothing");
        is_int(vm_numastat_get(&s, VM_NUMASTAT_PRIVATE, 9), 0, "a node past the last: 0");
        vm_numastat_done(&s);

        is_int(vm_numastat_parse("", &s, &e), 0, "empty numa_maps parses");
        is_int(s.n_nodes, 0, "no nodes");
        vm_numastat_done(&s);
        is_int(vm_numastat_parse("7f00 default N0=x kernelpagesize_kB=4\n", &s, &e), -1, "bad count refused");
        ok(strstr(e.msg, "line 1") && strstr(e.msg, "N0=x"), "names line and token: %s", e.msg);
        is_int(vm_numastat_parse("7f00 default N0=1\n7f01 default N0=1 kernelpagesize_kB=0\n", &s, &e), -1,
               "page size 0 refused");
        ok(strstr(e.msg, "line 2"), "names line 2: %s", e.msg);
        is_int(vm_numastat_parse("7f00 default N99999=1\n", &s, &e), -1, "absurd node refused");

        /* this process, for real */
        is_int(vm_numastat_read(getpid(), &s, &e), 0, "read /proc/self's numa_maps: %s", e.msg);
        ok(s.n_nodes >= 1 && vm_numastat_get(&s, VM_NUMASTAT_PRIVATE, 0) + vm_numastat_get(&s, VM_NUMASTAT_HEAP, 0) +
                                         vm_numastat_get(&s, VM_NUMASTAT_PRIVATE, s.n_nodes - 1) >
                                 0,
           "this process has memory on some node");
        vm_numastat_done(&s);
        is_int(vm_numastat_read(999999999, &s, &e), -1, "no such process");
        ok(strstr(e.msg, "/proc/999999999/numa_maps"), "says which file: %s", e.msg);
        is_str(vm_numastat_cat_to_string(VM_NUMASTAT_PRIVATE), "Private", "category names as numastat");
}

static void test_cpus(void)
{
        char path[600];
        struct cpuset online, want;
        struct qc_err e = { 0 };
        size_t pos;

        snprintf(path, sizeof path, "%s/sys/devices/system/cpu", sysroot);
        mkdir_p(path, 0755);
        snprintf(path, sizeof path, "%s/sys/devices/system/cpu/online", sysroot);
        write_file(path, "0-1\n", 0644);
        is_int(vm_host_online_cpus(sysroot, &online, &e), 0, "online CPUs from a fake /sys");
        is_int(cpuset_count(&online), 2, "0-1");
        cpuset_parse("1", &want, &pos);
        is_int(vm_check_cpus(&want, &online, &e), 0, "CPU 1 is online");
        cpuset_parse("0,9", &want, &pos);
        is_int(vm_check_cpus(&want, &online, &e), -1, "CPU 9 is not");
        is_str(e.msg, "CPU 9 does not exist on this host (online: 0-1)", "the message names it and what is online");
        is_int(vm_host_online_cpus("/nonexistent", &online, &e), -1, "no /sys: an error");
        is_int(vm_host_online_cpus("", &online, &e), 0, "this host's online CPUs");
}

static int n_records;
static int record_cb(void *ud, const struct vm_spec *spec, struct qc_err *err)
{
        n_records++;
        return 0;
}

static struct vm_spec *new_spec(unsigned vcpus, unsigned max)
{
        struct vm_spec *s = calloc(1, sizeof *s);

        s->name = strdup("vm1");
        s->cpu.vcpus = vcpus;
        s->cpu.max = max;
        s->numa.policy = VM_NUMA_STRICT;
        return s;
}

static void test_memtune(struct cg_hier *h)
{
        struct cg_vm *cg = NULL;
        struct vm_spec *spec = new_spec(1, 1);
        struct vm_live live = { .spec = spec, .record = record_cb };
        struct vm_placement p = { .live = &live, .hier = h };
        struct vm_memtune m = { 0 }, got;
        struct qc_err e = { 0 };
        bool from_cg = true;

        if (cg_vm_create(h, "qemuctl", "mt", CG_MASK(CG_MEMORY) | CG_MASK(CG_CPUSET), 1, &cg, &e) < 0) {
                ok(0, "fake VM cgroup: %s", e.msg);
                return;
        }
        live.cg = cg;

        /* no memory controller: refused with the controller and the reason */
        p.usable = CG_MASK(CG_CPUSET);
        m.set[VM_MEMTUNE_HARD] = true;
        m.value[VM_MEMTUNE_HARD] = 2ull << 30;
        n_records = 0;
        is_int(vm_memtune_set(&p, &m, &e), -1, "memtune without the memory controller is refused");
        ok(strstr(e.msg, "hard (memory.max) needs the cgroup v2 \"memory\" controller") &&
                   strstr(e.msg, root),
           "names the limit, the controller and the hierarchy: %s", e.msg);
        is_str(get("qemuctl/mt/memory.max"), "", "nothing written");
        is_int(n_records, 0, "nothing recorded");
        is_int(spec->memory.hard_limit, 0, "spec untouched");
        is_int(vm_memtune_get(&p, &got, &from_cg, &e), 0, "show falls back to the record");
        ok(!from_cg && got.value[VM_MEMTUNE_HARD] == VM_MEMTUNE_UNLIMITED && got.value[VM_MEMTUNE_MIN] == 0,
           "recorded: unlimited, min 0");

        /* with it: exact writes, guarantee and throttle before the cap */
        p.usable = CG_MASK(CG_CPUSET) | CG_MASK(CG_MEMORY);
        m = (struct vm_memtune){ 0 };
        m.set[VM_MEMTUNE_HARD] = m.set[VM_MEMTUNE_SOFT] = m.set[VM_MEMTUNE_SWAP] = m.set[VM_MEMTUNE_MIN] = true;
        m.value[VM_MEMTUNE_HARD] = 2ull << 30;
        m.value[VM_MEMTUNE_SOFT] = 1536ull << 20;
        m.value[VM_MEMTUNE_SWAP] = 0;
        m.value[VM_MEMTUNE_MIN] = 512ull << 20;
        is_int(vm_memtune_set(&p, &m, &e), 0, "memtune all four: %s", e.msg);
        is_str(get("qemuctl/mt/memory.max"), "2147483648\n", "hard → memory.max");
        is_str(get("qemuctl/mt/memory.high"), "1610612736\n", "soft → memory.high");
        is_str(get("qemuctl/mt/memory.swap.max"), "0\n", "swap 0 → memory.swap.max 0 (no swap, not 'unset')");
        is_str(get("qemuctl/mt/memory.min"), "536870912\n", "min → memory.min");
        is_int(n_records, 1, "recorded once");
        ok(spec->memory.hard_limit == 2ull << 30 && spec->memory.soft_limit == 1536ull << 20 &&
                   spec->memory.min_guarantee == 512ull << 20 && spec->memory.swap_limit == 0 &&
                   spec->memory.swap_limit_set,
           "the spec has all four (swap 0 as set)");

        /* read back what the kernel would show */
        put("qemuctl/mt/memory.max", "2147483648\n");
        put("qemuctl/mt/memory.high", "max\n");
        put("qemuctl/mt/memory.swap.max", "0\n");
        put("qemuctl/mt/memory.min", "536870912\n");
        is_int(vm_memtune_get(&p, &got, &from_cg, &e), 0, "show reads the cgroup");
        ok(from_cg && got.value[VM_MEMTUNE_HARD] == 2ull << 30 && got.value[VM_MEMTUNE_SOFT] == VM_MEMTUNE_UNLIMITED &&
                   got.value[VM_MEMTUNE_SWAP] == 0 && got.value[VM_MEMTUNE_MIN] == 512ull << 20,
           "values in force, \"max\" as unlimited");

        /* soft above hard is allowed (libvirt too); min above hard is not */
        m = (struct vm_memtune){ 0 };
        m.set[VM_MEMTUNE_SOFT] = true;
        m.value[VM_MEMTUNE_SOFT] = 3ull << 30;
        is_int(vm_memtune_set(&p, &m, &e), 0, "soft above the hard limit in force is taken");
        is_str(get("qemuctl/mt/memory.high"), "max\n3221225472\n", "memory.high written");
        put("qemuctl/mt/memory.high", "max\n");
        m = (struct vm_memtune){ 0 };
        m.set[VM_MEMTUNE_HARD] = true;
        m.value[VM_MEMTUNE_HARD] = 256ull << 20;
        is_int(vm_memtune_set(&p, &m, &e), -1, "hard below the min guarantee in force refused");
        ok(strstr(e.msg, "min guarantee 512M is above the hard limit 256M"), "says which: %s", e.msg);
        is_str(get("qemuctl/mt/memory.max"), "2147483648\n", "memory.max untouched");

        /* unlimited: "max", and unset in the spec */
        m.value[VM_MEMTUNE_HARD] = VM_MEMTUNE_UNLIMITED;
        put("qemuctl/mt/memory.max", "");
        is_int(vm_memtune_set(&p, &m, &e), 0, "hard unlimited: %s", e.msg);
        is_str(get("qemuctl/mt/memory.max"), "max\n", "written as max");
        is_int(spec->memory.hard_limit, 0, "unset in the spec");

        /* virsh's swap_hard_limit is memory + swap: swap = total - hard */
        put("qemuctl/mt/memory.max", "1073741824\n");
        put("qemuctl/mt/memory.swap.max", "");
        m = (struct vm_memtune){ 0 };
        m.swap_total_set = true;
        m.swap_total = 1280ull << 20;
        is_int(vm_memtune_set(&p, &m, &e), 0, "swap_hard_limit 1280M with hard 1G in force: %s", e.msg);
        is_str(get("qemuctl/mt/memory.swap.max"), "268435456\n", "memory.swap.max = 256M (1280M - 1G)");
        ok(m.set[VM_MEMTUNE_SWAP] && m.value[VM_MEMTUNE_SWAP] == 256ull << 20, "m says what was written");
        ok(spec->memory.swap_limit == 256ull << 20, "recorded as swap 256M");
        m = (struct vm_memtune){ 0 };
        m.set[VM_MEMTUNE_HARD] = true;
        m.value[VM_MEMTUNE_HARD] = 2ull << 30;
        m.swap_total_set = true;
        m.swap_total = 2ull << 30;
        put("qemuctl/mt/memory.swap.max", "");
        is_int(vm_memtune_set(&p, &m, &e), 0, "swap_hard_limit = the hard limit given with it: %s", e.msg);
        is_str(get("qemuctl/mt/memory.swap.max"), "0\n", "memory.swap.max = 0 (no swap)");
        m = (struct vm_memtune){ 0 };
        m.swap_total_set = true;
        m.swap_total = 512ull << 20;
        put("qemuctl/mt/memory.max", "1073741824\n");
        is_int(vm_memtune_set(&p, &m, &e), -1, "swap_hard_limit below the hard limit refused");
        ok(strstr(e.msg, "below the hard limit 1G"), "says why: %s", e.msg);
        put("qemuctl/mt/memory.max", "max\n");
        is_int(vm_memtune_set(&p, &m, &e), -1, "swap_hard_limit without a hard limit refused");
        ok(strstr(e.msg, "no hard limit to subtract"), "says why: %s", e.msg);
        /* low: memory.low, at most hard */
        m = (struct vm_memtune){ 0 };
        m.set[VM_MEMTUNE_LOW] = true;
        m.value[VM_MEMTUNE_LOW] = 768ull << 20;
        put("qemuctl/mt/memory.max", "1073741824\n");
        put("qemuctl/mt/memory.low", "");
        is_int(vm_memtune_set(&p, &m, &e), 0, "low 768M: %s", e.msg);
        is_str(get("qemuctl/mt/memory.low"), "805306368\n", "memory.low written");
        ok(spec->memory.low_limit == 768ull << 20, "recorded as memory.limits.low");
        m.value[VM_MEMTUNE_LOW] = 2ull << 30;
        is_int(vm_memtune_set(&p, &m, &e), -1, "low above hard refused");

        /* a garbage file */
        put("qemuctl/mt/memory.min", "lots\n");
        is_int(vm_memtune_read(cg_vm_fd(cg), &got, &e), -1, "a garbage value is an error");
        ok(strstr(e.msg, "memory.min") && strstr(e.msg, "lots"), "names file and value: %s", e.msg);
        /* a file that cannot be read (a directory in its place), err NULL:
         * -1, as every library function takes a NULL err */
        {
                char mp[600];

                snprintf(mp, sizeof mp, "%s/qemuctl/mt/memory.min", root);
                ok(unlink(mp) == 0 && mkdir(mp, 0755) == 0, "memory.min made a directory");
                is_int(vm_memtune_read(cg_vm_fd(cg), &got, NULL), -1, "an unreadable file, err NULL: -1");
                rmdir(mp);
                put("qemuctl/mt/memory.min", "0\n");
        }
        is_str(vm_memtune_key_to_string(VM_MEMTUNE_SWAP), "swap", "the VM file's names");
        is_int(vm_memtune_key_from_string("min"), VM_MEMTUNE_MIN, "from string");
        is_int(vm_memtune_key_from_string("x"), _VM_MEMTUNE_INVALID, "unknown: invalid");

        /* no VM cgroup at all */
        live.cg = NULL;
        _cleanup_free_ char *miss = vm_memtune_missing(&p, "hard_limit");
        ok(miss && strstr(miss, "runs in no cgroup of its own"), "no VM cgroup: %s", miss ? miss : "");
        cg_vm_free(cg);
        spec_free(spec);
}

static void test_numatune(struct cg_hier *h)
{
        struct cg_vm *cg = NULL;
        struct vm_spec *spec = new_spec(2, 2);
        struct vm_live live = { .spec = spec, .record = record_cb };
        struct vm_placement p = { .live = &live, .hier = h, .usable = CG_MASK(CG_CPUSET) };
        struct cpuset host, want;
        struct qc_err e = { 0 };
        enum vm_numa_policy mode = VM_NUMA_INTERLEAVE;
        bool deferred = false;
        long not_moved = -1;
        size_t pos;
        int fd;

        if (cg_vm_create(h, "qemuctl", "nt", CG_MASK(CG_CPUSET), 2, &cg, &e) < 0 ||
            cg_vm_vcpu_fd(cg, 0, &fd, &e) < 0 || cg_vm_vcpu_fd(cg, 1, &fd, &e) < 0) {
                ok(0, "fake VM cgroup: %s", e.msg);
                return;
        }
        live.cg = cg;
        cpuset_parse("0-1", &host, &pos);
        cpuset_parse("5", &want, &pos);
        n_records = 0;
        is_int(vm_numatune_set(&p, &host, &want, NULL, &deferred, &not_moved, &e), -1, "node 5 refused");
        is_str(e.msg, "numa.nodeset: host node 5 does not exist; this host has nodes 0-1", "names the host's nodes");
        is_str(get("qemuctl/nt/cpuset.mems"), "", "nothing written");
        is_int(n_records, 0, "nothing recorded");

        /* qemu_pid 0: no process to migrate, the cgroup writes only */
        cpuset_parse("1", &want, &pos);
        is_int(vm_numatune_set(&p, &host, &want, &mode, &deferred, &not_moved, &e), 0, "nodeset 1, mode interleave");
        is_str(get("qemuctl/nt/cpuset.mems"), "1\n", "the VM's cpuset.mems");
        is_str(get("qemuctl/nt/emulator/cpuset.mems"), "1\n", "emulator/cpuset.mems");
        is_str(get("qemuctl/nt/vcpu0/cpuset.mems"), "1\n", "vcpu0/cpuset.mems");
        is_str(get("qemuctl/nt/vcpu1/cpuset.mems"), "1\n", "vcpu1/cpuset.mems");
        ok(deferred, "the mode is deferred to the next start");
        is_int(not_moved, 0, "nothing to move");
        ok(spec->numa.has_nodeset && cpuset_equal(&spec->numa.nodeset, &want) &&
                   spec->numa.policy == VM_NUMA_INTERLEAVE,
           "recorded: nodeset 1, interleave");
        is_int(n_records, 1, "recorded once");
        is_int(vm_numatune_set(&p, &host, NULL, &mode, &deferred, &not_moved, &e), 0, "same mode again");
        ok(!deferred, "nothing deferred when the mode is unchanged");

        /* without cpuset: no cgroup writes; this process's pages "moved" to
         * a node it is on already (node 0 exists everywhere) */
        p.usable = 0;
        live.qemu_pid = getpid();
        put("qemuctl/nt/cpuset.mems", "");
        cpuset_parse("0", &want, &pos);
        is_int(vm_numatune_set(&p, &host, &want, NULL, &deferred, &not_moved, &e), 0, "migrate_pages of a real process: %s", e.msg);
        is_str(get("qemuctl/nt/cpuset.mems"), "", "no cpuset: cpuset.mems untouched");
        ok(not_moved >= 0, "migrate_pages ran (%ld not moved)", not_moved);

        struct vm_numatune t;
        is_int(vm_numatune_get(&p, &t, &e), 0, "numatune show");
        ok(t.has_mems_allowed && cpuset_isset(&t.mems_allowed, 0), "Mems_allowed_list of a real process has node 0");
        ok(t.has_nodeset && t.mode == VM_NUMA_INTERLEAVE, "the recorded binding");
        cg_vm_free(cg);
        spec_free(spec);
}

/* A stand-in for a vCPU thread: a real thread whose affinity gets set. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pid_t vcpu_thread_tid;
static bool stop_thread;

static void *vcpu_thread(void *arg)
{
        pthread_mutex_lock(&mu);
        vcpu_thread_tid = gettid();
        pthread_cond_broadcast(&cv);
        while (!stop_thread)
                pthread_cond_wait(&cv, &mu);
        pthread_mutex_unlock(&mu);
        return NULL;
}

static pthread_t vcpu_thread_start(void)
{
        pthread_t th;

        vcpu_thread_tid = 0;
        stop_thread = false;
        pthread_create(&th, NULL, vcpu_thread, NULL);
        pthread_mutex_lock(&mu);
        while (!vcpu_thread_tid)
                pthread_cond_wait(&cv, &mu);
        pthread_mutex_unlock(&mu);
        return th;
}

static void vcpu_thread_stop(pthread_t th)
{
        pthread_mutex_lock(&mu);
        stop_thread = true;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
        pthread_join(th, NULL);
}

static struct fakeqmp *fake_cpus(int n_queries, pid_t tid0, pid_t tid1, struct qmp **ret)
{
        struct fakeqmp *f = fakeqmp_new();
        struct qc_err e = { 0 };
        char reply[600];
        int fd;

        snprintf(reply, sizeof reply,
                 "[{\"thread-id\": %d, \"props\": {\"core-id\": 0, \"thread-id\": 0, \"socket-id\": 0}, "
                 "\"qom-path\": \"/machine/unattached/device[0]\", \"cpu-index\": 0, \"target\": \"x86_64\"}, "
                 "{\"thread-id\": %d, \"props\": {\"core-id\": 1, \"thread-id\": 0, \"socket-id\": 0}, "
                 "\"qom-path\": \"/machine/unattached/device[1]\", \"cpu-index\": 1, \"target\": \"x86_64\"}]",
                 (int)tid0, (int)tid1);
        fakeqmp_greet(f);
        for (int i = 0; i < n_queries; i++) {
                fakeqmp_expect(f, "{\"execute\": \"query-cpus-fast\"}");
                fakeqmp_reply(f, reply);
        }
        fakeqmp_wait_eof(f);
        if (fakeqmp_start(f, &fd) < 0 || qmp_open_fd(fd, 3000, ret, &e) < 0) {
                tap_diag("cannot start the fake QMP server: %s", e.msg);
                exit(1);
        }
        return f;
}

static void finish(struct fakeqmp *f, struct qmp *q, const char *what)
{
        qmp_free(q);
        fakeqmp_check(f, what);
}

static void test_pins(struct cg_hier *h)
{
        struct cg_vm *cg = NULL;
        struct vm_spec *spec = new_spec(2, 3);
        struct vm_live live = { .spec = spec, .record = record_cb, .qemu_pid = getpid() };
        struct vm_placement p = { .live = &live, .hier = h, .usable = CG_MASK(CG_CPUSET) };
        struct cpuset cpu0, all, aff;
        size_t online_pos;
        struct qc_err e = { 0 };
        struct qmp *q = NULL;
        struct fakeqmp *f;
        pthread_t th;
        bool live_pin = false;
        size_t pos, n = 0;
        char want[64];

        if (cg_vm_create(h, "qemuctl", "pin", CG_MASK(CG_CPUSET), 2, &cg, &e) < 0) {
                ok(0, "fake VM cgroup: %s", e.msg);
                return;
        }
        live.cg = cg;
        vm_thread_affinity(getpid(), &all, &e);
        th = vcpu_thread_start();
        cpuset_parse("0", &cpu0, &pos);
        /* the host's online CPUs, as vm_placement_open would have read them */
        cpuset_parse("0-1", &p.online, &online_pos);

        /* checks before any QMP: no such vCPU, no such CPU */
        is_int(vm_vcpupin_set(&p, 3, &cpu0, &live_pin, &e), -1, "vCPU 3 of cpu.max 3 refused");
        is_str(e.msg, "vCPU 3 does not exist: VM `vm1` has vCPUs 0-2 (cpu.max 3; 2 plugged now)",
               "names the range and what is plugged");
        struct cpuset nine;
        cpuset_parse("9", &nine, &pos);
        is_int(vm_vcpupin_set(&p, 1, &nine, &live_pin, &e), -1, "CPU 9 refused");
        is_str(e.msg, "CPU 9 does not exist on this host (online: 0-1)", "names the online CPUs");

        /* vCPU 1 = our thread: cgroup, affinity, record */
        n_records = 0;
        f = fake_cpus(1, 999999, vcpu_thread_tid, &q);
        live.qmp = q;
        is_int(vm_vcpupin_set(&p, 1, &cpu0, &live_pin, &e), 0, "vcpupin 1 0: %s", e.msg);
        finish(f, q, "vcpupin");
        ok(live_pin, "applied live");
        snprintf(want, sizeof want, "%d\n", (int)vcpu_thread_tid);
        is_str(get("qemuctl/pin/vcpu1/cgroup.threads"), want, "the thread moved into vcpu1/");
        is_str(get("qemuctl/pin/vcpu1/cpuset.cpus"), "0\n", "vcpu1/cpuset.cpus = 0");
        is_int(vm_thread_affinity(vcpu_thread_tid, &aff, &e), 0, "read its affinity");
        ok(cpuset_equal(&aff, &cpu0), "the thread's real affinity is CPU 0");
        ok(spec->cpu.n_pins == 1 && spec->cpu.pins[0].vcpu == 1 && cpuset_equal(&spec->cpu.pins[0].cpus, &cpu0),
           "recorded as cpu.pin 1");
        is_int(n_records, 1, "recorded once");

        /* vCPU 2 is below cpu.max but not plugged: record only, kept in order */
        f = fake_cpus(1, 999999, vcpu_thread_tid, &q);
        live.qmp = q;
        is_int(vm_vcpupin_set(&p, 2, &all, &live_pin, &e), 0, "vcpupin 2 (not plugged): %s", e.msg);
        finish(f, q, "vcpupin unplugged");
        ok(!live_pin, "not applied live");
        is_str(get("qemuctl/pin/vcpu2/cpuset.cpus"), "", "no cgroup for it");
        f = fake_cpus(1, 999999, vcpu_thread_tid, &q);
        live.qmp = q;
        is_int(vm_vcpupin_set(&p, 0, &all, &live_pin, &e), -1, "vCPU 0's thread does not exist");
        finish(f, q, "vcpupin of a vanished thread");
        ok(spec->cpu.n_pins == 2 && spec->cpu.pins[0].vcpu == 1 && spec->cpu.pins[1].vcpu == 2,
           "a failed pin is not recorded");

        /* the listing: thread affinity and the record */
        struct vm_pin_info *pins = NULL;
        f = fake_cpus(1, getpid(), vcpu_thread_tid, &q);
        live.qmp = q;
        is_int(vm_vcpupin_get(&p, &pins, &n, &e), 0, "vcpupin show: %s", e.msg);
        finish(f, q, "vcpupin show");
        is_int(n, 3, "vCPUs 0, 1 plugged and 2 pinned");
        if (n == 3) {
                ok(pins[0].vcpu == 0 && !pins[0].pinned && pins[0].host_ok, "vCPU 0: no pin, affinity read");
                ok(pins[1].vcpu == 1 && pins[1].pinned && cpuset_equal(&pins[1].affinity, &cpu0),
                   "vCPU 1: pinned, affinity 0");
                ok(pins[2].vcpu == 2 && pins[2].tid == 0 && pins[2].pinned, "vCPU 2: not plugged, pinned");
        }
        free(pins);

        /* emulatorpin: every thread of the process but the vCPU threads */
        f = fake_cpus(1, 999999, vcpu_thread_tid, &q);
        live.qmp = q;
        struct cpuset one;
        cpuset_parse("1", &one, &pos);
        if (!cpuset_isset(&all, 1))
                one = cpu0;
        is_int(vm_emulatorpin_set(&p, &one, &n, &e), 0, "emulatorpin: %s", e.msg);
        finish(f, q, "emulatorpin");
        ok(n >= 2, "pinned the main thread and the fake QMP server's thread (%zu)", n);
        vm_thread_affinity(0, &aff, &e);
        ok(cpuset_equal(&aff, &one), "the main thread's affinity is the emulator pin");
        vm_thread_affinity(vcpu_thread_tid, &aff, &e);
        ok(cpuset_equal(&aff, &cpu0), "the vCPU thread kept its own pin");
        snprintf(want, sizeof want, "%s\n", cpuset_isset(&one, 1) ? "1" : "0");
        is_str(get("qemuctl/pin/emulator/cpuset.cpus"), want, "emulator/cpuset.cpus");
        ok(spec->cpu.has_emulator_pin && cpuset_equal(&spec->cpu.emulator_pin, &one), "recorded");

        struct vm_emulator_pin ep;
        f = fake_cpus(1, 999999, vcpu_thread_tid, &q);
        live.qmp = q;
        is_int(vm_emulatorpin_get(&p, &ep, &e), 0, "emulatorpin show: %s", e.msg);
        finish(f, q, "emulatorpin show");
        ok(ep.pinned && cpuset_equal(&ep.affinity, &one) && ep.n_differ == 0, "main thread pinned, none differ");

        /* affinity-only note on a host without cpuset */
        p.usable = 0;
        _cleanup_free_ char *note = vm_placement_cpuset_note(&p, "pinned");
        ok(note && strstr(note, "sched_setaffinity only") && strstr(note, "\"cpuset\""), "note: %s", note ? note : "");
        p.usable = CG_MASK(CG_CPUSET);
        _cleanup_free_ char *none = vm_placement_cpuset_note(&p, "pinned");
        ok(!none, "no note with cpuset");

        placement_set_affinity(0, &all, &e);
        vcpu_thread_stop(th);
        cg_vm_free(cg);
        spec_free(spec);
}

/* A QEMU before 2.7: no query-hotpluggable-cpus (nor query-cpus-fast), only
 * cpu-add and query-cpus. setvcpus plugs with cpu-add and places the new
 * vCPU's thread as at start; it refuses to unplug, saying why. */
static struct qmp *start_old(struct fakeqmp *f)
{
        struct qc_err e = { 0 };
        struct qmp *q = NULL;
        int fd;

        fakeqmp_wait_eof(f);
        if (fakeqmp_start(f, &fd) < 0 || qmp_open_fd(fd, 3000, &q, &e) < 0) {
                ok(0, "fake QMP: %s", e.msg);
                return NULL;
        }
        return q;
}

static void old_qemu(struct fakeqmp *f)
{
        fakeqmp_greet_version(f, 2, 6, 2);
        fakeqmp_expect_commands(f, (const char *const[]){ "qmp_capabilities", "query-commands", "query-cpus",
                                                          "cpu-add", "device_add", "device_del", "quit", NULL });
}

/* query-cpus of QEMU 2.6: vCPU 0, and vCPU 1 on thread tid1 when n > 1 */
static const char *legacy_cpus(int n, pid_t tid1)
{
        static char reply[800];
        int len = snprintf(reply, sizeof reply,
                           "[{\"current\": true, \"CPU\": 0, \"qom_path\": \"/machine/unattached/device[0]\", "
                           "\"pc\": -2130110670, \"halted\": true, \"thread_id\": 999999, \"arch\": \"x86\"}");

        if (n > 1)
                len += snprintf(reply + len, sizeof reply - (size_t)len,
                                ", {\"current\": false, \"CPU\": 1, \"qom_path\": \"/machine/unattached/device[4]\", "
                                "\"pc\": -2130110670, \"halted\": true, \"thread_id\": %d, \"arch\": \"x86\"}",
                                (int)tid1);
        snprintf(reply + len, sizeof reply - (size_t)len, "]");
        return reply;
}

static void test_cpu_add(struct cg_hier *h)
{
        struct cg_vm *cg = NULL;
        struct vm_spec *spec = new_spec(1, 3);
        struct vm_vcpu_pin pin = { .vcpu = 1 };
        struct vm_live live = { .spec = spec, .record = record_cb, .qemu_pid = getpid(),
                                .cg_usable = CG_MASK(CG_CPUSET) };
        struct cpuset all, aff;
        struct qc_err e = { 0 };
        struct fakeqmp *f;
        struct qmp *q = NULL;
        pthread_t th;
        size_t pos;
        char want[64];

        if (cg_vm_create(h, "qemuctl", "cpuadd", CG_MASK(CG_CPUSET), 1, &cg, &e) < 0) {
                ok(0, "fake VM cgroup: %s", e.msg);
                return;
        }
        live.cg = cg;
        cpuset_parse("0", &pin.cpus, &pos);
        spec->cpu.pins = &pin;
        spec->cpu.n_pins = 1;
        vm_thread_affinity(getpid(), &all, &e);
        th = vcpu_thread_start();

        /* plug vCPU 1: cpu-add {"id": 1}, its thread from query-cpus */
        f = fakeqmp_new();
        old_qemu(f);
        fakeqmp_expect(f, "{\"execute\": \"query-cpus\"}");
        fakeqmp_reply(f, legacy_cpus(1, 0));
        fakeqmp_expect(f, "{\"execute\": \"cpu-add\", \"arguments\": {\"id\": 1}}");
        fakeqmp_reply(f, "{}");
        fakeqmp_expect(f, "{\"execute\": \"query-cpus\"}");
        fakeqmp_reply(f, legacy_cpus(2, vcpu_thread_tid));
        if (!(live.qmp = q = start_old(f)))
                return;
        n_records = 0;
        is_int(vm_setvcpus(&live, 2, NULL, NULL, &e), 0, "setvcpus 1 -> 2 with cpu-add: %s", e.msg);
        finish(f, q, "setvcpus on QEMU 2.6");
        is_int(spec->cpu.vcpus, 2, "the spec says 2");
        is_int(n_records, 1, "recorded once");
        snprintf(want, sizeof want, "%d\n", (int)vcpu_thread_tid);
        is_str(get("qemuctl/cpuadd/vcpu1/cgroup.threads"), want, "the new vCPU's thread moved into vcpu1/");
        is_str(get("qemuctl/cpuadd/vcpu1/cpuset.cpus"), "0\n", "vcpu1/cpuset.cpus = its pin");
        is_int(vm_thread_affinity(vcpu_thread_tid, &aff, &e), 0, "read its affinity");
        ok(cpuset_equal(&aff, &pin.cpus), "the thread's real affinity is its pin");

        /* unplug: impossible there, and said so before anything changes */
        f = fakeqmp_new();
        old_qemu(f);
        fakeqmp_expect(f, "{\"execute\": \"query-cpus\"}");
        fakeqmp_reply(f, legacy_cpus(2, vcpu_thread_tid));
        if (!(live.qmp = q = start_old(f)))
                return;
        n_records = 0;
        is_int(vm_setvcpus(&live, 1, NULL, NULL, &e), -1, "setvcpus 2 -> 1 refused");
        is_int(e.code, EOPNOTSUPP, "EOPNOTSUPP");
        ok(strstr(e.msg, "cpu-add") && strstr(e.msg, "2.7") && strstr(e.msg, "restart"),
           "says why and what to do: %s", e.msg);
        finish(f, q, "unplug on QEMU 2.6");
        is_int(spec->cpu.vcpus, 2, "the spec still says 2");
        is_int(n_records, 0, "nothing recorded");

        /* a QEMU with neither way */
        f = fakeqmp_new();
        fakeqmp_greet_version(f, 1, 4, 0);
        fakeqmp_expect_commands(f, (const char *const[]){ "query-cpus", "quit", NULL });
        if (!(live.qmp = q = start_old(f)))
                return;
        is_int(vm_setvcpus(&live, 3, NULL, NULL, &e), -1, "no hotplug at all: refused");
        ok(strstr(e.msg, "cannot hotplug"), "says so: %s", e.msg);
        finish(f, q, "QEMU without CPU hotplug");

        placement_set_affinity(0, &all, &e);
        vcpu_thread_stop(th);
        spec->cpu.pins = NULL;
        spec->cpu.n_pins = 0;
        cg_vm_free(cg);
        spec_free(spec);
}

int main(void)
{
        struct cg_hier *h = NULL;
        struct qc_err e = { 0 };
        char cmd[700];

        snprintf(root, sizeof root, "/tmp/qemuctl-test-vm-placement-XXXXXX");
        if (!mkdtemp(root))
                tap_skip_all("cannot make a temp dir");
        snprintf(sysroot, sizeof sysroot, "%s-sys", root);
        put("cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
        put("cgroup.subtree_control", "");
        put("cgroup.procs", "");
        put("cgroup.threads", "");
        put("cgroup.events", "populated 1\nfrozen 0\n");

        test_numastat();
        test_cpus();
        if (fakecg_open(root, &h, &e) < 0) {
                printf("# %s\n", e.msg);
                return 1;
        }
        test_memtune(h);
        test_numatune(h);
        test_pins(h);
        test_cpu_add(h);
        cg_hier_free(h);
        snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", root, sysroot);
        if (system(cmd) != 0)
                tap_diag("could not remove %s", root);
        return tap_done();
}
