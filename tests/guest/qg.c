/* qg: the test guest's small static helper, for what busybox cannot do.
 * Built by tests/guest/build.sh with `cc -static` and put in the initramfs as
 * /bin/qg. Not part of qemuctl and not built by the main Makefile rules.
 *
 *   qg outb PORT VALUE   write one byte to an I/O port (isa-debug-exit:
 *                        QEMU then exits with status (VALUE << 1) | 1)
 *   qg powerbtn          block until the ACPI power button is pressed
 *                        (KEY_POWER on any /dev/input/event*), then exit 0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <linux/vm_sockets.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <unistd.h>

static int do_outb(const char *port_s, const char *val_s)
{
        unsigned long port = strtoul(port_s, NULL, 0), val = strtoul(val_s, NULL, 0);

        if (port > 0xffff || val > 0xff) {
                fprintf(stderr, "qg: outb: port or value out of range\n");
                return 2;
        }
        if (ioperm(port, 1, 1) < 0) {
                perror("qg: ioperm");
                return 1;
        }
        outb((unsigned char)val, (unsigned short)port);
        return 0;
}

#define POWERBTN_ARMED "/run/qg-powerbtn-armed"

static int do_powerbtn(void)
{
        struct pollfd fds[32];
        int n = 0;

        /* The power button (LNXPWRBN, driver "button") is an input device;
         * evdev gives it a /dev/input/eventN node on devtmpfs. */
        for (int i = 0; i < 32; i++) {
                char path[64];
                int fd;

                snprintf(path, sizeof path, "/dev/input/event%d", i);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                fds[n].fd = fd;
                fds[n].events = POLLIN;
                n++;
        }
        if (n == 0) {
                fprintf(stderr, "qg: powerbtn: no /dev/input/event* (button and evdev not loaded?)\n");
                return 1;
        }
        /* tell the init the button is watched: it says "ready" only after
         * this, so a power button pressed right after "ready" is never lost */
        close(open(POWERBTN_ARMED, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
        for (;;) {
                if (poll(fds, n, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        perror("qg: poll");
                        return 1;
                }
                for (int i = 0; i < n; i++) {
                        struct input_event ev[16];
                        ssize_t len;

                        if (!(fds[i].revents & POLLIN))
                                continue;
                        len = read(fds[i].fd, ev, sizeof ev);
                        for (ssize_t k = 0; len > 0 && k < len / (ssize_t)sizeof ev[0]; k++)
                                if (ev[k].type == EV_KEY && ev[k].code == KEY_POWER && ev[k].value == 1)
                                        return 0;
                }
        }
}

/* One vsock connection on PORT: read what the host sends (up to a
 * newline or 200 bytes), answer "guest got: ..." and exit (vsock.sh). */
static int do_vsock_echo(const char *port_s)
{
        struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
                                  .svm_port = (unsigned)strtoul(port_s, NULL, 0) };
        char buf[256], out[300];
        ssize_t n;
        int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0), c;

        if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(s, 1) < 0) {
                perror("qg: vsock listen");
                return 1;
        }
        close(open("/run/qg-vsock-listening", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
        if ((c = accept(s, NULL, NULL)) < 0) {
                perror("qg: vsock accept");
                return 1;
        }
        n = read(c, buf, 200);
        if (n < 0)
                n = 0;
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        n = snprintf(out, sizeof out, "guest got: %s\n", buf);
        if (write(c, out, (size_t)n) != n)
                return 1;
        close(c);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc == 4 && strcmp(argv[1], "outb") == 0)
                return do_outb(argv[2], argv[3]);
        if (argc == 2 && strcmp(argv[1], "powerbtn") == 0)
                return do_powerbtn();
        if (argc == 3 && strcmp(argv[1], "vsock-echo") == 0)
                return do_vsock_echo(argv[2]);
        fprintf(stderr, "usage: qg outb PORT VALUE | qg powerbtn | qg vsock-echo PORT\n");
        return 2;
}
