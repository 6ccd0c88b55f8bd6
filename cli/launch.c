/* `start` and `run` share the way from a VM file to QEMU's argv. */
#include "cli/launch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "common/strv.h"
#include "launcher/accel.h"
#include "launcher/handle.h"
#include "launcher/state.h"

void launch_done(struct launch *l)
{
        spec_free(l->spec);
        free(l->rundir);
        strv_free(l->argv);
        if (l->lock_fd >= 0)
                close(l->lock_fd);
        *l = (struct launch){ .lock_fd = -1 };
}

int parse_duration_ms(const char *s)
{
        char *end;
        double v;

        errno = 0;
        v = strtod(s, &end);
        if (errno || end == s || v < 0 || v > 86400 * 365)
                return -1;
        if (*end == '\0' || strcmp(end, "s") == 0)
                return (int)(v * 1000);
        if (strcmp(end, "ms") == 0)
                return (int)v;
        if (strcmp(end, "m") == 0 && v <= 35000)
                return (int)(v * 60000);
        return -1;
}

int launch_prepare(const char *verb, const char *file, enum cmdline_serial serial, const char *serial_file,
                   int lock_timeout_ms, struct launch *ret)
{
        struct launch l = { .lock_fd = -1 };
        struct spec_diags diags = { 0 };
        struct cmdline_ctx ctx;
        struct qc_err err = { 0 };
        int rc;

        /* the supervisor runs in /: relative paths in the VM file must
         * resolve against the file's directory, so give the spec an absolute path */
        _cleanup_free_ char *abs = realpath(file, NULL);
        rc = spec_load(abs ? abs : file, &l.spec, &diags, &err);
        if (rc == -EINVAL && diags.n) {
                for (size_t i = 0; i < diags.n; i++) {
                        _cleanup_free_ char *d = spec_diag_format(file, &diags.v[i]);
                        fprintf(stderr, "qemuctl: %s: %s\n", verb, d ? d : "invalid VM file");
                }
                spec_diags_done(&diags);
                return CLI_EXIT_FAIL;
        }
        spec_diags_done(&diags);
        if (rc < 0)
                return cli_fail(verb, &err);

        /* the name is checked (by vm_rundir) before anything touches the disk */
        l.lock_fd = state_prepare(l.spec->name, verb, lock_timeout_ms, &l.rundir, &err);
        if (l.lock_fd < 0) {
                launch_done(&l);
                return cli_fail(verb, &err);
        }
        if (spec_resolve_disks(l.spec, true, &err) < 0 || vm_write_spec(l.rundir, l.spec, &err) < 0) {
                launch_done(&l);
                return cli_fail(verb, &err);
        }
        cmdline_ctx_default(&ctx, l.spec, l.rundir);
        ctx.accel = accel_resolve(l.spec->accel);
        ctx.serial = serial;
        ctx.serial_file = serial_file;
        if (cmdline_build(l.spec, &ctx, &l.argv, &err) < 0) {
                launch_done(&l);
                return cli_fail(verb, &err);
        }
        *ret = l;
        return 0;
}
