/* Disk images: find their format from the header, create missing ones. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/size.h"
#include "spec-internal.h"

static const char *format_name(enum vm_disk_format f)
{
        return f == VM_DISK_FORMAT_QCOW2 ? "qcow2" : f == VM_DISK_FORMAT_RAW ? "raw" : "auto";
}

/* qcow2 images start with "QFI\xfb"; anything else we treat as raw.
 * A missing file is not an error here: *ret_missing says so. */
static int probe(const char *file, enum vm_disk_format *ret, bool *ret_missing, struct qc_err *err)
{
        _cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        unsigned char magic[4] = {};
        ssize_t n;

        *ret_missing = false;
        if (fd < 0 && errno == ENOENT) {
                *ret_missing = true;
                return 0;
        }
        if (fd < 0)
                return qc_err_sys(err, errno, "%s", file);
        do
                n = pread(fd, magic, sizeof magic, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return qc_err_sys(err, errno, "%s: read header", file);
        *ret = n == 4 && memcmp(magic, "QFI\xfb", 4) == 0 ? VM_DISK_FORMAT_QCOW2 : VM_DISK_FORMAT_RAW;
        return 0;
}

/* `qemu-img create -f FORMAT FILE SIZE`, no shell. The file is made with
 * O_EXCL first: qemu-img itself would truncate an image that appeared in
 * the meantime. Its stderr becomes the error message. */
static int create_image(const char *file, enum vm_disk_format fmt, uint64_t size, struct qc_err *err)
{
        _cleanup_close_ int fd = -1;
        int pipefd[2], status;
        char out[512], sizebuf[32], *argv[8];
        size_t len = 0;
        ssize_t n;
        pid_t pid;

        fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0)
                return qc_err_sys(err, errno, "%s: create", file);
        if (pipe2(pipefd, O_CLOEXEC) < 0) {
                unlink(file);
                return qc_err_sys(err, errno, "pipe");
        }
        snprintf(sizebuf, sizeof sizebuf, "%llu", (unsigned long long)size);
        argv[0] = "qemu-img";
        argv[1] = "create";
        argv[2] = "-q";
        argv[3] = "-f";
        argv[4] = (char *)format_name(fmt);
        argv[5] = (char *)file;
        argv[6] = sizebuf;
        argv[7] = NULL;
        pid = fork();
        if (pid < 0) {
                close(pipefd[0]);
                close(pipefd[1]);
                unlink(file);
                return qc_err_sys(err, errno, "fork");
        }
        if (pid == 0) {
                int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

                if (devnull >= 0)
                        dup2(devnull, STDIN_FILENO);
                dup2(pipefd[1], STDOUT_FILENO);
                dup2(pipefd[1], STDERR_FILENO);
                execvp(argv[0], argv);
                dprintf(STDERR_FILENO, "cannot run qemu-img: %s (install qemu-utils)", strerror(errno));
                _exit(127);
        }
        close(pipefd[1]);
        while ((n = read(pipefd[0], out + len, sizeof out - 1 - len)) != 0) {
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                len += (size_t)n;
                if (len == sizeof out - 1) {
                        char sink[256];

                        while (read(pipefd[0], sink, sizeof sink) > 0)
                                ;
                        break;
                }
        }
        close(pipefd[0]);
        out[len] = '\0';
        while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r'))
                out[--len] = '\0';
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return qc_err_sys(err, errno, "waitpid qemu-img");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                unlink(file);
                return qc_err_set(err, EIO, "qemu-img create -f %s %s %s failed: %s", format_name(fmt), file, sizebuf,
                                  len ? out : "no message");
        }
        return 0;
}

/* One pass over the disks, reading headers only: formats[i] gets disk i's
 * format, problems go to c at the place of the key they are about, the
 * images `start` would create to notes (NULL: not wanted). */
static void check_disks(const struct vm_spec *spec, enum vm_disk_format *formats, struct spec_ctx *c,
                        struct spec_ctx *notes)
{
        for (size_t i = 0; i < spec->n_disks; i++) {
                const struct vm_disk *d = &spec->disks[i];
                bool cd = d->media == VM_DISK_MEDIA_CDROM;
                enum vm_disk_format found = VM_DISK_FORMAT_RAW;
                struct qc_err e = {};
                char p_file[48], p_format[48], size[32];
                bool missing;

                snprintf(p_file, sizeof p_file, "disks[%zu].file", i);
                snprintf(p_format, sizeof p_format, "disks[%zu].format", i);
                formats[i] = d->format;
                if (!d->file) {
                        diag_at(c, d->file_line, d->file_col, p_file, "no file");
                        continue;
                }
                if (probe(d->file, &found, &missing, &e) < 0) {
                        diag_at(c, d->file_line, d->file_col, p_file, "cannot read the image: %s", e.msg);
                        continue;
                }
                if (missing) {
                        if (cd)
                                diag_at(c, d->file_line, d->file_col, p_file,
                                        "CD-ROM image %s does not exist (a CD-ROM is never created: point \"file\" "
                                        "at the ISO)",
                                        d->file);
                        else if (!d->create)
                                diag_at(c, d->file_line, d->file_col, p_file,
                                        "%s does not exist; create it, or add \"create\": \"20G\" to have qemuctl "
                                        "make it",
                                        d->file);
                        else {
                                /* a new image is qcow2 unless the file says raw */
                                formats[i] = d->format == VM_DISK_FORMAT_AUTO ? VM_DISK_FORMAT_QCOW2 : d->format;
                                if (notes) {
                                        format_size(d->create, size, sizeof size);
                                        diag_at(notes, d->file_line, d->file_col, p_file,
                                                "%s does not exist; start will create it (%s, %s)", d->file,
                                                format_name(formats[i]), size);
                                }
                        }
                        continue;
                }
                if (d->format != VM_DISK_FORMAT_AUTO && d->format != found)
                        diag_at(c, d->format_line, d->format_col, p_format,
                                "the VM file says format %s, but %s %s; fix \"format\" (or leave it out to use what the "
                                "file is)",
                                format_name(d->format), d->file,
                                found == VM_DISK_FORMAT_QCOW2 ? "starts with the qcow2 header (QFI\\xfb)"
                                                              : "has no qcow2 header, so it is raw");
                formats[i] = found;
        }
}

int spec_check_disks(const struct vm_spec *spec, struct spec_diags *diags, struct spec_diags *notes,
                     struct qc_err *err)
{
        _cleanup_free_ enum vm_disk_format *formats = calloc(spec->n_disks + 1, sizeof *formats);
        struct spec_ctx c = { .file = spec->path, .diags = diags }, n = { .file = spec->path, .diags = notes };
        size_t before = diags->n;

        if (!formats)
                return qc_err_sys(err, ENOMEM, "disks"), -ENOMEM;
        check_disks(spec, formats, &c, notes ? &n : NULL);
        if (c.oom || n.oom)
                return qc_err_sys(err, ENOMEM, "disks"), -ENOMEM;
        return diags->n > before ? -EINVAL : 0;
}

int spec_resolve_disks(struct vm_spec *spec, bool create_missing, struct qc_err *err)
{
        _cleanup_free_ enum vm_disk_format *formats = calloc(spec->n_disks + 1, sizeof *formats);
        struct spec_diags d = {};
        struct spec_ctx c = { .file = spec->path, .diags = &d };

        if (!formats)
                return qc_err_sys(err, ENOMEM, "disks");
        check_disks(spec, formats, &c, NULL);
        if (c.oom) {
                spec_diags_done(&d);
                return qc_err_sys(err, ENOMEM, "disks");
        }
        if (d.n > 0) {
                /* every problem, in file order, on one line */
                char msg[QC_ERR_MSG_MAX] = "";
                size_t len = 0;

                for (size_t i = 0; i < d.n && len < sizeof msg; i++) {
                        int w = snprintf(msg + len, sizeof msg - len, "%s%s: %s", i ? "; " : "", d.v[i].path,
                                         d.v[i].msg);
                        if (w < 0)
                                break;
                        len += (size_t)w;
                }
                spec_diags_done(&d);
                return qc_err_set(err, EINVAL, "%s", msg);
        }
        for (size_t i = 0; i < spec->n_disks; i++) {
                const struct vm_disk *disk = &spec->disks[i];

                if (create_missing && disk->create && disk->media != VM_DISK_MEDIA_CDROM &&
                    access(disk->file, F_OK) < 0 && errno == ENOENT &&
                    create_image(disk->file, formats[i], disk->create, err) < 0)
                        return qc_err_wrap(err, "disks[%zu]", i);
        }
        for (size_t i = 0; i < spec->n_disks; i++)
                spec->disks[i].format = formats[i];
        return 0;
}
