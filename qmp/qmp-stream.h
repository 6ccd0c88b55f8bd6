/* QMP framing without a socket: bytes in, one JSON object per line out.
 * Internal to qmp/ (and its tests and fuzzer); the transport feeds it what it
 * reads, so the fuzzer can drive exactly the code that parses the wire. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "../common/err.h"

struct qmp_stream {
        char *buf;
        size_t start; /* first unconsumed byte */
        size_t scan;  /* bytes before this have no '\n' (from start) */
        size_t len;
        size_t line_start; /* where the unfinished last line begins */
        size_t cap;
        size_t max_line; /* a line longer than this is an error */
        size_t last_len; /* bytes of the line qmp_stream_pop() returned last */
        const char *last_line; /* that line as received (valid until the next push) */
        json_tokener *tok;
        const char *peer; /* names the peer in messages; NULL = "the QMP peer" */
};

int qmp_stream_init(struct qmp_stream *s, size_t max_line);
void qmp_stream_done(struct qmp_stream *s);
/* Append bytes read from the peer. Fails (EMSGSIZE) when the line
 * being received grows past max_line; the stream is then unusable. */
int qmp_stream_push(struct qmp_stream *s, const void *data, size_t n, struct qc_err *err);
/* Take one complete message. Returns 1 with *ret (caller puts it), 0 when no
 * complete line is buffered yet, or -1 with err when a line is not a JSON
 * object ("garbage from peer: \"...\""); that line is consumed, so the caller
 * may go on popping. Blank lines are skipped. */
int qmp_stream_pop(struct qmp_stream *s, json_object **ret, struct qc_err *err);
/* Forget the unfinished last line (bytes after the last '\n'); complete
 * lines stay to be popped. The guest agent's 0xFF sentinel means this: the
 * agent's output restarts at a message boundary. */
void qmp_stream_drop_partial(struct qmp_stream *s);
/* Bytes buffered but not yet popped. */
size_t qmp_stream_pending(const struct qmp_stream *s);
/* Quote up to max bytes of data for an error message, escaping what is not
 * printable ASCII, appending "..." when cut. */
void qmp_snippet(const char *data, size_t n, size_t max, char *out, size_t outlen);
