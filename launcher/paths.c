#include "paths.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/io.h"
#include "../common/cleanup.h"
#include "spec.h"

int vm_rundir_base(char **ret, struct qc_err *err)
{
        const char *env = getenv("QEMUCTL_RUNDIR");
        char *p;

        if (env && *env) {
                if (env[0] != '/')
                        return qc_err_set(err, EINVAL, "QEMUCTL_RUNDIR must be an absolute path, got \"%s\"", env);
                p = strdup(env);
        } else if (geteuid() == 0) {
                p = strdup("/run/qemuctl");
        } else {
                const char *xdg = getenv("XDG_RUNTIME_DIR");

                if (!xdg || xdg[0] != '/')
                        return qc_err_set(err, ENOENT,
                                          "XDG_RUNTIME_DIR is not set (or not absolute), so there is no place "
                                          "for VM state: log in with a systemd session or set QEMUCTL_RUNDIR");
                if (asprintf(&p, "%s/qemuctl", xdg) < 0)
                        p = NULL;
        }
        if (!p)
                return qc_err_sys(err, ENOMEM, "state dir");
        /* "/a/b/" and "/a/b" name the same place; keep paths tidy for messages */
        for (size_t n = strlen(p); n > 1 && p[n - 1] == '/'; n--)
                p[n - 1] = '\0';
        *ret = p;
        return 0;
}

int vm_rundir(const char *name, char **ret, struct qc_err *err)
{
        _cleanup_free_ char *base = NULL;
        char *p;

        if (!name || !vm_name_is_valid(name))
                return qc_err_set(err, EINVAL, "\"%s\" is not a VM name ([A-Za-z0-9._-], 1..64 characters, not starting with \".\" or \"-\")",
                                  name ? name : "");
        if (vm_rundir_base(&base, err) < 0)
                return -1;
        if (!(p = path_join(base, name)))
                return qc_err_sys(err, ENOMEM, "state dir");
        *ret = p;
        return 0;
}

const char *const vm_rundir_sockets[] = {
        VM_RUNDIR_CTL, VM_RUNDIR_EVENTS, VM_RUNDIR_RELAY, VM_RUNDIR_QMP, VM_RUNDIR_CONSOLE, VM_RUNDIR_AGENT,
        VM_RUNDIR_AGENT_RELAY, NULL,
};
