/* The definition store (defs.h; docs/host.md). */
#include "defs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/io.h"
#include "../common/strv.h"
#include "paths.h"

#define DEFS_LOCK "lock"
#define DEFS_LOCK_TIMEOUT_MS 10000
/* the same bound as a VM file (spec.c): a definition is one */
#define DEFS_FILE_MAX (1024 * 1024)

int defs_dir(char **ret, struct qc_err *err)
{
        return user_base_dir("QEMUCTL_CONFDIR", "/etc/qemuctl", "XDG_CONFIG_HOME", ".config", "VM definitions", ret,
                             err);
}

static int check_name(const char *name, struct qc_err *err)
{
        if (!name || !vm_name_is_valid(name))
                return qc_err_set(err, EINVAL,
                                  "\"%s\" is not a VM name ([A-Za-z0-9._-], 1..64 characters, not starting with "
                                  "\".\" or \"-\")",
                                  name ? name : "");
        return 0;
}

int defs_path(const char *name, char **ret, struct qc_err *err)
{
        _cleanup_free_ char *dir = NULL;
        char *p;

        if (check_name(name, err) < 0 || defs_dir(&dir, err) < 0)
                return -1;
        if (asprintf(&p, "%s/" DEFS_VMS "/%s.json", dir, name) < 0)
                return qc_err_sys(err, ENOMEM, "definition store");
        *ret = p;
        return 0;
}

/* What the store holds decides what runs: only a directory of ours alone. */
static int check_dir(int fd, const char *path, struct qc_err *err)
{
        struct stat st;
        uid_t me = geteuid();

        if (fstat(fd, &st) < 0)
                return qc_err_sys(err, errno, "definition store %s", path);
        if (st.st_uid != me)
                return qc_err_set(err, EPERM,
                                  "definition store %s is owned by uid %u, not by you (uid %u): another user could "
                                  "put VM definitions there that qemuctl would start; chown it to yourself, or set "
                                  "QEMUCTL_CONFDIR to a directory of your own",
                                  path, (unsigned)st.st_uid, (unsigned)me);
        if (st.st_mode & (S_IWGRP | S_IWOTH))
                return qc_err_set(err, EPERM,
                                  "definition store %s is writable by group or others (mode %04o): another user "
                                  "could plant VM definitions there; chmod go-w %s",
                                  path, (unsigned)(st.st_mode & 07777), path);
        return 0;
}

/* An O_DIRECTORY fd of CONFDIR/sub (sub NULL: CONFDIR), every level checked;
 * create: make what is missing (0700). -1 with err (ENOENT: missing). */
static int open_store(const char *sub, bool create, struct qc_err *err)
{
        _cleanup_free_ char *dir = NULL, *subpath = NULL;
        _cleanup_close_ int fd = -1;
        int sfd;

        if (defs_dir(&dir, err) < 0)
                return -1;
        if (create) {
                int r = mkdir_p(dir, 0700);
                if (r < 0)
                        return qc_err_sys(err, -r, "create definition store %s", dir);
        }
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return qc_err_set(err, ENOENT, "no definition store %s", dir);
                if (errno == ELOOP || errno == ENOTDIR)
                        return qc_err_set(err, errno,
                                          "definition store %s is not a directory (or a symlink, which qemuctl does "
                                          "not follow there): set QEMUCTL_CONFDIR to the real directory",
                                          dir);
                return qc_err_sys(err, errno, "definition store %s", dir);
        }
        if (check_dir(fd, dir, err) < 0)
                return -1;
        if (!sub)
                return TAKE_FD(fd);
        subpath = path_join(dir, sub);
        if (!subpath)
                return qc_err_sys(err, ENOMEM, "definition store");
        if (create && mkdirat(fd, sub, 0700) < 0 && errno != EEXIST)
                return qc_err_sys(err, errno, "create %s", subpath);
        sfd = openat(fd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sfd < 0) {
                if (errno == ENOENT)
                        return qc_err_set(err, ENOENT, "no %s", subpath);
                if (errno == ELOOP || errno == ENOTDIR)
                        return qc_err_set(err, errno, "%s is not a directory (or is a symlink): move it away", subpath);
                return qc_err_sys(err, errno, "%s", subpath);
        }
        if (check_dir(sfd, subpath, err) < 0) {
                close(sfd);
                return -1;
        }
        return sfd;
}

/* The store's lock (an fd to close), creating the store; waits up to
 * DEFS_LOCK_TIMEOUT_MS for another writer, then EBUSY. */
static int lock_store(struct qc_err *err)
{
        _cleanup_close_ int dfd = open_store(NULL, true, err);
        _cleanup_close_ int fd = -1;
        int64_t deadline = now_ms() + DEFS_LOCK_TIMEOUT_MS;

        if (dfd < 0)
                return -1;
        fd = openat(dfd, DEFS_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0)
                return qc_err_sys(err, errno, "definition store lock");
        while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno != EWOULDBLOCK && errno != EINTR)
                        return qc_err_sys(err, errno, "lock the definition store");
                if (now_ms() >= deadline)
                        return qc_err_set(err, EBUSY,
                                          "another qemuctl has held the definition store's lock for %d s; try "
                                          "again when it is done",
                                          DEFS_LOCK_TIMEOUT_MS / 1000);
                usleep(10 * 1000);
        }
        return TAKE_FD(fd);
}

static char *file_name(const char *name)
{
        char *p;

        return asprintf(&p, "%s.json", name) < 0 ? NULL : p;
}

/* The stored text of NAME, 0; -1 with err (ENOENT: not defined). */
static int read_text(const char *name, char **ret, struct qc_err *err)
{
        _cleanup_close_ int dfd = -1, fd = -1;
        _cleanup_free_ char *file = NULL;
        struct qc_err e = { 0 };
        int r;

        if (check_name(name, err) < 0)
                return -1;
        dfd = open_store(DEFS_VMS, false, &e);
        if (dfd < 0) {
                if (e.code == ENOENT)
                        return qc_err_set(err, ENOENT, "VM `%s` is not defined (qemuctl define FILE)", name);
                if (err)
                        *err = e;
                return -1;
        }
        if (!(file = file_name(name)))
                return qc_err_sys(err, ENOMEM, "definition");
        fd = openat(dfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                if (errno == ENOENT)
                        return qc_err_set(err, ENOENT, "VM `%s` is not defined (qemuctl define FILE)", name);
                return qc_err_sys(err, errno, "definition of VM `%s`", name);
        }
        r = read_fd_all(fd, DEFS_FILE_MAX, ret, NULL);
        if (r < 0)
                return qc_err_sys(err, -r, "read the definition of VM `%s`", name);
        return 0;
}

int defs_read_text(const char *name, char **ret, struct qc_err *err)
{
        return read_text(name, ret, err);
}

/* lstat of CONFDIR/sub/NAME.json: 1 (in *st), 0 when it or sub is missing,
 * -1 with err. */
static int stat_entry(const char *sub, const char *name, struct stat *st, struct qc_err *err)
{
        _cleanup_close_ int dfd = -1;
        _cleanup_free_ char *file = NULL;
        struct qc_err e = { 0 };

        if (check_name(name, err) < 0)
                return -1;
        if ((dfd = open_store(sub, false, &e)) < 0) {
                if (e.code == ENOENT)
                        return 0;
                if (err)
                        *err = e;
                return -1;
        }
        if (!(file = file_name(name)))
                return qc_err_sys(err, ENOMEM, "definition");
        if (fstatat(dfd, file, st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : qc_err_sys(err, errno, "%s/%s", sub, file);
        return 1;
}

int defs_exists(const char *name, struct qc_err *err)
{
        struct stat st;
        int r = stat_entry(DEFS_VMS, name, &st, err);

        return r <= 0 ? r : S_ISREG(st.st_mode);
}

/* Parse text as NAME's definition (path: for messages and relative paths). */
static int parse_def(const char *name, const char *path, const char *what, const char *text, struct vm_spec **ret,
                     struct spec_diags *diags, struct qc_err *err)
{
        struct spec_diags d = { 0 };
        struct vm_spec *s = NULL;

        if (spec_parse(path, text, strlen(text), &s, &d, err) < 0) {
                if (diags)
                        *diags = d;
                else
                        spec_diags_done(&d);
                return -1;
        }
        spec_diags_done(&d);
        if (strcmp(s->name, name) != 0) {
                qc_err_set(err, EINVAL,
                           "%s names VM `%s`, not `%s`: a definition's name is its file's; to rename it, define "
                           "a file with the new name, then undefine `%s`",
                           what ? what : path, s->name, name, name);
                spec_free(s);
                return -1;
        }
        *ret = s;
        return 0;
}

int defs_load(const char *name, struct vm_spec **ret, struct spec_diags *diags, struct qc_err *err)
{
        _cleanup_free_ char *text = NULL, *path = NULL;

        if (defs_path(name, &path, err) < 0 || read_text(name, &text, err) < 0)
                return -1;
        return parse_def(name, path, NULL, text, ret, diags, err);
}

/* spec serialized, then checked to read back as a valid VM file of the same
 * name: the text to store (malloc'd), or NULL with err. */
static char *serialize(const struct vm_spec *spec, struct spec_diags *diags, struct qc_err *err)
{
        _cleanup_free_ char *json = NULL, *path = NULL;
        struct vm_spec *back = NULL;

        if (defs_path(spec->name, &path, err) < 0)
                return NULL;
        if (!(json = spec_to_json(spec))) {
                qc_err_sys(err, ENOMEM, "definition");
                return NULL;
        }
        if (parse_def(spec->name, path, NULL, json, &back, diags, err) < 0) {
                qc_err_wrap(err, "the definition of VM `%s` would not be valid", spec->name);
                return NULL;
        }
        spec_free(back);
        /* a text file ends with a newline (cat, diff, editors) */
        char *out = NULL;
        if (asprintf(&out, "%s\n", json) < 0) {
                qc_err_sys(err, ENOMEM, "definition");
                return NULL;
        }
        return out;
}

/* Write text as NAME's definition; the store's lock is held. 1: replaced. */
static int write_locked(const char *name, const char *text, struct qc_err *err)
{
        _cleanup_close_ int dfd = open_store(DEFS_VMS, true, err);
        _cleanup_free_ char *file = NULL;
        struct stat st;
        int r, existed;

        if (dfd < 0)
                return -1;
        if (!(file = file_name(name)))
                return qc_err_sys(err, ENOMEM, "definition");
        existed = fstatat(dfd, file, &st, AT_SYMLINK_NOFOLLOW) == 0;
        r = write_file_durable_at(dfd, file, text, 0600);
        if (r < 0)
                return qc_err_sys(err, -r, "write the definition of VM `%s`", name);
        return existed;
}

int defs_store(const struct vm_spec *spec, struct spec_diags *diags, struct qc_err *err)
{
        _cleanup_free_ char *text = serialize(spec, diags, err);
        _cleanup_close_ int lock = -1;

        if (!text)
                return -1;
        if ((lock = lock_store(err)) < 0)
                return -1;
        return write_locked(spec->name, text, err);
}

int defs_update(const char *name, defs_change_fn change, void *userdata, struct spec_diags *diags,
                struct qc_err *err)
{
        _cleanup_close_ int lock = -1;
        _cleanup_free_ char *text = NULL;
        struct vm_spec *s = NULL;
        int r;

        if (check_name(name, err) < 0 || (lock = lock_store(err)) < 0)
                return -1;
        if (defs_load(name, &s, diags, err) < 0)
                return -1;
        r = change(s, userdata, err);
        if (r == 0 && !(text = serialize(s, diags, err)))
                r = -1;
        spec_free(s);
        if (r < 0)
                return -1;
        return write_locked(name, text, err) < 0 ? -1 : 0;
}

int defs_replace_text(const char *name, const char *expect, const char *text, const char *base_dir,
                      defs_check_fn check, void *userdata, struct spec_diags *diags, struct qc_err *err)
{
        _cleanup_close_ int lock = -1;
        _cleanup_free_ char *now = NULL, *path = NULL, *out = NULL;
        struct vm_spec *s = NULL;

        if (check_name(name, err) < 0 || (lock = lock_store(err)) < 0 || read_text(name, &now, err) < 0)
                return -1;
        if (expect && strcmp(now, expect) != 0)
                return qc_err_set(err, EAGAIN, "the definition of VM `%s` changed while you edited it", name);
        /* relative paths the person typed mean what they mean from base_dir */
        if (asprintf(&path, "%s/%s.json", base_dir, name) < 0)
                return qc_err_sys(err, ENOMEM, "definition");
        if (parse_def(name, path, "the edited definition", text, &s, diags, err) < 0)
                return -1;
        if (check && check(s, userdata, diags, err) < 0) {
                spec_free(s);
                return -1;
        }
        out = serialize(s, diags, err);
        spec_free(s);
        if (!out)
                return -1;
        return write_locked(name, out, err) < 0 ? -1 : 0;
}

int defs_remove(const char *name, struct qc_err *err)
{
        _cleanup_close_ int lock = -1, dfd = -1, afd = -1;
        _cleanup_free_ char *file = NULL;
        struct qc_err e = { 0 };

        if (check_name(name, err) < 0 || (lock = lock_store(err)) < 0)
                return -1;
        if (!(file = file_name(name)))
                return qc_err_sys(err, ENOMEM, "definition");
        if ((dfd = open_store(DEFS_VMS, false, &e)) < 0 && e.code != ENOENT) {
                if (err)
                        *err = e;
                return -1;
        }
        if (dfd < 0 || unlinkat(dfd, file, 0) < 0) {
                if (dfd < 0 || errno == ENOENT)
                        return qc_err_set(err, ENOENT, "VM `%s` is not defined", name);
                return qc_err_sys(err, errno, "remove the definition of VM `%s`", name);
        }
        (void)fsync(dfd);
        /* a dangling autostart link would start nothing; do not leave one */
        if ((afd = open_store(DEFS_AUTOSTART, false, NULL)) >= 0 && unlinkat(afd, file, 0) == 0)
                (void)fsync(afd);
        return 0;
}

/* Names of the NAME.json entries of CONFDIR/sub, sorted; regular files only
 * unless links (autostart). No dir: an empty list. */
static int list_dir(const char *sub, bool links, char ***ret, struct qc_err *err)
{
        _cleanup_strv_ strv names = { 0 };
        _cleanup_close_ int dfd = -1;
        struct qc_err e = { 0 };
        DIR *d;
        struct dirent *de;

        dfd = open_store(sub, false, &e);
        if (dfd < 0 && e.code != ENOENT) {
                if (err)
                        *err = e;
                return -1;
        }
        if (dfd >= 0) {
                if (!(d = opendir_at_fd(dfd)))
                        return qc_err_sys(err, errno, "read the definition store");
                while ((de = readdir(d))) {
                        size_t n = strlen(de->d_name);
                        _cleanup_free_ char *name = NULL;
                        struct stat st;

                        if (n <= 5 || strcmp(de->d_name + n - 5, ".json") != 0)
                                continue;
                        if (!(name = strndup(de->d_name, n - 5))) {
                                closedir(d);
                                return qc_err_sys(err, ENOMEM, "definition store");
                        }
                        if (!vm_name_is_valid(name) || fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                                continue;
                        if (links ? !S_ISLNK(st.st_mode) : !S_ISREG(st.st_mode))
                                continue;
                        if (strv_consume(&names, TAKE_PTR(name)) < 0) {
                                closedir(d);
                                return qc_err_sys(err, ENOMEM, "definition store");
                        }
                }
                closedir(d);
        }
        strv_sort(&names);
        if (!(*ret = strv_steal(&names)))
                return qc_err_sys(err, ENOMEM, "definition store");
        return 0;
}

int defs_list(char ***ret, struct qc_err *err)
{
        return list_dir(DEFS_VMS, false, ret, err);
}

int defs_autostart(const char *name, struct qc_err *err)
{
        struct stat st;
        int r = stat_entry(DEFS_AUTOSTART, name, &st, err);

        return r <= 0 ? r : S_ISLNK(st.st_mode);
}

int defs_set_autostart(const char *name, bool on, struct qc_err *err)
{
        _cleanup_close_ int lock = -1, afd = -1;
        _cleanup_free_ char *file = NULL, *target = NULL;
        int r;

        if (check_name(name, err) < 0 || (lock = lock_store(err)) < 0)
                return -1;
        if (on && (r = defs_exists(name, err)) <= 0)
                return r < 0 ? -1 : qc_err_set(err, ENOENT, "VM `%s` is not defined (qemuctl define FILE)", name);
        if ((afd = open_store(DEFS_AUTOSTART, on, err)) < 0) {
                if (!on && err && err->code == ENOENT) {
                        qc_err_clear(err);
                        return 0;
                }
                return -1;
        }
        if (!(file = file_name(name)) || asprintf(&target, "../" DEFS_VMS "/%s", file) < 0)
                return qc_err_sys(err, ENOMEM, "autostart");
        if (on) {
                /* libvirt's layout: autostart/NAME -> ../NAME; ls -l shows what starts */
                if (symlinkat(target, afd, file) < 0 && errno != EEXIST)
                        return qc_err_sys(err, errno, "mark VM `%s` for autostart", name);
        } else if (unlinkat(afd, file, 0) < 0 && errno != ENOENT) {
                return qc_err_sys(err, errno, "unmark VM `%s` for autostart", name);
        }
        (void)fsync(afd);
        return 0;
}

int defs_list_autostart(char ***ret, struct qc_err *err)
{
        _cleanup_strv_free_ char **links = NULL;
        _cleanup_strv_ strv names = { 0 };

        if (list_dir(DEFS_AUTOSTART, true, &links, err) < 0)
                return -1;
        for (char **n = links; *n; n++) {
                int r = defs_exists(*n, err);

                if (r < 0)
                        return -1;
                if (r > 0 && strv_push(&names, *n) < 0)
                        return qc_err_sys(err, ENOMEM, "autostart");
        }
        if (!(*ret = strv_steal(&names)))
                return qc_err_sys(err, ENOMEM, "autostart");
        return 0;
}
