/* resources: what a VM file asks of a job scheduler. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/defs.h"
#include "cli/launch.h"
#include "common/cleanup.h"
#include "launcher/resources.h"
#include "launcher/spec.h"

static int resources_opt(const char *verb, int c, const char *arg, void *ud)
{
        *(bool *)ud = true; /* --slurm */
        return 0;
}

int cmd_resources(int argc, char **argv)
{
        const char *verb = argv[0];
        bool slurm = false;
        _cleanup_(spec_overrides_done) struct spec_overrides ov = { 0 };
        struct cli_opts o = { .on_opt = resources_opt, .ud = &slurm, .overrides = &ov };
        _cleanup_(spec_freep) struct vm_spec *spec = NULL;
        struct spec_diags diags = { 0 };
        struct qc_err err = { 0 };
        struct vm_request req;
        struct vm_allocation a;
        char line[96];
        int r, parsed = cli_parse_opts(verb, argc, argv, &o, &r);

        if (parsed != 0)
                return r;
        if (optind != argc - 1)
                return cli_usage(verb, "expected one VM file");
        if (slurm && o.json)
                return cli_usage(verb, "--slurm and --json are two different outputs: pick one");
        _cleanup_free_ char *file = NULL;
        if ((r = cli_vm_file(verb, argv[optind], &file)))
                return r;
        r = spec_load_with(file, &ov, &spec, &diags, &err);
        if (r < 0 && diags.n)
                return cli_print_diags(verb, file, &diags);
        spec_diags_done(&diags);
        if (r < 0)
                return cli_fail(verb, &err);
        vm_request_of(spec, &req);
        snprintf(line, sizeof line, "--cpus-per-task=%u --mem=%" PRIu64 "M", req.cpus, req.memory >> 20);
        if (slurm) {
                printf("%s\n", line);
                return 0;
        }
        if (vm_allocation_read("", environ, cli_affinity_cpus(), &a, &err) < 0)
                return cli_fail(verb, &err);
        if (o.json) {
                json_object *j = json_object_new_object();
                json_object_object_add(j, "cpus", json_object_new_int64(req.cpus));
                json_object_object_add(j, "guest_memory", json_object_new_uint64(req.guest_memory));
                json_object_object_add(j, "overhead", json_object_new_uint64(req.overhead));
                json_object_object_add(j, "memory", json_object_new_uint64(req.memory));
                json_object_object_add(j, "slurm", json_object_new_string(line));
                if (a.in_job) {
                        json_object *ja = json_object_new_object();
                        json_object_object_add(ja, "job_id", json_object_new_string(a.job_id));
                        json_object_object_add(ja, "cpus", a.cpus ? json_object_new_int64(a.cpus) : NULL);
                        json_object_object_add(ja, "cpus_from", a.cpus_from ? json_object_new_string(a.cpus_from) : NULL);
                        json_object_object_add(ja, "memory", a.memory ? json_object_new_uint64(a.memory) : NULL);
                        json_object_object_add(ja, "memory_from",
                                               a.memory_from ? json_object_new_string(a.memory_from) : NULL);
                        json_object_object_add(ja, "fits", json_object_new_boolean(vm_allocation_check(&req, &a, NULL) == 0));
                        json_object_object_add(j, "allocation", ja);
                }
                printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
                json_object_put(j);
                return 0;
        }
        printf("cpus          %u (cpu.vcpus)\n", req.cpus);
        printf("guest memory  %" PRIu64 " MiB (memory.size + memory.plugged)\n", req.guest_memory >> 20);
        printf("overhead      %" PRIu64 " MiB (QEMU's own: 256 MiB + 1/64 of the guest's)\n", req.overhead >> 20);
        printf("memory        %" PRIu64 " MiB\n", req.memory >> 20);
        printf("slurm         %s\n", line);
        if (a.in_job) {
                char cpus[64] = "no CPU bound", have[64] = "no memory bound";
                if (a.cpus)
                        snprintf(cpus, sizeof cpus, "%u CPU%s (%s)", a.cpus, a.cpus == 1 ? "" : "s", a.cpus_from);
                if (a.memory)
                        snprintf(have, sizeof have, "%" PRIu64 " MiB (%s)", a.memory >> 20, a.memory_from);
                printf("job %s: %s, %s\n", a.job_id, cpus, have);
                if (vm_allocation_check(&req, &a, &err) < 0) {
                        fprintf(stderr, "qemuctl: %s: %s\n", verb, err.msg);
                        return CLI_EXIT_FAIL;
                }
        }
        return 0;
}
