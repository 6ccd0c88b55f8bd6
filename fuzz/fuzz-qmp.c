/* libFuzzer target for what a QMP peer can send us: the framing parser
 * (qmp-stream) fed in chunks chosen by the input, then the whole transport
 * (greeting, capabilities, a command, events) reading the input from a
 * socket. Anything but a clean error is a bug. */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qmp/qmp-stream.h"
#include "qmp/qmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_stream(const uint8_t *data, size_t size)
{
        struct qmp_stream s;
        struct qc_err err;
        size_t chunk, off = 0;

        if (size < 1)
                return;
        chunk = (size_t)data[0] % 17 + 1;
        data++, size--;
        if (qmp_stream_init(&s, 512) < 0)
                return;
        while (off < size) {
                size_t n = size - off < chunk ? size - off : chunk;
                json_object *o;
                int r;

                if (qmp_stream_push(&s, data + off, n, &err) < 0)
                        break;
                off += n;
                while ((r = qmp_stream_pop(&s, &o, &err)) != 0)
                        if (r == 1)
                                json_object_put(o);
        }
        qmp_stream_done(&s);
}

static bool any_event(json_object *ev, void *userdata)
{
        return json_object_get_type(ev) == json_type_object;
}

static void fuzz_transport(const uint8_t *data, size_t size)
{
        struct qc_err err;
        struct qmp *q = NULL;
        json_object *ev = NULL;
        int sv[2];

        /* everything must fit in the socket buffer before the client reads */
        if (size > 65536 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return;
        if (write(sv[1], data, size) != (ssize_t)size) {
                close(sv[0]);
                close(sv[1]);
                return;
        }
        shutdown(sv[1], SHUT_WR);
        if (qmp_open_fd(sv[0], 0, &q, &err) == 0) {
                char *st = NULL;

                qmp_set_timeout(q, 0);
                if (qmp_query_status(q, &st, NULL, &err) == 0)
                        free(st);
                if (qmp_wait_event(q, NULL, any_event, NULL, 0, &ev, &err) == 0)
                        json_object_put(ev);
                while ((ev = qmp_next_event(q)))
                        json_object_put(ev);
                qmp_free(q);
        }
        close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static bool init;

        if (!init) {
                signal(SIGPIPE, SIG_IGN);
                init = true;
        }
        fuzz_stream(data, size);
        fuzz_transport(data, size);
        return 0;
}
