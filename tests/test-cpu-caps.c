/* launcher/cpu-caps.c and cpu-check.c against a fake QEMU that answers as
 * QEMU 7.2 did: under KVM on an AMD Ryzen 9 3900X (libvirt's capture:
 * tests/data/cpu-caps/README.md), and under TCG here. What is asked, in
 * which order; the host-model chosen (libvirt chose EPYC-Rome for that
 * host); the checks of a VM file's cpu.model and cpu.features. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/io.h"
#include "common/strv.h"
#include "launcher/cpu-caps.h"
#include "launcher/cpu-check.h"
#include "qmp/qmp.h"
#include "tests/lib/fakeqmp-tap.h"
#include "tests/tap.h"

#define VERSION_720 "{\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, \"package\": \"v7.2.0\"}"

static char *srcdir;

/* a fixture as QEMU sends it: compact JSON on one line */
static char *fixture(const char *name)
{
        _cleanup_free_ char *p = NULL, *text = NULL;
        json_object *o;
        char *r;
        size_t len;

        if (asprintf(&p, "%s/tests/data/cpu-caps/%s", srcdir, name) < 0 || read_file(p, 1 << 22, &text, &len) < 0 ||
            !(o = json_tokener_parse(text))) {
                tap_diag("cannot read %s", p ? p : name);
                abort();
        }
        r = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        return r;
}

/* the static expansion of one model, as QEMU sends it (compact JSON) */
static char *model_static(json_object *all, const char *name)
{
        json_object *r = NULL;

        if (!json_object_object_get_ex(all, name, &r))
                abort();
        return strdup(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN));
}

static const char *const candidates[] = { "qemu64-v1", "kvm64-v1",     "Westmere-v1", "EPYC-v3", "EPYC-v2",
                                          "EPYC-v1",   "EPYC-Rome-v1", "Dhyana-v2",   "Conroe-v1", NULL };

static struct qmp *start(struct fakeqmp *f)
{
        struct qmp *q = NULL;
        struct qc_err err = { 0 };
        int fd;

        fakeqmp_wait_eof(f);
        if (fakeqmp_start(f, &fd) < 0 || qmp_open_fd(fd, 5000, &q, &err) < 0) {
                tap_diag("cannot start the fake: %s", err.msg);
                abort();
        }
        return q;
}

/* The probe's first three questions, in order, with these answers. */
static void expect_probe(struct fakeqmp *f, const char *defs, const char *max)
{
        fakeqmp_greet(f);
        fakeqmp_expect(f, "{\"execute\": \"query-version\"}");
        fakeqmp_reply(f, VERSION_720);
        fakeqmp_expect(f, "{\"execute\": \"query-cpu-definitions\"}");
        fakeqmp_reply(f, defs);
        fakeqmp_expect(f, "{\"execute\": \"query-cpu-model-expansion\", \"arguments\": {\"type\": \"full\", "
                          "\"model\": {\"name\": \"max\"}}}");
        fakeqmp_reply(f, max);
}

static const struct vm_cpu_feature *host_feature(const struct cpu_caps *c, const char *name)
{
        for (size_t i = 0; i < c->n_host_features; i++)
                if (strcmp(c->host_features[i].name, name) == 0)
                        return &c->host_features[i];
        return NULL;
}

static void test_kvm(void)
{
        _cleanup_free_ char *defs = fixture("definitions-kvm.json"), *max = fixture("max-full-tcg.json"),
                            *host = fixture("host-static.json"), *statics = fixture("models-static-tcg.json");
        json_object *all = json_tokener_parse(statics), *replies = NULL;
        struct fakeqmp *f = fakeqmp_new();
        struct cpu_caps c = { 0 }, again = { 0 };
        struct qc_err err = { 0 };
        struct qmp *q;
        /* libvirt's host-model features for this host (domcapabilities),
         * as QEMU names them; invtsc left out: QEMU's expansion of host has
         * it off (libvirt reads it from the host's CPUID itself) */
        static const char *const libvirt_requires[] = {
                "amd-ssbd", "arch-capabilities", "cmp-legacy", "hypervisor", "lbrv", "mds-no", "pause-filter",
                "pfthreshold", "pschange-mc-no", "rdctl-no", "skip-l1dfl-vmentry", "ssbd", "stibp", "svme-addr-chk",
                "tsc-deadline", "tsc-scale", "tsc-adjust", "v-vmsave-vmload", "vgif", "virt-ssbd", "vmcb-clean",
                "x2apic", "xsaves", NULL,
        };
        bool all_on = true;

        expect_probe(f, defs, max);
        fakeqmp_expect(f, "{\"execute\": \"query-cpu-model-expansion\", \"arguments\": {\"type\": \"static\", "
                          "\"model\": {\"name\": \"host\", \"props\": {\"migratable\": true}}}}");
        fakeqmp_reply(f, host);
        /* every model this host runs, migration-safe, not an alias, in QEMU's order */
        for (size_t i = 0; candidates[i]; i++) {
                _cleanup_free_ char *cmd = NULL, *r = model_static(all, candidates[i]);

                if (asprintf(&cmd,
                             "{\"execute\": \"query-cpu-model-expansion\", \"arguments\": {\"type\": \"static\", "
                             "\"model\": {\"name\": \"%s\"}}}",
                             candidates[i]) < 0)
                        abort();
                fakeqmp_expect(f, cmd);
                fakeqmp_reply(f, r);
        }
        q = start(f);
        is_int(cpu_caps_query(q, VM_ACCEL_KVM, &c, &replies, &err), 0, "KVM: asked");
        qmp_free(q);
        fakeqmp_check(f, "KVM: version, definitions, max, host, then each model the host runs");
        is_str(c.version, "7.2.0", "version");
        is_str(c.host_model, "EPYC-Rome-v1", "host-model on a Zen 2 host: EPYC-Rome-v1 (libvirt: EPYC-Rome)");
        for (size_t i = 0; libvirt_requires[i]; i++) {
                const struct vm_cpu_feature *h = host_feature(&c, libvirt_requires[i]);
                json_object *m = NULL, *props = NULL, *v = NULL;
                bool in_model;

                json_object_object_get_ex(all, "EPYC-Rome-v1", &m);
                json_object_object_get_ex(json_object_object_get(m, "model"), "props", &props);
                in_model = json_object_object_get_ex(props, libvirt_requires[i], &v) && json_object_get_boolean(v);
                /* on in the guest: required, or the model's and not turned off */
                if (!(h ? h->policy == VM_FEATURE_REQUIRE : in_model)) {
                        tap_diag("%s: %s", libvirt_requires[i], h ? "turned off" : "neither required nor the model's");
                        all_on = false;
                }
        }
        ok(all_on, "every feature libvirt adds to EPYC-Rome on that host is on in the guest here too");
        ok(host_feature(&c, "topoext") && host_feature(&c, "topoext")->policy == VM_FEATURE_DISABLE,
           "the model's topoext, which QEMU's host expansion has off: disabled");
        ok(!host_feature(&c, "sse2") && !host_feature(&c, "vendor") && !host_feature(&c, "family"),
           "features both have, and properties that are no features, are left out");
        ok(cpu_caps_model(&c, "EPYC-Rome") && !cpu_caps_model(&c, "EPYC-Bogus"), "models by name, aliases too");

        is_int(cpu_caps_from_replies(replies, VM_ACCEL_KVM, &again, &err), 0, "the cached replies read back");
        is_str(again.host_model, "EPYC-Rome-v1", "the same host-model from the cache");
        is_int((int)again.n_host_features, (int)c.n_host_features, "with the same features");

        /* host-model applied to a VM file: the file's own features win */
        {
                const char *text = "{ \"name\": \"hm\", \"accel\": \"kvm\", \"cpu\": { \"mode\": \"host-model\", "
                                   "\"features\": { \"x2apic\": \"disable\" } } }";
                _cleanup_(spec_freep) struct vm_spec *s = NULL;
                struct spec_diags d = { 0 };
                _cleanup_free_ char *note = NULL;
                bool x2apic_off = false;
                size_t n_x2apic = 0;

                if (spec_parse("hm.json", text, strlen(text), &s, &d, &err) < 0)
                        abort();
                is_int(cpu_apply_host_model(s, &again, &note, &err), 1, "host-model under KVM: expanded");
                ok(s->cpu.mode == VM_CPU_CUSTOM && s->cpu.model && strcmp(s->cpu.model, "EPYC-Rome-v1") == 0,
                   "the spec is custom EPYC-Rome-v1 now (dump, migrate and restore see it)");
                for (size_t i = 0; i < s->cpu.n_features; i++)
                        if (strcmp(s->cpu.features[i].name, "x2apic") == 0) {
                                n_x2apic++;
                                x2apic_off = s->cpu.features[i].policy == VM_FEATURE_DISABLE;
                        }
                ok(n_x2apic == 1 && x2apic_off, "the file's x2apic: disable stays, once");
                ok(note && tap_contains(note, "host-model is EPYC-Rome-v1 here"), "and the note says so");
                spec_diags_done(&d);
        }
        json_object_put(replies);
        json_object_put(all);
        cpu_caps_done(&c);
        cpu_caps_done(&again);
}

/* the replies of the TCG probe, as cpu_caps_from_replies reads them */
static int tcg_caps(struct cpu_caps *c)
{
        _cleanup_free_ char *defs = fixture("definitions-kvm.json"), *max = fixture("max-full-tcg.json");
        json_object *r = json_object_new_object();
        struct qc_err err = { 0 };
        int ret;

        json_object_object_add(r, "version", json_object_new_string("7.2.22"));
        json_object_object_add(r, "definitions", json_tokener_parse(defs));
        json_object_object_add(r, "max", json_tokener_parse(max));
        ret = cpu_caps_from_replies(r, VM_ACCEL_TCG, c, &err);
        json_object_put(r);
        return ret;
}

static void test_tcg_query(void)
{
        _cleanup_free_ char *defs = fixture("definitions-kvm.json"), *max = fixture("max-full-tcg.json");
        struct fakeqmp *f = fakeqmp_new();
        struct cpu_caps c = { 0 };
        struct qc_err err = { 0 };
        struct qmp *q;

        expect_probe(f, defs, max);
        q = start(f);
        is_int(cpu_caps_query(q, VM_ACCEL_TCG, &c, NULL, &err), 0, "TCG: asked");
        qmp_free(q);
        fakeqmp_check(f, "TCG: no host expansion (QEMU has no host CPU under TCG)");
        ok(!c.host_model && !c.n_host_features, "no host-model under TCG");
        is_int(cpu_caps_feature(&c, "avx512f"), 0, "avx512f: a feature TCG cannot give");
        is_int(cpu_caps_feature(&c, "avx2"), 1, "avx2: one it gives (QEMU 7.2 emulates AVX2)");
        is_int(cpu_caps_feature(&c, "sse4_2"), 1, "sse4_2: QEMU's '_' spelling of sse4-2");
        is_int(cpu_caps_feature(&c, "lahf_lm"), 1, "lahf_lm, as the property alias it is");
        is_int(cpu_caps_feature(&c, "notafeature"), -1, "an unknown name");
        is_int(cpu_caps_feature(&c, "vendor"), -1, "a property that is no boolean is no feature");
        cpu_caps_done(&c);
}

static void test_check(void)
{
        const char *text = "{ \"name\": \"c\", \"accel\": \"tcg\",\n"
                           "  \"cpu\": { \"model\": \"Westmere-bogus\",\n"
                           "    \"features\": { \"notafeatur\": \"require\", \"avx512f\": \"require\", \"sse2\": "
                           "\"forbid\",\n"
                           "                  \"sse4_2\": \"require\", \"avx512bw\": \"forbid\", \"avx521f\": "
                           "\"optional\" } } }";
        _cleanup_(spec_freep) struct vm_spec *s = NULL;
        struct spec_diags d = { 0 }, notes = { 0 };
        struct cpu_caps c = { 0 };
        struct qc_err err = { 0 };
        _cleanup_strv_free_ char **got = NULL;
        strv v = { 0 };

        if (tcg_caps(&c) < 0 || spec_parse("c.json", text, strlen(text), &s, &d, &err) < 0)
                abort();
        is_int(spec_check_cpu(s, &c, true, &d, &notes, &err), -1, "a bad CPU: refused");
        is_int(err.code, EINVAL, "EINVAL");
        for (size_t i = 0; i < d.n; i++) {
                _cleanup_free_ char *line = spec_diag_format("c.json", &d.v[i]);
                strv_push(&v, line);
        }
        got = strv_steal(&v);
        is_int((int)strv_length(got), 5, "five problems");
        ok(got[0] && tap_contains(got[0], "c.json:2:21: cpu.model: \"Westmere-bogus\" is not a CPU model") &&
                   tap_contains(got[0], "did you mean one of Westmere-v2, Westmere-v1?"),
           "unknown model, at its place, with its family");
        ok(got[1] && tap_contains(got[1], "c.json:3:19: cpu.features.notafeatur: not a CPU feature"),
           "unknown feature at its place");
        ok(got[2] && tap_contains(got[2], "cpu.features.avx512f: required, but TCG cannot give the guest avx512f"),
           "require of what TCG lacks");
        ok(got[3] && tap_contains(got[3], "cpu.features.sse2: forbidden, but TCG has sse2"),
           "forbid of what TCG has");
        ok(got[4] && tap_contains(got[4], "cpu.features.avx521f: not a CPU feature") &&
                   tap_contains(got[4], "did you mean \"avx512f\"?"),
           "a typo: did you mean");
        spec_diags_done(&d);
        is_int(spec_check_cpu(s, &c, false, &d, NULL, &err), -1, "names only (the accelerator not known)");
        is_int((int)d.n, 3, "then the policies are not judged: the three names");
        spec_diags_done(&d);
        spec_diags_done(&notes);
        cpu_caps_done(&c);
}

static void test_notes(void)
{
        const char *text = "{ \"name\": \"n\", \"accel\": \"tcg\", \"cpu\": { \"model\": \"Haswell-v4\", "
                           "\"features\": { \"pcid\": \"disable\" } } }";
        _cleanup_(spec_freep) struct vm_spec *s = NULL;
        struct spec_diags d = { 0 }, notes = { 0 };
        struct cpu_caps c = { 0 };
        struct qc_err err = { 0 };
        _cleanup_free_ char *note = NULL;

        if (tcg_caps(&c) < 0 || spec_parse("n.json", text, strlen(text), &s, &d, &err) < 0)
                abort();
        is_int(spec_check_cpu(s, &c, true, &d, &notes, &err), 0, "a model the host cannot run fully: fine");
        is_int((int)notes.n, 1, "one note");
        ok(notes.n && tap_contains(notes.v[0].msg, "lacks 3 features of Haswell-v4: erms, invpcid, spec-ctrl"),
           "naming the features QEMU will turn off, not the one the file disables");
        is_int(cpu_apply_host_model(s, &c, &note, &err), 0, "custom: nothing to expand");
        ok(!note, "and nothing to say");
        spec_diags_done(&notes);
        cpu_caps_done(&c);
}

/* cpu_check_host starts QEMU only for a file that names a model, a
 * feature or host-model under KVM: a binary that is not there shows whether
 * it was asked (ENOENT) */
static void test_asks_only_when_named(void)
{
        static const struct {
                const char *cpu;
                enum vm_accel accel;
                int want;
                const char *what;
        } cases[] = {
                { "\"mode\": \"host-passthrough\"", VM_ACCEL_KVM, 0, "host-passthrough: QEMU not asked" },
                { "\"mode\": \"host-model\"", VM_ACCEL_TCG, 0, "host-model under TCG: not asked" },
                { "\"mode\": \"host-model\"", VM_ACCEL_KVM, -1, "host-model under KVM: asked" },
                { "\"mode\": \"host-passthrough\", \"features\": { \"vmx\": \"require\" }", VM_ACCEL_KVM, -1,
                  "host-passthrough with a feature: asked" },
                { "\"model\": \"qemu64\"", VM_ACCEL_TCG, -1, "a model: asked" },
        };

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                _cleanup_(spec_freep) struct vm_spec *s = NULL;
                _cleanup_free_ char *text = NULL;
                struct spec_diags d = { 0 };
                struct qc_err err = { 0 };
                int r;

                if (asprintf(&text,
                             "{ \"name\": \"a\", \"accel\": \"auto\", \"cpu\": { %s }, "
                             "\"qemu\": { \"binary\": \"/nonexistent/qemu-system-x86_64\" } }",
                             cases[i].cpu) < 0 ||
                    spec_parse("a.json", text, strlen(text), &s, &d, &err) < 0)
                        abort();
                r = cpu_check_host(s, cases[i].accel, true, &d, NULL, &err);
                ok(r == cases[i].want && (r == 0 || err.code == ENOENT) && d.n == 0, "%s", cases[i].what);
                /* define's check: names only, host-model left to the start */
                r = cpu_check_names(s, cases[i].accel, &d, &err);
                ok(r == (s->cpu.mode == VM_CPU_HOST_MODEL ? 0 : cases[i].want) && d.n == 0,
                   "names only: %s", cases[i].what);
                spec_diags_done(&d);
        }
}

static void test_bad_replies(void)
{
        struct qmp_cpu_def_list *l = NULL;
        struct qmp_cpu_model m = { 0 };
        struct cpu_caps c = { 0 };
        struct qc_err err = { 0 };
        json_object *o;

        o = json_tokener_parse("{\"name\": \"max\"}");
        is_int(qmp_cpu_definitions_parse(o, &l, &err), -1, "definitions: not an array");
        is_int(err.code, EPROTO, "EPROTO");
        json_object_put(o);
        o = json_tokener_parse("[{\"name\": \"max\", \"unavailable-features\": [1]}]");
        is_int(qmp_cpu_definitions_parse(o, &l, &err), -1, "a feature that is a number");
        json_object_put(o);
        o = json_tokener_parse("[{\"typename\": \"max-x86_64-cpu\"}]");
        is_int(qmp_cpu_definitions_parse(o, &l, &err), -1, "a definition without a name");
        json_object_put(o);
        o = json_tokener_parse("[{\"name\": \"x\"}]");
        is_int(qmp_cpu_definitions_parse(o, &l, &err), 0, "no unavailable-features: fine");
        ok(l && l->n == 1 && !l->defs[0].unavailable_known && !l->defs[0].unavailable[0], "and said unknown");
        qmp_cpu_def_list_free(l);
        json_object_put(o);
        o = json_tokener_parse("{\"model\": {\"props\": {}}}");
        is_int(qmp_cpu_model_parse(o, &m, &err), -1, "an expansion without a name");
        json_object_put(o);
        o = json_tokener_parse("{\"version\": \"7.2.0\", \"definitions\": []}");
        is_int(cpu_caps_from_replies(o, VM_ACCEL_TCG, &c, &err), -1, "replies without max");
        is_int(err.code, EPROTO, "EPROTO");
        json_object_put(o);
}

int main(void)
{
        srcdir = tap_srcdir();
        test_kvm();
        test_tcg_query();
        test_check();
        test_notes();
        test_asks_only_when_named();
        test_bad_replies();
        free(srcdir);
        return tap_done();
}
