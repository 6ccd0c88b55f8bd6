/* Verbs about VM files themselves: validate. */
#include <errno.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "launcher/spec.h"

static void validate_help(void)
{
        printf("Usage: qemuctl validate [--json] FILE...\n\n"
               "Parse and check VM files without running anything. Prints \"FILE: ok\" for a\n"
               "good file and every problem of a bad one as FILE:LINE:COL: json.path: message.\n"
               "Exit status: 0 when every file is good, 1 when any is not, 2 on usage errors.\n\n"
               "  --json   print [{\"file\", \"ok\", \"errors\": [{\"line\", \"col\", \"path\", \"message\"}]}]\n"
               "  --help   this text\n\n"
               "The keys of a VM file: docs/vm-file.md.\n");
}

/* One file: its diagnostics, or one error standing for them when the file
 * could not be read. Returns true when the file is good. */
static bool validate_one(const char *file, bool json, json_object *out)
{
        struct spec_diags d = { 0 };
        struct vm_spec *spec = NULL;
        struct qc_err err = { 0 };
        json_object *entry = NULL, *errors = NULL;
        int r = spec_load(file, &spec, &d, &err);
        bool good = r == 0;

        spec_free(spec);
        if (json) {
                entry = json_object_new_object();
                errors = json_object_new_array();
                if (!entry || !errors) {
                        json_object_put(entry);
                        json_object_put(errors);
                        spec_diags_done(&d);
                        return false;
                }
                json_object_object_add(entry, "file", json_object_new_string(file));
                json_object_object_add(entry, "ok", json_object_new_boolean(good));
        }
        if (r < 0 && r != -EINVAL) {
                if (json) {
                        json_object *e = json_object_new_object();
                        json_object_object_add(e, "line", json_object_new_int(0));
                        json_object_object_add(e, "col", json_object_new_int(0));
                        json_object_object_add(e, "path", json_object_new_string(""));
                        json_object_object_add(e, "message", json_object_new_string(err.msg));
                        json_object_array_add(errors, e);
                } else {
                        cli_fail("validate", &err);
                }
        }
        for (size_t i = 0; i < d.n; i++) {
                if (json) {
                        json_object *e = json_object_new_object();
                        json_object_object_add(e, "line", json_object_new_int((int)d.v[i].line));
                        json_object_object_add(e, "col", json_object_new_int((int)d.v[i].col));
                        json_object_object_add(e, "path", json_object_new_string(d.v[i].path ? d.v[i].path : ""));
                        json_object_object_add(e, "message", json_object_new_string(d.v[i].msg));
                        json_object_array_add(errors, e);
                } else {
                        _cleanup_free_ char *line = spec_diag_format(file, &d.v[i]);
                        printf("%s\n", line ? line : "out of memory");
                }
        }
        if (json) {
                json_object_object_add(entry, "errors", errors);
                json_object_array_add(out, entry);
        } else if (good) {
                printf("%s: ok\n", file);
        }
        spec_diags_done(&d);
        return good;
}

int cmd_validate(int argc, char **argv)
{
        json_object *out = NULL;
        bool json = false, all_good = true, opts = true;
        int n_files = 0;

        for (int i = 1; i < argc; i++) {
                if (!opts || argv[i][0] != '-' || !argv[i][1])
                        n_files++;
                else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                        validate_help();
                        return CLI_EXIT_OK;
                } else if (strcmp(argv[i], "--json") == 0)
                        json = true;
                else if (strcmp(argv[i], "--") == 0)
                        opts = false;
                else
                        return cli_usage("validate", "unknown option '%s'", argv[i]);
        }
        if (n_files == 0)
                return cli_usage("validate", "no VM file given; usage: qemuctl validate [--json] FILE...");
        if (json && !(out = json_object_new_array()))
                return cli_failf("validate", "out of memory");
        opts = true;
        for (int i = 1; i < argc; i++) {
                if (opts && strcmp(argv[i], "--") == 0)
                        opts = false;
                else if (!opts || argv[i][0] != '-' || !argv[i][1])
                        all_good &= validate_one(argv[i], json, out);
        }
        if (json) {
                cli_print_json(out);
                json_object_put(out);
        }
        fflush(stdout);
        return all_good ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
