/* common/sd-notify: the datagrams a service manager gets on $NOTIFY_SOCKET,
 * a path or an abstract name ("@..."), received here on a socket of our own
 * as systemd would. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/sd-notify.h"
#include "tests/tap.h"

/* bind a datagram socket at name (a path, or "@abstract") */
static int listen_at(const char *name)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t n = strlen(name);
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        memcpy(sa.sun_path, name, n);
        if (name[0] == '@')
                sa.sun_path[0] = '\0';
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa,
                           (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '/'))) < 0) {
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        return fd;
}

static void check(const char *name, const char *what)
{
        char buf[256];
        ssize_t n;
        int fd = listen_at(name);

        if (fd < 0) {
                ok(0, "%s: bind %s: %s", what, name, strerror(errno));
                return;
        }
        setenv("NOTIFY_SOCKET", name, 1);
        ok(sd_notify_wanted(), "%s: wanted", what);
        is_int(sd_notify_send("READY=1\nSTATUS=VM vm1 running"), 1, "%s: sent", what);
        n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
        buf[n > 0 ? n : 0] = '\0';
        is_str(buf, "READY=1\nSTATUS=VM vm1 running", "%s: one datagram, as sent", what);
        is_int(sd_notify_sendf("MAINPID=%d", 42), 1, "%s: sendf", what);
        n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
        buf[n > 0 ? n : 0] = '\0';
        is_str(buf, "MAINPID=42", "%s: formatted", what);
        close(fd);
}

int main(void)
{
        char path[108], abs_name[64];

        snprintf(path, sizeof path, "/tmp/qemuctl-test-notify-%d.sock", (int)getpid());
        unlink(path);
        check(path, "a path");
        unlink(path);
        snprintf(abs_name, sizeof abs_name, "@qemuctl-test-notify/%d", (int)getpid());
        check(abs_name, "an abstract name");

        unsetenv("NOTIFY_SOCKET");
        ok(!sd_notify_wanted(), "no NOTIFY_SOCKET: not wanted");
        is_int(sd_notify_send("READY=1"), 0, "no NOTIFY_SOCKET: nothing sent, no error");
        setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
        is_int(sd_notify_send("READY=1"), 0, "a vsock address (systemd 254) is not ours to speak: 0");
        setenv("NOTIFY_SOCKET", "/tmp/qemuctl-test-notify-nobody-listens", 1);
        ok(sd_notify_send("READY=1") < 0, "nobody listening: -errno, not a crash");
        return tap_done();
}
