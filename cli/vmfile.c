/* Verbs about VM files themselves: validate. */
#include <errno.h>
#include <getopt.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "launcher/cmdline.h"
#include "launcher/cpu-check.h"
#include "launcher/spec.h"

struct validate_opts {
        bool json, no_files, verbose;
        const struct spec_overrides *ov; /* --set, --name: applied to every file */
};

static json_object *diags_to_json(const struct spec_diags *d)
{
        json_object *a = json_object_new_array();

        for (size_t i = 0; a && i < d->n; i++) {
                json_object *e = json_object_new_object();

                if (!e)
                        break;
                json_object_object_add(e, "line", json_object_new_int((int)d->v[i].line));
                json_object_object_add(e, "col", json_object_new_int((int)d->v[i].col));
                json_object_object_add(e, "path", json_object_new_string(d->v[i].path ? d->v[i].path : ""));
                if (d->v[i].origin) /* a --set or --name, not a place in the file */
                        json_object_object_add(e, "option", json_object_new_string(d->v[i].origin));
                json_object_object_add(e, "message", json_object_new_string(d->v[i].msg));
                json_object_array_add(a, e);
        }
        return a;
}

static void print_diags(const char *file, const struct spec_diags *d, const char *prefix)
{
        for (size_t i = 0; i < d->n; i++) {
                _cleanup_free_ char *line = spec_diag_format(file, &d->v[i]);
                printf("%s%s\n", prefix, line ? line : "out of memory");
        }
}

/* What the command line leaves out under "accel": "tcg" (cmdline_tcg_note),
 * as a note of the file: start would say it too. */
static void note_tcg(const struct vm_spec *spec, struct spec_diags *notes)
{
        char *msg = spec->accel == VM_ACCEL_TCG ? cmdline_tcg_note(spec, VM_ACCEL_TCG) : NULL;
        struct spec_diag *v;

        if (!msg)
                return;
        if (!(v = realloc(notes->v, (notes->n + 1) * sizeof *v))) {
                free(msg);
                return;
        }
        notes->v = v;
        notes->v[notes->n++] = (struct spec_diag){ .msg = msg };
}

/* The CPU model and features against the QEMU binary that would run the
 * file here (launcher/cpu-check.h): 0, or -1 with err after problems in d.
 * A QEMU that cannot be asked is a warning: nothing about the file. */
static int validate_cpu(const char *file, struct vm_spec *spec, struct spec_diags *d, struct spec_diags *notes,
                        struct qc_err *err)
{
        _cleanup_free_ char *note = NULL;
        struct qc_err e = { 0 };
        enum vm_accel accel = VM_ACCEL_TCG;
        bool known = cmdline_resolve_accel(spec, &accel, &note, &e) == 0;
        size_t before = d->n;

        if (notes && note && spec_diags_add(notes, "accel", note) < 0)
                return qc_err_sys(err, ENOMEM, "notes");
        if (notes && !known) {
                _cleanup_free_ char *m = NULL;

                if (asprintf(&m, "\"require\" and \"forbid\" not checked: %s", e.msg) < 0 ||
                    spec_diags_add(notes, "cpu.features", m) < 0)
                        return qc_err_sys(err, ENOMEM, "notes");
        }
        qc_err_clear(&e);
        if (cpu_check_host(spec, accel, known, d, notes, &e) == 0)
                return 0;
        if (d->n > before) {
                *err = e;
                return -1;
        }
        fprintf(stderr, "qemuctl: validate: warning: %s: CPU model and features not checked: %s\n", file, e.msg);
        return 0;
}

/* One file: its diagnostics, or one error standing for them when the file
 * could not be read. Returns true when the file is good. */
static bool validate_one(const char *file, const struct validate_opts *o, json_object *out)
{
        struct spec_diags d = { 0 }, notes = { 0 };
        struct vm_spec *spec = NULL;
        struct qc_err err = { 0 };
        int r = spec_load_with(file, o->ov, &spec, &d, &err);
        bool good;

        /* the images, as start reads them: only for a file that is otherwise good */
        if (r == 0 && !o->no_files)
                r = spec_check_disks(spec, &d, o->verbose ? &notes : NULL, &err);
        if (r == 0 && o->verbose)
                note_tcg(spec, &notes);
        if (r == 0 && !o->no_files)
                r = validate_cpu(file, spec, &d, o->verbose ? &notes : NULL, &err);
        spec_free(spec);
        good = r == 0;
        if (r < 0 && d.n == 0) {
                /* one error standing for the file (unreadable, out of memory) */
                spec_diags_done(&d);
                d.v = calloc(1, sizeof *d.v);
                if (d.v && (d.v[0].msg = strdup(err.msg)))
                        d.n = 1;
                if (!o->json)
                        cli_fail("validate", &err);
        }
        if (o->json) {
                json_object *entry = json_object_new_object();

                if (entry) {
                        json_object_object_add(entry, "file", json_object_new_string(file));
                        json_object_object_add(entry, "ok", json_object_new_boolean(good));
                        json_object_object_add(entry, "errors", diags_to_json(&d));
                        if (o->verbose)
                                json_object_object_add(entry, "notes", diags_to_json(&notes));
                        json_object_array_add(out, entry);
                }
        } else {
                if (r < 0 && d.n > 0)
                        print_diags(file, &d, "");
                if (o->verbose)
                        print_diags(file, &notes, "note: ");
                if (good)
                        printf("%s: ok\n", file);
        }
        spec_diags_done(&d);
        spec_diags_done(&notes);
        return good;
}

static int validate_opt(const char *verb, int c, const char *arg, void *ud)
{
        struct validate_opts *o = ud;

        if (c == 'n')
                o->no_files = true;
        else if (c == 'v')
                o->verbose = true;
        else
                return cli_usage(verb, "unknown option");
        return 0;
}

int cmd_validate(int argc, char **argv)
{
        json_object *out = NULL;
        _cleanup_(spec_overrides_done) struct spec_overrides ov = { 0 };
        struct validate_opts o = { .ov = &ov };
        struct cli_opts co = { .on_opt = validate_opt, .ud = &o, .overrides = &ov };
        bool all_good = true;
        int rc, parsed = cli_parse_opts("validate", argc, argv, &co, &rc);

        if (parsed != 0)
                return rc;
        o.json = co.json;
        if (optind == argc)
                return cli_usage("validate", "no VM file given; usage: qemuctl validate [--json] [--no-files] [--verbose] FILE...");
        if (o.json && !(out = json_object_new_array()))
                return cli_failf("validate", "out of memory");
        for (int i = optind; i < argc; i++)
                all_good &= validate_one(argv[i], &o, out);
        if (o.json) {
                cli_print_json(out);
                json_object_put(out);
        }
        fflush(stdout);
        return all_good ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
