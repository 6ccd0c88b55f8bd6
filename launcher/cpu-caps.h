/* What a QEMU binary says about CPU models under one accelerator: its CPU
 * definitions (which ones this host can run, and what blocks the others),
 * the CPU feature names it knows and which of them the accelerator gives a
 * guest, and under KVM its expansion of the host CPU into a named model
 * plus features (host-model, as libvirt does it).
 *
 * Asked once per binary: QEMU is started with `-machine none` and asked
 * over QMP on its stdio (about 70 ms under TCG); the replies are cached per
 * user ($QEMUCTL_CACHEDIR, /var/cache/qemuctl for root, else
 * $XDG_CACHE_HOME/qemuctl or ~/.cache/qemuctl), one file per binary and
 * accelerator, kept while the binary's path, size and mtime stay the same.
 * A cache that cannot be written costs a probe at the next start, nothing
 * more. */
#pragma once
#include <stdbool.h>

#include "../common/err.h"
#include "spec.h"

struct qmp;
struct json_object;

struct cpu_caps {
        char *binary;  /* the binary's path, as found on PATH */
        enum vm_accel accel; /* KVM or TCG */
        char *version; /* "7.2.22" (query-version) */
        char *package; /* "Debian 1:7.2+dfsg-7+deb12u18", or "" */
        struct qmp_cpu_def_list *defs;
        char **features;  /* every boolean CPU property (features, and -cpu switches such as "pmu"), sorted */
        char **available; /* those `max` turns on under accel: what a guest can have here, sorted */
        /* host-model under KVM: the named model (static expansion of "host",
         * matched against the definitions), and its features: on = the host
         * has them beyond the model, off = the model has them, the host not.
         * NULL / 0 where there is none (TCG, or no model fits). */
        char *host_model;
        struct vm_cpu_feature *host_features;
        size_t n_host_features;
        bool from_cache; /* read from the cache, QEMU not started */
};

/* Where the cache lives (see above), malloc'd; creates nothing. */
int cpu_caps_cache_dir(char **ret, struct qc_err *err);
/* The caps of binary (a name looked up on PATH, or a path) under accel
 * (KVM or TCG), from the cache or by starting it (refresh: always start it,
 * and rewrite the cache). -1 with err: ENOENT when there is no such binary,
 * EPROTO when QEMU said something unusable, or what starting it failed with
 * (QEMU's own words). */
int cpu_caps_get(const char *binary, enum vm_accel accel, bool refresh, struct cpu_caps *ret, struct qc_err *err);
/* Ask an open monitor (-machine none, accel given) what cpu_caps_get asks;
 * *ret_replies (may be NULL) gets QEMU's replies as the cache stores them. */
int cpu_caps_query(struct qmp *q, enum vm_accel accel, struct cpu_caps *ret, struct json_object **ret_replies,
                   struct qc_err *err);
/* Build caps from replies as cpu_caps_query collects them (the cache's
 * "replies"). EPROTO when they are not what QEMU sends. */
int cpu_caps_from_replies(struct json_object *replies, enum vm_accel accel, struct cpu_caps *ret,
                          struct qc_err *err);
void cpu_caps_done(struct cpu_caps *c);

/* A model by name (aliases are models too), or NULL. */
const struct qmp_cpu_def *cpu_caps_model(const struct cpu_caps *c, const char *name);
/* A feature as QEMU reads `-cpu X,name=on` ("sse4_1" is "sse4-1"): 1 when
 * the accelerator gives it to a guest, 0 when it cannot, -1 when QEMU has no
 * such feature. */
int cpu_caps_feature(const struct cpu_caps *c, const char *name);
