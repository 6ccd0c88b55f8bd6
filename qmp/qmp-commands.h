/* One wrapper per QMP command; typed results; outputs untouched on failure.
 * Every function returns 0, or -1 with err (see qmp_execute for err->code).
 * Owned by the QMP library; extend here. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

struct qmp;
struct qc_err;
struct qmp_version;

/* ---- run state (qmp-run.c) ---- */
int qmp_query_version(struct qmp *q, struct qmp_version *ret, struct qc_err *err);
void qmp_version_done(struct qmp_version *v);
/* Names of all commands, NULL-terminated (strv_free). */
int qmp_query_commands(struct qmp *q, char ***ret, struct qc_err *err);
/* Feature detection; query-commands is asked once per connection. */
int qmp_has_command(struct qmp *q, const char *name, bool *ret, struct qc_err *err);
/* *ret_status: "running", "paused", "prelaunch", "shutdown", ... */
int qmp_query_status(struct qmp *q, char **ret_status, bool *ret_running, struct qc_err *err);
int qmp_cont(struct qmp *q, struct qc_err *err);
int qmp_stop(struct qmp *q, struct qc_err *err);
int qmp_system_reset(struct qmp *q, struct qc_err *err);
int qmp_system_powerdown(struct qmp *q, struct qc_err *err);
/* QEMU exits; a connection closed right after the request counts as done. */
int qmp_quit(struct qmp *q, struct qc_err *err);
/* *ret is NULL when the VM has no -name. */
int qmp_query_name(struct qmp *q, char **ret, struct qc_err *err);

/* ---- migration (qmp-migrate.c) ---- */
/* Hand fd to QEMU under name (SCM_RIGHTS; a unix socket monitor only). The
 * name is the monitor's own: use it on the same connection ("fd:NAME"). */
int qmp_getfd(struct qmp *q, int fd, const char *name, struct qc_err *err);
int qmp_closefd(struct qmp *q, const char *name, struct qc_err *err);
/* Start the outgoing stream ("fd:NAME", "tcp:HOST:PORT", ...); returns at
 * once: follow it with qmp_query_migrate or MIGRATION events. */
int qmp_migrate(struct qmp *q, const char *uri, struct qc_err *err);
/* The incoming stream of a QEMU started with -incoming defer. */
int qmp_migrate_incoming(struct qmp *q, const char *uri, struct qc_err *err);
int qmp_migrate_cancel(struct qmp *q, struct qc_err *err);
int qmp_migrate_set_capability(struct qmp *q, const char *capability, bool state, struct qc_err *err);
/* max-bandwidth (bytes/s) of the outgoing stream; QEMU's default is 32 MiB/s */
int qmp_migrate_max_bandwidth(struct qmp *q, uint64_t *ret, struct qc_err *err);
int qmp_migrate_set_max_bandwidth(struct qmp *q, uint64_t bytes_per_s, struct qc_err *err);
struct qmp_migrate_info {
        char *status;     /* "none" (never started), "setup", "active", "device", "completed", "failed", "cancelled", ... */
        char *error_desc; /* with "failed", when QEMU says why; else NULL */
        uint64_t transferred, total, remaining; /* RAM bytes; 0 when not given */
        uint64_t dirty_pages_rate, page_size;   /* RAM pages dirtied per second, bytes per page; 0 when not given */
        int64_t total_time_ms;                  /* -1 when not given */
        int64_t downtime_ms;                    /* the guest's pause, once completed; -1 when not given */
        int64_t expected_downtime_ms;           /* QEMU's estimate while active; -1 when not given */
};
void qmp_migrate_info_done(struct qmp_migrate_info *m);
int qmp_query_migrate(struct qmp *q, struct qmp_migrate_info *ret, struct qc_err *err);

/* ---- CPUs (qmp-cpu.c) ---- */
/* Topology properties of a CPU slot; -1 = not given by QEMU. */
struct qmp_cpu_props {
        int64_t node_id, drawer_id, book_id, socket_id, die_id, cluster_id, core_id, thread_id;
};

struct qmp_cpu {
        int64_t cpu_index;
        int64_t thread_id; /* host thread (TID) running this vCPU */
        char *qom_path;    /* "/machine/unattached/device[0]", "/machine/peripheral/cpu2" */
        char *target;      /* "x86_64" */
        struct qmp_cpu_props props;
};

struct qmp_cpu_list {
        size_t n;
        struct qmp_cpu *cpus;
};
void qmp_cpu_list_free(struct qmp_cpu_list *l);
/* query-cpus-fast; on a QEMU older than 2.12 (CommandNotFound, or
 * query-commands known to lack it) query-cpus, the same list: qom_path NULL
 * before 2.4, props all -1 before 2.10, target = its "arch". */
int qmp_query_cpus_fast(struct qmp *q, struct qmp_cpu_list **ret, struct qc_err *err);
/* The vCPU of that cpu-index, or NULL. */
const struct qmp_cpu *qmp_cpu_list_find_index(const struct qmp_cpu_list *l, int64_t cpu_index);
/* The vCPU whose qom_path is /machine/peripheral/ID, or NULL. */
const struct qmp_cpu *qmp_cpu_list_find_id(const struct qmp_cpu_list *l, const char *id);

struct qmp_hotpluggable_cpu {
        char *type;       /* the device_add driver, e.g. "qemu64-x86_64-cpu" */
        int64_t vcpus_count;
        char *qom_path;   /* NULL while the slot is empty */
        struct qmp_cpu_props props;
};

struct qmp_hotpluggable_cpu_list {
        size_t n;
        struct qmp_hotpluggable_cpu *slots;
};
void qmp_hotpluggable_cpu_list_free(struct qmp_hotpluggable_cpu_list *l);
int qmp_query_hotpluggable_cpus(struct qmp *q, struct qmp_hotpluggable_cpu_list **ret, struct qc_err *err);

enum qmp_cpu_hotplug {
        QMP_CPU_HOTPLUG_NONE,       /* this QEMU cannot hotplug CPUs */
        QMP_CPU_HOTPLUG_DEVICE_ADD, /* query-hotpluggable-cpus + device_add (QEMU >= 2.7) */
        QMP_CPU_HOTPLUG_CPU_ADD,    /* cpu-add alone (QEMU < 2.7): plug only */
        _QMP_CPU_HOTPLUG_MAX,
        _QMP_CPU_HOTPLUG_INVALID = -1,
};
const char *qmp_cpu_hotplug_to_string(enum qmp_cpu_hotplug m);
/* Chosen by feature detection (query-commands), not by version number. */
int qmp_cpu_hotplug_method(struct qmp *q, enum qmp_cpu_hotplug *ret, struct qc_err *err);
/* device_add of slot's type with its topology props and the given id. */
int qmp_cpu_plug(struct qmp *q, const struct qmp_hotpluggable_cpu *slot, const char *id, struct qc_err *err);
/* Plug the first empty slot (lowest socket/core/thread in QEMU's order);
 * ENOSPC when every slot is full. *ret_slot_index (may be NULL) is its
 * index in query-hotpluggable-cpus. */
int qmp_cpu_plug_next(struct qmp *q, const char *id, size_t *ret_slot_index, struct qc_err *err);
/* device_del id, then wait until the guest has ejected it: ACPI_DEVICE_OST
 * {source 3, status 0, device id}, or the vCPU gone from query-cpus-fast
 * (polled). id is a device id ("cpu2") or a vCPU's QOM path
 * ("/machine/unattached/device[0]": -smp vCPUs have no id). A guest that
 * refuses (OST status != 0) is an error (EBUSY); no completion within
 * timeout_ms is ETIMEDOUT. err is untouched on success. */
int qmp_cpu_unplug(struct qmp *q, const char *id, int timeout_ms, struct qc_err *err);
/* cpu-add {"id": N}: plugs the vCPU of cpu-index N (N < -smp maxcpus). The
 * only way on QEMU before 2.7; there is no way back (no unplug). Removed in
 * QEMU 5.2. */
int qmp_cpu_add(struct qmp *q, int64_t cpu_id, struct qc_err *err);

/* ---- memory (qmp-mem.c) ---- */
/* Balloon target, bytes of guest RAM. Needs a virtio-balloon device. */
int qmp_balloon(struct qmp *q, uint64_t bytes, struct qc_err *err);
int qmp_query_balloon(struct qmp *q, uint64_t *ret_actual, struct qc_err *err);
/* QOM path of the first virtio-balloon device ("/machine/peripheral/balloon0",
 * or under peripheral-anon); ENODEV if there is none. */
int qmp_balloon_find(struct qmp *q, char **ret_path, struct qc_err *err);
/* qom-set / qom-get guest-stats-polling-interval (seconds; 0 = off) on the
 * device. */
int qmp_balloon_set_stats_interval(struct qmp *q, const char *path, int64_t seconds, struct qc_err *err);
int qmp_balloon_get_stats_interval(struct qmp *q, const char *path, int64_t *ret_seconds, struct qc_err *err);

enum qmp_balloon_stat {
        QMP_BALLOON_STAT_SWAP_IN,
        QMP_BALLOON_STAT_SWAP_OUT,
        QMP_BALLOON_STAT_MAJOR_FAULTS,
        QMP_BALLOON_STAT_MINOR_FAULTS,
        QMP_BALLOON_STAT_FREE_MEMORY,
        QMP_BALLOON_STAT_TOTAL_MEMORY,
        QMP_BALLOON_STAT_AVAILABLE_MEMORY,
        QMP_BALLOON_STAT_DISK_CACHES,
        QMP_BALLOON_STAT_HTLB_PGALLOC,
        QMP_BALLOON_STAT_HTLB_PGFAIL,
        _QMP_BALLOON_STAT_MAX,
        _QMP_BALLOON_STAT_INVALID = -1,
};
/* "stat-free-memory", ... as QEMU names them */
const char *qmp_balloon_stat_to_string(enum qmp_balloon_stat s);
enum qmp_balloon_stat qmp_balloon_stat_from_string(const char *s);

struct qmp_balloon_stats {
        int64_t last_update; /* host wall time (s since the epoch) QEMU got the last update; 0 = never */
        /* A guest without the balloon driver (or before its first update)
         * reports u64 -1: known[i] is false then and value[i] is 0. */
        bool known[_QMP_BALLOON_STAT_MAX];
        uint64_t value[_QMP_BALLOON_STAT_MAX];
};
int qmp_balloon_get_stats(struct qmp *q, const char *path, struct qmp_balloon_stats *ret, struct qc_err *err);

struct qmp_memory_summary {
        uint64_t base_memory;
        uint64_t plugged_memory;
        bool has_plugged_memory;
};
int qmp_query_memory_size_summary(struct qmp *q, struct qmp_memory_summary *ret, struct qc_err *err);

struct qmp_memory_device {
        char *type;    /* "dimm", "nvdimm", "virtio-mem", "virtio-pmem", "sgx-epc" */
        char *id;      /* NULL if the device has none */
        char *memdev;  /* backend QOM path, "/objects/mem-dimm1" */
        uint64_t addr; /* guest physical address */
        uint64_t size; /* current size (virtio-mem: plugged size) */
        int64_t slot;  /* dimm/nvdimm; -1 otherwise */
        int64_t node;  /* -1 if not given */
        bool hotplugged, hotpluggable;
        uint64_t requested_size, max_size, block_size; /* virtio-mem only */
};

struct qmp_memory_device_list {
        size_t n;
        struct qmp_memory_device *devs;
};
void qmp_memory_device_list_free(struct qmp_memory_device_list *l);
int qmp_query_memory_devices(struct qmp *q, struct qmp_memory_device_list **ret, struct qc_err *err);
/* Bytes hotplugged on top of the boot memory: pc-dimms and what virtio-mem
 * devices have plugged. */
uint64_t qmp_memory_devices_plugged(const struct qmp_memory_device_list *l);

struct qmp_dimm {
        const char *id;      /* device id; the backend is "mem-" id */
        uint64_t size;
        int64_t node;        /* guest NUMA node, -1 = QEMU's default */
        const char *backend; /* qom-type; NULL = "memory-backend-ram" */
        json_object *props;  /* the backend's other properties (not id, size), copied; NULL = none */
};
/* object-add the backend, then device_add pc-dimm; the backend is removed
 * again if device_add fails. */
int qmp_dimm_plug(struct qmp *q, const struct qmp_dimm *d, struct qc_err *err);
/* device_del, wait for DEVICE_DELETED of id (the guest must eject it), then
 * object-del the "mem-" id backend. */
int qmp_dimm_unplug(struct qmp *q, const char *id, int timeout_ms, struct qc_err *err);
/* virtio-mem: qom-set requested-size on /machine/peripheral/ID. */
int qmp_virtio_mem_resize(struct qmp *q, const char *id, uint64_t requested_size, struct qc_err *err);

/* ---- CPU models (qmp-cpu-models.c) ---- */
struct qmp_cpu_def {
        char *name;             /* "Haswell-v4", "max" */
        char *type_name;        /* QOM type ("Haswell-v4-x86_64-cpu"), NULL when not given */
        char *alias_of;         /* "Haswell-v1" for "Haswell", NULL when none */
        char **unavailable;     /* what keeps it from running here (this accelerator, this host); NULL-terminated */
        bool unavailable_known; /* false: QEMU did not say (the list is empty then) */
        bool is_static, migration_safe, deprecated;
};
struct qmp_cpu_def_list {
        size_t n;
        struct qmp_cpu_def *defs;
};
void qmp_cpu_def_list_free(struct qmp_cpu_def_list *l);
/* query-cpu-definitions. ret_raw (may be NULL) gets the "return" value as
 * QEMU sent it (for a cache, read back with qmp_cpu_definitions_parse). */
int qmp_query_cpu_definitions(struct qmp *q, struct qmp_cpu_def_list **ret, json_object **ret_raw,
                              struct qc_err *err);
/* The same from a "return" value. EPROTO when it is not one. */
int qmp_cpu_definitions_parse(json_object *r, struct qmp_cpu_def_list **ret, struct qc_err *err);
const struct qmp_cpu_def *qmp_cpu_def_find(const struct qmp_cpu_def_list *l, const char *name);

struct qmp_cpu_model {
        char *name;
        json_object *props; /* property -> value (features are booleans), never NULL on success */
};
void qmp_cpu_model_done(struct qmp_cpu_model *m);
/* query-cpu-model-expansion: type "static" or "full", the model's name and
 * props (taken; may be NULL). ret_raw as above. */
int qmp_query_cpu_model_expansion(struct qmp *q, const char *type, const char *model, json_object *props,
                                  struct qmp_cpu_model *ret, json_object **ret_raw, struct qc_err *err);
/* The same from a "return" value ({"model": {"name", "props"}}). */
int qmp_cpu_model_parse(json_object *r, struct qmp_cpu_model *ret, struct qc_err *err);

/* ---- QOM, HMP, raw (qmp-misc.c) ---- */
int qmp_qom_get(struct qmp *q, const char *path, const char *property, json_object **ret, struct qc_err *err);
/* value is taken. */
int qmp_qom_set(struct qmp *q, const char *path, const char *property, json_object *value, struct qc_err *err);

struct qmp_qom_prop {
        char *name;
        char *type; /* "child<virtio-balloon-pci>", "link<...>", "uint64", ... */
};
struct qmp_qom_prop_list {
        size_t n;
        struct qmp_qom_prop *props;
};
void qmp_qom_prop_list_free(struct qmp_qom_prop_list *l);
int qmp_qom_list(struct qmp *q, const char *path, struct qmp_qom_prop_list **ret, struct qc_err *err);
/* human-monitor-command: HMP text in, its output out ("" when silent). */
int qmp_hmp(struct qmp *q, const char *command_line, char **ret_output, struct qc_err *err);
/* Raw, as text: a JSON command object (or just a command name) in, the whole
 * reply object out as compact JSON. An error reply is not a failure here. */
int qmp_execute_json(struct qmp *q, const char *command_json, char **ret_reply_json, struct qc_err *err);

/* ---- removable media (qmp-block.c) ---- */
/* id: the device's id (qdev), e.g. "disk1". force: open even when the guest
 * locked the tray (it is told, and the tray opens at once). */
int qmp_blockdev_open_tray(struct qmp *q, const char *id, bool force, struct qc_err *err);
int qmp_blockdev_close_tray(struct qmp *q, const char *id, struct qc_err *err);
/* The tray must be open; a drive without a medium is left as it is. */
int qmp_blockdev_remove_medium(struct qmp *q, const char *id, struct qc_err *err);
int qmp_blockdev_insert_medium(struct qmp *q, const char *id, const char *node_name, struct qc_err *err);
/* node (taken): blockdev-add's arguments. */
int qmp_blockdev_add(struct qmp *q, json_object *node, struct qc_err *err);
int qmp_blockdev_del(struct qmp *q, const char *node_name, struct qc_err *err);

/* ---- display passwords (qmp-display.c) ---- */
/* protocol "vnc" or "spice". No copy of password is left in memory of
 * ours once it returns (the line sent is wiped); the caller wipes its own. */
int qmp_set_password(struct qmp *q, const char *protocol, const char *password, struct qc_err *err);
/* time: "now", "never", "+SECONDS" (from now) or "SECONDS" (since the epoch). */
int qmp_expire_password(struct qmp *q, const char *protocol, const char *time, struct qc_err *err);
