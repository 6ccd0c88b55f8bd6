/* Live CPU and memory: setvcpus, vcpuinfo, balloon, memstat (dommemstat),
 * setmem. Every verb takes the VM's lock for its whole run, so two verbs on
 * one VM never interleave (a second one waits up to --lock-timeout). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/affect.h"
#include "cli/cli.h"
#include "cli/launch.h"
#include "cli/placement.h"
#include "common/cleanup.h"
#include "vm/vm-config.h"
#include "common/size.h"
#include "vm/vm-guest.h"
#include "vm/vm.h"

#define OPT_GUEST_ONLINE 'g' /* its val in cli/verbs.c */
#define OPT_MAXIMUM 'M'

struct setvcpus_opts {
        const char *guest_channel;
        bool maximum;
};

/* --timeout is the verb's default when .timeout_ms stays -1 */
#define LIVE_OPTS CLI_OPT_TIMEOUT_POSITIVE

static int setvcpus_opt(const char *verb, int c, const char *arg, void *ud)
{
        struct setvcpus_opts *so = ud;

        if (c == OPT_GUEST_ONLINE)
                so->guest_channel = arg;
        else if (c == OPT_MAXIMUM)
                so->maximum = true;
        else
                return cli_usage(verb, "unknown option");
        return 0;
}

struct vcpus_change {
        unsigned n;
        bool maximum, lowered;
};

static int config_setvcpus(struct vm_spec *s, void *ud, struct qc_err *err)
{
        struct vcpus_change *c = ud;

        return vm_config_setvcpus(s, c->n, c->maximum, &c->lowered, err);
}

static int config_setmem(struct vm_spec *s, void *ud, struct qc_err *err)
{
        return vm_config_setmem(s, *(uint64_t *)ud, err);
}

static void size_str(uint64_t v, char *buf, size_t len)
{
        if (v == VM_UNKNOWN)
                snprintf(buf, len, "unknown");
        else
                format_size(v, buf, len);
}

/* "12:03:04, 1 s ago": local time of the host wall-clock seconds QEMU
 * stamped the guest's statistics with */
static void format_stats_time(int64_t t, char *buf, size_t len)
{
        time_t tt = (time_t)t, now = time(NULL);
        struct tm tm;
        char hms[16];

        if (!localtime_r(&tt, &tm) || strftime(hms, sizeof hms, "%H:%M:%S", &tm) == 0) {
                snprintf(buf, len, "%" PRId64, t);
                return;
        }
        if (now >= tt)
                snprintf(buf, len, "%s, %lld s ago", hms, (long long)(now - tt));
        else
                snprintf(buf, len, "%s", hms);
}

/* 0 to go on (ret filled), else the exit status of the usage error printed. */
static int parse_size_arg(const char *verb, const char *what, const char *s, uint64_t *ret)
{
        int r = parse_size(s, ret);

        if (r == -ERANGE)
                return cli_usage(verb, "%s \"%s\": too large", what, s);
        if (r < 0)
                return cli_usage(verb, "%s: expected a size with a unit like 512M or 2G, got \"%s\"", what, s);
        return 0;
}

static void progress(void *userdata, const char *what)
{
        printf("%s: %s\n", (const char *)userdata, what);
        fflush(stdout);
}

int cmd_setvcpus(int argc, char **argv)
{
        const char *verb = argv[0];
        struct setvcpus_opts so = { 0 };
        struct cli_opts o = { .take = LIVE_OPTS, .timeout_ms = -1, .on_opt = setvcpus_opt, .ud = &so };
        _cleanup_cli_placement_ struct cli_placement v = { 0 };
        struct qc_err err = { 0 };
        unsigned long n;
        unsigned affect = 0;
        char *end;
        int rc, parsed = cli_parse_opts(verb, argc, argv, &o, &rc);

        if (parsed != 0)
                return rc;
        if (argc - optind != 2)
                return cli_usage(verb, "expected NAME N");
        errno = 0;
        n = strtoul(argv[optind + 1], &end, 10);
        if (errno || end == argv[optind + 1] || *end || n > 4096)
                return cli_usage(verb, "N: expected a number of vCPUs, got \"%s\"", argv[optind + 1]);
        /* as libvirt: the maximum is the definition's alone (QEMU fixes -smp maxcpus at start) */
        if (so.maximum && !(o.affect & CLI_AFFECT_CONFIG))
                return cli_usage(verb, "--maximum changes cpu.max, which only a definition has (a running QEMU's "
                                       "maximum is fixed at its start): use it with --config");
        if (so.maximum && (o.affect & CLI_AFFECT_LIVE))
                return cli_usage(verb, "--maximum with --live: a running QEMU's maximum is fixed at its start; use "
                                       "--maximum --config alone");
        const char *name = argv[optind];
        if ((rc = cli_affect_resolve(verb, name, o.affect, false, &affect)) != 0)
                return rc;
        if (so.guest_channel && !(affect & CLI_AFFECT_LIVE))
                return cli_usage(verb, "--guest-online asks the running guest: not with --config alone");
        if (affect & CLI_AFFECT_LIVE) {
                if ((rc = cli_placement_open(verb, name, true, &v)))
                        return rc;
                if (o.timeout_ms > 0)
                        v.live.step_timeout_ms = o.timeout_ms;
                if (vm_setvcpus(&v.live, (unsigned)n, progress, (void *)verb, &err) < 0)
                        return cli_fail(verb, &err);
                if (so.guest_channel) {
                        long long online = -1;
                        int ms = o.timeout_ms > 0 ? o.timeout_ms : 60000;

                        if (vm_guest_wait_number(so.guest_channel, "cpus", "cpus-online", (long long)n, ms, &online,
                                                 &err) < 0)
                                return cli_fail(verb, &err);
                        printf("%s: the guest reports %lld CPUs online\n", verb, online);
                }
                printf("%s: VM `%s` has %u vCPUs\n", verb, v.h->name, v.live.spec->cpu.vcpus);
                cli_placement_close(&v);
        }
        if (affect & CLI_AFFECT_CONFIG) {
                struct vcpus_change c = { .n = (unsigned)n, .maximum = so.maximum };

                if ((rc = cli_config_update(verb, name, config_setvcpus, &c)) != 0)
                        return rc;
                if (so.maximum)
                        printf("%s: VM `%s` can have up to %lu vCPUs from its next start (cpu.max in its "
                               "definition)%s\n",
                               verb, name, n, c.lowered ? "; cpu.vcpus lowered to it" : "");
                else
                        printf("%s: VM `%s` starts with %lu vCPUs from its next start (cpu.vcpus in its definition)\n",
                               verb, name, n);
        }
        return CLI_EXIT_OK;
}

int cmd_vcpuinfo(int argc, char **argv)
{
        const char *verb = argv[0];
        _cleanup_cli_placement_ struct cli_placement v = { 0 };
        struct qc_err err = { 0 };
        struct vm_vcpu_info *info = NULL;
        size_t n = 0;
        struct cli_opts co = { .take = CLI_OPT_ONE_NAME };
        int rc, parsed = cli_parse_opts(verb, argc, argv, &co, &rc);
        bool json = co.json;

        if (parsed != 0)
                return rc;
        if ((rc = cli_placement_open(verb, argv[optind], true, &v)))
                return rc;
        rc = vm_vcpuinfo(&v.live, &info, &n, &err);
        cli_placement_close(&v);
        if (rc < 0)
                return cli_fail(verb, &err);
        json_object *arr = json ? json_object_new_array() : NULL;
        if (!json)
                printf(" %-5s %-8s %-4s %-12s %-12s %s\n", "VCPU", "THREAD", "CPU", "STATE", "CPU TIME", "AFFINITY");
        for (size_t i = 0; i < n; i++) {
                const struct vm_vcpu_info *e = &info[i];
                _cleanup_free_ char *aff = e->host_ok ? cpuset_to_string(&e->affinity) : NULL;

                if (json) {
                        json_object *o = json_object_new_object();

                        json_object_object_add(o, "vcpu", json_object_new_int64(e->vcpu));
                        json_object_object_add(o, "thread", json_object_new_int64(e->tid));
                        json_object_object_add(o, "qom_path",
                                               e->qom_path ? json_object_new_string(e->qom_path) : NULL);
                        json_object_object_add(o, "cpu", e->host_ok ? json_object_new_int64(e->stat.last_cpu) : NULL);
                        json_object_object_add(o, "state", json_object_new_string(
                                                                   e->host_ok ? vm_task_state_to_string(e->stat.state)
                                                                              : "gone"));
                        json_object_object_add(o, "cpu_time_ns",
                                               e->host_ok ? json_object_new_uint64(e->cpu_time_ns) : NULL);
                        json_object_object_add(o, "affinity", aff ? json_object_new_string(aff) : NULL);
                        json_object_array_add(arr, o);
                        continue;
                }
                if (!e->host_ok) {
                        printf(" %-5u %-8d %-4s %-12s %-12s %s\n", e->vcpu, (int)e->tid, "-", "gone", "-", "-");
                        continue;
                }
                char t[32];
                snprintf(t, sizeof t, "%.1fs", (double)e->cpu_time_ns / 1e9);
                printf(" %-5u %-8d %-4d %-12s %-12s %s\n", e->vcpu, (int)e->tid, e->stat.last_cpu,
                       vm_task_state_to_string(e->stat.state), t, aff ? aff : "?");
        }
        if (json) {
                cli_print_json(arr);
                json_object_put(arr);
        }
        vm_vcpu_infos_free(info, n);
        return CLI_EXIT_OK;
}

int cmd_balloon(int argc, char **argv)
{
        const char *verb = argv[0];
        struct cli_opts o = { .take = LIVE_OPTS, .timeout_ms = -1 };
        _cleanup_cli_placement_ struct cli_placement v = { 0 };
        struct qc_err err = { 0 };
        uint64_t target = 0, actual = 0;
        char a[32], t[32];
        int rc, parsed = cli_parse_opts(verb, argc, argv, &o, &rc);
        bool json = o.json;

        if (parsed != 0)
                return rc;
        if (argc - optind < 1 || argc - optind > 2)
                return cli_usage(verb, "expected NAME [SIZE]");
        if (argc - optind == 2 && (rc = parse_size_arg(verb, "SIZE", argv[optind + 1], &target)) != 0)
                return rc;
        if (argc - optind == 2 && json)
                return cli_usage(verb, "--json is for the query (without SIZE)");
        /* libvirt's setmem --config sets <currentMemory>, the balloon's size
         * at boot; a VM file has no such key: a guest boots with all of its
         * memory, and the balloon is a run-time thing */
        if (o.affect & CLI_AFFECT_CONFIG)
                return cli_usage(verb, "--config: a VM file has no balloon size; a guest boots with all of its "
                                       "memory. For the memory of the next start use setmem --config SIZE, or "
                                       "edit memory.size (qemuctl edit NAME)");
        /* --config is refused: the running VM it is, by --live, --current
         * or neither (--current with --live stays a usage error) */
        unsigned affect = 0, given = o.affect == CLI_AFFECT_CURRENT ? CLI_AFFECT_LIVE : o.affect | CLI_AFFECT_LIVE;
        if ((rc = cli_affect_resolve(verb, argv[optind], given, false, &affect)) != 0)
                return rc;
        if ((rc = cli_placement_open(verb, argv[optind], true, &v)))
                return rc;
        uint64_t mem = v.live.spec->memory.size + v.live.spec->memory.plugged;
        if (argc - optind == 1) {
                rc = vm_balloon_query(&v.live, &actual, &err);
                cli_placement_close(&v);
                if (rc < 0)
                        return cli_fail(verb, &err);
                if (json) {
                        json_object *obj = json_object_new_object();

                        json_object_object_add(obj, "actual", json_object_new_uint64(actual));
                        json_object_object_add(obj, "memory", json_object_new_uint64(mem));
                        cli_print_json(obj);
                        json_object_put(obj);
                } else {
                        format_size_human(actual, a, sizeof a);
                        format_size_human(mem, t, sizeof t);
                        printf("actual %s of %s\n", a, t);
                }
                return CLI_EXIT_OK;
        }
        int ms = o.timeout_ms > 0 ? o.timeout_ms : 60000;
        rc = vm_balloon_set(&v.live, target, ms, &actual, &err);
        cli_placement_close(&v);
        if (rc < 0)
                return cli_fail(verb, &err);
        format_size_human(actual, a, sizeof a);
        format_size_human(target, t, sizeof t);
        if (rc == 0)
                return cli_failf(verb,
                                 "timed out after %.1f s: actual %s, target %s (the guest's balloon driver may "
                                 "still get there; query with `qemuctl balloon %s`)",
                                 ms / 1000.0, a, t, argv[optind]);
        printf("%s: reached: actual %s, target %s\n", verb, a, t);
        return CLI_EXIT_OK;
}

int cmd_memstat(int argc, char **argv)
{
        const char *verb = argv[0];
        _cleanup_cli_placement_ struct cli_placement v = { 0 };
        struct qc_err err = { 0 };
        struct vm_memstat m;
        struct cli_opts co = { .take = CLI_OPT_ONE_NAME };
        int rc, parsed = cli_parse_opts(verb, argc, argv, &co, &rc);
        bool json = co.json;

        if (parsed != 0)
                return rc;
        if ((rc = cli_placement_open(verb, argv[optind], true, &v)))
                return rc;
        rc = vm_memstat(&v.live, &m, &err);
        cli_placement_close(&v);
        if (rc < 0)
                return cli_fail(verb, &err);
        const struct {
                const char *key;
                uint64_t v;
                bool bytes;
        } rows[] = {
                { "actual", m.has_balloon ? m.balloon_actual : VM_UNKNOWN, true },
                { "swap_in", m.guest.swap_in, false },
                { "swap_out", m.guest.swap_out, false },
                { "major_fault", m.guest.major_faults, false },
                { "minor_fault", m.guest.minor_faults, false },
                { "unused", m.guest.free_memory, true },
                { "available", m.guest.total_memory, true },
                { "usable", m.guest.available_memory, true },
                { "disk_caches", m.guest.disk_caches, true },
                { "hugetlb_pgalloc", m.guest.htlb_allocs, false },
                { "hugetlb_pgfail", m.guest.htlb_failures, false },
                { "base", m.base_memory, true },
                { "plugged", m.plugged_memory, true },
                { "rss", m.host_rss, true },
                { "cgroup_current", m.cgroup_current, true },
        };
        json_object *obj = json ? json_object_new_object() : NULL;
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                char buf[32];

                if (json) {
                        json_object_object_add(obj, rows[i].key,
                                               rows[i].v == VM_UNKNOWN ? NULL : json_object_new_uint64(rows[i].v));
                        continue;
                }
                if (rows[i].v == VM_UNKNOWN)
                        snprintf(buf, sizeof buf, "unknown");
                else if (rows[i].bytes)
                        size_str(rows[i].v, buf, sizeof buf);
                else
                        snprintf(buf, sizeof buf, "%" PRIu64, rows[i].v);
                printf("%-16s %s\n", rows[i].key, buf);
        }
        if (json) {
                json_object_object_add(obj, "last_update",
                                       m.has_guest_stats ? json_object_new_int64(m.guest.last_update) : NULL);
                cli_print_json(obj);
                json_object_put(obj);
        } else {
                char when[64] = "never (no balloon driver reports)";

                if (m.has_guest_stats)
                        format_stats_time(m.guest.last_update, when, sizeof when);
                printf("%-16s %s\n", "last_update", when);
        }
        return CLI_EXIT_OK;
}

int cmd_setmem(int argc, char **argv)
{
        const char *verb = argv[0];
        struct cli_opts o = { .take = LIVE_OPTS, .timeout_ms = -1 };
        _cleanup_cli_placement_ struct cli_placement v = { 0 };
        struct qc_err err = { 0 };
        uint64_t total = 0;
        unsigned affect = 0;
        char a[32];
        int rc, parsed = cli_parse_opts(verb, argc, argv, &o, &rc);

        if (parsed != 0)
                return rc;
        if (argc - optind != 2)
                return cli_usage(verb, "expected NAME SIZE");
        if ((rc = parse_size_arg(verb, "SIZE", argv[optind + 1], &total)) != 0)
                return rc;
        const char *name = argv[optind];
        if ((rc = cli_affect_resolve(verb, name, o.affect, false, &affect)) != 0)
                return rc;
        if (affect & CLI_AFFECT_LIVE) {
                if ((rc = cli_placement_open(verb, name, true, &v)))
                        return rc;
                if (o.timeout_ms > 0)
                        v.live.step_timeout_ms = o.timeout_ms;
                if (vm_setmem(&v.live, total, &err) < 0)
                        return cli_fail(verb, &err);
                char p[32];
                format_size(v.live.spec->memory.size + v.live.spec->memory.plugged, a, sizeof a);
                format_size(v.live.spec->memory.plugged, p, sizeof p);
                printf("%s: VM `%s` has %s (%s plugged)\n", verb, v.h->name, a,
                       v.live.spec->memory.plugged ? p : "none");
                cli_placement_close(&v);
        }
        if (affect & CLI_AFFECT_CONFIG) {
                if ((rc = cli_config_update(verb, name, config_setmem, &total)) != 0)
                        return rc;
                format_size(total, a, sizeof a);
                printf("%s: VM `%s` boots with %s from its next start (memory.plugged in its definition)\n", verb,
                       name, a);
        }
        return CLI_EXIT_OK;
}
