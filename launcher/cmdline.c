/* VM spec -> qemu-system-x86_64 argv: machine, CPUs, memory, NUMA, monitors,
 * serial, boot, and the small devices. Disks and NICs: cmdline-devices.c. */
#include "cmdline.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../common/cpuset.h"
#include "../common/size.h"
#include "cmdline-internal.h"
#include "firmware.h"
#include "membackend.h"
#include "paths.h"

#define MiB (1024ull * 1024)

void qarg_take(struct qargs *a, char *s)
{
        if (!s) {
                a->oom = true;
                return;
        }
        if (strv_consume(&a->v, s) < 0)
                a->oom = true;
}

void qarg(struct qargs *a, const char *s)
{
        qarg_take(a, strdup(s));
}

void qargf(struct qargs *a, const char *fmt, ...)
{
        va_list ap;
        char *s;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        qarg_take(a, s);
}

void qcatf(struct qargs *a, char **s, const char *fmt, ...)
{
        va_list ap;
        char *tail, *joined;

        va_start(ap, fmt);
        if (vasprintf(&tail, fmt, ap) < 0)
                tail = NULL;
        va_end(ap);
        if (!tail) {
                a->oom = true;
                return;
        }
        if (asprintf(&joined, "%s%s", *s ? *s : "", tail) < 0) {
                a->oom = true;
                free(tail);
                return;
        }
        free(tail);
        free(*s);
        *s = joined;
}

const char *qopt_escape(struct qargs *a, const char *s)
{
        size_t n = 0;
        char *out, *p;

        for (const char *q = s; *q; q++)
                n += *q == ',' ? 2 : 1;
        out = malloc(n + 1);
        if (!out || strv_consume(&a->scratch, out) < 0) {
                a->oom = true;
                return "";
        }
        for (p = out; *s; s++) {
                *p++ = *s;
                if (*s == ',')
                        *p++ = ',';
        }
        *p = '\0';
        return out;
}

static bool policy_is_on(enum vm_feature_policy p)
{
        return p == VM_FEATURE_FORCE || p == VM_FEATURE_REQUIRE || p == VM_FEATURE_OPTIONAL;
}

/* The Hyper-V enlightenments virt-install enables for a Windows guest
 * (virtinst/domain/features.py, with the hypervclock timer: hv-time and
 * hv-stimer), in QEMU's spelling. KVM's alone: QEMU 7.2 under TCG gives
 * the guest none of them and refuses hv-vpindex ("kernel doesn't allow
 * setting HyperV VP_INDEX"), so they are left out there
 * (cmdline_tcg_note says so). */
static void add_hyperv(struct qargs *a, const struct vm_spec *spec, enum vm_accel accel, char **opt)
{
        if (!spec->hyperv || accel != VM_ACCEL_KVM)
                return;
        qcatf(a, opt, ",hv-relaxed=on,hv-vapic=on,hv-spinlocks=0x1fff,hv-vpindex=on,hv-runtime=on,hv-synic=on,"
                      "hv-stimer=on,hv-time=on,hv-frequencies=on,hv-tlbflush=on,hv-ipi=on");
}

/* The guest's clocks: the RTC's base and drift policy, and for an OS
 * profile under KVM the in-kernel PIT's lost-tick policy. libvirt writes
 * <timer name='pit' tickpolicy='delay'/> as this -global; delay is also
 * QEMU 7.2's default for kvm-pit, so it only says so. Under TCG there is
 * no kvm-pit: the -global would name a device QEMU does not make. */
static void add_clock(struct qargs *a, const struct vm_spec *spec, enum vm_accel accel)
{
        _cleanup_free_ char *rtc = NULL;

        if (spec->rtc.base == VM_RTC_LOCALTIME)
                qcatf(a, &rtc, "base=localtime");
        if (spec->rtc.driftfix == VM_RTC_DRIFTFIX_SLEW)
                qcatf(a, &rtc, "%sdriftfix=slew", rtc ? "," : "");
        if (rtc) {
                qarg(a, "-rtc");
                qarg_take(a, TAKE_PTR(rtc));
        }
        if (spec->os != VM_OS_GENERIC && accel == VM_ACCEL_KVM) {
                qarg(a, "-global");
                qarg(a, "kvm-pit.lost_tick_policy=delay");
        }
}

static int add_cpu(struct qargs *a, const struct vm_spec *spec, enum vm_accel accel, struct qc_err *err)
{
        _cleanup_free_ char *opt = NULL;

        switch (spec->cpu.mode) {
        case VM_CPU_HOST_PASSTHROUGH:
                /* `-cpu host` needs KVM. Under TCG the nearest thing is `max`:
                 * every feature TCG can emulate. */
                qcatf(a, &opt, "%s", accel == VM_ACCEL_KVM ? "host" : "max");
                break;
        case VM_CPU_HOST_MODEL:
                /* start expands host-model into a named model plus features
                 * under KVM before this runs (launcher/cpu-check.h: the spec
                 * becomes custom); left here are a host where no model fits
                 * and TCG, where QEMU cannot expand `host`: the host CPU (or
                 * `max`) with migratable=on, only features that can be
                 * migrated, which is what host-model is for. */
                qcatf(a, &opt, "%s,migratable=on", accel == VM_ACCEL_KVM ? "host" : "max");
                break;
        case VM_CPU_CUSTOM:
                if (!spec->cpu.model || !*spec->cpu.model)
                        return qc_err_set(err, EINVAL, "cpu.mode custom needs cpu.model (e.g. \"Haswell\")");
                qcatf(a, &opt, "%s", qopt_escape(a, spec->cpu.model));
                break;
        case _VM_CPU_MODE_MAX:
        case _VM_CPU_MODE_INVALID:
        default:
                return qc_err_set(err, EINVAL, "cpu.mode %d is not a CPU mode", (int)spec->cpu.mode);
        }
        add_hyperv(a, spec, accel, &opt);
        /* libvirt's policies: require/force/optional turn the feature on,
         * disable/forbid turn it off. QEMU only warns when the host lacks a
         * required feature; `enforce` would apply to the whole model too. */
        for (size_t i = 0; i < spec->cpu.n_features; i++)
                qcatf(a, &opt, ",%s=%s", qopt_escape(a, spec->cpu.features[i].name),
                      policy_is_on(spec->cpu.features[i].policy) ? "on" : "off");
        qarg(a, "-cpu");
        qarg_take(a, TAKE_PTR(opt));
        return 0;
}

static int add_smp(struct qargs *a, const struct vm_spec *spec, struct qc_err *err)
{
        unsigned vcpus = spec->cpu.vcpus, max = spec->cpu.max ? spec->cpu.max : spec->cpu.vcpus;
        unsigned s = spec->cpu.sockets, c = spec->cpu.cores, t = spec->cpu.threads;

        if (vcpus == 0 || vcpus > max)
                return qc_err_set(err, EINVAL, "cpu.vcpus must be 1..cpu.max (%u), got %u", max, vcpus);
        if (s == 0 || c == 0 || t == 0 || (unsigned long long)s * c * t != max)
                return qc_err_set(err, EINVAL,
                                  "cpu.topology %u sockets x %u cores x %u threads must equal cpu.max (%u): "
                                  "QEMU needs every possible vCPU to have a slot",
                                  s, c, t, max);
        qarg(a, "-smp");
        qargf(a, "%u,sockets=%u,cores=%u,threads=%u,maxcpus=%u", vcpus, s, c, t, max);
        return 0;
}

static int mib(uint64_t bytes, const char *what, uint64_t *ret, struct qc_err *err)
{
        if (bytes == 0 || bytes % MiB)
                return qc_err_set(err, EINVAL, "%s must be a positive whole number of MiB, got %llu bytes", what,
                                  (unsigned long long)bytes);
        *ret = bytes / MiB;
        return 0;
}

/* One memory backend, as mem_backend_build() makes it for hotplug too,
 * rendered as -object TYPE,id=ID,size=NM,key=value... */
static int add_backend(struct qargs *a, const struct vm_spec *spec, const char *id, uint64_t size_mib, bool prealloc,
                       struct qc_err *err)
{
        _cleanup_free_ char *opt = NULL;
        struct mem_backend b;

        if (mem_backend_build(spec, id, size_mib * MiB, prealloc, &b, err) < 0)
                return -1;
        qcatf(a, &opt, "%s,id=%s,size=%lluM", b.qom_type, b.id, (unsigned long long)size_mib);
        for (size_t i = 0; i < b.n_props; i++) {
                const struct mem_prop *p = &b.props[i];
                char sz[32];

                switch (p->type) {
                case MEM_PROP_STR:
                        qcatf(a, &opt, ",%s=%s", p->key, qopt_escape(a, p->str));
                        break;
                case MEM_PROP_BOOL:
                        qcatf(a, &opt, ",%s=%s", p->key, p->b ? "on" : "off");
                        break;
                case MEM_PROP_SIZE:
                        format_size(p->size, sz, sizeof sz);
                        qcatf(a, &opt, ",%s=%s", p->key, sz);
                        break;
                case MEM_PROP_NODES: {
                        int last = cpuset_last(p->nodes);

                        /* a list: QEMU takes one key per range */
                        for (int i0 = 0; i0 <= last; i0++) {
                                int j = i0;

                                if (!cpuset_isset(p->nodes, (unsigned)i0))
                                        continue;
                                while (j + 1 <= last && cpuset_isset(p->nodes, (unsigned)j + 1))
                                        j++;
                                if (i0 == j)
                                        qcatf(a, &opt, ",%s=%d", p->key, i0);
                                else
                                        qcatf(a, &opt, ",%s=%d-%d", p->key, i0, j);
                                i0 = j;
                        }
                        break;
                }
                default:
                        break;
                }
        }
        qarg(a, "-object");
        qarg_take(a, TAKE_PTR(opt));
        return 0;
}

/* Memory `setmem` plugged into the last run (memory.plugged) comes back at
 * boot: as one DIMM (dimm0), or as the virtio-mem device's requested-size.
 * The virtio-mem device (vmem0) is always there when there is room, so that
 * setmem only changes its requested-size. */
static int add_hotplugged(struct qargs *a, const struct vm_spec *spec, uint64_t size, uint64_t max,
                          struct qc_err *err)
{
        uint64_t plugged = 0;

        if (spec->memory.plugged && mib(spec->memory.plugged, "memory.plugged", &plugged, err) < 0)
                return -1;
        if (plugged && size + plugged > max)
                return qc_err_set(err, EINVAL, "memory.plugged (%lluM) does not fit between memory.size and memory.max",
                                  (unsigned long long)plugged);
        if (spec->memory.hotplug == VM_MEM_HOTPLUG_VIRTIO_MEM && max > size) {
                /* virtio-mem preallocates per block itself; prealloc=on on
                 * its backend would take all of maxmem at once */
                if (add_backend(a, spec, "mem-vmem0", max - size, false, err) < 0)
                        return -1;
                qarg(a, "-device");
                qargf(a, "virtio-mem-pci,id=vmem0,memdev=mem-vmem0,requested-size=%lluM", (unsigned long long)plugged);
        } else if (plugged) {
                if (!spec->memory.slots)
                        return qc_err_set(err, EINVAL, "memory.plugged needs a DIMM slot: set memory.slots");
                if (add_backend(a, spec, "mem-dimm0", plugged, true, err) < 0)
                        return -1;
                qarg(a, "-device");
                qarg(a, "pc-dimm,id=dimm0,memdev=mem-dimm0");
        }
        return 0;
}

static int add_memory(struct qargs *a, const struct vm_spec *spec, unsigned maxcpus, struct qc_err *err)
{
        uint64_t size = 0, max = 0, sum = 0;

        if (mib(spec->memory.size, "memory.size", &size, err) < 0)
                return -1;
        qarg(a, "-m");
        if (spec->memory.max && spec->memory.max != spec->memory.size) {
                if (spec->memory.max < spec->memory.size)
                        return qc_err_set(err, EINVAL, "memory.max must not be below memory.size");
                if (mib(spec->memory.max, "memory.max", &max, err) < 0)
                        return -1;
                if (spec->memory.slots)
                        qargf(a, "size=%lluM,slots=%u,maxmem=%lluM", (unsigned long long)size, spec->memory.slots,
                              (unsigned long long)max);
                else /* virtio-mem needs room (maxmem) but no DIMM slots */
                        qargf(a, "size=%lluM,maxmem=%lluM", (unsigned long long)size, (unsigned long long)max);
        } else {
                qargf(a, "size=%lluM", (unsigned long long)size);
        }

        if (spec->numa.n_cells == 0) {
                if (add_backend(a, spec, "ram0", size, true, err) < 0)
                        return -1;
                return add_hotplugged(a, spec, size, max, err);
        }
        for (size_t i = 0; i < spec->numa.n_cells; i++) {
                char id[32], what[48];
                uint64_t cell = 0;

                snprintf(what, sizeof what, "numa.cells[%zu].memory", i);
                if (mib(spec->numa.cells[i].memory, what, &cell, err) < 0)
                        return -1;
                sum += cell;
                snprintf(id, sizeof id, "ram-node%zu", i);
                if (add_backend(a, spec, id, cell, true, err) < 0)
                        return -1;
                qarg(a, "-numa");
                qargf(a, "node,nodeid=%zu,memdev=%s", i, id);
        }
        if (sum != size)
                return qc_err_set(err, EINVAL, "numa.cells memory adds up to %lluM, but memory.size is %lluM",
                                  (unsigned long long)sum, (unsigned long long)size);
        /* QEMU 7.2 wants every possible vCPU (up to maxcpus) placed in a node,
         * or it warns that partial mappings will stop working. vCPUs the
         * cells do not name go to cell 0. The slot of vCPU i follows QEMU's
         * x86_topo_ids_from_idx(): threads fastest, then cores, then sockets. */
        for (unsigned cpu = 0; cpu < maxcpus; cpu++) {
                size_t node = 0;
                unsigned t = spec->cpu.threads, c = spec->cpu.cores;

                for (size_t i = 0; i < spec->numa.n_cells; i++)
                        if (cpuset_isset(&spec->numa.cells[i].cpus, cpu)) {
                                node = i;
                                break;
                        }
                qarg(a, "-numa");
                qargf(a, "cpu,node-id=%zu,socket-id=%u,core-id=%u,thread-id=%u", node, cpu / (c * t), (cpu / t) % c,
                      cpu % t);
        }
        for (size_t i = 0; i < spec->numa.n_cells; i++) {
                int last = cpuset_last(&spec->numa.cells[i].cpus);

                if (last >= (int)maxcpus)
                        return qc_err_set(err, EINVAL, "numa.cells[%zu].cpus names vCPU %d, but cpu.max is %u", i,
                                          last, maxcpus);
        }
        return add_hotplugged(a, spec, size, max, err);
}

static void add_monitor(struct qargs *a, const char *rundir, const char *id, const char *sock, int fd)
{
        qarg(a, "-chardev");
        if (fd > 2)
                qargf(a, "socket,id=%s,fd=%d,server=on,wait=off", id, fd);
        else
                qargf(a, "socket,id=%s,path=%s/%s,server=on,wait=off", id, qopt_escape(a, rundir), sock);
        qarg(a, "-mon");
        qargf(a, "chardev=%s,mode=control", id);
}

/* A log QEMU writes to a file descriptor it was given: fd set 1, which
 * QEMU's file opening takes as the path /dev/fdset/1. */
#define SERIAL_FDSET "/dev/fdset/1"
static void add_log_fd(struct qargs *a, int fd)
{
        qarg(a, "-add-fd");
        qargf(a, "fd=%d,set=1", fd);
}

static int add_serial(struct qargs *a, const struct vm_spec *spec, const struct cmdline_ctx *ctx, struct qc_err *err)
{
        switch (ctx->serial) {
        case CMDLINE_SERIAL_SPEC:
                if (spec->serial == VM_SERIAL_NONE)
                        return 0;
                /* serial.log is a pipe to the supervisor (serial-log.h);
                 * logappend=on, because QEMU truncates a log it opens
                 * without, and a pipe cannot be truncated (EINVAL) */
                if (ctx->console_fd > 2 && ctx->serial_log_fd > 2) {
                        add_log_fd(a, ctx->serial_log_fd);
                        qarg(a, "-chardev");
                        qargf(a, "socket,id=serial0,fd=%d,server=on,wait=off,logfile=" SERIAL_FDSET ",logappend=on",
                              ctx->console_fd);
                        break;
                }
                if (ctx->serial_log_fd > 2) {
                        add_log_fd(a, ctx->serial_log_fd);
                        qarg(a, "-chardev");
                        qargf(a,
                              "socket,id=serial0,path=%s/" VM_RUNDIR_CONSOLE
                              ",server=on,wait=off,logfile=" SERIAL_FDSET ",logappend=on",
                              qopt_escape(a, ctx->rundir));
                        break;
                }
                qarg(a, "-chardev");
                qargf(a, "socket,id=serial0,path=%s/" VM_RUNDIR_CONSOLE ",server=on,wait=off,logfile=%s/" VM_RUNDIR_SERIAL_LOG,
                      qopt_escape(a, ctx->rundir), qopt_escape(a, ctx->rundir));
                break;
        case CMDLINE_SERIAL_STDIO:
                /* signal=off: ^C on a terminal goes to the guest, not to QEMU */
                qarg(a, "-chardev");
                qarg(a, "stdio,id=serial0,signal=off");
                break;
        case CMDLINE_SERIAL_FILE:
                if (ctx->serial_log_fd > 2) {
                        add_log_fd(a, ctx->serial_log_fd);
                        qarg(a, "-chardev");
                        qarg(a, "file,id=serial0,path=" SERIAL_FDSET);
                        break;
                }
                if (!ctx->serial_file)
                        return qc_err_set(err, EINVAL, "serial to a file, but no file was given");
                qarg(a, "-chardev");
                qargf(a, "file,id=serial0,path=%s", qopt_escape(a, ctx->serial_file));
                break;
        default:
                return qc_err_set(err, EINVAL, "unknown serial mode %d", (int)ctx->serial);
        }
        qarg(a, "-serial");
        qarg(a, "chardev:serial0");
        return 0;
}

static void add_boot(struct qargs *a, const struct vm_spec *spec)
{
        if (spec->boot.kernel) {
                qarg(a, "-kernel");
                qarg(a, spec->boot.kernel);
        }
        if (spec->boot.initrd) {
                qarg(a, "-initrd");
                qarg(a, spec->boot.initrd);
        }
        if (spec->boot.cmdline) {
                qarg(a, "-append");
                qarg(a, spec->boot.cmdline);
        }
        if (spec->boot.order || spec->boot.once) {
                _cleanup_free_ char *b = NULL;

                if (spec->boot.order)
                        qcatf(a, &b, "order=%s", qopt_escape(a, spec->boot.order));
                /* QEMU restores `order` at the first reset (or its default) */
                if (spec->boot.once)
                        qcatf(a, &b, "%sonce=%s", spec->boot.order ? "," : "", qopt_escape(a, spec->boot.once));
                qarg(a, "-boot");
                qarg_take(a, TAKE_PTR(b));
        }
}

/* UEFI: the firmware's code read-only and the VM's own variables, as
 * -blockdev nodes on the machine's pflash0/pflash1 (what libvirt does; a
 * -drive if=pflash would probe and lock the same). Secure Boot firmware
 * keeps its variables safe in SMM: smm=on, and the flash writable from
 * SMM only (cfi.pflash01 secure=on). */
static int add_firmware(struct qargs *a, const struct vm_spec *spec, const struct cmdline_ctx *ctx, char **machine,
                        struct qc_err *err)
{
        const struct fw_desc *fw = ctx->firmware;

        if (spec->firmware == VM_FIRMWARE_BIOS)
                return 0;
        if (!fw || !fw->code || !fw->vars || (!ctx->nvram && ctx->nvram_fd <= 2))
                return qc_err_set(err, EINVAL, "firmware %s: no firmware descriptor or NVRAM was chosen",
                                  vm_firmware_to_string(spec->firmware));
        qarg(a, "-blockdev");
        qargf(a, "driver=file,node-name=fw-code-file,filename=%s,read-only=on", qopt_escape(a, fw->code));
        qarg(a, "-blockdev");
        qargf(a, "driver=%s,node-name=fw-code,file=fw-code-file,read-only=on", qopt_escape(a, fw->code_format));
        if (ctx->nvram_fd > 2) {
                qarg(a, "-add-fd");
                qargf(a, "fd=%d,set=2", ctx->nvram_fd);
        }
        qarg(a, "-blockdev");
        if (ctx->nvram_fd > 2)
                qarg(a, "driver=file,node-name=fw-vars-file,filename=/dev/fdset/2");
        else
                qargf(a, "driver=file,node-name=fw-vars-file,filename=%s", qopt_escape(a, ctx->nvram));
        qarg(a, "-blockdev");
        qargf(a, "driver=%s,node-name=fw-vars,file=fw-vars-file", qopt_escape(a, fw->vars_format));
        qcatf(a, machine, ",pflash0=fw-code,pflash1=fw-vars");
        if (fw->flags & FW_REQUIRES_SMM) {
                qcatf(a, machine, ",smm=on");
                qarg(a, "-global");
                qarg(a, "driver=cfi.pflash01,property=secure,value=on");
        }
        return 0;
}

/* The TPM: swtpm (started by the supervisor before QEMU) listens on
 * swtpm.sock; QEMU's emulator backend talks to it over that control channel
 * and hands it the data channel. CRB is the interface q35 and Windows 11
 * expect; the pc machine takes TIS. */
static void add_tpm(struct qargs *a, const struct vm_spec *spec, const struct cmdline_ctx *ctx)
{
        if (!spec->tpm)
                return;
        qarg(a, "-chardev");
        qargf(a, "socket,id=tpm0-ctrl,path=%s/" VM_RUNDIR_SWTPM, qopt_escape(a, ctx->rundir));
        qarg(a, "-tpmdev");
        qarg(a, "emulator,id=tpm0,chardev=tpm0-ctrl");
        qarg(a, "-device");
        qargf(a, "%s,tpmdev=tpm0", spec->machine == VM_MACHINE_PC ? "tpm-tis" : "tpm-crb");
}

/* Shared folders: virtiofs through the supervisor's virtiofsd (its
 * vhost-user socket in the state dir), 9p served by QEMU itself. */
static void add_shares(struct qargs *a, const struct vm_spec *spec, const struct cmdline_ctx *ctx)
{
        for (size_t i = 0; i < spec->n_shares; i++) {
                const struct vm_share *sh = &spec->shares[i];

                if (sh->mode == VM_SHARE_VIRTIOFS) {
                        qarg(a, "-chardev");
                        qargf(a, "socket,id=fs%zu,path=%s/" VM_RUNDIR_VIRTIOFS_FMT, i, qopt_escape(a, ctx->rundir), i);
                        qarg(a, "-device");
                        qargf(a, "vhost-user-fs-pci,id=share%zu,chardev=fs%zu,tag=%s", i, i, sh->tag);
                } else {
                        qarg(a, "-fsdev");
                        qargf(a, "local,id=fsdev%zu,path=%s,security_model=none%s", i, qopt_escape(a, sh->path),
                              sh->readonly ? ",readonly=on" : "");
                        qarg(a, "-device");
                        qargf(a, "virtio-9p-pci,id=share%zu,fsdev=fsdev%zu,mount_tag=%s", i, i, sh->tag);
                }
        }
}

static void add_vsock(struct qargs *a, const struct vm_spec *spec)
{
        if (!spec->vsock.cid)
                return;
        qarg(a, "-device");
        qargf(a, "vhost-vsock-pci,id=vsock0,guest-cid=%u", spec->vsock.cid);
}

static void add_small_devices(struct qargs *a, const struct vm_spec *spec)
{
        if (spec->memory.balloon) {
                _cleanup_free_ char *opt = NULL;

                qcatf(a, &opt, "virtio-balloon-pci,id=balloon0");
                if (spec->memory.balloon_deflate_on_oom)
                        qcatf(a, &opt, ",deflate-on-oom=on");
                if (spec->memory.balloon_free_page_reporting)
                        qcatf(a, &opt, ",free-page-reporting=on");
                /* a device property too, not only a live qom-set */
                if (spec->memory.balloon_stats_interval)
                        qcatf(a, &opt, ",guest-stats-polling-interval=%u", spec->memory.balloon_stats_interval);
                qarg(a, "-device");
                qarg_take(a, TAKE_PTR(opt));
        }
        if (spec->panic) {
                qarg(a, "-device");
                qarg(a, "pvpanic");
        }
        if (spec->debug_exit) {
                /* the guest writes its status to port 0xf4; QEMU exits (v << 1) | 1 */
                qarg(a, "-device");
                qarg(a, "isa-debug-exit,iobase=0xf4,iosize=0x04");
        }
}

/* The guest agent's port: qemu-ga in the guest opens
 * /dev/virtio-ports/org.qemu.guest_agent.0, qemuctl connects to qga.sock. */
static void add_agent(struct qargs *a, const struct vm_spec *spec, const struct cmdline_ctx *ctx)
{
        if (!spec->guest_agent)
                return;
        qarg(a, "-chardev");
        if (ctx->agent_fd > 2)
                qargf(a, "socket,id=qga0,fd=%d,server=on,wait=off", ctx->agent_fd);
        else
                qargf(a, "socket,id=qga0,path=%s/" VM_RUNDIR_AGENT ",server=on,wait=off", qopt_escape(a, ctx->rundir));
        qarg(a, "-device");
        qarg(a, "virtio-serial-pci,id=virtio-serial0");
        qarg(a, "-device");
        qarg(a, "virtserialport,bus=virtio-serial0.0,chardev=qga0,name=org.qemu.guest_agent.0");
}

static bool uses_bridge_helper(const struct vm_spec *spec)
{
        for (size_t i = 0; i < spec->n_nets; i++)
                if (spec->nets[i].type == VM_NET_BRIDGE)
                        return true;
        return false;
}

char *cmdline_accel_note(const struct vm_spec *spec, enum vm_accel resolved, const char *why)
{
        char *note = NULL;

        if (spec->accel != VM_ACCEL_AUTO || resolved != VM_ACCEL_TCG ||
            (spec->cpu.mode != VM_CPU_HOST_PASSTHROUGH && spec->cpu.mode != VM_CPU_HOST_MODEL))
                return NULL;
        /* add_cpu's choice under TCG, said out loud */
        if (asprintf(&note, "accel auto resolved to tcg (KVM unusable here%s%s): cpu.mode %s runs as -cpu %s",
                     why && *why ? ": " : "", why && *why ? why : "", vm_cpu_mode_to_string(spec->cpu.mode),
                     spec->cpu.mode == VM_CPU_HOST_MODEL ? "max,migratable=on" : "max") < 0)
                return NULL;
        return note;
}

char *cmdline_tcg_note(const struct vm_spec *spec, enum vm_accel resolved)
{
        char *note = NULL;

        if (!spec->hyperv || resolved != VM_ACCEL_TCG)
                return NULL;
        /* add_hyperv's choice, said out loud */
        if (asprintf(&note,
                     "hyperv%s%s%s: the Hyper-V enlightenments are KVM's and this VM runs under TCG (QEMU gives a "
                     "TCG guest none of them), so -cpu gets no hv-* flags",
                     spec->os != VM_OS_GENERIC ? " (os \"" : "",
                     spec->os != VM_OS_GENERIC ? vm_os_to_string(spec->os) : "",
                     spec->os != VM_OS_GENERIC ? "\")" : "") < 0)
                return NULL;
        return note;
}

void cmdline_ctx_default(struct cmdline_ctx *ctx, const struct vm_spec *spec, const char *rundir)
{
        *ctx = (struct cmdline_ctx){
                .rundir = rundir,
                .paused = true,
                .serial = CMDLINE_SERIAL_SPEC,
                .accel = spec->accel,
                .serial_log_fd = spec->serial == VM_SERIAL_LOG ? CMDLINE_SERIAL_LOG_FD : 0,
        };
}

int cmdline_build(const struct vm_spec *spec, const struct cmdline_ctx *ctx, char ***ret_argv, struct qc_err *err)
{
        _cleanup_(qargs_done) struct qargs a_ = {};
        struct qargs *a = &a_;
        unsigned maxcpus = spec->cpu.max ? spec->cpu.max : spec->cpu.vcpus;
        _cleanup_free_ char *machine = NULL;
        char **argv;
        if (!spec->name || !*spec->name)
                return qc_err_set(err, EINVAL, "the VM has no name");
        if (!ctx->rundir || !*ctx->rundir)
                return qc_err_set(err, EINVAL, "no state dir given for the VM's sockets");
        if (ctx->accel != VM_ACCEL_KVM && ctx->accel != VM_ACCEL_TCG)
                return qc_err_set(err, EINVAL, "accel must be resolved to kvm or tcg before building the command line");

        qarg(a, spec->qemu.binary ? spec->qemu.binary : "qemu-system-x86_64");
        /* debug-threads names vCPU threads "CPU N/KVM" or "CPU N/TCG": that is
         * how we find them for pinning */
        qarg(a, "-name");
        qargf(a, "guest=%s,debug-threads=on", qopt_escape(a, spec->name));
        qarg(a, "-nodefaults");
        qarg(a, "-no-user-config");
        qarg(a, "-msg");
        qarg(a, "timestamp=on");

        qcatf(a, &machine, "%s", spec->machine == VM_MACHINE_PC ? "pc" : "q35");
        if (!spec->memory.merge)
                qcatf(a, &machine, ",mem-merge=off");
        if (spec->numa.n_cells == 0)
                qcatf(a, &machine, ",memory-backend=ram0");
        /* QEMU 7.2 takes hpet=off on pc and q35 (-no-hpet is its old spelling) */
        if (!spec->hpet)
                qcatf(a, &machine, ",hpet=off");
        if (add_firmware(a, spec, ctx, &machine, err) < 0)
                return -1;
        qarg(a, "-machine");
        qarg_take(a, TAKE_PTR(machine));
        qarg(a, "-accel");
        /* multi-threaded TCG: one host thread per vCPU, as under KVM */
        qarg(a, ctx->accel == VM_ACCEL_KVM ? "kvm" : "tcg,thread=multi");
        add_clock(a, spec, ctx->accel);

        if (add_cpu(a, spec, ctx->accel, err) < 0 || add_smp(a, spec, err) < 0 ||
            add_memory(a, spec, maxcpus, err) < 0)
                return -1;
        if (spec->memory.locked) {
                qarg(a, "-overcommit");
                qarg(a, "mem-lock=on");
        }

        add_monitor(a, ctx->rundir, "ctl", VM_RUNDIR_CTL, ctx->qmp_fd);
        add_monitor(a, ctx->rundir, "qmp-events", VM_RUNDIR_EVENTS, ctx->events_fd);
        add_monitor(a, ctx->rundir, "relay", VM_RUNDIR_RELAY, ctx->relay_fd);
        if (add_serial(a, spec, ctx, err) < 0)
                return -1;
        add_agent(a, spec, ctx);

        if (spec->security.sandbox) {
                /* spawn=deny would kill QEMU when -netdev bridge runs
                 * qemu-bridge-helper (fork+exec, SIGSYS) */
                qarg(a, "-sandbox");
                qargf(a, "on,obsolete=deny,elevateprivileges=deny,spawn=%s,resourcecontrol=deny",
                      uses_bridge_helper(spec) ? "allow" : "deny");
        }

        add_boot(a, spec);
        if (cmdline_add_disks(a, spec, err) < 0 || cmdline_add_seed(a, spec, ctx->rundir, err) < 0 ||
            cmdline_add_nets(a, spec, err) < 0)
                return -1;
        cmdline_add_display(a, spec);
        add_small_devices(a, spec);
        add_tpm(a, spec, ctx);
        add_vsock(a, spec);
        add_shares(a, spec, ctx);
        if (ctx->paused)
                qarg(a, "-S");
        if (ctx->incoming) {
                qarg(a, "-incoming");
                qarg(a, "defer");
        }
        for (size_t i = 0; spec->qemu.args && spec->qemu.args[i]; i++)
                qarg(a, spec->qemu.args[i]);

        if (a->oom)
                return qc_err_sys(err, ENOMEM, "building the QEMU command line");
        argv = strv_steal(&a->v);
        if (!argv)
                return qc_err_sys(err, ENOMEM, "building the QEMU command line");
        *ret_argv = argv;
        return 0;
}
