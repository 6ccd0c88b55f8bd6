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

/* cli/common.c: what the verbs share. */
struct option;
struct json_object;
struct vm_handle;
enum {
        CLI_OPT_JSON = 1 << 0,             /* --json */
        CLI_OPT_LOCK_TIMEOUT = 1 << 1,     /* --lock-timeout S: sets vm_lock_timeout_ms */
        CLI_OPT_TIMEOUT = 1 << 2,          /* --timeout S, 0 allowed */
        CLI_OPT_TIMEOUT_POSITIVE = 1 << 3, /* --timeout S, more than 0 */
        CLI_OPT_NO_ARGS = 1 << 4,          /* nothing after the options */
        CLI_OPT_ONE_NAME = 1 << 5,         /* exactly one VM name after the options */
};
/* A verb's own option: -1 to go on, else an exit code (already printed). */
typedef int (*cli_opt_fn)(const char *verb, int c, const char *arg, void *ud);
struct cli_opts {
        unsigned take;               /* CLI_OPT_*; --help always */
        const char *no_json;         /* why --json is refused, when the verb does not take it */
        const struct option *extra;  /* the verb's own options, handled by on_opt */
        cli_opt_fn on_opt;
        void *ud;
        bool json;                   /* out: --json given */
        int timeout_ms;              /* out: --timeout, untouched when not given */
};
/* getopt_long over argv (stops at the first argument; optind is set).
 * Returns -1 to go on, else an exit code (--help printed, usage error). */
int cli_parse_opts(const char *verb, int argc, char **argv, const char *help, struct cli_opts *o);
/* An on_opt for a verb with one option of its own: its argument (or "" for a
 * flag) into the const char * that ud points to. */
int cli_opt_store(const char *verb, int c, const char *arg, void *ud);
/* vm_open, printing the error; 0 or CLI_EXIT_FAIL. */
int cli_vm_open(const char *verb, const char *name, unsigned flags, struct vm_handle **ret);
/* Indented JSON on stdout. */
void cli_print_json(struct json_object *o);
/* "qemuctl: VERB: warning: msg"; nothing when msg is NULL. */
void cli_warn(const char *verb, const char *msg);
/* Parse "30", "30s", "2m", "500ms" into ms: 0, -EINVAL (not a duration:
 * negative, nan, no number, another unit) or -ERANGE (past INT_MAX ms, about
 * 24.8 days; inf). */
int parse_duration_ms(const char *s, int *ret_ms);
/* For an option NAME's ARG: -1 with *ret set, or the usage error's exit code
 * (with what is wrong). positive: 0 is refused too. */
int cli_duration_opt(const char *verb, const char *name, const char *arg, bool positive, int *ret);

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
