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

void spec_diags_done(struct spec_diags *d)
{
        if (!d)
                return;
        for (size_t i = 0; i < d->n; i++) {
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
        if (asprintf(&s, "%s%s: %s%s%s", file ? file : "-", place, d->path && *d->path ? d->path : "",
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
        if (n < 1 || n > VM_NAME_MAX || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return false;
        return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

void spec_free(struct vm_spec *s)
{
        if (!s)
                return;
        free(s->path);
        free(s->name);
        free(s->cpu.model);
        for (size_t i = 0; i < s->cpu.n_features; i++)
                free(s->cpu.features[i].name);
        free(s->cpu.features);
        free(s->cpu.pins);
        free(s->memory.hugepages_path);
        free(s->numa.cells);
        for (size_t i = 0; i < s->n_disks; i++)
                free(s->disks[i].file);
        free(s->disks);
        for (size_t i = 0; i < s->n_nets; i++) {
                free(s->nets[i].bridge);
                free(s->nets[i].ifname);
                free(s->nets[i].mac);
                strv_free(s->nets[i].forward);
        }
        free(s->nets);
        free(s->boot.kernel);
        free(s->boot.initrd);
        free(s->boot.cmdline);
        free(s->boot.order);
        free(s->vnc);
        free(s->inputs);
        free(s->cgroup.parent);
        free(s->security.user);
        free(s->security.group);
        free(s->qemu.binary);
        strv_free(s->qemu.args);
        free(s);
}

DEFINE_CLEANUP_FUNC(struct vm_spec *, spec_free);
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
        else if (asprintf(&out, "%.*s/%s", (int)(slash - vmfile), vmfile, p) < 0)
                out = NULL;
        if (!out)
                c->oom = true;
        return out;
}

static void spec_defaults(struct vm_spec *s)
{
        s->machine = VM_MACHINE_Q35;
        s->accel = VM_ACCEL_AUTO;
        s->cpu.mode = VM_CPU_CUSTOM;
        s->cpu.vcpus = 1;
        s->cpu.max = 1;
        s->memory.size = UINT64_C(1) << 30;
        s->memory.hotplug = VM_MEM_HOTPLUG_DIMM;
        s->memory.merge = true;
        s->memory.balloon = true;
        s->numa.policy = VM_NUMA_STRICT;
        s->serial = VM_SERIAL_LOG;
        s->panic = true;
        s->security.sandbox = true;
}

static const char *const top_keys[] = {
        "name", "machine", "accel", "cpu", "memory", "numa", "disks", "net", "boot", "display", "input",
        "serial", "panic", "debug_exit", "cgroup", "security", "qemu", NULL,
};

static void parse_root(struct spec_ctx *c, const struct jt *root, struct vm_spec *s)
{
        const struct jt *n;

        if (root->type != JT_OBJECT) {
                diag(c, root, NULL, "expected the VM file to be a JSON object like {\"name\": \"vm1\"}, got %s",
                     jt_type_name(root->type));
                return;
        }
        check_object(c, root, "", top_keys);
        n = jt_get(root, "name");
        if (!n) {
                diag(c, root, "name", "missing; every VM needs a name like \"vm1\" ([A-Za-z0-9._-], 1 to %d characters)",
                     VM_NAME_MAX);
        } else if (get_string(c, n, "name", &s->name) == 0 && !vm_name_is_valid(s->name)) {
                char q[96];
                jt_describe(n, q, sizeof q);
                if (!s->name[0])
                        diag(c, n, "name", "empty; give the VM a name like \"vm1\"");
                else if (strlen(s->name) > VM_NAME_MAX)
                        diag(c, n, "name", "too long (%zu characters); the most is %d", strlen(s->name), VM_NAME_MAX);
                else if (strcmp(s->name, ".") == 0 || strcmp(s->name, "..") == 0)
                        diag(c, n, "name", "%s is not a usable name (it is a directory); pick one like \"vm1\"", q);
                else
                        diag(c, n, "name", "%s has characters a name can't have; use only A-Z a-z 0-9 . _ -", q);
        }
        if ((n = jt_get(root, "machine"))) {
                int v = get_enum(c, n, "machine", vm_machine_table, _VM_MACHINE_MAX);
                if (v >= 0)
                        s->machine = v;
        }
        if ((n = jt_get(root, "accel"))) {
                int v = get_enum(c, n, "accel", vm_accel_table, _VM_ACCEL_MAX);
                c->n_accel = n;
                if (v >= 0)
                        s->accel = v;
        }
        if ((n = jt_get(root, "cpu")))
                parse_cpu(c, n, s);
        if ((n = jt_get(root, "memory")))
                parse_memory(c, n, s);
        if ((n = jt_get(root, "numa")))
                parse_numa(c, n, s);
        parse_devices(c, root, s);
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

int spec_parse(const char *path, const char *text, size_t len, struct vm_spec **ret, struct spec_diags *diags,
               struct qc_err *err)
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
        if (!s || !(s->path = strdup(path ? path : "-"))) {
                c.oom = true;
                goto done;
        }
        spec_defaults(s);
        c.root = root;
        parse_root(&c, root, s);
        if (root->type == JT_OBJECT && !c.oom)
                spec_validate(&c, s);
        if (d.n == 0 && !c.oom) {
                /* defaults that could not be set before everything was read */
                if (!s->cgroup.parent && !(s->cgroup.parent = strdup("qemuctl")))
                        c.oom = true;
                if (!s->qemu.binary && !(s->qemu.binary = strdup("qemu-system-x86_64")))
                        c.oom = true;
        }
done:
        free(c.n_pin_keys);
        free(c.n_cell_vals);
        free(c.failed);
        if (c.oom) {
                spec_diags_done(&d);
                return qc_err_set(err, ENOMEM, "%s: out of memory", path ? path : "-"), -ENOMEM;
        }
        sort_diags(&d);
        spec_diags_done(diags);
        *diags = d;
        if (d.n > 0)
                return -EINVAL;
        *ret = TAKE_PTR(s);
        return 0;
}

int spec_load(const char *path, struct vm_spec **ret, struct spec_diags *diags, struct qc_err *err)
{
        _cleanup_free_ char *text = NULL, *abs = NULL;
        size_t len = 0;
        int r;

        r = read_file(path, SPEC_FILE_MAX + 1, &text, &len);
        if (r == -EFBIG) {
                spec_diags_done(diags);
                return qc_err_set(err, EFBIG, "%s: larger than %u bytes; that is not a VM file", path,
                                  SPEC_FILE_MAX),
                       -EFBIG;
        }
        if (r < 0)
                return qc_err_sys(err, -r, "read %s", path), r;
        /* relative paths in the file resolve against its real directory,
         * whatever the current directory of the verb that loads it */
        abs = realpath(path, NULL);
        return spec_parse(abs ? abs : path, text, len, ret, diags, err);
}
