#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/io.h"
#include "../common/sd-notify.h"
#include "../qmp/qmp.h"
#include "live-sync.h"
#include "migration.h"
#include "spawn.h"
#include "supervisor-events.h"
#include "stop.h"
#include "supervisor-files.h"
#include "supervisor-helpers.h"
#include "supervisor-agent.h"
#include "supervisor-people.h"

struct sup {
        const struct supervisor_opts *o;
        struct vm_record rec;
        pid_t pid;
        struct qmp *q;
        int sigfd;
        int notify_fd;
        int stop_when_closed_fd; /* o->stop_when_closed_fd until it closes, then -1 */
        int events_log; /* RUNDIR/events.log, for `qemuctl events` and `wait` */
        struct sup_people *people; /* RUNDIR/qmp.sock, once the guest runs */
        struct sup_agent *agent;   /* RUNDIR/agent.sock onto qga.sock, once the guest runs */
        bool exited;
        int wstatus;
        bool reached_running;
        bool said_shutdown; /* STOPPING=1 sent for QEMU's SHUTDOWN */
        bool qemu_said;  /* rec.message is QEMU's own stderr (finish) */
        struct vm_stop stop; /* power button, quit, SIGKILL (stop.h) */
        bool killed_by_us;
        /* a device went away or changed size (a person's device_del on
         * qmp.sock, or a verb's): bring spec.json in line with QEMU at
         * resync_at, once the VM's lock is free; 0 = nothing to do */
        int64_t resync_at;
        /* logs QEMU writes into pipes (serial.log), each copied by a thread */
        struct sup_pumps pumps;
        pid_t helpers[SUPERVISOR_MAX_HELPERS]; /* swtpm...: stopped with QEMU */
};

static int64_t unix_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The last few KB of QEMU's stderr, trimmed: what to show when it refused. */
static char *qemu_log_tail(const char *rundir)
{
        _cleanup_free_ char *text = NULL;

        if (state_read_file(rundir, VM_RUNDIR_QEMU_LOG, 0, &text, NULL) < 0)
                return NULL;
        return text_tail(text, strlen(text), 4000);
}

static void record(struct sup *s)
{
        /* best effort: a full disk must not take the supervisor down */
        vm_record_write(s->o->rundir, &s->rec, NULL);
}

static void notify(struct sup *s, bool okay, const char *text)
{
        int fd = s->notify_fd;

        if (fd < 0)
                return;
        write_all(fd, okay ? "ok\n" : "error\n", okay ? 3 : 6);
        if (!okay && text)
                write_all(fd, text, strlen(text));
        close(fd);
        s->notify_fd = -1; /* told once */
}

static bool reap(struct sup *s)
{
        int st;

        if (s->exited)
                return true;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
                s->exited = true;
                s->wstatus = st;
        }
        return s->exited;
}

/* A line for the service manager (systemctl status shows STATUS=). */
static void sd_say(struct sup *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sd_say(struct sup *s, const char *fmt, ...)
{
        va_list ap;

        if (!s->o->sd_notify)
                return;
        va_start(ap, fmt);
        (void)sd_notify_vsendf(fmt, ap);
        va_end(ap);
}

static void handle_event(struct sup *s, json_object *ev)
{
        enum vm_state was = s->rec.state;
        int what;

        if (!qmp_event_name(ev))
                return;
        if (s->events_log >= 0) {
                const char *line = json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN);
                _cleanup_free_ char *nl = NULL;
                if (line && asprintf(&nl, "%s\n", line) > 0)
                        write_all(s->events_log, nl, strlen(nl));
        }
        what = sup_event_apply(&s->rec, ev, s->reached_running, s->o->foreground);
        if (what & SUP_EVENT_RECORD)
                record(s);
        if (s->rec.state != was && s->rec.state == VM_STATE_PAUSED)
                sd_say(s, "STATUS=VM %s paused", s->o->name);
        else if (s->rec.state != was && s->rec.state == VM_STATE_RUNNING)
                sd_say(s, "STATUS=VM %s running (QEMU pid %d)", s->o->name, (int)s->pid);
        if (s->rec.shutdown_reason && !s->said_shutdown) {
                s->said_shutdown = true;
                sd_say(s, "STOPPING=1\nSTATUS=VM %s is shutting down (%s)", s->o->name, s->rec.shutdown_reason);
        }
        if ((what & SUP_EVENT_QUIT) && s->q)
                qmp_quit(s->q, NULL);
        if ((what & SUP_EVENT_RESYNC) && !s->resync_at)
                s->resync_at = now_ms();
}

static void drain_events(struct sup *s)
{
        json_object *ev;

        while (s->q && (ev = qmp_next_event(s->q))) {
                handle_event(s, ev);
                json_object_put(ev);
        }
}

/* What QEMU sent, into the record. A message that is no event (EPROTO: an
 * unsolicited reply, an "event" that is no string, a bare array) is skipped,
 * and so is an event past a full queue (ENOBUFS): the events after it still
 * count. Anything else means the connection is gone: QEMU is closing down,
 * and the child's exit tells the rest. */
static void read_events(struct sup *s)
{
        for (;;) {
                struct qc_err e = { 0 };
                int r = qmp_poll_events(s->q, 0, &e);

                drain_events(s);
                if (r == 0)
                        return;
                if (r < 0 && e.code != EPROTO && e.code != ENOBUFS) {
                        qmp_free(s->q);
                        s->q = NULL;
                        return;
                }
        }
}

static int open_log(const char *rundir, const char *file, struct qc_err *err)
{
        return state_open_file(rundir, file, O_WRONLY | O_CREAT | O_APPEND, 0600, err);
}

/* QEMU opens its monitors before it runs anything (-S), but only some time
 * after exec: retry while it lives. Returns 0, 1 (QEMU exited), or -1. */
static int wait_for_monitor(struct sup *s, struct qc_err *err)
{
        _cleanup_free_ char *sock = path_join(s->o->rundir, VM_RUNDIR_EVENTS);
        int timeout = s->o->start_timeout_ms > 0 ? s->o->start_timeout_ms : 60000;
        int64_t started = now_ms(), deadline = started + timeout;
        useconds_t nap = 500;

        if (!sock)
                return qc_err_sys(err, ENOMEM, "events socket");
        for (;;) {
                struct qc_err e = { 0 };
                struct stat st;

                if (reap(s))
                        return 1;
                if (stat(sock, &st) == 0 && qmp_connect(sock, 10000, &s->q, &e) == 0)
                        return 0;
                if (now_ms() >= deadline) {
                        kill(s->pid, SIGKILL);
                        return qc_err_set(err, ETIMEDOUT, "QEMU did not open its monitor %s within %d s%s%s", sock,
                                          timeout / 1000, e.msg[0] ? ": " : "", e.msg);
                }
                /* QEMU gets to its monitors 20-40 ms after exec here, but
                 * when depends on the host: a nap that doubles from 1 ms
                 * looked at 15 and 31 ms and then at 51, up to 20 ms late
                 * (half of figure 1's overhead on a fresh host). A stat every
                 * 0.5 ms costs nothing next to QEMU's start: back off only
                 * after 2 s, to 20 ms. */
                usleep(nap);
                if (now_ms() - started >= 2000 && nap < 20 * 1000)
                        nap = nap * 2 > 20 * 1000 ? 20 * 1000 : nap * 2;
        }
}

/* Under the VM's lock (a verb that holds it records what it did itself;
 * try again a little later), so spec.json has one writer at a time. */
static void resync(struct sup *s)
{
        int fd;

        if (!s->q || vm_stop_begun(&s->stop)) {
                s->resync_at = 0;
                return;
        }
        fd = state_lock(s->o->rundir, s->o->name, "supervisor", 0, NULL);
        if (fd < 0) {
                s->resync_at = now_ms() + 200;
                return;
        }
        s->resync_at = 0;
        vm_sync_recorded(s->o->rundir, s->q, NULL, NULL);
        close(fd);
}

/* QEMU is our child: SIGKILL by pid is safe until we reap it. */
static int kill_child(void *ud, struct qc_err *err)
{
        struct sup *s = ud;

        s->killed_by_us = true;
        if (kill(s->pid, SIGKILL) < 0)
                return qc_err_sys(err, errno, "kill QEMU (pid %d)", (int)s->pid);
        return 0;
}

/* Take the stop steps that are due. */
static void stop_steps(struct sup *s)
{
        int64_t now = now_ms();
        enum vm_stop_step step;

        while ((step = vm_stop_due(&s->stop, now)) != _VM_STOP_STEP_INVALID) {
                if (step == VM_STOP_QUIT)
                        sd_say(s, "STATUS=stopping VM %s: the guest did not power off; QMP quit", s->o->name);
                else if (step == VM_STOP_KILL)
                        sd_say(s, "STATUS=stopping VM %s: QEMU did not quit; SIGKILL", s->o->name);
                (void)vm_stop_take(&s->stop, step, s->q, kill_child, s, now, NULL);
        }
}

static void begin_stop(struct sup *s)
{
        if (!vm_stop_begun(&s->stop))
                sd_say(s, "STOPPING=1\nSTATUS=stopping VM %s: ACPI power button, QMP quit after %d s", s->o->name,
                       (s->o->stop_timeout_ms > 0 ? s->o->stop_timeout_ms : VM_STOP_GRACE_MS) / 1000);
        vm_stop_begin(&s->stop, VM_STOP_POWERDOWN, s->o->stop_timeout_ms, now_ms());
        stop_steps(s);
}

static void handle_signals(struct sup *s)
{
        struct signalfd_siginfo si;

        while (read(s->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM) {
                        if (!s->rec.timed_out)
                                s->rec.interrupted = true;
                        begin_stop(s);
                }
        }
}

static void finish(struct sup *s)
{
        struct vm_record *r = &s->rec;
        int st = s->wstatus;

        sup_pumps_stop(&s->pumps);
        /* QEMU is gone: its helpers go before the record says it ended */
        sup_helpers_stop(s->o, s->helpers);
        r->ended_at = unix_ms();
        if (WIFSIGNALED(st)) {
                r->exit_signal = WTERMSIG(st);
                r->exit_status = -1;
        } else {
                r->exit_status = WEXITSTATUS(st);
        }
        if (!s->reached_running) {
                r->state = VM_STATE_FAILED;
                free(r->message);
                r->message = qemu_log_tail(s->o->rundir);
                s->qemu_said = r->message != NULL;
                if (!r->message) {
                        _cleanup_free_ char *how = vm_record_describe_end(r);
                        if (asprintf(&r->message, "QEMU exited before the guest ran, and said nothing (%s)",
                                     how ? how : "?") < 0)
                                r->message = NULL;
                }
        } else if (r->exit_signal && !s->killed_by_us) {
                r->state = VM_STATE_CRASHED;
        } else if (r->exit_status > 0 && !(r->exit_status & 1) && !r->shutdown_reason) {
                /* an even status is no isa-debug-exit: QEMU's own error */
                r->state = VM_STATE_CRASHED;
        } else if (r->exit_status > 0 && r->shutdown_reason) {
                r->state = VM_STATE_CRASHED;
        } else {
                r->state = VM_STATE_ENDED;
                /* what QEMU's events do not say: the quit was save's */
                vm_end_note_take(s->o->rundir, r);
        }
        if (r->state == VM_STATE_CRASHED && !r->message)
                r->message = qemu_log_tail(s->o->rundir);

        /* Everything of this run goes before the record says it ended:
         * stop, kill and `wait --for shutdown` return on that record, and
         * a `start` of the same name may follow at once. Written first,
         * it let this tail unlink the new run's sockets and remove its
         * cgroup's vcpuN/, and a check right after the end still found
         * ours. */
        sup_people_close(s->people);
        s->people = NULL;
        sup_agent_close(s->agent);
        s->agent = NULL;
        /* the sockets are dead ends now; the rest stays for inspection */
        state_remove_sockets(s->o->rundir);
        if (s->o->remove_cgroup)
                s->o->remove_cgroup(s->o->userdata);
        record(s);
        if (s->o->sd_notify) {
                _cleanup_free_ char *how = vm_record_describe_end(r);
                sd_say(s, "STOPPING=1\nSTATUS=VM %s %s: %s", s->o->name,
                       r->state == VM_STATE_FAILED ? "did not start" : "ended",
                       r->state == VM_STATE_FAILED && r->message ? r->message : how ? how : "?");
        }
}

static int loop(struct sup *s)
{
        int64_t deadline_run = s->o->timeout_ms > 0 ? now_ms() + s->o->timeout_ms : 0;

        while (!reap(s)) {
                /* events 0 on stop_when_closed_fd: only its POLLHUP wakes
                 * us, its data is the caller's */
                struct pollfd pfd[3 + SUP_PEOPLE_MAX_POLL + SUP_AGENT_MAX_POLL] = {
                        { .fd = s->sigfd, .events = POLLIN },
                        { .fd = -1, .events = POLLIN },
                        { .fd = s->stop_when_closed_fd, .events = 0 },
                };
                size_t n_people = 0, n_agent = 0;
                int64_t now = now_ms(), wake = now + 1000;

                if (deadline_run && now >= deadline_run && !vm_stop_begun(&s->stop)) {
                        s->rec.timed_out = true;
                        begin_stop(s);
                }
                stop_steps(s);
                if (s->resync_at && now >= s->resync_at) {
                        resync(s);
                        drain_events(s); /* queued while it asked QEMU */
                }
                if (s->resync_at && s->resync_at < wake)
                        wake = s->resync_at;
                if (deadline_run && !vm_stop_begun(&s->stop) && deadline_run < wake)
                        wake = deadline_run;
                if (vm_stop_wake(&s->stop) < wake)
                        wake = vm_stop_wake(&s->stop);
                if (s->q)
                        pfd[1].fd = qmp_fd(s->q);
                if (s->people)
                        n_people = sup_people_pollfds(s->people, pfd + 3, SUP_PEOPLE_MAX_POLL);
                if (s->agent)
                        n_agent = sup_agent_pollfds(s->agent, pfd + 3 + n_people, SUP_AGENT_MAX_POLL);
                /* SIGCHLD arrives on sigfd too, so the 1 s cap only matters if
                 * a signal is lost */
                if (poll(pfd, 3 + n_people + n_agent, (int)(wake > now ? wake - now : 0)) < 0) {
                        if (errno != EINTR)
                                return -1;
                        continue;
                }
                if (pfd[0].revents)
                        handle_signals(s);
                if (pfd[2].revents) {
                        s->stop_when_closed_fd = -1;
                        begin_stop(s);
                }
                if (s->people)
                        sup_people_dispatch(s->people, pfd + 3, n_people);
                if (s->agent)
                        sup_agent_dispatch(s->agent, pfd + 3 + n_people, n_agent);
                if (s->q && pfd[1].revents)
                        read_events(s);
        }
        /* QEMU may have sent its SHUTDOWN just before exiting */
        if (s->q)
                read_events(s);
        return 0;
}

int supervisor_run(const struct supervisor_opts *o, struct vm_record *ret, struct qc_err *err)
{
        struct sup s = { .o = o, .pid = -1, .sigfd = -1, .notify_fd = o->notify_fd,
                         .stop_when_closed_fd = o->stop_when_closed_fd, .events_log = -1 };
        _cleanup_close_ int log = -1;
        sigset_t mask, old;
        int r;
        struct qc_err local = { 0 };

        /* the detached supervisor has nobody to hand an error to, but the
         * record and the notify pipe carry its text */
        if (!err)
                err = &local;

        vm_record_init(&s.rec);
        s.rec.foreground = o->foreground;
        s.rec.supervisor_pid = getpid();
        s.rec.supervisor_start = proc_start_time(getpid());
        if (state_write_pid(o->rundir, VM_RUNDIR_SUPERVISOR_PID, getpid(), err) < 0)
                return -1;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        if (o->foreground) {
                sigaddset(&mask, SIGINT);
                sigaddset(&mask, SIGTERM);
        }
        sigprocmask(SIG_BLOCK, &mask, &old);
        s.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (s.sigfd < 0) {
                sigprocmask(SIG_SETMASK, &old, NULL);
                return qc_err_sys(err, errno, "signalfd");
        }

        log = open_log(o->rundir, VM_RUNDIR_QEMU_LOG, err);
        if (log < 0)
                goto fail;
        s.events_log = open_log(o->rundir, VM_RUNDIR_EVENTS_LOG, NULL);
        int pass[SPAWN_MAX_PASS_FDS];
        if (o->n_pass > SPAWN_MAX_PASS_FDS) {
                qc_err_set(err, E2BIG, "too many fds to pass to QEMU");
                goto fail;
        }
        if (sup_open_pass(o, pass, s.pumps.v, err) < 0)
                goto fail;
        s.pumps.n = o->n_pass;
        int cgroup_fd = -1;
        struct spawn_opts so = {
                .argv = o->argv,
                .stdin_fd = -1,
                .stdout_fd = o->stdout_fd >= 0 ? o->stdout_fd : log,
                .stderr_fd = log,
                .new_pgrp = true,
                /* run: QEMU's end is the supervisor's alone. A scheduler
                 * that signals every process of the job (scancel; slurmstepd
                 * finds them by process tree, process group or cgroup,
                 * depending on its proctrack plugin) must not end QEMU
                 * before the guest saw the power button; and if the
                 * supervisor dies (SIGKILL after Slurm's KillWait, or the
                 * OOM killer), no VM is left running that nobody waits for.
                 * A detached start keeps QEMU alive past its supervisor. */
                .block_term_signals = o->foreground,
                .parent_death_signal = o->foreground ? SIGKILL : 0,
                .place = o->place_qemu,
                .userdata = o->userdata,
                .pass_fds = pass,
                .n_pass_fds = o->n_pass,
                .privs = o->privs,
        };
        sd_say(&s, "STATUS=starting VM %s", o->name);
        r = o->make_cgroup ? o->make_cgroup(o->userdata, &cgroup_fd, err) : 0;
        so.into_cgroup = cgroup_fd >= 0;
        so.cgroup_fd = cgroup_fd;
        if (r == 0)
                r = sup_helpers_start(o, cgroup_fd, s.helpers, err);
        if (r == 0 && (r = spawn_process(&so, &s.pid, err)) < 0)
                sup_helpers_stop(o, s.helpers);
        /* QEMU has its copies now */
        for (size_t i = 0; i < o->n_pass; i++)
                close(pass[i]);
        if (r == 0)
                sup_pumps_start(&s.pumps);
        else
                sup_close_pumps(s.pumps.v, s.pumps.n);
        if (r < 0) {
                for (size_t i = 0; i < o->n_pass; i++)
                        if (o->pass[i].socket)
                                unlink(o->pass[i].path);
                /* make_cgroup may have made a cgroup */
                if (o->remove_cgroup)
                        o->remove_cgroup(o->userdata);
                s.rec.state = VM_STATE_FAILED;
                s.rec.message = strdup(err->msg);
                s.rec.ended_at = unix_ms();
                record(&s);
                goto done;
        }
        s.rec.qemu_pid = s.pid;
        s.rec.qemu_start = proc_start_time(s.pid);
        state_write_pid(o->rundir, VM_RUNDIR_QEMU_PID, s.pid, NULL);
        record(&s);

        r = wait_for_monitor(&s, err);
        /* QEMU made every socket of its command line before it answered on
         * the events monitor */
        if (r == 0 && sup_private_sockets(o->rundir, err) < 0)
                r = -1;
        if (r == 0 && o->incoming && migration_incoming(s.q, o->incoming, err) < 0)
                r = -1;
        if (r == 0 && o->pin_vcpus && o->pin_vcpus(s.q, s.pid, o->userdata, err) < 0)
                r = -1;
        if (r == 0 && !o->paused && qmp_cont(s.q, err) < 0)
                r = -1;
        if (r < 0) {
                /* the guest never ran: QEMU's stderr, or our reason */
                kill(s.pid, SIGKILL);
                waitpid(s.pid, &s.wstatus, 0);
                s.exited = true;
                finish(&s);
                _cleanup_free_ char *said = s.rec.message;
                if (said && s.qemu_said) {
                        if (asprintf(&s.rec.message, "%s\nQEMU said: %s", err->msg, said) < 0)
                                s.rec.message = NULL;
                } else {
                        s.rec.message = strdup(err->msg);
                }
                record(&s);
        } else if (r == 0) {
                s.reached_running = true;
                s.rec.state = o->paused ? VM_STATE_PAUSED : VM_STATE_RUNNING;
                record(&s);
                /* people's monitor before `start` returns: a person may
                 * connect right after it. Without it the VM still runs (the
                 * verbs have theirs). */
                sup_people_open(o->rundir, &s.people, NULL);
                /* the agent's port, kept attached so qemu-ga never waits
                 * for a client (supervisor-agent.h); verbs fall back to
                 * qga.sock without it */
                if (o->agent_relay)
                        sup_agent_open(o->rundir, &s.agent, NULL);
                notify(&s, true, NULL);
                if (o->place_vcpus && o->place_vcpus(o->userdata, err) < 0) {
                        /* the guest runs: say so, and keep supervising it */
                        free(s.rec.message);
                        if (asprintf(&s.rec.message, "placement after start: %s", err->msg) < 0)
                                s.rec.message = NULL;
                        record(&s);
                }
                /* after `cont` and every thread's placement: what a unit
                 * ordered After= this one may count on */
                sd_say(&s, "READY=1\nMAINPID=%d\nSTATUS=VM %s %s (QEMU pid %d)%s%s", (int)getpid(), o->name,
                       o->paused ? "paused" : "running", (int)s.pid, s.rec.message ? "; " : "", s.rec.message ? s.rec.message : "");
                drain_events(&s);
                loop(&s);
                finish(&s);
        } else {
                finish(&s);
        }
done:
        if (s.rec.state == VM_STATE_FAILED)
                notify(&s, false, s.rec.message ? s.rec.message : "QEMU refused to start");
        qmp_free(s.q);
        close(s.sigfd);
        if (s.events_log >= 0)
                close(s.events_log);
        sigprocmask(SIG_SETMASK, &old, NULL);
        *ret = s.rec;
        return 0;
fail:
        qmp_free(s.q);
        close(s.sigfd);
        if (s.events_log >= 0)
                close(s.events_log);
        sigprocmask(SIG_SETMASK, &old, NULL);
        vm_record_done(&s.rec);
        return -1;
}

int supervisor_exit_code(const struct vm_record *r)
{
        if (r->state == VM_STATE_FAILED)
                return RUN_EXIT_REFUSED;
        if (r->timed_out)
                return RUN_EXIT_TIMEOUT;
        if (r->interrupted)
                return RUN_EXIT_INTERRUPT;
        if (r->panicked)
                return RUN_EXIT_PANIC;
        if (r->state == VM_STATE_CRASHED || r->exit_signal)
                return RUN_EXIT_CRASH;
        if (r->saved_to || r->migrated_to)
                return RUN_EXIT_EXTERNAL;
        if (r->shutdown_reason)
                return strcmp(r->shutdown_reason, "guest-shutdown") == 0 ? RUN_EXIT_POWEROFF : RUN_EXIT_EXTERNAL;
        if (r->exit_status > 0 && (r->exit_status & 1))
                return r->exit_status >> 1;
        return r->exit_status == 0 ? RUN_EXIT_POWEROFF : RUN_EXIT_CRASH;
}
