/* CPU models: query-cpu-definitions, query-cpu-model-expansion. The parsers
 * take the "return" value alone too, so a cache of QEMU's replies is read by
 * the same code that read QEMU (both are untrusted: fuzz/fuzz-qmp-replies.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../common/strv.h"
#include "qmp-internal.h"

#define DEFS "query-cpu-definitions"
#define EXPANSION "query-cpu-model-expansion"

void qmp_cpu_def_list_free(struct qmp_cpu_def_list *l)
{
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++) {
                free(l->defs[i].name);
                free(l->defs[i].type_name);
                free(l->defs[i].alias_of);
                strv_free(l->defs[i].unavailable);
        }
        free(l->defs);
        free(l);
}

static int dup_string(json_object *o, const char *key, bool optional, char **ret, struct qc_err *err)
{
        json_object *v;

        *ret = NULL;
        if (qmp_get_member(o, DEFS, key, json_type_string, optional, &v, err) < 0)
                return -1;
        if (v && !(*ret = strdup(json_object_get_string(v))))
                return qc_err_set(err, ENOMEM, "out of memory");
        return 0;
}

static int parse_def(json_object *e, struct qmp_cpu_def *d, struct qc_err *err)
{
        json_object *un;
        size_t n;

        if (qmp_expect_type(e, DEFS, json_type_object, err) < 0 || dup_string(e, "name", false, &d->name, err) < 0 ||
            dup_string(e, "typename", true, &d->type_name, err) < 0 ||
            dup_string(e, "alias-of", true, &d->alias_of, err) < 0 ||
            qmp_get_member(e, DEFS, "unavailable-features", json_type_array, true, &un, err) < 0)
                return -1;
        d->is_static = qmp_member_bool(e, "static", false);
        d->migration_safe = qmp_member_bool(e, "migration-safe", false);
        d->deprecated = qmp_member_bool(e, "deprecated", false);
        /* absent: QEMU cannot tell (an accelerator without the check) */
        d->unavailable_known = un != NULL;
        n = un ? json_object_array_length(un) : 0;
        if (!(d->unavailable = calloc(n + 1, sizeof *d->unavailable)))
                return qc_err_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                json_object *f = json_object_array_get_idx(un, i);

                if (!json_object_is_type(f, json_type_string))
                        return qc_err_set(err, EPROTO, DEFS ": unavailable-features of %s holds a %s, not a name",
                                          d->name, json_type_to_name(json_object_get_type(f)));
                if (!(d->unavailable[i] = strdup(json_object_get_string(f))))
                        return qc_err_set(err, ENOMEM, "out of memory");
        }
        return 0;
}

int qmp_cpu_definitions_parse(json_object *r, struct qmp_cpu_def_list **ret, struct qc_err *err)
{
        _cleanup_(qmp_cpu_def_list_freep) struct qmp_cpu_def_list *l = NULL;
        size_t n;

        if (qmp_expect_type(r, DEFS, json_type_array, err) < 0)
                return -1;
        n = json_object_array_length(r);
        if (!(l = calloc(1, sizeof *l)) || !(l->defs = calloc(n ? n : 1, sizeof *l->defs)))
                return qc_err_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                l->n++;
                if (parse_def(json_object_array_get_idx(r, i), &l->defs[i], err) < 0)
                        return -1;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int qmp_query_cpu_definitions(struct qmp *q, struct qmp_cpu_def_list **ret, json_object **ret_raw,
                              struct qc_err *err)
{
        _cleanup_json_ json_object *r = NULL;

        if (qmp_execute(q, DEFS, NULL, &r, err) < 0 || qmp_cpu_definitions_parse(r, ret, err) < 0)
                return -1;
        if (ret_raw)
                *ret_raw = TAKE_PTR(r);
        return 0;
}

const struct qmp_cpu_def *qmp_cpu_def_find(const struct qmp_cpu_def_list *l, const char *name)
{
        for (size_t i = 0; l && i < l->n; i++)
                if (strcmp(l->defs[i].name, name) == 0)
                        return &l->defs[i];
        return NULL;
}

void qmp_cpu_model_done(struct qmp_cpu_model *m)
{
        free(m->name);
        json_object_put(m->props);
        *m = (struct qmp_cpu_model){ 0 };
}

int qmp_cpu_model_parse(json_object *r, struct qmp_cpu_model *ret, struct qc_err *err)
{
        json_object *model, *name, *props;
        struct qmp_cpu_model m = { 0 };

        if (qmp_expect_type(r, EXPANSION, json_type_object, err) < 0 ||
            qmp_get_member(r, EXPANSION, "model", json_type_object, false, &model, err) < 0 ||
            qmp_get_member(model, EXPANSION, "name", json_type_string, false, &name, err) < 0 ||
            qmp_get_member(model, EXPANSION, "props", json_type_object, true, &props, err) < 0)
                return -1;
        if (!(m.name = strdup(json_object_get_string(name))))
                return qc_err_set(err, ENOMEM, "out of memory");
        m.props = props ? json_object_get(props) : json_object_new_object();
        if (!m.props) {
                free(m.name);
                return qc_err_set(err, ENOMEM, "out of memory");
        }
        *ret = m;
        return 0;
}

int qmp_query_cpu_model_expansion(struct qmp *q, const char *type, const char *model, json_object *props,
                                  struct qmp_cpu_model *ret, json_object **ret_raw, struct qc_err *err)
{
        _cleanup_json_ json_object *r = NULL;
        json_object *args = json_object_new_object(), *m = json_object_new_object();

        if (!args || !m) {
                json_object_put(args);
                json_object_put(m);
                json_object_put(props);
                return qc_err_set(err, ENOMEM, "out of memory");
        }
        json_object_object_add(m, "name", json_object_new_string(model));
        if (props)
                json_object_object_add(m, "props", props);
        json_object_object_add(args, "type", json_object_new_string(type));
        json_object_object_add(args, "model", m);
        if (qmp_execute(q, EXPANSION, args, &r, err) < 0 || qmp_cpu_model_parse(r, ret, err) < 0)
                return -1;
        if (ret_raw)
                *ret_raw = TAKE_PTR(r);
        return 0;
}
