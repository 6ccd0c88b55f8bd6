/* common/: sizes, CPU lists, string vectors, errors. */
#include <errno.h>

#include "common/cpuset.h"
#include "common/err.h"
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
}

static void test_err(void)
{
        struct qc_err err = { 0 };

        qc_err_sys(&err, ENOENT, "open `%s`", "x");
        is_str(err.msg, "open `x`: No such file or directory", "sys error text");
        qc_err_wrap(&err, "cgroup `%s`", "vm1");
        is_str(err.msg, "cgroup `vm1`: open `x`: No such file or directory", "wrapped");
        is_int(err.code, ENOENT, "code kept");
}

int main(void)
{
        test_size();
        test_cpuset();
        test_strv();
        test_err();
        return tap_done();
}
