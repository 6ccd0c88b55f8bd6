#include "supervisor-agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/io.h"
#include "paths.h"
#include "supervisor-files.h"

/* one direction of the relay: read into buf only when it is empty, write
 * it out, then read again (flow control by poll, nothing unbounded) */
struct pipe_buf {
        char buf[1 << 16];
        size_t len, off;
};

struct sup_agent {
        int listen_fd;
        int agent_fd;  /* QEMU's qga.sock, kept */
        int client_fd; /* -1: none attached */
        struct pipe_buf to_agent, to_client;
};

int sup_agent_open(const char *rundir, struct sup_agent **ret, struct qc_err *err)
{
        _cleanup_free_ char *sock = NULL, *qga = NULL;
        struct sup_agent *a;

        if (!(sock = path_join(rundir, VM_RUNDIR_AGENT_RELAY)) || !(qga = path_join(rundir, VM_RUNDIR_AGENT)))
                return qc_err_sys(err, ENOMEM, "agent relay");
        if (!(a = calloc(1, sizeof *a)))
                return qc_err_sys(err, ENOMEM, "agent relay");
        a->client_fd = -1;
        a->listen_fd = -1;
        /* QEMU serves qga.sock itself (server=on,wait=off): the connection
         * is there at once, and stays for QEMU's life */
        if ((a->agent_fd = unix_connect(qga, SOCK_NONBLOCK)) < 0) {
                qc_err_sys(err, -a->agent_fd, "connect %s", qga);
                a->agent_fd = -1;
                sup_agent_close(a);
                return -1;
        }
        if ((a->listen_fd = sup_listen(sock, err)) < 0 ||
            fcntl(a->listen_fd, F_SETFL, O_NONBLOCK) < 0) {
                if (a->listen_fd >= 0)
                        unlink(sock);
                sup_agent_close(a);
                return -1;
        }
        *ret = a;
        return 0;
}

void sup_agent_close(struct sup_agent *a)
{
        if (!a)
                return;
        if (a->listen_fd >= 0)
                close(a->listen_fd);
        if (a->agent_fd >= 0)
                close(a->agent_fd);
        if (a->client_fd >= 0)
                close(a->client_fd);
        free(a);
}

static void drop_client(struct sup_agent *a)
{
        close(a->client_fd);
        a->client_fd = -1;
        /* its answers are nobody's; what it sent on is finished (the next
         * client's 0xFF resets the agent's reader anyway) */
        a->to_client.len = a->to_client.off = 0;
}

size_t sup_agent_pollfds(struct sup_agent *a, struct pollfd *pfd, size_t max)
{
        if (max < SUP_AGENT_MAX_POLL)
                return 0;
        /* the agent: read when its buffer is empty, write what a client sent */
        pfd[0] = (struct pollfd){ .fd = a->agent_fd,
                                  .events = (short)((a->to_client.len == 0 ? POLLIN : 0) |
                                                    (a->to_agent.len ? POLLOUT : 0)) };
        if (a->client_fd >= 0) {
                pfd[1] = (struct pollfd){ .fd = a->client_fd,
                                          .events = (short)((a->to_agent.len == 0 ? POLLIN : 0) |
                                                            (a->to_client.len ? POLLOUT : 0)) };
                pfd[2] = (struct pollfd){ .fd = -1 };
        } else {
                pfd[1] = (struct pollfd){ .fd = -1 };
                /* the next client once the last has gone */
                pfd[2] = (struct pollfd){ .fd = a->listen_fd, .events = POLLIN };
        }
        return SUP_AGENT_MAX_POLL;
}

/* read what fd has into b (empty); 0 = EOF or error, 1 = went on */
static int fill(int fd, struct pipe_buf *b)
{
        ssize_t n = read(fd, b->buf, sizeof b->buf);

        if (n > 0) {
                b->len = (size_t)n;
                b->off = 0;
                return 1;
        }
        return n < 0 && (errno == EAGAIN || errno == EINTR);
}

/* write out what b holds; 0 = the peer is gone */
static int drain(int fd, struct pipe_buf *b)
{
        ssize_t n = send(fd, b->buf + b->off, b->len - b->off, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0)
                return errno == EAGAIN || errno == EINTR;
        b->off += (size_t)n;
        if (b->off == b->len)
                b->len = b->off = 0;
        return 1;
}

void sup_agent_dispatch(struct sup_agent *a, const struct pollfd *pfd, size_t n)
{
        if (n < SUP_AGENT_MAX_POLL || a->agent_fd < 0)
                return;
        /* a new client first: what the agent says in this round is its
         * (stale bytes, if any, its sync skips) */
        if (a->client_fd < 0 && pfd[2].fd == a->listen_fd && (pfd[2].revents & POLLIN)) {
                int fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd >= 0)
                        a->client_fd = fd;
        }
        if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                if (a->to_client.len == 0 && !fill(a->agent_fd, &a->to_client)) {
                        /* QEMU closed it: it is going away; clients get EOF */
                        close(a->agent_fd);
                        a->agent_fd = -1;
                        if (a->client_fd >= 0)
                                drop_client(a);
                        return;
                }
                if (a->client_fd < 0)
                        a->to_client.len = a->to_client.off = 0; /* nobody's */
        }
        if ((pfd[0].revents & POLLOUT) && a->to_agent.len && !drain(a->agent_fd, &a->to_agent))
                a->to_agent.len = a->to_agent.off = 0;
        if (a->client_fd >= 0 && pfd[1].fd == a->client_fd) {
                if ((pfd[1].revents & POLLOUT) && a->to_client.len && !drain(a->client_fd, &a->to_client)) {
                        drop_client(a);
                } else if ((pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) && a->to_agent.len == 0 &&
                           !fill(a->client_fd, &a->to_agent)) {
                        drop_client(a);
                }
        }
}
