/* sd_notify(3)'s protocol (see sd-notify.h). */
#include "sd-notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "io.h"

bool sd_notify_wanted(void)
{
        const char *e = getenv("NOTIFY_SOCKET");

        return e && (e[0] == '/' || e[0] == '@');
}

int sd_notify_send(const char *text)
{
        const char *e = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        size_t n;
        socklen_t len;

        /* systemd 254 also speaks vsock:CID:PORT (a VM's manager); 252 only
         * unix sockets */
        if (!e || (e[0] != '/' && e[0] != '@'))
                return 0;
        if (e[0] == '@') {
                /* the abstract namespace: a NUL byte, then the name, whose
                 * length is exactly what is given (no terminator) */
                n = strlen(e);
                if (n < 2 || n > sizeof sa.sun_path)
                        return -EINVAL;
                memcpy(sa.sun_path + 1, e + 1, n - 1);
                len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
        } else {
                int r = unix_sockaddr(e, &sa);

                if (r < 0)
                        return r;
                len = sizeof sa;
        }
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (sendto(fd, text, strlen(text), MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
                return -errno;
        return 1;
}

int sd_notify_vsendf(const char *fmt, va_list ap)
{
        _cleanup_free_ char *text = NULL;

        if (vasprintf(&text, fmt, ap) < 0)
                return -ENOMEM;
        return sd_notify_send(text);
}

int sd_notify_sendf(const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = sd_notify_vsendf(fmt, ap);
        va_end(ap);
        return r;
}
