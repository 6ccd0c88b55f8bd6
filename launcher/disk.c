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
#include "../common/io.h"
#include "../common/size.h"
#include "../common/strv.h"
#include "disk-internal.h"
#include "display.h"
#include "spawn.h"
#include "spec-internal.h"

static const char *format_name(enum vm_disk_format f)
{
        const char *s = vm_disk_format_to_string(f);

        return s ? s : "auto";
}

/* `qemu-img create -f FORMAT FILE SIZE`, or with a base image `qemu-img
 * create -f qcow2 -b BASE -F BASEFORMAT FILE [SIZE]` (size 0: the base's),
 * no shell. The file is made with O_EXCL first: qemu-img itself would
 * truncate an image that appeared in the meantime. Its stderr becomes the
 * error message. */
static int create_image(const char *file, enum vm_disk_format fmt, uint64_t size, const char *backing,
                        enum vm_disk_format bfmt, struct qc_err *err)
{
        _cleanup_close_ int fd = -1;
        char sizebuf[32] = "", *argv[12];
        size_t k = 0;

        fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0)
                return qc_err_sys(err, errno, "%s: create", file);
        if (size)
                snprintf(sizebuf, sizeof sizebuf, "%llu", (unsigned long long)size);
        argv[k++] = "qemu-img";
        argv[k++] = "create";
        argv[k++] = "-q";
        argv[k++] = "-f";
        argv[k++] = (char *)format_name(fmt);
        if (backing) {
                argv[k++] = "-b";
                argv[k++] = (char *)backing;
                argv[k++] = "-F";
                argv[k++] = (char *)format_name(bfmt);
        }
        argv[k++] = (char *)file;
        if (size)
                argv[k++] = sizebuf;
        argv[k] = NULL;
        if (run_tool(argv, "qemu-utils", err) < 0) {
                unlink(file);
                return -1;
        }
        return 0;
}

/* Where a converted copy of file goes: its name with the extension
 * replaced by .qcow2. */
static char *converted_name(const char *file)
{
        const char *slash = strrchr(file, '/'), *dot = strrchr(file, '.');
        size_t stem = dot && (!slash || dot > slash + 1) ? (size_t)(dot - file) : strlen(file);
        char *out = NULL;

        if (strcmp(file + stem, ".qcow2") == 0)
                stem = strlen(file);
        if (asprintf(&out, "%.*s.qcow2", (int)stem, file) < 0)
                return NULL;
        return out;
}

/* The exact command that makes a qcow2 copy of an image qemuctl will not
 * open, ready to paste into a shell. */
static char *convert_line(const char *file, enum image_type t)
{
        _cleanup_free_ char *out = converted_name(file), *qin = NULL, *qout = NULL, *opts = NULL, *qopts = NULL;
        char *line = NULL;

        if (!out || !(qin = shell_quote(file)) || !(qout = shell_quote(out)))
                return NULL;
        if (t == IMAGE_LUKS) {
                /* the key goes in as a secret object; KEYFILE holds the passphrase.
                 * In --image-opts a comma in the path is written ",," */
                _cleanup_free_ char *esc = NULL;
                size_t n = 0;

                esc = malloc(strlen(file) * 2 + 1);
                if (!esc)
                        return NULL;
                for (const char *c = file; *c; c++) {
                        esc[n++] = *c;
                        if (*c == ',')
                                esc[n++] = ',';
                }
                esc[n] = '\0';
                if (asprintf(&opts, "driver=luks,key-secret=key0,file.filename=%s", esc) < 0 ||
                    !(qopts = shell_quote(opts)))
                        return NULL;
                if (asprintf(&line, "qemu-img convert --object secret,id=key0,file=KEYFILE --image-opts %s -O qcow2 %s",
                             qopts, qout) < 0)
                        return NULL;
                return line;
        }
        if (asprintf(&line, "qemu-img convert -f %s -O qcow2 %s %s", image_type_name(t), qin, qout) < 0)
                return NULL;
        return line;
}

static const char *refusal_reason(enum image_type t)
{
        switch (t) {
        case IMAGE_VMDK:
                return "a vmdk descriptor can name extent and parent files anywhere on the host";
        case IMAGE_LUKS:
                return "it needs a key, which qemuctl cannot pass yet";
        case IMAGE_QCOW:
                return "QEMU's qcow (version 1) driver is deprecated";
        case IMAGE_DMG:
        case IMAGE_CLOOP:
        case IMAGE_BOCHS:
                return "QEMU reads this archive format but never writes it";
        case IMAGE_RAW:
        case IMAGE_QCOW2:
        case IMAGE_QED:
        case IMAGE_VDI:
        case IMAGE_VHDX:
        case IMAGE_VPC:
        case IMAGE_PARALLELS:
        case _IMAGE_TYPE_MAX:
        default:
                return "qemuctl does not open it";
        }
}

/* " (naming backing file "X")" when the header names files; "" otherwise. */
static void header_names(const struct image_probe *p, char *buf, size_t len)
{
        buf[0] = '\0';
        if (p->backing)
                snprintf(buf, len, " naming backing file \"%s\"", p->backing);
        else if (p->data_file)
                snprintf(buf, len, " naming external data file \"%s\"", p->data_file);
}

/* Whether the backing file name in an overlay's header (relative ones are
 * from the overlay's directory) is the file `base`. */
static bool names_base(const char *overlay, const char *named, const char *base)
{
        _cleanup_free_ char *joined = path_beside(overlay, named), *a = NULL, *b = NULL;

        if (!joined)
                return false;
        a = realpath(joined, NULL);
        b = realpath(base, NULL);
        return a && b && strcmp(a, b) == 0;
}

/* Disk i's base image ("backing"): it exists, is of a format qemuctl opens,
 * agrees with "backing_format", and names no file of its own (qemuctl opens
 * the one base the VM file names, nothing a header adds). Returns its
 * format, or _VM_DISK_FORMAT_INVALID after a diag. */
static enum vm_disk_format check_base(const struct vm_disk *d, size_t i, struct spec_ctx *c)
{
        struct image_probe p = {};
        struct qc_err e = {};
        char p_base[48], p_bformat[56], names[1200];
        bool fmt_given = d->backing_format != VM_DISK_FORMAT_AUTO;
        enum vm_disk_format found, ret = _VM_DISK_FORMAT_INVALID;

        snprintf(p_base, sizeof p_base, "disks[%zu].backing", i);
        snprintf(p_bformat, sizeof p_bformat, "disks[%zu].backing_format", i);
        if (image_probe(d->backing, &p, &e) < 0) {
                diag_at(c, d->backing_line, d->backing_col, p_base, "%s%s",
                        e.code == EINVAL ? "" : "cannot read the base image: ", e.msg);
                return ret;
        }
        if (p.missing) {
                diag_at(c, d->backing_line, d->backing_col, p_base,
                        "base image %s does not exist (a base image is never created: build it first)", d->backing);
                return ret;
        }
        found = image_type_format(p.type);
        header_names(&p, names, sizeof names);
        if (d->file && names_base(d->backing, d->file, d->backing)) {
                diag_at(c, d->backing_line, d->backing_col, p_base,
                        "the base image is the disk's own \"file\"; the overlay must be another file");
        } else if (found < 0) {
                _cleanup_free_ char *conv = convert_line(d->backing, p.type);

                diag_at(c, d->backing_line, d->backing_col, p_base,
                        "base image %s is a %s image (its header says so), which qemuctl does not open (%s); make a "
                        "qcow2 of it and name that: %s",
                        d->backing, image_type_name(p.type), refusal_reason(p.type),
                        conv ? conv : "qemu-img convert -O qcow2 ...");
        } else if (fmt_given && d->backing_format != found) {
                diag_at(c, d->bformat_line, d->bformat_col, p_bformat,
                        "the VM file says backing_format %s, but base image %s %s %s; fix \"backing_format\" (or "
                        "leave it out to use what the file is)",
                        format_name(d->backing_format), d->backing, p.type == IMAGE_RAW ? "has no" : "is a",
                        p.type == IMAGE_RAW ? "header of a known format, so it is raw" : image_type_name(p.type));
        } else if (p.backing || p.data_file) {
                _cleanup_free_ char *out = converted_name(d->backing);

                diag_at(c, d->backing_line, d->backing_col, p_base,
                        "base image %s's %s header%s: qemuctl opens the one base the VM file names and nothing an "
                        "image's header adds. Make a standalone base of it (this reads the files it names): "
                        "qemu-img convert -f %s -O qcow2 %s %s",
                        d->backing, image_type_name(p.type), names, image_type_name(p.type), d->backing,
                        out ? out : "OUT.qcow2");
        } else {
                ret = found;
        }
        image_probe_done(&p);
        return ret;
}

/* An existing overlay of a disk with a base image: a qcow2 whose header
 * names that base and no data file. Returns 0, or -1 after a diag. */
static int check_overlay(const struct vm_disk *d, const struct image_probe *p, size_t i, struct spec_ctx *c)
{
        bool fmt_given = d->format != VM_DISK_FORMAT_AUTO;
        unsigned line = fmt_given ? d->format_line : d->file_line, col = fmt_given ? d->format_col : d->file_col;
        char where[48];

        snprintf(where, sizeof where, "disks[%zu].%s", i, fmt_given ? "format" : "file");
        if (fmt_given && d->format != VM_DISK_FORMAT_QCOW2)
                diag_at(c, line, col, where,
                        "a disk with a base image (\"backing\") is a qcow2 overlay; drop \"format\" or say "
                        "\"qcow2\"");
        else if (p->type != IMAGE_QCOW2)
                diag_at(c, line, col, where,
                        "%s is a %s image, not a qcow2 overlay of base image %s; move it away (start then creates "
                        "the overlay) or drop \"backing\"",
                        d->file, image_type_name(p->type), d->backing);
        else if (p->data_file)
                diag_at(c, line, col, where,
                        "overlay %s's qcow2 header names an external data file, which qemuctl never opens; move it "
                        "away (start then creates a new overlay)",
                        d->file);
        else if (!p->backing)
                diag_at(c, line, col, where,
                        "%s is a qcow2 with no backing file, not an overlay of base image %s: its unwritten clusters "
                        "read as zeros, not as the base. Move it away (start then creates the overlay) or drop "
                        "\"backing\"",
                        d->file, d->backing);
        else if (!names_base(d->file, p->backing, d->backing))
                diag_at(c, line, col, where,
                        "overlay %s was made on base \"%s\", not on %s (what \"backing\" names); its clusters "
                        "belong to that base. Move it away (start then creates a new overlay) or name that base",
                        d->file, p->backing, d->backing);
        else
                return 0;
        return -1;
}

/* One pass over the disks, reading headers only: formats[i] gets disk i's
 * format, block[i] whether it is a block device (bit 0) and a CD-ROM drive
 * (bit 1), problems go to c at the
 * place of the key they are about, the images `start` would create to notes
 * (NULL: not wanted).
 *
 * The rule: an image's header decides nothing the VM file did not say. It
 * may tell which format a disk is when "format" is "auto", but it never
 * chooses a file for QEMU (root, often) to open: a header naming a backing
 * file or an external data file is refused, and cmdline passes backing=null
 * besides, so that a header written after this check opens nothing either.
 * The one exception is a disk's "backing": an overlay's header may name
 * the base the VM file names, and bformats[i] gets that base's format. */
static void check_disk(const struct vm_disk *d, size_t i, enum vm_disk_format *format, enum vm_disk_format *bformat,
                       unsigned char *block, struct spec_ctx *c, struct spec_ctx *notes)
{
        bool cd = d->media == VM_DISK_MEDIA_CDROM;
        struct image_probe p = {};
        struct qc_err e = {};
        char p_file[48], p_format[48], size[32];
        /* a problem with what the image is belongs to "format" when the file says one */
        bool fmt_given = d->format != VM_DISK_FORMAT_AUTO;
        unsigned line = fmt_given ? d->format_line : d->file_line, col = fmt_given ? d->format_col : d->file_col;
        const char *where = fmt_given ? p_format : p_file;
        enum vm_disk_format found;
        char names[1200];

        snprintf(p_file, sizeof p_file, "disks[%zu].file", i);
        snprintf(p_format, sizeof p_format, "disks[%zu].format", i);
        *format = d->format;
        *bformat = d->backing_format;
        *block = 0;
        if (d->backing && (*bformat = check_base(d, i, c)) < 0)
                return;
        if (!d->file) {
                if (!cd) /* an empty CD-ROM drive has no medium to check */
                        diag_at(c, d->file_line, d->file_col, p_file, "no file");
                return;
        }
        if (image_probe(d->file, &p, &e) < 0) {
                if (e.code == EINVAL)
                        diag_at(c, d->file_line, d->file_col, p_file, "%s", e.msg);
                else
                        diag_at(c, d->file_line, d->file_col, p_file, "cannot read the image: %s", e.msg);
                return;
        }
        if (p.missing) {
                if (cd)
                        diag_at(c, d->file_line, d->file_col, p_file,
                                "CD-ROM image %s does not exist (a CD-ROM is never created: point \"file\" "
                                "at the ISO)",
                                d->file);
                else if (!d->create && !d->backing)
                        diag_at(c, d->file_line, d->file_col, p_file,
                                "%s does not exist; create it, or add \"create\": \"20G\" to have qemuctl "
                                "make it",
                                d->file);
                else {
                        /* a new image is qcow2 unless the file says otherwise */
                        *format = d->format == VM_DISK_FORMAT_AUTO ? VM_DISK_FORMAT_QCOW2 : d->format;
                        if (d->backing && *format != VM_DISK_FORMAT_QCOW2)
                                diag_at(c, d->format_line, d->format_col, p_format,
                                        "a disk with a base image (\"backing\") is a qcow2 overlay; drop "
                                        "\"format\" or say \"qcow2\"");
                        else if (notes && d->backing)
                                diag_at(notes, d->file_line, d->file_col, p_file,
                                        "%s does not exist; start will create it (qcow2 overlay of %s, %s)",
                                        d->file, d->backing, format_name(*bformat));
                        else if (notes) {
                                format_size(d->create, size, sizeof size);
                                diag_at(notes, d->file_line, d->file_col, p_file,
                                        "%s does not exist; start will create it (%s, %s)", d->file,
                                        format_name(*format), size);
                        }
                }
                return;
        }
        *block = (unsigned char)(p.block_device | p.cdrom_drive << 1);
        if (d->backing) {
                if (check_overlay(d, &p, i, c) == 0)
                        *format = VM_DISK_FORMAT_QCOW2;
                image_probe_done(&p);
                return;
        }
        found = image_type_format(p.type);
        header_names(&p, names, sizeof names);
        if (d->format == VM_DISK_FORMAT_RAW && p.type != IMAGE_RAW) {
                /* The guest owns every byte of a raw disk, its first sector too. */
                _cleanup_free_ char *conv = found < 0 ? convert_line(d->file, p.type) : NULL;
                char fix[1200] = "";

                if (found >= 0)
                        snprintf(fix, sizeof fix, "; if it really is a %s image, say \"format\": \"%s\"",
                                 image_type_name(p.type), format_name(found));
                else if (conv)
                        snprintf(fix, sizeof fix, "; if it really is a %s image, make a qcow2 of it: %s",
                                 image_type_name(p.type), conv);
                diag_at(c, line, col, where,
                        "the VM file says format raw, but %s now starts with a %s header%s. A guest can "
                        "write anything to its raw disk, so most likely the guest wrote this; qemuctl "
                        "neither follows the header nor hands a %s image to a guest as raw bytes (keep "
                        "\"format\": without it the header would decide). Check what is there with "
                        "`qemu-img info -f raw %s` (the disk as raw) and `qemu-img info -f %s %s` (what "
                        "the header claims; it opens no backing file)%s",
                        d->file, image_type_name(p.type), names, image_type_name(p.type), d->file,
                        image_type_name(p.type), d->file, fix);
        } else if (found < 0) {
                _cleanup_free_ char *conv = convert_line(d->file, p.type);

                diag_at(c, line, col, where,
                        "%s is a %s image (its header says so), which qemuctl does not open (%s) and never "
                        "hands to a guest as raw bytes; make a qcow2 of it and point \"file\" at that: %s",
                        d->file, image_type_name(p.type), refusal_reason(p.type),
                        conv ? conv : "qemu-img convert -O qcow2 ...");
        } else if (d->format != VM_DISK_FORMAT_AUTO && d->format != found) {
                diag_at(c, line, col, where,
                        "the VM file says format %s, but %s %s %s; fix \"format\" (or leave it out to use "
                        "what the file is)",
                        format_name(d->format), d->file, p.type == IMAGE_RAW ? "has no" : "is a",
                        p.type == IMAGE_RAW ? "header of a known format, so it is raw"
                                            : image_type_name(p.type));
        } else if (p.backing) {
                _cleanup_free_ char *out = converted_name(d->file);

                diag_at(c, line, col, where,
                        "%s's %s header names a backing file, \"%s\", that the VM file does not: qemuctl "
                        "never lets an image's header choose a file for QEMU to open (a guest that can write "
                        "this image could name any file on the host). If the disk was raw, its guest wrote "
                        "this header: check with `qemu-img info -f raw %s`. If it is an overlay you made, "
                        "make a standalone image of it (this reads the backing file): qemu-img convert -f "
                        "%s -O qcow2 %s %s",
                        d->file, image_type_name(p.type), p.backing, d->file, image_type_name(p.type),
                        d->file, out ? out : "OUT.qcow2");
        } else if (p.data_file) {
                _cleanup_free_ char *out = converted_name(d->file);

                diag_at(c, line, col, where,
                        "%s's qcow2 header names an external data file%s%s%s, that the VM file does not: "
                        "qemuctl never lets an image's header choose a file for QEMU to open. Make a "
                        "self-contained image of it (this reads the data file): qemu-img convert -f qcow2 "
                        "-O qcow2 %s %s",
                        d->file, *p.data_file ? ", \"" : " (without a name)", p.data_file,
                        *p.data_file ? "\"" : "", d->file, out ? out : "OUT.qcow2");
        } else {
                *format = found;
        }
        image_probe_done(&p);
}

static void check_disks(const struct vm_spec *spec, enum vm_disk_format *formats, enum vm_disk_format *bformats,
                        unsigned char *block, struct spec_ctx *c, struct spec_ctx *notes)
{
        for (size_t i = 0; i < spec->n_disks; i++)
                check_disk(&spec->disks[i], i, &formats[i], &bformats[i], &block[i], c, notes);
}

/* The VNC password file is read as the images are: by validate and start,
 * not by the parser (which `dump` and the property test run too). */
static void check_password_file(const struct vm_spec *spec, struct spec_ctx *c)
{
        char pw[VNC_PASSWORD_MAX + 1];
        struct qc_err e = { 0 };

        if (!spec->vnc_password_file)
                return;
        if (display_read_password(spec->vnc_password_file, pw, &e) < 0)
                diag_at(c, spec->vnc_password_line, spec->vnc_password_col, "display.password_file", "%s", e.msg);
        explicit_bzero(pw, sizeof pw);
}

int spec_check_disks(const struct vm_spec *spec, struct spec_diags *diags, struct spec_diags *notes,
                     struct qc_err *err)
{
        _cleanup_free_ enum vm_disk_format *formats = calloc(spec->n_disks + 1, sizeof *formats);
        _cleanup_free_ enum vm_disk_format *bformats = calloc(spec->n_disks + 1, sizeof *bformats);
        _cleanup_free_ unsigned char *block = calloc(spec->n_disks + 1, sizeof *block);
        struct spec_ctx c = { .file = spec->path, .diags = diags, .origins = spec->origins },
                        n = { .file = spec->path, .diags = notes, .origins = spec->origins };
        size_t before = diags->n;

        if (!formats || !bformats || !block)
                return qc_err_sys(err, ENOMEM, "disks");
        check_disks(spec, formats, bformats, block, &c, notes ? &n : NULL);
        check_password_file(spec, &c);
        if (c.oom || n.oom)
                return qc_err_sys(err, ENOMEM, "disks");
        if (diags->n > before)
                return qc_err_set(err, EINVAL, "%s: %zu problem%s with its disks", spec->path ? spec->path : "-",
                                  diags->n - before, diags->n - before == 1 ? "" : "s");
        return 0;
}

/* Every problem in d, in file order, on one line, as EINVAL; frees d. */
static int diags_err(struct spec_diags *d, struct qc_err *err)
{
        char msg[QC_ERR_MSG_MAX] = "";
        size_t len = 0;

        for (size_t i = 0; i < d->n && len < sizeof msg; i++) {
                int w = snprintf(msg + len, sizeof msg - len, "%s%s: %s", i ? "; " : "", d->v[i].path, d->v[i].msg);
                if (w < 0)
                        break;
                len += (size_t)w;
        }
        spec_diags_done(d);
        return qc_err_set(err, EINVAL, "%s", msg);
}

int spec_resolve_medium(struct vm_disk *d, size_t idx, struct qc_err *err)
{
        struct spec_diags diags = {};
        struct spec_ctx c = { .diags = &diags };
        enum vm_disk_format format, bformat;
        unsigned char block;

        if (d->media != VM_DISK_MEDIA_CDROM || d->backing || !d->file)
                return qc_err_set(err, EINVAL, "disks[%zu]: not a CD-ROM medium", idx);
        check_disk(d, idx, &format, &bformat, &block, &c, NULL);
        if (c.oom) {
                spec_diags_done(&diags);
                return qc_err_sys(err, ENOMEM, "disks[%zu]", idx);
        }
        if (diags.n > 0)
                return diags_err(&diags, err);
        d->format = format;
        d->block_device = block & 1;
        d->cdrom_drive = block & 2;
        return 0;
}

int spec_resolve_disks(struct vm_spec *spec, bool create_missing, struct qc_err *err)
{
        _cleanup_free_ enum vm_disk_format *formats = calloc(spec->n_disks + 1, sizeof *formats);
        _cleanup_free_ enum vm_disk_format *bformats = calloc(spec->n_disks + 1, sizeof *bformats);
        _cleanup_free_ unsigned char *block = calloc(spec->n_disks + 1, sizeof *block);
        struct spec_diags d = {};
        struct spec_ctx c = { .file = spec->path, .diags = &d, .origins = spec->origins };

        if (!formats || !bformats || !block)
                return qc_err_sys(err, ENOMEM, "disks");
        check_disks(spec, formats, bformats, block, &c, NULL);
        if (c.oom) {
                spec_diags_done(&d);
                return qc_err_sys(err, ENOMEM, "disks");
        }
        if (d.n > 0)
                return diags_err(&d, err);
        for (size_t i = 0; i < spec->n_disks; i++) {
                const struct vm_disk *disk = &spec->disks[i];

                if (create_missing && (disk->create || disk->backing) && disk->media != VM_DISK_MEDIA_CDROM &&
                    access(disk->file, F_OK) < 0 && errno == ENOENT &&
                    create_image(disk->file, formats[i], disk->create, disk->backing, bformats[i], err) < 0)
                        return qc_err_wrap(err, "disks[%zu]", i);
        }
        for (size_t i = 0; i < spec->n_disks; i++) {
                spec->disks[i].format = formats[i];
                spec->disks[i].backing_format = bformats[i];
                spec->disks[i].block_device = block[i] & 1;
                spec->disks[i].cdrom_drive = block[i] & 2;
        }
        return 0;
}
