#include "spec-diff.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../common/strv.h"

enum rule {
        COMPARE,
        IGNORE,
        PRESENCE, /* set or not */
        DISPLAY,  /* {"vnc": ...} = a VGA card, whatever the address; "none" = none */
};

/* Keys (array indexes as "[]") by what they mean to the guest. Everything
 * else is compared. PRESENCE: whether it is there makes a device (a VGA
 * card with a display, the cidata disk with cloud_init), its value does not. */
static const struct {
        const char *key;
        enum rule rule;
} rules[] = {
        { "$schema", IGNORE },
        { "name", IGNORE },
        { "cpu.pin", IGNORE },
        { "cpu.emulator_pin", IGNORE },
        { "cpu.cpuset", IGNORE },
        { "cpu.placement", IGNORE },
        { "cpu.weight", IGNORE },
        { "cpu.max_percent", IGNORE },
        { "memory.limits", IGNORE },
        { "memory.locked", IGNORE },
        { "memory.merge", IGNORE },
        { "memory.balloon.stats_interval", IGNORE },
        { "numa.policy", IGNORE },
        { "numa.nodeset", IGNORE },
        { "numa.placement", IGNORE },
        /* the host's ends: which file, how it is cached, how the overlay
         * was made; the contents are the disks' own check (restore) */
        { "disks[].file", IGNORE },
        { "disks[].create", IGNORE },
        { "disks[].cache", IGNORE },
        { "disks[].backing", IGNORE },
        { "disks[].backing_format", IGNORE },
        /* the guest mounts a share by its tag; the folder is the host's
         * ({name} in it: each restored copy its own) */
        { "shares[].path", IGNORE },
        { "net[].type", IGNORE },
        { "net[].bridge", IGNORE },
        { "net[].ifname", IGNORE },
        { "net[].forward", IGNORE },
        /* read at boot; a restored guest booted long ago */
        { "boot", IGNORE },
        { "cloud_init", PRESENCE },
        { "display", DISPLAY },
        { "serial_log_max", IGNORE },
        { "cgroup", IGNORE },
        { "security", IGNORE },
        { "qemu.binary", IGNORE },
};

/* "disks[2].file" -> "disks[].file" */
static void generic_key(const char *path, char *out, size_t size)
{
        size_t o = 0;

        for (const char *p = path; *p && o + 1 < size; p++) {
                out[o++] = *p;
                if (*p == '[') {
                        while (isdigit((unsigned char)p[1]))
                                p++;
                }
        }
        out[o] = '\0';
}

static enum rule rule_for(const char *path)
{
        char g[512];

        generic_key(path, g, sizeof g);
        for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
                size_t n = strlen(rules[i].key);
                if (strncmp(g, rules[i].key, n) == 0 && (g[n] == '\0' || g[n] == '.' || g[n] == '['))
                        return rules[i].rule;
        }
        return COMPARE;
}

/* "path\tvalue" for every leaf to compare */
static int flatten(json_object *o, const char *path, strv *out)
{
        enum rule r = path[0] ? rule_for(path) : COMPARE;
        _cleanup_free_ char *line = NULL;

        if (r == IGNORE)
                return 0;
        if (r == PRESENCE)
                return asprintf(&line, "%s\t(set)", path) < 0 ? -ENOMEM : strv_push(out, line);
        if (r == DISPLAY && json_object_is_type(o, json_type_object))
                return asprintf(&line, "%s\ta VNC display (a VGA card)", path) < 0 ? -ENOMEM : strv_push(out, line);
        if (json_object_is_type(o, json_type_object)) {
                json_object_object_foreach(o, k, v)
                {
                        _cleanup_free_ char *p = NULL;
                        if (asprintf(&p, "%s%s%s", path, path[0] ? "." : "", k) < 0)
                                return -ENOMEM;
                        int e = flatten(v, p, out);
                        if (e < 0)
                                return e;
                }
                return 0;
        }
        if (json_object_is_type(o, json_type_array)) {
                size_t n = json_object_array_length(o);
                bool scalars = true;

                for (size_t i = 0; i < n; i++) {
                        json_type t = json_object_get_type(json_object_array_get_idx(o, i));
                        if (t == json_type_object || t == json_type_array)
                                scalars = false;
                }
                /* a list of words (qemu.args, input) is one value */
                if (!scalars) {
                        for (size_t i = 0; i < n; i++) {
                                _cleanup_free_ char *p = NULL;
                                if (asprintf(&p, "%s[%zu]", path, i) < 0)
                                        return -ENOMEM;
                                int e = flatten(json_object_array_get_idx(o, i), p, out);
                                if (e < 0)
                                        return e;
                        }
                        if (asprintf(&line, "%s\t%zu entries", path, n) < 0)
                                return -ENOMEM;
                        return strv_push(out, line);
                }
        }
        if (asprintf(&line, "%s\t%s", path, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                                     JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
                return -ENOMEM;
        return strv_push(out, line);
}

static int leaves(const struct vm_spec *spec, strv *out, struct qc_err *err)
{
        _cleanup_free_ char *text = spec_to_json(spec);
        json_object *o;
        int r;

        if (!text)
                return qc_err_set(err, ENOMEM, "out of memory");
        o = json_tokener_parse(text);
        if (!o)
                return qc_err_set(err, EINVAL, "the VM file does not serialize to JSON");
        r = flatten(o, "", out);
        json_object_put(o);
        if (r < 0)
                return qc_err_set(err, -r, "out of memory");
        return 0;
}

static int cmp_lines(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* the value of path in a sorted list of "path\tvalue", or NULL */
static const char *value_of(char **v, size_t n, const char *path)
{
        size_t len = strlen(path);

        for (size_t i = 0; i < n; i++)
                if (strncmp(v[i], path, len) == 0 && v[i][len] == '\t')
                        return v[i] + len + 1;
        return NULL;
}

/* spec.json records a disk's format as probed at start ("qcow2"); a VM
 * file that leaves it out says "auto", which the same image resolves to
 * the same format (the restore writes the captured image back first). */
static bool format_unresolved(const char *path, const char *va, const char *vb)
{
        char g[512];

        generic_key(path, g, sizeof g);
        return (strcmp(g, "disks[].format") == 0 || strcmp(g, "disks[].backing_format") == 0) &&
               (strcmp(va, "\"auto\"") == 0 || strcmp(vb, "\"auto\"") == 0);
}

int spec_restore_diff(const struct vm_spec *saved, const struct vm_spec *now, char ***ret, struct qc_err *err)
{
        _cleanup_strv_ strv a = { 0 }, b = { 0 }, out = { 0 };
        size_t na, nb;

        if (leaves(saved, &a, err) < 0 || leaves(now, &b, err) < 0)
                return -1;
        na = strv_length(a.v);
        nb = strv_length(b.v);
        if (na)
                qsort(a.v, na, sizeof *a.v, cmp_lines);
        if (nb)
                qsort(b.v, nb, sizeof *b.v, cmp_lines);
        /* every path of either side, once */
        for (int side = 0; side < 2; side++) {
                char **v = side ? b.v : a.v;
                size_t n = side ? nb : na;

                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *path = strndup(v[i], strcspn(v[i], "\t"));
                        const char *va, *vb;

                        if (!path)
                                return qc_err_set(err, ENOMEM, "out of memory");
                        va = value_of(a.v, na, path);
                        vb = value_of(b.v, nb, path);
                        if (side == 1 && va)
                                continue; /* seen from the saved side */
                        if (va && vb && strcmp(va, vb) == 0)
                                continue;
                        if (va && vb && format_unresolved(path, va, vb))
                                continue;
                        if (strv_pushf(&out, "%s: saved %s, VM file %s", path, va ? va : "(not set)",
                                       vb ? vb : "(not set)") < 0)
                                return qc_err_set(err, ENOMEM, "out of memory");
                }
        }
        *ret = strv_steal(&out);
        if (!*ret)
                return qc_err_set(err, ENOMEM, "out of memory");
        return 0;
}
