/* One wrapper per QMP command; typed results; outputs untouched on failure.
 * Owned by the QMP library; extend here. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct qmp;
struct qc_err;

int qmp_query_status(struct qmp *q, char **ret_status, bool *ret_running, struct qc_err *err);
int qmp_cont(struct qmp *q, struct qc_err *err);
int qmp_stop(struct qmp *q, struct qc_err *err);
int qmp_quit(struct qmp *q, struct qc_err *err);
