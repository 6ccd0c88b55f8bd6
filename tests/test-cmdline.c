/* launcher/cmdline: argv from hand-built specs (the samples' goldens are in
 * test-golden.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/strv.h"
#include "launcher/cmdline.h"
#include "launcher/membackend.h"
#include "launcher/spec.h"
#include "tests/tap.h"

static char *kernel = "vmlinuz", *initrd = "initrd.img", *append = "console=ttyS0";

static void base_spec(struct vm_spec *s)
{
        *s = (struct vm_spec){
                .name = "t1",
                .machine = VM_MACHINE_Q35,
                .accel = VM_ACCEL_TCG,
                .serial = VM_SERIAL_LOG,
        };
        s->cpu.mode = VM_CPU_HOST_PASSTHROUGH;
        s->cpu.vcpus = s->cpu.max = 1;
        s->cpu.sockets = s->cpu.cores = s->cpu.threads = 1;
        s->memory.size = 256ull << 20;
        s->memory.merge = true;
        s->hpet = true;
}

static char **build(const struct vm_spec *s, struct qc_err *err)
{
        struct cmdline_ctx ctx;
        char **argv = NULL;

        cmdline_ctx_default(&ctx, s, "/run/q/t1");
        if (ctx.accel == VM_ACCEL_AUTO)
                ctx.accel = VM_ACCEL_TCG;
        if (cmdline_build(s, &ctx, &argv, err) < 0)
                return NULL;
        return argv;
}

/* The value after option opt, the nth time opt appears (0-based). */
static const char *optval(char **argv, const char *opt, int nth)
{
        for (size_t i = 0; argv && argv[i]; i++)
                if (strcmp(argv[i], opt) == 0 && argv[i + 1] && nth-- == 0)
                        return argv[i + 1];
        return NULL;
}

static int count(char **argv, const char *opt)
{
        int n = 0;

        for (size_t i = 0; argv && argv[i]; i++)
                n += strcmp(argv[i], opt) == 0;
        return n;
}

static int has(char **argv, const char *opt, const char *val)
{
        for (size_t i = 0; argv && argv[i]; i++)
                if (strcmp(argv[i], opt) == 0 && argv[i + 1] && strcmp(argv[i + 1], val) == 0)
                        return 1;
        return 0;
}

static void test_minimal(void)
{
        static const char *const want[] = {
                "qemu-system-x86_64", "-name", "guest=t1,debug-threads=on", "-nodefaults", "-no-user-config",
                "-msg", "timestamp=on", "-machine", "q35,memory-backend=ram0", "-accel", "tcg,thread=multi",
                "-cpu", "max", "-smp", "1,sockets=1,cores=1,threads=1,maxcpus=1", "-m", "size=256M",
                "-object", "memory-backend-ram,id=ram0,size=256M",
                "-chardev", "socket,id=ctl,path=/run/q/t1/ctl.sock,server=on,wait=off",
                "-mon", "chardev=ctl,mode=control",
                "-chardev", "socket,id=qmp-events,path=/run/q/t1/events.sock,server=on,wait=off",
                "-mon", "chardev=qmp-events,mode=control",
                "-chardev", "socket,id=relay,path=/run/q/t1/relay.sock,server=on,wait=off",
                "-mon", "chardev=relay,mode=control",
                "-add-fd", "fd=3,set=1",
                "-chardev", "socket,id=serial0,path=/run/q/t1/console.sock,server=on,wait=off,logfile=/dev/fdset/1,logappend=on",
                "-serial", "chardev:serial0",
                "-kernel", "vmlinuz", "-initrd", "initrd.img", "-append", "console=ttyS0",
                "-display", "none", "-S", NULL,
        };
        struct vm_spec s;
        struct qc_err err = {};
        char **argv;
        size_t i;

        base_spec(&s);
        s.boot.kernel = kernel;
        s.boot.initrd = initrd;
        s.boot.cmdline = append;
        argv = build(&s, &err);
        ok(argv, "minimal spec builds (%s)", err.msg);
        for (i = 0; argv && want[i] && argv[i]; i++)
                if (strcmp(argv[i], want[i]) != 0)
                        break;
        ok(argv && !want[i] && !argv[i], "minimal argv exactly as expected");
        if (argv && (want[i] || argv[i]))
                tap_diag("differs at %zu: got \"%s\", want \"%s\"", i, argv[i] ? argv[i] : "(end)",
                         want[i] ? want[i] : "(end)");
        strv_free(argv);

        /* every switch of the ctx */
        {
                struct cmdline_ctx ctx = { .rundir = "/r", .serial = CMDLINE_SERIAL_STDIO, .accel = VM_ACCEL_KVM };

                argv = NULL;
                is_int(cmdline_build(&s, &ctx, &argv, &err), 0, "ctx: stdio, kvm, not paused");
                ok(has(argv, "-chardev", "stdio,id=serial0,signal=off"), "serial on stdio");
                ok(has(argv, "-accel", "kvm") && has(argv, "-cpu", "host"), "kvm: -accel kvm, -cpu host");
                is_int(count(argv, "-S"), 0, "not paused: no -S");
                strv_free(argv);
                ctx.serial = CMDLINE_SERIAL_FILE;
                ctx.serial_file = "/tmp/a,b.log";
                argv = NULL;
                is_int(cmdline_build(&s, &ctx, &argv, &err), 0, "ctx: serial to a file");
                ok(has(argv, "-chardev", "file,id=serial0,path=/tmp/a,,b.log"), "file path with a comma is escaped");
                strv_free(argv);
                ctx.accel = VM_ACCEL_AUTO;
                argv = NULL;
                is_int(cmdline_build(&s, &ctx, &argv, &err), -1, "accel auto refused");
                ok(strstr(err.msg, "resolved"), "says accel must be resolved: %s", err.msg);
                ok(!argv, "no output on failure");
        }
        s.serial = VM_SERIAL_NONE;
        argv = build(&s, &err);
        is_int(count(argv, "-serial"), 0, "serial none: no -serial");
        strv_free(argv);
}

static void test_cpu(void)
{
        struct vm_cpu_feature feats[] = {
                { .name = "vmx", .policy = VM_FEATURE_REQUIRE },    { .name = "hle", .policy = VM_FEATURE_DISABLE },
                { .name = "pcid", .policy = VM_FEATURE_OPTIONAL }, { .name = "rtm", .policy = VM_FEATURE_FORBID },
                { .name = "x2apic", .policy = VM_FEATURE_FORCE },
        };
        struct vm_spec s;
        struct qc_err err = {};
        char **argv;

        base_spec(&s);
        s.cpu.mode = VM_CPU_CUSTOM;
        s.cpu.model = "Haswell";
        s.cpu.features = feats;
        s.cpu.n_features = ELEMENTSOF(feats);
        argv = build(&s, &err);
        is_str(optval(argv, "-cpu", 0), "Haswell,vmx=on,hle=off,pcid=on,rtm=off,x2apic=on",
               "custom model with features in order");
        strv_free(argv);
        s.cpu.mode = VM_CPU_HOST_MODEL;
        s.cpu.n_features = 1;
        argv = build(&s, &err);
        is_str(optval(argv, "-cpu", 0), "max,migratable=on,vmx=on", "host-model under TCG");
        strv_free(argv);
        s.cpu.mode = VM_CPU_CUSTOM;
        s.cpu.model = NULL;
        ok(!build(&s, &err), "custom without model refused: %s", err.msg);

        base_spec(&s);
        s.cpu.vcpus = 4;
        s.cpu.max = 10;
        s.cpu.sockets = 1;
        s.cpu.cores = 10;
        argv = build(&s, &err);
        is_str(optval(argv, "-smp", 0), "4,sockets=1,cores=10,threads=1,maxcpus=10", "-smp with hotplug room");
        strv_free(argv);
        s.cpu.cores = 4;
        ok(!build(&s, &err) && strstr(err.msg, "topology"), "topology not matching max refused: %s", err.msg);
}

static void test_memory(void)
{
        struct vm_numa_cell cells[2] = {};
        struct vm_spec s;
        struct qc_err err = {};
        char **argv;

        base_spec(&s);
        s.memory.max = 1ull << 30;
        s.memory.slots = 4;
        s.memory.merge = false;
        s.memory.locked = true;
        s.memory.hugepages = 2ull << 20;
        cpuset_parse("0-1", &s.numa.nodeset, NULL);
        s.numa.has_nodeset = true;
        s.numa.policy = VM_NUMA_INTERLEAVE;
        argv = build(&s, &err);
        ok(argv, "hugepages + hotplug + binding build (%s)", err.msg);
        is_str(optval(argv, "-m", 0), "size=256M,slots=4,maxmem=1024M", "-m with slots and maxmem");
        is_str(optval(argv, "-machine", 0), "q35,mem-merge=off,memory-backend=ram0", "machine: no KSM, backend");
        is_str(optval(argv, "-object", 0),
               "memory-backend-memfd,id=ram0,size=256M,hugetlb=on,hugetlbsize=2M,prealloc=on,merge=off,"
               "host-nodes=0-1,policy=interleave",
               "hugepage backend bound to host nodes");
        ok(has(argv, "-overcommit", "mem-lock=on"), "locked: -overcommit mem-lock=on");
        strv_free(argv);

        s.memory.hugepages_path = "/dev/hugepages";
        cpuset_parse("0,2-3", &s.numa.nodeset, NULL);
        s.numa.policy = VM_NUMA_STRICT;
        s.memory.plugged = 128ull << 20;
        argv = build(&s, &err);
        is_str(optval(argv, "-object", 0),
               "memory-backend-file,id=ram0,size=256M,mem-path=/dev/hugepages,prealloc=on,merge=off,"
               "host-nodes=0,host-nodes=2-3,policy=bind",
               "hugetlbfs file backend, node list as ranges");
        is_str(optval(argv, "-object", 1),
               "memory-backend-file,id=mem-dimm0,size=128M,mem-path=/dev/hugepages,prealloc=on,merge=off,"
               "host-nodes=0,host-nodes=2-3,policy=bind",
               "plugged memory comes back as a DIMM backend");
        ok(has(argv, "-device", "pc-dimm,id=dimm0,memdev=mem-dimm0"), "and its pc-dimm");
        strv_free(argv);

        /* setmem's object-add arguments come from the same builder */
        {
                struct mem_backend b;
                json_object *props;

                is_int(mem_backend_build(&s, "mem-dimm1", 128ull << 20, true, &b, &err), 0, "hotplug backend builds");
                is_str(b.qom_type, "memory-backend-file", "hotplug: the boot backend's type");
                props = mem_backend_qmp_props(&b);
                is_str(props ? json_object_to_json_string_ext(props, JSON_C_TO_STRING_PLAIN |
                                                                          JSON_C_TO_STRING_NOSLASHESCAPE)
                             : NULL,
                       "{\"mem-path\":\"/dev/hugepages\",\"prealloc\":true,\"merge\":false,"
                       "\"host-nodes\":[0,2,3],\"policy\":\"bind\"}",
                       "hotplug: the boot backend's properties, as QMP takes them");
                json_object_put(props);
                s.memory.hugepages_path = NULL;
                s.memory.merge = true;
                is_int(mem_backend_build(&s, "mem-dimm1", 128ull << 20, true, &b, &err), 0, "memfd hotplug backend");
                is_str(b.qom_type, "memory-backend-memfd", "hugepages without a path: memfd");
                props = mem_backend_qmp_props(&b);
                is_str(props ? json_object_to_json_string_ext(props, JSON_C_TO_STRING_PLAIN) : NULL,
                       "{\"hugetlb\":true,\"hugetlbsize\":2097152,\"prealloc\":true,\"host-nodes\":[0,2,3],"
                       "\"policy\":\"bind\"}",
                       "memfd: hugetlb and its page size in bytes");
                json_object_put(props);
        }

        base_spec(&s);
        s.memory.max = 1ull << 30;
        s.memory.hotplug = VM_MEM_HOTPLUG_VIRTIO_MEM;
        s.memory.plugged = 256ull << 20;
        argv = build(&s, &err);
        is_str(optval(argv, "-m", 0), "size=256M,maxmem=1024M", "virtio-mem: maxmem, no slots");
        is_str(optval(argv, "-object", 1), "memory-backend-ram,id=mem-vmem0,size=768M", "virtio-mem backend = room");
        ok(has(argv, "-device", "virtio-mem-pci,id=vmem0,memdev=mem-vmem0,requested-size=256M"),
           "virtio-mem requested-size = plugged");
        strv_free(argv);
        s.memory.plugged = 1ull << 30;
        ok(!build(&s, &err), "plugged beyond max refused: %s", err.msg);

        base_spec(&s);
        s.memory.size = (256ull << 20) + 4096;
        ok(!build(&s, &err) && strstr(err.msg, "MiB"), "size not in whole MiB refused: %s", err.msg);

        /* NUMA cells: 4 of 6 vCPUs, 2 sockets x 3 cores */
        base_spec(&s);
        s.cpu.vcpus = 4;
        s.cpu.max = 6;
        s.cpu.sockets = 2;
        s.cpu.cores = 3;
        s.memory.size = 512ull << 20;
        cpuset_parse("0-2", &cells[0].cpus, NULL);
        cpuset_parse("3-4", &cells[1].cpus, NULL);
        cells[0].memory = cells[1].memory = 256ull << 20;
        s.numa.cells = cells;
        s.numa.n_cells = 2;
        argv = build(&s, &err);
        ok(argv, "NUMA cells build (%s)", err.msg);
        is_str(optval(argv, "-machine", 0), "q35", "cells: no machine memory-backend");
        is_str(optval(argv, "-object", 1), "memory-backend-ram,id=ram-node1,size=256M", "one backend per cell");
        is_str(optval(argv, "-numa", 0), "node,nodeid=0,memdev=ram-node0", "cell 0");
        is_str(optval(argv, "-numa", 1), "node,nodeid=1,memdev=ram-node1", "cell 1");
        is_int(count(argv, "-numa"), 2 + 6, "-numa cpu for every possible vCPU");
        is_str(optval(argv, "-numa", 2), "cpu,node-id=0,socket-id=0,core-id=0,thread-id=0", "vCPU 0 slot");
        is_str(optval(argv, "-numa", 5), "cpu,node-id=1,socket-id=1,core-id=0,thread-id=0", "vCPU 3 in cell 1");
        is_str(optval(argv, "-numa", 7), "cpu,node-id=0,socket-id=1,core-id=2,thread-id=0",
               "vCPU 5, in no cell, goes to cell 0");
        strv_free(argv);
        cells[1].memory = 128ull << 20;
        ok(!build(&s, &err) && strstr(err.msg, "adds up"), "cells not adding up refused: %s", err.msg);
        cells[1].memory = 256ull << 20;
        cpuset_parse("3-6", &cells[1].cpus, NULL);
        ok(!build(&s, &err) && strstr(err.msg, "vCPU 6"), "cell naming a vCPU beyond max refused: %s", err.msg);
}

static void test_disks(void)
{
        struct vm_disk disks[] = {
                { .file = "/img/a,b.qcow2", .format = VM_DISK_FORMAT_QCOW2, .bus = VM_DISK_BUS_VIRTIO,
                  .cache = VM_DISK_CACHE_NONE },
                { .file = "/img/d.iso", .format = VM_DISK_FORMAT_RAW, .media = VM_DISK_MEDIA_CDROM },
                { .file = "/img/s.raw", .format = VM_DISK_FORMAT_RAW, .bus = VM_DISK_BUS_SCSI,
                  .cache = VM_DISK_CACHE_UNSAFE, .readonly = true },
                { .file = "/img/t.qcow2", .format = VM_DISK_FORMAT_QCOW2, .bus = VM_DISK_BUS_SCSI,
                  .snapshot = true, .cache = VM_DISK_CACHE_WRITETHROUGH },
                { .file = "/img/h.raw", .format = VM_DISK_FORMAT_RAW, .bus = VM_DISK_BUS_IDE },
        };
        struct vm_spec s;
        struct qc_err err = {};
        char **argv;

        base_spec(&s);
        s.disks = disks;
        s.n_disks = ELEMENTSOF(disks);
        argv = build(&s, &err);
        ok(argv, "disks build (%s)", err.msg);
        is_str(optval(argv, "-blockdev", 0),
               "driver=file,node-name=disk0-file,filename=/img/a,,b.qcow2,cache.direct=on,cache.no-flush=off",
               "file node: comma escaped, cache none = O_DIRECT");
        is_str(optval(argv, "-blockdev", 1),
               "{\"driver\":\"qcow2\",\"node-name\":\"disk0-format\",\"file\":\"disk0-file\",\"backing\":null,"
               "\"cache\":{\"direct\":true,\"no-flush\":false}}",
               "format node names its driver, and backing=null: the header opens no other file (JSON: keyval cannot "
               "say null)");
        ok(has(argv, "-device", "virtio-blk-pci,id=disk0,drive=disk0-format,write-cache=on"), "virtio-blk device");
        is_str(optval(argv, "-blockdev", 3),
               "{\"driver\":\"raw\",\"node-name\":\"disk1-format\",\"file\":\"disk1-file\",\"read-only\":true}",
               "cdrom read-only; raw has no backing to null");
        ok(has(argv, "-device", "ide-cd,id=disk1,bus=ide.0,drive=disk1-format"), "q35 cdrom on AHCI port 0");
        is_int(count(argv, "-device") >= 1 && has(argv, "-device", "virtio-scsi-pci,id=scsi0"), 1,
               "one SCSI controller");
        ok(has(argv, "-device", "scsi-hd,id=disk2,bus=scsi0.0,channel=0,scsi-id=0,lun=0,drive=disk2-format,write-cache=on"),
           "scsi-hd");
        is_str(optval(argv, "-blockdev", 4),
               "driver=file,node-name=disk2-file,filename=/img/s.raw,cache.direct=off,cache.no-flush=on,read-only=on",
               "unsafe = no-flush, read-only");
        is_str(optval(argv, "-drive", 0),
               "if=none,id=disk3-format,file=/img/t.qcow2,format=qcow2,snapshot=on,backing=,cache=writethrough",
               "throwaway disk via -drive snapshot=on; backing= is -drive's null");
        ok(has(argv, "-device", "scsi-hd,id=disk3,bus=scsi0.0,channel=0,scsi-id=1,lun=0,drive=disk3-format,write-cache=off"),
           "second SCSI disk gets the next id");
        ok(has(argv, "-device", "ide-hd,id=disk4,bus=ide.1,drive=disk4-format"), "ide on q35 uses the next AHCI port");
        {
                size_t i, n_blockdev = 0;
                int scsi_controllers = 0;

                for (i = 0; argv && argv[i]; i++) {
                        n_blockdev += strcmp(argv[i], "-blockdev") == 0;
                        scsi_controllers += strcmp(argv[i], "virtio-scsi-pci,id=scsi0") == 0;
                }
                is_int(n_blockdev, 8, "two -blockdev per non-throwaway disk");
                is_int(scsi_controllers, 1, "SCSI controller added once");
        }
        strv_free(argv);

        s.machine = VM_MACHINE_PC;
        disks[0].bus = VM_DISK_BUS_SATA;
        argv = build(&s, &err);
        ok(has(argv, "-device", "ich9-ahci,id=ahci0"), "pc: sata adds an AHCI controller");
        ok(has(argv, "-device", "ide-hd,id=disk0,bus=ahci0.0,drive=disk0-format,write-cache=on"), "pc: sata disk");
        ok(has(argv, "-device", "ide-cd,id=disk1,bus=ide.0,unit=0,drive=disk1-format"), "pc: cdrom on PIIX ide.0");
        ok(has(argv, "-device", "ide-hd,id=disk4,bus=ide.0,unit=1,drive=disk4-format"), "pc: ide disk unit 1");
        strv_free(argv);

        /* block devices: QEMU's host_device / host_cdrom protocol drivers;
         * other formats are their QEMU driver's name */
        disks[0] = (struct vm_disk){ .file = "/dev/vg0/lv", .format = VM_DISK_FORMAT_QED, .block_device = true };
        disks[1] = (struct vm_disk){ .file = "/dev/sr0", .format = VM_DISK_FORMAT_RAW, .media = VM_DISK_MEDIA_CDROM,
                                     .block_device = true, .cdrom_drive = true };
        disks[2] = (struct vm_disk){ .file = "/dev/loop7", .format = VM_DISK_FORMAT_VDI, .block_device = true,
                                     .snapshot = true };
        s.n_disks = 3;
        argv = build(&s, &err);
        ok(argv, "block devices build (%s)", err.msg);
        is_str(optval(argv, "-blockdev", 0), "driver=host_device,node-name=disk0-file,filename=/dev/vg0/lv",
               "a block device is host_device");
        is_str(optval(argv, "-blockdev", 1),
               "{\"driver\":\"qed\",\"node-name\":\"disk0-format\",\"file\":\"disk0-file\",\"backing\":null}",
               "qed can have a backing file: null");
        is_str(optval(argv, "-blockdev", 2),
               "driver=host_cdrom,node-name=disk1-file,filename=/dev/sr0,read-only=on", "a CD-ROM drive is host_cdrom");
        is_str(optval(argv, "-drive", 0), "if=none,id=disk2-format,file=/dev/loop7,format=vdi,snapshot=on,file.driver=host_device",
               "throwaway block device: host_device too; vdi has no backing");
        strv_free(argv);

        disks[2].format = VM_DISK_FORMAT_AUTO;
        ok(!build(&s, &err) && strstr(err.msg, "resolve disks"), "format still AUTO refused: %s", err.msg);
}

static void test_net_display(void)
{
        char *fw[] = { "tcp:2222:22", "udp:127.0.0.1:5353:53", NULL };
        char *badfw[] = { "tcp:22", NULL };
        struct vm_net nets[] = {
                { .type = VM_NET_USER, .model = VM_NET_MODEL_VIRTIO, .forward = fw, .n_forward = 2 },
                { .type = VM_NET_BRIDGE, .model = VM_NET_MODEL_E1000E, .bridge = "br0", .mac = "52:54:00:00:00:02" },
                { .type = VM_NET_TAP, .model = VM_NET_MODEL_RTL8139, .ifname = "tap7" },
        };
        enum vm_input inputs[] = { VM_INPUT_USB_TABLET, VM_INPUT_USB_KBD };
        char *extra[] = { "-global", "kvm-pit.lost_tick_policy=delay", NULL };
        struct vm_spec s;
        struct qc_err err = {};
        char **argv;
        size_t n;

        base_spec(&s);
        s.nets = nets;
        s.n_nets = ELEMENTSOF(nets);
        s.vnc = "127.0.0.1:20";
        s.inputs = inputs;
        s.n_inputs = 2;
        s.memory.balloon = s.memory.balloon_deflate_on_oom = s.memory.balloon_free_page_reporting = true;
        s.memory.balloon_stats_interval = 2;
        s.panic = s.debug_exit = true;
        s.security.sandbox = true;
        s.boot.order = "cd";
        s.qemu.args = extra;
        s.qemu.n_args = 2;
        argv = build(&s, &err);
        ok(argv, "net + display build (%s)", err.msg);
        is_str(optval(argv, "-netdev", 0), "user,id=hostnet0,hostfwd=tcp::2222-:22,hostfwd=udp:127.0.0.1:5353-:53",
               "user net with forwards");
        ok(has(argv, "-device", "virtio-net-pci,id=net0,netdev=hostnet0"), "virtio NIC");
        is_str(optval(argv, "-netdev", 1), "bridge,id=hostnet1,br=br0", "bridge");
        ok(has(argv, "-device", "e1000e,id=net1,netdev=hostnet1,mac=52:54:00:00:00:02"), "e1000e with mac");
        is_str(optval(argv, "-netdev", 2), "tap,id=hostnet2,ifname=tap7,script=no,downscript=no", "tap, no scripts");
        is_str(optval(argv, "-sandbox", 0),
               "on,obsolete=deny,elevateprivileges=deny,spawn=allow,resourcecontrol=deny",
               "sandbox allows spawn for the bridge helper");
        ok(has(argv, "-vnc", "127.0.0.1:20") && has(argv, "-device", "VGA,id=video0") && !count(argv, "-display"),
           "vnc with a VGA device, no -display none");
        ok(has(argv, "-device", "qemu-xhci,id=usb") && has(argv, "-device", "usb-tablet,id=input0,bus=usb.0") &&
                   has(argv, "-device", "usb-kbd,id=input1,bus=usb.0"),
           "USB controller and inputs");
        ok(has(argv, "-device",
               "virtio-balloon-pci,id=balloon0,deflate-on-oom=on,free-page-reporting=on,guest-stats-polling-interval=2"),
           "balloon with its properties");
        ok(has(argv, "-device", "pvpanic") && has(argv, "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"),
           "pvpanic and isa-debug-exit");
        ok(has(argv, "-boot", "order=cd"), "boot order");
        n = strv_length(argv);
        ok(n >= 2 && strcmp(argv[n - 2], "-global") == 0 && strcmp(argv[n - 1], "kvm-pit.lost_tick_policy=delay") == 0,
           "qemu.args come last");
        strv_free(argv);

        nets[1].ifname = "tap1";
        ok(!build(&s, &err) && strstr(err.msg, "ifname"), "bridge with ifname refused: %s", err.msg);
        nets[1].ifname = NULL;
        nets[0].forward = badfw;
        ok(!build(&s, &err) && strstr(err.msg, "tcp:22"), "bad forward refused: %s", err.msg);
        s.n_nets = 0;
        argv = build(&s, &err);
        is_str(optval(argv, "-sandbox", 0),
               "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny", "sandbox denies spawn");
        strv_free(argv);
}

/* A QEMU that runs as another user gets its sockets and serial log as fds. */
static void test_passed_fds(void)
{
        struct vm_spec s;
        struct cmdline_ctx ctx;
        struct qc_err err = {};
        char **argv = NULL;

        base_spec(&s);
        cmdline_ctx_default(&ctx, &s, "/run/q/t1");
        ctx.qmp_fd = 3, ctx.events_fd = 4, ctx.relay_fd = 5, ctx.console_fd = 6, ctx.serial_log_fd = 7;
        ok(cmdline_build(&s, &ctx, &argv, &err) == 0, "build with passed fds (%s)", err.msg);
        is_str(optval(argv, "-chardev", 0), "socket,id=ctl,fd=3,server=on,wait=off", "verbs' QMP socket is fd 3");
        is_str(optval(argv, "-chardev", 1), "socket,id=qmp-events,fd=4,server=on,wait=off", "events socket is fd 4");
        is_str(optval(argv, "-chardev", 2), "socket,id=relay,fd=5,server=on,wait=off", "relay socket is fd 5");
        is_str(optval(argv, "-add-fd", 0), "fd=7,set=1", "serial log fd in fd set 1");
        is_str(optval(argv, "-chardev", 3), "socket,id=serial0,fd=6,server=on,wait=off,logfile=/dev/fdset/1,logappend=on",
               "console socket fd 6, logging to the fd set");
        int paths = 0;
        for (size_t i = 0; argv && argv[i]; i++)
                paths += strstr(argv[i], "/run/q/t1") != NULL;
        is_int(paths, 0, "QEMU is given no path in the state dir");
        strv_free(argv);

        ctx.serial = CMDLINE_SERIAL_FILE;
        ctx.serial_file = "/tmp/out.log";
        ctx.console_fd = 0, ctx.serial_log_fd = 6;
        argv = NULL;
        ok(cmdline_build(&s, &ctx, &argv, &err) == 0, "run --serial-log with a passed fd (%s)", err.msg);
        is_str(optval(argv, "-add-fd", 0), "fd=6,set=1", "serial file fd in fd set 1");
        is_str(optval(argv, "-chardev", 3), "file,id=serial0,path=/dev/fdset/1", "serial file chardev opens the fd set");
        strv_free(argv);
}

/* accel auto that became TCG changes host CPU modes: the note says so. */
static void test_accel_note(void)
{
        struct vm_spec s = { .name = "n", .accel = VM_ACCEL_AUTO, .cpu.mode = VM_CPU_HOST_MODEL };
        char *note;

        note = cmdline_accel_note(&s, VM_ACCEL_TCG, "no /dev/kvm");
        is_str(note, "accel auto resolved to tcg (KVM unusable here: no /dev/kvm): cpu.mode host-model runs as -cpu max,migratable=on",
               "host-model under auto->tcg: a note with the reason");
        free(note);
        s.cpu.mode = VM_CPU_HOST_PASSTHROUGH;
        note = cmdline_accel_note(&s, VM_ACCEL_TCG, NULL);
        is_str(note, "accel auto resolved to tcg (KVM unusable here): cpu.mode host-passthrough runs as -cpu max",
               "host-passthrough, no reason known");
        free(note);
        ok(cmdline_accel_note(&s, VM_ACCEL_KVM, NULL) == NULL, "auto -> kvm: nothing to say");
        s.accel = VM_ACCEL_TCG;
        ok(cmdline_accel_note(&s, VM_ACCEL_TCG, NULL) == NULL, "tcg asked for: nothing to say");
        s.accel = VM_ACCEL_AUTO;
        s.cpu.mode = VM_CPU_CUSTOM;
        ok(cmdline_accel_note(&s, VM_ACCEL_TCG, NULL) == NULL, "custom model: nothing changes, nothing to say");
        /* the resolver on this host: whatever it picks, the note matches */
        s.cpu.mode = VM_CPU_HOST_PASSTHROUGH;
        note = (char *)1;
        {
                enum vm_accel a = _VM_ACCEL_INVALID;
                struct qc_err e = { 0 };

                is_int(cmdline_resolve_accel(&s, &a, &note, &e), 0, "auto always resolves");
                ok(a == VM_ACCEL_KVM || a == VM_ACCEL_TCG, "auto resolves to kvm or tcg");
                ok(a == VM_ACCEL_TCG ? note && strstr(note, "KVM unusable here: ") : note == NULL,
                   "a note exactly when it became tcg (%s): %s", a == VM_ACCEL_TCG ? "tcg" : "kvm",
                   note ? note : "(none)");
        }
        free(note);
}

/* hyperv's hv-* flags are KVM's: on -cpu under KVM, left out under TCG,
 * and the note says so (naming the profile they came from). */
static void test_hyperv(void)
{
        struct vm_spec s;
        struct cmdline_ctx ctx;
        struct qc_err err = { 0 };
        char **argv = NULL, *note;

        base_spec(&s);
        s.cpu.mode = VM_CPU_CUSTOM;
        s.cpu.model = "max";
        s.hyperv = true;
        cmdline_ctx_default(&ctx, &s, "/run/q/t1");
        ctx.accel = VM_ACCEL_KVM;
        if (!ok(cmdline_build(&s, &ctx, &argv, &err) == 0, "hyperv under kvm builds (%s)", err.msg))
                return;
        is_str(optval(argv, "-cpu", 0),
               "max,hv-relaxed=on,hv-vapic=on,hv-spinlocks=0x1fff,hv-vpindex=on,hv-runtime=on,hv-synic=on,"
               "hv-stimer=on,hv-time=on,hv-frequencies=on,hv-tlbflush=on,hv-ipi=on",
               "kvm: virt-install's enlightenments on -cpu");
        ok(optval(argv, "-global", 0) == NULL, "os generic: no PIT policy");
        strv_free(argv);
        ok(cmdline_tcg_note(&s, VM_ACCEL_KVM) == NULL, "kvm: nothing to say");

        ctx.accel = VM_ACCEL_TCG;
        if (!ok(cmdline_build(&s, &ctx, &argv, &err) == 0, "hyperv under tcg builds (%s)", err.msg))
                return;
        is_str(optval(argv, "-cpu", 0), "max", "tcg: no hv-* flags");
        strv_free(argv);
        note = cmdline_tcg_note(&s, VM_ACCEL_TCG);
        is_str(note,
               "hyperv: the Hyper-V enlightenments are KVM's and this VM runs under TCG (QEMU gives a TCG guest "
               "none of them), so -cpu gets no hv-* flags",
               "tcg: the note says they are left out");
        free(note);
        s.os = VM_OS_WINDOWS;
        note = cmdline_tcg_note(&s, VM_ACCEL_TCG);
        ok(note && strncmp(note, "hyperv (os \"windows\"): ", strlen("hyperv (os \"windows\"): ")) == 0, "the note names the profile: %s", note);
        free(note);
        s.hyperv = false;
        ok(cmdline_tcg_note(&s, VM_ACCEL_TCG) == NULL, "hyperv off: nothing to say");
}

/* The clocks: -rtc from base and driftfix, hpet=off, the PIT's policy for
 * an OS profile under KVM only. */
static void test_clock(void)
{
        struct vm_spec s;
        struct cmdline_ctx ctx;
        struct qc_err err = { 0 };
        char **argv = NULL;

        base_spec(&s);
        s.rtc.driftfix = VM_RTC_DRIFTFIX_SLEW;
        s.hpet = false;
        s.os = VM_OS_LINUX;
        cmdline_ctx_default(&ctx, &s, "/run/q/t1");
        if (!ok(cmdline_build(&s, &ctx, &argv, &err) == 0, "clock builds (%s)", err.msg))
                return;
        is_str(optval(argv, "-rtc", 0), "driftfix=slew", "driftfix alone");
        is_str(optval(argv, "-machine", 0), "q35,memory-backend=ram0,hpet=off", "hpet off on -machine");
        ok(optval(argv, "-global", 0) == NULL, "tcg: no kvm-pit policy");
        strv_free(argv);
        s.rtc.base = VM_RTC_LOCALTIME;
        ctx.accel = VM_ACCEL_KVM;
        s.cpu.mode = VM_CPU_CUSTOM;
        s.cpu.model = "max";
        if (!ok(cmdline_build(&s, &ctx, &argv, &err) == 0, "clock under kvm builds (%s)", err.msg))
                return;
        is_str(optval(argv, "-rtc", 0), "base=localtime,driftfix=slew", "base and driftfix in one -rtc");
        is_str(optval(argv, "-global", 0), "kvm-pit.lost_tick_policy=delay", "kvm: the PIT's policy");
        strv_free(argv);
}

int main(void)
{
        test_minimal();
        test_accel_note();
        test_hyperv();
        test_clock();
        test_passed_fds();
        test_cpu();
        test_memory();
        test_disks();
        test_net_display();
        return tap_done();
}
