/* launcher/supervisor-agent.c: the supervisor's relay of agent.sock onto
 * QEMU's qga.sock, against a fake QEMU chardev (a listening socket at
 * RUNDIR/qga.sock) and plain socket clients. One client at a time, the next
 * waits; bytes pass whole both ways (1 MiB through 64 KiB buffers); what
 * the agent says while no client is attached is dropped; a client that
 * leaves mid-reply leaves nothing for the next; QEMU closing the port ends
 * the client's connection. Real qemu-ga behind it: tests/integration/agent.sh. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/io.h"
#include "launcher/paths.h"
#include "launcher/supervisor-agent.h"
#include "launcher/supervisor-files.h"
#include "tests/tap.h"

static struct sup_agent *A;

/* One round of the supervisor's loop for the relay (wait at most ms). */
static void pump(int ms)
{
        struct pollfd pfd[SUP_AGENT_MAX_POLL];
        size_t n = sup_agent_pollfds(A, pfd, SUP_AGENT_MAX_POLL);

        if (poll(pfd, n, ms) > 0)
                sup_agent_dispatch(A, pfd, n);
}

/* Pump until fd has want bytes to read into buf (or 2000 rounds without). */
static size_t pump_read(int fd, char *buf, size_t want)
{
        size_t got = 0;

        for (int i = 0; i < 2000 && got < want; i++) {
                ssize_t r;

                pump(5);
                r = recv(fd, buf + got, want - got, MSG_DONTWAIT);
                if (r == 0)
                        break;
                if (r > 0)
                        got += (size_t)r;
        }
        return got;
}

/* Pump a while; whatever fd has then (0 when nothing; -1 at EOF). */
static ssize_t pump_then_read(int fd, char *buf, size_t len)
{
        ssize_t r;

        for (int i = 0; i < 20; i++)
                pump(5);
        r = recv(fd, buf, len, MSG_DONTWAIT);
        if (r < 0)
                return errno == EAGAIN ? 0 : -2;
        return r == 0 ? -1 : r;
}

static int client(const char *rundir)
{
        _cleanup_free_ char *p = path_join(rundir, VM_RUNDIR_AGENT_RELAY);
        int fd = unix_connect(p, 0);

        if (fd < 0)
                abort();
        return fd;
}

int main(void)
{
        char tmpl[] = "/tmp/qemuctl-test-agent.XXXXXX", buf[256];
        const char *rundir = mkdtemp(tmpl);
        _cleanup_free_ char *qga = NULL;
        struct qc_err err = { 0 };
        int lfd, qemu, c1, c2, c3;

        if (!rundir || !(qga = path_join(rundir, VM_RUNDIR_AGENT)))
                tap_skip_all("no temp dir");
        /* QEMU's chardev: server=on, one connection at a time */
        lfd = sup_listen(qga, &err);
        if (!ok(lfd >= 0, "the fake chardev listens (%s)", err.msg))
                return tap_done();
        {
                char longp[256];
                struct qc_err e2 = { 0 };

                snprintf(longp, sizeof longp, "%s/%0150d/ctl.sock", rundir, 0);
                is_int(sup_listen(longp, &e2), -1, "a socket path past sun_path is refused");
                ok(e2.code == ENAMETOOLONG && strstr(e2.msg, "unix socket address holds (107)") &&
                           strstr(e2.msg, "QEMUCTL_RUNDIR"),
                   "ENAMETOOLONG, with the limit and what to change: %s", e2.msg);
        }
        if (!ok(sup_agent_open(rundir, &A, &err) == 0, "the relay connects to qga.sock and listens (%s)", err.msg))
                return tap_done();
        qemu = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        ok(qemu >= 0, "QEMU's side has the relay's connection");

        /* one client: both ways */
        c1 = client(rundir);
        ok(send(c1, "\xff{\"execute\":\"guest-ping\"}\n", 27, 0) == 27, "client 1 sends");
        is_int(pump_read(qemu, buf, 27), 27, "the agent gets the client's bytes");
        ok(memcmp(buf, "\xff{\"execute\":\"guest-ping\"}\n", 27) == 0, "byte for byte (0xFF included)");
        ok(send(qemu, "{\"return\": {}}\n", 15, 0) == 15, "the agent answers");
        is_int(pump_read(c1, buf, 15), 15, "the client gets the answer");

        /* a second client waits until the first leaves */
        c2 = client(rundir);
        ok(send(c2, "second\n", 7, 0) == 7, "client 2 sends while client 1 is attached");
        is_int(pump_then_read(qemu, buf, sizeof buf), 0, "the agent hears nothing from client 2 yet");
        close(c1);
        is_int(pump_read(qemu, buf, 7), 7, "once client 1 left, client 2's bytes reach the agent");
        ok(memcmp(buf, "second\n", 7) == 0, "whole");

        /* a client that leaves mid-reply: the rest is nobody's */
        ok(send(qemu, "{\"return\": 1, \"part", 19, 0) == 19, "the agent starts a reply");
        is_int(pump_read(c2, buf, 19), 19, "client 2 gets the start");
        close(c2);
        for (int i = 0; i < 20; i++)
                pump(5);
        ok(send(qemu, "\": 2}\n", 6, 0) == 6, "the agent ends it after client 2 left");
        for (int i = 0; i < 20; i++)
                pump(5);
        c3 = client(rundir);
        ok(send(qemu, "fresh\n", 6, 0) == 6, "the agent answers the next client");
        is_int(pump_read(c3, buf, 6), 6, "client 3 gets 6 bytes");
        ok(memcmp(buf, "fresh\n", 6) == 0, "only its own: what came while nobody was attached is dropped");

        /* 1 MiB each way through the 64 KiB buffers */
        {
                size_t big = 1 << 20, sent = 0, got = 0;
                char *out = malloc(big), *in = malloc(big);

                for (size_t i = 0; i < big; i++)
                        out[i] = (char)(i * 7 + (i >> 9));
                fcntl(c3, F_SETFL, O_NONBLOCK);
                for (int i = 0; i < 20000 && got < big; i++) {
                        ssize_t r;
                        if (sent < big && (r = send(c3, out + sent, big - sent, MSG_DONTWAIT)) > 0)
                                sent += (size_t)r;
                        pump(1);
                        if ((r = recv(qemu, in + got, big - got, MSG_DONTWAIT)) > 0)
                                got += (size_t)r;
                }
                ok(got == big && memcmp(in, out, big) == 0, "1 MiB from the client reaches the agent intact");
                sent = got = 0;
                fcntl(qemu, F_SETFL, O_NONBLOCK);
                for (int i = 0; i < 20000 && got < big; i++) {
                        ssize_t r;
                        if (sent < big && (r = send(qemu, out + sent, big - sent, MSG_DONTWAIT)) > 0)
                                sent += (size_t)r;
                        pump(1);
                        if ((r = recv(c3, in + got, big - got, MSG_DONTWAIT)) > 0)
                                got += (size_t)r;
                }
                ok(got == big && memcmp(in, out, big) == 0, "1 MiB from the agent reaches the client intact");
                free(out);
                free(in);
        }

        /* QEMU closes the port (it exits): the client sees EOF */
        close(qemu);
        is_int(pump_then_read(c3, buf, sizeof buf), -1, "QEMU gone: the client's connection ends");
        close(c3);
        sup_agent_close(A);
        close(lfd);
        unlink(qga);
        {
                _cleanup_free_ char *p = path_join(rundir, VM_RUNDIR_AGENT_RELAY);
                unlink(p);
        }
        rmdir(rundir);
        return tap_done();
}
