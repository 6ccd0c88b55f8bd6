#include "paths.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/io.h"
#include "../common/cleanup.h"
#include "spec.h"

int vm_rundir_base(char **ret, struct qc_err *err)
{
        const char *env = getenv("QEMUCTL_RUNDIR");
        char *p;

        if (env && *env) {
                if (env[0] != '/')
                        return qc_err_set(err, EINVAL, "QEMUCTL_RUNDIR must be an absolute path, got \"%s\"", env);
                p = strdup(env);
        } else if (geteuid() == 0) {
                p = strdup("/run/qemuctl");
        } else {
                const char *xdg = getenv("XDG_RUNTIME_DIR");

                if (!xdg || xdg[0] != '/')
                        return qc_err_set(err, ENOENT,
                                          "XDG_RUNTIME_DIR is not set (or not absolute), so there is no place "
                                          "for VM state: log in with a systemd session or set QEMUCTL_RUNDIR");
                if (asprintf(&p, "%s/qemuctl", xdg) < 0)
                        p = NULL;
        }
        if (!p)
                return qc_err_sys(err, ENOMEM, "state dir");
        /* "/a/b/" and "/a/b" name the same place; keep paths tidy for messages */
        for (size_t n = strlen(p); n > 1 && p[n - 1] == '/'; n--)
                p[n - 1] = '\0';
        *ret = p;
        return 0;
}

int vm_rundir(const char *name, char **ret, struct qc_err *err)
{
        _cleanup_free_ char *base = NULL;
        char *p;

        if (!name || !vm_name_is_valid(name))
                return qc_err_set(err, EINVAL, "\"%s\" is not a VM name ([A-Za-z0-9._-], 1..64 characters, not starting with \".\" or \"-\")",
                                  name ? name : "");
        if (vm_rundir_base(&base, err) < 0)
                return -1;
        if (!(p = path_join(base, name)))
                return qc_err_sys(err, ENOMEM, "state dir");
        *ret = p;
        return 0;
}

const char *const vm_rundir_sockets[] = {
        VM_RUNDIR_CTL, VM_RUNDIR_EVENTS, VM_RUNDIR_RELAY, VM_RUNDIR_QMP, VM_RUNDIR_CONSOLE, VM_RUNDIR_AGENT,
        VM_RUNDIR_AGENT_RELAY, VM_RUNDIR_SWTPM, NULL,
};

int user_base_dir(const char *env_var, const char *root_dir, const char *xdg_var, const char *home_sub,
                  const char *what, char **ret, struct qc_err *err)
{
        const char *env = getenv(env_var), *xdg = getenv(xdg_var), *home = getenv("HOME");
        char *p = NULL;

        if (env && *env) {
                if (env[0] != '/')
                        return qc_err_set(err, EINVAL, "%s must be an absolute path, got \"%s\"", env_var, env);
                p = strdup(env);
        } else if (geteuid() == 0) {
                p = strdup(root_dir);
        } else if (xdg && xdg[0] == '/') { /* the XDG base directory spec: a relative one is ignored */
                if (asprintf(&p, "%s/qemuctl", xdg) < 0)
                        p = NULL;
        } else if (home && home[0] == '/') {
                if (asprintf(&p, "%s/%s/qemuctl", home, home_sub) < 0)
                        p = NULL;
        } else {
                return qc_err_set(err, ENOENT,
                                  "neither %s nor HOME is set (to an absolute path), so there is no place for %s: "
                                  "set one of them, or %s",
                                  xdg_var, what, env_var);
        }
        if (!p)
                return qc_err_sys(err, ENOMEM, "%s", what);
        for (size_t n = strlen(p); n > 1 && p[n - 1] == '/'; n--)
                p[n - 1] = '\0';
        *ret = p;
        return 0;
}

int vm_datadir_base(char **ret, struct qc_err *err)
{
        return user_base_dir("QEMUCTL_DATADIR", "/var/lib/qemuctl", "XDG_DATA_HOME", ".local/share",
                             "VM data (NVRAM, TPM state)", ret, err);
}

/* A dir of the data dir path: ours alone, or what to do. */
static int check_data_dir(const char *path, struct qc_err *err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;

        if (fd < 0)
                return errno == ELOOP || errno == ENOTDIR
                               ? qc_err_set(err, errno, "data dir %s is a symlink or no directory; qemuctl keeps VM "
                                                        "data only in a directory of its own: remove it, or set "
                                                        "QEMUCTL_DATADIR",
                                            path)
                               : qc_err_sys(err, errno, "data dir %s", path);
        if (fstat(fd, &st) < 0)
                return qc_err_sys(err, errno, "data dir %s", path);
        if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
                return qc_err_set(err, EPERM,
                                  "data dir %s is owned by uid %u (mode %04o), but must be yours (uid %u) and not "
                                  "writable by group or others: another user could swap the files QEMU is given; "
                                  "fix its owner and mode, or set QEMUCTL_DATADIR",
                                  path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), (unsigned)geteuid());
        return 0;
}

int vm_datadir_make(const char *name, char **ret, struct qc_err *err)
{
        _cleanup_free_ char *base = NULL, *p = NULL;
        int r;

        if (!name || !vm_name_is_valid(name))
                return qc_err_set(err, EINVAL, "\"%s\" is not a VM name", name ? name : "");
        if (vm_datadir_base(&base, err) < 0)
                return -1;
        if (!(p = path_join(base, name)))
                return qc_err_sys(err, ENOMEM, "data dir");
        r = mkdir_p(base, 0700);
        if (r < 0)
                return qc_err_sys(err, -r, "create data dir %s", base);
        if (check_data_dir(base, err) < 0)
                return -1;
        if (mkdir(p, 0700) < 0 && errno != EEXIST)
                return qc_err_sys(err, errno, "create data dir %s", p);
        if (check_data_dir(p, err) < 0)
                return -1;
        *ret = TAKE_PTR(p);
        return 0;
}

int vm_datadir_remove(const char *name, const char *const *entries, int *ret_removed, struct qc_err *err)
{
        _cleanup_free_ char *base = NULL;
        _cleanup_close_ int bfd = -1, dfd = -1;
        int removed = 0;

        if (ret_removed)
                *ret_removed = 0;
        if (!name || !vm_name_is_valid(name))
                return qc_err_set(err, EINVAL, "\"%s\" is not a VM name", name ? name : "");
        if (vm_datadir_base(&base, err) < 0)
                return -1;
        bfd = open(base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (bfd >= 0)
                dfd = openat(bfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return errno == ENOENT ? 0 : qc_err_sys(err, errno, "open the data dir %s/%s", base, name);
        for (size_t i = 0; entries[i]; i++) {
                int r = unlinkat(dfd, entries[i], 0) == 0 ? 1 : errno == ENOENT ? 0 : -errno;

                if (r == -EISDIR && (r = remove_dir_flat_at(dfd, entries[i])) == 0)
                        r = 1;
                if (r < 0)
                        return qc_err_sys(err, -r, "remove %s/%s/%s", base, name, entries[i]);
                removed += r;
        }
        /* the dir goes with its last entry; anything else in it stays */
        if (unlinkat(bfd, name, AT_REMOVEDIR) < 0 && errno != ENOTEMPTY && errno != EEXIST)
                return qc_err_sys(err, errno, "remove the data dir %s/%s", base, name);
        if (ret_removed)
                *ret_removed = removed;
        return 0;
}
