/* save: the running VM's state into a file (launcher/savefile.h), then the
 * VM ends. Its counterpart is start --restore (cli/launch.c). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "common/io.h"
#include "launcher/handle.h"
#include "launcher/migration.h"
#include "launcher/savefile.h"
#include "qmp/qmp.h"

/* A disk QEMU writes, whose state must be in the save */
static bool disk_writable(const struct vm_disk *d)
{
        return !d->readonly && d->media != VM_DISK_MEDIA_CDROM;
}

/* What cannot be saved, said before anything is done. */
static int check_disks(const char *verb, const struct vm_spec *spec)
{
        for (size_t i = 0; i < spec->n_disks; i++) {
                const struct vm_disk *d = &spec->disks[i];
                struct stat st;

                if (!disk_writable(d))
                        continue;
                if (d->snapshot)
                        return cli_failf(verb,
                                         "disks[%zu] (%s) has \"snapshot\": true: its writes live in QEMU's temporary "
                                         "overlay, which ends with QEMU, so the saved guest could not find its disk "
                                         "again; give the disk a base image instead (\"backing\", a qcow2 overlay "
                                         "qemuctl can capture)",
                                         i, d->file);
                if (stat(d->file, &st) < 0)
                        return cli_failf(verb, "disks[%zu]: %s: %s", i, d->file, strerror(errno));
                if (!S_ISREG(st.st_mode))
                        return cli_failf(verb,
                                         "disks[%zu] (%s) is not a regular file: a writable block device cannot be "
                                         "captured in the save; use a qcow2 overlay on it, or make it read-only",
                                         i, d->file);
        }
        return 0;
}

struct progress {
        bool tty;
        int64_t started;
};

static int show_progress(const struct qmp_migrate_info *m, void *ud)
{
        struct progress *p = ud;

        if (!p->tty || !m->total)
                return 0;
        fprintf(stderr, "\rsaving: %s, %llu of %llu MiB ", m->status,
                (unsigned long long)((m->total - m->remaining) >> 20), (unsigned long long)(m->total >> 20));
        return 0;
}

static int64_t unix_ms_now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The stream is in fd: the writable disks after it (QEMU flushed them and
 * writes nothing while the guest stays paused after the migration), then
 * the metadata. */
static int write_rest(int fd, const struct vm_handle *h, bool running, struct qc_err *err)
{
        const struct qmp_version *v = qmp_greeting_version(h->qmp);
        _cleanup_free_ char *spec = spec_to_json(h->spec), *ver = NULL;
        struct savefile sf = { .name = h->name, .path = h->spec->path, .spec = spec, .running = running,
                               .saved_at = unix_ms_now() };
        _cleanup_free_ struct savefile_disk *disks = calloc(h->spec->n_disks + 1, sizeof *disks);
        off_t end = lseek(fd, 0, SEEK_END);
        struct stat st;

        if (!spec || !disks)
                return qc_err_set(err, ENOMEM, "out of memory");
        if (end <= 0)
                return qc_err_set(err, EIO, "QEMU wrote no migration stream");
        sf.stream_length = (uint64_t)end;
        if (v && asprintf(&ver, "%d.%d.%d%s%s%s", v->major, v->minor, v->micro, v->package ? " (" : "",
                          v->package ? v->package : "", v->package ? ")" : "") > 0)
                sf.qemu_version = ver;
        sf.disks = disks;
        for (size_t i = 0; i < h->spec->n_disks; i++) {
                const struct vm_disk *d = &h->spec->disks[i];
                struct savefile_disk *sd = &disks[sf.n_disks++];

                sd->index = (unsigned)i;
                sd->file = d->file;
                if (disk_writable(d)) {
                        sd->captured = true;
                        if (savefile_append_file(fd, d->file, &sd->offset, &sd->length, &sd->mode, err) < 0)
                                return qc_err_wrap(err, "disks[%zu]", i);
                        sd->size = sd->length;
                } else if (stat(d->file, &st) == 0) {
                        sd->size = (uint64_t)st.st_size;
                        sd->mode = st.st_mode & 0777;
                }
        }
        if (savefile_finish(fd, &sf, err) < 0)
                return -1;
        if (fsync(fd) < 0)
                return qc_err_sys(err, errno, "fsync");
        return 0;
}

int cmd_save(int argc, char **argv)
{
        const char *verb = argv[0];
        _cleanup_vm_ struct vm_handle *h = NULL;
        struct cli_opts o = { 0 };
        struct qc_err err = { 0 };
        struct progress prog = { .tty = isatty(STDERR_FILENO), .started = now_ms() };
        _cleanup_free_ char *tmp = NULL, *dirbuf = NULL;
        _cleanup_close_ int fd = -1;
        const char *file;
        bool running = false;
        int rc, parsed = cli_parse_opts(verb, argc, argv, &o, &rc);

        if (parsed != 0)
                return rc;
        if (optind != argc - 2)
                return cli_usage(verb, "expected a VM name and a file");
        file = argv[optind + 1];
        if ((rc = cli_vm_open(verb, argv[optind], VM_OPEN_LOCK, &h)))
                return rc;
        if ((rc = check_disks(verb, h->spec)))
                return rc;
        /* a new file beside FILE, renamed over it only when whole */
        if (!(dirbuf = strdup(file)) || asprintf(&tmp, "%s.tmp-%d", file, (int)getpid()) < 0)
                return cli_failf(verb, "out of memory");
        fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return cli_failf(verb, "create %s: %s", tmp, strerror(errno));
        if (qmp_query_status(h->qmp, NULL, &running, &err) < 0 || (running && qmp_stop(h->qmp, &err) < 0)) {
                unlink(tmp);
                return cli_fail(verb, &err);
        }
        /* the record follows QEMU's STOP: wait for it, so that a failure's
         * RESUME below is waited for after it, not taken for the running
         * the record still said before it */
        if (running)
                cli_wait_state(verb, h, VM_STATE_PAUSED);
        /* paused first, as virsh save: the stream is the guest's state at
         * one moment, written once (no dirty pages to send again) */
        rc = migration_outgoing_fd(h->qmp, fd, show_progress, &prog, &err);
        if (prog.tty)
                fputc('\n', stderr);
        if (rc == 0)
                rc = write_rest(fd, h, running, &err);
        if (rc == 0 && rename(tmp, file) < 0)
                rc = qc_err_sys(&err, errno, "rename %s to %s", tmp, file);
        if (rc < 0) {
                struct qc_err e2 = { 0 };

                unlink(tmp);
                /* after a completed stream the guest's disks are inactive:
                 * cont takes them back (QEMU 7.2 qmp_cont) */
                if (running && qmp_cont(h->qmp, &e2) < 0)
                        return cli_failf(verb, "VM `%s`: save failed: %s; and the VM could not be resumed: %s",
                                         h->name, err.msg, e2.msg);
                /* we paused it first: `status` right after says running */
                if (running)
                        cli_wait_state(verb, h, VM_STATE_RUNNING);
                return cli_failf(verb, "VM `%s`: save failed: %s; the VM goes on %s, nothing was written to %s",
                                 h->name, err.msg, running ? "running" : "paused", file);
        }
        {
                _cleanup_close_ int dfd = open(dirname(dirbuf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd >= 0)
                        (void)fsync(dfd);
        }
        struct stat st;
        uint64_t size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
        /* status says where the VM went, from any directory */
        _cleanup_free_ char *abs = realpath(file, NULL);
        struct vm_end_note note = { .message = "saved by qemuctl save (quit); no supervisor was watching",
                                    .shutdown_reason = "host-qmp-quit", .saved_to = abs ? abs : file };
        /* for the supervisor, which sees only QEMU's quit */
        cli_end_note_leave(verb, h, &note, "where the VM was saved");
        /* the state is safe in FILE: the VM ends */
        if (qmp_quit(h->qmp, &err) < 0) {
                vm_end_note_drop(h->rundir);
                return cli_failf(verb, "VM `%s` saved to %s, but QEMU did not quit: %s (qemuctl kill %s)", h->name,
                                 file, err.msg, h->name);
        }
        cli_wait_qemu_gone(h, 10000);
        cli_wait_recorded(verb, h, &note);
        printf("VM `%s` saved to %s (%.1f MiB in %.2f s) and stopped\n", h->name, file, (double)size / (1 << 20),
               (double)(now_ms() - prog.started) / 1000.0);
        return CLI_EXIT_OK;
}
