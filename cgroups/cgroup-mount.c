/* Finding the cgroup2 hierarchy and the controllers it offers. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cgroups-internal.h"
#include "common/cleanup.h"
#include "common/io.h"

static const char *const controller_names[_CG_CONTROLLER_MAX] = {
        [CG_CPUSET] = "cpuset", [CG_CPU] = "cpu",   [CG_IO] = "io",     [CG_MEMORY] = "memory",
        [CG_HUGETLB] = "hugetlb", [CG_PIDS] = "pids", [CG_RDMA] = "rdma", [CG_MISC] = "misc",
};

const char *cg_controller_to_string(enum cg_controller c)
{
        if (c < 0 || c >= _CG_CONTROLLER_MAX)
                return NULL;
        return controller_names[c];
}

enum cg_controller cg_controller_from_string(const char *s)
{
        if (!s)
                return _CG_CONTROLLER_INVALID;
        for (int i = 0; i < _CG_CONTROLLER_MAX; i++)
                if (strcmp(s, controller_names[i]) == 0)
                        return (enum cg_controller)i;
        return _CG_CONTROLLER_INVALID;
}

char *cg_mask_to_string(unsigned mask)
{
        char buf[128] = "";

        for (int i = 0; i < _CG_CONTROLLER_MAX; i++) {
                if (!(mask & CG_MASK(i)))
                        continue;
                if (buf[0])
                        strcat(buf, " ");
                strcat(buf, controller_names[i]);
        }
        return strdup(buf);
}

unsigned cg_mask_parse(const char *s)
{
        unsigned mask = 0;
        char word[32];
        size_t n = 0;

        for (const char *p = s;; p++) {
                if (*p && *p != ' ' && *p != '\n' && *p != '\t') {
                        if (n + 1 < sizeof word)
                                word[n++] = *p;
                        continue;
                }
                word[n] = '\0';
                if (n > 0) {
                        enum cg_controller c = cg_controller_from_string(word);
                        if (c != _CG_CONTROLLER_INVALID)
                                mask |= CG_MASK(c);
                }
                n = 0;
                if (!*p)
                        break;
        }
        return mask;
}

/* mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS".
 * The mount point escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
        char *w = s;

        for (char *r = s; *r; r++) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' &&
                    r[3] <= '7') {
                        *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
                        r += 3;
                } else
                        *w++ = *r;
        }
        *w = '\0';
}

int cg_find_mount(const char *mountinfo, char **ret_path, unsigned *ret_v1_mask, struct qc_err *err)
{
        _cleanup_free_ char *text = NULL, *found = NULL;
        unsigned v1 = 0;
        int r;

        if (!mountinfo)
                mountinfo = "/proc/self/mountinfo";
        r = read_file(mountinfo, 0, &text, NULL);
        if (r < 0)
                return qc_err_sys(err, -r, "read %s", mountinfo);
        for (char *line = text, *next; line && *line; line = next) {
                char *sep, *fields[6] = { 0 }, *fstype, *superopts, *save = NULL;
                int nf = 0;

                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                sep = strstr(line, " - ");
                if (!sep)
                        continue;
                *sep = '\0';
                for (char *tok = strtok_r(line, " ", &save); tok && nf < 6; tok = strtok_r(NULL, " ", &save))
                        fields[nf++] = tok;
                if (nf < 5)
                        continue;
                fstype = strtok_r(sep + 3, " ", &save);
                if (!fstype)
                        continue;
                (void)strtok_r(NULL, " ", &save); /* source */
                superopts = strtok_r(NULL, " ", &save);
                if (strcmp(fstype, "cgroup2") == 0) {
                        if (!found) {
                                found = strdup(fields[4]);
                                if (!found)
                                        return qc_err_set(err, ENOMEM, "out of memory");
                                unescape_octal(found);
                        }
                } else if (strcmp(fstype, "cgroup") == 0 && superopts) {
                        char *s2 = NULL;
                        for (char *o = strtok_r(superopts, ",", &s2); o; o = strtok_r(NULL, ",", &s2)) {
                                enum cg_controller c = cg_controller_from_string(o);
                                if (c != _CG_CONTROLLER_INVALID)
                                        v1 |= CG_MASK(c);
                        }
                }
        }
        if (!found)
                return qc_err_set(err, ENOENT,
                                  "no cgroup2 hierarchy is mounted (%s lists none); mount one with "
                                  "`mount -t cgroup2 none /sys/fs/cgroup/unified`",
                                  mountinfo);
        *ret_path = TAKE_PTR(found);
        if (ret_v1_mask)
                *ret_v1_mask = v1;
        return 0;
}

static int hier_open(const char *path, const struct cg_fs_ops *ops, unsigned v1, struct cg_hier **ret,
                     struct qc_err *err)
{
        _cleanup_free_ struct cg_hier *h = calloc(1, sizeof *h);
        _cleanup_close_ int fd = -1;
        struct statfs sfs;

        if (!h)
                return qc_err_set(err, ENOMEM, "out of memory");
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return qc_err_sys(err, errno, "open cgroup hierarchy %s", path);
        if (ops == &cg_kernel_ops) {
                if (fstatfs(fd, &sfs) < 0)
                        return qc_err_sys(err, errno, "statfs %s", path);
                if (sfs.f_type != CGROUP2_SUPER_MAGIC)
                        return qc_err_set(err, ENOTDIR, "%s is not a cgroup2 mount", path);
        }
        h->path = strdup(path);
        if (!h->path)
                return qc_err_set(err, ENOMEM, "out of memory");
        h->fd = TAKE_FD(fd);
        h->ops = ops;
        h->v1_mask = v1;
        *ret = TAKE_PTR(h);
        return 0;
}

int cg_hier_open(const char *path, struct cg_hier **ret, struct qc_err *err)
{
        _cleanup_free_ char *found = NULL;
        unsigned v1 = 0;

        /* v1 bindings are looked up even for a given path: the messages need them */
        if (cg_find_mount(NULL, &found, &v1, NULL) < 0)
                v1 = 0;
        if (!path) {
                if (!found)
                        return cg_find_mount(NULL, &found, &v1, err);
                path = found;
        }
        return hier_open(path, &cg_kernel_ops, v1, ret, err);
}

int cg_hier_open_sub(const char *rel, struct cg_hier **ret, struct qc_err *err)
{
        _cleanup_free_ char *mnt = NULL, *path = NULL;
        unsigned v1 = 0;

        while (rel && *rel == '/')
                rel++;
        if (!rel || !cg_path_is_valid(rel))
                return qc_err_set(err, EINVAL, "\"%s\" cannot be a cgroup path", rel ? rel : "");
        if (cg_find_mount(NULL, &mnt, &v1, err) < 0)
                return -1;
        if (!(path = path_join(mnt, rel)))
                return qc_err_set(err, ENOMEM, "out of memory");
        if (hier_open(path, &cg_kernel_ops, v1, ret, err) < 0)
                return -1;
        (*ret)->sub = true;
        return 0;
}

int cg_hier_open_ops(const char *path, const struct cg_fs_ops *ops, struct cg_hier **ret, struct qc_err *err)
{
        return hier_open(path, ops, 0, ret, err);
}

void cg_hier_free(struct cg_hier *h)
{
        if (!h)
                return;
        if (h->fd >= 0)
                close(h->fd);
        free(h->path);
        free(h);
}

const char *cg_hier_path(const struct cg_hier *h)
{
        return h->path;
}

bool cg_hier_is_sub(const struct cg_hier *h)
{
        return h->sub;
}

unsigned cg_hier_v1_mask(const struct cg_hier *h)
{
        return h->v1_mask;
}

int cg_hier_controllers(struct cg_hier *h, unsigned *ret_mask, struct qc_err *err)
{
        _cleanup_free_ char *s = NULL;
        int r = cg_read(h->fd, "cgroup.controllers", &s, err);

        if (r < 0)
                return qc_err_wrap(err, "cgroup hierarchy %s", h->path);
        *ret_mask = cg_mask_parse(s);
        return 0;
}

const char *cg_missing_reason(const struct cg_hier *h, enum cg_controller c, unsigned refused)
{
        if (refused & CG_MASK(c))
                return h->sub ? "it was delegated, but enabling it was refused (other processes live in the "
                                "cgroup qemuctl was started in)"
                              : "it is offered at the root, but enabling it below the root was refused";
        if (h->sub)
                return "the service manager did not delegate it to the cgroup qemuctl was started in";
        if (h->v1_mask & CG_MASK(c))
                return "it is bound to cgroup v1 — hybrid mode";
        return "the kernel does not offer it";
}

bool cg_path_is_valid(const char *rel)
{
        const char *p = rel;

        if (!rel || !*rel)
                return false;
        while (*p) {
                size_t n = strcspn(p, "/");

                if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                for (size_t i = 0; i < n; i++) {
                        char ch = p[i];
                        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                              strchr("._:@-", ch)))
                                return false;
                }
                p += n;
                if (*p == '/')
                        p++;
                if (*p == '\0' && p[-1] == '/')
                        return false;
        }
        return true;
}

int cg_proc_path(pid_t pid, char **ret_rel, struct qc_err *err)
{
        _cleanup_free_ char *text = NULL;
        char path[64];
        int r;

        if (pid)
                snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
        else
                snprintf(path, sizeof path, "/proc/self/cgroup");
        r = read_file(path, 65536, &text, NULL);
        if (r < 0)
                return qc_err_sys(err, -r, "read %s", path);
        r = cg_proc_cgroup_parse(text, ret_rel, err);
        if (r < 0)
                return -1;
        if (r == 0)
                return qc_err_set(err, ENOENT, "%s names no cgroup2 hierarchy (no \"0::\" line)", path);
        return 0;
}

int cg_proc_cgroup_parse(const char *text, char **ret_rel, struct qc_err *err)
{
        for (const char *line = text; line && *line;) {
                const char *next = strchr(line, '\n');
                size_t len = next ? (size_t)(next - line) : strlen(line);

                /* "0::/a/b (deleted)" would be a cgroup already removed */
                if (len >= 4 && strncmp(line, "0::/", 4) == 0) {
                        if (!(*ret_rel = strndup(line + 4, len - 4)))
                                return qc_err_set(err, ENOMEM, "out of memory");
                        return 1;
                }
                line = next ? next + 1 : NULL;
        }
        return 0;
}

bool cg_is_delegated(const char *abs_path)
{
        static const char *const names[] = { "trusted.delegate", "user.delegate" };
        char v[8];

        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                ssize_t n = getxattr(abs_path, names[i], v, sizeof v - 1);

                if (n > 0) {
                        v[n] = '\0';
                        if (strcmp(v, "1") == 0)
                                return true;
                }
        }
        return false;
}
