/* The VM file's keys walked from the table (spec-keys.c): parse into the
 * struct, defaults, free, and the JSON that `dump` writes. */
#include <errno.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../common/size.h"
#include "../common/strv.h"
#include "spec-internal.h"
#include "spec-keys.h"

const char *spec_key_name(const struct spec_key *k)
{
        return k->path + spec_key_parent_len(k) + (spec_key_parent_len(k) ? 1 : 0);
}

size_t spec_key_parent_len(const struct spec_key *k)
{
        const char *dot = strrchr(k->path, '.');

        return dot ? (size_t)(dot - k->path) : 0;
}

bool spec_key_is_child(const struct spec_key *k, const char *parent)
{
        size_t pl = spec_key_parent_len(k);

        return pl == strlen(parent) && strncmp(k->path, parent, pl) == 0;
}

const struct spec_key *spec_key_find(const char *path)
{
        for (size_t i = 0; i < spec_keys_n; i++)
                if (strcmp(spec_keys[i].path, path) == 0)
                        return &spec_keys[i];
        return NULL;
}

void *spec_key_field(const struct spec_key *k, void *base)
{
        return (char *)base + k->off;
}

const void *spec_key_cfield(const struct spec_key *k, const void *base)
{
        return (const char *)base + k->off;
}

uint64_t spec_key_get_uint(const struct spec_key *k, const void *base)
{
        const void *f = spec_key_cfield(k, base);

        if (k->size == sizeof(uint64_t))
                return *(const uint64_t *)f;
        return *(const unsigned *)f;
}

static void set_uint(const struct spec_key *k, void *base, uint64_t v)
{
        void *f = spec_key_field(k, base);

        if (k->size == sizeof(uint64_t))
                *(uint64_t *)f = v;
        else
                *(unsigned *)f = (unsigned)v;
}

static void set_flag(size_t off, void *base)
{
        if (off)
                *(bool *)((char *)base + off) = true;
}

static bool get_flag(size_t off, const void *base)
{
        return *(const bool *)((const char *)base + off);
}

static void parse_strings(struct spec_ctx *c, const struct spec_key *k, const struct jt *n, const char *path,
                          struct vm_spec *s, void *base)
{
        _cleanup_strv_ strv sv = { 0 };

        if (n->type != JT_ARRAY) {
                diag(c, n, path, "expected %s, got %s", k->shape, jt_type_name(n->type));
                return;
        }
        for (size_t i = 0; i < n->n; i++) {
                _cleanup_free_ char *p = path_idx(c, path, i);
                _cleanup_free_ char *str = NULL;

                if (!p || get_string(c, &n->kids[i], p, &str) < 0)
                        continue;
                if (k->check && !k->check(c, &n->kids[i], p, s, &str))
                        continue;
                if (strv_consume(&sv, TAKE_PTR(str)) < 0)
                        c->oom = true;
        }
        *(size_t *)((char *)base + k->n_off) = sv.n;
        *(char ***)spec_key_field(k, base) = sv.n ? strv_steal(&sv) : NULL;
}

/* "disks" -> "disks[]", the table path of its items' keys */
static const char *item_key(const struct spec_key *k, char *buf, size_t len)
{
        snprintf(buf, len, "%s[]", k->path);
        return buf;
}

static void parse_list(struct spec_ctx *c, const struct spec_key *k, const struct jt *n, const char *path,
                       struct vm_spec *s, void *base)
{
        char *items, ik[128];

        if (n->type != JT_ARRAY) {
                diag(c, n, path, "expected %s, got %s", k->shape, jt_type_name(n->type));
                return;
        }
        if (n->n == 0)
                return;
        items = calloc(n->n, k->item_size);
        if (!items) {
                c->oom = true;
                return;
        }
        *(void **)spec_key_field(k, base) = items;
        *(size_t *)((char *)base + k->n_off) = n->n;
        for (size_t i = 0; i < n->n; i++) {
                _cleanup_free_ char *p = path_idx(c, path, i);
                void *item = items + i * k->item_size;

                spec_set_defaults(item_key(k, ik, sizeof ik), item);
                if (p && spec_parse_object(c, &n->kids[i], ik, p, s, item) && k->finish)
                        k->finish(c, &n->kids[i], p, s, item);
        }
}

/* One given key's value n into base; path is its place ("disks[0].bus"). */
static void parse_value(struct spec_ctx *c, const struct spec_key *k, const struct jt *n, const char *path,
                        struct vm_spec *s, void *base)
{
        void *f = spec_key_field(k, base);
        _cleanup_free_ char *discard = NULL;
        uint64_t v;
        int r = -1, e;

        switch (k->type) {
        case SPEC_OBJECT:
                if (k->parse)
                        k->parse(c, k, n, path, s, base);
                else if (spec_parse_object(c, n, k->path, path, s, base)) {
                        set_flag(k->set_off, base);
                        if (k->finish)
                                k->finish(c, n, path, s, base);
                }
                return;
        case SPEC_LIST:
                (k->parse ? k->parse : parse_list)(c, k, n, path, s, base);
                return;
        case SPEC_STRINGS:
                (k->parse ? k->parse : parse_strings)(c, k, n, path, s, base);
                return;
        case SPEC_CUSTOM:
                k->parse(c, k, n, path, s, base);
                return;
        case SPEC_STRING:
                r = get_string(c, n, path, k->flags & KEY_NOT_STORED ? &discard : (char **)f);
                break;
        case SPEC_BOOL:
                r = get_bool(c, n, path, (bool *)f);
                break;
        case SPEC_UINT:
                if ((r = get_uint(c, n, path, k->min, k->max, &v)) == 0)
                        set_uint(k, base, v);
                break;
        case SPEC_SIZE:
                r = get_size(c, n, path, (uint64_t *)f);
                /* a size below .min (a NUMA cell of "0G") would be read back
                 * as absent after spec_to_json, which leaves 0 out */
                if (r == 0 && *(uint64_t *)f < k->min) {
                        diag(c, n, path, "\"%.40s\" is too small; give more, like %s", n->str,
                             k->example ? k->example : "\"1G\"");
                        r = -1;
                }
                break;
        case SPEC_CPUSET:
                r = get_cpuset(c, n, path, k->what, (struct cpuset *)f);
                break;
        case SPEC_ENUM:
                if ((e = get_enum(c, n, path, k->names, k->n_names)) >= 0) {
                        *(int *)f = e;
                        r = 0;
                }
                break;
        default:
                return;
        }
        if (r < 0)
                return;
        set_flag(k->set_off, base);
        if (k->check)
                k->check(c, n, path, s, base);
}

bool spec_parse_object(struct spec_ctx *c, const struct jt *obj, const char *key, const char *path,
                       struct vm_spec *s, void *base)
{
        _cleanup_free_ const char **names = calloc(spec_keys_n + 1, sizeof *names);
        size_t n_names = 0;

        if (!names) {
                c->oom = true;
                return false;
        }
        for (size_t i = 0; i < spec_keys_n; i++)
                if (spec_key_is_child(&spec_keys[i], key))
                        names[n_names++] = spec_key_name(&spec_keys[i]);
        if (!check_object(c, obj, path, names))
                return false;
        for (size_t i = 0; i < spec_keys_n; i++) {
                const struct spec_key *k = &spec_keys[i];
                const struct jt *n;
                _cleanup_free_ char *p = NULL;

                if (!spec_key_is_child(k, key))
                        continue;
                p = path_key(c, path, spec_key_name(k));
                if (!p)
                        return true;
                n = jt_get(obj, spec_key_name(k));
                if (!n) {
                        if (k->flags & KEY_REQUIRED)
                                diag(c, obj, p, "%s", k->missing);
                        continue;
                }
                if (k->node_off)
                        *(const struct jt **)((char *)c + k->node_off) = n;
                if (k->gate && !k->gate(c, obj, n, p, s, base))
                        continue;
                parse_value(c, k, n, p, s, base);
        }
        return true;
}

void spec_set_defaults(const char *key, void *base)
{
        for (size_t i = 0; i < spec_keys_n; i++) {
                const struct spec_key *k = &spec_keys[i];

                if (!spec_key_is_child(k, key))
                        continue;
                switch (k->type) {
                case SPEC_OBJECT:
                        /* an OBJECT with a field: the bool of its short form ("balloon": false) */
                        if (k->size == sizeof(bool))
                                *(bool *)spec_key_field(k, base) = k->def != 0;
                        spec_set_defaults(k->path, base);
                        break;
                case SPEC_BOOL:
                        *(bool *)spec_key_field(k, base) = k->def != 0;
                        break;
                case SPEC_UINT:
                case SPEC_SIZE:
                        set_uint(k, base, k->def);
                        break;
                case SPEC_ENUM:
                        *(int *)spec_key_field(k, base) = (int)k->def;
                        break;
                case SPEC_LIST:
                case SPEC_STRING:
                case SPEC_CPUSET:
                case SPEC_STRINGS:
                case SPEC_CUSTOM:
                default:
                        break;
                }
        }
}

int spec_set_default_strings(const char *key, void *base)
{
        for (size_t i = 0; i < spec_keys_n; i++) {
                const struct spec_key *k = &spec_keys[i];
                char **f = spec_key_field(k, base);

                if (!spec_key_is_child(k, key))
                        continue;
                if (k->type == SPEC_OBJECT && spec_set_default_strings(k->path, base) < 0)
                        return -ENOMEM;
                if (k->type == SPEC_STRING && k->def_str && !*f && !(*f = strdup(k->def_str)))
                        return -ENOMEM;
        }
        return 0;
}

void spec_free_keys(const char *key, void *base)
{
        for (size_t i = 0; i < spec_keys_n; i++) {
                const struct spec_key *k = &spec_keys[i];
                void *f;

                if (!spec_key_is_child(k, key))
                        continue;
                f = spec_key_field(k, base);
                switch (k->type) {
                case SPEC_OBJECT:
                        spec_free_keys(k->path, base);
                        break;
                case SPEC_LIST: {
                        char *items = *(char **)f, ik[128];
                        size_t n = *(size_t *)((char *)base + k->n_off);
                        for (size_t j = 0; items && j < n; j++)
                                spec_free_keys(item_key(k, ik, sizeof ik), items + j * k->item_size);
                        free(items);
                        break;
                }
                case SPEC_STRING:
                        if (!(k->flags & KEY_NOT_STORED))
                                free(*(char **)f);
                        break;
                case SPEC_STRINGS:
                        strv_free(*(char ***)f);
                        break;
                case SPEC_CUSTOM:
                        if (k->free)
                                k->free(base);
                        break;
                case SPEC_BOOL:
                case SPEC_UINT:
                case SPEC_SIZE:
                case SPEC_CPUSET:
                case SPEC_ENUM:
                default:
                        break;
                }
        }
}

static json_object *jsize(uint64_t v)
{
        char buf[32];

        format_size(v, buf, sizeof buf);
        return json_object_new_string(buf);
}

/* k's value in base as JSON; NULL *ret: leave it out. */
static int dump_value(const struct vm_spec *s, const struct spec_key *k, const void *base, json_object **ret)
{
        const void *f = spec_key_cfield(k, base);
        bool always = k->flags & KEY_DUMP_ALWAYS;
        json_object *v = NULL;

        *ret = NULL;
        if (k->flags & KEY_NOT_STORED)
                return 0;
        if (k->dump)
                return k->dump(s, k, base, ret);
        if (k->set_off && !get_flag(k->set_off, base))
                return 0;
        /* given is written, even as 0 ("swap": "0B" means no swap) */
        always |= k->set_off != 0;
        switch (k->type) {
        case SPEC_OBJECT:
                return spec_dump_object(s, k->path, base, ret);
        case SPEC_LIST: {
                const char *items = *(char *const *)f;
                size_t n = *(const size_t *)((const char *)base + k->n_off);
                char ik[128];
                if (n == 0 && !always)
                        return 0;
                if (!(v = json_object_new_array()))
                        return -ENOMEM;
                item_key(k, ik, sizeof ik);
                for (size_t i = 0; i < n; i++) {
                        json_object *o = NULL;
                        if (spec_dump_object(s, ik, items + i * k->item_size, &o) < 0 ||
                            json_object_array_add(v, o ? o : json_object_new_object()) < 0) {
                                json_object_put(v);
                                return -ENOMEM;
                        }
                }
                break;
        }
        case SPEC_STRINGS: {
                char *const *sv = *(char **const *)f;
                size_t n = *(const size_t *)((const char *)base + k->n_off);
                if (n == 0 && !always)
                        return 0;
                if (!(v = json_object_new_array()))
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++)
                        if (json_object_array_add(v, json_object_new_string(sv[i])) < 0) {
                                json_object_put(v);
                                return -ENOMEM;
                        }
                break;
        }
        case SPEC_STRING: {
                const char *str = *(char *const *)f;
                if (!str)
                        str = k->def_str;
                if (!str)
                        return 0;
                v = json_object_new_string(str);
                break;
        }
        case SPEC_BOOL:
                v = json_object_new_boolean(*(const bool *)f);
                break;
        case SPEC_UINT:
                if (!spec_key_get_uint(k, base) && !always)
                        return 0;
                v = json_object_new_int64((int64_t)spec_key_get_uint(k, base));
                break;
        case SPEC_SIZE:
                if (!*(const uint64_t *)f && !always)
                        return 0;
                v = jsize(*(const uint64_t *)f);
                break;
        case SPEC_CPUSET: {
                _cleanup_free_ char *str = cpuset_to_string(f);
                if (!str)
                        return -ENOMEM;
                v = json_object_new_string(str);
                break;
        }
        case SPEC_ENUM: {
                int e = *(const int *)f;
                if (e < 0 || e >= k->n_names || !k->names[e])
                        return 0;
                v = json_object_new_string(k->names[e]);
                break;
        }
        case SPEC_CUSTOM:
        default:
                return 0;
        }
        if (!v)
                return -ENOMEM;
        *ret = v;
        return 0;
}

int spec_dump_object(const struct vm_spec *s, const char *key, const void *base, json_object **ret)
{
        json_object *o = json_object_new_object();
        bool any = false;

        *ret = NULL;
        if (!o)
                return -ENOMEM;
        for (size_t i = 0; i < spec_keys_n; i++) {
                const struct spec_key *k = &spec_keys[i];
                json_object *v = NULL;

                if (!spec_key_is_child(k, key))
                        continue;
                if (dump_value(s, k, base, &v) < 0 || (v && json_object_object_add(o, spec_key_name(k), v) < 0)) {
                        json_object_put(o);
                        return -ENOMEM;
                }
                any |= v != NULL;
        }
        if (!any) {
                json_object_put(o);
                return 0;
        }
        *ret = o;
        return 0;
}
