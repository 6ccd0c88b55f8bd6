/* libFuzzer: the QMP relay's handling of what a client sends (qmp/qmp-relay.c).
 * The input is the bytes one client sends, then it ends its side; a fake QEMU
 * answers each forwarded command, in turn with a reply under the relay's id
 * and with an error without id (as QEMU answers a line it cannot parse).
 * Whatever the client sends, the relay answers or closes it and frees all
 * (ASan: no leak, no bad access; the run ends when the client is gone). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "qmp/qmp-relay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 2, \"minor\": 2, \"major\": 7}}, \"capabilities\": []}}\r\n"

static int listener = -1;
static char path[64];

static void pump(struct qmp_relay *r)
{
        struct pollfd pfd[QMP_RELAY_MAX_CLIENTS + 1];
        size_t n = qmp_relay_pollfds(r, pfd, QMP_RELAY_MAX_CLIENTS + 1);

        if (poll(pfd, n, 0) > 0)
                qmp_relay_dispatch(r, pfd, n);
}

/* The fake QEMU: answer every complete line read from fd. */
static void qemu_answer(int fd, char *buf, size_t *len, size_t cap, unsigned *turn)
{
        ssize_t n = recv(fd, buf + *len, cap - *len, MSG_DONTWAIT);
        char *nl;

        if (n > 0)
                *len += (size_t)n;
        while ((nl = memchr(buf, '\n', *len))) {
                json_object *o, *id = NULL;
                char out[96];

                *nl = '\0';
                o = json_tokener_parse(buf);
                if (o && json_object_object_get_ex(o, "id", &id) && (*turn)++ % 2 == 0)
                        snprintf(out, sizeof out, "{\"return\": {}, \"id\": %lld}\r\n",
                                 (long long)json_object_get_int64(id));
                else
                        snprintf(out, sizeof out, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"x\"}}\r\n");
                (void)!send(fd, out, strlen(out), MSG_NOSIGNAL);
                json_object_put(o);
                *len -= (size_t)(nl + 1 - buf);
                memmove(buf, nl + 1, *len);
        }
        if (*len == cap)
                *len = 0; /* a line longer than QEMU's buffer here: forget it */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static char qbuf[1 << 16];
        struct qmp_relay *r = NULL;
        struct qc_err err;
        int sv[2], qfd;
        size_t qlen = 0, off = 0;
        unsigned turn = 0;
        char sink[4096];

        if (listener < 0) {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };

                signal(SIGPIPE, SIG_IGN);
                snprintf(path, sizeof path, "/tmp/fuzz-qmp-relay-%d.sock", (int)getpid());
                snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
                unlink(path);
                listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (listener < 0 || bind(listener, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(listener, 4) < 0)
                        abort();
        }
        if (qmp_relay_new(path, 10000, &r, &err) < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                abort();
        if (qmp_relay_add_client(r, sv[1], &err) < 0 || (qfd = accept4(listener, NULL, NULL, SOCK_CLOEXEC)) < 0)
                abort();
        (void)!send(qfd, GREETING "{\"return\": {}}\r\n", strlen(GREETING "{\"return\": {}}\r\n"), MSG_NOSIGNAL);
        /* the client negotiates, then sends the input and ends its side */
        (void)!send(sv[0], "{\"execute\":\"qmp_capabilities\"}\n", 31, MSG_NOSIGNAL);
        for (int round = 0; round < 100000 && qmp_relay_clients(r) > 0; round++) {
                if (off < size) {
                        ssize_t n = send(sv[0], data + off, size - off, MSG_DONTWAIT | MSG_NOSIGNAL);

                        if (n > 0)
                                off += (size_t)n;
                        if (off == size || (n < 0 && errno != EAGAIN))
                                off = size, shutdown(sv[0], SHUT_WR);
                } else if (off == size && size == 0) {
                        shutdown(sv[0], SHUT_WR);
                        off = 1;
                }
                pump(r);
                qemu_answer(qfd, qbuf, &qlen, sizeof qbuf, &turn);
                while (recv(sv[0], sink, sizeof sink, MSG_DONTWAIT) > 0)
                        ;
        }
        qmp_relay_free(r);
        close(sv[0]);
        close(qfd);
        return 0;
}
