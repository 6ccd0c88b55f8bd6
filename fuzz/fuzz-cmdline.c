/* libFuzzer: cmdline_build, a VM file in, QEMU's argv out. The property: no
 * value from the VM file ever becomes an option or a sub-option of its own.
 * The argv must read as QEMU reads it: options we emit on purpose, each with
 * its one argument (a value never stands alone, where QEMU would take it for
 * a disk image); inside a "key=value,..." argument, split as QemuOpts and
 * keyval split it (",," is a literal comma), only keys that cmdline*.c
 * writes, none twice (but those QEMU takes as a list), and -cpu features
 * only NAME=on|off; an argument in JSON form must be a JSON object with
 * only such keys. "qemu.args", the VM file's explicit pass-through, is
 * left out. Each spec is built twice: QEMU opening its files itself, and
 * QEMU given fds (a QEMU of another user). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "launcher/cmdline.h"
#include "launcher/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum kind { FLAG, RAW, OPTS, CPU };

static const struct {
        const char *name;
        enum kind kind;
} options[] = {
        { "-nodefaults", FLAG }, { "-no-user-config", FLAG }, { "-S", FLAG },
        { "-kernel", RAW },      { "-initrd", RAW },          { "-append", RAW },   { "-serial", RAW },
        { "-cpu", CPU },         { "-name", OPTS },           { "-msg", OPTS },     { "-machine", OPTS },
        { "-accel", OPTS },      { "-smp", OPTS },            { "-m", OPTS },       { "-object", OPTS },
        { "-numa", OPTS },       { "-chardev", OPTS },        { "-mon", OPTS },     { "-add-fd", OPTS },
        { "-overcommit", OPTS }, { "-rtc", OPTS },            { "-sandbox", OPTS }, { "-boot", OPTS },
        { "-blockdev", OPTS },   { "-drive", OPTS },          { "-device", OPTS },  { "-netdev", OPTS },
        { "-vnc", OPTS },        { "-display", OPTS },
};

/* every key=... that launcher/cmdline*.c writes */
static const char *const keys[] = {
        "base", "br", "bus", "cache.direct", "cache.no-flush", "cache", "channel", "chardev", "core-id",
        "cores", "debug-threads", "deflate-on-oom", "downscript", "drive", "driver", "elevateprivileges", "fd",
        "file", "filename", "format", "free-page-reporting", "guest-stats-polling-interval", "guest",
        "host-nodes", "hostfwd", "hugetlb", "hugetlbsize", "id", "if", "ifname", "iobase", "iosize", "logfile", "logappend",
        "lun", "mac", "maxcpus", "maxmem", "mem-lock", "mem-merge", "mem-path", "memdev", "memory-backend",
        "merge", "migratable", "mode", "netdev", "node-id", "node-name", "nodeid", "obsolete", "order", "path",
        "policy", "prealloc", "read-only", "requested-size", "resourcecontrol", "s", "script", "scsi-id",
        "server", "set", "signal", "size", "slots", "snapshot", "socket-id", "sockets", "spawn", "thread-id",
        "thread", "threads", "timestamp", "unit", "wait", "write-cache", "cpus", "nodeid", "share", "discard",
        "aio", "detect-zeroes", "locking", "auto-read-only", "password", "to", "dst", "initiator", "target",
        "numa-node-id", "addr", "rx_queue_size", "tx_queue_size", "queues", "vectors", "mq", "bootindex",
        "serial", "discard_granularity", "physical_block_size", "logical_block_size", "dies", "clusters",
        "memory", "kernel-irqchip", "backing", "direct", "no-flush", "file.driver", "name", "smm", "vmport", "hpet", "dump-guest-core", "reserve", "x-use-canonical-path-for-ramblock-id",
};

/* keys QEMU takes as a list when given more than once */
static const char *const list_keys[] = { "hostfwd", "cpus", "host-nodes" };

static bool in(const char *const *v, size_t n, const char *s, size_t len)
{
        for (size_t i = 0; i < n; i++)
                if (strlen(v[i]) == len && strncmp(v[i], s, len) == 0)
                        return true;
        return false;
}

static void fail(char **argv, size_t at, const char *why)
{
        fprintf(stderr, "cmdline property broken at argv[%zu]: %s\n", at, why);
        for (size_t i = 0; argv[i]; i++)
                fprintf(stderr, "  [%zu] %s\n", i, argv[i]);
        abort();
}

/* Split as QemuOpts/keyval do; check each part's key. */
static void check_opts(char **argv, size_t at, enum kind kind)
{
        const char *p = argv[at];
        char seen[64][64];
        size_t n_seen = 0, part = 0;

        for (;;) {
                char buf[4096];
                size_t len = 0;
                const char *eq;

                /* one part, ",," unescaped */
                while (*p && !(p[0] == ',' && p[1] != ',')) {
                        if (p[0] == ',' && p[1] == ',')
                                p++;
                        if (len < sizeof buf - 1)
                                buf[len++] = *p;
                        p++;
                }
                buf[len] = '\0';
                /* the key is what comes before the first '=' of the raw part */
                eq = strchr(buf, '=');
                if (part > 0 || eq) {
                        size_t klen = eq ? (size_t)(eq - buf) : len;

                        if (!eq && part > 0)
                                fail(argv, at, "a part without '=' after the first (a flag from a value?)");
                        if (kind == CPU && part > 0) {
                                if (strcmp(eq + 1, "on") != 0 && strcmp(eq + 1, "off") != 0 &&
                                    !(klen == 10 && strncmp(buf, "migratable", 10) == 0))
                                        fail(argv, at, "a -cpu feature that is not NAME=on|off");
                        } else if (!in(keys, sizeof keys / sizeof keys[0], buf, klen)) {
                                fail(argv, at, "a key cmdline*.c never writes");
                        }
                        if (!in(list_keys, sizeof list_keys / sizeof list_keys[0], buf, klen)) {
                                for (size_t i = 0; i < n_seen; i++)
                                        if (strlen(seen[i]) == klen && strncmp(seen[i], buf, klen) == 0)
                                                fail(argv, at, "a key given twice");
                                if (n_seen < 64 && klen < 64) {
                                        memcpy(seen[n_seen], buf, klen);
                                        seen[n_seen++][klen] = '\0';
                                }
                        }
                }
                part++;
                if (!*p)
                        break;
                p++; /* the separating ',' */
        }
}

/* -blockdev/-object/-device also take JSON ({"driver": ...}): no comma
 * syntax there, json-c escapes every value; its keys must still be ours. */
static void check_json(char **argv, size_t at, json_object *o)
{
        if (!json_object_is_type(o, json_type_object))
                return;
        json_object_object_foreach(o, key, val) {
                if (!in(keys, sizeof keys / sizeof keys[0], key, strlen(key)))
                        fail(argv, at, "a JSON key cmdline*.c never writes");
                check_json(argv, at, val);
        }
}

static void check(char **argv)
{
        size_t i = 1;

        if (!argv[0] || argv[0][0] == '-')
                fail(argv, 0, "no binary");
        while (argv[i]) {
                size_t k;

                for (k = 0; k < sizeof options / sizeof options[0]; k++)
                        if (strcmp(argv[i], options[k].name) == 0)
                                break;
                if (k == sizeof options / sizeof options[0])
                        fail(argv, i, "not an option cmdline*.c writes (a value standing alone?)");
                if (options[k].kind == FLAG) {
                        i++;
                        continue;
                }
                if (!argv[i + 1])
                        fail(argv, i, "an option without its argument");
                if (options[k].kind == OPTS && argv[i + 1][0] == '{') {
                        enum json_tokener_error jerr;
                        json_object *o = json_tokener_parse_verbose(argv[i + 1], &jerr);

                        if (!json_object_is_type(o, json_type_object))
                                fail(argv, i + 1, "an argument that starts like JSON and is no JSON object");
                        check_json(argv, i + 1, o);
                        json_object_put(o);
                } else if (options[k].kind != RAW) {
                        check_opts(argv, i + 1, options[k].kind);
                }
                i += 2;
        }
}

static void build(const struct vm_spec *s, bool fds)
{
        struct cmdline_ctx ctx;
        struct qc_err err;
        char **argv = NULL;

        cmdline_ctx_default(&ctx, s, "/run/qemuctl/fuzz,x=y");
        ctx.accel = s->accel == VM_ACCEL_KVM ? VM_ACCEL_KVM : VM_ACCEL_TCG;
        if (fds) {
                ctx.qmp_fd = 3;
                ctx.events_fd = 4;
                ctx.console_fd = 5;
                ctx.serial_log_fd = 6;
        }
        if (cmdline_build(s, &ctx, &argv, &err) < 0)
                return;
        check(argv);
        for (size_t i = 0; argv[i]; i++)
                free(argv[i]);
        free(argv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct spec_diags d = { 0 };
        struct vm_spec *s = NULL;
        char **args;
        size_t n_args;

        if (spec_parse("/fuzz/vm.json", (const char *)data, size, &s, &d, NULL) < 0) {
                spec_diags_done(&d);
                return 0;
        }
        args = s->qemu.args;
        n_args = s->qemu.n_args;
        s->qemu.args = NULL;
        s->qemu.n_args = 0;
        build(s, false);
        build(s, true);
        s->qemu.args = args;
        s->qemu.n_args = n_args;
        spec_free(s);
        spec_diags_done(&d);
        return 0;
}
