/* qemuctl: find the verb (cli/verbs.c) and run it. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int main(int argc, char **argv)
{
        const struct verb *v;

        if (argc < 2) {
                cli_help_overview(stderr);
                return CLI_EXIT_USAGE;
        }
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
                return cmd_help(1, argv + 1);
        if (strcmp(argv[1], "--version") == 0)
                return cmd_version(1, argv + 1);
        if (!(v = cli_verb_find(argv[1]))) {
                fprintf(stderr, "qemuctl: unknown verb '%s'. Try 'qemuctl help'.\n", argv[1]);
                return CLI_EXIT_USAGE;
        }
        return v->fn(argc - 1, argv + 1);
}
