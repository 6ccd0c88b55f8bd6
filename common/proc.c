#include "proc.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "io.h"

int proc_stat_parse(const char *text, struct proc_stat *ret)
{
        const char *p = strrchr(text, ')');
        struct proc_stat st = { 0 };
        unsigned field = 2; /* we stand on the end of field 2 (comm) */

        if (!p)
                return -EINVAL;
        p++;
        while (*p) {
                char *end;

                while (*p == ' ')
                        p++;
                if (!*p || *p == '\n')
                        break;
                field++;
                if (field == 3) {
                        st.state = *p;
                        end = (char *)p + 1;
                } else {
                        errno = 0;
                        unsigned long long v = strtoull(p, &end, 10);
                        if (end == p) {
                                /* a negative field (e.g. priority): skip the word */
                                if (*p == '-') {
                                        strtoll(p, &end, 10);
                                        if (end == p)
                                                return -EINVAL;
                                } else
                                        return -EINVAL;
                        }
                        if (field == 14)
                                st.utime = v;
                        else if (field == 15)
                                st.stime = v;
                        else if (field == 22)
                                st.start = v;
                        else if (field == 39) {
                                if (v > INT_MAX)
                                        return -EINVAL;
                                st.last_cpu = (int)v;
                        }
                }
                if (*end && *end != ' ' && *end != '\n')
                        return -EINVAL;
                p = end;
                if (field == 39)
                        break;
        }
        if (field < 39 || !st.state)
                return -EINVAL;
        *ret = st;
        return 0;
}

int proc_stat_read(pid_t pid, pid_t tid, struct proc_stat *ret)
{
        _cleanup_free_ char *text = NULL;
        char path[64];
        int r;

        if (pid <= 0 || tid < 0)
                return -ESRCH;
        if (tid)
                snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
        else
                snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        r = read_file(path, 8192, &text, NULL);
        if (r < 0)
                return r;
        return proc_stat_parse(text, ret);
}

uint64_t proc_start_time(pid_t pid)
{
        struct proc_stat st;

        return proc_stat_read(pid, 0, &st) == 0 ? st.start : 0;
}

bool proc_alive(pid_t pid, uint64_t start)
{
        struct proc_stat st;

        if (proc_stat_read(pid, 0, &st) < 0)
                return false;
        if (st.state == 'Z' || st.state == 'X' || st.state == 'x')
                return false;
        return start == 0 || st.start == start;
}

const char *proc_status_field(const char *text, const char *key, size_t *ret_len)
{
        size_t klen = strlen(key);

        for (const char *line = text; line && *line;) {
                const char *next = strchr(line, '\n');

                if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
                        const char *v = line + klen + 1;

                        v += strspn(v, " \t");
                        *ret_len = next ? (size_t)(next - v) : strlen(v);
                        return v;
                }
                line = next ? next + 1 : NULL;
        }
        return NULL;
}

int proc_status_kb(const char *text, const char *key, uint64_t *ret)
{
        size_t len;
        const char *p = proc_status_field(text, key, &len);
        char *end;
        unsigned long long kb;

        if (!p)
                return -ENOENT;
        if (*p < '0' || *p > '9')
                return -EINVAL;
        errno = 0;
        kb = strtoull(p, &end, 10);
        if (errno)
                return -EINVAL;
        end += strspn(end, " \t");
        if (strncmp(end, "kB", 2) != 0 || kb > UINT64_MAX / 1024)
                return -EINVAL;
        *ret = (uint64_t)kb * 1024;
        return 0;
}
