/* Port forwards of user-mode NICs (net[].forward): their one parser, and
 * the host ports a running VM really has.
 *
 * A forward with host port 0 ("tcp:127.0.0.1:0:22") lets the kernel pick a
 * free port: QEMU 7.2's slirp binds hostfwd=tcp:127.0.0.1:0-:22 as written,
 * and `info usernet` (HMP) lists each forward's bound address and port
 * (libslirp reads them with getsockname). The supervisor asks once QEMU is
 * up, before the guest runs, and writes RUNDIR/ports.json, which `port` and
 * `status` read. Nothing is bound by qemuctl first and handed over, so there
 * is no window in which another process can take the port. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "../common/err.h"
#include "spec.h"

#define VM_RUNDIR_PORTS "ports.json"

struct vm_forward {
        bool udp;
        char addr[16];       /* the host address ("" = every address) */
        unsigned host_port;  /* 0 = the kernel picks one at start */
        unsigned guest_port; /* 1..65535 */
};

/* "tcp|udp:[HOSTADDR:]HOSTPORT:GUESTPORT" (HOSTADDR IPv4, HOSTPORT 0..65535,
 * GUESTPORT 1..65535): 0, or -EINVAL. */
int vm_forward_parse(const char *s, struct vm_forward *ret);

/* A forward of a running VM, with the host port it got. */
struct vm_port {
        size_t net;          /* net[N] */
        char *rule;          /* as the VM file says: "tcp:0:22" */
        bool udp;
        char addr[16];       /* "0.0.0.0" for every address */
        unsigned host_port;  /* the bound port (never 0) */
        unsigned guest_port;
};

struct vm_ports {
        struct vm_port *v;
        size_t n;
};

void vm_ports_done(struct vm_ports *p);
/* Does any NIC of spec forward a port? */
bool vm_ports_wanted(const struct vm_spec *spec);
/* The forwards of spec with their host ports, the chosen ones taken from
 * usernet (QEMU's `info usernet` output; the NICs are netdevs hostnetN).
 * -1 with err EPROTO when a forward of port 0 is not in it. */
int vm_ports_resolve(const struct vm_spec *spec, const char *usernet, struct vm_ports *ret, struct qc_err *err);
/* ports.json: [{"net", "rule", "proto", "host", "host_port", "guest_port"}] */
int vm_ports_write(const char *rundir, const struct vm_ports *p, struct qc_err *err);
/* -1 with err ENOENT when the VM recorded none (no forwards, or not started
 * by this version). */
int vm_ports_read(const char *rundir, struct vm_ports *ret, struct qc_err *err);
/* The JSON array of p (for status --json); NULL on ENOMEM. */
struct json_object *vm_ports_to_json(const struct vm_ports *p);
