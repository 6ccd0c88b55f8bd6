/* `cpu-models`: the CPU models of a QEMU binary and whether this host runs
 * each (virsh cpu-models, and domcapabilities' <cpu> part). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "common/strv.h"
#include "launcher/accel.h"
#include "launcher/cpu-caps.h"
#include "qmp/qmp.h"

struct models_opts {
        const char *qemu;
        int accel; /* -1: what a VM with "accel": "auto" gets here */
        bool verbose, refresh;
};

static int models_opt(const char *verb, int c, const char *arg, void *ud)
{
        struct models_opts *o = ud;

        switch (c) {
        case 'q':
                o->qemu = arg;
                return 0;
        case 'a':
                o->accel = vm_accel_from_string(arg);
                if (o->accel != VM_ACCEL_KVM && o->accel != VM_ACCEL_TCG)
                        return cli_usage(verb, "--accel takes kvm or tcg, not \"%s\"", arg);
                return 0;
        case 'v':
                o->verbose = true;
                return 0;
        case 'r':
                o->refresh = true;
                return 0;
        default:
                return cli_usage(verb, "unknown option");
        }
}

static bool usable(const struct qmp_cpu_def *d)
{
        return d->unavailable_known && !d->unavailable[0];
}

static json_object *caps_json(const struct cpu_caps *c)
{
        json_object *o = json_object_new_object(), *models = json_object_new_array(), *f = json_object_new_object();

        if (!o || !models || !f) {
                json_object_put(o);
                json_object_put(models);
                json_object_put(f);
                return NULL;
        }
        json_object_object_add(o, "binary", json_object_new_string(c->binary));
        json_object_object_add(o, "version", json_object_new_string(c->version));
        json_object_object_add(o, "package", json_object_new_string(c->package));
        json_object_object_add(o, "accel", json_object_new_string(vm_accel_to_string(c->accel)));
        json_object_object_add(o, "from_cache", json_object_new_boolean(c->from_cache));
        for (size_t i = 0; i < c->defs->n; i++) {
                const struct qmp_cpu_def *d = &c->defs->defs[i];
                json_object *m = json_object_new_object();

                if (!m)
                        break;
                json_object_object_add(m, "name", json_object_new_string(d->name));
                /* null: QEMU did not say (no unavailable-features) */
                json_object_object_add(m, "usable", d->unavailable_known ? json_object_new_boolean(usable(d)) : NULL);
                json_object_object_add(m, "unavailable_features", cli_json_strv(d->unavailable));
                json_object_object_add(m, "alias_of", d->alias_of ? json_object_new_string(d->alias_of) : NULL);
                json_object_object_add(m, "static", json_object_new_boolean(d->is_static));
                json_object_object_add(m, "migration_safe", json_object_new_boolean(d->migration_safe));
                json_object_object_add(m, "deprecated", json_object_new_boolean(d->deprecated));
                json_object_array_add(models, m);
        }
        json_object_object_add(o, "models", models);
        for (size_t i = 0; c->features[i]; i++)
                json_object_object_add(f, c->features[i], json_object_new_boolean(cpu_caps_feature(c, c->features[i]) == 1));
        json_object_object_add(o, "features", f);
        if (c->host_model) {
                json_object *h = json_object_new_object(), *hf = json_object_new_object();

                if (h && hf) {
                        json_object_object_add(h, "model", json_object_new_string(c->host_model));
                        for (size_t i = 0; i < c->n_host_features; i++)
                                json_object_object_add(
                                        hf, c->host_features[i].name,
                                        json_object_new_string(vm_feature_policy_to_string(c->host_features[i].policy)));
                        json_object_object_add(h, "features", hf);
                        hf = NULL;
                }
                json_object_put(hf);
                json_object_object_add(o, "host_model", h);
        } else {
                json_object_object_add(o, "host_model", NULL);
        }
        return o;
}

static void caps_print(const struct cpu_caps *c, bool verbose)
{
        size_t w = 5, n_usable = 0;

        for (size_t i = 0; i < c->defs->n; i++) {
                size_t l = strlen(c->defs->defs[i].name);
                w = l > w ? l : w;
                n_usable += usable(&c->defs->defs[i]);
        }
        printf("QEMU %s %s%s%s%s, under %s: %zu of %zu models usable\n", c->binary, c->version, c->package[0] ? " (" : "",
               c->package, c->package[0] ? ")" : "", c->accel == VM_ACCEL_KVM ? "KVM" : "TCG", n_usable, c->defs->n);
        if (c->accel == VM_ACCEL_KVM)
                printf("host-model: %s%s\n", c->host_model ? c->host_model : "no model fits (runs as -cpu host,migratable=on)",
                       c->host_model && c->n_host_features ? " plus features (--json lists them)" : "");
        else
                printf("host-model: not under TCG (runs as -cpu max,migratable=on)\n");
        printf("%-*s  %-6s  %s\n", (int)w, "MODEL", "USABLE", verbose ? "BLOCKED BY" : "NOTES");
        for (size_t i = 0; i < c->defs->n; i++) {
                const struct qmp_cpu_def *d = &c->defs->defs[i];
                _cleanup_free_ char *blocked = verbose ? strv_join(d->unavailable, " ") : NULL;
                char notes[128] = "";

                if (!verbose)
                        snprintf(notes, sizeof notes, "%s%s%s%s", d->alias_of ? "= " : "", d->alias_of ? d->alias_of : "",
                                 d->alias_of && d->deprecated ? ", " : "", d->deprecated ? "deprecated" : "");
                printf("%-*s  %-6s  %s\n", (int)w, d->name, !d->unavailable_known ? "?" : usable(d) ? "yes" : "no",
                       verbose ? (blocked ? blocked : "") : notes);
        }
}

int cmd_cpu_models(int argc, char **argv)
{
        struct models_opts o = { .qemu = "qemu-system-x86_64", .accel = -1 };
        struct cli_opts co = { .take = CLI_OPT_NO_ARGS, .on_opt = models_opt, .ud = &o };
        struct cpu_caps caps = { 0 };
        struct qc_err err = { 0 };
        int rc, parsed = cli_parse_opts("cpu-models", argc, argv, &co, &rc);

        if (parsed != 0)
                return rc;
        if (o.accel < 0)
                o.accel = accel_kvm_works(NULL, 0) ? VM_ACCEL_KVM : VM_ACCEL_TCG;
        if (cpu_caps_get(o.qemu, (enum vm_accel)o.accel, o.refresh, &caps, &err) < 0)
                return cli_fail("cpu-models", &err);
        if (co.json) {
                json_object *j = caps_json(&caps);

                if (!j) {
                        cpu_caps_done(&caps);
                        return cli_failf("cpu-models", "out of memory");
                }
                cli_print_json(j);
                json_object_put(j);
        } else {
                caps_print(&caps, o.verbose);
        }
        cpu_caps_done(&caps);
        if (fflush(stdout) != 0)
                return cli_failf("cpu-models", "writing the list: %s", strerror(errno));
        return CLI_EXIT_OK;
}
