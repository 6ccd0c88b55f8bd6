/* VNC's password: read from the file the VM file names (never from the VM
 * file itself, never on QEMU's command line), handed to QEMU over QMP
 * before the guest runs. */
#pragma once
#include <stddef.h>

#include "../common/err.h"
#include "spec.h"

struct qmp;

/* RFB's VNC authentication keys DES with the password's first 8 bytes. */
#define VNC_PASSWORD_MAX 8

/* The password in file: its first line (a trailing newline is not part of
 * it), 1 to VNC_PASSWORD_MAX bytes, into buf (VNC_PASSWORD_MAX + 1 bytes).
 * -1 with err: ENOENT/EACCES (cannot open it), EINVAL (not a regular file,
 * empty, too long, a NUL in it). */
int display_read_password(const char *file, char *buf, struct qc_err *err);

/* With display.password_file: set_password (VNC) from the file, then
 * expire_password: "+password_valid_for" or "never". Nothing otherwise. */
int display_set_password(struct qmp *q, const struct vm_spec *spec, struct qc_err *err);
