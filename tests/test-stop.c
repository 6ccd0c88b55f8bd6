/* launcher/stop: the one stop escalation (power button, quit, SIGKILL) that
 * `stop`, `kill` and the supervisor share: which step is due when, and each
 * step taken over a scripted fake QMP server. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "launcher/stop.h"
#include "qmp/qmp.h"
#include "tests/lib/fakeqmp-tap.h"
#include "tests/tap.h"

static int kills;
static int count_kill(void *ud, struct qc_err *err)
{
        kills++;
        return 0;
}

static void test_schedule(void)
{
        struct vm_stop st = { 0 };

        ok(!vm_stop_begun(&st), "a zeroed stop has not begun");
        is_int(vm_stop_due(&st, 1000), _VM_STOP_STEP_INVALID, "nothing is due before it begins");
        ok(vm_stop_wake(&st) == INT64_MAX, "and nothing to wake for");

        vm_stop_begin(&st, VM_STOP_POWERDOWN, 5000, 1000);
        ok(vm_stop_begun(&st), "begun");
        is_int(vm_stop_due(&st, 1000), VM_STOP_POWERDOWN, "the power button at once");
        is_int(vm_stop_due(&st, 1000), _VM_STOP_STEP_INVALID, "then nothing");
        is_int(vm_stop_wake(&st), 6000, "quit is due after the grace");
        vm_stop_begin(&st, VM_STOP_QUIT, 1, 2000);
        is_int(vm_stop_wake(&st), 6000, "beginning again changes nothing");
        is_int(vm_stop_due(&st, 5999), _VM_STOP_STEP_INVALID, "not before");
        is_int(vm_stop_due(&st, 6000), VM_STOP_QUIT, "quit at 6000");
        is_int(vm_stop_wake(&st), 6000 + VM_STOP_KILL_AFTER_MS, "SIGKILL VM_STOP_KILL_AFTER_MS later");
        is_int(vm_stop_due(&st, 6000 + VM_STOP_KILL_AFTER_MS), VM_STOP_KILL, "SIGKILL");
        is_int(st.last, VM_STOP_KILL, "the last step taken");
        is_int(vm_stop_due(&st, INT64_MAX - 1), _VM_STOP_STEP_INVALID, "nothing after SIGKILL");
        ok(vm_stop_wake(&st) == INT64_MAX, "nothing left to wake for");

        st = (struct vm_stop){ 0 };
        vm_stop_begin(&st, VM_STOP_POWERDOWN, 0, 1);
        (void)vm_stop_due(&st, 1);
        is_int(vm_stop_wake(&st), 1 + VM_STOP_GRACE_MS, "grace 0: VM_STOP_GRACE_MS");

        st = (struct vm_stop){ 0 };
        vm_stop_begin(&st, VM_STOP_QUIT, 0, 50);
        is_int(vm_stop_due(&st, 50), VM_STOP_QUIT, "kill's escalation starts at quit");
}

static struct qmp *start(struct fakeqmp *f)
{
        struct qc_err e = { 0 };
        struct qmp *q = NULL;
        int fd;

        fakeqmp_wait_eof(f);
        if (fakeqmp_start(f, &fd) < 0 || qmp_open_fd(fd, 3000, &q, &e) < 0)
                tap_diag("fake QMP: %s", e.msg);
        return q;
}

static void finish(struct fakeqmp *f, struct qmp *q, const char *what)
{
        qmp_free(q);
        fakeqmp_check(f, what);
}

static void test_take(void)
{
        struct vm_stop st = { 0 };
        struct qc_err e = { 0 };
        struct fakeqmp *f;
        struct qmp *q;

        /* the whole way, over QMP */
        f = fakeqmp_new();
        fakeqmp_greet(f);
        fakeqmp_expect(f, "{\"execute\": \"system_powerdown\"}");
        fakeqmp_reply(f, "{}");
        fakeqmp_expect(f, "{\"execute\": \"quit\"}");
        fakeqmp_reply(f, "{}");
        if (!(q = start(f)))
                return;
        kills = 0;
        vm_stop_begin(&st, VM_STOP_POWERDOWN, 100, 10);
        is_int(vm_stop_take(&st, vm_stop_due(&st, 10), q, count_kill, NULL, 10, &e), 0, "power button sent");
        is_int(vm_stop_take(&st, vm_stop_due(&st, 110), q, count_kill, NULL, 110, &e), 0, "quit sent");
        is_int(vm_stop_wake(&st), 110 + VM_STOP_KILL_AFTER_MS, "SIGKILL still waits its time after a quit sent");
        is_int(vm_stop_take(&st, vm_stop_due(&st, 110 + VM_STOP_KILL_AFTER_MS), q, count_kill, NULL, 0, &e), 0,
               "SIGKILL");
        is_int(kills, 1, "by the caller's kill function");
        finish(f, q, "power button, quit");

        /* QEMU refuses quit: SIGKILL is due at once */
        f = fakeqmp_new();
        fakeqmp_greet(f);
        fakeqmp_expect(f, "{\"execute\": \"quit\"}");
        fakeqmp_error(f, "GenericError", "not now");
        if (!(q = start(f)))
                return;
        st = (struct vm_stop){ 0 };
        vm_stop_begin(&st, VM_STOP_QUIT, 0, 500);
        is_int(vm_stop_take(&st, vm_stop_due(&st, 500), q, count_kill, NULL, 500, &e), -1, "a refused quit fails");
        ok(strstr(e.msg, "not now") != NULL, "with QEMU's reason: %s", e.msg);
        is_int(vm_stop_due(&st, 500), VM_STOP_KILL, "and SIGKILL is due at once");
        finish(f, q, "refused quit");

        /* no QMP at all: the power button fails but keeps the grace */
        st = (struct vm_stop){ 0 };
        vm_stop_begin(&st, VM_STOP_POWERDOWN, 3000, 1);
        is_int(vm_stop_take(&st, vm_stop_due(&st, 1), NULL, count_kill, NULL, 1, &e), -1, "no QMP: no power button");
        is_int(e.code, ENOTCONN, "ENOTCONN");
        is_int(vm_stop_wake(&st), 3001, "QEMU may be on its way out: quit keeps its time");
        is_int(vm_stop_take(&st, vm_stop_due(&st, 3001), NULL, count_kill, NULL, 3001, &e), -1, "no QMP: no quit");
        is_int(vm_stop_due(&st, 3001), VM_STOP_KILL, "SIGKILL at once");
}

int main(void)
{
        test_schedule();
        test_take();
        return tap_done();
}
