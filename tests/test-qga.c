/* qmp/qga: the guest agent's protocol against a scripted fake agent. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/cleanup.h"
#include "qmp/qga.h"
#include "tests/lib/fakeqmp-tap.h"
#include "tests/tap.h"

#define SYNC_REPLY "\xff{\"return\": $ID}"

static struct qga *open_fake(struct fakeqmp *f, int timeout_ms, struct qc_err *err)
{
        struct qga *g = NULL;
        int fd;

        if (fakeqmp_start(f, &fd) < 0)
                abort();
        if (qga_open_fd(fd, timeout_ms, &g, err) < 0)
                return NULL;
        return g;
}

static void test_base64(void)
{
        unsigned char all[256 * 3];
        bool good = true;

        for (size_t i = 0; i < sizeof all; i++)
                all[i] = (unsigned char)(i * 7 + i / 256);
        for (size_t n = 0; n <= 10 && good; n++) {
                _cleanup_free_ char *e = base64_encode(all + 250, n);
                _cleanup_free_ unsigned char *d = NULL;
                size_t len = 0;

                good = e && base64_decode(e, strlen(e), &d, &len) == 0 && len == n && memcmp(d, all + 250, n) == 0;
        }
        ok(good, "base64: every length 0..10 round-trips");
        {
                _cleanup_free_ char *e = base64_encode(all, sizeof all);
                _cleanup_free_ unsigned char *d = NULL;
                size_t len = 0;

                ok(e && base64_decode(e, strlen(e), &d, &len) == 0 && len == sizeof all &&
                           memcmp(d, all, len) == 0,
                   "base64: every byte value round-trips");
        }
        {
                _cleanup_free_ char *e = base64_encode("\0\xff", 2);
                ok(e && strcmp(e, "AP8=") == 0, "base64: NUL and 0xFF encode as RFC 4648 says");
        }
        {
                unsigned char *d = NULL;
                size_t len;
                is_int(base64_decode("AP8*", 4, &d, &len), -EINVAL, "base64: a character outside the alphabet is refused");
                is_int(base64_decode("A", 1, &d, &len), -EINVAL, "base64: a lone sixth-bit group is refused");
        }
}

/* At connect: whatever a previous client left, and garbage, come before the
 * sentinel; a sentinel also cuts a half-written line. */
static void test_connect_skips_stale(void)
{
        struct fakeqmp *f = fakeqmp_new();
        struct qc_err err = { 0 };
        _cleanup_qga_ struct qga *g = NULL;
        static const char stale[] = "{\"return\": {\"pid\": 77}}\n\x01\x02 not json {\n{\"return\": 5";

        fakeqmp_send_raw(f, stale, sizeof stale - 1);
        fakeqmp_expect_sync(f);
        fakeqmp_send(f, "{\"return\": {\"other\": 1}}"); /* before our sentinel: dropped */
        fakeqmp_send_raw(f, "\xff{\"return\": {\"half\"", 19);
        fakeqmp_send(f, "\xff{\"return\": 12345}"); /* another client's sync */
        fakeqmp_send(f, "\xffgarbage after a sentinel");
        fakeqmp_send(f, SYNC_REPLY);
        fakeqmp_expect(f, "{\"execute\": \"guest-ping\"}");
        fakeqmp_send(f, "{\"return\": {}}");
        g = open_fake(f, 5000, &err);
        ok(g, "connect: synced past stale replies, garbage and a cut line (%s)", err.msg);
        if (g)
                ok(qga_ping(g, &err) == 0, "guest-ping after the sync gets its own reply (%s)", err.msg);
        qga_free(TAKE_PTR(g));
        fakeqmp_check(f, "connect");
}

/* A reply that comes after its command timed out must not be taken for the
 * next command's: the next command resyncs first. */
static void test_stale_after_timeout(void)
{
        struct fakeqmp *f = fakeqmp_new();
        struct qc_err err = { 0 };
        _cleanup_qga_ struct qga *g = NULL;
        _cleanup_free_ char *ver = NULL;

        fakeqmp_expect_sync(f);
        fakeqmp_send(f, SYNC_REPLY);
        fakeqmp_expect(f, "{\"execute\": \"guest-ping\"}");
        fakeqmp_sleep(f, 400);
        fakeqmp_send(f, "{\"return\": {}}"); /* the late reply to guest-ping */
        fakeqmp_expect_sync(f);
        fakeqmp_send(f, "{\"return\": {\"version\": \"stale\"}}");
        fakeqmp_send(f, SYNC_REPLY);
        fakeqmp_expect(f, "{\"execute\": \"guest-info\"}");
        fakeqmp_send(f, "{\"return\": {\"version\": \"7.2.19\", \"supported_commands\": []}}");
        g = open_fake(f, 150, &err);
        ok(g, "connect (%s)", err.msg);
        if (g) {
                ok(qga_ping(g, &err) < 0 && err.code == ETIMEDOUT, "guest-ping times out (%s)", err.msg);
                qga_set_timeout(g, 5000);
                ok(qga_info_version(g, &ver, &err) == 0 && ver && strcmp(ver, "7.2.19") == 0,
                   "guest-info after the timeout gets its own reply, not the late one (%s, %s)", err.msg,
                   ver ? ver : "(none)");
        }
        qga_free(TAKE_PTR(g));
        fakeqmp_check(f, "stale after timeout");
}

static void test_garbage_reply_resyncs(void)
{
        struct fakeqmp *f = fakeqmp_new();
        struct qc_err err = { 0 };
        _cleanup_qga_ struct qga *g = NULL;

        fakeqmp_expect_sync(f);
        fakeqmp_send(f, SYNC_REPLY);
        fakeqmp_expect(f, "{\"execute\": \"guest-ping\"}");
        fakeqmp_send(f, "this is not JSON");
        fakeqmp_expect_sync(f);
        fakeqmp_send(f, SYNC_REPLY);
        fakeqmp_expect(f, "{\"execute\": \"guest-ping\"}");
        fakeqmp_send(f, "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Command guest-ping has been disabled\"}}");
        g = open_fake(f, 5000, &err);
        ok(g, "connect (%s)", err.msg);
        if (g) {
                ok(qga_ping(g, &err) < 0 && err.code == EPROTO && tap_contains(err.msg, "not JSON"),
                   "a garbled reply is EPROTO (%s)", err.msg);
                ok(qga_ping(g, &err) < 0 && err.code == EOPNOTSUPP &&
                           tap_contains(err.msg, "guest-ping: CommandNotFound: Command guest-ping has been disabled"),
                   "the next command resyncs first; the agent's error reply keeps its class and words (%s)",
                   err.msg);
        }
        qga_free(TAKE_PTR(g));
        fakeqmp_check(f, "garbage reply");
}

static void test_exec(void)
{
        struct fakeqmp *f = fakeqmp_new();
        struct qc_err err = { 0 };
        _cleanup_qga_ struct qga *g = NULL;
        char *argv[] = { "-c", "cat; echo err >&2; exit 3", NULL };
        char *env[] = { "LANG=C", NULL };
        struct qga_exec_status st = { 0 };
        int64_t pid = 0;

        fakeqmp_expect_sync(f);
        fakeqmp_send(f, SYNC_REPLY);
        fakeqmp_expect(f, "{\"execute\": \"guest-exec\", \"arguments\": {\"path\": \"/bin/sh\", \"arg\": [\"-c\", "
                          "\"cat; echo err >&2; exit 3\"], \"env\": [\"LANG=C\"], \"input-data\": \"AP8K\", "
                          "\"capture-output\": true}}");
        fakeqmp_send(f, "{\"return\": {\"pid\": 321}}");
        fakeqmp_expect(f, "{\"execute\": \"guest-exec-status\", \"arguments\": {\"pid\": 321}}");
        fakeqmp_send(f, "{\"return\": {\"exited\": false}}");
        fakeqmp_expect(f, "{\"execute\": \"guest-exec-status\", \"arguments\": {\"pid\": 321}}");
        fakeqmp_send(f, "{\"return\": {\"exited\": true, \"exitcode\": 3, \"out-data\": \"AP8K\", \"err-data\": "
                        "\"ZXJyCg==\", \"err-truncated\": true}}");
        fakeqmp_expect(f, "{\"execute\": \"guest-exec\", \"arguments\": {\"path\": \"sleep\", \"capture-output\": false}}");
        fakeqmp_send(f, "{\"return\": {\"pid\": 322}}");
        fakeqmp_expect(f, "{\"execute\": \"guest-exec-status\", \"arguments\": {\"pid\": 322}}");
        fakeqmp_send(f, "{\"return\": {\"exited\": true, \"signal\": 9}}");
        fakeqmp_expect(f, "{\"execute\": \"guest-exec-status\", \"arguments\": {\"pid\": 323}}");
        fakeqmp_send(f, "{\"return\": {\"exited\": true, \"out-data\": \"not base64!\"}}");
        g = open_fake(f, 5000, &err);
        ok(g, "connect (%s)", err.msg);
        if (!g)
                goto out;
        ok(qga_exec(g, "/bin/sh", argv, env, "\0\xff\n", 3, true, &pid, &err) == 0 && pid == 321,
           "guest-exec: path, args, env, base64 input, capture; the pid comes back (%s)", err.msg);
        ok(qga_exec_status(g, 321, &st, &err) == 0 && !st.exited && !st.out && !st.errout,
           "guest-exec-status: still running, no output yet (%s)", err.msg);
        qga_exec_status_done(&st);
        ok(qga_exec_status(g, 321, &st, &err) == 0 && st.exited && st.exitcode == 3 && st.signal == 0 &&
                   st.out_len == 3 && memcmp(st.out, "\0\xff\n", 3) == 0 && st.err_len == 4 &&
                   memcmp(st.errout, "err\n", 4) == 0 && st.err_truncated && !st.out_truncated,
           "guest-exec-status: exit code, binary stdout and stderr apart, truncation flags (%s)", err.msg);
        qga_exec_status_done(&st);
        ok(qga_exec(g, "sleep", NULL, NULL, NULL, 0, false, &pid, &err) == 0 && pid == 322, "guest-exec: bare path (%s)",
           err.msg);
        ok(qga_exec_status(g, 322, &st, &err) == 0 && st.exited && st.signal == 9 && st.exitcode == -1,
           "guest-exec-status: a signal, and no exit code (%s)", err.msg);
        qga_exec_status_done(&st);
        ok(qga_exec_status(g, 323, &st, &err) < 0 && err.code == EPROTO && tap_contains(err.msg, "out-data"),
           "guest-exec-status: output that is not base64 is EPROTO (%s)", err.msg);
out:
        qga_free(TAKE_PTR(g));
        fakeqmp_check(f, "exec");
}

static void test_files(void)
{
        struct fakeqmp *f = fakeqmp_new();
        struct qc_err err = { 0 };
        _cleanup_qga_ struct qga *g = NULL;
        _cleanup_free_ unsigned char *buf = NULL;
        int64_t h = 0;
        size_t len = 0, wrote = 0;
        bool eof = false;

        fakeqmp_expect_sync(f);
        fakeqmp_send(f, SYNC_REPLY);
        fakeqmp_expect(f, "{\"execute\": \"guest-file-open\", \"arguments\": {\"path\": \"/tmp/x\", \"mode\": \"r\"}}");
        fakeqmp_send(f, "{\"return\": 1000}");
        fakeqmp_expect(f, "{\"execute\": \"guest-file-read\", \"arguments\": {\"handle\": 1000, \"count\": 4096}}");
        fakeqmp_send(f, "{\"return\": {\"count\": 2, \"buf-b64\": \"AP8=\", \"eof\": true}}");
        fakeqmp_expect(f, "{\"execute\": \"guest-file-read\", \"arguments\": {\"handle\": 1000, \"count\": 4096}}");
        fakeqmp_send(f, "{\"return\": {\"count\": 5, \"buf-b64\": \"AP8=\", \"eof\": true}}");
        fakeqmp_expect(f, "{\"execute\": \"guest-file-write\", \"arguments\": {\"handle\": 1000, \"buf-b64\": \"AP8=\", \"count\": 2}}");
        fakeqmp_send(f, "{\"return\": {\"count\": 2, \"eof\": false}}");
        fakeqmp_expect(f, "{\"execute\": \"guest-file-close\", \"arguments\": {\"handle\": 1000}}");
        fakeqmp_send(f, "{\"return\": {}}");
        fakeqmp_expect(f, "{\"execute\": \"guest-file-open\", \"arguments\": {\"path\": \"/nope\", \"mode\": \"r\"}}");
        fakeqmp_send(f, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"failed to open file '/nope' (mode: 'r'): No such file or directory\"}}");
        g = open_fake(f, 5000, &err);
        ok(g, "connect (%s)", err.msg);
        if (!g)
                goto out;
        ok(qga_file_open(g, "/tmp/x", "r", &h, &err) == 0 && h == 1000, "guest-file-open gives the handle (%s)", err.msg);
        ok(qga_file_read(g, h, 4096, &buf, &len, &eof, &err) == 0 && len == 2 && memcmp(buf, "\0\xff", 2) == 0 && eof,
           "guest-file-read: binary bytes and eof (%s)", err.msg);
        free(TAKE_PTR(buf));
        ok(qga_file_read(g, h, 4096, &buf, &len, &eof, &err) < 0 && err.code == EPROTO,
           "guest-file-read: a count that is not the data's length is EPROTO (%s)", err.msg);
        ok(qga_file_write(g, h, "\0\xff", 2, &wrote, &err) == 0 && wrote == 2, "guest-file-write (%s)", err.msg);
        ok(qga_file_close(g, h, &err) == 0, "guest-file-close (%s)", err.msg);
        ok(qga_file_open(g, "/nope", "r", &h, &err) < 0 && err.code == EIO && tap_contains(err.msg, "No such file"),
           "guest-file-open of a missing file: the agent's words (%s)", err.msg);
out:
        qga_free(TAKE_PTR(g));
        fakeqmp_check(f, "files");
}

/* guest-shutdown answers only when it fails. */
static void test_shutdown(void)
{
        static const char *const outcome[] = { "the socket closes", "the sync comes back", "the agent refuses",
                                               "nothing comes" };

        for (int k = 0; k < 4; k++) {
                struct fakeqmp *f = fakeqmp_new();
                struct qc_err err = { 0 };
                _cleanup_qga_ struct qga *g = NULL;
                int r = 99;

                fakeqmp_expect_sync(f);
                fakeqmp_send(f, SYNC_REPLY);
                fakeqmp_expect(f, "{\"execute\": \"guest-shutdown\", \"arguments\": {\"mode\": \"powerdown\"}}");
                if (k == 0) {
                        fakeqmp_close(f);
                } else {
                        fakeqmp_expect_sync(f);
                        if (k == 1)
                                fakeqmp_send(f, SYNC_REPLY);
                        if (k == 2) {
                                fakeqmp_send(f, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"child process has failed to shutdown\"}}");
                                fakeqmp_send(f, SYNC_REPLY);
                        }
                        if (k == 3)
                                fakeqmp_wait_eof(f);
                }
                g = open_fake(f, k == 3 ? 200 : 5000, &err);
                if (g)
                        r = qga_shutdown(g, NULL, &err);
                if (k == 2)
                        ok(r == -1 && tap_contains(err.msg, "guest-shutdown: GenericError: child process has failed"),
                           "guest-shutdown, %s: -1 with its words (%s)", outcome[k], err.msg);
                else
                        is_int(r, k == 3 ? 0 : 1, "guest-shutdown, %s (%s)", outcome[k], err.msg);
                qga_free(TAKE_PTR(g));
                fakeqmp_check(f, outcome[k]);
        }
}

static void test_no_agent(void)
{
        struct fakeqmp *f = fakeqmp_new();
        struct qc_err err = { 0 };
        struct qga *g;

        fakeqmp_wait_eof(f); /* a port with no agent behind it reads and never answers */
        g = open_fake(f, 200, &err);
        ok(!g && err.code == ETIMEDOUT && tap_contains(err.msg, "guest-sync-delimited"),
           "no agent: connect times out in the sync, saying so (%s)", err.msg);
        qga_free(g);
        fakeqmp_check(f, "no agent");
}

/* wait --for agent: the socket is not there yet, then the guest boots. */
static void test_connect_wait(void)
{
        char dir[] = "/tmp/test-qga.XXXXXX", path[64];
        struct fakeqmp *f = fakeqmp_new();
        struct qc_err err = { 0 };
        struct qga *g = NULL;

        if (!mkdtemp(dir))
                abort();
        snprintf(path, sizeof path, "%s/qga.sock", dir);
        ok(qga_connect_wait(path, 300, 100, 5000, &g, &err) < 0 && err.code == ETIMEDOUT &&
                   tap_contains(err.msg, "No such file"),
           "no socket: ETIMEDOUT after the wait, saying why (%s)", err.msg);
        fakeqmp_expect_sync(f); /* the guest still boots: unanswered */
        fakeqmp_expect_sync(f);
        fakeqmp_send(f, SYNC_REPLY);
        fakeqmp_expect(f, "{\"execute\": \"guest-ping\"}");
        fakeqmp_send(f, "{\"return\": {}}");
        if (fakeqmp_listen(f, path) < 0)
                abort();
        ok(qga_connect_wait(path, 5000, 150, 5000, &g, &err) == 0, "an agent that answers the second sync (%s)",
           err.msg);
        if (g)
                ok(qga_ping(g, &err) == 0, "and then commands (%s)", err.msg);
        qga_free(g);
        fakeqmp_check(f, "connect_wait");
        rmdir(dir);
}

int main(void)
{
        test_base64();
        test_connect_skips_stale();
        test_stale_after_timeout();
        test_garbage_reply_resyncs();
        test_exec();
        test_files();
        test_shutdown();
        test_no_agent();
        test_connect_wait();
        return tap_done();
}
