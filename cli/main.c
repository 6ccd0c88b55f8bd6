#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#ifndef QEMUCTL_VERSION
#define QEMUCTL_VERSION "0.1"
#endif

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const struct verb verbs[] = {
        { "help", cmd_help, "", "this overview", NULL },
        { "version", cmd_version, "", "print the version", NULL },
        { "validate", cmd_validate, "[--json] FILE...", "check VM files; report every problem", NULL },
        { "cmdline", cmd_cmdline, "[--shell] FILE", "print the QEMU command line start would run", NULL },
        { "start", cmd_start, "FILE", "start a VM detached; returns once the guest runs", NULL },
        { "run", cmd_run, "[--timeout S] FILE", "run a VM in the foreground (CI); exit code says how it ended", NULL },
        { "stop", cmd_stop, "[--timeout S] NAME", "ACPI power button, then quit after --timeout", NULL },
        { "kill", cmd_kill, "NAME", "stop a VM at once", NULL },
        { "pause", cmd_pause, "NAME", "pause the guest's vCPUs", NULL },
        { "resume", cmd_resume, "NAME", "resume a paused guest", NULL },
        { "reset", cmd_reset, "NAME", "hard-reset the guest", NULL },
        { "host", cmd_host, "[--json]", "what this host offers VMs: NUMA, hugepages, KSM, KVM, cgroups", NULL },
        { "list", cmd_list, "[--json]", "every VM: name, state, pid, vCPUs, memory, uptime", NULL },
        { "status", cmd_status, "[--json] NAME", "everything known about a VM, how it ended if it did", NULL },
        { "dump", cmd_dump, "NAME", "the effective VM file (live changes included)", NULL },
        { "wait", cmd_wait, "--for COND [--timeout S] NAME", "wait for running|paused|shutdown|serial:REGEX", NULL },
        { "console", cmd_console, "NAME", "attach to the serial console", NULL },
        { "events", cmd_events, "[--all] NAME", "QMP events as JSON lines, as they happen", NULL },
        { "qmp", cmd_qmp, "--socket PATH [--json] COMMAND [ARGS-JSON]", "run one QMP command; --events: print events", NULL },
        { "hmp", cmd_hmp, "--socket PATH 'HMP COMMAND'", "run a human monitor command (e.g. 'info balloon')", NULL },
        { "vcpupin", cmd_vcpupin, "[--json] NAME [VCPU [CPULIST]]", "pin a vCPU to host CPUs; show the pinning", NULL },
        { "emulatorpin", cmd_emulatorpin, "[--json] NAME [CPULIST]", "pin QEMU's non-vCPU threads; show it", NULL },
        { "memtune", cmd_memtune, "[--json] NAME [--hard-limit S ...]", "memory limits (cgroup memory.*); show them", NULL },
        { "numatune", cmd_numatune, "[--json] NAME [--nodeset L] [--mode M]", "host NUMA binding; show it", NULL },
        { "numastat", cmd_numastat, "[--json] NAME", "QEMU's memory per host NUMA node (numastat -p)", NULL },
        { "setvcpus", cmd_setvcpus, "[--guest-online SOCK] NAME N", "hotplug/unplug vCPUs one at a time, up to cpu.max", NULL },
        { "vcpuinfo", cmd_vcpuinfo, "[--json] NAME", "per vCPU: thread, host CPU, state, CPU time, affinity", NULL },
        { "balloon", cmd_balloon, "[--json] [--timeout S] NAME [SIZE]", "query the balloon, or set it and wait (1%)", NULL },
        { "memstat", cmd_memstat, "[--json] NAME", "balloon, guest stats, base/plugged memory, RSS, cgroup", NULL },
        { "setmem", cmd_setmem, "[--timeout S] NAME SIZE", "hotplug memory (DIMM / virtio-mem) up to memory.max", NULL },
        { "shutdown", cmd_stop, "", "", "stop" },
        { "dommemstat", cmd_memstat, "", "", "memstat" },
        { "dominfo", cmd_status, "", "", "status" },
        { "qemu-monitor-command", cmd_qmp, "", "", "qmp" },
        { "destroy", cmd_kill, "", "", "kill" },
        { "suspend", cmd_pause, "", "", "pause" },
};

int cli_fail(const char *verb, const struct qc_err *err)
{
        fprintf(stderr, "qemuctl: %s: %s\n", verb, err->msg[0] ? err->msg : "failed");
        return CLI_EXIT_FAIL;
}

__attribute__((format(printf, 2, 0))) static void vmsg(const char *verb, const char *fmt, va_list ap)
{
        fprintf(stderr, "qemuctl: %s: ", verb);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
}

int cli_failf(const char *verb, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vmsg(verb, fmt, ap);
        va_end(ap);
        return CLI_EXIT_FAIL;
}

int cli_usage(const char *verb, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vmsg(verb, fmt, ap);
        va_end(ap);
        fprintf(stderr, "Try 'qemuctl %s --help'.\n", verb);
        return CLI_EXIT_USAGE;
}

static int cmd_version(int argc, char **argv)
{
        printf("qemuctl %s\n", QEMUCTL_VERSION);
        return 0;
}

static int cmd_help(int argc, char **argv)
{
        printf("Usage: qemuctl VERB [OPTIONS] [ARGS]\n\n"
               "Run and control QEMU virtual machines directly: no daemon, no libvirt.\n"
               "Each verb takes --help.\n\nVerbs:\n");
        for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
                const struct verb *v = &verbs[i];
                char head[64];

                if (v->alias_of)
                        continue;
                snprintf(head, sizeof head, "%s %s", v->name, v->args);
                printf("  %-34s %s\n", head, v->summary);
        }
        printf("\nvirsh names that work too:");
        for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
                if (verbs[i].alias_of)
                        printf(" %s (%s)", verbs[i].name, verbs[i].alias_of);
        printf("\n");
        return 0;
}

int main(int argc, char **argv)
{
        if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
                return cmd_help(argc, argv) == 0 && argc >= 2 ? 0 : (argc < 2 ? CLI_EXIT_USAGE : 0);
        if (strcmp(argv[1], "--version") == 0)
                return cmd_version(argc, argv);
        for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
                if (strcmp(argv[1], verbs[i].name) == 0)
                        return verbs[i].fn(argc - 1, argv + 1);
        fprintf(stderr, "qemuctl: unknown verb '%s'. Try 'qemuctl help'.\n", argv[1]);
        return CLI_EXIT_USAGE;
}
