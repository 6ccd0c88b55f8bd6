#include "migration.h"
#include "spawn.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/io.h"
#include "../qmp/qmp.h"

#define INCOMING_FD_NAME "qemuctl-incoming"
#define OUTGOING_FD_NAME "qemuctl-outgoing"

static bool migration_done(json_object *ev, void *userdata)
{
        const char *st = qmp_member_string(qmp_event_data(ev), "status");

        (void)userdata;
        return st && (strcmp(st, "completed") == 0 || strcmp(st, "failed") == 0 || strcmp(st, "cancelled") == 0);
}

/* QEMU keeps migration compatible from older versions to newer ones only
 * (docs/devel/migration.rst, "backwards compatibility"): a stream of a
 * newer major.minor may hold sections this QEMU does not know. */
int migration_check_source(const char *binary, const char *source, struct qc_err *err)
{
        char out[256];
        char *argv[] = { (char *)binary, "--version", NULL };
        int major, minor, have_major, have_minor, have_micro;
        const char *v;

        if (!source || sscanf(source, "%d.%d", &major, &minor) != 2)
                return 0;
        if (run_tool_output(argv, "qemu-system-x86", out, sizeof out, err) < 0)
                return qc_err_wrap(err, "the QEMU version, to check it can load the state"), -1;
        v = strstr(out, "version ");
        if (!v || sscanf(v, "version %d.%d.%d", &have_major, &have_minor, &have_micro) != 3)
                return qc_err_set(err, EIO, "%s --version says no version: %.80s", binary, out);
        if (have_major > major || (have_major == major && have_minor >= minor))
                return 0;
        return qc_err_set(err, EPROTO,
                          "the state was written by QEMU %s and %s is QEMU %d.%d.%d, which loads only the state "
                          "of its own or an older version: go on from it with QEMU %d.%d or newer "
                          "(--set qemu.binary=PATH)",
                          source, binary, have_major, have_minor, have_micro, major, minor);
}

int migration_incoming(struct qmp *q, const struct migration_incoming *in, struct qc_err *err)
{
        _cleanup_json_ json_object *ev = NULL;
        int timeout = in->timeout_ms > 0 ? in->timeout_ms : 600 * 1000;
        const char *st;

        if (in->fd < 0)
                return qc_err_set(err, EINVAL, "an incoming migration needs the stream's fd");
        if (qmp_getfd(q, in->fd, INCOMING_FD_NAME, err) < 0)
                return qc_err_wrap(err, "hand the incoming stream to QEMU"), -1;
        /* MIGRATION events tell the end without polling */
        if (qmp_migrate_set_capability(q, "events", true, err) < 0 ||
            qmp_migrate_incoming(q, "fd:" INCOMING_FD_NAME, err) < 0)
                return qc_err_wrap(err, "incoming migration from the passed fd"), -1;
        struct qc_err e = { 0 };
        if (qmp_wait_event(q, "MIGRATION", migration_done, NULL, timeout, &ev, &e) < 0) {
                if (e.code == ETIMEDOUT)
                        return qc_err_set(err, ETIMEDOUT, "the incoming state was not loaded within %d s",
                                          timeout / 1000);
                if (e.code == ECONNRESET || e.code == EPIPE)
                        return qc_err_set(err, ECONNRESET, "QEMU could not load the incoming state and exited");
                if (err)
                        *err = e;
                return -1;
        }
        st = qmp_member_string(qmp_event_data(ev), "status");
        if (strcmp(st, "completed") != 0) {
                struct qmp_migrate_info m = { 0 };
                if (qmp_query_migrate(q, &m, NULL) == 0 && m.error_desc) {
                        qc_err_set(err, EIO, "the incoming migration %s: %s", st, m.error_desc);
                        qmp_migrate_info_done(&m);
                        return -1;
                }
                qmp_migrate_info_done(&m);
                return qc_err_set(err, EIO, "the incoming migration %s", st);
        }
        return 0;
}

/* QEMU sends the "completed" event before it works out total-time and
 * downtime (7.2: migration_completion, then migration_iteration_finish
 * under the big lock), and turns the run state to postmigrate in that
 * same step: once query-status says postmigrate, query-migrate has the
 * figures. A second move of one QEMU showed total-time 0 without this. */
static void wait_postmigrate(struct qmp *q)
{
        int64_t deadline = now_ms() + 2000;

        for (;;) {
                _cleanup_free_ char *status = NULL;

                if (qmp_query_status(q, &status, NULL, NULL) < 0 || strcmp(status, "postmigrate") == 0 ||
                    now_ms() >= deadline)
                        return;
                usleep(5000);
        }
}

static int outgoing(struct qmp *q, int fd, uint64_t bandwidth, migration_progress_fn progress, void *userdata,
                    struct qmp_migrate_info *ret_info, struct qc_err *err)
{
        uint64_t old_bandwidth = 0;
        bool set = false, cancelled = false;
        int r = -1;

        /* QEMU's default of 32 MiB/s is meant for a network shared with
         * running guests; a file takes what the disk gives (libvirt lifts it
         * for save too) */
        if (qmp_migrate_max_bandwidth(q, &old_bandwidth, NULL) == 0 &&
            qmp_migrate_set_max_bandwidth(q, bandwidth ? bandwidth : (uint64_t)INT64_MAX, NULL) == 0)
                set = true;
        /* The end is told by the MIGRATION event, not query-migrate's
         * status: on a QEMU that was itself migrated in (a second move, or
         * a restore), QEMU 7.2's query-migrate reports the incoming side's
         * "completed" over the outgoing migration's own status. */
        if (qmp_migrate_set_capability(q, "events", true, err) < 0)
                goto out;
        if (qmp_getfd(q, fd, OUTGOING_FD_NAME, err) < 0) {
                qc_err_wrap(err, "hand the stream's fd to QEMU");
                goto out;
        }
        if (qmp_migrate(q, "fd:" OUTGOING_FD_NAME, err) < 0) {
                qmp_closefd(q, OUTGOING_FD_NAME, NULL);
                goto out;
        }
        for (int nap = 1;; nap = nap < 100 ? nap * 2 : nap) {
                _cleanup_json_ json_object *ev = NULL;
                struct qmp_migrate_info m = { 0 };
                struct qc_err e = { 0 };
                const char *st;

                if (qmp_wait_event(q, "MIGRATION", migration_done, NULL, nap, &ev, &e) == 0) {
                        st = qmp_member_string(qmp_event_data(ev), "status");
                        if (st && strcmp(st, "completed") == 0)
                                wait_postmigrate(q);
                        if (qmp_query_migrate(q, &m, NULL) < 0)
                                m = (struct qmp_migrate_info){ .total_time_ms = -1, .downtime_ms = -1 };
                        if (st && strcmp(st, "completed") == 0) {
                                if (progress && m.status)
                                        (void)progress(&m, userdata);
                                if (ret_info)
                                        *ret_info = m;
                                else
                                        qmp_migrate_info_done(&m);
                                r = 0;
                                break;
                        }
                        if (cancelled)
                                qc_err_set(err, ECANCELED, "the migration was cancelled");
                        else
                                qc_err_set(err, EIO, "QEMU's migration %s%s%s", st ? st : "ended",
                                           m.error_desc ? ": " : "", m.error_desc ? m.error_desc : "");
                        qmp_migrate_info_done(&m);
                        break;
                }
                if (e.code != ETIMEDOUT) {
                        if (err)
                                *err = e;
                        qmp_migrate_cancel(q, NULL);
                        goto out;
                }
                if (qmp_query_migrate(q, &m, err) < 0) {
                        qmp_migrate_cancel(q, NULL);
                        goto out;
                }
                if (progress && !cancelled && progress(&m, userdata) != 0) {
                        cancelled = true;
                        nap = 1;
                        if (qmp_migrate_cancel(q, err) < 0) {
                                qmp_migrate_info_done(&m);
                                goto out;
                        }
                }
                qmp_migrate_info_done(&m);
        }
out:
        if (set && (r < 0 || bandwidth))
                qmp_migrate_set_max_bandwidth(q, old_bandwidth, NULL);
        return r;
}

int migration_outgoing_fd(struct qmp *q, int fd, migration_progress_fn progress, void *userdata,
                          struct qc_err *err)
{
        return outgoing(q, fd, 0, progress, userdata, NULL, err);
}

int migration_outgoing_live(struct qmp *q, int fd, uint64_t bandwidth, migration_progress_fn progress,
                            void *userdata, struct qmp_migrate_info *ret_info, struct qc_err *err)
{
        return outgoing(q, fd, bandwidth, progress, userdata, ret_info, err);
}
