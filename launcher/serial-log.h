/* The guest's serial log (RUNDIR/serial.log). QEMU writes the console into a
 * pipe; the supervisor copies it into the file and keeps the file bounded:
 * when serial.log would grow past its bound, it becomes serial.log.1 (the one
 * before is dropped) and a new serial.log starts, so the state dir holds at
 * most twice the bound and the newest output is always there. Readers follow
 * the file as it grows, across a rotation, line by line. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

#define SERIAL_LOG_DEFAULT_MAX (8u << 20) /* VM file "serial_log_max" */

/* ---- writing (the supervisor) ---- */
struct serial_log;
/* Create path (0600, truncated; path.1 removed). max: the bound in bytes,
 * 0 = none. */
int serial_log_open(const char *path, uint64_t max, struct serial_log **ret, struct qc_err *err);
/* Append, rotating as needed. On an error (disk full) the data is dropped:
 * the guest must never wait for its log. */
int serial_log_write(struct serial_log *l, const void *buf, size_t n, struct qc_err *err);
void serial_log_close(struct serial_log *l);

/* Copy everything read from fd into l until EOF (closes fd, then l). For a
 * thread of its own: the guest's console never waits for the supervisor's
 * other work. */
void *serial_log_pump(void *arg);
struct serial_log_pump {
        int fd;
        struct serial_log *log;
};

/* ---- following (wait --for serial:REGEX) ---- */
struct serial_follow;
/* Follow dirfd/name (and name.1 first, when it exists: the output before
 * the last rotation); dirfd is duplicated. The file may not exist yet; a
 * symlink is followed (`run --serial-log FILE` links serial.log to FILE). */
int serial_follow_open(int dirfd, const char *name, struct serial_follow **ret, struct qc_err *err);
void serial_follow_close(struct serial_follow *f);
/* Read what is new and hand each line (without its '\n'; it may hold NUL
 * bytes) to fn, then the unfinished last line, if any (partial = true; it is
 * handed again, longer, once more arrives). A line longer than 1 MiB is
 * handed in pieces that overlap by 4 KiB. Stops and returns 1 as soon as fn
 * returns true; 0 when all was read; -1 with err. */
typedef bool (*serial_line_fn)(const char *line, size_t len, bool partial, void *userdata);
int serial_follow_scan(struct serial_follow *f, serial_line_fn fn, void *userdata, struct qc_err *err);
