/* What `start` and `run` share: VM file -> state dir -> QEMU argv. */
#pragma once
#include <stdbool.h>

#include "launcher/cmdline.h"
#include "launcher/spec.h"

struct launch {
        struct vm_spec *spec;
        char *rundir;
        int lock_fd;
        char **argv;
};

/* Load and validate FILE (printing every problem), prepare the state dir
 * (lock held in lock_fd), resolve accel and disks, record spec.json, build
 * the argv with serial as given. Returns 0 or an exit code (already printed). */
int launch_prepare(const char *verb, const char *file, enum cmdline_serial serial, const char *serial_file,
                   int lock_timeout_ms, struct launch *ret);
void launch_done(struct launch *l);
/* Parse "30", "30s", "2m", "500ms" into ms; -1 when not a duration. */
int parse_duration_ms(const char *s);
