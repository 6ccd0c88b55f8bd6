/* The VM file's devices and process settings (disks, net, boot, display,
 * input, cgroup, security, qemu): what the key table (spec-keys.c) hands to
 * code. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../common/strv.h"
#include "privs.h"
#include "ports.h"
#include "spec-internal.h"
#include "spec-keys.h"

bool gate_disk_file(struct spec_ctx *c, const struct jt *obj, const struct jt *n, const char *path,
                    struct vm_spec *s, void *base)
{
        struct vm_disk *d = base;

        d->file_line = n->line;
        d->file_col = n->col;
        return true;
}

/* file with every "{name}" replaced by name (malloc'd; NULL on ENOMEM) */
static char *expand_name(const char *file, const char *name)
{
        static const char mark[] = "{name}";
        size_t n = 0, ml = sizeof mark - 1, nl = strlen(name);
        const char *p;
        char *out, *o;

        for (p = file; (p = strstr(p, mark)); p += ml)
                n++;
        if (!(out = malloc(strlen(file) + n * nl + 1)))
                return NULL;
        for (o = out, p = file; *p;) {
                if (strncmp(p, mark, ml) == 0) {
                        memcpy(o, name, nl);
                        o += nl;
                        p += ml;
                } else
                        *o++ = *p++;
        }
        *o = '\0';
        return out;
}

/* "{name}" in the path *p becomes the VM's name: one VM file, one image
 * (or shared folder) per VM name (--name), such as each job's own overlay
 * on a shared base. The name is read first (it comes before disks and
 * shares in the table). */
static bool expand_name_in(struct spec_ctx *c, const struct jt *n, const char *path, const struct vm_spec *s,
                           char **p)
{
        char *x;

        if (!strstr(*p, "{name}"))
                return true;
        if (!vm_name_is_valid(s->name)) {
                diag(c, n, path, "\"{name}\" stands for the VM's name, which is not valid; fix \"name\" first");
                return false;
        }
        if (!(x = expand_name(*p, s->name))) {
                c->oom = true;
                return false;
        }
        free(*p);
        *p = x;
        return true;
}

bool check_disk_file(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, void *base)
{
        struct vm_disk *d = base;
        _cleanup_free_ char *file = TAKE_PTR(d->file);

        if (!file[0]) {
                diag(c, n, path, "empty; give the image's path");
                return false;
        }
        if (!expand_name_in(c, n, path, s, &file))
                return false;
        d->file = spec_resolve_path(c, s->path, file);
        return true;
}

bool gate_disk_format(struct spec_ctx *c, const struct jt *obj, const struct jt *n, const char *path,
                      struct vm_spec *s, void *base)
{
        struct vm_disk *d = base;

        d->format_line = n->line;
        d->format_col = n->col;
        return true;
}

bool gate_disk_backing(struct spec_ctx *c, const struct jt *obj, const struct jt *n, const char *path,
                       struct vm_spec *s, void *base)
{
        struct vm_disk *d = base;

        d->backing_line = n->line;
        d->backing_col = n->col;
        return true;
}

/* A path that is given must say something: message says what to give. */
static bool resolve_nonempty(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, char **p,
                             const char *message)
{
        _cleanup_free_ char *raw = TAKE_PTR(*p);

        if (!raw[0]) {
                diag(c, n, path, "%s", message);
                return false;
        }
        *p = spec_resolve_path(c, s->path, raw);
        return true;
}

bool check_disk_backing(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, void *base)
{
        return resolve_nonempty(c, n, path, s, &((struct vm_disk *)base)->backing,
                                "empty; give the base image's path, or leave the key out");
}

bool gate_disk_backing_format(struct spec_ctx *c, const struct jt *obj, const struct jt *n, const char *path,
                              struct vm_spec *s, void *base)
{
        struct vm_disk *d = base;

        d->bformat_line = n->line;
        d->bformat_col = n->col;
        return true;
}

bool check_disk_create(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, void *base)
{
        if (((struct vm_disk *)base)->create)
                return true;
        diag(c, n, path, "a new image needs a size above 0, like \"20G\"");
        return false;
}

/* A CD-ROM: read-only media, never created, never on virtio-blk. */
void finish_disk(struct spec_ctx *c, const struct jt *d, const char *p, struct vm_spec *s, void *base)
{
        struct vm_disk *dst = base;
        const struct jt *n_bus = jt_get(d, "bus"), *n_ro = jt_get(d, "readonly"), *n_create = jt_get(d, "create");
        const struct jt *n_backing = jt_get(d, "backing"), *n_bformat = jt_get(d, "backing_format");

        if (n_bformat && !n_backing && dst->backing_format != VM_DISK_FORMAT_AUTO) {
                _cleanup_free_ char *pp = path_key(c, p, "backing_format");
                diag(c, n_bformat, pp, "without \"backing\" there is no base image; drop it or name the base");
        }
        if (n_backing && dst->snapshot) {
                _cleanup_free_ char *pp = path_key(c, p, "backing");
                diag(c, n_backing, pp,
                     "a disk with a base image keeps its writes in its overlay \"file\"; \"snapshot\": true "
                     "throws writes away instead: use one of them (for a throwaway run, \"snapshot\" on the base "
                     "image's own disk)");
        }
        if (n_backing && dst->media == VM_DISK_MEDIA_CDROM) {
                _cleanup_free_ char *pp = path_key(c, p, "backing");
                diag(c, n_backing, pp, "a cdrom has no overlay; drop \"backing\" or use \"media\": \"disk\"");
        }
        if (dst->media != VM_DISK_MEDIA_CDROM) {
                /* Windows has no virtio-blk driver of its own: the bus a
                 * cdrom gets (os profile, spec-os.c) */
                if (vm_os_is_windows(s->os) && !n_bus)
                        dst->bus = s->machine == VM_MACHINE_PC ? VM_DISK_BUS_IDE : VM_DISK_BUS_SATA;
                if (!jt_get(d, "file")) {
                        _cleanup_free_ char *pp = path_key(c, p, "file");
                        diag(c, d, pp, "missing; every disk needs an image \"file\" (relative paths are from the VM "
                                       "file's directory); only a cdrom may be an empty drive");
                }
                return;
        }
        /* QEMU refuses readonly=off for a CD-ROM */
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
        else if (dst->bus == VM_DISK_BUS_VIRTIO && !jt_failed(c, n_bus)) {
                _cleanup_free_ char *pp = path_key(c, p, "bus");
                diag(c, n_bus, pp, "virtio-blk has no CD-ROMs; use \"sata\" (q35), \"ide\" (pc) or \"scsi\"");
        }
}

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

/* "tcp|udp:[hostaddr:]hostport:guestport", QEMU's hostfwd without the
 * guest address (launcher/ports.c, which cmdline uses too) */
static bool forward_ok(const char *f)
{
        struct vm_forward fw;

        return vm_forward_parse(f, &fw) == 0;
}

static bool ifname_ok(const char *s)
{
        size_t n = strlen(s);
        /* IFNAMSIZ is 16 with the NUL */
        return n >= 1 && n <= 15 && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 && !strpbrk(s, "/: \t\n");
}

bool check_mac(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, void *base)
{
        char q[64];

        if (mac_ok(((struct vm_net *)base)->mac))
                return true;
        jt_describe(n, q, sizeof q);
        diag(c, n, path, "expected a unicast MAC address like \"52:54:00:12:34:56\", got %s", q);
        return false;
}

bool gate_net_bridge(struct spec_ctx *c, const struct jt *obj, const struct jt *n, const char *path,
                     struct vm_spec *s, void *base)
{
        if (((struct vm_net *)base)->type == VM_NET_BRIDGE)
                return true;
        diag(c, n, path, "only for \"type\": \"bridge\"");
        return false;
}

bool check_bridge(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, void *base)
{
        if (ifname_ok(((struct vm_net *)base)->bridge))
                return true;
        diag(c, n, path, "expected a bridge interface name (1 to 15 characters, no '/' ':' or spaces)");
        return false;
}

bool gate_net_ifname(struct spec_ctx *c, const struct jt *obj, const struct jt *n, const char *path,
                     struct vm_spec *s, void *base)
{
        enum vm_net_type t = ((struct vm_net *)base)->type;

        if (t == VM_NET_USER)
                diag(c, n, path, "only for \"type\": \"tap\"; user networking has no host interface");
        else if (t == VM_NET_BRIDGE)
                /* -netdev bridge runs qemu-bridge-helper, which makes and
                 * names the tap device itself */
                diag(c, n, path,
                     "only for \"type\": \"tap\"; QEMU's bridge helper names the tap itself (use type tap to pick the name)");
        return t == VM_NET_TAP;
}

bool check_tap(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, void *base)
{
        if (ifname_ok(((struct vm_net *)base)->ifname))
                return true;
        diag(c, n, path, "expected a tap interface name (1 to 15 characters, no '/' ':' or spaces)");
        return false;
}

bool gate_net_forward(struct spec_ctx *c, const struct jt *obj, const struct jt *n, const char *path,
                      struct vm_spec *s, void *base)
{
        if (((struct vm_net *)base)->type == VM_NET_USER)
                return true;
        diag(c, n, path, "only for \"type\": \"user\"; with a tap or bridge the guest is reachable directly");
        return false;
}

/* one item; base is the item (char **) */
bool check_forward(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, void *base)
{
        char q[96];

        if (forward_ok(*(char **)base))
                return true;
        jt_describe(n, q, sizeof q);
        diag(c, n, path,
             "expected \"tcp|udp:[hostaddr:]hostport:guestport\" like \"tcp:2222:22\", \"udp:127.0.0.1:5353:53\" or "
             "\"tcp:127.0.0.1:0:22\" (host port 0: a free one, picked at start), got %s",
             q);
        return false;
}

void finish_net(struct spec_ctx *c, const struct jt *d, const char *p, struct vm_spec *s, void *base)
{
        /* Windows has no virtio-net driver of its own: virt-install's NIC
         * for it (os profile, spec-os.c) */
        if (vm_os_is_windows(s->os) && !jt_get(d, "model"))
                ((struct vm_net *)base)->model = s->machine == VM_MACHINE_PC ? VM_NET_MODEL_E1000 : VM_NET_MODEL_E1000E;
        if (((struct vm_net *)base)->type == VM_NET_BRIDGE && !jt_get(d, "bridge")) {
                _cleanup_free_ char *pp = path_key(c, p, "bridge");
                diag(c, d, pp, "missing; a bridge NIC needs the host bridge, like \"bridge\": \"br0\"");
        }
}

/* virtiofsd in QEMU 7.2 (C) has no read-only export: a guest could write
 * to a "readonly" virtiofs share. QEMU's 9p server enforces readonly=on. */
void finish_share(struct spec_ctx *c, const struct jt *d, const char *p, struct vm_spec *s, void *base)
{
        struct vm_share *sh = base;

        if (sh->readonly && sh->mode == VM_SHARE_VIRTIOFS) {
                _cleanup_free_ char *pp = path_key(c, p, "readonly");
                diag(c, jt_get(d, "readonly") ? jt_get(d, "readonly") : d, pp,
                     "virtiofs cannot export read-only with QEMU 7.2's virtiofsd (it has no such option: the guest "
                     "could write); add \"mode\": \"9p\", whose server in QEMU enforces read-only");
        }
        for (struct vm_share *o = s->shares; sh->tag && o < sh; o++)
                if (o->tag && strcmp(o->tag, sh->tag) == 0) {
                        _cleanup_free_ char *pp = path_key(c, p, "tag");
                        diag(c, jt_get(d, "tag") ? jt_get(d, "tag") : d, pp,
                             "\"%s\" is the tag of an earlier share too; the guest mounts a share by its tag, so "
                             "each needs its own",
                             sh->tag);
                }
}

bool check_boot_kernel(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, void *base)
{
        return resolve_nonempty(c, n, path, s, &s->boot.kernel,
                                "empty; give the kernel image's path, or leave the key out");
}

bool check_boot_initrd(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, void *base)
{
        return resolve_nonempty(c, n, path, s, &s->boot.initrd, "empty; give the initrd's path, or leave the key out");
}

bool gate_boot_initrd(struct spec_ctx *c, const struct jt *obj, const struct jt *n, const char *path,
                      struct vm_spec *s, void *base)
{
        if (jt_get(obj, "kernel"))
                return true;
        diag(c, n, path, "needs boot.kernel: QEMU loads an initrd only with a kernel");
        return false;
}

bool gate_boot_cmdline(struct spec_ctx *c, const struct jt *obj, const struct jt *n, const char *path,
                       struct vm_spec *s, void *base)
{
        if (jt_get(obj, "kernel"))
                return true;
        diag(c, n, path, "needs boot.kernel: QEMU passes a command line only to a kernel it loads");
        return false;
}

static bool boot_devices_ok(struct spec_ctx *c, const struct jt *n, const char *path, const char *o)
{
        bool bad = !o[0] || strspn(o, "acdn") != strlen(o);
        char q[64];

        for (size_t i = 0; !bad && o[i]; i++)
                bad = strchr(o + i + 1, o[i]) != NULL;
        if (!bad)
                return true;
        jt_describe(n, q, sizeof q);
        diag(c, n, path,
             "expected boot devices as letters, each once: c = disk, d = cdrom, n = network, a = floppy (like \"cd\"); got %s",
             q);
        return false;
}

bool check_boot_order(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, void *base)
{
        return boot_devices_ok(c, n, path, s->boot.order);
}

bool check_boot_once(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, void *base)
{
        return boot_devices_ok(c, n, path, s->boot.once);
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

void parse_display(struct spec_ctx *c, const struct spec_key *k, const struct jt *n, const char *path,
                   struct vm_spec *s, void *base)
{
        if (n->type == JT_STRING && strcmp(n->str, "none") == 0)
                return;
        if (n->type != JT_OBJECT) {
                char got[64];
                jt_describe(n, got, sizeof got);
                diag(c, n, "display", "expected \"none\" or an object like {\"vnc\": \"127.0.0.1:0\"}, got %s", got);
                return;
        }
        spec_parse_object(c, n, k->path, path, s, base);
}

bool check_vnc(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, void *base)
{
        char q[96];

        if (vnc_ok(s->vnc))
                return true;
        jt_describe(n, q, sizeof q);
        diag(c, n, path, "expected HOST:DISPLAY like \"127.0.0.1:0\" or \":1\" (display 0-99, port 5900+display), got %s",
             q);
        return false;
}

bool check_usb(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, void *base)
{
        /* "input" comes before "usb" in the table, so the devices are known */
        if (s->usb != VM_USB_NONE || s->n_inputs == 0)
                return true;
        diag(c, n, path, "\"none\" leaves the %zu input device%s without a bus; drop \"input\" or choose xhci, ehci "
                         "or uhci",
             s->n_inputs, s->n_inputs == 1 ? "" : "s");
        return false;
}

bool check_vnc_listen(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, void *base)
{
        const char *l = s->vnc_listen;
        struct in6_addr a6;
        struct in_addr a4;
        bool ok = inet_pton(AF_INET, l, &a4) == 1 || inet_pton(AF_INET6, l, &a6) == 1;
        char q[96];

        if (!s->vnc || s->vnc[0] != ':') {
                diag(c, n, path,
                     s->vnc ? "\"vnc\" names its own address; give the address in one place: \"vnc\": \":N\" with "
                              "\"listen\", or \"vnc\": \"HOST:N\" alone"
                            : "there is no VNC server to listen; add \"vnc\": \":0\"");
                return false;
        }
        if (!ok && l[0] && strlen(l) <= 253)
                ok = strspn(l, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == strlen(l) &&
                     l[0] != '-';
        if (ok)
                return true;
        jt_describe(n, q, sizeof q);
        diag(c, n, path, "expected an IP address (\"127.0.0.1\", \"0.0.0.0\", \"::\") or a host name, got %s", q);
        return false;
}

bool check_vnc_password_file(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s,
                             void *base)
{
        if (!s->vnc) {
                free(s->vnc_password_file);
                s->vnc_password_file = NULL;
                diag(c, n, path, "a password for no VNC server; add \"vnc\": \":0\" or drop it");
                return false;
        }
        if (!resolve_nonempty(c, n, path, s, &s->vnc_password_file,
                              "empty; give the path of a file whose first line is the password"))
                return false;
        /* read by spec_check_disks (validate, start), as images are */
        s->vnc_password_line = n->line;
        s->vnc_password_col = n->col;
        return s->vnc_password_file != NULL;
}

bool check_vnc_password_valid_for(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s,
                                  void *base)
{
        if (s->vnc_password_file)
                return true;
        diag(c, n, path, "no password to expire; give \"password_file\" too, or drop it");
        return false;
}

int dump_display(const struct vm_spec *s, const struct spec_key *k, const void *base, json_object **ret)
{
        if (s->vnc)
                return spec_dump_object(s, k->path, base, ret);
        return (*ret = json_object_new_string("none")) ? 0 : -ENOMEM;
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

bool check_cgroup_parent(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, void *base)
{
        if (parent_ok(s->cgroup.parent))
                return true;
        diag(c, n, path,
             "expected a path relative to the cgroup2 root, like \"qemuctl\" or \"machine.slice/ci\" (no leading '/', no '..')");
        return false;
}

static bool nonempty(struct spec_ctx *c, const struct jt *n, const char *path, const char *v, const char *message)
{
        if (v[0])
                return true;
        diag(c, n, path, "%s", message);
        return false;
}

/* security.user, security.group: a name, or an id as a JSON number or a
 * string of digits (privs_parse_id). Kept as a string: the number in
 * decimal. */
void parse_security_id(struct spec_ctx *c, const struct spec_key *k, const struct jt *n, const char *path,
                       struct vm_spec *s, void *base)
{
        const char *what = strcmp(spec_key_name(k), "user") == 0 ? "user" : "group";
        char **f = spec_key_field(k, base);
        uint64_t v;
        uint32_t id;

        if (n->type == JT_NUMBER) {
                if (get_uint(c, n, path, 0, PRIVS_ID_MAX, &v) == 0) {
                        free(*f);
                        if (asprintf(f, "%" PRIu64, v) < 0) {
                                *f = NULL;
                                c->oom = true;
                        }
                }
                return;
        }
        if (n->type != JT_STRING) {
                diag(c, n, path, "expected a %s name like \"%s\" or a number like 107, got %s", what,
                     what[0] == 'u' ? "qemu" : "kvm", jt_type_name(n->type));
                return;
        }
        if (get_string(c, n, path, f) < 0)
                return;
        if (!(*f)[0])
                diag(c, n, path, "empty; give a %s name or number, or leave the key out", what);
        else if (privs_parse_id(*f, &id) < 0)
                diag(c, n, path, "%s is out of range for a %cid; the most is %u", *f, what[0], (unsigned)PRIVS_ID_MAX);
}

int dump_security_id(const struct vm_spec *s, const struct spec_key *k, const void *base, json_object **ret)
{
        const char *v = *(char *const *)spec_key_cfield(k, base);

        *ret = NULL;
        if (v && !(*ret = json_object_new_string(v)))
                return -ENOMEM;
        return 0;
}

void free_security_ids(void *base)
{
        struct vm_spec *s = base;

        free(s->security.user);
        free(s->security.group);
        s->security.user = s->security.group = NULL;
}

/* A group alone would keep QEMU's uid: root's, when qemuctl runs as root,
 * with the capabilities dropped but every root-owned file still its own. */
void finish_security(struct spec_ctx *c, const struct jt *obj, const char *path, struct vm_spec *s, void *base)
{
        const struct jt *g = jt_get(obj, "group");

        if (g && !jt_get(obj, "user"))
                diag(c, g, "security.group", "a group without a user keeps QEMU's user (root, when qemuctl runs "
                     "as root); give \"user\" too, like \"user\": \"qemu\", \"group\": \"kvm\"");
}

bool check_qemu_binary(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, void *base)
{
        return nonempty(c, n, path, s->qemu.binary, "empty; give a program name or path, like \"qemu-system-x86_64\"");
}

void parse_input(struct spec_ctx *c, const struct spec_key *k, const struct jt *n, const char *path,
                 struct vm_spec *s, void *base)
{
        if (n->type != JT_ARRAY) {
                diag(c, n, "input", "expected an array like [\"usb-tablet\"], got %s", jt_type_name(n->type));
                return;
        }
        if (n->n && !(s->inputs = calloc(n->n, sizeof *s->inputs))) {
                c->oom = true;
                return;
        }
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

int dump_input(const struct vm_spec *s, const struct spec_key *k, const void *base, json_object **ret)
{
        json_object *a = json_object_new_array();

        *ret = NULL;
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_inputs; i++)
                if (json_object_array_add(a, json_object_new_string(vm_input_to_string(s->inputs[i]))) < 0) {
                        json_object_put(a);
                        return -ENOMEM;
                }
        *ret = a;
        return 0;
}

void free_input(void *base)
{
        free(((struct vm_spec *)base)->inputs);
}

bool check_share_path(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, void *base)
{
        /* "{name}": each job's own folder (its results, its scratch) */
        return expand_name_in(c, n, path, s, &((struct vm_share *)base)->path) &&
               resolve_nonempty(c, n, path, s, &((struct vm_share *)base)->path,
                                "empty; give the host directory to share");
}

/* virtio-fs tags are at most 36 bytes (the device's config space); 9p's
 * mount_tag is a string too: one rule for both */
bool check_share_tag(struct spec_ctx *c, const struct jt *n, const char *path, struct vm_spec *s, void *base)
{
        const char *t = ((struct vm_share *)base)->tag;

        if (!t[0] || strlen(t) > 36 || strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
                                                   strlen(t)) {
                diag(c, n, path, "expected a tag of 1 to 36 characters from [A-Za-z0-9._-] (what the guest mounts), got \"%s\"", t);
                return false;
        }
        return true;
}
