/* launcher/ports.c: the one parser of net[].forward, and the host ports of
 * port-0 forwards read back from QEMU's `info usernet` (the text below is
 * what QEMU 7.2 printed for these forwards, CRLF and all). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "launcher/ports.h"
#include "tests/tap.h"

static const char usernet[] =
        "Hub -1 (hostnet0):\r\n"
        "  Protocol[State]    FD  Source Address  Port   Dest. Address  Port RecvQ SendQ\r\n"
        "  TCP[HOST_FORWARD]  10       127.0.0.1  2222       10.0.2.15    22     0     0\r\n"
        "  TCP[HOST_FORWARD]   9       127.0.0.1 42013       10.0.2.15    22     0     0\r\n"
        "  TCP[HOST_FORWARD]   8               * 36397       10.0.2.15    80     0     0\r\n"
        "  UDP[HOST_FORWARD]   3               * 47468       10.0.2.15    53     0     0\r\n"
        "Hub -1 (hostnet1):\r\n"
        "  Protocol[State]    FD  Source Address  Port   Dest. Address  Port RecvQ SendQ\r\n"
        "  TCP[HOST_FORWARD]  11               * 37233       10.0.2.15    22     0     0\r\n";

static void test_parse(void)
{
        struct vm_forward f;

        ok(vm_forward_parse("tcp:2222:22", &f) == 0 && !f.udp && !f.addr[0] && f.host_port == 2222 &&
                   f.guest_port == 22,
           "tcp:2222:22");
        ok(vm_forward_parse("udp:127.0.0.1:0:53", &f) == 0 && f.udp && strcmp(f.addr, "127.0.0.1") == 0 &&
                   f.host_port == 0 && f.guest_port == 53,
           "udp:127.0.0.1:0:53: host port 0 is a port to pick");
        ok(vm_forward_parse("tcp:22:0", &f) == -EINVAL, "guest port 0 is refused");
        ok(vm_forward_parse("tcp:65536:22", &f) == -EINVAL, "a port past 65535 is refused");
        ok(vm_forward_parse("sctp:1:2", &f) == -EINVAL, "another protocol is refused");
        ok(vm_forward_parse("tcp:localhost:1:2", &f) == -EINVAL, "a host name is refused (IPv4 only)");
        ok(vm_forward_parse("tcp::1:2", &f) == -EINVAL, "an empty address is refused");
        ok(vm_forward_parse("tcp:1:2:3:4", &f) == -EINVAL, "too many fields");
}

static void test_resolve(void)
{
        char *fw0[] = { "tcp:127.0.0.1:2222:22", "tcp:127.0.0.1:0:22", "tcp:0:80", "udp:0:53", NULL };
        char *fw1[] = { "tcp:0:22", NULL };
        struct vm_net nets[2] = {
                { .type = VM_NET_USER, .forward = fw0, .n_forward = 4 },
                { .type = VM_NET_USER, .forward = fw1, .n_forward = 1 },
        };
        struct vm_spec spec = { .nets = nets, .n_nets = 2 };
        struct vm_ports p = { 0 };
        struct qc_err err = { 0 };

        ok(vm_ports_wanted(&spec), "forwards wanted");
        if (!ok(vm_ports_resolve(&spec, usernet, &p, &err) == 0 && p.n == 5, "resolved (%s)", err.msg))
                return;
        is_int(p.v[0].host_port, 2222, "a fixed port is as written");
        is_int(p.v[1].host_port, 42013, "port 0 beside a fixed forward to the same guest port gets the other one");
        is_str(p.v[1].addr, "127.0.0.1", "with its address");
        is_int(p.v[2].host_port, 36397, "tcp:0:80");
        is_str(p.v[2].addr, "0.0.0.0", "every address is 0.0.0.0");
        ok(p.v[3].udp && p.v[3].host_port == 47468, "udp:0:53");
        ok(p.v[4].net == 1 && p.v[4].host_port == 37233, "the second NIC's own list (hostnet1)");
        vm_ports_done(&p);

        ok(vm_ports_resolve(&spec, "Hub -1 (hostnet0):\r\n", &p, &err) < 0 && err.code == EPROTO,
           "a port-0 forward QEMU does not list: EPROTO (%s)", err.msg);
}

int main(void)
{
        test_parse();
        test_resolve();
        return tap_done();
}
