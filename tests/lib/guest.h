/* The test guest (tests/guest/README.md) from C tests and tools: ask it a
 * question over its ttyS1 chardev socket, and boot it under QEMU/TCG. */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

#include "../../common/err.h"

/* The kernel command line the tests boot the guest with (+ extra knobs). */
#define GUEST_CMDLINE "console=ttyS0 quiet panic=-1"

/* Connect to the unix socket of the guest's ttyS1 chardev (retrying while it
 * does not exist or refuses, until timeout_ms), send one question, and return
 * its one-line answer (tag stripped) in *ret_answer (malloc'd). */
int guest_ask(const char *sock_path, const char *question, int timeout_ms, char **ret_answer,
              struct qc_err *err);
/* guest_ask, then parse "<key> <number>" (e.g. "cpus-online 3"). */
int guest_ask_number(const char *sock_path, const char *question, const char *key, int timeout_ms,
                     long long *ret, struct qc_err *err);

/* Where the guest was built: $QEMUCTL_BUILD/guest, else build/guest. NULL
 * and *ret_reason set when it or QEMU is missing (tests skip with it). */
const char *guest_dir(const char **ret_reason);
const char *guest_qemu_binary(void); /* $QEMU, else qemu-system-x86_64 */

struct guest_vm {
        pid_t pid;        /* QEMU, our child; 0 once reaped */
        int exit_status;  /* wait status once reaped */
        char *dir;        /* private temp dir holding the sockets and the log */
        char *qmp_sock;   /* -qmp unix:...,server=on,wait=off */
        char *ask_sock;   /* ttyS1 */
        char *serial_log; /* ttyS0 (console) */
};

/* Boot the guest under TCG (q35, -nodefaults, -no-reboot) with these extra
 * QEMU args (NULL-terminated, may be NULL) and extra kernel command line
 * words (may be NULL). Returns once QEMU runs; see guest_vm_wait_ready. */
int guest_vm_start(const char *const *qemu_args, const char *cmdline_extra, struct guest_vm *ret,
                   struct qc_err *err);
/* Wait until the console says "qemuctl-guest: ready". */
int guest_vm_wait_ready(struct guest_vm *vm, int timeout_ms, struct qc_err *err);
/* Wait for QEMU to exit on its own (true: exited; status in exit_status). */
bool guest_vm_wait_exit(struct guest_vm *vm, int timeout_ms);
/* Kill QEMU if still running, reap it, remove the temp dir. Idempotent. */
void guest_vm_stop(struct guest_vm *vm);
