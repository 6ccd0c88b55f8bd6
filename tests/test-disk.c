/* launcher/disk.c: spec_resolve_disks against real files and qemu-img. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/io.h"
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

                is_int(spec_check_disks(&s4, &d, &notes, &err), -EINVAL, "check: problems found");
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

        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0)
                tap_diag("could not remove %s", dir);
        return tap_done();
}
