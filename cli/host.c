/* qemuctl host: the facts of this host that decide what a VM file can ask for. */
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroups/cgroups.h"
#include "launcher/launch-placement.h"
#include "cli/cli.h"
#include "common/cleanup.h"
#include "common/size.h"
#include "host/host.h"
#include "common/strv.h"
#include "launcher/accel.h"
#include "launcher/firmware.h"
#include "launcher/shares.h"
#include "launcher/tpm.h"

struct facts {
        struct host_numa numa;
        struct host_node_stats *node_stats; /* numa.n_nodes of them */
        struct host_ksm ksm;
        struct host_hugepages hp;
        struct host_thp thp;
        int numa_balancing;
        struct host_kvm kvm;
        bool kvm_runs;
        char kvm_runs_why[256];
        struct host_cgroups cg;
        char *own;          /* the cgroup qemuctl runs in (NULL: none) */
        bool own_delegated; /* cgroup.mode auto takes it as delegated */
        char **fw_dirs;     /* where firmware descriptors are looked for */
        struct fw_list fw;  /* what is there */
};

static const char *base_name(const char *path)
{
        const char *s = strrchr(path, '/');

        return s ? s + 1 : path;
}

/* The descriptor a VM file's firmware key gets on a machine, or NULL. */
static const struct fw_desc *fw_chosen(const struct facts *f, enum vm_firmware want, enum vm_machine m)
{
        const struct fw_desc *d = NULL;

        return fw_select(&f->fw, want, m, f->fw_dirs, &d, NULL) == 0 ? d : NULL;
}

static json_object *firmware_json(const struct facts *f)
{
        json_object *o = json_object_new_object(), *descs = json_object_new_array(), *chosen = json_object_new_object();

        json_object_object_add(o, "dirs", cli_json_strv(f->fw_dirs));
        for (size_t i = 0; i < f->fw.n; i++) {
                const struct fw_desc *d = &f->fw.v[i];
                json_object *j = json_object_new_object();

                json_object_object_add(j, "file", json_object_new_string(d->file));
                json_object_object_add(j, "description", d->description ? json_object_new_string(d->description) : NULL);
                json_object_object_add(j, "code", d->code ? json_object_new_string(d->code) : NULL);
                json_object_object_add(j, "nvram_template", d->vars ? json_object_new_string(d->vars) : NULL);
                json_object_object_add(j, "features", cli_json_strv(d->features));
                json_object_object_add(j, "machines", cli_json_strv(d->machines));
                json_object_object_add(j, "usable", json_object_new_boolean(!d->unusable));
                if (d->unusable)
                        json_object_object_add(j, "why", json_object_new_string(d->unusable));
                json_object_array_add(descs, j);
        }
        json_object_object_add(o, "descriptors", descs);
        for (int w = VM_FIRMWARE_UEFI; w <= VM_FIRMWARE_UEFI_SECURE; w++) {
                json_object *per = json_object_new_object();

                for (int m = 0; m < _VM_MACHINE_MAX; m++) {
                        const struct fw_desc *d = fw_chosen(f, w, m);
                        json_object_object_add(per, vm_machine_to_string(m), d ? json_object_new_string(d->file) : NULL);
                }
                json_object_object_add(chosen, vm_firmware_to_string(w), per);
        }
        json_object_object_add(o, "chosen", chosen);
        return o;
}

/* The helpers VM keys need, found or not, with why: tpm (swtpm,
 * swtpm_setup), virtiofs shares (virtiofsd), vsock (/dev/vhost-vsock). */
static json_object *devices_json(void)
{
        json_object *o = json_object_new_object();
        struct qc_err e = { 0 };

        json_object_object_add(o, "tpm", json_object_new_boolean(tpm_check(&e) == 0));
        json_object_object_add(o, "virtiofsd", json_object_new_boolean(access(VIRTIOFSD_PATH, X_OK) == 0));
        json_object_object_add(o, "vhost_vsock", json_object_new_boolean(access("/dev/vhost-vsock", F_OK) == 0));
        return o;
}

static void devices_print(void)
{
        struct qc_err e = { 0 };

        printf("TPM (tpm):     %s\n", tpm_check(&e) == 0 ? "swtpm and swtpm_setup found" : e.msg);
        printf("virtiofs:      %s\n", access(VIRTIOFSD_PATH, X_OK) == 0
                                              ? VIRTIOFSD_PATH
                                              : VIRTIOFSD_PATH " missing: install qemu-system-common (9p shares work without it)");
        printf("vsock:         %s\n", access("/dev/vhost-vsock", F_OK) == 0
                                              ? "/dev/vhost-vsock"
                                              : "/dev/vhost-vsock missing: modprobe vhost_vsock");
}

static void firmware_print(const struct facts *f)
{
        _cleanup_free_ char *dirs = strv_join(f->fw_dirs, ", ");

        printf("Firmware:      %zu descriptor%s in %s%s\n", f->fw.n, f->fw.n == 1 ? "" : "s", dirs ? dirs : "?",
               f->fw.n ? "" : " (install Debian's ovmf package for UEFI)");
        for (int w = VM_FIRMWARE_UEFI; w <= VM_FIRMWARE_UEFI_SECURE; w++) {
                const struct fw_desc *q = fw_chosen(f, w, VM_MACHINE_Q35), *p = fw_chosen(f, w, VM_MACHINE_PC);

                printf("  %-12s q35: %s, pc: %s\n", vm_firmware_to_string(w), q ? base_name(q->file) : "none",
                       p ? base_name(p->file) : "none");
        }
        for (size_t i = 0; i < f->fw.n; i++) {
                const struct fw_desc *d = &f->fw.v[i];
                _cleanup_free_ char *feat = strv_join(d->features, " ");

                if (d->unusable)
                        printf("  %s: not usable: %s\n", d->file, d->unusable);
                else
                        printf("  %s: %s [%s]\n", d->file, d->code, feat ? feat : "");
        }
}


static json_object *jstr(const char *s)
{
        return json_object_new_string(s ? s : "");
}

static json_object *ju64(uint64_t v)
{
        return json_object_new_uint64(v);
}

/* Each of fields of facts as a member of o ("name": number) */
static void fields_json(json_object *o, const void *facts, const struct host_u64_field *fields)
{
        for (const struct host_u64_field *f = fields; f->name; f++)
                json_object_object_add(o, f->name, ju64(host_u64_field_get(facts, f)));
}

/* The same in words: "name N, name N" */
static void fields_print(const void *facts, const struct host_u64_field *fields)
{
        for (const struct host_u64_field *f = fields; f->name; f++)
                printf("%s%s %llu", f == fields ? "" : ", ", f->name,
                       (unsigned long long)host_u64_field_get(facts, f));
}

static json_object *mask_array(unsigned mask)
{
        json_object *a = json_object_new_array();

        for (int i = 0; i < _CG_CONTROLLER_MAX; i++)
                if (mask & CG_MASK(i))
                        json_object_array_add(a, jstr(cg_controller_to_string((enum cg_controller)i)));
        return a;
}

static json_object *facts_json(const struct facts *f)
{
        json_object *o = json_object_new_object(), *numa = json_object_new_object(), *nodes = json_object_new_array();
        json_object *ksm = json_object_new_object(), *hps = json_object_new_array(), *thp = json_object_new_object();
        json_object *kvm = json_object_new_object(), *cg = json_object_new_object();

        json_object_object_add(numa, "available", json_object_new_boolean(f->numa.available));
        for (size_t i = 0; i < f->numa.n_nodes; i++) {
                const struct host_numa_node *n = &f->numa.nodes[i];
                json_object *jn = json_object_new_object();
                _cleanup_free_ char *cpus = cpuset_to_string(&n->cpus);

                json_object_object_add(jn, "id", json_object_new_int((int)n->id));
                json_object_object_add(jn, "cpus", jstr(cpus));
                json_object_object_add(jn, "memory_total", ju64(n->mem_total));
                json_object_object_add(jn, "memory_free", ju64(n->mem_free));
                if (f->numa.distance) {
                        json_object *d = json_object_new_array();
                        for (size_t j = 0; j < f->numa.n_nodes; j++)
                                json_object_array_add(d, json_object_new_int((int)host_numa_distance(&f->numa, i, j)));
                        json_object_object_add(jn, "distances", d);
                }
                if (f->node_stats && f->node_stats[i].has_numastat) {
                        json_object *js = json_object_new_object();

                        fields_json(js, &f->node_stats[i], host_numastat_fields);
                        json_object_object_add(jn, "numastat", js);
                }
                if (f->node_stats && f->node_stats[i].has_anon_huge)
                        json_object_object_add(jn, "anon_huge_pages", ju64(f->node_stats[i].anon_huge));
                json_object_array_add(nodes, jn);
        }
        json_object_object_add(numa, "nodes", nodes);
        json_object_object_add(numa, "balancing",
                               f->numa_balancing < 0 ? NULL : json_object_new_int(f->numa_balancing));
        json_object_object_add(o, "numa", numa);

        json_object_object_add(ksm, "present", json_object_new_boolean(f->ksm.present));
        if (f->ksm.present) {
                fields_json(ksm, &f->ksm, host_ksm_fields);
                if (f->ksm.has_merge_across_nodes)
                        json_object_object_add(ksm, "merge_across_nodes", ju64(f->ksm.merge_across_nodes));
        }
        json_object_object_add(o, "ksm", ksm);

        for (size_t i = 0; i < f->hp.n_sizes; i++) {
                const struct host_hugepage_size *s = &f->hp.sizes[i];
                json_object *js = json_object_new_object(), *jnodes = json_object_new_array();

                json_object_object_add(js, "page_size", ju64(s->page_size));
                json_object_object_add(js, "total", ju64(s->total));
                json_object_object_add(js, "free", ju64(s->free));
                json_object_object_add(js, "reserved", ju64(s->reserved));
                json_object_object_add(js, "surplus", ju64(s->surplus));
                for (size_t j = 0; j < s->n_nodes; j++) {
                        json_object *jn = json_object_new_object();
                        json_object_object_add(jn, "node", json_object_new_int((int)s->nodes[j].node));
                        json_object_object_add(jn, "total", ju64(s->nodes[j].total));
                        json_object_object_add(jn, "free", ju64(s->nodes[j].free));
                        json_object_object_add(jn, "surplus", ju64(s->nodes[j].surplus));
                        json_object_array_add(jnodes, jn);
                }
                json_object_object_add(js, "nodes", jnodes);
                json_object_array_add(hps, js);
        }
        json_object_object_add(o, "hugepages", hps);

        json_object_object_add(thp, "enabled", f->thp.enabled[0] ? jstr(f->thp.enabled) : NULL);
        json_object_object_add(thp, "defrag", f->thp.defrag[0] ? jstr(f->thp.defrag) : NULL);
        json_object_object_add(thp, "anon_huge_pages", f->thp.has_anon_huge ? ju64(f->thp.anon_huge) : NULL);
        if (f->thp.has_khugepaged) {
                json_object *kh = json_object_new_object();

                fields_json(kh, &f->thp, host_khugepaged_settings);
                fields_json(kh, &f->thp, host_khugepaged_counters);
                json_object_object_add(thp, "khugepaged", kh);
        } else
                json_object_object_add(thp, "khugepaged", NULL);
        json_object_object_add(o, "transparent_hugepages", thp);

        json_object_object_add(kvm, "present", json_object_new_boolean(f->kvm.present));
        json_object_object_add(kvm, "api_version", json_object_new_int(f->kvm.api_version));
        json_object_object_add(kvm, "creates_vms", json_object_new_boolean(f->kvm.creates_vms));
        json_object_object_add(kvm, "runs_guests", json_object_new_boolean(f->kvm_runs));
        json_object_object_add(kvm, "module", f->kvm.module[0] ? jstr(f->kvm.module) : NULL);
        json_object_object_add(kvm, "nested", f->kvm.nested < 0 ? NULL : json_object_new_boolean(f->kvm.nested));
        if (!f->kvm_runs)
                json_object_object_add(kvm, "why", jstr(f->kvm.why[0] ? f->kvm.why : f->kvm_runs_why));
        json_object_object_add(o, "kvm", kvm);

        json_object_object_add(cg, "mount", f->cg.mount ? jstr(f->cg.mount) : NULL);
        json_object_object_add(cg, "controllers", mask_array(f->cg.offered));
        json_object_object_add(cg, "bound_to_v1", mask_array(f->cg.v1_mask));
        if (f->cg.why[0])
                json_object_object_add(cg, "why", jstr(f->cg.why));
        if (f->own) {
                _cleanup_free_ char *slash = NULL;
                json_object_object_add(cg, "self", asprintf(&slash, "/%s", f->own) < 0 ? NULL : jstr(slash));
                json_object_object_add(cg, "self_delegated", json_object_new_boolean(f->own_delegated));
        }
        json_object_object_add(o, "cgroup", cg);
        json_object_object_add(o, "firmware", firmware_json(f));
        json_object_object_add(o, "devices", devices_json());
        return o;
}

static void facts_print(const struct facts *f)
{
        char a[32], b[32];

        printf("NUMA:          %s, %zu node%s\n", f->numa.available ? "available" : "not available (one pseudo node)",
               f->numa.n_nodes, f->numa.n_nodes == 1 ? "" : "s");
        for (size_t i = 0; i < f->numa.n_nodes; i++) {
                const struct host_numa_node *n = &f->numa.nodes[i];
                _cleanup_free_ char *cpus = cpuset_to_string(&n->cpus);

                format_size_human(n->mem_total, a, sizeof a);
                format_size_human(n->mem_free, b, sizeof b);
                printf("  node %-3u     cpus %s, memory %s (%s free)", n->id, cpus ? cpus : "?", a, b);
                if (f->node_stats && f->node_stats[i].has_anon_huge) {
                        format_size_human(f->node_stats[i].anon_huge, a, sizeof a);
                        printf(", AnonHugePages %s", a);
                }
                printf("\n");
                if (f->node_stats && f->node_stats[i].has_numastat) {
                        printf("               ");
                        fields_print(&f->node_stats[i], host_numastat_fields);
                        printf("\n");
                }
        }
        if (f->numa.distance) {
                /* numactl --hardware's table */
                printf("  node distances:\n  node ");
                for (size_t j = 0; j < f->numa.n_nodes; j++)
                        printf(" %3u", f->numa.nodes[j].id);
                printf("\n");
                for (size_t i = 0; i < f->numa.n_nodes; i++) {
                        printf("   %3u:", f->numa.nodes[i].id);
                        for (size_t j = 0; j < f->numa.n_nodes; j++)
                                printf(" %3u", host_numa_distance(&f->numa, i, j));
                        printf("\n");
                }
        }
        printf("NUMA balancing: %s\n", f->numa_balancing < 0 ? "not in this kernel"
                                   : f->numa_balancing == 0 ? "off (0)"
                                                             : f->numa_balancing == 1 ? "on (1)" : "on (tiering)");
        if (f->ksm.present)
                printf("KSM:           %s; pages shared %llu, sharing %llu, unshared %llu, volatile %llu, full scans %llu\n",
                       f->ksm.run == 1 ? "running" : f->ksm.run == 2 ? "unmerging" : "stopped",
                       (unsigned long long)f->ksm.pages_shared, (unsigned long long)f->ksm.pages_sharing,
                       (unsigned long long)f->ksm.pages_unshared, (unsigned long long)f->ksm.pages_volatile,
                       (unsigned long long)f->ksm.full_scans);
        if (f->ksm.present && f->ksm.has_merge_across_nodes)
                printf("               merge_across_nodes %llu (%s)\n", (unsigned long long)f->ksm.merge_across_nodes,
                       f->ksm.merge_across_nodes ? "pages of different NUMA nodes are merged: a VM's page may end "
                                                   "up on another node"
                                                 : "only pages of one NUMA node are merged");
        if (!f->ksm.present)
                printf("KSM:           not in this kernel\n");
        if (f->hp.n_sizes == 0)
                printf("Hugepages:     not in this kernel\n");
        for (size_t i = 0; i < f->hp.n_sizes; i++) {
                const struct host_hugepage_size *s = &f->hp.sizes[i];

                format_size(s->page_size, a, sizeof a);
                printf("Hugepages %-4s total %llu, free %llu, reserved %llu, surplus %llu\n", a,
                       (unsigned long long)s->total, (unsigned long long)s->free, (unsigned long long)s->reserved,
                       (unsigned long long)s->surplus);
                for (size_t j = 0; j < s->n_nodes; j++)
                        printf("  node %-3u     total %llu, free %llu\n", s->nodes[j].node,
                               (unsigned long long)s->nodes[j].total, (unsigned long long)s->nodes[j].free);
        }
        printf("THP:           enabled %s, defrag %s", f->thp.enabled[0] ? f->thp.enabled : "(absent)",
               f->thp.defrag[0] ? f->thp.defrag : "(absent)");
        if (f->thp.has_anon_huge) {
                format_size_human(f->thp.anon_huge, a, sizeof a);
                printf("; AnonHugePages %s", a);
        }
        printf("\n");
        if (f->thp.has_khugepaged) {
                printf("  khugepaged   ");
                fields_print(&f->thp, host_khugepaged_settings);
                printf("; ");
                fields_print(&f->thp, host_khugepaged_counters);
                printf("\n");
        }
        if (!f->kvm.present)
                printf("KVM:           absent (%s)\n", f->kvm.why);
        else
                printf("KVM:           present, API %d, %s, %s%s%s\n", f->kvm.api_version,
                       f->kvm.creates_vms ? "creates VMs" : "cannot create VMs",
                       f->kvm_runs ? "runs guests" : "does not run a guest: ",
                       f->kvm_runs ? "" : (f->kvm.why[0] ? f->kvm.why : f->kvm_runs_why), "");
        printf("Nested virt:   %s%s%s%s\n",
               f->kvm.nested < 0 ? "unknown" : f->kvm.nested ? "on" : "off", f->kvm.module[0] ? " (" : "",
               f->kvm.module, f->kvm.module[0] ? ")" : "");
        if (!f->cg.mount)
                printf("cgroup v2:     none (%s)\n", f->cg.why);
        else {
                _cleanup_free_ char *ctl = cg_mask_to_string(f->cg.offered);
                _cleanup_free_ char *v1 = cg_mask_to_string(f->cg.v1_mask);

                printf("cgroup v2:     %s, controllers: %s\n", f->cg.mount, ctl && *ctl ? ctl : "none");
                if (f->cg.v1_mask)
                        printf("  bound to v1 (hybrid): %s — VM keys needing these are refused or fall back\n",
                               v1 ? v1 : "?");
                if (f->own)
                        printf("  qemuctl runs in: /%s, %s\n", f->own,
                               f->own_delegated ? "delegated (cgroup.mode auto: a VM's cgroup goes in here)"
                                                : "not delegated (cgroup.mode auto: VMs go under cgroup.parent)");
        }
        firmware_print(f);
        devices_print();
}

int cmd_host(int argc, char **argv)
{
        struct facts f = { 0 };
        struct qc_err err = { 0 };
        struct cli_opts o = { .take = CLI_OPT_NO_ARGS };
        int rc, parsed = cli_parse_opts("host", argc, argv, &o, &rc);

        if (parsed != 0)
                return rc;
        rc = CLI_EXIT_OK;
        if (host_numa_read(&f.numa, &err) < 0 || host_ksm_read("", &f.ksm, &err) < 0 ||
            host_hugepages_read("", &f.hp, &err) < 0 || host_thp_read("", &f.thp, &err) < 0 ||
            host_numa_balancing_read("", &f.numa_balancing, &err) < 0) {
                rc = cli_fail("host", &err);
                goto out;
        }
        f.node_stats = calloc(f.numa.n_nodes ? f.numa.n_nodes : 1, sizeof *f.node_stats);
        if (!f.node_stats) {
                rc = cli_failf("host", "out of memory");
                goto out;
        }
        for (size_t i = 0; i < f.numa.n_nodes; i++)
                if (host_node_stats_read("", f.numa.nodes[i].id, &f.node_stats[i], &err) < 0) {
                        rc = cli_fail("host", &err);
                        goto out;
                }
        host_kvm_read(NULL, "", &f.kvm);
        if (f.kvm.creates_vms)
                f.kvm_runs = accel_kvm_works(f.kvm_runs_why, sizeof f.kvm_runs_why);
        host_cgroups_read(NULL, &f.cg);
        if (launch_placement_own_cgroup(&f.own, &f.own_delegated, NULL) < 0)
                f.own = NULL;
        if (fw_search_dirs(&f.fw_dirs, &err) < 0 || fw_list_load(f.fw_dirs, &f.fw, &err) < 0) {
                rc = cli_fail("host", &err);
                goto out;
        }
        if (o.json) {
                json_object *j = facts_json(&f);
                cli_print_json(j);
                json_object_put(j);
        } else
                facts_print(&f);
out:
        free(f.node_stats);
        host_numa_done(&f.numa);
        host_hugepages_done(&f.hp);
        host_cgroups_done(&f.cg);
        free(f.own);
        fw_list_done(&f.fw);
        strv_free(f.fw_dirs);
        return rc;
}
