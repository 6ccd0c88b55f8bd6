/* migrate: a running VM moves to another qemuctl, over SSH or into another
 * state dir on this host, as a live migration stream on the far side's
 * stdin. migrate-incoming is that far side (launch_prepare_incoming, the
 * supervisor's incoming support, detached as start).
 *
 * The far side's stdin: "qemuctl-migrate 1 N\n", N bytes of JSON
 * {"spec": the effective VM file, "disks": [{"file", "size"}]}, then
 * QEMU's stream. Its stdout: "ready\n" once the VM file is accepted (name
 * free, disks there and the same, placement possible), then "running\n"
 * once the guest runs there; "error\n" instead of either (what went wrong
 * is on its stderr, which is ours). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/launch.h"
#include "common/cleanup.h"
#include "common/io.h"
#include "common/size.h"
#include "common/strv.h"
#include "cgroups/cgroups.h"
#include "launcher/handle.h"
#include "launcher/launch-placement.h"
#include "launcher/migration.h"
#include "launcher/state.h"
#include "qmp/qmp.h"

#define MIGRATE_MAGIC "qemuctl-migrate 1"
#define MIGRATE_HEADER_MAX (4 << 20)
/* how long the far side may take to say "ready", and "running" after the stream */
#define MIGRATE_REPLY_MS (60 * 1000)

/* ---- the far side ---------------------------------------------------- */

/* One line from fd, byte by byte (what follows is QEMU's stream): 0, or -1. */
static int read_line(int fd, char *buf, size_t size)
{
        size_t n = 0;

        while (n + 1 < size) {
                ssize_t r = read(fd, buf + n, 1);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return -1;
                if (buf[n] == '\n') {
                        buf[n] = '\0';
                        return 0;
                }
                n++;
        }
        return -1;
}

static int read_exact(int fd, char *buf, size_t len)
{
        size_t n = 0;

        while (n < len) {
                ssize_t r = read(fd, buf + n, len - n);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return -1;
                n += (size_t)r;
        }
        return 0;
}

static void say(const char *word)
{
        (void)!write(STDOUT_FILENO, word, strlen(word));
}

static int in_fail(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int in_fail(const char *verb, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "qemuctl: %s: ", verb);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        say("error\n");
        return CLI_EXIT_FAIL;
}

/* Shared storage: every disk is there, as large as the source's (when the
 * source could tell). */
static int check_shared_disks(const char *verb, json_object *disks)
{
        size_t n = disks ? json_object_array_length(disks) : 0;

        for (size_t i = 0; i < n; i++) {
                json_object *d = json_object_array_get_idx(disks, i), *f = NULL, *sz = NULL;
                struct stat st;
                const char *file;

                if (!json_object_object_get_ex(d, "file", &f))
                        return in_fail(verb, "the source sent a disk without its file");
                json_object_object_get_ex(d, "size", &sz);
                file = json_object_get_string(f);
                if (stat(file, &st) < 0)
                        return in_fail(verb,
                                       "disks[%zu]: %s: %s here: live migration needs the VM's disks on storage "
                                       "both hosts share, at the same path",
                                       i, file, strerror(errno));
                if (sz && (uint64_t)st.st_size != (uint64_t)json_object_get_int64(sz))
                        return in_fail(verb,
                                       "disks[%zu]: %s is %" PRIu64 " bytes here but %" PRId64
                                       " on the source: not the same file (live migration needs shared storage)",
                                       i, file, (uint64_t)st.st_size, json_object_get_int64(sz));
        }
        return 0;
}

DEFINE_CLEANUP_FUNC(struct cg_hier *, cg_hier_free)
DEFINE_CLEANUP_FUNC(struct cg_vm *, cg_vm_free)

/* Two QEMUs of one VM at once on one host (a move between two state dirs
 * here): cgroups are per host, and the source's QEMU is in <parent>/NAME
 * until the move is done. Said before anything starts, with the fix. */
static int check_cgroup_free(const char *verb, const struct vm_spec *spec)
{
        _cleanup_(cg_hier_freep) struct cg_hier *h = NULL;
        _cleanup_(cg_vm_freep) struct cg_vm *cg = NULL;
        bool empty = true;

        if (spec->cgroup.mode == VM_CGROUP_DELEGATED || cg_hier_open(NULL, &h, NULL) < 0 ||
            cg_vm_open(h, launch_placement_parent(spec), spec->name, &cg, NULL) < 0)
                return 0;
        if (cg_is_empty(cg_vm_fd(cg), &empty, NULL) == 0 && !empty)
                return in_fail(verb,
                               "VM `%s`: its cgroup %s holds processes on this host (the source's QEMU, if this "
                               "is a move between two state dirs of one host): give the far side another "
                               "cgroup parent, e.g. qemuctl migrate ... --set cgroup.parent=%s-2",
                               spec->name, cg_vm_path(cg), launch_placement_parent(spec));
        return 0;
}

int cmd_migrate_incoming(int argc, char **argv)
{
        const char *verb = argv[0], *rundir = NULL;
        struct cli_opts o = { .on_opt = cli_opt_store, .ud = &rundir };
        char line[128], tmpl[] = "/tmp/qemuctl-migrate-XXXXXX";
        _cleanup_free_ char *header = NULL, *spec_path = NULL;
        _cleanup_json_ json_object *h = NULL;
        json_object *spec = NULL, *disks = NULL;
        unsigned long long len;
        struct launch l;
        struct supervisor_opts so;
        struct qc_err err = { 0 };
        int rc, parsed = cli_parse_opts(verb, argc, argv, &o, &rc);

        if (parsed != 0)
                return rc;
        if (optind != argc)
                return cli_usage(verb, "takes no arguments (the VM comes on stdin)");
        if (rundir && setenv("QEMUCTL_RUNDIR", rundir, 1) < 0)
                return in_fail(verb, "setenv: %s", strerror(errno));
        if (read_line(STDIN_FILENO, line, sizeof line) < 0 || strncmp(line, MIGRATE_MAGIC " ", strlen(MIGRATE_MAGIC) + 1))
                return in_fail(verb, "stdin is not a qemuctl migration (this verb is what `qemuctl migrate` runs on the far side)");
        len = strtoull(line + strlen(MIGRATE_MAGIC) + 1, NULL, 10);
        if (!len || len > MIGRATE_HEADER_MAX || !(header = malloc(len + 1)))
                return in_fail(verb, "a migration header of %llu bytes", len);
        if (read_exact(STDIN_FILENO, header, len) < 0)
                return in_fail(verb, "the source went away before it sent the VM");
        header[len] = '\0';
        if (!(h = json_tokener_parse(header)) || !json_object_object_get_ex(h, "spec", &spec) ||
            !json_object_is_type(spec, json_type_object))
                return in_fail(verb, "the source sent no VM file");
        json_object_object_get_ex(h, "disks", &disks);
        if ((rc = check_shared_disks(verb, disks)))
                return rc;

        /* the effective VM file, as start takes one (its paths are absolute) */
        const char *text = json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PLAIN);
        _cleanup_close_ int tfd = mkstemp(tmpl);
        if (tfd < 0)
                return in_fail(verb, "mkstemp: %s", strerror(errno));
        spec_path = strdup(tmpl);
        if (!spec_path || write_all(tfd, text, strlen(text)) < 0) {
                unlink(tmpl);
                return in_fail(verb, "write %s: %s", tmpl, strerror(errno));
        }
        int in_fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        if (in_fd < 0) {
                unlink(tmpl);
                return in_fail(verb, "dup stdin: %s", strerror(errno));
        }
        rc = launch_prepare_incoming(verb, spec_path, in_fd, cli_lock_timeout_ms, &l);
        unlink(tmpl);
        if (rc) {
                say("error\n");
                return rc == RUN_EXIT_REFUSED ? CLI_EXIT_FAIL : rc;
        }
        if ((rc = check_cgroup_free(verb, l.spec))) {
                struct qc_err e2 = { 0 };
                if (state_remove(l.rundir, &e2) < 0)
                        fprintf(stderr, "qemuctl: %s: %s\n", verb, e2.msg);
                launch_done(&l);
                return rc;
        }
        say("ready\n");
        launch_supervisor_opts(&l, &so);
        if (supervisor_start_detached(&so, &err) < 0) {
                fprintf(stderr, "qemuctl: %s: VM `%s`: %s\n", verb, l.spec->name, err.msg);
                struct qc_err e2 = { 0 };
                /* nothing of a VM that never ran here stays behind */
                if (state_remove(l.rundir, &e2) < 0)
                        fprintf(stderr, "qemuctl: %s: %s\n", verb, e2.msg);
                launch_done(&l);
                say("error\n");
                return CLI_EXIT_FAIL;
        }
        say("running\n");
        launch_done(&l);
        return CLI_EXIT_OK;
}

/* ---- the source ------------------------------------------------------ */

struct migrate_opts {
        const char *to;
        const char *remote_qemuctl;
        uint64_t bandwidth;
};

static int migrate_opt(const char *verb, int c, const char *arg, void *ud)
{
        struct migrate_opts *mo = ud;
        uint64_t v;

        switch (c) {
        case 'D':
                mo->to = arg;
                return 0;
        case 'Q':
                mo->remote_qemuctl = arg;
                return 0;
        case 'b':
                if (parse_size(arg, &v) < 0 || v == 0)
                        return cli_usage(verb, "--bandwidth %s: expected bytes per second with a unit, like \"100M\"",
                                         arg);
                mo->bandwidth = v;
                return 0;
        default:
                return 0;
        }
}

static volatile sig_atomic_t interrupted;
static void on_interrupt(int sig)
{
        (void)sig;
        interrupted = 1;
}

struct progress {
        bool tty;
        int64_t deadline; /* 0 = none */
        bool timed_out;
};

static int progress(const struct qmp_migrate_info *m, void *ud)
{
        struct progress *p = ud;

        if (p->tty && m->total)
                fprintf(stderr, "\rmigrating: %s, RAM %" PRIu64 " MiB sent, %" PRIu64 " of %" PRIu64
                                " MiB remaining, dirtied %" PRIu64 " MiB/s   ",
                        m->status, m->transferred >> 20, m->remaining >> 20, m->total >> 20,
                        (m->dirty_pages_rate * (m->page_size ? m->page_size : 4096)) >> 20);
        if (p->deadline && now_ms() >= p->deadline) {
                p->timed_out = true;
                return 1;
        }
        return interrupted ? 1 : 0;
}

/* The far side's next word within timeout_ms: "ready", "running", "error",
 * or NULL (it went away, or said nothing in time). */
static const char *far_word(int fd, int timeout_ms, char *buf, size_t size)
{
        struct pollfd p = { .fd = fd, .events = POLLIN };

        if (poll(&p, 1, timeout_ms) <= 0 || read_line(fd, buf, size) < 0)
                return NULL;
        return buf;
}

/* The far side's argv: ssh to HOST, or this very binary for a state dir here. */
static char **far_argv(const char *to, const char *remote_qemuctl, struct qc_err *err)
{
        _cleanup_strv_ strv argv = { 0 };

        if (strncmp(to, "ssh://", 6) == 0) {
                _cleanup_free_ char *hostpart = strdup(to + 6), *cmd = NULL;
                char *rdir = NULL, *port = NULL, *host;
                const char *ssh = getenv("QEMUCTL_SSH");
                _cleanup_free_ char *q1 = NULL, *q2 = NULL;

                if (!hostpart)
                        return qc_err_set(err, ENOMEM, "out of memory"), NULL;
                if ((rdir = strchr(hostpart, '/')))
                        *rdir++ = '\0';
                host = hostpart;
                if ((port = strrchr(host, ':')))
                        *port++ = '\0';
                if (!*host)
                        return qc_err_set(err, EINVAL, "%s: no host (ssh://[USER@]HOST[:PORT][/RUNDIR])", to), NULL;
                if (!(q1 = shell_quote(remote_qemuctl)))
                        return qc_err_set(err, ENOMEM, "out of memory"), NULL;
                /* ssh hands the far side one string for its shell */
                if (rdir && *rdir) {
                        _cleanup_free_ char *abs = NULL;
                        if (asprintf(&abs, "/%s", rdir) < 0 || !(q2 = shell_quote(abs)))
                                return qc_err_set(err, ENOMEM, "out of memory"), NULL;
                }
                if (asprintf(&cmd, "%s migrate-incoming%s%s", q1, q2 ? " --rundir " : "", q2 ? q2 : "") < 0)
                        return qc_err_set(err, ENOMEM, "out of memory"), NULL;
                /* QEMUCTL_SSH: the ssh command and its options, split at spaces (as RSYNC_RSH) */
                _cleanup_free_ char *sshbuf = strdup(ssh && *ssh ? ssh : "ssh");
                char *save = NULL;
                if (!sshbuf)
                        return qc_err_set(err, ENOMEM, "out of memory"), NULL;
                for (char *w = strtok_r(sshbuf, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
                        if (strv_push(&argv, w) < 0)
                                return qc_err_set(err, ENOMEM, "out of memory"), NULL;
                if (strv_push(&argv, "-o") < 0 || strv_push(&argv, "BatchMode=yes") < 0 ||
                    (port && (strv_push(&argv, "-p") < 0 || strv_push(&argv, port) < 0)) ||
                    strv_push(&argv, "--") < 0 || strv_push(&argv, host) < 0 || strv_push(&argv, cmd) < 0)
                        return qc_err_set(err, ENOMEM, "out of memory"), NULL;
                return strv_steal(&argv);
        }
        struct stat st;
        if (stat(to, &st) < 0 || !S_ISDIR(st.st_mode))
                return qc_err_set(err, ENOENT,
                                  "--to %s: neither ssh://[USER@]HOST[:PORT][/RUNDIR] nor a state directory here", to),
                       NULL;
        if (strv_push(&argv, "/proc/self/exe") < 0 || strv_push(&argv, "migrate-incoming") < 0 ||
            strv_push(&argv, "--rundir") < 0 || strv_push(&argv, to) < 0)
                return qc_err_set(err, ENOMEM, "out of memory"), NULL;
        return strv_steal(&argv);
}

/* The header: the effective VM file (with ov's changes) and what each disk is here. */
static char *make_header(const struct vm_handle *h, const struct spec_overrides *ov, struct qc_err *err)
{
        _cleanup_free_ char *spec = spec_to_json(h->spec), *out = NULL;
        if (spec && ov && ov->n) {
                _cleanup_(spec_freep) struct vm_spec *changed = NULL;
                struct spec_diags diags = { 0 };
                if (spec_parse_with(h->spec->path ? h->spec->path : h->name, spec, strlen(spec), ov, &changed, &diags,
                                    err) < 0) {
                        _cleanup_free_ char *d = diags.n ? spec_diag_format("--set", &diags.v[0]) : NULL;
                        spec_diags_done(&diags);
                        if (d)
                                qc_err_set(err, EINVAL, "%s", d);
                        return NULL;
                }
                spec_diags_done(&diags);
                free(spec);
                spec = spec_to_json(changed);
        }
        _cleanup_json_ json_object *o = json_object_new_object(), *disks = json_object_new_array();
        json_object *sj;
        const char *text;

        if (!spec || !o || !disks || !(sj = json_tokener_parse(spec)))
                return qc_err_set(err, ENOMEM, "out of memory"), NULL;
        for (size_t i = 0; i < h->spec->n_disks; i++) {
                const struct vm_disk *d = &h->spec->disks[i];
                struct stat st;
                json_object *dj;

                if (!d->file)
                        continue;
                dj = json_object_new_object();
                json_object_object_add(dj, "file", json_object_new_string(d->file));
                /* a disk gone from its path here (QEMU keeps it open) is the
                 * far side's to judge: it must have it */
                if (stat(d->file, &st) == 0)
                        json_object_object_add(dj, "size", json_object_new_int64((int64_t)st.st_size));
                json_object_array_add(disks, dj);
        }
        json_object_object_add(o, "spec", sj);
        json_object_object_add(o, "disks", json_object_get(disks));
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        if (asprintf(&out, MIGRATE_MAGIC " %zu\n%s", strlen(text), text) < 0)
                return qc_err_set(err, ENOMEM, "out of memory"), NULL;
        return TAKE_PTR(out);
}

/* What cannot move, said before anything is done. */
static int check_movable(const char *verb, const struct vm_spec *spec)
{
        for (size_t i = 0; i < spec->n_disks; i++)
                if (spec->disks[i].snapshot)
                        return cli_failf(verb,
                                         "disks[%zu] (%s) has \"snapshot\": true: its writes live in a temporary "
                                         "overlay of this QEMU, which the far side cannot open; give the disk a "
                                         "qcow2 overlay on shared storage instead (\"backing\")",
                                         i, spec->disks[i].file);
        return 0;
}

static void end_far(pid_t pid)
{
        int st;

        if (pid <= 0)
                return;
        /* the far side tidies up after a broken stream (its QEMU exits,
         * its state dir goes): give it the time */
        for (int i = 0; i < 750; i++) {
                if (waitpid(pid, &st, WNOHANG) == pid)
                        return;
                usleep(20 * 1000);
        }
        kill(pid, SIGTERM);
        waitpid(pid, &st, 0);
}

int cmd_migrate(int argc, char **argv)
{
        const char *verb = argv[0];
        struct migrate_opts mo = { .remote_qemuctl = "qemuctl" };
        _cleanup_(spec_overrides_done) struct spec_overrides ov = { 0 };
        struct cli_opts o = { .on_opt = migrate_opt, .ud = &mo, .overrides = &ov };
        _cleanup_vm_ struct vm_handle *h = NULL;
        _cleanup_strv_free_ char **far = NULL;
        _cleanup_free_ char *header = NULL;
        _cleanup_close_ int to_far = -1, from_far = -1;
        struct progress prog = { .tty = isatty(STDERR_FILENO) };
        struct qmp_migrate_info info = { 0 };
        struct qc_err err = { 0 };
        char word[64];
        const char *w;
        int in[2], out[2];
        bool running = false;
        pid_t pid;
        int rc, parsed = cli_parse_opts(verb, argc, argv, &o, &rc);

        if (parsed != 0)
                return rc;
        if (optind != argc - 1)
                return cli_usage(verb, "expected one VM name");
        if (!mo.to)
                return cli_usage(verb, "--to DEST is needed: ssh://[USER@]HOST[:PORT][/RUNDIR], or a state dir here");
        if (!(far = far_argv(mo.to, mo.remote_qemuctl, &err)))
                return cli_fail(verb, &err);
        if ((rc = cli_vm_open(verb, argv[optind], VM_OPEN_LOCK, &h)))
                return rc;
        if ((rc = check_movable(verb, h->spec)))
                return rc;
        if (qmp_query_status(h->qmp, NULL, &running, &err) < 0)
                return cli_fail(verb, &err);
        if (!(header = make_header(h, &ov, &err)))
                return cli_fail(verb, &err);

        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
                return cli_failf(verb, "pipe: %s", strerror(errno));
        fflush(NULL);
        pid = fork();
        if (pid < 0)
                return cli_failf(verb, "fork: %s", strerror(errno));
        if (pid == 0) {
                /* a terminal's Ctrl-C is ours (it cancels); the far side
                 * must live to tidy up */
                setpgid(0, 0);
                dup2(in[0], STDIN_FILENO);
                dup2(out[1], STDOUT_FILENO);
                /* the VM's lock stays ours alone */
                if (h->lock_fd >= 0)
                        close(h->lock_fd);
                execvp(far[0], far);
                fprintf(stderr, "qemuctl: %s: %s: %s\n", verb, far[0], strerror(errno));
                _exit(127);
        }
        close(in[0]);
        close(out[1]);
        to_far = in[1];
        from_far = out[0];
        signal(SIGPIPE, SIG_IGN);

        /* the far side accepts the VM (name, disks, placement) before
         * anything happens here */
        if (write_all(to_far, header, strlen(header)) < 0 ||
            !(w = far_word(from_far, MIGRATE_REPLY_MS, word, sizeof word)) || strcmp(w, "ready") != 0) {
                end_far(pid);
                return cli_failf(verb, "VM `%s`: %s refused it (above: why); the VM goes on here, untouched", h->name,
                                 mo.to);
        }

        struct sigaction sa = { .sa_handler = on_interrupt }, old_int, old_term;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        if (o.timeout_ms > 0)
                prog.deadline = now_ms() + o.timeout_ms;
        int64_t started = now_ms();
        rc = migration_outgoing_live(h->qmp, to_far, mo.bandwidth, progress, &prog, &info, &err);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        if (prog.tty)
                fputc('\n', stderr);
        close(to_far), to_far = -1; /* QEMU has its own copy until it is done */
        if (rc < 0) {
                end_far(pid);
                qmp_migrate_info_done(&info);
                /* QEMU resumes a guest it had stopped for the last pass */
                if (running)
                        cli_wait_state(verb, h, VM_STATE_RUNNING);
                if (err.code == ECANCELED)
                        return cli_failf(verb, "VM `%s`: migration %s; the VM goes on here", h->name,
                                         prog.timed_out ? "cancelled after --timeout" : "cancelled");
                return cli_failf(verb, "VM `%s`: %s; the VM goes on here", h->name, err.msg);
        }
        /* the guest is paused here (postmigrate): the far side must run it */
        if (!(w = far_word(from_far, MIGRATE_REPLY_MS, word, sizeof word)) || strcmp(w, "running") != 0) {
                struct qc_err e2 = { 0 };
                end_far(pid);
                qmp_migrate_info_done(&info);
                /* after a completed stream the guest's disks are inactive:
                 * cont takes them back (QEMU 7.2 qmp_cont) */
                if (running && qmp_cont(h->qmp, &e2) < 0)
                        return cli_failf(verb, "VM `%s`: %s did not run it, and it could not be resumed here: %s",
                                         h->name, mo.to, e2.msg);
                if (running)
                        cli_wait_state(verb, h, VM_STATE_RUNNING);
                return cli_failf(verb, "VM `%s`: %s did not run it (above: why); it goes on here", h->name, mo.to);
        }
        end_far(pid);

        /* the far side's supervisor is in charge: this QEMU ends, and
         * nothing of the VM stays here. The supervisor here (a `qemuctl
         * run`'s last line) says where it went, not "quit over QMP"; a
         * state dir here is said absolute, as from any directory */
        _cleanup_free_ char *abs = strncmp(mo.to, "ssh://", 6) != 0 ? realpath(mo.to, NULL) : NULL;
        struct vm_end_note note = { .message = "migrated by qemuctl migrate; no supervisor was watching",
                                    .shutdown_reason = "host-qmp-quit", .migrated_to = abs ? abs : mo.to };
        struct qc_err e3 = { 0 };
        cli_end_note_leave(verb, h, &note, "where it went");
        if (qmp_quit(h->qmp, &err) < 0)
                cli_warn(verb, err.msg);
        cli_wait_qemu_gone(h, 10000);
        cli_wait_recorded(verb, h, &note);
        if (state_remove(h->rundir, &e3) < 0)
                cli_warn(verb, e3.msg);
        printf("VM `%s` migrated to %s: %.2f s, %" PRIu64 " MiB of RAM sent, downtime %" PRId64
               " ms (QEMU: total %" PRId64 " ms)\n",
               h->name, mo.to, (double)(now_ms() - started) / 1000.0, info.transferred >> 20, info.downtime_ms,
               info.total_time_ms);
        qmp_migrate_info_done(&info);
        return CLI_EXIT_OK;
}
