/* What /proc says about a process or a thread. The one reader of
 * /proc/PID/stat, and of the fields of /proc/PID/status. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct proc_stat {
        char state;        /* 'R', 'S', 'D', 'T', 't', 'Z', 'X', 'I' */
        uint64_t utime;    /* field 14, clock ticks */
        uint64_t stime;    /* field 15, clock ticks */
        uint64_t start;    /* field 22, ticks after boot: with the pid, names one process */
        int last_cpu;      /* field 39 "processor": the host CPU it last ran on */
};

/* Parse the text of a /proc/.../stat file. The command name (field 2) may
 * hold spaces and parentheses, so fields are counted from the last ')'.
 * Returns 0 or -EINVAL. */
int proc_stat_parse(const char *text, struct proc_stat *ret);
/* /proc/PID/stat (tid 0) or /proc/PID/task/TID/stat. Returns 0 or -errno
 * (-ENOENT: no such process or thread; -ESRCH: pid <= 0). */
int proc_stat_read(pid_t pid, pid_t tid, struct proc_stat *ret);
/* Field 22 of pid, 0 when it cannot be read. */
uint64_t proc_start_time(pid_t pid);
/* The process exists, is not a zombie, and (when start != 0) started at start:
 * kill(pid, 0) says yes to a zombie and to whoever got the pid next. */
bool proc_alive(pid_t pid, uint64_t start);

/* The value of the line "KEY:\tVALUE" in the text of /proc/PID/status
 * (key without its colon: "VmRSS", "Mems_allowed_list"): a pointer into
 * text past the blanks after the colon, *ret_len bytes up to the line's
 * end. NULL when text has no such line. */
const char *proc_status_field(const char *text, const char *key, size_t *ret_len);
/* The same line's value as an amount "N kB" (VmRSS; /proc/meminfo's lines
 * and a node's meminfo's, whose keys start "Node N ") in bytes: 0, -ENOENT
 * when text has no such line, -EINVAL when its value is not a number of kB. */
int proc_status_kb(const char *text, const char *key, uint64_t *ret);
