/* Firmware descriptors (launcher/firmware.c): Debian's own descriptors
 * (copied to tests/data/firmware/) parse and are chosen by what a VM file
 * asks; broken ones are refused with the reason; the search order masks by
 * file name; the NVRAM is copied once, kept, and refused when it was made
 * for another firmware. Nothing here needs OVMF installed: the code and
 * template files are made in a temp dir. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/io.h"
#include "common/strv.h"
#include "launcher/firmware.h"
#include "launcher/paths.h"
#include "tests/tap.h"

static char tmp[] = "/tmp/qemuctl-test-firmware-XXXXXX";

static void put(const char *dir, const char *name, const char *text)
{
        _cleanup_free_ char *p = path_join(dir, name);

        mkdir_p(dir, 0755);
        if (!p || write_file(p, text, 0644) < 0)
                abort();
}

static int parse(const char *text, struct fw_desc *d, struct qc_err *err)
{
        return fw_desc_parse("t.json", text, strlen(text), d, err);
}

/* A descriptor whose files are in tmp. */
static char *desc(const char *features, const char *machines, const char *code, const char *vars)
{
        char *s;

        if (asprintf(&s,
                     "{\"description\": \"test\", \"interface-types\": [\"uefi\"], \"mapping\": {\"device\": "
                     "\"flash\", \"executable\": {\"filename\": \"%s/%s\", \"format\": \"raw\"}, "
                     "\"nvram-template\": {\"filename\": \"%s/%s\", \"format\": \"raw\"}}, \"targets\": "
                     "[{\"architecture\": \"x86_64\", \"machines\": [%s]}], \"features\": [%s], \"tags\": []}",
                     tmp, code, tmp, vars, machines, features) < 0)
                abort();
        return s;
}

static void debian_descriptors(void)
{
        static const char *const files[] = { "40-edk2-x86_64-secure-enrolled.json", "50-edk2-x86_64-secure.json",
                                             "60-edk2-x86_64.json" };
        struct fw_desc d[3] = {};
        struct qc_err err = {};

        for (int i = 0; i < 3; i++) {
                _cleanup_free_ char *p = path_join("tests/data/firmware", files[i]), *text = NULL;
                size_t len;

                if (read_file(p, 0, &text, &len) < 0)
                        tap_skip_all("%s: cannot read it (run from the repository root)", p);
                ok(fw_desc_parse(p, text, len, &d[i], &err) == 0, "%s parses (%s)", files[i], err.msg);
        }
        is_str(d[0].code, "/usr/share/OVMF/OVMF_CODE_4M.ms.fd", "enrolled: code");
        is_str(d[0].vars, "/usr/share/OVMF/OVMF_VARS_4M.ms.fd", "enrolled: variable template");
        is_int(d[0].flags, FW_SECURE_BOOT | FW_ENROLLED_KEYS | FW_REQUIRES_SMM, "enrolled: features");
        is_int(d[1].flags, FW_SECURE_BOOT | FW_REQUIRES_SMM, "secure, empty varstore: no enrolled keys");
        is_int(d[2].flags, 0, "plain: no secure boot, no SMM");
        ok(d[0].uefi && !d[0].unusable, "enrolled: UEFI, usable");
        ok(fw_desc_takes_machine(&d[0], VM_MACHINE_Q35) && !fw_desc_takes_machine(&d[0], VM_MACHINE_PC),
           "enrolled: q35 only (pc-q35-*)");
        ok(fw_desc_takes_machine(&d[2], VM_MACHINE_PC) && fw_desc_takes_machine(&d[2], VM_MACHINE_Q35),
           "plain: pc and q35");

        struct fw_list l = { .v = d, .n = 3 };
        char *dirs[] = { "tests/data/firmware", NULL };
        const struct fw_desc *got = NULL;

        ok(fw_select(&l, VM_FIRMWARE_UEFI_SECURE, VM_MACHINE_Q35, dirs, &got, &err) == 0 && got == &d[0],
           "uefi-secure on q35: the enrolled one");
        ok(fw_select(&l, VM_FIRMWARE_UEFI, VM_MACHINE_Q35, dirs, &got, &err) == 0 && got == &d[2],
           "uefi on q35: the plain one, though the secure ones come first by name");
        ok(fw_select(&l, VM_FIRMWARE_UEFI, VM_MACHINE_PC, dirs, &got, &err) == 0 && got == &d[2], "uefi on pc");
        err = (struct qc_err){};
        ok(fw_select(&l, VM_FIRMWARE_UEFI_SECURE, VM_MACHINE_PC, dirs, &got, &err) == -1 && err.code == ENOENT &&
                   strstr(err.msg, "machine pc") && strstr(err.msg, "tests/data/firmware") && strstr(err.msg, "ovmf"),
           "uefi-secure on pc: none, and the message says where it looked and what to install (%s)", err.msg);
        /* without the plain one, uefi takes the secure one with an empty varstore (Secure Boot off) */
        l.n = 2;
        ok(fw_select(&l, VM_FIRMWARE_UEFI, VM_MACHINE_Q35, dirs, &got, &err) == 0 && got == &d[1],
           "uefi without a plain firmware: secure-boot capable, keys not enrolled");
        l.n = 1;
        err = (struct qc_err){};
        ok(fw_select(&l, VM_FIRMWARE_UEFI, VM_MACHINE_Q35, dirs, &got, &err) == -1 && err.code == ENOENT,
           "uefi never takes enrolled keys (Secure Boot would be on)");
        for (int i = 0; i < 3; i++)
                fw_desc_done(&d[i]);
}

static void refused(const char *text, const char *want, const char *what)
{
        struct fw_desc d = {};
        struct qc_err err = {};
        int r = parse(text, &d, &err);

        ok(r == -1 && err.code == EINVAL && strstr(err.msg, want), "%s: refused (%s)", what, err.msg);
        if (r == 0)
                fw_desc_done(&d);
}

static void not_for_us(const char *text, const char *want, const char *what)
{
        struct fw_desc d = {};
        struct qc_err err = {};

        ok(parse(text, &d, &err) == 0 && d.unusable && strstr(d.unusable, want), "%s: listed as unusable (%s)",
           what, d.unusable ? d.unusable : err.msg);
        fw_desc_done(&d);
}

static void broken(void)
{
        refused("", "not valid JSON", "empty");
        refused("{\"a\": 1} x", "text after", "trailing text");
        refused("[1]", "not a JSON object", "an array");
        refused("{\"interface-types\": [\"uefi\"]}", "\"features\"", "no features");
        refused("{\"interface-types\": [1], \"features\": []}", "interface-types", "a type that is no string");
        refused("{\"interface-types\": [\"uefi\"], \"features\": [], \"targets\": []}", "mapping", "no mapping");
        refused("{\"interface-types\": [\"uefi\"], \"features\": [], \"targets\": [{\"architecture\": \"x86_64\", "
                "\"machines\": [\"*\"]}], \"mapping\": {\"device\": \"flash\", \"executable\": {\"filename\": "
                "\"relative.fd\"}, \"nvram-template\": {\"filename\": \"/v\"}}}",
                "absolute", "a relative code path");
        {
                _cleanup_free_ char *big = malloc(70000);
                struct fw_desc d = {};
                struct qc_err err = {};

                memset(big, ' ', 69999);
                big[69999] = '\0';
                ok(parse(big, &d, &err) == -1 && err.code == EFBIG, "a 70 KB file is no descriptor (%s)", err.msg);
        }
        not_for_us("{\"interface-types\": [\"bios\"], \"features\": [], \"targets\": [{\"architecture\": "
                   "\"x86_64\", \"machines\": [\"pc-i440fx-*\"]}], \"mapping\": {\"device\": \"memory\", "
                   "\"filename\": \"/usr/share/seabios/bios-256k.bin\"}}",
                   "memory", "SeaBIOS (a memory mapping)");
        not_for_us("{\"interface-types\": [\"uefi\"], \"features\": [], \"targets\": [{\"architecture\": "
                   "\"aarch64\", \"machines\": [\"virt-*\"]}], \"mapping\": {\"device\": \"flash\", \"executable\": "
                   "{\"filename\": \"/a\"}, \"nvram-template\": {\"filename\": \"/b\"}}}",
                   "x86_64", "an aarch64 firmware");
        not_for_us("{\"interface-types\": [\"uefi\"], \"features\": [], \"targets\": [{\"architecture\": "
                   "\"x86_64\", \"machines\": [\"pc-q35-*\"]}], \"mapping\": {\"device\": \"flash\", \"mode\": "
                   "\"stateless\", \"executable\": {\"filename\": \"/a\"}}}",
                   "stateless", "a stateless flash");
        not_for_us("{\"interface-types\": [\"uefi\"], \"features\": [], \"targets\": [{\"architecture\": "
                   "\"x86_64\", \"machines\": [\"pc-q35-*\"]}], \"mapping\": {\"device\": \"flash\", \"executable\": "
                   "{\"filename\": \"/a\", \"format\": \"vmdk\"}, \"nvram-template\": {\"filename\": \"/b\"}}}",
                   "vmdk", "a format QEMU's pflash would not take from us");
}

/* Search order: a name in an earlier dir hides it in later ones; an empty
 * file hides it and is nothing; files missing make a descriptor unusable. */
static void listing(void)
{
        _cleanup_free_ char *etc = path_join(tmp, "etc"), *usr = path_join(tmp, "usr");
        _cleanup_free_ char *a = desc("\"secure-boot\", \"enrolled-keys\", \"requires-smm\"", "\"pc-q35-*\"", "code.fd",
                                      "vars.fd");
        _cleanup_free_ char *b = desc("", "\"pc-i440fx-*\", \"pc-q35-*\"", "code.fd", "vars.fd");
        _cleanup_free_ char *c = desc("", "\"pc-q35-*\"", "missing.fd", "vars.fd");
        char *dirs[] = { etc, usr, "/nonexistent/qemu/firmware", NULL };
        struct fw_list l = {};
        struct qc_err err = {};

        put(tmp, "code.fd", "code");
        put(tmp, "vars.fd", "variables");
        put(usr, "40-secure.json", a);
        put(usr, "60-plain.json", b);
        put(usr, "70-missing.json", c);
        put(usr, "README", "not a descriptor");
        put(etc, "40-secure.json", ""); /* the admin masks it */
        put(etc, "50-broken.json", "{");
        ok(fw_list_load(dirs, &l, &err) == 0, "load (%s)", err.msg);
        if (!is_int(l.n, 3, "three descriptors: the masked one is gone, README is no descriptor"))
                return;
        ok(strstr(l.v[0].file, "50-broken.json") && l.v[0].unusable && strstr(l.v[0].unusable, "not valid JSON"),
           "sorted by name; the broken one is listed with why (%s)", l.v[0].unusable);
        ok(strstr(l.v[1].file, "usr/60-plain.json") && !l.v[1].unusable, "the plain one from the later dir");
        ok(l.v[2].unusable && strstr(l.v[2].unusable, "missing.fd"), "a missing code file makes it unusable (%s)",
           l.v[2].unusable);
        const struct fw_desc *got = NULL;
        ok(fw_select(&l, VM_FIRMWARE_UEFI_SECURE, VM_MACHINE_Q35, dirs, &got, &err) == -1,
           "the masked secure firmware is not chosen");
        ok(fw_select(&l, VM_FIRMWARE_UEFI, VM_MACHINE_Q35, dirs, &got, &err) == 0 && got == &l.v[1],
           "uefi: the plain one");

        /* the NVRAM: copied once, kept, refused for another template */
        _cleanup_free_ char *data = path_join(tmp, "data"), *nv = NULL, *nv2 = NULL, *text = NULL;
        mkdir_p(data, 0700);
        ok(fw_nvram_prepare(data, got, false, &nv, &err) == 0, "NVRAM made (%s)", err.msg);
        ok(nv && read_file(nv, 0, &text, NULL) == 0 && strcmp(text, "variables") == 0, "a copy of the template");
        struct stat st;
        ok(nv && stat(nv, &st) == 0 && (st.st_mode & 07777) == 0600, "mode 0600");
        if (nv)
                write_file(nv, "changed by the guest", 0600);
        free(text);
        text = NULL;
        ok(fw_nvram_prepare(data, got, false, &nv2, &err) == 0 && read_file(nv2, 0, &text, NULL) == 0 &&
                   strcmp(text, "changed by the guest") == 0,
           "a second start keeps what the guest wrote");
        struct fw_desc other = *got;
        other.vars = (char *)"/usr/share/OVMF/OVMF_VARS_4M.ms.fd";
        other.file = (char *)"/usr/share/qemu/firmware/40-edk2-x86_64-secure-enrolled.json";
        _cleanup_free_ char *nv3 = NULL;
        err = (struct qc_err){};
        ok(fw_nvram_prepare(data, &other, false, &nv3, &err) == -1 && err.code == EEXIST &&
                   strstr(err.msg, "--reset-nvram") && strstr(err.msg, "remove") &&
                   strstr(err.msg, "OVMF_VARS_4M.ms.fd"),
           "another firmware's template is refused, with what to do (%s)", err.msg);

        /* start --reset-nvram: the template again, whatever the store holds */
        _cleanup_free_ char *nv4 = NULL, *nv5 = NULL, *rec = NULL;
        free(text);
        text = NULL;
        ok(fw_nvram_prepare(data, got, true, &nv4, &err) == 0 && read_file(nv4, 0, &text, NULL) == 0 &&
                   strcmp(text, "variables") == 0,
           "reset: what the guest wrote is gone, the template's copy is back (%s)", text ? text : err.msg);
        ok(nv4 && stat(nv4, &st) == 0 && (st.st_mode & 07777) == 0600, "reset: mode 0600");
        _cleanup_free_ char *tmpl_vars = path_join(tmp, "other-vars.fd");
        write_file(tmpl_vars, "other variables", 0644);
        other.vars = tmpl_vars;
        free(text);
        text = NULL;
        ok(fw_nvram_prepare(data, &other, true, &nv5, &err) == 0 && read_file(nv5, 0, &text, NULL) == 0 &&
                   strcmp(text, "other variables") == 0,
           "reset is the way on to another firmware's template (%s)", text ? text : err.msg);
        _cleanup_free_ char *recpath = path_join(data, "nvram.template");
        ok(read_file(recpath, 0, &rec, NULL) == 0 && strncmp(rec, tmpl_vars, strlen(tmpl_vars)) == 0,
           "and nvram.template names the new template (%s)", rec ? rec : "?");
        fw_list_done(&l);
}

static void datadir(void)
{
        _cleanup_free_ char *base = path_join(tmp, "lib"), *dir = NULL, *got = NULL;
        struct qc_err err = {};

        setenv("QEMUCTL_DATADIR", base, 1);
        ok(vm_datadir_base(&got, &err) == 0 && strcmp(got, base) == 0, "QEMUCTL_DATADIR is the base");
        ok(vm_datadir_make("vm1", &dir, &err) == 0, "data dir made (%s)", err.msg);
        struct stat st;
        ok(dir && stat(dir, &st) == 0 && (st.st_mode & 07777) == 0700, "mode 0700");
        chmod(dir, 0777);
        free(dir);
        dir = NULL;
        err = (struct qc_err){};
        ok(vm_datadir_make("vm1", &dir, &err) == -1 && err.code == EPERM && strstr(err.msg, "writable"),
           "a data dir others can write is refused (%s)", err.msg);
        setenv("QEMUCTL_DATADIR", "relative", 1);
        ok(vm_datadir_base(&got, &err) == -1 && strstr(err.msg, "absolute"), "QEMUCTL_DATADIR must be absolute");
        unsetenv("QEMUCTL_DATADIR");
        if (geteuid() == 0) {
                free(got);
                got = NULL;
                ok(vm_datadir_base(&got, &err) == 0 && strcmp(got, "/var/lib/qemuctl") == 0, "root: /var/lib/qemuctl");
        }
}

static void search_dirs(void)
{
        _cleanup_strv_free_ char **dirs = NULL;
        struct qc_err err = {};

        setenv("QEMUCTL_FIRMWARE_DIRS", "/a:/b", 1);
        ok(fw_search_dirs(&dirs, &err) == 0 && strv_length(dirs) == 2 && strcmp(dirs[1], "/b") == 0,
           "QEMUCTL_FIRMWARE_DIRS, in order");
        strv_free(dirs);
        dirs = NULL;
        unsetenv("QEMUCTL_FIRMWARE_DIRS");
        ok(fw_search_dirs(&dirs, &err) == 0 && strv_length(dirs) >= 2 &&
                   strcmp(dirs[strv_length(dirs) - 1], "/usr/share/qemu/firmware") == 0 &&
                   strcmp(dirs[strv_length(dirs) - 2], "/etc/qemu/firmware") == 0,
           "default: /etc/qemu/firmware before /usr/share/qemu/firmware");
}

int main(void)
{
        const char *src = getenv("QEMUCTL_SRCDIR");

        if (src && chdir(src) < 0)
                tap_skip_all("cannot enter QEMUCTL_SRCDIR %s", src);
        if (!mkdtemp(tmp))
                tap_skip_all("mkdtemp: %s", strerror(errno));
        debian_descriptors();
        broken();
        listing();
        datadir();
        search_dirs();
        {
                _cleanup_free_ char *cmd = NULL;
                if (asprintf(&cmd, "rm -rf %s", tmp) > 0 && system(cmd) != 0)
                        tap_diag("could not remove %s", tmp);
        }
        return tap_done();
}
