/* --set KEY.PATH=VALUE and --name NAME: changes to a VM file given on the
 * command line. They are applied to the file's JSON tree before it is
 * parsed, so the key table judges a changed value exactly as it judges one
 * written in the file (types, bounds, unknown keys, checks across keys), and
 * the spec that results is what `dump` shows. Nodes made here sit at line
 * SPEC_SET_LINE + i, so their diagnostics name the option (spec-values.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../common/strv.h"
#include "spec-internal.h"
#include "spec-keys.h"

void spec_overrides_done(struct spec_overrides *o)
{
        if (!o)
                return;
        for (size_t i = 0; i < o->n; i++) {
                free(o->v[i].origin);
                free(o->v[i].path);
                free(o->v[i].value);
        }
        free(o->v);
        *o = (struct spec_overrides){ 0 };
}

static int add(struct spec_overrides *o, char *origin, char *path, char *value, bool unset, struct qc_err *err)
{
        struct spec_override *nv;

        if (!origin || !path || (!value && !unset) || !(nv = realloc(o->v, (o->n + 1) * sizeof *nv))) {
                free(origin);
                free(path);
                free(value);
                return qc_err_set(err, ENOMEM, "out of memory");
        }
        o->v = nv;
        o->v[o->n++] = (struct spec_override){ .origin = origin, .path = path, .value = value };
        return 0;
}

int spec_overrides_add_set(struct spec_overrides *o, const char *arg, struct qc_err *err)
{
        const char *eq = strchr(arg, '=');
        char *origin = NULL;

        if (!eq || eq == arg)
                return qc_err_set(err, EINVAL,
                                  "--set \"%.80s\": expected KEY.PATH=VALUE, like memory.size=2G or disks.0.file=vm2.qcow2",
                                  arg);
        if (asprintf(&origin, "--set %s", arg) < 0)
                origin = NULL;
        return add(o, origin, strndup(arg, (size_t)(eq - arg)), strdup(eq + 1), false, err);
}

int spec_overrides_add_unset(struct spec_overrides *o, const char *path, struct qc_err *err)
{
        char *origin = NULL;

        if (!path[0] || strchr(path, '='))
                return qc_err_set(err, EINVAL,
                                  "--unset \"%.80s\": expected KEY.PATH, like cpu.pin or disks.1 (no value)", path);
        if (asprintf(&origin, "--unset %s", path) < 0)
                origin = NULL;
        return add(o, origin, strdup(path), NULL, true, err);
}

int spec_overrides_add_name(struct spec_overrides *o, const char *name, struct qc_err *err)
{
        char *origin = NULL;

        if (asprintf(&origin, "--name %s", name) < 0)
                origin = NULL;
        return add(o, origin, strdup("name"), strdup(name), false, err);
}

/* ---- applying one change ---- */

/* Every node of t (a value parsed from the option) at line. */
static void relabel(struct jt *t, unsigned line)
{
        t->line = line;
        if (t->key)
                t->key_line = line;
        for (size_t i = 0; i < t->n; i++)
                relabel(&t->kids[i], line);
}

static bool is_number(const char *s)
{
        if (*s == '-')
                s++;
        if (!*s)
                return false;
        return strspn(s, "0123456789") == strlen(s);
}

/* An index into a list: "0", "12" (at most 6 digits). */
static bool parse_index(const char *s, size_t *ret)
{
        size_t n = strlen(s);

        if (n == 0 || n > 6 || strspn(s, "0123456789") != n)
                return false;
        *ret = (size_t)strtoul(s, NULL, 10);
        return true;
}

/* The value of the option as a node, typed by the key k it goes to (NULL:
 * an item or member of a key whose content is code's: a string). 0, or -1
 * after a diagnostic. */
static int make_value(struct spec_ctx *c, const struct spec_key *k, const char *value, const char *shown,
                      unsigned line, struct jt *ret)
{
        *ret = (struct jt){ .type = JT_STRING, .line = line, .col = 1 };
        if (k) {
                switch (k->type) {
                case SPEC_BOOL:
                        if (strcmp(value, "true") == 0 || strcmp(value, "false") == 0) {
                                ret->type = JT_BOOL;
                                ret->b = value[0] == 't';
                                return 0;
                        }
                        break; /* a string: the table says what it wanted */
                case SPEC_UINT:
                        if (is_number(value))
                                ret->type = JT_NUMBER;
                        break;
                case SPEC_OBJECT:
                case SPEC_LIST:
                case SPEC_STRINGS:
                case SPEC_CUSTOM:
                        /* JSON for the whole value; a short form ("2M",
                         * false, 65534) as it would be written in the file */
                        if (value[0] == '{' || value[0] == '[') {
                                _cleanup_free_ char *msg = NULL;
                                unsigned l = 0, col = 0;
                                struct jt *t = NULL;
                                int r = jt_parse(value, strlen(value), &t, &l, &col, &msg);

                                if (r == -ENOMEM) {
                                        c->oom = true;
                                        return -1;
                                }
                                if (r < 0) {
                                        /* the key's own example when it has one */
                                        const char *ex = k->example ? k->example
                                                         : value[0] == '[' ? "[\"...\"]" : "{\"key\": \"...\"}";
                                        diag_at(c, line, 1, shown, "the value is not JSON (column %u: %s); write "
                                                "strings in double quotes and quote it all for the shell, like --set "
                                                "'%s=%s'", col, msg, shown, ex);
                                        return -1;
                                }
                                *ret = *t;
                                free(t);
                                relabel(ret, line);
                                return 0;
                        }
                        if (strcmp(value, "true") == 0 || strcmp(value, "false") == 0) {
                                ret->type = JT_BOOL;
                                ret->b = value[0] == 't';
                                return 0;
                        }
                        if (is_number(value))
                                ret->type = JT_NUMBER;
                        break;
                case SPEC_STRING:
                case SPEC_SIZE:
                case SPEC_CPUSET:
                case SPEC_ENUM:
                default:
                        break;
                }
        }
        if (!(ret->str = strdup(value))) {
                c->oom = true;
                return -1;
        }
        return 0;
}

/* The member key of obj, or NULL. */
static struct jt *find_member(struct jt *obj, const char *key)
{
        for (size_t i = 0; i < obj->n; i++)
                if (strcmp(obj->kids[i].key, key) == 0)
                        return &obj->kids[i];
        return NULL;
}

/* The member key of obj, made (null, *created) when absent; NULL on ENOMEM. */
static struct jt *member(struct spec_ctx *c, struct jt *obj, const char *key, unsigned line, bool *created)
{
        struct jt *nk;

        *created = false;
        if ((nk = find_member(obj, key)))
                return nk;
        *created = true;
        if (!(nk = realloc(obj->kids, (obj->n + 1) * sizeof *nk))) {
                c->oom = true;
                return NULL;
        }
        obj->kids = nk;
        nk = &obj->kids[obj->n];
        *nk = (struct jt){ .type = JT_NULL, .line = line, .col = 1, .key_line = line, .key_col = 1 };
        if (!(nk->key = strdup(key))) {
                c->oom = true;
                return NULL;
        }
        obj->n++;
        return nk;
}

/* A new item at the end of the array arr; NULL on ENOMEM. */
static struct jt *append(struct spec_ctx *c, struct jt *arr, enum jt_type type, unsigned line)
{
        struct jt *nk = realloc(arr->kids, (arr->n + 1) * sizeof *nk);

        if (!nk) {
                c->oom = true;
                return NULL;
        }
        arr->kids = nk;
        nk = &arr->kids[arr->n++];
        *nk = (struct jt){ .type = type, .line = line, .col = 1 };
        return nk;
}

/* "disks" -> "disks[]": the table path of a list's items */
static void item_path(const struct spec_key *k, char *buf, size_t len)
{
        snprintf(buf, len, "%s[]", k->path);
}

/* The keys under table path parent, for a suggestion (NULL-terminated, malloc'd). */
static const char **child_names(const char *parent)
{
        const char **names = calloc(spec_keys_n + 1, sizeof *names);
        size_t n = 0;

        for (size_t i = 0; names && i < spec_keys_n; i++)
                if (spec_key_is_child(&spec_keys[i], parent) && spec_keys[i].path[0] != '$')
                        names[n++] = spec_key_name(&spec_keys[i]);
        return names;
}

static void unknown_key(struct spec_ctx *c, const char *parent, const char *tok, const char *shown, unsigned line)
{
        _cleanup_free_ const char **names = child_names(parent);
        const char *best;
        char list[512];
        size_t o = 0;

        if (!names) {
                c->oom = true;
                return;
        }
        if ((best = spec_suggest(tok, names))) {
                diag_at(c, line, 1, shown, "unknown key; did you mean \"%s\"?", best);
                return;
        }
        list[0] = '\0';
        for (const char **kk = names; *kk && o < sizeof list; kk++)
                o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", o ? ", " : "", *kk);
        diag_at(c, line, 1, shown, "unknown key; the keys %s%s are: %s", *parent ? "under " : "here",
                *parent ? parent : "", list);
}

/* Split "disks[0].file" / "disks.0.file" into its components (malloc'd
 * strings in a NULL-terminated array); -EINVAL for an empty component. */
static int split_path(const char *path, char ***ret)
{
        _cleanup_free_ char *buf = strdup(path);
        _cleanup_(strv_donep) strv v = { 0 };
        char *p, *w, *save = NULL;

        if (!buf)
                return -ENOMEM;
        /* "a[0].b" reads as "a.0.b" */
        for (p = w = buf; *p; p++)
                if (*p == '[')
                        *w++ = '.';
                else if (!(*p == ']' && (p[1] == '.' || p[1] == '[' || !p[1])))
                        *w++ = *p;
        *w = '\0';
        if (!buf[0] || buf[0] == '.' || buf[strlen(buf) - 1] == '.' || strstr(buf, ".."))
                return -EINVAL;
        for (p = strtok_r(buf, ".", &save); p; p = strtok_r(NULL, ".", &save))
                if (strv_push(&v, p) < 0)
                        return -ENOMEM;
        if (!(*ret = strv_steal(&v)))
                return -ENOMEM;
        return 0;
}

/* Where an object or array is expected at shown but the file has another
 * value: say so and how to set the whole. */
static void not_container(struct spec_ctx *c, const struct jt *n, const char *shown, bool object, unsigned line)
{
        diag_at(c, line, 1, shown, "is %s in the VM file, not %s: set it whole instead, like --set '%s=%s'",
                jt_type_name(n->type), object ? "an object" : "an array", shown, object ? "{...}" : "[...]");
}

/* node (a member or an item) becomes the option's value, typed by k; a
 * member keeps its key, now placed at the option too. When the value is
 * refused (not JSON), node stays as it was, and a member or item made for it
 * (created: the last of parent's kids) goes again, so that nothing but the
 * one diagnostic comes of it. */
static void set_node(struct spec_ctx *c, struct jt *parent, struct jt *node, bool created, const struct spec_key *k,
                     const char *value, const char *shown, unsigned line)
{
        struct jt v;

        if (make_value(c, k, value, shown, line, &v) < 0) {
                if (created) {
                        jt_clear(node);
                        parent->n--;
                }
                return;
        }
        v.key = TAKE_PTR(node->key);
        v.key_line = line;
        v.key_col = 1;
        jt_clear(node);
        *node = v;
}

/* --unset: kid (a member or an item of parent) goes, the others keep their order */
static void remove_kid(struct jt *parent, struct jt *kid)
{
        size_t i = (size_t)(kid - parent->kids);

        jt_clear(kid);
        memmove(&parent->kids[i], &parent->kids[i + 1], (parent->n - i - 1) * sizeof *kid);
        parent->n--;
}

/* A --set walks the path making what is missing; an --unset (o->value
 * NULL) only follows what is there, and a key or item that is not there
 * is already unset. Key names are checked either way, also below a key or
 * item the file does not have. */
static void apply_one(struct spec_ctx *c, struct jt *root, const struct spec_override *o, unsigned line)
{
        const bool unset = !o->value;
        _cleanup_(strv_freep) char **tok = NULL;
        char tpath[160] = "";            /* the table path of node's keys: "", "memory", "disks[]" */
        const struct spec_key *k = NULL; /* the key whose value node is (NULL: root or a list item) */
        bool free_form = false;          /* inside a value whose keys are code's (cpu.pin, forward items) */
        _cleanup_free_ char *shown = strdup("");
        struct jt *node = root, *parent = NULL;
        /* --unset: where the path goes on past what the file has; the key
         * names below are still checked against the table */
        struct jt absent = { .type = JT_NULL };
        bool created;
        int r = split_path(o->path, &tok);

        if (r == -ENOMEM || !shown) {
                c->oom = true;
                return;
        }
        if (r < 0) {
                diag_at(c, line, 1, NULL, "\"%s\" is not a key path; write keys with dots and list items by index, "
                        "like memory.size or disks.0.file", o->path);
                return;
        }
        for (size_t i = 0; tok[i]; i++) {
                bool last = !tok[i + 1];
                char *ns;
                size_t idx;


                if ((k && (k->type == SPEC_LIST || k->type == SPEC_STRINGS)) ||
                    (free_form && node->type == JT_ARRAY)) {
                        /* an item of a list, by index */
                        if (!parse_index(tok[i], &idx)) {
                                diag_at(c, line, 1, shown, "is a list: give an item's index, like %s.0, not \"%s\"",
                                        shown, tok[i]);
                                break;
                        }
                        if (unset && (node->type == JT_NULL || (node->type == JT_ARRAY && idx >= node->n))) {
                                if (last)
                                        break; /* not there */
                                if (!(ns = path_idx(c, shown, idx)))
                                        break;
                                free(shown);
                                shown = ns;
                                node = &absent;
                                goto item;
                        }
                        if (node->type == JT_NULL)
                                node->type = JT_ARRAY;
                        if (node->type != JT_ARRAY) {
                                not_container(c, node, shown, false, line);
                                break;
                        }
                        if (idx > node->n) {
                                if (node->n)
                                        diag_at(c, line, 1, shown, "has %zu item%s: give an index from 0 to %zu, or %zu "
                                                "to add one", node->n, node->n == 1 ? "" : "s", node->n - 1, node->n);
                                else
                                        diag_at(c, line, 1, shown, "has no items: give index 0 to add the first");
                                break;
                        }
                        created = idx == node->n;
                        if (created && !append(c, node, JT_NULL, line))
                                break;
                        if (!(ns = path_idx(c, shown, idx)))
                                break;
                        free(shown);
                        shown = ns;
                        parent = node;
                        node = &node->kids[idx];
                        if (last && unset) {
                                remove_kid(parent, node);
                                break;
                        }
                        if (last) {
                                /* a whole item: a list's as JSON ('disks.1={"file": ...}') */
                                set_node(c, parent, node, created, k && k->type == SPEC_LIST ? k : NULL, o->value,
                                         shown, line);
                                break;
                        }
                item:
                        if (k && k->type == SPEC_LIST)
                                item_path(k, tpath, sizeof tpath);
                        else
                                free_form = true; /* inside an item of a STRINGS key or a free-form array */
                        k = NULL;
                        continue;
                }
                /* a member of an object */
                if (unset && node->type == JT_NULL) {
                        if (free_form)
                                break; /* not there, and its keys are the value's own parser's */
                        node = &absent;
                }
                if (node->type == JT_NULL && node != &absent)
                        node->type = JT_OBJECT;
                if (node->type != JT_OBJECT && node != &absent) {
                        not_container(c, node, shown, true, line);
                        break;
                }
                if (!(ns = path_key(c, shown, tok[i])))
                        break;
                free(shown);
                shown = ns;
                if (free_form) {
                        /* a member of cpu.pin, cpu.features...: the key's own parser judges it */
                        parent = node;
                        if (unset) {
                                if (!(node = find_member(node, tok[i])))
                                        break;
                                if (last)
                                        remove_kid(parent, node);
                                continue;
                        }
                        if (!(node = member(c, node, tok[i], line, &created)))
                                break;
                        if (last)
                                set_node(c, parent, node, created, NULL, o->value, shown, line);
                        continue;
                }
                char full[192];
                const struct spec_key *kk;

                snprintf(full, sizeof full, "%s%s%s", tpath, *tpath ? "." : "", tok[i]);
                kk = spec_key_find(full);
                if (!kk || kk->path[0] == '$') {
                        unknown_key(c, tpath, tok[i], shown, line);
                        break;
                }
                if (!last && kk->type != SPEC_OBJECT && kk->type != SPEC_LIST && kk->type != SPEC_STRINGS &&
                    kk->type != SPEC_CUSTOM) {
                        diag_at(c, line, 1, shown, "is a single value; it has no keys or items under it");
                        break;
                }
                parent = node;
                if (unset) {
                        node = find_member(parent, tok[i]);
                        if (node && last) {
                                remove_kid(parent, node);
                                break;
                        }
                        if (last)
                                break; /* not there */
                        if (!node)
                                node = &absent;
                } else if (!(node = member(c, node, tok[i], line, &created))) {
                        break;
                } else if (last) {
                        set_node(c, parent, node, created, kk, o->value, shown, line);
                        break;
                }
                k = kk;
                free_form = kk->type == SPEC_CUSTOM;
                snprintf(tpath, sizeof tpath, "%s", kk->path);
        }
}

void spec_apply_overrides(struct spec_ctx *c, struct jt *root, const struct spec_overrides *ov)
{
        if (!ov || root->type != JT_OBJECT)
                return;
        for (size_t i = 0; i < ov->n && !c->oom; i++)
                apply_one(c, root, &ov->v[i], SPEC_SET_LINE + (unsigned)i);
}
