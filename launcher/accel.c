#include "accel.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/io.h"

/* Some nested hosts run a HLT fine but offer vCPUs without the baseline x86-64
 * features every QEMU CPU model asks for (QEMU warns "host doesn't support
 * requested feature: CPUID.01H:ECX.pni" and the kernel never prints a line):
 * require SSE3 (leaf 1 ECX bit 0) and long mode (leaf 0x80000001 EDX bit 29). */
static bool cpuid_ok(int kvm)
{
        enum { N = 256 };
#ifdef __clang__ /* make fuzz builds with clang: the header-then-array layout is what KVM wants */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wgnu-variable-sized-type-not-at-end"
#endif
        static struct {
                struct kvm_cpuid2 h;
                struct kvm_cpuid_entry2 e[N];
        } c;
#ifdef __clang__
#pragma clang diagnostic pop
#endif
        bool sse3 = false, lm = false;

        c.h.nent = N;
        if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, &c) < 0)
                return false;
        for (unsigned i = 0; i < c.h.nent; i++) {
                if (c.e[i].function == 1)
                        sse3 = c.e[i].ecx & 1u;
                if (c.e[i].function == 0x80000001)
                        lm = c.e[i].edx & (1u << 29);
        }
        return sse3 && lm;
}

/* In the child: 0 = a HLT ran and exited as KVM_EXIT_HLT; else a step number. */
static int probe(void)
{
        _cleanup_close_ int kvm = -1, vm = -1, vcpu = -1;
        struct kvm_userspace_memory_region region;
        struct kvm_sregs sregs;
        struct kvm_regs regs = { .rip = 0x1000, .rflags = 0x2 };
        struct kvm_run *run;
        unsigned char *mem;
        int size;

        kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (kvm < 0)
                return 1;
        if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
                return 2;
        if (!cpuid_ok(kvm))
                return 13;
        vm = ioctl(kvm, KVM_CREATE_VM, 0);
        if (vm < 0)
                return 3;
        mem = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED)
                return 4;
        mem[0] = 0xf4; /* hlt */
        region = (struct kvm_userspace_memory_region){
                .slot = 0, .guest_phys_addr = 0x1000, .memory_size = 0x1000, .userspace_addr = (unsigned long)mem
        };
        if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
                return 5;
        vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
        if (vcpu < 0)
                return 6;
        size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
        if (size <= 0)
                return 7;
        run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
        if (run == MAP_FAILED)
                return 8;
        if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
                return 9;
        sregs.cs.base = 0;
        sregs.cs.selector = 0;
        if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
                return 10;
        if (ioctl(vcpu, KVM_RUN, 0) < 0)
                return 11;
        return run->exit_reason == KVM_EXIT_HLT ? 0 : 12;
}

bool accel_kvm_works(char *why, size_t why_len)
{
        static const char *const steps[] = {
                "", "cannot open /dev/kvm", "KVM API version mismatch", "KVM_CREATE_VM failed",
                "mmap failed", "KVM_SET_USER_MEMORY_REGION failed", "KVM_CREATE_VCPU failed",
                "KVM_GET_VCPU_MMAP_SIZE failed", "mmap of the vCPU failed", "KVM_GET_SREGS failed",
                "KVM_SET_SREGS/REGS failed", "KVM_RUN failed", "a HLT did not exit as a HLT",
                "KVM's vCPUs lack baseline x86-64 features (SSE3 or long mode)",
        };
        _cleanup_close_ int pidfd = -1;
        int64_t deadline, left;
        int st = 0;
        pid_t pid, r;

        if (access("/dev/kvm", R_OK | W_OK) < 0) {
                if (why)
                        snprintf(why, why_len, "/dev/kvm: %s", strerror(errno));
                return false;
        }
        /* a child, so a vCPU that never comes back cannot hang us */
        pid = fork();
        if (pid < 0) {
                if (why)
                        snprintf(why, why_len, "fork: %s", strerror(errno));
                return false;
        }
        if (pid == 0)
                _exit(probe());
        deadline = now_ms() + 3000;
        /* start and run pay for this probe: wake when the child ends (it
         * takes ~1 ms), not at the next tick of a polling loop */
        pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        while ((r = waitpid(pid, &st, WNOHANG)) == 0 && (left = deadline - now_ms()) > 0) {
                if (pidfd < 0 || poll(&(struct pollfd){ .fd = pidfd, .events = POLLIN }, 1, (int)left) < 0)
                        usleep(1000);
        }
        if (r == 0) {
                kill(pid, SIGKILL);
                waitpid(pid, &st, 0);
                if (why)
                        snprintf(why, why_len, "a KVM vCPU did not come back within 3 s");
                return false;
        }
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
                return true;
        if (why) {
                int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
                snprintf(why, why_len, "%s", code > 0 && code < (int)ELEMENTSOF(steps) ? steps[code] : "the probe died");
        }
        return false;
}
