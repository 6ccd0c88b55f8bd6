/* enum <-> string tables for the VM file: the strings are what the file says. */
#include <string.h>

#include "spec-internal.h"

#define DEFINE_STRING_TABLE(name, type, max, ...)                        \
        const char *const name##_table[max] = { __VA_ARGS__ };           \
        const char *name##_to_string(type v)                             \
        {                                                                \
                if ((int)v < 0 || (int)v >= (int)(max))                  \
                        return NULL;                                     \
                return name##_table[v];                                  \
        }                                                                \
        type name##_from_string(const char *s)                           \
        {                                                                \
                if (s)                                                   \
                        for (int i = 0; i < (int)(max); i++)             \
                                if (name##_table[i] && strcmp(name##_table[i], s) == 0) \
                                        return (type)i;                  \
                return (type)-1;                                         \
        }

DEFINE_STRING_TABLE(vm_os, enum vm_os, _VM_OS_MAX,
                    [VM_OS_GENERIC] = "generic", [VM_OS_LINUX] = "linux", [VM_OS_WINDOWS] = "windows",
                    [VM_OS_WINDOWS_LEGACY] = "windows-legacy");
DEFINE_STRING_TABLE(vm_machine, enum vm_machine, _VM_MACHINE_MAX,
                    [VM_MACHINE_Q35] = "q35", [VM_MACHINE_PC] = "pc");
DEFINE_STRING_TABLE(vm_accel, enum vm_accel, _VM_ACCEL_MAX,
                    [VM_ACCEL_KVM] = "kvm", [VM_ACCEL_TCG] = "tcg", [VM_ACCEL_AUTO] = "auto");
DEFINE_STRING_TABLE(vm_cpu_mode, enum vm_cpu_mode, _VM_CPU_MODE_MAX,
                    [VM_CPU_HOST_PASSTHROUGH] = "host-passthrough", [VM_CPU_HOST_MODEL] = "host-model",
                    [VM_CPU_CUSTOM] = "custom");
DEFINE_STRING_TABLE(vm_feature_policy, enum vm_feature_policy, _VM_FEATURE_POLICY_MAX,
                    [VM_FEATURE_FORCE] = "force", [VM_FEATURE_REQUIRE] = "require",
                    [VM_FEATURE_OPTIONAL] = "optional", [VM_FEATURE_DISABLE] = "disable",
                    [VM_FEATURE_FORBID] = "forbid");
DEFINE_STRING_TABLE(vm_numa_policy, enum vm_numa_policy, _VM_NUMA_POLICY_MAX,
                    [VM_NUMA_STRICT] = "strict", [VM_NUMA_PREFERRED] = "preferred",
                    [VM_NUMA_INTERLEAVE] = "interleave");
DEFINE_STRING_TABLE(vm_mem_hotplug, enum vm_mem_hotplug, _VM_MEM_HOTPLUG_MAX,
                    [VM_MEM_HOTPLUG_DIMM] = "dimm", [VM_MEM_HOTPLUG_VIRTIO_MEM] = "virtio-mem");
DEFINE_STRING_TABLE(vm_disk_format, enum vm_disk_format, _VM_DISK_FORMAT_MAX,
                    [VM_DISK_FORMAT_AUTO] = "auto", [VM_DISK_FORMAT_RAW] = "raw",
                    [VM_DISK_FORMAT_QCOW2] = "qcow2", [VM_DISK_FORMAT_QED] = "qed",
                    [VM_DISK_FORMAT_VDI] = "vdi", [VM_DISK_FORMAT_VHDX] = "vhdx", [VM_DISK_FORMAT_VPC] = "vpc",
                    [VM_DISK_FORMAT_PARALLELS] = "parallels");
DEFINE_STRING_TABLE(vm_disk_bus, enum vm_disk_bus, _VM_DISK_BUS_MAX,
                    [VM_DISK_BUS_VIRTIO] = "virtio", [VM_DISK_BUS_SATA] = "sata", [VM_DISK_BUS_SCSI] = "scsi",
                    [VM_DISK_BUS_IDE] = "ide");
DEFINE_STRING_TABLE(vm_disk_cache, enum vm_disk_cache, _VM_DISK_CACHE_MAX,
                    [VM_DISK_CACHE_DEFAULT] = "default", [VM_DISK_CACHE_NONE] = "none",
                    [VM_DISK_CACHE_WRITEBACK] = "writeback", [VM_DISK_CACHE_WRITETHROUGH] = "writethrough",
                    [VM_DISK_CACHE_DIRECTSYNC] = "directsync", [VM_DISK_CACHE_UNSAFE] = "unsafe");
DEFINE_STRING_TABLE(vm_disk_media, enum vm_disk_media, _VM_DISK_MEDIA_MAX,
                    [VM_DISK_MEDIA_DISK] = "disk", [VM_DISK_MEDIA_CDROM] = "cdrom");
DEFINE_STRING_TABLE(vm_net_type, enum vm_net_type, _VM_NET_TYPE_MAX,
                    [VM_NET_USER] = "user", [VM_NET_BRIDGE] = "bridge", [VM_NET_TAP] = "tap");
DEFINE_STRING_TABLE(vm_net_model, enum vm_net_model, _VM_NET_MODEL_MAX,
                    [VM_NET_MODEL_VIRTIO] = "virtio", [VM_NET_MODEL_E1000] = "e1000",
                    [VM_NET_MODEL_E1000E] = "e1000e", [VM_NET_MODEL_RTL8139] = "rtl8139");
DEFINE_STRING_TABLE(vm_input, enum vm_input, _VM_INPUT_MAX,
                    [VM_INPUT_USB_TABLET] = "usb-tablet", [VM_INPUT_USB_KBD] = "usb-kbd",
                    [VM_INPUT_USB_MOUSE] = "usb-mouse");
DEFINE_STRING_TABLE(vm_serial, enum vm_serial, _VM_SERIAL_MAX,
                    [VM_SERIAL_LOG] = "log", [VM_SERIAL_NONE] = "none");
DEFINE_STRING_TABLE(vm_firmware, enum vm_firmware, _VM_FIRMWARE_MAX,
                    [VM_FIRMWARE_BIOS] = "bios", [VM_FIRMWARE_UEFI] = "uefi",
                    [VM_FIRMWARE_UEFI_SECURE] = "uefi-secure");
DEFINE_STRING_TABLE(vm_share_mode, enum vm_share_mode, _VM_SHARE_MODE_MAX,
                    [VM_SHARE_VIRTIOFS] = "virtiofs", [VM_SHARE_9P] = "9p");
