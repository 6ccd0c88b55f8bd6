/* memtune on a running VM: the VM file's five limits on the VM's cgroup v2. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../common/size.h"
#include "vm-placement.h"

static const struct {
        const char *name, *file, *spec;
} keys[_VM_MEMTUNE_MAX] = {
        [VM_MEMTUNE_HARD] = { "hard", "memory.max", "memory.limits.hard" },
        [VM_MEMTUNE_SOFT] = { "soft", "memory.high", "memory.limits.soft" },
        [VM_MEMTUNE_LOW] = { "low", "memory.low", "memory.limits.low" },
        [VM_MEMTUNE_SWAP] = { "swap", "memory.swap.max", "memory.limits.swap" },
        [VM_MEMTUNE_MIN] = { "min", "memory.min", "memory.limits.min" },
};

const char *vm_memtune_key_to_string(enum vm_memtune_key k)
{
        return k >= 0 && k < _VM_MEMTUNE_MAX ? keys[k].name : NULL;
}

enum vm_memtune_key vm_memtune_key_from_string(const char *s)
{
        for (int k = 0; s && k < _VM_MEMTUNE_MAX; k++)
                if (strcmp(s, keys[k].name) == 0)
                        return (enum vm_memtune_key)k;
        return _VM_MEMTUNE_INVALID;
}

const char *vm_memtune_key_file(enum vm_memtune_key k)
{
        return k >= 0 && k < _VM_MEMTUNE_MAX ? keys[k].file : NULL;
}

const char *vm_memtune_key_spec(enum vm_memtune_key k)
{
        return k >= 0 && k < _VM_MEMTUNE_MAX ? keys[k].spec : NULL;
}

void vm_memtune_from_spec(const struct vm_spec *spec, struct vm_memtune *ret)
{
        struct vm_memtune m = { 0 };

        for (int k = 0; k < _VM_MEMTUNE_MAX; k++)
                m.set[k] = true;
        m.value[VM_MEMTUNE_HARD] = spec->memory.hard_limit ? spec->memory.hard_limit : VM_MEMTUNE_UNLIMITED;
        m.value[VM_MEMTUNE_SOFT] = spec->memory.soft_limit ? spec->memory.soft_limit : VM_MEMTUNE_UNLIMITED;
        m.value[VM_MEMTUNE_LOW] = spec->memory.low_limit;
        m.value[VM_MEMTUNE_SWAP] = spec->memory.swap_limit_set || spec->memory.swap_limit ? spec->memory.swap_limit
                                                                                          : VM_MEMTUNE_UNLIMITED;
        m.value[VM_MEMTUNE_MIN] = spec->memory.min_guarantee;
        *ret = m;
}

int vm_memtune_read(int dirfd, struct vm_memtune *ret, struct qc_err *err)
{
        struct vm_memtune m = { 0 };

        for (int k = 0; k < _VM_MEMTUNE_MAX; k++) {
                _cleanup_free_ char *text = NULL;
                struct qc_err e2 = { 0 };
                char *end;

                if (cg_read(dirfd, keys[k].file, &text, &e2) < 0) {
                        if (e2.code == ENOENT)
                                continue;
                        return qc_err_pass(err, &e2);
                }
                text[strcspn(text, "\n")] = '\0';
                if (!text[0])
                        continue; /* only in a fake tree: a file nobody wrote */
                if (strcmp(text, "max") == 0) {
                        m.value[k] = VM_MEMTUNE_UNLIMITED;
                } else {
                        errno = 0;
                        m.value[k] = strtoull(text, &end, 10);
                        if (errno || end == text || *end)
                                return qc_err_set(err, EINVAL, "%s: expected a number or \"max\", got \"%s\"",
                                                  keys[k].file, text);
                }
                m.set[k] = true;
        }
        *ret = m;
        return 0;
}

int vm_memtune_write(int dirfd, const struct vm_memtune *m, struct qc_err *err)
{
        /* guarantee and throttle before the cap */
        static const enum vm_memtune_key order[] = { VM_MEMTUNE_MIN, VM_MEMTUNE_LOW, VM_MEMTUNE_SOFT,
                                                     VM_MEMTUNE_HARD, VM_MEMTUNE_SWAP };

        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                enum vm_memtune_key k = order[i];
                char buf[32];

                if (!m->set[k])
                        continue;
                if (m->value[k] == VM_MEMTUNE_UNLIMITED)
                        snprintf(buf, sizeof buf, "max");
                else
                        snprintf(buf, sizeof buf, "%" PRIu64, m->value[k]);
                if (cg_write(dirfd, keys[k].file, buf, err) < 0)
                        return qc_err_wrap(err, "%s", keys[k].name);
        }
        return 0;
}

int vm_memtune_get(struct vm_placement *p, struct vm_memtune *ret, bool *ret_live, struct qc_err *err)
{
        struct vm_live *live = p->live;

        if (live->cg && (p->usable & CG_MASK(CG_MEMORY))) {
                if (vm_memtune_read(cg_vm_fd(live->cg), ret, err) < 0)
                        return qc_err_wrap(err, "cgroup %s", cg_vm_path(live->cg));
                *ret_live = true;
                return 0;
        }
        vm_memtune_from_spec(live->spec, ret);
        *ret_live = false;
        return 0;
}

char *vm_memtune_missing(const struct vm_placement *p, const char *what)
{
        char *s = NULL;

        if (!p->hier)
                (void)!asprintf(&s,
                                "%s needs the cgroup v2 \"memory\" controller, but this host has no cgroup2 hierarchy. "
                                "Mount one (mount -t cgroup2 none /sys/fs/cgroup)",
                                what);
        else if (!(p->usable & CG_MASK(CG_MEMORY)))
                (void)!asprintf(&s,
                                "%s needs the cgroup v2 \"memory\" controller, but this host's cgroup2 hierarchy (%s) "
                                "does not offer it (%s). %s",
                                what, cg_hier_path(p->hier), cg_missing_reason(p->hier, CG_MEMORY, p->refused),
                                (p->refused & CG_MASK(CG_MEMORY))
                                        ? "Use a cgroup.parent where it can be enabled (a delegated subtree with no "
                                          "processes of its own)"
                                : (cg_hier_v1_mask(p->hier) & CG_MASK(CG_MEMORY))
                                        ? "Boot with systemd.unified_cgroup_hierarchy=1"
                                        : "Use a kernel built with it");
        else if (!p->live->cg)
                (void)!asprintf(&s,
                                "%s needs the VM's cgroup, but QEMU (pid %d) runs in no cgroup of its own. Restart "
                                "the VM with qemuctl start",
                                what, (int)p->live->qemu_pid);
        return s;
}

void vm_memtune_to_spec(struct vm_spec *spec, const struct vm_memtune *m)
{
        uint64_t v;

        for (int k = 0; k < _VM_MEMTUNE_MAX; k++) {
                if (!m->set[k])
                        continue;
                /* the VM file has no "unlimited": unset means it */
                v = m->value[k] == VM_MEMTUNE_UNLIMITED ? 0 : m->value[k];
                switch ((enum vm_memtune_key)k) {
                case VM_MEMTUNE_HARD:
                        spec->memory.hard_limit = v;
                        break;
                case VM_MEMTUNE_SOFT:
                        spec->memory.soft_limit = v;
                        break;
                case VM_MEMTUNE_LOW:
                        spec->memory.low_limit = v;
                        break;
                case VM_MEMTUNE_SWAP:
                        spec->memory.swap_limit = v;
                        spec->memory.swap_limit_set = m->value[k] != VM_MEMTUNE_UNLIMITED;
                        break;
                case VM_MEMTUNE_MIN:
                        spec->memory.min_guarantee = v;
                        break;
                case _VM_MEMTUNE_MAX:
                case _VM_MEMTUNE_INVALID:
                default:
                        break;
                }
        }
}

/* The limits after the change: min must not exceed hard. The kernel takes
 * any values, but a memory.min above memory.max guarantees what can never be
 * had. A soft limit above the hard one is allowed, as libvirt allows it:
 * memory.high then never bites. */
int vm_memtune_check(const struct vm_memtune *now, const struct vm_memtune *m, struct qc_err *err)
{
        uint64_t v[_VM_MEMTUNE_MAX];
        char a[32], b[32];

        for (int k = 0; k < _VM_MEMTUNE_MAX; k++)
                v[k] = m->set[k]     ? m->value[k]
                       : now->set[k] ? now->value[k]
                       : (k == VM_MEMTUNE_MIN || k == VM_MEMTUNE_LOW ? 0 : VM_MEMTUNE_UNLIMITED);
        if (v[VM_MEMTUNE_HARD] == VM_MEMTUNE_UNLIMITED)
                return 0;
        format_size(v[VM_MEMTUNE_HARD], b, sizeof b);
        if (v[VM_MEMTUNE_MIN] != VM_MEMTUNE_UNLIMITED && v[VM_MEMTUNE_MIN] > v[VM_MEMTUNE_HARD]) {
                format_size(v[VM_MEMTUNE_MIN], a, sizeof a);
                return qc_err_set(err, EINVAL, "min guarantee %s is above the hard limit %s", a, b);
        }
        if (v[VM_MEMTUNE_LOW] != VM_MEMTUNE_UNLIMITED && v[VM_MEMTUNE_LOW] > v[VM_MEMTUNE_HARD]) {
                format_size(v[VM_MEMTUNE_LOW], a, sizeof a);
                return qc_err_set(err, EINVAL, "low (the contention limit) %s is above the hard limit %s", a, b);
        }
        return 0;
}

/* virsh's swap_hard_limit is memory + swap; cgroup v2's memory.swap.max is
 * swap alone: swap = total - hard. */
int vm_memtune_resolve_swap(const struct vm_memtune *now, struct vm_memtune *m, struct qc_err *err)
{
        uint64_t hard = m->set[VM_MEMTUNE_HARD] ? m->value[VM_MEMTUNE_HARD]
                        : now->set[VM_MEMTUNE_HARD] ? now->value[VM_MEMTUNE_HARD]
                                                    : VM_MEMTUNE_UNLIMITED;
        char a[32], b[32];

        if (m->set[VM_MEMTUNE_SWAP] && !m->swap_resolved)
                return qc_err_set(err, EINVAL, "swap_hard_limit (memory + swap) and swap (swap alone) both given; "
                                               "give one");
        if (m->swap_total == VM_MEMTUNE_UNLIMITED) {
                m->value[VM_MEMTUNE_SWAP] = VM_MEMTUNE_UNLIMITED;
        } else if (hard == VM_MEMTUNE_UNLIMITED) {
                format_size(m->swap_total, a, sizeof a);
                return qc_err_set(err, EINVAL,
                                  "swap_hard_limit %s is memory plus swap (virsh's meaning), but there is no hard "
                                  "limit to subtract: set one too (--hard-limit), or give the swap alone (--swap)",
                                  a);
        } else if (m->swap_total < hard) {
                format_size(m->swap_total, a, sizeof a);
                format_size(hard, b, sizeof b);
                return qc_err_set(err, EINVAL,
                                  "swap_hard_limit %s is memory plus swap (virsh's meaning), and is below the hard "
                                  "limit %s: it must be at least the hard limit (equal: no swap)",
                                  a, b);
        } else {
                m->value[VM_MEMTUNE_SWAP] = m->swap_total - hard;
        }
        m->set[VM_MEMTUNE_SWAP] = true;
        m->swap_resolved = true;
        return 0;
}

int vm_memtune_set(struct vm_placement *p, struct vm_memtune *m, struct qc_err *err)
{
        struct vm_live *live = p->live;
        struct vm_memtune now;
        _cleanup_free_ char *missing = NULL;
        char what[192] = "";

        for (int k = 0; k < _VM_MEMTUNE_MAX; k++)
                if (m->set[k] || (k == VM_MEMTUNE_SWAP && m->swap_total_set))
                        snprintf(what + strlen(what), sizeof what - strlen(what), "%s%s (%s)",
                                 what[0] ? ", " : "", keys[k].name, keys[k].file);
        if (!what[0])
                return 0;
        missing = vm_memtune_missing(p, what);
        if (missing)
                return qc_err_set(err, EOPNOTSUPP, "%s", missing);
        if (vm_memtune_read(cg_vm_fd(live->cg), &now, err) < 0)
                return qc_err_wrap(err, "cgroup %s", cg_vm_path(live->cg));
        if (m->swap_total_set && vm_memtune_resolve_swap(&now, m, err) < 0)
                return -1;
        if (vm_memtune_check(&now, m, err) < 0)
                return -1;
        if (vm_memtune_write(cg_vm_fd(live->cg), m, err) < 0)
                return qc_err_wrap(err, "cgroup %s", cg_vm_path(live->cg));
        vm_memtune_to_spec(live->spec, m);
        return vm_placement_record(p, err);
}
