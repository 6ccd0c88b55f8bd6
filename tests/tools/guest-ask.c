/* guest-ask [-t SECONDS] SOCKET QUESTION...
 * Ask the test guest one question over the unix socket of its ttyS1 chardev
 * and print the one-line answer (tests/guest/README.md lists the questions).
 * Exit 0 with the answer, 1 on error or timeout (default 30 s), 2 on usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/cleanup.h"
#include "../lib/guest.h"

int main(int argc, char **argv)
{
        struct qc_err err = {};
        _cleanup_free_ char *q = NULL, *answer = NULL;
        double secs = 30;
        size_t len = 0;
        int opt;

        while ((opt = getopt(argc, argv, "+t:h")) != -1) {
                switch (opt) {
                case 't':
                        secs = strtod(optarg, NULL);
                        break;
                case 'h':
                default:
                        fprintf(stderr, "usage: guest-ask [-t SECONDS] SOCKET QUESTION...\n");
                        return opt == 'h' ? 0 : 2;
                }
        }
        if (argc - optind < 2 || secs <= 0) {
                fprintf(stderr, "usage: guest-ask [-t SECONDS] SOCKET QUESTION...\n");
                return 2;
        }
        for (int i = optind + 1; i < argc; i++)
                len += strlen(argv[i]) + 1;
        q = calloc(1, len + 1);
        if (!q)
                return 1;
        for (int i = optind + 1; i < argc; i++) {
                if (i > optind + 1)
                        strcat(q, " ");
                strcat(q, argv[i]);
        }
        if (guest_ask(argv[optind], q, (int)(secs * 1000), &answer, &err) < 0) {
                fprintf(stderr, "guest-ask: %s\n", err.msg);
                return 1;
        }
        printf("%s\n", answer);
        return 0;
}
