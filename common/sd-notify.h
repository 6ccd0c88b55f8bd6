/* The service manager notification protocol of sd_notify(3), without
 * libsystemd: one datagram of newline-separated "KEY=VALUE" assignments
 * ("READY=1", "STOPPING=1", "STATUS=...", "MAINPID=N") sent to the unix
 * datagram socket named by $NOTIFY_SOCKET: a file system path, or "@name"
 * for the abstract namespace. systemd documents the protocol as stable
 * (https://systemd.io/PORTABILITY_AND_STABILITY/; sd_notify(3) describes the
 * protocol to reimplement). docs/DESIGN.md says why not libsystemd. */
#pragma once
#include <stdarg.h>
#include <stdbool.h>

/* Whether $NOTIFY_SOCKET is set (something listens). */
bool sd_notify_wanted(void);
/* Send text as one datagram. 1 sent, 0 when $NOTIFY_SOCKET is unset (or
 * names a socket family this code does not speak: vsock), -errno when it
 * could not be sent. */
int sd_notify_send(const char *text);
/* printf-style; the same results (-ENOMEM too). */
int sd_notify_sendf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int sd_notify_vsendf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
