/* The host fact behind figure 1: what one move into a cgroup costs after a
 * quiet spell. Every write to cgroup.procs/cgroup.threads takes the kernel's
 * cgroup_threadgroup_rwsem for writing; without the cgroup2 option
 * favordynmods that rwsem sits in its fast reader mode, and the first writer
 * waits for an RCU grace period (~10 ms) to switch it. With favordynmods in
 * effect (also "partly", after it was once mounted: it cannot be switched
 * off again on 6.x) the same write takes ~0.05 ms. The mount options cannot
 * tell the second case; this measurement can.
 *
 * Usage: cg-move-wait [ROUNDS]   (root; makes and removes one cgroup at the
 * cgroup2 root). Prints "MEDIAN MIN MAX N" in ms, or "- REASON". */
#include "bench/bench.h"
#include "cgroups/cgroups.h"

int main(int argc, char **argv)
{
        struct b_series s = { .what = "move" };
        struct cg_hier *h = NULL;
        struct qc_err e = { 0 };
        char dir[4096], procs[4200], pid[32];
        int rounds = argc > 1 ? atoi(argv[1]) : 5;

        if (cg_hier_open(NULL, &h, &e) < 0) {
                printf("- no cgroup2 hierarchy: %s\n", e.msg);
                return 0;
        }
        snprintf(dir, sizeof dir, "%s/qemuctl-bench-move-%d", cg_hier_path(h), (int)getpid());
        snprintf(procs, sizeof procs, "%s/cgroup.procs", dir);
        if (mkdir(dir, 0755) < 0) {
                printf("- cannot make a cgroup at %s: %s\n", dir, strerror(errno));
                return 0;
        }
        for (int r = 0; r < rounds; r++) {
                pid_t c = fork();
                int fd;
                int64_t t0;

                if (c < 0)
                        b_die("fork: %s", strerror(errno));
                if (c == 0) {
                        pause();
                        _exit(0);
                }
                /* quiet: the rwsem drops back to its fast mode one grace
                 * period after its last writer */
                b_sleep_us(300 * 1000);
                snprintf(pid, sizeof pid, "%d", (int)c);
                fd = open(procs, O_WRONLY | O_CLOEXEC);
                t0 = b_now_ns();
                if (fd < 0 || write(fd, pid, strlen(pid)) < 0) {
                        printf("- cannot move a process into %s: %s\n", dir, strerror(errno));
                        kill(c, SIGKILL);
                        waitpid(c, NULL, 0);
                        rmdir(dir);
                        return 0;
                }
                b_add(&s, (double)(b_now_ns() - t0) / 1e6);
                close(fd);
                kill(c, SIGKILL);
                waitpid(c, NULL, 0);
        }
        /* the last child is reaped: the cgroup is empty */
        for (int i = 0; i < 100 && rmdir(dir) < 0 && errno == EBUSY; i++)
                b_sleep_us(10 * 1000);
        printf("%.3f %.3f %.3f %d\n", b_median(&s), s.v[0], s.v[s.n - 1], s.n);
        cg_hier_free(h);
        return 0;
}
