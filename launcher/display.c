/* VNC's password from a file, through QMP (display.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../qmp/qmp.h"
#include "display.h"

static void wipe_tmp(char (*p)[256])
{
        explicit_bzero(*p, sizeof *p);
}

int display_read_password(const char *file, char *buf, struct qc_err *err)
{
        _cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        /* wiped however this returns: a refused line may be most of a password */
        _cleanup_(wipe_tmp) char tmp[256];
        const char *nl;
        struct stat st;
        ssize_t n;
        size_t len;

        if (fd < 0)
                return qc_err_sys(err, errno, "password file %s", file);
        if (fstat(fd, &st) < 0)
                return qc_err_sys(err, errno, "password file %s", file);
        if (!S_ISREG(st.st_mode))
                return qc_err_set(err, EINVAL, "password file %s is not a regular file", file);
        n = read(fd, tmp, sizeof tmp - 1);
        if (n < 0)
                return qc_err_sys(err, errno, "password file %s", file);
        nl = memchr(tmp, '\n', (size_t)n);
        len = nl ? (size_t)(nl - tmp) : (size_t)n;
        if (len > 0 && tmp[len - 1] == '\r')
                len--;
        if (memchr(tmp, '\0', len))
                return qc_err_set(err, EINVAL, "password file %s: a NUL byte in its first line", file);
        if (len == 0)
                return qc_err_set(err, EINVAL, "password file %s: its first line is empty; write the password there",
                                  file);
        if (len > VNC_PASSWORD_MAX)
                return qc_err_set(err, EINVAL,
                                  "password file %s: the password has %zu characters; VNC's authentication uses at "
                                  "most %d (the rest would be ignored, so it is refused)",
                                  file, len, VNC_PASSWORD_MAX);
        memcpy(buf, tmp, len);
        buf[len] = '\0';
        return 0;
}

int display_set_password(struct qmp *q, const struct vm_spec *spec, struct qc_err *err)
{
        char pw[VNC_PASSWORD_MAX + 1], when[32];
        int r;

        if (!spec->vnc || !spec->vnc_password_file)
                return 0;
        if (display_read_password(spec->vnc_password_file, pw, err) < 0)
                return qc_err_wrap(err, "display.password_file");
        r = qmp_set_password(q, "vnc", pw, err);
        explicit_bzero(pw, sizeof pw);
        if (r < 0)
                return qc_err_wrap(err, "VNC password");
        if (spec->vnc_password_valid_for)
                snprintf(when, sizeof when, "+%" PRIu64, spec->vnc_password_valid_for);
        else
                snprintf(when, sizeof when, "never");
        if (qmp_expire_password(q, "vnc", when, err) < 0)
                return qc_err_wrap(err, "VNC password expiry");
        return 0;
}
