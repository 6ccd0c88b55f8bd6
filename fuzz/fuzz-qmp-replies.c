/* libFuzzer: the typed QMP reply parsers (qmp/qmp-*.c). Each line of the
 * input is the "return" value of one reply, given in turn to one wrapper
 * (query-status, query-cpus-fast, query-memory-devices, query-cpu-definitions,
 * query-cpu-model-expansion, ...; each sends one
 * command, so reply N carries the id of command N); a line that starts with
 * '!' is sent as it is (an event, garbage, a reply with another id). A reply
 * of any shape is a value or a clean error, and the connection stays usable. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qmp/qmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 2, \"minor\": 2, \"major\": 7}}, \"capabilities\": []}}\r\n"

static void call(struct qmp *q, unsigned i)
{
        struct qc_err err;

        switch (i) {
        case 0: {
                char *st = NULL;
                bool run;
                if (qmp_query_status(q, &st, &run, &err) == 0)
                        free(st);
                break;
        }
        case 1: {
                struct qmp_version v;
                if (qmp_query_version(q, &v, &err) == 0)
                        qmp_version_done(&v);
                break;
        }
        case 2: {
                bool has;
                (void)qmp_has_command(q, "device_add", &has, &err);
                break;
        }
        case 3: {
                char *name = NULL;
                if (qmp_query_name(q, &name, &err) == 0)
                        free(name);
                break;
        }
        case 4: {
                uint64_t actual;
                (void)qmp_query_balloon(q, &actual, &err);
                break;
        }
        case 5: {
                struct qmp_balloon_stats st;
                (void)qmp_balloon_get_stats(q, "/machine/peripheral/balloon0", &st, &err);
                break;
        }
        case 6: {
                int64_t s;
                (void)qmp_balloon_get_stats_interval(q, "/machine/peripheral/balloon0", &s, &err);
                break;
        }
        case 7: {
                struct qmp_memory_summary m;
                (void)qmp_query_memory_size_summary(q, &m, &err);
                break;
        }
        case 8: {
                struct qmp_memory_device_list *l = NULL;
                if (qmp_query_memory_devices(q, &l, &err) == 0)
                        qmp_memory_device_list_free(l);
                break;
        }
        case 9: {
                struct qmp_qom_prop_list *l = NULL;
                if (qmp_qom_list(q, "/machine/peripheral", &l, &err) == 0)
                        qmp_qom_prop_list_free(l);
                break;
        }
        case 10: {
                char *out = NULL;
                if (qmp_hmp(q, "info cpus", &out, &err) == 0)
                        free(out);
                break;
        }
        case 11: {
                struct qmp_cpu_list *l = NULL;
                if (qmp_query_cpus_fast(q, &l, &err) == 0) {
                        (void)qmp_cpu_list_find_index(l, 1);
                        (void)qmp_cpu_list_find_id(l, "cpu1");
                        qmp_cpu_list_free(l);
                }
                break;
        }
        case 12: {
                /* query-cpus (QEMU < 2.12) is reached inside
                 * qmp_query_cpus_fast when the fuzzed reply to
                 * query-cpus-fast is CommandNotFound */
                struct qmp_cpu_list *l = NULL;
                if (qmp_query_cpus_fast(q, &l, &err) == 0)
                        qmp_cpu_list_free(l);
                break;
        }
        case 13: {
                struct qmp_hotpluggable_cpu_list *l = NULL;
                if (qmp_query_hotpluggable_cpus(q, &l, &err) == 0)
                        qmp_hotpluggable_cpu_list_free(l);
                break;
        }
        case 14: {
                struct qmp_cpu_def_list *l = NULL;
                json_object *raw = NULL;
                if (qmp_query_cpu_definitions(q, &l, &raw, &err) == 0) {
                        (void)qmp_cpu_def_find(l, "max");
                        qmp_cpu_def_list_free(l);
                        json_object_put(raw);
                }
                break;
        }
        case 15: {
                struct qmp_cpu_model m = { 0 };
                if (qmp_query_cpu_model_expansion(q, "full", "max", NULL, &m, NULL, &err) == 0)
                        qmp_cpu_model_done(&m);
                break;
        }
        default: {
                json_object *v = NULL;
                if (qmp_qom_get(q, "/machine", "type", &v, &err) == 0)
                        json_object_put(v);
                break;
        }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static bool init;
        struct qc_err err;
        struct qmp *q = NULL;
        char *wire, *text;
        size_t len = 0, cap;
        unsigned n = 0;
        int sv[2];

        if (!init) {
                signal(SIGPIPE, SIG_IGN);
                init = true;
        }
        /* everything must fit in the socket buffer before the client reads */
        if (size > 32768)
                return 0;
        text = strndup((const char *)data, size);
        cap = size * 2 + 4096;
        wire = malloc(cap);
        if (!text || !wire)
                abort();
        len = (size_t)snprintf(wire, cap, "%s{\"return\": {}, \"id\": 1}\r\n", GREETING);
        for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                if (l[0] == '!')
                        len += (size_t)snprintf(wire + len, cap - len, "%s\r\n", l + 1);
                else
                        len += (size_t)snprintf(wire + len, cap - len, "{\"return\": %s, \"id\": %u}\r\n", l, 2 + n++);
                if (len >= cap)
                        abort();
        }
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                abort();
        if (write(sv[1], wire, len) != (ssize_t)len)
                abort();
        shutdown(sv[1], SHUT_WR);
        if (qmp_open_fd(sv[0], 0, &q, &err) == 0) {
                json_object *ev;

                for (unsigned i = 0; i < n; i++)
                        call(q, i);
                while ((ev = qmp_next_event(q)))
                        json_object_put(ev);
                qmp_free(q);
        }
        close(sv[1]);
        free(wire);
        free(text);
        return 0;
}
