/* common/: sizes, CPU lists, string vectors, errors, /proc. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/cpuset.h"
#include "common/err.h"
#include "common/io.h"
#include "common/proc.h"
#include "common/size.h"
#include "common/strv.h"
#include "tests/tap.h"

static void test_size(void)
{
        uint64_t v = 0;
        char buf[64];

        is_int(parse_size("512M", &v), 0, "512M parses");
        is_int(v, 512ull << 20, "512M is 512 MiB");
        is_int(parse_size("4G", &v), 0, "4G parses");
        is_int(v, 4ull << 30, "4G value");
        is_int(parse_size("2MiB", &v), 0, "2MiB parses");
        is_int(v, 2ull << 20, "2MiB value");
        is_int(parse_size("4096B", &v), 0, "bytes with B");
        is_int(v, 4096, "4096B value");
        is_int(parse_size("4096", &v), -EINVAL, "bare number refused");
        is_int(parse_size("lots", &v), -EINVAL, "words refused");
        is_int(parse_size("4X", &v), -EINVAL, "unknown unit refused");
        is_int(parse_size("", &v), -EINVAL, "empty refused");
        is_int(parse_size("16385P", &v), -ERANGE, "16385P overflows");
        is_int(parse_size("99999999999999999999K", &v), -ERANGE, "huge digits overflow");
        format_size(512ull << 20, buf, sizeof buf);
        is_str(buf, "512M", "format 512M");
        format_size(1536ull << 20, buf, sizeof buf);
        is_str(buf, "1536M", "format 1.5G as 1536M");
        format_size(1000, buf, sizeof buf);
        is_str(buf, "1000B", "format odd bytes");
        format_size_human(1536ull << 20, buf, sizeof buf);
        is_str(buf, "1.5 GiB", "human 1.5 GiB");
}

static void test_cpuset(void)
{
        struct cpuset cs;
        char buf[128];
        size_t pos = 0;

        is_int(cpuset_parse("0-3,8,^2", &cs, NULL), 0, "0-3,8,^2 parses");
        is_int(cpuset_count(&cs), 4, "four CPUs");
        ok(!cpuset_isset(&cs, 2), "2 excluded");
        cpuset_format(&cs, buf, sizeof buf);
        is_str(buf, "0-1,3,8", "formatted back");
        is_int(cpuset_parse("0-15:2/4", &cs, NULL), 0, "stride parses");
        cpuset_format(&cs, buf, sizeof buf);
        is_str(buf, "0-1,4-5,8-9,12-13", "stride expands");
        is_int(cpuset_parse("3-1", &cs, &pos), -EINVAL, "backwards range refused");
        is_int(cpuset_parse("1,,2", &cs, &pos), -EINVAL, "empty element refused");
        is_int(pos, 2, "error position points at the problem");
        is_int(cpuset_parse("4096", &cs, NULL), -ERANGE, "CPU past the limit is ERANGE");
        is_int(cpuset_parse("99999999999999999999", &cs, NULL), -ERANGE, "huge number does not wrap");
        is_int(cpuset_parse("^1", &cs, NULL), -EINVAL, "only exclusions is empty");
        is_int(cpuset_last(&cs), cpuset_last(&cs), "last stable");
        cpuset_parse("4095", &cs, NULL);
        is_int(cpuset_last(&cs), 4095, "last is 4095");
        {
                struct cpuset a, b;
                char u[64];

                cpuset_parse("0-1,4095", &a, NULL);
                cpuset_parse("1-3", &b, NULL);
                cpuset_or(&a, &b);
                is_int(cpuset_format(&a, u, sizeof u), 0, "cpuset_or formats");
                is_str(u, "0-3,4095", "cpuset_or: the union");
        }
}

static void test_strv(void)
{
        _cleanup_strv_ strv sv = { 0 };
        _cleanup_free_ char *q1 = shell_quote("plain-word");
        _cleanup_free_ char *q2 = shell_quote("it's here");
        _cleanup_free_ char *q3 = shell_quote("");

        strv_push(&sv, "a");
        strv_pushf(&sv, "-m %d", 512);
        is_int(sv.n, 2, "two entries");
        is_str(sv.v[1], "-m 512", "formatted push");
        ok(sv.v[2] == NULL, "NULL-terminated");
        is_str(q1, "plain-word", "plain words unquoted");
        is_str(q2, "'it'\\''s here'", "single quote escaped");
        is_str(q3, "''", "empty quoted");

        /* join, contains, sort: the helpers defs/, firmware and host output use */
        {
                _cleanup_strv_ strv w = { 0 };
                _cleanup_free_ char *j1 = NULL, *j2 = NULL, *j3 = NULL;

                strv_push(&w, "vm2");
                strv_push(&w, "vm10");
                strv_push(&w, "a");
                strv_sort(&w);
                is_str((j1 = strv_join(w.v, ", ")), "a, vm10, vm2", "sorted in strcmp order, joined by sep");
                is_str((j2 = strv_join(NULL, ", ")), "", "NULL joins to \"\"");
                strv_done(&w);
                strv_push(&w, "one");
                is_str((j3 = strv_join(w.v, " ")), "one", "one string: no sep");
                ok(strv_contains(w.v, "one") && !strv_contains(w.v, "on") && !strv_contains(NULL, "one"),
                   "contains: the whole string, NULL holds nothing");
        }
}

static void test_err(void)
{
        struct qc_err err = { 0 };

        qc_err_sys(&err, ENOENT, "open `%s`", "x");
        is_str(err.msg, "open `x`: No such file or directory", "sys error text");
        qc_err_wrap(&err, "cgroup `%s`", "vm1");
        is_str(err.msg, "cgroup `vm1`: open `x`: No such file or directory", "wrapped");
        is_int(err.code, ENOENT, "code kept");

        {
                struct qc_err mine = { 0 }, out = { 0 };

                qc_err_set(&mine, EBUSY, "busy here");
                is_int(qc_err_pass(&out, &mine), -1, "pass: -1");
                ok(out.code == EBUSY && strcmp(out.msg, "busy here") == 0, "pass: code and message handed on");
                is_int(qc_err_pass(NULL, &mine), -1, "pass to NULL (a caller that does not care): -1, no crash");
        }
}

static void test_path_join(void)
{
        char *p;

        is_str((p = path_join("/run/qemuctl/vm1", "qmp.sock")), "/run/qemuctl/vm1/qmp.sock", "dir/name");
        free(p);
        is_str((p = path_join("/run/qemuctl/vm1//", "qmp.sock")), "/run/qemuctl/vm1/qmp.sock", "one slash");
        free(p);
        is_str((p = path_join("/", "x")), "/x", "the root");
        free(p);
        is_str((p = path_join("", "x")), "x", "no dir");
        free(p);
        is_str((p = path_join(NULL, "x")), "x", "NULL dir");
        free(p);
        is_str((p = path_beside("/vms/a/vm.json", "disk.qcow2")), "/vms/a/disk.qcow2", "beside a file");
        free(p);
        is_str((p = path_beside("a/vm.json", "d/x")), "a/d/x", "beside a relative file");
        free(p);
        is_str((p = path_beside("vm.json", "x")), "x", "a file without a directory");
        free(p);
        is_str((p = path_beside("/vms/vm.json", "/abs/x")), "/abs/x", "an absolute name stays");
        free(p);
}

/* text_tail: what a message shows of a log */
static void test_text_tail(void)
{
        char *t;

        is_str((t = text_tail("a\nb\n \n", 6, 100)), "a\nb", "trailing newlines and spaces left off");
        free(t);
        is_str((t = text_tail("0123456789\n", 11, 4)), "6789", "the last max bytes");
        free(t);
        ok(text_tail("\n \n", 3, 100) == NULL, "nothing but blanks: NULL");
        ok(text_tail("", 0, 100) == NULL, "empty: NULL");
}

/* unix_connect: the fd when someone listens, -errno otherwise (the callers
 * in qmp/, vm/ and cli/ tell "not there yet" from "too long" by it). */
static void test_unix_connect(void)
{
        char dir[] = "/tmp/test-common-XXXXXX", longp[200];
        struct sockaddr_un sa;
        _cleanup_free_ char *path = NULL;
        int l, c;

        if (!ok(mkdtemp(dir) != NULL, "a temporary directory (%s)", dir))
                return;
        path = path_join(dir, "s.sock");
        memset(longp, 'x', sizeof longp - 1);
        longp[0] = '/';
        longp[sizeof longp - 1] = 0;
        is_int(unix_sockaddr(longp, &sa), -ENAMETOOLONG, "a path past sun_path: ENAMETOOLONG");
        is_int(unix_connect(longp, 0), -ENAMETOOLONG, "unix_connect says so too");
        is_int(unix_connect(path, 0), -ENOENT, "nobody there: ENOENT");
        l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ok(l >= 0 && unix_sockaddr(path, &sa) == 0 && bind(l, (struct sockaddr *)&sa, sizeof sa) == 0,
           "bind to the address unix_sockaddr made");
        is_int(unix_connect(path, 0), -ECONNREFUSED, "bound, not listening: ECONNREFUSED");
        ok(listen(l, 1) == 0, "listen");
        c = unix_connect(path, SOCK_NONBLOCK);
        ok(c >= 0, "listening: connected (%d)", c);
        if (c >= 0)
                close(c);
        close(l);
        unlink(path);
        rmdir(dir);
}

static void test_proc_stat(void)
{
        struct proc_stat st = { 0 };
        /* a real TCG vCPU thread line (QEMU names them "CPU 0/TCG") */
        const char *line = "4242 (CPU 0/TCG) S 1 4240 4240 0 -1 4194368 1536 0 0 0 731 62 0 0 20 0 5 0 "
                           "123456 1234567890 5000 18446744073709551615 1 1 0 0 0 0 0 4096 17922 0 0 0 -1 7 0 "
                           "0 0 0 0 0 0 0 0 0 0 0\n";
        const char *weird = "7 (a) b (c)) R 1 1 1 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 1 1 1 1 1 1 0 0 0 0 0 0 0 0 "
                            "0 0 17 1 0 0\n";
        uint64_t start;
        pid_t pid;

        is_int(proc_stat_parse(line, &st), 0, "stat parses");
        is_int(st.state, 'S', "state S");
        is_int(st.utime, 731, "utime field 14");
        is_int(st.stime, 62, "stime field 15");
        is_int(st.start, 123456, "start time field 22");
        is_int(st.last_cpu, 7, "last cpu field 39");

        is_int(proc_stat_parse(weird, &st), 0, "comm with ') (' parses from the last ')'");
        is_int(st.state, 'R', "state after odd comm");
        is_int(st.utime + st.stime, 7, "times after odd comm");
        is_int(st.last_cpu, 1, "cpu after odd comm");

        is_int(proc_stat_parse("1 (x) S 1 2 3", &st), -EINVAL, "short line refused");
        is_int(proc_stat_parse("garbage", &st), -EINVAL, "no comm refused");
        is_int(proc_stat_parse("1 (x) S 1 2 3 4 5 6 7 8 9 10 zz 12", &st), -EINVAL, "word in numbers refused");

        /* real /proc: ourselves, a zombie, a reaped pid */
        is_int(proc_stat_read(getpid(), 0, &st), 0, "read our own stat");
        ok(st.state == 'R' || st.state == 'S', "we are running (%c)", st.state);
        start = proc_start_time(getpid());
        ok(start > 0 && start == st.start, "start time read");
        ok(proc_alive(getpid(), start), "alive with our start time");
        ok(!proc_alive(getpid(), start + 1), "a different start time is another process (pid reuse)");
        is_int(proc_stat_read(0, 0, &st), -ESRCH, "pid 0 is no process");

        pid = fork();
        if (pid == 0)
                _exit(0);
        /* not reaped yet: a zombie, which kill(pid, 0) would call alive */
        for (int i = 0; i < 200; i++) {
                if (proc_stat_read(pid, 0, &st) == 0 && st.state == 'Z')
                        break;
                usleep(10000);
        }
        ok(kill(pid, 0) == 0, "kill(pid, 0) says a zombie exists");
        ok(!proc_alive(pid, 0), "proc_alive says a zombie is dead");
        waitpid(pid, NULL, 0);
        ok(!proc_alive(pid, 0), "a reaped pid is dead");
        is_int(proc_stat_read(pid, 0, &st), -ENOENT, "a reaped pid has no stat");
}

static void test_proc_status_field(void)
{
        const char *text = "Name:\tqemu-system-x86\nVmRSS:\t  204800 kB\nMems_allowed:\t00000003\n"
                           "Mems_allowed_list:\t0-1\nVmSwap:";
        const char *v;
        size_t n = 99;

        v = proc_status_field(text, "VmRSS", &n);
        ok(v && n == 9 && strncmp(v, "204800 kB", n) == 0, "VmRSS: its value, blanks after the colon skipped");
        v = proc_status_field(text, "Mems_allowed_list", &n);
        ok(v && n == 3 && strncmp(v, "0-1", n) == 0, "Mems_allowed_list, not Mems_allowed, whose name it starts with");
        v = proc_status_field(text, "Mems_allowed", &n);
        ok(v && n == 8 && strncmp(v, "00000003", n) == 0, "Mems_allowed, not the _list line after it");
        v = proc_status_field(text, "Name", &n);
        ok(v && n == 15 && strncmp(v, "qemu-system-x86", n) == 0, "the first line's field");
        v = proc_status_field(text, "VmSwap", &n);
        ok(v && n == 0, "a last line without newline and value: empty");
        ok(!proc_status_field(text, "VmHWM", &n), "no such line: NULL");
        ok(!proc_status_field(text, "Vm", &n), "a key is the whole name before the colon");
}

static void test_proc_status_kb(void)
{
        const char *meminfo = "Node 10 AnonHugePages:   8 kB\nNode 1 MemFree:   900 kB\n"
                              "Node 1 AnonHugePages:     4096 kB\nNode 1 Bad:  -5 kB\nNode 1 Huge: 18014398509481984 kB\n";
        uint64_t v = 0;

        is_int(proc_status_kb(meminfo, "Node 1 AnonHugePages", &v), 0, "a node's meminfo line, its \"Node N \" in the key");
        is_int(v, 4096ull * 1024, "... in bytes, not node 10's line");
        is_int(proc_status_kb(meminfo, "Node 1 Bad", &v), -EINVAL, "a negative amount is refused");
        is_int(proc_status_kb(meminfo, "Node 1 Huge", &v), -EINVAL, "kB past 64 bits of bytes is refused");
        is_int(proc_status_kb(meminfo, "Node 1 AnonPages", &v), -ENOENT, "no such line: ENOENT");
        is_int(v, 4096ull * 1024, "... and the output untouched");
}

int main(void)
{
        test_size();
        test_cpuset();
        test_strv();
        test_err();
        test_proc_stat();
        test_proc_status_field();
        test_proc_status_kb();
        test_path_join();
        test_text_tail();
        test_unix_connect();
        return tap_done();
}
