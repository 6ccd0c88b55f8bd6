/* Port forwards: parse net[].forward, learn the host ports QEMU bound for
 * port 0 from `info usernet`, record them in RUNDIR/ports.json. */
#include "ports.h"

#include <arpa/inet.h>
#include <errno.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "state.h"

/* digits only, at most 5, value <= 65535 */
static int port_parse(const char *s, size_t len, unsigned *ret)
{
        unsigned v = 0;

        if (len == 0 || len > 5)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (unsigned)(s[i] - '0');
        }
        if (v > 65535)
                return -EINVAL;
        *ret = v;
        return 0;
}

int vm_forward_parse(const char *s, struct vm_forward *ret)
{
        struct vm_forward f = { 0 };
        const char *rest, *a, *b;
        struct in_addr in;

        if (strncmp(s, "tcp:", 4) == 0)
                f.udp = false;
        else if (strncmp(s, "udp:", 4) == 0)
                f.udp = true;
        else
                return -EINVAL;
        rest = s + 4;
        if (!(a = strchr(rest, ':')))
                return -EINVAL;
        if ((b = strchr(a + 1, ':'))) {
                size_t hl = (size_t)(a - rest);

                if (hl == 0 || hl >= sizeof f.addr)
                        return -EINVAL;
                memcpy(f.addr, rest, hl);
                f.addr[hl] = '\0';
                if (inet_pton(AF_INET, f.addr, &in) != 1)
                        return -EINVAL;
                rest = a + 1;
                a = b;
        }
        if (port_parse(rest, (size_t)(a - rest), &f.host_port) < 0 ||
            port_parse(a + 1, strlen(a + 1), &f.guest_port) < 0 || f.guest_port == 0)
                return -EINVAL;
        *ret = f;
        return 0;
}

void vm_ports_done(struct vm_ports *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->n; i++)
                free(p->v[i].rule);
        free(p->v);
        *p = (struct vm_ports){ 0 };
}

bool vm_ports_wanted(const struct vm_spec *spec)
{
        for (size_t i = 0; i < spec->n_nets; i++)
                if (spec->nets[i].type == VM_NET_USER && spec->nets[i].n_forward)
                        return true;
        return false;
}

/* One HOST_FORWARD line of `info usernet`, under its netdev. */
struct usernet_fwd {
        long net; /* N of hostnetN; -1: another netdev */
        bool udp, used;
        char addr[16]; /* "" for "*" */
        unsigned host_port, guest_port;
};

/*
 * QEMU 7.2, per user netdev:
 *   Hub -1 (hostnet0):
 *     Protocol[State]    FD  Source Address  Port   Dest. Address  Port RecvQ SendQ
 *     TCP[HOST_FORWARD]   9       127.0.0.1 42013       10.0.2.15    22     0     0
 * (CRLF line ends through QMP). Source is the host side, "*" = INADDR_ANY.
 */
static int parse_usernet(const char *text, struct usernet_fwd **ret, size_t *ret_n)
{
        struct usernet_fwd *v = NULL;
        size_t n = 0;
        long net = -1;

        for (const char *line = text; line && *line;) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t)(end - line) : strlen(line);
                char buf[256], proto[32], src[32], dst[32];
                unsigned fd, sport, dport;
                const char *paren;

                if (len >= sizeof buf)
                        len = sizeof buf - 1;
                memcpy(buf, line, len);
                buf[len] = '\0';
                line = end ? end + 1 : NULL;
                if (buf[0] != ' ') {
                        /* "Hub -1 (hostnet0):" */
                        net = -1;
                        if ((paren = strstr(buf, "(hostnet")) && sscanf(paren, "(hostnet%ld)", &net) != 1)
                                net = -1;
                        continue;
                }
                if (sscanf(buf, " %31s %u %31s %u %31s %u", proto, &fd, src, &sport, dst, &dport) != 6 ||
                    !strstr(proto, "[HOST_FORWARD]"))
                        continue;
                struct usernet_fwd *nv = realloc(v, (n + 1) * sizeof *nv);
                if (!nv) {
                        free(v);
                        return -ENOMEM;
                }
                v = nv;
                v[n] = (struct usernet_fwd){ .net = net, .udp = strncmp(proto, "UDP", 3) == 0, .host_port = sport,
                                             .guest_port = dport };
                if (strcmp(src, "*") != 0 && strlen(src) < sizeof v[n].addr)
                        memcpy(v[n].addr, src, strlen(src) + 1);
                n++;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static bool any_addr(const char *a)
{
        return !a[0] || strcmp(a, "0.0.0.0") == 0;
}

static bool same_addr(const char *a, const char *b)
{
        return any_addr(a) ? any_addr(b) : strcmp(a, b) == 0;
}

int vm_ports_resolve(const struct vm_spec *spec, const char *usernet, struct vm_ports *ret, struct qc_err *err)
{
        _cleanup_free_ struct usernet_fwd *u = NULL;
        struct vm_ports p = { 0 };
        size_t nu = 0;

        if (parse_usernet(usernet ? usernet : "", &u, &nu) < 0)
                return qc_err_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < spec->n_nets; i++) {
                const struct vm_net *net = &spec->nets[i];

                if (net->type != VM_NET_USER)
                        continue;
                /* the fixed ports first: a port-0 forward cannot be one of them */
                for (size_t j = 0; j < net->n_forward; j++) {
                        struct vm_forward f;
                        if (vm_forward_parse(net->forward[j], &f) < 0 || !f.host_port)
                                continue;
                        for (size_t k = 0; k < nu; k++)
                                if (u[k].net == (long)i && u[k].udp == f.udp && u[k].host_port == f.host_port &&
                                    same_addr(u[k].addr, f.addr))
                                        u[k].used = true;
                }
                for (size_t j = 0; j < net->n_forward; j++) {
                        struct vm_forward f;
                        struct vm_port *nv;
                        size_t k = nu;

                        if (vm_forward_parse(net->forward[j], &f) < 0) {
                                vm_ports_done(&p);
                                return qc_err_set(err, EINVAL, "net[%zu].forward[%zu] \"%s\": not a forward", i, j,
                                                  net->forward[j]);
                        }
                        if (!f.host_port) {
                                for (k = 0; k < nu; k++)
                                        if (!u[k].used && u[k].net == (long)i && u[k].udp == f.udp &&
                                            u[k].guest_port == f.guest_port && same_addr(u[k].addr, f.addr))
                                                break;
                                if (k == nu) {
                                        vm_ports_done(&p);
                                        return qc_err_set(err, EPROTO,
                                                          "net[%zu].forward \"%s\": QEMU's info usernet does not list it",
                                                          i, net->forward[j]);
                                }
                                u[k].used = true;
                                f.host_port = u[k].host_port;
                        }
                        if (!(nv = realloc(p.v, (p.n + 1) * sizeof *nv))) {
                                vm_ports_done(&p);
                                return qc_err_set(err, ENOMEM, "out of memory");
                        }
                        p.v = nv;
                        nv[p.n] = (struct vm_port){ .net = i, .udp = f.udp, .host_port = f.host_port,
                                                    .guest_port = f.guest_port };
                        snprintf(nv[p.n].addr, sizeof nv[p.n].addr, "%s", any_addr(f.addr) ? "0.0.0.0" : f.addr);
                        if (!(nv[p.n++].rule = strdup(net->forward[j]))) {
                                vm_ports_done(&p);
                                return qc_err_set(err, ENOMEM, "out of memory");
                        }
                }
        }
        *ret = p;
        return 0;
}

json_object *vm_ports_to_json(const struct vm_ports *p)
{
        json_object *a = json_object_new_array();

        for (size_t i = 0; a && i < p->n; i++) {
                json_object *o = json_object_new_object();

                if (!o || json_object_array_add(a, o) < 0) {
                        json_object_put(o);
                        json_object_put(a);
                        return NULL;
                }
                json_object_object_add(o, "net", json_object_new_int((int)p->v[i].net));
                json_object_object_add(o, "rule", json_object_new_string(p->v[i].rule));
                json_object_object_add(o, "proto", json_object_new_string(p->v[i].udp ? "udp" : "tcp"));
                json_object_object_add(o, "host", json_object_new_string(p->v[i].addr));
                json_object_object_add(o, "host_port", json_object_new_int((int)p->v[i].host_port));
                json_object_object_add(o, "guest_port", json_object_new_int((int)p->v[i].guest_port));
        }
        return a;
}

int vm_ports_write(const char *rundir, const struct vm_ports *p, struct qc_err *err)
{
        json_object *a = vm_ports_to_json(p);
        int r;

        if (!a)
                return qc_err_set(err, ENOMEM, "out of memory");
        r = state_write_file(rundir, VM_RUNDIR_PORTS, json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN), err);
        json_object_put(a);
        return r;
}

static int get_port(json_object *o, const char *key, unsigned *ret)
{
        json_object *v;
        int64_t n;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return -EINVAL;
        n = json_object_get_int64(v);
        if (n < 0 || n > 65535)
                return -EINVAL;
        *ret = (unsigned)n;
        return 0;
}

int vm_ports_read(const char *rundir, struct vm_ports *ret, struct qc_err *err)
{
        _cleanup_free_ char *text = NULL;
        struct vm_ports p = { 0 };
        json_object *a;
        size_t n;

        if (state_read_file(rundir, VM_RUNDIR_PORTS, 1 << 20, &text, err) < 0)
                return -1;
        a = json_tokener_parse(text);
        if (!a || !json_object_is_type(a, json_type_array)) {
                json_object_put(a);
                return qc_err_set(err, EINVAL, "%s: not a JSON array", VM_RUNDIR_PORTS);
        }
        n = json_object_array_length(a);
        if (n && !(p.v = calloc(n, sizeof *p.v))) {
                json_object_put(a);
                return qc_err_set(err, ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
                json_object *o = json_object_array_get_idx(a, i), *v;
                struct vm_port *q = &p.v[p.n];
                unsigned net = 0;
                const char *s;

                if (!json_object_is_type(o, json_type_object) || get_port(o, "net", &net) < 0 ||
                    get_port(o, "host_port", &q->host_port) < 0 || get_port(o, "guest_port", &q->guest_port) < 0 ||
                    !json_object_object_get_ex(o, "proto", &v) || !(s = json_object_get_string(v)) ||
                    (strcmp(s, "tcp") != 0 && strcmp(s, "udp") != 0)) {
                        json_object_put(a);
                        vm_ports_done(&p);
                        return qc_err_set(err, EINVAL, "%s: entry %zu is not a port", VM_RUNDIR_PORTS, i);
                }
                q->net = net;
                q->udp = s[0] == 'u';
                if (json_object_object_get_ex(o, "host", &v) && (s = json_object_get_string(v)))
                        snprintf(q->addr, sizeof q->addr, "%s", s);
                if (json_object_object_get_ex(o, "rule", &v) && (s = json_object_get_string(v)) &&
                    !(q->rule = strdup(s))) {
                        json_object_put(a);
                        vm_ports_done(&p);
                        return qc_err_set(err, ENOMEM, "out of memory");
                }
                p.n++;
        }
        json_object_put(a);
        *ret = p;
        return 0;
}
