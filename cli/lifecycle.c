/* start, stop, kill, pause, resume, reset (and virsh's shutdown, destroy,
 * suspend). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/defs.h"
#include "cli/launch.h"
#include "common/cleanup.h"
#include "common/io.h"
#include "launcher/stop.h"
#include "launcher/handle.h"
#include "launcher/paths.h"
#include "launcher/launch-placement.h"
#include "launcher/supervisor.h"
#include "qmp/qga.h"
#include "qmp/qmp.h"

struct start_opts {
        const char *restore;
        int paused; /* --paused 1, --running 0, neither -1 */
        bool reset_nvram;
};

static int start_opt(const char *verb, int c, const char *arg, void *ud)
{
        struct start_opts *so = ud;

        if (c == 'r')
                so->restore = arg;
        else if (c == 'N')
                so->reset_nvram = true;
        else
                so->paused = c == 'p';
        return 0;
}

int cmd_start(int argc, char **argv)
{
        const char *verb = argv[0];
        struct launch l;
        struct qc_err err = { 0 };
        _cleanup_(spec_overrides_done) struct spec_overrides ov = { 0 };
        struct start_opts st = { .paused = -1 };
        struct cli_opts o = { .overrides = &ov, .on_opt = start_opt, .ud = &st };
        const char *restore;
        int rc, parsed = cli_parse_opts(verb, argc, argv, &o, &rc);

        if (parsed != 0)
                return rc;
        restore = st.restore;
        if (restore ? optind < argc - 1 : optind != argc - 1)
                return cli_usage(verb, restore ? "expected at most one VM file or defined VM"
                                               : "expected one VM file or the name of a defined VM");
        if (st.paused == 0 && !restore)
                return cli_usage(verb, "--running goes with --restore (a boot runs the guest anyway)");
        /* the saved guest's firmware had the variables in its memory, and
         * QEMU writes the saved flash back over the store on load */
        if (st.reset_nvram && restore)
                return cli_usage(verb, "--reset-nvram is for a boot, not with --restore: the saved guest brings its "
                                       "own UEFI variables back; restore it, stop it, then start --reset-nvram");
        _cleanup_free_ char *file = NULL;
        if (optind < argc && (rc = cli_vm_file(verb, argv[optind], &file)))
                return rc;
        if (restore)
                rc = launch_prepare_restore(verb, restore, file, &ov, CMDLINE_SERIAL_SPEC, NULL, cli_lock_timeout_ms,
                                            &l);
        else
                rc = launch_prepare(verb, file, &ov, CMDLINE_SERIAL_SPEC, NULL, st.reset_nvram, cli_lock_timeout_ms,
                                    &l);
        if (rc) /* run's 3 (QEMU would be refused) is start's 1, as when QEMU refuses */
                return rc == RUN_EXIT_REFUSED ? CLI_EXIT_FAIL : rc;
        struct supervisor_opts so;
        launch_supervisor_opts(&l, &so);
        /* a restore goes on as the guest was saved, as virsh restore does */
        so.paused = st.paused >= 0 ? st.paused : restore && !l.save.running;
        rc = supervisor_start_detached(&so, &err);
        if (rc < 0) {
                fprintf(stderr, "qemuctl: %s: VM `%s`: %s\n", verb, l.spec->name, err.msg);
                launch_done(&l);
                return CLI_EXIT_FAIL;
        }
        printf("VM `%s` is %s%s%s (state dir %s)%s\n", l.spec->name, so.paused ? "paused" : "running",
               restore ? ", restored from " : "", restore ? restore : "", l.rundir,
               so.paused ? ": qemuctl resume runs it" : "");
        launch_done(&l);
        return CLI_EXIT_OK;
}

/* guest-shutdown when the VM has an agent port and an agent answers on it
 * within 2 s: 1 = the agent took it, 0 = sent but unconfirmed (the power
 * button goes too), -1 = no agent or it refused (the power button instead). */
static int stop_by_agent(const char *verb, struct vm_handle *h)
{
        _cleanup_free_ char *path = vm_agent_socket(h->rundir, &h->rec);
        _cleanup_(qga_freep) struct qga *g = NULL;
        struct qc_err err = { 0 };
        struct stat st;
        int r;

        if (!path || lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
                return -1;
        if (qga_connect_wait(path, 2000, 2000, 5000, &g, &err) < 0) {
                fprintf(stderr, "qemuctl: %s: VM `%s`: no guest agent answered (%s); pressing the power button\n",
                        verb, h->name, err.msg);
                return -1;
        }
        r = qga_shutdown(g, "powerdown", &err);
        if (r < 0)
                fprintf(stderr, "qemuctl: %s: VM `%s`: the guest agent refused to shut down (%s); pressing the "
                                "power button\n",
                        verb, h->name, err.msg);
        return r;
}

/* SIGKILL for the stop escalation: only the VM's proven QEMU, and one that
 * is gone already is fine. */
static int kill_qemu(void *ud, struct qc_err *err)
{
        const struct vm_handle *h = ud;
        struct qc_err e = { 0 };

        if (vm_qemu_signal(h->rec.qemu_pid, h->rec.qemu_start, h->name, SIGKILL, &e) < 0 && e.code != ESRCH) {
                if (err)
                        *err = e;
                return -1;
        }
        return 0;
}

/* The stop escalation (launcher/stop.h) from first, over q (NULL: no QMP),
 * until QEMU is gone; saying on stderr each step past the first. asked: the
 * guest agent has asked the guest to shut down already, so the power button
 * step only waits its grace. *ret_last = the last step taken. 0, or -1 with
 * err: a power button QEMU refused, a SIGKILL that failed, a QEMU that
 * survived it. */
static int escalate(const char *verb, const struct vm_handle *h, struct qmp *q, enum vm_stop_step first,
                    int grace_ms, bool asked, enum vm_stop_step *ret_last, struct qc_err *err)
{
        struct vm_stop st = { 0 };

        vm_stop_begin(&st, first, grace_ms, now_ms());
        for (;;) {
                int64_t now = now_ms(), wake;
                enum vm_stop_step step;

                while ((step = vm_stop_due(&st, now)) != _VM_STOP_STEP_INVALID) {
                        struct qc_err e = { 0 };

                        if (step == VM_STOP_POWERDOWN && asked)
                                continue;
                        if (step == VM_STOP_QUIT && step != first)
                                fprintf(stderr, "qemuctl: %s: VM `%s` did not power off within %d s; quitting QEMU\n",
                                        verb, h->name, st.grace_ms / 1000);
                        else if (step == VM_STOP_KILL)
                                fprintf(stderr, "qemuctl: %s: VM `%s`: QEMU did not quit; killing it (SIGKILL)\n",
                                        verb, h->name);
                        if (vm_stop_take(&st, step, q, kill_qemu, (void *)h, now, &e) == 0 ||
                            !proc_alive(h->rec.qemu_pid, h->rec.qemu_start))
                                continue;
                        /* a quit that fails is followed by SIGKILL at once */
                        if (step != VM_STOP_QUIT) {
                                if (err)
                                        *err = e;
                                return -1;
                        }
                }
                wake = vm_stop_wake(&st);
                /* after SIGKILL, as long as after a quit */
                if (wake == INT64_MAX)
                        wake = now + VM_STOP_KILL_AFTER_MS;
                if (cli_wait_qemu_gone(h, (int)(wake - now))) {
                        *ret_last = st.last;
                        return 0;
                }
                if (st.last == VM_STOP_KILL && vm_stop_wake(&st) == INT64_MAX)
                        return qc_err_set(err, ETIMEDOUT, "VM `%s`: QEMU (pid %d) survived SIGKILL", h->name,
                                          (int)h->rec.qemu_pid);
        }
}

/* What the record says when no supervisor watched QEMU go: by stop (else
 * kill), through the guest agent, and the last step taken. */
static struct vm_end_note end_note(bool by_stop, bool by_agent, enum vm_stop_step last)
{
        switch (last) {
        case VM_STOP_POWERDOWN:
                return (struct vm_end_note){
                        .message = by_agent ? "stopped by qemuctl stop (guest agent shutdown); no supervisor was watching"
                                            : "stopped by qemuctl stop (power button); no supervisor was watching" };
        case VM_STOP_QUIT:
                return (struct vm_end_note){
                        .message = by_stop ? "stopped by qemuctl stop (quit after the guest ignored the power "
                                             "button); no supervisor was watching"
                                           : "killed by qemuctl kill (quit); no supervisor was watching",
                        .shutdown_reason = "host-qmp-quit" };
        case VM_STOP_KILL:
        default:
                return (struct vm_end_note){ .message = by_stop ? "stopped by qemuctl stop (SIGKILL after quit); "
                                                                  "no supervisor was watching"
                                                                : "killed by qemuctl kill; no supervisor was watching",
                                             .exit_signal = SIGKILL };
        }
}

int cmd_stop(int argc, char **argv)
{
        static const char *const done[_VM_STOP_STEP_MAX] = {
                [VM_STOP_POWERDOWN] = "powered off", [VM_STOP_QUIT] = "quit", [VM_STOP_KILL] = "killed" };
        const char *verb = argv[0];
        _cleanup_vm_ struct vm_handle *h = NULL;
        struct qc_err err = { 0 };
        struct cli_opts o = { .take = CLI_OPT_ONE_NAME, .timeout_ms = 60000 };
        int rc, parsed = cli_parse_opts(verb, argc, argv, &o, &rc);
        enum vm_stop_step last = VM_STOP_POWERDOWN;

        if (parsed != 0)
                return rc;
        if ((rc = cli_vm_open(verb, argv[optind], VM_OPEN_LOCK | VM_OPEN_NO_SPEC, &h)))
                return rc;
        /* the guest's vCPUs must run to handle the power button's ACPI event:
         * a paused guest would sit out the whole --timeout and then be quit */
        _cleanup_free_ char *status = NULL;
        bool running = true;
        if (qmp_query_status(h->qmp, &status, &running, &err) < 0)
                return cli_fail(verb, &err);
        if (!running && status && strcmp(status, "paused") == 0) {
                fprintf(stderr, "qemuctl: %s: VM `%s` is paused; resuming it so that the guest sees the power button\n",
                        verb, h->name);
                if (qmp_cont(h->qmp, &err) < 0)
                        return cli_fail(verb, &err);
        }
        int by_agent = stop_by_agent(verb, h);
        /* the agent took it: the guest is shutting down, wait the grace
         * without the power button */
        if (escalate(verb, h, h->qmp, VM_STOP_POWERDOWN, o.timeout_ms, by_agent == 1, &last, &err) < 0)
                return cli_fail(verb, &err);
        struct vm_end_note note = end_note(true, by_agent == 1, last);
        cli_wait_recorded(verb, h, &note);
        printf("VM `%s` %s%s\n", h->name, done[last],
               last == VM_STOP_POWERDOWN && by_agent == 1 ? " (guest agent)" : "");
        return CLI_EXIT_OK;
}

int cmd_kill(int argc, char **argv)
{
        const char *verb = argv[0];
        _cleanup_vm_ struct vm_handle *h = NULL;
        struct cli_opts o = { .take = CLI_OPT_ONE_NAME };
        int rc, parsed = cli_parse_opts(verb, argc, argv, &o, &rc);
        enum vm_stop_step last = VM_STOP_QUIT;

        if (parsed != 0)
                return rc;
        /* no QMP here: a hung QEMU must be killable too */
        if ((rc = cli_vm_open(verb, argv[optind], VM_OPEN_LOCK | VM_OPEN_NO_SPEC | VM_OPEN_NO_QMP, &h)))
                return rc;
        /* a record names a pid; only the VM's own QEMU may be ended */
        struct qc_err err = { 0 };
        if (vm_qemu_check(h->rec.qemu_pid, h->rec.qemu_start, h->name, &err) < 0 && err.code != ESRCH)
                return cli_fail(verb, &err);
        _cleanup_free_ char *sock = NULL;
        struct qmp *q = NULL;
        /* quit if QEMU answers within 3 s; SIGKILL otherwise */
        if ((sock = path_join(h->rundir, VM_RUNDIR_CTL)))
                (void)qmp_connect(sock, 3000, &q, NULL);
        rc = escalate(verb, h, q, VM_STOP_QUIT, 0, false, &last, &err);
        qmp_free(q);
        if (rc < 0)
                return cli_fail(verb, &err);
        struct vm_end_note note = end_note(false, false, last);
        cli_wait_recorded(verb, h, &note);
        /* the supervisor removes the VM's cgroup; if it died, nobody would
         * (its helpers, such as swtpm, end a moment after QEMU) */
        launch_placement_tidy(h->rundir, 3000, NULL);
        printf("VM `%s` killed\n", h->name);
        return CLI_EXIT_OK;
}

/* A verb that is one QMP command, by its qmp/ wrapper. want: the state the
 * record is to say before the verb returns (_VM_STATE_INVALID: none). */
static int simple_qmp(int argc, char **argv, int (*cmd)(struct qmp *q, struct qc_err *err), const char *done,
                      enum vm_state want)
{
        const char *verb = argv[0];
        _cleanup_vm_ struct vm_handle *h = NULL;
        struct qc_err err = { 0 };
        struct cli_opts o = { .take = CLI_OPT_ONE_NAME };
        int rc, parsed = cli_parse_opts(verb, argc, argv, &o, &rc);

        if (parsed != 0)
                return rc;
        if ((rc = cli_vm_open(verb, argv[optind], VM_OPEN_LOCK | VM_OPEN_NO_SPEC, &h)))
                return rc;
        if (cmd(h->qmp, &err) < 0)
                return cli_fail(verb, &err);
        /* `pause x; status x` must agree, as after kill */
        if (want != _VM_STATE_INVALID)
                cli_wait_state(verb, h, want);
        printf("VM `%s` %s\n", h->name, done);
        return CLI_EXIT_OK;
}

int cmd_pause(int argc, char **argv)
{
        return simple_qmp(argc, argv, qmp_stop, "paused", VM_STATE_PAUSED);
}

int cmd_resume(int argc, char **argv)
{
        return simple_qmp(argc, argv, qmp_cont, "resumed", VM_STATE_RUNNING);
}

int cmd_reset(int argc, char **argv)
{
        return simple_qmp(argc, argv, qmp_system_reset, "reset", _VM_STATE_INVALID);
}
