/* Where a VM's state lives. The state dir holds files with fixed names that
 * every part of qemuctl relies on (see VM_RUNDIR_* below). */
#pragma once
#include "../common/err.h"

/* File names inside a VM's state dir. */
/* QEMU serves one client per QMP monitor, so each party has its own: */
#define VM_RUNDIR_CTL "ctl.sock"         /* QEMU's monitor for qemuctl's verbs (one at a time: the VM's lock) */
#define VM_RUNDIR_EVENTS "events.sock"   /* QEMU's monitor kept by the supervisor (events, stop, quit) */
#define VM_RUNDIR_RELAY "relay.sock"     /* QEMU's monitor the supervisor relays people's clients onto */
#define VM_RUNDIR_QMP "qmp.sock"         /* for people and tools: the supervisor's relay, any number of clients */
#define VM_RUNDIR_CONSOLE "console.sock" /* serial chardev socket (server, nowait) */
#define VM_RUNDIR_SERIAL_LOG "serial.log"
#define VM_RUNDIR_AGENT "qga.sock"       /* the guest agent's virtio-serial port (server, nowait): the supervisor's */
#define VM_RUNDIR_AGENT_RELAY "agent.sock" /* for verbs: the supervisor relays it onto qga.sock (supervisor-agent.h) */
#define VM_RUNDIR_SWTPM "swtpm.sock"     /* swtpm's control channel (tpm: QEMU connects, -tpmdev emulator) */
#define VM_RUNDIR_SWTPM_LOG "swtpm.log"
/* shares[N] with virtiofs: virtiofsd's vhost-user socket and its log */
#define VM_RUNDIR_VIRTIOFS_FMT "virtiofs-%zu.sock"
#define VM_RUNDIR_VIRTIOFS_LOG_FMT "virtiofs-%zu.log"
/* Every socket above, NULL-terminated: dead ends once QEMU is gone, 0600
 * while it runs. */
extern const char *const vm_rundir_sockets[];

/* The directory holding every VM's state dir: $QEMUCTL_RUNDIR if set,
 * /run/qemuctl for root, $XDG_RUNTIME_DIR/qemuctl otherwise (an error when
 * unset). Returns 0 and a malloc'd path, or -1 with err. Creates nothing. */
int vm_rundir_base(char **ret, struct qc_err *err);
/* vm_rundir_base()/NAME. NAME must be a valid VM name. */
int vm_rundir(const char *name, char **ret, struct qc_err *err);

/* A per-user base dir of qemuctl's: $env_var when set (absolute, else
 * EINVAL), root_dir for root, $xdg_var/qemuctl (when absolute) or
 * $HOME/home_sub/qemuctl otherwise (ENOENT naming what has no place when
 * neither is set). Trailing slashes dropped. */
int user_base_dir(const char *env_var, const char *root_dir, const char *xdg_var, const char *home_sub,
                  const char *what, char **ret, struct qc_err *err);

/* Where a VM's lasting data lives (its UEFI variables, its TPM's state):
 * kept across reboots, unlike the state dir. $QEMUCTL_DATADIR if set,
 * /var/lib/qemuctl for root, $XDG_DATA_HOME/qemuctl otherwise
 * (~/.local/share/qemuctl when unset). Returns 0 and a malloc'd path, or
 * -1 with err. Creates nothing. */
int vm_datadir_base(char **ret, struct qc_err *err);
/* vm_datadir_base()/NAME, made (0700, the base too) when absent, and
 * checked to be ours alone (a directory, not a symlink, owned by us, not
 * writable by group or others: its files are handed to QEMU). Returns 0
 * and the malloc'd path, or -1 with err saying what to fix. */
int vm_datadir_make(const char *name, char **ret, struct qc_err *err);
/* Remove the entries (NULL-terminated: files, or directories of files) of
 * VM name's data dir, then the dir itself when nothing else is left in it.
 * *ret_removed (may be NULL): how many of them were there. 0, or -1 with
 * err. A data dir that is not there is fine. */
int vm_datadir_remove(const char *name, const char *const *entries, int *ret_removed, struct qc_err *err);
