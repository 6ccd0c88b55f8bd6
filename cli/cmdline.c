/* qemuctl cmdline: print the QEMU command line `start` would execute. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/defs.h"
#include "cli/launch.h"
#include "common/cleanup.h"
#include "common/io.h"
#include "common/size.h"
#include "common/strv.h"
#include "launcher/cmdline.h"
#include "launcher/firmware.h"
#include "launcher/paths.h"
#include "launcher/spec.h"

/* Disks `start` would make: named, so the printed command line is not a surprise. */
static void note_creations(const struct vm_spec *spec)
{
        for (size_t i = 0; i < spec->n_disks; i++) {
                const struct vm_disk *d = &spec->disks[i];
                char size[32];

                if (!d->create || d->media == VM_DISK_MEDIA_CDROM || !d->file || access(d->file, F_OK) == 0)
                        continue;
                format_size(d->create, size, sizeof size);
                fprintf(stderr, "qemuctl: cmdline: note: disks[%zu]: %s does not exist; start would create it (%s, %s)\n",
                        i, d->file, d->format == VM_DISK_FORMAT_RAW ? "raw" : "qcow2", size);
        }
}

/* Every problem at its place, then one line that counts them. Returns 1. */
static int fail_diags(const char *file, struct spec_diags *diags)
{
        for (size_t i = 0; i < diags->n; i++) {
                _cleanup_free_ char *line = spec_diag_format(file, &diags->v[i]);
                fprintf(stderr, "%s\n", line ? line : "out of memory");
        }
        fprintf(stderr, "qemuctl: cmdline: %s: %zu problem%s; fix %s and try again\n", file, diags->n,
                diags->n == 1 ? "" : "s", diags->n == 1 ? "it" : "them");
        spec_diags_done(diags);
        return CLI_EXIT_FAIL;
}

int cmd_cmdline(int argc, char **argv)
{
        _cleanup_(spec_freep) struct vm_spec *spec = NULL;
        _cleanup_strv_free_ char **qemu = NULL;
        _cleanup_free_ char *rundir = NULL, *note = NULL, *file_buf = NULL, *nvram = NULL;
        _cleanup_(fw_list_done) struct fw_list fws = { 0 };
        struct spec_diags diags = {};
        struct qc_err err = {};
        struct cmdline_ctx ctx;
        const char *file, *shell = NULL;
        _cleanup_(spec_overrides_done) struct spec_overrides ov = {};
        struct cli_opts co = { .on_opt = cli_opt_store, .ud = &shell, .overrides = &ov };
        int r, parsed = cli_parse_opts("cmdline", argc, argv, &co, &r);

        if (parsed != 0)
                return r;
        if (optind == argc)
                return cli_usage("cmdline", "no VM file given; usage: qemuctl cmdline [--shell] FILE");
        if (argc - optind > 1)
                return cli_usage("cmdline", "one VM file at a time (got '%s' and '%s')", argv[optind],
                                 argv[optind + 1]);
        if ((r = cli_vm_file("cmdline", argv[optind], &file_buf)))
                return r;
        file = file_buf;

        /* as start loads it: relative paths against the file's real directory */
        r = spec_load_with(file, &ov, &spec, &diags, &err);
        if (r < 0 && diags.n > 0)
                return fail_diags(file, &diags);
        spec_diags_done(&diags);
        if (r < 0)
                return cli_fail("cmdline", &err);
        /* the images, as start reads them (never created here) */
        r = spec_check_disks(spec, &diags, NULL, &err);
        if (r < 0 && diags.n > 0)
                return fail_diags(file, &diags);
        spec_diags_done(&diags);
        if (r < 0)
                return cli_fail("cmdline", &err);

        note_creations(spec);
        if ((r = cli_autoplace("cmdline", spec)))
                return r;
        if (spec_resolve_disks(spec, false, &err) < 0 || vm_rundir(spec->name, &rundir, &err) < 0)
                return cli_fail("cmdline", &err);
        cmdline_ctx_default(&ctx, spec, rundir);
        /* the firmware start would choose; its NVRAM is made by start */
        if (fw_resolve(spec, false, &fws, &ctx.firmware, &nvram, &err) < 0)
                return cli_fail("cmdline", &err);
        ctx.nvram = nvram;
        bool accel_known = cmdline_resolve_accel(spec, &ctx.accel, &note, &err) == 0;

        if (!accel_known)
                /* shown all the same: the command line is the same on a host where KVM runs */
                fprintf(stderr, "qemuctl: cmdline: note: start and run refuse this VM file here: %s\n", err.msg);
        if (note)
                fprintf(stderr, "qemuctl: cmdline: note: %s\n", note);
        _cleanup_free_ char *tcg_note = cmdline_tcg_note(spec, ctx.accel);
        if (tcg_note)
                fprintf(stderr, "qemuctl: cmdline: note: %s\n", tcg_note);
        /* as start checks the CPU, and expands host-model */
        if ((r = launch_check_cpu("cmdline", file, spec, ctx.accel, accel_known)))
                return r;
        if (cmdline_build(spec, &ctx, &qemu, &err) < 0)
                return cli_fail("cmdline", &err);

        for (size_t i = 0; qemu[i]; i++) {
                if (!shell) {
                        printf("%s\n", qemu[i]);
                        continue;
                }
                _cleanup_free_ char *q = shell_quote(qemu[i]);
                if (!q)
                        return cli_failf("cmdline", "out of memory");
                printf("%s%s", i ? " " : "", q);
        }
        if (shell && ctx.serial_log_fd > 2) {
                /* start's supervisor passes the serial log as this fd (a
                 * pipe it copies to serial.log); a shell gives the file
                 * itself, so the line runs as pasted */
                _cleanup_free_ char *log = path_join(rundir, VM_RUNDIR_SERIAL_LOG), *q = NULL;
                if (!log || !(q = shell_quote(log)))
                        return cli_failf("cmdline", "out of memory");
                printf(" %d>>%s", ctx.serial_log_fd, q);
        }
        if (shell)
                printf("\n");
        if (fflush(stdout) != 0)
                return cli_failf("cmdline", "writing the command line: %s", strerror(errno));
        return CLI_EXIT_OK;
}
