/* `start` and `run` share the way from a VM file to QEMU's argv. */
#include "cli/launch.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/io.h"
#include "common/cleanup.h"
#include "launcher/display.h"
#include "common/strv.h"
#include "launcher/cloudinit.h"
#include "launcher/cpu-check.h"
#include "launcher/spawn.h"
#include "launcher/accel.h"
#include "launcher/autoplace.h"
#include "host/host.h"
#include "launcher/handle.h"
#include "launcher/ports.h"
#include "launcher/resources.h"
#include "launcher/paths.h"
#include "launcher/state.h"
#include "launcher/shares.h"
#include "launcher/tpm.h"
#include "launcher/vsock.h"
#include "launcher/spec-diff.h"

#include <fcntl.h>
#include <sys/stat.h>
#include "qmp/qmp-commands.h"

void launch_done(struct launch *l)
{
        launch_placement_done(&l->placement);
        for (size_t i = 0; i < l->n_pass; i++)
                free((char *)l->pass[i].path);
        spec_free(l->spec);
        fw_list_done(&l->firmware);
        free(l->nvram);
        for (size_t i = 0; i < SUPERVISOR_MAX_HELPERS; i++)
                strv_free(l->helper_argv[i]);
        for (size_t i = 0; i < 2 * SUPERVISOR_MAX_HELPERS; i++)
                free(l->helper_paths[i]);
        free(l->rundir);
        strv_free(l->argv);
        if (l->lock_fd >= 0)
                close(l->lock_fd);
        if (l->restore_fd >= 0)
                close(l->restore_fd);
        savefile_done(&l->save);
        *l = (struct launch){ .lock_fd = -1, .restore_fd = -1 };
}

static int pass_one(struct launch *l, const char *dir, const char *file, bool socket)
{
        char *p;

        if (!(p = path_join(dir, file)))
                return -1;
        l->pass[l->n_pass] = (struct supervisor_pass){ .path = p, .socket = socket };
        /* the supervisor hands them to spawn in this order */
        return spawn_passed_fd(l->n_pass++);
}

/* serial.log: a pipe the supervisor copies into the file, bounded */
static int pass_serial_log(struct launch *l)
{
        char *p;

        if (!(p = path_join(l->rundir, VM_RUNDIR_SERIAL_LOG)))
                return -1;
        l->pass[l->n_pass++] =
                (struct supervisor_pass){ .path = p, .log = true, .log_max = l->spec->serial_log_max };
        /* spawn passes them as fds 3, 4, ... in this order */
        return 2 + (int)l->n_pass;
}

/* A QEMU that runs as another user cannot reach into our 0700 state dir: the
 * supervisor makes its sockets and opens its serial log, and QEMU gets fds. */
static int pass_files(struct launch *l, struct cmdline_ctx *ctx)
{
        if ((ctx->qmp_fd = pass_one(l, l->rundir, VM_RUNDIR_CTL, true)) < 0 ||
            (ctx->events_fd = pass_one(l, l->rundir, VM_RUNDIR_EVENTS, true)) < 0 ||
            (ctx->relay_fd = pass_one(l, l->rundir, VM_RUNDIR_RELAY, true)) < 0)
                return -1;
        if (ctx->serial == CMDLINE_SERIAL_SPEC && l->spec->serial != VM_SERIAL_NONE) {
                if ((ctx->console_fd = pass_one(l, l->rundir, VM_RUNDIR_CONSOLE, true)) < 0 ||
                    (ctx->serial_log_fd = pass_serial_log(l)) < 0)
                        return -1;
        } else if (ctx->serial == CMDLINE_SERIAL_FILE && ctx->serial_file) {
                if ((ctx->serial_log_fd = pass_one(l, NULL, ctx->serial_file, false)) < 0)
                        return -1;
        }
        if (l->spec->guest_agent && (ctx->agent_fd = pass_one(l, l->rundir, VM_RUNDIR_AGENT, true)) < 0)
                return -1;
        if (l->nvram) {
                char *p = strdup(l->nvram);

                if (!p)
                        return -1;
                l->pass[l->n_pass] = (struct supervisor_pass){ .path = p, .existing = true };
                ctx->nvram_fd = spawn_passed_fd(l->n_pass++);
        }
        return 0;
}

/* swtpm for "tpm": its state made (swtpm_setup) when new, started by the
 * supervisor before QEMU */
static int add_tpm(struct launch *l, struct qc_err *err)
{
        _cleanup_free_ char *state = NULL;
        size_t i = l->n_helpers;

        if (tpm_state_make(l->spec, &state, err) < 0 || tpm_argv(state, l->rundir, &l->helper_argv[i], err) < 0)
                return -1;
        if (!(l->helper_paths[2 * i] = path_join(l->rundir, VM_RUNDIR_SWTPM)) ||
            !(l->helper_paths[2 * i + 1] = path_join(l->rundir, VM_RUNDIR_SWTPM_LOG)))
                return qc_err_sys(err, ENOMEM, "tpm");
        l->helpers[i] = (struct supervisor_helper){ .name = "swtpm",
                                                    .argv = l->helper_argv[i],
                                                    .socket = l->helper_paths[2 * i],
                                                    .log = l->helper_paths[2 * i + 1] };
        l->n_helpers++;
        return 0;
}

/* virtiofsd for each virtiofs share, started by the supervisor before QEMU */
static int add_virtiofsd(struct launch *l, struct qc_err *err)
{
        for (size_t j = 0; j < l->spec->n_shares; j++) {
                size_t i = l->n_helpers;

                if (l->spec->shares[j].mode != VM_SHARE_VIRTIOFS)
                        continue;
                if (i >= SUPERVISOR_MAX_HELPERS)
                        return qc_err_set(err, E2BIG, "shares: at most %d virtiofs shares (and a TPM)",
                                          SUPERVISOR_MAX_HELPERS - 1);
                if (shares_virtiofsd_argv(l->spec, j, l->rundir, &l->helper_argv[i], err) < 0)
                        return -1;
                if (asprintf(&l->helper_paths[2 * i], "%s/" VM_RUNDIR_VIRTIOFS_FMT, l->rundir, j) < 0 ||
                    asprintf(&l->helper_paths[2 * i + 1], "%s/" VM_RUNDIR_VIRTIOFS_LOG_FMT, l->rundir, j) < 0)
                        return qc_err_sys(err, ENOMEM, "shares");
                l->helpers[i] = (struct supervisor_helper){ .name = "virtiofsd",
                                                            .argv = l->helper_argv[i],
                                                            .socket = l->helper_paths[2 * i],
                                                            .log = l->helper_paths[2 * i + 1] };
                l->n_helpers++;
        }
        return 0;
}

static int hook_make_cgroup(void *userdata, int *ret_fd, struct qc_err *err)
{
        struct launch *l = userdata;

        return launch_placement_make_cgroup(&l->placement, ret_fd, err);
}

static int hook_place_qemu(pid_t pid, void *userdata, struct qc_err *err)
{
        struct launch *l = userdata;

        return launch_placement_place_qemu(pid, &l->placement, err);
}

/* The host ports of the forwards (port 0: the kernel's pick, which only
 * QEMU's `info usernet` knows), into RUNDIR/ports.json before the guest runs. */
static int record_ports(struct qmp *q, struct launch *l, struct qc_err *err)
{
        _cleanup_free_ char *usernet = NULL;
        struct vm_ports ports = { 0 };
        int r;

        if (!vm_ports_wanted(l->spec))
                return 0;
        if (qmp_hmp(q, "info usernet", &usernet, err) < 0)
                return qc_err_wrap(err, "the forwarded ports (info usernet)");
        if (vm_ports_resolve(l->spec, usernet, &ports, err) < 0)
                return -1;
        r = vm_ports_write(l->rundir, &ports, err);
        vm_ports_done(&ports);
        return r;
}

static int hook_pin_vcpus(struct qmp *q, pid_t pid, void *userdata, struct qc_err *err)
{
        struct launch *l = userdata;

        if (record_ports(q, l, err) < 0)
                return -1;
        if (display_set_password(q, l->spec, err) < 0)
                return -1;
        return launch_placement_pin_vcpus(q, pid, &l->placement, err);
}

static int hook_place_vcpus(void *userdata, struct qc_err *err)
{
        struct launch *l = userdata;
        int r = launch_placement_place_vcpus(&l->placement, err);

        /* QEMU is up, recorded and placed: other verbs may come in now
         * (the detached supervisor's copy of the lock: keep_fd) */
        if (l->lock_fd >= 0) {
                close(l->lock_fd);
                l->lock_fd = -1;
        }
        return r;
}

static void hook_remove_cgroup(void *userdata)
{
        struct launch *l = userdata;

        launch_placement_remove_cgroup(&l->placement);
}

void launch_supervisor_opts(struct launch *l, struct supervisor_opts *so)
{
        /* a restore's or a migration's stream, for the supervisor to feed QEMU */
        l->incoming = (struct migration_incoming){ .fd = l->restore_fd };
        *so = (struct supervisor_opts){
                .name = l->spec->name,
                .rundir = l->rundir,
                .argv = l->argv,
                .stdout_fd = -1,
                .notify_fd = -1,
                .stop_when_closed_fd = -1,
                .make_cgroup = hook_make_cgroup,
                .place_qemu = hook_place_qemu,
                .pin_vcpus = hook_pin_vcpus,
                .place_vcpus = hook_place_vcpus,
                .remove_cgroup = hook_remove_cgroup,
                .userdata = l,
                .pass = l->pass,
                .n_pass = l->n_pass,
                .privs = &l->placement.privs,
                .keep_fd = l->lock_fd,
                .helpers = l->helpers,
                .n_helpers = l->n_helpers,
                .incoming = l->restore_fd >= 0 ? &l->incoming : NULL,
                .agent_relay = l->spec->guest_agent,
        };
}

/* Every diagnostic as "qemuctl: VERB: FILE:LINE:COL: path: message"; frees them. */
int cli_print_diags(const char *verb, const char *file, struct spec_diags *diags)
{
        for (size_t i = 0; i < diags->n; i++) {
                _cleanup_free_ char *d = spec_diag_format(file, &diags->v[i]);
                fprintf(stderr, "qemuctl: %s: %s\n", verb, d ? d : "invalid VM file");
        }
        spec_diags_done(diags);
        return CLI_EXIT_FAIL;
}

/* The CPUs this process may run on (Slurm's task/affinity and task/cgroup
 * bind a job to its own); 0 when unknown. */
unsigned cli_affinity_cpus(void)
{
        cpu_set_t set;

        CPU_ZERO(&set);
        if (sched_getaffinity(0, sizeof set, &set) < 0)
                return 0;
        return (unsigned)CPU_COUNT(&set);
}

static int check_allocation(const struct vm_spec *spec, struct qc_err *err)
{
        struct vm_request req;
        struct vm_allocation a;

        if (vm_allocation_read("", environ, cli_affinity_cpus(), &a, err) < 0)
                return -1;
        vm_request_of(spec, &req);
        return vm_allocation_check(&req, &a, err);
}

/* --name on a VM file whose writable disk has one path for every name: a
 * second VM from the file at once would find the image locked by the first
 * (QEMU refuses it). Said before anything starts, with the fix. */
static void warn_shared_disks(const char *verb, const struct spec_overrides *ov, const struct vm_spec *spec)
{
        bool renamed = false;

        for (size_t i = 0; ov && i < ov->n; i++)
                renamed |= strcmp(ov->v[i].path, "name") == 0;
        for (size_t i = 0; renamed && i < spec->n_disks; i++) {
                const struct vm_disk *d = &spec->disks[i];
                const char *base = strrchr(d->file, '/');

                if (d->readonly || d->snapshot || d->media == VM_DISK_MEDIA_CDROM || d->block_device ||
                    strstr(base ? base : d->file, spec->name))
                        continue;
                fprintf(stderr, "qemuctl: %s: warning: disks[%zu]: %s is the same image for every --name; a second VM "
                                "from this file at the same time would find it locked (write {name} in its \"file\" "
                                "for an image per VM)\n",
                        verb, i, d->file);
        }
}

/* A restore's checks before anything is created: the VM file against the
 * saved one, the read-only disks against their size at the save. Returns 0
 * or an exit code (printed). */
static int restore_check(const char *verb, const char *save_path, const char *file, const struct launch *l)
{
        const struct savefile *sf = &l->save;
        struct spec_diags diags = { 0 };
        _cleanup_(spec_freep) struct vm_spec *saved = NULL;
        _cleanup_strv_free_ char **diff = NULL;
        struct qc_err err = { 0 };

        if (spec_parse(sf->path ? sf->path : save_path, sf->spec, strlen(sf->spec), &saved, &diags, &err) < 0) {
                spec_diags_done(&diags);
                return cli_failf(verb, "%s: the VM file saved in it does not parse: %s", save_path, err.msg);
        }
        spec_diags_done(&diags);
        if (migration_check_source(l->spec->qemu.binary, sf->qemu_version, &err) < 0)
                return cli_failf(verb, "%s: %s", save_path, err.msg);
        if (spec_restore_diff(saved, l->spec, &diff, &err) < 0)
                return cli_fail(verb, &err);
        if (diff[0]) {
                fprintf(stderr,
                        "qemuctl: %s: %s: the VM file differs from the saved VM in what QEMU requires to be the "
                        "same:\n",
                        verb, l->spec->path ? l->spec->path : "VM file");
                for (size_t i = 0; diff[i]; i++)
                        fprintf(stderr, "  %s\n", diff[i]);
                fprintf(stderr, "qemuctl: %s: restore with the VM file as saved (leave FILE out), or change FILE "
                                "back\n",
                        verb);
                return CLI_EXIT_FAIL;
        }
        for (size_t i = 0; i < sf->n_disks; i++) {
                const struct savefile_disk *d = &sf->disks[i];
                struct stat st;

                if (d->index >= l->spec->n_disks)
                        return cli_failf(verb, "%s names disks[%u], which the VM file does not have", save_path,
                                         d->index);
                /* the saved VM file names the saved VM's own images */
                if (d->captured && !file && strcmp(l->spec->name, sf->name) != 0 &&
                    strcmp(l->spec->disks[d->index].file, d->file) == 0)
                        return cli_failf(verb,
                                         "restoring `%s` as `%s` would write its disks[%u] over `%s`'s (%s): give "
                                         "the VM file too, with {name} in its disk paths, or --set "
                                         "disks[%u].file=...",
                                         sf->name, l->spec->name, d->index, sf->name, d->file, d->index);
                if (d->captured)
                        continue;
                const char *f = l->spec->disks[d->index].file;
                if (stat(f, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size != d->size)
                        return cli_failf(verb,
                                         "disks[%u] (%s) is %llu bytes, but was %llu when the VM was saved: the "
                                         "guest's memory may hold its old contents; restore with the image as it "
                                         "was",
                                         d->index, f, (unsigned long long)st.st_size, (unsigned long long)d->size);
        }
        return 0;
}

/* The disks captured at the save, back over the VM file's disks (the state
 * dir's lock is held: no QEMU of this name runs). */
static int restore_disks(struct launch *l, struct qc_err *err)
{
        for (size_t i = 0; i < l->save.n_disks; i++) {
                const struct savefile_disk *d = &l->save.disks[i];

                if (d->captured &&
                    savefile_extract(l->restore_fd, d->offset, d->length, l->spec->disks[d->index].file, d->mode,
                                     err) < 0)
                        return qc_err_wrap(err, "disks[%u]", d->index);
        }
        return 0;
}

static int prepare(const char *verb, const char *file, const char *save_path, int incoming_fd,
                   const struct spec_overrides *ov, enum cmdline_serial serial, const char *serial_file,
                   bool reset_nvram, int lock_timeout_ms, struct launch *ret);

int launch_check_cpu(const char *verb, const char *file, struct vm_spec *spec, enum vm_accel accel, bool accel_known)
{
        struct spec_diags diags = { 0 }, notes = { 0 };
        struct qc_err err = { 0 };

        if (cpu_check_host(spec, accel_known ? accel : VM_ACCEL_TCG, accel_known, &diags, &notes, &err) < 0) {
                spec_diags_done(&notes);
                if (diags.n) /* refused: the start as validate would say it */
                        return cli_print_diags(verb, file, &diags);
                /* QEMU itself says what is wrong with it when it runs */
                fprintf(stderr, "qemuctl: %s: warning: CPU model and features not checked: %s\n", verb, err.msg);
                return 0;
        }
        for (size_t i = 0; i < notes.n; i++)
                fprintf(stderr, "qemuctl: %s: note: %s: %s\n", verb, notes.v[i].path, notes.v[i].msg);
        spec_diags_done(&notes);
        spec_diags_done(&diags);
        return 0;
}

int launch_prepare(const char *verb, const char *file, const struct spec_overrides *ov, enum cmdline_serial serial,
                   const char *serial_file, bool reset_nvram, int lock_timeout_ms, struct launch *ret)
{
        return prepare(verb, file, NULL, -1, ov, serial, serial_file, reset_nvram, lock_timeout_ms, ret);
}

int launch_prepare_incoming(const char *verb, const char *file, int incoming_fd, int lock_timeout_ms,
                            struct launch *ret)
{
        return prepare(verb, file, NULL, incoming_fd, NULL, CMDLINE_SERIAL_SPEC, NULL, false, lock_timeout_ms, ret);
}

int launch_prepare_restore(const char *verb, const char *save, const char *file, const struct spec_overrides *ov,
                           enum cmdline_serial serial, const char *serial_file, int lock_timeout_ms,
                           struct launch *ret)
{
        return prepare(verb, file, save, -1, ov, serial, serial_file, false, lock_timeout_ms, ret);
}

int cli_autoplace(const char *verb, struct vm_spec *spec)
{
        struct host_numa numa = { 0 };
        struct host_hugepages hp = { 0 };
        struct autoplace_decision d;
        struct qc_err err = { 0 };
        _cleanup_free_ char *what = NULL;
        int r;

        if (spec->cpu.placement != VM_PLACEMENT_AUTO && spec->numa.placement != VM_PLACEMENT_AUTO)
                return 0;
        r = host_numa_read(&numa, &err);
        if (r == 0 && spec->memory.hugepages)
                r = host_hugepages_read("", &hp, &err);
        if (r == 0)
                r = autoplace_apply(spec, &numa, &hp, &d, &err);
        host_numa_done(&numa);
        host_hugepages_done(&hp);
        if (r < 0) {
                qc_err_wrap(&err, "automatic placement");
                return cli_fail(verb, &err);
        }
        what = autoplace_describe(&d);
        if (what)
                fprintf(stderr, "qemuctl: %s: note: automatic placement: %s\n", verb, what);
        return 0;
}

static int prepare(const char *verb, const char *file, const char *save_path, int incoming_fd,
                   const struct spec_overrides *ov, enum cmdline_serial serial, const char *serial_file,
                   bool reset_nvram, int lock_timeout_ms, struct launch *ret)
{
        /* a live migration's stream: ours from here on, as a save file's fd */
        struct launch l = { .lock_fd = -1, .restore_fd = incoming_fd };
        struct spec_diags diags = { 0 };
        struct cmdline_ctx ctx;
        struct qc_err err = { 0 };
        _cleanup_free_ char *note = NULL;
        const struct fw_desc *firmware = NULL;
        _cleanup_free_ char *nvram = NULL;
        enum vm_accel accel;
        int rc;

        /* where the VM file's problems are said: FILE, else the save file
         * whose VM file is restored */
        const char *where = file ? file : save_path;

        if (save_path) {
                l.restore_fd = open(save_path, O_RDONLY | O_CLOEXEC);
                if (l.restore_fd < 0)
                        return cli_failf(verb, "open %s: %s", save_path, strerror(errno));
                if (savefile_read(l.restore_fd, &l.save, &err) < 0) {
                        launch_done(&l);
                        return cli_failf(verb, "%s: %s", save_path, err.msg);
                }
        }
        /* the supervisor runs in /: relative paths in the VM file must
         * resolve against the file's directory, so give the spec an absolute path */
        _cleanup_free_ char *abs = file ? realpath(file, NULL) : NULL;
        if (file)
                rc = spec_load_with(abs ? abs : file, ov, &l.spec, &diags, &err);
        else /* the VM as it was saved */
                rc = spec_parse_with(l.save.path ? l.save.path : save_path, l.save.spec, strlen(l.save.spec), ov,
                                     &l.spec, &diags, &err);
        if (rc < 0 && diags.n) {
                launch_done(&l);
                return cli_print_diags(verb, where, &diags);
        }
        spec_diags_done(&diags);
        if (rc < 0) {
                launch_done(&l);
                return cli_fail(verb, &err);
        }
        /* accel "kvm" where KVM runs no guest is refused before anything
         * is created, never left to QEMU to find by aborting (exit 3, as
         * when QEMU refuses; `start` says 1) */
        if (cmdline_resolve_accel(l.spec, &accel, &note, &err) < 0) {
                launch_done(&l);
                cli_fail(verb, &err);
                return RUN_EXIT_REFUSED;
        }
        if (note)
                fprintf(stderr, "qemuctl: %s: note: %s\n", verb, note);
        _cleanup_free_ char *tcg_note = cmdline_tcg_note(l.spec, accel);
        if (tcg_note)
                fprintf(stderr, "qemuctl: %s: note: %s\n", verb, tcg_note);
        /* the CPU against the QEMU that will run it; host-model becomes a
         * model here, before a restore compares it with the saved one */
        if ((rc = launch_check_cpu(verb, where, l.spec, accel, true))) {
                launch_done(&l);
                return rc;
        }
        if (save_path && (rc = restore_check(verb, save_path, file, &l))) {
                launch_done(&l);
                return rc;
        }
        /* image problems (missing file, header contradicting "format") in the
         * same FILE:LINE:COL form as validate, before anything is created */
        rc = spec_check_disks(l.spec, &diags, NULL, &err);
        if (rc < 0 && diags.n) {
                launch_done(&l);
                return cli_print_diags(verb, where, &diags);
        }
        spec_diags_done(&diags);
        if (rc < 0) {
                launch_done(&l);
                return cli_fail(verb, &err);
        }
        warn_shared_disks(verb, ov, l.spec);

        /* placement "auto": the nodes chosen now, so that the checks below,
         * the command line and spec.json all have them */
        if ((rc = cli_autoplace(verb, l.spec))) {
                launch_done(&l);
                return rc;
        }

        /* before anything is created: a refused start leaves nothing behind */
        rc = launch_placement_check(l.spec, &l.placement, &err);
        for (size_t i = 0; i < l.placement.warnings.n; i++)
                cli_warn(verb, l.placement.warnings.v[i]);
        if (rc < 0) {
                for (size_t i = 0; i < l.placement.refusals.n; i++)
                        fprintf(stderr, "qemuctl: %s: %s\n", verb, l.placement.refusals.v[i]);
                if (!l.placement.refusals.n)
                        cli_fail(verb, &err);
                launch_done(&l);
                return CLI_EXIT_FAIL;
        }

        /* in a Slurm job, the VM must fit what the job was given */
        if (check_allocation(l.spec, &err) < 0) {
                launch_done(&l);
                return cli_fail(verb, &err);
        }

        /* UEFI: the firmware chosen, its NVRAM checked (not made yet);
         * the TPM's programs there; the vsock CID free */
        if (fw_resolve(l.spec, reset_nvram, &l.firmware, &firmware, &nvram, &err) < 0 ||
            (l.spec->tpm && tpm_check(&err) < 0) ||
            (l.spec->vsock.cid && vsock_check("/dev/vhost-vsock", l.spec->vsock.cid, &err) < 0) ||
            shares_check(l.spec, &err) < 0) {
                launch_done(&l);
                return cli_fail(verb, &err);
        }
        if (reset_nvram && !firmware) {
                launch_done(&l);
                return cli_failf(verb,
                                 "--reset-nvram: %s boots with BIOS (\"firmware\": \"bios\"), which keeps no UEFI "
                                 "variable store to reset; start without --reset-nvram, or give the VM file "
                                 "\"firmware\": \"uefi\"",
                                 where);
        }

        /* the name is checked (by vm_rundir) before anything touches the disk */
        l.lock_fd = state_prepare(l.spec->name, verb, lock_timeout_ms, &l.rundir, &err);
        if (l.lock_fd < 0) {
                launch_done(&l);
                return cli_fail(verb, &err);
        }
        if ((save_path && restore_disks(&l, &err) < 0) || spec_resolve_disks(l.spec, true, &err) < 0 ||
            (firmware && fw_nvram_make(l.spec, firmware, reset_nvram, &l.nvram, &err) < 0) ||
            (l.spec->tpm && add_tpm(&l, &err) < 0) || add_virtiofsd(&l, &err) < 0 ||
            (cloud_init_wanted(l.spec) && cloud_init_seed(l.spec, l.rundir, &err) < 0) ||
            vm_write_spec(l.rundir, l.spec, &err) < 0) {
                launch_done(&l);
                return cli_fail(verb, &err);
        }
        if (reset_nvram)
                fprintf(stderr, "qemuctl: %s: note: VM `%s`: NVRAM %s reset from the template %s\n", verb,
                        l.spec->name, l.nvram, firmware->vars);
        cmdline_ctx_default(&ctx, l.spec, l.rundir);
        ctx.firmware = firmware;
        ctx.nvram = l.nvram;
        ctx.accel = accel;
        ctx.incoming = l.restore_fd >= 0;
        if (save_path) {
                if (lseek(l.restore_fd, (off_t)l.save.stream_offset, SEEK_SET) < 0) {
                        launch_done(&l);
                        return cli_failf(verb, "seek in %s: %s", save_path, strerror(errno));
                }
        }
        ctx.serial = serial;
        ctx.serial_file = serial_file;
        if (ctx.serial != CMDLINE_SERIAL_SPEC)
                ctx.serial_log_fd = 0;
        if (l.placement.privs.change_ids ? pass_files(&l, &ctx) < 0
                                     : ctx.serial_log_fd > 2 && pass_serial_log(&l) != ctx.serial_log_fd) {
                launch_done(&l);
                return cli_failf(verb, "out of memory");
        }
        if (cmdline_build(l.spec, &ctx, &l.argv, &err) < 0) {
                launch_done(&l);
                return cli_fail(verb, &err);
        }
        *ret = l;
        return 0;
}
