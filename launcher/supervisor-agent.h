/* The guest agent through the supervisor: RUNDIR/agent.sock, a socket the
 * supervisor listens on and relays, byte for byte, onto one connection to
 * QEMU's qga.sock that it keeps for the VM's life.
 *
 * Why: qemu-ga 7.2 reads its virtio-serial port; when no host client is
 * attached the read gives EOF, and qemu-ga sleeps 100 ms before it looks
 * again (qga/main.c, channel_event_cb). A verb that connects to qga.sock
 * afresh (exec, cp, wait --for agent, stop) waited up to those 100 ms for
 * its first answer: `exec NAME -- true` took 122 ms against 19 ms on a kept
 * connection (docs/performance.md, figure 7). With the supervisor attached
 * all the time, qemu-ga never sees EOF.
 *
 * One client at a time, as qemu-ga serves one: the next waits in the
 * listen backlog until the current one leaves. Nothing is parsed: each
 * client syncs at connect (0xFF + guest-sync-delimited, qmp/qga.h), which
 * drops whatever an earlier client left unanswered; what the agent says
 * while no client is attached is dropped. When the supervisor is gone,
 * agent.sock refuses and clients go to qga.sock directly. */
#pragma once
#include <poll.h>
#include <stddef.h>

#include "../common/err.h"

struct sup_agent;

/* Listen on RUNDIR/agent.sock (0600) and connect to RUNDIR/qga.sock. */
int sup_agent_open(const char *rundir, struct sup_agent **ret, struct qc_err *err);
void sup_agent_close(struct sup_agent *a);
#define SUP_AGENT_MAX_POLL 3
size_t sup_agent_pollfds(struct sup_agent *a, struct pollfd *pfd, size_t max);
void sup_agent_dispatch(struct sup_agent *a, const struct pollfd *pfd, size_t n);
