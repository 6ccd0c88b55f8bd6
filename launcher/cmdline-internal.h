/* Shared by launcher/cmdline*.c and tests only. */
#pragma once
#include <stdbool.h>

#include "../common/err.h"
#include "../common/strv.h"
#include "cmdline.h"

/* An argv under construction. Allocation failures are remembered and
 * reported once at the end, so the builders read as a list of arguments. */
struct qargs {
        strv v;
        strv scratch; /* escaped strings handed out by qopt_escape() */
        bool oom;
};

static inline void qargs_done(struct qargs *a)
{
        strv_done(&a->v);
        strv_done(&a->scratch);
}

void qarg(struct qargs *a, const char *s);
void qargf(struct qargs *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append to a malloc'd option string (*s may be NULL). */
void qcatf(struct qargs *a, char **s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Push s (taking ownership; NULL after an earlier failure is fine). */
void qarg_take(struct qargs *a, char *s);
/* A value inside a QEMU "key=value,key=value" option: QemuOpts and keyval
 * both read ",," as a literal comma. The result lives until the argv is done. */
const char *qopt_escape(struct qargs *a, const char *s);

int cmdline_add_disks(struct qargs *a, const struct vm_spec *spec, struct qc_err *err);
int cmdline_add_seed(struct qargs *a, const struct vm_spec *spec, const char *rundir, struct qc_err *err);
int cmdline_add_nets(struct qargs *a, const struct vm_spec *spec, struct qc_err *err);
/* -vnc / -display none, the video device, USB input. */
void cmdline_add_display(struct qargs *a, const struct vm_spec *spec);
