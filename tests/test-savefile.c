/* launcher/savefile (the save file's format), launcher/spec-diff (what a
 * restore requires identical), and qmp_getfd's fd passing. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/io.h"
#include "common/strv.h"
#include "launcher/savefile.h"
#include "launcher/spec-diff.h"
#include "launcher/spec.h"
#include "qmp/qmp.h"
#include "tests/tap.h"

static char dir[] = "/tmp/qemuctl-test-savefile-XXXXXX";

static const char spec_text[] = "{ \"name\": \"a\", \"accel\": \"tcg\", \"memory\": { \"size\": \"256M\" } }";

static char *path_in(const char *name)
{
        return path_join(dir, name);
}

/* stream + one disk + metadata, as save writes it */
static int write_save(const char *path, const char *disk, struct savefile_disk *d)
{
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        struct savefile sf = { .name = "a", .path = "/x/a.json", .spec = (char *)spec_text, .running = true,
                               .saved_at = 1234, .stream_length = 8, .disks = d, .n_disks = 1 };
        struct qc_err err = { 0 };

        if (fd < 0 || write_all(fd, "QEVM\0\0\0\3", 8) < 0)
                return -1;
        *d = (struct savefile_disk){ .index = 0, .file = (char *)disk, .captured = true };
        if (savefile_append_file(fd, disk, &d->offset, &d->length, &d->mode, &err) < 0) {
                printf("# %s\n", err.msg);
                return -1;
        }
        d->size = d->length;
        if (savefile_finish(fd, &sf, &err) < 0) {
                printf("# %s\n", err.msg);
                return -1;
        }
        return 0;
}

static void test_roundtrip(void)
{
        _cleanup_free_ char *save = path_in("a.save"), *disk = path_in("disk.img"), *back = path_in("back.img");
        _cleanup_free_ char *text = NULL;
        struct savefile_disk d;
        struct savefile sf = { 0 };
        struct qc_err err = { 0 };
        size_t len = 0;

        ok(write_file(disk, "disk bytes at the save\n", 0640) == 0, "a disk image");
        ok(write_save(save, disk, &d) == 0, "save file written");
        _cleanup_close_ int fd = open(save, O_RDONLY | O_CLOEXEC);
        if (!ok(savefile_read(fd, &sf, &err) == 0, "read back (%s)", err.msg))
                return;
        is_str(sf.name, "a", "name");
        is_str(sf.path, "/x/a.json", "path");
        ok(strstr(sf.spec, "\"256M\"") != NULL, "the spec");
        ok(sf.running, "running");
        is_int(sf.saved_at, 1234, "saved_at");
        is_int(sf.stream_offset, 0, "the stream at 0");
        is_int(sf.stream_length, 8, "the stream's length");
        is_int(sf.n_disks, 1, "one disk");
        ok(sf.disks[0].captured, "captured");
        is_int(sf.disks[0].offset, 8, "after the stream");
        is_int(sf.disks[0].length, 23, "its length");
        is_int(sf.disks[0].mode, 0640, "its mode");
        ok(savefile_extract(fd, sf.disks[0].offset, sf.disks[0].length, back, sf.disks[0].mode, &err) == 0,
           "extract (%s)", err.msg);
        ok(read_file(back, 0, &text, &len) == 0 && strcmp(text, "disk bytes at the save\n") == 0, "byte for byte");
        struct stat st;
        ok(stat(back, &st) == 0 && (st.st_mode & 0777) == 0640, "with its mode");
        savefile_done(&sf);
}

/* the file with its last n bytes cut, or one byte at off changed to c */
static int damaged(const char *from, const char *to, off_t cut, off_t off, char c)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        _cleanup_close_ int fd = -1;

        if (read_file(from, 0, &text, &len) < 0)
                return -1;
        if (off >= 0)
                text[len - (size_t)off] = c;
        fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        return fd < 0 ? -1 : write_all(fd, text, len - (size_t)cut);
}

static void expect_bad(const char *path, const char *want, const char *what)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct savefile sf = { 0 };
        struct qc_err err = { 0 };
        int r = savefile_read(fd, &sf, &err);

        ok(r < 0 && err.code == EINVAL && strstr(err.msg, want), "%s: refused (%s)", what, err.msg);
        savefile_done(&sf);
}

static void test_damaged(void)
{
        _cleanup_free_ char *save = path_in("a.save"), *bad = path_in("bad.save");
        _cleanup_close_ int fd = -1;
        struct qc_err err = { 0 };
        uint64_t off, len;
        char footer[SAVEFILE_FOOTER_LEN];

        ok(damaged(save, bad, 1, -1, 0) == 0, "cut by one byte");
        expect_bad(bad, "no footer", "truncated");
        ok(damaged(save, bad, 0, 30, '9') == 0, "a digit of the footer changed");
        expect_bad(bad, "do not fit the file", "a footer that lies");
        ok(damaged(save, bad, 0, 64 + 3, 'x') == 0, "the metadata's end damaged");
        expect_bad(bad, "not one JSON object", "damaged metadata");
        ok(write_file(bad, "", 0600) == 0, "an empty file");
        expect_bad(bad, "shorter than its footer", "empty");

        memset(footer, ' ', sizeof footer);
        memcpy(footer, "qemuctl-save 2 00000000000000000000 00000000000000000001", 56);
        footer[63] = '\n';
        ok(savefile_parse_footer(footer, sizeof footer, 65, &off, &len, &err) < 0 && strstr(err.msg, "version 2"),
           "a later version says so (%s)", err.msg);

        static const char *const metas[][2] = {
                { "{\"format\":\"qemuctl-save\",\"version\":1,\"name\":\"a\",\"spec\":{},\"stream\":{\"offset\":0,\"length\":200}}",
                  "outside the file" },
                { "{\"format\":\"qemuctl-save\",\"version\":1,\"name\":\"a\",\"spec\":{},\"stream\":{\"offset\":90,\"length\":-1}}",
                  "no offset and length" },
                { "{\"format\":\"qemuctl-save\",\"version\":1,\"name\":\"a\",\"spec\":{},\"stream\":{\"offset\":0,\"length\":10},"
                  "\"disks\":[{\"index\":0,\"file\":\"x\",\"captured\":true,\"offset\":5,\"length\":96}]}",
                  "disks[0] lies outside" },
                { "{\"format\":\"qemuctl-save\",\"version\":1,\"name\":\"a\",\"spec\":{},\"stream\":{\"offset\":0,\"length\":10},"
                  "\"disks\":[{\"index\":0,\"file\":\"x\"},{\"index\":0,\"file\":\"y\"}]}",
                  "a disk index twice" },
                { "{\"format\":\"qemuctl-save\",\"version\":1,\"name\":\"a\",\"stream\":{\"offset\":0,\"length\":10}}",
                  "no \"spec\"" },
                { "{\"format\":\"other\"}", "does not say" },
                { "{\"format\":\"qemuctl-save\",\"version\":1,\"name\":\"a\",\"spec\":{},\"stream\":{\"offset\":0,\"length\":10}} x",
                  "not one JSON object" },
        };
        for (size_t i = 0; i < sizeof metas / sizeof metas[0]; i++) {
                struct savefile sf = { 0 };
                int r = savefile_parse_meta(metas[i][0], strlen(metas[i][0]), 100, &sf, &err);
                ok(r < 0 && err.code == EINVAL && strstr(err.msg, metas[i][1]), "metadata %zu refused: %s (%s)", i,
                   metas[i][1], err.msg);
                savefile_done(&sf);
        }
}

static struct vm_spec *parse(const char *text)
{
        struct spec_diags d = { 0 };
        struct vm_spec *s = NULL;
        struct qc_err err = { 0 };

        if (spec_parse("/tmp/vm.json", text, strlen(text), &s, &d, &err) < 0) {
                for (size_t i = 0; i < d.n; i++)
                        printf("# %s: %s\n", d.v[i].path, d.v[i].msg);
                s = NULL;
        }
        spec_diags_done(&d);
        return s;
}

static size_t n_diffs(const char *a, const char *b, const char *want)
{
        struct vm_spec *sa = parse(a), *sb = parse(b);
        _cleanup_strv_free_ char **diff = NULL;
        struct qc_err err = { 0 };
        size_t n = 0;
        bool found = !want;

        if (sa && sb && spec_restore_diff(sa, sb, &diff, &err) == 0) {
                for (n = 0; diff[n]; n++) {
                        printf("#   %s\n", diff[n]);
                        if (want && strcmp(diff[n], want) == 0)
                                found = true;
                }
        } else {
                n = 999;
        }
        spec_free(sa);
        spec_free(sb);
        return found ? n : 998;
}

static void test_diff(void)
{
#define VM(x) "{ \"name\": \"a\", \"accel\": \"tcg\", \"cpu\": { \"vcpus\": 2 }, \"memory\": { \"size\": \"256M\" }" x "}"
        is_int(n_diffs(VM(""), VM(""), NULL), 0, "the same VM: no difference");
        is_int(n_diffs(VM(""),
                       "{ \"name\": \"b\", \"accel\": \"tcg\", \"cpu\": { \"vcpus\": 2, \"pin\": { \"0\": \"1\" }, "
                       "\"weight\": 50 }, \"memory\": { \"size\": \"256M\", \"limits\": { \"hard\": \"1G\" } }, "
                       "\"cgroup\": { \"parent\": \"ci\" }, \"serial_log_max\": \"1M\" }",
                       NULL),
               0, "name, pinning, weight, limits, cgroup, serial_log_max: the host's side, no difference");
        is_int(n_diffs(VM(""),
                       "{ \"name\": \"a\", \"accel\": \"tcg\", \"cpu\": { \"vcpus\": 2, \"placement\": \"auto\", "
                       "\"cpuset\": \"1\" }, \"memory\": { \"size\": \"256M\" }, \"numa\": { \"placement\": \"auto\", "
                       "\"nodeset\": \"1\" } }",
                       NULL),
               0, "automatic placement and what it chose: the host's side, no difference");
        is_int(n_diffs(VM(""), "{ \"name\": \"a\", \"accel\": \"tcg\", \"cpu\": { \"vcpus\": 2 }, \"memory\": { \"size\": \"512M\" } }",
                       "memory.size: saved \"256M\", VM file \"512M\""),
               1, "memory.size differs, named with both values");
        is_int(n_diffs(VM(", \"display\": { \"vnc\": \"127.0.0.1:1\" }"), VM(", \"display\": { \"vnc\": \"127.0.0.1:7\" }"), NULL),
               0, "another VNC address: the same VGA card");
        is_int(n_diffs(VM(", \"display\": { \"vnc\": \"127.0.0.1:1\" }"), VM(""),
                       "display: saved a VNC display (a VGA card), VM file \"none\""),
               1, "no display: the VGA card is missing");
        is_int(n_diffs(VM(", \"disks\": [ { \"file\": \"/a.qcow2\", \"format\": \"qcow2\", \"cache\": \"none\" } ]"),
                       VM(", \"disks\": [ { \"file\": \"/b.qcow2\", \"format\": \"qcow2\" } ]"), NULL),
               0, "another disk file and cache mode: the same disk to the guest");
        /* start --restore --name b: {name} makes each copy's folder its own */
        is_int(n_diffs(VM(", \"shares\": [ { \"path\": \"/srv/{name}\", \"tag\": \"out\", \"mode\": \"9p\" } ]"),
                       "{ \"name\": \"b\", \"accel\": \"tcg\", \"cpu\": { \"vcpus\": 2 }, \"memory\": { \"size\": "
                       "\"256M\" }, \"shares\": [ { \"path\": \"/srv/{name}\", \"tag\": \"out\", \"mode\": \"9p\" } ] }",
                       NULL),
               0, "a share's path with {name}, restored under another name: the host's side, no difference");
        is_int(n_diffs(VM(", \"shares\": [ { \"path\": \"/srv/a\", \"tag\": \"out\", \"mode\": \"9p\" } ]"),
                       VM(", \"shares\": [ { \"path\": \"/srv/a\", \"tag\": \"in\", \"mode\": \"9p\" } ]"),
                       "shares[0].tag: saved \"out\", VM file \"in\""),
               1, "another tag is what the guest mounts: a difference");
        is_int(n_diffs(VM(", \"disks\": [ { \"file\": \"/a.qcow2\", \"format\": \"qcow2\" } ]"),
                       VM(", \"disks\": [ { \"file\": \"/a.qcow2\", \"format\": \"qcow2\", \"bus\": \"sata\" } ]"),
                       "disks[0].bus: saved \"virtio\", VM file \"sata\""),
               1, "another bus is another device");
        ok(n_diffs(VM(", \"disks\": [ { \"file\": \"/a.qcow2\", \"format\": \"qcow2\" } ]"), VM(""),
                   "disks: saved 1 entries, VM file (not set)") < 998,
           "a disk fewer: named");
        is_int(n_diffs(VM(", \"disks\": [ { \"file\": \"/a.qcow2\", \"format\": \"qcow2\" } ]"),
                       VM(", \"disks\": [ { \"file\": \"/a.qcow2\" } ]"), NULL),
               0, "a format left out (auto) against the probed one saved in spec.json: no difference");
        is_int(n_diffs(VM(", \"disks\": [ { \"file\": \"/a.qcow2\", \"format\": \"qcow2\" } ]"),
                       VM(", \"disks\": [ { \"file\": \"/a.qcow2\", \"format\": \"raw\" } ]"), NULL),
               1, "another format given: a difference");
        is_int(n_diffs(VM(", \"qemu\": { \"args\": [\"-device\", \"virtio-rng-pci\"] }"), VM(""), NULL), 1,
               "qemu.args may add devices: compared");
        is_int(n_diffs(VM(", \"guest_agent\": true"), VM(""), "guest_agent: saved true, VM file false"), 1,
               "guest_agent is a device");
#undef VM
}

/* qmp_getfd: the fd rides on the command's first byte */
static void test_getfd(void)
{
        int sv[2];
        _cleanup_free_ char *file = path_in("passed");
        _cleanup_close_ int mine = -1;
        struct qmp *q = NULL;
        struct qc_err err = { 0 };
        static const char script[] =
                "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, \"package\": \"\"}, "
                "\"capabilities\": []}}\r\n{\"return\": {}, \"id\": 1}\r\n{\"return\": {}, \"id\": 2}\r\n";

        ok(write_file(file, "x", 0600) == 0 && (mine = open(file, O_RDONLY | O_CLOEXEC)) >= 0, "a file to pass");
        if (!ok(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair"))
                return;
        ok(write_all(sv[1], script, strlen(script)) == 0, "greeting and replies queued");
        ok(qmp_open_fd(sv[0], 5000, &q, &err) == 0, "connected (%s)", err.msg);
        ok(q && qmp_getfd(q, mine, "f1", &err) == 0, "getfd (%s)", err.msg);

        /* the peer's side: capabilities, then getfd with the fd */
        char buf[4096] = { 0 };
        union {
                char c[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        int got = -1;
        size_t have = 0;
        for (int i = 0; i < 8 && !strstr(buf, "getfd\"") ; i++) {
                struct iovec iov = { .iov_base = buf + have, .iov_len = sizeof buf - 1 - have };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.c, .msg_controllen = sizeof u.c };
                ssize_t n = recvmsg(sv[1], &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
                if (n <= 0)
                        break;
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                                memcpy(&got, CMSG_DATA(c), sizeof got);
                have += (size_t)n;
        }
        ok(strstr(buf, "{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"f1\"},\"id\":2}") != NULL, "getfd sent (%s)",
           buf);
        struct stat a, b;
        ok(got >= 0 && fstat(got, &a) == 0 && fstat(mine, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev,
           "the peer received the very file");
        if (got >= 0)
                close(got);
        ok(qmp_execute_fd(q, "getfd", NULL, -1, NULL, &err) < 0 && err.code == EBADF, "no fd: refused");
        qmp_free(q);
        close(sv[1]);
}

int main(void)
{
        if (!mkdtemp(dir))
                tap_skip_all("mkdtemp: %s", strerror(errno));
        test_roundtrip();
        test_damaged();
        test_diff();
        test_getfd();
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        (void)!system(cmd);
        return tap_done();
}
