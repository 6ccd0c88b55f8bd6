/* cgroups/ against a fake cgroupfs tree: which files get which values. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cgroups/cgroups-internal.h"
#include "tests/lib/fakecg.h"
#include "common/cleanup.h"
#include "common/io.h"
#include "tests/tap.h"

static char root[256];

/* Contents of root/rel ("<missing>" when absent); static buffer per call site. */
static const char *slurp(const char *rel)
{
        static char bufs[8][4096];
        static int next;
        char path[512];
        char *s = NULL, *b = bufs[next++ % 8];

        snprintf(path, sizeof path, "%s/%s", root, rel);
        if (read_file(path, 0, &s, NULL) < 0)
                return "<missing>";
        snprintf(b, 4096, "%s", s);
        free(s);
        return b;
}

static void put(const char *rel, const char *content)
{
        char path[512];

        snprintf(path, sizeof path, "%s/%s", root, rel);
        if (write_file(path, content, 0644) < 0)
                printf("# cannot write %s\n", path);
}

static bool exists(const char *rel)
{
        char path[512];

        snprintf(path, sizeof path, "%s/%s", root, rel);
        return access(path, F_OK) == 0;
}

static void make_root(void)
{
        put("cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
        put("cgroup.subtree_control", "");
        put("cgroup.procs", "");
        put("cgroup.threads", "");
        put("cgroup.events", "populated 1\nfrozen 0\n");
}

static void test_mountinfo(void)
{
        char path[512], *mnt = NULL;
        unsigned v1 = 0;
        struct qc_err e = { 0 };

        snprintf(path, sizeof path, "%s-mountinfo", root);
        write_file(path,
                   "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
                   "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime shared:9 - cgroup cgroup rw,cpuset\n"
                   "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
                   "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
                   "41 31 0:38 / /sys/fs/cgroup/my\\040unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n",
                   0644);
        is_int(cg_find_mount(path, &mnt, &v1, &e), 0, "hybrid mountinfo: cgroup2 found");
        is_str(mnt, "/sys/fs/cgroup/my unified", "mount point unescaped (\\040)");
        is_int(v1, CG_MASK(CG_CPUSET) | CG_MASK(CG_MEMORY), "v1-bound controllers: cpuset, memory");
        free(mnt);
        mnt = NULL;
        write_file(path, "25 1 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", 0644);
        is_int(cg_find_mount(path, &mnt, &v1, &e), 0, "unified mountinfo");
        is_str(mnt, "/sys/fs/cgroup", "unified: /sys/fs/cgroup");
        is_int(v1, 0, "unified: nothing on v1");
        free(mnt);
        write_file(path, "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n", 0644);
        is_int(cg_find_mount(path, &mnt, &v1, &e), -1, "no cgroup2: error");
        is_int(e.code, ENOENT, "no cgroup2: ENOENT");
        ok(strstr(e.msg, "mount -t cgroup2"), "no cgroup2: says how to mount one (%s)", e.msg);
        unlink(path);
}

static void test_names(void)
{
        char *s;

        is_str(cg_controller_to_string(CG_CPUSET), "cpuset", "cpuset to string");
        is_int(cg_controller_from_string("memory"), CG_MEMORY, "memory from string");
        is_int(cg_controller_from_string("blkio"), _CG_CONTROLLER_INVALID, "v1 name blkio is invalid");
        s = cg_mask_to_string(CG_MASK(CG_CPU) | CG_MASK(CG_PIDS) | CG_MASK(CG_CPUSET));
        is_str(s, "cpuset cpu pids", "mask to string in table order");
        free(s);
        is_int(cg_mask_parse("cpuset io\nbogus memory"), CG_MASK(CG_CPUSET) | CG_MASK(CG_IO) | CG_MASK(CG_MEMORY),
               "mask parse skips unknown names");
        ok(cg_path_is_valid("qemuctl"), "qemuctl is a valid path");
        ok(cg_path_is_valid("system.slice/qemuctl.service/vms"), "nested delegated path is valid");
        ok(!cg_path_is_valid("../etc"), ".. refused");
        ok(!cg_path_is_valid("a//b"), "empty component refused");
        ok(!cg_path_is_valid("a/"), "trailing slash refused");
        ok(!cg_path_is_valid("a b"), "space refused");
}

static void test_vm(struct cg_hier *h)
{
        struct qc_err e = { 0 };
        struct cg_vm *vm = NULL, *vm2 = NULL;
        unsigned want = CG_MASK(CG_CPUSET) | CG_MASK(CG_CPU) | CG_MASK(CG_MEMORY) | CG_MASK(CG_PIDS);
        unsigned usable = 0, refused = 0;
        struct cg_memory_limits mem = { .max = 9ull << 30, .high = 7ull << 30, .swap_max = 1ull << 30, .min = 4ull << 30 };
        int fd = -1;

        is_int(cg_usable(h, "qemuctl", &usable, &refused, &e), 0, "usable under qemuctl: %s", e.msg);
        is_int(usable, CG_MASK(CG_CPUSET) | CG_MASK(CG_CPU) | CG_MASK(CG_IO) | CG_MASK(CG_MEMORY) | CG_MASK(CG_HUGETLB) |
                               CG_MASK(CG_PIDS) | CG_MASK(CG_RDMA) | CG_MASK(CG_MISC),
               "every offered controller usable");
        is_int(refused, 0, "none refused");
        is_str(slurp("cgroup.subtree_control"), "+cpuset +cpu +io +memory +hugetlb +pids +rdma +misc\n",
               "root: all enabled in one write");
        is_str(slurp("qemuctl/cgroup.subtree_control"), "+cpuset +cpu +io +memory +hugetlb +pids +rdma +misc\n",
               "qemuctl: all enabled in one write");
        is_str(slurp("qemuctl/cgroup.controllers"), "cpuset cpu io memory hugetlb pids rdma misc",
               "qemuctl's cgroup.controllers = root's subtree_control");

        is_int(cg_vm_create(h, "qemuctl", "vm1", want, 2, &vm, &e), 0, "create vm1: %s", e.msg);
        if (!vm)
                return;
        is_str(slurp("cgroup.subtree_control"), "+cpuset +cpu +io +memory +hugetlb +pids +rdma +misc\n",
               "root: nothing written again (already enabled)");
        is_str(slurp("qemuctl/vm1/cgroup.subtree_control"), "+cpuset +cpu\n",
               "vm1: only the threaded controllers cpuset and cpu enabled for its children");
        is_str(slurp("qemuctl/vm1/cgroup.type"), "", "vm1 stays a domain (nothing written to its cgroup.type)");
        is_str(slurp("qemuctl/vm1/emulator/cgroup.type"), "threaded\n", "emulator/ made threaded");
        is_str(slurp("qemuctl/vm1/vcpu0/cgroup.type"), "threaded\n", "vcpu0/ made threaded");
        is_str(slurp("qemuctl/vm1/vcpu1/cgroup.type"), "threaded\n", "vcpu1/ made threaded");
        ok(!exists("qemuctl/vm1/vcpu2"), "no vcpu2 for 2 vCPUs");
        ok(exists("qemuctl/vm1/vcpu0/cpuset.cpus"), "vcpu0 has cpuset files (vm1 enabled cpuset)");
        ok(!exists("qemuctl/vm1/vcpu0/memory.max"), "vcpu0 has no memory files (domain only)");
        ok(exists("qemuctl/vm1/memory.max"), "vm1 has memory files");
        {
                char want_path[600];
                snprintf(want_path, sizeof want_path, "%s/qemuctl/vm1", root);
                is_str(cg_vm_path(vm), want_path, "VM path is <root>/<parent>/<name>");
        }

        /* limits: one file per key, exact values */
        is_int(cg_set_memory(cg_vm_fd(vm), &mem, &e), 0, "memory limits: %s", e.msg);
        is_str(slurp("qemuctl/vm1/memory.max"), "9663676416\n", "hard -> memory.max");
        is_str(slurp("qemuctl/vm1/memory.high"), "7516192768\n", "soft -> memory.high");
        is_str(slurp("qemuctl/vm1/memory.swap.max"), "1073741824\n", "swap -> memory.swap.max");
        is_str(slurp("qemuctl/vm1/memory.min"), "4294967296\n", "min -> memory.min");
        mem = (struct cg_memory_limits){ .max = CG_LIMIT_MAX };
        is_int(cg_set_memory(cg_vm_fd(vm), &mem, &e), 0, "memory.max back to max");
        is_str(slurp("qemuctl/vm1/memory.max"), "9663676416\nmax\n", "CG_LIMIT_MAX writes \"max\"");
        is_str(slurp("qemuctl/vm1/memory.high"), "7516192768\n", "0 leaves memory.high alone");
        is_int(cg_set_pids(cg_vm_fd(vm), 1024, &e), 0, "pids.max");
        is_str(slurp("qemuctl/vm1/pids.max"), "1024\n", "pids.max = 1024");
        is_int(cg_set_cpu(cg_vm_fd(vm), 100, 200, &e), 0, "cpu weight + max");
        is_str(slurp("qemuctl/vm1/cpu.weight"), "100\n", "cpu.weight = 100");
        is_str(slurp("qemuctl/vm1/cpu.max"), "200000 100000\n", "200%% -> cpu.max 200000 100000");
        is_int(cg_set_cpu(cg_vm_fd(vm), 10001, 0, &e), -1, "cpu.weight 10001 refused");
        is_int(cg_set_cpuset(cg_vm_fd(vm), NULL, "0,2-3", &e), 0, "cpuset.mems on the domain");
        is_str(slurp("qemuctl/vm1/cpuset.mems"), "0,2-3\n", "cpuset.mems = 0,2-3");
        is_str(slurp("qemuctl/vm1/cpuset.cpus"), "", "cpuset.cpus untouched on the domain");
        is_int(cg_vm_vcpu_fd(vm, 1, &fd, &e), 0, "vcpu1 fd");
        is_int(cg_set_cpuset(fd, "29", NULL, &e), 0, "pin vcpu1");
        is_str(slurp("qemuctl/vm1/vcpu1/cpuset.cpus"), "29\n", "vcpu1/cpuset.cpus = 29");
        is_int(cg_set_cpuset(cg_vm_emulator_fd(vm), "26-31", NULL, &e), 0, "emulator pin");
        is_str(slurp("qemuctl/vm1/emulator/cpuset.cpus"), "26-31\n", "emulator/cpuset.cpus = 26-31");

        /* placement */
        is_int(cg_vm_place_pid(vm, 1234, &e), 0, "place QEMU's pid");
        is_str(slurp("qemuctl/vm1/emulator/cgroup.procs"), "1234\n", "pid into emulator/cgroup.procs");
        is_str(slurp("qemuctl/vm1/cgroup.procs"), "", "nothing into the domain's cgroup.procs");
        is_int(cg_vm_place_vcpu(vm, 0, 1301, &e), 0, "place vCPU 0 thread");
        is_str(slurp("qemuctl/vm1/vcpu0/cgroup.threads"), "1301\n", "tid into vcpu0/cgroup.threads");
        is_int(cg_vm_place_vcpu(vm, 3, 1304, &e), 0, "hotplugged vCPU 3: %s", e.msg);
        is_str(slurp("qemuctl/vm1/vcpu3/cgroup.type"), "threaded\n", "vcpu3/ created threaded on first use");
        is_str(slurp("qemuctl/vm1/vcpu3/cgroup.threads"), "1304\n", "tid into vcpu3/cgroup.threads");
        ok(exists("qemuctl/vm1/vcpu3/cpuset.cpus"), "vcpu3 has cpuset.cpus");
        is_int(cg_vm_place_vcpu(vm, 3, 1305, &e), 0, "same vCPU again (after re-plug)");
        is_str(slurp("qemuctl/vm1/vcpu3/cgroup.threads"), "1304\n1305\n", "second tid appended, type not rewritten");
        is_str(slurp("qemuctl/vm1/vcpu3/cgroup.type"), "threaded\n", "vcpu3 type written once");

        /* freeze, kill */
        put("qemuctl/vm1/cgroup.events", "populated 1\nfrozen 1\n");
        is_int(cg_freeze(cg_vm_fd(vm), true, 1000, &e), 0, "freeze sees frozen 1");
        is_str(slurp("qemuctl/vm1/cgroup.freeze"), "1\n", "cgroup.freeze = 1");
        is_int(cg_freeze(cg_vm_fd(vm), false, 100, &e), -1, "thaw times out while events says frozen");
        is_int(e.code, ETIMEDOUT, "thaw: ETIMEDOUT");
        is_str(slurp("qemuctl/vm1/cgroup.freeze"), "1\n0\n", "cgroup.freeze = 0 written");
        is_int(cg_kill(cg_vm_fd(vm), &e), 0, "kill");
        is_str(slurp("qemuctl/vm1/cgroup.kill"), "1\n", "cgroup.kill = 1");

        /* the same name again while populated: refused */
        is_int(cg_vm_create(h, "qemuctl", "vm1", want, 1, &vm2, &e), -1, "vm1 again while populated");
        is_int(e.code, EBUSY, "EBUSY");
        ok(strstr(e.msg, "already holds processes"), "says why: %s", e.msg);
        put("qemuctl/vm1/cgroup.events", "populated 0\nfrozen 0\n");
        is_int(cg_vm_open(h, "qemuctl", "nosuchvm", &vm2, &e), -1, "open a VM cgroup that is not there");
        is_int(e.code, ENOENT, "ENOENT, as cgroups.h says");
        vm2 = NULL;
        is_int(cg_vm_open(h, "qemuctl", "vm1", &vm2, &e), 0, "open existing vm1: %s", e.msg);
        if (vm2) {
                is_int(cg_vm_place_pid(vm2, 77, &e), 0, "place through the opened handle");
                is_str(slurp("qemuctl/vm1/emulator/cgroup.procs"), "1234\n77\n", "second pid recorded");
                cg_vm_free(vm2);
        }

        /* stats */
        put("qemuctl/vm1/memory.current", "123456\n");
        put("qemuctl/vm1/memory.stat", "anon 1000\nfile 2000\nkernel 5\n");
        put("qemuctl/vm1/cpu.stat", "usage_usec 900\nuser_usec 600\nsystem_usec 300\nnr_periods 0\nnr_throttled 4\nthrottled_usec 77\n");
        put("qemuctl/vm1/cpu.pressure", "some avg10=1.50 avg60=0.00 avg300=0.00 total=4242\nfull avg10=0.25 avg60=0.00 avg300=0.00 total=17\n");
        put("qemuctl/vm1/pids.current", "9\n");
        {
                struct cg_stats st;
                is_int(cg_read_stats(cg_vm_fd(vm), &st, &e), 0, "read stats");
                ok(st.has_memory && st.memory_current == 123456, "memory.current 123456");
                ok(st.memory_anon == 1000 && st.memory_file == 2000, "memory.stat anon/file");
                ok(st.has_cpu && st.cpu_usage_us == 900 && st.cpu_user_us == 600 && st.cpu_system_us == 300,
                   "cpu.stat usage/user/system");
                ok(st.cpu_nr_throttled == 4 && st.cpu_throttled_us == 77, "cpu.stat throttling");
                ok(st.has_pids && st.pids_current == 9, "pids.current 9");
                ok(st.has_pressure && st.cpu_pressure.some_avg10 > 1.49 && st.cpu_pressure.some_avg10 < 1.51 &&
                   st.cpu_pressure.some_total_us == 4242 && st.cpu_pressure.full_total_us == 17,
                   "cpu.pressure some/full");
        }

        /* a second VM reuses the enabled path */
        is_int(cg_vm_create(h, "qemuctl", "vm2", CG_MASK(CG_MEMORY), 1, &vm2, &e), 0, "vm2 with memory only");
        is_str(slurp("qemuctl/vm2/cgroup.subtree_control"), "", "vm2: no threaded controllers asked, none enabled");
        is_str(slurp("qemuctl/cgroup.subtree_control"), "+cpuset +cpu +io +memory +hugetlb +pids +rdma +misc\n",
               "qemuctl: nothing re-enabled");

        is_int(cg_vm_remove(vm, 500, &e), 0, "remove vm1: %s", e.msg);
        ok(!exists("qemuctl/vm1"), "vm1 gone");
        ok(exists("qemuctl/vm2/emulator"), "vm2 still there");
        if (vm2) {
                is_int(cg_vm_remove(vm2, 500, &e), 0, "remove vm2");
                cg_vm_free(vm2);
        }
        cg_vm_free(vm);
}

static void test_refusals(struct cg_hier *h)
{
        struct qc_err e = { 0 };
        struct cg_vm *vm = NULL;
        unsigned usable = 0, refused = 0;
        char path[512];

        /* a level whose subtree_control cannot be written (here: a directory
         * in its place, so open(O_WRONLY) fails) refuses every controller */
        snprintf(path, sizeof path, "%s/locked", root);
        mkdir(path, 0755);
        snprintf(path, sizeof path, "%s/locked/cgroup.subtree_control", root);
        mkdir(path, 0755);
        is_int(cg_usable(h, "locked", &usable, &refused, &e), 0, "usable under locked: %s", e.msg);
        is_int(usable, 0, "nothing usable below a level that refuses");
        ok(refused & CG_MASK(CG_MEMORY), "memory listed as refused");
        ok(strstr(cg_missing_reason(h, CG_MEMORY, refused), "refused"), "reason: refused below the root");
        ok(strstr(cg_missing_reason(h, CG_MEMORY, 0), "does not offer"), "reason: kernel does not offer it");
        is_int(cg_vm_create(h, "locked", "vm3", CG_MASK(CG_MEMORY), 1, &vm, &e), -1, "create under locked fails");
        ok(strstr(e.msg, "memory"), "error names the controller: %s", e.msg);
        is_int(cg_vm_create(h, "qemuctl", "../x", 0, 1, &vm, &e), -1, "bad VM name refused");
        is_int(cg_vm_create(h, "../up", "x", 0, 1, &vm, &e), -1, "bad parent refused");
        ok(!vm, "no VM handle on failure");
        is_int(cg_hier_open(root, &(struct cg_hier *){ NULL }, &e), -1, "cg_hier_open refuses a non-cgroup2 dir");
        ok(strstr(e.msg, "not a cgroup2 mount"), "says so: %s", e.msg);
}

/* A delegated cgroup as its own hierarchy: qemuctl moves into supervisor/
 * before it enables a controller, the VM's cgroup goes right below, and
 * leaving undoes it all once the VM's cgroup is gone. */
static void test_delegated_leaf(void)
{
        struct cg_hier *h = NULL;
        struct cg_vm *vm = NULL;
        struct qc_err e = { 0 };
        unsigned had = 99, usable = 0;
        bool made = false;
        char path[512], above[4096];

        snprintf(above, sizeof above, "%s", slurp("cgroup.subtree_control"));
        mkdir(strcat(strcpy(path, root), "/unit"), 0755);
        put("unit/cgroup.controllers", "cpuset cpu memory pids\n");
        put("unit/cgroup.subtree_control", "");
        put("unit/cgroup.procs", "");
        put("unit/cgroup.events", "populated 1\nfrozen 0\n");
        if (fakecg_open(path, &h, &e) < 0) {
                ok(0, "open the delegated cgroup: %s", e.msg);
                return;
        }
        is_int(cg_hier_enter_leaf(h, "supervisor", &had, &made, &e), 0, "enter supervisor/: %s", e.msg);
        ok(made, "supervisor/ was made");
        is_int(had, 0, "nothing was enabled before");
        is_str(slurp("unit/supervisor/cgroup.procs"), "0\n", "the caller wrote itself (\"0\") into supervisor/");
        is_int(cg_hier_enter_leaf(h, "../x", NULL, NULL, &e), -1, "a leaf name with .. is refused");
        qc_err_clear(&e);
        is_int(cg_usable(h, "", &usable, NULL, &e), 0, "usable in the delegated cgroup: %s", e.msg);
        is_int(usable, CG_MASK(CG_CPUSET) | CG_MASK(CG_CPU) | CG_MASK(CG_MEMORY) | CG_MASK(CG_PIDS),
               "what was delegated is usable");
        is_int(cg_vm_create(h, "", "vm1", usable, 1, &vm, &e), 0, "the VM's cgroup right below: %s", e.msg);
        ok(strcmp(cg_vm_path(vm), path) > 0 && strstr(cg_vm_path(vm), "/unit/vm1"), "at %s", cg_vm_path(vm));
        is_str(slurp("cgroup.subtree_control"), above, "nothing above the delegated cgroup was written");
        is_int(cg_hier_leave_leaf(h, "supervisor", had, true, &e), 0, "no leaving while the VM's cgroup is there");
        is_str(slurp("unit/cgroup.procs"), "", "(nobody moved back)");
        is_int(cg_vm_remove(vm, 1000, &e), 0, "remove the VM's cgroup: %s", e.msg);
        cg_vm_free(vm);
        is_int(cg_hier_leave_leaf(h, "supervisor", had, true, &e), 1, "then leave: %s", e.msg);
        is_str(slurp("unit/cgroup.subtree_control"), "+cpuset +cpu +memory +pids\n-cpuset -cpu -memory -pids\n",
               "what was enabled is disabled again");
        is_str(slurp("unit/cgroup.procs"), "0\n", "the caller moved back");
        ok(!exists("unit/supervisor"), "supervisor/ is gone");
        cg_hier_free(h);
}

static void test_delegation_mark(void)
{
        char path[512];

        snprintf(path, sizeof path, "%s/marked", root);
        mkdir(path, 0755);
        ok(!cg_is_delegated(path), "an unmarked cgroup is not delegated");
        if (setxattr(path, "user.delegate", "1", 1, 0) < 0) {
                tap_diag("no user xattrs on %s (%s): the mark itself is not checked", root, strerror(errno));
                return;
        }
        ok(cg_is_delegated(path), "user.delegate=1 marks it delegated (systemd's trusted.delegate as root)");
        setxattr(path, "user.delegate", "0", 1, 0);
        ok(!cg_is_delegated(path), "user.delegate=0 does not");
}

/* The tree's double is the one given at setup: the library makes and
 * removes cgroups through it and never asks the filesystem what it is. */
static unsigned n_mkdir, n_rmdir;
static int counting_mkdirat(int dirfd, const char *name)
{
        n_mkdir++;
        return fakecg_ops.mkdirat(dirfd, name);
}
static int counting_rmdirat(int dirfd, const char *name)
{
        n_rmdir++;
        return fakecg_ops.rmdirat(dirfd, name);
}

static void test_injected_ops(void)
{
        const struct cg_fs_ops ops = { .mkdirat = counting_mkdirat,
                                       .rmdirat = counting_rmdirat,
                                       .subtree_control = fakecg_enabled };
        struct cg_hier *h = NULL;
        struct cg_vm *vm = NULL;
        struct qc_err e = { 0 };

        if (cg_hier_open_ops(root, &ops, &h, &e) < 0) {
                ok(0, "open with an ops table: %s", e.msg);
                return;
        }
        n_mkdir = n_rmdir = 0;
        is_int(cg_vm_create(h, "ops/level", "vm9", 0, 2, &vm, &e), 0, "create through the ops table");
        /* ops/, ops/level/, vm9/, emulator/, vcpu0/, vcpu1/ */
        is_int(n_mkdir, 6, "every cgroup made through ops->mkdirat");
        ok(exists("ops/level/vm9/vcpu1/cgroup.threads"), "the double gave it the kernel's files");
        is_int(cg_vm_remove(vm, 1000, &e), 0, "remove: %s", e.msg);
        /* emulator/, vcpu0/, vcpu1/, vm9/ */
        is_int(n_rmdir, 4, "every cgroup removed through ops->rmdirat");
        ok(!exists("ops/level/vm9"), "gone");
        cg_vm_free(vm);
        cg_hier_free(h);
}

/* /proc/PID/cgroup: the one "0::" line, wherever it stands */
static void test_proc_cgroup(void)
{
        static const struct {
                const char *text, *want; /* NULL: no cgroup2 line */
        } cases[] = {
                { "0::/qemuctl/vm1/emulator\n", "qemuctl/vm1/emulator" },
                { "12:memory:/user.slice\n1:name=systemd:/x\n0::/a/b\n", "a/b" },
                { "0::/\n", "" },
                { "0::/last/line/without/newline", "last/line/without/newline" },
                { "12:memory:/user.slice\n", NULL },
                { "", NULL },
        };

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char *rel = NULL;
                int r = cg_proc_cgroup_parse(cases[i].text, &rel, NULL);

                if (cases[i].want)
                        ok(r == 1 && rel && strcmp(rel, cases[i].want) == 0, "proc cgroup case %zu: \"%s\" (%s)", i,
                           cases[i].want, rel ? rel : "none");
                else
                        ok(r == 0 && !rel, "proc cgroup case %zu: no cgroup2 line", i);
                free(rel);
        }
}

int main(void)
{
        struct cg_hier *h = NULL;
        struct qc_err e = { 0 };
        char cmd[600];

        snprintf(root, sizeof root, "/tmp/qemuctl-test-cgroups-XXXXXX");
        if (!mkdtemp(root))
                tap_skip_all("cannot make a temp dir");
        make_root();
        test_mountinfo();
        test_names();
        test_proc_cgroup();
        if (fakecg_open(root, &h, &e) < 0) {
                printf("# %s\n", e.msg);
                return 1;
        }
        test_vm(h);
        test_refusals(h);
        cg_hier_free(h);
        test_injected_ops();
        test_delegated_leaf();
        test_delegation_mark();
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        if (system(cmd) != 0)
                tap_diag("could not remove %s", root);
        return tap_done();
}
