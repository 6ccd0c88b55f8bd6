/* qmp/ transport and framing against a scripted fake QMP server. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/io.h"
#include "qmp/qmp-stream.h"
#include "qmp/qmp.h"
#include "tests/lib/fakeqmp-tap.h"
#include "tests/tap.h"

static struct qmp *open_fake(struct fakeqmp *f, int timeout_ms, struct qc_err *err)
{
        struct qmp *q = NULL;
        int fd;

        if (fakeqmp_start(f, &fd) < 0)
                abort();
        if (qmp_open_fd(fd, timeout_ms, &q, err) < 0)
                return NULL;
        return q;
}

/* ---- framing, no socket ---- */

static void test_stream_split(void)
{
        static const char wire[] = "{\"event\": \"STOP\", \"data\": {}}\r\n\r\n{\"return\": {\"a\": [1, 2]}, \"id\": 3}\r\n";
        size_t n = sizeof wire - 1;
        int good = 0;

        for (size_t k = 0; k <= n; k++) {
                struct qmp_stream s;
                struct qc_err err = { 0 };
                json_object *o;
                int got = 0, r;

                qmp_stream_init(&s, 1024);
                if (qmp_stream_push(&s, wire, k, &err) < 0)
                        break;
                while ((r = qmp_stream_pop(&s, &o, &err)) == 1) {
                        got++;
                        json_object_put(o);
                }
                if (r == 0 && qmp_stream_push(&s, wire + k, n - k, &err) == 0)
                        while ((r = qmp_stream_pop(&s, &o, &err)) == 1) {
                                got++;
                                json_object_put(o);
                        }
                if (r == 0 && got == 2 && qmp_stream_pending(&s) == 0)
                        good++;
                qmp_stream_done(&s);
        }
        is_int(good, n + 1, "two messages come out whatever byte boundary the wire splits at");
}

static void test_stream_bytewise(void)
{
        static const char wire[] = "{\"return\": \"x\\r\\ny\", \"id\": 1}\n{\"id\": 2, \"return\": {}}\r\n";
        struct qmp_stream s;
        struct qc_err err = { 0 };
        json_object *o;
        int got = 0;

        qmp_stream_init(&s, 64);
        for (size_t i = 0; i < sizeof wire - 1; i++) {
                qmp_stream_push(&s, wire + i, 1, &err);
                while (qmp_stream_pop(&s, &o, &err) == 1) {
                        got++;
                        if (got == 1)
                                is_str(json_object_get_string(json_object_object_get(o, "return")), "x\r\ny",
                                       "escaped CRLF inside a string survives");
                        json_object_put(o);
                }
        }
        is_int(got, 2, "byte by byte: both messages, LF or CRLF");
        qmp_stream_done(&s);
}

static void test_stream_garbage(void)
{
        static const char *const bad[] = { "hello world", "[1, 2]", "42", "{\"a\": 1} trailing", "{\"a\": ",
                                           "{\"a\" 1}", "\"str\"", "\x01\x02\xff" };
        struct qmp_stream s;
        struct qc_err err = { 0 };
        json_object *o = NULL;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                qmp_stream_init(&s, 1024);
                qmp_stream_push(&s, bad[i], strlen(bad[i]), &err);
                qmp_stream_push(&s, "\r\n{\"ok\": true}\r\n", 16, &err);
                is_int(qmp_stream_pop(&s, &o, &err), -1, "garbage %zu is an error", i);
                ok(tap_contains(err.msg, "garbage from the QMP peer: \""), "the error quotes the garbage");
                is_int(qmp_stream_pop(&s, &o, &err), 1, "the next line still parses");
                json_object_put(o);
                qmp_stream_done(&s);
        }
        qmp_stream_init(&s, 1024);
        qmp_stream_push(&s, "\x01\xfe\"\r\n", 5, &err);
        qmp_stream_pop(&s, &o, &err);
        is_str(err.msg, "garbage from the QMP peer: \"\\x01\\xfe\\\"\"", "unprintable bytes are escaped in the snippet");
        qmp_stream_done(&s);
}

static void test_stream_cap(void)
{
        struct qmp_stream s;
        struct qc_err err = { 0 };
        char big[200];
        json_object *o;

        memset(big, 'x', sizeof big);
        qmp_stream_init(&s, 100);
        is_int(qmp_stream_push(&s, big, 60, &err), 0, "60 bytes of a line under a 100-byte cap");
        is_int(qmp_stream_push(&s, big, 60, &err), -1, "120 bytes of one line over the cap is an error");
        is_int(err.code, EMSGSIZE, "EMSGSIZE");
        ok(tap_contains(err.msg, "longer than 100 bytes"), "the message names the cap");
        qmp_stream_done(&s);

        /* complete lines longer than the cap, inside one push */
        qmp_stream_init(&s, 100);
        memcpy(big + 150, "\n{}\n", 4);
        is_int(qmp_stream_push(&s, big, 154, &err), 0, "a push ending in short lines is accepted");
        is_int(qmp_stream_pop(&s, &o, &err), -1, "but the 150-byte line is refused when popped");
        is_int(err.code, EMSGSIZE, "EMSGSIZE for the complete long line");
        is_int(qmp_stream_pop(&s, &o, &err), 1, "the short line after it is fine");
        json_object_put(o);
        qmp_stream_done(&s);

        /* many short lines stream through a small cap */
        qmp_stream_init(&s, 32);
        for (int i = 0; i < 1000; i++) {
                if (qmp_stream_push(&s, "{\"a\": 1}\r\n", 10, &err) < 0 || qmp_stream_pop(&s, &o, &err) != 1)
                        break;
                json_object_put(o);
                if (i == 999)
                        ok(1, "1000 short lines through a 32-byte cap");
        }
        qmp_stream_done(&s);
}

/* ---- transport against the fake server ---- */

static void test_greeting(void)
{
        struct fakeqmp *f = fakeqmp_new();
        struct qc_err err = { 0 };
        _cleanup_qmp_ struct qmp *q = NULL;

        fakeqmp_greet(f);
        fakeqmp_wait_eof(f);
        q = open_fake(f, 2000, &err);
        if (!ok(q, "connects: greeting and qmp_capabilities"))
                tap_diag("%s", err.msg);
        if (q) {
                const struct qmp_version *v = qmp_greeting_version(q);
                is_int(v->major * 10000 + v->minor * 100 + v->micro, 70222, "version 7.2.22 from the greeting");
                is_str(v->package, "Debian 1:7.2+dfsg-7+deb12u18", "package string");
                is_str(qmp_greeting_capabilities(q)[0], "oob", "capabilities listed");
                ok(qmp_version_at_least(q, 5, 2) && !qmp_version_at_least(q, 7, 3), "version comparison");
        }
        qmp_free(TAKE_PTR(q));
        fakeqmp_check(f, "greeting");
}

static void test_no_greeting(void)
{
        struct fakeqmp *f = fakeqmp_new();
        struct qc_err err = { 0 };
        struct qmp *q;
        int64_t t0 = now_ms();

        fakeqmp_wait_eof(f);
        q = open_fake(f, 300, &err);
        ok(!q, "a greeting that never comes fails");
        is_str(err.msg,
               "no greeting from the QMP peer within 300 ms (is another client connected? QEMU serves one client per "
               "QMP socket)",
               "error says so, and the usual cause");
        ok(now_ms() - t0 < 3000, "and it failed within the timeout");
        fakeqmp_check(f, "no greeting");

        f = fakeqmp_new();
        fakeqmp_send(f, "{\"hello\": 1}");
        fakeqmp_wait_eof(f);
        q = open_fake(f, 2000, &err);
        ok(!q && tap_contains(err.msg, "did not greet with QMP"), "a non-QMP greeting is refused");
        fakeqmp_check(f, "wrong greeting");
}

static void test_events_before_reply(void)
{
        struct fakeqmp *f = fakeqmp_new();
        struct qc_err err = { 0 };
        _cleanup_qmp_ struct qmp *q = NULL;
        _cleanup_free_ char *status = NULL;
        bool running = true;
        json_object *ev;

        fakeqmp_greet(f);
        fakeqmp_send(f, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"EARLY\"}");
        fakeqmp_expect(f, "{\"execute\": \"query-status\"}");
        fakeqmp_send(f, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 3}, \"event\": \"STOP\"}");
        fakeqmp_send(f, "{\"event\": \"RESUME\", \"data\": {}}");
        fakeqmp_reply(f, "{\"status\": \"paused\", \"singlestep\": false, \"running\": false}");
        fakeqmp_send(f, "{\"event\": \"LATER\", \"data\": {\"n\": 1}}");
        fakeqmp_wait_eof(f);
        q = open_fake(f, 2000, &err);
        ok(q, "connected");
        if (!q) {
                fakeqmp_check(f, "events");
                return;
        }
        is_int(qmp_query_status(q, &status, &running, &err), 0, "query-status with events around the reply");
        is_str(status, "paused", "status");
        ok(!running, "not running");
        is_int(qmp_events_queued(q), 3, "three events queued while waiting");
        ev = qmp_next_event(q);
        is_str(json_object_get_string(json_object_object_get(ev, "event")), "EARLY", "oldest first");
        json_object_put(ev);
        is_int(qmp_wait_event(q, "RESUME", NULL, NULL, 0, &ev, &err), 0, "RESUME found in the queue");
        json_object_put(ev);
        is_int(qmp_events_queued(q), 1, "STOP stays queued");
        is_int(qmp_wait_event(q, "LATER", NULL, NULL, 2000, &ev, &err), 0, "LATER read from the socket");
        json_object_put(ev);
        ev = qmp_next_event(q);
        is_str(json_object_get_string(json_object_object_get(ev, "event")), "STOP", "STOP still there");
        json_object_put(ev);
        ok(qmp_next_event(q) == NULL, "queue empty");
        is_int(qmp_wait_event(q, "NEVER", NULL, NULL, 100, NULL, &err), -1, "wait for an absent event times out");
        is_int(err.code, ETIMEDOUT, "ETIMEDOUT, in err->code like every failure");
        is_str(err.msg, "no event NEVER within 100 ms", "timeout message");
        qmp_free(TAKE_PTR(q));
        fakeqmp_check(f, "events");
}

static bool match_n(json_object *ev, void *userdata)
{
        json_object *d, *n;

        return json_object_object_get_ex(ev, "data", &d) && json_object_object_get_ex(d, "n", &n) &&
               json_object_get_int(n) == *(int *)userdata;
}

static void test_event_match(void)
{
        struct fakeqmp *f = fakeqmp_new();
        struct qc_err err = { 0 };
        _cleanup_qmp_ struct qmp *q = NULL;
        json_object *ev = NULL;
        int want = 3;

        fakeqmp_greet(f);
        for (int i = 1; i <= 4; i++) {
                char line[128];
                snprintf(line, sizeof line, "{\"event\": \"%s\", \"data\": {\"n\": %d}}", i % 2 ? "X" : "Y", i);
                fakeqmp_send(f, line);
        }
        fakeqmp_wait_eof(f);
        q = open_fake(f, 2000, &err);
        if (q) {
                is_int(qmp_wait_event(q, "X", match_n, &want, 2000, &ev, &err), 0, "X with n=3");
                is_int(json_object_get_int(json_object_object_get(json_object_object_get(ev, "data"), "n")), 3,
                       "the matching one");
                json_object_put(ev);
                is_int(qmp_events_queued(q), 2, "X1 and Y2 queued on the way");
                is_int(qmp_poll_events(q, 1000, &err), 0, "poll events");
                is_int(qmp_events_queued(q), 3, "Y4 queued by poll");
                want = 4;
                is_int(qmp_wait_event(q, NULL, match_n, &want, 0, &ev, &err), 0, "any name, match n=4, from the queue");
                json_object_put(ev);
        }
        qmp_free(TAKE_PTR(q));
        fakeqmp_check(f, "event match");
}

static void test_split_replies(void)
{
        struct fakeqmp *f = fakeqmp_new();
        struct qc_err err = { 0 };
        _cleanup_qmp_ struct qmp *q = NULL;
        int good = 0;

        fakeqmp_greet(f);
        for (int k = 1; k <= 12; k++) {
                fakeqmp_split(f, (size_t)k, 300);
                fakeqmp_expect(f, "{\"execute\": \"query-status\"}");
                fakeqmp_send(f, "{\"event\": \"STOP\"}");
                fakeqmp_reply(f, "{\"status\": \"running\", \"singlestep\": false, \"running\": true}");
        }
        fakeqmp_wait_eof(f);
        q = open_fake(f, 5000, &err);
        for (int k = 1; q && k <= 12; k++) {
                _cleanup_free_ char *st = NULL;
                bool running = false;

                if (qmp_query_status(q, &st, &running, &err) == 0 && running && strcmp(st, "running") == 0)
                        good++;
                else
                        tap_diag("chunk %d: %s", k, err.msg);
        }
        is_int(good, 12, "replies written 1..12 bytes at a time all parse");
        is_int(q ? qmp_events_queued(q) : 0, 12, "and every event in between was queued");
        qmp_free(TAKE_PTR(q));
        fakeqmp_check(f, "split replies");
}

static void test_big_line(void)
{
        struct fakeqmp *f = fakeqmp_new();
        struct qc_err err = { 0 };
        _cleanup_qmp_ struct qmp *q = NULL;
        _cleanup_free_ char *line = malloc(1100000);
        json_object *ret = NULL;
        size_t n;

        n = (size_t)sprintf(line, "{\"return\": {\"blob\": \"");
        memset(line + n, 'a', 1 << 20);
        n += 1 << 20;
        n += (size_t)sprintf(line + n, "\"}, \"id\": 2}\r\n");
        fakeqmp_greet(f);
        fakeqmp_expect(f, "{\"execute\": \"query-qmp-schema\"}");
        fakeqmp_send_raw(f, line, n);
        fakeqmp_wait_eof(f);
        q = open_fake(f, 5000, &err);
        is_int(q ? qmp_execute(q, "query-qmp-schema", NULL, &ret, &err) : -1, 0, "a 1 MB reply line");
        is_int(json_object_get_string_len(json_object_object_get(ret, "blob")), 1 << 20, "all of it");
        json_object_put(ret);
        qmp_free(TAKE_PTR(q));
        fakeqmp_check(f, "1 MB line");
}

static void test_too_long(void)
{
        struct fakeqmp *f = fakeqmp_new();
        struct qc_err err = { 0 };
        _cleanup_qmp_ struct qmp *q = NULL;
        size_t n = QMP_MAX_LINE + 65536;
        _cleanup_free_ char *line = malloc(n);

        memset(line, ' ', n);
        line[0] = '{';
        fakeqmp_greet(f);
        fakeqmp_expect(f, "{\"execute\": \"query-qmp-schema\"}");
        fakeqmp_send_raw(f, line, n);
        q = open_fake(f, 10000, &err);
        is_int(q ? qmp_execute(q, "query-qmp-schema", NULL, NULL, &err) : 0, -1, "a line past QMP_MAX_LINE fails");
        is_int(err.code, EMSGSIZE, "EMSGSIZE");
        ok(tap_contains(err.msg, "longer than 16777216 bytes"), "message names the cap");
        qmp_free(TAKE_PTR(q)); /* unblocks the writer */
        fakeqmp_check(f, "too long");
}

struct bad_case {
        const char *name;
        void (*script)(struct fakeqmp *f);
        int code;
        const char *msg;
};

static void s_garbage(struct fakeqmp *f)
{
        fakeqmp_send(f, "<html>not json</html>");
}
static void s_wrong_id(struct fakeqmp *f)
{
        fakeqmp_send(f, "{\"return\": {}, \"id\": 7}");
}
static void s_idless_error(struct fakeqmp *f)
{
        fakeqmp_send(f, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, stray '}'\"}}");
}
static void s_idless_return(struct fakeqmp *f)
{
        fakeqmp_send(f, "{\"return\": {}}");
}
static void s_close(struct fakeqmp *f)
{
        fakeqmp_close(f);
}
static void s_close_mid(struct fakeqmp *f)
{
        fakeqmp_send_raw(f, "{\"return\": {\"sta", 16);
        fakeqmp_close(f);
}
static void s_error(struct fakeqmp *f)
{
        fakeqmp_error(f, "GenericError", "Duplicate device ID 'cpu1'");
}
static void s_not_found(struct fakeqmp *f)
{
        fakeqmp_error(f, "CommandNotFound", "The command device_add has not been found");
}
static void s_neither(struct fakeqmp *f)
{
        fakeqmp_send(f, "{\"id\": $ID}");
}
static void s_greeting_again(struct fakeqmp *f)
{
        fakeqmp_send(f, FAKEQMP_GREETING);
}

static void test_bad_replies(void)
{
        static const struct bad_case cases[] = {
                { "garbage", s_garbage, EPROTO, "garbage from the QMP peer: \"<html>not json</html>\"" },
                { "wrong id", s_wrong_id, EPROTO, "reply id 7 does not match command id 2 (device_add)" },
                { "id-less error", s_idless_error, EIO,
                  "device_add: GenericError: JSON parse error, stray '}' (error without id: qemu could not read "
                  "the command)" },
                { "id-less return", s_idless_return, EPROTO,
                  "reply without id while waiting for the reply to device_add" },
                { "EOF", s_close, ECONNRESET, "qemu closed the connection while waiting for the reply to device_add" },
                { "EOF mid-reply", s_close_mid, ECONNRESET,
                  "qemu closed the connection in the middle of a message while waiting for the reply to device_add" },
                { "error reply", s_error, EIO, "device_add: GenericError: Duplicate device ID 'cpu1'" },
                { "unknown command", s_not_found, EOPNOTSUPP,
                  "device_add: CommandNotFound: The command device_add has not been found" },
                { "neither return nor error", s_neither, EPROTO,
                  "device_add: reply has neither \"return\" nor \"error\"" },
                { "second greeting", s_greeting_again, EPROTO,
                  "unexpected greeting while waiting for the reply to device_add" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct fakeqmp *f = fakeqmp_new();
                struct qc_err err = { 0 };
                _cleanup_qmp_ struct qmp *q = NULL;
                json_object *args = json_object_new_object();

                json_object_object_add(args, "driver", json_object_new_string("qemu64-x86_64-cpu"));
                fakeqmp_greet(f);
                fakeqmp_expect(f, "{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"qemu64-x86_64-cpu\"}}");
                cases[i].script(f);
                if (cases[i].script != s_close && cases[i].script != s_close_mid)
                        fakeqmp_wait_eof(f);
                q = open_fake(f, 2000, &err);
                is_int(q ? qmp_execute(q, "device_add", args, NULL, &err) : 0, -1, "%s: fails", cases[i].name);
                is_int(err.code, cases[i].code, "%s: errno", cases[i].name);
                is_str(err.msg, cases[i].msg, "%s: message", cases[i].name);
                qmp_free(TAKE_PTR(q));
                fakeqmp_check(f, cases[i].name);
        }
}

static void test_timeout_and_late_reply(void)
{
        struct fakeqmp *f = fakeqmp_new();
        struct qc_err err = { 0 };
        _cleanup_qmp_ struct qmp *q = NULL;
        _cleanup_free_ char *st = NULL;
        int64_t t0;

        fakeqmp_greet(f);
        fakeqmp_expect(f, "{\"execute\": \"stop\"}");
        fakeqmp_sleep(f, 400);
        fakeqmp_reply(f, "{}"); /* too late */
        fakeqmp_expect(f, "{\"execute\": \"query-status\"}");
        fakeqmp_reply(f, "{\"status\": \"paused\", \"singlestep\": false, \"running\": false}");
        fakeqmp_wait_eof(f);
        q = open_fake(f, 2000, &err);
        if (!q) {
                fakeqmp_check(f, "timeout");
                return;
        }
        qmp_set_timeout(q, 150);
        t0 = now_ms();
        is_int(qmp_stop(q, &err), -1, "no reply: stop fails");
        is_int(err.code, ETIMEDOUT, "ETIMEDOUT");
        is_str(err.msg, "no reply to stop within 150 ms", "message");
        ok(now_ms() - t0 < 1000, "after about the timeout");
        qmp_set_timeout(q, 2000);
        is_int(qmp_query_status(q, &st, NULL, &err), 0, "the next command works: the late reply is skipped");
        is_str(st, "paused", "and gets its own reply");
        qmp_free(TAKE_PTR(q));
        fakeqmp_check(f, "late reply");

        f = fakeqmp_new();
        fakeqmp_greet(f);
        fakeqmp_expect(f, "{\"execute\": \"query-status\"}");
        fakeqmp_wait_eof(f);
        q = open_fake(f, 200, &err);
        is_int(q ? qmp_query_status(q, NULL, NULL, &err) : 0, -1, "a peer that never answers");
        is_str(err.msg, "no reply to query-status within 200 ms", "times out with a clear message");
        qmp_free(TAKE_PTR(q));
        fakeqmp_check(f, "never answers");
}

static void test_raw_and_quit(void)
{
        struct fakeqmp *f = fakeqmp_new();
        struct qc_err err = { 0 };
        _cleanup_qmp_ struct qmp *q = NULL;
        _cleanup_free_ char *out = NULL, *out2 = NULL;

        fakeqmp_greet(f);
        fakeqmp_expect(f, "{\"execute\": \"query-kvm\"}");
        fakeqmp_error(f, "GenericError", "nope");
        fakeqmp_expect(f, "{\"execute\": \"qom-get\", \"arguments\": {\"path\": \"/machine\", \"property\": \"type\"}}");
        fakeqmp_reply(f, "\"pc-q35-7.2-machine\"");
        fakeqmp_expect(f, "{\"execute\": \"quit\"}");
        fakeqmp_close(f);
        q = open_fake(f, 2000, &err);
        if (!q) {
                fakeqmp_check(f, "raw");
                return;
        }
        is_int(qmp_execute_json(q, "\"query-kvm\"", &out, &err), 0, "raw: an error reply is not a failure");
        ok(tap_contains(out, "\"error\":{\"class\":\"GenericError\",\"desc\":\"nope\"}"), "whole reply out");
        is_int(qmp_execute_json(q, "{\"execute\": \"qom-get\", \"arguments\": {\"path\": \"/machine\", \"property\": \"type\"}}",
                                &out2, &err), 0, "raw with arguments");
        ok(tap_contains(out2, "\"return\":\"pc-q35-7.2-machine\""), "return value");
        is_int(qmp_execute_json(q, "{not json", &out, &err), -1, "raw refuses non-JSON");
        ok(tap_contains(err.msg, "command is not JSON"), "and says so");
        is_int(qmp_quit(q, &err), 0, "quit: peer closing without a reply counts as done");
        qmp_free(TAKE_PTR(q));
        fakeqmp_check(f, "raw and quit");
}

static void test_unix_socket(void)
{
        struct fakeqmp *f = fakeqmp_new();
        struct qc_err err = { 0 };
        _cleanup_qmp_ struct qmp *q = NULL;
        char path[64];

        snprintf(path, sizeof path, "/tmp/test-qmp-%d.sock", (int)getpid());
        fakeqmp_greet(f);
        fakeqmp_expect(f, "{\"execute\": \"cont\"}");
        fakeqmp_reply(f, "{}");
        fakeqmp_wait_eof(f);
        is_int(fakeqmp_listen(f, path), 0, "fake listens on a unix socket");
        is_int(qmp_connect(path, 2000, &q, &err), 0, "qmp_connect");
        is_int(q ? qmp_cont(q, &err) : -1, 0, "cont over the unix socket");
        qmp_free(TAKE_PTR(q));
        fakeqmp_check(f, "unix socket");
        is_int(qmp_connect("/nonexistent/qmp.sock", 500, &q, &err), -1, "connect to a missing socket fails");
        is_str(err.msg, "connect to /nonexistent/qmp.sock: No such file or directory", "naming the path");
}

/* A QMP socket that accepts the connection but never greets, as QEMU does
 * with a second client while the first is still connected. */
static void test_unix_socket_silent(void)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int lfd = -1;
        _cleanup_qmp_ struct qmp *q = NULL;
        struct qc_err err = { 0 };
        char want[256];

        snprintf(sa.sun_path, sizeof sa.sun_path, "/tmp/test-qmp-silent-%d.sock", (int)getpid());
        unlink(sa.sun_path);
        lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 4) < 0) {
                ok(false, "listen on %s", sa.sun_path);
                return;
        }
        is_int(qmp_connect(sa.sun_path, 300, &q, &err), -1, "a socket that never greets fails");
        snprintf(want, sizeof want,
                 "%s: no greeting from the QMP peer within 300 ms (is another client connected? QEMU serves one "
                 "client per QMP socket)",
                 sa.sun_path);
        is_str(err.msg, want, "the path, then what went wrong and the usual cause");
        unlink(sa.sun_path);
}


/* A peer that floods events while we wait for a reply: the queue stays
 * bounded (bytes and count), the wait fails with ENOBUFS, and the connection
 * goes on once the queue is read. */
static void test_event_flood(void)
{
        enum { BIG = 1 << 20, N_BIG = 12 };
        struct fakeqmp *f = fakeqmp_new();
        struct qc_err err = { 0 };
        _cleanup_qmp_ struct qmp *q = NULL;
        _cleanup_free_ char *big = malloc(BIG + 64), *small = NULL, *status = NULL;
        size_t n_small = QMP_MAX_QUEUED_EVENTS + 100, len = 0, drained = 0, max_bytes = 0;
        const char line[] = "{\"event\": \"TICK\"}\r\n";
        bool running;
        json_object *ev;
        int r;

        if (!big || !(small = malloc(n_small * (sizeof line - 1))))
                abort();
        len = (size_t)sprintf(big, "{\"event\": \"FLOOD\", \"data\": {\"s\": \"");
        memset(big + len, 'x', BIG);
        strcpy(big + len + BIG, "\"}}");
        for (size_t i = 0; i < n_small; i++)
                memcpy(small + i * (sizeof line - 1), line, sizeof line - 1);

        fakeqmp_greet(f);
        fakeqmp_expect(f, "{\"execute\": \"query-status\"}");
        for (int i = 0; i < N_BIG; i++)
                fakeqmp_send(f, big);
        fakeqmp_reply(f, "{\"status\": \"running\", \"running\": true}");
        fakeqmp_expect(f, "{\"execute\": \"query-status\"}");
        fakeqmp_reply(f, "{\"status\": \"paused\", \"running\": false}");
        fakeqmp_expect(f, "{\"execute\": \"stop\"}");
        fakeqmp_send_raw(f, small, n_small * (sizeof line - 1));
        fakeqmp_reply(f, "{}");
        fakeqmp_expect(f, "{\"execute\": \"cont\"}");
        fakeqmp_reply(f, "{}");
        fakeqmp_wait_eof(f);
        q = open_fake(f, 10000, &err);
        ok(q, "connected");
        if (!q) {
                fakeqmp_check(f, "event flood");
                return;
        }
        r = qmp_query_status(q, &status, &running, &err);
        ok(r < 0 && err.code == ENOBUFS, "12 events of 1 MiB while waiting for a reply: ENOBUFS (%s)", err.msg);
        ok(tap_contains(err.msg, "event queue full"), "the message says the queue is full");
        max_bytes = qmp_events_queued_bytes(q);
        ok(max_bytes <= QMP_MAX_QUEUED_BYTES && qmp_events_queued(q) > 0,
           "at most %u bytes queued (%zu, %zu events)", QMP_MAX_QUEUED_BYTES, max_bytes, qmp_events_queued(q));
        while ((ev = qmp_next_event(q))) {
                drained++;
                json_object_put(ev);
        }
        is_int(qmp_events_queued_bytes(q), 0, "reading the queue empties it");
        /* the rest of the flood, then the late reply (discarded), then ours */
        free(status);
        status = NULL;
        is_int(qmp_query_status(q, &status, &running, &err), 0, "the next command works (%s)", err.msg);
        is_str(status, "paused", "and gets its own reply, not the late one");
        ok(drained + qmp_events_queued(q) == N_BIG - 1, "every event but the one past the bound was kept (%zu + %zu)",
           drained, qmp_events_queued(q));
        while ((ev = qmp_next_event(q)))
                json_object_put(ev);

        r = qmp_stop(q, &err);
        ok(r < 0 && err.code == ENOBUFS, "%zu small events: ENOBUFS past %u events (%s)", n_small,
           QMP_MAX_QUEUED_EVENTS, err.msg);
        is_int(qmp_events_queued(q), QMP_MAX_QUEUED_EVENTS, "the queue holds at most %u events",
               QMP_MAX_QUEUED_EVENTS);
        while ((ev = qmp_next_event(q)))
                json_object_put(ev);
        is_int(qmp_cont(q, &err), 0, "the next command works (%s)", err.msg);
        is_int(qmp_events_queued(q), 99, "the events after the bound were queued again");
        qmp_free(TAKE_PTR(q));
        fakeqmp_check(f, "event flood");
}

/* The password reaches QEMU as JSON, whatever bytes it has: quotes,
 * backslashes, control characters, UTF-8. */
static void test_password_escaped(void)
{
        static const char *const pws[] = { "a\"b\\c\td", "p\xc3\xa4ss", "x/y\x01" };
        static const char *const want[] = {
                "{\"execute\": \"set_password\", \"arguments\": {\"protocol\": \"vnc\", \"password\": \"a\\\"b\\\\c\\td\"}}",
                "{\"execute\": \"set_password\", \"arguments\": {\"protocol\": \"vnc\", \"password\": \"p\u00e4ss\"}}",
                "{\"execute\": \"set_password\", \"arguments\": {\"protocol\": \"vnc\", \"password\": \"x/y\\u0001\"}}",
        };
        struct fakeqmp *f = fakeqmp_new();
        struct qc_err err = { 0 };
        struct qmp *q;

        fakeqmp_greet(f);
        for (size_t i = 0; i < 3; i++) {
                fakeqmp_expect(f, want[i]);
                fakeqmp_reply(f, "{}");
        }
        fakeqmp_wait_eof(f);
        q = open_fake(f, 2000, &err);
        for (size_t i = 0; i < 3; i++)
                is_int(q ? qmp_set_password(q, "vnc", pws[i], &err) : -1, 0, "set_password %zu: %s", i, err.msg);
        qmp_free(q);
        fakeqmp_check(f, "set_password's JSON");
}

/* Whether the heap of this process holds the bytes of needle anywhere, in
 * use or freed. */
static int heap_holds(const char *needle)
{
        _cleanup_free_ char *maps = NULL;
        size_t len;

        if (read_file("/proc/self/maps", 1 << 20, &maps, &len) < 0)
                return -1;
        for (char *line = maps; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
                unsigned long lo, hi;
                if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && strstr(line, "[heap]") &&
                    strstr(line, "[heap]") < strchr(line, '\n'))
                        return memmem((void *)lo, hi - lo, needle, strlen(needle)) != NULL;
        }
        return -1;
}

/* Once set_password returned, qemuctl holds no copy of the password:
 * neither json-c's objects and serializer nor the line sent (the
 * supervisor, which sends it, lives as long as the VM). The client runs in
 * a child of its own, so that its heap holds nothing of the fake's. */
static void test_password_wiped(void)
{
#if defined(__SANITIZE_ADDRESS__)
        /* ASan's malloc has no [heap] mapping to scan, and reading its
         * freed (poisoned) memory is an error of its own: the plain build
         * (make test) runs this check */
        ok(1, "# SKIP under ASan: malloc is ASan's own (no [heap]; freed memory poisoned); make test checks it");
        return;
#endif
        struct fakeqmp *f = fakeqmp_new();
        char path[64];
        pid_t pid;
        int st = 0;

        snprintf(path, sizeof path, "/tmp/test-qmp-pw-%d.sock", (int)getpid());
        fakeqmp_greet(f);
        fakeqmp_expect_any(f);
        fakeqmp_reply(f, "{}");
        fakeqmp_wait_eof(f);
        if (fakeqmp_listen(f, path) < 0)
                abort();
        pid = fork();
        if (pid == 0) {
                struct qmp *q = NULL;
                char pw[16];
                int held;

                /* made here, on the stack: no literal of it anywhere */
                snprintf(pw, sizeof pw, "Zq%dpW!x", 7);
                if (qmp_connect(path, 2000, &q, NULL) < 0 || qmp_set_password(q, "vnc", pw, NULL) < 0)
                        _exit(3);
                held = heap_holds(pw);
                qmp_free(q);
                explicit_bzero(pw, sizeof pw);
                _exit(held < 0 ? 4 : held ? 1 : 0);
        }
        ok(pid > 0 && waitpid(pid, &st, 0) == pid, "the client ran");
        is_int(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0,
               "no copy of the password is left in the client's heap (1: one is; 3: set_password failed; 4: no heap)");
        fakeqmp_check(f, "set_password, wiped");
        unlink(path);
}

int main(void)
{
        signal(SIGPIPE, SIG_IGN);
        test_stream_split();
        test_stream_bytewise();
        test_stream_garbage();
        test_stream_cap();
        test_greeting();
        test_no_greeting();
        test_events_before_reply();
        test_event_match();
        test_event_flood();
        test_split_replies();
        test_big_line();
        test_too_long();
        test_bad_replies();
        test_timeout_and_late_reply();
        test_raw_and_quit();
        test_unix_socket();
        test_unix_socket_silent();
        test_password_escaped();
        test_password_wiped();
        return tap_done();
}
