/* cgroup v2 as qemuctl will find it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/cgroups.h"
#include "host.h"

void host_cgroups_read(const char *mountinfo, struct host_cgroups *ret)
{
        struct host_cgroups c = { 0 };
        struct cg_hier *h = NULL;
        struct qc_err e = { 0 };
        char *mount = NULL;

        if (cg_find_mount(mountinfo, &mount, &c.v1_mask, &e) < 0) {
                snprintf(c.why, sizeof c.why, "%s", e.msg);
                *ret = c;
                return;
        }
        c.mount = mount;
        if (cg_hier_open(mount, &h, &e) < 0 || cg_hier_controllers(h, &c.offered, &e) < 0)
                snprintf(c.why, sizeof c.why, "%s", e.msg);
        cg_hier_free(h);
        *ret = c;
}

void host_cgroups_done(struct host_cgroups *c)
{
        free(c->mount);
        c->mount = NULL;
}
