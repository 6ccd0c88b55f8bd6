/* launcher/spec-set.c: --set KEY.PATH=VALUE and --name applied to a VM file
 * as it is read. Each change lands where the path says, is judged by the key
 * table as the file's own values are, and a problem names the option (not a
 * line of the file) with what to do. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "launcher/spec.h"
#include "tests/tap.h"

#define MB (UINT64_C(1) << 20)

static const char *const base_file =
        "{\n"
        "  \"name\": \"ci\",\n"
        "  \"accel\": \"tcg\",\n"
        "  \"cpu\": { \"vcpus\": 1, \"max\": 2 },\n"
        "  \"memory\": { \"size\": \"512M\", \"balloon\": false },\n"
        "  \"disks\": [ { \"file\": \"/tmp/base.qcow2\", \"format\": \"qcow2\" } ],\n"
        "  \"net\": [ { \"type\": \"user\", \"forward\": [\"tcp:2222:22\"] } ]\n"
        "}\n";

/* Parse base_file with the changes in sets (NULL-terminated KEY=VALUE
 * args of --set, or "!KEY.PATH" for --unset); diagnostics formatted one per
 * line into *ret_diags. */
static struct vm_spec *with(const char *const *sets, const char *name, char **ret_diags)
{
        struct spec_overrides ov = { 0 };
        struct spec_diags d = { 0 };
        struct vm_spec *s = NULL;
        struct qc_err err = { 0 };
        char *out = strdup("");

        for (size_t i = 0; sets && sets[i]; i++)
                if ((sets[i][0] == '!' ? spec_overrides_add_unset(&ov, sets[i] + 1, &err)
                                       : spec_overrides_add_set(&ov, sets[i], &err)) < 0)
                        tap_diag("add %s: %s", sets[i], err.msg);
        if (name)
                spec_overrides_add_name(&ov, name, &err);
        (void)spec_parse_with("/tmp/vm.json", base_file, strlen(base_file), &ov, &s, &d, &err);
        for (size_t i = 0; out && i < d.n; i++) {
                _cleanup_free_ char *line = spec_diag_format("vm.json", &d.v[i]);
                char *n = NULL;
                if (!line || asprintf(&n, "%s%s\n", out, line) < 0)
                        n = NULL;
                free(out);
                out = n;
        }
        spec_diags_done(&d);
        spec_overrides_done(&ov);
        *ret_diags = out;
        return s;
}

#define SETS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void expect_diag(const char *const *sets, const char *want, const char *what)
{
        _cleanup_free_ char *diags = NULL;
        struct vm_spec *s = with(sets, NULL, &diags);

        ok(!s, "%s: refused", what);
        is_str(diags, want, "%s: the diagnostic names the option", what);
        spec_free(s);
}

static void test_values(void)
{
        _cleanup_free_ char *diags = NULL, *dump = NULL;
        struct vm_spec *s = with(SETS("memory.size=2G", "cpu.vcpus=2", "debug_exit=true", "disks.0.file=/tmp/job.qcow2",
                                      "net[0].forward[0]=tcp:127.0.0.1:0:22", "cpu.pin.1=0",
                                      "cloud_init.meta_data=instance-id: x\nlocal-hostname: y\n"),
                                 NULL, &diags);

        if (!ok(s != NULL, "scalars, a list item's key, a string list's item, a free-form member")) {
                tap_diag("%s", diags);
                return;
        }
        is_int(s->memory.size, 2048 * MB, "memory.size=2G is a size");
        is_int(s->cpu.vcpus, 2, "cpu.vcpus=2 is a number");
        ok(s->debug_exit, "debug_exit=true is a boolean");
        is_str(s->disks[0].file, "/tmp/job.qcow2", "disks.0.file replaced the file's");
        is_int(s->disks[0].format, VM_DISK_FORMAT_QCOW2, "the item's other keys stay");
        is_str(s->nets[0].forward[0], "tcp:127.0.0.1:0:22", "net[0].forward[0] (bracket form) replaced the item");
        is_int(s->cpu.n_pins, 1, "cpu.pin.1 went through the key's own parser");
        is_str(s->cloud_init.meta_data, "instance-id: x\nlocal-hostname: y\n", "text with newlines is a document");
        dump = spec_to_json(s);
        ok(dump && strstr(dump, "\"size\": \"2G\"") && strstr(dump, "/tmp/job.qcow2"),
           "dump shows the changed values");
        spec_free(s);
}

static void test_lists(void)
{
        _cleanup_free_ char *d1 = NULL, *d2 = NULL, *d3 = NULL;
        struct vm_spec *s = with(SETS("disks.1={\"file\": \"/tmp/data-{name}.img\", \"format\": \"raw\"}",
                                      "net.0.forward=[\"tcp:0:22\", \"udp:0:53\"]", "memory.balloon=true",
                                      "shares.0={\"path\": \"/srv/results/{name}\", \"tag\": \"out\", \"mode\": \"9p\"}"),
                                 "job-7", &d1);

        if (ok(s != NULL, "a whole item as JSON, a whole list as JSON, an object's short form")) {
                is_int(s->n_disks, 2, "index one past the end adds an item");
                is_str(s->disks[1].file, "/tmp/data-job-7.img", "{name} in a disk path is the --name");
                is_str(s->n_shares ? s->shares[0].path : "(none)", "/srv/results/job-7",
                       "{name} in a share's path is the --name: each job its own folder");
                is_int(s->nets[0].n_forward, 2, "the list was replaced whole");
                is_str(s->name, "job-7", "--name is the name");
                ok(s->memory.balloon, "memory.balloon=true");
        } else {
                tap_diag("%s", d1);
        }
        spec_free(s);

        /* the last of two changes to one key wins */
        s = with(SETS("memory.size=1G", "memory.size=3G"), NULL, &d2);
        if (ok(s != NULL, "two changes of one key"))
                is_int(s->memory.size, 3072 * MB, "the later one wins");
        spec_free(s);

        /* a VM file without disks: disks.0 adds the first */
        s = with(SETS("disks.0.file=/tmp/x.img", "disks.1.file=/tmp/y.img"), NULL, &d3);
        if (ok(s != NULL, "items added one after the other"))
                is_int(s->n_disks, 2, "two disks");
        spec_free(s);
}

static void test_unset(void)
{
        _cleanup_free_ char *d1 = NULL, *d2 = NULL, *d3 = NULL, *d4 = NULL;
        struct spec_overrides ov = { 0 };
        struct qc_err err = { 0 };
        struct vm_spec *s = with(SETS("!net.0.forward", "!cpu.max", "!accel"), NULL, &d1);

        if (ok(s != NULL, "--unset of keys the file has")) {
                is_int(s->nets[0].n_forward, 0, "net.0.forward is gone: no forwards");
                is_int(s->cpu.max, s->cpu.vcpus, "cpu.max is gone: its default (the vCPUs at start)");
                is_int(s->accel, VM_ACCEL_AUTO, "accel is gone: auto");
        } else {
                tap_diag("%s", d1);
        }
        spec_free(s);

        s = with(SETS("disks.1={\"file\": \"/tmp/second.img\", \"format\": \"raw\"}", "!disks.0"), NULL, &d2);
        if (ok(s != NULL, "--unset of a list item")) {
                is_int(s->n_disks, 1, "one disk left");
                is_str(s->disks[0].file, "/tmp/second.img", "the later item moved up");
        } else {
                tap_diag("%s", d2);
        }
        spec_free(s);

        s = with(SETS("!disks.5", "!cloud_init.meta_data", "!cpu.pin.3"), NULL, &d3);
        if (ok(s != NULL, "--unset of what the file does not have is fine"))
                is_int(s->n_disks, 1, "and changes nothing");
        else
                tap_diag("%s", d3);
        spec_free(s);

        expect_diag(SETS("!memory.sise"), "vm.json: --unset memory.sise: memory.sise: unknown key; did you mean \"size\"?\n",
                    "--unset of a misspelt key");
        expect_diag(SETS("!numa.nodest"), "vm.json: --unset numa.nodest: numa.nodest: unknown key; did you mean \"nodeset\"?\n",
                    "--unset of a misspelt key under a key the file does not have");
        expect_diag(SETS("!disks.3.fiel"),
                    "vm.json: --unset disks.3.fiel: disks[3].fiel: unknown key; did you mean \"file\"?\n",
                    "--unset of a misspelt key in a list item the file does not have");
        s = with(SETS("!name"), NULL, &d4);
        ok(!s && d4 && strstr(d4, "name: missing"), "--unset name leaves a VM without a name: refused (%s)", d4);
        spec_free(s);
        ok(spec_overrides_add_unset(&ov, "memory.size=1G", &err) < 0 && err.code == EINVAL &&
                   strstr(err.msg, "expected KEY.PATH"),
           "--unset KEY=VALUE is refused: it takes a path only (%s)", err.msg);
        spec_overrides_done(&ov);
}

static void test_errors(void)
{
        struct spec_overrides ov = { 0 };
        struct qc_err err = { 0 };

        ok(spec_overrides_add_set(&ov, "memory.size", &err) < 0 && err.code == EINVAL &&
                   strstr(err.msg, "KEY.PATH=VALUE"),
           "--set without '=' is refused with the form to write");
        ok(spec_overrides_add_set(&ov, "=2G", &err) < 0 && err.code == EINVAL, "--set with no path is refused");
        spec_overrides_done(&ov);

        expect_diag(SETS("memory.size=lots"),
                    "vm.json: --set memory.size=lots: memory.size: expected a size like \"4G\" or \"512M\", got \"lots\"\n",
                    "type error (size)");
        expect_diag(SETS("cpu.vcpus=abc"),
                    "vm.json: --set cpu.vcpus=abc: cpu.vcpus: expected a whole number from 1 to 4096, got the string "
                    "\"abc\"\n",
                    "type error (number)");
        expect_diag(SETS("cpu.vcpus=3"),
                    "vm.json: --set cpu.vcpus=3: cpu.vcpus: 3 vCPUs at start but cpu.max is 2; raise cpu.max to at least 3 or "
                    "lower cpu.vcpus\n",
                    "a check across keys names the option too");
        expect_diag(SETS("memory.sise=1G"),
                    "vm.json: --set memory.sise=1G: memory.sise: unknown key; did you mean \"size\"?\n",
                    "unknown key with a suggestion");
        expect_diag(SETS("memroy.size=1G"),
                    "vm.json: --set memroy.size=1G: memroy: unknown key; did you mean \"memory\"?\n",
                    "unknown section with a suggestion");
        expect_diag(SETS("disks.3.file=/tmp/x"),
                    "vm.json: --set disks.3.file=/tmp/x: disks: has 1 item: give an index from 0 to 0, or 1 to add one\n",
                    "index past the end");
        expect_diag(SETS("disks.first.file=/tmp/x"),
                    "vm.json: --set disks.first.file=/tmp/x: disks: is a list: give an item's index, like disks.0, "
                    "not \"first\"\n",
                    "a name where an index goes");
        expect_diag(SETS("memory..size=1G"),
                    "vm.json: --set memory..size=1G: \"memory..size\" is not a key path; write keys with dots and list "
                    "items by index, like memory.size or disks.0.file\n",
                    "an empty component");
        expect_diag(SETS("memory.size.unit=G"),
                    "vm.json: --set memory.size.unit=G: memory.size: is a single value; it has no keys or items under it\n",
                    "a path below a single value");
        expect_diag(SETS("memory.balloon.stats_interval=2"),
                    "vm.json: --set memory.balloon.stats_interval=2: memory.balloon: is a boolean in the VM file, not "
                    "an object: set it whole instead, like --set 'memory.balloon={...}'\n",
                    "a path through a short form");
        expect_diag(SETS("net.0.forward=[tcp:0:22]"),
                    "vm.json: --set net.0.forward=[tcp:0:22]: net[0].forward: the value is not JSON (column 2: "
                    "expected a value (a string, number, object, array, true, false or null), got 't'); write strings "
                    "in double quotes and quote it all for the shell, like --set 'net[0].forward=[\"tcp:2222:22\", "
                    "\"udp:127.0.0.1:5353:53\"]'\n",
                    "a JSON value that is not JSON: one diagnostic, the file's value kept");
        expect_diag(SETS("name=-x"),
                    "vm.json: --set name=-x: name: \"-x\" starts with \"-\", which would make it an option on the "
                    "command line; start it with a letter, digit or \"_\"\n",
                    "a bad name");
}

static void test_name(void)
{
        _cleanup_free_ char *diags = NULL;
        struct spec_overrides ov = { 0 };
        struct spec_diags d = { 0 };
        struct vm_spec *s = NULL;
        struct qc_err err = { 0 };

        spec_overrides_add_name(&ov, "bad/name", &err);
        ok(spec_parse_with("/tmp/vm.json", base_file, strlen(base_file), &ov, &s, &d, &err) < 0 && d.n == 1,
           "--name with a bad name is refused");
        if (d.n == 1) {
                _cleanup_free_ char *line = spec_diag_format("vm.json", &d.v[0]);
                is_str(line, "vm.json: --name bad/name: name: \"bad/name\" has characters a name can't have; use only "
                       "A-Z a-z 0-9 . _ -", "the message says --name");
                is_str(d.v[0].origin, "--name bad/name", "the diagnostic's origin");
                is_int(d.v[0].line, 0, "not a line of the file");
        }
        spec_diags_done(&d);
        spec_overrides_done(&ov);
        spec_free(s);

        /* a later check (the images) names the option that gave the path */
        s = with(SETS("disks.0.file=/nonexistent/{name}.qcow2"), "j1", &diags);
        if (ok(s != NULL, "parsed")) {
                struct spec_diags dd = { 0 };
                ok(spec_check_disks(s, &dd, NULL, &err) < 0 && dd.n == 1, "the image is missing");
                if (dd.n == 1)
                        is_str(dd.v[0].origin, "--set disks.0.file=/nonexistent/{name}.qcow2",
                               "spec_check_disks names the --set");
                spec_diags_done(&dd);
        }
        spec_free(s);
}

int main(void)
{
        test_values();
        test_lists();
        test_unset();
        test_errors();
        test_name();
        return tap_done();
}
