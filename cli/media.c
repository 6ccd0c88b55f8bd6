/* change-media: a CD-ROM's medium on a running VM (virsh change-media). */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/placement.h"
#include "common/cleanup.h"
#include "common/io.h"
#include "vm/vm-media.h"

/* their vals in cli/verbs.c */
#define OPT_EJECT 'e'
#define OPT_INSERT 'i'
#define OPT_UPDATE 'u'
#define OPT_FORCE 'f'
#define OPT_FORMAT 'F'

struct media_opts {
        bool eject, insert, update;
        const char *format;
};

static int on_media_opt(const char *verb, int c, const char *arg, void *ud)
{
        struct media_opts *m = ud;

        switch (c) {
        case OPT_EJECT: m->eject = true; break;
        case OPT_INSERT: m->insert = true; break;
        case OPT_UPDATE: m->update = true; break;
        case OPT_FORCE: break; /* the tray is always opened by force, as libvirt does */
        case OPT_FORMAT: m->format = arg; break;
        default: return cli_usage(verb, "unknown option");
        }
        return 0;
}

int cmd_change_media(int argc, char **argv)
{
        const char *verb = argv[0];
        struct media_opts m = { 0 };
        struct cli_opts o = { .no_json = "it prints one line", .on_opt = on_media_opt, .ud = &m };
        _cleanup_cli_placement_ struct cli_placement v = { 0 };
        struct qc_err err = { 0 };
        enum vm_disk_format format = VM_DISK_FORMAT_AUTO;
        enum vm_media_action action;
        _cleanup_free_ char *file = NULL;
        const char *fmt;
        size_t idx;
        int rc, parsed = cli_parse_opts(verb, argc, argv, &o, &rc);

        if (parsed != 0)
                return rc;
        if (argc - optind < 2 || argc - optind > 3)
                return cli_usage(verb, "expected NAME DISK [FILE]");
        if (m.eject + m.insert + m.update > 1)
                return cli_usage(verb, "--eject, --insert and --update exclude each other");
        action = m.eject ? VM_MEDIA_EJECT : m.insert ? VM_MEDIA_INSERT : VM_MEDIA_UPDATE;
        if (action == VM_MEDIA_EJECT && argc - optind == 3)
                return cli_usage(verb, "--eject takes no FILE");
        if (action != VM_MEDIA_EJECT && argc - optind == 2)
                return cli_usage(verb, "give the new medium's FILE, or --eject to empty the drive");
        if (m.format && action == VM_MEDIA_EJECT)
                return cli_usage(verb, "--format: only with a FILE");
        if (m.format && (int)(format = vm_disk_format_from_string(m.format)) < 0)
                return cli_usage(verb, "--format: expected raw, qcow2, ... or auto, got \"%s\"", m.format);
        if (argc - optind == 3) {
                const char *f = argv[optind + 2];
                char cwd[PATH_MAX];

                if (!f[0])
                        return cli_usage(verb, "FILE: empty");
                /* relative to where the user is, as any command's argument */
                if (f[0] == '/')
                        file = strdup(f);
                else if (getcwd(cwd, sizeof cwd))
                        file = path_join(cwd, f);
                if (!file)
                        return cli_usage(verb, "FILE %s: cannot make it an absolute path", f);
        }
        if ((rc = cli_placement_open(verb, argv[optind], true, &v)))
                return rc;
        if (vm_media_find(v.live.spec, argv[optind + 1], &idx, &err) < 0)
                return cli_fail(verb, &err);
        if (vm_change_media(&v.live, idx, action, file, format, &err) < 0)
                return cli_fail(verb, &err);
        if (action == VM_MEDIA_EJECT) {
                printf("%s: VM `%s`: disk%zu is empty\n", verb, v.h->name, idx);
                return CLI_EXIT_OK;
        }
        fmt = vm_disk_format_to_string(v.live.spec->disks[idx].format);
        printf("%s: VM `%s`: disk%zu holds %s (%s)\n", verb, v.h->name, idx, v.live.spec->disks[idx].file,
               fmt ? fmt : "?");
        return CLI_EXIT_OK;
}
