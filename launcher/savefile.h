/* The file `qemuctl save` writes and `start --restore` reads
 * (docs/DESIGN.md "Save files"):
 *
 *   [QEMU's migration stream][captured disks][metadata JSON][footer, 64 bytes]
 *
 * The stream comes first, at offset 0, so the file is also a plain QEMU
 * migration stream (QEMU stops reading at the stream's end). The footer is
 * one text line, `qemuctl-save 1 META-OFFSET META-LENGTH` padded with spaces
 * to 63 bytes and a newline (`tail -c 64 FILE`); the metadata says where
 * the rest is and holds the effective VM file.
 *
 * A save file is untrusted input (it may come from anywhere): the reader
 * bounds every length and offset by the file's size and never follows a
 * path it names (disks are written to the paths of the VM file restored). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/err.h"

#define SAVEFILE_VERSION 1
#define SAVEFILE_FOOTER_LEN 64
#define SAVEFILE_META_MAX (16u << 20)

struct savefile_disk {
        unsigned index;   /* disks[index] of the spec */
        char *file;       /* its path at the save (information only) */
        bool captured;    /* a writable disk: its bytes are at offset/length */
        uint64_t offset, length;
        uint64_t size;    /* its size at the save (a read-only disk is checked against it) */
        unsigned mode;    /* its permission bits */
};

struct savefile {
        char *name;          /* the VM's name at the save */
        char *path;          /* the VM file it was started from (relative paths in spec) */
        char *spec;          /* the effective VM file, JSON (spec_parse) */
        char *qemu_version;  /* "7.2.19 (Debian 1:7.2+dfsg-7+deb12u18)", NULL if unknown */
        bool running;        /* the guest ran when saved (else it was paused) */
        int64_t saved_at;    /* unix ms */
        uint64_t stream_offset, stream_length;
        struct savefile_disk *disks;
        size_t n_disks;
};

void savefile_done(struct savefile *sf);

/* Append the metadata and the footer at fd's end (the stream and disks are
 * there already). 0, or -1 with err. */
int savefile_finish(int fd, const struct savefile *sf, struct qc_err *err);
/* Read and check the footer and metadata of fd (a file of file_size bytes
 * when fstat says so). -1 with err->code EINVAL for a file that is no
 * save file or a damaged one, saying what is wrong; EIO & co for I/O. */
int savefile_read(int fd, struct savefile *ret, struct qc_err *err);
/* The parts of savefile_read, for the fuzzer: the footer's two numbers,
 * checked against file_size; the metadata, each region checked to lie in
 * [0, limit). */
int savefile_parse_footer(const char *footer, size_t len, uint64_t file_size, uint64_t *ret_offset,
                          uint64_t *ret_length, struct qc_err *err);
int savefile_parse_meta(const char *text, size_t len, uint64_t limit, struct savefile *ret, struct qc_err *err);

/* Copy the file at path to fd's end (a disk captured at the save):
 * ret_offset and ret_length say where; ret_mode gets its permission bits. */
int savefile_append_file(int fd, const char *path, uint64_t *ret_offset, uint64_t *ret_length, unsigned *ret_mode,
                         struct qc_err *err);
/* Write length bytes of fd from offset to path: a new file next to it
 * (O_EXCL), fsync'd, renamed over path, so path is the old file or the new
 * one whole, never half. */
int savefile_extract(int fd, uint64_t offset, uint64_t length, const char *path, unsigned mode,
                     struct qc_err *err);
