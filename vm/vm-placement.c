/* The cgroup side of a running VM for the placement verbs, and the host's
 * online CPUs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../common/io.h"
#include "../launcher/launch-placement.h"
#include "vm-placement.h"

int vm_placement_open(struct vm_placement *p, struct vm_live *live, struct qc_err *err)
{
        _cleanup_free_ char *sub = NULL;
        const char *parent = launch_placement_parent(live->spec);
        struct cg_vm *cg = NULL;
        struct qc_err e2 = { 0 };
        bool placed;
        int r;

        *p = (struct vm_placement){ .live = live };
        live->cg = NULL;
        if (vm_host_online_cpus("", &p->online, err) < 0)
                return -1;
        /* Where QEMU really is tells where its cgroup is (an empty leftover
         * cgroup of that name says nothing about where a QEMU started
         * without cgroups runs): <parent>/<name>, or <delegated>/<name>,
         * whose hierarchy is that delegated cgroup and nothing above it. */
        placed = live->qemu_pid && launch_placement_find(live->qemu_pid, live->spec->name, &sub) == 1;
        if (placed && strcmp(sub, parent) != 0 && *sub) {
                r = cg_hier_open_sub(sub, &p->hier, &e2);
                parent = "";
        } else {
                r = cg_hier_open(NULL, &p->hier, &e2);
                if (placed)
                        parent = sub;
        }
        /* no cgroup2 at all: pinning still works through affinity */
        if (r < 0) {
                p->hier = NULL;
                return 0;
        }
        if (cg_usable(p->hier, parent, &p->usable, &p->refused, &e2) < 0)
                p->usable = p->refused = 0;
        if (!placed)
                return 0;
        if (cg_vm_open(p->hier, parent, live->spec->name, &cg, err) < 0) {
                vm_placement_done(p);
                return qc_err_wrap(err, "VM `%s`", live->spec->name);
        }
        live->cg = cg;
        live->cg_usable = p->usable;
        return 0;
}

void vm_placement_done(struct vm_placement *p)
{
        if (p->live && p->live->cg) {
                cg_vm_free(p->live->cg);
                p->live->cg = NULL;
        }
        cg_hier_free(p->hier);
        p->hier = NULL;
}

int vm_placement_record(struct vm_placement *p, struct qc_err *err)
{
        if (!p->live->record)
                return 0;
        if (p->live->record(p->live->userdata, p->live->spec, err) < 0)
                return qc_err_wrap(err, "record the change");
        return 0;
}

int vm_host_online_cpus(const char *sysroot, struct cpuset *ret, struct qc_err *err)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        struct cpuset cs;
        size_t pos = 0;
        int r;

        if (asprintf(&path, "%s/sys/devices/system/cpu/online", sysroot ? sysroot : "") < 0)
                return qc_err_set(err, ENOMEM, "out of memory");
        r = read_file(path, 65536, &text, NULL);
        if (r < 0)
                return qc_err_sys(err, -r, "read %s", path);
        text[strcspn(text, "\n")] = '\0';
        if (cpuset_parse(text, &cs, &pos) < 0)
                return qc_err_set(err, EINVAL, "%s: not a CPU list: \"%s\"", path, text);
        *ret = cs;
        return 0;
}

int vm_check_cpus(const struct cpuset *want, const struct cpuset *online, struct qc_err *err)
{
        int last = cpuset_last(want);

        for (int i = 0; i <= last; i++) {
                _cleanup_free_ char *have = NULL;

                if (!cpuset_isset(want, (unsigned)i) || cpuset_isset(online, (unsigned)i))
                        continue;
                have = cpuset_to_string(online);
                return qc_err_set(err, EINVAL, "CPU %d does not exist on this host (online: %s)", i,
                                  have ? have : "?");
        }
        return 0;
}

char *vm_placement_cpuset_note(const struct vm_placement *p, const char *what)
{
        char *s = NULL;

        if (p->live->cg && (p->usable & CG_MASK(CG_CPUSET)))
                return NULL;
        if (!p->hier)
                (void)!asprintf(&s, "%s with sched_setaffinity only: this host has no cgroup2 hierarchy", what);
        else if (!(p->usable & CG_MASK(CG_CPUSET)))
                (void)!asprintf(&s,
                                "%s with sched_setaffinity only: this host's cgroup2 hierarchy (%s) lacks the "
                                "\"cpuset\" controller (%s), so a thread inside QEMU could undo it",
                                what, cg_hier_path(p->hier), cg_missing_reason(p->hier, CG_CPUSET, p->refused));
        else
                (void)!asprintf(&s, "%s with sched_setaffinity only: QEMU runs in no cgroup of its own", what);
        return s;
}
