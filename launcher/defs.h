/* The definition store: VMs that live on a host (docs/host.md).
 *
 * A definition is a VM file stored under the VM's name, so that `start NAME`
 * (and `run NAME`, and a systemd unit) starts it, `--config` changes it for
 * the next start, and `autostart` marks it for the host's boot:
 *
 *   CONFDIR/vms/NAME.json        the definition (0600), as `dump` writes a VM
 *                                file: every path in it absolute
 *   CONFDIR/autostart/NAME.json  a symlink to ../vms/NAME.json: start at boot
 *   CONFDIR/lock                 flock'd around every read-modify-write
 *
 * CONFDIR: $QEMUCTL_CONFDIR when set (absolute), /etc/qemuctl for root,
 * $XDG_CONFIG_HOME/qemuctl (default ~/.config/qemuctl) otherwise. What it
 * holds decides what runs (as root, for /etc/qemuctl), so CONFDIR and its
 * subdirectories must be directories owned by the caller and not writable by
 * group or others, or nothing in them is read (EPERM, the fix named). Files
 * are opened relative to the checked dir fd, never through a symlink.
 *
 * A definition is written to a new temporary file, fsync'd, renamed over the
 * old one and the directory fsync'd: it is never half-written, and once a
 * function here returns it survives a crash. */
#pragma once
#include <stdbool.h>

#include "../common/err.h"
#include "spec.h"

#define DEFS_VMS "vms"
#define DEFS_AUTOSTART "autostart"
/* What list and status call a defined VM that does not run (virsh's word). */
#define VM_STATE_SHUT_OFF "shut off"

/* CONFDIR (see above), malloc'd; creates nothing. -1 with err (EINVAL: a
 * relative QEMUCTL_CONFDIR; ENOENT: no HOME to put it under). */
int defs_dir(char **ret, struct qc_err *err);
/* CONFDIR/vms/NAME.json (whether it exists or not), malloc'd. NAME must be
 * a valid VM name (EINVAL). */
int defs_path(const char *name, char **ret, struct qc_err *err);
/* 1: NAME has a definition; 0: it has none (or there is no store yet); -1
 * with err (the store is not ours alone, ...). */
int defs_exists(const char *name, struct qc_err *err);
/* Parse NAME's definition. -1 with err: ENOENT (not defined), EINVAL (no
 * longer a valid VM file, or it names another VM; every problem in diags
 * when diags is given), EPERM (the store is not ours alone). */
int defs_load(const char *name, struct vm_spec **ret, struct spec_diags *diags, struct qc_err *err);
/* Store spec as the definition of spec->name, replacing any (durably, under
 * the store's lock). It is serialized as `dump` does and parsed back first:
 * a spec that would not read back as the same valid VM file is refused
 * (EINVAL, the problems in diags when given). Returns 1 when it replaced a
 * definition, 0 when it is new, -1 with err. */
int defs_store(const struct vm_spec *spec, struct spec_diags *diags, struct qc_err *err);
/* Remove NAME's definition and its autostart link. -1 with err: ENOENT
 * (not defined). */
int defs_remove(const char *name, struct qc_err *err);
/* Names of every definition, sorted, NULL-terminated (strv_free); an empty
 * list when there is no store yet. */
int defs_list(char ***ret, struct qc_err *err);

/* A change to a stored definition: change the spec, 0; or -1 with err. */
typedef int (*defs_change_fn)(struct vm_spec *spec, void *userdata, struct qc_err *err);
/* Read NAME's definition, apply change, check the result as defs_store does,
 * and write it back, all under the store's lock (a second writer waits
 * up to 10 s, then EBUSY). Nothing is written when change or the check
 * fails (EINVAL: the result is not a valid VM file; the problems in diags
 * when given). ENOENT: not defined. */
int defs_update(const char *name, defs_change_fn change, void *userdata, struct spec_diags *diags,
                struct qc_err *err);
/* A check of a parsed definition before it is written: 0, or -1 with err
 * (EINVAL: the problems in diags, as given to the caller). */
typedef int (*defs_check_fn)(const struct vm_spec *spec, void *userdata, struct spec_diags *diags,
                             struct qc_err *err);
/* Replace NAME's definition with text (a whole VM file; `edit`) when it is
 * still expect (what the caller read before; NULL: no check) and text
 * parses as a valid VM file named NAME, relative paths resolved against
 * base_dir (absolute), and check (may be NULL) passes. -1 with err: EAGAIN
 * (changed meanwhile), EINVAL (the problems in diags when given; the
 * message names a rename), ENOENT, or check's. */
int defs_replace_text(const char *name, const char *expect, const char *text, const char *base_dir,
                      defs_check_fn check, void *userdata, struct spec_diags *diags, struct qc_err *err);
/* The stored text of NAME's definition (malloc'd). -1 with err: ENOENT. */
int defs_read_text(const char *name, char **ret, struct qc_err *err);

/* Autostart: 1 when NAME is marked, 0 when not, -1 with err. */
int defs_autostart(const char *name, struct qc_err *err);
/* Mark or unmark NAME (ENOENT: not defined, when marking). Unmarking an
 * unmarked VM is fine. */
int defs_set_autostart(const char *name, bool on, struct qc_err *err);
/* Names of every marked VM that is defined, sorted (strv_free). */
int defs_list_autostart(char ***ret, struct qc_err *err);
