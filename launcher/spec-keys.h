/* The VM file's keys, declared once (spec-keys.c): name, type, default,
 * bounds, place in struct vm_spec, docs line and libvirt equivalent. The
 * parser, the serializer (`dump`), validate's unknown-key suggestions, the
 * generated docs (docs/vm-file.md key tables, docs/vm-file.schema.json,
 * docs/man/qemuctl-vm.5) and the round-trip property test all walk this
 * table. Checks across keys and the argv mapping stay code.
 * Included by launcher/spec-*.c, tools/gen-docs.c and tests/test-spec.c. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec.h"

/* JSON Schema patterns of a size ("4G") and a cpulist ("0-3,^2"), as text
 * inside a JSON string (so "\\\\^" is the regex "\\^") */
#define SPEC_SIZE_PATTERN "^[0-9]+([bB]|[kKmMgGtTpP]i?[bB]?)$"
#define SPEC_CPUS_ITEM "\\\\^?[0-9]+(-[0-9]+(:[0-9]+/[0-9]+)?)?"
#define SPEC_CPUS_PATTERN "^" SPEC_CPUS_ITEM "(," SPEC_CPUS_ITEM ")*$"

struct spec_ctx;
struct jt;
struct json_object;

enum spec_type {
        SPEC_OBJECT,  /* a section: its keys are the entries "PATH.key" */
        SPEC_LIST,    /* an array of objects: their keys are the entries "PATH[].key" */
        SPEC_STRING,  /* char * (malloc'd) */
        SPEC_BOOL,    /* bool */
        SPEC_UINT,    /* unsigned or uint64_t (by the field's size), min..max */
        SPEC_SIZE,    /* uint64_t bytes, written "4G" */
        SPEC_CPUSET,  /* struct cpuset, written "0-3,8" */
        SPEC_ENUM,    /* an enum (int), written as one of names[] */
        SPEC_STRINGS, /* char ** NULL-terminated + size_t count at n_off */
        SPEC_CUSTOM,  /* parse, dump and free are code; schema is given */
};

enum {
        KEY_REQUIRED = 1 << 0,    /* missing: the diagnostic `missing` */
        KEY_DUMP_ALWAYS = 1 << 1, /* dumped even when 0 / empty */
        KEY_NOT_STORED = 1 << 2,  /* read and type-checked, not kept ("$schema") */
};

/* Hooks get base: struct vm_spec for keys outside lists, the list's item
 * (struct vm_disk, ...) for keys of a list item. */
struct spec_key {
        const char *path; /* "memory.balloon.stats_interval", "disks[].bus"; top level: "name" */
        enum spec_type type;
        unsigned flags;
        size_t off, size;         /* the field in base */
        size_t set_off;           /* a bool in base set when the key is given (0: none) */
        size_t node_off;          /* the struct spec_ctx member that keeps the key's node (0: none) */
        uint64_t min, max;        /* UINT */
        const char *const *names; /* ENUM: the string table, indexed by value */
        int n_names;
        uint64_t def;        /* UINT, SIZE, BOOL, ENUM: the value before parsing */
        const char *def_str; /* STRING: the value when not given (filled when the file is good) */
        const char *what;    /* CPUSET: "host CPUs" */
        const char *missing; /* KEY_REQUIRED: the message */
        const char *shape;   /* LIST, STRINGS: "an array like [...]", for the wrong-type message */
        size_t item_size, n_off; /* LIST: sizeof an item; LIST, STRINGS: the size_t count in base */

        /* Before parsing a given key: false = not parsed (it reported why). */
        bool (*gate)(struct spec_ctx *c, const struct jt *obj, const struct jt *n, const char *path,
                     struct vm_spec *s, void *base);
        /* After a value parsed (STRINGS: each item; false drops it): the
         * checks of one value beyond its type and bounds. */
        bool (*check)(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, void *base);
        /* CUSTOM, or an OBJECT/LIST that takes more than an object/array. */
        void (*parse)(struct spec_ctx *c, const struct spec_key *k, const struct jt *n, const char *path,
                      struct vm_spec *s, void *base);
        /* OBJECT, LIST item: after its keys (checks among them). */
        void (*finish)(struct spec_ctx *c, const struct jt *obj, const char *path, struct vm_spec *s, void *base);
        /* CUSTOM, or an OBJECT with another form: 0 and *ret (NULL = leave
         * the key out), -ENOMEM. */
        int (*dump)(const struct vm_spec *s, const struct spec_key *k, const void *base, struct json_object **ret);
        void (*free)(void *base); /* CUSTOM: what parse allocated */

        /* docs (markdown inline: `code`) */
        const char *type_doc;    /* "1–4096", "`\"q35\"` | `\"pc\"`" (derived when NULL) */
        const char *default_doc; /* "`1`", "none" (derived when NULL) */
        const char *doc;         /* what it does, in QEMU and cgroup terms */
        const char *libvirt;     /* "<vcpu current=...>", NULL = none */
        const char *example;     /* a good value (JSON), canonical: dump writes it back the same */
        const char *needs;       /* JSON object merged under a file using example (other keys it needs) */
        const char *schema;      /* CUSTOM: JSON Schema; OBJECT: the other form (anyOf) */
        const char *schema_extra; /* more JSON Schema members for a derived one: {"pattern": ...} */
};

extern const struct spec_key spec_keys[];
extern const size_t spec_keys_n;

/* The last component of a key's path ("stats_interval"). */
const char *spec_key_name(const struct spec_key *k);
/* The table path of the key's parent: "" (top), "memory.balloon", "disks[]". */
size_t spec_key_parent_len(const struct spec_key *k);
/* Is k directly under the key (or "" for the top level) at parent? */
bool spec_key_is_child(const struct spec_key *k, const char *parent);
const struct spec_key *spec_key_find(const char *path);
/* Where k's field is in base (struct vm_spec or the list item). */
void *spec_key_field(const struct spec_key *k, void *base);
const void *spec_key_cfield(const struct spec_key *k, const void *base);
uint64_t spec_key_get_uint(const struct spec_key *k, const void *base);

/* Generic walkers (spec-walk.c). Parse the keys under table path key into
 * base; false when obj is not an object (reported). */
bool spec_parse_object(struct spec_ctx *c, const struct jt *obj, const char *key, const char *path,
                       struct vm_spec *s, void *base);
void spec_set_defaults(const char *key, void *base);
/* The STRING defaults (def_str) of keys not given; -ENOMEM. */
int spec_set_default_strings(const char *key, void *base);
void spec_free_keys(const char *key, void *base);
/* The JSON of the keys under key (NULL *ret when none is to be written). */
int spec_dump_object(const struct vm_spec *s, const char *key, const void *base, struct json_object **ret);
