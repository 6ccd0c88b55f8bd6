/* Every sample VM file, and every file of tests/data/os/ (the OS profiles),
 * -> its expected QEMU argv (tests/data/golden/NAME.argv, one argument per
 * line). UPDATE_GOLDEN=1 rewrites the files instead.
 * Host-independent: accel "auto" is taken as tcg, and built again as kvm
 * into NAME.kvm.argv (what a host with KVM runs), the state dir is fixed,
 * disks are not looked at (samples name their formats), UEFI firmware is
 * chosen from Debian's descriptors copied to tests/data/firmware/ and the
 * NVRAM is at its place under /var/lib/qemuctl. Paths in the argv
 * are absolute, as `start` runs them; the repository's real path is written
 * @SRCDIR@ in the golden files, so they hold on any checkout. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/io.h"
#include "common/strv.h"
#include "launcher/cmdline.h"
#include "launcher/firmware.h"
#include "launcher/paths.h"
#include "launcher/spec.h"
#include "tests/tap.h"

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* NAME.json in dir, sorted; NULL-terminated. */
static char **list(const char *dir, const char *suffix)
{
        strv names = {};
        DIR *d = opendir(dir);
        struct dirent *e;
        size_t sl = strlen(suffix);

        if (!d)
                return NULL;
        while ((e = readdir(d))) {
                size_t n = strlen(e->d_name);

                if (n > sl && strcmp(e->d_name + n - sl, suffix) == 0)
                        strv_pushf(&names, "%.*s", (int)(n - sl), e->d_name);
        }
        closedir(d);
        if (names.n)
                qsort(names.v, names.n, sizeof *names.v, cmp_str);
        return strv_steal(&names);
}

static char *join_lines(char **argv)
{
        size_t len = 0;
        char *out, *p;

        for (size_t i = 0; argv[i]; i++)
                len += strlen(argv[i]) + 1;
        out = p = malloc(len + 1);
        if (!out)
                return NULL;
        for (size_t i = 0; argv[i]; i++)
                p += sprintf(p, "%s\n", argv[i]);
        *p = '\0';
        return out;
}

static const char *srcroot; /* realpath of the repository root */

/* Every occurrence of srcroot in s becomes @SRCDIR@ (malloc'd). */
static char *placeholder(const char *s)
{
        size_t rl = strlen(srcroot), n = 0;
        char *out, *o;

        for (const char *p = s; (p = strstr(p, srcroot)); p += rl)
                n++;
        out = o = malloc(strlen(s) + n * sizeof "@SRCDIR@" + 1);
        if (!out)
                abort();
        for (const char *p = s, *hit; *p; p = hit + rl) {
                if (!(hit = strstr(p, srcroot))) {
                        o = stpcpy(o, p);
                        break;
                }
                o = mempcpy(o, p, (size_t)(hit - p));
                o = stpcpy(o, "@SRCDIR@");
        }
        *o = '\0';
        return out;
}

/* First differing line, for the log. */
static void show_diff(const char *got, const char *want)
{
        unsigned line = 1;

        while (*got && *got == *want) {
                if (*got == '\n')
                        line++;
                got++, want++;
        }
        tap_diag("first difference on line %u", line);
        tap_diag("  got:  %.*s", (int)strcspn(got, "\n"), got);
        tap_diag("  want: %.*s", (int)strcspn(want, "\n"), want);
}

static void one(const char *dir, const char *name, enum vm_accel auto_as, bool update)
{
        _cleanup_free_ char *file = NULL, *golden = NULL, *rundir = NULL, *got = NULL, *want = NULL, *raw = NULL;
        _cleanup_strv_free_ char **argv = NULL;
        struct spec_diags diags = {};
        struct vm_spec *spec = NULL;
        struct qc_err err = {};
        struct cmdline_ctx ctx;
        size_t len;
        int r;

        if (asprintf(&file, "%s/%s.json", dir, name) < 0 ||
            asprintf(&golden, "tests/data/golden/%s%s.argv", name, auto_as == VM_ACCEL_KVM ? ".kvm" : "") < 0)
                abort();
        r = spec_load(file, &spec, &diags, &err);
        for (size_t i = 0; i < diags.n; i++) {
                _cleanup_free_ char *l = spec_diag_format(file, &diags.v[i]);
                tap_diag("%s", l);
        }
        spec_diags_done(&diags);
        if (!ok(r == 0, "%s loads%s%s", file, r < 0 && !diags.n ? ": " : "", r < 0 && !diags.n ? err.msg : ""))
                return;
        ok(vm_rundir(spec->name, &rundir, &err) == 0, "%s: state dir", name);
        cmdline_ctx_default(&ctx, spec, rundir);
        if (ctx.accel == VM_ACCEL_AUTO)
                ctx.accel = auto_as;
        else if (auto_as == VM_ACCEL_KVM) {
                /* only "auto" has a second golden file */
                spec_free(spec);
                return;
        }
        _cleanup_(fw_list_done) struct fw_list fws = {};
        _cleanup_free_ char *nvram = NULL;
        if (spec->firmware != VM_FIRMWARE_BIOS) {
                /* parsed, not loaded: the files they name need not be here */
                static const char *const descs[] = { "tests/data/firmware/40-edk2-x86_64-secure-enrolled.json",
                                                     "tests/data/firmware/60-edk2-x86_64.json" };
                char *dirs[] = { "tests/data/firmware", NULL };
                _cleanup_free_ struct fw_desc *v = calloc(2, sizeof *v);

                for (size_t i = 0; v && i < 2; i++) {
                        _cleanup_free_ char *text = NULL;
                        size_t tlen;

                        if (!ok(read_file(descs[i], 0, &text, &tlen) == 0 &&
                                        fw_desc_parse(descs[i], text, tlen, &v[i], &err) == 0,
                                "%s parses (%s)", descs[i], err.msg)) {
                                for (size_t j = 0; j < i; j++)
                                        fw_desc_done(&v[j]);
                                spec_free(spec);
                                return;
                        }
                }
                fws.v = TAKE_PTR(v);
                fws.n = 2;
                if (!ok(fw_select(&fws, spec->firmware, spec->machine, dirs, &ctx.firmware, &err) == 0,
                        "%s: firmware %s chosen (%s)", name, vm_firmware_to_string(spec->firmware), err.msg) ||
                    asprintf(&nvram, "/var/lib/qemuctl/%s/nvram.fd", spec->name) < 0) {
                        spec_free(spec);
                        return;
                }
                ctx.nvram = nvram;
        }
        r = cmdline_build(spec, &ctx, &argv, &err);
        spec_free(spec);
        if (!ok(r == 0, "%s builds%s%s", name, r < 0 ? ": " : "", r < 0 ? err.msg : ""))
                return;
        raw = join_lines(argv);
        if (!raw)
                abort();
        /* spec_load resolves relative to the file's real directory */
        ok(!strstr(raw, "samples/") || strstr(raw, srcroot), "%s: paths are absolute", name);
        ok(!strstr(raw, "/../") && !strstr(raw, "/./"), "%s: paths have no . or ..", name);
        got = placeholder(raw);
        if (update) {
                r = write_file(golden, got, 0644);
                ok(r == 0, "%s rewritten", golden);
                return;
        }
        r = read_file(golden, 0, &want, &len);
        if (!ok(r == 0, "%s exists (make it with UPDATE_GOLDEN=1)", golden))
                return;
        if (!ok(strcmp(got, want) == 0, "%s: argv matches %s", name, golden))
                show_diff(got, want);
}

int main(void)
{
        const char *src = getenv("QEMUCTL_SRCDIR");
        bool update = getenv("UPDATE_GOLDEN") && strcmp(getenv("UPDATE_GOLDEN"), "1") == 0;
        _cleanup_strv_free_ char **samples = NULL, **profiles = NULL, **goldens = NULL;

        _cleanup_free_ char *root = NULL;

        if (src && chdir(src) < 0)
                tap_skip_all("cannot enter QEMUCTL_SRCDIR %s: %s", src, strerror(errno));
        if (!(root = realpath(".", NULL)))
                tap_skip_all("realpath of the repository root: %s", strerror(errno));
        srcroot = root;
        setenv("QEMUCTL_RUNDIR", "/run/qemuctl-golden", 1);
        samples = list("samples", ".json");
        if (!samples || !samples[0])
                tap_skip_all("no samples/*.json here (run from the repository root or set QEMUCTL_SRCDIR)");
        if (update)
                mkdir_p("tests/data/golden", 0755);
        profiles = list("tests/data/os", ".json");
        for (int kvm = 0; kvm <= 1; kvm++) {
                enum vm_accel as = kvm ? VM_ACCEL_KVM : VM_ACCEL_TCG;

                for (size_t i = 0; samples[i]; i++)
                        one("samples", samples[i], as, update);
                for (size_t i = 0; profiles && profiles[i]; i++)
                        one("tests/data/os", profiles[i], as, update);
        }
        /* a golden file without its sample is a leftover */
        goldens = list("tests/data/golden", ".argv");
        for (size_t i = 0; goldens && goldens[i]; i++) {
                size_t n = strlen(goldens[i]);
                bool found = false;

                if (n > 4 && strcmp(goldens[i] + n - 4, ".kvm") == 0)
                        goldens[i][n - 4] = '\0';
                for (size_t j = 0; samples[j]; j++)
                        found |= strcmp(goldens[i], samples[j]) == 0;
                for (size_t j = 0; profiles && profiles[j]; j++)
                        found |= strcmp(goldens[i], profiles[j]) == 0;
                ok(found, "tests/data/golden/%s.argv has its sample", goldens[i]);
        }
        return tap_done();
}
