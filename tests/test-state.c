/* launcher/state: records, liveness, the per-VM lock, stale tidying, names. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/io.h"
#include "common/strv.h"
#include "launcher/state.h"
#include "launcher/supervisor.h"
#include "tests/tap.h"

static char base[] = "/tmp/qemuctl-test-state-XXXXXX";

static void test_record_roundtrip(void)
{
        struct qc_err err = { 0 };
        struct vm_record r, back;
        char dir[512];

        snprintf(dir, sizeof dir, "%s/rec", base);
        ok(mkdir(dir, 0700) == 0, "mkdir record dir");
        is_int(vm_record_read(dir, &back, &err), -1, "no record yet fails");
        is_int(err.code, ENOENT, "with err->code ENOENT");

        vm_record_init(&r);
        r.state = VM_STATE_CRASHED;
        r.qemu_pid = 4242;
        r.qemu_start = 123456789;
        r.exit_signal = 9;
        r.shutdown_reason = strdup("guest-shutdown");
        r.message = strdup("line one\n\"quoted\"");
        is_int(vm_record_write(dir, &r, &err), 0, "write record");
        is_int(vm_record_read(dir, &back, &err), 0, "read record back");
        is_str(vm_state_to_string(back.state), "crashed", "state survives");
        is_int(back.qemu_pid, 4242, "qemu pid survives");
        is_int(back.qemu_start, 123456789, "start time survives");
        is_int(back.exit_signal, 9, "signal survives");
        is_int(back.exit_status, -1, "exit status default survives");
        is_str(back.shutdown_reason, "guest-shutdown", "reason survives");
        is_str(back.message, "line one\n\"quoted\"", "message with quotes and newline survives");
        ok(back.started_at > 1600000000000LL, "started_at is unix ms");

        _cleanup_free_ char *d = vm_record_describe_end(&back);
        ok(d && strstr(d, "signal 9"), "describe names the signal: %s", d ? d : "(null)");
        vm_record_done(&r);
        vm_record_done(&back);

        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, VM_RUNDIR_STATUS);
        struct stat st;
        ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "record is 0600");
        write_file(path, "{\"state\": \"bogus\"}", 0600);
        ok(vm_record_read(dir, &back, &err) < 0 && strstr(err.msg, "state"), "bad state refused: %s", err.msg);

        /* a record in any shape: pids a kill() could be aimed at never come
         * out as -1 (every process) or as a 64-bit value cut down to 1 */
        write_file(path,
                   "{\"state\": \"running\", \"qemu_pid\": -1, \"supervisor_pid\": 4294967297, "
                   "\"exit_status\": 4294967296, \"exit_signal\": \"9\", \"foreground\": \"no\", "
                   "\"panicked\": 1, \"shutdown_reason\": 5}",
                   0600);
        is_int(vm_record_read(dir, &back, &err), 0, "a record with wrong-typed members reads (%s)", err.msg);
        is_int(back.qemu_pid, 0, "qemu_pid -1 is no pid");
        is_int(back.supervisor_pid, 0, "supervisor_pid 2^32 + 1 is no pid (not 1)");
        is_int(back.exit_status, -1, "an exit status past int is none");
        is_int(back.exit_signal, 0, "a signal given as a string is none");
        ok(!back.foreground && !back.panicked, "booleans given as a string or a number are false");
        ok(!back.shutdown_reason, "a reason given as a number is none");
        vm_record_done(&back);
        write_file(path, "{\"state\": [\"running\"]}", 0600);
        ok(vm_record_read(dir, &back, &err) < 0, "a state that is no string is refused: %s", err.msg);
}

static void test_lock(void)
{
        struct qc_err err = { 0 };
        char dir[512];
        int p[2], fd;
        pid_t pid;
        char c;

        snprintf(dir, sizeof dir, "%s/locked", base);
        ok(mkdir(dir, 0700) == 0, "mkdir lock dir");
        ok(pipe(p) == 0, "pipe");
        pid = fork();
        if (pid == 0) {
                struct qc_err e2 = { 0 };
                int l = state_lock(dir, "locked", "setvcpus", 0, &e2);
                if (write(p[1], l >= 0 ? "y" : "n", 1) != 1)
                        _exit(2);
                pause();
                _exit(0);
        }
        ok(read(p[0], &c, 1) == 1 && c == 'y', "child holds the lock");
        int64_t t0 = now_ms();
        fd = state_lock(dir, "locked", "pause", 300, &err);
        ok(fd < 0 && err.code == EBUSY, "second locker gives up (EBUSY)");
        ok(now_ms() - t0 >= 250, "and it waited for the timeout first");
        char want[64];
        snprintf(want, sizeof want, "pid %d, `setvcpus`", (int)pid);
        ok(strstr(err.msg, want) != NULL, "message names the holder: %s", err.msg);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fd = state_lock(dir, "locked", "pause", 2000, &err);
        ok(fd >= 0, "lock taken once the holder died");
        close(fd);
        close(p[0]);
        close(p[1]);
}

/* A child that has exited and been reaped: its pid names nobody (for now). */
static pid_t dead_pid(void)
{
        pid_t pid = fork();

        if (pid == 0)
                _exit(0);
        waitpid(pid, NULL, 0);
        return pid;
}

static void test_prepare(void)
{
        struct qc_err err = { 0 };
        _cleanup_free_ char *rundir = NULL, *rundir2 = NULL;
        char long_name[201];
        char path[600];
        int fd;

        memset(long_name, 'a', 200);
        long_name[200] = '\0';
        const char *bad[] = { "a/b", "..", ".", "", "../etc", long_name, "sp ace" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *rd = NULL;
                qc_err_clear(&err);
                fd = state_prepare(bad[i], "start", 0, &rd, &err);
                ok(fd < 0 && err.code == EINVAL, "name \"%.20s\" refused: %s", bad[i], err.msg);
                free(rd);
        }
        is_int(tap_count_entries(base), 2, "nothing touched the disk for bad names (only rec/ and locked/ exist)");

        fd = state_prepare("vm1", "start", 0, &rundir, &err);
        ok(fd >= 0, "prepare vm1: %s", fd < 0 ? err.msg : "ok");
        struct stat st;
        ok(stat(rundir, &st) == 0 && (st.st_mode & 07777) == 0700, "state dir is 0700");

        /* a record saying "running" with a live QEMU (ourselves) */
        struct vm_record r;
        vm_record_init(&r);
        r.state = VM_STATE_RUNNING;
        r.qemu_pid = getpid();
        r.qemu_start = proc_start_time(getpid());
        vm_record_write(rundir, &r, &err);
        close(fd);
        fd = state_prepare("vm1", "start", 0, &rundir2, &err);
        ok(fd < 0 && err.code == EEXIST && strstr(err.msg, "already running"), "live VM refused: %s", err.msg);

        /* QEMU gone a moment ago, its supervisor (a child here) still
         * tidying up before it records the end: start waits for that
         * record rather than call the VM running */
        pid_t sup = fork();
        if (sup == 0) {
                struct vm_record e;
                usleep(300 * 1000);
                vm_record_init(&e);
                e.state = VM_STATE_ENDED;
                e.exit_status = 0;
                _exit(vm_record_write(rundir, &e, NULL) < 0);
        }
        struct vm_record rs;
        vm_record_init(&rs);
        rs.state = VM_STATE_RUNNING;
        rs.qemu_pid = dead_pid();
        rs.supervisor_pid = sup;
        rs.supervisor_start = proc_start_time(sup);
        vm_record_write(rundir, &rs, &err);
        qc_err_clear(&err);
        fd = state_prepare("vm1", "start", 0, &rundir2, &err);
        ok(fd >= 0, "a QEMU just ended, its supervisor still recording: start waits for the end: %s",
           fd < 0 ? err.msg : "ok");
        if (fd >= 0)
                close(fd);
        free(rundir2);
        rundir2 = NULL;
        int wst;
        waitpid(sup, &wst, 0);
        ok(WIFEXITED(wst) && WEXITSTATUS(wst) == 0, "the supervisor wrote the end");

        /* the same record after a "host reboot": the pid is someone else's */
        r.qemu_start += 1;
        vm_record_write(rundir, &r, &err);
        snprintf(path, sizeof path, "%s/%s", rundir, VM_RUNDIR_QEMU_LOG);
        write_file(path, "old log", 0600);
        /* cloud-init's work dir (cloudinit.c): a directory with files */
        snprintf(path, sizeof path, "%s/cidata", rundir);
        mkdir(path, 0700);
        snprintf(path, sizeof path, "%s/cidata/user-data", rundir);
        write_file(path, "#cloud-config\n", 0600);
        qc_err_clear(&err);
        fd = state_prepare("vm1", "start", 0, &rundir2, &err);
        ok(fd >= 0, "stale state dir is no obstacle: %s", fd < 0 ? err.msg : "ok");
        is_int(tap_count_entries(rundir), 1, "stale files tidied, lock file kept");
        close(fd);

        struct vm_record r2;
        vm_record_init(&r2);
        r2.state = VM_STATE_RUNNING;
        r2.qemu_pid = 999999; /* beyond pid_max on most hosts: gone */
        vm_record_refresh(&r2);
        is_str(vm_state_to_string(r2.state), "ended", "refresh: active record with no QEMU and no supervisor ends");
        ok(r2.message && strstr(r2.message, "no supervisor"), "refresh says why");
        vm_record_done(&r2);

        char **names = NULL;
        setenv("QEMUCTL_RUNDIR", base, 1);
        is_int(state_list_names(&names, &err), 0, "list names");
        ok(names && names[0] && strcmp(names[0], "locked") == 0 && names[1] && strcmp(names[1], "rec") == 0 &&
                   names[2] && strcmp(names[2], "vm1") == 0 && !names[3],
           "names sorted: locked rec vm1");
        strv_free(names);
}

/* kill/stop on a VM whose supervisor died write the end themselves: with
 * what they know (note) and when, or, without a note, as unknown. */
static void test_wait_end(void)
{
        struct qc_err err = { 0 };
        char dir[512];
        struct vm_record r, back;

        snprintf(dir, sizeof dir, "%s/unwatched", base);
        mkdir(dir, 0700);
        vm_record_init(&r);
        r.state = VM_STATE_RUNNING;
        r.qemu_pid = dead_pid();
        r.supervisor_pid = dead_pid();
        ok(vm_record_write(dir, &r, &err) == 0, "write a running record whose QEMU and supervisor are gone");
        struct vm_end_note note = { .message = "killed by qemuctl kill", .exit_signal = SIGKILL };
        int64_t before = now_ms();
        is_int(vm_record_wait_end(dir, 1000, &note, &err), 0, "wait_end writes the end itself");
        ok(now_ms() - before < 500, "at once, with nobody to wait for");
        ok(vm_record_read(dir, &back, &err) == 0, "read it back");
        is_str(vm_state_to_string(back.state), "ended", "state ended");
        is_str(back.message ? back.message : "(null)", "killed by qemuctl kill", "the caller's note, not \"unknown\"");
        is_int(back.exit_signal, SIGKILL, "the signal it sent");
        ok(back.ended_at >= r.started_at && back.ended_at > 0, "the time of the end");
        _cleanup_free_ char *how = vm_record_describe_end(&back);
        ok(how && strstr(how, "signal 9"), "described: %s", how ? how : "(null)");
        vm_record_done(&back);

        note = (struct vm_end_note){ .message = "killed by qemuctl kill", .shutdown_reason = "host-qmp-quit" };
        vm_record_write(dir, &r, &err);
        is_int(vm_record_wait_end(dir, 1000, &note, &err), 0, "again, ended by QMP quit");
        vm_record_read(dir, &back, &err);
        is_str(back.shutdown_reason ? back.shutdown_reason : "(null)", "host-qmp-quit", "reason: quit over QMP");
        is_int(back.exit_signal, 0, "no signal");
        vm_record_done(&back);

        /* save with nobody watching: the file goes into the record */
        note = (struct vm_end_note){ .message = "saved by qemuctl save (quit)", .shutdown_reason = "host-qmp-quit",
                                     .saved_to = "/var/tmp/vm.save" };
        vm_record_write(dir, &r, &err);
        is_int(vm_record_wait_end(dir, 1000, &note, &err), 0, "again, ended by save");
        vm_record_read(dir, &back, &err);
        is_str(back.saved_to ? back.saved_to : "(null)", "/var/tmp/vm.save", "saved_to: the save file");
        _cleanup_free_ char *saved = vm_record_describe_end(&back);
        ok(saved && strstr(saved, "saved to /var/tmp/vm.save") && strstr(saved, "qemuctl start --restore /var/tmp/vm.save") &&
                   !strstr(saved, "quit over QMP"),
           "described as saved, with the way back: %s", saved ? saved : "(null)");
        vm_record_done(&back);

        vm_record_write(dir, &r, &err);
        is_int(vm_record_wait_end(dir, 1000, NULL, &err), 0, "without a note");
        vm_record_read(dir, &back, &err);
        ok(back.message && strstr(back.message, "how is unknown"), "the end is unknown: %s",
           back.message ? back.message : "(null)");
        vm_record_done(&back);
        vm_record_done(&r);
}

/* pause and resume wait for the supervisor's record of QEMU's STOP or
 * RESUME: 1 once it says so, 0 when it does not in time or the VM ended. */
static void test_wait_state(void)
{
        struct qc_err err = { 0 };
        char dir[512];
        struct vm_record r;
        int64_t before;

        snprintf(dir, sizeof dir, "%s/paused", base);
        mkdir(dir, 0700);
        vm_record_init(&r);
        r.state = VM_STATE_PAUSED;
        ok(vm_record_write(dir, &r, &err) == 0, "write a paused record");
        is_int(vm_record_wait_state(dir, VM_STATE_PAUSED, 1000, &err), 1, "wait_state: it says paused");
        before = now_ms();
        is_int(vm_record_wait_state(dir, VM_STATE_RUNNING, 300, &err), 0, "wait_state: not running within 300 ms");
        ok(now_ms() - before >= 300, "after the whole wait");
        r.state = VM_STATE_ENDED;
        vm_record_write(dir, &r, &err);
        is_int(vm_record_wait_state(dir, VM_STATE_RUNNING, 5000, &err), 0, "wait_state: an ended VM never runs");
        is_int(vm_record_wait_state("/nonexistent/qemuctl-test", VM_STATE_RUNNING, 100, &err), -1,
               "wait_state: no record is an error");
        vm_record_done(&r);
}

/* save with a supervisor watching: the note it leaves is what the
 * supervisor adds to the record once QEMU quit */
static void test_end_note(void)
{
        struct qc_err err = { 0 };
        char dir[512];
        struct vm_record r;
        struct vm_end_note note = { .saved_to = "/srv/saves/web.save" };

        snprintf(dir, sizeof dir, "%s/noted", base);
        mkdir(dir, 0700);
        vm_record_init(&r);
        r.state = VM_STATE_ENDED;
        is_int(vm_end_note_take(dir, &r), 0, "no note: nothing taken");
        is_int(vm_end_note_leave(dir, &note, &err), 0, "leave a note: %s", err.msg);
        is_int(vm_end_note_take(dir, &r), 0, "not taken for an end that was no QMP quit");
        ok(!r.saved_to, "the record says nothing of a save");
        r.exit_status = 1;
        is_int(vm_end_note_take(dir, &r), 0, "not taken for QEMU's exit with an error");
        r.exit_status = 0;
        r.exit_signal = 9;
        is_int(vm_end_note_take(dir, &r), 0, "not taken for a QEMU killed by a signal");
        r.exit_signal = 0;
        is_int(vm_end_note_take(dir, &r), 1, "taken for a clean exit whose SHUTDOWN event was lost");
        is_str(r.saved_to ? r.saved_to : "(null)", "/srv/saves/web.save", "saved_to from the note");
        is_int(supervisor_exit_code(&r), RUN_EXIT_EXTERNAL, "run's exit: ended from outside, not a power off");
        free(r.saved_to);
        r.saved_to = NULL;
        r.exit_status = -1;
        r.shutdown_reason = strdup("host-qmp-quit");
        is_int(vm_end_note_take(dir, &r), 1, "taken for a QMP quit");
        is_str(r.saved_to ? r.saved_to : "(null)", "/srv/saves/web.save", "saved_to from the note");
        vm_record_done(&r);
        vm_end_note_drop(dir);
        vm_record_init(&r);
        r.shutdown_reason = strdup("host-qmp-quit");
        is_int(vm_end_note_take(dir, &r), 0, "a dropped note is gone (a save whose quit failed)");
        vm_record_done(&r);

        /* a note whose verb died before its quit (Ctrl-C between the two)
         * speaks for no later end of the run */
        pid_t leaver = fork();
        if (leaver == 0)
                _exit(vm_end_note_leave(dir, &(struct vm_end_note){ .saved_to = "/srv/saves/stale.save" }, NULL) < 0);
        int lst;
        waitpid(leaver, &lst, 0);
        ok(WIFEXITED(lst) && WEXITSTATUS(lst) == 0, "a verb left a note and died");
        vm_record_init(&r);
        r.state = VM_STATE_ENDED;
        r.shutdown_reason = strdup("host-qmp-quit");
        is_int(vm_end_note_take(dir, &r), 0, "its note is not taken for a later QMP quit");
        ok(!r.saved_to, "the record says nothing of that save");
        vm_record_done(&r);
        vm_end_note_drop(dir);

        /* migrate: where the VM runs now, not "quit over QMP" (run's last line, status) */
        note = (struct vm_end_note){ .migrated_to = "ssh://root@far.example/run/qemuctl" };
        is_int(vm_end_note_leave(dir, &note, &err), 0, "leave migrate's note: %s", err.msg);
        vm_record_init(&r);
        r.state = VM_STATE_ENDED;
        r.exit_status = 0;
        r.shutdown_reason = strdup("host-qmp-quit");
        is_int(vm_end_note_take(dir, &r), 1, "taken for migrate's QMP quit");
        is_str(r.migrated_to ? r.migrated_to : "(null)", "ssh://root@far.example/run/qemuctl", "migrated_to from the note");
        ok(!r.saved_to, "and nothing of a save");
        _cleanup_free_ char *how = vm_record_describe_end(&r);
        ok(how && strstr(how, "migrated to ssh://root@far.example/run/qemuctl") && strstr(how, "the far side runs it") &&
                   !strstr(how, "quit over QMP"),
           "described as migrated, to where: %s", how ? how : "(null)");
        is_int(vm_record_write(dir, &r, &err), 0, "written");
        vm_record_done(&r);
        is_int(vm_record_read(dir, &r, &err), 0, "read back");
        is_str(r.migrated_to ? r.migrated_to : "(null)", "ssh://root@far.example/run/qemuctl", "migrated_to kept in status.json");
        vm_record_done(&r);
        vm_end_note_drop(dir);
}

/* A state dir is used only when it is ours alone; files in it are never
 * opened through a symlink; records never written through one. */
static void test_trust(void)
{
        struct qc_err err = { 0 };
        char dir[512], path[600], target[600], tmpname[700];
        _cleanup_free_ char *text = NULL;
        int fd;

        snprintf(target, sizeof target, "%s/target", base);
        write_file(target, "precious", 0644);

        /* a VM dir others may write */
        snprintf(dir, sizeof dir, "%s/open", base);
        mkdir(dir, 0700);
        chmod(dir, 0770);
        fd = state_dir_open(dir, false, &err);
        ok(fd < 0 && err.code == EPERM && strstr(err.msg, "writable by group or others (mode 0770)") &&
                   strstr(err.msg, "rm -r"),
           "a group-writable VM dir is refused: %s", err.msg);
        qc_err_clear(&err);
        struct vm_record r;
        vm_record_init(&r);
        ok(vm_record_write(dir, &r, &err) < 0 && err.code == EPERM, "no record is written there: %s", err.msg);
        qc_err_clear(&err);
        is_int(state_prepare("open", "start", 0, &(char *){ NULL }, &err), -1, "start refuses it too");
        ok(strstr(err.msg, "writable by group or others") != NULL, "saying why: %s", err.msg);
        qc_err_clear(&err);

        /* a symlink as the VM dir, to a dir of ours */
        snprintf(dir, sizeof dir, "%s/link", base);
        snprintf(path, sizeof path, "%s/rec", base);
        ok(symlink(path, dir) == 0, "plant a symlink as a VM dir");
        fd = state_dir_open(dir, false, &err);
        ok(fd < 0 && err.code == ELOOP && strstr(err.msg, "is a symlink"), "a symlink as the VM dir is refused: %s",
           err.msg);
        qc_err_clear(&err);

        /* a base others may write (the sticky /tmp kind) */
        snprintf(dir, sizeof dir, "%s/shared", base);
        mkdir(dir, 0700);
        chmod(dir, 01777);
        setenv("QEMUCTL_RUNDIR", dir, 1);
        char **names = NULL;
        ok(state_list_names(&names, &err) < 0 && err.code == EPERM && strstr(err.msg, "QEMUCTL_RUNDIR"),
           "list refuses a world-writable base: %s", err.msg);
        qc_err_clear(&err);
        fd = state_prepare("vm9", "start", 0, &(char *){ NULL }, &err);
        ok(fd < 0 && err.code == EPERM, "start refuses it: %s", err.msg);
        snprintf(path, sizeof path, "%s/vm9", dir);
        ok(access(path, F_OK) < 0, "and makes nothing there");
        qc_err_clear(&err);
        setenv("QEMUCTL_RUNDIR", base, 1);

        /* in our own dir: the temporary name of a record, planted as a symlink */
        snprintf(dir, sizeof dir, "%s/rec", base);
        for (unsigned i = 0; i < 64; i++) {
                snprintf(tmpname, sizeof tmpname, "%s/%s.tmp.%d.%u", dir, VM_RUNDIR_STATUS, (int)getpid(), i);
                symlink(target, tmpname);
        }
        snprintf(tmpname, sizeof tmpname, "%s/%s.tmp.%d", dir, VM_RUNDIR_STATUS, (int)getpid());
        symlink(target, tmpname);
        r.state = VM_STATE_ENDED;
        is_int(vm_record_write(dir, &r, &err), 0, "a record is written past planted temporary names: %s", err.msg);
        ok(read_file(target, 0, &text, NULL) == 0 && strcmp(text, "precious") == 0,
           "the symlinks' target is untouched");
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, VM_RUNDIR_STATUS);
        ok(lstat(path, &st) == 0 && S_ISREG(st.st_mode), "status.json is a file of its own");
        /* a symlink at a record's own name is not read through */
        unlink(path);
        ok(symlink(target, path) == 0, "plant status.json as a symlink");
        struct vm_record back;
        ok(vm_record_read(dir, &back, &err) < 0 && err.code == ELOOP, "it is not followed: %s", err.msg);
        qc_err_clear(&err);
        unlink(path);
        is_int(vm_record_write(dir, &r, &err), 0, "write the record again");
        vm_record_done(&r);
}

/* A signal only to a process proven to be the VM's QEMU. */
static void test_signal_proof(void)
{
        struct qc_err err = { 0 };
        pid_t child = fork();
        uint64_t start = 0;
        int st;

        if (child == 0) {
                pause();
                _exit(0);
        }
        /* after the fork, the child is not QEMU of anything */
        start = proc_start_time(child);
        ok(start != 0, "the child's start time");
        ok(vm_qemu_signal(child, 0, "vmx", SIGKILL, &err) < 0 && err.code == EPERM &&
                   strstr(err.msg, "without its start time"),
           "no start time on record: no signal: %s", err.msg);
        qc_err_clear(&err);
        ok(vm_qemu_signal(child, start + 1, "vmx", SIGKILL, &err) < 0 && err.code == ESRCH,
           "another start time: another process, no signal: %s", err.msg);
        qc_err_clear(&err);
        ok(vm_qemu_signal(child, start, "vmx", SIGKILL, &err) < 0 && err.code == EPERM &&
                   strstr(err.msg, "is not QEMU of VM `vmx`"),
           "no -name guest=vmx: no signal: %s", err.msg);
        qc_err_clear(&err);
        ok(waitpid(child, &st, WNOHANG) == 0, "the child is alive after all three");
        kill(child, SIGKILL);
        waitpid(child, &st, 0);

        /* a process that is QEMU of vmx as far as /proc can tell */
        child = fork();
        if (child == 0) {
                execl("/bin/sh", "sh", "-c", "while :; do sleep 1; done", "-name", "guest=vmx,debug-threads=on",
                      (char *)NULL);
                _exit(127);
        }
        /* wait for the exec: the command line changes then */
        for (int i = 0; i < 500 && vm_qemu_check(child, (start = proc_start_time(child)), "vmx", NULL) < 0;
             i++)
                usleep(2000);
        is_int(vm_qemu_signal(child, start, "vmy", SIGKILL, &err), -1, "another VM's name: no signal");
        qc_err_clear(&err);
        is_int(vm_qemu_signal(child, start, "vmx", SIGKILL, &err), 0, "its own: signalled: %s", err.msg);
        ok(waitpid(child, &st, 0) == child && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "and killed");
}

int main(void)
{
        if (!mkdtemp(base))
                tap_skip_all("mkdtemp failed");
        setenv("QEMUCTL_RUNDIR", base, 1);
        test_record_roundtrip();
        test_lock();
        test_prepare();
        test_wait_end();
        test_wait_state();
        test_end_note();
        test_trust();
        test_signal_proof();

        _cleanup_free_ char *cmd = NULL;
        if (asprintf(&cmd, "rm -rf '%s'", base) > 0 && system(cmd) != 0)
                tap_diag("could not remove %s", base);
        return tap_done();
}
