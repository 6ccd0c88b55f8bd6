/* The CPU models and features of a QEMU binary, asked once and cached
 * (cpu-caps.h). */
#include "cpu-caps.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/io.h"
#include "../common/strv.h"
#include "../qmp/qmp.h"
#include "paths.h"
#include "spawn.h"

#define CACHE_FORMAT 1
#define CACHE_MAX (32u << 20)
#define PROBE_TIMEOUT_MS 30000

int cpu_caps_cache_dir(char **ret, struct qc_err *err)
{
        return user_base_dir("QEMUCTL_CACHEDIR", "/var/cache/qemuctl", "XDG_CACHE_HOME", ".cache",
                             "the cache of what QEMU binaries can do", ret, err);
}

void cpu_caps_done(struct cpu_caps *c)
{
        free(c->binary);
        free(c->version);
        free(c->package);
        qmp_cpu_def_list_free(c->defs);
        strv_free(c->features);
        strv_free(c->available);
        free(c->host_model);
        for (size_t i = 0; i < c->n_host_features; i++)
                free(c->host_features[i].name);
        free(c->host_features);
        *c = (struct cpu_caps){ 0 };
}

const struct qmp_cpu_def *cpu_caps_model(const struct cpu_caps *c, const char *name)
{
        return qmp_cpu_def_find(c->defs, name);
}

static bool sorted_has(char *const *v, const char *s)
{
        size_t lo = 0, hi = strv_length(v);

        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                int r = strcmp(v[mid], s);

                if (r == 0)
                        return true;
                if (r < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return false;
}

int cpu_caps_feature(const struct cpu_caps *c, const char *name)
{
        char prop[128];

        /* no QEMU property is that long (a VM file's names are 64 at most) */
        if (strlen(name) >= sizeof prop)
                return -1;
        /* QEMU's x86 -cpu parser turns '_' into '-' before it looks the
         * property up (target/i386/cpu.c, feat2prop) */
        for (size_t i = 0; i == 0 || name[i - 1]; i++)
                prop[i] = name[i] == '_' ? '-' : name[i];
        if (!sorted_has(c->features, name) && !sorted_has(c->features, prop))
                return -1;
        return sorted_has(c->available, name) || sorted_has(c->available, prop);
}

/* The booleans of an expansion's props: all of them, and those on. */
static int bool_props(json_object *props, strv *all, strv *on)
{
        json_object_object_foreach(props, k, v)
        {
                if (!json_object_is_type(v, json_type_boolean))
                        continue;
                if ((all && strv_push(all, k) < 0) || (on && json_object_get_boolean(v) && strv_push(on, k) < 0))
                        return -ENOMEM;
        }
        if (all)
                strv_sort(all);
        if (on)
                strv_sort(on);
        return 0;
}

static json_object *member(json_object *o, const char *key)
{
        json_object *v = NULL;

        return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static bool host_model_candidate(const struct qmp_cpu_def *d)
{
        /* a versioned name means one CPU in every QEMU to come; an alias
         * ("Haswell") may point to another version one day */
        return d->unavailable_known && !d->unavailable[0] && d->migration_safe && !d->deprecated && !d->alias_of &&
               strcmp(d->name, "max") != 0 && strcmp(d->name, "host") != 0 && strcmp(d->name, "base") != 0;
}

/* libvirt's host-model, with QEMU's data instead of libvirt's CPU map: of
 * the models this host runs (no unavailable features under KVM),
 * migration-safe and of the host's vendor, the one that needs the fewest
 * features turned on or off to become the host (libvirt's x86Decode weighs
 * candidates so), the one sharing more on a tie; then the host's other
 * features on and the model's missing ones off. Fewest to turn off alone
 * would pick qemu64 on an EPYC host: QEMU's expansion of the host leaves
 * off a feature or two (topoext) that every EPYC model has. statics: name
 * -> static expansion of each candidate. */
static int choose_host_model(struct cpu_caps *c, json_object *host, json_object *statics, struct qc_err *err)
{
        struct qmp_cpu_model h = { 0 };
        _cleanup_(strv_donep) strv hon = { 0 };
        const char *vendor, *best = NULL;
        size_t best_cost = SIZE_MAX, best_shared = 0;
        _cleanup_(strv_donep) strv bon = { 0 };
        size_t n = 0;

        if (qmp_cpu_model_parse(host, &h, err) < 0)
                return qc_err_wrap(err, "host CPU");
        vendor = qmp_member_string(h.props, "vendor");
        if (bool_props(h.props, NULL, &hon) < 0) {
                qmp_cpu_model_done(&h);
                return qc_err_sys(err, ENOMEM, "host CPU");
        }
        for (size_t i = 0; i < c->defs->n; i++) {
                const struct qmp_cpu_def *d = &c->defs->defs[i];
                json_object *r = member(statics, d->name);
                struct qmp_cpu_model m = { 0 };
                _cleanup_(strv_donep) strv on = { 0 };
                size_t missing = 0, shared = 0;
                const char *mv;

                if (!host_model_candidate(d) || !r)
                        continue;
                if (qmp_cpu_model_parse(r, &m, err) < 0) {
                        qmp_cpu_model_done(&h);
                        return qc_err_wrap(err, "model %s", d->name);
                }
                mv = qmp_member_string(m.props, "vendor");
                if (bool_props(m.props, NULL, &on) < 0) {
                        qmp_cpu_model_done(&m);
                        qmp_cpu_model_done(&h);
                        return qc_err_sys(err, ENOMEM, "host CPU");
                }
                for (size_t j = 0; j < on.n; j++)
                        if (sorted_has(hon.v, on.v[j]))
                                shared++;
                        else
                                missing++;
                /* to turn off (the model's, the host lacks) + to turn on (the host's beyond it) */
                size_t cost = missing + (hon.n - shared);

                if ((!vendor || !mv || strcmp(vendor, mv) == 0) &&
                    (cost < best_cost || (cost == best_cost && shared > best_shared))) {
                        best = d->name;
                        best_cost = cost;
                        best_shared = shared;
                        strv_done(&bon);
                        bon = on;
                        on = (strv){ 0 };
                }
                qmp_cpu_model_done(&m);
        }
        if (!best) {
                qmp_cpu_model_done(&h);
                return 0;
        }
        /* the host's features beyond the model, on; the model's the host lacks, off */
        c->host_features = calloc(hon.n + bon.n + 1, sizeof *c->host_features);
        if (!c->host_features || !(c->host_model = strdup(best))) {
                qmp_cpu_model_done(&h);
                return qc_err_sys(err, ENOMEM, "host CPU");
        }
        for (size_t j = 0; j < hon.n; j++)
                if (!sorted_has(bon.v, hon.v[j]))
                        c->host_features[n++] = (struct vm_cpu_feature){ .name = strdup(hon.v[j]),
                                                                         .policy = VM_FEATURE_REQUIRE };
        for (size_t j = 0; j < bon.n; j++)
                if (!sorted_has(hon.v, bon.v[j]))
                        c->host_features[n++] = (struct vm_cpu_feature){ .name = strdup(bon.v[j]),
                                                                         .policy = VM_FEATURE_DISABLE };
        c->n_host_features = n;
        qmp_cpu_model_done(&h);
        for (size_t j = 0; j < n; j++)
                if (!c->host_features[j].name)
                        return qc_err_sys(err, ENOMEM, "host CPU");
        return 0;
}

int cpu_caps_from_replies(json_object *replies, enum vm_accel accel, struct cpu_caps *ret, struct qc_err *err)
{
        struct cpu_caps c = { .accel = accel };
        struct qmp_cpu_model max = { 0 };
        _cleanup_(strv_donep) strv all = { 0 }, on = { 0 };
        json_object *v = member(replies, "version"), *host = member(replies, "host");

        if (!json_object_is_type(replies, json_type_object) || !json_object_is_type(v, json_type_string))
                return qc_err_set(err, EPROTO, "no QEMU version in the replies");
        if (!(c.version = strdup(json_object_get_string(v))) ||
            !(c.package = strdup(qmp_member_string(replies, "package") ? qmp_member_string(replies, "package") : "")))
                return qc_err_sys(err, ENOMEM, "CPU models");
        if (qmp_cpu_definitions_parse(member(replies, "definitions"), &c.defs, err) < 0 ||
            qmp_cpu_model_parse(member(replies, "max"), &max, err) < 0) {
                cpu_caps_done(&c);
                return -1;
        }
        if (bool_props(max.props, &all, &on) < 0) {
                qmp_cpu_model_done(&max);
                cpu_caps_done(&c);
                return qc_err_sys(err, ENOMEM, "CPU models");
        }
        qmp_cpu_model_done(&max);
        c.features = strv_steal(&all);
        c.available = strv_steal(&on);
        if (!c.features || !c.available) {
                cpu_caps_done(&c);
                return qc_err_sys(err, ENOMEM, "CPU models");
        }
        if (host && choose_host_model(&c, host, member(replies, "static"), err) < 0) {
                cpu_caps_done(&c);
                return -1;
        }
        *ret = c;
        return 0;
}

static int add_reply(json_object *replies, const char *key, json_object *r, struct qc_err *err)
{
        if (json_object_object_add(replies, key, r) < 0) {
                json_object_put(r);
                return qc_err_sys(err, ENOMEM, "CPU models");
        }
        return 0;
}

int cpu_caps_query(struct qmp *q, enum vm_accel accel, struct cpu_caps *ret, json_object **ret_replies,
                   struct qc_err *err)
{
        _cleanup_json_ json_object *replies = json_object_new_object(), *statics = json_object_new_object();
        _cleanup_(qmp_cpu_def_list_freep) struct qmp_cpu_def_list *defs = NULL;
        struct qmp_version ver = { 0 };
        struct qmp_cpu_model m = { 0 };
        json_object *raw = NULL;
        char *vs = NULL;

        if (!replies || !statics)
                return qc_err_sys(err, ENOMEM, "CPU models");
        if (qmp_query_version(q, &ver, err) < 0)
                return -1;
        if (asprintf(&vs, "%d.%d.%d", ver.major, ver.minor, ver.micro) < 0)
                vs = NULL;
        if (!vs || add_reply(replies, "version", json_object_new_string(vs), err) < 0 ||
            add_reply(replies, "package", json_object_new_string(ver.package ? ver.package : ""), err) < 0) {
                free(vs);
                qmp_version_done(&ver);
                return qc_err_sys(err, ENOMEM, "CPU models");
        }
        free(vs);
        qmp_version_done(&ver);
        if (qmp_query_cpu_definitions(q, &defs, &raw, err) < 0 || add_reply(replies, "definitions", raw, err) < 0)
                return -1;
        /* `max`, fully expanded: every property, the features among them
         * on where this accelerator gives them to a guest */
        if (qmp_query_cpu_model_expansion(q, "full", "max", NULL, &m, &raw, err) < 0 ||
            add_reply(replies, "max", raw, err) < 0)
                return -1;
        qmp_cpu_model_done(&m);
        if (accel == VM_ACCEL_KVM) {
                /* what libvirt asks for host-model: the host CPU, only what
                 * can be migrated, statically (a named base plus features) */
                json_object *props = json_object_new_object();

                if (!props)
                        return qc_err_sys(err, ENOMEM, "CPU models");
                json_object_object_add(props, "migratable", json_object_new_boolean(true));
                if (qmp_query_cpu_model_expansion(q, "static", "host", props, &m, &raw, err) < 0 ||
                    add_reply(replies, "host", raw, err) < 0)
                        return qc_err_wrap(err, "host CPU");
                qmp_cpu_model_done(&m);
                for (size_t i = 0; i < defs->n; i++) {
                        if (!host_model_candidate(&defs->defs[i]))
                                continue;
                        if (qmp_query_cpu_model_expansion(q, "static", defs->defs[i].name, NULL, &m, &raw, err) < 0 ||
                            add_reply(statics, defs->defs[i].name, raw, err) < 0)
                                return qc_err_wrap(err, "model %s", defs->defs[i].name);
                        qmp_cpu_model_done(&m);
                }
                if (add_reply(replies, "static", json_object_get(statics), err) < 0)
                        return -1;
        }
        if (cpu_caps_from_replies(replies, accel, ret, err) < 0)
                return -1;
        if (ret_replies)
                *ret_replies = TAKE_PTR(replies);
        return 0;
}

/* ---- the probe: QEMU with -machine none, QMP on its stdio ---- */

static int probe(const char *binary, enum vm_accel accel, struct cpu_caps *ret, json_object **ret_replies,
                 struct qc_err *err)
{
        const char *argv[] = { binary, "-machine", "none", "-nodefaults", "-no-user-config", "-display", "none",
                               "-accel", accel == VM_ACCEL_KVM ? "kvm" : "tcg", "-qmp", "stdio", NULL };
        _cleanup_close_ int errfd = memfd_create("qemu-probe-stderr", MFD_CLOEXEC);
        _cleanup_qmp_ struct qmp *q = NULL;
        struct qc_err e = { 0 };
        int sv[2], status, r;
        pid_t pid;

        if (errfd < 0)
                return qc_err_sys(err, errno, "memfd");
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return qc_err_sys(err, errno, "socketpair");
        /* as start runs QEMU (a clean environment, no fd of ours but the
         * socket), and gone with us if we die before we kill it */
        r = spawn_process(&(struct spawn_opts){ .argv = (char *const *)argv,
                                                .stdin_fd = sv[1],
                                                .stdout_fd = sv[1],
                                                .stderr_fd = errfd,
                                                .parent_death_signal = SIGKILL },
                          &pid, err);
        close(sv[1]);
        if (r < 0) {
                close(sv[0]);
                return -1;
        }
        r = qmp_open_fd(sv[0], PROBE_TIMEOUT_MS, &q, &e);
        if (r == 0)
                r = cpu_caps_query(q, accel, ret, ret_replies, &e);
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (r < 0) {
                _cleanup_free_ char *text = NULL, *tail = NULL;
                size_t len = 0;

                /* QEMU's own words, where it said why it stopped */
                if (lseek(errfd, 0, SEEK_SET) == 0 && read_fd_all(errfd, 64 * 1024, &text, &len) == 0 && len &&
                    (tail = text_tail(text, len, 400)))
                        return qc_err_set(err, e.code ? e.code : EIO, "%s -machine none -accel %s: %s", binary,
                                          argv[8], tail);
                if (err)
                        *err = e;
                return qc_err_wrap(err, "%s -machine none -accel %s", binary, argv[8]);
        }
        return 0;
}

/* ---- the cache ---- */

static uint64_t fnv1a(uint64_t h, const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                h ^= (unsigned char)s[i];
                h *= 0x100000001b3ull;
        }
        return h;
}

struct cache_key {
        const char *binary;
        enum vm_accel accel;
        long long size, mtime_ns;
};

static char *cache_name(const struct cache_key *k)
{
        uint64_t h = fnv1a(0xcbf29ce484222325ull, k->binary, strlen(k->binary) + 1);
        const char *a = vm_accel_to_string(k->accel);
        char *p = NULL;

        h = fnv1a(h, a, strlen(a));
        if (asprintf(&p, "cpu-%016llx.json", (unsigned long long)h) < 0)
                return NULL;
        return p;
}

static bool key_matches(json_object *c, const struct cache_key *k)
{
        const char *b = qmp_member_string(c, "binary"), *a = qmp_member_string(c, "accel");

        return qmp_member_int(c, "format", -1) == CACHE_FORMAT && b && strcmp(b, k->binary) == 0 && a &&
               strcmp(a, vm_accel_to_string(k->accel)) == 0 && qmp_member_int(c, "size", -1) == k->size &&
               qmp_member_int(c, "mtime_ns", -1) == k->mtime_ns;
}

/* 1 with ret filled from a cache that matches k, 0 when there is none */
static int cache_read(const char *dir, const struct cache_key *k, struct cpu_caps *ret)
{
        _cleanup_free_ char *name = cache_name(k), *text = NULL;
        _cleanup_close_ int dfd = -1;
        _cleanup_json_ json_object *c = NULL;
        size_t len;

        if (!name || (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
            read_file_at(dfd, name, CACHE_MAX, &text, &len) < 0 || !(c = json_tokener_parse(text)) ||
            !key_matches(c, k))
                return 0;
        /* a cache of another shape is asked again, never trusted */
        return cpu_caps_from_replies(member(c, "replies"), k->accel, ret, NULL) == 0;
}

static void cache_write(const char *dir, const struct cache_key *k, json_object *replies)
{
        _cleanup_free_ char *name = cache_name(k);
        _cleanup_json_ json_object *c = json_object_new_object();
        _cleanup_close_ int dfd = -1;
        const char *text;

        if (!name || !c || mkdir_p(dir, 0700) < 0 || (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                return;
        json_object_object_add(c, "format", json_object_new_int(CACHE_FORMAT));
        json_object_object_add(c, "binary", json_object_new_string(k->binary));
        json_object_object_add(c, "accel", json_object_new_string(vm_accel_to_string(k->accel)));
        json_object_object_add(c, "size", json_object_new_int64(k->size));
        json_object_object_add(c, "mtime_ns", json_object_new_int64(k->mtime_ns));
        json_object_object_add(c, "replies", json_object_get(replies));
        if ((text = json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN)))
                (void)write_file_atomic_at(dfd, name, text, 0600);
}

int cpu_caps_get(const char *binary, enum vm_accel accel, bool refresh, struct cpu_caps *ret, struct qc_err *err)
{
        _cleanup_free_ char *path = NULL, *dir = NULL;
        _cleanup_json_ json_object *replies = NULL;
        struct cpu_caps c = { 0 };
        struct cache_key k;
        struct stat st;

        if (accel != VM_ACCEL_KVM && accel != VM_ACCEL_TCG)
                return qc_err_set(err, EINVAL, "CPU models are asked under kvm or tcg, not %s",
                                  vm_accel_to_string(accel));
        if (spawn_find_binary(binary, &path, err) < 0)
                return -1;
        if (stat(path, &st) < 0)
                return qc_err_sys(err, errno, "%s", path);
        k = (struct cache_key){ .binary = path,
                                .accel = accel,
                                .size = (long long)st.st_size,
                                .mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec };
        if (cpu_caps_cache_dir(&dir, NULL) < 0)
                dir = NULL;
        if (!refresh && dir && cache_read(dir, &k, &c) == 1) {
                c.from_cache = true;
        } else {
                if (probe(path, accel, &c, &replies, err) < 0)
                        return -1;
                if (dir)
                        cache_write(dir, &k, replies);
        }
        c.binary = TAKE_PTR(path);
        *ret = c;
        return 0;
}
