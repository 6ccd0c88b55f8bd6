/* vcpupin and emulatorpin on a running VM. Like libvirt: the cgroup's
 * cpuset.cpus when the cpuset controller is usable, and sched_setaffinity of
 * the threads always (affinity alone is what a hybrid host offers). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../qmp/qmp-commands.h"
#include "../qmp/qmp.h"
#include "vm-placement.h"

static struct vm_vcpu_pin *pin_find(struct vm_spec *spec, unsigned vcpu)
{
        for (size_t i = 0; i < spec->cpu.n_pins; i++)
                if (spec->cpu.pins[i].vcpu == vcpu)
                        return &spec->cpu.pins[i];
        return NULL;
}

/* Set (or add, keeping the pins in vCPU order) the recorded pin of vcpu. */
int vm_pin_record(struct vm_spec *spec, unsigned vcpu, const struct cpuset *cpus, struct qc_err *err)
{
        struct vm_vcpu_pin *p = pin_find(spec, vcpu), *v;
        size_t at = 0;

        if (p) {
                p->cpus = *cpus;
                return 0;
        }
        v = realloc(spec->cpu.pins, (spec->cpu.n_pins + 1) * sizeof *v);
        if (!v)
                return qc_err_set(err, ENOMEM, "out of memory");
        spec->cpu.pins = v;
        while (at < spec->cpu.n_pins && v[at].vcpu < vcpu)
                at++;
        memmove(&v[at + 1], &v[at], (spec->cpu.n_pins - at) * sizeof *v);
        v[at] = (struct vm_vcpu_pin){ .vcpu = vcpu, .cpus = *cpus };
        spec->cpu.n_pins++;
        return 0;
}

static void pin_infos_sort(struct vm_pin_info *v, size_t n)
{
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && v[j - 1].vcpu > v[j].vcpu; j--) {
                        struct vm_pin_info t = v[j];
                        v[j] = v[j - 1];
                        v[j - 1] = t;
                }
}

int vm_vcpupin_get(struct vm_placement *p, struct vm_pin_info **ret, size_t *ret_n, struct qc_err *err)
{
        struct vm_spec *spec = p->live->spec;
        struct qmp_cpu_list *l = NULL;
        _cleanup_free_ struct vm_pin_info *v = NULL;
        size_t n = 0;

        if (qmp_query_cpus_fast(p->live->qmp, &l, err) < 0)
                return qc_err_wrap(err, "list vCPUs");
        v = calloc(l->n + spec->cpu.n_pins + 1, sizeof *v);
        if (!v) {
                qmp_cpu_list_free(l);
                return qc_err_set(err, ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < l->n; i++, n++) {
                const struct vm_vcpu_pin *pin = pin_find(spec, (unsigned)l->cpus[i].cpu_index);
                struct qc_err e2 = { 0 };

                v[n].vcpu = (unsigned)l->cpus[i].cpu_index;
                v[n].tid = (pid_t)l->cpus[i].thread_id;
                if (pin) {
                        v[n].pinned = true;
                        v[n].pin = pin->cpus;
                }
                v[n].host_ok = vm_thread_affinity(v[n].tid, &v[n].affinity, &e2) == 0;
        }
        qmp_cpu_list_free(l);
        /* pins recorded for vCPUs that a hotplug would bring */
        for (size_t i = 0; i < spec->cpu.n_pins; i++) {
                bool seen = false;

                for (size_t j = 0; j < n && !seen; j++)
                        seen = v[j].vcpu == spec->cpu.pins[i].vcpu && v[j].tid;
                if (!seen)
                        v[n++] = (struct vm_pin_info){ .vcpu = spec->cpu.pins[i].vcpu, .pinned = true,
                                                       .pin = spec->cpu.pins[i].cpus };
        }
        pin_infos_sort(v, n);
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

/* The host thread of vCPU vcpu; 0 when it is not plugged. */
static int vcpu_tid(struct vm_live *live, unsigned vcpu, pid_t *ret, struct qc_err *err)
{
        struct qmp_cpu_list *l = NULL;

        if (qmp_query_cpus_fast(live->qmp, &l, err) < 0)
                return qc_err_wrap(err, "list vCPUs");
        *ret = 0;
        for (size_t i = 0; i < l->n; i++)
                if (l->cpus[i].cpu_index == (int64_t)vcpu)
                        *ret = (pid_t)l->cpus[i].thread_id;
        qmp_cpu_list_free(l);
        return 0;
}

int vm_vcpupin_set(struct vm_placement *p, unsigned vcpu, const struct cpuset *cpus, bool *ret_live,
                   struct qc_err *err)
{
        struct vm_live *live = p->live;
        pid_t tid = 0;

        if (vcpu >= live->spec->cpu.max)
                return qc_err_set(err, EINVAL,
                                  "vCPU %u does not exist: VM `%s` has vCPUs 0-%u (cpu.max %u; %u plugged now)",
                                  vcpu, live->spec->name, live->spec->cpu.max - 1, live->spec->cpu.max,
                                  live->spec->cpu.vcpus);
        if (vm_check_cpus(cpus, &p->online, err) < 0)
                return -1;
        if (vcpu_tid(live, vcpu, &tid, err) < 0)
                return -1;
        if (tid) {
                if (live->cg && (p->usable & CG_MASK(CG_CPUSET))) {
                        _cleanup_free_ char *s = cpuset_to_string(cpus);
                        int fd;

                        if (!s)
                                return qc_err_set(err, ENOMEM, "out of memory");
                        /* the thread belongs in vcpuN/ for the cpuset to hold it;
                         * moving it there again is harmless */
                        if (cg_vm_place_vcpu(live->cg, vcpu, tid, err) < 0 ||
                            cg_vm_vcpu_fd(live->cg, vcpu, &fd, err) < 0 || cg_set_cpuset(fd, s, NULL, err) < 0)
                                return qc_err_wrap(err, "vCPU %u: cgroup %s/vcpu%u", vcpu, cg_vm_path(live->cg),
                                                   vcpu);
                }
                if (placement_set_affinity(tid, cpus, err) < 0)
                        return qc_err_wrap(err, "vCPU %u", vcpu);
        }
        if (vm_pin_record(live->spec, vcpu, cpus, err) < 0 || vm_placement_record(p, err) < 0)
                return -1;
        if (ret_live)
                *ret_live = tid != 0;
        return 0;
}

/* Thread ids of every vCPU (malloc'd). */
static int vcpu_tids(struct vm_live *live, pid_t **ret, size_t *ret_n, struct qc_err *err)
{
        struct qmp_cpu_list *l = NULL;
        pid_t *v;

        if (qmp_query_cpus_fast(live->qmp, &l, err) < 0)
                return qc_err_wrap(err, "list vCPUs");
        v = calloc(l->n + 1, sizeof *v);
        if (!v) {
                qmp_cpu_list_free(l);
                return qc_err_set(err, ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < l->n; i++)
                v[i] = (pid_t)l->cpus[i].thread_id;
        *ret_n = l->n;
        *ret = v;
        qmp_cpu_list_free(l);
        return 0;
}

static bool tid_in(pid_t tid, const pid_t *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (v[i] == tid)
                        return true;
        return false;
}

static void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

/* Call fn for every thread of pid that is not a vCPU thread: fn returns 1
 * when it acted on tid, 0 when the thread ended while we walk (skipped), -1
 * with err. *ret_n: the threads acted on. */
static int for_emulator_threads(struct vm_live *live, int (*fn)(pid_t tid, void *ud, struct qc_err *err), void *ud,
                                size_t *ret_n, struct qc_err *err)
{
        _cleanup_free_ pid_t *vcpus = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        size_t n_vcpus = 0, n = 0;
        char path[64];
        struct dirent *de;

        if (vcpu_tids(live, &vcpus, &n_vcpus, err) < 0)
                return -1;
        snprintf(path, sizeof path, "/proc/%d/task", (int)live->qemu_pid);
        d = opendir(path);
        if (!d)
                return qc_err_sys(err, errno, "read %s", path);
        while ((de = readdir(d))) {
                pid_t tid = (pid_t)atoi(de->d_name);
                int r;

                if (tid <= 0 || tid_in(tid, vcpus, n_vcpus))
                        continue;
                r = fn(tid, ud, err);
                if (r < 0)
                        return -1;
                n += r;
        }
        *ret_n = n;
        return 0;
}

struct differ_ctx {
        const struct cpuset *main;
        size_t differ;
};

static int count_differ(pid_t tid, void *ud, struct qc_err *err)
{
        struct differ_ctx *c = ud;
        struct cpuset a;
        struct qc_err e2 = { 0 };

        if (vm_thread_affinity(tid, &a, &e2) < 0)
                return 0; /* gone */
        if (!cpuset_equal(&a, c->main))
                c->differ++;
        return 1;
}

int vm_emulatorpin_get(struct vm_placement *p, struct vm_emulator_pin *ret, struct qc_err *err)
{
        struct vm_live *live = p->live;
        struct vm_emulator_pin e = { 0 };
        struct differ_ctx c = { .main = &e.affinity };

        e.pinned = live->spec->cpu.has_emulator_pin;
        if (e.pinned)
                e.pin = live->spec->cpu.emulator_pin;
        if (vm_thread_affinity(live->qemu_pid, &e.affinity, err) < 0)
                return qc_err_wrap(err, "QEMU (pid %d)", (int)live->qemu_pid);
        if (for_emulator_threads(live, count_differ, &c, &e.n_threads, err) < 0)
                return -1;
        e.n_differ = c.differ;
        *ret = e;
        return 0;
}

static int pin_thread(pid_t tid, void *ud, struct qc_err *err)
{
        struct qc_err e2 = { 0 };

        if (placement_set_affinity(tid, ud, &e2) == 0)
                return 1;
        if (e2.code == ESRCH)
                return 0; /* gone */
        return qc_err_pass(err, &e2);
}

int vm_emulatorpin_set(struct vm_placement *p, const struct cpuset *cpus, size_t *ret_threads, struct qc_err *err)
{
        struct vm_live *live = p->live;
        size_t n = 0;

        if (vm_check_cpus(cpus, &p->online, err) < 0)
                return -1;
        if (live->cg && (p->usable & CG_MASK(CG_CPUSET))) {
                _cleanup_free_ char *s = cpuset_to_string(cpus);

                if (!s)
                        return qc_err_set(err, ENOMEM, "out of memory");
                if (cg_set_cpuset(cg_vm_emulator_fd(live->cg), s, NULL, err) < 0)
                        return qc_err_wrap(err, "cgroup %s/emulator", cg_vm_path(live->cg));
        }
        /* threads QEMU starts later (its thread pool) inherit the affinity of
         * the thread that makes them, so pinning all of today's is enough */
        if (for_emulator_threads(live, pin_thread, (void *)cpus, &n, err) < 0)
                return qc_err_wrap(err, "emulator threads of QEMU (pid %d)", (int)live->qemu_pid);
        live->spec->cpu.has_emulator_pin = true;
        live->spec->cpu.emulator_pin = *cpus;
        if (vm_placement_record(p, err) < 0)
                return -1;
        if (ret_threads)
                *ret_threads = n;
        return 0;
}

int vm_cpuset_set(struct vm_placement *p, const struct cpuset *cpus, size_t *ret_vcpus, size_t *ret_threads,
                  struct qc_err *err)
{
        struct vm_live *live = p->live;
        struct vm_spec *spec = live->spec;
        _cleanup_(qmp_cpu_list_freep) struct qmp_cpu_list *l = NULL;
        size_t nv = 0, nt = 0;

        if (vm_check_cpus(cpus, &p->online, err) < 0)
                return -1;
        if (qmp_query_cpus_fast(live->qmp, &l, err) < 0)
                return qc_err_wrap(err, "list vCPUs");
        spec->cpu.has_cpuset = true;
        spec->cpu.cpuset = *cpus;
        spec_placement_taken(&spec->cpu.placement, &spec->cpu.has_placement);
        for (size_t i = 0; i < l->n; i++) {
                unsigned vcpu = (unsigned)l->cpus[i].cpu_index;

                if (placement_vcpu_cpus(spec, vcpu) != &spec->cpu.cpuset)
                        continue; /* its own pin stays */
                if (placement_pin_vcpu(spec, p->usable & CG_MASK(CG_CPUSET) ? live->cg : NULL, p->usable, vcpu,
                                       (pid_t)l->cpus[i].thread_id, err) < 0)
                        return -1;
                nv++;
        }
        if (!spec->cpu.has_emulator_pin) {
                if (live->cg && placement_apply_emulator_pin(spec, live->cg, p->usable, err) < 0)
                        return -1;
                if (for_emulator_threads(live, pin_thread, (void *)cpus, &nt, err) < 0)
                        return qc_err_wrap(err, "emulator threads of QEMU (pid %d)", (int)live->qemu_pid);
        }
        if (vm_placement_record(p, err) < 0)
                return -1;
        if (ret_vcpus)
                *ret_vcpus = nv;
        if (ret_threads)
                *ret_threads = nt;
        return 0;
}
