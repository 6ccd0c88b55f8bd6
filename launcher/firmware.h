/* UEFI firmware, chosen the standard way: QEMU's firmware descriptors
 * (docs/interop/firmware.json in QEMU's tree), JSON files that distributions
 * install with their firmware (Debian's `ovmf`: /usr/share/qemu/firmware/).
 * A descriptor names the code and the variable store template, the machine
 * types it runs on, and its features (secure-boot, enrolled-keys,
 * requires-smm, ...). qemuctl never hard-codes a firmware path.
 *
 * The descriptors are files on disk that anyone with root on the host (or
 * a package) wrote: the parser takes any bytes (fuzz/fuzz-firmware.c). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "../common/err.h"
#include "spec.h"

enum {
        FW_SECURE_BOOT = 1 << 0,   /* "secure-boot": the firmware can enforce Secure Boot */
        FW_ENROLLED_KEYS = 1 << 1, /* "enrolled-keys": its variable template has keys: Secure Boot is on */
        FW_REQUIRES_SMM = 1 << 2,  /* "requires-smm": -machine smm=on and a secure pflash */
};

struct fw_desc {
        char *file;        /* the descriptor's path */
        char *description; /* its "description" (may be NULL) */
        char *code;        /* mapping.executable.filename (flash, split) */
        char *code_format; /* "raw" | "qcow2" */
        char *vars;        /* mapping.nvram-template.filename */
        char *vars_format;
        char **machines;   /* the x86_64 target's machine globs ("pc-q35-*"), NULL-terminated */
        char **features;   /* every feature named, NULL-terminated */
        unsigned flags;    /* FW_* */
        bool uefi;         /* "interface-types" has "uefi" */
        /* why qemuctl cannot use it (another interface, architecture or
         * mapping, a file missing), or NULL */
        char *unusable;
};

struct fw_list {
        struct fw_desc *v;
        size_t n;
};

/* Parse one descriptor (text of len bytes; file names it). A descriptor
 * that is valid but not for us (BIOS, aarch64, a memory mapping) parses
 * with `unusable` saying why; the files it names are not looked at.
 * -1 with err (EINVAL: what is wrong and where) when it is no descriptor. */
int fw_desc_parse(const char *file, const char *text, size_t len, struct fw_desc *ret, struct qc_err *err);
void fw_desc_done(struct fw_desc *d);

/* Where descriptors are looked for, highest priority first (a file name in
 * an earlier dir hides the same name in later ones; an empty file hides it
 * and is nothing itself): $QEMUCTL_FIRMWARE_DIRS (colon-separated) when
 * set, else $XDG_CONFIG_HOME/qemu/firmware (not for root; ~/.config when
 * unset), /etc/qemu/firmware, /usr/share/qemu/firmware (QEMU's own rules).
 * NULL-terminated, malloc'd; -1 with err (ENOMEM). */
int fw_search_dirs(char ***ret, struct qc_err *err);

/* Every *.json in dirs (missing dirs are skipped), by file name in the
 * order QEMU's rules give them (sorted by name: "40-..." before "60-...").
 * A file that cannot be read or parsed is listed with `unusable` saying
 * why; one whose code or template is missing too. -1 with err (ENOMEM). */
int fw_list_load(char *const *dirs, struct fw_list *ret, struct qc_err *err);
void fw_list_done(struct fw_list *l);

/* Does the descriptor's machine glob list take `machine` (q35: pc-q35-*,
 * pc: pc-i440fx-*, at a current version)? */
bool fw_desc_takes_machine(const struct fw_desc *d, enum vm_machine machine);

/* The first usable descriptor of l for what the VM file asks:
 * uefi: UEFI without enrolled keys (Secure Boot off), one without
 * secure-boot and SMM preferred (it boots faster, needs nothing);
 * uefi-secure: secure-boot, enrolled-keys and requires-smm. -1 with err
 * ENOENT saying what was looked for, where, and what to install. */
int fw_select(const struct fw_list *l, enum vm_firmware want, enum vm_machine machine, char *const *dirs,
              const struct fw_desc **ret, struct qc_err *err);

/* What the NVRAM leaves in the data dir (for vm_datadir_remove): the
 * store, in either format, and the record of its template. */
extern const char *const fw_nvram_files[];

/* The VM's own variable store in its data dir (datadir, made by
 * vm_datadir_open()): "nvram.fd" (raw) or "nvram.qcow2", copied from d's
 * template when absent (never overwritten but with reset), with
 * "nvram.template" naming the template it came from. One made from another
 * template (the firmware key changed) is refused (EEXIST) with what to do:
 * its variables belong to the other firmware. reset (virsh start
 * --reset-nvram): copied from the template anyway, a new file renamed over
 * the old, whatever template the old one came from. *ret_path: malloc'd. */
int fw_nvram_prepare(const char *datadir, const struct fw_desc *d, bool reset, char **ret_path, struct qc_err *err);

/* For a VM file asking for UEFI: the descriptors (*list, the caller's to
 * fw_list_done), the one chosen (*ret_fw, inside *list) and where the VM's
 * NVRAM is (*ret_nvram, in its data dir). Creates nothing; an NVRAM there
 * that was made for another firmware is refused (EEXIST, fw_nvram_prepare)
 * unless it is to be reset, so `start` refuses before it touches anything.
 * firmware bios: 0 with *ret_fw and *ret_nvram NULL. */
int fw_resolve(const struct vm_spec *spec, bool reset, struct fw_list *list, const struct fw_desc **ret_fw,
               char **ret_nvram, struct qc_err *err);
/* Make the VM's data dir (vm_datadir_make) and its NVRAM from fw's template
 * (fw_nvram_prepare, reset as there); *ret_nvram: its path. */
int fw_nvram_make(const struct vm_spec *spec, const struct fw_desc *fw, bool reset, char **ret_nvram,
                  struct qc_err *err);
