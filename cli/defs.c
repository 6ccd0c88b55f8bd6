/* define, undefine, edit, autostart: VMs that live on a host (docs/host.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/affect.h"
#include "cli/cli.h"
#include "cli/defs.h"
#include "cli/launch.h"
#include "common/cleanup.h"
#include "common/io.h"
#include "launcher/cmdline.h"
#include "launcher/cpu-check.h"
#include "launcher/defs.h"
#include "launcher/firmware.h"
#include "launcher/handle.h"
#include "launcher/paths.h"
#include "launcher/tpm.h"

int cli_vm_state(const char *name, bool *ret_running, struct qc_err *err)
{
        struct vm_handle *h = NULL;
        struct qc_err e = { 0 };

        *ret_running = false;
        if (vm_open(name, "list", VM_OPEN_NO_QMP | VM_OPEN_ANY_STATE | VM_OPEN_NO_SPEC | VM_OPEN_BROKEN_OK, 0, &h,
                    &e) < 0) {
                if (e.code == ENOENT)
                        return 0;
                if (err)
                        *err = e;
                return -1;
        }
        *ret_running = h->qemu_pid != 0;
        vm_close(h);
        return 1;
}

/* A bare word names a definition; a path, a file. */
static bool looks_like_file(const char *arg)
{
        size_t n = strlen(arg);

        return strchr(arg, '/') || (n > 5 && strcmp(arg + n - 5, ".json") == 0);
}

int cli_vm_file(const char *verb, const char *arg, char **ret_file)
{
        struct qc_err err = { 0 };
        struct stat st;
        int r;

        if (looks_like_file(arg) || !vm_name_is_valid(arg)) {
                if (!(*ret_file = strdup(arg)))
                        return cli_failf(verb, "out of memory");
                return 0;
        }
        r = defs_exists(arg, &err);
        if (r < 0)
                return cli_fail(verb, &err);
        if (r == 0) {
                /* a file in the current directory with a bare name, as before definitions */
                if (stat(arg, &st) == 0 && S_ISREG(st.st_mode)) {
                        if (!(*ret_file = strdup(arg)))
                                return cli_failf(verb, "out of memory");
                        return 0;
                }
                return cli_failf(verb,
                                 "`%s` is neither a defined VM (qemuctl list --all; qemuctl define FILE) nor a "
                                 "file; a VM file's path has a / in it or ends in .json",
                                 arg);
        }
        /* the definition must still be NAME's: a hand edit may have renamed it */
        struct vm_spec *spec = NULL;
        if ((r = cli_config_load(verb, arg, &spec)))
                return r;
        spec_free(spec);
        if (defs_path(arg, ret_file, &err) < 0)
                return cli_fail(verb, &err);
        return 0;
}

static const char *running_note(const char *name)
{
        bool running = false;

        cli_vm_state(name, &running, NULL);
        return running ? "; it is running: the change applies from its next start" : "";
}

/* define's and edit's check of the CPU's names against the QEMU binary, as
 * validate checks them (launcher/cpu-check.h: cpu_check_names); userdata:
 * the verb. A QEMU that cannot be asked is a warning (start asks again). */
static int check_cpu_names(const struct vm_spec *spec, void *userdata, struct spec_diags *diags,
                           struct qc_err *err)
{
        const char *verb = userdata;
        _cleanup_free_ char *note = NULL;
        enum vm_accel accel = VM_ACCEL_TCG;
        struct qc_err e = { 0 };
        size_t before = diags->n;

        /* under the accelerator start would use: its cached answers */
        if (cmdline_resolve_accel(spec, &accel, &note, &e) < 0)
                accel = VM_ACCEL_TCG;
        qc_err_clear(&e);
        if (cpu_check_names(spec, accel, diags, &e) == 0)
                return 0;
        if (diags->n > before) {
                *err = e;
                return -1;
        }
        fprintf(stderr, "qemuctl: %s: warning: CPU model and features not checked: %s\n", verb, e.msg);
        return 0;
}

int cmd_define(int argc, char **argv)
{
        const char *verb = argv[0];
        const char *no_files = NULL;
        _cleanup_(spec_freep) struct vm_spec *spec = NULL;
        _cleanup_free_ char *abs = NULL, *path = NULL;
        struct spec_diags diags = { 0 };
        struct qc_err err = { 0 };
        struct cli_opts o = { .on_opt = cli_opt_store, .ud = &no_files, .no_json = "define prints one line" };
        int rc, parsed = cli_parse_opts(verb, argc, argv, &o, &rc);

        if (parsed != 0)
                return rc;
        if (optind != argc - 1)
                return cli_usage(verb, "expected one VM file");
        const char *file = argv[optind];
        /* relative paths in the file are resolved against the file's real
         * directory here, once: the definition means what the file meant */
        abs = realpath(file, NULL);
        if (spec_load(abs ? abs : file, &spec, &diags, &err) < 0) {
                if (diags.n)
                        return cli_print_diags(verb, file, &diags);
                spec_diags_done(&diags);
                return cli_fail(verb, &err);
        }
        spec_diags_done(&diags);
        if (!no_files && (spec_check_disks(spec, &diags, NULL, &err) < 0 ||
                          check_cpu_names(spec, (void *)verb, &diags, &err) < 0)) {
                if (diags.n) {
                        cli_print_diags(verb, file, &diags);
                        fprintf(stderr, "qemuctl: %s: not defined; --no-files skips the image and CPU checks "
                                        "(start makes them too)\n",
                                verb);
                        return CLI_EXIT_FAIL;
                }
                spec_diags_done(&diags);
                return cli_fail(verb, &err);
        }
        spec_diags_done(&diags);
        rc = defs_store(spec, &diags, &err);
        if (rc < 0) {
                if (diags.n)
                        cli_print_diags(verb, file, &diags);
                else
                        spec_diags_done(&diags);
                return cli_fail(verb, &err);
        }
        spec_diags_done(&diags);
        if (defs_path(spec->name, &path, &err) < 0)
                return cli_fail(verb, &err);
        printf("VM `%s` defined from %s (%s%s)%s\n", spec->name, file, rc == 1 ? "replaced " : "", path,
               running_note(spec->name));
        return CLI_EXIT_OK;
}

struct undefine_opts {
        bool nvram, tpm;
};

static int undefine_opt(const char *verb, int c, const char *arg, void *ud)
{
        struct undefine_opts *u = ud;

        if (c == 'n')
                u->nvram = true;
        else
                u->tpm = true;
        return 0;
}

/* The parts of VM name's data dir that u names, removed; *ret_removed: how
 * many of their files and dirs were there. 0, or -1 with err. */
static int remove_data(const char *name, const struct undefine_opts *u, int *ret_removed, struct qc_err *err)
{
        int n = 0;

        *ret_removed = 0;
        if (u->nvram && vm_datadir_remove(name, fw_nvram_files, &n, err) < 0)
                return qc_err_wrap(err, "its NVRAM");
        *ret_removed += n;
        if (u->tpm && vm_datadir_remove(name, tpm_state_files, &n, err) < 0)
                return qc_err_wrap(err, "its TPM state");
        *ret_removed += n;
        return 0;
}

int cmd_undefine(int argc, char **argv)
{
        const char *verb = argv[0];
        struct qc_err err = { 0 };
        struct undefine_opts u = { 0 };
        struct cli_opts o = { .take = CLI_OPT_ONE_NAME, .no_json = "undefine prints one line", .on_opt = undefine_opt,
                              .ud = &u };
        int rc, removed = 0, parsed = cli_parse_opts(verb, argc, argv, &o, &rc);
        bool running = false;
        _cleanup_free_ char *base = NULL, *data = NULL;
        struct stat st;

        if (parsed != 0)
                return rc;
        const char *name = argv[optind];
        /* the data may go only when no QEMU of this name can be using it:
         * a state dir that cannot be read is not taken for a stopped VM */
        if (cli_vm_state(name, &running, &err) < 0 && (u.nvram || u.tpm))
                return cli_failf(verb, "cannot tell whether VM `%s` runs (%s), so its %s stays: undefine it without "
                                 "--nvram/--tpm, or fix that first",
                                 name, err.msg, u.nvram && u.tpm ? "NVRAM and TPM state" : u.nvram ? "NVRAM" : "TPM state");
        qc_err_clear(&err);
        if (running && (u.nvram || u.tpm))
                return cli_failf(verb,
                                 "VM `%s` is running and uses its %s: stop it first, or undefine it without "
                                 "--nvram/--tpm (the data stays)",
                                 name, u.nvram && u.tpm ? "NVRAM and TPM state" : u.nvram ? "NVRAM" : "TPM state");
        if (defs_remove(name, &err) < 0)
                return cli_fail(verb, &err);
        if (remove_data(name, &u, &removed, &err) < 0)
                return cli_failf(verb, "VM `%s` undefined, but: %s", name, err.msg);
        /* as virsh: a running VM keeps running, transient from now on */
        printf("VM `%s` undefined%s%s\n", name, removed ? ", its data removed" : "",
               running ? "; it keeps running as a transient VM (what it runs is unchanged; --config is refused "
                         "for it now)"
                       : "");
        /* what stays for a VM defined again under this name */
        if (vm_datadir_base(&base, NULL) == 0 && (data = path_join(base, name)) && lstat(data, &st) == 0 &&
            S_ISDIR(st.st_mode))
                /* name is no longer defined, so undefine --nvram --tpm would
                 * refuse it now: say what removes the data from here on */
                printf("Its data dir %s is kept (UEFI variables, TPM state: a VM defined again as `%s` uses "
                       "them); undefine --nvram --tpm removes them with the definition, and now that it is gone "
                       "`rm -r %s` does%s\n",
                       data, name, data, running ? " once the VM stops" : "");
        return CLI_EXIT_OK;
}

/* Run $VISUAL / $EDITOR / vi on file, through sh as git does (EDITOR may
 * carry options: "code --wait"). 0, or a message on stderr and -1. */
static int run_editor(const char *verb, const char *ed, const char *file)
{
        _cleanup_free_ char *cmd = NULL;
        int status;
        pid_t pid;

        if (asprintf(&cmd, "%s \"$1\"", ed) < 0)
                return -1;
        pid = fork();
        if (pid < 0) {
                fprintf(stderr, "qemuctl: %s: fork: %s\n", verb, strerror(errno));
                return -1;
        }
        if (pid == 0) {
                execl("/bin/sh", "sh", "-c", cmd, "sh", file, (char *)NULL);
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -1;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "qemuctl: %s: the editor (%s) failed (%s %d)\n", verb, ed,
                        WIFEXITED(status) ? "exit status" : "signal",
                        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
                return -1;
        }
        return 0;
}

/* "Edit again? [y/n]" on a terminal (virsh edit's question); false when no
 * one can answer. */
static bool ask_again(void)
{
        char line[64];

        if (!isatty(STDIN_FILENO))
                return false;
        for (;;) {
                fputs("Edit again? [y/n]: ", stderr);
                fflush(stderr);
                if (!fgets(line, sizeof line, stdin))
                        return false;
                if (line[0] == 'y' || line[0] == 'Y')
                        return true;
                if (line[0] == 'n' || line[0] == 'N')
                        return false;
        }
}

int cmd_edit(int argc, char **argv)
{
        const char *verb = argv[0];
        _cleanup_free_ char *orig = NULL, *cwd = NULL;
        struct qc_err err = { 0 };
        struct cli_opts o = { .take = CLI_OPT_ONE_NAME, .no_json = "edit opens an editor" };
        int rc, parsed = cli_parse_opts(verb, argc, argv, &o, &rc), fd;
        bool keep = false;

        if (parsed != 0)
                return rc;
        const char *name = argv[optind];
        if (defs_read_text(name, &orig, &err) < 0)
                return cli_fail(verb, &err);
        if (!(cwd = getcwd(NULL, 0)))
                return cli_failf(verb, "current directory: %s", strerror(errno));
        const char *tdir = getenv("TMPDIR");
        _cleanup_free_ char *tpath = NULL;
        if (asprintf(&tpath, "%s/qemuctl-edit-%s-XXXXXX.json", tdir && tdir[0] == '/' ? tdir : "/tmp", name) < 0)
                return cli_failf(verb, "out of memory");
        fd = mkstemps(tpath, 5);
        if (fd < 0)
                return cli_failf(verb, "temporary file %s: %s", tpath, strerror(errno));
        rc = write_all(fd, orig, strlen(orig));
        close(fd);
        if (rc < 0) {
                unlink(tpath);
                return cli_failf(verb, "write %s: %s", tpath, strerror(-rc));
        }
        const char *ed = getenv("VISUAL");
        if (!ed || !*ed)
                ed = getenv("EDITOR");
        if (!ed || !*ed)
                ed = "vi";
        for (;;) {
                _cleanup_free_ char *text = NULL;
                struct spec_diags diags = { 0 };

                if (run_editor(verb, ed, tpath) < 0) {
                        keep = true;
                        rc = CLI_EXIT_FAIL;
                        break;
                }
                if ((rc = read_file(tpath, 0, &text, NULL)) < 0) {
                        rc = cli_failf(verb, "read %s: %s", tpath, strerror(-rc));
                        break;
                }
                if (strcmp(text, orig) == 0) {
                        printf("VM `%s`: definition not changed\n", name);
                        rc = CLI_EXIT_OK;
                        break;
                }
                qc_err_clear(&err);
                if (defs_replace_text(name, orig, text, cwd, check_cpu_names, (void *)verb, &diags, &err) == 0) {
                        printf("VM `%s`: definition saved%s\n", name, running_note(name));
                        rc = CLI_EXIT_OK;
                        break;
                }
                size_t problems = diags.n;
                if (problems)
                        cli_print_diags(verb, tpath, &diags);
                spec_diags_done(&diags);
                if (err.code != EINVAL || !problems)
                        cli_fail(verb, &err);
                if (err.code == EINVAL && ask_again())
                        continue;
                keep = true;
                rc = CLI_EXIT_FAIL;
                break;
        }
        if (keep)
                fprintf(stderr, "qemuctl: %s: the definition of VM `%s` was not changed; your edit is in %s\n", verb,
                        name, tpath);
        else
                unlink(tpath);
        return rc;
}

int cmd_autostart(int argc, char **argv)
{
        const char *verb = argv[0];
        const char *disable = NULL;
        _cleanup_free_ char *dir = NULL;
        struct qc_err err = { 0 };
        struct cli_opts o = { .take = CLI_OPT_ONE_NAME, .on_opt = cli_opt_store, .ud = &disable,
                              .no_json = "autostart prints one line" };
        int rc, parsed = cli_parse_opts(verb, argc, argv, &o, &rc);

        if (parsed != 0)
                return rc;
        const char *name = argv[optind];
        if (defs_set_autostart(name, !disable, &err) < 0)
                return cli_fail(verb, &err);
        if (defs_dir(&dir, &err) < 0)
                return cli_fail(verb, &err);
        if (disable)
                printf("VM `%s` unmarked for autostart\n", name);
        else
                printf("VM `%s` marked for autostart (%s/" DEFS_AUTOSTART "/%s.json): `qemuctl start-all` "
                       "starts it\n",
                       name, dir, name);
        return CLI_EXIT_OK;
}
