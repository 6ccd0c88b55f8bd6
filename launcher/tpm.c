#include "tpm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/io.h"
#include "../common/strv.h"
#include "paths.h"
#include "spawn.h"

const char *const tpm_state_files[] = { "tpm", "tpm-setup.log", NULL };

int tpm_check(struct qc_err *err)
{
        _cleanup_free_ char *a = NULL, *b = NULL;

        if (spawn_find_binary("swtpm", &a, NULL) < 0)
                return qc_err_set(err, ENOENT, "tpm: swtpm not found in %s: install Debian's swtpm package",
                                  SPAWN_PATH);
        if (spawn_find_binary("swtpm_setup", &b, NULL) < 0)
                return qc_err_set(err, ENOENT,
                                  "tpm: swtpm_setup not found in %s: install Debian's swtpm-tools package",
                                  SPAWN_PATH);
        return 0;
}

/* swtpm_setup into dir: TPM 2.0, an EK (RSA and ECC), NV locked. */
static int manufacture(const char *datadir, const char *dir, struct qc_err *err)
{
        _cleanup_free_ char *log_path = path_join(datadir, tpm_state_files[1]);
        _cleanup_close_ int log = -1;
        char *argv[] = { "swtpm_setup", "--tpm2", "--tpmstate", (char *)dir, "--createek", "--lock-nvram",
                         "--not-overwrite", NULL };
        struct spawn_opts so = { .argv = argv, .stdin_fd = -1 };
        pid_t pid;
        int st;

        if (!log_path)
                return qc_err_sys(err, ENOMEM, "tpm");
        log = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (log < 0)
                return qc_err_sys(err, errno, "open %s", log_path);
        so.stdout_fd = so.stderr_fd = log;
        if (spawn_process(&so, &pid, err) < 0)
                return qc_err_wrap(err, "tpm: swtpm_setup");
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return qc_err_sys(err, errno, "tpm: wait for swtpm_setup");
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                _cleanup_free_ char *text = NULL, *said = NULL;
                size_t len = 0;

                if (read_file(log_path, 0, &text, &len) == 0)
                        said = text_tail(text, len, 1500);
                return qc_err_set(err, EIO, "tpm: swtpm_setup failed to make the TPM's state in %s: %s", dir,
                                  said ? said : "(it said nothing)");
        }
        return 0;
}

int tpm_state_make(const struct vm_spec *spec, char **ret_dir, struct qc_err *err)
{
        _cleanup_free_ char *datadir = NULL, *dir = NULL, *state = NULL;
        struct stat st;

        if (vm_datadir_make(spec->name, &datadir, err) < 0)
                return -1;
        if (!(dir = path_join(datadir, tpm_state_files[0])) || !(state = path_join(dir, "tpm2-00.permall")))
                return qc_err_sys(err, ENOMEM, "tpm");
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return qc_err_sys(err, errno, "create %s", dir);
        if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
                return qc_err_set(err, ENOTDIR, "tpm: %s is not a directory; remove it", dir);
        if (lstat(state, &st) < 0) {
                if (errno != ENOENT)
                        return qc_err_sys(err, errno, "tpm: %s", state);
                if (manufacture(datadir, dir, err) < 0)
                        return -1;
        }
        *ret_dir = TAKE_PTR(dir);
        return 0;
}

int tpm_argv(const char *statedir, const char *rundir, char ***ret, struct qc_err *err)
{
        _cleanup_strv_ strv v = { 0 };

        if (strv_push(&v, "swtpm") < 0 || strv_push(&v, "socket") < 0 || strv_push(&v, "--tpm2") < 0 ||
            strv_push(&v, "--tpmstate") < 0 || strv_pushf(&v, "dir=%s,mode=0600", statedir) < 0 ||
            strv_push(&v, "--ctrl") < 0 ||
            strv_pushf(&v, "type=unixio,path=%s/" VM_RUNDIR_SWTPM ",mode=0600", rundir) < 0 ||
            /* ends when QEMU's connection does: no swtpm outlives its QEMU,
             * even when the supervisor is gone */
            strv_push(&v, "--terminate") < 0)
                return qc_err_sys(err, ENOMEM, "tpm");
        *ret = strv_steal(&v);
        return 0;
}
