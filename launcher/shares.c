#include "shares.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/strv.h"
#include "paths.h"

int shares_check(const struct vm_spec *spec, struct qc_err *err)
{
        for (size_t i = 0; i < spec->n_shares; i++) {
                const struct vm_share *sh = &spec->shares[i];
                struct stat st;

                if (stat(sh->path, &st) < 0 && errno == ENOENT)
                        /* {name} in the path makes this the common one: a job's folder not made yet */
                        return qc_err_set(err, ENOENT,
                                          "shares[%zu].path: %s does not exist; make the folder first (mkdir -p "
                                          "%s), qemuctl shares only what is there",
                                          i, sh->path, sh->path);
                if (stat(sh->path, &st) < 0)
                        return qc_err_sys(err, errno, "shares[%zu].path: %s", i, sh->path);
                if (!S_ISDIR(st.st_mode))
                        return qc_err_set(err, ENOTDIR, "shares[%zu].path: %s is not a directory; share a folder", i,
                                          sh->path);
                if (sh->mode != VM_SHARE_VIRTIOFS)
                        continue;
                if (access(VIRTIOFSD_PATH, X_OK) < 0)
                        return qc_err_set(err, ENOENT,
                                          "shares[%zu]: virtiofs needs %s (%s): install Debian's qemu-system-common, "
                                          "or use \"mode\": \"9p\"",
                                          i, VIRTIOFSD_PATH, strerror(errno));
                /* virtiofsd splits its -o options at commas, with no escape */
                if (strchr(sh->path, ','))
                        return qc_err_set(err, EINVAL,
                                          "shares[%zu].path: %s has a ',' which virtiofsd cannot take; share a "
                                          "directory without one, or use \"mode\": \"9p\"",
                                          i, sh->path);
        }
        return 0;
}

int shares_virtiofsd_argv(const struct vm_spec *spec, size_t i, const char *rundir, char ***ret, struct qc_err *err)
{
        _cleanup_strv_ strv v = { 0 };

        if (strv_push(&v, VIRTIOFSD_PATH) < 0 ||
            strv_pushf(&v, "--socket-path=%s/" VM_RUNDIR_VIRTIOFS_FMT, rundir, i) < 0 || strv_push(&v, "-o") < 0 ||
            strv_pushf(&v, "source=%s", spec->shares[i].path) < 0 || strv_push(&v, "-o") < 0 ||
            strv_push(&v, "cache=auto") < 0)
                return qc_err_sys(err, ENOMEM, "shares[%zu]", i);
        *ret = strv_steal(&v);
        return 0;
}
