/* struct vm_spec -> VM file JSON that spec_parse reads back to the same
 * struct (the effective spec in the state dir; `qemuctl dump`). */
#include <json.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../common/size.h"
#include "spec-internal.h"

DEFINE_CLEANUP_FUNC(json_object *, json_object_put);

/* json-c's add functions take the reference even on failure; a NULL value
 * (allocation failure) is caught by the final check through `bad`. */
static void add(json_object *o, const char *key, json_object *v, bool *bad)
{
        if (!v || json_object_object_add(o, key, v) < 0)
                *bad = true;
}

static void push(json_object *a, json_object *v, bool *bad)
{
        if (!v || json_object_array_add(a, v) < 0)
                *bad = true;
}

static json_object *jsize(uint64_t v)
{
        char buf[32];

        format_size(v, buf, sizeof buf);
        return json_object_new_string(buf);
}

static json_object *jcpus(const struct cpuset *cs)
{
        _cleanup_free_ char *s = cpuset_to_string(cs);
        return s ? json_object_new_string(s) : NULL;
}

static json_object *jstrv(char *const *v, size_t n, bool *bad)
{
        json_object *a = json_object_new_array();

        if (a)
                for (size_t i = 0; i < n; i++)
                        push(a, json_object_new_string(v[i]), bad);
        return a;
}

static json_object *cpu_json(const struct vm_spec *s, bool *bad)
{
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        add(o, "mode", json_object_new_string(vm_cpu_mode_to_string(s->cpu.mode)), bad);
        if (s->cpu.model)
                add(o, "model", json_object_new_string(s->cpu.model), bad);
        if (s->cpu.n_features) {
                json_object *f = json_object_new_object();
                for (size_t i = 0; f && i < s->cpu.n_features; i++)
                        add(f, s->cpu.features[i].name,
                            json_object_new_string(vm_feature_policy_to_string(s->cpu.features[i].policy)), bad);
                add(o, "features", f, bad);
        }
        add(o, "vcpus", json_object_new_int64(s->cpu.vcpus), bad);
        add(o, "max", json_object_new_int64(s->cpu.max), bad);
        if (s->cpu.topology_given) {
                json_object *t = json_object_new_object();
                if (t) {
                        add(t, "sockets", json_object_new_int64(s->cpu.sockets), bad);
                        add(t, "cores", json_object_new_int64(s->cpu.cores), bad);
                        add(t, "threads", json_object_new_int64(s->cpu.threads), bad);
                }
                add(o, "topology", t, bad);
        }
        if (s->cpu.n_pins) {
                json_object *p = json_object_new_object();
                for (size_t i = 0; p && i < s->cpu.n_pins; i++) {
                        char key[16];
                        snprintf(key, sizeof key, "%u", s->cpu.pins[i].vcpu);
                        add(p, key, jcpus(&s->cpu.pins[i].cpus), bad);
                }
                add(o, "pin", p, bad);
        }
        if (s->cpu.has_emulator_pin)
                add(o, "emulator_pin", jcpus(&s->cpu.emulator_pin), bad);
        if (s->cpu.weight)
                add(o, "weight", json_object_new_int64(s->cpu.weight), bad);
        if (s->cpu.max_percent)
                add(o, "max_percent", json_object_new_int64(s->cpu.max_percent), bad);
        return o;
}

static json_object *memory_json(const struct vm_spec *s, bool *bad)
{
        json_object *o = json_object_new_object(), *l;

        if (!o)
                return NULL;
        add(o, "size", jsize(s->memory.size), bad);
        if (s->memory.max)
                add(o, "max", jsize(s->memory.max), bad);
        if (s->memory.slots)
                add(o, "slots", json_object_new_int64(s->memory.slots), bad);
        if (s->memory.plugged)
                add(o, "plugged", jsize(s->memory.plugged), bad);
        add(o, "hotplug", json_object_new_string(vm_mem_hotplug_to_string(s->memory.hotplug)), bad);
        if (s->memory.hugepages && s->memory.hugepages_path) {
                json_object *h = json_object_new_object();
                if (h) {
                        add(h, "size", jsize(s->memory.hugepages), bad);
                        add(h, "path", json_object_new_string(s->memory.hugepages_path), bad);
                }
                add(o, "hugepages", h, bad);
        } else if (s->memory.hugepages) {
                add(o, "hugepages", jsize(s->memory.hugepages), bad);
        }
        add(o, "locked", json_object_new_boolean(s->memory.locked), bad);
        add(o, "merge", json_object_new_boolean(s->memory.merge), bad);
        if (s->memory.balloon) {
                json_object *b = json_object_new_object();
                if (b) {
                        add(b, "deflate_on_oom", json_object_new_boolean(s->memory.balloon_deflate_on_oom), bad);
                        add(b, "stats_interval", json_object_new_int64(s->memory.balloon_stats_interval), bad);
                        add(b, "free_page_reporting", json_object_new_boolean(s->memory.balloon_free_page_reporting),
                            bad);
                }
                add(o, "balloon", b, bad);
        } else {
                add(o, "balloon", json_object_new_boolean(false), bad);
        }
        if (s->memory.hard_limit || s->memory.soft_limit || s->memory.swap_limit_set || s->memory.min_guarantee) {
                l = json_object_new_object();
                if (l && s->memory.hard_limit)
                        add(l, "hard", jsize(s->memory.hard_limit), bad);
                if (l && s->memory.soft_limit)
                        add(l, "soft", jsize(s->memory.soft_limit), bad);
                if (l && s->memory.swap_limit_set)
                        add(l, "swap", jsize(s->memory.swap_limit), bad);
                if (l && s->memory.min_guarantee)
                        add(l, "min", jsize(s->memory.min_guarantee), bad);
                add(o, "limits", l, bad);
        }
        return o;
}

static json_object *numa_json(const struct vm_spec *s, bool *bad)
{
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        add(o, "policy", json_object_new_string(vm_numa_policy_to_string(s->numa.policy)), bad);
        if (s->numa.has_nodeset)
                add(o, "nodeset", jcpus(&s->numa.nodeset), bad);
        if (s->numa.n_cells) {
                json_object *a = json_object_new_array();
                for (size_t i = 0; a && i < s->numa.n_cells; i++) {
                        json_object *cell = json_object_new_object();
                        if (cell) {
                                add(cell, "cpus", jcpus(&s->numa.cells[i].cpus), bad);
                                add(cell, "memory", jsize(s->numa.cells[i].memory), bad);
                        }
                        push(a, cell, bad);
                }
                add(o, "cells", a, bad);
        }
        return o;
}

static json_object *disk_json(const struct vm_disk *d, bool *bad)
{
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        add(o, "file", json_object_new_string(d->file), bad);
        add(o, "format", json_object_new_string(vm_disk_format_to_string(d->format)), bad);
        if (d->create)
                add(o, "create", jsize(d->create), bad);
        add(o, "bus", json_object_new_string(vm_disk_bus_to_string(d->bus)), bad);
        add(o, "cache", json_object_new_string(vm_disk_cache_to_string(d->cache)), bad);
        add(o, "media", json_object_new_string(vm_disk_media_to_string(d->media)), bad);
        add(o, "readonly", json_object_new_boolean(d->readonly), bad);
        add(o, "snapshot", json_object_new_boolean(d->snapshot), bad);
        return o;
}

static json_object *net_json(const struct vm_net *n, bool *bad)
{
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        add(o, "type", json_object_new_string(vm_net_type_to_string(n->type)), bad);
        add(o, "model", json_object_new_string(vm_net_model_to_string(n->model)), bad);
        if (n->bridge)
                add(o, "bridge", json_object_new_string(n->bridge), bad);
        if (n->ifname)
                add(o, "ifname", json_object_new_string(n->ifname), bad);
        if (n->mac)
                add(o, "mac", json_object_new_string(n->mac), bad);
        if (n->n_forward)
                add(o, "forward", jstrv(n->forward, n->n_forward, bad), bad);
        return o;
}

static json_object *small_obj(bool *bad, const char *k1, json_object *v1, const char *k2, json_object *v2,
                              const char *k3, json_object *v3)
{
        json_object *o = json_object_new_object();

        if (!o) {
                json_object_put(v1);
                json_object_put(v2);
                json_object_put(v3);
                return NULL;
        }
        if (k1)
                add(o, k1, v1, bad);
        if (k2)
                add(o, k2, v2, bad);
        if (k3)
                add(o, k3, v3, bad);
        return o;
}

char *spec_to_json(const struct vm_spec *s)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        bool bad = false;

        if (!o)
                return NULL;
        add(o, "name", json_object_new_string(s->name), &bad);
        add(o, "machine", json_object_new_string(vm_machine_to_string(s->machine)), &bad);
        add(o, "accel", json_object_new_string(vm_accel_to_string(s->accel)), &bad);
        add(o, "cpu", cpu_json(s, &bad), &bad);
        add(o, "memory", memory_json(s, &bad), &bad);
        add(o, "numa", numa_json(s, &bad), &bad);
        if (s->n_disks) {
                json_object *a = json_object_new_array();
                for (size_t i = 0; a && i < s->n_disks; i++)
                        push(a, disk_json(&s->disks[i], &bad), &bad);
                add(o, "disks", a, &bad);
        }
        if (s->n_nets) {
                json_object *a = json_object_new_array();
                for (size_t i = 0; a && i < s->n_nets; i++)
                        push(a, net_json(&s->nets[i], &bad), &bad);
                add(o, "net", a, &bad);
        }
        if (s->boot.kernel || s->boot.order)
                add(o, "boot",
                    small_obj(&bad, s->boot.kernel ? "kernel" : NULL, s->boot.kernel ? json_object_new_string(s->boot.kernel) : NULL,
                              s->boot.initrd ? "initrd" : NULL, s->boot.initrd ? json_object_new_string(s->boot.initrd) : NULL,
                              s->boot.cmdline ? "cmdline" : NULL,
                              s->boot.cmdline ? json_object_new_string(s->boot.cmdline) : NULL),
                    &bad);
        if (s->boot.order) {
                json_object *b = json_object_object_get(o, "boot");
                if (b)
                        add(b, "order", json_object_new_string(s->boot.order), &bad);
        }
        if (s->vnc)
                add(o, "display", small_obj(&bad, "vnc", json_object_new_string(s->vnc), NULL, NULL, NULL, NULL), &bad);
        else
                add(o, "display", json_object_new_string("none"), &bad);
        {
                json_object *a = json_object_new_array();
                for (size_t i = 0; a && i < s->n_inputs; i++)
                        push(a, json_object_new_string(vm_input_to_string(s->inputs[i])), &bad);
                add(o, "input", a, &bad);
        }
        add(o, "serial", json_object_new_string(vm_serial_to_string(s->serial)), &bad);
        add(o, "panic", json_object_new_boolean(s->panic), &bad);
        add(o, "debug_exit", json_object_new_boolean(s->debug_exit), &bad);
        add(o, "cgroup",
            small_obj(&bad, "parent", json_object_new_string(s->cgroup.parent ? s->cgroup.parent : "qemuctl"),
                      s->cgroup.pids_max ? "pids_max" : NULL,
                      s->cgroup.pids_max ? json_object_new_int64((int64_t)s->cgroup.pids_max) : NULL, NULL, NULL),
            &bad);
        add(o, "security",
            small_obj(&bad, s->security.user ? "user" : NULL, s->security.user ? json_object_new_string(s->security.user) : NULL,
                      s->security.group ? "group" : NULL,
                      s->security.group ? json_object_new_string(s->security.group) : NULL, "sandbox",
                      json_object_new_boolean(s->security.sandbox)),
            &bad);
        add(o, "qemu",
            small_obj(&bad, "binary", json_object_new_string(s->qemu.binary ? s->qemu.binary : "qemu-system-x86_64"),
                      "args", jstrv(s->qemu.args, s->qemu.n_args, &bad), NULL, NULL),
            &bad);
        if (bad)
                return NULL;
        return strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                JSON_C_TO_STRING_NOSLASHESCAPE));
}
