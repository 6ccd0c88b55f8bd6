/* QEMU firmware descriptors: parse, list, choose; the VM's NVRAM copy. */
#include "firmware.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/io.h"
#include "../common/strv.h"
#include "paths.h"

/* A descriptor is a page of JSON; anything much larger is no descriptor. */
#define FW_DESC_MAX (64 * 1024)
#define FW_LIST_MAX 32 /* machines, features, targets: real ones have a handful */

void fw_desc_done(struct fw_desc *d)
{
        if (!d)
                return;
        free(d->file);
        free(d->description);
        free(d->code);
        free(d->code_format);
        free(d->vars);
        free(d->vars_format);
        strv_free(d->machines);
        strv_free(d->features);
        free(d->unusable);
        *d = (struct fw_desc){ 0 };
}

static json_object *get(json_object *o, const char *key, json_type type)
{
        json_object *v;

        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
            !json_object_is_type(v, type))
                return NULL;
        return v;
}

static const char *get_str(json_object *o, const char *key)
{
        json_object *v = get(o, key, json_type_string);

        return v ? json_object_get_string(v) : NULL;
}

static int unusable(struct fw_desc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int unusable(struct fw_desc *d, const char *fmt, ...)
{
        va_list ap;

        if (d->unusable)
                return 0;
        va_start(ap, fmt);
        if (vasprintf(&d->unusable, fmt, ap) < 0)
                d->unusable = NULL;
        va_end(ap);
        return d->unusable ? 0 : -ENOMEM;
}

/* An array of strings into a vector (at most FW_LIST_MAX). */
static int strings(json_object *arr, const char *key, const char *file, char ***ret, struct qc_err *err)
{
        _cleanup_strv_ strv sv = { 0 };
        size_t n = json_object_array_length(arr);

        if (n > FW_LIST_MAX)
                return qc_err_set(err, EINVAL, "%s: \"%s\" has %zu entries (at most %d)", file, key, n, FW_LIST_MAX);
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(arr, i);

                if (!json_object_is_type(e, json_type_string))
                        return qc_err_set(err, EINVAL, "%s: \"%s\"[%zu] is not a string", file, key, i);
                if (strv_push(&sv, json_object_get_string(e)) < 0)
                        return qc_err_sys(err, ENOMEM, "%s", file);
        }
        if (!sv.v) { /* an empty vector, still NULL-terminated */
                if (!(*ret = calloc(1, sizeof **ret)))
                        return qc_err_sys(err, ENOMEM, "%s", file);
                return 0;
        }
        *ret = strv_steal(&sv);
        return 0;
}

/* mapping.executable / mapping.nvram-template: {filename, format} */
static int file_of(json_object *mapping, const char *key, struct fw_desc *d, char **ret, char **ret_format,
                   struct qc_err *err)
{
        json_object *o = get(mapping, key, json_type_object);
        const char *name, *format;

        if (!o)
                return unusable(d, "its flash mapping has no \"%s\"", key) < 0 ? qc_err_sys(err, ENOMEM, "%s", d->file)
                                                                                : 0;
        name = get_str(o, "filename");
        format = get_str(o, "format");
        if (!name || name[0] != '/')
                return qc_err_set(err, EINVAL, "%s: mapping.%s.filename must be an absolute path", d->file, key);
        if (!format)
                format = "raw"; /* QEMU's schema: the default */
        if (strcmp(format, "raw") != 0 && strcmp(format, "qcow2") != 0 &&
            unusable(d, "mapping.%s.format \"%.32s\" (qemuctl takes raw and qcow2)", key, format) < 0)
                return qc_err_sys(err, ENOMEM, "%s", d->file);
        if (!(*ret = strdup(name)) || !(*ret_format = strdup(format)))
                return qc_err_sys(err, ENOMEM, "%s", d->file);
        return 0;
}

static int parse_mapping(json_object *root, struct fw_desc *d, struct qc_err *err)
{
        json_object *m = get(root, "mapping", json_type_object);
        const char *device, *mode;

        if (!m)
                return qc_err_set(err, EINVAL, "%s: no \"mapping\" object", d->file);
        device = get_str(m, "device");
        if (!device)
                return qc_err_set(err, EINVAL, "%s: mapping.device is not a string", d->file);
        if (strcmp(device, "flash") != 0)
                return unusable(d, "mapping.device \"%.32s\" (qemuctl maps flash firmware)", device) < 0
                               ? qc_err_sys(err, ENOMEM, "%s", d->file)
                               : 0;
        mode = get_str(m, "mode");
        if (mode && strcmp(mode, "split") != 0)
                return unusable(d, "flash mode \"%.32s\" (qemuctl maps split code and variables)", mode) < 0
                               ? qc_err_sys(err, ENOMEM, "%s", d->file)
                               : 0;
        if (file_of(m, "executable", d, &d->code, &d->code_format, err) < 0 ||
            file_of(m, "nvram-template", d, &d->vars, &d->vars_format, err) < 0)
                return -1;
        return 0;
}

static int parse_targets(json_object *root, struct fw_desc *d, struct qc_err *err)
{
        json_object *targets = get(root, "targets", json_type_array);
        size_t n;

        if (!targets)
                return qc_err_set(err, EINVAL, "%s: no \"targets\" array", d->file);
        n = json_object_array_length(targets);
        if (n > FW_LIST_MAX)
                return qc_err_set(err, EINVAL, "%s: \"targets\" has %zu entries (at most %d)", d->file, n, FW_LIST_MAX);
        for (size_t i = 0; i < n; i++) {
                json_object *t = json_object_array_get_idx(targets, i);
                const char *arch = get_str(t, "architecture");
                json_object *machines = get(t, "machines", json_type_array);

                if (!arch || !machines)
                        return qc_err_set(err, EINVAL, "%s: targets[%zu] needs \"architecture\" and \"machines\"",
                                          d->file, i);
                if (strcmp(arch, "x86_64") == 0 && !d->machines &&
                    strings(machines, "machines", d->file, &d->machines, err) < 0)
                        return -1;
        }
        if (!d->machines && unusable(d, "no x86_64 target") < 0)
                return qc_err_sys(err, ENOMEM, "%s", d->file);
        return 0;
}

int fw_desc_parse(const char *file, const char *text, size_t len, struct fw_desc *ret, struct qc_err *err)
{
        _cleanup_(fw_desc_done) struct fw_desc d = { 0 };
        json_tokener *tok;
        json_object *root, *types, *features;
        enum json_tokener_error jerr;
        const char *desc;
        int r = -1;

        if (!(d.file = strdup(file ? file : "firmware descriptor")))
                return qc_err_sys(err, ENOMEM, "firmware descriptor");
        if (len > FW_DESC_MAX)
                return qc_err_set(err, EFBIG, "%s: %zu bytes; a firmware descriptor is at most %d", d.file, len,
                                  FW_DESC_MAX);
        if (!(tok = json_tokener_new()))
                return qc_err_sys(err, ENOMEM, "%s", d.file);
        root = json_tokener_parse_ex(tok, text, (int)len);
        jerr = json_tokener_get_error(tok);
        /* one object and nothing after it but white space */
        if (root && jerr == json_tokener_success) {
                for (size_t i = tok->char_offset; i < len; i++)
                        if (!strchr(" \t\r\n", text[i])) {
                                jerr = json_tokener_error_parse_unexpected;
                                break;
                        }
        }
        json_tokener_free(tok);
        if (!root || jerr != json_tokener_success) {
                json_object_put(root);
                return qc_err_set(err, EINVAL, "%s: not valid JSON (%s)", d.file,
                                  root ? "text after the object" : json_tokener_error_desc(jerr));
        }
        if (!json_object_is_type(root, json_type_object)) {
                qc_err_set(err, EINVAL, "%s: not a JSON object", d.file);
                goto out;
        }
        desc = get_str(root, "description");
        if (desc && !(d.description = strdup(desc))) {
                qc_err_sys(err, ENOMEM, "%s", d.file);
                goto out;
        }
        types = get(root, "interface-types", json_type_array);
        features = get(root, "features", json_type_array);
        if (!types || !features) {
                qc_err_set(err, EINVAL, "%s: needs the arrays \"interface-types\" and \"features\"", d.file);
                goto out;
        }
        {
                _cleanup_strv_free_ char **t = NULL;

                if (strings(types, "interface-types", d.file, &t, err) < 0 ||
                    strings(features, "features", d.file, &d.features, err) < 0)
                        goto out;
                d.uefi = strv_contains(t, "uefi");
        }
        d.flags = (strv_contains(d.features, "secure-boot") ? FW_SECURE_BOOT : 0) |
                  (strv_contains(d.features, "enrolled-keys") ? FW_ENROLLED_KEYS : 0) |
                  (strv_contains(d.features, "requires-smm") ? FW_REQUIRES_SMM : 0);
        if (parse_targets(root, &d, err) < 0 || parse_mapping(root, &d, err) < 0)
                goto out;
        if (!d.uefi && unusable(&d, "not UEFI") < 0) {
                qc_err_sys(err, ENOMEM, "%s", d.file);
                goto out;
        }
        *ret = d;
        d = (struct fw_desc){ 0 };
        r = 0;
out:
        json_object_put(root);
        return r;
}

int fw_search_dirs(char ***ret, struct qc_err *err)
{
        _cleanup_strv_ strv sv = { 0 };
        const char *env = getenv("QEMUCTL_FIRMWARE_DIRS");

        if (env && *env) {
                _cleanup_free_ char *copy = strdup(env);
                char *save = NULL;

                if (!copy)
                        return qc_err_sys(err, ENOMEM, "firmware dirs");
                for (char *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save))
                        if (strv_push(&sv, p) < 0)
                                return qc_err_sys(err, ENOMEM, "firmware dirs");
        } else {
                if (geteuid() != 0) {
                        const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

                        if (xdg && xdg[0] == '/' ? strv_pushf(&sv, "%s/qemu/firmware", xdg) < 0
                                                 : home && home[0] == '/' &&
                                                           strv_pushf(&sv, "%s/.config/qemu/firmware", home) < 0)
                                return qc_err_sys(err, ENOMEM, "firmware dirs");
                }
                if (strv_push(&sv, "/etc/qemu/firmware") < 0 || strv_push(&sv, "/usr/share/qemu/firmware") < 0)
                        return qc_err_sys(err, ENOMEM, "firmware dirs");
        }
        if (!sv.v && strv_push(&sv, "/usr/share/qemu/firmware") < 0)
                return qc_err_sys(err, ENOMEM, "firmware dirs");
        *ret = strv_steal(&sv);
        return 0;
}

void fw_list_done(struct fw_list *l)
{
        for (size_t i = 0; i < l->n; i++)
                fw_desc_done(&l->v[i]);
        free(l->v);
        *l = (struct fw_list){ 0 };
}

static int cmp_name(const void *a, const void *b)
{
        const char *x = strrchr(((const struct fw_desc *)a)->file, '/'),
                   *y = strrchr(((const struct fw_desc *)b)->file, '/');

        return strcmp(x ? x + 1 : "", y ? y + 1 : "");
}

static bool ends_with(const char *s, const char *tail)
{
        size_t n = strlen(s), t = strlen(tail);

        return n > t && strcmp(s + n - t, tail) == 0;
}

/* Load one descriptor into l (a broken one as unusable). */
static int load_one(const char *path, struct fw_list *l, struct qc_err *err)
{
        _cleanup_free_ char *text = NULL;
        struct fw_desc d = { 0 };
        struct qc_err e = { 0 };
        size_t len = 0;
        int r = read_file(path, FW_DESC_MAX, &text, &len);

        if (r == 0 && len == 0)
                return 0; /* an empty file masks the name: nothing */
        if (r < 0 || fw_desc_parse(path, text, len, &d, &e) < 0) {
                if ((r < 0 ? -r : e.code) == ENOMEM)
                        return qc_err_sys(err, ENOMEM, "%s", path);
                d = (struct fw_desc){ 0 };
                if (!(d.file = strdup(path)))
                        return qc_err_sys(err, ENOMEM, "%s", path);
                if (r < 0)
                        unusable(&d, "cannot read it: %s", strerror(-r));
                else
                        unusable(&d, "%s", e.msg + (strncmp(e.msg, path, strlen(path)) == 0 ? strlen(path) + 2 : 0));
        } else if (!d.unusable && access(d.code, R_OK) < 0) {
                unusable(&d, "its code %s: %s", d.code, strerror(errno));
        } else if (!d.unusable && access(d.vars, R_OK) < 0) {
                unusable(&d, "its variable template %s: %s", d.vars, strerror(errno));
        }
        l->v[l->n++] = d;
        return 0;
}

int fw_list_load(char *const *dirs, struct fw_list *ret, struct qc_err *err)
{
        _cleanup_strv_ strv seen = { 0 };
        struct fw_list l = { 0 };
        size_t cap = 0;

        for (size_t i = 0; dirs && dirs[i]; i++) {
                DIR *dir = opendir(dirs[i]);
                struct dirent *e;

                if (!dir)
                        continue;
                while ((e = readdir(dir))) {
                        _cleanup_free_ char *path = NULL;

                        if (e->d_name[0] == '.' || !ends_with(e->d_name, ".json") || strv_contains(seen.v, e->d_name))
                                continue;
                        if (strv_push(&seen, e->d_name) < 0 || !(path = path_join(dirs[i], e->d_name)))
                                goto oom;
                        if (l.n == cap) {
                                struct fw_desc *v = realloc(l.v, (cap = cap ? cap * 2 : 8) * sizeof *v);
                                if (!v)
                                        goto oom;
                                l.v = v;
                        }
                        if (load_one(path, &l, err) < 0) {
                                closedir(dir);
                                fw_list_done(&l);
                                return -1;
                        }
                }
                closedir(dir);
        }
        if (l.n)
                qsort(l.v, l.n, sizeof *l.v, cmp_name);
        *ret = l;
        return 0;
oom:
        fw_list_done(&l);
        return qc_err_sys(err, ENOMEM, "firmware descriptors");
}

bool fw_desc_takes_machine(const struct fw_desc *d, enum vm_machine machine)
{
        /* QEMU resolves "q35" to its newest pc-q35-X.Y; descriptors name
         * versioned globs. Without asking QEMU, a glob that takes the alias
         * or any version of the family takes the machine. */
        const char *alias = machine == VM_MACHINE_PC ? "pc" : "q35";
        const char *family = machine == VM_MACHINE_PC ? "pc-i440fx-" : "pc-q35-";

        for (size_t i = 0; d->machines && d->machines[i]; i++) {
                const char *g = d->machines[i];

                if (fnmatch(g, alias, 0) == 0 || (strncmp(g, family, strlen(family)) == 0 && strchr(g, '*')) ||
                    strcmp(g, "*") == 0)
                        return true;
        }
        return false;
}

static bool fits(const struct fw_desc *d, enum vm_firmware want, enum vm_machine machine, bool plain)
{
        if (d->unusable || !d->uefi || !fw_desc_takes_machine(d, machine))
                return false;
        if (want == VM_FIRMWARE_UEFI_SECURE)
                return (d->flags & (FW_SECURE_BOOT | FW_ENROLLED_KEYS | FW_REQUIRES_SMM)) ==
                       (FW_SECURE_BOOT | FW_ENROLLED_KEYS | FW_REQUIRES_SMM);
        if (d->flags & FW_ENROLLED_KEYS)
                return false;
        return !plain || !(d->flags & (FW_SECURE_BOOT | FW_REQUIRES_SMM));
}

int fw_select(const struct fw_list *l, enum vm_firmware want, enum vm_machine machine, char *const *dirs,
              const struct fw_desc **ret, struct qc_err *err)
{
        _cleanup_free_ char *where = NULL;

        if (want != VM_FIRMWARE_UEFI && want != VM_FIRMWARE_UEFI_SECURE)
                return qc_err_set(err, EINVAL, "firmware %d has no descriptor", (int)want);
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < l->n; i++)
                        if (fits(&l->v[i], want, machine, pass == 0)) {
                                *ret = &l->v[i];
                                return 0;
                        }
        if (!(where = strv_join(dirs, ", ")))
                return qc_err_sys(err, ENOMEM, "firmware");
        return qc_err_set(err, ENOENT,
                          "no %s firmware for machine %s among %zu descriptor%s in %s (`qemuctl host` lists them); "
                          "install Debian's ovmf package%s",
                          want == VM_FIRMWARE_UEFI_SECURE ? "UEFI Secure Boot (secure-boot, enrolled-keys, requires-smm)"
                                                          : "UEFI (without enrolled keys)",
                          vm_machine_to_string(machine), l->n, l->n == 1 ? "" : "s", where,
                          want == VM_FIRMWARE_UEFI_SECURE ? ", or use \"firmware\": \"uefi\"" : "");
}

/* Copy template into dfd/name through a new file renamed into place. */
static int copy_template(int dfd, const char *name, const char *template, const char *shown, struct qc_err *err)
{
        _cleanup_close_ int in = open(template, O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int out = -1;
        _cleanup_free_ char *tmp = NULL;
        char buf[65536];
        ssize_t n;

        if (in < 0)
                return qc_err_sys(err, errno, "open the NVRAM template %s", template);
        if (asprintf(&tmp, ".%s.new", name) < 0)
                return qc_err_sys(err, ENOMEM, "NVRAM");
        unlinkat(dfd, tmp, 0);
        out = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
                return qc_err_sys(err, errno, "create %s", shown);
        while ((n = read(in, buf, sizeof buf)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 || write_all(out, buf, (size_t)n) < 0) {
                        int e = errno;
                        unlinkat(dfd, tmp, 0);
                        return qc_err_sys(err, e, "copy %s to %s", template, shown);
                }
        }
        if (fsync(out) < 0 || renameat(dfd, tmp, dfd, name) < 0) {
                int e = errno;
                unlinkat(dfd, tmp, 0);
                return qc_err_sys(err, e, "create %s", shown);
        }
        return 0;
}

#define NVRAM_TEMPLATE "nvram.template"
const char *const fw_nvram_files[] = { "nvram.fd", "nvram.qcow2", NVRAM_TEMPLATE, NULL };

/* The store's name in the data dir: its format shows */
static const char *nvram_name(const struct fw_desc *d)
{
        return strcmp(d->vars_format, "qcow2") == 0 ? fw_nvram_files[1] : fw_nvram_files[0];
}

/* An NVRAM at dfd/name that exists: 1 when it is fine for d, 0 when there
 * is none, -1 with err when it is no regular file or was made from another
 * template (EEXIST; not when it is to be reset: that is the way out).
 * dfd -1: no data dir yet (0). */
static int nvram_check(int dfd, const char *name, const char *path, const struct fw_desc *d, bool reset,
                       struct qc_err *err)
{
        _cleanup_free_ char *was = NULL;
        struct stat st;

        if (dfd < 0)
                return 0;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : qc_err_sys(err, errno, "NVRAM %s", path);
        if (!S_ISREG(st.st_mode))
                return qc_err_set(err, EINVAL, "NVRAM %s is not a regular file; remove it", path);
        if (reset || read_file_at(dfd, NVRAM_TEMPLATE, 4096, &was, NULL) < 0)
                return 1; /* made by hand, or before the record: the user's */
        was[strcspn(was, "\n")] = '\0';
        if (strcmp(was, d->vars) != 0)
                return qc_err_set(err, EEXIST,
                                  "NVRAM %s was copied from %s, but the firmware chosen now (%s) comes with %s: "
                                  "the VM file's firmware changed, and the variables do not belong to it. Use "
                                  "`qemuctl start --reset-nvram` (run has no such option; or remove %s) to start "
                                  "from the new template (its EFI "
                                  "variables, boot entries included, are lost), or go back to the firmware it "
                                  "was made for",
                                  path, was, d->file, d->vars, path);
        return 1;
}

int fw_nvram_prepare(const char *datadir, const struct fw_desc *d, bool reset, char **ret_path, struct qc_err *err)
{
        const char *name = nvram_name(d);
        _cleanup_close_ int dfd = open(datadir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_free_ char *path = path_join(datadir, name), *rec = NULL;
        int r;

        if (!path)
                return qc_err_sys(err, ENOMEM, "NVRAM");
        if (dfd < 0)
                return qc_err_sys(err, errno, "data dir %s", datadir);
        r = nvram_check(dfd, name, path, d, reset, err);
        if (r < 0)
                return -1;
        /* a reset is a fresh copy renamed over the old store: a failed
         * copy leaves the old one whole */
        if (r == 0 || reset) {
                if (copy_template(dfd, name, d->vars, path, err) < 0)
                        return -1;
                if (asprintf(&rec, "%s\n", d->vars) < 0)
                        return qc_err_sys(err, ENOMEM, "NVRAM");
                r = write_file_atomic_at(dfd, NVRAM_TEMPLATE, rec, 0600);
                if (r < 0)
                        return qc_err_sys(err, -r, "write %s/" NVRAM_TEMPLATE, datadir);
        }
        *ret_path = TAKE_PTR(path);
        return 0;
}

int fw_resolve(const struct vm_spec *spec, bool reset, struct fw_list *list, const struct fw_desc **ret_fw,
               char **ret_nvram, struct qc_err *err)
{
        _cleanup_strv_free_ char **dirs = NULL;
        _cleanup_free_ char *base = NULL, *dir = NULL, *nvram = NULL;
        _cleanup_close_ int dfd = -1;
        const struct fw_desc *fw;

        *list = (struct fw_list){ 0 };
        *ret_fw = NULL;
        *ret_nvram = NULL;
        if (spec->firmware == VM_FIRMWARE_BIOS)
                return 0;
        if (fw_search_dirs(&dirs, err) < 0 || fw_list_load(dirs, list, err) < 0)
                return -1;
        if (fw_select(list, spec->firmware, spec->machine, dirs, &fw, err) < 0)
                goto fail;
        if (vm_datadir_base(&base, err) < 0)
                goto fail;
        if (!(dir = path_join(base, spec->name)) || !(nvram = path_join(dir, nvram_name(fw)))) {
                qc_err_sys(err, ENOMEM, "NVRAM");
                goto fail;
        }
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (nvram_check(dfd, nvram_name(fw), nvram, fw, reset, err) < 0)
                goto fail;
        *ret_fw = fw;
        *ret_nvram = TAKE_PTR(nvram);
        return 0;
fail:
        fw_list_done(list);
        return -1;
}

int fw_nvram_make(const struct vm_spec *spec, const struct fw_desc *fw, bool reset, char **ret_nvram,
                  struct qc_err *err)
{
        _cleanup_free_ char *dir = NULL;

        if (vm_datadir_make(spec->name, &dir, err) < 0)
                return -1;
        return fw_nvram_prepare(dir, fw, reset, ret_nvram, err);
}
