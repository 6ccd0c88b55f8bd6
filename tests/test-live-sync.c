/* launcher/live-sync.c against the scripted fake QMP server: a vCPU or a
 * DIMM a person removed by hand on qmp.sock shows in the recorded spec. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/io.h"
#include "launcher/handle.h"
#include "launcher/live-sync.h"
#include "qmp/qmp.h"
#include "tap.h"
#include "tests/lib/fakeqmp.h"

#define ONE_CPU                                                                                          \
        "[{\"thread-id\": 9975, \"props\": {\"core-id\": 0, \"thread-id\": 0, \"node-id\": 0, \"socket-id\": 0}, " \
        "\"qom-path\": \"/machine/unattached/device[0]\", \"cpu-index\": 0, \"target\": \"x86_64\"}]"
#define ONE_DIMM                                                                                         \
        "[{\"type\": \"dimm\", \"data\": {\"memdev\": \"/objects/mem-dimm1\", \"hotplugged\": true, "     \
        "\"addr\": 4294967296, \"hotpluggable\": true, \"size\": 134217728, \"slot\": 0, \"node\": 0, "   \
        "\"id\": \"dimm1\"}}]"

int main(void)
{
        struct fakeqmp *f = fakeqmp_new();
        struct qmp *q = NULL;
        struct vm_spec *spec = NULL, *again = NULL;
        struct spec_diags diags = { 0 };
        struct qc_err err = { 0 };
        /* the state dir inside a dir of our own: /tmp (1777) is no base */
        char base[] = "/tmp/test-live-sync.XXXXXX", dir[64], file[96];
        const char *json = "{\"name\": \"s1\", \"accel\": \"tcg\", \"cpu\": {\"mode\": \"custom\", \"model\": "
                           "\"qemu64\", \"vcpus\": 2, \"max\": 3}, \"memory\": {\"size\": \"256M\", \"max\": "
                           "\"1G\", \"slots\": 2, \"plugged\": \"256M\"}}";
        char *log = NULL;
        bool changed = false;
        int fd;

        if (!mkdtemp(base))
                tap_skip_all("mkdtemp");
        snprintf(dir, sizeof dir, "%s/vm", base);
        if (mkdir(dir, 0700) < 0)
                tap_skip_all("mkdir %s", dir);
        snprintf(file, sizeof file, "%s/in.json", dir);
        FILE *fp = fopen(file, "w");
        if (!fp || fputs(json, fp) < 0 || fclose(fp) != 0)
                tap_skip_all("cannot write %s", file);
        is_int(spec_load(file, &spec, &diags, &err), 0, "spec with 2 vCPUs, 256M plugged (%s)", err.msg);
        is_int(spec ? vm_write_spec(dir, spec, &err) : -1, 0, "recorded as spec.json");

        fakeqmp_greet(f);
        /* a person unplugged vCPU 1 and a 128M DIMM */
        fakeqmp_expect(f, "{\"execute\": \"query-cpus-fast\"}");
        fakeqmp_reply(f, ONE_CPU);
        fakeqmp_expect(f, "{\"execute\": \"query-memory-devices\"}");
        fakeqmp_reply(f, ONE_DIMM);
        /* the second time nothing differs */
        fakeqmp_expect(f, "{\"execute\": \"query-cpus-fast\"}");
        fakeqmp_reply(f, ONE_CPU);
        fakeqmp_expect(f, "{\"execute\": \"query-memory-devices\"}");
        fakeqmp_reply(f, ONE_DIMM);
        fakeqmp_wait_eof(f);
        if (fakeqmp_start(f, &fd) < 0 || qmp_open_fd(fd, 3000, &q, &err) < 0)
                tap_skip_all("cannot start the fake QMP server: %s", err.msg);

        is_int(vm_sync_recorded(dir, q, NULL, &err), 0, "sync the record with QEMU (%s)", err.msg);
        is_int(vm_load_spec(dir, &again, &err), 0, "spec.json reads back");
        if (again) {
                is_int(again->cpu.vcpus, 1, "spec.json: cpu.vcpus is QEMU's 1");
                is_int(again->cpu.max, 3, "cpu.max untouched");
                is_int(again->memory.plugged, 128u << 20, "memory.plugged is QEMU's 128M");
                is_int(spec_sync_live(q, again, &changed, &err), 0, "sync again");
                ok(!changed, "nothing differs now");
        }
        qmp_free(q);
        if (!ok(fakeqmp_finish(f, &log) == 0, "QEMU was asked exactly that"))
                tap_diag("%s", log ? log : "?");
        free(log);
        fakeqmp_free(f);
        spec_free(spec);
        spec_free(again);
        spec_diags_done(&diags);
        snprintf(file, sizeof file, "rm -rf %s", base);
        if (system(file) != 0)
                tap_diag("could not remove %s", base);
        return tap_done();
}
