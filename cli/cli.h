/* The qemuctl command: the only code that prints to the user or exits. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/err.h"
#include "launcher/state.h" /* enum vm_state */

/* Exit codes of ordinary verbs. `run` has its own (see cli/run.c, README). */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

/* The verb table (cli/verbs.c): every verb declared once. `qemuctl help`,
 * each verb's --help, its options for getopt, the man page qemuctl(1) and
 * the bash and zsh completion (cli/gen/verbdoc.c, `make generate`) all come
 * from it. */

/* What an argument is: help and man write its metavar, completion offers
 * files for FILE, the VMs of the state dir and the defined VMs for NAME,
 * both for FILE|NAME, CHOICES' words. */
enum cli_arg {
        CLI_ARG_NONE,     /* a flag: no argument */
        CLI_ARG_FILE,     /* a path */
        CLI_ARG_NAME,     /* a VM name */
        CLI_ARG_DURATION, /* 60, 60s, 500ms, 2m */
        CLI_ARG_SIZE,     /* 512M, 2G */
        CLI_ARG_NUMBER,
        CLI_ARG_CPULIST,  /* 0-3,8 */
        CLI_ARG_CHOICE,   /* one of .choices */
        CLI_ARG_TEXT,     /* anything else: a command, JSON, a regex */
        CLI_ARG_FILE_OR_DEF, /* a VM file, or the name of a defined VM (start, run, cmdline, ...) */
};

/* The options every verb's on_opt never sees: cli_parse_opts handles them. */
enum {
        CLI_OPT_VAL_JSON = 'j',
        CLI_OPT_VAL_TIMEOUT = 't',
        CLI_OPT_VAL_LOCK_TIMEOUT = 'L',
        CLI_OPT_VAL_SET = 0x100,  /* --set KEY.PATH=VALUE (into cli_opts.overrides) */
        CLI_OPT_VAL_NAME = 0x101, /* --name NAME (the same as --set name=NAME) */
        CLI_OPT_VAL_UNSET = 0x102, /* --unset KEY.PATH (into cli_opts.overrides) */
        /* virsh's --live, --config, --current (into cli_opts.affect) */
        CLI_OPT_VAL_LIVE = 0x110,
        CLI_OPT_VAL_CONFIG = 0x111,
        CLI_OPT_VAL_CURRENT = 0x112,
};

struct cli_opt {
        const char *name;    /* without "--" */
        int val;             /* what on_opt gets (CLI_OPT_VAL_* for the shared ones) */
        enum cli_arg arg;
        const char *metavar; /* "S", "FILE", ... (NULL for a flag) */
        const char *help;    /* for --help and the man page; may run over lines */
        const char *choices; /* CLI_ARG_CHOICE: the words, space-separated */
        char short_name;     /* 0, or the one-letter form (-v) */
};

/* A positional argument. OPTIONAL ones nest: NAME [VCPU [CPULIST]]. */
enum { CLI_POS_OPTIONAL = 1 << 0, CLI_POS_MANY = 1 << 1 };
struct cli_pos {
        const char *metavar;
        enum cli_arg arg;
        unsigned flags;
};

struct cli_exit {
        const char *code; /* "0", "124", "N" */
        const char *meaning;
};

struct verb {
        const char *name;
        int (*fn)(int argc, char **argv); /* argv[0] is the name it was called by */
        const char *aliases;              /* virsh names, space-separated; NULL: none */
        const char *summary;              /* one line for `qemuctl help` */
        const char *synopsis;             /* NULL: made from opts and args */
        const char *description;          /* paragraphs, wrapped at 79 columns */
        const struct cli_opt *opts;       /* {} ends it; --help is implied */
        const struct cli_pos *args;       /* {} ends it; NULL: none */
        const char *notes;                /* after the options */
        const struct cli_exit *exits;     /* {} ends it; NULL: 0 ok, 1 failed, 2 usage */
        bool hidden;                      /* not in `qemuctl help` (help, version) */
};

extern const struct verb cli_verbs[];
extern const size_t cli_n_verbs;
/* The verb NAME names, by its name or a virsh alias; NULL when none. */
const struct verb *cli_verb_find(const char *name);
/* The synopsis after "qemuctl VERB" (made from the table unless given). */
char *cli_verb_synopsis(const struct verb *v);
/* The verb's --help text. */
void cli_verb_help(FILE *f, const struct verb *v);
/* The positional arguments alone: NAME [VCPU [CPULIST]]. */
char *cli_verb_args(const struct verb *v);
/* `qemuctl help`: every verb with its summary. */
void cli_help_overview(FILE *f);

/* Print "qemuctl: VERB: msg" to stderr; returns CLI_EXIT_FAIL. */
int cli_fail(const char *verb, const struct qc_err *err);
int cli_failf(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Usage error: message and a hint to --help; returns CLI_EXIT_USAGE. */
int cli_usage(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* cli/common.c: what the verbs share. */
struct option;
struct json_object;
struct vm_handle;
struct qmp;
struct spec_overrides;
enum {
        CLI_OPT_TIMEOUT_POSITIVE = 1 << 3, /* --timeout S must be more than 0 */
        CLI_OPT_NO_ARGS = 1 << 4,          /* nothing but options */
        CLI_OPT_ONE_NAME = 1 << 5,         /* exactly one VM name besides the options */
};
/* A verb's own option: 0 to go on, else the exit status (> 0) of the error
 * it printed. */
typedef int (*cli_opt_fn)(const char *verb, int c, const char *arg, void *ud);
struct cli_opts {
        unsigned take;               /* CLI_OPT_* */
        const char *no_json;         /* why --json is refused, when the verb does not take it */
        cli_opt_fn on_opt;           /* the verb's own options (the table's val) */
        void *ud;
        bool json;                   /* out: --json given */
        int timeout_ms;              /* out: --timeout, untouched when not given */
        struct spec_overrides *overrides; /* out: --set and --name, in their order (verbs that read a VM file) */
        unsigned affect;             /* out: CLI_AFFECT_* of --live, --config, --current given */
};
/* Which VM a live verb changes (virsh's VIR_DOMAIN_AFFECT_*; docs/host.md). */
enum {
        CLI_AFFECT_LIVE = 1 << 0,    /* the running VM */
        CLI_AFFECT_CONFIG = 1 << 1,  /* its definition, for the next start */
        CLI_AFFECT_CURRENT = 1 << 2, /* given: whichever the VM's state says */
};
/* getopt_long over argv with the options the verb table gives VERB (looked
 * up by name or alias): options may come anywhere, as GNU tools and virsh
 * take them, and "--" ends them. The other arguments end up, in order, at
 * argv[optind..argc-1]. --json, --timeout and --lock-timeout are handled
 * here (--lock-timeout sets cli_lock_timeout_ms), the rest by on_opt.
 * Returns 0 to go on; 1 when the verb is done (--help printed: *ret_exit
 * = CLI_EXIT_OK); -1 on an error it printed (a usage error: *ret_exit = its
 * exit status). *ret_exit is untouched when it returns 0. */
int cli_parse_opts(const char *verb, int argc, char **argv, struct cli_opts *o, int *ret_exit);
/* Where VERB's first argument that is not an option is in argv (options
 * taking a value skip it, "--" ends them), without parsing; -1 if none. */
int cli_first_arg(const char *verb, int argc, char **argv);
/* An on_opt for a verb with one option of its own: its argument (or "" for a
 * flag) into the const char * that ud points to. */
int cli_opt_store(const char *verb, int c, const char *arg, void *ud);
/* --lock-timeout: how long a verb waits for the VM's lock (the program's
 * option, handed to vm_open and state_prepare). */
extern int cli_lock_timeout_ms;
/* vm_open with cli_lock_timeout_ms, printing the error; 0 or CLI_EXIT_FAIL. */
int cli_vm_open(const char *verb, const char *name, unsigned flags, struct vm_handle **ret);
struct vm_end_note;
/* Wait until h's QEMU (pid/start of its record) is gone; true when it is. */
bool cli_wait_qemu_gone(const struct vm_handle *h, int timeout_ms);
/* QEMU is gone: return once the record says so too (note: what it says
 * when no supervisor watched), so that `status` right after says the VM
 * ended; a warning on stderr when it does not within 20 s. */
void cli_wait_recorded(const char *verb, const struct vm_handle *h, const struct vm_end_note *note);
/* The verb paused or resumed QEMU (pause, resume; save or migrate that
 * failed and resumed the guest): return once the supervisor has recorded
 * QEMU's STOP or RESUME (up to 5 s, only while a supervisor watches), so
 * that `status` right after agrees; a warning on stderr when it does not. */
void cli_wait_state(const char *verb, const struct vm_handle *h, enum vm_state want);
/* Before save's or migrate's quit: leave note (saved_to, migrated_to) for
 * the supervisor; when that fails, warn that the record will say "quit over
 * QMP" instead of what (e.g. "where the VM was saved"). */
void cli_end_note_leave(const char *verb, const struct vm_handle *h, const struct vm_end_note *note,
                        const char *what);
/* Indented JSON on stdout. */
void cli_print_json(struct json_object *o);
/* A JSON array of the strings of v (NULL: empty), or NULL (no memory). */
struct json_object *cli_json_strv(char *const *v);
/* "qemuctl: VERB: warning: msg"; nothing when msg is NULL. */
void cli_warn(const char *verb, const char *msg);
/* Parse "30", "30s", "2m", "500ms" into ms: 0, -EINVAL (not a duration:
 * negative, nan, no number, another unit) or -ERANGE (past INT_MAX ms, about
 * 24.8 days; inf). */
int parse_duration_ms(const char *s, int *ret_ms);
/* For an option NAME's ARG: 0 with *ret set, or the exit status of the usage
 * error it printed (what is wrong). positive: 0 is refused too. */
int cli_duration_opt(const char *verb, const char *name, const char *arg, bool positive, int *ret);

/* Verbs, one file per group (cli/<group>.c). */
int cmd_help(int argc, char **argv);     /* cli/help.c */
int cmd_version(int argc, char **argv);
int cmd_validate(int argc, char **argv); /* cli/vmfile.c */
int cmd_cmdline(int argc, char **argv);  /* cli/cmdline.c */
int cmd_resources(int argc, char **argv); /* cli/resources.c */
/* cli/lifecycle.c, cli/run.c, cli/info.c, cli/watch.c */
int cmd_start(int argc, char **argv);
int cmd_save(int argc, char **argv);   /* cli/save.c */
int cmd_migrate(int argc, char **argv); /* cli/migrate.c */
int cmd_migrate_incoming(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_reset(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_port(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_wait(int argc, char **argv);
int cmd_console(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_host(int argc, char **argv);       /* cli/host.c */
int cmd_cpu_models(int argc, char **argv); /* cli/cpu-models.c */
/* cli/defs.c: the definition store (docs/host.md) */
int cmd_define(int argc, char **argv);
int cmd_undefine(int argc, char **argv);
int cmd_edit(int argc, char **argv);
int cmd_autostart(int argc, char **argv);
/* cli/each.c: every autostart VM / every running VM at once */
int cmd_start_all(int argc, char **argv);
int cmd_stop_all(int argc, char **argv);
/* cli/agent.c: through the guest agent */
int cmd_exec(int argc, char **argv);
int cmd_cp(int argc, char **argv);
/* cli/placement.c, cli/placement-mem.c: placement of a running VM */
int cmd_vcpupin(int argc, char **argv);
int cmd_emulatorpin(int argc, char **argv);
int cmd_cpuset(int argc, char **argv);
int cmd_change_media(int argc, char **argv);
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
/* HMP's text on stdout, its CRLF line ends as LF. */
void cli_hmp_print(const char *out);
/* The interactive QMP (hmp: HMP) shell on q (cli/qmp-shell.c); vm names
 * the VM in the prompt (may be NULL). */
int cli_qmp_shell(const char *verb, struct qmp *q, const char *vm, bool hmp);
