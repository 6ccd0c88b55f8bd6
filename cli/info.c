/* list, status, dump (and virsh's dominfo). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/defs.h"
#include "common/cleanup.h"
#include "common/io.h"
#include "common/size.h"
#include "common/strv.h"
#include "launcher/defs.h"
#include "launcher/handle.h"
#include "launcher/launch-placement.h"
#include "launcher/live-sync.h"
#include "launcher/ports.h"
#include "qmp/qmp.h"

static int64_t unix_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void format_uptime(int64_t ms, char *buf, size_t len)
{
        int64_t s = ms / 1000;

        if (s >= 86400)
                snprintf(buf, len, "%lldd%02lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
        else if (s >= 3600)
                snprintf(buf, len, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
        else
                snprintf(buf, len, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
}

/* A state dir that lost its spec.json or status.json while no QEMU of it
 * runs: neither ended nor running, and nothing a verb can act on. */
static const char *state_name(const struct vm_handle *h)
{
        return h->problem && !h->qemu_pid ? "broken" : vm_state_to_string(h->rec.state);
}

/* The VM's cgroup as QEMU's own membership says ("/qemuctl/vm1", or
 * "/system.slice/qemuctl@vm1.service/vm1" in a delegated cgroup), relative
 * to the cgroup2 mount; NULL when QEMU runs in none of its own. */
static char *vm_cgroup(const struct vm_handle *h)
{
        _cleanup_free_ char *sub = NULL;
        char *p = NULL;

        if (!h->qemu_pid || launch_placement_find(h->qemu_pid, h->name, &sub) != 1)
                return NULL;
        if (asprintf(&p, "%s%s/%s", *sub ? "/" : "", sub, h->name) < 0)
                return NULL;
        return p;
}

/* RUNDIR/qmp.sock, the monitor for people, while its supervisor serves it
 * (malloc'd), else NULL. */
static char *monitor_path(const struct vm_handle *h)
{
        char *p;

        if (!proc_alive(h->rec.supervisor_pid, h->rec.supervisor_start) || !(p = path_join(h->rundir, VM_RUNDIR_QMP)))
                return NULL;
        if (access(p, F_OK) < 0) {
                free(p);
                return NULL;
        }
        return p;
}

/* "persistent" (a definition: docs/host.md), "definition" (its file) and
 * "autostart". */
static void add_def_json(json_object *o, const char *name)
{
        _cleanup_free_ char *path = NULL;
        int d = defs_exists(name, NULL);

        json_object_object_add(o, "persistent", json_object_new_boolean(d > 0));
        json_object_object_add(o, "definition",
                               d > 0 && defs_path(name, &path, NULL) == 0 ? json_object_new_string(path) : NULL);
        json_object_object_add(o, "autostart", json_object_new_boolean(d > 0 && defs_autostart(name, NULL) > 0));
}

/* A defined VM without a state dir: shut off, its size from the definition. */
static json_object *def_json(const char *name, const struct vm_spec *spec)
{
        json_object *o = json_object_new_object();

        json_object_object_add(o, "name", json_object_new_string(name));
        json_object_object_add(o, "state", json_object_new_string(VM_STATE_SHUT_OFF));
        json_object_object_add(o, "pid", NULL);
        if (spec) {
                json_object_object_add(o, "vcpus", json_object_new_int((int)spec->cpu.vcpus));
                json_object_object_add(o, "max_vcpus", json_object_new_int((int)spec->cpu.max));
                json_object_object_add(o, "memory", json_object_new_uint64(spec->memory.size + spec->memory.plugged));
                json_object_object_add(o, "memory_base", json_object_new_uint64(spec->memory.size));
                json_object_object_add(o, "memory_plugged", json_object_new_uint64(spec->memory.plugged));
                json_object_object_add(o, "memory_max", spec->memory.max > spec->memory.size
                                                                ? json_object_new_uint64(spec->memory.max)
                                                                : NULL);
        }
        add_def_json(o, name);
        return o;
}

/* One VM as JSON: the record (refreshed), the spec's size, the live status. */
/* cpu.placement / numa.placement "auto": what start chose (recorded in
 * the effective spec); NULL when neither is auto. */
static json_object *placement_json(const struct vm_spec *sp)
{
        json_object *o;

        if (sp->cpu.placement != VM_PLACEMENT_AUTO && sp->numa.placement != VM_PLACEMENT_AUTO)
                return NULL;
        o = json_object_new_object();
        json_object_object_add(o, "cpu", json_object_new_string(sp->cpu.placement == VM_PLACEMENT_AUTO ? "auto" : "static"));
        json_object_object_add(o, "numa", json_object_new_string(sp->numa.placement == VM_PLACEMENT_AUTO ? "auto" : "static"));
        if (sp->numa.has_nodeset) {
                _cleanup_free_ char *n = cpuset_to_string(&sp->numa.nodeset);
                json_object_object_add(o, "nodeset", n ? json_object_new_string(n) : NULL);
        }
        if (sp->cpu.has_cpuset) {
                _cleanup_free_ char *c = cpuset_to_string(&sp->cpu.cpuset);
                json_object_object_add(o, "cpuset", c ? json_object_new_string(c) : NULL);
        }
        return o;
}

/* The same in words: "Placement:   auto: host nodes 1, CPUs 1 (...)" */
static void placement_print(const struct vm_spec *sp)
{
        _cleanup_free_ char *n = NULL, *c = NULL;

        if (sp->cpu.placement != VM_PLACEMENT_AUTO && sp->numa.placement != VM_PLACEMENT_AUTO)
                return;
        n = sp->numa.has_nodeset ? cpuset_to_string(&sp->numa.nodeset) : NULL;
        c = sp->cpu.has_cpuset ? cpuset_to_string(&sp->cpu.cpuset) : NULL;
        printf("Placement:   auto (%s%s%s, chosen at start): memory on host node%s %s, CPUs %s\n",
               sp->numa.placement == VM_PLACEMENT_AUTO ? "numa" : "",
               sp->numa.placement == VM_PLACEMENT_AUTO && sp->cpu.placement == VM_PLACEMENT_AUTO ? " and " : "",
               sp->cpu.placement == VM_PLACEMENT_AUTO ? "cpu" : "",
               n && sp->numa.has_nodeset && cpuset_count(&sp->numa.nodeset) == 1 ? "" : "s", n ? n : "(any)",
               c ? c : "(any)");
}

static json_object *vm_json(struct vm_handle *h, const char *live_status)
{
        json_object *o = json_object_new_object();
        const struct vm_record *r = &h->rec;
        _cleanup_free_ char *how = vm_record_describe_end(r);
        bool active = vm_state_is_active(r->state);

        json_object_object_add(o, "name", json_object_new_string(h->name));
        json_object_object_add(o, "state", json_object_new_string(state_name(h)));
        if (h->problem)
                json_object_object_add(o, "problem", json_object_new_string(h->problem));
        if (live_status)
                json_object_object_add(o, "qemu_status", json_object_new_string(live_status));
        json_object_object_add(o, "pid", active ? json_object_new_int(r->qemu_pid) : NULL);
        json_object_object_add(o, "supervisor_pid", json_object_new_int(r->supervisor_pid));
        json_object_object_add(o, "supervisor_alive",
                               json_object_new_boolean(proc_alive(r->supervisor_pid, r->supervisor_start)));
        json_object_object_add(o, "started_at", r->started_at ? json_object_new_int64(r->started_at / 1000) : NULL);
        json_object_object_add(o, "uptime_s", active && r->started_at
                                                      ? json_object_new_int64((unix_ms() - r->started_at) / 1000)
                                                      : NULL);
        if (h->spec) {
                json_object_object_add(o, "vcpus", json_object_new_int((int)h->spec->cpu.vcpus));
                json_object_object_add(o, "max_vcpus", json_object_new_int((int)h->spec->cpu.max));
                /* what the guest has now: boot memory plus what setmem plugged */
                json_object_object_add(o, "memory", json_object_new_uint64(h->spec->memory.size +
                                                                            h->spec->memory.plugged));
                json_object_object_add(o, "memory_base", json_object_new_uint64(h->spec->memory.size));
                json_object_object_add(o, "memory_plugged", json_object_new_uint64(h->spec->memory.plugged));
                json_object_object_add(o, "placement", placement_json(h->spec));
                if (r->balloon_actual && active)
                        json_object_object_add(o, "balloon_actual", json_object_new_uint64(r->balloon_actual));
                json_object_object_add(o, "memory_max", h->spec->memory.max > h->spec->memory.size
                                                                ? json_object_new_uint64(h->spec->memory.max)
                                                                : NULL);
        }
        if (!active && r->started_at) {
                json_object_object_add(o, "ended_at", json_object_new_int64(r->ended_at / 1000));
                json_object_object_add(o, "ended", json_object_new_string(how ? how : ""));
                if (r->shutdown_reason)
                        json_object_object_add(o, "shutdown_reason", json_object_new_string(r->shutdown_reason));
                if (r->saved_to)
                        json_object_object_add(o, "saved_to", json_object_new_string(r->saved_to));
                if (r->migrated_to)
                        json_object_object_add(o, "migrated_to", json_object_new_string(r->migrated_to));
                json_object_object_add(o, "panicked", json_object_new_boolean(r->panicked));
                json_object_object_add(o, "exit_status", r->exit_status >= 0 ? json_object_new_int(r->exit_status)
                                                                              : NULL);
                json_object_object_add(o, "exit_signal",
                                       r->exit_signal ? json_object_new_int(r->exit_signal) : NULL);
        }
        if (r->message)
                json_object_object_add(o, "message", json_object_new_string(r->message));
        json_object_object_add(o, "rundir", json_object_new_string(h->rundir));
        add_def_json(o, h->name);
        if (active) {
                _cleanup_free_ char *cg = vm_cgroup(h);
                json_object_object_add(o, "cgroup", cg ? json_object_new_string(cg) : NULL);
        }
        if (active && h->qemu_pid) {
                _cleanup_free_ char *mon = monitor_path(h);
                json_object_object_add(o, "monitor", mon ? json_object_new_string(mon) : NULL);
        }
        return o;
}

/* QEMU's own view when the verbs' monitor is free within a moment: its run
 * state (malloc'd; NULL otherwise), and h->spec (and spec.json) brought in
 * line with what QEMU has, which a person on qmp.sock may have changed. */
static char *live_view(struct vm_handle *h, const char *verb)
{
        _cleanup_close_ int fd = state_lock(h->rundir, h->name, verb, 2000, NULL);
        _cleanup_free_ char *sock = NULL;
        _cleanup_qmp_ struct qmp *q = NULL;
        char *live = NULL;
        bool running;

        if (fd < 0 || !(sock = path_join(h->rundir, VM_RUNDIR_CTL)) || qmp_connect(sock, 3000, &q, NULL) < 0)
                return NULL;
        qmp_query_status(q, &live, &running, NULL);
        if (h->spec)
                vm_sync_recorded(h->rundir, q, h->spec, NULL);
        return live;
}

/* A record that says running while nobody watches QEMU any more: write the
 * end down (and so tidy it) when the lock is free. */
static void tidy(struct vm_handle *h)
{
        struct vm_record old;
        int fd;

        if (vm_state_is_active(h->rec.state) || vm_record_read(h->rundir, &old, NULL) < 0)
                return;
        /* a supervisor that died left the VM's cgroup behind; the lock keeps
         * us off a start in progress. QEMU is gone (the record says so), but
         * cgroup.events may say "populated" a moment longer than /proc shows
         * it: wait up to 1 s for that, as kill waits 3 (only a stale cgroup
         * costs it; one that ended well was removed by its supervisor) */
        fd = state_lock(h->rundir, h->name, "list", 0, NULL);
        if (fd >= 0) {
                launch_placement_tidy(h->rundir, 1000, NULL);
                close(fd);
        }
        if (vm_state_is_active(old.state)) {
                fd = state_lock(h->rundir, h->name, "list", 0, NULL);
                if (fd >= 0) {
                        vm_record_write_end(h->rundir, &h->rec, NULL);
                        close(fd);
                }
        }
        vm_record_done(&old);
}

struct list_opts {
        bool all, autostart;
};

static int list_opt(const char *verb, int c, const char *arg, void *ud)
{
        struct list_opts *lo = ud;

        if (c == 'a')
                lo->all = true;
        else if (c == 'A')
                lo->autostart = true;
        return 0;
}

/* The names list shows: every state dir, and with --all every definition
 * too; with --autostart, only the VMs marked for autostart. */
static int list_names(const struct list_opts *lo, char ***ret, struct qc_err *err)
{
        _cleanup_strv_free_ char **run = NULL, **defs = NULL;
        _cleanup_strv_ strv out = { 0 };

        if (state_list_names(&run, err) < 0 || (lo->all && defs_list(&defs, err) < 0))
                return -1;
        for (char **n = run; *n; n++)
                if (strv_push(&out, *n) < 0)
                        return qc_err_sys(err, ENOMEM, "list");
        for (char **n = defs; n && *n; n++)
                if (!strv_contains(run, *n) && strv_push(&out, *n) < 0)
                        return qc_err_sys(err, ENOMEM, "list");
        strv_sort(&out);
        if (lo->autostart) {
                size_t k = 0;
                for (size_t i = 0; i < out.n; i++) {
                        if (defs_autostart(out.v[i], NULL) > 0)
                                out.v[k++] = out.v[i];
                        else
                                free(out.v[i]);
                }
                out.n = k;
                if (out.v)
                        out.v[k] = NULL;
        }
        if (!(*ret = strv_steal(&out)))
                return qc_err_sys(err, ENOMEM, "list");
        return 0;
}

#define LIST_ROW "%-24s %-9s %8s %5s %8s %9s\n"

/* A defined VM that has no state dir (never started here, or since the
 * host's boot: /run is a tmpfs): a "shut off" row. */
static void list_def(const char *name, bool json, json_object *arr)
{
        struct vm_spec *spec = NULL;
        char mem[32] = "-", vcpus[16] = "-";

        (void)defs_load(name, &spec, NULL, NULL);
        if (json) {
                json_object_array_add(arr, def_json(name, spec));
        } else {
                if (spec) {
                        format_size(spec->memory.size + spec->memory.plugged, mem, sizeof mem);
                        snprintf(vcpus, sizeof vcpus, "%u", spec->cpu.vcpus);
                }
                printf(LIST_ROW, name, VM_STATE_SHUT_OFF, "-", vcpus, mem, "-");
        }
        spec_free(spec);
}

int cmd_list(int argc, char **argv)
{
        const char *verb = argv[0];
        struct list_opts lo = { 0 };
        struct cli_opts o = { .take = CLI_OPT_NO_ARGS, .on_opt = list_opt, .ud = &lo };
        _cleanup_strv_free_ char **names = NULL;
        struct qc_err err = { 0 };
        json_object *arr;
        int rc, parsed = cli_parse_opts(verb, argc, argv, &o, &rc), ret = CLI_EXIT_OK;
        bool json = o.json;

        if (parsed != 0)
                return rc;
        if (list_names(&lo, &names, &err) < 0)
                return cli_fail(verb, &err);
        arr = json_object_new_array();
        if (!json)
                printf(LIST_ROW, "NAME", "STATE", "PID", "VCPUS", "MEMORY", "UPTIME");
        for (char **n = names; *n; n++) {
                _cleanup_vm_ struct vm_handle *h = NULL;
                char mem[32] = "-", up[32] = "-", vcpus[16] = "-", pid[16] = "-";

                if (vm_open(*n, "list", VM_OPEN_NO_QMP | VM_OPEN_ANY_STATE | VM_OPEN_BROKEN_OK, cli_lock_timeout_ms, &h,
                            &err) < 0) {
                        /* a state dir that never got a record: not a VM (yet); one
                         * that is not ours alone: nothing in it is read, and
                         * the user hears why */
                        if (err.code != ENOENT) {
                                cli_warn(verb, err.msg);
                                ret = CLI_EXIT_FAIL;
                        } else if ((lo.all || lo.autostart) && defs_exists(*n, NULL) > 0) {
                                list_def(*n, json, arr);
                        }
                        qc_err_clear(&err);
                        continue;
                }
                tidy(h);
                if (json) {
                        json_object_array_add(arr, vm_json(h, NULL));
                        continue;
                }
                if (h->spec) {
                        format_size(h->spec->memory.size + h->spec->memory.plugged, mem, sizeof mem);
                        snprintf(vcpus, sizeof vcpus, "%u", h->spec->cpu.vcpus);
                }
                if (vm_state_is_active(h->rec.state)) {
                        snprintf(pid, sizeof pid, "%d", (int)h->rec.qemu_pid);
                        if (h->rec.started_at)
                                format_uptime(unix_ms() - h->rec.started_at, up, sizeof up);
                }
                /* virsh's "shut off (saved)", in the column's width; a
                 * migrated VM's record stays only if migrate could not
                 * remove its state dir */
                const char *state = state_name(h);
                if (h->rec.state == VM_STATE_ENDED && h->rec.saved_to)
                        state = "saved";
                else if (h->rec.state == VM_STATE_ENDED && h->rec.migrated_to)
                        state = "migrated";
                printf(LIST_ROW, h->name, state, pid, vcpus, mem, up);
        }
        if (json)
                cli_print_json(arr);
        json_object_put(arr);
        return ret;
}

/* Persistent / Autostart, as virsh dominfo says them. */
static void print_def_lines(const char *name)
{
        _cleanup_free_ char *path = NULL;
        bool def = defs_exists(name, NULL) > 0;

        if (def && defs_path(name, &path, NULL) == 0)
                printf("Persistent:  yes (%s)\n", path);
        else
                printf("Persistent:  no (transient: qemuctl define FILE keeps it)\n");
        printf("Autostart:   %s\n", def && defs_autostart(name, NULL) > 0 ? "enable" : "disable");
}

/* status of a defined VM that has not run since the host's boot */
static int status_def(const char *name, bool json)
{
        struct vm_spec *spec = NULL;
        struct qc_err err = { 0 };

        if (defs_load(name, &spec, NULL, &err) < 0)
                return cli_fail("status", &err);
        if (json) {
                json_object *j = def_json(name, spec);
                cli_print_json(j);
                json_object_put(j);
        } else {
                char mem[32];

                format_size(spec->memory.size + spec->memory.plugged, mem, sizeof mem);
                printf("Name:        %s\n", name);
                printf("State:       %s\n", VM_STATE_SHUT_OFF);
                printf("vCPUs:       %u (max %u)\n", spec->cpu.vcpus, spec->cpu.max);
                printf("Memory:      %s\n", mem);
                print_def_lines(name);
        }
        spec_free(spec);
        return CLI_EXIT_OK;
}

int cmd_status(int argc, char **argv)
{
        const char *verb = argv[0];
        struct cli_opts o = { .take = CLI_OPT_ONE_NAME };
        _cleanup_vm_ struct vm_handle *h = NULL;
        _cleanup_free_ char *live = NULL;
        int rc, parsed = cli_parse_opts(verb, argc, argv, &o, &rc);

        if (parsed != 0)
                return rc;
        if (cli_vm_state(argv[optind], &(bool){ false }, NULL) == 0 && defs_exists(argv[optind], NULL) > 0)
                return status_def(argv[optind], o.json);
        if ((rc = cli_vm_open(verb, argv[optind], VM_OPEN_NO_QMP | VM_OPEN_ANY_STATE | VM_OPEN_BROKEN_OK, &h)))
                return rc;
        tidy(h);
        if (h->problem)
                cli_warn(verb, h->problem);
        if (h->qemu_pid)
                live = live_view(h, verb);
        struct vm_ports ports = { 0 };
        if (vm_state_is_active(h->rec.state))
                (void)vm_ports_read(h->rundir, &ports, NULL); /* none: no forwards */
        if (o.json) {
                json_object *j = vm_json(h, live);
                if (j && ports.n)
                        json_object_object_add(j, "ports", vm_ports_to_json(&ports));
                cli_print_json(j);
                json_object_put(j);
                vm_ports_done(&ports);
                return CLI_EXIT_OK;
        }
        const struct vm_record *r = &h->rec;
        printf("Name:        %s\n", h->name);
        printf("State:       %s%s%s%s\n", state_name(h), live ? " (QEMU: " : "", live ? live : "",
               live ? ")" : "");
        if (h->qemu_pid)
                printf("QEMU pid:    %d\n", (int)r->qemu_pid);
        printf("Supervisor:  pid %d (%s)\n", (int)r->supervisor_pid,
               proc_alive(r->supervisor_pid, r->supervisor_start) ? "running" : "gone");
        if (h->spec) {
                const struct vm_spec *sp = h->spec;
                char mem[32], base[32], plugged[32], max[32];

                format_size(sp->memory.size + sp->memory.plugged, mem, sizeof mem);
                format_size(sp->memory.size, base, sizeof base);
                format_size(sp->memory.plugged, plugged, sizeof plugged);
                printf("vCPUs:       %u (max %u)\n", sp->cpu.vcpus, sp->cpu.max);
                if (h->rec.balloon_actual && vm_state_is_active(r->state)) {
                        char b[32];
                        format_size(h->rec.balloon_actual, b, sizeof b);
                        printf("Balloon:     %s (the guest has that much of %s)\n", b, mem);
                }
                if (sp->memory.max > sp->memory.size) {
                        format_size(sp->memory.max, max, sizeof max);
                        printf("Memory:      %s (base %s, plugged %s, max %s)\n", mem, base,
                               sp->memory.plugged ? plugged : "none", max);
                } else {
                        printf("Memory:      %s (no hotplug room)\n", mem);
                }
                placement_print(sp);
        }
        time_t t = (time_t)(r->started_at / 1000);
        char when[64];
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&t));
        printf("Started:     %s\n", r->started_at ? when : "?");
        if (h->problem)
                printf("Problem:     %s\n", h->problem);
        /* started_at 0: the record is lost, and with it how the VM ended */
        if (!r->started_at) {
                /* nothing more is known */
        } else if (vm_state_is_active(r->state)) {
                char up[32];
                format_uptime(unix_ms() - r->started_at, up, sizeof up);
                printf("Uptime:      %s\n", up);
        } else {
                _cleanup_free_ char *how = vm_record_describe_end(r);
                t = (time_t)(r->ended_at / 1000);
                strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&t));
                printf("Ended:       %s\n", r->ended_at ? when : "?");
                printf("How:         %s\n", how ? how : "?");
                if (r->shutdown_reason)
                        printf("Shutdown:    %s\n", r->shutdown_reason);
        }
        if (r->message)
                printf("Message:     %s\n", r->message);
        for (size_t i = 0; i < ports.n; i++)
                printf("%s %u/%s -> %s:%u\n", i ? "            " : "Ports:      ", ports.v[i].guest_port,
                       ports.v[i].udp ? "udp" : "tcp", ports.v[i].addr, ports.v[i].host_port);
        vm_ports_done(&ports);
        printf("State dir:   %s\n", h->rundir);
        print_def_lines(h->name);
        if (vm_state_is_active(r->state)) {
                _cleanup_free_ char *cg = vm_cgroup(h);
                if (cg)
                        printf("Cgroup:      %s (emulator/, vcpuN/)\n", cg);
        }
        if (vm_state_is_active(r->state) && h->qemu_pid) {
                _cleanup_free_ char *mon = monitor_path(h);
                if (mon)
                        printf("Monitor:     %s (QMP for people and tools, any number at once: "
                               "qemuctl qmp %s)\n", mon, h->name);
                else
                        printf("Monitor:     none (its supervisor is gone; qemuctl qmp %s uses the verbs' "
                               "monitor, in turn with them)\n", h->name);
        }
        return CLI_EXIT_OK;
}

int cmd_dump(int argc, char **argv)
{
        const char *verb = argv[0];
        _cleanup_vm_ struct vm_handle *h = NULL;
        _cleanup_free_ char *json = NULL;
        const char *config = NULL;
        struct cli_opts o = { .take = CLI_OPT_ONE_NAME, .no_json = "this verb always prints JSON",
                              .on_opt = cli_opt_store, .ud = &config };
        int rc, parsed = cli_parse_opts(verb, argc, argv, &o, &rc);
        struct vm_spec *def = NULL;
        struct qc_err err = { 0 };
        bool running = false;

        if (parsed != 0)
                return rc;
        const char *name = argv[optind];
        /* --config (virsh's --inactive): the definition, what the next start
         * runs; without it, a VM that is not running shows its definition
         * too (as virsh dumpxml does), the last run's file when it has none */
        int have_state = cli_vm_state(name, &running, NULL);
        if (config || (!running && defs_exists(name, NULL) > 0)) {
                if (defs_load(name, &def, NULL, &err) < 0) {
                        if (err.code == ENOENT && have_state > 0)
                                qc_err_set(&err, ENOENT, "VM `%s` is not defined: it is transient, with no "
                                           "configuration for a next start; dump without --config shows what it "
                                           "runs (qemuctl define FILE makes it persistent)", name);
                        return cli_fail(verb, &err);
                }
                json = spec_to_json(def);
                spec_free(def);
                goto print;
        }
        if ((rc = cli_vm_open(verb, name, VM_OPEN_NO_QMP | VM_OPEN_ANY_STATE, &h)))
                return rc;
        if (h->qemu_pid)
                free(live_view(h, verb));
        json = spec_to_json(h->spec);
print:
        if (!json)
                return cli_failf(verb, "out of memory");
        fputs(json, stdout);
        if (json[0] && json[strlen(json) - 1] != '\n')
                putchar('\n');
        return CLI_EXIT_OK;
}

/* "22", "22/tcp", "53/udp": the guest port and its protocol */
static bool parse_guest_port(const char *arg, unsigned *ret_port, bool *ret_udp)
{
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(arg, &end, 10);
        if (end == arg || errno || v < 1 || v > 65535 || arg[0] == '-' || arg[0] == '+')
                return false;
        if (*end == '\0' || strcmp(end, "/tcp") == 0)
                *ret_udp = false;
        else if (strcmp(end, "/udp") == 0)
                *ret_udp = true;
        else
                return false;
        *ret_port = (unsigned)v;
        return true;
}

int cmd_port(int argc, char **argv)
{
        const char *verb = argv[0];
        struct cli_opts o = { 0 };
        _cleanup_vm_ struct vm_handle *h = NULL;
        struct vm_ports ports = { 0 };
        struct qc_err err = { 0 };
        unsigned want = 0;
        bool udp = false, found = false;
        json_object *arr = NULL;
        int rc, parsed = cli_parse_opts(verb, argc, argv, &o, &rc);

        if (parsed != 0)
                return rc;
        if (optind == argc || argc - optind > 2)
                return cli_usage(verb, "expected a VM name and, optionally, a guest port: port NAME [GUESTPORT[/tcp|/udp]]");
        if (argc - optind == 2 && !parse_guest_port(argv[optind + 1], &want, &udp))
                return cli_usage(verb, "\"%s\": expected a guest port from 1 to 65535, like 22 or 53/udp",
                                 argv[optind + 1]);
        if ((rc = cli_vm_open(verb, argv[optind], VM_OPEN_NO_QMP | VM_OPEN_NO_SPEC, &h)))
                return rc;
        if (vm_ports_read(h->rundir, &ports, &err) < 0) {
                if (err.code == ENOENT)
                        return cli_failf(verb, "VM `%s` forwards no ports (net[].forward of a \"user\" NIC in its VM "
                                               "file)", h->name);
                return cli_fail(verb, &err);
        }
        if (o.json && !(arr = json_object_new_array())) {
                vm_ports_done(&ports);
                return cli_failf(verb, "out of memory");
        }
        for (size_t i = 0; i < ports.n; i++) {
                const struct vm_port *p = &ports.v[i];
                if (want && (p->guest_port != want || p->udp != udp))
                        continue;
                found = true;
                if (arr) {
                        struct vm_ports one = { .v = (struct vm_port *)p, .n = 1 };
                        json_object *a1 = vm_ports_to_json(&one);
                        if (a1) {
                                json_object_array_add(arr, json_object_get(json_object_array_get_idx(a1, 0)));
                                json_object_put(a1);
                        }
                } else if (want) {
                        printf("%s:%u\n", p->addr, p->host_port);
                } else {
                        printf("%u/%s -> %s:%u\n", p->guest_port, p->udp ? "udp" : "tcp", p->addr, p->host_port);
                }
        }
        if (arr) {
                if (found)
                        cli_print_json(arr);
                json_object_put(arr);
        }
        if (!found && want) {
                char have[512] = "";
                size_t n = 0;
                for (size_t i = 0; i < ports.n && n < sizeof have; i++)
                        n += (size_t)snprintf(have + n, sizeof have - n, "%s%u/%s", i ? ", " : "",
                                              ports.v[i].guest_port, ports.v[i].udp ? "udp" : "tcp");
                vm_ports_done(&ports);
                return cli_failf(verb, "VM `%s` forwards no host port to guest port %u/%s; it forwards %s", h->name,
                                 want, udp ? "udp" : "tcp", have);
        }
        vm_ports_done(&ports);
        fflush(stdout);
        return CLI_EXIT_OK;
}
