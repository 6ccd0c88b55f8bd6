/* launcher/serial-log: the bounded serial.log (rotation to serial.log.1) and
 * the follower `wait --for serial:` reads it with: incremental, line by line,
 * NUL bytes kept, past 64 MiB, across a rotation. The writer here is the
 * honest seam: it is the code the supervisor runs for QEMU's pipe. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "launcher/serial-log.h"
#include "tests/tap.h"

static char dir[] = "/tmp/qemuctl-test-serial-XXXXXX";
static int dir_fd = -1;
static char path[256], path1[256];

static long long size_of(const char *p)
{
        struct stat st;

        return stat(p, &st) == 0 ? (long long)st.st_size : -1;
}

/* What the follower handed: complete lines joined by '|', and the partial one. */
struct seen {
        char buf[65536];
        size_t len;
        size_t lines;
        char partial[256];
        const char *want; /* match on this substring (memmem: NUL-safe) */
        size_t big_lines;
};

static bool collect(const char *line, size_t len, bool partial, void *ud)
{
        struct seen *s = ud;

        if (s->want && memmem(line, len, s->want, strlen(s->want)))
                return true;
        if (partial) {
                snprintf(s->partial, sizeof s->partial, "%.*s", (int)len, line);
                return false;
        }
        s->lines++;
        if (len > 100) {
                s->big_lines++;
                return false;
        }
        if (s->len + len + 1 < sizeof s->buf) {
                memcpy(s->buf + s->len, line, len);
                s->len += len;
                s->buf[s->len++] = '|';
                s->buf[s->len] = '\0';
        }
        return false;
}

static void test_rotation(void)
{
        struct serial_log *l = NULL;
        struct qc_err err = { 0 };
        char chunk[300];

        write(open(path1, O_WRONLY | O_CREAT | O_CLOEXEC, 0600), "stale", 5);
        ok(serial_log_open(path, 1000, &l, &err) == 0, "open with a bound of 1000 bytes (%s)", err.msg);
        is_int(size_of(path1), -1, "a stale serial.log.1 of an earlier run is removed");
        memset(chunk, 'a', sizeof chunk);
        for (int i = 0; i < 10; i++)
                serial_log_write(l, chunk, sizeof chunk, &err);
        serial_log_close(l);
        /* 3000 bytes: two rotations, the first 1000 dropped */
        is_int(size_of(path), 1000, "serial.log holds the newest 1000 bytes");
        is_int(size_of(path1), 1000, "serial.log.1 the 1000 before");

        l = NULL;
        ok(serial_log_open(path, 0, &l, &err) == 0, "open without a bound");
        for (int i = 0; i < 10; i++)
                serial_log_write(l, chunk, sizeof chunk, &err);
        serial_log_close(l);
        is_int(size_of(path), 3000, "0 = no bound: nothing rotates");
}

static void test_pump(void)
{
        struct serial_log_pump p = { .fd = -1 };
        struct qc_err err = { 0 };
        pthread_t t;
        int fds[2];
        char buf[4096];

        memset(buf, 'b', sizeof buf);
        if (pipe2(fds, O_CLOEXEC) < 0 || serial_log_open(path, 10000, &p.log, &err) < 0)
                abort();
        p.fd = fds[0];
        ok(pthread_create(&t, NULL, serial_log_pump, &p) == 0, "pump thread");
        for (int i = 0; i < 100; i++)
                write(fds[1], buf, sizeof buf);
        close(fds[1]);
        pthread_join(t, NULL);
        serial_log_close(p.log);
        is_int(p.fd, -1, "the pump ends at EOF and closes the pipe");
        ok(size_of(path) <= 10000 && size_of(path1) == 10000,
           "409600 bytes through the pipe leave %lld + %lld bytes, within the bound", size_of(path), size_of(path1));
}

static void test_follow(void)
{
        struct serial_follow *f = NULL;
        struct qc_err err = { 0 };
        struct seen s = { 0 };
        int fd;

        unlink(path);
        unlink(path1);
        ok(serial_follow_open(dir_fd, "serial.log", &f, &err) == 0, "follow a log that does not exist yet");
        is_int(serial_follow_scan(f, collect, &s, &err), 0, "nothing to read yet");
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        write(fd, "one\ntwo\nlog", 11);
        is_int(serial_follow_scan(f, collect, &s, &err), 0, "scan");
        is_str(s.buf, "one|two|", "complete lines handed once");
        is_str(s.partial, "log", "the unfinished line handed as partial");
        write(fd, "in: \nthree\n", 11);
        is_int(serial_follow_scan(f, collect, &s, &err), 0, "scan again");
        is_str(s.buf, "one|two|login: |three|", "only what is new, the partial line completed");

        /* a NUL byte is one more character */
        write(fd, "x\0after MARK\n", 13);
        s.want = "after MARK";
        is_int(serial_follow_scan(f, collect, &s, &err), 1, "a match after a NUL byte on the same line");
        close(fd);
        serial_follow_close(f);
}

/* `run --serial-log FILE` makes serial.log a symlink to FILE */
static void test_follow_symlink(void)
{
        struct serial_follow *f = NULL;
        struct qc_err err = { 0 };
        struct seen s = { .want = "ready" };
        char target[300];
        int fd;

        snprintf(target, sizeof target, "%s/elsewhere.log", dir);
        unlink(path);
        fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        write(fd, "guest: ready\n", 13);
        close(fd);
        ok(symlink(target, path) == 0, "serial.log -> elsewhere.log");
        serial_follow_open(dir_fd, "serial.log", &f, &err);
        is_int(serial_follow_scan(f, collect, &s, &err), 1, "followed through the symlink (%s)", err.msg);
        serial_follow_close(f);
        unlink(path);
        unlink(target);
}

static void test_follow_big(void)
{
        struct serial_follow *f = NULL;
        struct qc_err err = { 0 };
        struct seen s = { .want = "END-MARK" };
        char *block = malloc(1 << 20);
        int fd;

        unlink(path);
        if (!block)
                abort();
        /* 65 MiB of 1 KiB lines, then the mark */
        for (size_t i = 0; i < (1 << 20); i += 1024) {
                memset(block + i, 'z', 1023);
                block[i + 1023] = '\n';
        }
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        for (int i = 0; i < 65; i++)
                write(fd, block, 1 << 20);
        write(fd, "END-MARK\n", 9);
        close(fd);
        free(block);
        serial_follow_open(dir_fd, "serial.log", &f, &err);
        is_int(serial_follow_scan(f, collect, &s, &err), 1, "a match past 64 MiB");
        is_int(s.big_lines, 65 * 1024, "every line before it was handed once");
        serial_follow_close(f);
        unlink(path);
}

static void test_follow_rotation(void)
{
        struct serial_log *l = NULL;
        struct serial_follow *f = NULL;
        struct qc_err err = { 0 };
        struct seen s = { 0 };
        char line[64], want[256] = "";
        int n;

        /* 4-byte lines, 10 to a file; a scan every 8 lines sees every
         * rotation (one at most between two scans) */
        serial_log_open(path, 40, &l, &err);
        serial_follow_open(dir_fd, "serial.log", &f, &err);
        for (int i = 0; i < 40; i++) {
                n = snprintf(line, sizeof line, "L%02d\n", i);
                serial_log_write(l, line, (size_t)n, &err);
                snprintf(want + strlen(want), sizeof want - strlen(want), "L%02d|", i);
                if (i % 8 == 7)
                        serial_follow_scan(f, collect, &s, &err);
        }
        is_int(serial_follow_scan(f, collect, &s, &err), 0, "scan");
        is_str(s.buf, want, "every line once, in order, across three rotations");
        serial_log_close(l);
        serial_follow_close(f);

        /* a new follower reads serial.log.1 first */
        memset(&s, 0, sizeof s);
        serial_follow_open(dir_fd, "serial.log", &f, &err);
        serial_follow_scan(f, collect, &s, &err);
        is_str(s.buf, want + 4 * 20, "a new follower: the last two files, oldest first");
        serial_follow_close(f);
}

int main(void)
{
        if (!mkdtemp(dir) || (dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                return 1;
        snprintf(path, sizeof path, "%s/serial.log", dir);
        snprintf(path1, sizeof path1, "%s/serial.log.1", dir);
        test_rotation();
        test_pump();
        test_follow();
        test_follow_symlink();
        test_follow_big();
        test_follow_rotation();
        unlink(path);
        unlink(path1);
        rmdir(dir);
        return tap_done();
}
