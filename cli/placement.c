/* vcpupin and emulatorpin, and what the placement verbs share. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/affect.h"
#include "cli/cli.h"
#include "cli/launch.h"
#include "cli/placement.h"
#include "common/cleanup.h"
#include "vm/vm-config.h"

static int record_cb(void *userdata, const struct vm_spec *spec, struct qc_err *err)
{
        return vm_record_spec(userdata, spec, err);
}

int cli_placement_open(const char *verb, const char *name, bool qmp, struct cli_placement *ret)
{
        struct qc_err err = { 0 };
        struct cli_placement v = { 0 };

        if (vm_open(name, verb, VM_OPEN_LOCK | (qmp ? 0 : VM_OPEN_NO_QMP), cli_lock_timeout_ms, &v.h, &err) < 0)
                return cli_fail(verb, &err);
        v.live = (struct vm_live){ .qmp = v.h->qmp, .qemu_pid = v.h->qemu_pid, .spec = v.h->spec,
                                   .record = record_cb, .userdata = v.h };
        *ret = v;
        /* the vm_live lives in *ret now: point the place context at it */
        if (vm_placement_open(&ret->p, &ret->live, &err) < 0) {
                vm_close(ret->h);
                ret->h = NULL;
                return cli_fail(verb, &err);
        }
        return CLI_EXIT_OK;
}

/* Idempotent: a verb may close early (to free the lock before printing). */
void cli_placement_close(struct cli_placement *v)
{
        if (v->p.live)
                vm_placement_done(&v->p);
        vm_close(v->h);
        v->h = NULL;
}

static json_object *jcpus(const struct cpuset *cs)
{
        _cleanup_free_ char *s = cpuset_to_string(cs);

        return s ? json_object_new_string(s) : NULL;
}

/* 0 to go on (ret filled), else the exit status of the usage error printed. */
static int parse_cpus(const char *verb, const char *what, const char *s, struct cpuset *ret)
{
        size_t pos = 0;
        int r = cpuset_parse(s, ret, &pos);

        if (r == -ERANGE)
                return cli_usage(verb, "%s \"%s\": a CPU number is too large", what, s);
        if (r < 0)
                return cli_usage(verb, "%s: expected a CPU list like 0-3,8, got \"%s\" (at byte %zu)", what, s, pos);
        return 0;
}

/* emulatorpin's and cpuset's arguments, NAME [CPULIST]: *ret_query when
 * CPULIST is left out (--json only then, showing WHAT), *ret_affect what is
 * changed or shown. 0 to go on, else the exit status of the error printed. */
static int name_cpulist_args(const char *verb, int argc, char **argv, const struct cli_opts *co, const char *what,
                             struct cpuset *cpus, bool *ret_query, unsigned *ret_affect)
{
        int n = argc - optind, rc;

        if (n < 1 || n > 2)
                return cli_usage(verb, "expected NAME [CPULIST]");
        if (n == 2 && (rc = parse_cpus(verb, "CPULIST", argv[optind + 1], cpus)) != 0)
                return rc;
        if (n == 2 && co->json)
                return cli_usage(verb, "--json: only when showing %s", what);
        *ret_query = n == 1;
        return cli_affect_resolve(verb, argv[optind], co->affect, *ret_query, ret_affect);
}

static int show_vcpupin(const char *verb, struct cli_placement *v, bool one, unsigned only, bool json)
{
        _cleanup_free_ struct vm_pin_info *pins = NULL;
        struct qc_err err = { 0 };
        size_t n = 0;
        bool found = false;
        json_object *arr = NULL;

        if (one && only >= v->live.spec->cpu.max)
                return cli_failf(verb, "vCPU %u does not exist: VM `%s` has vCPUs 0-%u (cpu.max %u; %u plugged now)",
                                 only, v->h->name, v->live.spec->cpu.max - 1, v->live.spec->cpu.max,
                                 v->live.spec->cpu.vcpus);
        if (vm_vcpupin_get(&v->p, &pins, &n, &err) < 0)
                return cli_fail(verb, &err);
        if (json)
                arr = json_object_new_array();
        else
                printf(" %-6s %-14s %-14s %s\n", "VCPU", "CPU Affinity", "Pinned", "Thread");
        for (size_t i = 0; i < n; i++) {
                const struct vm_pin_info *p = &pins[i];
                _cleanup_free_ char *aff = p->host_ok ? cpuset_to_string(&p->affinity) : NULL;
                _cleanup_free_ char *pin = p->pinned ? cpuset_to_string(&p->pin) : NULL;

                if (one && p->vcpu != only)
                        continue;
                found = true;
                if (json) {
                        json_object *o = json_object_new_object();

                        json_object_object_add(o, "vcpu", json_object_new_int64(p->vcpu));
                        json_object_object_add(o, "plugged", json_object_new_boolean(p->tid != 0));
                        json_object_object_add(o, "thread", p->tid ? json_object_new_int64(p->tid) : NULL);
                        json_object_object_add(o, "affinity", p->host_ok ? jcpus(&p->affinity) : NULL);
                        json_object_object_add(o, "pin", p->pinned ? jcpus(&p->pin) : NULL);
                        json_object_array_add(arr, o);
                        continue;
                }
                char tid[24] = "-";
                if (p->tid)
                        snprintf(tid, sizeof tid, "%d", (int)p->tid);
                printf(" %-6u %-14s %-14s %s\n", p->vcpu,
                       !p->tid ? "(not plugged)" : aff ? aff : "(gone)", pin ? pin : "-", tid);
        }
        if (json) {
                cli_print_json(arr);
                json_object_put(arr);
        }
        if (one && !found)
                return cli_failf(verb, "VM `%s` has no vCPU %u plugged or pinned (cpu.max %u; %u plugged now)",
                                 v->h->name, only, v->live.spec->cpu.max, v->live.spec->cpu.vcpus);
        return CLI_EXIT_OK;
}

/* vcpupin --config with no CPULIST: the definition's pins. */
static int show_vcpupin_config(const char *verb, const char *name, bool one, unsigned only, bool json)
{
        struct vm_spec *s = NULL;
        int rc = cli_config_load(verb, name, &s);
        json_object *arr = NULL;

        if (rc != 0)
                return rc;
        arr = json ? json_object_new_array() : NULL;
        rc = CLI_EXIT_OK;
        if (one && only >= s->cpu.max) {
                rc = cli_failf(verb, "vCPU %u does not exist: VM `%s` has vCPUs 0-%u (cpu.max %u)", only, name,
                               s->cpu.max - 1, s->cpu.max);
                goto out;
        }
        if (!json)
                printf(" %-6s %s\n", "VCPU", "Pinned (definition)");
        for (unsigned i = 0; i < s->cpu.max; i++) {
                const struct cpuset *pin = NULL;

                if (one && i != only)
                        continue;
                for (size_t k = 0; k < s->cpu.n_pins; k++)
                        if (s->cpu.pins[k].vcpu == i)
                                pin = &s->cpu.pins[k].cpus;
                if (json) {
                        json_object *o = json_object_new_object();

                        json_object_object_add(o, "vcpu", json_object_new_int64(i));
                        json_object_object_add(o, "pin", pin ? jcpus(pin) : NULL);
                        json_object_array_add(arr, o);
                        continue;
                }
                _cleanup_free_ char *p = pin ? cpuset_to_string(pin) : NULL;
                printf(" %-6u %s\n", i, p ? p : "-");
        }
        if (json)
                cli_print_json(arr);
out:
        json_object_put(arr);
        spec_free(s);
        return rc;
}

struct pin_change {
        unsigned vcpu;
        const struct cpuset *cpus;
};

static int config_vcpupin(struct vm_spec *s, void *ud, struct qc_err *err)
{
        const struct pin_change *c = ud;

        return vm_config_vcpupin(s, c->vcpu, c->cpus, err);
}

static int config_emulatorpin(struct vm_spec *s, void *ud, struct qc_err *err)
{
        return vm_config_emulatorpin(s, ud, err);
}

static const char *plural_cpus(const struct cpuset *cpus)
{
        return cpuset_count(cpus) == 1 ? "" : "s";
}

int cmd_vcpupin(int argc, char **argv)
{
        const char *verb = argv[0];
        _cleanup_cli_placement_ struct cli_placement v = { 0 };
        struct qc_err err = { 0 };
        struct cpuset cpus;
        struct cli_opts co = { 0 };
        bool live = false;
        unsigned long vcpu = 0;
        unsigned affect = 0;
        char *end;
        int rc, parsed = cli_parse_opts(verb, argc, argv, &co, &rc);
        bool json = co.json;

        if (parsed != 0)
                return rc;
        if (argc - optind < 1 || argc - optind > 3)
                return cli_usage(verb, "expected NAME [VCPU [CPULIST]]");
        if (argc - optind >= 2) {
                errno = 0;
                vcpu = strtoul(argv[optind + 1], &end, 10);
                if (errno || end == argv[optind + 1] || *end || vcpu > 4095)
                        return cli_usage(verb, "VCPU: expected a vCPU number, got \"%s\"", argv[optind + 1]);
        }
        if (argc - optind == 3 && (rc = parse_cpus(verb, "CPULIST", argv[optind + 2], &cpus)) != 0)
                return rc;
        if (argc - optind == 3 && json)
                return cli_usage(verb, "--json: only when showing the pinning");
        const char *name = argv[optind];
        bool query = argc - optind < 3;
        if ((rc = cli_affect_resolve(verb, name, co.affect, query, &affect)) != 0)
                return rc;
        if (query && affect == CLI_AFFECT_CONFIG)
                return show_vcpupin_config(verb, name, argc - optind == 2, (unsigned)vcpu, json);
        _cleanup_free_ char *s = query ? NULL : cpuset_to_string(&cpus);
        if (affect & CLI_AFFECT_LIVE) {
                if ((rc = cli_placement_open(verb, name, true, &v)))
                        return rc;
                if (query)
                        return show_vcpupin(verb, &v, argc - optind == 2, (unsigned)vcpu, json);
                if (vm_vcpupin_set(&v.p, (unsigned)vcpu, &cpus, &live, &err) < 0)
                        return cli_fail(verb, &err);
                if (live) {
                        _cleanup_free_ char *note = vm_placement_cpuset_note(&v.p, "pinned");
                        cli_warn(verb, note);
                        printf("VM `%s`: vCPU %lu pinned to CPU%s %s\n", v.h->name, vcpu, plural_cpus(&cpus),
                               s ? s : "?");
                } else {
                        printf("VM `%s`: vCPU %lu is not plugged; pin to CPU%s %s recorded for when it is\n",
                               v.h->name, vcpu, plural_cpus(&cpus), s ? s : "?");
                }
                cli_placement_close(&v);
        }
        if (affect & CLI_AFFECT_CONFIG) {
                if ((rc = cli_config_update(verb, name, config_vcpupin,
                                            &(struct pin_change){ (unsigned)vcpu, &cpus })) != 0)
                        return rc;
                printf("VM `%s`: vCPU %lu pinned to CPU%s %s in its definition (from the next start)\n", name, vcpu,
                       plural_cpus(&cpus), s ? s : "?");
        }
        return CLI_EXIT_OK;
}

int cmd_emulatorpin(int argc, char **argv)
{
        const char *verb = argv[0];
        _cleanup_cli_placement_ struct cli_placement v = { 0 };
        struct qc_err err = { 0 };
        struct cpuset cpus;
        struct cli_opts co = { 0 };
        unsigned affect = 0;
        int rc, parsed = cli_parse_opts(verb, argc, argv, &co, &rc);
        bool json = co.json, query = false;

        if (parsed != 0)
                return rc;
        if ((rc = name_cpulist_args(verb, argc, argv, &co, "the pinning", &cpus, &query, &affect)) != 0)
                return rc;
        const char *name = argv[optind];
        if (query && affect == CLI_AFFECT_CONFIG) {
                struct vm_spec *s = NULL;
                if ((rc = cli_config_load(verb, name, &s)) != 0)
                        return rc;
                _cleanup_free_ char *pin = s->cpu.has_emulator_pin ? cpuset_to_string(&s->cpu.emulator_pin) : NULL;
                spec_free(s);
                if (json) {
                        json_object *o = json_object_new_object();
                        json_object_object_add(o, "pin", pin ? json_object_new_string(pin) : NULL);
                        cli_print_json(o);
                        json_object_put(o);
                } else {
                        printf(" %-10s %s\n", "emulator", "Pinned (definition)");
                        printf(" %-10s %s\n", "*", pin ? pin : "-");
                }
                return CLI_EXIT_OK;
        }
        _cleanup_free_ char *s = query ? NULL : cpuset_to_string(&cpus);
        if (affect & CLI_AFFECT_LIVE) {
                if ((rc = cli_placement_open(verb, name, true, &v)))
                        return rc;
                if (query) {
                        struct vm_emulator_pin e;

                        if (vm_emulatorpin_get(&v.p, &e, &err) < 0)
                                return cli_fail(verb, &err);
                        _cleanup_free_ char *aff = cpuset_to_string(&e.affinity);
                        _cleanup_free_ char *pin = e.pinned ? cpuset_to_string(&e.pin) : NULL;
                        if (json) {
                                json_object *o = json_object_new_object();

                                json_object_object_add(o, "affinity", aff ? json_object_new_string(aff) : NULL);
                                json_object_object_add(o, "pin", pin ? json_object_new_string(pin) : NULL);
                                json_object_object_add(o, "threads", json_object_new_int64((int64_t)e.n_threads));
                                json_object_object_add(o, "threads_differing", json_object_new_int64((int64_t)e.n_differ));
                                cli_print_json(o);
                                json_object_put(o);
                        } else {
                                printf(" %-10s %-14s %s\n", "emulator", "CPU Affinity", "Pinned");
                                printf(" %-10s %-14s %s\n", "*", aff ? aff : "?", pin ? pin : "-");
                                if (e.n_differ)
                                        printf("(%zu of QEMU's %zu non-vCPU threads have another affinity)\n",
                                               e.n_differ, e.n_threads);
                        }
                        return CLI_EXIT_OK;
                }
                size_t n = 0;
                if (vm_emulatorpin_set(&v.p, &cpus, &n, &err) < 0)
                        return cli_fail(verb, &err);
                _cleanup_free_ char *note = vm_placement_cpuset_note(&v.p, "emulator threads pinned");
                cli_warn(verb, note);
                printf("VM `%s`: %zu emulator thread%s pinned to CPU%s %s\n", v.h->name, n, n == 1 ? "" : "s",
                       plural_cpus(&cpus), s ? s : "?");
                cli_placement_close(&v);
        }
        if (affect & CLI_AFFECT_CONFIG) {
                if ((rc = cli_config_update(verb, name, config_emulatorpin, &cpus)) != 0)
                        return rc;
                printf("VM `%s`: emulator threads pinned to CPU%s %s in its definition (from the next start)\n",
                       name, plural_cpus(&cpus), s ? s : "?");
        }
        return CLI_EXIT_OK;
}

static int config_cpuset(struct vm_spec *s, void *ud, struct qc_err *err)
{
        s->cpu.has_cpuset = true;
        s->cpu.cpuset = *(const struct cpuset *)ud;
        spec_placement_taken(&s->cpu.placement, &s->cpu.has_placement);
        return 0;
}

/* The whole VM's CPU set as recorded, and who follows it. */
static void print_cpuset(const struct vm_spec *s, bool json, const char *source)
{
        _cleanup_free_ char *set = s->cpu.has_cpuset ? cpuset_to_string(&s->cpu.cpuset) : NULL;
        _cleanup_free_ char *emu = s->cpu.has_emulator_pin ? cpuset_to_string(&s->cpu.emulator_pin) : NULL;
        struct cpuset own;

        cpuset_zero(&own);
        for (size_t i = 0; i < s->cpu.n_pins; i++)
                cpuset_set(&own, s->cpu.pins[i].vcpu);
        _cleanup_free_ char *pinned = cpuset_count(&own) ? cpuset_to_string(&own) : NULL;
        if (json) {
                json_object *o = json_object_new_object();

                json_object_object_add(o, "cpuset", set ? json_object_new_string(set) : NULL);
                json_object_object_add(o, "vcpus_with_own_pin", pinned ? json_object_new_string(pinned) : NULL);
                json_object_object_add(o, "emulator_pin", emu ? json_object_new_string(emu) : NULL);
                json_object_object_add(o, "source", json_object_new_string(source));
                cli_print_json(o);
                json_object_put(o);
                return;
        }
        printf("cpuset    : %s (%s)\n", set ? set : "none: every host CPU", source);
        printf("vCPUs     : %s\n", pinned ? "all but those with their own pin follow it" : "all follow it");
        if (pinned)
                printf("own pins  : vCPUs %s (vcpupin)\n", pinned);
        if (emu)
                printf("emulator  : pinned to %s (emulatorpin), not the cpuset\n", emu);
        else
                printf("emulator  : follows it\n");
}

int cmd_cpuset(int argc, char **argv)
{
        const char *verb = argv[0];
        _cleanup_cli_placement_ struct cli_placement v = { 0 };
        struct qc_err err = { 0 };
        struct cpuset cpus;
        struct cli_opts co = { 0 };
        unsigned affect = 0;
        int rc, parsed = cli_parse_opts(verb, argc, argv, &co, &rc);
        bool json = co.json, query = false;

        if (parsed != 0)
                return rc;
        if ((rc = name_cpulist_args(verb, argc, argv, &co, "the CPU set", &cpus, &query, &affect)) != 0)
                return rc;
        const char *name = argv[optind];
        _cleanup_free_ char *s = query ? NULL : cpuset_to_string(&cpus);
        if (affect & CLI_AFFECT_LIVE) {
                if ((rc = cli_placement_open(verb, name, true, &v)))
                        return rc;
                if (query) {
                        print_cpuset(v.live.spec, json, "running VM");
                        return CLI_EXIT_OK;
                }
                size_t nv = 0, nt = 0;
                if (vm_cpuset_set(&v.p, &cpus, &nv, &nt, &err) < 0)
                        return cli_fail(verb, &err);
                _cleanup_free_ char *note = vm_placement_cpuset_note(&v.p, "the VM's threads pinned");
                cli_warn(verb, note);
                printf("VM `%s`: CPU set %s: %zu vCPU%s moved (those without their own pin)", v.h->name,
                       s ? s : "?", nv, nv == 1 ? "" : "s");
                if (v.live.spec->cpu.has_emulator_pin)
                        printf("; QEMU's other threads stay on their emulator_pin\n");
                else
                        printf(", %zu of QEMU's other thread%s\n", nt, nt == 1 ? "" : "s");
                cli_placement_close(&v);
        }
        if (affect & CLI_AFFECT_CONFIG) {
                struct vm_spec *sp = NULL;

                if (!query && (rc = cli_config_update(verb, name, config_cpuset, &cpus)) != 0)
                        return rc;
                if (!query)
                        printf("VM `%s`: CPU set %s in its definition (from the next start)\n", name, s ? s : "?");
                else {
                        if ((rc = cli_config_load(verb, name, &sp)) != 0)
                                return rc;
                        print_cpuset(sp, json, "definition");
                        spec_free(sp);
                }
        }
        return CLI_EXIT_OK;
}
