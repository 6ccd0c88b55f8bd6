/* The guest agent's commands, one short function each (see qga.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/base64.h"
#include "../common/cleanup.h"
#include "qga.h"
#include "qmp-internal.h"

int qga_ping(struct qga *g, struct qc_err *err)
{
        return qga_execute(g, "guest-ping", NULL, NULL, err);
}

int qga_info_version(struct qga *g, char **ret, struct qc_err *err)
{
        _cleanup_json_ json_object *r = NULL;
        json_object *v;
        char *s;

        if (qga_execute(g, "guest-info", NULL, &r, err) < 0 ||
            qmp_get_member(r, "guest-info", "version", json_type_string, false, &v, err) < 0)
                return -1;
        s = strdup(json_object_get_string(v));
        if (!s)
                return qc_err_set(err, ENOMEM, "out of memory");
        *ret = s;
        return 0;
}

static json_object *strings(char *const *v)
{
        json_object *a = json_object_new_array();

        for (size_t i = 0; a && v && v[i]; i++)
                json_object_array_add(a, json_object_new_string(v[i]));
        return a;
}

int qga_exec(struct qga *g, const char *path, char *const *argv, char *const *env, const void *input,
             size_t input_len, bool capture, int64_t *ret_pid, struct qc_err *err)
{
        _cleanup_json_ json_object *a = json_object_new_object(), *r = NULL;
        json_object *pid;

        if (!a)
                return qc_err_set(err, ENOMEM, "out of memory");
        json_object_object_add(a, "path", json_object_new_string(path));
        if (argv && argv[0])
                json_object_object_add(a, "arg", strings(argv));
        if (env)
                json_object_object_add(a, "env", strings(env));
        if (input) {
                _cleanup_free_ char *b64 = base64_encode(input, input_len);

                if (!b64)
                        return qc_err_set(err, ENOMEM, "out of memory encoding %zu bytes of input", input_len);
                json_object_object_add(a, "input-data", json_object_new_string(b64));
        }
        json_object_object_add(a, "capture-output", json_object_new_boolean(capture));
        if (qga_execute(g, "guest-exec", TAKE_PTR(a), &r, err) < 0 ||
            qmp_get_member(r, "guest-exec", "pid", json_type_int, false, &pid, err) < 0)
                return -1;
        *ret_pid = json_object_get_int64(pid);
        return 0;
}

void qga_exec_status_done(struct qga_exec_status *s)
{
        free(s->out);
        free(s->errout);
        *s = (struct qga_exec_status){ 0 };
}

/* An optional base64 member: decoded into *ret, or left NULL. */
static int b64_member(json_object *r, const char *cmd, const char *key, unsigned char **ret, size_t *ret_len,
                      struct qc_err *err)
{
        json_object *v;
        int k;

        if (qmp_get_member(r, cmd, key, json_type_string, true, &v, err) < 0)
                return -1;
        if (!v)
                return 0;
        k = base64_decode(json_object_get_string(v), (size_t)json_object_get_string_len(v), ret, ret_len);
        if (k == -EINVAL)
                return qc_err_set(err, EPROTO, "%s: \"%s\" is not base64", cmd, key);
        if (k < 0)
                return qc_err_set(err, -k, "%s: out of memory decoding \"%s\"", cmd, key);
        return 0;
}

int qga_exec_status(struct qga *g, int64_t pid, struct qga_exec_status *ret, struct qc_err *err)
{
        _cleanup_json_ json_object *a = json_object_new_object(), *r = NULL;
        _cleanup_(qga_exec_status_done) struct qga_exec_status s = { .exitcode = -1 };
        json_object *exited, *code, *sig;

        if (!a)
                return qc_err_set(err, ENOMEM, "out of memory");
        json_object_object_add(a, "pid", json_object_new_int64(pid));
        if (qga_execute(g, "guest-exec-status", TAKE_PTR(a), &r, err) < 0 ||
            qmp_get_member(r, "guest-exec-status", "exited", json_type_boolean, false, &exited, err) < 0 ||
            qmp_get_member(r, "guest-exec-status", "exitcode", json_type_int, true, &code, err) < 0 ||
            qmp_get_member(r, "guest-exec-status", "signal", json_type_int, true, &sig, err) < 0 ||
            b64_member(r, "guest-exec-status", "out-data", &s.out, &s.out_len, err) < 0 ||
            b64_member(r, "guest-exec-status", "err-data", &s.errout, &s.err_len, err) < 0)
                return -1;
        s.exited = json_object_get_boolean(exited);
        if (sig)
                s.signal = json_object_get_int(sig);
        else if (code)
                s.exitcode = json_object_get_int(code);
        s.out_truncated = qmp_member_bool(r, "out-truncated", false);
        s.err_truncated = qmp_member_bool(r, "err-truncated", false);
        *ret = s;
        s = (struct qga_exec_status){ 0 };
        return 0;
}

static json_object *handle_args(int64_t handle)
{
        json_object *a = json_object_new_object();

        if (a)
                json_object_object_add(a, "handle", json_object_new_int64(handle));
        return a;
}

int qga_file_open(struct qga *g, const char *path, const char *mode, int64_t *ret_handle, struct qc_err *err)
{
        _cleanup_json_ json_object *a = json_object_new_object(), *r = NULL;

        if (!a)
                return qc_err_set(err, ENOMEM, "out of memory");
        json_object_object_add(a, "path", json_object_new_string(path));
        json_object_object_add(a, "mode", json_object_new_string(mode));
        if (qga_execute(g, "guest-file-open", TAKE_PTR(a), &r, err) < 0 ||
            qmp_expect_type(r, "guest-file-open", json_type_int, err) < 0)
                return -1;
        *ret_handle = json_object_get_int64(r);
        return 0;
}

int qga_file_read(struct qga *g, int64_t handle, size_t count, unsigned char **ret, size_t *ret_len, bool *ret_eof,
                  struct qc_err *err)
{
        _cleanup_json_ json_object *a = handle_args(handle), *r = NULL;
        _cleanup_free_ unsigned char *buf = NULL;
        json_object *n, *eof;
        size_t len = 0;

        if (!a)
                return qc_err_set(err, ENOMEM, "out of memory");
        json_object_object_add(a, "count", json_object_new_int64((int64_t)count));
        if (qga_execute(g, "guest-file-read", TAKE_PTR(a), &r, err) < 0 ||
            qmp_get_member(r, "guest-file-read", "count", json_type_int, false, &n, err) < 0 ||
            qmp_get_member(r, "guest-file-read", "eof", json_type_boolean, false, &eof, err) < 0 ||
            b64_member(r, "guest-file-read", "buf-b64", &buf, &len, err) < 0)
                return -1;
        if (!buf)
                return qc_err_set(err, EPROTO, "guest-file-read: no \"buf-b64\"");
        if ((int64_t)len != json_object_get_int64(n) || len > count)
                return qc_err_set(err, EPROTO, "guest-file-read: \"count\" %lld but %zu bytes of data (asked for %zu)",
                                  (long long)json_object_get_int64(n), len, count);
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        *ret_eof = json_object_get_boolean(eof);
        return 0;
}

int qga_file_write(struct qga *g, int64_t handle, const void *data, size_t len, size_t *ret_written,
                   struct qc_err *err)
{
        _cleanup_json_ json_object *a = handle_args(handle), *r = NULL;
        _cleanup_free_ char *b64 = base64_encode(data, len);
        json_object *n;

        if (!a || !b64)
                return qc_err_set(err, ENOMEM, "out of memory");
        json_object_object_add(a, "buf-b64", json_object_new_string(b64));
        json_object_object_add(a, "count", json_object_new_int64((int64_t)len));
        if (qga_execute(g, "guest-file-write", TAKE_PTR(a), &r, err) < 0 ||
            qmp_get_member(r, "guest-file-write", "count", json_type_int, false, &n, err) < 0)
                return -1;
        if (json_object_get_int64(n) < 0 || (uint64_t)json_object_get_int64(n) > len)
                return qc_err_set(err, EPROTO, "guest-file-write: wrote %lld of %zu bytes",
                                  (long long)json_object_get_int64(n), len);
        if (ret_written)
                *ret_written = (size_t)json_object_get_int64(n);
        return 0;
}

int qga_file_close(struct qga *g, int64_t handle, struct qc_err *err)
{
        json_object *a = handle_args(handle);

        if (!a)
                return qc_err_set(err, ENOMEM, "out of memory");
        return qga_execute(g, "guest-file-close", a, NULL, err);
}
