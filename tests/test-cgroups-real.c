/* cgroups/ on this host's real cgroup2 hierarchy, with a real QEMU (TCG):
 * QEMU is in emulator/ before it runs, its vCPU threads land in vcpuN/,
 * freeze and kill work, a controller the hierarchy lacks is refused by name. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups/cgroups.h"
#include "common/cleanup.h"
#include "common/io.h"
#include "common/proc.h"
#include "tests/tap.h"

#define PARENT "qemuctl-test"

static const char *qemu_binary(void)
{
        const char *q = getenv("QEMUCTL_QEMU");

        if (q && *q)
                return q;
        return "/usr/bin/qemu-system-x86_64";
}

/* The cgroup line of /proc/PID/task/TID/cgroup ("0::/path"), v2 part only. */
static int task_cgroup(pid_t pid, pid_t tid, char *buf, size_t len)
{
        char path[128], *s = NULL, *p;

        snprintf(path, sizeof path, "/proc/%d/task/%d/cgroup", (int)pid, (int)tid);
        if (read_file(path, 0, &s, NULL) < 0)
                return -1;
        p = strstr(s, "0::");
        if (!p) {
                free(s);
                return -1;
        }
        p += 3;
        p[strcspn(p, "\n")] = '\0';
        snprintf(buf, len, "%s", p);
        free(s);
        return 0;
}

/* tid of the thread QEMU names "CPU n/TCG" (-name ...,debug-threads=on). */
static pid_t vcpu_tid(pid_t pid, unsigned n)
{
        char path[64], want[32];
        DIR *d;
        pid_t found = -1;

        snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
        snprintf(want, sizeof want, "CPU %u/TCG\n", n);
        d = opendir(path);
        if (!d)
                return -1;
        for (struct dirent *de; (de = readdir(d));) {
                char cpath[400], *comm = NULL;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(cpath, sizeof cpath, "%s/%s/comm", path, de->d_name);
                if (read_file(cpath, 0, &comm, NULL) == 0 && strcmp(comm, want) == 0)
                        found = atoi(de->d_name);
                free(comm);
        }
        closedir(d);
        return found;
}

static unsigned long long cpu_ticks(pid_t pid)
{
        struct proc_stat st;

        return proc_stat_read(pid, 0, &st) == 0 ? st.utime + st.stime : 0;
}

static bool file_has_line(const char *path, long v)
{
        char *s = NULL;
        bool found = false;

        if (read_file(path, 0, &s, NULL) < 0)
                return false;
        for (char *p = s; p && *p;) {
                if (strtol(p, NULL, 10) == v)
                        found = true;
                p = strchr(p, '\n');
                if (p)
                        p++;
        }
        free(s);
        return found;
}

int main(void)
{
        struct qc_err e = { 0 };
        struct cg_hier *h = NULL;
        struct cg_vm *vm = NULL, *bad = NULL;
        unsigned offered = 0, usable = 0, refused = 0;
        char name[64], buf[512], want[512], path[600], disk[128], drive[256];
        pid_t pid = -1, tids[2];
        int pidfd = -1, status = 0;

        if (geteuid() != 0)
                tap_skip_all("needs root to create cgroups");
        if (access(qemu_binary(), X_OK) < 0)
                tap_skip_all("no QEMU at %s (set QEMUCTL_QEMU)", qemu_binary());
        if (cg_hier_open(NULL, &h, &e) < 0)
                tap_skip_all("no cgroup2 hierarchy: %s", e.msg);
        tap_diag("cgroup2 at %s", cg_hier_path(h));

        is_int(cg_hier_controllers(h, &offered, &e), 0, "read the root's controllers");
        is_int(cg_usable(h, PARENT, &usable, &refused, &e), 0, "usable under %s: %s", PARENT, e.msg);
        {
                _cleanup_free_ char *s = cg_mask_to_string(usable);
                tap_diag("usable: %s", s ? s : "?");
        }
        /* the missing-controller error, for whichever of memory/cpuset this host lacks */
        if (!(usable & CG_MASK(CG_MEMORY))) {
                is_int(cg_vm_create(h, PARENT, "nomem", CG_MASK(CG_MEMORY), 1, &bad, &e), -1,
                       "memory controller asked on a host without it: refused");
                ok(strstr(e.msg, "memory"), "the error names the controller: %s", e.msg);
                if (cg_hier_v1_mask(h) & CG_MASK(CG_MEMORY))
                        ok(strstr(cg_missing_reason(h, CG_MEMORY, refused), "cgroup v1"),
                           "reason: bound to cgroup v1 (%s)", cg_missing_reason(h, CG_MEMORY, refused));
        } else
                tap_diag("this host's cgroup2 has memory: the refusal is covered by the fake tree");

        /* a boot sector that spins ("jmp $"): a guest that keeps its vCPU busy,
         * so freezing shows as CPU time that stops */
        snprintf(disk, sizeof disk, "/tmp/qemuctl-test-spin-%d.img", (int)getpid());
        {
                unsigned char sector[512] = { 0xeb, 0xfe };
                int fd = open(disk, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

                sector[510] = 0x55, sector[511] = 0xaa;
                if (fd < 0 || write(fd, sector, sizeof sector) != (ssize_t)sizeof sector)
                        tap_skip_all("cannot write %s", disk);
                close(fd);
                snprintf(drive, sizeof drive, "file=%s,format=raw,if=ide,snapshot=on", disk);
        }

        snprintf(name, sizeof name, "t%d", (int)getpid());
        if (!ok(cg_vm_create(h, PARENT, name, 0, 2, &vm, &e) == 0, "create %s/%s: %s", PARENT, name, e.msg))
                goto out;
        snprintf(buf, sizeof buf, "%s/emulator/cgroup.type", cg_vm_path(vm));
        {
                char *t = NULL;
                read_file(buf, 0, &t, NULL);
                is_str(t, "threaded\n", "emulator/ is threaded in the kernel's eyes");
                free(t);
        }

        if (cg_fork_into(cg_vm_emulator_fd(vm), &pid, &pidfd, &e) < 0) {
                if (pid == 0)
                        _exit(126);
                ok(0, "fork into cgroup: %s", e.msg);
                goto out;
        }
        if (pid == 0) {
                char *argv[] = { (char *)qemu_binary(), "-accel", "tcg", "-smp", "2", "-m", "64",
                                 "-name", "cgtest,debug-threads=on", "-display", "none", "-nodefaults",
                                 "-monitor", "none", "-serial", "none", "-no-reboot", "-drive", drive, NULL };
                int fd = open("/dev/null", O_RDWR);
                dup2(fd, 0), dup2(fd, 1), dup2(fd, 2);
                execv(argv[0], argv);
                _exit(127);
        }
        ok(pidfd >= 0, "clone3 gave a pidfd");
        /* the child is in emulator/ from its first instruction: check at once */
        snprintf(want, sizeof want, "/%s/%s/emulator", PARENT, name);
        ok(task_cgroup(pid, pid, buf, sizeof buf) == 0 && strcmp(buf, want) == 0,
           "QEMU's process is in %s before it runs (got %s)", want, buf);

        tids[0] = tids[1] = -1;
        for (int i = 0; i < 200 && (tids[0] < 0 || tids[1] < 0); i++) {
                tids[0] = vcpu_tid(pid, 0);
                tids[1] = vcpu_tid(pid, 1);
                usleep(50 * 1000);
        }
        if (!ok(tids[0] > 0 && tids[1] > 0, "QEMU started two vCPU threads (%d, %d)", tids[0], tids[1]))
                goto kill;
        for (unsigned i = 0; i < 2; i++) {
                is_int(cg_vm_place_vcpu(vm, i, tids[i], &e), 0, "move vCPU %u thread: %s", i, e.msg);
                snprintf(want, sizeof want, "/%s/%s/vcpu%u", PARENT, name, i);
                ok(task_cgroup(pid, tids[i], buf, sizeof buf) == 0 && strcmp(buf, want) == 0,
                   "vCPU %u thread %d is in %s (got %s)", i, tids[i], want, buf);
                snprintf(path, sizeof path, "%s/vcpu%u/cgroup.threads", cg_vm_path(vm), i);
                ok(file_has_line(path, tids[i]), "vcpu%u/cgroup.threads lists %d", i, tids[i]);
        }
        snprintf(want, sizeof want, "/%s/%s/emulator", PARENT, name);
        ok(task_cgroup(pid, pid, buf, sizeof buf) == 0 && strcmp(buf, want) == 0,
           "QEMU's main thread stays in emulator/ (got %s)", buf);
        snprintf(path, sizeof path, "%s/emulator/cgroup.threads", cg_vm_path(vm));
        ok(!file_has_line(path, tids[0]) && file_has_line(path, pid), "emulator/cgroup.threads: main, no vCPU");
        /* a vCPU added later: a thread of the same process into a new vcpuN */
        is_int(cg_vm_place_vcpu(vm, 5, tids[1], &e), 0, "vcpu5/ made on demand: %s", e.msg);
        snprintf(want, sizeof want, "/%s/%s/vcpu5", PARENT, name);
        ok(task_cgroup(pid, tids[1], buf, sizeof buf) == 0 && strcmp(buf, want) == 0, "thread moved to vcpu5");
        is_int(cg_vm_place_vcpu(vm, 1, tids[1], &e), 0, "and back to vcpu1");
        /* a thread of another process cannot join a threaded subtree it is not in */
        is_int(cg_vm_place_vcpu(vm, 0, getpid(), &e), -1, "a foreign thread is refused by the kernel");
        tap_diag("%s", e.msg);

        {
                unsigned long long t0, t1;
                struct cg_stats st;

                usleep(300 * 1000);
                is_int(cg_freeze(cg_vm_fd(vm), true, 5000, &e), 0, "freeze: %s", e.msg);
                t0 = cpu_ticks(pid);
                usleep(400 * 1000);
                t1 = cpu_ticks(pid);
                is_int(t1 - t0, 0, "frozen QEMU used no CPU time (%llu ticks)", t1 - t0);
                is_int(cg_freeze(cg_vm_fd(vm), false, 5000, &e), 0, "thaw: %s", e.msg);
                usleep(400 * 1000);
                ok(cpu_ticks(pid) > t1, "thawed QEMU runs again");
                is_int(cg_read_stats(cg_vm_fd(vm), &st, &e), 0, "read stats");
                ok(st.has_cpu && st.cpu_usage_us > 0, "cpu.stat usage_usec %llu > 0",
                   (unsigned long long)st.cpu_usage_us);
        }
kill:
        is_int(cg_kill(cg_vm_fd(vm), &e), 0, "kill through cgroup.kill: %s", e.msg);
        if (waitpid(pid, &status, 0) == pid)
                ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "QEMU died of SIGKILL");
        pid = -1;
        {
                bool empty = false;
                is_int(cg_is_empty(cg_vm_fd(vm), &empty, &e), 0, "read cgroup.events");
                for (int i = 0; i < 100 && !empty; i++) {
                        usleep(20 * 1000);
                        cg_is_empty(cg_vm_fd(vm), &empty, &e);
                }
                ok(empty, "cgroup empty after kill");
        }
out:
        if (pid > 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
        }
        if (pidfd >= 0)
                close(pidfd);
        if (vm) {
                is_int(cg_vm_remove(vm, 3000, &e), 0, "remove: %s", e.msg);
                snprintf(path, sizeof path, "%s/%s/%s", cg_hier_path(h), PARENT, name);
                ok(access(path, F_OK) < 0, "VM cgroup gone");
                cg_vm_free(vm);
        }
        snprintf(path, sizeof path, "%s/%s", cg_hier_path(h), PARENT);
        rmdir(path); /* shared with parallel runs: may still be busy */
        cg_hier_free(h);
        unlink(disk);
        return tap_done();
}
