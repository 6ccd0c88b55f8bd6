/* cloud-init from the VM file: the three NoCloud documents are checked when
 * the file is read (a place for every problem) and written to a `cidata`
 * ISO 9660 seed in the state dir at start, attached read-only. Why
 * genisoimage: docs/DESIGN.md, "cloud-init seed". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "../common/cleanup.h"
#include "../common/io.h"
#include "spawn.h"
#include "cloudinit.h"
#include "disk-internal.h"
#include "spec-internal.h"
#include "spec-keys.h"

#define CI_MAX (1024 * 1024) /* cloud-init's NoCloud reads small files */

/* A value with a newline is the document itself; anything else names a
 * file (a path never holds a newline). */
static bool is_inline(const char *v)
{
        return strchr(v, '\n') != NULL;
}

/* The document's text: the value itself, or the file it names. */
static int ci_text(const char *v, char **ret, struct qc_err *err)
{
        size_t len;
        int r;

        if (is_inline(v)) {
                *ret = strdup(v);
                return *ret ? 0 : qc_err_sys(err, ENOMEM, "cloud_init");
        }
        r = read_file(v, CI_MAX, ret, &len);
        if (r < 0)
                return qc_err_sys(err, -r, "%s", v);
        if (strlen(*ret) != len) {
                free(*ret);
                *ret = NULL;
                return qc_err_set(err, EINVAL, "%s: holds a NUL byte (not a text file)", v);
        }
        return 0;
}

/* Parse text as one YAML document whose top level is a mapping (or
 * nothing). On failure msg says where in the text. */
static bool yaml_mapping_ok(const char *text, char *msg, size_t msglen)
{
        yaml_parser_t p;
        yaml_event_t ev;
        bool ok = true, done = false, top = false;
        int docs = 0;

        if (!yaml_parser_initialize(&p)) {
                snprintf(msg, msglen, "out of memory");
                return false;
        }
        yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
        while (ok && !done) {
                if (!yaml_parser_parse(&p, &ev)) {
                        snprintf(msg, msglen, "line %zu, column %zu: not YAML: %s%s%s",
                                 (size_t)p.problem_mark.line + 1, (size_t)p.problem_mark.column + 1,
                                 p.problem ? p.problem : "syntax error", p.context ? " " : "",
                                 p.context ? p.context : "");
                        ok = false;
                        break;
                }
                if (ev.type == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
                        snprintf(msg, msglen, "line %zu: a second YAML document; cloud-init reads one",
                                 (size_t)ev.start_mark.line + 1);
                        ok = false;
                } else if (!top && (ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_SEQUENCE_START_EVENT ||
                                    ev.type == YAML_SCALAR_EVENT || ev.type == YAML_ALIAS_EVENT)) {
                        top = true;
                        if (ev.type != YAML_MAPPING_START_EVENT) {
                                snprintf(msg, msglen,
                                         "line %zu, column %zu: the top level is not a mapping (\"key: value\" "
                                         "lines)",
                                         (size_t)ev.start_mark.line + 1, (size_t)ev.start_mark.column + 1);
                                ok = false;
                        }
                }
                done = ev.type == YAML_STREAM_END_EVENT;
                yaml_event_delete(&ev);
        }
        yaml_parser_delete(&p);
        return ok;
}

/* The first line starts a format cloud-init reads as user-data. */
static const char *const user_data_headers[] = {
        "#!", "#include", "#cloud-boothook", "#part-handler", "#cloud-config-archive", "#upstart-job",
        "## template: jinja", "Content-Type:", "MIME-Version:",
};

/* user-data: "#cloud-config" then YAML, or another header cloud-init knows. */
static bool user_data_ok(const char *text, char *msg, size_t msglen)
{
        size_t first = strcspn(text, "\r\n");

        if (strncmp(text, "#cloud-config", 13) == 0 && strspn(text + 13, " \t") == first - 13)
                return yaml_mapping_ok(text, msg, msglen);
        for (size_t i = 0; i < sizeof user_data_headers / sizeof *user_data_headers; i++)
                if (strncmp(text, user_data_headers[i], strlen(user_data_headers[i])) == 0)
                        return true;
        snprintf(msg, msglen,
                 "line 1: starts with \"%.*s\", no header cloud-init knows, so it would ignore the whole "
                 "user-data; begin with \"#cloud-config\" (YAML follows) or \"#!\" (a script)",
                 (int)(first > 40 ? 40 : first), text);
        return false;
}

/* One check for the three keys: resolve a file name, read the document,
 * check it; every problem at the key's place. */
static bool check_doc(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, char **field,
                      bool user_data)
{
        _cleanup_free_ char *text = NULL, *raw = TAKE_PTR(*field);
        struct qc_err e = {};
        char msg[512];
        const char *what = user_data ? "user-data" : strstr(path, "network") ? "network-config" : "meta-data";

        if (!raw[0]) {
                diag(c, n, path, "empty; give the %s inline (a string with newlines) or a file's path", what);
                return false;
        }
        *field = is_inline(raw) ? strdup(raw) : spec_resolve_path(c, s->path, raw);
        if (!*field)
                return false;
        if (ci_text(*field, &text, &e) < 0) {
                diag(c, n, path, "cannot read the %s: %s", what, e.msg);
                return false;
        }
        if (user_data ? !user_data_ok(text, msg, sizeof msg) : !yaml_mapping_ok(text, msg, sizeof msg)) {
                diag(c, n, path, "%s%s%s %s", what, is_inline(raw) ? "" : " ", is_inline(raw) ? "" : *field, msg);
                return false;
        }
        return true;
}

bool check_ci_user_data(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, void *base)
{
        return check_doc(c, n, path, s, &s->cloud_init.user_data, true);
}

bool check_ci_meta_data(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, void *base)
{
        return check_doc(c, n, path, s, &s->cloud_init.meta_data, false);
}

bool check_ci_network_config(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s,
                             void *base)
{
        return check_doc(c, n, path, s, &s->cloud_init.network_config, false);
}

bool cloud_init_wanted(const struct vm_spec *spec)
{
        return spec->cloud_init.user_data || spec->cloud_init.meta_data || spec->cloud_init.network_config;
}

/* dir/name gets the document value names (or def when value is NULL). */
static int write_doc(const char *dir, const char *name, const char *value, const char *def, struct qc_err *err)
{
        _cleanup_free_ char *text = NULL, *p = path_join(dir, name);
        _cleanup_close_ int fd = -1;

        if (!p)
                return qc_err_sys(err, ENOMEM, "cloud_init");
        if (value && ci_text(value, &text, err) < 0)
                return -1;
        if (unlink(p) < 0 && errno != ENOENT)
                return qc_err_sys(err, errno, "%s", p);
        fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return qc_err_sys(err, errno, "%s", p);
        if (write_all(fd, value ? text : def, strlen(value ? text : def)) < 0)
                return qc_err_sys(err, errno, "%s", p);
        return 0;
}

int cloud_init_seed(const struct vm_spec *spec, const char *rundir, struct qc_err *err)
{
        _cleanup_free_ char *dir = path_join(rundir, "cidata"), *iso = path_join(rundir, VM_RUNDIR_CIDATA);
        _cleanup_free_ char *meta = NULL, *ud = NULL, *md = NULL, *nc = NULL;
        char *argv[16];
        size_t k = 0;

        if (!dir || !iso)
                return qc_err_sys(err, ENOMEM, "cloud_init");
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return qc_err_sys(err, errno, "%s", dir);
        /* meta-data: instance-id and hostname are the VM's name unless the
         * file says otherwise */
        if (asprintf(&meta, "instance-id: %s\nlocal-hostname: %s\n", spec->name, spec->name) < 0)
                return qc_err_sys(err, ENOMEM, "cloud_init");
        if (write_doc(dir, "user-data", spec->cloud_init.user_data, "#cloud-config\n", err) < 0 ||
            write_doc(dir, "meta-data", spec->cloud_init.meta_data, meta, err) < 0 ||
            (spec->cloud_init.network_config &&
             write_doc(dir, "network-config", spec->cloud_init.network_config, NULL, err) < 0))
                return qc_err_wrap(err, "cloud_init");
        if (!(ud = path_join(dir, "user-data")) || !(md = path_join(dir, "meta-data")) ||
            !(nc = path_join(dir, "network-config")))
                return qc_err_sys(err, ENOMEM, "cloud_init");
        if (unlink(iso) < 0 && errno != ENOENT)
                return qc_err_sys(err, errno, "%s", iso);
        argv[k++] = "genisoimage";
        argv[k++] = "-quiet";
        argv[k++] = "-output";
        argv[k++] = iso;
        argv[k++] = "-volid";
        argv[k++] = "cidata";
        argv[k++] = "-joliet";
        argv[k++] = "-rock";
        argv[k++] = ud;
        argv[k++] = md;
        if (spec->cloud_init.network_config)
                argv[k++] = nc;
        argv[k] = NULL;
        if (run_tool(argv, "genisoimage", err) < 0)
                return qc_err_wrap(err, "cloud_init seed");
        return 0;
}
