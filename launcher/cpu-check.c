/* The VM file's CPU against the QEMU binary that will run it (cpu-check.h). */
#include "cpu-check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/cleanup.h"
#include "../common/strv.h"
#include "../qmp/qmp.h"
#include "spec-internal.h"

/* "did you mean" among names (a NULL-terminated vector), or "" */
static void suggestion(const char *word, char *const *names, char *buf, size_t len)
{
        const char *best = spec_suggest(word, (const char *const *)names);

        if (best)
                snprintf(buf, len, "; did you mean \"%s\"?", best);
        else
                buf[0] = '\0';
}

/* "Westmere-bogus": the models named Westmere or Westmere-... */
static void family_hint(const char *model, char *const *names, char *buf, size_t len)
{
        size_t fam = strcspn(model, "-"), used = 0;
        int n = 0;

        buf[0] = '\0';
        for (size_t i = 0; names[i] && used < len; i++) {
                int w;

                if (strncasecmp(names[i], model, fam) != 0 || (names[i][fam] != '\0' && names[i][fam] != '-'))
                        continue;
                w = snprintf(buf + used, len - used, "%s%s", n++ ? ", " : "; did you mean one of ", names[i]);
                if (w < 0 || (size_t)w >= len - used) {
                        buf[used] = '\0';
                        break;
                }
                used += (size_t)w;
        }
        if (n && used + 1 < len)
                strcat(buf, "?");
}

static char **model_names(const struct cpu_caps *caps)
{
        strv v = { 0 };

        for (size_t i = 0; i < caps->defs->n; i++)
                if (strv_push(&v, caps->defs->defs[i].name) < 0) {
                        strv_done(&v);
                        return NULL;
                }
        return strv_steal(&v);
}

static const char *accel_name(const struct cpu_caps *caps)
{
        return caps->accel == VM_ACCEL_KVM ? "KVM on this host" : "TCG";
}

static void check_model(const struct vm_spec *spec, const struct cpu_caps *caps, struct spec_ctx *c,
                        struct spec_ctx *notes)
{
        const char *model = spec->cpu.model;
        const struct qmp_cpu_def *d;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_(strv_donep) strv off = { 0 };
        char hint[512];

        if (spec->cpu.mode != VM_CPU_CUSTOM || !model)
                return;
        if (!(d = cpu_caps_model(caps, model))) {
                if (!(names = model_names(caps))) {
                        c->oom = true;
                        return;
                }
                suggestion(model, names, hint, sizeof hint);
                if (!hint[0])
                        family_hint(model, names, hint, sizeof hint);
                diag_at(c, spec->cpu.model_line, spec->cpu.model_col, "cpu.model",
                        "\"%s\" is not a CPU model of %s (QEMU %s)%s (qemuctl cpu-models lists them)", model,
                        caps->binary ? caps->binary : "QEMU", caps->version, hint);
                return;
        }
        if (!notes || !d->unavailable[0])
                return;
        /* what QEMU will turn off, with a warning in its log: the model's
         * features the accelerator lacks and the VM file leaves alone */
        for (size_t i = 0; d->unavailable[i]; i++) {
                bool named = false;

                for (size_t j = 0; j < spec->cpu.n_features; j++)
                        named |= strcmp(spec->cpu.features[j].name, d->unavailable[i]) == 0;
                if (!named && strv_push(&off, d->unavailable[i]) < 0) {
                        c->oom = true;
                        return;
                }
        }
        if (off.n) {
                _cleanup_free_ char *list = strv_join(off.v, ", ");

                if (!list) {
                        c->oom = true;
                        return;
                }
                diag_at(notes, spec->cpu.model_line, spec->cpu.model_col, "cpu.model",
                        "%s lacks %zu feature%s of %s: %s; QEMU turns %s off", accel_name(caps), off.n,
                        off.n == 1 ? "" : "s", model, list, off.n == 1 ? "it" : "them");
        }
}

static void check_features(const struct vm_spec *spec, const struct cpu_caps *caps, bool check_available,
                           struct spec_ctx *c)
{
        for (size_t i = 0; i < spec->cpu.n_features; i++) {
                const struct vm_cpu_feature *f = &spec->cpu.features[i];
                _cleanup_free_ char *path = NULL;
                int has = cpu_caps_feature(caps, f->name);
                char hint[128];

                if (asprintf(&path, "cpu.features.%s", f->name) < 0) {
                        c->oom = true;
                        return;
                }
                if (has < 0) {
                        suggestion(f->name, caps->features, hint, sizeof hint);
                        diag_at(c, f->line, f->col, path, "not a CPU feature of %s (QEMU %s)%s",
                                caps->binary ? caps->binary : "QEMU", caps->version, hint);
                } else if (check_available && f->policy == VM_FEATURE_REQUIRE && !has) {
                        diag_at(c, f->line, f->col, path,
                                "required, but %s cannot give the guest %s; make it \"optional\" (on where there "
                                "is one) or \"disable\", or start the VM on a host that has it",
                                accel_name(caps), f->name);
                } else if (check_available && f->policy == VM_FEATURE_FORBID && has) {
                        diag_at(c, f->line, f->col, path,
                                "forbidden, but %s has %s (\"forbid\" refuses a host that has the feature, as "
                                "libvirt's does); to start with it turned off, write \"disable\"",
                                accel_name(caps), f->name);
                }
        }
}

int spec_check_cpu(const struct vm_spec *spec, const struct cpu_caps *caps, bool check_available,
                   struct spec_diags *diags, struct spec_diags *notes, struct qc_err *err)
{
        struct spec_ctx c = { .file = spec->path, .diags = diags, .origins = spec->origins },
                        n = { .file = spec->path, .diags = notes, .origins = spec->origins };
        size_t before = diags->n;

        check_model(spec, caps, &c, notes ? &n : NULL);
        check_features(spec, caps, check_available, &c);
        if (c.oom || n.oom)
                return qc_err_sys(err, ENOMEM, "cpu");
        if (diags->n > before)
                return qc_err_set(err, EINVAL, "%s: %zu problem%s with its CPU", spec->path ? spec->path : "-",
                                  diags->n - before, diags->n - before == 1 ? "" : "s");
        return 0;
}

int cpu_apply_host_model(struct vm_spec *spec, const struct cpu_caps *caps, char **ret_note, struct qc_err *err)
{
        _cleanup_free_ struct vm_cpu_feature *fs = NULL;
        _cleanup_free_ char *model = NULL;
        size_t n = 0, on = 0, off = 0;

        *ret_note = NULL;
        if (spec->cpu.mode != VM_CPU_HOST_MODEL || caps->accel != VM_ACCEL_KVM)
                return 0;
        if (!caps->host_model) {
                if (asprintf(ret_note,
                             "host-model: none of %s's CPU models fits this host's CPU; it runs as -cpu "
                             "host,migratable=on (not recorded as a model: a start elsewhere gets that host's CPU)",
                             caps->binary) < 0)
                        return qc_err_sys(err, ENOMEM, "cpu");
                return 0;
        }
        if (!(model = strdup(caps->host_model)) ||
            !(fs = calloc(caps->n_host_features + spec->cpu.n_features + 1, sizeof *fs)))
                return qc_err_sys(err, ENOMEM, "cpu");
        /* the VM file's own features win over the host's */
        for (size_t i = 0; i < spec->cpu.n_features; i++)
                fs[n++] = spec->cpu.features[i];
        for (size_t i = 0; i < caps->n_host_features; i++) {
                bool given = false;

                for (size_t j = 0; j < spec->cpu.n_features; j++)
                        given |= strcmp(spec->cpu.features[j].name, caps->host_features[i].name) == 0;
                if (given)
                        continue;
                fs[n] = (struct vm_cpu_feature){ .name = strdup(caps->host_features[i].name),
                                                 .policy = caps->host_features[i].policy };
                if (!fs[n].name) {
                        for (size_t j = spec->cpu.n_features; j < n; j++)
                                free(fs[j].name);
                        return qc_err_sys(err, ENOMEM, "cpu");
                }
                if (fs[n++].policy == VM_FEATURE_DISABLE)
                        off++;
                else
                        on++;
        }
        if (asprintf(ret_note,
                     "host-model is %s here, with %zu feature%s of this host on and %zu off (QEMU's "
                     "expansion of the host CPU, recorded in the VM's spec: dump, migrate and restore keep it)",
                     model, on, on == 1 ? "" : "s", off) < 0)
                *ret_note = NULL;
        free(spec->cpu.model);
        spec->cpu.model = TAKE_PTR(model);
        spec->cpu.model_line = spec->cpu.model_col = 0;
        free(spec->cpu.features);
        spec->cpu.features = TAKE_PTR(fs);
        spec->cpu.n_features = n;
        spec->cpu.mode = VM_CPU_CUSTOM;
        return 1;
}

/* The caps of spec's qemu.binary under accel (KVM, else TCG) when spec
 * names something to check there: a model, a feature, or (expand)
 * host-model to expand under KVM. 1 with ret; 0 when QEMU need not be
 * asked (host-passthrough without features); -1 with err. */
static int caps_for(const struct vm_spec *spec, enum vm_accel accel, bool expand, struct cpu_caps *ret,
                    struct qc_err *err)
{
        accel = accel == VM_ACCEL_KVM ? VM_ACCEL_KVM : VM_ACCEL_TCG;
        if (!(spec->cpu.mode == VM_CPU_CUSTOM && spec->cpu.model) && spec->cpu.n_features == 0 &&
            !(expand && spec->cpu.mode == VM_CPU_HOST_MODEL && accel == VM_ACCEL_KVM))
                return 0;
        if (cpu_caps_get(spec->qemu.binary ? spec->qemu.binary : "qemu-system-x86_64", accel, false, ret, err) < 0)
                return qc_err_wrap(err, "the CPU models of qemu.binary");
        return 1;
}

int cpu_check_names(const struct vm_spec *spec, enum vm_accel accel, struct spec_diags *diags, struct qc_err *err)
{
        struct cpu_caps caps = { 0 };
        int r = caps_for(spec, accel, false, &caps, err);

        if (r <= 0)
                return r;
        r = spec_check_cpu(spec, &caps, false, diags, NULL, err);
        cpu_caps_done(&caps);
        return r;
}

int cpu_check_host(struct vm_spec *spec, enum vm_accel accel, bool check_available, struct spec_diags *diags,
                   struct spec_diags *notes, struct qc_err *err)
{
        struct spec_ctx n = { .file = spec->path, .diags = notes, .origins = spec->origins };
        struct cpu_caps caps = { 0 };
        _cleanup_free_ char *note = NULL;
        int r = caps_for(spec, accel, true, &caps, err);

        if (r <= 0)
                return r;
        r = spec_check_cpu(spec, &caps, check_available, diags, notes, err);
        if (r == 0 && cpu_apply_host_model(spec, &caps, &note, err) < 0)
                r = -1;
        if (r == 0 && note && notes) {
                diag_at(&n, 0, 0, "cpu.mode", "%s", note);
                if (n.oom)
                        r = qc_err_sys(err, ENOMEM, "cpu");
        }
        cpu_caps_done(&caps);
        return r;
}
