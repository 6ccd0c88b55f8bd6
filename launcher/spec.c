/* The VM file: read, parse into struct vm_spec, validate, report every
 * problem with its place. See docs/vm-file.md for the keys. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../common/io.h"
#include "../common/strv.h"
#include "spec-internal.h"
#include "spec-keys.h"

int spec_diags_add(struct spec_diags *d, const char *path, const char *msg)
{
        struct spec_diag *v = realloc(d->v, (d->n + 1) * sizeof *v);

        if (!v)
                return -ENOMEM;
        d->v = v;
        v[d->n] = (struct spec_diag){ .path = strdup(path), .msg = strdup(msg) };
        if (!v[d->n].path || !v[d->n].msg) {
                free(v[d->n].path);
                free(v[d->n].msg);
                return -ENOMEM;
        }
        d->n++;
        return 0;
}

void spec_diags_done(struct spec_diags *d)
{
        if (!d)
                return;
        for (size_t i = 0; i < d->n; i++) {
                free(d->v[i].origin);
                free(d->v[i].path);
                free(d->v[i].msg);
        }
        free(d->v);
        d->v = NULL;
        d->n = 0;
}

char *spec_diag_format(const char *file, const struct spec_diag *d)
{
        char *s = NULL;
        char place[64] = "";

        if (d->line)
                snprintf(place, sizeof place, ":%u:%u", d->line, d->col);
        /* a --set value: "vm.json: --set memory.size=lots: memory.size: ..." */
        if (asprintf(&s, "%s%s: %s%s%s%s%s", file ? file : "-", place, d->origin ? d->origin : "",
                     d->origin ? ": " : "", d->path && *d->path ? d->path : "",
                     d->path && *d->path ? ": " : "", d->msg) < 0)
                return NULL;
        return s;
}

bool vm_name_is_valid(const char *name)
{
        size_t n;

        if (!name)
                return false;
        n = strlen(name);
        /* a leading "." hides the state dir from `list` (and ls); a leading
         * "-" makes the name an option on every command line it is given on */
        if (n < 1 || n > VM_NAME_MAX || name[0] == '.' || name[0] == '-')
                return false;
        return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

void spec_free(struct vm_spec *s)
{
        if (!s)
                return;
        spec_free_keys("", s);
        strv_free(s->origins);
        free(s->path);
        free(s);
}

DEFINE_CLEANUP_FUNC(struct jt *, jt_free);

/* base (absolute, from realpath: no symlinks, no . or ..) joined with the
 * relative p, . and .. folded. A .. after one of p's own components stays:
 * that component may be a symlink, and only the kernel knows where its
 * parent is. */
static char *join_normalized(const char *base, size_t base_len, const char *p)
{
        char *out = malloc(base_len + strlen(p) + 2), *o;
        size_t own = 0; /* components of p kept in out, past base */

        if (!out)
                return NULL;
        memcpy(out, base, base_len);
        o = out + base_len;
        while (o > out + 1 && o[-1] == '/')
                o--;
        while (*p) {
                size_t n = strcspn(p, "/");

                if ((n == 1 && p[0] == '.') || n == 0) {
                        /* nothing */
                } else if (n == 2 && p[0] == '.' && p[1] == '.' && own == 0) {
                        while (o > out && o[-1] != '/')
                                o--;
                        if (o > out + 1)
                                o--;
                } else {
                        if (o == out || o[-1] != '/')
                                *o++ = '/';
                        memcpy(o, p, n);
                        o += n;
                        own++;
                }
                p += n;
                p += strspn(p, "/");
        }
        if (o == out)
                *o++ = '/';
        *o = '\0';
        return out;
}

char *spec_resolve_path(struct spec_ctx *c, const char *vmfile, const char *p)
{
        const char *slash = vmfile ? strrchr(vmfile, '/') : NULL;
        char *out = NULL;

        /* relative to the VM file's directory; spec_load makes that absolute,
         * so `cmdline` prints what `start` runs and the paths work from
         * anywhere. From a buffer with a relative name, they stay relative. */
        if (p[0] == '/' || !slash)
                out = strdup(p);
        else if (vmfile[0] == '/')
                out = join_normalized(vmfile, (size_t)(slash - vmfile), p);
        else
                out = path_beside(vmfile, p);
        if (!out)
                c->oom = true;
        return out;
}

bool check_name(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, void *base)
{
        char q[96];

        if (vm_name_is_valid(s->name))
                return true;
        jt_describe(n, q, sizeof q);
        if (!s->name[0])
                diag(c, n, path, "empty; give the VM a name like \"vm1\"");
        else if (strlen(s->name) > VM_NAME_MAX)
                diag(c, n, path, "too long (%zu characters); the most is %d", strlen(s->name), VM_NAME_MAX);
        else if (strcmp(s->name, ".") == 0 || strcmp(s->name, "..") == 0)
                diag(c, n, path, "%s is not a usable name (it is a directory); pick one like \"vm1\"", q);
        else if (s->name[0] == '.')
                diag(c, n, path, "%s starts with \".\", which would hide the VM from `qemuctl list`; start it with a "
                     "letter, digit or \"_\"", q);
        else if (s->name[0] == '-')
                diag(c, n, path, "%s starts with \"-\", which would make it an option on the command line; start it "
                     "with a letter, digit or \"_\"", q);
        else
                diag(c, n, path, "%s has characters a name can't have; use only A-Z a-z 0-9 . _ -", q);
        return false;
}

static void parse_root(struct spec_ctx *c, const struct jt *root, struct vm_spec *s)
{
        if (root->type != JT_OBJECT) {
                diag(c, root, NULL, "expected the VM file to be a JSON object like {\"name\": \"vm1\"}, got %s",
                     jt_type_name(root->type));
                return;
        }
        spec_parse_object(c, root, "", "", s, s);
}

static int cmp_diag(const void *a, const void *b)
{
        const struct spec_diag *x = a, *y = b;

        if (x->line != y->line)
                return x->line < y->line ? -1 : 1;
        if (x->col != y->col)
                return x->col < y->col ? -1 : 1;
        return 0;
}

/* qsort is not stable; diagnostics at one place keep the order found. */
static void sort_diags(struct spec_diags *d)
{
        for (size_t i = 1; i < d->n; i++) {
                struct spec_diag t = d->v[i];
                size_t j = i;
                while (j > 0 && cmp_diag(&d->v[j - 1], &t) > 0) {
                        d->v[j] = d->v[j - 1];
                        j--;
                }
                d->v[j] = t;
        }
}

/* The options' names, for the diagnostics of later checks (spec_check_disks). */
static int keep_origins(struct vm_spec *s, const struct spec_overrides *ov)
{
        _cleanup_strv_ strv sv = { 0 };

        if (!ov || !ov->n)
                return 0;
        for (size_t i = 0; i < ov->n; i++)
                if (strv_push(&sv, ov->v[i].origin) < 0)
                        return -ENOMEM;
        s->origins = strv_steal(&sv);
        return 0;
}

int spec_parse(const char *path, const char *text, size_t len, struct vm_spec **ret, struct spec_diags *diags,
               struct qc_err *err)
{
        return spec_parse_with(path, text, len, NULL, ret, diags, err);
}

int spec_parse_with(const char *path, const char *text, size_t len, const struct spec_overrides *ov,
                    struct vm_spec **ret, struct spec_diags *diags, struct qc_err *err)
{
        _cleanup_(jt_freep) struct jt *root = NULL;
        _cleanup_(spec_freep) struct vm_spec *s = NULL;
        struct spec_diags d = { 0 };
        struct spec_ctx c = { .file = path, .diags = &d };
        _cleanup_free_ char *msg = NULL;
        unsigned line = 0, col = 0;
        int r;

        if (len > SPEC_FILE_MAX) {
                diag_at(&c, 0, 0, NULL, "the file is %zu bytes; a VM file can be at most %u", len, SPEC_FILE_MAX);
                goto done;
        }
        r = jt_parse(text, len, &root, &line, &col, &msg);
        if (r == -ENOMEM) {
                c.oom = true;
                goto done;
        }
        if (r < 0) {
                diag_at(&c, line, col, NULL, "%s", msg);
                goto done;
        }
        s = calloc(1, sizeof *s);
        if (!s || !(s->path = strdup(path ? path : "-")) || keep_origins(s, ov) < 0) {
                c.oom = true;
                goto done;
        }
        c.origins = s->origins;
        spec_apply_overrides(&c, root, ov);
        spec_set_defaults("", s);
        c.root = root;
        parse_root(&c, root, s);
        if (root->type == JT_OBJECT && !c.oom)
                spec_validate(&c, s);
        /* defaults that could not be set before everything was read */
        if (d.n == 0 && !c.oom && spec_set_default_strings("", s) < 0)
                c.oom = true;
done:
        free(c.n_pin_keys);
        free(c.n_cell_vals);
        free(c.failed);
        if (c.oom) {
                spec_diags_done(&d);
                return qc_err_set(err, ENOMEM, "%s: out of memory", path ? path : "-");
        }
        sort_diags(&d);
        spec_diags_done(diags);
        *diags = d;
        if (d.n > 0)
                return qc_err_set(err, EINVAL, "%s: %zu problem%s", path ? path : "-", d.n, d.n == 1 ? "" : "s");
        *ret = TAKE_PTR(s);
        return 0;
}

int spec_load(const char *path, struct vm_spec **ret, struct spec_diags *diags, struct qc_err *err)
{
        return spec_load_with(path, NULL, ret, diags, err);
}

int spec_load_with(const char *path, const struct spec_overrides *ov, struct vm_spec **ret, struct spec_diags *diags,
                   struct qc_err *err)
{
        _cleanup_free_ char *text = NULL, *abs = NULL;
        size_t len = 0;
        int r;

        r = read_file(path, SPEC_FILE_MAX + 1, &text, &len);
        if (r == -EFBIG) {
                spec_diags_done(diags);
                return qc_err_set(err, EFBIG, "%s: larger than %u bytes; that is not a VM file", path,
                                  SPEC_FILE_MAX);
        }
        if (r < 0)
                return qc_err_sys(err, -r, "read %s", path);
        /* relative paths in the file resolve against its real directory,
         * whatever the current directory of the verb that loads it */
        abs = realpath(path, NULL);
        return spec_parse_with(abs ? abs : path, text, len, ov, ret, diags, err);
}

bool spec_shares_memory(const struct vm_spec *spec)
{
        for (size_t i = 0; i < spec->n_shares; i++)
                if (spec->shares[i].mode == VM_SHARE_VIRTIOFS)
                        return true;
        return false;
}
