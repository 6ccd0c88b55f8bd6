/* The VM file, parsed once into a typed struct (see docs/vm-file.md).
 * Nothing downstream touches the JSON of the VM file. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/cleanup.h"
#include "../common/cpuset.h"
#include "../common/err.h"

/* Where VMs' cgroups go when the VM file names no cgroup.parent. */
#define VM_CGROUP_PARENT_DEFAULT "qemuctl"

#define VM_NAME_MAX 64

enum vm_machine { VM_MACHINE_Q35, VM_MACHINE_PC, _VM_MACHINE_MAX, _VM_MACHINE_INVALID = -1 };
enum vm_accel { VM_ACCEL_KVM, VM_ACCEL_TCG, VM_ACCEL_AUTO, _VM_ACCEL_MAX, _VM_ACCEL_INVALID = -1 };
enum vm_cpu_mode {
        VM_CPU_HOST_PASSTHROUGH,
        VM_CPU_HOST_MODEL,
        VM_CPU_CUSTOM,
        _VM_CPU_MODE_MAX,
        _VM_CPU_MODE_INVALID = -1,
};
/* libvirt's <feature policy=...> */
enum vm_feature_policy {
        VM_FEATURE_FORCE,
        VM_FEATURE_REQUIRE,
        VM_FEATURE_OPTIONAL,
        VM_FEATURE_DISABLE,
        VM_FEATURE_FORBID,
        _VM_FEATURE_POLICY_MAX,
        _VM_FEATURE_POLICY_INVALID = -1,
};
enum vm_numa_policy {
        VM_NUMA_STRICT,     /* QEMU policy=bind */
        VM_NUMA_PREFERRED,  /* policy=preferred */
        VM_NUMA_INTERLEAVE, /* policy=interleave */
        _VM_NUMA_POLICY_MAX,
        _VM_NUMA_POLICY_INVALID = -1,
};
enum vm_mem_hotplug { VM_MEM_HOTPLUG_DIMM, VM_MEM_HOTPLUG_VIRTIO_MEM, _VM_MEM_HOTPLUG_MAX, _VM_MEM_HOTPLUG_INVALID = -1 };
/* The formats qemuctl opens; each value's string is also QEMU's driver name.
 * Other container formats (vmdk, luks, dmg...) are refused with the
 * `qemu-img convert` line that makes a qcow2 of them (launcher/disk.c). */
enum vm_disk_format {
        VM_DISK_FORMAT_AUTO,
        VM_DISK_FORMAT_RAW,
        VM_DISK_FORMAT_QCOW2,
        VM_DISK_FORMAT_QED,
        VM_DISK_FORMAT_VDI,
        VM_DISK_FORMAT_VHDX,
        VM_DISK_FORMAT_VPC,
        VM_DISK_FORMAT_PARALLELS,
        _VM_DISK_FORMAT_MAX,
        _VM_DISK_FORMAT_INVALID = -1,
};
enum vm_disk_bus { VM_DISK_BUS_VIRTIO, VM_DISK_BUS_SATA, VM_DISK_BUS_SCSI, VM_DISK_BUS_IDE, _VM_DISK_BUS_MAX, _VM_DISK_BUS_INVALID = -1 };
enum vm_disk_cache {
        VM_DISK_CACHE_DEFAULT, /* not given: QEMU's default (writeback) */
        VM_DISK_CACHE_NONE,
        VM_DISK_CACHE_WRITEBACK,
        VM_DISK_CACHE_WRITETHROUGH,
        VM_DISK_CACHE_DIRECTSYNC,
        VM_DISK_CACHE_UNSAFE,
        _VM_DISK_CACHE_MAX,
        _VM_DISK_CACHE_INVALID = -1,
};
/* the USB controller `input` devices sit on */
enum vm_usb { VM_USB_XHCI, VM_USB_EHCI, VM_USB_UHCI, VM_USB_NONE, _VM_USB_MAX, _VM_USB_INVALID = -1 };
enum vm_disk_media { VM_DISK_MEDIA_DISK, VM_DISK_MEDIA_CDROM, _VM_DISK_MEDIA_MAX, _VM_DISK_MEDIA_INVALID = -1 };
enum vm_net_type { VM_NET_USER, VM_NET_BRIDGE, VM_NET_TAP, _VM_NET_TYPE_MAX, _VM_NET_TYPE_INVALID = -1 };
enum vm_net_model { VM_NET_MODEL_VIRTIO, VM_NET_MODEL_E1000, VM_NET_MODEL_E1000E, VM_NET_MODEL_RTL8139, _VM_NET_MODEL_MAX, _VM_NET_MODEL_INVALID = -1 };
enum vm_input { VM_INPUT_USB_TABLET, VM_INPUT_USB_KBD, VM_INPUT_USB_MOUSE, _VM_INPUT_MAX, _VM_INPUT_INVALID = -1 };
enum vm_serial { VM_SERIAL_LOG, VM_SERIAL_NONE, _VM_SERIAL_MAX, _VM_SERIAL_INVALID = -1 };
/* a shared folder: virtiofs (virtiofsd under the supervisor) or 9p (QEMU itself) */
enum vm_share_mode { VM_SHARE_VIRTIOFS, VM_SHARE_9P, _VM_SHARE_MODE_MAX, _VM_SHARE_MODE_INVALID = -1 };
enum vm_rtc_base { VM_RTC_UTC, VM_RTC_LOCALTIME, _VM_RTC_BASE_MAX };
/* lost RTC ticks: QEMU's default, or slewed in (libvirt's tickpolicy='catchup') */
enum vm_rtc_driftfix { VM_RTC_DRIFTFIX_NONE, VM_RTC_DRIFTFIX_SLEW, _VM_RTC_DRIFTFIX_MAX };
/* The guest OS profile (`os`, launcher/spec-os.c): the defaults it gives
 * other keys, as virt-install's --os-variant does; a key given wins. */
enum vm_os { VM_OS_GENERIC, VM_OS_LINUX, VM_OS_WINDOWS, VM_OS_WINDOWS_LEGACY, _VM_OS_MAX, _VM_OS_INVALID = -1 };
/* Windows (either profile): no virtio drivers of its own, RTC in local time */
static inline bool vm_os_is_windows(enum vm_os os)
{
        return os == VM_OS_WINDOWS || os == VM_OS_WINDOWS_LEGACY;
}
/* cpu.placement, numa.placement: libvirt's placement='static|auto' */
enum vm_placement_mode { VM_PLACEMENT_STATIC, VM_PLACEMENT_AUTO, _VM_PLACEMENT_MAX };
/* A verb set the CPU set / nodeset by hand (cpuset, numatune --nodeset):
 * an "auto" placement becomes "static", so the next start keeps the set
 * instead of choosing again. */
static inline void spec_placement_taken(enum vm_placement_mode *mode, bool *given)
{
        if (*mode == VM_PLACEMENT_AUTO) {
                *mode = VM_PLACEMENT_STATIC;
                *given = true;
        }
}
/* Where the VM's cgroup is made: under the cgroup qemuctl was started in when
 * a service manager delegated it (auto: when it is detected), or under
 * cgroup.parent from the hierarchy's root (docs/DESIGN.md, cgroup modes). */
enum vm_cgroup_mode { VM_CGROUP_AUTO, VM_CGROUP_PARENT, VM_CGROUP_DELEGATED, _VM_CGROUP_MODE_MAX };
/* What the guest boots from: SeaBIOS (QEMU's default), or UEFI (OVMF) found
 * through QEMU's firmware descriptors (launcher/firmware.h) */
enum vm_firmware { VM_FIRMWARE_BIOS, VM_FIRMWARE_UEFI, VM_FIRMWARE_UEFI_SECURE, _VM_FIRMWARE_MAX, _VM_FIRMWARE_INVALID = -1 };

/* enum <-> string tables (spec-enums.c). _from_string returns _INVALID (-1). */
#define DECLARE_STRING_TABLE(name, type)               \
        const char *name##_to_string(type v);          \
        type name##_from_string(const char *s)
DECLARE_STRING_TABLE(vm_os, enum vm_os);
DECLARE_STRING_TABLE(vm_machine, enum vm_machine);
DECLARE_STRING_TABLE(vm_accel, enum vm_accel);
DECLARE_STRING_TABLE(vm_cpu_mode, enum vm_cpu_mode);
DECLARE_STRING_TABLE(vm_feature_policy, enum vm_feature_policy);
DECLARE_STRING_TABLE(vm_numa_policy, enum vm_numa_policy);
DECLARE_STRING_TABLE(vm_mem_hotplug, enum vm_mem_hotplug);
DECLARE_STRING_TABLE(vm_disk_format, enum vm_disk_format);
DECLARE_STRING_TABLE(vm_disk_bus, enum vm_disk_bus);
DECLARE_STRING_TABLE(vm_disk_cache, enum vm_disk_cache);
DECLARE_STRING_TABLE(vm_disk_media, enum vm_disk_media);
DECLARE_STRING_TABLE(vm_net_type, enum vm_net_type);
DECLARE_STRING_TABLE(vm_net_model, enum vm_net_model);
DECLARE_STRING_TABLE(vm_input, enum vm_input);
DECLARE_STRING_TABLE(vm_serial, enum vm_serial);
DECLARE_STRING_TABLE(vm_firmware, enum vm_firmware);
DECLARE_STRING_TABLE(vm_share_mode, enum vm_share_mode);

struct vm_cpu_feature {
        char *name;
        enum vm_feature_policy policy;
        unsigned line, col; /* where its name is in the VM file (0: not from a file), for spec_check_cpu */
};

struct vm_vcpu_pin {
        unsigned vcpu;
        struct cpuset cpus;
};

struct vm_numa_cell {
        struct cpuset cpus; /* guest vCPU indexes */
        uint64_t memory;    /* bytes */
};

struct vm_disk {
        char *file;                 /* as written, resolved against the VM file's directory */
        enum vm_disk_format format; /* AUTO only until spec_resolve_disks() */
        uint64_t create;            /* bytes; 0 = don't create */
        enum vm_disk_bus bus;
        enum vm_disk_cache cache;
        enum vm_disk_media media;
        bool readonly;
        bool snapshot; /* throwaway: writes go to a temp overlay (QEMU snapshot=on) */
        /* a read-only base under file (a qcow2 overlay), resolved against the
         * VM file's directory, or NULL; its format is AUTO only until
         * spec_resolve_disks() */
        char *backing;
        enum vm_disk_format backing_format;
        /* set by spec_resolve_disks: file is a block device (LVM volume, loop
         * device, LUN), opened with QEMU's host_device driver, or a CD-ROM
         * drive (/dev/sr0), opened with host_cdrom */
        bool block_device, cdrom_drive;
        /* where "file" and "format" are in the VM file, for spec_check_disks
         * (0 = not given / not from a file) */
        unsigned file_line, file_col, format_line, format_col, backing_line, backing_col, bformat_line, bformat_col;
};

struct vm_net {
        enum vm_net_type type;
        enum vm_net_model model;
        char *bridge;    /* bridge only */
        char *ifname;    /* tap only, optional (QEMU's bridge helper names its own tap) */
        char *mac;       /* optional "52:54:00:xx:xx:xx" */
        char **forward;  /* user only: "tcp:2222:22", "udp:127.0.0.1:5353:53"; NULL-terminated */
        size_t n_forward;
};

struct vm_share {
        char *path;              /* the host directory, resolved against the VM file's dir */
        char *tag;               /* what the guest mounts (mount -t virtiofs TAG /mnt) */
        bool readonly;
        enum vm_share_mode mode; /* default virtiofs */
};

struct vm_spec {
        char *path; /* the VM file this came from (for errors and relative paths) */
        /* the --set/--name changes it was read with, as messages name them
         * ("--set memory.size=2G"), NULL-terminated; NULL when none: the
         * checks that run after parsing (spec_check_disks) name them too */
        char **origins;
        char *name;
        enum vm_os os; /* the guest OS profile: defaults of the keys below it (spec-os.c) */
        enum vm_machine machine;
        enum vm_accel accel;
        enum vm_firmware firmware; /* default BIOS */
        bool tpm;                  /* a TPM 2.0: swtpm under the supervisor, state in the data dir */
        struct {
                unsigned cid; /* the guest's vsock CID (vhost-vsock-pci), 0 = no vsock */
        } vsock;

        struct {
                enum vm_cpu_mode mode;
                char *model; /* custom only; NULL otherwise */
                unsigned model_line, model_col; /* where model is in the VM file (0: not given), for spec_check_cpu */
                struct vm_cpu_feature *features;
                size_t n_features;
                unsigned vcpus, max; /* max defaults to vcpus */
                unsigned sockets, cores, threads; /* always filled (derived when not given) */
                bool topology_given;
                struct vm_vcpu_pin *pins;
                size_t n_pins;
                bool has_emulator_pin;
                struct cpuset emulator_pin;
                /* the whole VM's CPU set (<vcpu cpuset>): every vCPU without
                 * its own pin, and the emulator without emulator_pin */
                bool has_cpuset;
                struct cpuset cpuset;
                /* auto: start chooses cpuset (launcher/autoplace.h) and
                 * records its choice there; has_placement: given */
                enum vm_placement_mode placement;
                bool has_placement;
                unsigned weight;      /* cpu.weight 1..10000, 0 = unset */
                unsigned max_percent; /* cpu.max as % of one CPU, 0 = unset */
        } cpu;

        struct {
                uint64_t size;      /* bytes */
                uint64_t max;       /* bytes, 0 = no hotplug room */
                unsigned slots;     /* 0 = none */
                enum vm_mem_hotplug hotplug;
                /* bytes plugged on top of size by `setmem` (JSON "plugged": "256M"),
                 * recorded in the effective spec; a restart boots with them (one
                 * pc-dimm, or virtio-mem requested-size). size + plugged <= max. */
                uint64_t plugged;
                uint64_t hugepages; /* page size in bytes, 0 = normal pages */
                char *hugepages_path; /* hugetlbfs mount to use instead of memfd; NULL = memfd */
                bool locked;
                bool merge;         /* default true; false = KSM off (mem-merge=off) */
                bool balloon;       /* default true */
                bool balloon_deflate_on_oom;
                bool balloon_free_page_reporting;
                unsigned balloon_stats_interval; /* seconds, 0 = off */
                uint64_t hard_limit, soft_limit, swap_limit, min_guarantee; /* bytes, 0 = unset */
                uint64_t low_limit; /* memory.low: virsh's soft limit (contention); 0 = unset */
                bool swap_limit_set; /* "swap": "0B" means no swap at all, so 0 alone can't mean unset */
        } memory;

        struct {
                bool has_nodeset;
                struct cpuset nodeset; /* host NUMA nodes */
                enum vm_numa_policy policy;
                /* auto: start chooses nodeset (launcher/autoplace.h) and
                 * records its choice there; has_placement: given */
                enum vm_placement_mode placement;
                bool has_placement;
                struct vm_numa_cell *cells;
                size_t n_cells;
        } numa;

        struct vm_disk *disks;
        size_t n_disks;
        struct vm_net *nets;
        size_t n_nets;
        struct vm_share *shares;
        size_t n_shares;

        struct {
                char *kernel, *initrd, *cmdline; /* paths resolved against the file's dir */
                char *order;                     /* e.g. "cd", NULL = default */
                char *once;                      /* the first boot only, e.g. "d"; NULL = none */
        } boot;

        /* cloud-init NoCloud documents: the text itself (a value with a
         * newline) or a file's path resolved against the VM file's dir;
         * NULL = not given (launcher/cloudinit.c) */
        struct {
                char *user_data, *meta_data, *network_config;
        } cloud_init;

        char *vnc;          /* "127.0.0.1:20", NULL = no display */
        char *vnc_listen;   /* the address of a vnc ":N" (NULL: 127.0.0.1) */
        char *vnc_password_file;         /* resolved against the VM file's dir; NULL = no password */
        uint64_t vnc_password_valid_for; /* seconds after start; 0 = never expires */
        unsigned vnc_password_line, vnc_password_col; /* where password_file is, for spec_check_disks */
        enum vm_input *inputs;
        size_t n_inputs;
        enum vm_usb usb;
        enum vm_serial serial;
        uint64_t serial_log_max; /* serial.log rotates to serial.log.1 past this (bytes); 0 = no bound */
        bool panic;         /* pvpanic device, default true: guest panics are seen */
        bool debug_exit;    /* isa-debug-exit at 0xf4: a guest can report its own exit status */
        bool guest_agent;   /* virtio-serial port org.qemu.guest_agent.0 on RUNDIR/qga.sock */
        bool hpet;          /* the HPET (QEMU's default, true); false: -machine hpet=off */
        bool hyperv;        /* Hyper-V enlightenments (hv-*) on -cpu, under KVM only */

        struct {
                enum vm_rtc_base base; /* the guest's RTC in UTC or local time */
                enum vm_rtc_driftfix driftfix; /* -rtc driftfix=slew */
        } rtc;

        struct {
                enum vm_cgroup_mode mode; /* default auto */
                char *parent;      /* default VM_CGROUP_PARENT_DEFAULT */
                uint64_t pids_max; /* 0 = unset */
        } cgroup;

        struct {
                char *user, *group; /* NULL = keep ours */
                bool sandbox;       /* default true */
        } security;

        struct {
                char *binary; /* default "qemu-system-x86_64" */
                char **args;  /* NULL-terminated, appended last */
                size_t n_args;
        } qemu;
};

/* One problem found in a VM file. */
struct spec_diag {
        unsigned line, col; /* 1-based; 0 when not tied to a place */
        char *origin;       /* a --set/--name change this is about ("--set memory.size=lots"; line 0), or NULL */
        char *path;         /* JSON path: "cpu.pin.3", "disks[1].format" */
        char *msg;          /* "expected a size like \"4G\", got \"lots\"" */
};

struct spec_diags {
        struct spec_diag *v;
        size_t n;
};

void spec_diags_done(struct spec_diags *d);
/* One more, tied to no place (a note about the host). 0 or -ENOMEM. */
int spec_diags_add(struct spec_diags *d, const char *path, const char *msg);
/* "FILE:LINE:COL: json.path: message" for one diagnostic (malloc'd). */
char *spec_diag_format(const char *file, const struct spec_diag *d);

/* Changes to a VM file given on the command line, applied to its JSON
 * before it is parsed (spec-set.c), so the key table judges them as it
 * judges the file: types, bounds, unknown keys with a suggestion, and every
 * check across keys. A path names keys with dots and list items by index:
 * "memory.size", "disks.0.file" (or "disks[0].file"), "net.0.forward.1",
 * "cloud_init.meta_data", "cpu.pin.3". An index one past the last item adds
 * an item. The value is text for a string, size, CPU list or enum key;
 * true/false for a boolean; a number for a number; JSON for an object or
 * array key ('net.0.forward=["tcp:0:22"]'), or its short form ("2M",
 * false). --unset removes a key or an item (the later items move up). A
 * problem is a diagnostic whose origin names the option. */
struct spec_override {
        char *origin; /* "--set memory.size=2G", "--name ci-2" */
        char *path;   /* "memory.size" */
        char *value;  /* "2G"; NULL: --unset (the key or item goes) */
};
struct spec_overrides {
        struct spec_override *v;
        size_t n;
};
/* --set ARG (KEY.PATH=VALUE): -1 with err EINVAL when ARG is not of that
 * form (the message says what to write), ENOMEM. */
int spec_overrides_add_set(struct spec_overrides *o, const char *arg, struct qc_err *err);
/* --unset KEY.PATH: the key (or list item) goes from the file as it is
 * read, as if it were not written there; one that is not there is fine. */
int spec_overrides_add_unset(struct spec_overrides *o, const char *path, struct qc_err *err);
/* --name NAME: the same as --set name=NAME. */
int spec_overrides_add_name(struct spec_overrides *o, const char *name, struct qc_err *err);
void spec_overrides_done(struct spec_overrides *o);

/* Parse and validate a VM file. On any problem returns -1 with err->code
 * EINVAL and every problem in *diags (and *ret untouched); other failures
 * are -1 with err (ENOENT, EFBIG, ENOMEM) and no diags. The diags are filled
 * even on success (empty). */
int spec_load(const char *path, struct vm_spec **ret, struct spec_diags *diags, struct qc_err *err);
/* Same, from a buffer; path is only used for messages and relative paths. */
int spec_parse(const char *path, const char *text, size_t len, struct vm_spec **ret, struct spec_diags *diags,
               struct qc_err *err);
/* The same, with the changes ov (NULL: none) applied first. */
int spec_load_with(const char *path, const struct spec_overrides *ov, struct vm_spec **ret, struct spec_diags *diags,
                   struct qc_err *err);
int spec_parse_with(const char *path, const char *text, size_t len, const struct spec_overrides *ov,
                    struct vm_spec **ret, struct spec_diags *diags, struct qc_err *err);
void spec_free(struct vm_spec *spec);
DEFINE_CLEANUP_FUNC(struct vm_spec *, spec_free)
/* Serialize back to a VM file (JSON) that spec_parse accepts and that means the
 * same VM (used by `dump` and for the effective spec in the state dir). */
char *spec_to_json(const struct vm_spec *spec);
/* Does a helper (virtiofsd) map the guest's RAM? Then every memory
 * backend is shared (share=on). */
bool spec_shares_memory(const struct vm_spec *spec);
/* Names: [A-Za-z0-9._-], 1..64, not "." or "..". */
bool vm_name_is_valid(const char *name);

/* Disk images: read each disk's header (nothing is created). Every problem
 * (a missing image without "create", a missing CD-ROM, a "format" the header
 * contradicts, an unreadable file) is appended to *diags at the place of
 * disks[N].file or disks[N].format; then it returns -1 with err->code EINVAL.
 * notes (may be NULL) gets the images `start` would create. Other failures:
 * -1 with err (ENOMEM). */
int spec_check_disks(const struct vm_spec *spec, struct spec_diags *diags, struct spec_diags *notes,
                     struct qc_err *err);
/* The same checks; AUTO becomes RAW or QCOW2; on problems err names every
 * one of them. With create_missing, a missing image with "create" set is made
 * with `qemu-img create` (never overwrites). */
int spec_resolve_disks(struct vm_spec *spec, bool create_missing, struct qc_err *err);
/* The same checks for a new medium of CD-ROM disks[idx] (d->file set, an
 * absolute path; d->format AUTO or what the user said): AUTO becomes what the
 * header says, a header naming a backing or data file is refused. -1 with
 * err EINVAL naming every problem (as disks[idx].file / .format). */
int spec_resolve_medium(struct vm_disk *d, size_t idx, struct qc_err *err);
