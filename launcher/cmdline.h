/* VM spec -> qemu-system-x86_64 argv. A pure function: it runs nothing and
 * reads nothing, so `qemuctl cmdline` prints exactly what `start` executes. */
#pragma once
#include <stdbool.h>

#include "../common/err.h"
#include "spec.h"

struct fw_desc;
struct json_object;

enum cmdline_serial {
        CMDLINE_SERIAL_SPEC,   /* as the VM file says (console socket + serial.log in rundir) */
        CMDLINE_SERIAL_STDIO,  /* `run`: serial on QEMU's stdout */
        CMDLINE_SERIAL_FILE,   /* `run --serial-log F`: serial to serial_file */
};

struct cmdline_ctx {
        const char *rundir;   /* the VM's state dir: ctl.sock, events.sock, relay.sock, console.sock, qga.sock, serial.log */
        bool paused;          /* -S (start paused; the supervisor sends cont) */
        bool incoming;        /* -incoming defer: the guest's state comes by migrate-incoming (launcher/migration.h) */
        enum cmdline_serial serial;
        const char *serial_file;
        enum vm_accel accel;  /* resolved accel (never AUTO); the spec's accel when not AUTO */
        /* Opened by the supervisor and passed to QEMU under these numbers
         * (> 2), or 0 = QEMU opens the path in rundir itself. A QEMU that
         * runs as another user (security.user) cannot reach into root's 0700
         * state dir, so the sockets are made for it. */
        int qmp_fd, events_fd, relay_fd, console_fd, agent_fd; /* listening unix sockets (qmp_fd: ctl.sock) */
        int serial_log_fd; /* serial.log (or serial_file) opened for writing; passed with -add-fd */
        /* firmware uefi / uefi-secure: the descriptor chosen (fw_select,
         * launcher/firmware.h) and the VM's own variable store (NVRAM);
         * nvram_fd > 2: the store opened read-write and passed (fd set 2)
         * to a QEMU of another user, who cannot reach into the data dir */
        const struct fw_desc *firmware;
        const char *nvram;
        int nvram_fd;
};

/* serial.log is always a pipe to the supervisor (it bounds the file,
 * serial-log.h): when QEMU opens its other files itself, that pipe is the
 * one fd passed, fd 3. */
#define CMDLINE_SERIAL_LOG_FD 3

/* Fill ctx with the defaults `start` uses for spec (rundir from
 * state_dir_for(), paused, serial as the spec says: serial.log through
 * CMDLINE_SERIAL_LOG_FD). */
void cmdline_ctx_default(struct cmdline_ctx *ctx, const struct vm_spec *spec, const char *rundir);
/* Returns 0 and a NULL-terminated argv (argv[0] = the binary), or -1 with err. */
int cmdline_build(const struct vm_spec *spec, const struct cmdline_ctx *ctx, char ***ret_argv, struct qc_err *err);
/* What the user should hear when the command line differs from what the VM
 * file asks for: accel "auto" resolved (to `resolved`) as TCG turns
 * host-passthrough/host-model into -cpu max. why: the reason KVM is unusable
 * (may be NULL). malloc'd one-line note, or NULL when there is nothing to say. */
char *cmdline_accel_note(const struct vm_spec *spec, enum vm_accel resolved, const char *why);
/* The other thing the command line leaves out under TCG: `hyperv` (given, or
 * from `os`), whose hv-* flags are KVM's. malloc'd one-line note, or NULL
 * when resolved is kvm or hyperv is off. */
char *cmdline_tcg_note(const struct vm_spec *spec, enum vm_accel resolved);
/* The accel to put in cmdline_ctx on this host (the KVM probe, accel.h):
 * "auto" becomes kvm when KVM runs a guest here, else tcg, and *ret_note (may
 * be NULL) gets cmdline_accel_note() for `cmdline` and `start` to print.
 * "kvm" where KVM does not run a guest: -1 with err (ENODEV) naming the probe's
 * finding and the fix ("auto" or "tcg"), *ret untouched (start and run
 * refuse before QEMU runs: QEMU would find out by aborting). */
int cmdline_resolve_accel(const struct vm_spec *spec, enum vm_accel *ret, char **ret_note, struct qc_err *err);

/* The -blockdev nodes start gives CD-ROM disks[idx]'s medium (d->file with a
 * resolved format; the file node "diskN-file" read-only, the format node
 * "diskN-format" with backing null where the format has one), as
 * blockdev-add arguments, for `change-media`. -1 with err EINVAL when d has
 * no resolved medium. */
int cmdline_medium_nodes(const struct vm_disk *d, size_t idx, struct json_object **ret_file,
                         struct json_object **ret_format, struct qc_err *err);
