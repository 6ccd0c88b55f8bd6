/* launcher/spec*: the VM file parser. Every tests/data/bad/NAME.json must give
 * exactly the diagnostics in NAME.err; the good files land field by field
 * and defaults hold. (Round trips of every key: test-spec-keys.c.) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/io.h"
#include "common/strv.h"
#include "launcher/spec-internal.h"
#include "launcher/spec-keys.h"
#include "launcher/spec.h"
#include "tests/tap.h"

#define GB (UINT64_C(1) << 30)
#define MB (UINT64_C(1) << 20)

static char *srcdir;

static struct vm_spec *load_ok(const char *path)
{
        struct spec_diags d = { 0 };
        struct vm_spec *s = NULL;
        struct qc_err err = { 0 };
        int r = spec_load(path, &s, &d, &err);

        if (!ok(r == 0, "%s parses", path)) {
                tap_diag("r=%d err=%s", r, err.msg);
                for (size_t i = 0; i < d.n; i++) {
                        _cleanup_free_ char *line = spec_diag_format(path, &d.v[i]);
                        tap_diag("%s", line);
                }
        }
        ok(d.n == 0, "%s: no diagnostics", path);
        spec_diags_done(&d);
        return s;
}

static struct vm_spec *parse_str(const char *path, const char *text, struct spec_diags *d)
{
        struct vm_spec *s = NULL;
        struct qc_err err = { 0 };

        spec_diags_done(d);
        if (spec_parse(path, text, strlen(text), &s, d, &err) < 0)
                return NULL;
        return s;
}

/* All diagnostics as "FILE:L:C: path: msg\n" lines. */
static char *format_all(const char *file, const struct spec_diags *d)
{
        _cleanup_free_ char *out = strdup("");

        for (size_t i = 0; out && i < d->n; i++) {
                _cleanup_free_ char *line = spec_diag_format(file, &d->v[i]);
                char *n = NULL;
                if (!line || asprintf(&n, "%s%s\n", out, line) < 0)
                        return NULL;
                free(out);
                out = n;
        }
        return TAKE_PTR(out);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_bad_files(void)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_strv_ strv names = { 0 };
        DIR *dp;
        struct dirent *de;
        int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        size_t n_json = 0, n_err = 0;

        if (asprintf(&dir, "%s/tests/data/bad", srcdir) < 0)
                abort();
        dp = opendir(dir);
        if (!ok(dp != NULL, "open %s", dir))
                return;
        while ((de = readdir(dp)))
                if (de->d_name[0] != '.')
                        strv_push(&names, de->d_name);
        closedir(dp);
        qsort(names.v, names.n, sizeof *names.v, cmp_str);
        /* messages name the file as given: run there so they read "NAME.json:..." */
        if (chdir(dir) < 0)
                abort();
        for (size_t i = 0; i < names.n; i++) {
                const char *name = names.v[i];
                size_t len = strlen(name);
                _cleanup_free_ char *errfile = NULL, *want = NULL, *got = NULL;
                struct spec_diags d = { 0 };
                struct vm_spec *s = NULL;
                struct qc_err err = { 0 };
                int r;

                if (len > 4 && strcmp(name + len - 4, ".err") == 0) {
                        _cleanup_free_ char *json = strndup(name, len - 4);
                        struct stat st;
                        n_err++;
                        if (asprintf(&errfile, "%s.json", json) >= 0 && stat(errfile, &st) < 0)
                                ok(0, "%s has its NAME.json", name);
                        continue;
                }
                if (len <= 5 || strcmp(name + len - 5, ".json") != 0) {
                        ok(0, "unexpected file %s in tests/data/bad", name);
                        continue;
                }
                n_json++;
                if (asprintf(&errfile, "%.*s.err", (int)(len - 5), name) < 0)
                        abort();
                if (!ok(read_file(errfile, 0, &want, NULL) == 0, "%s has %s", name, errfile))
                        continue;
                r = spec_load(name, &s, &d, &err);
                ok(r == -1 && err.code == EINVAL && d.n > 0 && s == NULL, "%s is refused", name);
                ok(d.n > 0, "%s: at least one diagnostic", name);
                for (size_t j = 0; j < d.n; j++)
                        ok(d.v[j].line > 0 && d.v[j].col > 0, "%s: diagnostic %zu has a place", name, j);
                got = format_all(name, &d);
                is_str(got, want, "%s: exact diagnostics", name);
                spec_free(s);
                spec_diags_done(&d);
        }
        ok(n_json >= 25, "at least 25 bad files (%zu)", n_json);
        is_int(n_err, n_json, "one .err per bad file");
        if (fchdir(cwd) < 0)
                abort();
        close(cwd);
}

static void test_full(void)
{
        _cleanup_free_ char *path = NULL;
        struct vm_spec *s;
        char buf[256];

        if (asprintf(&path, "%s/tests/data/good/full.json", srcdir) < 0)
                abort();
        s = load_ok(path);
        if (!s)
                return;
        is_str(s->path, path, "path kept");
        is_str(s->name, "ct7", "name");
        is_int(s->machine, VM_MACHINE_PC, "machine");
        is_int(s->accel, VM_ACCEL_KVM, "accel");
        is_int(s->cpu.mode, VM_CPU_CUSTOM, "cpu.mode");
        is_str(s->cpu.model, "Haswell", "cpu.model");
        is_int(s->cpu.n_features, 2, "two features");
        is_str(s->cpu.features[0].name, "vmx", "feature 0 name");
        is_int(s->cpu.features[0].policy, VM_FEATURE_REQUIRE, "feature 0 policy");
        is_str(s->cpu.features[1].name, "hle", "feature 1 name");
        is_int(s->cpu.features[1].policy, VM_FEATURE_DISABLE, "feature 1 policy");
        is_int(s->cpu.vcpus, 4, "vcpus");
        is_int(s->cpu.max, 10, "max");
        ok(s->cpu.topology_given, "topology given");
        is_int(s->cpu.sockets, 1, "sockets");
        is_int(s->cpu.cores, 5, "cores");
        is_int(s->cpu.threads, 2, "threads");
        is_int(s->cpu.n_pins, 3, "three pins");
        is_int(s->cpu.pins[0].vcpu, 0, "pin 0 vcpu");
        cpuset_format(&s->cpu.pins[0].cpus, buf, sizeof buf);
        is_str(buf, "28", "pin 0 cpus");
        is_int(s->cpu.pins[1].vcpu, 1, "pin 1 vcpu");
        cpuset_format(&s->cpu.pins[1].cpus, buf, sizeof buf);
        is_str(buf, "29-30", "pin 1 cpus");
        is_int(s->cpu.pins[2].vcpu, 9, "pin 2 vcpu");
        cpuset_format(&s->cpu.pins[2].cpus, buf, sizeof buf);
        is_str(buf, "0-1,3", "pin 2 cpus with exclusion");
        ok(s->cpu.has_emulator_pin, "emulator pin");
        cpuset_format(&s->cpu.emulator_pin, buf, sizeof buf);
        is_str(buf, "26-31", "emulator pin cpus");
        is_int(s->cpu.weight, 100, "weight");
        is_int(s->cpu.max_percent, 200, "max_percent");

        is_int(s->memory.size, 4 * GB, "memory.size");
        is_int(s->memory.max, 16 * GB, "memory.max");
        is_int(s->memory.slots, 4, "slots");
        is_int(s->memory.plugged, GB, "plugged");
        is_int(s->memory.hotplug, VM_MEM_HOTPLUG_DIMM, "hotplug");
        is_int(s->memory.hugepages, 2 * MB, "hugepages");
        ok(s->memory.hugepages_path == NULL, "hugepages from memfd");
        ok(s->memory.locked, "locked");
        ok(!s->memory.merge, "merge off");
        ok(s->memory.balloon, "balloon on");
        ok(s->memory.balloon_deflate_on_oom, "deflate_on_oom");
        ok(s->memory.balloon_free_page_reporting, "free_page_reporting");
        is_int(s->memory.balloon_stats_interval, 2, "stats_interval");
        is_int(s->memory.hard_limit, 9 * GB, "hard");
        is_int(s->memory.soft_limit, 7 * GB, "soft");
        ok(s->memory.swap_limit_set && s->memory.swap_limit == 0, "swap 0 = no swap, and set");
        is_int(s->memory.min_guarantee, 4 * GB, "min");

        is_int(s->numa.policy, VM_NUMA_INTERLEAVE, "numa policy");
        ok(s->numa.has_nodeset, "nodeset");
        cpuset_format(&s->numa.nodeset, buf, sizeof buf);
        is_str(buf, "0,2-3", "nodeset value");
        is_int(s->numa.n_cells, 2, "two cells");
        cpuset_format(&s->numa.cells[1].cpus, buf, sizeof buf);
        is_str(buf, "5-9", "cell 1 cpus");
        is_int(s->numa.cells[1].memory, 2 * GB, "cell 1 memory");

        is_int(s->n_disks, 3, "three disks");
        ok(s->n_disks == 3, "disk details follow");
        if (s->n_disks == 3) {
                _cleanup_free_ char *want = NULL;
                if (asprintf(&want, "%s/tests/data/good/c7.qcow2", srcdir) < 0)
                        abort();
                is_str(s->disks[0].file, want, "relative disk resolved against the VM file's dir");
                is_int(s->disks[0].format, VM_DISK_FORMAT_QCOW2, "disk 0 format");
                is_int(s->disks[0].create, 20 * GB, "disk 0 create");
                is_int(s->disks[0].bus, VM_DISK_BUS_SCSI, "disk 0 bus");
                is_int(s->disks[0].cache, VM_DISK_CACHE_NONE, "disk 0 cache");
                is_int(s->disks[0].media, VM_DISK_MEDIA_DISK, "disk 0 media");
                ok(!s->disks[0].readonly, "disk 0 writable");
                ok(s->disks[0].snapshot, "disk 0 snapshot");
                is_int(s->disks[0].file_line, 27, "disk 0: where \"file\" is, for spec_check_disks");
                is_int(s->disks[0].file_col, 24, "disk 0: file column");
                ok(s->disks[0].format_line == 27 && s->disks[0].format_col > s->disks[0].file_col,
                   "disk 0: where \"format\" is");
                ok(s->disks[1].format_line == 0 && s->disks[1].file_line == 29, "disk 1: no format, so no place");
                is_str(s->disks[1].file, "/srv/iso/CentOS-7.iso", "absolute path kept");
                is_int(s->disks[1].media, VM_DISK_MEDIA_CDROM, "disk 1 cdrom");
                ok(s->disks[1].readonly, "cdrom is read-only");
                is_int(s->disks[1].bus, VM_DISK_BUS_IDE, "cdrom on pc defaults to ide");
                is_int(s->disks[1].format, VM_DISK_FORMAT_AUTO, "format auto until resolved");
                is_int(s->disks[1].cache, VM_DISK_CACHE_DEFAULT, "cache default");
                is_int(s->disks[2].format, VM_DISK_FORMAT_RAW, "disk 2 raw");
                ok(s->disks[2].readonly, "disk 2 readonly");
                is_int(s->disks[2].bus, VM_DISK_BUS_SATA, "disk 2 sata");
                is_int(s->disks[2].cache, VM_DISK_CACHE_UNSAFE, "disk 2 unsafe");
        }
        is_int(s->n_nets, 3, "three nets");
        if (s->n_nets == 3) {
                is_int(s->nets[0].type, VM_NET_BRIDGE, "net 0 bridge");
                is_str(s->nets[0].bridge, "br0", "bridge name");
                is_int(s->nets[0].model, VM_NET_MODEL_E1000E, "net 0 model");
                is_str(s->nets[0].mac, "52:54:00:12:34:56", "mac");
                ok(s->nets[0].ifname == NULL, "no ifname for a bridge");
                is_int(s->nets[1].type, VM_NET_USER, "net 1 user");
                is_int(s->nets[1].model, VM_NET_MODEL_VIRTIO, "model defaults to virtio");
                is_int(s->nets[1].n_forward, 2, "two forwards");
                is_str(s->nets[1].forward[1], "udp:127.0.0.1:5353:53", "forward with host address");
                ok(s->nets[1].forward[2] == NULL, "forward NULL-terminated");
                is_int(s->nets[2].type, VM_NET_TAP, "net 2 tap");
                is_str(s->nets[2].ifname, "tap3", "tap ifname");
        }
        ok(s->boot.kernel && strstr(s->boot.kernel, "/tests/data/good/vmlinuz"), "kernel resolved");
        ok(s->boot.initrd && strstr(s->boot.initrd, "/tests/data/good/initrd.img"), "initrd resolved");
        is_str(s->boot.cmdline, "console=ttyS0 quiet", "cmdline as is");
        is_str(s->boot.order, "cdn", "boot order");
        is_str(s->vnc, "127.0.0.1:20", "vnc");
        is_int(s->n_inputs, 2, "two inputs");
        is_int(s->inputs[1], VM_INPUT_USB_KBD, "input 1");
        is_int(s->serial, VM_SERIAL_NONE, "serial none");
        ok(!s->panic, "panic off");
        ok(s->debug_exit, "debug_exit on");
        is_str(s->cgroup.parent, "machine.slice/ci", "cgroup parent");
        is_int(s->cgroup.pids_max, 1024, "pids_max");
        is_str(s->security.user, "qemu", "user");
        is_str(s->security.group, "kvm", "group");
        ok(!s->security.sandbox, "sandbox off");
        is_str(s->qemu.binary, "/opt/qemu/bin/qemu-system-x86_64", "binary");
        is_int(s->qemu.n_args, 2, "two args");
        is_str(s->qemu.args[1], "virtio-rng-pci", "arg 1");
        ok(s->qemu.args[2] == NULL, "args NULL-terminated");
        spec_free(s);
}

static void test_defaults(void)
{
        struct spec_diags d = { 0 };
        struct vm_spec *s = parse_str("vm.json", "{ \"name\": \"vm1\" }", &d);

        if (!ok(s != NULL, "minimal file parses"))
                return;
        is_int(s->machine, VM_MACHINE_Q35, "default machine q35");
        is_int(s->accel, VM_ACCEL_AUTO, "default accel auto");
        is_int(s->cpu.mode, VM_CPU_CUSTOM, "default mode custom");
        is_str(s->cpu.model, "max", "default model max");
        is_int(s->cpu.vcpus, 1, "default vcpus 1");
        is_int(s->cpu.max, 1, "default max = vcpus");
        ok(!s->cpu.topology_given, "topology not given");
        ok(s->cpu.sockets == 1 && s->cpu.cores == 1 && s->cpu.threads == 1, "topology 1/1/1");
        is_int(s->memory.size, GB, "default memory 1G");
        ok(s->memory.merge, "merge on");
        ok(s->memory.balloon, "balloon on");
        ok(!s->memory.locked && !s->memory.hugepages, "no locking, normal pages");
        is_int(s->memory.hotplug, VM_MEM_HOTPLUG_DIMM, "hotplug dimm");
        is_int(s->numa.policy, VM_NUMA_STRICT, "numa policy strict");
        is_int(s->serial, VM_SERIAL_LOG, "serial log");
        ok(s->panic, "panic on");
        ok(!s->debug_exit, "debug_exit off");
        ok(s->security.sandbox, "sandbox on");
        is_str(s->cgroup.parent, "qemuctl", "cgroup parent");
        is_str(s->qemu.binary, "qemu-system-x86_64", "qemu binary");
        ok(s->vnc == NULL && s->n_disks == 0 && s->n_nets == 0 && s->n_inputs == 0, "no devices");
        spec_free(s);

        s = parse_str("vm.json", "{\"name\":\"t\",\"cpu\":{\"vcpus\":2,\"max\":6}}", &d);
        ok(s && s->cpu.sockets == 6 && s->cpu.cores == 1 && s->cpu.threads == 1, "topology derived: sockets = max");
        spec_free(s);
        s = parse_str("vm.json", "{\"name\":\"t\",\"cpu\":{\"vcpus\":4,\"topology\":{\"cores\":2,\"threads\":2}}}", &d);
        ok(s && s->cpu.sockets == 1 && s->cpu.cores == 2 && s->cpu.threads == 2, "missing topology fields are 1");
        spec_free(s);
        s = parse_str("vm.json", "{\"name\":\"t\",\"disks\":[{\"file\":\"x.iso\",\"media\":\"cdrom\"}]}", &d);
        ok(s && s->disks[0].bus == VM_DISK_BUS_SATA && s->disks[0].readonly, "cdrom on q35: sata, read-only");
        spec_free(s);
        spec_diags_done(&d);
}

static void test_hotplug_file(void)
{
        _cleanup_free_ char *p = NULL;
        struct vm_spec *s;

        if (asprintf(&p, "%s/tests/data/good/hotplug.json", srcdir) < 0)
                abort();
        s = load_ok(p);
        if (!s)
                return;
        is_int(s->memory.size, 2 * GB, "size from the NUMA cells");
        is_int(s->memory.hotplug, VM_MEM_HOTPLUG_VIRTIO_MEM, "virtio-mem");
        is_int(s->memory.hugepages, GB, "1G pages");
        is_str(s->memory.hugepages_path, "/dev/hugepages1G", "hugetlbfs path");
        ok(!s->memory.balloon, "balloon off");
        ok(s->vnc == NULL, "display none");
        is_int(s->cpu.sockets, 4, "sockets = max");
        spec_free(s);
}

static void expect_one(const char *text, const char *want, const char *what)
{
        struct spec_diags d = { 0 };
        struct vm_spec *s = parse_str("t.json", text, &d);
        _cleanup_free_ char *got = format_all("t.json", &d);

        ok(s == NULL, "%s: refused", what);
        is_str(got, want, "%s: diagnostic", what);
        spec_free(s);
        spec_diags_done(&d);
}

static void test_json_reader(void)
{
        struct spec_diags d = { 0 };
        struct vm_spec *s;

        s = parse_str("t.json", "\xef\xbb\xbf// bom, then comments\n{ /* c */ \"name\" /* c */ : \"caf\\u00e9\\ud83d\\ude00\" }",
                      &d);
        ok(s == NULL, "non-ASCII name refused");
        ok(d.n == 1 && d.v[0].line == 2 && d.v[0].col == 28, "after a BOM and comments, the value's column is right");
        ok(d.n == 1 && strstr(d.v[0].msg, "\\xc3\\xa9\\xf0\\x9f\\x98\\x80"), "\\u escapes and surrogates decode to UTF-8");
        s = parse_str("t.json", "{\"name\":\"a\",\"qemu\":{\"args\":[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]}}", &d);
        ok(s && strcmp(s->qemu.args[0], "\"\\/\b\f\n\r\t") == 0, "escapes decode");
        spec_free(s);
        s = parse_str("t.json", "{\"name\":\"a\",\"cpu\":{\"vcpus\":2e0}}", &d);
        ok(!s && d.n == 1 && strstr(d.v[0].msg, "whole number"), "2e0 is not a whole number");
        expect_one("{\"name\": \"a\\u0000b\"}", "t.json:1:12: \\u0000 is not allowed in a VM file string\n", "NUL escape");
        expect_one("{\"name\": \"\\ud83d\"}", "t.json:1:11: high surrogate \\ud83d without its low half\n", "lone surrogate");
        expect_one("{\"name\": \"a\\q\"}", "t.json:1:12: invalid escape '\\q' in a string\n", "bad escape");
        expect_one("{\"name\": \".hidden\"}",
                   "t.json:1:10: name: \".hidden\" starts with \".\", which would hide the VM from `qemuctl list`; "
                   "start it with a letter, digit or \"_\"\n",
                   "a name starting with .");
        expect_one("{\"name\": \"-vm\"}",
                   "t.json:1:10: name: \"-vm\" starts with \"-\", which would make it an option on the command line; "
                   "start it with a letter, digit or \"_\"\n",
                   "a name starting with -");
        expect_one("{\"name\": 01}", "t.json:1:10: invalid number: JSON numbers have no leading zeros\n", "leading zero");
        expect_one("{\"name\": tru}", "t.json:1:10: expected a value (a string, number, object, array, true, false or null), got 't'\n",
                   "bad literal");
        expect_one("{\"name\": \"a\"", "t.json:1:13: expected ',' or '}' after a value\n", "unclosed object");
        expect_one("{name: 1}", "t.json:1:2: expected a key in double quotes, got 'n'\n", "bare key");
        expect_one("{\"name\" 1}", "t.json:1:9: expected ':' after the key \"name\", got '1'\n", "missing colon");
        expect_one("{\"name\": \"x\", \"cpu\": null}", "t.json:1:22: cpu: expected an object, got null\n", "null section");
        expect_one("{\"name\":\"x\",\"cpu\":{\"pin\":{\"0\":\"1\",\"0\":\"2\"}}}",
                   "t.json:1:35: cpu.pin.0: duplicate key (first given at line 1); keep one\n", "duplicate pin");
        /* the known keys are the table's (a key added there is listed here) */
        expect_one("{\"name\":\"x\",\"cgroup\":{\"zzzzzz\":1}}",
                   "t.json:1:23: cgroup.zzzzzz: unknown key; known keys here: \"mode\", \"parent\", \"pids_max\"\n",
                   "unknown key far from any: list them");
        {
                _cleanup_free_ char *want = strdup("t.json:1:13: zzzzzz: unknown key; known keys here: ");
                for (size_t i = 0; want && i < spec_keys_n; i++) {
                        char *w = NULL;
                        if (!spec_key_is_child(&spec_keys[i], "") || spec_keys[i].path[0] == '$')
                                continue;
                        if (asprintf(&w, "%s%s\"%s\"", want, strchr(want, '"') ? ", " : "", spec_keys[i].path) < 0)
                                abort();
                        free(want);
                        want = w;
                }
                _cleanup_free_ char *line = NULL;
                if (!want || asprintf(&line, "%s\n", want) < 0)
                        abort();
                expect_one("{\"name\":\"x\",\"zzzzzz\":1}", line, "the top level lists its keys, not \"$schema\"");
        }
        expect_one("{\"name\":\"x\",\"memory\":{\"size\":\"16384P\"}}",
                   "t.json:1:30: memory.size: \"16384P\" is too large; the largest size is \"16383P\"\n", "size overflow by one");
        expect_one("{\"name\":\"x\",\"cpu\":{\"max\":4097}}",
                   "t.json:1:26: cpu.max: 4097 is out of range; expected a whole number from 1 to 4096\n", "max bound");
        expect_one("{\"name\":\"x\",\"cpu\":{\"vcpus\":99999999999999999999999}}",
                   "t.json:1:28: cpu.vcpus: 99999999999999999999999 is out of range; expected a whole number from 1 to 4096\n",
                   "u64 overflow");
        expect_one("{\"name\":\"x\",\"memory\":{\"size\":\"1000B\"}}",
                   "t.json:1:30: memory.size: 1000B is not a whole number of MiB; QEMU rounds guest RAM, so write it in M or G\n",
                   "odd size");
        spec_diags_done(&d);
}

static void test_limits(void)
{
        struct spec_diags d = { 0 };
        struct vm_spec *s = NULL;
        struct qc_err err = { 0 };
        size_t big = SPEC_FILE_MAX + 1;
        _cleanup_free_ char *text = malloc(big);
        char deep[2 * SPEC_DEPTH_MAX + 64];
        int r;

        memset(text, ' ', big);
        r = spec_parse("big.json", text, big, &s, &d, &err);
        ok(r == -1 && d.n == 1 && strstr(d.v[0].msg, "at most"), "file size bounded");
        snprintf(deep, sizeof deep, "{\"name\":\"x\",\"qemu\":{\"args\":%.*s%.*s}}", SPEC_DEPTH_MAX - 2,
                 "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", SPEC_DEPTH_MAX - 2,
                 "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
        r = spec_parse("deep.json", deep, strlen(deep), &s, &d, &err);
        ok(r == -1 && d.n >= 1 && !strstr(d.v[0].msg, "nested"), "depth just under the bound parses (as JSON)");
        r = spec_load("/nonexistent/vm.json", &s, &d, &err);
        is_int(r, -1, "missing file fails");
        is_int(err.code, ENOENT, "with err->code ENOENT");
        ok(strstr(err.msg, "/nonexistent/vm.json") != NULL, "error names the file");
        spec_diags_done(&d);
}

static void test_helpers(void)
{
        char name[VM_NAME_MAX + 2];
        struct spec_diag dg = { .line = 0, .col = 0, .path = NULL, .msg = (char *)"m" };
        _cleanup_free_ char *f = spec_diag_format("vm.json", &dg);

        ok(vm_name_is_valid("vm1") && vm_name_is_valid("a.b_c-D9") && vm_name_is_valid("_x") &&
                   vm_name_is_valid("9-.") && vm_name_is_valid("a..b"),
           "good names");
        /* a leading "." hides the VM from list; a leading "-" is an option */
        ok(!vm_name_is_valid("...") && !vm_name_is_valid(".hidden") && !vm_name_is_valid("-x") &&
                   !vm_name_is_valid("--help") && !vm_name_is_valid("-"),
           "names starting with . or - are refused");
        ok(!vm_name_is_valid("") && !vm_name_is_valid(".") && !vm_name_is_valid("..") && !vm_name_is_valid("a/b") &&
                   !vm_name_is_valid("a b") && !vm_name_is_valid(NULL) && !vm_name_is_valid("\xc3\xa9"),
           "bad names");
        memset(name, 'x', sizeof name);
        name[VM_NAME_MAX] = '\0';
        ok(vm_name_is_valid(name), "64 characters is fine");
        name[VM_NAME_MAX] = 'x';
        name[VM_NAME_MAX + 1] = '\0';
        ok(!vm_name_is_valid(name), "65 is not");
        is_str(f, "vm.json: m", "a diagnostic without place or path");
        is_int(edit_distance("vcpu", "vcpus", 3), 1, "edit distance insert");
        is_int(edit_distance("sizee", "size", 3), 1, "edit distance delete");
        is_int(edit_distance("kitten", "sitting", 5), 3, "edit distance classic");
        ok(edit_distance("a", "zzzzzz", 2) > 2, "capped");
        /* every enum value survives its table */
        for (int i = 0; i < _VM_DISK_CACHE_MAX; i++)
                is_int(vm_disk_cache_from_string(vm_disk_cache_to_string(i)), i, "disk cache %d round trip", i);
        for (int i = 0; i < _VM_CPU_MODE_MAX; i++)
                is_int(vm_cpu_mode_from_string(vm_cpu_mode_to_string(i)), i, "cpu mode %d round trip", i);
        is_int(vm_net_type_from_string("vde"), _VM_NET_TYPE_INVALID, "unknown string is _INVALID");
        ok(vm_machine_to_string(_VM_MACHINE_MAX) == NULL, "out of range is NULL");
}

/* security.user and group: names, or ids as JSON numbers or strings of
 * digits (as the docs say); a group needs a user. */
static void test_security_ids(void)
{
        struct spec_diags d = { 0 };
        struct vm_spec *s;
        _cleanup_free_ char *json = NULL;

        s = parse_str("t.json", "{\"name\": \"a\", \"security\": {\"user\": 65534, \"group\": 0}}", &d);
        ok(s != NULL, "numeric user and group as JSON numbers are taken");
        is_str(s ? s->security.user : NULL, "65534", "the uid, as its digits");
        is_str(s ? s->security.group : NULL, "0", "the gid 0");
        json = s ? spec_to_json(s) : NULL;
        ok(json && strstr(json, "\"user\": \"65534\"") && strstr(json, "\"group\": \"0\""),
           "dump writes them as strings, which read back the same");
        spec_free(s);
        spec_diags_done(&d);
        s = parse_str("t.json", "{\"name\": \"a\", \"security\": {\"user\": \"65534\", \"group\": \"kvm\"}}", &d);
        ok(s != NULL && strcmp(s->security.user, "65534") == 0, "a numeric user as a string is taken");
        spec_free(s);
        spec_diags_done(&d);
        expect_one("{\"name\": \"a\", \"security\": {\"group\": \"kvm\"}}",
                   "t.json:1:37: security.group: a group without a user keeps QEMU's user (root, when qemuctl runs as "
                   "root); give \"user\" too, like \"user\": \"qemu\", \"group\": \"kvm\"\n",
                   "a group alone");
        expect_one("{\"name\": \"a\", \"security\": {\"user\": \"4294967295\"}}",
                   "t.json:1:36: security.user: 4294967295 is out of range for a uid; the most is 4294967294\n",
                   "uid (uid_t)-1 as a string");
        expect_one("{\"name\": \"a\", \"security\": {\"user\": -1}}",
                   "t.json:1:36: security.user: expected a whole number from 0 to 4294967294, got -1\n",
                   "a negative uid");
        expect_one("{\"name\": \"a\", \"security\": {\"user\": true}}",
                   "t.json:1:36: security.user: expected a user name like \"qemu\" or a number like 107, got a "
                   "boolean\n",
                   "a boolean user");
}

/* Relative paths resolve against the VM file's real directory, absolute and
 * with . and .. folded, whatever the current directory: `cmdline` prints what
 * `start` runs, pasteable from anywhere. */
static void test_paths(void)
{
        static const char vm[] = "{ \"name\": \"p\", \"disks\": [ { \"file\": \"../img/a.qcow2\" },\n"
                                 "  { \"file\": \"./b.raw\" }, { \"file\": \"sub/../c.raw\" },\n"
                                 "  { \"file\": \"../../../../../../../../d.raw\" } ],\n"
                                 "  \"boot\": { \"kernel\": \".//k//vmlinuz\" } }\n";
        char tmpl[] = "/tmp/qemuctl-spec-paths.XXXXXX";
        _cleanup_free_ char *real = NULL, *vms = NULL, *file = NULL, *link = NULL, *want = NULL;
        int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        const char *how[] = { "vms/vm.json", "link/vm.json", "link/../vms/./vm.json" };

        if (!mkdtemp(tmpl) || !(real = realpath(tmpl, NULL)) || asprintf(&vms, "%s/vms", real) < 0 ||
            mkdir(vms, 0755) < 0 || asprintf(&file, "%s/vm.json", vms) < 0 || write_file(file, vm, 0644) < 0 ||
            asprintf(&link, "%s/link", real) < 0 || symlink("vms", link) < 0 || chdir(real) < 0 || cwd < 0)
                abort();
        for (size_t i = 0; i < ELEMENTSOF(how); i++) {
                struct vm_spec *s = load_ok(how[i]);

                if (!s || s->n_disks != 4) {
                        ok(0, "%s: four disks", how[i]);
                        spec_free(s);
                        continue;
                }
                free(want);
                if (asprintf(&want, "%s/img/a.qcow2", real) < 0)
                        abort();
                is_str(s->disks[0].file, want, "%s: ../ leaves the file's real directory", how[i]);
                free(want);
                if (asprintf(&want, "%s/vms/b.raw", real) < 0)
                        abort();
                is_str(s->disks[1].file, want, "%s: ./ folded", how[i]);
                free(want);
                if (asprintf(&want, "%s/vms/sub/../c.raw", real) < 0)
                        abort();
                is_str(s->disks[2].file, want, "%s: .. after the file's own component kept (it may be a symlink)",
                       how[i]);
                is_str(s->disks[3].file, "/d.raw", "%s: .. stops at /", how[i]);
                free(want);
                if (asprintf(&want, "%s/vms/k/vmlinuz", real) < 0)
                        abort();
                is_str(s->boot.kernel, want, "%s: kernel absolute, slashes folded", how[i]);
                spec_free(s);
        }
        {
                struct spec_diags d = { 0 };
                struct vm_spec *s = NULL;
                struct qc_err err = { 0 };

                /* from a buffer with a relative name: relative, as written */
                if (ok(spec_parse("dir/vm.json", vm, sizeof vm - 1, &s, &d, &err) == 0, "buffer parses"))
                        is_str(s->disks[0].file, "dir/../img/a.qcow2", "buffer with a relative name: joined as is");
                spec_free(s);
                spec_diags_done(&d);
        }
        if (fchdir(cwd) < 0)
                abort();
        close(cwd);
        unlink(link);
        unlink(file);
        rmdir(vms);
        rmdir(real);
}

/* os: the defaults each profile gives (docs/vm-file.md, "OS profiles"),
 * and every key the file gives wins over them. */
static void test_os_profiles(void)
{
        static const char *const devs = ",\"disks\":[{\"file\":\"d.img\"},{\"file\":\"x.iso\",\"media\":\"cdrom\"}],"
                                        "\"net\":[{\"type\":\"user\"}]";
        struct spec_diags d = { 0 };
        struct vm_spec *s;
        char text[512];

        s = parse_str("vm.json", "{ \"name\": \"vm1\" }", &d);
        if (ok(s != NULL, "minimal file parses")) {
                is_int(s->os, VM_OS_GENERIC, "default os generic");
                ok(s->hpet && !s->hyperv, "generic: hpet on, hyperv off");
                ok(s->rtc.base == VM_RTC_UTC && s->rtc.driftfix == VM_RTC_DRIFTFIX_NONE, "generic: utc, no driftfix");
                is_int(s->usb, VM_USB_XHCI, "generic: xhci");
        }
        spec_free(s);

        snprintf(text, sizeof text, "{\"name\":\"t\",\"os\":\"linux\"%s}", devs);
        s = parse_str("vm.json", text, &d);
        if (ok(s != NULL, "os linux parses")) {
                ok(!s->hpet && !s->hyperv && s->rtc.driftfix == VM_RTC_DRIFTFIX_SLEW && s->rtc.base == VM_RTC_UTC,
                   "linux: no hpet, slew, utc, no hyperv");
                ok(s->machine == VM_MACHINE_Q35 && s->usb == VM_USB_XHCI, "linux: q35, xhci");
                ok(s->disks[0].bus == VM_DISK_BUS_VIRTIO && s->nets[0].model == VM_NET_MODEL_VIRTIO,
                   "linux: virtio disk and NIC");
        }
        spec_free(s);

        snprintf(text, sizeof text, "{\"name\":\"t\",\"os\":\"windows\"%s}", devs);
        s = parse_str("vm.json", text, &d);
        if (ok(s != NULL, "os windows parses")) {
                ok(!s->hpet && s->hyperv && s->rtc.driftfix == VM_RTC_DRIFTFIX_SLEW && s->rtc.base == VM_RTC_LOCALTIME,
                   "windows: no hpet, hyperv, slew, localtime");
                ok(s->machine == VM_MACHINE_Q35 && s->usb == VM_USB_XHCI, "windows: q35, xhci");
                ok(s->disks[0].bus == VM_DISK_BUS_SATA && s->disks[1].bus == VM_DISK_BUS_SATA &&
                           s->nets[0].model == VM_NET_MODEL_E1000E,
                   "windows on q35: SATA disk and cdrom, e1000e");
        }
        spec_free(s);

        snprintf(text, sizeof text, "{\"name\":\"t\",\"os\":\"windows-legacy\"%s}", devs);
        s = parse_str("vm.json", text, &d);
        if (ok(s != NULL, "os windows-legacy parses")) {
                ok(!s->hpet && s->hyperv && s->rtc.driftfix == VM_RTC_DRIFTFIX_SLEW && s->rtc.base == VM_RTC_LOCALTIME,
                   "windows-legacy: no hpet, hyperv, slew, localtime");
                ok(s->machine == VM_MACHINE_PC && s->usb == VM_USB_EHCI, "windows-legacy: pc, ehci");
                ok(s->disks[0].bus == VM_DISK_BUS_IDE && s->disks[1].bus == VM_DISK_BUS_IDE &&
                           s->nets[0].model == VM_NET_MODEL_E1000,
                   "windows-legacy on pc: IDE disk and cdrom, e1000");
        }
        spec_free(s);

        s = parse_str("vm.json",
                      "{\"name\":\"t\",\"os\":\"windows-legacy\",\"machine\":\"q35\",\"usb\":\"uhci\",\"hpet\":true,"
                      "\"hyperv\":false,\"rtc\":{\"base\":\"utc\",\"driftfix\":\"none\"},"
                      "\"disks\":[{\"file\":\"d.img\",\"bus\":\"scsi\"},{\"file\":\"e.img\"}],"
                      "\"net\":[{\"type\":\"user\",\"model\":\"rtl8139\"}]}",
                      &d);
        if (ok(s != NULL, "os with every key it sets given parses")) {
                ok(s->machine == VM_MACHINE_Q35 && s->usb == VM_USB_UHCI && s->hpet && !s->hyperv &&
                           s->rtc.base == VM_RTC_UTC && s->rtc.driftfix == VM_RTC_DRIFTFIX_NONE,
                   "the file's keys win over windows-legacy's");
                ok(s->disks[0].bus == VM_DISK_BUS_SCSI && s->disks[1].bus == VM_DISK_BUS_SATA &&
                           s->nets[0].model == VM_NET_MODEL_RTL8139,
                   "a disk's bus and a NIC's model win; a disk without one follows the machine given (q35: SATA)");
        }
        spec_free(s);

        s = parse_str("vm.json", "{\"name\":\"t\",\"os\":\"windows8\"}", &d);
        ok(s == NULL && d.n == 1 && strstr(d.v[0].msg, "windows") && d.v[0].line == 1,
           "an unknown os is refused at its place: %s", d.n ? d.v[0].msg : "(none)");
        spec_free(s);
        spec_diags_done(&d);
}

int main(void)
{
        srcdir = tap_srcdir();
        test_os_profiles();
        test_helpers();
        test_json_reader();
        test_limits();
        test_defaults();
        test_full();
        test_hotplug_file();
        test_bad_files();
        test_paths();
        test_security_ids();
        free(srcdir);
        return tap_done();
}
