/* Privileges of the QEMU child (see privs.h). */
#include "privs.h"

#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <linux/close_range.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int privs_parse_id(const char *s, uint32_t *ret)
{
        uint64_t v = 0;

        if (!s || !*s || strspn(s, "0123456789") != strlen(s))
                return 0;
        for (const char *p = s; *p; p++) {
                v = v * 10 + (uint64_t)(*p - '0');
                if (v > PRIVS_ID_MAX)
                        return -ERANGE;
        }
        *ret = (uint32_t)v;
        return 1;
}

/* The supplementary groups of user (its passwd entry's name) with gid. */
static int user_groups(const char *user, gid_t gid, struct privs *p, struct qc_err *err)
{
        int n = 32;

        for (;;) {
                gid_t *g = realloc(p->groups, (size_t)n * sizeof *g);
                int want = n;

                if (!g)
                        return qc_err_set(err, ENOMEM, "out of memory");
                p->groups = g;
                if (getgrouplist(user, gid, p->groups, &want) >= 0) {
                        p->n_groups = want;
                        return 0;
                }
                if (want <= n || want > 65536)
                        return qc_err_set(err, EINVAL, "security.user: cannot list the groups of \"%s\"", user);
                n = want;
        }
}

int privs_resolve(const char *user, const char *group, struct privs *ret, struct qc_err *err)
{
        struct privs p = { .uid = getuid(), .gid = getgid() };
        uint32_t id;
        int r;

        if (user) {
                struct passwd *pw;

                r = privs_parse_id(user, &id);
                if (r < 0)
                        return qc_err_set(err, ERANGE, "security.user: %s is out of range for a uid (at most %u)",
                                          user, (unsigned)PRIVS_ID_MAX);
                errno = 0;
                /* a number is the uid itself, with or without a name */
                pw = r ? getpwuid((uid_t)id) : getpwnam(user);
                if (!pw && errno)
                        return qc_err_sys(err, errno, "security.user: look up \"%s\"", user);
                if (!pw && !r)
                        return qc_err_set(err, ENOENT, "security.user: no user \"%s\" on this host", user);
                if (!pw && !group)
                        return qc_err_set(err, ENOENT, "security.user: uid %s has no entry in the user database, so "
                                          "it has no primary group: give security.group too", user);
                if (pw) {
                        p.uid = pw->pw_uid;
                        p.gid = pw->pw_gid;
                        if (user_groups(pw->pw_name, pw->pw_gid, &p, err) < 0) {
                                free(p.groups);
                                return -1;
                        }
                } else {
                        p.uid = (uid_t)id; /* no supplementary groups */
                }
                p.change_ids = true;
        }
        if (group) {
                struct group *gr;

                r = privs_parse_id(group, &id);
                if (r < 0) {
                        free(p.groups);
                        return qc_err_set(err, ERANGE, "security.group: %s is out of range for a gid (at most %u)",
                                          group, (unsigned)PRIVS_ID_MAX);
                }
                if (r) {
                        p.gid = (gid_t)id; /* a number is the gid itself, with or without a name */
                } else {
                        errno = 0;
                        gr = getgrnam(group);
                        if (!gr) {
                                free(p.groups);
                                return errno ? qc_err_sys(err, errno, "security.group: look up \"%s\"", group)
                                             : qc_err_set(err, ENOENT, "security.group: no group \"%s\" on this host",
                                                          group);
                        }
                        p.gid = gr->gr_gid;
                }
                p.change_ids = true;
        }
        p.drop_caps = p.no_new_privs = p.change_ids;
        *ret = p;
        return 0;
}

void privs_done(struct privs *p)
{
        free(p->groups);
        p->groups = NULL;
        p->n_groups = 0;
}

static int close_all_but(const int *keep, size_t n_keep)
{
        int k[67];
        size_t n = 0;
        unsigned lo = 0;

        if (n_keep > 64)
                return -E2BIG;
        k[n++] = 0, k[n++] = 1, k[n++] = 2;
        for (size_t i = 0; i < n_keep; i++)
                if (keep[i] > 2)
                        k[n++] = keep[i];
        /* insertion sort: no qsort (no allocation, tiny n) */
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && k[j - 1] > k[j]; j--) {
                        int t = k[j];
                        k[j] = k[j - 1], k[j - 1] = t;
                }
        for (size_t i = 0; i <= n; i++) {
                unsigned hi = i < n ? (unsigned)k[i] : ~0u;

                if (hi > lo && syscall(SYS_close_range, lo, hi - 1, 0) < 0) {
                        if (errno != ENOSYS)
                                return -errno;
                        /* before 5.9: one by one up to the fd limit */
                        long max = sysconf(_SC_OPEN_MAX);
                        for (long fd = lo; fd < (long)hi && fd < max; fd++)
                                close((int)fd);
                }
                if (i < n)
                        lo = (unsigned)k[i] + 1;
        }
        return 0;
}

int privs_apply(const struct privs *p, const int *keep_fds, size_t n_keep, struct qc_err *err)
{
        int r;

        umask(077);
        r = close_all_but(keep_fds, n_keep);
        if (r < 0)
                return qc_err_sys(err, -r, "close inherited fds");
        if (p->change_ids) {
                if (setgroups(p->n_groups > 0 ? (size_t)p->n_groups : 0, p->groups) < 0)
                        return qc_err_sys(err, errno, "setgroups");
                if (setresgid(p->gid, p->gid, p->gid) < 0)
                        return qc_err_sys(err, errno, "setgid %d", (int)p->gid);
        }
        if (p->drop_caps) {
                /* the bounding set can only be emptied while we still hold
                 * CAP_SETPCAP, i.e. before setuid leaves root */
                capng_clear(CAPNG_SELECT_BOTH);
                if (capng_apply(CAPNG_SELECT_BOUNDS) < 0)
                        return qc_err_set(err, EPERM, "empty the capability bounding set");
        }
        if (p->change_ids && setresuid(p->uid, p->uid, p->uid) < 0)
                return qc_err_sys(err, errno, "setuid %d", (int)p->uid);
        if (p->drop_caps) {
                /* leaving uid 0 already cleared effective and permitted;
                 * this clears them for uid 0 too, and inheritable always */
                capng_clear(CAPNG_SELECT_BOTH);
                if (capng_apply(CAPNG_SELECT_CAPS) < 0)
                        return qc_err_set(err, EPERM, "clear capabilities");
                if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                        return qc_err_sys(err, errno, "clear ambient capabilities");
        }
        if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return qc_err_sys(err, errno, "set no_new_privs");
        if (p->change_ids && (getuid() != p->uid || geteuid() != p->uid || getgid() != p->gid))
                return qc_err_set(err, EPERM, "identity did not change to %d:%d", (int)p->uid, (int)p->gid);
        return 0;
}
