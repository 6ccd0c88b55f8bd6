/* libFuzzer: the supervisor's event handling. The input is what QEMU sends on
 * the events monitor (framed by qmp-stream, as the transport does); every
 * message goes through sup_event_apply(), the function the supervisor runs,
 * and the record it leaves must describe and map to an exit code. The first
 * byte chooses the supervisor's situation (guest ran, under `run`). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "launcher/supervisor-events.h"
#include "launcher/supervisor.h"
#include "qmp/qmp-stream.h"
#include "qmp/qmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct qmp_stream st;
        struct vm_record rec;
        struct qc_err err;
        bool running, foreground;
        json_object *ev;
        char *how;
        int r;

        if (size < 1)
                return 0;
        running = data[0] & 1;
        foreground = data[0] & 2;
        data++, size--;
        if (qmp_stream_init(&st, QMP_MAX_LINE) < 0)
                return 0;
        vm_record_init(&rec);
        if (qmp_stream_push(&st, data, size, &err) == 0)
                while ((r = qmp_stream_pop(&st, &ev, &err)) != 0) {
                        if (r < 0)
                                continue; /* garbage: the supervisor skips it too */
                        /* the events.log line */
                        if (!json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN))
                                abort();
                        r = sup_event_apply(&rec, ev, running, foreground);
                        if (r & ~(SUP_EVENT_RECORD | SUP_EVENT_QUIT | SUP_EVENT_RESYNC))
                                abort();
                        if ((r & SUP_EVENT_QUIT) && !foreground)
                                abort(); /* only `run` quits a paused panic */
                        json_object_put(ev);
                }
        qmp_stream_done(&st);
        rec.state = VM_STATE_ENDED;
        rec.exit_status = 0;
        how = vm_record_describe_end(&rec);
        free(how);
        (void)supervisor_exit_code(&rec);
        vm_record_done(&rec);
        return 0;
}
