/* numatune and numastat on a running VM. */
#include <errno.h>
#include <fcntl.h>
#include <numa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/cleanup.h"
#include "../common/io.h"
#include "../common/proc.h"
#include "vm-placement.h"

static const char *const cat_names[_VM_NUMASTAT_CAT_MAX] = {
        [VM_NUMASTAT_HUGE] = "Huge",
        [VM_NUMASTAT_HEAP] = "Heap",
        [VM_NUMASTAT_STACK] = "Stack",
        [VM_NUMASTAT_PRIVATE] = "Private",
};

const char *vm_numastat_cat_to_string(enum vm_numastat_cat c)
{
        return c >= 0 && c < _VM_NUMASTAT_CAT_MAX ? cat_names[c] : NULL;
}

void vm_numastat_done(struct vm_numastat *s)
{
        free(s->bytes);
        s->bytes = NULL;
        s->n_nodes = 0;
}

static int grow(struct vm_numastat *s, unsigned n_nodes)
{
        uint64_t *b;

        if (n_nodes <= s->n_nodes)
                return 0;
        b = realloc(s->bytes, (size_t)n_nodes * _VM_NUMASTAT_CAT_MAX * sizeof *b);
        if (!b)
                return -ENOMEM;
        memset(b + (size_t)s->n_nodes * _VM_NUMASTAT_CAT_MAX, 0,
               (size_t)(n_nodes - s->n_nodes) * _VM_NUMASTAT_CAT_MAX * sizeof *b);
        s->bytes = b;
        s->n_nodes = n_nodes;
        return 0;
}

/* One numa_maps line, e.g.
 *   7f1c00000000 default anon=65536 dirty=65536 N0=65536 kernelpagesize_kB=4
 *   55d0c0a4c000 default heap anon=1010 dirty=1010 N0=1010 kernelpagesize_kB=4
 *   7ffd6d5e1000 default stack anon=9 dirty=9 N0=9 kernelpagesize_kB=4
 *   7f0000000000 bind:0 file=/dev/hugepages/x huge dirty=256 N0=256 kernelpagesize_kB=2048
 * The page size comes last, so the node counts are collected first. A
 * mapping with no resident pages has no N<node>= at all. */
static int parse_line(char *line, unsigned lineno, struct vm_numastat *s, struct qc_err *err)
{
        struct {
                unsigned node;
                unsigned long long pages;
        } cnt[64];
        size_t n = 0;
        unsigned long long page_kb = 4;
        enum vm_numastat_cat cat = VM_NUMASTAT_PRIVATE;
        char *save = NULL, *tok;
        unsigned field = 0;

        for (tok = strtok_r(line, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save), field++) {
                char *end;

                if (field < 2)
                        continue; /* address, policy */
                if (strcmp(tok, "huge") == 0)
                        cat = VM_NUMASTAT_HUGE;
                else if (strcmp(tok, "heap") == 0 && cat != VM_NUMASTAT_HUGE)
                        cat = VM_NUMASTAT_HEAP;
                else if ((strcmp(tok, "stack") == 0 || strncmp(tok, "stack:", 6) == 0) && cat == VM_NUMASTAT_PRIVATE)
                        cat = VM_NUMASTAT_STACK;
                else if (strncmp(tok, "kernelpagesize_kB=", 18) == 0) {
                        errno = 0;
                        page_kb = strtoull(tok + 18, &end, 10);
                        if (errno || end == tok + 18 || *end || !page_kb)
                                return qc_err_set(err, EINVAL, "numa_maps line %u: bad page size \"%s\"", lineno, tok);
                } else if (tok[0] == 'N' && tok[1] >= '0' && tok[1] <= '9') {
                        unsigned long node;
                        unsigned long long pages;

                        errno = 0;
                        node = strtoul(tok + 1, &end, 10);
                        if (errno || *end != '=' || node >= QC_CPUSET_MAX)
                                return qc_err_set(err, EINVAL, "numa_maps line %u: bad node count \"%s\"", lineno, tok);
                        pages = strtoull(end + 1, &end, 10);
                        if (errno || *end)
                                return qc_err_set(err, EINVAL, "numa_maps line %u: bad node count \"%s\"", lineno, tok);
                        if (n == ELEMENTSOF(cnt))
                                return qc_err_set(err, EINVAL, "numa_maps line %u: more than %zu nodes", lineno,
                                                  ELEMENTSOF(cnt));
                        cnt[n].node = (unsigned)node;
                        cnt[n++].pages = pages;
                }
        }
        for (size_t i = 0; i < n; i++) {
                if (grow(s, cnt[i].node + 1) < 0)
                        return qc_err_set(err, ENOMEM, "out of memory");
                s->bytes[cnt[i].node * _VM_NUMASTAT_CAT_MAX + cat] += cnt[i].pages * page_kb * 1024;
        }
        return 0;
}

int vm_numastat_parse(const char *text, struct vm_numastat *ret, struct qc_err *err)
{
        _cleanup_free_ char *copy = strdup(text);
        struct vm_numastat s = { 0 };
        char *line, *save = NULL;
        unsigned lineno = 0;

        if (!copy)
                return qc_err_set(err, ENOMEM, "out of memory");
        for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                lineno++;
                if (parse_line(line, lineno, &s, err) < 0) {
                        vm_numastat_done(&s);
                        return -1;
                }
        }
        *ret = s;
        return 0;
}

int vm_numastat_read(pid_t pid, struct vm_numastat *ret, struct qc_err *err)
{
        _cleanup_free_ char *text = NULL;
        char path[64];
        int r;

        snprintf(path, sizeof path, "/proc/%d/numa_maps", (int)pid);
        /* a QEMU with much guest RAM and many mappings: allow a big file */
        r = read_file(path, 256u << 20, &text, NULL);
        if (r == -ENOENT)
                return qc_err_set(err, ENOENT, "%s: no such file (QEMU has exited, or this kernel lacks CONFIG_NUMA)",
                                  path);
        if (r < 0)
                return qc_err_sys(err, -r, "read %s", path);
        if (vm_numastat_parse(text, ret, err) < 0)
                return qc_err_wrap(err, "%s", path);
        return 0;
}

/* "Mems_allowed_list:\t0-1" of /proc/PID/status. */
static int mems_allowed(pid_t pid, struct cpuset *ret)
{
        _cleanup_free_ char *text = NULL;
        char path[64], *p;
        size_t len, pos;

        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
        if (read_file(path, 65536, &text, NULL) < 0)
                return -1;
        /* text is ours: the value is cut at its line's end in place */
        p = (char *)proc_status_field(text, "Mems_allowed_list", &len);
        if (!p)
                return -1;
        p[len] = '\0';
        return cpuset_parse(p, ret, &pos) < 0 ? -1 : 0;
}

int vm_numatune_get(struct vm_placement *p, struct vm_numatune *ret, struct qc_err *err)
{
        struct vm_live *live = p->live;
        struct vm_numatune t = { .mode = live->spec->numa.policy, .has_nodeset = live->spec->numa.has_nodeset };

        t.nodeset = live->spec->numa.nodeset;
        t.has_mems_allowed = live->qemu_pid && mems_allowed(live->qemu_pid, &t.mems_allowed) == 0;
        if (live->cg && (p->usable & CG_MASK(CG_CPUSET))) {
                _cleanup_free_ char *text = NULL;
                struct qc_err e2 = { 0 };
                size_t pos;

                if (cg_read(cg_vm_fd(live->cg), "cpuset.mems.effective", &text, &e2) == 0) {
                        text[strcspn(text, "\n")] = '\0';
                        t.has_cgroup_mems = text[0] && cpuset_parse(text, &t.cgroup_mems, &pos) == 0;
                }
        }
        *ret = t;
        return 0;
}

/* cpuset.mems of the VM's cgroup, then of emulator/ and every vcpuN/ that
 * exists (not creating any). */
static int write_mems(struct cg_vm *cg, const char *mems, struct qc_err *err)
{
        if (cg_set_cpuset(cg_vm_fd(cg), NULL, mems, err) < 0)
                return qc_err_wrap(err, "cgroup %s", cg_vm_path(cg));
        if (cg_set_cpuset(cg_vm_emulator_fd(cg), NULL, mems, err) < 0)
                return qc_err_wrap(err, "cgroup %s/emulator", cg_vm_path(cg));
        for (unsigned i = 0; i < QC_CPUSET_MAX; i++) {
                _cleanup_close_ int fd = -1;
                char name[32];

                snprintf(name, sizeof name, "vcpu%u", i);
                fd = openat(cg_vm_fd(cg), name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0) {
                        if (errno == ENOENT)
                                break; /* vCPUs are numbered from 0 without holes in our layout */
                        return qc_err_sys(err, errno, "open cgroup %s/%s", cg_vm_path(cg), name);
                }
                if (cg_set_cpuset(fd, NULL, mems, err) < 0)
                        return qc_err_wrap(err, "cgroup %s/%s", cg_vm_path(cg), name);
        }
        return 0;
}

/* migrate_pages(2) for every page of pid onto nodes. Returns the pages the
 * kernel could not move. */
static long migrate(pid_t pid, const struct cpuset *nodes, struct qc_err *err)
{
        struct bitmask *to;
        long r;

        if (numa_available() < 0)
                return 0; /* no NUMA: one node, nothing to move */
        to = numa_allocate_nodemask();
        if (!to)
                return qc_err_set(err, ENOMEM, "out of memory");
        for (unsigned i = 0; i < to->size && i < QC_CPUSET_MAX; i++)
                if (cpuset_isset(nodes, i))
                        numa_bitmask_setbit(to, i);
        r = numa_migrate_pages((int)pid, numa_all_nodes_ptr, to);
        numa_free_nodemask(to);
        if (r < 0)
                return qc_err_sys(err, errno, "move the memory of QEMU (pid %d) with migrate_pages", (int)pid);
        return r;
}

int vm_numatune_set(struct vm_placement *p, const struct cpuset *host_nodes, const struct cpuset *nodeset,
                    const enum vm_numa_policy *mode, bool *ret_mode_deferred, long *ret_not_moved,
                    struct qc_err *err)
{
        struct vm_live *live = p->live;
        bool deferred = false;
        long not_moved = 0;

        if (nodeset) {
                _cleanup_free_ char *mems = cpuset_to_string(nodeset);

                if (!mems)
                        return qc_err_set(err, ENOMEM, "out of memory");
                if (placement_check_nodeset(nodeset, host_nodes, err) < 0)
                        return -1;
                if (live->cg && (p->usable & CG_MASK(CG_CPUSET)) && write_mems(live->cg, mems, err) < 0)
                        return qc_err_wrap(err, "numa nodeset %s", mems);
                /* cgroup v2 moves a cgroup's pages when cpuset.mems changes;
                 * without cpuset (a hybrid host) migrate_pages is what moves
                 * them, and it is harmless after the cgroup did */
                if (live->qemu_pid && (not_moved = migrate(live->qemu_pid, nodeset, err)) < 0)
                        return -1;
                live->spec->numa.has_nodeset = true;
                live->spec->numa.nodeset = *nodeset;
                spec_placement_taken(&live->spec->numa.placement, &live->spec->numa.has_placement);
        }
        if (mode && *mode != live->spec->numa.policy) {
                /* QEMU applies a memory backend's policy (mbind) when it
                 * creates the backend; there is no QMP to change it, and
                 * libvirt refuses a live mode change too */
                deferred = true;
                live->spec->numa.policy = *mode;
        }
        if ((nodeset || deferred) && vm_placement_record(p, err) < 0)
                return -1;
        if (ret_mode_deferred)
                *ret_mode_deferred = deferred;
        if (ret_not_moved)
                *ret_not_moved = not_moved;
        return 0;
}
