/* --live, --config, --current on the live verbs: virsh's rules
 * (virDomainObjUpdateModificationImpact; the table in docs/host.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/affect.h"
#include "cli/cli.h"
#include "cli/defs.h"
#include "cli/launch.h"
#include "common/cleanup.h"

int cli_affect_resolve(const char *verb, const char *name, unsigned given, bool query, unsigned *ret)
{
        struct qc_err err = { 0 };
        bool running = false;
        int state, def;

        if ((given & CLI_AFFECT_CURRENT) && (given & (CLI_AFFECT_LIVE | CLI_AFFECT_CONFIG)))
                return cli_usage(verb, "--current cannot go with --live or --config (it means whichever of them the "
                                       "VM's state says)");
        if (query && (given & CLI_AFFECT_LIVE) && (given & CLI_AFFECT_CONFIG))
                return cli_usage(verb, "--live and --config together: a query shows one of them");
        /* a state dir or a store that is not ours alone, a bad name: said */
        if ((state = cli_vm_state(name, &running, &err)) < 0 || (def = defs_exists(name, &err)) < 0)
                return cli_fail(verb, &err);
        if (!running && !def)
                return cli_failf(verb, "no VM `%s`: it neither runs nor is defined (qemuctl list --all)", name);
        unsigned a = given & (CLI_AFFECT_LIVE | CLI_AFFECT_CONFIG);
        /* none or --current: the running VM if it runs, else its definition */
        if (!a)
                a = running ? CLI_AFFECT_LIVE : CLI_AFFECT_CONFIG;
        if ((a & CLI_AFFECT_LIVE) && !running)
                return cli_failf(verb,
                                 "VM `%s` is not running: --live changes a running VM (virsh: \"Requested operation "
                                 "is not valid: domain is not running\"); --config changes its definition for the "
                                 "next start",
                                 name);
        if ((a & CLI_AFFECT_CONFIG) && !def)
                return cli_failf(verb,
                                 "VM `%s` is transient: it has no definition for --config to change (virsh: "
                                 "\"transient domains do not have any persistent config\"); make it persistent with "
                                 "qemuctl dump %s > %s.json && qemuctl define %s.json",
                                 name, name, name, name);
        *ret = a;
        return 0;
}

int cli_config_load(const char *verb, const char *name, struct vm_spec **ret)
{
        struct spec_diags diags = { 0 };
        struct qc_err err = { 0 };
        _cleanup_free_ char *path = NULL;

        if (defs_load(name, ret, &diags, &err) == 0) {
                spec_diags_done(&diags);
                return 0;
        }
        if (diags.n && defs_path(name, &path, NULL) == 0)
                return cli_print_diags(verb, path, &diags);
        spec_diags_done(&diags);
        return cli_fail(verb, &err);
}

int cli_config_update(const char *verb, const char *name, defs_change_fn change, void *userdata)
{
        struct spec_diags diags = { 0 };
        struct qc_err err = { 0 };
        _cleanup_free_ char *path = NULL;

        if (defs_update(name, change, userdata, &diags, &err) == 0) {
                spec_diags_done(&diags);
                return 0;
        }
        /* the key table's own checks of the result, at their place in the definition */
        if (diags.n && defs_path(name, &path, NULL) == 0) {
                cli_print_diags(verb, path, &diags);
                return cli_failf(verb, "the definition of VM `%s` is unchanged: the change would make it invalid",
                                 name);
        }
        spec_diags_done(&diags);
        return cli_fail(verb, &err);
}
