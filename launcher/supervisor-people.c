#include "supervisor-people.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/io.h"
#include "../qmp/qmp-relay.h"
#include "paths.h"
#include "supervisor-files.h"

_Static_assert(SUP_PEOPLE_MAX_POLL >= QMP_RELAY_MAX_CLIENTS + 2, "room for the listener, QEMU and every client");

/* QEMU's relay monitor is nobody else's: it answers at once. The relay
 * never waits for it (the greeting comes through the poll loop); this is
 * how long the clients wait before they are told QEMU did not greet. */
#define RELAY_CONNECT_TIMEOUT_MS 3000

struct sup_people {
        int listen_fd;
        struct qmp_relay *relay;
};

int sup_people_open(const char *rundir, struct sup_people **ret, struct qc_err *err)
{
        _cleanup_free_ char *sock = NULL, *relay = NULL;
        struct sup_people *p;

        if (!(sock = path_join(rundir, VM_RUNDIR_QMP)) || !(relay = path_join(rundir, VM_RUNDIR_RELAY)))
                return qc_err_sys(err, ENOMEM, "people's monitor");
        p = calloc(1, sizeof *p);
        if (!p)
                return qc_err_sys(err, ENOMEM, "people's monitor");
        p->listen_fd = sup_listen(sock, err);
        if (p->listen_fd < 0 || qmp_relay_new(relay, RELAY_CONNECT_TIMEOUT_MS, &p->relay, err) < 0) {
                sup_people_close(p);
                return -1;
        }
        *ret = p;
        return 0;
}

void sup_people_close(struct sup_people *p)
{
        if (!p)
                return;
        if (p->listen_fd >= 0)
                close(p->listen_fd);
        qmp_relay_free(p->relay);
        free(p);
}

size_t sup_people_pollfds(struct sup_people *p, struct pollfd *pfd, size_t max)
{
        if (max == 0)
                return 0;
        pfd[0] = (struct pollfd){ .fd = p->listen_fd, .events = POLLIN };
        return 1 + qmp_relay_pollfds(p->relay, pfd + 1, max - 1);
}

void sup_people_dispatch(struct sup_people *p, const struct pollfd *pfd, size_t n)
{
        if (n == 0)
                return;
        if (n > 1)
                qmp_relay_dispatch(p->relay, pfd + 1, n - 1);
        if (pfd[0].revents & POLLIN) {
                int fd = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);

                /* a client the relay cannot take is closed: it sees EOF
                 * instead of a greeting */
                if (fd >= 0)
                        qmp_relay_add_client(p->relay, fd, NULL);
        }
}
