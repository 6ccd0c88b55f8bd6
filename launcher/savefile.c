#include "savefile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/io.h"
#include "../qmp/qmp.h" /* _cleanup_json_ */

static void tokener_freep(json_tokener **t)
{
        if (*t)
                json_tokener_free(*t);
}

#define FOOTER_MAGIC "qemuctl-save "

void savefile_done(struct savefile *sf)
{
        if (!sf)
                return;
        free(sf->name);
        free(sf->path);
        free(sf->spec);
        free(sf->qemu_version);
        for (size_t i = 0; i < sf->n_disks; i++)
                free(sf->disks[i].file);
        free(sf->disks);
        *sf = (struct savefile){ 0 };
}

static json_object *region(uint64_t offset, uint64_t length)
{
        json_object *o = json_object_new_object();

        if (o) {
                json_object_object_add(o, "offset", json_object_new_uint64(offset));
                json_object_object_add(o, "length", json_object_new_uint64(length));
        }
        return o;
}

int savefile_finish(int fd, const struct savefile *sf, struct qc_err *err)
{
        _cleanup_json_ json_object *m = json_object_new_object();
        _cleanup_json_ json_object *spec = NULL;
        json_object *disks = json_object_new_array();
        char footer[SAVEFILE_FOOTER_LEN + 1];
        const char *text;
        off_t at;

        if (!m || !disks) {
                json_object_put(disks);
                return qc_err_set(err, ENOMEM, "out of memory");
        }
        spec = json_tokener_parse(sf->spec);
        if (!json_object_is_type(spec, json_type_object)) {
                json_object_put(disks);
                return qc_err_set(err, EINVAL, "the effective VM file is not a JSON object");
        }
        json_object_object_add(m, "format", json_object_new_string("qemuctl-save"));
        json_object_object_add(m, "version", json_object_new_int(SAVEFILE_VERSION));
        json_object_object_add(m, "name", json_object_new_string(sf->name));
        if (sf->path)
                json_object_object_add(m, "path", json_object_new_string(sf->path));
        if (sf->qemu_version)
                json_object_object_add(m, "qemu", json_object_new_string(sf->qemu_version));
        json_object_object_add(m, "saved_at", json_object_new_int64(sf->saved_at));
        json_object_object_add(m, "running", json_object_new_boolean(sf->running));
        json_object_object_add(m, "stream", region(sf->stream_offset, sf->stream_length));
        for (size_t i = 0; i < sf->n_disks; i++) {
                const struct savefile_disk *d = &sf->disks[i];
                json_object *o = d->captured ? region(d->offset, d->length) : json_object_new_object();

                if (!o)
                        continue;
                json_object_object_add(o, "index", json_object_new_int((int)d->index));
                json_object_object_add(o, "file", json_object_new_string(d->file));
                json_object_object_add(o, "captured", json_object_new_boolean(d->captured));
                json_object_object_add(o, "size", json_object_new_uint64(d->size));
                json_object_object_add(o, "mode", json_object_new_int((int)(d->mode & 07777)));
                json_object_array_add(disks, o);
        }
        json_object_object_add(m, "disks", disks);
        json_object_object_add(m, "spec", json_object_get(spec));
        text = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        at = lseek(fd, 0, SEEK_END);
        if (at < 0)
                return qc_err_sys(err, errno, "seek to the end of the save file");
        snprintf(footer, sizeof footer, FOOTER_MAGIC "%d %020" PRIu64 " %020" PRIu64, SAVEFILE_VERSION,
                 (uint64_t)at, (uint64_t)strlen(text));
        memset(footer + strlen(footer), ' ', SAVEFILE_FOOTER_LEN - 1 - strlen(footer));
        footer[SAVEFILE_FOOTER_LEN - 1] = '\n';
        footer[SAVEFILE_FOOTER_LEN] = '\0';
        int r = write_all(fd, text, strlen(text));
        if (r == 0)
                r = write_all(fd, footer, SAVEFILE_FOOTER_LEN);
        if (r < 0)
                return qc_err_sys(err, -r, "write the save file's metadata");
        return 0;
}

static int bad(struct qc_err *err, const char *what)
{
        return qc_err_set(err, EINVAL, "not a qemuctl save file, or a damaged one: %s", what);
}

int savefile_parse_footer(const char *footer, size_t len, uint64_t file_size, uint64_t *ret_offset,
                          uint64_t *ret_length, struct qc_err *err)
{
        char buf[SAVEFILE_FOOTER_LEN + 1];
        unsigned long long off, length;
        int version, used = 0;

        if (len != SAVEFILE_FOOTER_LEN || memchr(footer, '\0', len))
                return bad(err, "no footer (its last 64 bytes are no \"qemuctl-save ...\" line)");
        memcpy(buf, footer, len);
        buf[len] = '\0';
        if (strncmp(buf, FOOTER_MAGIC, strlen(FOOTER_MAGIC)) != 0 || buf[len - 1] != '\n')
                return bad(err, "no footer (its last 64 bytes are no \"qemuctl-save ...\" line)");
        if (sscanf(buf + strlen(FOOTER_MAGIC), "%d %20llu %20llu%n", &version, &off, &length, &used) != 3)
                return bad(err, "the footer line is malformed");
        for (size_t i = strlen(FOOTER_MAGIC) + (size_t)used; i < len - 1; i++)
                if (buf[i] != ' ')
                        return bad(err, "the footer line is malformed");
        if (version != SAVEFILE_VERSION)
                return qc_err_set(err, EINVAL,
                                  "save file format version %d; this qemuctl reads version %d (save it again with "
                                  "this qemuctl)",
                                  version, SAVEFILE_VERSION);
        if (file_size < SAVEFILE_FOOTER_LEN || off > file_size - SAVEFILE_FOOTER_LEN ||
            length != file_size - SAVEFILE_FOOTER_LEN - off)
                return bad(err, "the footer's metadata offset and length do not fit the file (truncated?)");
        if (length == 0 || length > SAVEFILE_META_MAX)
                return bad(err, "the metadata is empty or larger than 16 MiB");
        *ret_offset = off;
        *ret_length = length;
        return 0;
}

static int get_region(json_object *o, uint64_t limit, const char *what, uint64_t *ret_off, uint64_t *ret_len,
                      struct qc_err *err)
{
        json_object *off, *len;
        char msg[128];

        if (!json_object_object_get_ex(o, "offset", &off) || !json_object_is_type(off, json_type_int) ||
            !json_object_object_get_ex(o, "length", &len) || !json_object_is_type(len, json_type_int) ||
            json_object_get_int64(off) < 0 || json_object_get_int64(len) < 0) {
                snprintf(msg, sizeof msg, "%s: no offset and length", what);
                return bad(err, msg);
        }
        *ret_off = (uint64_t)json_object_get_int64(off);
        *ret_len = (uint64_t)json_object_get_int64(len);
        if (*ret_off > limit || *ret_len > limit - *ret_off) {
                snprintf(msg, sizeof msg, "%s lies outside the file", what);
                return bad(err, msg);
        }
        return 0;
}

static int dup_string(json_object *m, const char *key, bool optional, char **ret, struct qc_err *err)
{
        json_object *v;
        char msg[128];

        if (!json_object_object_get_ex(m, key, &v) || json_object_is_type(v, json_type_null)) {
                if (optional)
                        return 0;
                snprintf(msg, sizeof msg, "the metadata has no \"%s\"", key);
                return bad(err, msg);
        }
        if (!json_object_is_type(v, json_type_string)) {
                snprintf(msg, sizeof msg, "the metadata's \"%s\" is not a string", key);
                return bad(err, msg);
        }
        if (!(*ret = strdup(json_object_get_string(v))))
                return qc_err_set(err, ENOMEM, "out of memory");
        return 0;
}

int savefile_parse_meta(const char *text, size_t len, uint64_t limit, struct savefile *ret, struct qc_err *err)
{
        _cleanup_(tokener_freep) json_tokener *tok = json_tokener_new_ex(64);
        _cleanup_json_ json_object *m = NULL;
        struct savefile sf = { 0 };
        json_object *v, *disks, *spec;
        int r = -1;

        if (!tok)
                return qc_err_set(err, ENOMEM, "out of memory");
        if (len > SAVEFILE_META_MAX || len > INT32_MAX)
                return bad(err, "the metadata is larger than 16 MiB");
        m = json_tokener_parse_ex(tok, text, (int)len);
        if (!m || json_tokener_get_error(tok) != json_tokener_success || tok->char_offset != (int)len)
                return bad(err, "the metadata is not one JSON object");
        if (!json_object_is_type(m, json_type_object) || !json_object_object_get_ex(m, "format", &v) ||
            !json_object_is_type(v, json_type_string) || strcmp(json_object_get_string(v), "qemuctl-save") != 0)
                return bad(err, "the metadata does not say \"format\": \"qemuctl-save\"");
        if (!json_object_object_get_ex(m, "version", &v) || !json_object_is_type(v, json_type_int) ||
            json_object_get_int(v) != SAVEFILE_VERSION)
                return bad(err, "the metadata's version is not 1");
        if (dup_string(m, "name", false, &sf.name, err) < 0 || dup_string(m, "path", true, &sf.path, err) < 0 ||
            dup_string(m, "qemu", true, &sf.qemu_version, err) < 0)
                goto out;
        if (json_object_object_get_ex(m, "running", &v) && json_object_is_type(v, json_type_boolean))
                sf.running = json_object_get_boolean(v);
        if (json_object_object_get_ex(m, "saved_at", &v) && json_object_is_type(v, json_type_int))
                sf.saved_at = json_object_get_int64(v);
        if (!json_object_object_get_ex(m, "stream", &v) || !json_object_is_type(v, json_type_object)) {
                bad(err, "the metadata has no \"stream\"");
                goto out;
        }
        if (get_region(v, limit, "the migration stream", &sf.stream_offset, &sf.stream_length, err) < 0)
                goto out;
        if (sf.stream_length == 0) {
                bad(err, "the migration stream is empty");
                goto out;
        }
        if (!json_object_object_get_ex(m, "spec", &spec) || !json_object_is_type(spec, json_type_object)) {
                bad(err, "the metadata has no \"spec\" object (the effective VM file)");
                goto out;
        }
        if (!(sf.spec = strdup(json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PRETTY |
                                                                             JSON_C_TO_STRING_NOSLASHESCAPE)))) {
                qc_err_set(err, ENOMEM, "out of memory");
                goto out;
        }
        if (json_object_object_get_ex(m, "disks", &disks)) {
                size_t n;

                if (!json_object_is_type(disks, json_type_array)) {
                        bad(err, "the metadata's \"disks\" is not an array");
                        goto out;
                }
                n = json_object_array_length(disks);
                if (n > 4096) {
                        bad(err, "more than 4096 disks");
                        goto out;
                }
                sf.disks = calloc(n ? n : 1, sizeof *sf.disks);
                if (!sf.disks) {
                        qc_err_set(err, ENOMEM, "out of memory");
                        goto out;
                }
                for (size_t i = 0; i < n; i++) {
                        json_object *d = json_object_array_get_idx(disks, i), *x;
                        struct savefile_disk *sd = &sf.disks[sf.n_disks];
                        char what[64];

                        snprintf(what, sizeof what, "disks[%zu]", i);
                        if (!json_object_is_type(d, json_type_object) || !json_object_object_get_ex(d, "index", &x) ||
                            !json_object_is_type(x, json_type_int) || json_object_get_int64(x) < 0 ||
                            json_object_get_int64(x) > 4096) {
                                bad(err, "a disk without a valid \"index\"");
                                goto out;
                        }
                        sd->index = (unsigned)json_object_get_int64(x);
                        sf.n_disks++;
                        if (dup_string(d, "file", false, &sd->file, err) < 0)
                                goto out;
                        sd->captured = json_object_object_get_ex(d, "captured", &x) &&
                                       json_object_is_type(x, json_type_boolean) && json_object_get_boolean(x);
                        if (sd->captured && get_region(d, limit, what, &sd->offset, &sd->length, err) < 0)
                                goto out;
                        if (json_object_object_get_ex(d, "size", &x) && json_object_is_type(x, json_type_int))
                                sd->size = (uint64_t)json_object_get_int64(x);
                        sd->mode = 0600;
                        if (json_object_object_get_ex(d, "mode", &x) && json_object_is_type(x, json_type_int))
                                sd->mode = (unsigned)json_object_get_int64(x) & 0777;
                        for (size_t j = 0; j + 1 < sf.n_disks; j++)
                                if (sf.disks[j].index == sd->index) {
                                        bad(err, "a disk index twice");
                                        goto out;
                                }
                }
        }
        *ret = sf;
        sf = (struct savefile){ 0 };
        r = 0;
out:
        savefile_done(&sf);
        return r;
}

int savefile_read(int fd, struct savefile *ret, struct qc_err *err)
{
        char footer[SAVEFILE_FOOTER_LEN];
        _cleanup_free_ char *meta = NULL;
        uint64_t off, len;
        struct stat st;
        ssize_t n;

        if (fstat(fd, &st) < 0)
                return qc_err_sys(err, errno, "fstat");
        if (!S_ISREG(st.st_mode))
                return qc_err_set(err, EINVAL, "not a regular file");
        if ((uint64_t)st.st_size < SAVEFILE_FOOTER_LEN)
                return bad(err, "shorter than its footer");
        n = pread(fd, footer, sizeof footer, st.st_size - SAVEFILE_FOOTER_LEN);
        if (n < 0)
                return qc_err_sys(err, errno, "read the footer");
        if (savefile_parse_footer(footer, (size_t)n, (uint64_t)st.st_size, &off, &len, err) < 0)
                return -1;
        meta = malloc(len + 1);
        if (!meta)
                return qc_err_set(err, ENOMEM, "out of memory");
        n = pread(fd, meta, len, (off_t)off);
        if (n < 0)
                return qc_err_sys(err, errno, "read the metadata");
        if ((uint64_t)n != len)
                return bad(err, "the metadata is cut short");
        meta[len] = '\0';
        return savefile_parse_meta(meta, len, off, ret, err);
}

/* len bytes from in (at *in_off) to out's current position: copy_file_range,
 * read/write where the kernel cannot (another filesystem before 5.3). */
static int copy_range(int in, uint64_t in_off, int out, uint64_t len)
{
        loff_t from = (loff_t)in_off;

        while (len > 0) {
                ssize_t n = copy_file_range(in, &from, out, NULL, len > (1u << 30) ? (1u << 30) : len, 0);

                if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL)) {
                        char buf[1 << 16];
                        ssize_t r = pread(in, buf, len < sizeof buf ? len : sizeof buf, from);
                        if (r < 0)
                                return -errno;
                        if (r == 0)
                                return -EIO;
                        int w = write_all(out, buf, (size_t)r);
                        if (w < 0)
                                return w;
                        n = r;
                        from += r;
                } else if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                } else if (n == 0) {
                        return -EIO; /* the source ended early */
                }
                len -= (uint64_t)n;
        }
        return 0;
}

int savefile_append_file(int fd, const char *path, uint64_t *ret_offset, uint64_t *ret_length, unsigned *ret_mode,
                         struct qc_err *err)
{
        _cleanup_close_ int in = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        off_t at;
        int r;

        if (in < 0)
                return qc_err_sys(err, errno, "open %s", path);
        if (fstat(in, &st) < 0)
                return qc_err_sys(err, errno, "fstat %s", path);
        if (!S_ISREG(st.st_mode))
                return qc_err_set(err, EINVAL, "%s is not a regular file", path);
        at = lseek(fd, 0, SEEK_END);
        if (at < 0)
                return qc_err_sys(err, errno, "seek to the end of the save file");
        r = copy_range(in, 0, fd, (uint64_t)st.st_size);
        if (r < 0)
                return qc_err_sys(err, -r, "copy %s into the save file", path);
        *ret_offset = (uint64_t)at;
        *ret_length = (uint64_t)st.st_size;
        *ret_mode = st.st_mode & 0777;
        return 0;
}

int savefile_extract(int fd, uint64_t offset, uint64_t length, const char *path, unsigned mode,
                     struct qc_err *err)
{
        _cleanup_free_ char *dup = strdup(path), *base = strdup(path), *tmp = NULL;
        _cleanup_close_ int out = -1;
        int r;

        if (!dup || !base || asprintf(&tmp, "%s/.%s.restore-%d", dirname(dup), basename(base), (int)getpid()) < 0)
                return qc_err_set(err, ENOMEM, "out of memory");
        out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0777);
        if (out < 0)
                return qc_err_sys(err, errno, "create %s", tmp);
        r = copy_range(fd, offset, out, length);
        if (r == 0 && fsync(out) < 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return qc_err_sys(err, -r, "write %s from the save file", path);
        }
        return 0;
}
