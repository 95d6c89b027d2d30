/* SPDX-License-Identifier: 0BSD */
/**
 * A connection to the pcopy on another host (see remote.c): remote
 * operands, starting `RSH [-l USER] HOST PCOPY --server`, the greeting, and
 * sending frames from many threads with one file's frames kept together.
 */
#ifndef PCOPY_REMOTE_H
#define PCOPY_REMOTE_H

#include "prelude.h"
#include "dbuf.h"
#include "frame.h"
#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

/** How the remote side is reached (the user's -e and --remote-pcopy). */
struct remote_how {
	const char *rsh;             /* NULL: $PTOOLS_RSH, else "ssh" */
	const char *remote_pcopy;    /* NULL: "pcopy" */
};

struct remote {
	char *host;                  /* [user@]host as written */
	char *path;                  /* the path there */
	char *name;                  /* host:path, for messages */
	pid_t pid;                   /* the remote shell; 0 for the server's own stdin/stdout */
	int in, out;
	struct frame_reader reader;
	pthread_mutex_t write_lock;  /* one write(2) of whole frames at a time */
	pthread_mutex_t lock;        /* guards owner */
	pthread_cond_t cond;
	const void *owner;           /* who is sending now (one file's frames stay together) */
	bool broken;                 /* a write failed: the peer is gone */
	struct dbuf sendbuf;         /* the owner's frames not yet written */
	struct remote_zstd *zstd;    /* -z: compression both ways, or NULL */
	unsigned char delta_key[16]; /* the run's block-hash key (SETUP's; rdelta.h) */
};

/**
 * Whether arg is a remote operand, rsync's rule: [user@]host:path with no
 * '/' before the first ':' and something before it ("./a:b" is local).
 */
bool remote_operand(const char *arg);

/**
 * Start the pcopy on operand's host through the remote shell and exchange
 * greetings. Returns the connection, or NULL after saying why ("remote
 * shell is not clean: got '...'", "pcopy not found on host", ...).
 */
struct remote *remote_start(const char *operand, const struct remote_how *how);

/**
 * Send sig to every remote shell running (async-signal-safe): on SIGINT or
 * SIGTERM pcopy ends its connections this way, so that nothing waits on a
 * peer that does not answer; each remote side then sees the end of its
 * input and rolls back by itself.
 */
void remote_signal_all(int sig);

/** The server's connection: its stdin and stdout, greeted. NULL after saying why. */
struct remote *remote_serve(void);

/** Wait until no one else is sending, then send as owner. */
void remote_claim(struct remote *remote, const void *owner);

/** Write out what the owner queued, and let others send. */
int remote_release(struct remote *remote);

/**
 * Queue len bytes of whole frames (the caller has claimed the connection);
 * written out once enough has gathered. 0, or -1 with errno (EPIPE: the peer
 * is gone).
 */
int remote_put(struct remote *remote, const void *data, size_t len);

/** Write out what is queued (claimed). 0 or -1 with errno. */
int remote_flush(struct remote *remote);

/**
 * Write whole frames now, between any others, without claiming: for
 * messages (MSG, FAILED), which may come from a thread that holds the
 * connection for a file. 0 or -1.
 */
int remote_send_now(struct remote *remote, const void *data, size_t len);

/**
 * Claim, put frames, release: a one-off, written out now, or with queue
 * left for later frames to carry (entries: no write(2) each). 0 or -1.
 */
int remote_send(struct remote *remote, const struct dbuf *frames, bool queue);

/**
 * -z: from now on, what is sent is compressed and what is read is
 * decompressed (zstd), with a window small enough to keep memory bounded
 * whatever the peer sends. Call at the same point of the exchange on both
 * sides, with nothing read ahead. 0 or -1.
 */
int remote_compress(struct remote *remote);

/**
 * Read the next frame (remote_read: 1, 0 at end of input, -1 with errno and
 * a message already said); a MSG frame is printed to stderr (made
 * printable) and skipped.
 */
int remote_read(struct remote *remote, struct frame *frame);

/**
 * A copy of the peer's text (len bytes) with every control character made
 * '?', NUL-terminated, with room for one more byte before the NUL; NULL on
 * ENOMEM. What the peer says cannot forge a line or move the terminal.
 */
char *remote_printable(const char *text, size_t len);

/**
 * Close the connection: the peer sees end of input. Waits for the remote
 * shell; returns its exit status (0 for the server side), or -1.
 */
int remote_close(struct remote *remote);

#endif
