/* gen-docs: the VM file's documentation, generated from the key table
 * (launcher/spec-keys.c), so docs, schema and man page can't drift from the
 * parser. `make generate` runs it; tests/integration/generated-docs.sh fails
 * when a checked-in file is stale.
 *
 *   gen-docs md FILE       FILE (docs/vm-file.md) with every key table
 *                          between its markers regenerated, on stdout
 *   gen-docs schema        docs/vm-file.schema.json
 *   gen-docs man FILE      docs/man/qemuctl-vm.5, FILE (docs/vm-file.md)
 *                          giving nothing but the key tables' order
 *
 * A marker pair in the markdown is
 *   <!-- keys PATH (generated from launcher/spec-keys.c; `make generate`) -->
 *   <!-- end keys -->
 * with PATH "." for the top level, "disks[]" for a list's items. */
#include <errno.h>
#include <json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/io.h"
#include "common/size.h"
#include "launcher/spec-keys.h"

#define MARK_BEGIN "<!-- keys "
#define MARK_TAIL " (generated from launcher/spec-keys.c; `make generate`) -->"
#define MARK_END "<!-- end keys -->"

static __attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        fputs("gen-docs: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        exit(1);
}

/* The table path whose keys are listed: "disks" (a LIST) lists "disks[]". */
static void children_key(const struct spec_key *k, char *buf, size_t len)
{
        snprintf(buf, len, "%s%s", k->path, k->type == SPEC_LIST ? "[]" : "");
}

static bool has_children(const char *key)
{
        for (size_t i = 0; i < spec_keys_n; i++)
                if (spec_key_is_child(&spec_keys[i], key))
                        return true;
        return false;
}

/* ---- the words for a key: type and default ---- */

static void type_text(const struct spec_key *k, char *buf, size_t len)
{
        size_t o = 0;

        if (k->type_doc) {
                snprintf(buf, len, "%s", k->type_doc);
                return;
        }
        switch (k->type) {
        case SPEC_STRING:
                snprintf(buf, len, "string");
                break;
        case SPEC_BOOL:
                snprintf(buf, len, "boolean");
                break;
        case SPEC_UINT:
                snprintf(buf, len, "%llu–%llu", (unsigned long long)k->min, (unsigned long long)k->max);
                break;
        case SPEC_SIZE:
                snprintf(buf, len, "size");
                break;
        case SPEC_CPUSET:
                snprintf(buf, len, "CPU list");
                break;
        case SPEC_ENUM:
                buf[0] = '\0';
                for (int i = 0; i < k->n_names && o < len; i++)
                        if (k->names[i])
                                o += (size_t)snprintf(buf + o, len - o, "%s`\"%s\"`", o ? " | " : "", k->names[i]);
                break;
        case SPEC_STRINGS:
                snprintf(buf, len, "array of strings");
                break;
        case SPEC_OBJECT:
                snprintf(buf, len, "object");
                break;
        case SPEC_LIST:
                snprintf(buf, len, "array of objects");
                break;
        case SPEC_CUSTOM:
        default:
                die("%s: a custom key needs type_doc", k->path);
        }
}

static void default_text(const struct spec_key *k, char *buf, size_t len)
{
        char sz[32];

        if (k->default_doc) {
                snprintf(buf, len, "%s", k->default_doc);
                return;
        }
        switch (k->type) {
        case SPEC_BOOL:
                snprintf(buf, len, "`%s`", k->def ? "true" : "false");
                break;
        case SPEC_ENUM:
                snprintf(buf, len, "`\"%s\"`", k->names[k->def]);
                break;
        case SPEC_UINT:
                if (k->def)
                        snprintf(buf, len, "`%llu`", (unsigned long long)k->def);
                else
                        snprintf(buf, len, "unset");
                break;
        case SPEC_SIZE:
                format_size(k->def, sz, sizeof sz);
                snprintf(buf, len, k->def ? "`\"%s\"`" : "none", sz);
                break;
        case SPEC_STRING:
                if (k->def_str)
                        snprintf(buf, len, "`\"%s\"`", k->def_str);
                else
                        snprintf(buf, len, "none");
                break;
        case SPEC_CPUSET:
        case SPEC_STRINGS:
        case SPEC_OBJECT:
        case SPEC_LIST:
        case SPEC_CUSTOM:
        default:
                snprintf(buf, len, "none");
                break;
        }
}

/* ---- markdown ---- */

/* a table cell: | escaped (GitHub tables end cells at |, even in code) */
static void md_cell(FILE *f, const char *s)
{
        fputc(' ', f);
        for (; *s; s++) {
                if (*s == '|')
                        fputc('\\', f);
                fputc(*s, f);
        }
        fputs(" |", f);
}

static void md_table(FILE *f, const char *key)
{
        fputs("| key | type | default | what it does | libvirt |\n|---|---|---|---|---|\n", f);
        for (size_t i = 0; i < spec_keys_n; i++) {
                const struct spec_key *k = &spec_keys[i];
                char name[96], type[512], def[256], lv[512];

                if (!spec_key_is_child(k, key))
                        continue;
                snprintf(name, sizeof name, "`%s`", spec_key_name(k));
                type_text(k, type, sizeof type);
                default_text(k, def, sizeof def);
                if (!k->libvirt)
                        snprintf(lv, sizeof lv, "—");
                else if (strchr(k->libvirt, '<'))
                        snprintf(lv, sizeof lv, "`%s`", k->libvirt);
                else
                        snprintf(lv, sizeof lv, "%s", k->libvirt);
                fputc('|', f);
                md_cell(f, name);
                md_cell(f, type);
                md_cell(f, def);
                md_cell(f, k->doc);
                md_cell(f, lv);
                fputc('\n', f);
        }
}

/* The marker pairs of the markdown, in order: their PATHs. */
static size_t md_sections(const char *text, char paths[][128], size_t max)
{
        size_t n = 0;

        for (const char *p = strstr(text, MARK_BEGIN); p; p = strstr(p + 1, MARK_BEGIN)) {
                size_t l = strcspn(p + strlen(MARK_BEGIN), " ");
                if (n == max || l >= 128)
                        die("too many or too long key markers");
                snprintf(paths[n++], 128, "%.*s", (int)l, p + strlen(MARK_BEGIN));
        }
        return n;
}

/* Every section with keys has a table somewhere: a new section can't go
 * undocumented. */
static void md_check_complete(char paths[][128], size_t n)
{
        for (size_t i = 0; i < spec_keys_n; i++) {
                const struct spec_key *k = &spec_keys[i];
                char ck[128];
                bool found = false;

                if (k->type != SPEC_OBJECT && k->type != SPEC_LIST)
                        continue;
                children_key(k, ck, sizeof ck);
                if (!has_children(ck))
                        continue;
                for (size_t j = 0; j < n; j++)
                        found |= strcmp(paths[j], ck) == 0;
                if (!found)
                        die("docs/vm-file.md has no table for %s: add a marker pair " MARK_BEGIN "%s" MARK_TAIL
                            " ... " MARK_END,
                            ck, ck);
        }
}

static void gen_md(const char *file)
{
        _cleanup_free_ char *text = NULL;
        char paths[64][128];
        const char *p;
        size_t n;
        int r;

        if ((r = read_file(file, 1 << 20, &text, NULL)) < 0)
                die("read %s: %s", file, strerror(-r));
        n = md_sections(text, paths, 64);
        md_check_complete(paths, n);
        p = text;
        for (size_t i = 0; i < n; i++) {
                const char *b = strstr(p, MARK_BEGIN), *e, *eol;
                const char *key = strcmp(paths[i], ".") == 0 ? "" : paths[i];

                eol = strchr(b, '\n');
                e = strstr(b, MARK_END);
                if (!eol || !e)
                        die("%s: marker for %s is not closed by " MARK_END, file, paths[i]);
                if (!has_children(key))
                        die("%s: %s has no keys in the table", file, paths[i]);
                fwrite(p, 1, (size_t)(b - p), stdout);
                printf(MARK_BEGIN "%s" MARK_TAIL "\n\n", paths[i]);
                md_table(stdout, key);
                printf("\n");
                p = e;
        }
        fputs(p, stdout);
}

/* ---- JSON Schema ---- */

static json_object *jparse(const struct spec_key *k, const char *text)
{
        json_object *o = json_tokener_parse(text);

        if (!o)
                die("%s: not JSON: %s", k->path, text);
        return o;
}

/* text without markdown's backticks */
static json_object *plain(const char *s)
{
        _cleanup_free_ char *t = strdup(s);
        char *o = t;

        if (!t)
                die("out of memory");
        for (const char *p = s; *p; p++)
                if (*p != '`')
                        *o++ = *p;
        *o = '\0';
        return json_object_new_string(t);
}

/* src's members into dst, objects merged member by member */
static void merge(json_object *dst, json_object *src)
{
        json_object_object_foreach(src, key, v)
        {
                json_object *d = json_object_object_get(dst, key);
                if (d && json_object_is_type(d, json_type_object) && json_object_is_type(v, json_type_object))
                        merge(d, v);
                else
                        json_object_object_add(dst, key, json_object_get(v));
        }
}

static json_object *schema_of(const struct spec_key *k);

static json_object *schema_object(const char *key)
{
        json_object *o = json_object_new_object(), *props = json_object_new_object(), *req = json_object_new_array();

        json_object_object_add(o, "type", json_object_new_string("object"));
        for (size_t i = 0; i < spec_keys_n; i++) {
                const struct spec_key *k = &spec_keys[i];
                if (!spec_key_is_child(k, key))
                        continue;
                json_object_object_add(props, spec_key_name(k), schema_of(k));
                if (k->flags & KEY_REQUIRED)
                        json_object_array_add(req, json_object_new_string(spec_key_name(k)));
        }
        json_object_object_add(o, "properties", props);
        if (json_object_array_length(req))
                json_object_object_add(o, "required", req);
        else
                json_object_put(req);
        json_object_object_add(o, "additionalProperties", json_object_new_boolean(false));
        return o;
}

static json_object *schema_of(const struct spec_key *k)
{
        json_object *o = NULL, *e;
        char ck[128];

        switch (k->type) {
        case SPEC_OBJECT:
        case SPEC_LIST:
                children_key(k, ck, sizeof ck);
                o = schema_object(ck);
                if (k->type == SPEC_LIST) {
                        json_object *a = json_object_new_object();
                        json_object_object_add(a, "type", json_object_new_string("array"));
                        json_object_object_add(a, "items", o);
                        o = a;
                }
                if (k->schema) {
                        json_object *any = json_object_new_array(), *w = json_object_new_object();
                        json_object_array_add(any, jparse(k, k->schema));
                        json_object_array_add(any, o);
                        json_object_object_add(w, "anyOf", any);
                        o = w;
                }
                break;
        case SPEC_CUSTOM:
                o = jparse(k, k->schema);
                break;
        case SPEC_STRING:
                o = jparse(k, "{\"type\": \"string\"}");
                break;
        case SPEC_BOOL:
                o = jparse(k, "{\"type\": \"boolean\"}");
                break;
        case SPEC_UINT:
                o = jparse(k, "{\"type\": \"integer\"}");
                json_object_object_add(o, "minimum", json_object_new_uint64(k->min));
                json_object_object_add(o, "maximum", json_object_new_uint64(k->max));
                break;
        case SPEC_SIZE:
                o = jparse(k, "{\"type\": \"string\", \"pattern\": \"" SPEC_SIZE_PATTERN "\"}");
                break;
        case SPEC_CPUSET:
                o = jparse(k, "{\"type\": \"string\", \"pattern\": \"" SPEC_CPUS_PATTERN "\"}");
                break;
        case SPEC_ENUM:
                o = json_object_new_object();
                e = json_object_new_array();
                for (int i = 0; i < k->n_names; i++)
                        if (k->names[i])
                                json_object_array_add(e, json_object_new_string(k->names[i]));
                json_object_object_add(o, "enum", e);
                break;
        case SPEC_STRINGS:
                o = jparse(k, "{\"type\": \"array\", \"items\": {\"type\": \"string\"}}");
                break;
        default:
                die("%s: unknown type", k->path);
        }
        if (k->schema_extra) {
                json_object *x = jparse(k, k->schema_extra);
                merge(o, x);
                json_object_put(x);
        }
        json_object_object_add(o, "description", plain(k->doc));
        switch (k->type) {
        case SPEC_BOOL:
                json_object_object_add(o, "default", json_object_new_boolean(k->def != 0));
                break;
        case SPEC_ENUM:
                json_object_object_add(o, "default", json_object_new_string(k->names[k->def]));
                break;
        case SPEC_UINT:
                if (k->def)
                        json_object_object_add(o, "default", json_object_new_uint64(k->def));
                break;
        case SPEC_STRING:
                if (k->def_str)
                        json_object_object_add(o, "default", json_object_new_string(k->def_str));
                break;
        case SPEC_SIZE:
        case SPEC_CPUSET:
        case SPEC_STRINGS:
        case SPEC_OBJECT:
        case SPEC_LIST:
        case SPEC_CUSTOM:
        default:
                break;
        }
        if (k->example) {
                e = json_object_new_array();
                json_object_array_add(e, jparse(k, k->example));
                json_object_object_add(o, "examples", e);
        }
        return o;
}

static void gen_schema(void)
{
        json_object *o = json_object_new_object(), *body = schema_object("");

        json_object_object_add(o, "$schema", json_object_new_string("https://json-schema.org/draft/2020-12/schema"));
        json_object_object_add(o, "$comment",
                               json_object_new_string("Generated from launcher/spec-keys.c by `make generate`; do not edit."));
        json_object_object_add(o, "title", json_object_new_string("qemuctl VM file"));
        json_object_object_add(
                o, "description",
                json_object_new_string("One VM for qemuctl (docs/vm-file.md, qemuctl-vm(5)). Sizes are strings with a "
                                       "binary unit (\"4G\"); CPU lists use the kernel's syntax (\"0-3,8\"). Checks "
                                       "across keys are qemuctl validate's."));
        merge(o, body);
        json_object_put(body);
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                       JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
}

/* ---- man page (roff) ---- */

/* text as roff: `code` bold, backslashes escaped, no line starts a request */
static void roff(FILE *f, const char *s)
{
        bool code = false;

        if (*s == '.' || *s == '\'')
                fputs("\\&", f);
        for (; *s; s++) {
                if (*s == '`') {
                        fputs(code ? "\\fR" : "\\fB", f);
                        code = !code;
                } else if (*s == '\\') {
                        fputs("\\e", f);
                } else if (*s == '-') {
                        fputs("\\-", f);
                } else {
                        fputc(*s, f);
                }
        }
        if (code)
                fputs("\\fR", f);
}

static void man_section(FILE *f, const char *key)
{
        for (size_t i = 0; i < spec_keys_n; i++) {
                const struct spec_key *k = &spec_keys[i];
                char type[512], def[256];

                if (!spec_key_is_child(k, key))
                        continue;
                type_text(k, type, sizeof type);
                default_text(k, def, sizeof def);
                fputs(".TP\n\\fB", f);
                roff(f, spec_key_name(k));
                fputs("\\fR (", f);
                roff(f, type);
                fputs("; default: ", f);
                roff(f, def);
                fputs(")\n", f);
                roff(f, k->doc);
                fputc('\n', f);
                if (k->libvirt) {
                        fputs(".br\nlibvirt: ", f);
                        roff(f, k->libvirt);
                        fputc('\n', f);
                }
        }
}

static const char *const man_head =
        ".\\\" Generated from launcher/spec-keys.c by `make generate` (tools/gen-docs.c); do not edit.\n"
        ".TH QEMUCTL-VM 5 \"\" \"qemuctl\" \"File Formats Manual\"\n"
        ".SH NAME\n"
        "qemuctl-vm \\- the VM file of qemuctl\n"
        ".SH SYNOPSIS\n"
        "\\fIvm.json\\fR\n"
        ".SH DESCRIPTION\n"
        "One JSON file describes one VM for \\fBqemuctl\\fR(1).\n"
        "\\fBqemuctl validate\\fR \\fIFILE\\fR... checks files without running anything;\n"
        "every other verb that takes a file checks it the same way first.\n"
        "Every problem is reported with its place, as\n"
        "\\fIFILE\\fR:\\fILINE\\fR:\\fICOL\\fR: \\fIjson.path\\fR: \\fImessage\\fR.\n"
        ".PP\n"
        "The file is plain JSON plus comments (\\fB//\\fR to the end of the line and \\fB/* ... */\\fR).\n"
        "Keys are exact: an unknown key is an error, and the nearest known key is suggested;\n"
        "a key given twice in one object is an error.\n"
        "A file is at most 1 MiB and nested at most 32 levels.\n"
        ".PP\n"
        "\\fBSizes\\fR are strings with a binary unit: \\fB\"512M\"\\fR, \\fB\"4G\"\\fR, \\fB\"2MiB\"\\fR, \\fB\"4096B\"\\fR (K = 1024).\n"
        "A bare number is an error.\n"
        "\\fBCPU and node lists\\fR are strings in the kernel's cpulist syntax: \\fB\"0\\-3,8\"\\fR,\n"
        "with exclusion \\fB\"0\\-7,^2\"\\fR and stride \\fB\"0\\-15:2/4\"\\fR.\n"
        "\\fBPaths\\fR are relative to the directory of the VM file.\n"
        ".PP\n"
        "A JSON Schema of the file, for editors, is \\fBdocs/vm-file.schema.json\\fR in the source\n"
        "(installed as \\fIPREFIX\\fR\\fB/share/qemuctl/vm-file.schema.json\\fR);\n"
        "a file may name it with a \\fB\"$schema\"\\fR key.\n"
        ".SH EXAMPLE\n"
        ".nf\n"
        "{\n"
        "  \"name\": \"ct7\",\n"
        "  \"accel\": \"tcg\",\n"
        "  \"cpu\": { \"vcpus\": 2, \"max\": 4 },\n"
        "  \"memory\": { \"size\": \"2G\", \"limits\": { \"hard\": \"3G\" } },\n"
        "  \"disks\": [ { \"file\": \"ct7.qcow2\", \"create\": \"20G\" } ],\n"
        "  \"net\": [ { \"type\": \"user\", \"forward\": [\"tcp:2222:22\"] } ]\n"
        "}\n"
        ".fi\n"
        ".SH KEYS\n";

static const char *const man_tail =
        ".SH CHECKS ACROSS KEYS\n"
        "Besides each value's own type and range, \\fBqemuctl validate\\fR refuses what QEMU would refuse\n"
        "at start, or what would break later: \\fBcpu.vcpus\\fR above \\fBcpu.max\\fR; a topology whose\n"
        "product is not \\fBcpu.max\\fR; pins of vCPUs past \\fBcpu.max\\fR; host CPU modes under TCG;\n"
        "NUMA cells that do not cover every vCPU once or do not add up to \\fBmemory.size\\fR;\n"
        "hotplug settings without \\fBmemory.max\\fR or slots; huge pages that do not divide the sizes;\n"
        "\\fBmemory.locked\\fR without a hard limit; missing disk images without \\fBcreate\\fR;\n"
        "NIC keys on a NIC type that has no use for them. docs/vm-file.md lists them all.\n"
        ".SH FILES\n"
        ".TP\n"
        "\\fI/run/qemuctl/NAME/\\fR, \\fI$XDG_RUNTIME_DIR/qemuctl/NAME/\\fR\n"
        "the state dir of a running VM; it holds the effective VM file (\\fBqemuctl dump\\fR).\n"
        ".SH SEE ALSO\n"
        "\\fBqemuctl\\fR(1), \\fBqemu-system-x86_64\\fR(1), \\fBvirsh\\fR(1)\n";

static void gen_man(const char *md)
{
        _cleanup_free_ char *text = NULL;
        char paths[64][128];
        size_t n;
        int r;

        /* sections in the order of docs/vm-file.md */
        if ((r = read_file(md, 1 << 20, &text, NULL)) < 0)
                die("read %s: %s", md, strerror(-r));
        n = md_sections(text, paths, 64);
        md_check_complete(paths, n);
        fputs(man_head, stdout);
        for (size_t i = 0; i < n; i++) {
                bool top = strcmp(paths[i], ".") == 0;
                fputs(".SS ", stdout);
                roff(stdout, top ? "Top level" : paths[i]);
                fputc('\n', stdout);
                man_section(stdout, top ? "" : paths[i]);
        }
        fputs(man_tail, stdout);
}

int main(int argc, char **argv)
{
        if (argc == 3 && strcmp(argv[1], "md") == 0)
                gen_md(argv[2]);
        else if (argc == 2 && strcmp(argv[1], "schema") == 0)
                gen_schema();
        else if (argc == 3 && strcmp(argv[1], "man") == 0)
                gen_man(argv[2]);
        else
                die("usage: gen-docs md docs/vm-file.md | gen-docs schema | gen-docs man docs/vm-file.md");
        if (fflush(stdout) != 0 || ferror(stdout))
                die("write: %s", strerror(errno));
        return 0;
}
