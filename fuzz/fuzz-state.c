/* libFuzzer: the readers of a state dir's records, which anything with write
 * access to the state dir (or a full disk, a crash mid-write) may have left in
 * any shape. The input is written as status.json and read with
 * vm_record_read(): a record that reads has pids a kill() may be aimed at
 * (0 = none, else 1..INT32_MAX: never -1, never a 64-bit value cut down to
 * 1), describes its end, and writes and reads back the same. The same input
 * is written as spec.json and read with spec_load(), as `qemuctl` verbs read
 * a running VM's effective VM file: it reads what spec_parse() reads. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/io.h"
#include "launcher/spec.h"
#include "launcher/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* a state dir inside a dir of our own: /tmp (1777) is no base (state.h) */
static char base[] = "/tmp/qemuctl-fuzz-state-XXXXXX", dir[64];

static void put(const char *file, const uint8_t *data, size_t size)
{
        char path[128];
        FILE *f;

        snprintf(path, sizeof path, "%s/%s", dir, file);
        f = fopen(path, "we");
        if (!f)
                abort();
        if (size && fwrite(data, 1, size, f) != size)
                abort();
        fclose(f);
}

static void cleanup(void)
{
        char path[128];

        snprintf(path, sizeof path, "%s/%s", dir, VM_RUNDIR_STATUS);
        unlink(path);
        snprintf(path, sizeof path, "%s/%s", dir, VM_RUNDIR_SPEC);
        unlink(path);
        rmdir(dir);
        rmdir(base);
}

static bool same_str(const char *a, const char *b)
{
        return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The pid the record says, as it should be read: 1..INT32_MAX, else 0. */
static int64_t want_pid(json_object *o, const char *key)
{
        json_object *v;
        int64_t n;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return 0;
        n = json_object_get_int64(v);
        return n > 0 && n <= INT32_MAX ? n : 0;
}

static void fuzz_status(const uint8_t *data, size_t size)
{
        struct vm_record r, again;
        json_object *o;
        char *how, *text;

        put(VM_RUNDIR_STATUS, data, size);
        if (vm_record_read(dir, &r, NULL) < 0)
                return;
        if (!vm_state_to_string(r.state))
                abort();
        text = strndup((const char *)data, size);
        o = text ? json_tokener_parse(text) : NULL;
        if (o && (r.qemu_pid != want_pid(o, "qemu_pid") || r.supervisor_pid != want_pid(o, "supervisor_pid")))
                abort();
        json_object_put(o);
        free(text);
        how = vm_record_describe_end(&r);
        free(how);
        if (vm_record_write(dir, &r, NULL) < 0 || vm_record_read(dir, &again, NULL) < 0)
                abort();
        if (again.state != r.state || again.qemu_pid != r.qemu_pid || again.qemu_start != r.qemu_start ||
            again.supervisor_pid != r.supervisor_pid || again.supervisor_start != r.supervisor_start ||
            again.foreground != r.foreground || again.started_at != r.started_at || again.ended_at != r.ended_at ||
            !same_str(again.shutdown_reason, r.shutdown_reason) || again.shutdown_by_guest != r.shutdown_by_guest ||
            again.panicked != r.panicked || again.exit_status != r.exit_status ||
            again.exit_signal != r.exit_signal || again.timed_out != r.timed_out ||
            again.interrupted != r.interrupted || !same_str(again.message, r.message) ||
            !same_str(again.saved_to, r.saved_to) || !same_str(again.migrated_to, r.migrated_to))
                abort();
        vm_record_done(&again);
        vm_record_done(&r);
}

/* spec_load (the file) reads exactly what spec_parse (the text) reads;
 * spec_parse itself is fuzz-spec's. */
static void fuzz_spec(const uint8_t *data, size_t size)
{
        struct spec_diags d = { 0 };
        struct vm_spec *from_file = NULL, *from_text = NULL;
        char path[128], *j1 = NULL, *j2 = NULL;
        int r1, r2;

        snprintf(path, sizeof path, "%s/%s", dir, VM_RUNDIR_SPEC);
        put(VM_RUNDIR_SPEC, data, size);
        r1 = spec_load(path, &from_file, &d, NULL);
        spec_diags_done(&d);
        r2 = spec_parse(path, (const char *)data, size, &from_text, &d, NULL);
        spec_diags_done(&d);
        if ((r1 < 0) != (r2 < 0))
                abort();
        if (r1 == 0) {
                j1 = spec_to_json(from_file);
                j2 = spec_to_json(from_text);
                if (!j1 || !j2 || strcmp(j1, j2) != 0)
                        abort();
        }
        free(j1);
        free(j2);
        spec_free(from_file);
        spec_free(from_text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static bool made;

        if (!made) {
                if (!mkdtemp(base))
                        abort();
                snprintf(dir, sizeof dir, "%s/vm", base);
                if (mkdir(dir, 0700) < 0)
                        abort();
                atexit(cleanup);
                made = true;
        }
        fuzz_status(data, size);
        fuzz_spec(data, size);
        return 0;
}
