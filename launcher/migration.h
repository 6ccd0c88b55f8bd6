/* A guest's state as a QEMU migration stream, both ways: out of a running
 * QEMU into an fd (save; live migration's source), into a QEMU started with
 * `-incoming defer` (cmdline_ctx.incoming) from an fd (restore: the save
 * file; live migration's destination: the stream on stdin). The supervisor takes the incoming side
 * (supervisor_opts.incoming) before it places QEMU and sends `cont`.
 *
 * fds go to QEMU by name over the monitor (getfd + "fd:NAME") and never as
 * paths: QEMU's seccomp sandbox (spawn=deny) forbids exec:, and a QEMU that
 * runs as another user cannot open our files. */
#pragma once
#include <stdint.h>

#include "../common/err.h"

struct qmp;
struct qmp_migrate_info;

/* The incoming stream (passed with getfd; the caller's, it closes it). */
struct migration_incoming {
        int fd;
        int timeout_ms; /* the whole stream; 0 = 10 min */
};

/* Whether QEMU `binary` can load a stream written by QEMU `source` (a save
 * file's record, "7.2.19 (Debian 1:7.2+dfsg-7+deb12u18)"; NULL: not known,
 * not checked): QEMU loads streams of its own and older versions only. 0,
 * or -1 with err (EPROTO: `source` is a newer major.minor, said with what
 * to do) before anything is written for the restore. */
int migration_check_source(const char *binary, const char *source, struct qc_err *err);

/* Feed the stream to QEMU and wait until it is loaded (MIGRATION completed).
 * QEMU 7.2 exits when a stream cannot be loaded: -1 with err->code
 * ECONNRESET then (QEMU's stderr says why), EIO when QEMU reported the
 * failure, ETIMEDOUT past the timeout. */
int migration_incoming(struct qmp *q, const struct migration_incoming *in, struct qc_err *err);

/* Called while the outgoing stream runs, every ~100 ms. Returns 0 to go
 * on, non-zero to cancel the migration (migrate_cancel: the guest goes on
 * where it was). */
typedef int (*migration_progress_fn)(const struct qmp_migrate_info *m, void *userdata);

/* Write the guest's state into fd (a file or a pipe; ours, the caller
 * closes it) at full speed (max-bandwidth lifted, put back after), and wait
 * until QEMU says completed: the guest is then paused ("postmigrate") and
 * its disks flushed. On failure QEMU keeps the guest as it was (running
 * again if it ran); -1 with err (EIO: QEMU's error-desc). */
int migration_outgoing_fd(struct qmp *q, int fd, migration_progress_fn progress, void *userdata,
                          struct qc_err *err);

/* The same for a live migration: the guest runs while its RAM is sent
 * (bandwidth: bytes/s, 0 = unlimited), QEMU pauses it for the last dirty
 * pages, and once completed it stays paused ("postmigrate"; `cont` takes it
 * back if the far side fails). *ret_info (may be NULL) gets QEMU's figures
 * at the end (downtime, total time): the caller frees it with
 * qmp_migrate_info_done. -1 with err->code ECANCELED when progress
 * cancelled it (the guest goes on), EIO when QEMU failed it. */
int migration_outgoing_live(struct qmp *q, int fd, uint64_t bandwidth, migration_progress_fn progress,
                            void *userdata, struct qmp_migrate_info *ret_info, struct qc_err *err);
