/* SPDX-License-Identifier: 0BSD */
/**
 * Remote delta. The receiver of a file it already has an old version of
 * hashes the old file's blocks in a thread and streams the hashes back
 * while the sender reads the new file; the sender hashes each of its
 * blocks the same way and sends the block only when the hashes differ.
 * Nothing waits for a round trip per block: the sender waits only for a
 * hash that has not arrived yet, and the hashes in flight are bounded by
 * RDELTA_WINDOW blocks ahead of what the receiver has received, so memory
 * stays flat whatever the file's size.
 *
 * The hash is XXH3-128 with a secret made from the run's random key: a
 * file's author, who does not know the key, cannot make two different
 * blocks hash alike. The receiver's check digest over the whole new file
 * (receive.c) is the end-to-end proof either way.
 */
#include "prelude.h"
#include "rdelta.h"
#include "delta.h"
#include "proto.h"
#include "xio.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_generateSecret */
#include <xxhash.h>

/* The receiver reads its old file this much at a time (a whole number of blocks). */
#define RDELTA_READ ((size_t)1 << 20)

_Static_assert(RDELTA_READ >= PROTO_BLOCK_MAX, "a read holds a block");
_Static_assert(RDELTA_WINDOW >= PROTO_HASHES_MAX + RDELTA_RUN_MAX - 1,
	       "the hash the sender waits for must always be allowed");
_Static_assert(sizeof(((struct remote *)0)->delta_key) == PROTO_KEY_LEN, "key length");

/* The keyed block hash: secret from the key, XXH3-128, canonical (big-endian) bytes. */
static void make_secret(unsigned char secret[XXH3_SECRET_DEFAULT_SIZE], const unsigned char *key)
{
	XXH3_generateSecret(secret, XXH3_SECRET_DEFAULT_SIZE, key, PROTO_KEY_LEN);
}

static void block_hash(const unsigned char *secret, const void *data, size_t len,
		       unsigned char out[PROTO_HASH_LEN])
{
	XXH128_canonical_t canon;

	XXH128_canonicalFromHash(&canon, XXH3_128bits_withSecret(data, len, secret,
								 XXH3_SECRET_DEFAULT_SIZE));
	memcpy(out, canon.digest, PROTO_HASH_LEN);
}

bool rdelta_eligible(const struct copy_options *opt, uint64_t size)
{
	return delta_on(opt) && size >= DELTA_MIN_SIZE;
}

int rdelta_new_key(unsigned char key[RDELTA_KEY_LEN])
{
	size_t got = 0;

	while (got < RDELTA_KEY_LEN) {
		ssize_t n = getrandom(key + got, RDELTA_KEY_LEN - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

uint64_t rdelta_hash_count(uint64_t base, uint64_t size, size_t block)
{
	uint64_t a = base / block + (base % block != 0), b = size / block + (size % block != 0);

	return a < b ? a : b;
}

/* The length of block index of a file of size bytes. */
static size_t block_len(uint64_t size, size_t block, uint64_t index)
{
	uint64_t at = index * block;

	return at >= size ? 0 : size - at < block ? (size_t)(size - at) : block;
}

/* ------------------------------------------------------------------ */

struct rdelta_peer {
	unsigned char secret[XXH3_SECRET_DEFAULT_SIZE];
	pthread_mutex_t lock;        /* guards the rest */
	pthread_cond_t cond;
	bool gone;                   /* the listener ended */
	bool expecting;              /* a FILE went out; its answer has not come */
	bool delta;                  /* the answer: by delta */
	bool active;                 /* the sender still takes the file's hashes */
	uint64_t size;               /* the FILE's size */
	uint64_t base;               /* the receiver's old file's size */
	size_t block;
	uint64_t hashes;             /* how many the receiver sends (rdelta_hash_count) */
	uint64_t next_in;            /* how many have come */
	uint64_t consumed;           /* the sender is past the blocks below this */
	unsigned char ring[RDELTA_WINDOW][PROTO_HASH_LEN]; /* block i's hash at i % RDELTA_WINDOW */
};

struct rdelta_peer *rdelta_peer_new(const struct remote *remote)
{
	struct rdelta_peer *peer = calloc(1, sizeof(*peer));

	if (!peer)
		return NULL;
	make_secret(peer->secret, remote->delta_key);
	pthread_mutex_init(&peer->lock, NULL);
	pthread_cond_init(&peer->cond, NULL);
	return peer;
}

void rdelta_peer_free(struct rdelta_peer *peer)
{
	if (!peer)
		return;
	pthread_mutex_destroy(&peer->lock);
	pthread_cond_destroy(&peer->cond);
	free(peer);
}

/* HASHES, under the lock: 0, or -1 with why. */
static int take_hashes(struct rdelta_peer *peer, const struct frame *frame, const char **why)
{
	const unsigned char *hashes;
	uint64_t first;
	size_t count;

	if (proto_get_hashes(frame, &first, &hashes, &count, why) != 0)
		return -1;
	if (first != peer->next_in || count > peer->hashes - first) {
		*why = "block hashes out of order or past the file's blocks";
		return -1;
	}
	if (peer->active) {
		if (first + count - peer->consumed > RDELTA_WINDOW) {
			*why = "more block hashes ahead than the window allows";
			return -1;
		}
		for (size_t i = 0; i < count; i++)
			memcpy(peer->ring[(first + i) % RDELTA_WINDOW], hashes + i * PROTO_HASH_LEN,
			       PROTO_HASH_LEN);
	} /* else the file is over: they are dropped */
	peer->next_in = first + count;
	return 0;
}

int rdelta_peer_frame(struct rdelta_peer *peer, const struct frame *frame, const char **why)
{
	uint64_t base;
	uint32_t block;
	int ret = 0;

	if (frame->type != PROTO_BASE && frame->type != PROTO_WHOLE && frame->type != PROTO_HASHES)
		return 0;
	pthread_mutex_lock(&peer->lock);
	if (frame->type == PROTO_HASHES) {
		ret = take_hashes(peer, frame, why);
	} else if (!peer->expecting) {
		*why = "a delta answer for no file";
		ret = -1;
	} else if (frame->type == PROTO_WHOLE) {
		if (frame->len != 0) {
			*why = "malformed message";
			ret = -1;
		}
		peer->delta = false;
		peer->hashes = 0;
	} else if (proto_get_base(frame, &base, &block, why) != 0) {
		ret = -1;
	} else {
		peer->delta = true;
		peer->base = base;
		peer->block = block;
		peer->hashes = rdelta_hash_count(base, peer->size, block);
	}
	if (ret == 0 && frame->type != PROTO_HASHES) {
		peer->expecting = false;
		peer->active = peer->delta;
		peer->next_in = 0;
		peer->consumed = 0;
	}
	pthread_cond_broadcast(&peer->cond);
	pthread_mutex_unlock(&peer->lock);
	return ret < 0 ? -1 : 1;
}

void rdelta_peer_gone(struct rdelta_peer *peer)
{
	pthread_mutex_lock(&peer->lock);
	peer->gone = true;
	pthread_cond_broadcast(&peer->cond);
	pthread_mutex_unlock(&peer->lock);
}

void rdelta_expect(struct rdelta_peer *peer, uint64_t size)
{
	pthread_mutex_lock(&peer->lock);
	peer->expecting = true;
	peer->delta = false;
	peer->active = false;
	peer->size = size;
	pthread_mutex_unlock(&peer->lock);
}

int rdelta_answer(struct rdelta_peer *peer, size_t *block)
{
	int ret;

	pthread_mutex_lock(&peer->lock);
	while (peer->expecting && !peer->gone)
		pthread_cond_wait(&peer->cond, &peer->lock);
	ret = peer->expecting ? -1 : peer->delta ? 1 : 0;
	*block = peer->block;
	pthread_mutex_unlock(&peer->lock);
	return ret;
}

int rdelta_same(struct rdelta_peer *peer, uint64_t index, const void *data, size_t len,
		int (*ready)(void *arg), void *arg)
{
	unsigned char mine[PROTO_HASH_LEN];
	int ret;

	/* Only the sender's thread changes these while a file is active. */
	if (!peer->active || index >= peer->hashes || len != block_len(peer->base, peer->block, index))
		return 0;
	block_hash(peer->secret, data, len, mine);
	pthread_mutex_lock(&peer->lock);
	if (peer->next_in <= index && !peer->gone) {
		pthread_mutex_unlock(&peer->lock);
		if (ready(arg) != 0)
			return -1;
		pthread_mutex_lock(&peer->lock);
		while (peer->next_in <= index && !peer->gone)
			pthread_cond_wait(&peer->cond, &peer->lock);
	}
	if (peer->next_in <= index) {
		ret = -1;
	} else {
		ret = memcmp(peer->ring[index % RDELTA_WINDOW], mine, PROTO_HASH_LEN) == 0;
		peer->consumed = index + 1;
	}
	pthread_mutex_unlock(&peer->lock);
	return ret;
}

void rdelta_done(struct rdelta_peer *peer, bool wait)
{
	pthread_mutex_lock(&peer->lock);
	while (wait && peer->expecting && !peer->gone)
		pthread_cond_wait(&peer->cond, &peer->lock);
	peer->expecting = false;
	peer->active = false;
	pthread_mutex_unlock(&peer->lock);
}

/* ------------------------------------------------------------------ */

struct rdelta_recv {
	struct remote *peer;
	int fd;
	uint64_t base, size, count;
	size_t block;
	unsigned char secret[XXH3_SECRET_DEFAULT_SIZE];
	pthread_t thread;
	pthread_mutex_t lock;        /* guards allowed and stop */
	pthread_cond_t cond;
	uint64_t allowed;            /* hashes below this block may go */
	bool stop;
	unsigned char *buf;          /* RDELTA_READ bytes */
	unsigned char hashes[PROTO_HASHES_MAX][PROTO_HASH_LEN];
};

/* The hashes of blocks [first, first + n) into rd->hashes, read RDELTA_READ bytes at a time. */
static void hash_blocks(struct rdelta_recv *rd, uint64_t first, size_t n)
{
	size_t per_read = RDELTA_READ / rd->block, i = 0;

	while (i < n) {
		uint64_t at = (first + i) * rd->block;
		size_t blocks = n - i < per_read ? n - i : per_read;
		size_t want = at >= rd->base ? 0 : rd->base - at < blocks * rd->block
							  ? (size_t)(rd->base - at) : blocks * rd->block;
		ssize_t got = xpread(rd->fd, rd->buf, want, (off_t)at);

		for (size_t j = 0; j < blocks; j++, i++) {
			size_t len = block_len(rd->base, rd->block, first + i);
			if (got >= 0 && j * rd->block + len <= (size_t)got)
				block_hash(rd->secret, rd->buf + j * rd->block, len, rd->hashes[i]);
			else /* unreadable here: a hash no block has (but by a 2^-128 chance) */
				memset(rd->hashes[i], 0, PROTO_HASH_LEN);
		}
	}
}

/* Send one frame built by put (BASE or HASHES). 0 or -1. */
static int send_frame(struct remote *peer, struct dbuf *out)
{
	int ret = remote_send_now(peer, out->data, out->len);

	dbuf_clear(out);
	return ret;
}

/* The hashing thread: BASE, then the old file's block hashes, a batch at a time. */
static void *hash_base(void *arg)
{
	struct rdelta_recv *rd = arg;
	struct dbuf out;
	uint64_t next = 0;

	dbuf_init(&out);
	if (proto_put_base(&out, rd->base, (uint32_t)rd->block) != 0 || send_frame(rd->peer, &out) != 0)
		goto out;
	while (next < rd->count) {
		size_t n = rd->count - next < PROTO_HASHES_MAX ? (size_t)(rd->count - next)
							       : PROTO_HASHES_MAX;
		bool stop;

		hash_blocks(rd, next, n);
		pthread_mutex_lock(&rd->lock);
		while (!rd->stop && next + n > rd->allowed)
			pthread_cond_wait(&rd->cond, &rd->lock);
		stop = rd->stop;
		pthread_mutex_unlock(&rd->lock);
		if (stop || proto_put_hashes(&out, next, rd->hashes, n) != 0 ||
		    send_frame(rd->peer, &out) != 0)
			break;
		next += n;
	}
out:
	dbuf_free(&out);
	return NULL;
}

struct rdelta_recv *rdelta_recv_start(struct remote *peer, int base_fd, uint64_t base,
				      uint64_t size, size_t block)
{
	struct rdelta_recv *rd = calloc(1, sizeof(*rd));
	int err;

	if (!rd)
		return NULL;
	rd->buf = malloc(RDELTA_READ);
	if (!rd->buf) {
		free(rd);
		errno = ENOMEM;
		return NULL;
	}
	rd->peer = peer;
	rd->fd = base_fd;
	rd->base = base;
	rd->size = size;
	rd->block = block;
	rd->count = rdelta_hash_count(base, size, block);
	rd->allowed = RDELTA_WINDOW;
	make_secret(rd->secret, peer->delta_key);
	pthread_mutex_init(&rd->lock, NULL);
	pthread_cond_init(&rd->cond, NULL);
	err = pthread_create(&rd->thread, NULL, hash_base, rd);
	if (err != 0) {
		pthread_mutex_destroy(&rd->lock);
		pthread_cond_destroy(&rd->cond);
		free(rd->buf);
		free(rd);
		errno = err;
		return NULL;
	}
	return rd;
}

void rdelta_recv_advance(struct rdelta_recv *rd, uint64_t received)
{
	uint64_t allowed = received / rd->block + RDELTA_WINDOW;

	pthread_mutex_lock(&rd->lock);
	if (allowed > rd->allowed) {
		rd->allowed = allowed;
		pthread_cond_signal(&rd->cond);
	}
	pthread_mutex_unlock(&rd->lock);
}

uint64_t rdelta_recv_base(const struct rdelta_recv *rd, int *fd)
{
	*fd = rd->fd;
	return rd->base;
}

void rdelta_recv_stop(struct rdelta_recv *rd)
{
	if (!rd)
		return;
	pthread_mutex_lock(&rd->lock);
	rd->stop = true;
	pthread_cond_signal(&rd->cond);
	pthread_mutex_unlock(&rd->lock);
	pthread_join(rd->thread, NULL);
	pthread_mutex_destroy(&rd->lock);
	pthread_cond_destroy(&rd->cond);
	close(rd->fd);
	free(rd->buf);
	free(rd);
}
