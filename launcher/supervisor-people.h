/* The monitor for people and tools: RUNDIR/qmp.sock, a socket the
 * supervisor listens on and relays (qmp/qmp-relay.h) onto QEMU's relay.sock
 * monitor, so any number of clients can hold it open while qemuctl's verbs
 * use ctl.sock undisturbed. It lives as long as the supervisor does. */
#pragma once
#include <poll.h>
#include <stddef.h>

#include "../common/err.h"

struct sup_people;

/* Listen on RUNDIR/qmp.sock (0600). QEMU's relay.sock is connected when the
 * first client comes. */
int sup_people_open(const char *rundir, struct sup_people **ret, struct qc_err *err);
void sup_people_close(struct sup_people *p);
/* At most max entries; SUP_PEOPLE_MAX_POLL is always enough. */
#define SUP_PEOPLE_MAX_POLL 66
size_t sup_people_pollfds(struct sup_people *p, struct pollfd *pfd, size_t max);
void sup_people_dispatch(struct sup_people *p, const struct pollfd *pfd, size_t n);
