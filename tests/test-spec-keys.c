/* launcher/spec-keys.c, the key table: every key round-trips parse -> dump
 * -> parse with values made from its own entry (its example; every name of
 * an enum; both booleans; a number's bounds), so a key the serializer
 * forgets fails here. The good files and samples/ round-trip too, compared
 * key by key from the table. */
#include <dirent.h>
#include <json.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/strv.h"
#include "launcher/spec-internal.h"
#include "launcher/spec-keys.h"
#include "launcher/spec.h"
#include "tests/tap.h"

DEFINE_CLEANUP_FUNC(json_object *, json_object_put);

static char *srcdir;

static bool streq0(const char *a, const char *b)
{
        return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool flag(size_t off, const void *base)
{
        return off && *(const bool *)((const char *)base + off);
}

static size_t count(const struct spec_key *k, const void *base)
{
        return *(const size_t *)((const char *)base + k->n_off);
}

static bool dumps_equal(const struct spec_key *k, const struct vm_spec *sa, const void *a, const struct vm_spec *sb,
                        const void *b)
{
        json_object *x = NULL, *y = NULL;
        bool eq;

        if (k->dump(sa, k, a, &x) < 0 || k->dump(sb, k, b, &y) < 0)
                return false;
        eq = (!x && !y) || (x && y && json_object_equal(x, y));
        json_object_put(x);
        json_object_put(y);
        return eq;
}

/* Every key under table path key, in a (of sa) and b (of sb), compared by
 * its type: the hand-written field list this replaces forgot fields. On a
 * difference, *where names the key. */
static bool keys_equal(const char *key, const struct vm_spec *sa, const void *a, const struct vm_spec *sb,
                       const void *b, const char **where)
{
        for (size_t i = 0; i < spec_keys_n; i++) {
                const struct spec_key *k = &spec_keys[i];
                const void *fa, *fb;
                bool eq = true;

                if (!spec_key_is_child(k, key) || (k->flags & KEY_NOT_STORED))
                        continue;
                fa = spec_key_cfield(k, a);
                fb = spec_key_cfield(k, b);
                *where = k->path;
                if (flag(k->set_off, a) != flag(k->set_off, b))
                        return false;
                switch (k->type) {
                case SPEC_OBJECT:
                        if (k->size == sizeof(bool) && *(const bool *)fa != *(const bool *)fb)
                                return false;
                        if (!keys_equal(k->path, sa, a, sb, b, where))
                                return false;
                        *where = k->path;
                        eq = !k->dump || dumps_equal(k, sa, a, sb, b);
                        break;
                case SPEC_LIST: {
                        char ik[128];
                        snprintf(ik, sizeof ik, "%s[]", k->path);
                        if (count(k, a) != count(k, b))
                                return false;
                        for (size_t j = 0; j < count(k, a); j++)
                                if (!keys_equal(ik, sa, *(char *const *)fa + j * k->item_size, sb,
                                                *(char *const *)fb + j * k->item_size, where))
                                        return false;
                        break;
                }
                case SPEC_STRING:
                        eq = streq0(*(char *const *)fa, *(char *const *)fb);
                        break;
                case SPEC_BOOL:
                        eq = *(const bool *)fa == *(const bool *)fb;
                        break;
                case SPEC_UINT:
                case SPEC_SIZE:
                        eq = spec_key_get_uint(k, a) == spec_key_get_uint(k, b);
                        break;
                case SPEC_CPUSET:
                        eq = cpuset_equal(fa, fb);
                        break;
                case SPEC_ENUM:
                        eq = *(const int *)fa == *(const int *)fb;
                        break;
                case SPEC_STRINGS:
                        eq = count(k, a) == count(k, b);
                        for (size_t j = 0; eq && j < count(k, a); j++)
                                eq = streq0((*(char **const *)fa)[j], (*(char **const *)fb)[j]);
                        break;
                case SPEC_CUSTOM:
                        eq = dumps_equal(k, sa, a, sb, b);
                        break;
                default:
                        eq = false;
                        break;
                }
                if (!eq)
                        return false;
        }
        return true;
}

static void print_diags(const char *file, const struct spec_diags *d)
{
        for (size_t i = 0; i < d->n; i++) {
                _cleanup_free_ char *line = spec_diag_format(file, &d->v[i]);
                tap_diag("%s", line);
        }
}

/* parse -> dump -> parse of a, compared key by key; returns the dump. */
static char *round_trip(const char *what, struct vm_spec *a)
{
        struct spec_diags d = { 0 };
        struct qc_err err = { 0 };
        struct vm_spec *b = NULL;
        char *j1 = spec_to_json(a);
        _cleanup_free_ char *j2 = NULL;
        const char *where = NULL;

        if (!ok(j1 != NULL, "%s: dump", what))
                return NULL;
        /* a file name without a directory: paths inside stay as written */
        if (!ok(spec_parse("dump.json", j1, strlen(j1), &b, &d, &err) == 0, "%s: its dump parses again", what)) {
                print_diags("dump.json", &d);
                tap_diag("%s", j1);
        } else {
                if (!ok(keys_equal("", a, a, b, b, &where), "%s: round trip keeps every key of the table", what))
                        tap_diag("%s differs", where);
                j2 = spec_to_json(b);
                is_str(j2, j1, "%s: dumping again gives the same text", what);
        }
        spec_free(b);
        spec_diags_done(&d);
        return j1;
}

static void round_trip_file(const char *path)
{
        struct spec_diags d = { 0 };
        struct qc_err err = { 0 };
        struct vm_spec *a = NULL;

        if (!ok(spec_load(path, &a, &d, &err) == 0, "%s parses", path)) {
                print_diags(path, &d);
                spec_diags_done(&d);
                return;
        }
        free(round_trip(path, a));
        spec_free(a);
}

static void test_files(void)
{
        static const char *const good[] = { "full.json", "minimal.json", "hotplug.json" };
        _cleanup_free_ char *samples = NULL;
        struct dirent *de;
        size_t n = 0;
        DIR *dp;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/tests/data/good/%s", srcdir, good[i]) < 0)
                        abort();
                round_trip_file(p);
        }
        /* samples/ are the files users copy; each must be valid */
        if (asprintf(&samples, "%s/samples", srcdir) < 0)
                abort();
        dp = opendir(samples);
        while (dp && (de = readdir(dp))) {
                size_t len = strlen(de->d_name);
                _cleanup_free_ char *p = NULL;
                if (len <= 5 || strcmp(de->d_name + len - 5, ".json") != 0)
                        continue;
                if (asprintf(&p, "%s/%s", samples, de->d_name) < 0)
                        abort();
                round_trip_file(p);
                n++;
        }
        if (dp)
                closedir(dp);
        ok(n >= 5, "samples checked (%zu)", n);
}

/* needs merged into dst: objects by key, arrays item by item. */
static void merge(json_object *dst, json_object *src)
{
        json_object_object_foreach(src, key, v)
        {
                json_object *d = json_object_object_get(dst, key);
                if (d && json_object_is_type(d, json_type_object) && json_object_is_type(v, json_type_object)) {
                        merge(d, v);
                } else if (d && json_object_is_type(d, json_type_array) && json_object_is_type(v, json_type_array)) {
                        for (size_t i = 0; i < json_object_array_length(v); i++) {
                                json_object *di = json_object_array_get_idx(d, i);
                                if (di)
                                        merge(di, json_object_array_get_idx(v, i));
                                else
                                        json_object_array_add(d, json_object_get(json_object_array_get_idx(v, i)));
                        }
                } else {
                        json_object_object_add(dst, key, json_object_get(v));
                }
        }
}

/* The object that holds the key at table path ("disks[].bus": item 0 of
 * "disks"), made as needed; *leaf is the key's name. */
static json_object *holder(json_object *root, const char *path, char *leafbuf, size_t len)
{
        _cleanup_free_ char *copy = strdup(path);
        char *save = NULL, *seg = strtok_r(copy, ".", &save), *next;
        json_object *o = root;

        for (; seg && (next = strtok_r(NULL, ".", &save)); seg = next) {
                size_t sl = strlen(seg);
                bool item = sl > 2 && strcmp(seg + sl - 2, "[]") == 0;
                json_object *c;

                if (item)
                        seg[sl - 2] = '\0';
                c = json_object_object_get(o, seg);
                if (item) {
                        if (!c) {
                                c = json_object_new_array();
                                json_object_object_add(o, seg, c);
                        }
                        if (json_object_array_length(c) == 0)
                                json_object_array_add(c, json_object_new_object());
                        c = json_object_array_get_idx(c, 0);
                } else if (!c || !json_object_is_type(c, json_type_object)) {
                        c = json_object_new_object();
                        json_object_object_add(o, seg, c);
                }
                o = c;
        }
        snprintf(leafbuf, len, "%s", seg ? seg : "");
        return o;
}

/* The values to try for k, as JSON texts: its example, then what its type
 * allows at the edges. */
static void values_of(const struct spec_key *k, strv *out)
{
        char buf[64];

        strv_push(out, k->example);
        switch (k->type) {
        case SPEC_ENUM:
                for (int i = 0; i < k->n_names; i++)
                        if (k->names[i]) {
                                snprintf(buf, sizeof buf, "\"%s\"", k->names[i]);
                                strv_push(out, buf);
                        }
                break;
        case SPEC_BOOL:
                strv_push(out, "true");
                strv_push(out, "false");
                break;
        case SPEC_UINT:
                snprintf(buf, sizeof buf, "%llu", (unsigned long long)k->min);
                strv_push(out, buf);
                snprintf(buf, sizeof buf, "%llu", (unsigned long long)k->max);
                strv_push(out, buf);
                break;
        case SPEC_OBJECT:
        case SPEC_LIST:
        case SPEC_STRING:
        case SPEC_SIZE:
        case SPEC_CPUSET:
        case SPEC_STRINGS:
        case SPEC_CUSTOM:
        default:
                break;
        }
}

/* "disks[].bus" -> "disks[0].bus", the path diagnostics use */
static void concrete(const char *path, char *buf, size_t len)
{
        size_t o = 0;

        for (const char *p = path; *p && o + 4 < len; p++) {
                if (p[0] == '[' && p[1] == ']') {
                        memcpy(buf + o, "[0]", 3);
                        o += 3;
                        p++;
                } else {
                        buf[o++] = *p;
                }
        }
        buf[o] = '\0';
}

static void try_value(const struct spec_key *k, const char *value, bool is_example)
{
        _cleanup_(json_object_putp) json_object *doc = json_tokener_parse("{\"name\": \"pt\"}");
        _cleanup_(json_object_putp) json_object *needs = k->needs ? json_tokener_parse(k->needs) : NULL;
        _cleanup_(json_object_putp) json_object *dumped = NULL;
        _cleanup_free_ char *what = NULL, *j1 = NULL;
        json_object *v = json_tokener_parse(value), *h, *got = NULL;
        struct spec_diags d = { 0 };
        struct qc_err err = { 0 };
        struct vm_spec *a = NULL;
        char leaf[64], place[128];
        const char *text;
        bool own = false;

        if (asprintf(&what, "%s = %s", k->path, value) < 0)
                abort();
        if (!ok(v != NULL && (!k->needs || needs), "%s: the value and needs are JSON", what)) {
                json_object_put(v);
                return;
        }
        if (needs)
                merge(doc, needs);
        h = holder(doc, k->path, leaf, sizeof leaf);
        json_object_object_add(h, leaf, v);
        text = json_object_to_json_string(doc);
        if (spec_parse("pt.json", text, strlen(text), &a, &d, &err) < 0) {
                /* a value the key takes can still be refused by a check
                 * across keys (a topology past cpu.max); the key's own
                 * parse must not refuse it */
                concrete(k->path, place, sizeof place);
                for (size_t i = 0; i < d.n; i++)
                        own |= streq0(d.v[i].path, place);
                if (is_example || own) {
                        ok(0, "%s: parses (%s)", what, text);
                        print_diags("pt.json", &d);
                } else {
                        tap_diag("%s: refused across keys, not round-tripped", what);
                }
                spec_diags_done(&d);
                return;
        }
        j1 = round_trip(what, a);
        if (is_example && j1) {
                dumped = json_tokener_parse(j1);
                h = dumped ? holder(dumped, k->path, leaf, sizeof leaf) : NULL;
                got = h ? json_object_object_get(h, leaf) : NULL;
                if (k->flags & KEY_NOT_STORED)
                        ok(got == NULL, "%s: not kept, not dumped", what);
                else if (!ok(got && json_object_equal(got, json_object_object_get(
                                                                   holder(doc, k->path, leaf, sizeof leaf), leaf)),
                             "%s: dump writes the example back", what))
                        tap_diag("dump: %s", j1);
        }
        spec_free(a);
}

static void test_every_key(void)
{
        size_t n = 0;

        for (size_t i = 0; i < spec_keys_n; i++) {
                const struct spec_key *k = &spec_keys[i];
                _cleanup_strv_ strv values = { 0 };

                if (k->type == SPEC_OBJECT || k->type == SPEC_LIST)
                        continue;
                if (!ok(k->example != NULL, "%s has an example", k->path))
                        continue;
                values_of(k, &values);
                for (size_t j = 0; j < values.n; j++)
                        try_value(k, values.v[j], j == 0);
                n++;
        }
        tap_diag("%zu keys round-tripped", n);
}

/* The table itself: what the generators and the walkers rely on. */
static void test_table(void)
{
        for (size_t i = 0; i < spec_keys_n; i++) {
                const struct spec_key *k = &spec_keys[i];
                size_t pl = spec_key_parent_len(k);
                char parent[128];

                ok(k->doc && k->doc[0], "%s: documented", k->path);
                for (size_t j = 0; j < i; j++)
                        if (strcmp(spec_keys[j].path, k->path) == 0)
                                ok(0, "%s: declared once", k->path);
                if (pl) {
                        const struct spec_key *p;
                        snprintf(parent, sizeof parent, "%.*s", (int)pl, k->path);
                        if (pl > 2 && strcmp(parent + pl - 2, "[]") == 0)
                                parent[pl - 2] = '\0';
                        p = spec_key_find(parent);
                        ok(p && (p->type == SPEC_OBJECT || p->type == SPEC_LIST) && p < k,
                           "%s: its parent %s is a section declared before it", k->path, parent);
                }
                if (k->type == SPEC_CUSTOM)
                        ok(k->parse && k->dump && k->schema, "%s: custom key has parse, dump and schema", k->path);
                if (k->type == SPEC_ENUM)
                        ok(k->names && k->n_names > 0, "%s: enum has names", k->path);
                if (k->flags & KEY_REQUIRED)
                        ok(k->missing != NULL, "%s: required key says what is missing", k->path);
                if (k->type == SPEC_LIST || k->type == SPEC_STRINGS)
                        ok(k->n_off && (k->type != SPEC_LIST || k->item_size), "%s: list has a count", k->path);
        }
}

int main(void)
{
        srcdir = tap_srcdir();
        test_table();
        test_every_key();
        test_files();
        free(srcdir);
        return tap_done();
}
