/* The floor for a one-shot verb: a process that connects to a QMP socket,
 * reads the greeting, negotiates, sends query-status and prints the reply
 * line. Raw bytes, no JSON parser, linked with libc only (--as-needed): what
 * any client must pay to ask QEMU one thing from a fresh process.
 * Usage: qmp-oneshot SOCKET [COMMAND-JSON] */
#include "bench/bench.h"

int main(int argc, char **argv)
{
        static struct b_qmp q;

        if (argc < 2)
                b_die("usage: qmp-oneshot SOCKET [COMMAND-JSON]");
        if (b_qmp_open(&q, argv[1], 0, false) < 0)
                b_die("qmp-oneshot: %s: cannot connect or negotiate", argv[1]);
        if (b_qmp_cmd(&q, argc > 2 ? argv[2] : "{\"execute\":\"query-status\"}") != 0)
                b_die("qmp-oneshot: %s", q.line);
        puts(q.line);
        return 0;
}
