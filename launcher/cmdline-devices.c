/* Disks, NICs, display and input on the QEMU command line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "../common/cleanup.h"
#include "../common/io.h"
#include "cloudinit.h"
#include "cmdline-internal.h"
#include "ports.h"

DEFINE_CLEANUP_FUNC(json_object *, json_object_put);

/* How libvirt maps cache= onto -blockdev (cache.direct, cache.no-flush on the
 * nodes) and the guest-visible write cache (write-cache= on the device). */
struct cache_mode {
        const char *direct, *no_flush, *write_cache, *drive; /* NULL = leave QEMU's default */
};

static const struct cache_mode cache_modes[_VM_DISK_CACHE_MAX] = {
        [VM_DISK_CACHE_DEFAULT] = { NULL, NULL, NULL, NULL },
        [VM_DISK_CACHE_NONE] = { "on", "off", "on", "none" },
        [VM_DISK_CACHE_WRITEBACK] = { "off", "off", "on", "writeback" },
        [VM_DISK_CACHE_WRITETHROUGH] = { "off", "off", "off", "writethrough" },
        [VM_DISK_CACHE_DIRECTSYNC] = { "on", "off", "off", "directsync" },
        [VM_DISK_CACHE_UNSAFE] = { "off", "on", "on", "unsafe" },
};

/* Where disks that are not virtio or SCSI go. q35 has a built-in AHCI
 * controller whose six ports are buses ide.0..ide.5 (one unit each); q35 has
 * no PATA, so "ide" disks use those ports as well. pc has PIIX IDE (ide.0 and
 * ide.1, two units each); "sata" disks on pc get an added ich9-ahci. */
struct buses {
        unsigned ide, ahci, scsi;
        bool have_ahci, have_scsi;
};

static int disk_bus(struct qargs *a, const struct vm_spec *spec, const struct vm_disk *d, struct buses *b,
                    size_t idx, char **ret, struct qc_err *err)
{
        enum vm_disk_bus bus = d->bus;
        bool cd = d->media == VM_DISK_MEDIA_CDROM;
        char *s = NULL;

        if (cd && bus == VM_DISK_BUS_VIRTIO) /* there is no virtio CD-ROM */
                bus = spec->machine == VM_MACHINE_PC ? VM_DISK_BUS_IDE : VM_DISK_BUS_SATA;
        if (spec->machine == VM_MACHINE_Q35 && bus == VM_DISK_BUS_IDE)
                bus = VM_DISK_BUS_SATA;

        switch (bus) {
        case VM_DISK_BUS_VIRTIO:
                qcatf(a, &s, "virtio-blk-pci,id=disk%zu", idx);
                break;
        case VM_DISK_BUS_SCSI:
                if (!b->have_scsi) {
                        qarg(a, "-device");
                        qarg(a, "virtio-scsi-pci,id=scsi0");
                        b->have_scsi = true;
                }
                qcatf(a, &s, "%s,id=disk%zu,bus=scsi0.0,channel=0,scsi-id=%u,lun=0", cd ? "scsi-cd" : "scsi-hd",
                      idx, b->scsi++);
                break;
        case VM_DISK_BUS_SATA:
                if (spec->machine == VM_MACHINE_Q35) {
                        if (b->ide >= 6)
                                return qc_err_set(err, ENOSPC,
                                                  "disks[%zu]: q35's AHCI controller has 6 ports, all used; "
                                                  "put disks on virtio or scsi",
                                                  idx);
                        qcatf(a, &s, "%s,id=disk%zu,bus=ide.%u", cd ? "ide-cd" : "ide-hd", idx, b->ide++);
                        break;
                }
                if (!b->have_ahci) {
                        qarg(a, "-device");
                        qarg(a, "ich9-ahci,id=ahci0");
                        b->have_ahci = true;
                }
                if (b->ahci >= 6)
                        return qc_err_set(err, ENOSPC, "disks[%zu]: the AHCI controller has 6 ports, all used", idx);
                qcatf(a, &s, "%s,id=disk%zu,bus=ahci0.%u", cd ? "ide-cd" : "ide-hd", idx, b->ahci++);
                break;
        case VM_DISK_BUS_IDE:
                if (b->ide >= 4)
                        return qc_err_set(err, ENOSPC,
                                          "disks[%zu]: pc's IDE has 4 places (2 buses x 2 units), all used; "
                                          "put disks on virtio, sata or scsi",
                                          idx);
                qcatf(a, &s, "%s,id=disk%zu,bus=ide.%u,unit=%u", cd ? "ide-cd" : "ide-hd", idx, b->ide / 2,
                      b->ide % 2);
                b->ide++;
                break;
        case _VM_DISK_BUS_MAX:
        case _VM_DISK_BUS_INVALID:
        default:
                free(s);
                return qc_err_set(err, EINVAL, "disks[%zu]: bus %d is not a disk bus", idx, (int)bus);
        }
        *ret = s;
        return 0;
}

/* Formats whose header can name a backing file: their format node gets
 * backing=null, so that a header opens nothing the VM file did not name
 * (launcher/disk.c refuses such headers; this holds if one is written
 * after that check). */
static bool format_has_backing(enum vm_disk_format f)
{
        return f == VM_DISK_FORMAT_QCOW2 || f == VM_DISK_FORMAT_QED;
}

/* The format node as a JSON object (for -blockdev and blockdev-add). */
static json_object *format_node_obj(const struct vm_disk *d, const char *fmt, const struct cache_mode *c, bool ro,
                                    size_t idx, bool base)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        char name[48], file[48];

        if (!o)
                return NULL;
        snprintf(name, sizeof name, base ? "disk%zu-base" : "disk%zu-format", idx);
        snprintf(file, sizeof file, base ? "disk%zu-base-file" : "disk%zu-file", idx);
        json_object_object_add(o, "driver", json_object_new_string(fmt));
        json_object_object_add(o, "node-name", json_object_new_string(name));
        json_object_object_add(o, "file", json_object_new_string(file));
        if (d->backing && !base) {
                /* the base: its own read-only node (add_disk), the only
                 * backing file qemuctl ever opens */
                char bname[48];

                snprintf(bname, sizeof bname, "disk%zu-base", idx);
                json_object_object_add(o, "backing", json_object_new_string(bname));
        } else if (format_has_backing(base ? d->backing_format : d->format)) {
                json_object_object_add(o, "backing", NULL);
        }
        if (c->direct) {
                json_object *cache = json_object_new_object();

                if (!cache)
                        return NULL;
                json_object_object_add(cache, "direct", json_object_new_boolean(strcmp(c->direct, "on") == 0));
                json_object_object_add(cache, "no-flush", json_object_new_boolean(strcmp(c->no_flush, "on") == 0));
                json_object_object_add(o, "cache", cache);
        }
        if (ro)
                json_object_object_add(o, "read-only", json_object_new_boolean(true));
        return TAKE_PTR(o);
}

/* The format node as JSON text: keyval (driver=qcow2,...) has no way to say
 * backing=null (it would name a node called "null"). */
static char *format_node_json(const struct vm_disk *d, const char *fmt, const struct cache_mode *c, bool ro,
                              size_t idx, bool base)
{
        _cleanup_(json_object_putp) json_object *o = format_node_obj(d, fmt, c, ro, idx, base);
        const char *s;

        if (!o)
                return NULL;
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        return s ? strdup(s) : NULL;
}

/* a block device (LVM volume, loop device, LUN) has its own protocol driver:
 * `file` refuses one; a CD-ROM drive has host_cdrom (media change, tray) */
static const char *protocol_driver(const struct vm_disk *d)
{
        return !d->block_device ? "file" : d->cdrom_drive ? "host_cdrom" : "host_device";
}

int cmdline_medium_nodes(const struct vm_disk *d, size_t idx, json_object **ret_file, json_object **ret_format,
                         struct qc_err *err)
{
        _cleanup_(json_object_putp) json_object *file = NULL, *format = NULL;
        const char *fmt = vm_disk_format_to_string(d->format);
        const struct cache_mode *c;
        char name[48];

        if (!d->file || d->format == VM_DISK_FORMAT_AUTO || !fmt || d->backing)
                return qc_err_set(err, EINVAL, "disks[%zu]: no resolved medium", idx);
        if (d->cache < 0 || d->cache >= _VM_DISK_CACHE_MAX)
                return qc_err_set(err, EINVAL, "disks[%zu]: cache %d is not a cache mode", idx, (int)d->cache);
        c = &cache_modes[d->cache];
        file = json_object_new_object();
        format = format_node_obj(d, fmt, c, true, idx, false);
        if (!file || !format)
                return qc_err_sys(err, ENOMEM, "disks[%zu]", idx);
        snprintf(name, sizeof name, "disk%zu-file", idx);
        json_object_object_add(file, "driver", json_object_new_string(protocol_driver(d)));
        json_object_object_add(file, "node-name", json_object_new_string(name));
        json_object_object_add(file, "filename", json_object_new_string(d->file));
        if (c->direct) {
                json_object *cache = json_object_new_object();

                if (!cache)
                        return qc_err_sys(err, ENOMEM, "disks[%zu]", idx);
                json_object_object_add(cache, "direct", json_object_new_boolean(strcmp(c->direct, "on") == 0));
                json_object_object_add(cache, "no-flush", json_object_new_boolean(strcmp(c->no_flush, "on") == 0));
                json_object_object_add(file, "cache", cache);
        }
        json_object_object_add(file, "read-only", json_object_new_boolean(true));
        *ret_file = TAKE_PTR(file);
        *ret_format = TAKE_PTR(format);
        return 0;
}

static int add_disk(struct qargs *a, const struct vm_spec *spec, const struct vm_disk *d, struct buses *b, size_t idx,
                    struct qc_err *err)
{
        const struct cache_mode *c;
        const char *fmt;
        bool ro = d->readonly || d->media == VM_DISK_MEDIA_CDROM;
        _cleanup_free_ char *dev = NULL, *node = NULL;

        if (!d->file && d->media == VM_DISK_MEDIA_CDROM) {
                /* an empty drive: QEMU gives the device a BlockBackend with
                 * no medium (blockdev-insert-medium fills it) */
                if (disk_bus(a, spec, d, b, idx, &dev, err) < 0)
                        return -1;
                qarg(a, "-device");
                qarg_take(a, TAKE_PTR(dev));
                return 0;
        }
        if (!d->file || !*d->file)
                return qc_err_set(err, EINVAL, "disks[%zu]: no file", idx);
        if (d->format == VM_DISK_FORMAT_AUTO)
                /* never let QEMU probe: a raw image whose guest writes a qcow2
                 * header would be opened as qcow2 next time */
                return qc_err_set(err, EINVAL,
                                  "disks[%zu] (%s): format not known yet; resolve disks first "
                                  "(spec_resolve_disks reads the image header)",
                                  idx, d->file);
        fmt = vm_disk_format_to_string(d->format);
        if (!fmt)
                return qc_err_set(err, EINVAL, "disks[%zu]: format %d is not a disk format", idx, (int)d->format);
        if (d->cache < 0 || d->cache >= _VM_DISK_CACHE_MAX)
                return qc_err_set(err, EINVAL, "disks[%zu]: cache %d is not a cache mode", idx, (int)d->cache);
        c = &cache_modes[d->cache];

        if (d->snapshot) {
                /* A throwaway disk: -drive snapshot=on makes QEMU write to a
                 * temporary qcow2 overlay it creates in $TMPDIR and deletes at
                 * once. -blockdev has no such switch (the overlay would have to
                 * be created first, which a pure builder cannot do). */
                _cleanup_free_ char *drive = NULL;

                qcatf(a, &drive, "if=none,id=disk%zu-format,file=%s,format=%s,snapshot=on", idx,
                      qopt_escape(a, d->file), fmt);
                /* -drive is keyval only: "backing=" (empty) is its way to
                 * say null. QEMU 7.2 accepts it with a deprecation warning
                 * in its log. */
                if (format_has_backing(d->format))
                        qcatf(a, &drive, ",backing=");
                if (d->block_device)
                        qcatf(a, &drive, ",file.driver=%s", d->cdrom_drive ? "host_cdrom" : "host_device");
                if (c->drive)
                        qcatf(a, &drive, ",cache=%s", c->drive);
                if (ro)
                        qcatf(a, &drive, ",read-only=on");
                qarg(a, "-drive");
                qarg_take(a, TAKE_PTR(drive));
        } else {
                const char *proto = protocol_driver(d);

                if (d->backing) {
                        /* the base image: read-only file and format nodes,
                         * named by the overlay's format node as "backing" */
                        const char *bfmt = vm_disk_format_to_string(d->backing_format);

                        if (d->backing_format == VM_DISK_FORMAT_AUTO || !bfmt)
                                return qc_err_set(err, EINVAL,
                                                  "disks[%zu] (%s): base image format not known yet; resolve disks "
                                                  "first",
                                                  idx, d->backing);
                        qcatf(a, &node, "driver=file,node-name=disk%zu-base-file,filename=%s", idx,
                              qopt_escape(a, d->backing));
                        if (c->direct)
                                qcatf(a, &node, ",cache.direct=%s,cache.no-flush=%s", c->direct, c->no_flush);
                        qcatf(a, &node, ",read-only=on");
                        qarg(a, "-blockdev");
                        qarg_take(a, TAKE_PTR(node));
                        node = format_node_json(d, bfmt, c, true, idx, true);
                        if (!node)
                                return qc_err_set(err, ENOMEM, "disks[%zu]: out of memory", idx);
                        qarg(a, "-blockdev");
                        qarg_take(a, TAKE_PTR(node));
                }

                qcatf(a, &node, "driver=%s,node-name=disk%zu-file,filename=%s", proto, idx, qopt_escape(a, d->file));
                if (c->direct)
                        qcatf(a, &node, ",cache.direct=%s,cache.no-flush=%s", c->direct, c->no_flush);
                if (ro)
                        qcatf(a, &node, ",read-only=on");
                qarg(a, "-blockdev");
                qarg_take(a, TAKE_PTR(node));
                /* the format node, always with its driver named */
                node = format_node_json(d, fmt, c, ro, idx, false);
                if (!node)
                        return qc_err_set(err, ENOMEM, "disks[%zu]: out of memory", idx);
                qarg(a, "-blockdev");
                qarg_take(a, TAKE_PTR(node));
        }

        if (disk_bus(a, spec, d, b, idx, &dev, err) < 0)
                return -1;
        qcatf(a, &dev, ",drive=disk%zu-format", idx);
        if (c->write_cache && d->media != VM_DISK_MEDIA_CDROM)
                qcatf(a, &dev, ",write-cache=%s", c->write_cache);
        qarg(a, "-device");
        qarg_take(a, TAKE_PTR(dev));
        return 0;
}

int cmdline_add_disks(struct qargs *a, const struct vm_spec *spec, struct qc_err *err)
{
        struct buses b = {};

        for (size_t i = 0; i < spec->n_disks; i++)
                if (add_disk(a, spec, &spec->disks[i], &b, i, err) < 0)
                        return -1;
        return 0;
}

/* The cloud-init seed RUNDIR/cidata.iso (start builds it): a read-only raw
 * disk on virtio-blk, which every cloud kernel drives (Debian's cloud
 * kernel has no AHCI, so a sata cdrom would be invisible). */
int cmdline_add_seed(struct qargs *a, const struct vm_spec *spec, const char *rundir, struct qc_err *err)
{
        _cleanup_free_ char *iso = NULL;

        if (!cloud_init_wanted(spec))
                return 0;
        iso = path_join(rundir, VM_RUNDIR_CIDATA);
        if (!iso)
                return qc_err_set(err, ENOMEM, "cloud_init: out of memory");
        qarg(a, "-blockdev");
        qargf(a, "driver=file,node-name=cidata-file,filename=%s,read-only=on", qopt_escape(a, iso));
        qarg(a, "-blockdev");
        qarg(a, "{\"driver\":\"raw\",\"node-name\":\"cidata-format\",\"file\":\"cidata-file\",\"read-only\":true}");
        qarg(a, "-device");
        qarg(a, "virtio-blk-pci,id=cidata,drive=cidata-format");
        return 0;
}

/* "tcp:2222:22" -> "tcp::2222-:22"; "udp:127.0.0.1:5353:53" ->
 * "udp:127.0.0.1:5353-:53" (QEMU's hostfwd=PROTO:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT).
 * Host port 0 stays 0: slirp binds it and the kernel picks (launcher/ports.h). */
static int hostfwd(struct qargs *a, char **opt, size_t net, const char *fwd, struct qc_err *err)
{
        struct vm_forward f;

        if (vm_forward_parse(fwd, &f) < 0)
                return qc_err_set(err, EINVAL,
                                  "net[%zu].forward \"%s\": expected PROTO:[HOSTADDR:]HOSTPORT:GUESTPORT, "
                                  "like \"tcp:2222:22\"",
                                  net, fwd);
        qcatf(a, opt, ",hostfwd=%s:%s:%u-:%u", f.udp ? "udp" : "tcp", f.addr, f.host_port, f.guest_port);
        return 0;
}

int cmdline_add_nets(struct qargs *a, const struct vm_spec *spec, struct qc_err *err)
{
        static const char *const models[_VM_NET_MODEL_MAX] = {
                [VM_NET_MODEL_VIRTIO] = "virtio-net-pci",
                [VM_NET_MODEL_E1000] = "e1000",
                [VM_NET_MODEL_E1000E] = "e1000e",
                [VM_NET_MODEL_RTL8139] = "rtl8139",
        };

        for (size_t i = 0; i < spec->n_nets; i++) {
                const struct vm_net *n = &spec->nets[i];
                _cleanup_free_ char *netdev = NULL, *dev = NULL;

                switch (n->type) {
                case VM_NET_USER:
                        qcatf(a, &netdev, "user,id=hostnet%zu", i);
                        for (size_t f = 0; n->forward && n->forward[f]; f++)
                                if (hostfwd(a, &netdev, i, n->forward[f], err) < 0)
                                        return -1;
                        break;
                case VM_NET_BRIDGE:
                        if (!n->bridge)
                                return qc_err_set(err, EINVAL, "net[%zu]: type bridge needs \"bridge\"", i);
                        /* qemu-bridge-helper makes and names the tap itself
                         * (allowed bridges: /etc/qemu/bridge.conf) */
                        if (n->ifname)
                                return qc_err_set(err, EINVAL,
                                                  "net[%zu]: \"ifname\" cannot be used with type bridge: QEMU's "
                                                  "bridge helper names the tap device itself; use type tap to "
                                                  "name it",
                                                  i);
                        qcatf(a, &netdev, "bridge,id=hostnet%zu,br=%s", i, qopt_escape(a, n->bridge));
                        break;
                case VM_NET_TAP:
                        qcatf(a, &netdev, "tap,id=hostnet%zu", i);
                        if (n->ifname)
                                qcatf(a, &netdev, ",ifname=%s", qopt_escape(a, n->ifname));
                        qcatf(a, &netdev, ",script=no,downscript=no");
                        break;
                case _VM_NET_TYPE_MAX:
                case _VM_NET_TYPE_INVALID:
                default:
                        return qc_err_set(err, EINVAL, "net[%zu]: type %d is not a network type", i, (int)n->type);
                }
                if (n->model < 0 || n->model >= _VM_NET_MODEL_MAX)
                        return qc_err_set(err, EINVAL, "net[%zu]: model %d is not a NIC model", i, (int)n->model);
                qarg(a, "-netdev");
                qarg_take(a, TAKE_PTR(netdev));
                qcatf(a, &dev, "%s,id=net%zu,netdev=hostnet%zu", models[n->model], i, i);
                if (n->mac)
                        qcatf(a, &dev, ",mac=%s", qopt_escape(a, n->mac));
                qarg(a, "-device");
                qarg_take(a, TAKE_PTR(dev));
        }
        return 0;
}

void cmdline_add_display(struct qargs *a, const struct vm_spec *spec)
{
        static const char *const inputs[_VM_INPUT_MAX] = {
                [VM_INPUT_USB_TABLET] = "usb-tablet",
                [VM_INPUT_USB_KBD] = "usb-kbd",
                [VM_INPUT_USB_MOUSE] = "usb-mouse",
        };

        if (spec->vnc) {
                _cleanup_free_ char *v = NULL;

                if (spec->vnc[0] == ':') {
                        /* ":N" listens on loopback unless told: QEMU's own
                         * ":N" is every address */
                        const char *l = spec->vnc_listen ? spec->vnc_listen : "127.0.0.1";

                        qcatf(a, &v, strchr(l, ':') ? "[%s]%s" : "%s%s", l, spec->vnc);
                } else {
                        qcatf(a, &v, "%s", spec->vnc);
                }
                /* the password itself comes by QMP set_password (display.c) */
                if (spec->vnc_password_file)
                        qcatf(a, &v, ",password=on");
                qarg(a, "-vnc");
                qarg_take(a, TAKE_PTR(v));
                qarg(a, "-device");
                qarg(a, "VGA,id=video0");
        } else {
                qarg(a, "-display");
                qarg(a, "none");
        }
        if (spec->n_inputs == 0)
                return;
        qarg(a, "-device");
        switch (spec->usb) {
        case VM_USB_EHCI:
                qarg(a, "usb-ehci,id=usb");
                break;
        case VM_USB_UHCI:
                qarg(a, spec->machine == VM_MACHINE_PC ? "piix3-usb-uhci,id=usb" : "ich9-usb-uhci1,id=usb");
                break;
        case VM_USB_XHCI:
        case VM_USB_NONE: /* refused with inputs by check_usb */
        case _VM_USB_MAX:
        case _VM_USB_INVALID:
        default:
                qarg(a, "qemu-xhci,id=usb");
                break;
        }
        for (size_t i = 0; i < spec->n_inputs; i++) {
                if (spec->inputs[i] < 0 || spec->inputs[i] >= _VM_INPUT_MAX)
                        continue;
                qarg(a, "-device");
                qargf(a, "%s,id=input%zu,bus=usb.0", inputs[spec->inputs[i]], i);
        }
}
