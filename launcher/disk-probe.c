/* What a disk image is, from its first bytes: the format its header claims
 * and the other files that header would make QEMU open. Never blocks: the
 * file is looked at (stat) before it is opened, and opened O_NONBLOCK. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/cdrom.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "disk-internal.h"

#define HEAD_SIZE 65536 /* one default qcow2 cluster: header, extensions, backing name */
#define NAME_MAX_LEN 1023 /* QEMU refuses longer backing file names */

static const struct {
        const char *name;           /* qemu-img -f NAME */
        enum vm_disk_format format; /* how the VM file says it, or INVALID */
} types[_IMAGE_TYPE_MAX] = {
        [IMAGE_RAW] = { "raw", VM_DISK_FORMAT_RAW },
        [IMAGE_QCOW2] = { "qcow2", VM_DISK_FORMAT_QCOW2 },
        [IMAGE_QED] = { "qed", VM_DISK_FORMAT_QED },
        [IMAGE_VDI] = { "vdi", VM_DISK_FORMAT_VDI },
        [IMAGE_VHDX] = { "vhdx", VM_DISK_FORMAT_VHDX },
        [IMAGE_VPC] = { "vpc", VM_DISK_FORMAT_VPC },
        [IMAGE_PARALLELS] = { "parallels", VM_DISK_FORMAT_PARALLELS },
        /* qcow (v1) is deprecated in QEMU; a vmdk descriptor names extent
         * files anywhere on the host, and its parent; luks needs a key
         * qemuctl has no way to pass yet; dmg, cloop and bochs are read-only
         * formats kept for old archives */
        [IMAGE_QCOW] = { "qcow", _VM_DISK_FORMAT_INVALID },
        [IMAGE_VMDK] = { "vmdk", _VM_DISK_FORMAT_INVALID },
        [IMAGE_LUKS] = { "luks", _VM_DISK_FORMAT_INVALID },
        [IMAGE_DMG] = { "dmg", _VM_DISK_FORMAT_INVALID },
        [IMAGE_CLOOP] = { "cloop", _VM_DISK_FORMAT_INVALID },
        [IMAGE_BOCHS] = { "bochs", _VM_DISK_FORMAT_INVALID },
};

const char *image_type_name(enum image_type t)
{
        return t >= 0 && t < _IMAGE_TYPE_MAX ? types[t].name : "unknown";
}

enum vm_disk_format image_type_format(enum image_type t)
{
        return t >= 0 && t < _IMAGE_TYPE_MAX ? types[t].format : _VM_DISK_FORMAT_INVALID;
}

void image_probe_done(struct image_probe *p)
{
        free(p->backing);
        free(p->data_file);
        p->backing = p->data_file = NULL;
}

static uint32_t be32(const unsigned char *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const unsigned char *p)
{
        return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static uint32_t le32(const unsigned char *p)
{
        return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint64_t le64(const unsigned char *p)
{
        return (uint64_t)le32(p + 4) << 32 | le32(p);
}

static ssize_t pread_full(int fd, void *buf, size_t len, off_t off)
{
        size_t got = 0;

        while (got < len) {
                ssize_t n = pread(fd, (char *)buf + got, len - got, off + (off_t)got);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -1;
                if (n == 0)
                        break;
                got += (size_t)n;
        }
        return (ssize_t)got;
}

/* A name from the header, made printable: the bytes are whatever the
 * image's writer (maybe a guest) put there. */
static char *printable(const unsigned char *s, size_t len)
{
        char *out = malloc(len * 4 + 1), *o = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\')
                        *o++ = (char)s[i];
                else
                        o += sprintf(o, "\\x%02x", s[i]);
        }
        *o = '\0';
        return out;
}

/* The name at [off, off+len) of the file: from head when it is there. */
static int read_name(int fd, const unsigned char *head, size_t n, uint64_t off, uint64_t len, char **ret,
                     struct qc_err *err)
{
        unsigned char buf[NAME_MAX_LEN];

        if (len > NAME_MAX_LEN)
                len = NAME_MAX_LEN; /* enough to name it; QEMU would refuse it anyway */
        if (off <= n && len <= n - off) {
                *ret = printable(head + off, (size_t)len);
        } else {
                ssize_t got = off > INT64_MAX ? 0 : pread_full(fd, buf, (size_t)len, (off_t)off);

                if (got < 0)
                        return qc_err_sys(err, errno, "read header");
                *ret = printable(buf, (size_t)got);
        }
        return *ret ? 0 : qc_err_sys(err, ENOMEM, "header");
}

/* qcow2 (and qcow v1, whose first fields are the same): the backing file
 * name, and for qcow2 v3 the external data file (incompatible feature bit 2;
 * its name is header extension 0x44415441). */
static int probe_qcow(int fd, const unsigned char *h, size_t n, struct image_probe *p, struct qc_err *err)
{
        uint32_t version = be32(h + 4);

        p->type = version == 1 ? IMAGE_QCOW : IMAGE_QCOW2;
        if (n >= 20 && be64(h + 8) != 0 && read_name(fd, h, n, be64(h + 8), be32(h + 16), &p->backing, err) < 0)
                return -1;
        if (p->type == IMAGE_QCOW2 && version >= 3 && n >= 104 && (be64(h + 72) & (1u << 2))) {
                size_t off = be32(h + 100);

                while (off + 8 <= n) {
                        uint32_t type = be32(h + off), len = be32(h + off + 4);

                        if (type == 0)
                                break;
                        if (type == 0x44415441 && len <= n - off - 8)
                                return read_name(fd, h, n, off + 8, len, &p->data_file, err);
                        off += 8 + (((size_t)len + 7) & ~(size_t)7);
                }
                if (!(p->data_file = strdup("")))
                        return qc_err_sys(err, ENOMEM, "header");
        }
        return 0;
}

static int probe_bytes(int fd, const unsigned char *h, size_t n, uint64_t size, struct image_probe *p,
                       struct qc_err *err)
{
        static const char cloop[] = "#!/bin/sh\n#V2.0 Format\nmodprobe cloop file=$IMAGE\n";
#define STARTS(s) (n >= sizeof(s) - 1 && memcmp(h, s, sizeof(s) - 1) == 0)
        unsigned char tail[4];

        p->type = IMAGE_RAW;
        if (STARTS("QFI\xfb") && n >= 8)
                return probe_qcow(fd, h, n, p, err);
        if (STARTS("QED\0")) {
                p->type = IMAGE_QED;
                /* features bit 0: has a backing file, named at offset 56 */
                if (n >= 64 && (le64(h + 16) & 1))
                        return read_name(fd, h, n, le32(h + 56), le32(h + 60), &p->backing, err);
                return 0;
        }
        if (STARTS("vhdxfile"))
                p->type = IMAGE_VHDX;
        else if (STARTS("conectix"))
                p->type = IMAGE_VPC;
        else if (STARTS("WithoutFreeSpace") || STARTS("WithouFreSpacExt"))
                p->type = IMAGE_PARALLELS;
        else if (STARTS("KDMV") || STARTS("COWD") || STARTS("# Disk DescriptorFile"))
                p->type = IMAGE_VMDK;
        else if (STARTS("LUKS\xba\xbe"))
                p->type = IMAGE_LUKS;
        else if (STARTS(cloop))
                p->type = IMAGE_CLOOP;
        else if (STARTS("Bochs Virtual HD Image"))
                p->type = IMAGE_BOCHS;
        else if (n >= 0x44 && le32(h + 0x40) == 0xbeda107f)
                p->type = IMAGE_VDI;
        else if (size >= 512 && size <= INT64_MAX && pread_full(fd, tail, 4, (off_t)(size - 512)) == 4 &&
                 memcmp(tail, "koly", 4) == 0)
                p->type = IMAGE_DMG; /* its header is a trailer, in the last sector */
#undef STARTS
        return 0;
}

static const char *not_a_disk(mode_t mode)
{
        return S_ISFIFO(mode)  ? "a named pipe (FIFO)"
               : S_ISSOCK(mode) ? "a socket"
               : S_ISDIR(mode)  ? "a directory"
               : S_ISCHR(mode)  ? "a character device"
               : S_ISREG(mode) || S_ISBLK(mode) ? NULL
                                                : "not a regular file";
}

int image_probe(const char *file, struct image_probe *ret, struct qc_err *err)
{
        struct image_probe p = { .type = IMAGE_RAW };
        _cleanup_free_ unsigned char *head = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;
        const char *what;
        uint64_t size;
        ssize_t n;

        /* look before opening: open(2) of a FIFO waits for a writer */
        if (stat(file, &st) < 0) {
                if (errno != ENOENT)
                        return qc_err_sys(err, errno, "%s", file);
                p.missing = true;
                *ret = p;
                return 0;
        }
        if ((what = not_a_disk(st.st_mode)))
                return qc_err_set(err, EINVAL, "%s is %s, not a disk image: a disk is a regular file or a block device",
                                  file, what);
        fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return qc_err_sys(err, errno, "%s", file);
        /* it may have been replaced since stat */
        if (fstat(fd, &st) < 0)
                return qc_err_sys(err, errno, "%s", file);
        if ((what = not_a_disk(st.st_mode)))
                return qc_err_set(err, EINVAL, "%s is %s, not a disk image: a disk is a regular file or a block device",
                                  file, what);
        p.block_device = S_ISBLK(st.st_mode);
        /* how QEMU's host_cdrom probe tells a CD-ROM drive: it answers
         * CDROM_DRIVE_STATUS (a loop device or a disk does not; host_cdrom on
         * one of those reports "No medium found") */
        p.cdrom_drive = p.block_device && ioctl(fd, CDROM_DRIVE_STATUS, CDSL_CURRENT) >= 0;
        if (p.block_device) {
                off_t end = lseek(fd, 0, SEEK_END);

                if (end < 0)
                        return qc_err_sys(err, errno, "%s: size", file);
                size = (uint64_t)end;
        } else {
                size = (uint64_t)st.st_size;
        }
        if (!(head = malloc(HEAD_SIZE)))
                return qc_err_sys(err, ENOMEM, "%s", file);
        n = pread_full(fd, head, HEAD_SIZE, 0);
        if (n < 0 && p.cdrom_drive && errno == ENOMEDIUM)
                n = 0; /* an empty drive: raw, and the guest sees an empty tray */
        if (n < 0)
                return qc_err_sys(err, errno, "%s: read header", file);
        if (probe_bytes(fd, head, (size_t)n, size, &p, err) < 0) {
                image_probe_done(&p);
                return qc_err_wrap(err, "%s", file);
        }
        *ret = p;
        return 0;
}
