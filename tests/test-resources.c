/* launcher/resources: a VM's request, a Slurm job's allocation (its
 * environment and its cgroup's memory limit, v1 and v2, from a fake sysroot),
 * and the check between them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/io.h"
#include "launcher/resources.h"
#include "launcher/spec.h"
#include "tests/tap.h"

#define MiB (1ULL << 20)

static char root[] = "/tmp/qemuctl-test-resources-XXXXXX";

/* root/rel with text, its directories made */
static void put(const char *rel, const char *text)
{
        char path[512], cmd[600];
        FILE *f;

        snprintf(path, sizeof path, "%s/%s", root, rel);
        snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", path);
        if (system(cmd) != 0 || !(f = fopen(path, "w")))
                abort();
        fputs(text, f);
        fclose(f);
}

static void test_request(void)
{
        struct vm_spec s = { 0 };
        struct vm_request r;

        s.cpu.vcpus = 2, s.cpu.max = 4;
        s.memory.size = 768 * MiB;
        vm_request_of(&s, &r);
        is_int(r.cpus, 2, "CPUs: the vCPUs it boots with");
        is_int(r.guest_memory, 768 * MiB, "guest memory: memory.size");
        is_int(r.overhead, 268 * MiB, "overhead: 256 MiB + 1/64 of 768 MiB");
        is_int(r.memory, 1036 * MiB, "memory: guest + overhead");
        s.memory.plugged = 256 * MiB;
        vm_request_of(&s, &r);
        is_int(r.guest_memory, 1024 * MiB, "plugged memory counts");
        s.memory.size = 100 * MiB + 1, s.memory.plugged = 0;
        vm_request_of(&s, &r);
        ok(r.memory % MiB == 0 && r.memory >= r.guest_memory + r.overhead, "memory rounds up to whole MiB");
}

static void test_env(void)
{
        struct vm_allocation a;
        struct qc_err err = { 0 };
        char *none[] = { "PATH=/bin", NULL };
        char *job[] = { "SLURM_JOB_ID=7", "SLURM_CPUS_PER_TASK=2", "SLURM_CPUS_ON_NODE=4", "SLURM_MEM_PER_NODE=1000",
                        NULL };
        char *per_cpu[] = { "SLURM_JOB_ID=8", "SLURM_CPUS_ON_NODE=3", "SLURM_MEM_PER_CPU=512", NULL };
        char *lists[] = { "SLURM_JOB_ID=9", "SLURM_CPUS_ON_NODE=2(x3)", NULL };
        char *bad[] = { "SLURM_JOB_ID=10", "SLURM_MEM_PER_NODE=lots", NULL };

        is_int(vm_allocation_read(root, none, 2, &a, &err), 0, "outside a job: read");
        ok(!a.in_job && !a.cpus && !a.memory, "outside a job: no bounds");

        is_int(vm_allocation_read(root, job, 0, &a, &err), 0, "a job: read");
        ok(a.in_job && a.job_id && strcmp(a.job_id, "7") == 0, "the job's id");
        is_int(a.cpus, 2, "CPUs from SLURM_CPUS_PER_TASK before SLURM_CPUS_ON_NODE");
        is_str(a.cpus_from, "SLURM_CPUS_PER_TASK", "and where from");
        is_int(a.memory, 1000 * MiB, "memory from SLURM_MEM_PER_NODE (MiB)");
        is_str(a.memory_from, "SLURM_MEM_PER_NODE", "and where from");

        is_int(vm_allocation_read(root, job, 1, &a, &err), 0, "a job bound to 1 CPU");
        is_int(a.cpus, 1, "the affinity mask when it is smaller");
        is_str(a.cpus_from, "the CPU affinity mask", "and where from");

        is_int(vm_allocation_read(root, per_cpu, 0, &a, &err), 0, "--mem-per-cpu job: read");
        is_int(a.cpus, 3, "CPUs from SLURM_CPUS_ON_NODE");
        is_int(a.memory, 3 * 512 * MiB, "memory: SLURM_MEM_PER_CPU times the CPUs");

        is_int(vm_allocation_read(root, lists, 0, &a, &err), 0, "a per-node list value");
        is_int(a.cpus, 2, "its leading count");

        ok(vm_allocation_read(root, bad, 0, &a, &err) == -1 && err.code == EINVAL, "a variable that is no number: EINVAL");
        ok(strstr(err.msg, "SLURM_MEM_PER_NODE=lots") != NULL, "naming it (%s)", err.msg);
}

static void test_cgroup(void)
{
        struct vm_allocation a;
        struct qc_err err = { 0 };
        char *job[] = { "SLURM_JOB_ID=7", "SLURM_CPUS_PER_TASK=2", "SLURM_MEM_PER_NODE=1000", NULL };

        /* v1, as Slurm's task/cgroup sets it on a hybrid host: the job's
         * level has the limit, the task's is unlimited */
        put("proc/self/cgroup", "6:freezer:/slurm/uid_0/job_7/step_batch\n"
                                "4:memory:/slurm/uid_0/job_7/step_batch/task_0\n0::/\n");
        put("sys/fs/cgroup/memory/slurm/uid_0/job_7/memory.limit_in_bytes", "524288000\n");
        put("sys/fs/cgroup/memory/slurm/uid_0/job_7/step_batch/task_0/memory.limit_in_bytes",
            "9223372036854771712\n");
        is_int(vm_allocation_read(root, job, 0, &a, &err), 0, "v1 memory cgroup: read");
        is_int(a.memory, 500 * MiB, "the smallest limit up the v1 tree, below the environment's");
        is_str(a.memory_from, "cgroup v1 memory.limit_in_bytes", "and where from");

        /* v2 on a hybrid host (mounted at unified/) */
        put("proc/self/cgroup", "0::/a/b\n");
        put("sys/fs/cgroup/unified/cgroup.controllers", "\n");
        put("sys/fs/cgroup/unified/a/memory.max", "314572800\n");
        put("sys/fs/cgroup/unified/a/b/memory.max", "max\n");
        is_int(vm_allocation_read(root, job, 0, &a, &err), 0, "v2 cgroup: read");
        is_int(a.memory, 300 * MiB, "memory.max of a parent counts");
        is_str(a.memory_from, "cgroup memory.max", "and where from");

        /* a limit above the environment's leaves the environment's */
        put("sys/fs/cgroup/unified/a/memory.max", "10737418240\n");
        is_int(vm_allocation_read(root, job, 0, &a, &err), 0, "a larger cgroup limit: read");
        is_str(a.memory_from, "SLURM_MEM_PER_NODE", "the environment's number stands");
}

static void test_check(void)
{
        struct vm_request r = { .cpus = 2, .guest_memory = 256 * MiB, .overhead = 260 * MiB, .memory = 516 * MiB };
        struct vm_allocation a = { .in_job = true, .job_id = "7", .cpus = 2, .cpus_from = "SLURM_CPUS_PER_TASK",
                                   .memory = 516 * MiB, .memory_from = "SLURM_MEM_PER_NODE" };
        struct vm_allocation none = { 0 };
        struct qc_err err = { 0 };

        is_int(vm_allocation_check(&r, &a, &err), 0, "a request that fits exactly");
        is_int(vm_allocation_check(&r, &none, &err), 0, "no job: nothing to check");
        a.memory = 300 * MiB;
        ok(vm_allocation_check(&r, &a, &err) == -1 && err.code == E2BIG, "too little memory: E2BIG");
        ok(strstr(err.msg, "needs 516 MiB") && strstr(err.msg, "given 300 MiB (SLURM_MEM_PER_NODE)") &&
                   strstr(err.msg, "--mem=516M"),
           "both numbers, the source and the fix (%s)", err.msg);
        a.memory = 0;
        a.cpus = 1;
        ok(vm_allocation_check(&r, &a, &err) == -1 && err.code == E2BIG, "too few CPUs: E2BIG");
        ok(strstr(err.msg, "boots 2 vCPUs") && strstr(err.msg, "given 1 CPU (SLURM_CPUS_PER_TASK)") &&
                   strstr(err.msg, "--cpus-per-task=2"),
           "both numbers, the source and the fix (%s)", err.msg);
}

int main(void)
{
        if (!mkdtemp(root))
                tap_skip_all("mkdtemp: %s", strerror(errno));
        test_request();
        test_env();
        test_cgroup();
        test_check();
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        if (system(cmd) != 0)
                tap_diag("could not remove %s", root);
        return tap_done();
}
