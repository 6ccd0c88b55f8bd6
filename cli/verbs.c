/* The verb table: every verb of qemuctl, declared once. `qemuctl help`,
 * each verb's --help, the options getopt takes (cli_parse_opts), the man
 * page docs/man/qemuctl.1 and the bash and zsh completion come from here
 * (`make generate` writes the last three; a test fails when they are stale).
 *
 * Adding a verb: its entry here (name, summary, description, options with
 * their argument kind, positional arguments), its cmd_* function in the
 * cli/<group>.c it belongs to, `make generate`. A verb's own options reach
 * its on_opt with the .val given here. */
#include <string.h>

#include "cli/cli.h"
#include "vm/vm-placement.h" /* memtune's option values */

/* The options several verbs share, with the same meaning everywhere. */
#define OPT(name_, val_, kind_, metavar_, help_, ...) \
        { .name = name_, .val = val_, .arg = kind_, .metavar = metavar_, .help = help_, __VA_ARGS__ }
#define OPT_JSON(help) OPT("json", CLI_OPT_VAL_JSON, CLI_ARG_NONE, NULL, help)
#define OPT_TIMEOUT(help) OPT("timeout", CLI_OPT_VAL_TIMEOUT, CLI_ARG_DURATION, "S", help)
#define OPT_LOCK_TIMEOUT                                          \
        OPT("lock-timeout", CLI_OPT_VAL_LOCK_TIMEOUT, CLI_ARG_DURATION, "S", \
            "wait up to S for another qemuctl verb that holds the VM's lock (default 10 s)")
/* --set and --name: changes to the VM file as it is read (launcher/spec.h) */
#define OPT_SET                                                                                                   \
        OPT("set", CLI_OPT_VAL_SET, CLI_ARG_TEXT, "KEY.PATH=VALUE",                                             \
            "change one key of the VM file as it is read, checked as if the file said it (repeatable): "       \
            "memory.size=2G, disks.0.file=job7.qcow2, 'net.0.forward=[\"tcp:0:22\"]' (docs/vm-file.md, --set)"), \
        OPT("unset", CLI_OPT_VAL_UNSET, CLI_ARG_TEXT, "KEY.PATH",                                               \
            "remove one key or list item of the VM file as it is read (repeatable; after --set's in order): "   \
            "cpu.pin, disks.1, display")
#define OPT_NAME                                                                                                  \
        OPT("name", CLI_OPT_VAL_NAME, CLI_ARG_TEXT, "NAME",                                                      \
            "the VM's name instead of the file's (the same as --set name=NAME): its own state dir, cgroup, "   \
            "cloud-init hostname and {name} in disk and share paths")
/* virsh's --live, --config, --current (cli/affect.c; the table in docs/host.md) */
#define OPT_LIVE OPT("live", CLI_OPT_VAL_LIVE, CLI_ARG_NONE, NULL, "the running VM (an error when it does not run)")
#define OPT_CONFIG                                                                                      \
        OPT("config", CLI_OPT_VAL_CONFIG, CLI_ARG_NONE, NULL,                                           \
            "its definition, for the next start (an error for a transient VM); with --live, both")
#define OPT_CURRENT                                                                                     \
        OPT("current", CLI_OPT_VAL_CURRENT, CLI_ARG_NONE, NULL,                                         \
            "the running VM if it runs, else its definition (the default)")
#define OPT_AFFECT OPT_LIVE, OPT_CONFIG, OPT_CURRENT
#define AFFECT_NOTE                                                                                     \
        "--live changes the running VM, --config its definition (qemuctl define; from\n"              \
        "the next start), both together both; --current (the default) the running VM if\n"            \
        "it runs, else the definition. As virsh: --live on a VM that does not run and\n"              \
        "--config on a transient VM are refused. docs/host.md has the table.\n"
#define POS_NAME { "NAME", CLI_ARG_NAME, 0 }
#define POS_FILE { "FILE", CLI_ARG_FILE, 0 }

static const struct cli_opt opts_lock[] = { OPT_LOCK_TIMEOUT, {} };
static const struct cli_opt opts_json_lock[] = { OPT_JSON("print JSON"), OPT_LOCK_TIMEOUT, {} };
static const struct cli_pos args_name[] = { POS_NAME, {} };
static const struct cli_pos args_file[] = { POS_FILE, {} };
/* a VM file, or the name of a defined VM (cli_vm_file's rule) */
static const struct cli_pos args_file_or_name[] = { { "FILE|NAME", CLI_ARG_FILE_OR_DEF, 0 }, {} };
/* start and run with --restore: the VM may come from the save alone */
static const struct cli_pos args_file_or_name_opt[] = { { "FILE|NAME", CLI_ARG_FILE_OR_DEF, CLI_POS_OPTIONAL }, {} };
#define FILE_OR_NAME_NOTE                                                                       \
        "FILE|NAME: an argument with a / in it or ending in .json is a VM file; any\n"         \
        "other is the name of a defined VM (qemuctl define), else a file of that name\n"       \
        "here.\n"

/* `run`'s exit status (README's table says the same). */
static const struct cli_exit run_exits[] = {
        { "0", "the guest powered off normally" },
        { "N", "the guest wrote N to isa-debug-exit (\"debug_exit\": true; QEMU exits with (N << 1) | 1, "
               "qemuctl maps it back; N = 0 is success)" },
        { "1", "qemuctl itself failed (bad VM file, state dir, ...)" },
        { "2", "usage error" },
        { "3", "QEMU refused the command line / failed to start (its error is printed), or would have: "
               "\"accel\": \"kvm\" where KVM runs no guest (qemuctl host)" },
        { "4", "the guest panicked (pvpanic)" },
        { "5", "QEMU crashed (killed by a signal, or exited with an error)" },
        { "6", "the VM was stopped from outside (qemuctl stop/kill, QMP quit), or moved away by qemuctl migrate "
               "(the last line says to where; the far side runs it)" },
        { "N", "with --exec: CMD's own exit status (128 + N: ended by signal N; 125: no agent answered, or the VM ended before CMD did)" },
        { "124", "--timeout expired" },
        { "130", "interrupted (SIGINT or SIGTERM)" },
        {},
};

static const struct cli_exit wait_exits[] = {
        { "0", "the condition came true" },
        { "1", "--timeout passed, or the condition cannot come true any more (the VM ended)" },
        { "2", "usage error" },
        {},
};

static const struct cli_exit exec_exits[] = {
        { "N", "the guest command's own exit status" },
        { "128+N", "the guest command was ended by signal N (as shells report it)" },
        { "2", "usage error" },
        { "124", "--timeout expired: the guest process was killed" },
        { "125", "qemuctl or the guest agent failed (no agent, VM not running, ...)" },
        { "126", "the agent could not start the command (not found, not executable)" },
        { "130", "interrupted (SIGINT or SIGTERM): the guest process was killed" },
        {},
};

static const struct cli_exit validate_exits[] = {
        { "0", "every file is good" },
        { "1", "a file is not" },
        { "2", "usage error" },
        {},
};

const struct verb cli_verbs[] = {
        {
                .name = "help",
                .fn = cmd_help,
                .summary = "this overview, or a verb's --help",
                .description = "Without VERB: every verb with what it does. With VERB: its --help.\n",
                .args = (const struct cli_pos[]){ { "VERB", CLI_ARG_TEXT, CLI_POS_OPTIONAL }, {} },
                .hidden = true,
        },
        {
                .name = "version",
                .fn = cmd_version,
                .summary = "print the version",
                .description = "Print qemuctl's version.\n",
                .hidden = true,
        },
        {
                .name = "validate",
                .fn = cmd_validate,
                .summary = "check VM files; report every problem",
                .description =
                        "Parse and check VM files without running anything. Prints \"FILE: ok\" for a\n"
                        "good file and every problem of a bad one as FILE:LINE:COL: json.path: message.\n"
                        "Disk images are checked as `start` checks them (read, never created): a\n"
                        "missing image without \"create\", a missing CD-ROM ISO, a \"format\" the\n"
                        "image's header contradicts. A missing image with \"create\" is fine.\n"
                        "The CPU is checked against the QEMU binary that would run it (qemu.binary;\n"
                        "its answers cached, see cpu-models): cpu.model and cpu.features names it does\n"
                        "not know (with the nearest), a \"require\"d feature the accelerator the VM\n"
                        "gets here cannot give, a \"forbid\"den one it gives.\n",
                .opts = (const struct cli_opt[]){
                        OPT_JSON("print [{\"file\", \"ok\", \"errors\": [{\"line\", \"col\", \"path\", \"message\"}]}] "
                                 "(with --verbose, \"notes\" too, in the same shape)"),
                        OPT("no-files", 'n', CLI_ARG_NONE, NULL, "check the file alone: do not look at the disk images it names (a sample or "
                          "template whose images are not here), nor ask QEMU about its CPU"),
                        OPT("verbose", 'v', CLI_ARG_NONE, NULL, "also print notes: the images `start` will create, a model's features the "
                          "accelerator lacks, what host-model becomes", .short_name = 'v'),
                        OPT_SET,
                        OPT_NAME,
                        {},
                },
                .args = (const struct cli_pos[]){ { "FILE", CLI_ARG_FILE, CLI_POS_MANY }, {} },
                .notes = "The keys of a VM file: qemuctl-vm(5), docs/vm-file.md.\n",
                .exits = validate_exits,
        },
        {
                .name = "resources",
                .fn = cmd_resources,
                .summary = "print what a VM file asks of a job scheduler (CPUs, memory)",
                .description =
                        "Print the resources the VM that FILE describes needs as a job: its vCPUs\n"
                        "(cpu.vcpus, the ones it boots with) as CPUs, and its memory (memory.size +\n"
                        "memory.plugged) plus QEMU's own overhead (256 MiB + 1/64 of the guest's\n"
                        "memory). With --slurm, the sbatch/srun options alone, for a submit line:\n"
                        "`sbatch $(qemuctl resources --slurm vm.json) job.sh`. Inside a Slurm job\n"
                        "it also prints what the job was given, and fails when the VM does not fit\n"
                        "(as `start` and `run` refuse it there).\n",
                .opts = (const struct cli_opt[]){
                        OPT("slurm", 'S', CLI_ARG_NONE, NULL, "print only the Slurm options: --cpus-per-task=N --mem=NM"),
                        OPT_SET,
                        OPT_JSON("print {\"cpus\", \"guest_memory\", \"overhead\", \"memory\" (bytes), \"slurm\", "
                                 "\"allocation\" (in a Slurm job: \"job_id\", \"cpus\", \"cpus_from\", \"memory\", \"memory_from\")}"),
                        {},
                },
                .args = args_file,
                .notes = "Hotplug beyond the boot size (cpu.max, memory.max) is not counted: ask for it\n"
                         "by hand. docs/clusters.md says how the numbers are checked at start.\n",
        },
        {
                .name = "cmdline",
                .fn = cmd_cmdline,
                .summary = "print the QEMU command line start would run",
                .description =
                        "Print the qemu-system-x86_64 command line that `qemuctl start FILE` would\n"
                        "execute, one argument per line. Nothing is started and no disk is created;\n"
                        "disks that `start` would create are named on stderr. accel \"auto\" is\n"
                        "resolved on this host (a note on stderr when it becomes TCG and the CPU\n"
                        "mode changes with it). Paths are absolute, resolved against the VM file's\n"
                        "real directory, as `start` runs them. Sockets live in the VM's state dir\n"
                        "($QEMUCTL_RUNDIR/NAME, /run/qemuctl/NAME for root,\n"
                        "$XDG_RUNTIME_DIR/qemuctl/NAME otherwise).\n",
                .opts = (const struct cli_opt[]){
                        OPT("shell", 's', CLI_ARG_NONE, NULL, "one line, quoted for a POSIX shell (copy, paste, run): the serial log fd start passes becomes a redirection to serial.log"),
                        OPT_SET,
                        OPT_NAME,
                        {},
                },
                .args = args_file_or_name,
                .notes = FILE_OR_NAME_NOTE,
        },
        {
                .name = "start",
                .fn = cmd_start,
                .summary = "start a VM detached (a file, or a defined VM by name); returns once the guest runs",
                .description =
                        "Start the VM that FILE describes, or the defined VM NAME (qemuctl define),\n"
                        "detached: a supervisor starts QEMU paused, places it, sends `cont`, and returns\n"
                        "once the guest runs (or prints QEMU's own error when it refused). A VM of that\n"
                        "name that is still running is an error; what a VM that ended left behind is\n"
                        "cleared.\n"
                        "\n"
                        "--name and --set start many VMs from one file: each its own name, state dir\n"
                        "and ports; a disk file or a share's path with {name} in it is each one's own\n"
                        "(an overlay per job on one base, a results folder per job).\n"
                        "\n"
                        "With --restore SAVE (a file of `qemuctl save`): the guest goes on from where\n"
                        "it was saved instead of booting. QEMU starts with -incoming defer, the\n"
                        "supervisor hands it SAVE's migration stream as an fd, waits until it is\n"
                        "loaded, then places and resumes it as a boot would. FILE may be left out (the\n"
                        "VM as it was saved); a VM that differs in what QEMU requires to be the same\n"
                        "(machine, CPUs, memory, devices, disks) is refused with every difference.\n"
                        "The disks captured at the save are written back over the VM's disks first,\n"
                        "so one save restores any number of times. The guest goes on running, or\n"
                        "paused if it was paused when saved (virsh restore); --running or --paused\n"
                        "says which. A save of a newer QEMU than this one is refused: QEMU loads the\n"
                        "state of its own and older versions only.\n"
                        "\n"
                        "With --reset-nvram (a UEFI VM, \"firmware\": \"uefi\" or \"uefi-secure\"): the\n"
                        "VM's variable store in its data dir is copied from the firmware's template\n"
                        "again before QEMU starts, as at the first start: boot entries, enrolled keys\n"
                        "and every variable the guest wrote are gone. It is also the way on when the\n"
                        "VM file's firmware changed. Refused for a BIOS VM and with --restore.\n",
                .opts = (const struct cli_opt[]){
                        OPT("restore", 'r', CLI_ARG_FILE, "SAVE", "go on from SAVE (qemuctl save) instead of booting; FILE is optional then"),
                        OPT("paused", 'p', CLI_ARG_NONE, NULL, "leave the guest paused once set up (virsh start --paused); qemuctl resume runs it"),
                        OPT("running", 'R', CLI_ARG_NONE, NULL, "with --restore: run the guest even if it was saved paused"),
                        OPT("reset-nvram", 'N', CLI_ARG_NONE, NULL, "UEFI: copy the VM's variable store from the firmware's template again before QEMU starts (virsh start --reset-nvram); its EFI variables are lost"),
                        OPT_SET, OPT_NAME, OPT_LOCK_TIMEOUT, {} },
                .args = args_file_or_name_opt,
                .notes = FILE_OR_NAME_NOTE,
        },
        {
                .name = "save",
                .fn = cmd_save,
                .summary = "write a running VM's state to a file and end the VM (restore: start --restore)",
                .description =
                        "Write the running VM's state (memory, CPUs, devices) to FILE and end the VM,\n"
                        "as virsh save does; `qemuctl start --restore FILE` goes on from there. The\n"
                        "guest is paused, QEMU writes its migration stream into a file qemuctl opened\n"
                        "(passed over QMP; QEMU's sandbox forbids exec:), the writable disks are\n"
                        "copied into FILE while the guest is paused and its disks flushed, and FILE\n"
                        "is renamed into place whole; only then is QEMU quit. On any failure the VM\n"
                        "goes on as before and FILE is not written. A disk with \"snapshot\": true\n"
                        "cannot be saved (its writes live in QEMU's temporary overlay, which ends\n"
                        "with QEMU). The format: docs/DESIGN.md \"Save files\".\n"
                        "Afterwards the VM is listed as saved, and `qemuctl status NAME` says to\n"
                        "which file and how to restore it (--json: \"saved_to\", the absolute path).\n",
                .opts = opts_lock,
                .args = (const struct cli_pos[]){ POS_NAME, POS_FILE, {} },
                .notes = "Progress goes to stderr when it is a terminal.\n",
        },
        {
                .name = "migrate",
                .fn = cmd_migrate,
                .summary = "move a running VM to another host (SSH) or state dir, live",
                .description =
                        "Move the running VM NAME to DEST while it runs, as `virsh migrate --live\n"
                        "qemu+ssh://` does. DEST is ssh://[USER@]HOST[:PORT][/RUNDIR] (qemuctl on HOST,\n"
                        "reached with ssh, starts the incoming QEMU from the VM's effective VM file,\n"
                        "every live change included, placed in its cgroups there; RUNDIR: its\n"
                        "QEMUCTL_RUNDIR) or a state directory on this host (another QEMUCTL_RUNDIR).\n"
                        "The stream goes over the ssh connection's stdin, through fds passed to both\n"
                        "QEMUs. Storage is shared: the far side refuses a disk it does not have at the\n"
                        "same path with the same size, and a VM whose name is taken there, before\n"
                        "anything here changes. While it runs, a progress line on a terminal (RAM\n"
                        "sent, remaining, dirty rate); Ctrl-C or --timeout cancel it and the VM goes\n"
                        "on here. Once the far side runs the guest, this QEMU quits and its state dir\n"
                        "goes: the far side's supervisor is in charge (a `qemuctl run` of it ends with\n"
                        "exit 6, its last line saying \"migrated to DEST\"). The ssh command is ssh, or\n"
                        "QEMUCTL_SSH (words split at spaces, as RSYNC_RSH), with BatchMode=yes.\n"
                        "--set changes the VM file the far side starts from, in what does not change\n"
                        "the guest: cgroup.parent for a move between two state dirs of one host\n"
                        "(cgroups are per host), placement.\n",
                .opts = (const struct cli_opt[]){
                        OPT("to", 'D', CLI_ARG_TEXT, "DEST", "where to: ssh://[USER@]HOST[:PORT][/RUNDIR], or a state directory on this host"),
                        OPT_TIMEOUT("cancel the migration if it has not completed after S seconds (the VM goes on here)"),
                        OPT("bandwidth", 'b', CLI_ARG_SIZE, "SIZE", "at most SIZE bytes per second, like 100M (default: as fast as it goes)"),
                        OPT("remote-qemuctl", 'Q', CLI_ARG_FILE, "PATH", "qemuctl on the far host (default: qemuctl, from its PATH)"),
                        OPT_SET,
                        OPT_LOCK_TIMEOUT,
                        {},
                },
                .args = args_name,
                .notes = "docs/clusters.md, \"Live migration\".\n",
        },
        {
                .name = "migrate-incoming",
                .fn = cmd_migrate_incoming,
                .summary = "the far side of migrate (reads the VM and its stream on stdin)",
                .description = "What `qemuctl migrate` runs on the far host, over ssh. Not for people.\n",
                .opts = (const struct cli_opt[]){
                        OPT("rundir", 'd', CLI_ARG_FILE, "DIR", "the state dirs' base (QEMUCTL_RUNDIR) here"),
                        OPT_LOCK_TIMEOUT,
                        {},
                },
                .hidden = true,
        },
        {
                .name = "run",
                .fn = cmd_run,
                .summary = "run a VM in the foreground (CI); exit code says how it ended",
                .description =
                        "Run the VM that FILE describes (or the defined VM NAME) in the foreground until\n"
                        "it ends; the serial\n"
                        "console goes to stdout (or to FILE with --serial-log). Other verbs (status,\n"
                        "pause, qmp, ...) work on it meanwhile, by its name; `wait --for serial:` needs\n"
                        "--serial-log.\n"
                        "\n"
                        "With --exec CMD (a CI step in one command; needs \"guest_agent\": true and\n"
                        "qemu-ga in the guest): boot, wait for the agent (at most 5 min), run\n"
                        "`sh -c CMD` in the guest with its stdout and stderr on ours and our stdin\n"
                        "(when not a terminal) as its stdin, power the guest off (guest-shutdown,\n"
                        "then stop's escalation: the power button, quit after --stop-timeout,\n"
                        "SIGKILL), and exit with CMD's status.\n"
                        "The console goes to serial.log in the state dir, or --serial-log.\n",
                .opts = (const struct cli_opt[]){
                        OPT_TIMEOUT("stop the VM after S seconds (ACPI power button, then quit)"),
                        OPT("stop-timeout", 's', CLI_ARG_DURATION, "S", "after the power button, wait this long before quit (default 10)"),
                        OPT("serial-log", 'o', CLI_ARG_FILE, "FILE", "write the serial console to FILE instead of stdout"),
                        OPT("exec", 'x', CLI_ARG_TEXT, "CMD", "once the guest agent answers, run CMD in the guest (sh -c), power off, and exit with CMD's status; the console goes to serial.log in the state dir (or --serial-log)"),
                        OPT("restore", 'r', CLI_ARG_FILE, "SAVE", "go on from SAVE (qemuctl save) instead of booting, as start --restore; FILE is optional then"),
                        OPT("no-stdin", 'n', CLI_ARG_NONE, NULL, "with --exec: do not read stdin; CMD gets an empty one (as ssh -n)", .short_name = 'n'),
                        OPT("rm", 'R', CLI_ARG_NONE, NULL, "remove the VM's state dir once it ended (a batch job, whose output and exit code are the record)"),
                        OPT_SET,
                        OPT_NAME,
                        OPT_LOCK_TIMEOUT,
                        {},
                },
                .args = args_file_or_name_opt,
                .notes = "Ctrl-C or SIGTERM stop the VM the same way (power button, then quit).\n"
                         "QEMU itself ignores SIGTERM, SIGINT and SIGHUP (they stay blocked in it), so a\n"
                         "scheduler that signals every process of a job (Slurm's scancel, systemd's\n"
                         "KillMode=control-group) still gets the clean power-off; QEMU is SIGKILLed if\n"
                         "run itself is. In a Slurm job, a VM that needs more CPUs or memory than the\n"
                         "job was given is refused (qemuctl resources --slurm FILE; docs/clusters.md).\n" FILE_OR_NAME_NOTE,
                .exits = run_exits,
        },
        {
                .name = "stop",
                .fn = cmd_stop,
                .aliases = "shutdown",
                .summary = "guest agent shutdown or ACPI power button, then quit after --timeout",
                .description =
                        "Ask the guest to power off and wait until it has: through the guest agent's\n"
                        "guest-shutdown when the VM has one (\"guest_agent\": true) that answers\n"
                        "within 2 s, else by pressing the VM's ACPI power button. A guest that has not\n"
                        "powered off after --timeout (default 60 s) is quit (`quit` over QMP), and a\n"
                        "QEMU still there 10 s after that is killed (SIGKILL): the steps `run` takes.\n"
                        "A paused VM is resumed first: a paused guest cannot see the power button.\n",
                .opts = (const struct cli_opt[]){
                        OPT_TIMEOUT("how long the guest has to power off before QEMU is quit (default 60)"),
                        OPT_LOCK_TIMEOUT,
                        {},
                },
                .args = args_name,
        },
        {
                .name = "kill",
                .fn = cmd_kill,
                .aliases = "destroy",
                .summary = "stop a VM at once",
                .description = "Stop the VM at once (QMP `quit`; SIGKILL when QEMU does not answer).\n",
                .opts = opts_lock,
                .args = args_name,
        },
        {
                .name = "pause",
                .fn = cmd_pause,
                .aliases = "suspend",
                .summary = "pause the guest's vCPUs",
                .description = "Pause the guest's vCPUs (QMP stop).\n",
                .opts = opts_lock,
                .args = args_name,
        },
        {
                .name = "resume",
                .fn = cmd_resume,
                .summary = "resume a paused guest",
                .description = "Resume a paused guest (QMP cont).\n",
                .opts = opts_lock,
                .args = args_name,
        },
        {
                .name = "reset",
                .fn = cmd_reset,
                .summary = "hard-reset the guest",
                .description = "Hard-reset the guest (QMP system_reset), like pressing the reset button.\n",
                .opts = opts_lock,
                .args = args_name,
        },
        {
                .name = "host",
                .fn = cmd_host,
                .summary = "what this host offers VMs: NUMA, hugepages, KSM, KVM, cgroups",
                .description =
                        "Report what this host offers VMs: NUMA nodes with their CPUs and memory, their\n"
                        "distances (numactl --hardware's table), each node's numastat counters\n"
                        "(numa_hit, numa_miss, numa_foreign, interleave_hit, local_node, other_node)\n"
                        "and AnonHugePages, KSM (merge_across_nodes too), hugepages per size and node,\n"
                        "transparent hugepages (AnonHugePages, khugepaged's settings), automatic NUMA\n"
                        "balancing, KVM (present, creates VMs, runs a guest, nested), the cgroup v2\n"
                        "controllers, and the cgroup qemuctl runs in: whether cgroup.mode \"auto\"\n"
                        "takes it as delegated (a systemd unit with Delegate=yes, a Slurm job), so\n"
                        "that a VM's cgroup is made in there.\n",
                .opts = (const struct cli_opt[]){
                        OPT_JSON("one JSON object (sizes in bytes, pages as counts)"),
                        {},
                },
        },
        {
                .name = "cpu-models",
                .fn = cmd_cpu_models,
                .aliases = "domcapabilities",
                .summary = "the CPU models of a QEMU binary, and which this host can run",
                .description =
                        "List the CPU models of the QEMU binary (query-cpu-definitions) with whether\n"
                        "this host can run each under the accelerator (usable: no feature of the model\n"
                        "is missing), and host-model: what \"cpu.mode\": \"host-model\" becomes here\n"
                        "(under KVM, the named model QEMU's expansion of the host CPU matches, plus\n"
                        "features; under TCG it runs as -cpu max,migratable=on). These are the names\n"
                        "validate and start check cpu.model and cpu.features against. QEMU is asked\n"
                        "once per binary and accelerator (started with -machine none) and its answers\n"
                        "are cached per user ($QEMUCTL_CACHEDIR, /var/cache/qemuctl for root, else\n"
                        "$XDG_CACHE_HOME/qemuctl or ~/.cache/qemuctl) until the binary changes (its\n"
                        "path, size or mtime).\n",
                .opts = (const struct cli_opt[]){
                        OPT_JSON("one object: binary, version, accel, models [{name, usable, "
                                 "unavailable_features, alias_of, static, migration_safe, deprecated}], "
                                 "features {name: usable}, host_model {model, features} or null"),
                        OPT("accel", 'a', CLI_ARG_CHOICE, "ACCEL", "ask about kvm or tcg (default: what a VM with \"accel\": \"auto\" gets here)",
                            .choices = "kvm tcg"),
                        OPT("qemu", 'q', CLI_ARG_FILE, "BINARY", "the QEMU binary (default qemu-system-x86_64, from PATH), as qemu.binary names it"),
                        OPT("verbose", 'v', CLI_ARG_NONE, NULL, "list the features that block each model", .short_name = 'v'),
                        OPT("refresh", 'r', CLI_ARG_NONE, NULL, "ask QEMU again, not the cache (and rewrite it)"),
                        {},
                },
                .notes = "virsh cpu-models x86_64 lists the names; virsh domcapabilities has the usable\n"
                         "flags and host-model.\n",
        },
        {
                .name = "list",
                .fn = cmd_list,
                .summary = "every VM: name, state, pid, vCPUs, memory, uptime",
                .description =
                        "Every VM with a state dir: name, state, QEMU pid, vCPUs, memory, uptime.\n"
                        "VMs that ended stay listed (ended/crashed/failed; saved after qemuctl save,\n"
                        "whose --json state is \"ended\" with \"saved_to\") until started again.\n"
                        "A state dir that lost its spec.json or status.json while no QEMU of it\n"
                        "runs is listed as broken; `qemuctl status NAME` says what to do.\n"
                        "With --all, defined VMs (qemuctl define) that have no state dir are listed\n"
                        "too, as \"shut off\".\n",
                .opts = (const struct cli_opt[]){
                        OPT_JSON("a JSON array, one object per VM (with \"persistent\", \"definition\", \"autostart\")"),
                        OPT("all", 'a', CLI_ARG_NONE, NULL, "defined VMs that are shut off too"),
                        OPT("autostart", 'A', CLI_ARG_NONE, NULL, "only the VMs marked for autostart (with --all: shut off ones too)"),
                        {},
                },
        },
        {
                .name = "status",
                .fn = cmd_status,
                .aliases = "dominfo",
                .summary = "everything known about a VM, how it ended if it did",
                .description =
                        "Everything known about VM NAME: state (and QEMU's own run state), pids,\n"
                        "size, uptime, and how it ended if it ended (after qemuctl save: the file\n"
                        "and how to restore it; --json: \"saved_to\").\n"
                        "Memory is what the guest has now: memory.size plus what setmem plugged\n"
                        "(--json: memory, memory_base, memory_plugged, memory_max in bytes).\n"
                        "Ports: the forwarded ports of a running VM, host port 0's pick included\n"
                        "(--json: ports, as `qemuctl port --json` prints them).\n",
                .opts = (const struct cli_opt[]){ OPT_JSON("one JSON object"), {} },
                .args = args_name,
        },
        {
                .name = "port",
                .fn = cmd_port,
                .summary = "the host address:port a guest port is forwarded from",
                .description =
                        "Print the host side of VM NAME's port forwards (net[].forward of a \"user\"\n"
                        "NIC), as `docker port` does: with GUESTPORT, its host ADDRESS:PORT (one line\n"
                        "per forward of it); without, every forward as GUESTPORT/PROTO -> ADDRESS:PORT.\n"
                        "A forward with host port 0 shows the port the kernel picked at start (QEMU's\n"
                        "`info usernet`, recorded in RUNDIR/ports.json). 0.0.0.0 is every address.\n",
                .synopsis = "[--json] NAME [GUESTPORT[/tcp|/udp]]",
                .opts = (const struct cli_opt[]){ OPT_JSON("[{\"net\", \"rule\", \"proto\", \"host\", \"host_port\", \"guest_port\"}]"), {} },
                .args = (const struct cli_pos[]){ POS_NAME, { "GUESTPORT", CLI_ARG_TEXT, CLI_POS_OPTIONAL }, {} },
                .notes = "ssh -p \"$(qemuctl port vm1 22 | cut -d: -f2)\" user@127.0.0.1\n",
        },
        {
                .name = "dump",
                .fn = cmd_dump,
                .summary = "the effective VM file (live changes included), or the definition",
                .description =
                        "Print the effective VM file of NAME (JSON; live changes such as setvcpus\n"
                        "included). It is valid input for `qemuctl start`. With --config: the\n"
                        "definition (what the next start runs; qemuctl define). A defined VM that\n"
                        "is not running prints its definition anyway, as virsh dumpxml does.\n",
                .opts = (const struct cli_opt[]){
                        OPT("config", 'c', CLI_ARG_NONE, NULL, "the definition, not the running VM"),
                        OPT("inactive", 'c', CLI_ARG_NONE, NULL, "the same (virsh dumpxml's name)"),
                        {},
                },
                .args = args_name,
        },
        {
                .name = "define",
                .fn = cmd_define,
                .summary = "store a VM file as its VM's definition (start NAME, autostart, --config)",
                .description =
                        "Check FILE as validate does and store it as the definition of the VM it\n"
                        "names: CONFDIR/vms/NAME.json, where CONFDIR is $QEMUCTL_CONFDIR, /etc/qemuctl\n"
                        "for root, $XDG_CONFIG_HOME/qemuctl (~/.config/qemuctl) otherwise. Then\n"
                        "`qemuctl start NAME` starts it, `--config` on the live verbs changes it,\n"
                        "`autostart` marks it. A definition of that name is replaced; a running VM\n"
                        "keeps what it runs until its next start.\n"
                        "\n"
                        "Relative paths in FILE (disks, kernel, cloud-init files) are resolved here,\n"
                        "against FILE's directory: the definition holds absolute paths and means what\n"
                        "FILE meant, wherever it is started from. It is stored as `dump` writes a VM\n"
                        "file (comments and layout are not kept), mode 0600, written to a temporary\n"
                        "file, fsync'd and renamed: never half-written.\n",
                .opts = (const struct cli_opt[]){
                        OPT("no-files", 'n', CLI_ARG_NONE, NULL, "do not check the disk images it names (images on storage not there yet), nor its CPU model and features against QEMU"),
                        {},
                },
                .args = args_file,
                .notes = "The store's layout and the rules: docs/host.md.\n",
        },
        {
                .name = "undefine",
                .fn = cmd_undefine,
                .summary = "remove a VM's definition (a running VM keeps running, transient)",
                .description =
                        "Remove the definition of VM NAME and its autostart mark. As with virsh, a\n"
                        "running VM keeps running as a transient VM: it stops being listed once it\n"
                        "stops, and --config is refused for it. The state dir and the disk images are\n"
                        "left alone, and so is the VM's data dir (UEFI variables, TPM state) unless\n"
                        "--nvram or --tpm says otherwise (refused while the VM runs: it uses them).\n",
                .opts = (const struct cli_opt[]){
                        OPT("nvram", 'n', CLI_ARG_NONE, NULL, "also remove the VM's UEFI variable store (virsh undefine --nvram)"),
                        OPT("tpm", 'T', CLI_ARG_NONE, NULL, "also remove the VM's TPM state (virsh undefine --tpm)"),
                        {} },
                .args = args_name,
        },
        {
                .name = "edit",
                .fn = cmd_edit,
                .summary = "edit a VM's definition in $VISUAL/$EDITOR; saved only when valid",
                .description =
                        "Open the definition of VM NAME in $VISUAL (else $EDITOR, else vi) in a\n"
                        "temporary file. When the editor exits, the file is checked as validate\n"
                        "does: if it is valid it replaces the definition (atomically); if not, every\n"
                        "problem is shown and, on a terminal, you are asked whether to edit again\n"
                        "(as virsh edit does). Nothing is saved unless it is valid; an edit that is\n"
                        "not saved stays in its temporary file, which is named. Relative paths you\n"
                        "type are resolved against the current directory. The name cannot change\n"
                        "(define a file with the new name, then undefine the old one). A definition\n"
                        "changed by someone else meanwhile is not overwritten.\n",
                .args = args_name,
        },
        {
                .name = "autostart",
                .fn = cmd_autostart,
                .summary = "mark a defined VM to start at the host's boot (--disable: unmark)",
                .description =
                        "Mark the defined VM NAME for autostart: a symlink\n"
                        "CONFDIR/autostart/NAME.json -> ../vms/NAME.json (libvirt's layout). `qemuctl\n"
                        "start-all` starts every marked VM that does not run (at the host's boot:\n"
                        "qemuctl-guests.service runs it); `qemuctl list --all --autostart` lists them.\n"
                        "With --disable: unmark it (an unmarked VM is fine). undefine unmarks too.\n",
                .opts = (const struct cli_opt[]){
                        OPT("disable", 'd', CLI_ARG_NONE, NULL, "unmark it"),
                        {},
                },
                .args = args_name,
        },
        {
                .name = "start-all",
                .fn = cmd_start_all,
                .summary = "start every autostart VM that does not run, in parallel (at boot)",
                .description =
                        "Start every VM marked with `qemuctl autostart` that does not run, from its\n"
                        "definition, at most --parallel at once: what libvirt-guests does at the\n"
                        "host's boot (qemuctl-guests.service runs it). Each VM is started as `qemuctl\n"
                        "start NAME` in a child of its own; what each says is printed once it is\n"
                        "done, every line as NAME: line, then a summary line.\n",
                .opts = (const struct cli_opt[]){
                        OPT("parallel", 'P', CLI_ARG_NUMBER, "N", "how many start at once (default 4; 1 to 64)"),
                        OPT_LOCK_TIMEOUT,
                        {},
                },
                .exits = (const struct cli_exit[]){
                        { "0", "every marked VM runs (one that ran already is skipped), or none is marked" },
                        { "1", "one or more did not start (named on the last line)" },
                        { "2", "usage error" },
                        {},
                },
        },
        {
                .name = "stop-all",
                .fn = cmd_stop_all,
                .summary = "stop every running VM in parallel: ACPI, quit after --timeout (at shutdown)",
                .description =
                        "Stop every running VM, transient ones too, at most --parallel at once, each\n"
                        "as `qemuctl stop --timeout S NAME` does: the guest agent's shutdown or the\n"
                        "ACPI power button, QMP quit after S, SIGKILL 10 s later. What libvirt-guests\n"
                        "does at the host's shutdown (qemuctl-guests.service runs it). Each VM's\n"
                        "output is printed as NAME: line, then a summary line.\n",
                .opts = (const struct cli_opt[]){
                        OPT_TIMEOUT("how long each guest has to power off before QEMU is quit (default 60)"),
                        OPT("parallel", 'P', CLI_ARG_NUMBER, "N", "how many stop at once (default 16; 1 to 64)"),
                        OPT_LOCK_TIMEOUT,
                        {},
                },
                .exits = (const struct cli_exit[]){
                        { "0", "every running VM stopped, or none ran" },
                        { "1", "one or more did not (named on the last line)" },
                        { "2", "usage error" },
                        {},
                },
        },
        {
                .name = "wait",
                .fn = cmd_wait,
                .summary = "wait for running|paused|shutdown|agent|serial:REGEX",
                .synopsis = "--for running|paused|shutdown|agent|serial:REGEX [--timeout S] NAME",
                .description =
                        "Wait until VM NAME runs, is paused, has ended (shutdown), its guest agent\n"
                        "answers (agent: \"guest_agent\": true, qemu-ga in the guest), or a line of\n"
                        "its serial console (serial.log, followed as it grows and across its rotation\n"
                        "to serial.log.1) matches the extended REGEX.\n",
                .opts = (const struct cli_opt[]){
                        OPT("for", 'f', CLI_ARG_CHOICE, "COND", "what to wait for: running, paused, shutdown, agent, or serial:REGEX", .choices = "running paused shutdown agent serial:"),
                        OPT_TIMEOUT("give up after S (default: never)"),
                        {},
                },
                .args = args_name,
                .exits = wait_exits,
        },
        {
                .name = "exec",
                .fn = cmd_exec,
                .summary = "run a command in the guest through its agent; exit with its status",
                .synopsis = "[--timeout S] [--no-stdin] NAME -- CMD [ARGS...]",
                .description =
                        "Run CMD with ARGS in VM NAME through the QEMU guest agent (\"guest_agent\":\n"
                        "true in the VM file, qemu-ga running in the guest): guest-exec, then\n"
                        "guest-exec-status until it ends. Its stdout and stderr come out on ours,\n"
                        "apart and byte for byte, and its exit status is ours. stdin (when not a\n"
                        "terminal) is read to its end first and handed over with the command (at\n"
                        "most 16 MiB). CMD is looked up in the agent's PATH; no shell is involved\n"
                        "unless you run one (exec NAME -- sh -c '...').\n"
                        "\n"
                        "QEMU 7.2's agent hands a command's output over only once the command has\n"
                        "ended, and keeps at most 16 MiB of each stream: a long command shows its\n"
                        "output at its end, not as it comes.\n",
                .opts = (const struct cli_opt[]){
                        OPT_TIMEOUT("kill the guest command after S (default: never)"),
                        OPT("no-stdin", 'n', CLI_ARG_NONE, NULL, "do not read stdin; the command gets an empty one", .short_name = 'n'),
                        {},
                },
                .args = (const struct cli_pos[]){ POS_NAME, { "CMD", CLI_ARG_TEXT, 0 }, { "ARGS", CLI_ARG_TEXT, CLI_POS_OPTIONAL | CLI_POS_MANY }, {} },
                .notes = "Put -- before CMD when CMD or ARGS start with a dash.\n",
                .exits = exec_exits,
        },
        {
                .name = "cp",
                .fn = cmd_cp,
                .summary = "copy a file into or out of the guest through its agent",
                .synopsis = "NAME:/GUEST/PATH LOCAL | LOCAL NAME:/GUEST/PATH",
                .description =
                        "Copy one file between this host and VM NAME through the QEMU guest agent\n"
                        "(guest-file-open/read/write/close, 1 MiB at a time, byte for byte). LOCAL\n"
                        "may be a directory (the guest file's name is kept) or - for stdout/stdin.\n"
                        "A local path with a colon in it is written ./a:b.\n",
                .args = (const struct cli_pos[]){ { "SRC", CLI_ARG_FILE, 0 }, { "DST", CLI_ARG_FILE, 0 }, {} },
        },
        {
                .name = "console",
                .fn = cmd_console,
                .summary = "attach to the serial console",
                .description =
                        "Attach to VM NAME's serial console (RUNDIR/console.sock). On a terminal,\n"
                        "Ctrl-] detaches. Ends when the VM ends or stdin closes.\n",
                .args = args_name,
        },
        {
                .name = "events",
                .fn = cmd_events,
                .summary = "QMP events as JSON lines, as they happen",
                .description =
                        "Print VM NAME's QMP events as JSON lines as they happen, until the VM ends\n"
                        "(the supervisor's log, RUNDIR/events.log).\n",
                .opts = (const struct cli_opt[]){
                        OPT("all", 'a', CLI_ARG_NONE, NULL, "the past events first"),
                        OPT_JSON("JSON lines (the only format)"),
                        {},
                },
                .args = args_name,
        },
        {
                .name = "qmp",
                .fn = cmd_qmp,
                .aliases = "qemu-monitor-command",
                .summary = "run one QMP command, print events, or open a QMP shell",
                .synopsis = "[--json] [--timeout S] NAME|--socket PATH [COMMAND [ARGS-JSON]]\n"
                            "--hmp [--json] [--timeout S] NAME|--socket PATH ['HMP COMMAND']\n"
                            "--events [--timeout S] NAME|--socket PATH",
                .description =
                        "Run one QMP command on a QEMU's QMP socket and print what it returned, print\n"
                        "the QMP events it sends as JSON lines, or, with no COMMAND, open a QMP shell:\n"
                        "line editing, history, and Tab completion of commands and their argument\n"
                        "names from QEMU's schema (query-qmp-schema). In the shell type\n"
                        "COMMAND KEY=VALUE... (a VALUE that is JSON is taken as JSON, anything else\n"
                        "as a string) or a whole JSON command object; Ctrl-D leaves (`quit` is\n"
                        "QEMU's own: it ends the VM).\n"
                        "NAME: a VM of qemuctl's, through its monitor for people and tools,\n"
                        "RUNDIR/qmp.sock: any number of clients (socat, qmp-shell, scripts) may hold\n"
                        "it at once and qemuctl's own verbs never wait for them; what is done there by\n"
                        "hand (stop, device_del of a vCPU, balloon, quit) shows in status, vcpuinfo\n"
                        "and dump. When the VM's supervisor is gone, the verbs' own monitor, taken in\n"
                        "turn with them. --socket PATH: any QEMU's.\n",
                .opts = (const struct cli_opt[]){
                        OPT("socket", 'S', CLI_ARG_FILE, "PATH", "the QMP unix socket (-qmp unix:PATH,server=on,wait=off)"),
                        OPT_JSON("compact JSON on one line instead of indented JSON"),
                        OPT_TIMEOUT("seconds to wait for the reply (default 10); with --events, how long to listen "
                                    "(default: until QEMU closes the socket)"),
                        OPT("events", 'e', CLI_ARG_NONE, NULL, "print events as JSON lines"),
                        OPT("hmp", 'H', CLI_ARG_NONE, NULL,
                            "the command is a human monitor command line (its words are joined), as the hmp verb "
                            "runs it"),
                        OPT("cmd", 'c', CLI_ARG_TEXT, "COMMAND", "the command (virsh's name for the argument)"),
                        OPT("pretty", 'p', CLI_ARG_NONE, NULL, "indented JSON (the default; virsh's option)"),
                        {},
                },
                .args = (const struct cli_pos[]){
                        POS_NAME,
                        { "COMMAND", CLI_ARG_TEXT, CLI_POS_OPTIONAL },
                        { "ARGS-JSON", CLI_ARG_TEXT, CLI_POS_OPTIONAL },
                        {},
                },
                .notes = "ARGS-JSON is the command's \"arguments\" object, e.g.\n"
                         "  qemuctl qmp vm1 query-status\n"
                         "  qemuctl qmp --socket /tmp/q.sock qom-get '{\"path\": \"/machine\", \"property\": \"type\"}'\n"
                         "  qemuctl qmp vm1            (the shell: qom-get path=/machine property=type)\n"
                         "COMMAND may also be a whole QMP command, as virsh takes it:\n"
                         "  qemuctl qemu-monitor-command vm1 '{\"execute\": \"query-status\"}'\n"
                         "  qemuctl qemu-monitor-command vm1 --hmp --cmd 'info balloon'\n"
                         "An error reply is printed to stderr and the exit status is 1.\n",
        },
        {
                .name = "hmp",
                .fn = cmd_hmp,
                .summary = "run a human monitor command (e.g. 'info balloon'), or open an HMP shell",
                .synopsis = "[--json] [--timeout S] NAME|--socket PATH ['HMP COMMAND']",
                .description =
                        "Run a human monitor command through QMP (human-monitor-command) and print its\n"
                        "text, e.g. qemuctl hmp vm1 'info balloon', or\n"
                        "qemuctl hmp --socket /tmp/q.sock 'info balloon'. With no command: an HMP\n"
                        "shell with line editing, history and Tab completion of HMP's commands (and\n"
                        "info's), from its own help. NAME: through the VM's monitor for people,\n"
                        "RUNDIR/qmp.sock, shared by any number of clients (see qmp).\n",
                .opts = (const struct cli_opt[]){
                        OPT("socket", 'S', CLI_ARG_FILE, "PATH", "the QMP unix socket"),
                        OPT_JSON("print the output as a JSON string"),
                        OPT_TIMEOUT("seconds to wait for the reply (default 10)"),
                        {},
                },
                .args = (const struct cli_pos[]){ POS_NAME, { "'HMP COMMAND'", CLI_ARG_TEXT, CLI_POS_OPTIONAL }, {} },
                .notes = "HMP's own refusals (output starting with \"unknown command:\" or \"Error:\")\n"
                         "go to stderr and the exit status is 1.\n",
        },
        {
                .name = "vcpupin",
                .fn = cmd_vcpupin,
                .summary = "pin a vCPU to host CPUs; show the pinning",
                .description =
                        "Pin vCPU VCPU of the running VM NAME to host CPUs CPULIST (\"0-3,8\"): its\n"
                        "vcpuN/ cgroup's cpuset.cpus when the cpuset controller is usable, and\n"
                        "sched_setaffinity of its thread always. Recorded, so `dump` shows it (the\n"
                        "definition: --config). A vCPU below cpu.max that is not plugged gets the pin\n"
                        "when it is. Without CPULIST: the pinning of every vCPU (or of VCPU): the real\n"
                        "affinity of its thread and the recorded pin.\n",
                .opts = (const struct cli_opt[]){ OPT_JSON("show the pinning as JSON"), OPT_LOCK_TIMEOUT, OPT_AFFECT, {} },
                .args = (const struct cli_pos[]){
                        POS_NAME,
                        { "VCPU", CLI_ARG_NUMBER, CLI_POS_OPTIONAL },
                        { "CPULIST", CLI_ARG_CPULIST, CLI_POS_OPTIONAL },
                        {},
                },
                .notes = AFFECT_NOTE,
        },
        {
                .name = "cpuset",
                .fn = cmd_cpuset,
                .summary = "the whole VM's host CPUs (<vcpu cpuset>); show it",
                .description =
                        "Confine the running VM NAME to host CPUs CPULIST, as libvirt's <vcpu\n"
                        "cpuset='...'> does at start: the default placement of every thread.\n"
                        "What moves: every vCPU without its own vcpupin, and QEMU's other threads\n"
                        "unless emulatorpin pinned them (vcpuN/ and emulator/ cpuset.cpus when the\n"
                        "cpuset controller is usable, sched_setaffinity always). What does not: a\n"
                        "vCPU with its own vcpupin, and the emulator when emulatorpin set it: those\n"
                        "override the set. Recorded (cpu.cpuset), so a vCPU plugged later and the\n"
                        "next start follow it. Without CPULIST: the set, and who follows it.\n",
                .opts = (const struct cli_opt[]){ OPT_JSON("show the set as JSON"), OPT_LOCK_TIMEOUT, OPT_AFFECT, {} },
                .args = (const struct cli_pos[]){ POS_NAME, { "CPULIST", CLI_ARG_CPULIST, CLI_POS_OPTIONAL }, {} },
        },
        {
                .name = "emulatorpin",
                .fn = cmd_emulatorpin,
                .summary = "pin QEMU's non-vCPU threads; show it",
                .description =
                        "Pin QEMU's own threads (every thread that is not a vCPU: the main loop, I/O,\n"
                        "workers) of the running VM NAME to host CPUs CPULIST: the emulator/ cgroup's\n"
                        "cpuset.cpus when the cpuset controller is usable, and sched_setaffinity of\n"
                        "each thread always. Recorded (cpu.emulator_pin). Without CPULIST: the\n"
                        "affinity of QEMU's main thread and the recorded pin.\n"
                        "What moves: QEMU's non-vCPU threads only. What does not: the vCPU threads,\n"
                        "which keep their vcpupin or the VM's cpuset (libvirt's emulatorpin is the\n"
                        "same). To confine the whole VM, vCPUs included: qemuctl cpuset NAME CPULIST.\n",
                .opts = (const struct cli_opt[]){ OPT_JSON("show the pinning as JSON"), OPT_LOCK_TIMEOUT, OPT_AFFECT, {} },
                .args = (const struct cli_pos[]){ POS_NAME, { "CPULIST", CLI_ARG_CPULIST, CLI_POS_OPTIONAL }, {} },
                .notes = AFFECT_NOTE,
        },
        {
                .name = "change-media",
                .fn = cmd_change_media,
                .summary = "put a medium into a CD-ROM drive, or eject it",
                .description =
                        "Change the medium of CD-ROM drive DISK of the running VM NAME to FILE, or\n"
                        "take it out (--eject), as virsh change-media does. DISK is the drive's index\n"
                        "in the VM file's disks (1), its device id (disk1), or the file in it now.\n"
                        "FILE is checked as a VM file's disk is before anything changes: --format\n"
                        "(default auto: what its header says; QEMU never probes), and a header that\n"
                        "names a backing or data file is refused. Then the tray opens (even when the\n"
                        "guest locked it; the guest sees the medium change), the old medium goes out,\n"
                        "FILE goes in read-only through its own -blockdev nodes, and the tray closes.\n"
                        "Recorded (disks[N].file, .format; none after --eject), so `dump` and the next\n"
                        "start keep the new medium. A drive may start empty: a cdrom disk without file.\n",
                .opts = (const struct cli_opt[]){
                        OPT_LOCK_TIMEOUT,
                        OPT("eject", 'e', CLI_ARG_NONE, NULL, "take the medium out; the drive stays, empty"),
                        OPT("insert", 'i', CLI_ARG_NONE, NULL, "put FILE in; refused when the drive holds a medium"),
                        OPT("update", 'u', CLI_ARG_NONE, NULL, "put FILE in, replacing what is there (the default with FILE)"),
                        OPT("force", 'f', CLI_ARG_NONE, NULL, "accepted for virsh: the tray is always opened by force"),
                        OPT("format", 'F', CLI_ARG_CHOICE, "FORMAT", "FILE's format (default auto: its header decides)",
                            .choices = "auto raw qcow2 qed vdi vhdx vpc parallels"),
                        {},
                },
                .args = (const struct cli_pos[]){
                        POS_NAME,
                        { "DISK", CLI_ARG_TEXT, 0 },
                        { "FILE", CLI_ARG_FILE, CLI_POS_OPTIONAL },
                        {},
                },
        },
        {
                .name = "memtune",
                .fn = cmd_memtune,
                .summary = "memory limits (cgroup memory.*); show them",
                .description =
                        "Memory limits of the running VM NAME on its cgroup v2. virsh's options mean\n"
                        "what virsh documents: --soft-limit is a limit under contention (memory.low,\n"
                        "not the memory.high libvirt writes, which throttles at all times: --soft),\n"
                        "--swap-hard-limit is memory + swap (memory.swap.max gets it minus the hard\n"
                        "limit: the one given, else the one in force). qemuctl's own options are the\n"
                        "VM file's memory.limits keys, one cgroup file each. Each change prints the\n"
                        "file and value written. Sizes like 4G or 512M; \"unlimited\" removes a\n"
                        "limit. Recorded (memory.limits), so `dump` shows them (the definition:\n"
                        "--config).\n"
                        "Needs the cgroup v2 memory controller. Without options: the values in force\n"
                        "(read back from the cgroup; the recorded ones where the host has no memory\n"
                        "controller).\n",
                .opts = (const struct cli_opt[]){
                        OPT_JSON("show the limits as JSON"),
                        OPT_LOCK_TIMEOUT,
                        OPT("hard-limit", 'H', CLI_ARG_SIZE, "SIZE", "virsh: memory.max, as --hard"),
                        OPT("soft-limit", 'O', CLI_ARG_SIZE, "SIZE", "virsh: the limit under contention: memory.low, as --low"),
                        OPT("swap-hard-limit", 'S', CLI_ARG_SIZE, "SIZE", "virsh: memory + swap: memory.swap.max = SIZE - the hard limit"),
                        OPT("min-guarantee", 'G', CLI_ARG_SIZE, "SIZE", "virsh: memory.min, as --min"),
                        OPT("hard", 'a' + VM_MEMTUNE_HARD, CLI_ARG_SIZE, "SIZE", "memory.max: QEMU is OOM-killed past it"),
                        OPT("soft", 'a' + VM_MEMTUNE_SOFT, CLI_ARG_SIZE, "SIZE", "memory.high: throttled and reclaimed past it, at all times"),
                        OPT("low", 'a' + VM_MEMTUNE_LOW, CLI_ARG_SIZE, "SIZE", "memory.low: reclaimed down to it under contention only"),
                        OPT("swap", 'a' + VM_MEMTUNE_SWAP, CLI_ARG_SIZE, "SIZE", "memory.swap.max: swap QEMU may use (swap alone)"),
                        OPT("min", 'a' + VM_MEMTUNE_MIN, CLI_ARG_SIZE, "SIZE", "memory.min: never reclaimed below it"),
                        OPT_AFFECT,
                        {},
                },
                .args = args_name,
                .notes = AFFECT_NOTE,
        },
        {
                .name = "numatune",
                .fn = cmd_numatune,
                .summary = "host NUMA binding; show it",
                .description =
                        "Host NUMA binding of the running VM NAME. --nodeset: the nodes must exist;\n"
                        "the VM cgroup's cpuset.mems when the cpuset controller is usable, then QEMU's\n"
                        "memory is moved there (migrate_pages). --mode cannot change while QEMU runs\n"
                        "(QEMU fixes a memory backend's policy when it creates it; libvirt refuses it\n"
                        "live too): it is recorded in the running VM's file (`dump`), and --config\n"
                        "writes it into the definition. Both are recorded (numa.nodeset,\n"
                        "numa.policy). Without options: the recorded binding, QEMU's Mems_allowed_list\n"
                        "and the cgroup's effective mems.\n",
                .opts = (const struct cli_opt[]){
                        OPT_JSON("show the binding as JSON"),
                        OPT_LOCK_TIMEOUT,
                        OPT("nodeset", 'n', CLI_ARG_CPULIST, "LIST", "host NUMA nodes, like 0 or 0-1"),
                        OPT("mode", 'm', CLI_ARG_CHOICE, "MODE", "strict, preferred or interleave (for the next start)", .choices = "strict preferred interleave"),
                        OPT_AFFECT,
                        {},
                },
                .args = args_name,
                .notes = AFFECT_NOTE,
        },
        {
                .name = "numastat",
                .fn = cmd_numastat,
                .summary = "QEMU's memory per host NUMA node (numastat -p; every VM: numastat -c qemu-kvm)",
                .description =
                        "Per-node memory of the VM's QEMU process, like `numastat -p`: from\n"
                        "/proc/PID/numa_maps, in MB per host node: Huge (hugetlbfs), Heap, Stack and\n"
                        "Private (everything else, guest RAM included).\n"
                        "Without NAME (or with --all): every running VM's QEMU, one row each with its\n"
                        "MB per node and a Total row, like `numastat -c qemu-kvm` (no VM's lock is\n"
                        "taken; a VM that ends meanwhile is left out).\n",
                .opts = (const struct cli_opt[]){
                        OPT_JSON("bytes, as JSON"),
                        OPT_LOCK_TIMEOUT,
                        OPT("all", 'a', CLI_ARG_NONE, NULL, "every running VM (the same as giving no NAME)"),
                        {},
                },
                .args = (const struct cli_pos[]){ { "NAME", CLI_ARG_NAME, CLI_POS_OPTIONAL }, {} },
        },
        {
                .name = "setvcpus",
                .fn = cmd_setvcpus,
                .summary = "hotplug/unplug vCPUs one at a time, up to cpu.max",
                .description =
                        "Plug vCPUs into the running VM NAME until N are plugged (at most cpu.max),\n"
                        "or unplug down to N: one vCPU at a time, each confirmed by QEMU before the\n"
                        "next, highest first, never vCPU 0. Each step is recorded at once, so a\n"
                        "failure half-way leaves `dump` telling the truth. A plugged vCPU's thread\n"
                        "goes into its vcpuN/ cgroup and gets its recorded pin.\n"
                        "\n"
                        "Unplugging needs the guest: it must offline the CPU and acknowledge\n"
                        "the ACPI eject (Linux does both).\n"
                        "Plugging needs the guest to online the new CPU: a Linux guest without a\n"
                        "udev rule for it leaves it offline until you run, inside the guest,\n"
                        "  echo 1 > /sys/devices/system/cpu/cpuN/online\n",
                .opts = (const struct cli_opt[]){
                        OPT_TIMEOUT("bound each unplug (default 30 s); with --guest-online, the wait for the "
                                    "guest too (default 60 s)"),
                        OPT("guest-online", 'g', CLI_ARG_FILE, "SOCKET", "then wait until the guest reports N CPUs online, asking \"cpus\" on a serial line "
                          "whose chardev is the unix SOCKET and which answers \"cpus-online N\" (the test "
                          "guest's question channel)"),
                        OPT_LOCK_TIMEOUT,
                        OPT_AFFECT,
                        OPT("maximum", 'M', CLI_ARG_NONE, NULL, "with --config: set cpu.max, the most vCPUs the VM can have from its next start; cpu.vcpus is lowered to it when above"),
                        {},
                },
                .args = (const struct cli_pos[]){ POS_NAME, { "N", CLI_ARG_NUMBER, 0 }, {} },
                .notes = AFFECT_NOTE "QEMU 7.2 under TCG aborts on a CPU or memory hotplug that follows a vCPU\n"
                         "unplug (not under KVM): under TCG, unplug last.\n",
        },
        {
                .name = "vcpuinfo",
                .fn = cmd_vcpuinfo,
                .summary = "per vCPU: thread, host CPU, state, CPU time, affinity",
                .description =
                        "Per plugged vCPU of the running VM NAME, as `virsh vcpuinfo`: the host\n"
                        "thread, the host CPU it last ran on, its state, the CPU time it used\n"
                        "(user + system) and its CPU affinity.\n",
                .opts = (const struct cli_opt[]){ OPT_JSON("JSON, times in nanoseconds"), OPT_LOCK_TIMEOUT, {} },
                .args = args_name,
        },
        {
                .name = "balloon",
                .fn = cmd_balloon,
                .summary = "query the balloon, or set it and wait (1%)",
                .description =
                        "Without SIZE: the balloon's `actual`, the memory the guest has now.\n"
                        "With SIZE (\"256M\"): ask the guest's balloon driver to give memory back\n"
                        "(or take it again) until it has SIZE, and wait until `actual` is within\n"
                        "1% of SIZE or --timeout S (default 60 s) passes; says which. Exit 1 on a\n"
                        "timeout (the driver may still get there: query again). SIZE is at most the\n"
                        "guest's memory (memory.size + what setmem plugged).\n",
                .opts = (const struct cli_opt[]){
                        OPT_JSON("the query as JSON (bytes)"),
                        OPT_TIMEOUT("how long to wait for the balloon (default 60)"),
                        OPT_LOCK_TIMEOUT,
                        OPT_LIVE,
                        OPT_CURRENT,
                        OPT("config", CLI_OPT_VAL_CONFIG, CLI_ARG_NONE, NULL, "refused: a VM file has no balloon size (setmem --config sets the memory of the next start)"),
                        {},
                },
                .args = (const struct cli_pos[]){ POS_NAME, { "SIZE", CLI_ARG_SIZE, CLI_POS_OPTIONAL }, {} },
        },
        {
                .name = "memstat",
                .fn = cmd_memstat,
                .aliases = "dommemstat",
                .summary = "balloon, guest stats, base/plugged memory, RSS, cgroup",
                .description =
                        "Memory of the running VM NAME: the balloon's actual size, the guest's own\n"
                        "statistics from its balloon driver (\"unknown\" when it does not report),\n"
                        "boot and hotplugged memory, QEMU's resident set on the host, and the\n"
                        "cgroup's memory.current where the memory controller is there. Sizes in\n"
                        "bytes (--json) or with units. last_update: when QEMU got the guest's\n"
                        "statistics (local time and age; --json: seconds since the epoch).\n"
                        "\n"
                        "The guest sends statistics only when QEMU polls it. If polling is off\n"
                        "(memory.balloon.stats_interval 0, the default), memstat switches it on\n"
                        "in the running QEMU (every 1 s; cheap for the guest) and waits up to 4 s\n"
                        "for a fresh report, so the numbers are current. The VM file is not\n"
                        "changed: `dump` keeps the stats_interval you wrote, and a restarted VM\n"
                        "starts with polling off again. With polling on, the numbers are at most\n"
                        "one interval old.\n",
                .opts = opts_json_lock,
                .args = args_name,
        },
        {
                .name = "setmem",
                .fn = cmd_setmem,
                .summary = "hotplug memory (DIMM / virtio-mem) up to memory.max",
                .description =
                        "Give the running VM NAME SIZE of memory in all (\"768M\"): boot memory plus\n"
                        "hotplugged memory, at most memory.max. With memory.hotplug \"dimm\" it plugs\n"
                        "one pc-dimm of the difference (a multiple of 128M, one of memory.slots),\n"
                        "or unplugs whole DIMMs (the guest must have onlined them movable); with\n"
                        "\"virtio-mem\" it sets the device's requested-size and waits up to --timeout S\n"
                        "(30 s) for the guest's driver. Recorded as memory.plugged, so `dump` and a\n"
                        "restart keep it. To take memory from a guest without unplugging, use balloon.\n",
                .opts = (const struct cli_opt[]){
                        OPT_TIMEOUT("how long to wait for each step (default 30)"),
                        OPT_LOCK_TIMEOUT,
                        OPT_AFFECT,
                        {},
                },
                .args = (const struct cli_pos[]){ POS_NAME, { "SIZE", CLI_ARG_SIZE, 0 }, {} },
                .notes = AFFECT_NOTE "QEMU 7.2 under TCG aborts on a memory hotplug that follows a vCPU\n"
                         "unplug (not under KVM).\n",
        },
};
const size_t cli_n_verbs = sizeof cli_verbs / sizeof cli_verbs[0];

static bool word_in(const char *words, const char *w)
{
        size_t n = strlen(w);

        for (const char *p = words; p && *p;) {
                size_t len = strcspn(p, " ");

                if (len == n && strncmp(p, w, n) == 0)
                        return true;
                p += len;
                p += strspn(p, " ");
        }
        return false;
}

const struct verb *cli_verb_find(const char *name)
{
        for (size_t i = 0; i < cli_n_verbs; i++)
                if (strcmp(cli_verbs[i].name, name) == 0 || word_in(cli_verbs[i].aliases, name))
                        return &cli_verbs[i];
        return NULL;
}
