/* Checks across fields: the mistakes a user would otherwise find only when
 * QEMU refuses to start or dies later. Runs when every field parsed. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../common/size.h"
#include "spec-internal.h"

#define MIB (UINT64_C(1) << 20)

static const char *fmt_size(uint64_t v, char *buf, size_t len)
{
        format_size(v, buf, len);
        return buf;
}

/* cpu.max is unknown when it, or the vcpus it defaults to, did not parse */
static bool max_unknown(const struct spec_ctx *c)
{
        return jt_failed(c, c->n_max) || (!c->n_max && jt_failed(c, c->n_vcpus));
}

static void check_cpu(struct spec_ctx *c, struct vm_spec *s)
{
        const struct jt *at_cpu = c->n_cpu ? c->n_cpu : c->root;
        bool max_bad = max_unknown(c);

        if (!max_bad && !jt_failed(c, c->n_vcpus) && s->cpu.vcpus > s->cpu.max)
                diag(c, c->n_vcpus, "cpu.vcpus",
                     "%u vCPUs at start but cpu.max is %u; raise cpu.max to at least %u or lower cpu.vcpus", s->cpu.vcpus,
                     s->cpu.max, s->cpu.vcpus);
        if (s->cpu.topology_given && !max_bad && !jt_failed(c, c->n_topology)) {
                uint64_t prod = (uint64_t)s->cpu.sockets * s->cpu.cores * s->cpu.threads;
                if (prod != s->cpu.max)
                        diag(c, c->n_topology, "cpu.topology",
                             "sockets x cores x threads = %u x %u x %u = %" PRIu64
                             ", but QEMU needs it to equal cpu.max (%u); adjust the topology or cpu.max",
                             s->cpu.sockets, s->cpu.cores, s->cpu.threads, prod, s->cpu.max);
        } else if (!s->cpu.topology_given) {
                s->cpu.sockets = s->cpu.max;
                s->cpu.cores = s->cpu.threads = 1;
        }
        for (size_t i = 0; i < s->cpu.n_pins; i++) {
                const struct jt *k = c->n_pin_keys[i];
                if (!max_bad && s->cpu.pins[i].vcpu >= s->cpu.max) {
                        _cleanup_free_ char *p = path_key(c, "cpu.pin", k->key);
                        diag_at(c, k->key_line, k->key_col, p, "vCPU %u does not exist; vCPUs are 0 to %u (cpu.max is %u)",
                                s->cpu.pins[i].vcpu, s->cpu.max - 1, s->cpu.max);
                }
        }
        if (s->cpu.mode != VM_CPU_CUSTOM && c->n_model && !jt_failed(c, c->n_model))
                diag(c, c->n_model, "cpu.model", "only for \"mode\": \"custom\"; %s brings its own model",
                     vm_cpu_mode_to_string(s->cpu.mode));
        if (s->cpu.mode == VM_CPU_CUSTOM && !s->cpu.model) {
                /* TCG emulates "max" fully; under KVM "max" is the host's CPU */
                s->cpu.model = strdup("max");
                if (!s->cpu.model)
                        c->oom = true;
        }
        if (s->cpu.mode != VM_CPU_CUSTOM && s->accel == VM_ACCEL_TCG)
                diag(c, c->n_mode ? c->n_mode : at_cpu, "cpu.mode",
                     "%s needs KVM but accel is \"tcg\"; use \"mode\": \"custom\" with \"model\": \"max\" (all TCG can emulate)",
                     vm_cpu_mode_to_string(s->cpu.mode));
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
        return a + b < a ? UINT64_MAX : a + b;
}

static void check_hugepages(struct spec_ctx *c, struct vm_spec *s, bool size_bad)
{
        const struct jt *at = c->n_hugepages;
        uint64_t page = s->memory.hugepages;
        char a[32], b[32];

        if (!page || jt_failed(c, at))
                return;
        if (at->type == JT_OBJECT && jt_get(at, "size"))
                at = jt_get(at, "size");
        /* x86-64 has two huge page sizes */
        if (page != 2 * MIB && page != 1024 * MIB) {
                diag(c, at, at == c->n_hugepages ? "memory.hugepages" : "memory.hugepages.size",
                     "%s is not an x86-64 huge page size; use \"2M\" or \"1G\"", fmt_size(page, a, sizeof a));
                return;
        }
        fmt_size(page, b, sizeof b);
        if (!size_bad && s->memory.size % page)
                diag(c, c->n_size ? c->n_size : c->n_hugepages, "memory.size",
                     "%s is not a whole number of %s huge pages; make it a multiple of %s",
                     fmt_size(s->memory.size, a, sizeof a), b, b);
        if (s->memory.max && !jt_failed(c, c->n_mem_max) && s->memory.max % page)
                diag(c, c->n_mem_max, "memory.max", "%s is not a whole number of %s huge pages; make it a multiple of %s",
                     fmt_size(s->memory.max, a, sizeof a), b, b);
        if (s->memory.plugged && !jt_failed(c, c->n_plugged) && s->memory.plugged % page)
                diag(c, c->n_plugged, "memory.plugged",
                     "%s is not a whole number of %s huge pages; make it a multiple of %s",
                     fmt_size(s->memory.plugged, a, sizeof a), b, b);
        for (size_t i = 0; i < s->numa.n_cells; i++) {
                const struct jt *cell = c->n_cell_vals ? c->n_cell_vals[i] : NULL;
                const struct jt *m = cell ? jt_get(cell, "memory") : NULL;
                _cleanup_free_ char *p = NULL, *pp = NULL;

                if (!m || jt_failed(c, m) || s->numa.cells[i].memory % page == 0)
                        continue;
                p = path_idx(c, "numa.cells", i);
                pp = p ? path_key(c, p, "memory") : NULL;
                diag(c, m, pp, "%s is not a whole number of %s huge pages; each cell is backed by its own huge pages",
                     fmt_size(s->numa.cells[i].memory, a, sizeof a), b);
        }
}

static void check_limits(struct spec_ctx *c, struct vm_spec *s, bool size_bad)
{
        char a[32], b[32];
        bool hard = s->memory.hard_limit && !jt_failed(c, c->n_hard);
        bool soft = s->memory.soft_limit && !jt_failed(c, c->n_soft);
        bool min = s->memory.min_guarantee && !jt_failed(c, c->n_min);
        bool low = s->memory.low_limit && !jt_failed(c, c->n_low);

        if (c->n_locked && s->memory.locked && !c->n_hard)
                diag(c, c->n_locked, "memory.locked",
                     "locked memory needs memory.limits.hard, as in libvirt: locked pages can't be reclaimed, so the VM must have a ceiling");
        if (hard && !size_bad && s->memory.hard_limit < s->memory.size)
                diag(c, c->n_hard, "memory.limits.hard",
                     "%s is below memory.size (%s); the kernel would OOM-kill QEMU as the guest fills its RAM; allow the RAM plus QEMU's overhead",
                     fmt_size(s->memory.hard_limit, a, sizeof a), fmt_size(s->memory.size, b, sizeof b));
        /* soft above hard is allowed, as libvirt and memtune allow it
         * (memory.high past memory.max just never bites): `memtune
         * --hard-limit` below the soft limit records such a file */
        if (hard && min && s->memory.min_guarantee > s->memory.hard_limit)
                diag(c, c->n_min, "memory.limits.min", "%s is above the hard limit (%s); min must be at most hard",
                     fmt_size(s->memory.min_guarantee, a, sizeof a), fmt_size(s->memory.hard_limit, b, sizeof b));
        else if (soft && min && s->memory.min_guarantee > s->memory.soft_limit)
                diag(c, c->n_min, "memory.limits.min", "%s is above the soft limit (%s); min must be at most soft",
                     fmt_size(s->memory.min_guarantee, a, sizeof a), fmt_size(s->memory.soft_limit, b, sizeof b));
        if (hard && low && s->memory.low_limit > s->memory.hard_limit)
                diag(c, c->n_low, "memory.limits.low", "%s is above the hard limit (%s); low must be at most hard",
                     fmt_size(s->memory.low_limit, a, sizeof a), fmt_size(s->memory.hard_limit, b, sizeof b));
        if (c->n_limits && c->n_limits->type == JT_OBJECT) {
                static const char *const keys[] = { "hard", "soft", "low", "min" };
                const uint64_t vals[] = { s->memory.hard_limit, s->memory.soft_limit, s->memory.low_limit,
                                          s->memory.min_guarantee };
                for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                        const struct jt *k = jt_get(c->n_limits, keys[i]);
                        if (k && !jt_failed(c, k) && vals[i] == 0) {
                                _cleanup_free_ char *p = path_key(c, "memory.limits", keys[i]);
                                diag(c, k, p, "0 is not a limit; leave the key out for none");
                        }
                }
        }
}

static void check_memory(struct spec_ctx *c, struct vm_spec *s)
{
        const struct jt *at_mem = c->n_memory ? c->n_memory : c->root;
        const struct jt *at_size = c->n_size ? c->n_size : at_mem;
        bool size_bad = jt_failed(c, c->n_size);
        char a[32], b[32], c3[32];

        if (!c->n_size && s->numa.n_cells) {
                /* no size given: the cells say it */
                uint64_t sum = 0;
                size_bad = jt_failed(c, c->n_cells);
                for (size_t i = 0; i < s->numa.n_cells; i++)
                        sum = add_sat(sum, s->numa.cells[i].memory);
                s->memory.size = sum;
        }
        if (!size_bad && s->memory.size == 0) {
                diag(c, at_size, "memory.size", "a VM needs memory; give a size like \"1G\"");
                size_bad = true;
        } else if (!size_bad && s->memory.size % MIB) {
                diag(c, at_size, "memory.size", "%s is not a whole number of MiB; QEMU rounds guest RAM, so write it in M or G",
                     fmt_size(s->memory.size, a, sizeof a));
                size_bad = true;
        }
        if (c->n_slots && !c->n_mem_max)
                diag(c, c->n_slots, "memory.slots",
                     "slots need memory.max (the most memory the guest can grow to), like \"max\": \"16G\"");
        if (c->n_mem_max && !jt_failed(c, c->n_mem_max)) {
                if (!size_bad && s->memory.max <= s->memory.size)
                        diag(c, c->n_mem_max, "memory.max",
                             "%s must be above memory.size (%s): it is the room for hotplugged memory",
                             fmt_size(s->memory.max, a, sizeof a), fmt_size(s->memory.size, b, sizeof b));
                else if (s->memory.max % MIB)
                        diag(c, c->n_mem_max, "memory.max", "%s is not a whole number of MiB; write it in M or G",
                             fmt_size(s->memory.max, a, sizeof a));
                if (s->memory.hotplug == VM_MEM_HOTPLUG_DIMM && !c->n_slots)
                        diag(c, c->n_mem_max, "memory.max",
                             "DIMM hotplug needs memory.slots as well (how many DIMMs can be added), like \"slots\": 4; or use \"hotplug\": \"virtio-mem\"");
        }
        if (c->n_plugged && !jt_failed(c, c->n_plugged) && s->memory.plugged) {
                if (!c->n_mem_max)
                        diag(c, c->n_plugged, "memory.plugged",
                             "plugged memory needs memory.max, the most memory the guest can grow to");
                else if (!size_bad && !jt_failed(c, c->n_mem_max) &&
                         (s->memory.plugged > s->memory.max || s->memory.size > s->memory.max - s->memory.plugged))
                        diag(c, c->n_plugged, "memory.plugged",
                             "memory.size + plugged (%s + %s) is above memory.max (%s); lower it or raise memory.max",
                             fmt_size(s->memory.size, a, sizeof a), fmt_size(s->memory.plugged, b, sizeof b),
                             fmt_size(s->memory.max, c3, sizeof c3));
                else if (s->memory.plugged % MIB)
                        diag(c, c->n_plugged, "memory.plugged", "%s is not a whole number of MiB; write it in M or G",
                             fmt_size(s->memory.plugged, a, sizeof a));
        }
        if (s->memory.hotplug == VM_MEM_HOTPLUG_VIRTIO_MEM && !c->n_mem_max)
                diag(c, c->n_hotplug, "memory.hotplug", "virtio-mem needs memory.max, the most memory the guest can grow to");
        check_hugepages(c, s, size_bad);
        check_limits(c, s, size_bad);
}

static void check_numa(struct spec_ctx *c, struct vm_spec *s)
{
        struct cpuset seen;
        uint64_t sum = 0;
        char a[32], b[32];
        bool cover = !max_unknown(c), sums = true;

        if (!s->numa.n_cells || !c->n_cell_vals)
                return;
        cpuset_zero(&seen);
        for (size_t i = 0; i < s->numa.n_cells; i++) {
                const struct jt *cell = c->n_cell_vals[i], *k = cell ? jt_get(cell, "cpus") : NULL;
                const struct cpuset *cs = &s->numa.cells[i].cpus;
                _cleanup_free_ char *p = NULL, *pp = NULL;
                int last = cpuset_last(cs);

                sum = add_sat(sum, s->numa.cells[i].memory);
                if (!k || jt_failed(c, k)) {
                        cover = false;
                        continue;
                }
                p = path_idx(c, "numa.cells", i);
                pp = p ? path_key(c, p, "cpus") : NULL;
                if (!max_unknown(c) && last >= (int)s->cpu.max) {
                        diag(c, k, pp, "names vCPU %d, but vCPUs are 0 to %u (cpu.max is %u)", last, s->cpu.max - 1,
                             s->cpu.max);
                        cover = false;
                }
                if (cpuset_intersects(&seen, cs)) {
                        struct cpuset both;
                        char list[256];

                        for (size_t w = 0; w < QC_CPUSET_WORDS; w++)
                                both.bits[w] = seen.bits[w] & cs->bits[w];
                        if (cpuset_format(&both, list, sizeof list) < 0)
                                snprintf(list, sizeof list, "%d and more", cpuset_last(&both));
                        diag(c, k, pp, "%s %s %s already in an earlier cell; each vCPU belongs to exactly one cell",
                             cpuset_count(&both) == 1 ? "vCPU" : "vCPUs", list, cpuset_count(&both) == 1 ? "is" : "are");
                        cover = false;
                }
                cpuset_or(&seen, cs);
        }
        if (cover) {
                struct cpuset missing;
                char list[256];

                cpuset_zero(&missing);
                for (unsigned v = 0; v < s->cpu.max; v++)
                        if (!cpuset_isset(&seen, v))
                                cpuset_set(&missing, v);
                if (!cpuset_is_empty(&missing)) {
                        if (cpuset_format(&missing, list, sizeof list) < 0)
                                snprintf(list, sizeof list, "%d and more", cpuset_last(&missing));
                        diag(c, c->n_cells, "numa.cells",
                             "%s %s %s in no cell; the cells must cover every vCPU 0 to %u (cpu.max) exactly once",
                             cpuset_count(&missing) == 1 ? "vCPU" : "vCPUs", list,
                             cpuset_count(&missing) == 1 ? "is" : "are", s->cpu.max - 1);
                }
        }
        /* the sum only means something when every cell's memory was read */
        for (size_t i = 0; i < s->numa.n_cells && sums; i++) {
                const struct jt *cell = c->n_cell_vals[i], *m = cell ? jt_get(cell, "memory") : NULL;

                sums = m && !jt_failed(c, m);
        }
        /* (without memory.size, the size is the cells' sum) */
        if (sums && c->n_size && !jt_failed(c, c->n_size) && sum != s->memory.size)
                diag(c, c->n_cells, "numa.cells", "the cells' memory adds up to %s, but memory.size is %s; make them equal",
                     fmt_size(sum, a, sizeof a), fmt_size(s->memory.size, b, sizeof b));
}

/* OVMF's Secure Boot builds keep their variables safe with SMM, which
 * they support on q35 alone (their descriptors name pc-q35-* only). */
static void check_firmware(struct spec_ctx *c, struct vm_spec *s)
{
        if (s->firmware == VM_FIRMWARE_UEFI_SECURE && s->machine == VM_MACHINE_PC && !jt_failed(c, c->n_firmware))
                diag(c, c->n_firmware, "firmware",
                     "\"uefi-secure\" needs \"machine\": \"q35\"%s: Secure Boot firmware (OVMF with SMM) runs on q35 "
                     "only; use q35, or \"uefi\" without Secure Boot on pc",
                     /* the machine came from the OS profile, not the file */
                     s->os == VM_OS_WINDOWS_LEGACY && !jt_get(c->root, "machine")
                             ? " (\"os\": \"windows-legacy\" made it \"pc\"; give \"machine\": \"q35\")"
                             : "");
        /* swtpm's control socket is in the state dir (0700, ours): a QEMU
         * of another user cannot connect to it */
        if (s->tpm && s->security.user && !jt_failed(c, c->n_tpm))
                diag(c, c->n_tpm, "tpm",
                     "not with security.user yet: QEMU running as another user cannot reach swtpm's socket in the "
                     "state dir; leave out security.user, or the TPM");
        /* virtiofsd sandboxes itself in namespaces (root), and its socket
         * is in our state dir */
        if (spec_shares_memory(s) && s->security.user)
                diag(c, c->root, "shares",
                     "virtiofs shares are not with security.user yet: virtiofsd needs root for its sandbox and QEMU "
                     "of another user cannot reach its socket in the state dir; use \"mode\": \"9p\", or leave "
                     "out security.user");
}

/* libvirt's defaults: <vcpu placement> follows <numatune>'s and back,
 * unless the other section gives its own set (cpuset, nodeset) or its own
 * placement. Written into the spec, so dump says it. */
static void resolve_placement(struct vm_spec *s)
{
        if (s->cpu.placement == VM_PLACEMENT_AUTO && !s->numa.has_placement && !s->numa.has_nodeset) {
                s->numa.placement = VM_PLACEMENT_AUTO;
                s->numa.has_placement = true;
        } else if (s->numa.placement == VM_PLACEMENT_AUTO && !s->cpu.has_placement && !s->cpu.has_cpuset) {
                s->cpu.placement = VM_PLACEMENT_AUTO;
                s->cpu.has_placement = true;
        }
}

void spec_validate(struct spec_ctx *c, struct vm_spec *s)
{
        resolve_placement(s);
        check_firmware(c, s);
        check_cpu(c, s);
        check_memory(c, s);
        check_numa(c, s);
}
