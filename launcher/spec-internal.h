/* Inside the VM file parser: a positioned JSON tree and the helpers that turn
 * its nodes into typed values while collecting diagnostics. Included by
 * launcher/spec-*.c and tests/test-spec.c only. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec.h"

/* Bounds on what we read: a VM file is a page or two of JSON. */
#define SPEC_FILE_MAX (1u << 20)
#define SPEC_DEPTH_MAX 32

/* ---- positioned JSON (with // and block comments) ---- */

enum jt_type { JT_NULL, JT_BOOL, JT_NUMBER, JT_STRING, JT_ARRAY, JT_OBJECT };

struct jt {
        enum jt_type type;
        unsigned line, col;         /* where the value starts (1-based, bytes) */
        char *key;                  /* set when this is an object member */
        unsigned key_line, key_col; /* where its key starts */
        char *str;                  /* STRING: the value; NUMBER: the text as written */
        bool b;                     /* BOOL */
        struct jt *kids;            /* ARRAY items / OBJECT members, in file order */
        size_t n;
};

/* Parse text into a tree. On a syntax error returns -EINVAL and fills
 * ret_line, ret_col and ret_msg (malloc'd); -ENOMEM on allocation failure. */
int jt_parse(const char *text, size_t len, struct jt **ret, unsigned *ret_line, unsigned *ret_col,
             char **ret_msg);
void jt_free(struct jt *t);
/* Free what t holds (kids, key, str) and zero it; t itself stays. */
void jt_clear(struct jt *t);
const char *jt_type_name(enum jt_type t); /* "a string", "an object", ... */

/* ---- the walker's context ---- */

/* Nodes made from a --set/--name change i sit at line SPEC_SET_LINE + i
 * (a VM file has at most SPEC_FILE_MAX bytes, so no line of its own is
 * there): a diagnostic at such a line names origins[i] instead. */
#define SPEC_SET_LINE 0x40000000u

struct spec_ctx {
        const char *file;
        struct spec_diags *diags;
        bool oom;
        char *const *origins; /* the --set/--name changes (NULL-terminated), or NULL */
        /* nodes the cross-field checks point at (NULL when not in the file) */
        const struct jt *root, *n_accel, *n_firmware, *n_tpm, *n_cpu, *n_mode, *n_model, *n_features, *n_vcpus, *n_max, *n_topology,
                *n_pin, *n_memory, *n_size, *n_mem_max, *n_slots, *n_hotplug, *n_plugged, *n_hugepages, *n_locked,
                *n_limits, *n_hard, *n_soft, *n_low, *n_min, *n_numa, *n_cells;
        const struct jt **n_pin_keys;  /* one per spec->cpu.pins[i] */
        const struct jt **n_cell_vals; /* one per spec->numa.cells[i] */
        /* values that drew a diagnostic: cross-field checks skip them, so one
         * mistake is not reported again as a consequence */
        const struct jt **failed;
        size_t n_failed;
};

/* Did n, or anything inside it, draw a diagnostic? (NULL: no) */
bool jt_failed(const struct spec_ctx *c, const struct jt *n);

void diag_at(struct spec_ctx *c, unsigned line, unsigned col, const char *path, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
/* At the value of node n. */
void diag(struct spec_ctx *c, const struct jt *n, const char *path, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* "parent.key" / "parent[i]" (malloc'd; NULL only on ENOMEM, which sets c->oom). */
char *path_key(struct spec_ctx *c, const char *parent, const char *key);
char *path_idx(struct spec_ctx *c, const char *parent, size_t i);

/* A short, quoted, printable rendering of a value for messages. */
void jt_describe(const struct jt *n, char *buf, size_t len);

/* Report unknown keys (with the nearest known one) and duplicates in an
 * object. keys is NULL-terminated. Returns false when obj is not an object
 * (reported). */
bool check_object(struct spec_ctx *c, const struct jt *obj, const char *path, const char *const *keys);
/* Report duplicate keys of a free-form object (pin, features). */
void check_duplicates(struct spec_ctx *c, const struct jt *obj, const char *path);
const struct jt *jt_get(const struct jt *obj, const char *key);

/* Typed getters: return 0 and set *ret, or -1 after adding a diagnostic. */
int get_string(struct spec_ctx *c, const struct jt *n, const char *path, char **ret);
int get_bool(struct spec_ctx *c, const struct jt *n, const char *path, bool *ret);
int get_uint(struct spec_ctx *c, const struct jt *n, const char *path, uint64_t min, uint64_t max,
             uint64_t *ret);
int get_size(struct spec_ctx *c, const struct jt *n, const char *path, uint64_t *ret);
int get_cpuset(struct spec_ctx *c, const struct jt *n, const char *path, const char *what, struct cpuset *ret);
/* names is the string table (NULL entries skipped), count its length. */
int get_enum(struct spec_ctx *c, const struct jt *n, const char *path, const char *const *names, int count);

/* The string tables themselves (spec-enums.c), for get_enum. */
#define DECLARE_TABLE_ARRAY(name) extern const char *const name##_table[]
DECLARE_TABLE_ARRAY(vm_os);
DECLARE_TABLE_ARRAY(vm_machine);
DECLARE_TABLE_ARRAY(vm_firmware);
DECLARE_TABLE_ARRAY(vm_share_mode);
DECLARE_TABLE_ARRAY(vm_accel);
DECLARE_TABLE_ARRAY(vm_cpu_mode);
DECLARE_TABLE_ARRAY(vm_feature_policy);
DECLARE_TABLE_ARRAY(vm_numa_policy);
DECLARE_TABLE_ARRAY(vm_mem_hotplug);
DECLARE_TABLE_ARRAY(vm_disk_format);
DECLARE_TABLE_ARRAY(vm_disk_bus);
DECLARE_TABLE_ARRAY(vm_disk_cache);
DECLARE_TABLE_ARRAY(vm_disk_media);
DECLARE_TABLE_ARRAY(vm_net_type);
DECLARE_TABLE_ARRAY(vm_net_model);
DECLARE_TABLE_ARRAY(vm_input);
DECLARE_TABLE_ARRAY(vm_serial);

/* Edit distance (Levenshtein), capped: returns > cap when farther. */
unsigned edit_distance(const char *a, const char *b, unsigned cap);
/* The name in names (NULL-terminated) a typo of word most likely meant
 * (one or two edits; fewer for short words), or NULL. */
const char *spec_suggest(const char *word, const char *const *names);
/* Apply the changes ov to the VM file's tree root (an object), each at its
 * line (SPEC_SET_LINE + i); a change that cannot be applied is a diagnostic
 * (spec-set.c). */
void spec_apply_overrides(struct spec_ctx *c, struct jt *root, const struct spec_overrides *ov);

/* What the key table (spec-keys.c) hands to code: the hooks of struct
 * spec_key (see spec-keys.h for when each runs). */
struct spec_key;
struct json_object;
#define SPEC_CHECK(name) \
        bool name(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, void *base)
#define SPEC_GATE(name)                                                                                    \
        bool name(struct spec_ctx *c, const struct jt *obj, const struct jt *n, const char *path, struct vm_spec *s, \
                  void *base)
#define SPEC_PARSE(name)                                                                                 \
        void name(struct spec_ctx *c, const struct spec_key *k, const struct jt *n, const char *path, \
                  struct vm_spec *s, void *base)
#define SPEC_FINISH(name) \
        void name(struct spec_ctx *c, const struct jt *obj, const char *path, struct vm_spec *s, void *base)
#define SPEC_DUMP(name) \
        int name(const struct vm_spec *s, const struct spec_key *k, const void *base, struct json_object **ret)
SPEC_CHECK(check_name);
SPEC_CHECK(check_cpu_model);
SPEC_FINISH(finish_cpu);
SPEC_PARSE(parse_cpu_features);
SPEC_DUMP(dump_cpu_features);
void free_cpu_features(void *base);
SPEC_PARSE(parse_cpu_pins);
SPEC_DUMP(dump_cpu_pins);
void free_cpu_pins(void *base);
SPEC_PARSE(parse_hugepages);
SPEC_DUMP(dump_hugepages);
SPEC_CHECK(check_hugepages_path);
SPEC_PARSE(parse_balloon);
SPEC_DUMP(dump_balloon);
SPEC_PARSE(parse_numa_cells);
SPEC_GATE(gate_disk_file);
SPEC_CHECK(check_disk_file);
SPEC_GATE(gate_disk_format);
SPEC_CHECK(check_disk_create);
SPEC_GATE(gate_disk_backing);
SPEC_CHECK(check_disk_backing);
SPEC_GATE(gate_disk_backing_format);
SPEC_CHECK(check_ci_user_data);
SPEC_CHECK(check_ci_meta_data);
SPEC_CHECK(check_ci_network_config);
SPEC_FINISH(finish_disk);
SPEC_GATE(gate_net_bridge);
SPEC_CHECK(check_bridge);
SPEC_GATE(gate_net_ifname);
SPEC_CHECK(check_tap);
SPEC_CHECK(check_mac);
SPEC_GATE(gate_net_forward);
SPEC_CHECK(check_forward);
SPEC_FINISH(finish_net);
SPEC_FINISH(finish_share);
SPEC_CHECK(check_share_path);
SPEC_CHECK(check_share_tag);
SPEC_CHECK(check_boot_kernel);
SPEC_GATE(gate_boot_initrd);
SPEC_CHECK(check_boot_initrd);
SPEC_GATE(gate_boot_cmdline);
SPEC_CHECK(check_boot_order);
SPEC_CHECK(check_boot_once);
SPEC_PARSE(parse_display);
SPEC_DUMP(dump_display);
SPEC_CHECK(check_vnc);
SPEC_CHECK(check_usb);
SPEC_CHECK(check_os);
SPEC_GATE(gate_os);
SPEC_CHECK(check_vnc_listen);
SPEC_CHECK(check_vnc_password_file);
SPEC_CHECK(check_vnc_password_valid_for);
SPEC_PARSE(parse_input);
SPEC_DUMP(dump_input);
void free_input(void *base);
SPEC_CHECK(check_cgroup_parent);
SPEC_PARSE(parse_security_id);
SPEC_DUMP(dump_security_id);
void free_security_ids(void *base);
SPEC_FINISH(finish_security);
SPEC_CHECK(check_qemu_binary);

/* The checks across keys (spec-validate.c), once every key is read. */
void spec_validate(struct spec_ctx *c, struct vm_spec *s);
/* Resolve a relative path against the VM file's directory (malloc'd). */
char *spec_resolve_path(struct spec_ctx *c, const char *vmfile, const char *p);
