/* Dropping privileges in the spawned child just before exec: umask 077, only
 * the intended fds, and — when the VM file names security.user/group — that
 * user and group, every capability cleared, the bounding set emptied
 * (libcap-ng) and no_new_privs. The environment is the spawner's: it passes a
 * clean envp to execve. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

struct privs {
        bool change_ids;  /* a user or group was named */
        uid_t uid;
        gid_t gid;
        gid_t *groups;    /* supplementary groups of the user (getgrouplist) */
        int n_groups;
        bool drop_caps;   /* clear every capability and the bounding set */
        bool no_new_privs;
};

/* The largest uid or gid: (uid_t)-1 means "no change" to setresuid. */
#define PRIVS_ID_MAX 4294967294u
/* A user or group given as a number ("65534"): 1 and *ret; 0 when s is not
 * all decimal digits (a name); -ERANGE past PRIVS_ID_MAX. */
int privs_parse_id(const char *s, uint32_t *ret);

/* Before fork: resolve names (NSS is not safe after fork). user NULL and
 * group NULL = keep our identity (nothing dropped but fds and umask). user
 * and group are names or numbers (privs_parse_id): a number is the id
 * itself, with the user's entry (primary group, supplementary groups) when
 * the user database has one; a uid without an entry needs a group. group NULL
 * with a user = the user's primary group; a group alone keeps our uid (the
 * VM file refuses that: spec check_group). */
int privs_resolve(const char *user, const char *group, struct privs *ret, struct qc_err *err);
void privs_done(struct privs *p);

/* In the child after fork, before exec. Closes every fd but 0, 1, 2 and
 * keep_fds (at most 64); keeps their flags (the caller decides O_CLOEXEC). No
 * allocation. err is the child's copy: report it through a pipe and _exit. */
int privs_apply(const struct privs *p, const int *keep_fds, size_t n_keep, struct qc_err *err);
