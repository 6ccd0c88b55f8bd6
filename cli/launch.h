/* What `start` and `run` share: VM file -> state dir -> QEMU argv. */
#pragma once
#include <stdbool.h>

#include "launcher/cmdline.h"
#include "launcher/firmware.h"
#include "launcher/launch-placement.h"
#include "launcher/migration.h"
#include "launcher/savefile.h"
#include "launcher/spec.h"
#include "launcher/supervisor.h"

struct launch {
        struct vm_spec *spec;
        char *rundir;
        int lock_fd;                      /* the VM's lock; the supervisor closes it once QEMU is placed */
        char **argv;
        struct launch_placement placement;        /* checked before anything was created */
        struct supervisor_pass pass[8];   /* QEMU's sockets, log and NVRAM as fds (another user's QEMU) */
        size_t n_pass;
        /* --restore: the save file, or a migration's stream (it goes to QEMU
         * by getfd), -1 = boot */
        int restore_fd;
        struct savefile save;
        struct migration_incoming incoming; /* of restore_fd, by launch_supervisor_opts */
        struct fw_list firmware;          /* UEFI: the descriptors; nvram: the VM's variables */
        char *nvram;
        /* helpers the supervisor starts before QEMU (swtpm), their argv and paths */
        struct supervisor_helper helpers[SUPERVISOR_MAX_HELPERS];
        size_t n_helpers;
        char **helper_argv[SUPERVISOR_MAX_HELPERS];
        char *helper_paths[2 * SUPERVISOR_MAX_HELPERS];
};

/* cpu.placement / numa.placement "auto": choose the host nodes now (this
 * host's free memory and CPUs) and write them into spec (numa.nodeset,
 * cpu.cpuset); say what was chosen on stderr ("qemuctl: VERB: note: ...").
 * 0, or the exit status of the failure it printed. */
int cli_autoplace(const char *verb, struct vm_spec *spec);

/* Load and validate FILE with the changes ov (--set, --name; may be NULL) (printing every problem), resolve accel (accel
 * "kvm" where KVM runs no guest: RUN_EXIT_REFUSED), check placement and
 * privileges (printing warnings; a refusal creates nothing), prepare the state dir
 * (lock held in lock_fd), resolve disks, record spec.json, build
 * the argv with serial as given. reset_nvram (start --reset-nvram): a UEFI
 * VM's variable store is copied from its template again once the state dir
 * is ours (so never under a running QEMU); refused for a BIOS VM. Returns 0
 * or an exit code (already printed). */
int launch_prepare(const char *verb, const char *file, const struct spec_overrides *ov, enum cmdline_serial serial,
                   const char *serial_file, bool reset_nvram, int lock_timeout_ms, struct launch *ret);
/* The same for `--restore SAVE [FILE]`: the VM that SAVE (`qemuctl save`,
 * launcher/savefile.h) holds, as FILE describes it or, without FILE, as it
 * was saved (ov applies to either: --name restores a copy under another
 * name). A VM that differs in what QEMU requires identical is refused with
 * every difference (spec-diff.h); so is a read-only disk whose size
 * changed. Once the state dir is ours, the disks captured at the save are
 * written back over the VM's disks; the argv has -incoming defer and the
 * supervisor feeds it the stream (launch_supervisor_opts). */
int launch_prepare_restore(const char *verb, const char *save, const char *file, const struct spec_overrides *ov,
                           enum cmdline_serial serial, const char *serial_file, int lock_timeout_ms,
                           struct launch *ret);
/* The same for the far side of a live migration (`migrate`): FILE is the
 * VM's effective spec as the source sent it, the stream comes on
 * incoming_fd (taken over: launch_done closes it), the console goes to
 * serial.log as with start. */
int launch_prepare_incoming(const char *verb, const char *file, int incoming_fd, int lock_timeout_ms,
                            struct launch *ret);
void launch_done(struct launch *l);
/* The CPUs this process may run on (its affinity mask); 0 when unknown. */
unsigned cli_affinity_cpus(void);
/* The supervisor's options for l: argv, state dir, the placement hooks,
 * QEMU's fds and identity (userdata = l). */
void launch_supervisor_opts(struct launch *l, struct supervisor_opts *so);
/* Every diagnostic as "qemuctl: VERB: FILE:LINE:COL: path: message"; frees
 * them; returns CLI_EXIT_FAIL. */
int cli_print_diags(const char *verb, const char *file, struct spec_diags *diags);
/* The CPU step of start, run and cmdline (launcher/cpu-check.h) under the
 * resolved accel (accel_known false: names only, against TCG): problems printed as validate prints them (returns their
 * exit status), notes printed; host-model becomes the model QEMU expands the
 * host CPU into under KVM. A QEMU that cannot be asked is a warning (it
 * speaks for itself when it runs). 0 to go on. */
int launch_check_cpu(const char *verb, const char *file, struct vm_spec *spec, enum vm_accel accel, bool accel_known);
