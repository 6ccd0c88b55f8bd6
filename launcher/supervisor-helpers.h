/* The supervisor's helper processes (supervisor_helper, supervisor.h). */
#pragma once
#include <sys/types.h>

#include "supervisor.h"

/* Start o->helpers in cgroup_fd (-1: ours), each waited for until its
 * socket exists (10 s). pids[i] gets each one's pid (0 = not running). -1
 * with err naming the helper and what it said (its log) when one cannot be
 * started or exits first; those already started are stopped then. */
int sup_helpers_start(const struct supervisor_opts *o, int cgroup_fd, pid_t *pids, struct qc_err *err);
/* SIGTERM each, SIGKILL after 3 s, reap; pids[i] becomes 0. */
void sup_helpers_stop(const struct supervisor_opts *o, pid_t *pids);
