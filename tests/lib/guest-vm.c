/* Booting the test guest under QEMU/TCG for C tests. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../common/cleanup.h"
#include "../../common/io.h"
#include "../../common/strv.h"
#include "guest.h"

const char *guest_qemu_binary(void)
{
        const char *q = getenv("QEMU");

        return q && *q ? q : "qemu-system-x86_64";
}

static bool in_path(const char *prog)
{
        const char *path = getenv("PATH");

        if (strchr(prog, '/'))
                return access(prog, X_OK) == 0;
        for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
                size_t n = strcspn(p, ":");
                char buf[4096];

                snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, prog);
                if (access(buf, X_OK) == 0)
                        return true;
                p += n + (p[n] == ':');
        }
        return false;
}

const char *guest_dir(const char **ret_reason)
{
        static char dir[4096], reason[4400];
        const char *build = getenv("QEMUCTL_BUILD");
        char path[4200];
        _cleanup_free_ char *missing = NULL;

        snprintf(dir, sizeof dir, "%s/guest", build && *build ? build : "build");
        snprintf(path, sizeof path, "%s/MISSING", dir);
        if (read_file(path, 512, &missing, NULL) == 0) {
                missing[strcspn(missing, "\n")] = '\0';
                snprintf(reason, sizeof reason, "test guest not built: %s", missing);
                *ret_reason = reason;
                return NULL;
        }
        snprintf(path, sizeof path, "%s/initrd.img", dir);
        if (access(path, R_OK) != 0) {
                snprintf(reason, sizeof reason, "test guest not built (%s missing): run make guest", path);
                *ret_reason = reason;
                return NULL;
        }
        if (!in_path(guest_qemu_binary())) {
                snprintf(reason, sizeof reason, "%s not found: install qemu-system-x86", guest_qemu_binary());
                *ret_reason = reason;
                return NULL;
        }
        return dir;
}

int guest_vm_start(const char *const *qemu_args, const char *cmdline_extra, struct guest_vm *ret,
                   struct qc_err *err)
{
        _cleanup_(strv_donep) strv argv = {};
        const char *reason, *gdir = guest_dir(&reason);
        char tmpl[] = "/tmp/qemuctl-guest.XXXXXX";
        struct guest_vm vm = {};
        int r = 0;

        if (!gdir)
                return qc_err_set(err, ENOENT, "%s", reason);
        if (!mkdtemp(tmpl))
                return qc_err_sys(err, errno, "mkdtemp");
        if (asprintf(&vm.dir, "%s", tmpl) < 0 || asprintf(&vm.qmp_sock, "%s/qmp.sock", tmpl) < 0 ||
            asprintf(&vm.ask_sock, "%s/ask.sock", tmpl) < 0 || asprintf(&vm.serial_log, "%s/serial.log", tmpl) < 0) {
                guest_vm_stop(&vm);
                return qc_err_set(err, ENOMEM, "out of memory");
        }
        r |= strv_push(&argv, guest_qemu_binary());
        r |= strv_push(&argv, "-accel");
        r |= strv_push(&argv, "tcg");
        r |= strv_push(&argv, "-machine");
        r |= strv_push(&argv, "q35");
        r |= strv_push(&argv, "-nodefaults");
        r |= strv_push(&argv, "-display");
        r |= strv_push(&argv, "none");
        r |= strv_push(&argv, "-no-reboot");
        r |= strv_push(&argv, "-kernel");
        r |= strv_pushf(&argv, "%s/vmlinuz", gdir);
        r |= strv_push(&argv, "-initrd");
        r |= strv_pushf(&argv, "%s/initrd.img", gdir);
        r |= strv_push(&argv, "-append");
        r |= strv_pushf(&argv, "%s%s%s", GUEST_CMDLINE, cmdline_extra ? " " : "", cmdline_extra ? cmdline_extra : "");
        r |= strv_push(&argv, "-serial");
        r |= strv_pushf(&argv, "file:%s", vm.serial_log);
        r |= strv_push(&argv, "-chardev");
        r |= strv_pushf(&argv, "socket,id=ask,path=%s,server=on,wait=off", vm.ask_sock);
        r |= strv_push(&argv, "-device");
        r |= strv_push(&argv, "isa-serial,chardev=ask");
        r |= strv_push(&argv, "-qmp");
        r |= strv_pushf(&argv, "unix:%s,server=on,wait=off", vm.qmp_sock);
        for (size_t i = 0; qemu_args && qemu_args[i]; i++)
                r |= strv_push(&argv, qemu_args[i]);
        if (r < 0) {
                guest_vm_stop(&vm);
                return qc_err_set(err, ENOMEM, "out of memory");
        }

        _cleanup_free_ char *log = NULL;
        if (asprintf(&log, "%s/qemu.log", tmpl) < 0) {
                guest_vm_stop(&vm);
                return qc_err_set(err, ENOMEM, "out of memory");
        }
        pid_t parent = getpid();
        vm.pid = fork();
        if (vm.pid < 0) {
                r = errno;
                vm.pid = 0;
                guest_vm_stop(&vm);
                return qc_err_sys(err, r, "fork");
        }
        if (vm.pid == 0) {
                int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
                int out = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

                /* a test that dies must not leave QEMU running */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent || in < 0 || out < 0)
                        _exit(127);
                dup2(in, 0);
                dup2(out, 1);
                dup2(out, 2);
                execvp(argv.v[0], argv.v);
                _exit(127);
        }
        *ret = vm;
        return 0;
}

static void reap(struct guest_vm *vm, int flags)
{
        int status;

        if (vm->pid > 0 && waitpid(vm->pid, &status, flags) == vm->pid) {
                vm->pid = 0;
                vm->exit_status = status;
        }
}

static int died(struct guest_vm *vm, const char *what, struct qc_err *err)
{
        _cleanup_free_ char *path = NULL, *log = NULL;

        if (asprintf(&path, "%s/qemu.log", vm->dir) >= 0)
                read_file(path, 4096, &log, NULL);
        return qc_err_set(err, ECHILD, "QEMU exited (status 0x%x) %s: %s", vm->exit_status, what,
                          log && *log ? log : "(no output)");
}

int guest_vm_wait_ready(struct guest_vm *vm, int timeout_ms, struct qc_err *err)
{
        int64_t deadline = now_ms() + timeout_ms;

        for (;;) {
                _cleanup_free_ char *s = NULL;

                if (read_file(vm->serial_log, 0, &s, NULL) == 0 && strstr(s, "qemuctl-guest: ready"))
                        return 0;
                reap(vm, WNOHANG);
                if (vm->pid == 0)
                        return died(vm, "before the guest was ready", err);
                if (now_ms() >= deadline)
                        return qc_err_set(err, ETIMEDOUT, "guest not ready within %d ms (console: %s)", timeout_ms,
                                          vm->serial_log);
                usleep(100 * 1000);
        }
}

bool guest_vm_wait_exit(struct guest_vm *vm, int timeout_ms)
{
        int64_t deadline = now_ms() + timeout_ms;

        for (;;) {
                reap(vm, WNOHANG);
                if (vm->pid == 0)
                        return true;
                if (now_ms() >= deadline)
                        return false;
                usleep(50 * 1000);
        }
}

void guest_vm_stop(struct guest_vm *vm)
{
        if (vm->pid > 0) {
                kill(vm->pid, SIGKILL);
                reap(vm, 0);
        }
        if (vm->dir) {
                DIR *d = opendir(vm->dir);
                struct dirent *de;

                while (d && (de = readdir(d)))
                        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                                unlinkat(dirfd(d), de->d_name, 0);
                if (d)
                        closedir(d);
                rmdir(vm->dir);
        }
        free(vm->dir);
        free(vm->qmp_sock);
        free(vm->ask_sock);
        free(vm->serial_log);
        vm->dir = vm->qmp_sock = vm->ask_sock = vm->serial_log = NULL;
}
