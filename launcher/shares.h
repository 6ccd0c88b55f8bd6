/* Shared folders (shares[]): virtiofsd, one per virtiofs share, run by the
 * supervisor as a helper (supervisor_helper) with its socket in the state dir. */
#pragma once
#include <stddef.h>

#include "../common/err.h"
#include "spec.h"

/* Debian 12's virtiofsd (qemu-system-common): QEMU 7.2's C daemon */
#define VIRTIOFSD_PATH "/usr/lib/qemu/virtiofsd"

/* Before anything is created: each share's path is a directory, and
 * virtiofsd is there when a share needs it. -1 with err saying which share
 * and what to do. */
int shares_check(const struct vm_spec *spec, struct qc_err *err);
/* virtiofsd's argv for shares[i]: its socket RUNDIR/virtiofs-i.sock,
 * sandboxed in its own namespaces on the shared directory. */
int shares_virtiofsd_argv(const struct vm_spec *spec, size_t i, const char *rundir, char ***ret, struct qc_err *err);
