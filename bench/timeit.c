/* Time whole commands, interleaved: round i runs command 1, 2, ... k once
 * each (the order rotating every round), so slow phases of a shared, noisy
 * machine hit every command alike. Each run is posix_spawn → waitpid with
 * stdout/stderr to /dev/null; a run that fails stops the benchmark.
 * Prints one markdown row per command; the first command is the baseline
 * the others are compared with (-B: no baseline, every row plain).
 *
 * Usage: timeit -f FIGURE -n ROUNDS [-w WARMUP] [-p PER] [-B] -- LABEL CMD ARGS... :: LABEL CMD ARGS... */
#include "bench/bench.h"

#define MAX_CMDS 8

int main(int argc, char **argv)
{
        const char *figure = "";
        int rounds = 20, warmup = 2, opt, k = 0;
        double per = 1;
        bool baseline = true;
        char **cmd[MAX_CMDS];
        struct b_series s[MAX_CMDS] = { { 0 } };

        while ((opt = getopt(argc, argv, "+f:n:w:p:B")) != -1) {
                switch (opt) {
                case 'f': figure = optarg; break;
                case 'n': rounds = atoi(optarg); break;
                case 'w': warmup = atoi(optarg); break;
                case 'p': per = atof(optarg); break;
                case 'B': baseline = false; break;
                default: b_die("usage: timeit -f FIGURE -n ROUNDS [-w WARMUP] [-p PER] [-B] -- LABEL CMD... :: LABEL CMD...");
                }
        }
        if (rounds <= 0 || per <= 0)
                b_die("timeit: bad -n or -p");
        /* split the rest on "::" in place */
        for (int i = optind; i < argc && k < MAX_CMDS;) {
                s[k].what = argv[i];
                cmd[k] = &argv[i + 1];
                while (i < argc && strcmp(argv[i], "::") != 0)
                        i++;
                if (i < argc)
                        argv[i++] = NULL;
                if (!cmd[k][0])
                        b_die("timeit: no command after label %s", s[k].what);
                k++;
        }
        if (k == 0)
                b_die("timeit: no command");
        for (int r = 0; r < warmup; r++)
                for (int c = 0; c < k; c++)
                        b_run(cmd[c]);
        for (int r = 0; r < rounds; r++)
                for (int j = 0; j < k; j++) {
                        int c = (j + r) % k;
                        int64_t t0 = b_now_ns();

                        b_run(cmd[c]);
                        b_add(&s[c], (double)(b_now_ns() - t0) / 1e6);
                }
        for (int c = 0; c < k; c++)
                b_row(figure, &s[c], per, baseline && c > 0 ? &s[0] : NULL);
        return 0;
}
