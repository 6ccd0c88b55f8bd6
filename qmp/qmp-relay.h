/* A QMP relay: any number of QMP clients served over one QMP connection of
 * our own (QEMU serves one client per monitor socket).
 *
 * Each client gets a greeting (QEMU's version; no "oob" capability) and its
 * qmp_capabilities is answered here. Its commands go to QEMU with the id
 * replaced by one of ours, and the reply goes back to that client with the
 * client's own id (or none, as it sent none). Events go to every client that
 * negotiated. A client that stops reading is not waited for: past
 * QMP_RELAY_MAX_OUT bytes of unread output it is dropped; one that sends
 * more than QEMU answers is read no further (QMP_RELAY_MAX_QUEUED). When
 * QEMU's connection breaks, each client gets a GenericError (answering its
 * commands still out) and is closed; the next client connects anew. Messages are one
 * JSON object per line, as QEMU writes them and as QMP clients send them.
 *
 * The relay never blocks: the caller polls the fds it gives and hands back
 * what poll said. Stands on its own like the rest of qmp/. */
#pragma once
#include <poll.h>
#include <stddef.h>

#include "../common/err.h"

#define QMP_RELAY_MAX_CLIENTS 64
#define QMP_RELAY_MAX_OUT (8u << 20)   /* unread output per client before it is dropped */
#define QMP_RELAY_MAX_INFLIGHT 64      /* commands of one client at QEMU; past it, its input waits */
/* Bytes of commands sent on to QEMU and not answered yet, of one client and
 * of all: past either, no more is read from that client until answers come
 * (backpressure; the client's own writes block). One command more than the
 * bound always fits (up to QMP_MAX_LINE). */
#define QMP_RELAY_MAX_QUEUED (4u << 20)
#define QMP_RELAY_MAX_QUEUED_ALL (32u << 20)

struct qmp_relay;

/* upstream: the path of QEMU's monitor socket the relay talks through; it
 * is connected when the first client arrives (a relay nobody uses costs
 * QEMU nothing). QEMU's greeting and qmp_capabilities go through the poll
 * loop, never waited for; clients are greeted once they are done. Past
 * timeout_ms without them, the clients get an error and are closed. */
int qmp_relay_new(const char *upstream, int timeout_ms, struct qmp_relay **ret, struct qc_err *err);
void qmp_relay_free(struct qmp_relay *r);
/* Take a connected client fd (closed by the relay from now on, also on
 * failure): greet it. Fails when QEMU's monitor cannot be reached or too
 * many clients are connected. */
int qmp_relay_add_client(struct qmp_relay *r, int fd, struct qc_err *err);
/* The fds to poll and what for: at most max entries (QMP_RELAY_MAX_CLIENTS
 * + 1 is always enough). Returns how many were filled. */
size_t qmp_relay_pollfds(struct qmp_relay *r, struct pollfd *pfd, size_t max);
/* Act on what poll said about the entries qmp_relay_pollfds filled. */
void qmp_relay_dispatch(struct qmp_relay *r, const struct pollfd *pfd, size_t n);
size_t qmp_relay_clients(const struct qmp_relay *r);
