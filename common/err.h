/* Errors that carry context. A fallible function returns a negative int and
 * fills a struct qc_err; a caller that knows more wraps it. Only cli/ prints. */
#pragma once
#include <stdarg.h>

#define QC_ERR_MSG_MAX 1024

struct qc_err {
        int code;                 /* errno value, or 0 when not a system error */
        char msg[QC_ERR_MSG_MAX]; /* human text, no trailing newline */
};

/* Set err (may be NULL) and return -1. code is an errno value or 0. */
int qc_err_set(struct qc_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Like qc_err_set, appending ": strerror(code)". Returns -1. */
int qc_err_sys(struct qc_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefix the existing message with context: "ctx: old". Returns -1. */
int qc_err_wrap(struct qc_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void qc_err_clear(struct qc_err *err);
/* Hand on an error caught in a local struct qc_err (to look at its code
 * first): *err = *from when err is not NULL. Returns -1. */
int qc_err_pass(struct qc_err *err, const struct qc_err *from);
