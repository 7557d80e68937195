/* wsio: websocketd's stdio as WebSocket messages (README.md, "websocketd and
 * the ws programs"): one write per message into an empty, large-enough stdout
 * pipe. */
#ifndef SW_WSIO_H
#define SW_WSIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

enum { WSIO_OK = 0, WSIO_GONE = -1, WSIO_TOO_BIG = -2 };

/* text_mode: websocketd without --binary, where each line is one message. */
void wsio_init(bool text_mode);
/* Sends the parts as exactly one message: waits until websocketd has taken
 * the previous one, makes the pipe large enough, writes once. WSIO_TOO_BIG
 * when the host will not allow a pipe that large (nothing is written). */
int wsio_send(const struct iovec *iov, int iovcnt);
struct spill;
/* wsio_send() of the parts followed by the len bytes that wait in the pipe
 * src (spill.h, a frame moved from Redis): the message is put together in a
 * pipe of its own and spliced into stdout in one step, so websocketd still
 * finds it whole, and its bytes are never copied. Falls back to reading
 * them and wsio_send() where pipes cannot be made that large. */
int wsio_send_moved(const struct iovec *iov, int iovcnt, struct spill *src, size_t len);
/* A JSON control message (a text line in text mode). */
int wsio_send_json(const char *json, size_t len);
/* {"error": msg} */
int wsio_send_error(const char *msg);
/* {"error": "frame too large", "size": size}: what a viewer gets instead of a
 * frame message the host's pipes cannot carry whole (never a split one). */
int wsio_send_too_large(size_t size);
/* {"status": "closing", "reason": reason, "message": msg} */
int wsio_send_closing(const char *reason, const char *msg);
/* Whether websocketd has taken everything written so far. */
bool wsio_drained(void);

/* Before the program ends a connection itself (refusal, timeout): reads and
 * drops what the client still sends until it is quiet or gone, so that
 * websocketd closes a socket with nothing unread (see wsio.c). */
void wsio_linger(void);

/* Reads what stdin has (after poll said so): >0 bytes, 0 the viewer left, -1 error. */
ssize_t wsio_read(void *dst, size_t cap);

/* Input that knows where messages end (README.md, "websocketd and the ws programs"):
 * websocketd writes each client message to our stdin with one write(), so a
 * read that takes everything from a pipe that was never full ends where a
 * message ends. Makes the stdin pipe start_bytes large, and lets it grow up
 * to max_bytes (and fs.pipe-max-size) as larger messages come: all of a
 * user's pipes share one budget. A pipe the host will not enlarge is logged
 * once; then only silence ends the larger messages. */
void wsio_input_init(size_t start_bytes, size_t max_bytes);
/* Reads what stdin has (after poll said so) into an internal buffer, valid
 * until the next call: >0 bytes, 0 the client left, -1 error. */
ssize_t wsio_read_input(const char **data);
/* Whether the bytes of the last read end a message, given that the caller
 * found `ends` message ends within them (each may separate two writes). */
bool wsio_input_ended(size_t ends);
/* Whether stdin holds bytes not yet read. */
bool wsio_input_waiting(void);

/* Milliseconds on a monotonic clock. */
long long wsio_now_ms(void);

#endif
