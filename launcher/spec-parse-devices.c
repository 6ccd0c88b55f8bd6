/* The VM file's devices and process settings: disks, net, boot, display,
 * input, serial, panic, debug_exit, cgroup, security, qemu. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../common/strv.h"
#include "spec-internal.h"

static const char *const disk_keys[] = {
        "file", "format", "create", "bus", "cache", "media", "readonly", "snapshot", NULL,
};

static void parse_disk(struct spec_ctx *c, const struct jt *d, const char *p, struct vm_spec *s, struct vm_disk *dst)
{
        const struct jt *n, *n_bus = NULL, *n_ro = NULL, *n_create = NULL;
        _cleanup_free_ char *file = NULL;
        int v;

        dst->bus = VM_DISK_BUS_VIRTIO;
        if (!check_object(c, d, p, disk_keys))
                return;
        if (!(n = jt_get(d, "file"))) {
                _cleanup_free_ char *pp = path_key(c, p, "file");
                diag(c, d, pp, "missing; every disk needs an image \"file\" (relative paths are from the VM file's directory)");
        } else {
                _cleanup_free_ char *pp = path_key(c, p, "file");
                dst->file_line = n->line;
                dst->file_col = n->col;
                if (get_string(c, n, pp, &file) == 0) {
                        if (!file[0])
                                diag(c, n, pp, "empty; give the image's path");
                        else
                                dst->file = spec_resolve_path(c, s->path, file);
                }
        }
#define ENUM_FIELD(key, table, max, field)                                         \
        if ((n = jt_get(d, key))) {                                                \
                _cleanup_free_ char *pp = path_key(c, p, key);                     \
                if ((v = get_enum(c, n, pp, table, max)) >= 0)                     \
                        dst->field = v;                                            \
        }
        ENUM_FIELD("format", vm_disk_format_table, _VM_DISK_FORMAT_MAX, format)
        ENUM_FIELD("cache", vm_disk_cache_table, _VM_DISK_CACHE_MAX, cache)
        ENUM_FIELD("media", vm_disk_media_table, _VM_DISK_MEDIA_MAX, media)
        if ((n_bus = jt_get(d, "bus"))) {
                n = n_bus;
                ENUM_FIELD("bus", vm_disk_bus_table, _VM_DISK_BUS_MAX, bus)
        }
#undef ENUM_FIELD
        if ((n = jt_get(d, "format"))) {
                dst->format_line = n->line;
                dst->format_col = n->col;
        }
        if ((n_create = jt_get(d, "create"))) {
                _cleanup_free_ char *pp = path_key(c, p, "create");
                if (get_size(c, n_create, pp, &dst->create) == 0 && dst->create == 0)
                        diag(c, n_create, pp, "a new image needs a size above 0, like \"20G\"");
        }
        if ((n_ro = jt_get(d, "readonly"))) {
                _cleanup_free_ char *pp = path_key(c, p, "readonly");
                get_bool(c, n_ro, pp, &dst->readonly);
        }
        if ((n = jt_get(d, "snapshot"))) {
                _cleanup_free_ char *pp = path_key(c, p, "snapshot");
                get_bool(c, n, pp, &dst->snapshot);
        }
        if (dst->media != VM_DISK_MEDIA_CDROM)
                return;
        /* a CD-ROM is read-only media; QEMU refuses readonly=off for one */
        if (n_ro && n_ro->type == JT_BOOL && !n_ro->b) {
                _cleanup_free_ char *pp = path_key(c, p, "readonly");
                diag(c, n_ro, pp, "a cdrom is always read-only; drop \"readonly\" or use \"media\": \"disk\"");
        }
        dst->readonly = true;
        if (n_create) {
                _cleanup_free_ char *pp = path_key(c, p, "create");
                diag(c, n_create, pp, "a cdrom image can't be created empty; drop \"create\" or use \"media\": \"disk\"");
        }
        if (!n_bus)
                dst->bus = s->machine == VM_MACHINE_PC ? VM_DISK_BUS_IDE : VM_DISK_BUS_SATA;
        else if (dst->bus == VM_DISK_BUS_VIRTIO) {
                _cleanup_free_ char *pp = path_key(c, p, "bus");
                diag(c, n_bus, pp, "virtio-blk has no CD-ROMs; use \"sata\" (q35), \"ide\" (pc) or \"scsi\"");
        }
}

static const char *const net_keys[] = { "type", "model", "bridge", "ifname", "mac", "forward", NULL };

static bool mac_ok(const char *m)
{
        unsigned first;

        if (strlen(m) != 17)
                return false;
        for (int i = 0; i < 17; i++)
                if (i % 3 == 2 ? m[i] != ':' : !strchr("0123456789abcdefABCDEF", m[i]) || !m[i])
                        return false;
        if (sscanf(m, "%2x", &first) != 1)
                return false;
        return (first & 1) == 0; /* a multicast address can't be a NIC's */
}

static bool port_ok(const char *s, size_t len)
{
        unsigned v = 0;

        if (len == 0 || len > 5)
                return false;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (unsigned)(s[i] - '0');
        }
        return v >= 1 && v <= 65535;
}

/* "tcp|udp:[hostaddr:]hostport:guestport", QEMU's hostfwd without the
 * guest address. */
static bool forward_ok(const char *f)
{
        const char *a, *b, *rest;
        struct in_addr addr;

        if (strncmp(f, "tcp:", 4) != 0 && strncmp(f, "udp:", 4) != 0)
                return false;
        rest = f + 4;
        a = strchr(rest, ':');
        if (!a)
                return false;
        b = strchr(a + 1, ':');
        if (b) {
                char host[INET_ADDRSTRLEN + 1];
                size_t hl = (size_t)(a - rest);
                if (hl == 0 || hl >= sizeof host)
                        return false;
                memcpy(host, rest, hl);
                host[hl] = '\0';
                if (inet_pton(AF_INET, host, &addr) != 1)
                        return false;
                return port_ok(a + 1, (size_t)(b - a - 1)) && port_ok(b + 1, strlen(b + 1));
        }
        return port_ok(rest, (size_t)(a - rest)) && port_ok(a + 1, strlen(a + 1));
}

static bool ifname_ok(const char *s)
{
        size_t n = strlen(s);
        /* IFNAMSIZ is 16 with the NUL */
        return n >= 1 && n <= 15 && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 && !strpbrk(s, "/: \t\n");
}

static void parse_net(struct spec_ctx *c, const struct jt *d, const char *p, struct vm_net *dst)
{
        const struct jt *n, *n_bridge, *n_ifname, *n_forward;
        int v;

        if (!check_object(c, d, p, net_keys))
                return;
        if ((n = jt_get(d, "type"))) {
                _cleanup_free_ char *pp = path_key(c, p, "type");
                if ((v = get_enum(c, n, pp, vm_net_type_table, _VM_NET_TYPE_MAX)) >= 0)
                        dst->type = v;
        }
        if ((n = jt_get(d, "model"))) {
                _cleanup_free_ char *pp = path_key(c, p, "model");
                if ((v = get_enum(c, n, pp, vm_net_model_table, _VM_NET_MODEL_MAX)) >= 0)
                        dst->model = v;
        }
        if ((n = jt_get(d, "mac"))) {
                _cleanup_free_ char *pp = path_key(c, p, "mac");
                if (get_string(c, n, pp, &dst->mac) == 0 && !mac_ok(dst->mac)) {
                        char q[64];
                        jt_describe(n, q, sizeof q);
                        diag(c, n, pp, "expected a unicast MAC address like \"52:54:00:12:34:56\", got %s", q);
                }
        }
        n_bridge = jt_get(d, "bridge");
        n_ifname = jt_get(d, "ifname");
        n_forward = jt_get(d, "forward");
        if (n_bridge) {
                _cleanup_free_ char *pp = path_key(c, p, "bridge");
                if (dst->type != VM_NET_BRIDGE)
                        diag(c, n_bridge, pp, "only for \"type\": \"bridge\"");
                else if (get_string(c, n_bridge, pp, &dst->bridge) == 0 && !ifname_ok(dst->bridge))
                        diag(c, n_bridge, pp, "expected a bridge interface name (1 to 15 characters, no '/' ':' or spaces)");
        } else if (dst->type == VM_NET_BRIDGE) {
                _cleanup_free_ char *pp = path_key(c, p, "bridge");
                diag(c, d, pp, "missing; a bridge NIC needs the host bridge, like \"bridge\": \"br0\"");
        }
        if (n_ifname) {
                _cleanup_free_ char *pp = path_key(c, p, "ifname");
                if (dst->type == VM_NET_USER)
                        diag(c, n_ifname, pp, "only for \"type\": \"tap\"; user networking has no host interface");
                else if (dst->type == VM_NET_BRIDGE)
                        /* -netdev bridge runs qemu-bridge-helper, which makes and
                         * names the tap device itself */
                        diag(c, n_ifname, pp,
                             "only for \"type\": \"tap\"; QEMU's bridge helper names the tap itself (use type tap to pick the name)");
                else if (get_string(c, n_ifname, pp, &dst->ifname) == 0 && !ifname_ok(dst->ifname))
                        diag(c, n_ifname, pp, "expected a tap interface name (1 to 15 characters, no '/' ':' or spaces)");
        }
        if (n_forward) {
                _cleanup_free_ char *pp = path_key(c, p, "forward");
                _cleanup_strv_ strv sv = { 0 };

                if (dst->type != VM_NET_USER) {
                        diag(c, n_forward, pp, "only for \"type\": \"user\"; with a tap or bridge the guest is reachable directly");
                        return;
                }
                if (n_forward->type != JT_ARRAY) {
                        diag(c, n_forward, pp, "expected an array like [\"tcp:2222:22\"], got %s",
                             jt_type_name(n_forward->type));
                        return;
                }
                for (size_t i = 0; i < n_forward->n; i++) {
                        const struct jt *f = &n_forward->kids[i];
                        _cleanup_free_ char *fp = path_idx(c, pp, i);
                        _cleanup_free_ char *str = NULL;

                        if (get_string(c, f, fp, &str) < 0)
                                continue;
                        if (!forward_ok(str)) {
                                char q[96];
                                jt_describe(f, q, sizeof q);
                                diag(c, f, fp,
                                     "expected \"tcp|udp:[hostaddr:]hostport:guestport\" like \"tcp:2222:22\" or \"udp:127.0.0.1:5353:53\", got %s",
                                     q);
                                continue;
                        }
                        if (strv_consume(&sv, TAKE_PTR(str)) < 0)
                                c->oom = true;
                }
                dst->n_forward = sv.n;
                dst->forward = sv.n ? strv_steal(&sv) : NULL;
        }
}

/* An array of objects: allocate n and call fn for each. */
static void *parse_list(struct spec_ctx *c, const struct jt *n, const char *path, size_t size, size_t *ret_n,
                        const char *example)
{
        void *v;

        *ret_n = 0;
        if (n->type != JT_ARRAY) {
                diag(c, n, path, "expected an array like %s, got %s", example, jt_type_name(n->type));
                return NULL;
        }
        if (n->n == 0)
                return NULL;
        v = calloc(n->n, size);
        if (!v)
                c->oom = true;
        else
                *ret_n = n->n;
        return v;
}

static const char *const boot_keys[] = { "kernel", "initrd", "cmdline", "order", NULL };

static void parse_boot(struct spec_ctx *c, const struct jt *b, struct vm_spec *s)
{
        const struct jt *n, *n_kernel;
        _cleanup_free_ char *tmp = NULL;

        if (!check_object(c, b, "boot", boot_keys))
                return;
        if ((n_kernel = jt_get(b, "kernel")) && get_string(c, n_kernel, "boot.kernel", &tmp) == 0) {
                if (!tmp[0])
                        diag(c, n_kernel, "boot.kernel", "empty; give the kernel image's path, or leave the key out");
                else
                        s->boot.kernel = spec_resolve_path(c, s->path, tmp);
        }
        if ((n = jt_get(b, "initrd"))) {
                if (!n_kernel)
                        diag(c, n, "boot.initrd", "needs boot.kernel: QEMU loads an initrd only with a kernel");
                else if (get_string(c, n, "boot.initrd", &tmp) == 0) {
                        if (!tmp[0])
                                diag(c, n, "boot.initrd", "empty; give the initrd's path, or leave the key out");
                        else
                                s->boot.initrd = spec_resolve_path(c, s->path, tmp);
                }
        }
        if ((n = jt_get(b, "cmdline"))) {
                if (!n_kernel)
                        diag(c, n, "boot.cmdline", "needs boot.kernel: QEMU passes a command line only to a kernel it loads");
                else
                        get_string(c, n, "boot.cmdline", &s->boot.cmdline);
        }
        if ((n = jt_get(b, "order")) && get_string(c, n, "boot.order", &s->boot.order) == 0) {
                const char *o = s->boot.order;
                bool bad = !o[0] || strspn(o, "acdn") != strlen(o);
                for (size_t i = 0; !bad && o[i]; i++)
                        bad = strchr(o + i + 1, o[i]) != NULL;
                if (bad) {
                        char q[64];
                        jt_describe(n, q, sizeof q);
                        diag(c, n, "boot.order",
                             "expected boot devices as letters, each once: c = disk, d = cdrom, n = network, a = floppy (like \"cd\"); got %s",
                             q);
                }
        }
}

/* VNC: "[host]:display", display 0..99 (port 5900 + display) */
static bool vnc_ok(const char *v)
{
        const char *colon = strrchr(v, ':');
        size_t hl;

        if (!colon || !colon[1] || strlen(colon + 1) > 2 || strspn(colon + 1, "0123456789") != strlen(colon + 1))
                return false;
        hl = (size_t)(colon - v);
        if (hl == 0)
                return true;
        if (v[0] == '[') {
                char host[64];
                struct in6_addr a6;
                if (hl < 3 || v[hl - 1] != ']' || hl - 2 >= sizeof host)
                        return false;
                memcpy(host, v + 1, hl - 2);
                host[hl - 2] = '\0';
                return inet_pton(AF_INET6, host, &a6) == 1;
        }
        for (size_t i = 0; i < hl; i++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-", v[i]))
                        return false;
        return hl <= 253;
}

static void parse_display(struct spec_ctx *c, const struct jt *n, struct vm_spec *s)
{
        static const char *const display_keys[] = { "vnc", NULL };
        const struct jt *k;

        if (n->type == JT_STRING && strcmp(n->str, "none") == 0)
                return;
        if (n->type != JT_OBJECT) {
                char got[64];
                jt_describe(n, got, sizeof got);
                diag(c, n, "display", "expected \"none\" or an object like {\"vnc\": \"127.0.0.1:0\"}, got %s", got);
                return;
        }
        if (!check_object(c, n, "display", display_keys) || !(k = jt_get(n, "vnc")))
                return;
        if (get_string(c, k, "display.vnc", &s->vnc) == 0 && !vnc_ok(s->vnc)) {
                char q[96];
                jt_describe(k, q, sizeof q);
                diag(c, k, "display.vnc",
                     "expected HOST:DISPLAY like \"127.0.0.1:0\" or \":1\" (display 0-99, port 5900+display), got %s", q);
        }
}

static bool parent_ok(const char *p)
{
        _cleanup_free_ char *copy = strdup(p);
        char *save = NULL;

        if (!copy || !p[0] || p[0] == '/' || p[strlen(p) - 1] == '/' || strstr(p, "//"))
                return false;
        for (char *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save))
                if (strcmp(t, ".") == 0 || strcmp(t, "..") == 0 || strlen(t) > 255 || strchr(t, '\n'))
                        return false;
        return true;
}

static void parse_small(struct spec_ctx *c, const struct jt *root, struct vm_spec *s)
{
        static const char *const cgroup_keys[] = { "parent", "pids_max", NULL };
        static const char *const security_keys[] = { "user", "group", "sandbox", NULL };
        static const char *const qemu_keys[] = { "binary", "args", NULL };
        const struct jt *n, *k;
        uint64_t v;
        int e;

        if ((n = jt_get(root, "serial")) && (e = get_enum(c, n, "serial", vm_serial_table, _VM_SERIAL_MAX)) >= 0)
                s->serial = e;
        if ((n = jt_get(root, "panic")))
                get_bool(c, n, "panic", &s->panic);
        if ((n = jt_get(root, "debug_exit")))
                get_bool(c, n, "debug_exit", &s->debug_exit);
        if ((n = jt_get(root, "cgroup")) && check_object(c, n, "cgroup", cgroup_keys)) {
                if ((k = jt_get(n, "parent")) && get_string(c, k, "cgroup.parent", &s->cgroup.parent) == 0 &&
                    !parent_ok(s->cgroup.parent))
                        diag(c, k, "cgroup.parent",
                             "expected a path relative to the cgroup2 root, like \"qemuctl\" or \"machine.slice/ci\" (no leading '/', no '..')");
                if ((k = jt_get(n, "pids_max")) && get_uint(c, k, "cgroup.pids_max", 1, UINT32_MAX, &v) == 0)
                        s->cgroup.pids_max = v;
        }
        if ((n = jt_get(root, "security")) && check_object(c, n, "security", security_keys)) {
                if ((k = jt_get(n, "user")) && get_string(c, k, "security.user", &s->security.user) == 0 &&
                    !s->security.user[0])
                        diag(c, k, "security.user", "empty; give a user name or number, or leave the key out");
                if ((k = jt_get(n, "group")) && get_string(c, k, "security.group", &s->security.group) == 0 &&
                    !s->security.group[0])
                        diag(c, k, "security.group", "empty; give a group name or number, or leave the key out");
                if ((k = jt_get(n, "sandbox")))
                        get_bool(c, k, "security.sandbox", &s->security.sandbox);
        }
        if ((n = jt_get(root, "qemu")) && check_object(c, n, "qemu", qemu_keys)) {
                if ((k = jt_get(n, "binary")) && get_string(c, k, "qemu.binary", &s->qemu.binary) == 0 &&
                    !s->qemu.binary[0])
                        diag(c, k, "qemu.binary", "empty; give a program name or path, like \"qemu-system-x86_64\"");
                if ((k = jt_get(n, "args"))) {
                        _cleanup_strv_ strv sv = { 0 };
                        if (k->type != JT_ARRAY) {
                                diag(c, k, "qemu.args", "expected an array of strings like [\"-device\", \"virtio-rng-pci\"], got %s",
                                     jt_type_name(k->type));
                                return;
                        }
                        for (size_t i = 0; i < k->n; i++) {
                                _cleanup_free_ char *pp = path_idx(c, "qemu.args", i);
                                _cleanup_free_ char *a = NULL;
                                if (get_string(c, &k->kids[i], pp, &a) == 0 && strv_consume(&sv, TAKE_PTR(a)) < 0)
                                        c->oom = true;
                        }
                        s->qemu.n_args = sv.n;
                        s->qemu.args = sv.n ? strv_steal(&sv) : NULL;
                }
        }
}

void parse_devices(struct spec_ctx *c, const struct jt *root, struct vm_spec *s)
{
        const struct jt *n;

        if ((n = jt_get(root, "disks")) &&
            (s->disks = parse_list(c, n, "disks", sizeof *s->disks, &s->n_disks, "[{\"file\": \"disk.qcow2\"}]")))
                for (size_t i = 0; i < s->n_disks; i++) {
                        _cleanup_free_ char *p = path_idx(c, "disks", i);
                        if (p)
                                parse_disk(c, &n->kids[i], p, s, &s->disks[i]);
                }
        if ((n = jt_get(root, "net")) &&
            (s->nets = parse_list(c, n, "net", sizeof *s->nets, &s->n_nets, "[{\"type\": \"user\"}]")))
                for (size_t i = 0; i < s->n_nets; i++) {
                        _cleanup_free_ char *p = path_idx(c, "net", i);
                        if (p)
                                parse_net(c, &n->kids[i], p, &s->nets[i]);
                }
        if ((n = jt_get(root, "boot")))
                parse_boot(c, n, s);
        if ((n = jt_get(root, "display")))
                parse_display(c, n, s);
        if ((n = jt_get(root, "input"))) {
                if (n->type != JT_ARRAY) {
                        diag(c, n, "input", "expected an array like [\"usb-tablet\"], got %s", jt_type_name(n->type));
                } else if (n->n && !(s->inputs = calloc(n->n, sizeof *s->inputs))) {
                        c->oom = true;
                } else {
                        for (size_t i = 0; i < n->n; i++) {
                                _cleanup_free_ char *p = path_idx(c, "input", i);
                                int e = get_enum(c, &n->kids[i], p, vm_input_table, _VM_INPUT_MAX);
                                bool dup = false;
                                if (e < 0)
                                        continue;
                                for (size_t j = 0; j < s->n_inputs; j++)
                                        dup |= s->inputs[j] == (enum vm_input)e;
                                if (dup)
                                        diag(c, &n->kids[i], p, "\"%s\" is listed twice; keep one", vm_input_to_string(e));
                                else
                                        s->inputs[s->n_inputs++] = e;
                        }
                }
        }
        parse_small(c, root, s);
}
