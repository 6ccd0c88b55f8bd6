/* The QMP relay (qmp/qmp-relay.c) against the scripted fake QMP server:
 * greeting and negotiation answered locally, ids rewritten and mapped back
 * per client, events to every client, clients that leave early. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/io.h"
#include "qmp/qmp-relay.h"
#include "qmp/qmp.h"
#include "tap.h"
#include "tests/lib/fakeqmp.h"

struct peer {
        int fd;
        char buf[65536];
        size_t len;
};

static void pump(struct qmp_relay *r, int ms)
{
        struct pollfd pfd[QMP_RELAY_MAX_CLIENTS + 1];
        size_t n = qmp_relay_pollfds(r, pfd, QMP_RELAY_MAX_CLIENTS + 1);

        if (poll(pfd, n, ms) > 0)
                qmp_relay_dispatch(r, pfd, n);
}

/* One line the relay sent to p (CRLF cut), running the relay meanwhile; NULL
 * after 5 s or at EOF. Static buffer: valid until the next call. */
static const char *line(struct qmp_relay *r, struct peer *p)
{
        static char out[65536];
        int64_t deadline = now_ms() + 5000;

        while (now_ms() < deadline) {
                char *nl = memchr(p->buf, '\n', p->len);
                ssize_t n;

                if (nl) {
                        size_t k = (size_t)(nl - p->buf);
                        memcpy(out, p->buf, k);
                        out[k && out[k - 1] == '\r' ? k - 1 : k] = '\0';
                        memmove(p->buf, nl + 1, p->len - k - 1);
                        p->len -= k + 1;
                        return out;
                }
                pump(r, 10);
                n = recv(p->fd, p->buf + p->len, sizeof p->buf - p->len - 1, MSG_DONTWAIT);
                if (n == 0)
                        return NULL;
                if (n > 0)
                        p->len += (size_t)n;
        }
        return NULL;
}

static bool at_eof(struct qmp_relay *r, struct peer *p)
{
        int64_t deadline = now_ms() + 5000;

        while (now_ms() < deadline) {
                char c;
                ssize_t n;

                pump(r, 10);
                n = recv(p->fd, &c, 1, MSG_DONTWAIT);
                if (n == 0)
                        return true;
                if (n > 0)
                        return false;
        }
        return false;
}

static void say(struct peer *p, const char *msg)
{
        write_all(p->fd, msg, strlen(msg));
        write_all(p->fd, "\n", 1);
}

static int join(struct qmp_relay *r, struct peer *p, struct qc_err *err)
{
        int sv[2];

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return -1;
        *p = (struct peer){ .fd = sv[0] };
        return qmp_relay_add_client(r, sv[1], err);
}

/* A client that sends far more than QEMU answers: the relay stops reading
 * it (its writes then block) instead of queuing without bound. */
static void backpressure(void)
{
        struct fakeqmp *f = fakeqmp_new();
        struct qmp_relay *r = NULL;
        struct qc_err err = { 0 };
        struct peer p;
        char path[64];
        size_t big = 512u << 10, sent = 0, stall = 0, limit = 3 * QMP_RELAY_MAX_QUEUED;
        char *cmd = malloc(big + 64), *log = NULL;
        size_t len;

        snprintf(path, sizeof path, "/tmp/test-qmp-relay-bp-%d.sock", (int)getpid());
        fakeqmp_greet(f);
        fakeqmp_wait_eof(f); /* reads all, answers nothing */
        if (!cmd || fakeqmp_listen(f, path) < 0)
                tap_skip_all("fake QMP server cannot listen on %s", path);
        len = (size_t)snprintf(cmd, 64, "{\"execute\": \"x\", \"arguments\": {\"s\": \"");
        memset(cmd + len, 'a', big);
        len += big;
        len += (size_t)sprintf(cmd + len, "\"}}\n");
        is_int(qmp_relay_new(path, 2000, &r, &err), 0, "second relay made");
        is_int(join(r, &p, &err), 0, "a client that floods");
        line(r, &p);
        say(&p, "{\"execute\": \"qmp_capabilities\"}");
        line(r, &p);
        /* write until the relay has taken nothing for 100 rounds */
        for (size_t off = 0; sent < limit && stall < 100;) {
                ssize_t n = send(p.fd, cmd + off, len - off, MSG_DONTWAIT);

                if (n > 0) {
                        sent += (size_t)n;
                        off = (off + (size_t)n) % len;
                        stall = 0;
                } else {
                        stall++;
                }
                pump(r, 1);
        }
        ok(sent < limit, "the relay stops reading a client past its bound (%zu bytes taken)", sent);
        close(p.fd);
        pump(r, 10);
        qmp_relay_free(r);
        if (!ok(fakeqmp_finish(f, &log) == 0, "the flood's fake QEMU saw its script"))
                tap_diag("%s", log ? log : "?");
        free(log);
        free(cmd);
        fakeqmp_free(f);
        unlink(path);
}

/* QEMU's side breaks (EOF, then a reply line too long): each client gets
 * an error answering its command, or one without id, and is closed; the
 * next client connects anew. */
static void upstream_lost(void)
{
        struct fakeqmp *f = fakeqmp_new(), *g = fakeqmp_new();
        struct qmp_relay *r = NULL;
        struct qc_err err = { 0 };
        struct peer p, idle, e;
        char path[64], *log = NULL;
        size_t big = QMP_MAX_LINE + 2;
        char *flood = malloc(big);

        snprintf(path, sizeof path, "/tmp/test-qmp-relay-lost-%d.sock", (int)getpid());
        fakeqmp_greet(f);
        fakeqmp_expect(f, "{\"execute\": \"query-x\"}");
        fakeqmp_close(f);
        if (!flood || fakeqmp_listen(f, path) < 0)
                tap_skip_all("fake QMP server cannot listen on %s", path);
        is_int(qmp_relay_new(path, 2000, &r, &err), 0, "third relay made");
        is_int(join(r, &p, &err), 0, "a client");
        line(r, &p);
        is_int(join(r, &idle, &err), 0, "an idle client");
        line(r, &idle);
        say(&p, "{\"execute\": \"qmp_capabilities\"}");
        line(r, &p);
        say(&p, "{\"execute\": \"query-x\", \"id\": \"l\"}");
        is_str(line(r, &p),
               "{\"error\":{\"class\":\"GenericError\",\"desc\":\"lost the connection to QEMU's monitor: QEMU "
               "closed it\"},\"id\":\"l\"}",
               "QEMU closes: the command still out gets an error");
        ok(at_eof(r, &p), "and the client is closed");
        ok(strstr(line(r, &idle) ?: "", "lost the connection"), "the idle client is told too, without id");
        ok(at_eof(r, &idle), "and closed");
        if (!ok(fakeqmp_finish(f, &log) == 0, "the first fake QEMU saw its script"))
                tap_diag("%s", log ? log : "?");
        free(log);
        log = NULL;
        close(p.fd);
        close(idle.fd);
        unlink(path);

        memset(flood, 'a', big);
        fakeqmp_greet(g);
        fakeqmp_expect(g, "{\"execute\": \"query-y\"}");
        fakeqmp_send_raw(g, flood, big);
        if (fakeqmp_listen(g, path) < 0)
                tap_skip_all("fake QMP server cannot listen on %s", path);
        is_int(join(r, &e, &err), 0, "the next client connects to QEMU anew (%s)", err.msg);
        ok(strstr(line(r, &e) ?: "", "\"QMP\""), "greeted");
        say(&e, "{\"execute\": \"qmp_capabilities\"}");
        line(r, &e);
        say(&e, "{\"execute\": \"query-y\", \"id\": 2}");
        {
                const char *l = line(r, &e) ?: "";

                ok(strstr(l, "lost the connection to QEMU's monitor: message from") && strstr(l, "\"id\":2"),
                   "a reply line too long: the command gets an error (%s)", l);
        }
        ok(at_eof(r, &e), "and the client is closed");
        close(e.fd);
        qmp_relay_free(r);
        fakeqmp_finish(g, NULL); /* its write may fail: the relay left */
        fakeqmp_free(g);
        fakeqmp_free(f);
        free(flood);
        unlink(path);
}

/* The first client does not wait for QEMU's greeting inside
 * qmp_relay_add_client (the supervisor's poll loop goes on meanwhile), and
 * a QEMU that never greets is given up on. */
static void slow_greeting(void)
{
        struct fakeqmp *f = fakeqmp_new(), *g = fakeqmp_new();
        struct qmp_relay *r = NULL;
        struct qc_err err = { 0 };
        struct peer p, q;
        char path[64], c, *log = NULL;

        snprintf(path, sizeof path, "/tmp/test-qmp-relay-slow-%d.sock", (int)getpid());
        fakeqmp_sleep(f, 300);
        fakeqmp_greet(f);
        fakeqmp_expect(f, "{\"execute\": \"query-z\"}");
        fakeqmp_reply(f, "{}");
        fakeqmp_wait_eof(f);
        if (fakeqmp_listen(f, path) < 0)
                tap_skip_all("fake QMP server cannot listen on %s", path);
        is_int(qmp_relay_new(path, 5000, &r, &err), 0, "fourth relay made");
        is_int(join(r, &p, &err), 0, "a client while QEMU is slow to greet (%s)", err.msg);
        ok(recv(p.fd, &c, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN,
           "qmp_relay_add_client returned before QEMU's greeting came");
        say(&p, "{\"execute\": \"qmp_capabilities\"}");
        ok(strstr(line(r, &p) ?: "", "\"QMP\""), "the greeting comes through the poll loop");
        is_str(line(r, &p), "{\"return\":{}}", "what the client sent early is answered after it");
        say(&p, "{\"execute\": \"query-z\", \"id\": 3}");
        is_str(line(r, &p), "{\"return\":{},\"id\":3}", "and commands go through");
        close(p.fd);
        qmp_relay_free(r);
        if (!ok(fakeqmp_finish(f, &log) == 0, "the slow fake QEMU saw its script"))
                tap_diag("%s", log ? log : "?");
        free(log);
        unlink(path);

        fakeqmp_sleep(g, 1000);
        fakeqmp_wait_eof(g);
        if (fakeqmp_listen(g, path) < 0)
                tap_skip_all("fake QMP server cannot listen on %s", path);
        is_int(qmp_relay_new(path, 100, &r, &err), 0, "fifth relay made");
        is_int(join(r, &q, &err), 0, "a client while QEMU does not greet");
        ok(strstr(line(r, &q) ?: "", "QEMU's monitor did not greet within 100 ms"), "it is told why");
        ok(at_eof(r, &q), "and closed");
        close(q.fd);
        qmp_relay_free(r);
        fakeqmp_finish(g, NULL);
        fakeqmp_free(g);
        fakeqmp_free(f);
        unlink(path);
}

int main(void)
{
        struct fakeqmp *f = fakeqmp_new();
        struct qmp_relay *r = NULL;
        struct qc_err err = { 0 };
        struct peer a, b, c;
        char path[64];
        char *log = NULL;

        signal(SIGPIPE, SIG_IGN);
        snprintf(path, sizeof path, "/tmp/test-qmp-relay-%d.sock", (int)getpid());
        fakeqmp_greet(f);
        /* a and b, each with id "x": QEMU sees the relay's own ids */
        fakeqmp_expect(f, "{\"execute\": \"query-status\"}");
        fakeqmp_reply(f, "{\"status\": \"running\", \"running\": true}");
        fakeqmp_expect(f, "{\"execute\": \"query-name\"}");
        fakeqmp_reply(f, "{\"name\": \"vm1\"}");
        fakeqmp_send(f, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"STOP\"}");
        /* c sends no id */
        fakeqmp_expect(f, "{\"execute\": \"cont\"}");
        fakeqmp_reply(f, "{}");
        /* QEMU answers a line it cannot parse without id */
        fakeqmp_expect(f, "{\"execute\": \"query-bad\"}");
        fakeqmp_send(f, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, stray 'x'\"}}");
        /* a leaves before its answer */
        fakeqmp_expect(f, "{\"execute\": \"query-version\"}");
        fakeqmp_sleep(f, 100);
        fakeqmp_reply(f, "{}");
        /* b sends, then ends its side at once (echo ... | socat) */
        fakeqmp_expect(f, "{\"execute\": \"query-kvm\"}");
        fakeqmp_sleep(f, 100);
        fakeqmp_reply(f, "{\"enabled\": false, \"present\": true}");
        fakeqmp_wait_eof(f);
        if (fakeqmp_listen(f, path) < 0)
                tap_skip_all("fake QMP server cannot listen on %s", path);

        is_int(qmp_relay_new(path, 2000, &r, &err), 0, "relay made");
        is_int(qmp_relay_clients(r), 0, "no clients yet");
        is_int(join(r, &a, &err), 0, "first client: the relay connects to QEMU (%s)", err.msg);
        is_str(line(r, &a),
               "{\"QMP\":{\"version\":{\"qemu\":{\"micro\":22,\"minor\":2,\"major\":7},\"package\":"
               "\"Debian 1:7.2+dfsg-7+deb12u18\"},\"capabilities\":[]}}",
               "greeted with QEMU's version, no oob");
        say(&a, "{\"execute\": \"query-status\", \"id\": \"x\"}");
        is_str(line(r, &a),
               "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"Expecting capabilities negotiation with "
               "'qmp_capabilities'\"},\"id\":\"x\"}",
               "a command before qmp_capabilities is refused, as QEMU does");
        say(&a, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [null]}}");
        is_str(line(r, &a),
               "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Invalid parameter type for 'enable[0]', "
               "expected: string\"}}",
               "enable: [null] is refused by type");
        say(&a, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}}");
        is_str(line(r, &a), "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Capability 'oob' not available\"}}",
               "oob is not offered");
        say(&a, "{\"execute\": \"qmp_capabilities\", \"id\": 1}");
        is_str(line(r, &a), "{\"return\":{},\"id\":1}", "qmp_capabilities answered by the relay");
        say(&a, "{\"execute\": \"qmp_capabilities\"}");
        ok(strstr(line(r, &a) ?: "", "already complete"), "a second qmp_capabilities is refused");

        is_int(join(r, &b, &err), 0, "second client");
        ok(strstr(line(r, &b) ?: "", "\"QMP\""), "greeted too");
        say(&b, "{\"execute\": \"qmp_capabilities\"}");
        is_str(line(r, &b), "{\"return\":{}}", "negotiated, no id given, none in the answer");
        is_int(qmp_relay_clients(r), 2, "two clients");

        say(&a, "{\"execute\": \"query-status\", \"id\": \"x\"}");
        pump(r, 10);
        say(&b, "{\"execute\": \"query-name\", \"id\": \"x\"}");
        is_str(line(r, &a), "{\"return\":{\"status\":\"running\",\"running\":true},\"id\":\"x\"}",
               "a gets its own answer under its own id");
        is_str(line(r, &b), "{\"return\":{\"name\":\"vm1\"},\"id\":\"x\"}", "b gets its own under the same id");
        ok(strstr(line(r, &a) ?: "", "\"event\":\"STOP\""), "a sees the event");
        ok(strstr(line(r, &b) ?: "", "\"event\":\"STOP\""), "b sees the event");

        is_int(join(r, &c, &err), 0, "third client");
        line(r, &c);
        say(&c, "{\"execute\": \"qmp_capabilities\"}");
        line(r, &c);
        say(&c, "{\"execute\": \"cont\"}");
        is_str(line(r, &c), "{\"return\":{}}", "a command without id: the answer has none");
        say(&c, "{\"execute\": \"query-bad\", \"id\": \"q\"}");
        is_str(line(r, &c),
               "{\"error\":{\"class\":\"GenericError\",\"desc\":\"JSON parse error, stray 'x'\"},\"id\":\"q\"}",
               "QEMU's id-less error answers the oldest command, under its client's id");
        say(&c, "{\"execute\": \"x\", \"id\": 5, \"arguments\": {\"n\": 99999999999999999999}}");
        is_str(line(r, &c),
               "{\"error\":{\"class\":\"GenericError\",\"desc\":\"JSON parse error: integer out of range\"},"
               "\"id\":5}",
               "an integer json-c would clamp is refused, not changed");
        say(&c, "{\"execute\": \"x\", \"arguments\": {\"n\": -99999999999999999999}}");
        ok(strstr(line(r, &c) ?: "", "integer out of range"), "negative too");
        say(&c, "{\"execute\": \"x\", \"arguments\": {\"n\": NaN, \"s\": \"NaN 1e999 /\"}}");
        ok(strstr(line(r, &c) ?: "", "NaN and Infinity"), "NaN is refused");
        say(&c, "{\"execute\": \"x\", \"arguments\": {\"n\": -Infinity}}");
        ok(strstr(line(r, &c) ?: "", "NaN and Infinity"), "-Infinity is refused");
        say(&c, "{\"execute\": \"x\", \"arguments\": {\"n\": 1e999}}");
        ok(strstr(line(r, &c) ?: "", "number out of range"), "a double out of range is refused");
        say(&c, "{\"execute\": \"x\" /* hi */}");
        ok(strstr(line(r, &c) ?: "", "JSON parse error"), "a comment is refused");
        say(&c, "this is not JSON");
        ok(strstr(line(r, &c) ?: "", "\"class\":\"GenericError\",\"desc\":\"JSON parse error"),
           "garbage gets a parse error");
        close(c.fd);
        pump(r, 10);

        say(&a, "{\"execute\": \"query-version\", \"id\": 7}");
        pump(r, 20);
        close(a.fd);
        pump(r, 20);
        is_int(qmp_relay_clients(r), 1, "a left while its command ran");
        say(&b, "{\"execute\": \"query-kvm\", \"id\": 8}");
        shutdown(b.fd, SHUT_WR);
        is_str(line(r, &b), "{\"return\":{\"enabled\":false,\"present\":true},\"id\":8}",
               "b, its side ended, still gets its answer (a's late one went nowhere)");
        ok(at_eof(r, &b), "and then the relay closes b");
        is_int(qmp_relay_clients(r), 0, "no clients left");
        close(b.fd);
        qmp_relay_free(r);
        if (!ok(fakeqmp_finish(f, &log) == 0, "QEMU saw exactly the scripted commands"))
                tap_diag("%s", log ? log : "?");
        free(log);
        fakeqmp_free(f);
        unlink(path);
        backpressure();
        upstream_lost();
        slow_greeting();
        return tap_done();
}
