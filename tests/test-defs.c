/* launcher/defs: the definition store (docs/host.md): where it lives, atomic
 * and checked writes, trust in its directories, read-modify-write, autostart. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/io.h"
#include "common/strv.h"
#include "launcher/defs.h"
#include "tests/tap.h"

static char base[] = "/tmp/qemuctl-test-defs-XXXXXX";
static char conf[600];

static struct vm_spec *parse(const char *path, const char *text)
{
        struct spec_diags d = { 0 };
        struct vm_spec *s = NULL;

        if (spec_parse(path, text, strlen(text), &s, &d, NULL) < 0)
                s = NULL;
        spec_diags_done(&d);
        return s;
}

static void test_dir(void)
{
        struct qc_err err = { 0 };
        _cleanup_free_ char *d = NULL, *p = NULL;

        setenv("QEMUCTL_CONFDIR", "relative/dir", 1);
        ok(defs_dir(&d, &err) < 0 && err.code == EINVAL && strstr(err.msg, "QEMUCTL_CONFDIR"),
           "a relative QEMUCTL_CONFDIR is refused and named (%s)", err.msg);
        qc_err_clear(&err);
        unsetenv("QEMUCTL_CONFDIR");
        if (geteuid() == 0) {
                ok(defs_dir(&d, &err) == 0 && strcmp(d, "/etc/qemuctl") == 0, "root: /etc/qemuctl");
                free(TAKE_PTR(d));
        }
        setenv("QEMUCTL_CONFDIR", conf, 1);
        int r = defs_path("vm1", &p, &err);
        ok(r == 0 && strstr(p, "/vms/vm1.json"), "NAME -> CONFDIR/vms/NAME.json (%s)", p);
        ok(defs_path("../x", &d, &err) < 0 && err.code == EINVAL, "a bad name never becomes a path");
}

static void test_store(void)
{
        struct qc_err err = { 0 };
        struct spec_diags diags = { 0 };
        _cleanup_free_ char *vms = NULL, *text = NULL, *path = NULL;
        struct vm_spec *s, *back = NULL;
        struct stat st;

        is_int(defs_exists("vm1", &err), 0, "no store yet: not defined");
        _cleanup_strv_free_ char **names = NULL;
        ok(defs_list(&names, &err) == 0 && names && !names[0], "no store yet: an empty list");

        /* relative paths resolved against the file's directory */
        s = parse("/srv/vms/vm1.json",
                  "{ \"name\": \"vm1\", \"boot\": { \"kernel\": \"../k/vmlinuz\" }, "
                  "\"disks\": [ { \"file\": \"d.img\" } ] }");
        ok(s != NULL, "parse a VM file");
        is_int(defs_store(s, &diags, &err), 0, "store: new");
        is_int(defs_store(s, &diags, &err), 1, "store again: replaced");
        spec_free(s);
        is_int(defs_exists("vm1", &err), 1, "defined");
        ok(asprintf(&vms, "%s/vms", conf) > 0, "path");
        ok(stat(vms, &st) == 0 && (st.st_mode & 0777) == 0700, "vms/ is 0700");
        defs_path("vm1", &path, NULL);
        ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "the definition is 0600");
        is_int(tap_count_entries(vms), 1, "no temporary file left beside it");
        ok(defs_load("vm1", &back, &diags, &err) == 0, "load it (%s)", err.msg);
        is_str(back ? back->boot.kernel : NULL, "/srv/k/vmlinuz", "a relative kernel path is absolute in the definition");
        is_str(back && back->n_disks ? back->disks[0].file : NULL, "/srv/vms/d.img", "a relative disk too");
        spec_free(back);
        ok(defs_read_text("vm1", &text, &err) == 0 && text[strlen(text) - 1] == '\n', "the stored text ends in a newline");

        /* a definition renamed by hand is not VM vm1 any more */
        char *renamed = strdup(text), *q = strstr(renamed, "\"vm1\"");
        memcpy(q, "\"vm2\"", 5);
        _cleanup_close_ int dfd = open(vms, O_RDONLY | O_DIRECTORY);
        write_file_atomic_at(dfd, "vm1.json", renamed, 0600);
        free(renamed);
        qc_err_clear(&err);
        ok(defs_load("vm1", &back, NULL, &err) < 0 && err.code == EINVAL && strstr(err.msg, "`vm2`"),
           "a definition that names another VM is refused (%s)", err.msg);
        write_file_atomic_at(dfd, "vm1.json", text, 0600);
}

struct set_vcpus {
        unsigned vcpus;
};

static int change_vcpus(struct vm_spec *s, void *ud, struct qc_err *err)
{
        s->cpu.vcpus = ((struct set_vcpus *)ud)->vcpus;
        return 0;
}

static void test_update(void)
{
        struct qc_err err = { 0 };
        struct spec_diags diags = { 0 };
        _cleanup_free_ char *before = NULL, *after = NULL;
        struct vm_spec *s = NULL;

        defs_read_text("vm1", &before, NULL);
        /* vcpus above cpu.max: the key table's own check refuses it */
        ok(defs_update("vm1", change_vcpus, &(struct set_vcpus){ 4 }, &diags, &err) < 0 && err.code == EINVAL,
           "an update that makes the definition invalid is refused (%s)", err.msg);
        ok(diags.n > 0, "with the problem at its place (%s: %s)", diags.n ? diags.v[0].path : "",
           diags.n ? diags.v[0].msg : "");
        spec_diags_done(&diags);
        defs_read_text("vm1", &after, NULL);
        is_str(after, before, "and nothing was written");
        qc_err_clear(&err);
        is_int(defs_update("vm1", change_vcpus, &(struct set_vcpus){ 1 }, NULL, &err), 0, "a valid update");
        qc_err_clear(&err);
        ok(defs_update("nope", change_vcpus, &(struct set_vcpus){ 1 }, NULL, &err) < 0 && err.code == ENOENT,
           "update of an undefined VM: ENOENT");

        /* edit: text replaced only when still what was read, and valid */
        qc_err_clear(&err);
        ok(defs_replace_text("vm1", "not what is stored", before, "/tmp", NULL, NULL, NULL, &err) < 0 && err.code == EAGAIN,
           "a definition changed meanwhile is not overwritten");
        qc_err_clear(&err);
        ok(defs_replace_text("vm1", before, "{ \"name\": \"vm1\", \"cpu\": { \"vcpus\": \"two\" } }", "/tmp", NULL, NULL,
                             &diags, &err) < 0 &&
                   err.code == EINVAL && diags.n == 1,
           "an invalid edit is refused with its problems");
        spec_diags_done(&diags);
        qc_err_clear(&err);
        ok(defs_replace_text("vm1", before, "{ \"name\": \"other\" }", "/tmp", NULL, NULL, &diags, &err) < 0 &&
                   err.code == EINVAL && strstr(err.msg, "undefine"),
           "a rename is refused and says what to do (%s)", err.msg);
        spec_diags_done(&diags);
        qc_err_clear(&err);
        ok(defs_replace_text("vm1", before, "{ \"name\": \"vm1\", \"boot\": { \"kernel\": \"k2\" } }", "/work/x", NULL, NULL,
                             NULL, &err) == 0,
           "a valid edit is saved");
        ok(defs_load("vm1", &s, NULL, &err) == 0, "load the edit");
        is_str(s ? s->boot.kernel : NULL, "/work/x/k2", "relative paths of an edit resolve against the given directory");
        spec_free(s);
}

static void test_autostart(void)
{
        struct qc_err err = { 0 };
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *link = NULL;
        char target[256] = "";

        is_int(defs_autostart("vm1", &err), 0, "not marked");
        ok(defs_set_autostart("vm1", false, &err) == 0, "unmarking an unmarked VM is fine");
        ok(defs_set_autostart("nope", true, &err) < 0 && err.code == ENOENT, "an undefined VM cannot be marked");
        ok(defs_set_autostart("vm1", true, &err) == 0, "mark");
        ok(defs_set_autostart("vm1", true, &err) == 0, "mark again");
        is_int(defs_autostart("vm1", &err), 1, "marked");
        ok(asprintf(&link, "%s/autostart/vm1.json", conf) > 0 && readlink(link, target, sizeof target - 1) > 0,
           "autostart/vm1.json is a symlink");
        is_str(target, "../vms/vm1.json", "to ../vms/vm1.json (libvirt's layout)");
        ok(defs_list_autostart(&names, &err) == 0 && names[0] && strcmp(names[0], "vm1") == 0 && !names[1],
           "list_autostart");
        ok(defs_remove("vm1", &err) == 0, "remove");
        is_int(defs_exists("vm1", &err), 0, "gone");
        ok(access(link, F_OK) < 0 && errno == ENOENT, "its autostart link too");
        qc_err_clear(&err);
        ok(defs_remove("vm1", &err) < 0 && err.code == ENOENT, "removing it again: ENOENT");
}

static void test_trust(void)
{
        struct qc_err err = { 0 };
        struct vm_spec *s = parse("/x/vm1.json", "{ \"name\": \"vm1\" }");

        chmod(conf, 0777);
        ok(defs_store(s, NULL, &err) < 0 && err.code == EPERM && strstr(err.msg, "chmod go-w"),
           "a store others can write is refused, with the fix (%s)", err.msg);
        qc_err_clear(&err);
        ok(defs_exists("vm1", &err) < 0 && err.code == EPERM, "and nothing in it is read");
        chmod(conf, 0700);
        spec_free(s);
}

int main(void)
{
        if (!mkdtemp(base))
                tap_skip_all("mkdtemp: %s", strerror(errno));
        snprintf(conf, sizeof conf, "%s/conf", base);
        test_dir();
        test_store();
        test_update();
        test_autostart();
        test_trust();
        _cleanup_free_ char *cmd = NULL;
        if (asprintf(&cmd, "rm -rf '%s'", base) > 0 && system(cmd) != 0)
                printf("# could not remove %s\n", base);
        return tap_done();
}
