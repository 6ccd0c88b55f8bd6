/* launcher/placement + privs: controller checks per key, NUMA nodes,
 * hugepages, RLIMIT_MEMLOCK, cgroup writes (fake tree), vCPU placement,
 * and dropping privileges in a forked child. */
#include <errno.h>
#include <pwd.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups/cgroups-internal.h"
#include "tests/lib/fakecg.h"
#include "common/io.h"
#include "launcher/placement.h"
#include "launcher/privs.h"
#include "tests/tap.h"

static char root[256];

static void put(const char *rel, const char *content)
{
        char path[600];

        snprintf(path, sizeof path, "%s%s", root, rel);
        for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
                *p = '\0';
                mkdir(path, 0755);
                *p = '/';
        }
        if (write_file(path, content, 0644) < 0)
                printf("# cannot write %s\n", path);
}

static const char *slurp(const char *rel)
{
        static char bufs[4][1024];
        static int next;
        char path[600], *s = NULL, *b = bufs[next++ % 4];

        snprintf(path, sizeof path, "%s%s", root, rel);
        if (read_file(path, 0, &s, NULL) < 0)
                return "<missing>";
        snprintf(b, 1024, "%s", s);
        free(s);
        return b;
}

static void base_spec(struct vm_spec *s)
{
        memset(s, 0, sizeof *s);
        s->name = "vm1";
        s->cpu.vcpus = s->cpu.max = 2;
        s->memory.size = 4ull << 30;
        s->memory.merge = true;
}

static const struct placement_issue *find_issue(const struct placement_issues *is, const char *key)
{
        for (size_t i = 0; i < is->n; i++)
                if (strcmp(is->v[i].key, key) == 0)
                        return &is->v[i];
        return NULL;
}

static void test_controllers(void)
{
        struct vm_spec s;
        struct vm_vcpu_pin pins[1];
        struct cg_hier *h = NULL;
        struct placement_issues is = { 0 };
        const struct placement_issue *p;
        struct qc_err e = { 0 };

        base_spec(&s);
        is_int(placement_wanted_controllers(&s), 0, "a plain VM needs no controller");
        cpuset_parse("1", &pins[0].cpus, NULL);
        pins[0].vcpu = 0;
        s.cpu.pins = pins, s.cpu.n_pins = 1;
        s.numa.has_nodeset = true;
        cpuset_parse("0", &s.numa.nodeset, NULL);
        s.memory.hard_limit = 9ull << 30;
        s.memory.min_guarantee = 1ull << 30;
        s.cpu.weight = 100;
        s.cgroup.pids_max = 1024;
        is_int(placement_wanted_controllers(&s),
               CG_MASK(CG_CPUSET) | CG_MASK(CG_MEMORY) | CG_MASK(CG_CPU) | CG_MASK(CG_PIDS),
               "pin/nodeset -> cpuset, limits -> memory, weight -> cpu, pids_max -> pids");

        if (fakecg_open(root, &h, &e) < 0) {
                ok(0, "open a hierarchy handle: %s", e.msg);
                return;
        }
        /* this host's shape: everything but hugetlb bound to v1 */
        h->v1_mask = CG_MASK(CG_CPUSET) | CG_MASK(CG_CPU) | CG_MASK(CG_MEMORY) | CG_MASK(CG_PIDS);
        is_int(placement_check_controllers(&s, h, CG_MASK(CG_HUGETLB), 0, &is, &e), 0, "check controllers");
        is_int(is.n, 6, "six keys lack their controller");
        is_int(is.n_fatal, 4, "four of them cannot fall back");
        p = find_issue(&is, "memory.limits.hard");
        ok(p && p->fatal, "memory.limits.hard is refused");
        if (p) {
                char want[1024];
                snprintf(want, sizeof want,
                         "memory.limits.hard needs the cgroup v2 \"memory\" controller, but this host's cgroup2 "
                         "hierarchy (%s) does not offer it (it is bound to cgroup v1 — hybrid "
                         "mode). Boot with systemd.unified_cgroup_hierarchy=1, or remove memory.limits.hard.",
                         root);
                is_str(p->msg, want, "memory.limits.hard: the whole message");
        }
        ok(find_issue(&is, "memory.limits.min") && !find_issue(&is, "memory.limits.soft"),
           "only the keys that are set are listed");
        p = find_issue(&is, "cpu.pin");
        ok(p && !p->fatal, "cpu.pin falls back (a warning)");
        ok(p && strstr(p->msg, "sched_setaffinity") && strstr(p->msg, "\"cpuset\"") &&
                   strstr(p->msg, "hybrid mode"),
           "cpu.pin warning names the fallback, the controller and why: %s", p ? p->msg : "");
        p = find_issue(&is, "numa.nodeset");
        ok(p && !p->fatal && strstr(p->msg, "memory backend"), "numa.nodeset: a warning, RAM still bound");
        p = find_issue(&is, "cgroup.pids_max");
        ok(p && p->fatal && strstr(p->msg, "\"pids\""), "cgroup.pids_max refused, names pids");
        ok(find_issue(&is, "cpu.weight") && find_issue(&is, "cpu.weight")->fatal, "cpu.weight refused");
        placement_issues_done(&is);

        is_int(placement_check_controllers(&s, h, CG_MASK(CG_CPUSET) | CG_MASK(CG_CPU), CG_MASK(CG_MEMORY), &is, &e),
               0, "check with memory refused below the root");
        p = find_issue(&is, "memory.limits.hard");
        ok(p && strstr(p->msg, "refused") && strstr(p->msg, "cgroup.parent"),
           "refused: the fix is another cgroup.parent: %s", p ? p->msg : "");
        ok(!find_issue(&is, "cpu.pin"), "cpu.pin fine with cpuset usable");
        placement_issues_done(&is);
        cg_hier_free(h);
}

static void test_nodes(void)
{
        struct vm_spec s;
        struct cpuset host;
        struct qc_err e = { 0 };

        base_spec(&s);
        cpuset_parse("0", &host, NULL);
        is_int(placement_check_nodes(&s, &host, &e), 0, "no nodeset: fine");
        s.numa.has_nodeset = true;
        cpuset_parse("0,3", &s.numa.nodeset, NULL);
        is_int(placement_check_nodes(&s, &host, &e), -1, "node 3 on a one-node host");
        is_str(e.msg, "numa.nodeset: host node 3 does not exist; this host has node 0", "the message");
        cpuset_parse("0-1,4", &host, NULL);
        is_int(placement_check_nodes(&s, &host, &e), -1, "node 3 missing from 0-1,4");
        is_str(e.msg, "numa.nodeset: host node 3 does not exist; this host has nodes 0-1,4", "plural message");
        cpuset_parse("0", &s.numa.nodeset, NULL);
        is_int(placement_check_nodes(&s, &host, &e), 0, "node 0 exists");
        is_int(placement_host_nodes(&host, &e), 0, "this host's nodes (libnuma)");
        ok(cpuset_count(&host) >= 1, "this host has at least one node");
}

static void test_hugepages(void)
{
        struct vm_spec s;
        struct qc_err e = { 0 };
        char mnt[300];

        base_spec(&s);
        is_int(placement_check_hugepages(&s, root, &e), 0, "no hugepages asked: fine");
        s.memory.hugepages = 2 << 20;
        put("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "512\n");
        put("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "300\n");
        put("/sys/kernel/mm/hugepages/hugepages-2048kB/resv_hugepages", "20\n");
        put("/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages", "256\n");
        put("/sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages", "100\n");
        put("/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages", "256\n");
        put("/sys/devices/system/node/node1/hugepages/hugepages-2048kB/free_hugepages", "200\n");
        is_int(placement_check_hugepages(&s, root, &e), -1, "4G of 2M pages with 280 available");
        is_str(e.msg,
               "memory.hugepages: the guest's 4 GiB needs 2048 free 2M pages, but this host has 280 (300 free, "
               "20 reserved by others, 512 in all). Reserve more: echo 2280 > "
               "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages",
               "numbers and the fix");
        s.memory.size = 256ull << 20;
        is_int(placement_check_hugepages(&s, root, &e), 0, "256M = 128 pages fits in 280");
        s.memory.size = 512ull << 20; /* 256 pages */
        s.numa.has_nodeset = true;
        s.numa.policy = VM_NUMA_STRICT;
        cpuset_parse("1", &s.numa.nodeset, NULL);
        is_int(placement_check_hugepages(&s, root, &e), -1, "strict on node 1: 200 free < 256");
        ok(strstr(e.msg, "on host node 1, but they have 200") &&
                   strstr(e.msg, "echo 312 > /sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages"),
           "per-node numbers and fix: %s", e.msg);
        cpuset_parse("0-1", &s.numa.nodeset, NULL);
        is_int(placement_check_hugepages(&s, root, &e), 0, "strict on nodes 0-1: 300 free >= 256");
        s.numa.policy = VM_NUMA_PREFERRED;
        cpuset_parse("1", &s.numa.nodeset, NULL);
        is_int(placement_check_hugepages(&s, root, &e), 0, "preferred: global count (280) used");
        s.memory.hugepages = 1 << 30;
        is_int(placement_check_hugepages(&s, root, &e), -1, "1G pages on a 2M-only host");
        is_str(e.msg, "memory.hugepages: this host has no 1G hugepages (it has: 2M)", "names the sizes there are");

        s.memory.hugepages = 2 << 20;
        s.memory.size = 2ull << 20;
        s.numa.has_nodeset = false;
        s.memory.hugepages_path = root;
        is_int(placement_check_hugepages(&s, root, &e), -1, "a tmp dir is not hugetlbfs");
        ok(strstr(e.msg, "is not a hugetlbfs mount") && strstr(e.msg, "mount -t hugetlbfs -o pagesize=2M"),
           "says so and how to mount: %s", e.msg);
        snprintf(mnt, sizeof mnt, "%s/huge", root);
        mkdir(mnt, 0755);
        if (mount("none", mnt, "hugetlbfs", 0, "pagesize=2M") == 0) {
                s.memory.hugepages_path = mnt;
                is_int(placement_check_hugepages(&s, root, &e), 0, "a real 2M hugetlbfs mount passes: %s", e.msg);
                s.memory.hugepages = 1 << 30;
                put("/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages", "4\n");
                put("/sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages", "4\n");
                is_int(placement_check_hugepages(&s, root, &e), -1, "2M mount for 1G pages refused");
                ok(strstr(e.msg, "of 2M pages, but memory.hugepages is 1G"), "page size mismatch: %s", e.msg);
                umount2(mnt, MNT_DETACH);
        } else
                tap_diag("cannot mount hugetlbfs here (%s): positive statfs case not run", strerror(errno));
}

static void test_memlock(void)
{
        struct vm_spec s;
        struct qc_err e = { 0 };
        pid_t pid;
        char path[64], *limits = NULL, *line;

        base_spec(&s);
        is_int(placement_memlock_bytes(&s), 0, "not locked: nothing");
        s.memory.locked = true;
        is_int(placement_memlock_bytes(&s), 5ull << 30, "locked 4G: 4G + 1G");
        s.memory.max = 16ull << 30;
        is_int(placement_memlock_bytes(&s), 17ull << 30, "locked, max 16G: 17G");
        s.memory.hard_limit = 9ull << 30;
        is_int(placement_memlock_bytes(&s), 9ull << 30, "hard limit wins: 9G");

        pid = fork();
        if (pid == 0) {
                pause();
                _exit(0);
        }
        {
                struct rlimit cur;
                uint64_t want_bytes = 9ull << 30;

                getrlimit(RLIMIT_MEMLOCK, &cur);
                if (placement_apply_memlock(pid, want_bytes, &e) < 0) {
                        /* without CAP_SYS_RESOURCE the hard limit only goes down */
                        ok(e.code == EPERM && cur.rlim_max < want_bytes && strstr(e.msg, "CAP_SYS_RESOURCE") &&
                                   strstr(e.msg, "memory.locked to false"),
                           "raising past the hard limit: a clear error: %s", e.msg);
                        want_bytes = cur.rlim_max > (4 << 20) ? (4 << 20) : cur.rlim_max;
                        is_int(placement_apply_memlock(pid, want_bytes, &e), 0, "lowering works: %s", e.msg);
                } else
                        ok(1, "prlimit raised the child's limit to 9G");
                snprintf(path, sizeof path, "/proc/%d/limits", (int)pid);
                read_file(path, 0, &limits, NULL);
                line = limits ? strstr(limits, "Max locked memory") : NULL;
                {
                        char w[80];
                        snprintf(w, sizeof w, "%llu", (unsigned long long)want_bytes);
                        ok(line && sscanf(line, "Max locked memory %79s", w) == 1 &&
                                   strtoull(w, NULL, 10) == want_bytes,
                           "child's Max locked memory is %llu", (unsigned long long)want_bytes);
                }
        }
        free(limits);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

static void test_apply_cgroup(void)
{
        struct vm_spec s;
        struct vm_vcpu_pin pins[1];
        struct cg_hier *h = NULL;
        struct cg_vm *vm = NULL;
        struct qc_err e = { 0 };
        unsigned all = CG_MASK(CG_CPUSET) | CG_MASK(CG_CPU) | CG_MASK(CG_MEMORY) | CG_MASK(CG_PIDS);
        cpu_set_t before, after;
        pid_t tid = (pid_t)syscall(SYS_gettid);

        put("/cg/cgroup.controllers", "cpuset cpu io memory pids");
        put("/cg/cgroup.subtree_control", "");
        put("/cg/cgroup.procs", "");
        base_spec(&s);
        s.memory.hard_limit = 9ull << 30;
        s.memory.soft_limit = 7ull << 30;
        s.memory.swap_limit = 1ull << 30;
        s.memory.min_guarantee = 4ull << 30;
        s.cpu.weight = 300;
        s.cpu.max_percent = 150;
        s.cgroup.pids_max = 1024;
        s.numa.has_nodeset = true;
        cpuset_parse("0", &s.numa.nodeset, NULL);
        s.cpu.has_emulator_pin = true;
        cpuset_parse("0-1", &s.cpu.emulator_pin, NULL);
        cpuset_parse("0", &pins[0].cpus, NULL);
        pins[0].vcpu = 1;
        s.cpu.pins = pins, s.cpu.n_pins = 1;
        {
                char cg[300];
                snprintf(cg, sizeof cg, "%s/cg", root);
                if (fakecg_open(cg, &h, &e) < 0 || cg_vm_create(h, "qemuctl", "vm1", all, 2, &vm, &e) < 0) {
                        ok(0, "fake VM cgroup: %s", e.msg);
                        cg_hier_free(h);
                        return;
                }
        }
        is_int(placement_apply_cgroup(&s, vm, all, &e), 0, "apply cgroup limits: %s", e.msg);
        ok(strcmp(slurp("/cg/qemuctl/vm1/emulator/cpuset.cpus"), "0-1\n") != 0,
           "emulator/cpuset.cpus is left for once the vCPU threads are out of emulator/");
        is_int(placement_apply_emulator_pin(&s, vm, all, &e), 0, "apply the emulator pin: %s", e.msg);
        is_str(slurp("/cg/qemuctl/vm1/memory.max"), "9663676416\n", "memory.limits.hard -> memory.max");
        is_str(slurp("/cg/qemuctl/vm1/memory.high"), "7516192768\n", "memory.limits.soft -> memory.high");
        is_str(slurp("/cg/qemuctl/vm1/memory.swap.max"), "1073741824\n", "memory.limits.swap -> memory.swap.max");
        is_str(slurp("/cg/qemuctl/vm1/memory.min"), "4294967296\n", "memory.limits.min -> memory.min");
        is_str(slurp("/cg/qemuctl/vm1/pids.max"), "1024\n", "cgroup.pids_max -> pids.max");
        is_str(slurp("/cg/qemuctl/vm1/cpu.weight"), "300\n", "cpu.weight");
        is_str(slurp("/cg/qemuctl/vm1/cpu.max"), "150000 100000\n", "cpu.max_percent 150 -> cpu.max");
        is_str(slurp("/cg/qemuctl/vm1/cpuset.mems"), "0\n", "numa.nodeset -> cpuset.mems");
        is_str(slurp("/cg/qemuctl/vm1/emulator/cpuset.cpus"), "0-1\n", "cpu.emulator_pin -> emulator/cpuset.cpus");

        sched_getaffinity(0, sizeof before, &before);
        is_int(placement_place_vcpu(&s, vm, all, 1, tid, &e), 0, "place pinned vCPU 1 (our own thread): %s", e.msg);
        {
                char t[32];
                snprintf(t, sizeof t, "%d\n", (int)tid);
                is_str(slurp("/cg/qemuctl/vm1/vcpu1/cgroup.threads"), t, "tid into vcpu1/cgroup.threads");
        }
        sched_getaffinity(0, sizeof after, &after);
        ok(CPU_COUNT(&after) == 1 && CPU_ISSET(0, &after), "thread affinity is CPU 0 (cpu.pin.1)");
        is_str(slurp("/cg/qemuctl/vm1/vcpu1/cpuset.cpus"), "0\n", "vcpu1/cpuset.cpus = 0");
        is_int(placement_place_vcpu(&s, vm, all, 0, tid, &e), 0, "unpinned vCPU 0 with a pinned emulator");
        sched_getaffinity(0, sizeof after, &after);
        ok(CPU_COUNT(&after) == sysconf(_SC_NPROCESSORS_ONLN), "unpinned vCPU gets every CPU back");
        is_str(slurp("/cg/qemuctl/vm1/vcpu0/cpuset.cpus"), "", "no cpuset.cpus for an unpinned vCPU");
        is_int(placement_place_vcpu(&s, vm, 0, 1, tid, &e), 0, "pinned vCPU without cpuset: affinity only");
        sched_getaffinity(0, sizeof after, &after);
        ok(CPU_COUNT(&after) == 1 && CPU_ISSET(0, &after), "fallback: affinity still pins");
        is_str(slurp("/cg/qemuctl/vm1/vcpu1/cpuset.cpus"), "0\n", "fallback: cpuset.cpus not written again");
        sched_setaffinity(0, sizeof before, &before);
        cg_vm_free(vm);
        cg_hier_free(h);
}

/* Child: drop, then report what the kernel says, one "key value" per line. */
static void privs_child(const struct privs *p, int report, int stray)
{
        struct qc_err e = { 0 };
        char *status = NULL, out[2048];
        int keep[] = { report };
        int n;

        if (privs_apply(p, keep, 1, &e) < 0) {
                n = snprintf(out, sizeof out, "error %s\n", e.msg);
                (void)!write(report, out, (size_t)n);
                _exit(1);
        }
        read_file("/proc/self/status", 0, &status, NULL);
        n = snprintf(out, sizeof out, "%sstray_closed %d\nreport_open %d\n", status ? status : "",
                     fcntl(stray, F_GETFD) < 0 && errno == EBADF, fcntl(report, F_GETFD) >= 0);
        (void)!write(report, out, (size_t)n);
        _exit(0);
}

static const char *field(const char *text, const char *key, char *buf, size_t len)
{
        const char *p = strstr(text, key);

        if (!p)
                return "<absent>";
        p += strlen(key);
        while (*p == ' ' || *p == '\t' || *p == ':')
                p++;
        snprintf(buf, len, "%.*s", (int)strcspn(p, "\n"), p);
        return buf;
}

static void test_privs(void)
{
        struct privs p = { 0 };
        struct qc_err e = { 0 };
        int pfd[2], stray;
        pid_t pid;
        char text[8192] = "", b[128], want[64];
        ssize_t n, len = 0;
        int status;

        is_int(privs_resolve("no-such-user-qemuctl", NULL, &p, &e), -1, "unknown user refused");
        is_str(e.msg, "security.user: no user \"no-such-user-qemuctl\" on this host", "names the user");
        is_int(privs_resolve(NULL, "no-such-group-qemuctl", &p, &e), -1, "unknown group refused");
        is_int(privs_resolve(NULL, NULL, &p, &e), 0, "no user: keep identity");
        ok(!p.change_ids && !p.drop_caps, "nothing to change");
        privs_done(&p);

        /* ids as numbers: the id itself, with its passwd entry when it has one */
        struct passwd *pw = getpwuid(0);
        is_int(privs_resolve("0", NULL, &p, &e), 0, "uid 0 as a number: %s", e.msg);
        ok(p.uid == 0 && pw && p.gid == pw->pw_gid && p.n_groups >= 1, "its entry's primary and supplementary groups");
        privs_done(&p);
        /* an id no entry has (the first free one from 3999999 down) */
        uid_t lone = 3999999;
        while (getpwuid(lone))
                lone--;
        char lone_s[16];
        snprintf(lone_s, sizeof lone_s, "%u", (unsigned)lone);
        qc_err_clear(&e);
        is_int(privs_resolve(lone_s, NULL, &p, &e), -1, "a uid without an entry and no group is refused");
        ok(strstr(e.msg, "give security.group too") != NULL, "saying what to add: %s", e.msg);
        is_int(privs_resolve(lone_s, "3999998", &p, &e), 0, "with a numeric group it is taken: %s", e.msg);
        ok(p.change_ids && p.uid == lone && p.gid == 3999998 && p.n_groups == 0,
           "uid and gid as given, no supplementary groups");
        privs_done(&p);
        qc_err_clear(&e);
        is_int(privs_resolve("4294967295", NULL, &p, &e), -1, "uid (uid_t)-1 is refused");
        ok(e.code == ERANGE, "out of range: %s", e.msg);
        uint32_t id = 0;
        is_int(privs_parse_id("65534", &id), 1, "\"65534\" is an id");
        is_int((int)id, 65534, "... 65534");
        is_int(privs_parse_id("qemu", &id), 0, "\"qemu\" is a name");
        is_int(privs_parse_id("12a", &id), 0, "\"12a\" is a name");
        is_int(privs_parse_id("99999999999999999999999", &id), -ERANGE, "a long number is out of range");
        if (geteuid() != 0) {
                tap_diag("not root: dropping to nobody not tested");
                return;
        }
        if (privs_resolve("nobody", "nogroup", &p, &e) < 0) {
                tap_diag("no nobody/nogroup here: %s", e.msg);
                return;
        }
        ok(p.change_ids && p.drop_caps && p.no_new_privs, "nobody: change ids, drop caps, no_new_privs");
        if (pipe2(pfd, O_CLOEXEC) < 0 || (stray = open("/dev/null", O_RDONLY)) < 0) {
                ok(0, "pipe/open");
                return;
        }
        pid = fork();
        if (pid == 0) {
                close(pfd[0]);
                privs_child(&p, pfd[1], stray);
        }
        close(pfd[1]);
        close(stray);
        while ((n = read(pfd[0], text + len, sizeof text - 1 - (size_t)len)) > 0)
                len += n;
        text[len] = '\0';
        close(pfd[0]);
        waitpid(pid, &status, 0);
        ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child dropped privileges (%s)",
           strncmp(text, "error", 5) == 0 ? text : "ok");
        snprintf(want, sizeof want, "%d\t%d\t%d\t%d", (int)p.uid, (int)p.uid, (int)p.uid, (int)p.uid);
        is_str(field(text, "\nUid", b, sizeof b), want, "Uid: nobody, all four");
        snprintf(want, sizeof want, "%d\t%d\t%d\t%d", (int)p.gid, (int)p.gid, (int)p.gid, (int)p.gid);
        is_str(field(text, "\nGid", b, sizeof b), want, "Gid: nogroup, all four");
        is_str(field(text, "\nCapEff", b, sizeof b), "0000000000000000", "CapEff empty");
        is_str(field(text, "\nCapPrm", b, sizeof b), "0000000000000000", "CapPrm empty");
        is_str(field(text, "\nCapInh", b, sizeof b), "0000000000000000", "CapInh empty");
        is_str(field(text, "\nCapBnd", b, sizeof b), "0000000000000000", "CapBnd (bounding set) empty");
        is_str(field(text, "\nCapAmb", b, sizeof b), "0000000000000000", "CapAmb empty");
        is_str(field(text, "\nNoNewPrivs", b, sizeof b), "1", "NoNewPrivs 1");
        is_str(field(text, "Umask", b, sizeof b), "0077", "umask 077");
        is_str(field(text, "stray_closed", b, sizeof b), "1", "an fd not in the keep list was closed");
        is_str(field(text, "report_open", b, sizeof b), "1", "the kept fd stayed open");
        privs_done(&p);
}

int main(void)
{
        char cmd[300];

        snprintf(root, sizeof root, "/tmp/qemuctl-test-placement-XXXXXX");
        if (!mkdtemp(root))
                tap_skip_all("cannot make a temp dir");
        test_controllers();
        test_nodes();
        test_hugepages();
        test_memlock();
        test_apply_cgroup();
        test_privs();
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        if (system(cmd) != 0)
                tap_diag("could not remove %s", root);
        return tap_done();
}
