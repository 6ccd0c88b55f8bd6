#include "err.h"

#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 3, 0))) static void vset(struct qc_err *err, int code, const char *fmt, va_list ap)
{
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        err->code = code;
}

int qc_err_set(struct qc_err *err, int code, const char *fmt, ...)
{
        va_list ap;

        if (!err)
                return -1;
        va_start(ap, fmt);
        vset(err, code, fmt, ap);
        va_end(ap);
        return -1;
}

int qc_err_sys(struct qc_err *err, int code, const char *fmt, ...)
{
        va_list ap;
        size_t n;

        if (!err)
                return -1;
        va_start(ap, fmt);
        vset(err, code, fmt, ap);
        va_end(ap);
        n = strlen(err->msg);
        snprintf(err->msg + n, sizeof err->msg - n, ": %s", strerror(code));
        return -1;
}

int qc_err_wrap(struct qc_err *err, const char *fmt, ...)
{
        char prefix[QC_ERR_MSG_MAX], old[QC_ERR_MSG_MAX];
        va_list ap;

        if (!err)
                return -1;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        memcpy(old, err->msg, sizeof old);
        /* truncation of very long chains is fine: the innermost text goes last */
        if (snprintf(err->msg, sizeof err->msg, "%.*s: ", (int)sizeof err->msg / 2, prefix) > 0) {
                size_t n = strlen(err->msg);
                snprintf(err->msg + n, sizeof err->msg - n, "%s", old);
        }
        return -1;
}

void qc_err_clear(struct qc_err *err)
{
        if (!err)
                return;
        err->code = 0;
        err->msg[0] = '\0';
}

int qc_err_pass(struct qc_err *err, const struct qc_err *from)
{
        if (err && err != from)
                *err = *from;
        return -1;
}
