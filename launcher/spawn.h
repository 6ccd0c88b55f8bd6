/* Execute an argv (QEMU's) the way DESIGN.md says: no shell, a clean
 * environment (PATH, LC_ALL=C, and our TZ when set: the zone of
 * -rtc base=localtime), only the fds we mean to pass, umask 077, and a
 * chance to place the child (cgroup, ...) before it runs a single
 * instruction of the binary. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../common/err.h"

struct privs;

struct spawn_opts {
        char *const *argv;  /* argv[0]: absolute, or looked up in SPAWN_PATH */
        int stdin_fd;       /* -1 = /dev/null */
        int stdout_fd;      /* -1 = /dev/null */
        int stderr_fd;      /* -1 = /dev/null */
        bool new_pgrp;      /* own process group: a terminal's Ctrl-C reaches only us */
        /* SIGTERM, SIGINT and SIGHUP stay blocked in the child. A blocked
         * signal stays blocked across execve, and QEMU (7.2) installs its
         * handlers for them without unblocking them, so a kill(2) of one of
         * them stays pending and QEMU never ends on it: a job scheduler that
         * signals every process of a job (Slurm's scancel, systemd's
         * KillMode=control-group) reaches only the parent, which powers the
         * guest off. SIGKILL still ends the child. */
        bool block_term_signals;
        /* the signal the child gets when the parent (the thread that forked
         * it) dies (PR_SET_PDEATHSIG); 0 = none: the child outlives it */
        int parent_death_signal;
        /* into_cgroup: the child is born in the cgroup2 directory cgroup_fd
         * (clone3 CLONE_INTO_CGROUP, Linux >= 5.7). Moving a live process
         * instead (a write to cgroup.procs) makes the kernel wait for an RCU
         * grace period, ~10 ms; a fork into the cgroup does not. On an older
         * kernel: fork, and the parent moves the child before place runs. */
        bool into_cgroup;
        int cgroup_fd;
        /* In the parent, after fork (and after the child is in cgroup_fd)
         * and before the child may exec: e.g. RLIMIT_MEMLOCK, affinity. A
         * failure kills the child and fails the spawn. */
        int (*place)(pid_t pid, void *userdata, struct qc_err *err);
        void *userdata;
        /* Passed to the child as fds 3, 4, ... in this order (the numbers the
         * command line names); every other fd is closed. At most
         * SPAWN_MAX_PASS_FDS. */
        const int *pass_fds;
        size_t n_pass_fds;
        /* Applied in the child right before exec (privs_apply: umask, ids,
         * capabilities, no_new_privs). NULL = keep ours. */
        const struct privs *privs;
};
#define SPAWN_MAX_PASS_FDS 16

/* The fd number the child has for pass_fds[i]: what a command line built
 * before the spawn names ("-add-fd fd=N", "fd=N"). */
static inline int spawn_passed_fd(size_t i)
{
        return 3 + (int)i;
}

/* The only PATH the child gets (and the one argv[0] is looked up in). */
#define SPAWN_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Returns 0 and the child's pid once it has exec'd; -1 with err when argv[0]
 * is not found, placement fails, dropping privileges fails or exec fails (the
 * child is reaped then; err has the child's own message). */
int spawn_process(const struct spawn_opts *o, pid_t *ret_pid, struct qc_err *err);

/* Look name up in SPAWN_PATH (as is when it has a '/'). malloc'd path, or -1 with err. */
int spawn_find_binary(const char *name, char **ret, struct qc_err *err);

/* Run a helper program (qemu-img, genisoimage, QEMU --version) with no
 * shell and stdin /dev/null, and wait; 0 when it exited 0, else -1 with its
 * output in err (`package` is named when it cannot be run). run_tool_output
 * also hands its stdout and stderr, trimmed, in out (up to outsz-1 bytes;
 * the rest is drained). */
int run_tool(char *const argv[], const char *package, struct qc_err *err);
int run_tool_output(char *const argv[], const char *package, char *out, size_t outsz, struct qc_err *err);
