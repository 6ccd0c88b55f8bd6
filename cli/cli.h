/* The qemuctl command: the only code that prints to the user or exits. */
#pragma once
#include <stdbool.h>

#include "common/err.h"

/* Exit codes of ordinary verbs. `run` has its own (see cli/run.c, README). */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

struct verb {
        const char *name;
        int (*fn)(int argc, char **argv); /* argv[0] is the verb name */
        const char *args;                 /* "FILE..." for the overview */
        const char *summary;
        const char *alias_of;             /* virsh names: the verb they stand for */
};

/* Print "qemuctl: VERB: msg" to stderr; returns CLI_EXIT_FAIL. */
int cli_fail(const char *verb, const struct qc_err *err);
int cli_failf(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Usage error: message and a hint to --help; returns CLI_EXIT_USAGE. */
int cli_usage(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Verbs, one file per group (cli/<group>.c). */
int cmd_validate(int argc, char **argv); /* cli/vmfile.c */
int cmd_cmdline(int argc, char **argv);  /* cli/cmdline.c */
/* cli/lifecycle.c, cli/run.c, cli/info.c, cli/watch.c */
int cmd_start(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_reset(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_wait(int argc, char **argv);
int cmd_console(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_host(int argc, char **argv);       /* cli/host.c */
/* cli/placement.c, cli/placement-mem.c: placement of a running VM */
int cmd_vcpupin(int argc, char **argv);
int cmd_emulatorpin(int argc, char **argv);
int cmd_memtune(int argc, char **argv);
int cmd_numatune(int argc, char **argv);
int cmd_numastat(int argc, char **argv);
/* cli/live.c: live CPU and memory */
int cmd_setvcpus(int argc, char **argv);
int cmd_vcpuinfo(int argc, char **argv);
int cmd_balloon(int argc, char **argv);
int cmd_memstat(int argc, char **argv);
int cmd_setmem(int argc, char **argv);
/* cli/qmp.c: qmp and hmp against a QMP socket. The *_main functions take the
 * socket path and the verb's argv without --socket (argv[0] = verb name), so
 * a verb that finds the socket by VM name can reuse them. */
int cmd_qmp(int argc, char **argv);
int cmd_hmp(int argc, char **argv);
int cli_qmp_main(const char *socket_path, int argc, char **argv);
int cli_hmp_main(const char *socket_path, int argc, char **argv);
