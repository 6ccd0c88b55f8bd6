/* A scripted fake QMP server for tests (after libvirt's
 * qemumonitortestutils): build a script, start it on a socketpair or a unix
 * socket, run the client against it, then fakeqmp_finish() tells whether the
 * client sent exactly what the script expected. The server runs in a thread
 * and never waits more than FAKEQMP_IO_TIMEOUT_MS for the client. */
#pragma once
#include <stddef.h>

#define FAKEQMP_IO_TIMEOUT_MS 10000
#define FAKEQMP_GREETING \
        "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, " \
        "\"package\": \"Debian 1:7.2+dfsg-7+deb12u18\"}, \"capabilities\": [\"oob\"]}}"

struct fakeqmp;

struct fakeqmp *fakeqmp_new(void);
void fakeqmp_free(struct fakeqmp *f);

/* Script steps, run in order. */
/* The QEMU 7.2 greeting, then expect qmp_capabilities and answer it. */
void fakeqmp_greet(struct fakeqmp *f);
/* The greeting of another QEMU version (an old one, for feature
 * detection), then qmp_capabilities as fakeqmp_greet. */
void fakeqmp_greet_version(struct fakeqmp *f, int major, int minor, int micro);
/* Expect query-commands and answer with these names (NULL-terminated). */
void fakeqmp_expect_commands(struct fakeqmp *f, const char *const *names);
/* Send one line (CRLF added). "$ID" in it becomes the id of the last
 * command received. */
void fakeqmp_send(struct fakeqmp *f, const char *line);
/* Send exactly these bytes. */
void fakeqmp_send_raw(struct fakeqmp *f, const void *data, size_t n);
/* Read one command; its "execute" and "arguments" must equal cmd_json's
 * (compared as JSON; the id is remembered, not compared). */
void fakeqmp_expect(struct fakeqmp *f, const char *cmd_json);
/* The guest agent's resync: guest-sync-delimited with an integer id, which
 * becomes "$ID" (reply with fakeqmp_send(f, "\xff{\"return\": $ID}")). A 0xFF
 * byte before it is answered with a parse error first, as qemu-ga does. */
void fakeqmp_expect_sync(struct fakeqmp *f);
/* Read one command without checking it (its id is remembered). */
void fakeqmp_expect_any(struct fakeqmp *f);
/* {"return": return_json, "id": <last id>} */
void fakeqmp_reply(struct fakeqmp *f, const char *return_json);
/* {"error": {"class": cls, "desc": desc}, "id": <last id>} */
void fakeqmp_error(struct fakeqmp *f, const char *cls, const char *desc);
/* Following sends are written chunk bytes at a time with pause_us between
 * writes (0 = whole). */
void fakeqmp_split(struct fakeqmp *f, size_t chunk, int pause_us);
void fakeqmp_sleep(struct fakeqmp *f, int ms);
/* Close the connection (the script ends here). */
void fakeqmp_close(struct fakeqmp *f);
/* Read and discard until the client closes (a peer that never answers). */
void fakeqmp_wait_eof(struct fakeqmp *f);

/* Start on a socketpair; *ret_fd is the client end (caller owns it). */
int fakeqmp_start(struct fakeqmp *f, int *ret_fd);
/* Start listening on a unix socket at path; the server accepts one client. */
int fakeqmp_listen(struct fakeqmp *f, const char *path);
/* Wait for the script to end. Returns 0 if every step went as scripted,
 * else -1 and *ret_log (if non-NULL, malloc'd) says what differed. */
int fakeqmp_finish(struct fakeqmp *f, char **ret_log);
