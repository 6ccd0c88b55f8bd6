/* Host-side facts about a running QEMU: its threads in /proc, its RSS, the
 * affinity of a vCPU thread, its cgroup's memory.current. No QMP here. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/cpuset.h"
#include "../common/err.h"
#include "../common/proc.h"

/* Read /proc/PID/task/TID/stat. Returns 0 or -1 with err (code ENOENT when the
 * thread is gone). */
int vm_task_stat_read(pid_t pid, pid_t tid, struct proc_stat *ret, struct qc_err *err);
/* utime+stime in nanoseconds (ticks are sysconf(_SC_CLK_TCK) per second). */
uint64_t vm_task_cpu_time_ns(const struct proc_stat *st);
/* "running", "sleeping", "disk-sleep", "stopped", "zombie", ... */
const char *vm_task_state_to_string(char state);

/* The value of "VmRSS:" in the text of /proc/PID/status, in bytes.
 * Returns 0, -ENOENT (no such line: a kernel thread or a zombie) or -EINVAL. */
int vm_status_rss_parse(const char *text, uint64_t *ret);
int vm_process_rss(pid_t pid, uint64_t *ret, struct qc_err *err);

/* sched_getaffinity() of one thread (a vCPU thread id from query-cpus-fast). */
int vm_thread_affinity(pid_t tid, struct cpuset *ret, struct qc_err *err);

/* memory.current of the cgroup v2 that pid belongs to (from /proc/PID/cgroup,
 * the "0::" line, below the cgroup2 mount). Returns 1 and *ret, 0 when the
 * cgroup has no memory controller (as on hybrid hosts), or -1 with err. */
int vm_process_memory_current(pid_t pid, uint64_t *ret, struct qc_err *err);
/* Same, for a given /proc/PID/cgroup text and cgroup2 mount (unit tests). */
int vm_cgroup_memory_current(const char *proc_cgroup_text, const char *cgroup2_mount, uint64_t *ret,
                             struct qc_err *err);
