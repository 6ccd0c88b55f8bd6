/* fake-qemu-qmp RUNDIR STEP... [-- ANYTHING]
 * A stand-in for a running QEMU for CLI-level tests: listens on the QMP
 * socket qemuctl's verbs use in the state dir RUNDIR, serves one client the
 * scripted steps (tests/lib/fakeqmp.h), then prints its own CPU affinity
 * ("affinity 0-1"; a verb that places a vCPU thread QMP names as this
 * process shows there) and exits 0 when the client did exactly what the
 * script expected, 1 otherwise (with what differed on stderr), 2 on usage.
 * Steps: greet:MAJOR.MINOR.MICRO, commands:NAME,NAME,..., expect:JSON,
 * reply:JSON (@PID@ in it becomes this process's pid: a thread QMP can
 * name), error:CLASS:DESC. Arguments after "--" are ignored (a
 * "-name guest=NAME" for whoever looks at /proc/PID/cmdline). */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/cleanup.h"
#include "../../common/cpuset.h"
#include "../../common/io.h"
#include "../../launcher/paths.h"
#include "../lib/fakeqmp.h"

/* the socket qemuctl's verbs connect to */
#ifdef VM_RUNDIR_CTL
#define VERB_SOCKET VM_RUNDIR_CTL
#else
#define VERB_SOCKET VM_RUNDIR_QMP
#endif

static int step(struct fakeqmp *f, const char *s)
{
        const char *arg = strchr(s, ':');
        int major, minor, micro;

        if (!arg)
                return -1;
        arg++;
        if (strncmp(s, "greet:", 6) == 0) {
                if (sscanf(arg, "%d.%d.%d", &major, &minor, &micro) != 3)
                        return -1;
                fakeqmp_greet_version(f, major, minor, micro);
        } else if (strncmp(s, "commands:", 9) == 0) {
                _cleanup_free_ char *copy = strdup(arg);
                const char *names[64];
                size_t n = 0;
                char *save = NULL;

                if (!copy)
                        return -1;
                for (char *t = strtok_r(copy, ",", &save); t && n < 63; t = strtok_r(NULL, ",", &save))
                        names[n++] = t;
                names[n] = NULL;
                fakeqmp_expect_commands(f, names);
        } else if (strncmp(s, "expect:", 7) == 0) {
                fakeqmp_expect(f, arg);
        } else if (strncmp(s, "reply:", 6) == 0) {
                const char *at = strstr(arg, "@PID@");
                _cleanup_free_ char *text = NULL;

                if (at && asprintf(&text, "%.*s%d%s", (int)(at - arg), arg, (int)getpid(), at + 5) < 0)
                        return -1;
                fakeqmp_reply(f, text ? text : arg);
        } else if (strncmp(s, "error:", 6) == 0) {
                const char *desc = strchr(arg, ':');
                _cleanup_free_ char *cls = desc ? strndup(arg, (size_t)(desc - arg)) : NULL;

                if (!cls)
                        return -1;
                fakeqmp_error(f, cls, desc + 1);
        } else {
                return -1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        struct fakeqmp *f;
        _cleanup_free_ char *path = NULL, *log = NULL, *aff = NULL;
        cpu_set_t set;
        struct cpuset cs;
        int r;

        if (argc < 2) {
                fprintf(stderr, "usage: fake-qemu-qmp RUNDIR STEP... [-- ANYTHING]\n");
                return 2;
        }
        f = fakeqmp_new();
        for (int i = 2; i < argc && strcmp(argv[i], "--") != 0; i++)
                if (step(f, argv[i]) < 0) {
                        fprintf(stderr, "fake-qemu-qmp: bad step \"%s\"\n", argv[i]);
                        return 2;
                }
        fakeqmp_wait_eof(f);
        path = path_join(argv[1], VERB_SOCKET);
        if (!path || fakeqmp_listen(f, path) < 0) {
                fprintf(stderr, "fake-qemu-qmp: cannot listen on %s\n", path ? path : "?");
                return 1;
        }
        r = fakeqmp_finish(f, &log);
        if (r < 0)
                fprintf(stderr, "fake-qemu-qmp: %s\n", log ? log : "?");
        fakeqmp_free(f);
        cpuset_zero(&cs);
        if (sched_getaffinity(0, sizeof set, &set) == 0)
                for (unsigned c = 0; c < CPU_SETSIZE && c < QC_CPUSET_MAX; c++)
                        if (CPU_ISSET(c, &set))
                                cpuset_set(&cs, c);
        aff = cpuset_to_string(&cs);
        printf("affinity %s\n", aff ? aff : "?");
        return r < 0 ? 1 : 0;
}
