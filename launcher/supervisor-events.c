#include "supervisor-events.h"

#include <stdlib.h>
#include <string.h>

#include "../qmp/qmp.h"

/* Every member is read with qmp/'s typed getters: a member of the wrong type
 * counts as absent (a SHUTDOWN without a readable reason still ended). */
int sup_event_apply(struct vm_record *rec, json_object *ev, bool running, bool foreground)
{
        const char *n = qmp_event_name(ev), *reason, *action;
        json_object *data = qmp_event_data(ev);

        if (!n)
                return 0;
        if (strcmp(n, "SHUTDOWN") == 0) {
                free(rec->shutdown_reason);
                reason = qmp_member_string(data, "reason");
                rec->shutdown_reason = reason ? strdup(reason) : NULL;
                rec->shutdown_by_guest = qmp_member_bool(data, "guest", false);
                if (reason && strcmp(reason, "guest-panic") == 0)
                        rec->panicked = true;
                return SUP_EVENT_RECORD;
        }
        if (strcmp(n, "GUEST_PANICKED") == 0) {
                rec->panicked = true;
                /* QEMU's default panic action is to shut down; with
                 * "-action panic=pause" (or -no-shutdown) it waits. Under `run`
                 * nobody will look at a paused corpse: quit. */
                action = qmp_member_string(data, "action");
                return SUP_EVENT_RECORD | (foreground && action && strcmp(action, "pause") == 0 ? SUP_EVENT_QUIT : 0);
        }
        if (strcmp(n, "BALLOON_CHANGE") == 0) {
                int64_t actual = qmp_member_int(data, "actual", 0);

                if (actual <= 0)
                        return 0;
                rec->balloon_actual = (uint64_t)actual;
                return SUP_EVENT_RECORD;
        }
        if ((strcmp(n, "DEVICE_DELETED") == 0 || strcmp(n, "ACPI_DEVICE_OST") == 0 ||
             strcmp(n, "MEMORY_DEVICE_SIZE_CHANGE") == 0) &&
            running)
                return SUP_EVENT_RESYNC;
        if (strcmp(n, "STOP") == 0 && running) {
                rec->state = VM_STATE_PAUSED;
                return SUP_EVENT_RECORD;
        }
        if (strcmp(n, "RESUME") == 0 && running) {
                rec->state = VM_STATE_RUNNING;
                return SUP_EVENT_RECORD;
        }
        return 0;
}
