#include "handle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/io.h"
#include "../qmp/qmp.h"
#include "live-sync.h"

void vm_close(struct vm_handle *h)
{
        if (!h)
                return;
        qmp_free(h->qmp);
        spec_free(h->spec);
        vm_record_done(&h->rec);
        if (h->lock_fd >= 0)
                close(h->lock_fd);
        free(h->name);
        free(h->rundir);
        free(h->problem);
        free(h);
}

int vm_write_spec(const char *rundir, const struct vm_spec *spec, struct qc_err *err)
{
        _cleanup_free_ char *json = spec_to_json(spec);

        if (!json)
                return qc_err_sys(err, ENOMEM, "effective spec");
        return state_write_file(rundir, VM_RUNDIR_SPEC, json, err);
}

int vm_record_spec(struct vm_handle *h, const struct vm_spec *spec, struct qc_err *err)
{
        return vm_write_spec(h->rundir, spec, err);
}

int vm_load_spec(const char *rundir, struct vm_spec **ret, struct qc_err *err)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        struct spec_diags diags = { 0 };
        int rc;

        if (!(path = path_join(rundir, VM_RUNDIR_SPEC)))
                return qc_err_sys(err, ENOMEM, "effective spec");
        if (state_read_file(rundir, VM_RUNDIR_SPEC, 16 << 20, &text, err) < 0)
                return -1;
        rc = spec_parse(path, text, strlen(text), ret, &diags, err);
        if (rc < 0 && diags.n > 0) {
                _cleanup_free_ char *d = spec_diag_format(path, &diags.v[0]);
                qc_err_set(err, EINVAL, "the recorded VM file is not valid: %s", d ? d : path);
        }
        spec_diags_done(&diags);
        return rc < 0 ? -1 : 0;
}

/* issues: what the state dir lacks ("no spec.json"); what to do depends on
 * whether a QEMU of the VM still runs, and whether its record is there to
 * reach it by. */
static int set_problem(struct vm_handle *h, const char *issues, bool record_lost)
{
        int r;

        if (!h->qemu_pid)
                r = asprintf(&h->problem, "state dir %s has %s, and no QEMU of VM `%s` runs: remove the directory "
                             "(rm -r %s), or start the VM again from its VM file (start tidies it)",
                             h->rundir, issues, h->name, h->rundir);
        else if (record_lost)
                r = asprintf(&h->problem, "state dir %s has %s, but QEMU (pid %d, from %s) of VM `%s` still runs "
                             "and no qemuctl verb can reach it without its record: end it (kill %d), then "
                             "start the VM again from its VM file",
                             h->rundir, issues, (int)h->qemu_pid, VM_RUNDIR_QEMU_PID, h->name, (int)h->qemu_pid);
        else
                r = asprintf(&h->problem, "state dir %s has %s, but QEMU (pid %d) of VM `%s` still runs: "
                             "`qemuctl stop %s` (or kill) ends it; then start the VM again from its VM file",
                             h->rundir, issues, (int)h->qemu_pid, h->name, h->name);
        if (r < 0)
                h->problem = NULL;
        return r < 0 ? -1 : 0;
}

int vm_open(const char *name, const char *verb, unsigned flags, int lock_timeout_ms, struct vm_handle **ret,
            struct qc_err *err)
{
        struct vm_handle *h = calloc(1, sizeof *h);
        _cleanup_(vm_closep) struct vm_handle *hp = h;
        _cleanup_close_ int dfd = -1;
        char issues[2 * QC_ERR_MSG_MAX + 64] = "";
        bool record_lost = false;
        struct qc_err e = { 0 };
        int rc;

        if (!h)
                return qc_err_sys(err, ENOMEM, "open VM");
        h->lock_fd = -1;
        vm_record_init(&h->rec);
        /* vm_rundir refuses a bad name before anything touches the disk */
        if (vm_rundir(name, &h->rundir, err) < 0)
                return -1;
        h->name = strdup(name);
        if (!h->name)
                return qc_err_sys(err, ENOMEM, "open VM");
        /* before anything in it is read, written or signalled: it is ours alone */
        dfd = state_dir_open(h->rundir, false, err);
        if (dfd < 0) {
                if (err && err->code == ENOENT)
                        return qc_err_set(err, ENOENT, "no VM named `%s` (no state dir %s); start it with "
                                          "`qemuctl start FILE`, or see `qemuctl list`", name, h->rundir);
                return qc_err_wrap(err, "VM `%s`", name);
        }
        if (flags & VM_OPEN_LOCK) {
                h->lock_fd = state_lock(h->rundir, name, verb, lock_timeout_ms, err);
                if (h->lock_fd < 0)
                        return -1;
        }
        rc = vm_record_read(h->rundir, &h->rec, &e);
        if (rc < 0 && e.code == ENOENT)
                return qc_err_set(err, ENOENT, "VM `%s` has a state dir but no status record (%s): it never "
                                  "started; start it again", name, h->rundir);
        if (rc < 0) {
                /* hand edited, or cut short by a full disk: whatever it said is lost */
                if (snprintf(issues, sizeof issues, "an unusable %s (%s)", VM_RUNDIR_STATUS, e.msg) < 0)
                        issues[0] = '\0';
                record_lost = true;
                vm_record_init(&h->rec);
                h->rec.started_at = 0;
                h->rec.qemu_pid = state_orphan_qemu(h->rundir, name);
                h->rec.state = h->rec.qemu_pid ? VM_STATE_RUNNING : VM_STATE_ENDED;
        } else {
                vm_record_refresh(&h->rec);
        }
        if (vm_state_is_active(h->rec.state))
                h->qemu_pid = h->rec.qemu_pid;
        if (!h->qemu_pid && !(flags & VM_OPEN_ANY_STATE) && !record_lost) {
                _cleanup_free_ char *how = vm_record_describe_end(&h->rec);
                return qc_err_set(err, ESRCH, "VM `%s` is not running (%s: %s); `qemuctl status %s` says more",
                                  name, vm_state_to_string(h->rec.state), how ? how : "?", name);
        }
        if (!(flags & VM_OPEN_NO_SPEC) && vm_load_spec(h->rundir, &h->spec, &e) < 0) {
                size_t n = strlen(issues);
                int w = e.code == ENOENT ? snprintf(issues + n, sizeof issues - n, "%sno %s", n ? " and " : "",
                                                    VM_RUNDIR_SPEC)
                                         : snprintf(issues + n, sizeof issues - n, "%san unusable %s (%s)",
                                                    n ? " and " : "", VM_RUNDIR_SPEC, e.msg);
                if (w < 0)
                        issues[n] = '\0';
        }
        if (issues[0]) {
                if (set_problem(h, issues, record_lost) < 0)
                        return qc_err_sys(err, ENOMEM, "open VM");
                if (!(flags & VM_OPEN_BROKEN_OK))
                        return qc_err_set(err, EUCLEAN, "%s", h->problem);
                *ret = TAKE_PTR(hp);
                return 0;
        }
        if (h->qemu_pid && !(flags & VM_OPEN_NO_QMP)) {
                _cleanup_free_ char *sock = NULL;
                if (!(sock = path_join(h->rundir, VM_RUNDIR_CTL)))
                        return qc_err_sys(err, ENOMEM, "open VM");
                if (qmp_connect(sock, QMP_DEFAULT_TIMEOUT_MS, &h->qmp, err) < 0)
                        return qc_err_wrap(err, "VM `%s`", name);
                /* a person on qmp.sock may have plugged or unplugged since
                 * the record was written: act on what QEMU has */
                if (h->spec && h->lock_fd >= 0 && vm_sync_recorded(h->rundir, h->qmp, h->spec, err) < 0)
                        return qc_err_wrap(err, "VM `%s`", name);
        }
        *ret = TAKE_PTR(hp);
        return 0;
}
