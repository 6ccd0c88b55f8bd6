/* launcher/disk.c: spec_resolve_disks against real files and qemu-img. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "common/cleanup.h"
#include "common/io.h"
#include <stdarg.h>
#include "launcher/disk-internal.h"
#include "launcher/spec.h"
#include "tests/tap.h"

static char dir[] = "/tmp/qemuctl-test-disk-XXXXXX";

static char *path(const char *name)
{
        static char buf[8][256];
        static int i;

        i = (i + 1) % 8;
        snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
        return buf[i];
}

static int has_magic(const char *file)
{
        char *s = NULL;
        size_t n = 0;
        int r;

        if (read_file(file, 0, &s, &n) < 0)
                return -1;
        r = n >= 4 && memcmp(s, "QFI\xfb", 4) == 0;
        free(s);
        return r;
}

#define S(m) ((m) ? (m) : "(no diagnostic)")

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
        char cmd[2048];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(cmd, sizeof cmd, fmt, ap);
        va_end(ap);
        return system(cmd);
}

/* One disk, format auto unless given, through spec_check_disks: its
 * diagnostic (NULL: none) and the format resolve would use. */
static char *check_one(const char *file, enum vm_disk_format fmt, enum vm_disk_format *ret_fmt)
{
        struct vm_disk d = { .file = (char *)file, .format = fmt, .file_line = 2, .file_col = 3,
                             .format_line = fmt ? 2 : 0, .format_col = fmt ? 30 : 0 };
        struct vm_spec s = { .disks = &d, .n_disks = 1 };
        struct spec_diags diags = {};
        struct qc_err err = {};
        char *msg = NULL;

        if (spec_check_disks(&s, &diags, NULL, &err) < 0 && diags.n)
                msg = strdup(diags.v[0].msg);
        else if (ret_fmt && spec_resolve_disks(&s, false, &err) == 0)
                *ret_fmt = d.format;
        spec_diags_done(&diags);
        return msg;
}

/* Images made by qemu-img: the formats qemuctl opens resolve to their
 * driver; the others are refused with the convert line, and that line
 * works. */
static void test_formats(void)
{
        static const struct {
                const char *fmt;
                enum vm_disk_format want;
        } opened[] = {
                { "qed", VM_DISK_FORMAT_QED },   { "vdi", VM_DISK_FORMAT_VDI },
                { "vhdx", VM_DISK_FORMAT_VHDX }, { "vpc", VM_DISK_FORMAT_VPC },
                { "parallels", VM_DISK_FORMAT_PARALLELS },
        };
        static const char *const refused[] = { "vmdk", "qcow" };

        for (size_t i = 0; i < ELEMENTSOF(opened); i++) {
                enum vm_disk_format got = VM_DISK_FORMAT_AUTO;
                char name[32], *msg;

                snprintf(name, sizeof name, "img.%s", opened[i].fmt);
                if (sh("qemu-img create -q -f %s %s 16M", opened[i].fmt, path(name)) != 0) {
                        ok(1, "# SKIP qemu-img cannot make %s here", opened[i].fmt);
                        continue;
                }
                msg = check_one(path(name), VM_DISK_FORMAT_AUTO, &got);
                ok(!msg, "%s: opened (%s)", opened[i].fmt, msg ? msg : "");
                is_int(got, opened[i].want, "%s: auto resolves to its driver", opened[i].fmt);
                free(msg);
                msg = check_one(path(name), VM_DISK_FORMAT_RAW, NULL);
                ok(msg && strstr(msg, "now starts with a") && strstr(msg, opened[i].fmt),
                   "%s declared raw: refused, never raw bytes to a guest: %s", opened[i].fmt, msg);
                free(msg);
        }
        for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
                char name[32], want[512], *msg;

                snprintf(name, sizeof name, "old.%s", refused[i]);
                if (sh("qemu-img create -q -f %s %s 16M", refused[i], path(name)) != 0) {
                        ok(1, "# SKIP qemu-img cannot make %s here", refused[i]);
                        continue;
                }
                msg = check_one(path(name), VM_DISK_FORMAT_AUTO, NULL);
                snprintf(want, sizeof want, "qemu-img convert -f %s -O qcow2 %s %s", refused[i], path(name),
                         path("old.qcow2"));
                ok(msg && strstr(msg, want), "%s: refused with `%s`: %s", refused[i], want, msg);
                unlink(path("old.qcow2"));
                ok(sh("%s", want) == 0, "%s: and that line makes the qcow2", refused[i]);
                free(msg);
                msg = check_one(path("old.qcow2"), VM_DISK_FORMAT_AUTO, NULL);
                ok(!msg, "%s: the copy is opened (%s)", refused[i], msg ? msg : "");
                free(msg);
                unlink(path("old.qcow2"));
        }
        /* luks: the line needs the key, as a secret object */
        write_file(path("key"), "sekrit", 0600);
        if (sh("qemu-img create -q --object secret,id=s0,file=%s -f luks -o key-secret=s0 %s 16M", path("key"),
               path("c.luks")) == 0) {
                char *msg = check_one(path("c.luks"), VM_DISK_FORMAT_AUTO, NULL), line[1024], *k;

                k = msg ? strstr(msg, "qemu-img convert --object secret,id=key0,file=KEYFILE") : NULL;
                ok(k, "luks: refused, the convert line passes the key: %s", msg ? msg : "(none)");
                if (msg && k) {
                        snprintf(line, sizeof line, "%s", k);
                        /* the line, with the key file filled in */
                        char *kf = strstr(line, "KEYFILE");
                        char cmd[1200];

                        *kf = '\0';
                        snprintf(cmd, sizeof cmd, "%s%s%s", line, path("key"), kf + 7);
                        ok(sh("%s", cmd) == 0 && !check_one(path("c.qcow2"), VM_DISK_FORMAT_AUTO, NULL),
                           "luks: that line, with the key file, makes a qcow2 that opens: %s", cmd);
                }
                free(msg);
        } else {
                ok(1, "# SKIP qemu-img cannot make luks here");
        }
}

/* Headers that name other files: refused, naming the file, whatever
 * "format" says. */
static void test_backing(void)
{
        char *msg;

        write_file(path("secret"), "root only", 0600);
        sh("qemu-img create -q -f qcow2 -b %s -F raw %s 16M", path("secret"), path("over.qcow2"));
        msg = check_one(path("over.qcow2"), VM_DISK_FORMAT_AUTO, NULL);
        ok(msg && strstr(msg, "names a backing file") && strstr(msg, path("secret")),
           "auto: a qcow2 naming a backing file is refused, naming it: %s", S(msg));
        free(msg);
        msg = check_one(path("over.qcow2"), VM_DISK_FORMAT_QCOW2, NULL);
        ok(msg && strstr(msg, path("secret")), "the same with \"format\": \"qcow2\": %s", S(msg));
        free(msg);

        sh("qemu-img create -q -f qed -b %s -F raw %s 16M", path("secret"), path("over.qed"));
        msg = check_one(path("over.qed"), VM_DISK_FORMAT_AUTO, NULL);
        ok(msg && strstr(msg, path("secret")), "a qed naming a backing file too: %s", S(msg));
        free(msg);

        sh("qemu-img create -q -f qcow2 -o data_file=%s %s 16M", path("data.bin"), path("ext.qcow2"));
        msg = check_one(path("ext.qcow2"), VM_DISK_FORMAT_AUTO, NULL);
        ok(msg && strstr(msg, "external data file") && strstr(msg, path("data.bin")),
           "a qcow2 naming an external data file is refused, naming it: %s", S(msg));
        free(msg);

        /* the attack: a raw disk whose guest wrote a qcow2 header into its first sector */
        sh("truncate -s 8M %s && dd if=%s of=%s bs=64k count=1 conv=notrunc status=none", path("guest.raw"),
           path("over.qcow2"), path("guest.raw"));
        msg = check_one(path("guest.raw"), VM_DISK_FORMAT_AUTO, NULL);
        ok(msg && strstr(msg, path("secret")), "guest-written header, format auto: refused: %s", S(msg));
        free(msg);
        msg = check_one(path("guest.raw"), VM_DISK_FORMAT_RAW, NULL);
        ok(msg && strstr(msg, "says format raw") && strstr(msg, "guest wrote") && strstr(msg, path("secret")) &&
                   strstr(msg, "qemu-img info -f raw"),
           "format raw: says what happened, the backing it names, and how to check: %s", S(msg));
        ok(msg && !strstr(msg, "leave it out") && !strstr(msg, "remove \"format\"") && !strstr(msg, "drop"),
           "and never to drop \"format\"");
        free(msg);
}

/* Not a disk: refused at once, never blocking on a FIFO. */
static void test_not_files(void)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        char *msg;

        alarm(20); /* a blocked open of the FIFO would hang here */
        ok(mkfifo(path("fifo"), 0600) == 0, "made a FIFO");
        msg = check_one(path("fifo"), VM_DISK_FORMAT_AUTO, NULL);
        ok(msg && strstr(msg, "named pipe (FIFO), not a disk image"), "FIFO refused without blocking: %s", S(msg));
        free(msg);
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path("sock"));
        ok(s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof sa) == 0, "made a socket");
        msg = check_one(path("sock"), VM_DISK_FORMAT_RAW, NULL);
        ok(msg && strstr(msg, "is a socket"), "socket refused: %s", S(msg));
        free(msg);
        close(s);
        mkdir(path("dir"), 0700);
        msg = check_one(path("dir"), VM_DISK_FORMAT_AUTO, NULL);
        ok(msg && strstr(msg, "is a directory"), "directory refused: %s", msg ? msg : "(none)");
        free(msg);
        msg = check_one("/dev/null", VM_DISK_FORMAT_AUTO, NULL);
        ok(msg && strstr(msg, "character device"), "character device refused: %s", S(msg));
        free(msg);
        alarm(0);
}

int main(void)
{
        struct vm_disk disks[3];
        struct vm_spec s = { .disks = disks };
        struct qc_err err = {};
        struct stat st;
        char cmd[512];
        char *content = NULL;
        size_t len;

        if (system("qemu-img --version >/dev/null 2>&1") != 0)
                tap_skip_all("qemu-img not found (install qemu-utils)");
        if (!mkdtemp(dir))
                tap_skip_all("mkdtemp: %s", strerror(errno));
        snprintf(cmd, sizeof cmd, "qemu-img create -q -f qcow2 %s 16M", path("a.qcow2"));
        ok(system(cmd) == 0, "made a qcow2 image");
        write_file(path("b.raw"), "just bytes", 0600);

        memset(disks, 0, sizeof disks);
        disks[0] = (struct vm_disk){ .file = path("a.qcow2") };
        disks[1] = (struct vm_disk){ .file = path("b.raw") };
        disks[2] = (struct vm_disk){ .file = path("b.raw"), .media = VM_DISK_MEDIA_CDROM, .format = VM_DISK_FORMAT_RAW };
        s.n_disks = 3;
        is_int(spec_resolve_disks(&s, false, &err), 0, "existing images resolve (%s)", err.msg);
        is_int(disks[0].format, VM_DISK_FORMAT_QCOW2, "auto + qcow2 header = qcow2");
        is_int(disks[1].format, VM_DISK_FORMAT_RAW, "auto + no header = raw");
        is_int(disks[2].format, VM_DISK_FORMAT_RAW, "raw given and raw found");

        disks[0].format = VM_DISK_FORMAT_RAW;
        disks[1].format = VM_DISK_FORMAT_AUTO;
        is_int(spec_resolve_disks(&s, false, &err), -1, "raw given for a qcow2 image: error");
        ok(strstr(err.msg, "disks[0]") && strstr(err.msg, "says format raw") && strstr(err.msg, "a.qcow2") &&
                   strstr(err.msg, "qcow2 header"),
           "message names disk, file, what the file says and the header: %s", err.msg);
        is_int(disks[1].format, VM_DISK_FORMAT_AUTO, "nothing changed on failure");
        disks[0].format = VM_DISK_FORMAT_QCOW2;
        disks[1].format = VM_DISK_FORMAT_QCOW2;
        is_int(spec_resolve_disks(&s, false, &err), -1, "qcow2 given for a raw file: error");
        ok(strstr(err.msg, "disks[1]") && strstr(err.msg, "raw"), "says it is raw: %s", err.msg);

        s.n_disks = 1;
        disks[0] = (struct vm_disk){ .file = path("missing.qcow2") };
        is_int(spec_resolve_disks(&s, true, &err), -1, "missing without create: error");
        ok(strstr(err.msg, "does not exist") && strstr(err.msg, "create"), "says how to fix it: %s", err.msg);
        disks[0] = (struct vm_disk){ .file = path("missing.iso"), .media = VM_DISK_MEDIA_CDROM, .create = 1 << 20 };
        is_int(spec_resolve_disks(&s, true, &err), -1, "missing CD-ROM: error even with create");
        ok(stat(path("missing.iso"), &st) < 0, "no CD-ROM image made");

        qc_err_clear(&err);
        disks[0] = (struct vm_disk){ .file = path("new.qcow2"), .create = 64 << 20 };
        is_int(spec_resolve_disks(&s, false, &err), 0, "missing with create, not creating: fine");
        is_int(disks[0].format, VM_DISK_FORMAT_QCOW2, "would be created as qcow2");
        ok(stat(path("new.qcow2"), &st) < 0, "and nothing was created");
        disks[0].format = VM_DISK_FORMAT_AUTO;
        is_int(spec_resolve_disks(&s, true, &err), 0, "missing with create: created (%s)", err.msg);
        is_int(has_magic(path("new.qcow2")), 1, "it is a qcow2 image");
        snprintf(cmd, sizeof cmd, "qemu-img info %s | grep -q 'virtual size: 64 MiB'", path("new.qcow2"));
        ok(system(cmd) == 0, "of the asked size");

        disks[0] = (struct vm_disk){ .file = path("new.raw"), .create = 8 << 20, .format = VM_DISK_FORMAT_RAW };
        is_int(spec_resolve_disks(&s, true, &err), 0, "raw created (%s)", err.msg);
        ok(stat(path("new.raw"), &st) == 0 && st.st_size == 8 << 20, "raw image of 8M");

        disks[0] = (struct vm_disk){ .file = path("b.raw"), .create = 8 << 20 };
        is_int(spec_resolve_disks(&s, true, &err), 0, "existing image with create set");
        ok(read_file(path("b.raw"), 0, &content, &len) == 0 && strcmp(content, "just bytes") == 0,
           "is never overwritten");
        free(content);

        disks[0] = (struct vm_disk){ .file = path("nodir/x.qcow2"), .create = 8 << 20 };
        is_int(spec_resolve_disks(&s, true, &err), -1, "create in a missing dir fails");
        ok(strstr(err.msg, "nodir"), "naming the file: %s", err.msg);

        /* every problem, each at its key's place; nothing created */
        {
                struct vm_disk four[4] = {
                        { .file = path("a.qcow2"), .format = VM_DISK_FORMAT_RAW, .file_line = 3, .file_col = 20,
                          .format_line = 3, .format_col = 40 },
                        { .file = path("gone.iso"), .media = VM_DISK_MEDIA_CDROM, .file_line = 4, .file_col = 20 },
                        { .file = path("later.qcow2"), .create = 8 << 20, .file_line = 5, .file_col = 20 },
                        { .file = path("gone.raw"), .file_line = 6, .file_col = 20 },
                };
                struct vm_spec s4 = { .disks = four, .n_disks = 4 };
                struct spec_diags d = {}, notes = {};

                is_int(spec_check_disks(&s4, &d, &notes, &err), -1, "check: problems found");
                is_int(err.code, EINVAL, "EINVAL, the problems in the diags");
                is_int(d.n, 3, "check: all three problems, not only the first");
                if (d.n == 3) {
                        is_str(d.v[0].path, "disks[0].format", "a contradicted format is about disks[N].format");
                        ok(d.v[0].line == 3 && d.v[0].col == 40, "at the format's place");
                        ok(strstr(d.v[0].msg, "qcow2 header") != NULL, "saying what the header is: %s", d.v[0].msg);
                        is_str(d.v[1].path, "disks[1].file", "a missing CD-ROM is about disks[N].file");
                        ok(d.v[1].line == 4 && d.v[1].col == 20, "at the file's place");
                        ok(strstr(d.v[1].msg, "never created") != NULL, "CD-ROM: %s", d.v[1].msg);
                        is_str(d.v[2].path, "disks[3].file", "a missing image without create");
                }
                is_int(notes.n, 1, "one note: the image start would create");
                if (notes.n == 1) {
                        is_str(notes.v[0].path, "disks[2].file", "note at disks[2].file");
                        ok(strstr(notes.v[0].msg, "start will create it (qcow2, 8M)") != NULL, "note: %s",
                           notes.v[0].msg);
                }
                ok(stat(path("later.qcow2"), &st) < 0, "check creates nothing");
                is_int(four[0].format, VM_DISK_FORMAT_RAW, "check changes nothing");
                spec_diags_done(&d);
                spec_diags_done(&notes);

                is_int(spec_resolve_disks(&s4, true, &err), -1, "resolve with the same problems fails");
                ok(strstr(err.msg, "disks[0].format: ") && strstr(err.msg, "disks[1].file: ") &&
                           strstr(err.msg, "disks[3].file: "),
                   "naming every problem: %s", err.msg);
                ok(stat(path("later.qcow2"), &st) < 0, "and creates nothing while any disk is bad");

                s4.n_disks = 3;
                four[0].format = VM_DISK_FORMAT_AUTO;
                four[1].file = path("b.raw");
                is_int(spec_check_disks(&s4, &d, NULL, &err), 0, "check: good disks, notes not asked for");
                is_int(d.n, 0, "no diagnostics");
                spec_diags_done(&d);
        }

        test_formats();
        test_backing();
        test_not_files();

        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0)
                tap_diag("could not remove %s", dir);
        return tap_done();
}
