/* SPDX-License-Identifier: 0BSD */
/**
 * The read-once, hash-many engine.
 *
 * Design
 * ------
 * Every byte of a file is read from the kernel exactly once, whatever number
 * of algorithms is asked for, and no block is ever copied per algorithm: the
 * algorithms (and pcopy's sink) all look at the same buffer.
 *
 * Opening. A path is opened the one safe way (openread.h): nothing that
 * is not a regular file is opened for reading, and the open cannot hang on a
 * FIFO (O_NONBLOCK). O_NONBLOCK means nothing to a local regular file, but a
 * network or FUSE filesystem may honour it: it is cleared lazily, the first
 * time a read answers EAGAIN, which saves an fcntl per file (one system
 * call in six for a small one).
 *
 * Reading. Blocks are 1 MiB by default (large reads cost few system calls
 * and let the readahead stay ahead), posix_fadvise(SEQUENTIAL) doubles the
 * readahead window on files of more than one block, and pread keeps the file
 * offset untouched for pcopy. A short read that reaches the size fstat
 * reported ends the file without the extra read that would return 0: one
 * system call saved per small file. A file that grows meanwhile is caught by
 * the second fstat below.
 *
 * Change detection. After the last block the file is fstat'ed again; if its
 * size or mtime differ from the first fstat, or the bytes read differ from
 * the size, result->changed is set and the caller reports the file.
 *
 * Large files: reading beside hashing. Copying a block out of the page cache
 * costs about a tenth of hashing it, so md5+sha1+sha256 in one thread would cost
 * the sum of the three, and even one algorithm would lose a tenth of its
 * speed to the copy. Instead, for a file of at least PARALLEL_MIN_BLOCKS
 * blocks, each algorithm runs in a helper thread of its own (started once,
 * on the first such file, and kept for the engine's life), over a ring of
 * RING_SLOTS shared buffers, and the caller's thread only reads (and feeds
 * the sink, which so runs beside the hashing too):
 *
 *   reader (the caller's thread)           helpers 0..k-1
 *   wait until slot b%R has refs == 0
 *   pread block b into slot b%R
 *   publish: refs = k, published++  ---->  each helper hashes block b with
 *   pass block b to the sink               its own algorithm, then refs--;
 *                                          the last one wakes the reader
 *
 * So a file takes as long as its slowest algorithm (or the read), not the
 * sum, and the read of block b+1 overlaps the hashing of block b. The reader
 * would idle while the slowest helper catches up, so it hashes the cheapest
 * algorithms itself, as many as together cost no more than the slowest one
 * (each is timed once, on LOCAL_SAMPLE bytes, when the ring is set up): for
 * md5+sha1+sha256 on two cores the reader hashes sha1 and sha256 and one
 * helper md5, so a file takes little more than md5 alone. Those bytes are
 * hashed from the reader's own cache, too.
 * The ring bounds memory at RING_SLOTS blocks per engine and lets the
 * reader run up to RING_SLOTS-1 blocks ahead of the slowest helper, which
 * smooths out scheduling noise. Each helper touches only its own context
 * between two lock acquisitions, and the reader touches a helper's context
 * only when every helper has caught up (at the start and end of a file;
 * the contexts of the algorithms it hashes itself are its alone), so the
 * one mutex (taken per block, not per byte) is the only synchronisation. Small files
 * and serial engines use one buffer and hash every algorithm in turn in the
 * caller's thread: for them parallelism comes from hashing several files at
 * once (phash -j), which costs no synchronisation at all.
 *
 * One algorithm, large file: a relay. With a single algorithm the ring above
 * has one thread copy each block out of the page cache and another hash it,
 * so every byte hashed was just written by the other core, and SHA-256 then
 * runs well below its one-core speed (the cache lines travel between the
 * cores' private caches). Instead, two threads (the
 * caller and one partner) take alternate blocks, and each thread both reads
 * and hashes its own block, so the bytes are hashed from the cache of the
 * core that copied them. The one hash context passes between them like a
 * baton: block b is hashed only once block b-1 has been, so the digest is
 * the same, while the read of one block overlaps the hashing of the other.
 *
 *   caller (even blocks)                 partner (odd blocks)
 *   read block 0                         read block 1
 *   hash block 0, pass the baton  ---->  hash block 1, pass the baton
 *   read block 2                  <----  read block 3 ...
 *
 * A block is read in full (a short read is retried) so a block shorter
 * than block_size is the last one; an error or the end stops both threads.
 * Passing the baton through a sleep costs a wake-up (tens of microseconds
 * in a virtual machine) per block; so the
 * holder wakes the next one when only RELAY_TAIL bytes are left to hash,
 * and the next one polls for the baton meanwhile (RELAY_SPIN_NS at most),
 * which hides the wake-up behind the hashing of the tail. That wake-up
 * still costs the holder itself: in a virtual machine, waking a thread
 * whose core sleeps can make the waker exit to the hypervisor. So the next
 * holder first dozes on a timer:
 * it knows when the holder took the baton and how long a block takes to
 * hash (relay_doze), sleeps until RELAY_SPIN_NS before the turn is due and
 * polls from there; the holder's wake-up then finds no sleeper and costs
 * nothing, for a little more CPU time (the poll). A wrong guess costs only
 * time: the doze ends in the poll, then in the sleep above. (The
 * measurements behind each step are in docs/BENCHMARKS.md, "Design
 * measurements".)
 *
 * --nocache. After a file (and every NOCACHE_STEP bytes of a large one) the
 * pages read are dropped with posix_fadvise(DONTNEED), so a backup run does
 * not evict the machine's working set.
 */
#include "prelude.h"
#include "hashio.h"
#include "openread.h"
#include "xio.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/** Shared read buffers of the parallel path. */
#define RING_SLOTS 4
/** Bytes each algorithm hashes once to be timed (see the essay). */
#define LOCAL_SAMPLE ((size_t)256 << 10)
/** A file of fewer blocks than this is hashed serially (threads would not pay). */
#define PARALLEL_MIN_BLOCKS 4
/** Bytes of a relayed block still to hash when the next holder is woken:
 * enough hashing to cover a wake-up. */
#define RELAY_TAIL ((size_t)128 << 10)
/** How long the next holder polls for the baton before it sleeps again, and
 * how long before the turn is due a doze ends (relay_doze). */
#define RELAY_SPIN_NS 200000
/** With --nocache, drop pages every this many bytes of a large file. */
#define NOCACHE_STEP ((uint64_t)64 << 20)

struct reading;

/** One shared buffer of the ring. */
struct slot {
	unsigned char *data;
	size_t len;
	unsigned refs; /* helpers that have yet to hash this block */
};

/** A helper thread, hashing one algorithm of every block. */
struct helper {
	struct hashio *engine;
	size_t index;
	pthread_t thread;
	uint64_t next;  /* sequence number of the next block to hash */
	int error;      /* first hashing error of the current file */
};

struct hashio {
	size_t count;
	size_t block_size;
	bool nocache;
	bool serial;
	struct progress *progress;
	size_t progress_lane;
	struct hashset set;
	unsigned char *buffer;  /* the serial path's one buffer (and the ring's slot 0) */

	/* The parallel path, set up on the first large file. */
	bool parallel_ready;    /* helpers running and ring allocated */
	bool parallel_failed;   /* setting up failed once: stay serial */
	size_t nhelpers;
	struct helper helpers[HASH_SET_MAX];
	bool local[HASH_SET_MAX]; /* algorithms the reader hashes itself */
	pthread_mutex_t lock;   /* guards slots[].len and .refs, published, helpers[].next and .error, quit */
	pthread_cond_t work;    /* a block was published, or quit was set */
	pthread_cond_t freed;   /* some slot's refs dropped to zero */
	struct slot slots[RING_SLOTS];
	uint64_t published;     /* blocks published since the engine started */
	bool quit;

	/* The relay (one algorithm), set up on the first large file; engine->lock
	 * guards everything below but the partner's buffer. */
	bool relay_ready;
	bool relay_failed;
	pthread_t partner;
	unsigned char *partner_buffer;
	pthread_cond_t turn;    /* the baton moved, the file ended, or a file started */
	struct reading *file;   /* the file being relayed */
	uint64_t files;         /* files started; the partner has finished files_done */
	uint64_t files_done;
	/* hashed, end and soon are also polled without the lock: they are
	 * written (under the lock) and read with atomic builtins. */
	uint64_t hashed;        /* blocks of this file hashed: block b's turn when hashed == b */
	uint64_t end;           /* no block from here on is hashed (UINT64_MAX: not known yet) */
	uint64_t soon;          /* the holder is on the tail of block soon - 1 */
	int relay_error;        /* the errno that stopped this file, or 0 */
	uint64_t turn_at;       /* CLOCK_MONOTONIC ns when the holder took the baton */
	uint64_t block_ns;      /* time to hash a full block, smoothed (0: not known) */
};

static void *alloc_block(size_t size)
{
	void *p = NULL;

	/* Page alignment keeps the kernel's copy-out and the SIMD loads aligned. */
	if (posix_memalign(&p, 4096, size) != 0) {
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

struct hashio *hashio_new(const struct hashio_config *config)
{
	struct hashio *engine = calloc(1, sizeof(*engine));
	int saved;

	if (!engine)
		return NULL;
	engine->count = config->count;
	engine->block_size = config->block_size ? config->block_size : HASHIO_BLOCK_DEFAULT;
	engine->nocache = config->nocache;
	engine->serial = config->serial;
	engine->progress = config->progress;
	engine->progress_lane = config->progress_lane;
	if (hashset_init(&engine->set, config->algos, config->count) != 0)
		goto fail;
	engine->buffer = alloc_block(engine->block_size);
	if (!engine->buffer)
		goto fail;
	if (pthread_mutex_init(&engine->lock, NULL) != 0) {
		errno = ENOMEM;
		goto fail;
	}
	pthread_cond_init(&engine->work, NULL);
	pthread_cond_init(&engine->freed, NULL);
	pthread_cond_init(&engine->turn, NULL);
	return engine;
fail:
	saved = errno;
	hashset_fini(&engine->set);
	free(engine->buffer);
	free(engine);
	errno = saved;
	return NULL;
}

/* Stop and join the first n helpers. */
static void stop_helpers(struct hashio *engine, size_t n)
{
	size_t i;

	pthread_mutex_lock(&engine->lock);
	engine->quit = true;
	pthread_cond_broadcast(&engine->work);
	pthread_mutex_unlock(&engine->lock);
	for (i = 0; i < n; i++)
		pthread_join(engine->helpers[i].thread, NULL);
}

/* Stop and join the relay's partner. */
static void relay_stop(struct hashio *engine)
{
	pthread_mutex_lock(&engine->lock);
	engine->quit = true;
	pthread_cond_broadcast(&engine->turn);
	pthread_mutex_unlock(&engine->lock);
	pthread_join(engine->partner, NULL);
}

void hashio_free(struct hashio *engine)
{
	size_t i;

	if (!engine)
		return;
	if (engine->parallel_ready)
		stop_helpers(engine, engine->nhelpers);
	if (engine->relay_ready)
		relay_stop(engine);
	for (i = 1; i < RING_SLOTS; i++)
		free(engine->slots[i].data);
	free(engine->partner_buffer);
	pthread_cond_destroy(&engine->work);
	pthread_cond_destroy(&engine->freed);
	pthread_cond_destroy(&engine->turn);
	pthread_mutex_destroy(&engine->lock);
	hashset_fini(&engine->set);
	free(engine->buffer);
	free(engine);
}

static void *helper_main(void *arg)
{
	struct helper *helper = arg;
	struct hashio *engine = helper->engine;

	pthread_mutex_lock(&engine->lock);
	for (;;) {
		struct slot *slot;
		bool skip;
		int err = 0;

		while (!engine->quit && helper->next == engine->published)
			pthread_cond_wait(&engine->work, &engine->lock);
		if (helper->next == engine->published)
			break; /* quitting, and nothing left to hash */
		slot = &engine->slots[helper->next % RING_SLOTS];
		skip = helper->error != 0;
		pthread_mutex_unlock(&engine->lock);

		/* The reader leaves this slot alone until refs drops to zero. */
		if (!skip && hash_ctx_update(engine->set.ctx[helper->index], slot->data, slot->len) != 0)
			err = errno ? errno : EIO;

		pthread_mutex_lock(&engine->lock);
		if (err)
			helper->error = err;
		helper->next++;
		if (--slot->refs == 0)
			pthread_cond_signal(&engine->freed);
	}
	pthread_mutex_unlock(&engine->lock);
	return NULL;
}

/* The time on clock in nanoseconds, or 0 if it cannot be read. */
static uint64_t clock_ns(clockid_t clock)
{
	struct timespec now;

	if (clock_gettime(clock, &now) != 0)
		return 0;
	return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

/* The CPU time (ns) algorithm i of the set takes on LOCAL_SAMPLE bytes of
 * buf, or -1 if it cannot be timed. */
static long time_algo(struct hashio *engine, size_t i, const unsigned char *buf)
{
	struct hash_ctx *ctx = hash_ctx_new(engine->set.algos[i]);
	uint64_t start = ctx ? clock_ns(CLOCK_THREAD_CPUTIME_ID) : 0, end;
	long ns = -1;

	if (start && hash_ctx_update(ctx, buf, LOCAL_SAMPLE) == 0 &&
	    (end = clock_ns(CLOCK_THREAD_CPUTIME_ID)) != 0)
		ns = (long)(end - start);
	hash_ctx_free(ctx);
	return ns;
}

/* Mark the algorithms the reader hashes itself (see the essay). */
static void choose_local(struct hashio *engine)
{
	long cost[HASH_SET_MAX], budget, spent = 0;
	size_t order[HASH_SET_MAX], i, j, slowest = 0;

	if (engine->block_size < LOCAL_SAMPLE)
		return;
	memset(engine->buffer, 0, LOCAL_SAMPLE);
	for (i = 0; i < engine->count; i++) {
		cost[i] = time_algo(engine, i, engine->buffer);
		if (cost[i] < 0)
			return; /* untimed: every algorithm gets a helper */
		if (cost[i] > cost[slowest])
			slowest = i;
	}
	/* Cheapest first. */
	for (i = 0; i < engine->count; i++) {
		for (j = i; j > 0 && cost[order[j - 1]] > cost[i]; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	budget = cost[slowest];
	for (i = 0; i < engine->count; i++) {
		size_t a = order[i];

		if (a == slowest)
			continue;
		if (spent + cost[a] > budget)
			break;
		spent += cost[a];
		engine->local[a] = true;
	}
}

/* Allocate the ring and start a helper for each algorithm the reader does
 * not hash itself. Returns 0 or -1. */
static int parallel_start(struct hashio *engine)
{
	size_t i, started = 0;

	/* Slot 0 is the serial path's buffer: the two paths never overlap. */
	engine->slots[0].data = engine->buffer;
	for (i = 1; i < RING_SLOTS; i++) {
		engine->slots[i].data = alloc_block(engine->block_size);
		if (!engine->slots[i].data)
			goto fail;
	}
	choose_local(engine);
	engine->nhelpers = 0;
	for (i = 0; i < engine->count; i++) {
		struct helper *helper;

		if (engine->local[i])
			continue;
		helper = &engine->helpers[engine->nhelpers++];
		helper->engine = engine;
		helper->index = i;
		helper->next = engine->published;
		helper->error = 0;
		if (pthread_create(&helper->thread, NULL, helper_main, helper) != 0)
			goto fail;
		started++;
	}
	engine->parallel_ready = true;
	return 0;
fail:
	stop_helpers(engine, started);
	engine->quit = false;
	for (i = 1; i < RING_SLOTS; i++) {
		free(engine->slots[i].data);
		engine->slots[i].data = NULL;
	}
	engine->slots[0].data = NULL;
	engine->parallel_failed = true;
	return -1;
}

/*
 * pread, retried on EINTR; on EAGAIN (O_NONBLOCK honoured by a network or
 * FUSE filesystem) O_NONBLOCK is cleared and the read retried.
 */
static ssize_t pread_retry(int fd, void *buf, size_t len, uint64_t offset)
{
	for (;;) {
		ssize_t n = pread(fd, buf, len, (off_t)offset);
		int flags;

		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -1;
		flags = fcntl(fd, F_GETFL);
		if (flags < 0 || !(flags & O_NONBLOCK) || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
			errno = EAGAIN;
			return -1;
		}
	}
}

/* Per-file reading state. */
struct reading {
	int fd;
	uint64_t expect;      /* st_size at the first fstat */
	uint64_t offset;      /* bytes read so far */
	uint64_t dropped;     /* --nocache: pages dropped below this offset */
	hashio_sink_fn *sink;
	void *sink_arg;
};

/*
 * Account for n bytes read at r->offset (before the caller adds them): the
 * progress, and with --nocache dropping the pages read before them.
 */
static void block_read(struct hashio *engine, struct reading *r, size_t n)
{
	progress_add(engine->progress, engine->progress_lane, 0, (uint64_t)n);
	if (engine->nocache && r->offset + (uint64_t)n - r->dropped >= NOCACHE_STEP) {
		posix_fadvise(r->fd, (off_t)r->dropped, (off_t)(r->offset - r->dropped), POSIX_FADV_DONTNEED);
		r->dropped = r->offset;
	}
}

/*
 * Read the next block into buf. Returns its length, 0 at the end of the file,
 * or -1 with errno.
 */
static ssize_t next_block(struct hashio *engine, struct reading *r, unsigned char *buf)
{
	ssize_t n;

	/* A short read that reached the size fstat gave is the end: skip the
	 * read that would return 0. Growth is caught by the second fstat. */
	if (r->offset == r->expect && r->offset > 0 && r->offset % engine->block_size != 0)
		return 0;
	n = pread_retry(r->fd, buf, engine->block_size, r->offset);
	if (n > 0)
		block_read(engine, r, (size_t)n);
	return n;
}

/* The serial path: every algorithm in this thread. Returns 0 or an errno value. */
static int read_serial(struct hashio *engine, struct reading *r)
{
	for (;;) {
		ssize_t n = next_block(engine, r, engine->buffer);
		int err;

		if (n < 0)
			return errno;
		if (n == 0)
			return 0;
		if (hashset_update(&engine->set, engine->buffer, (size_t)n) != 0)
			return errno ? errno : EIO;
		if (r->sink && (err = r->sink(r->sink_arg, engine->buffer, (size_t)n, r->offset)) != 0)
			return err;
		r->offset += (uint64_t)n;
	}
}

/* The parallel path (see the essay). Returns 0 or an errno value. */
static int read_parallel(struct hashio *engine, struct reading *r)
{
	int err = 0;
	size_t i;

	pthread_mutex_lock(&engine->lock);
	for (i = 0; i < engine->nhelpers; i++)
		engine->helpers[i].error = 0;
	pthread_mutex_unlock(&engine->lock);

	for (;;) {
		struct slot *slot = &engine->slots[engine->published % RING_SLOTS];
		ssize_t n;

		pthread_mutex_lock(&engine->lock);
		while (slot->refs != 0)
			pthread_cond_wait(&engine->freed, &engine->lock);
		pthread_mutex_unlock(&engine->lock);

		n = next_block(engine, r, slot->data);
		if (n <= 0) {
			err = n < 0 ? errno : 0;
			break;
		}
		pthread_mutex_lock(&engine->lock);
		slot->len = (size_t)n;
		slot->refs = (unsigned)engine->nhelpers;
		engine->published++;
		pthread_cond_broadcast(&engine->work);
		pthread_mutex_unlock(&engine->lock);

		/* The helpers only read the slot: the reader may hash it too. */
		for (i = 0; i < engine->count && !err; i++) {
			if (engine->local[i] &&
			    hash_ctx_update(engine->set.ctx[i], slot->data, (size_t)n) != 0)
				err = errno ? errno : EIO;
		}
		if (err)
			break;
		if (r->sink && (err = r->sink(r->sink_arg, slot->data, (size_t)n, r->offset)) != 0)
			break;
		r->offset += (uint64_t)n;
	}

	/* Let every helper finish what was published before the contexts are
	 * finalised (or reset for the next file). */
	pthread_mutex_lock(&engine->lock);
	for (i = 0; i < RING_SLOTS; i++) {
		while (engine->slots[i].refs != 0)
			pthread_cond_wait(&engine->freed, &engine->lock);
	}
	for (i = 0; i < engine->nhelpers && !err; i++)
		err = engine->helpers[i].error;
	pthread_mutex_unlock(&engine->lock);
	return err;
}

/* Fill buf from offset, retrying short reads. Returns the bytes read (less
 * than len only at the end of the file), or -1 with errno. */
static ssize_t read_full(int fd, unsigned char *buf, size_t len, uint64_t offset)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread_retry(fd, buf + got, len - got, offset + got);

		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static uint64_t relay_get(const uint64_t *field)
{
	return __atomic_load_n(field, __ATOMIC_ACQUIRE);
}

static void relay_set(uint64_t *field, uint64_t value)
{
	__atomic_store_n(field, value, __ATOMIC_RELEASE);
}

/* Whether block b may be hashed, or never will be. */
static bool relay_turn(struct hashio *engine, uint64_t b)
{
	return relay_get(&engine->hashed) == b || relay_get(&engine->end) <= b;
}

/* Poll for relay_turn for up to RELAY_SPIN_NS. Returns whether it came. */
static bool relay_spin(struct hashio *engine, uint64_t b)
{
	uint64_t start = clock_ns(CLOCK_MONOTONIC);

	for (unsigned i = 1;; i++) {
		if (relay_turn(engine, b))
			return true;
		if (i % 64 == 0 && clock_ns(CLOCK_MONOTONIC) - start > RELAY_SPIN_NS)
			return false;
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
	}
}

/*
 * When block b is next (its holder hashes block b-1, a full one: not the
 * last of the file r) and its turn is due more than twice RELAY_SPIN_NS from
 * now, sleep on a timer until RELAY_SPIN_NS before it is due, then poll (see
 * the essay). Called and returns with the lock held.
 */
static void relay_doze(struct hashio *engine, const struct reading *r, uint64_t b)
{
	uint64_t took = relay_get(&engine->block_ns), due;
	struct timespec until;

	if (took == 0 || relay_get(&engine->hashed) + 1 != b || b * engine->block_size >= r->expect)
		return;
	due = relay_get(&engine->turn_at) + took;
	if (due < clock_ns(CLOCK_MONOTONIC) + 2 * RELAY_SPIN_NS)
		return;
	due -= RELAY_SPIN_NS;
	until.tv_sec = (time_t)(due / 1000000000u);
	until.tv_nsec = (long)(due % 1000000000u);
	pthread_mutex_unlock(&engine->lock);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
		;
	relay_spin(engine, b);
	pthread_mutex_lock(&engine->lock);
}

/* Wait for block b of r's turn (see relay_turn); called and returns with the lock held. */
static void relay_wait(struct hashio *engine, const struct reading *r, uint64_t b)
{
	if (!relay_turn(engine, b))
		relay_doze(engine, r, b);
	while (!relay_turn(engine, b)) {
		if (relay_get(&engine->soon) == b) {
			/* The holder is on its last bytes: poll rather than sleep. */
			pthread_mutex_unlock(&engine->lock);
			relay_spin(engine, b);
			pthread_mutex_lock(&engine->lock);
			if (relay_turn(engine, b))
				break;
		}
		pthread_cond_wait(&engine->turn, &engine->lock);
	}
}

/* Hash block b (n bytes of buf) while holding the baton: all but the tail,
 * then wake the next holder, then the tail. Returns 0 or an errno value. */
static int relay_hash(struct hashio *engine, uint64_t b, const unsigned char *buf, size_t n)
{
	size_t head = n > RELAY_TAIL ? n - RELAY_TAIL : 0;
	uint64_t start = clock_ns(CLOCK_MONOTONIC), took, est;

	relay_set(&engine->turn_at, start);

	if (head > 0 && hashset_update(&engine->set, buf, head) != 0)
		return errno ? errno : EIO;
	pthread_mutex_lock(&engine->lock);
	relay_set(&engine->soon, b + 1);
	pthread_cond_broadcast(&engine->turn);
	pthread_mutex_unlock(&engine->lock);
	if (hashset_update(&engine->set, buf + head, n - head) != 0)
		return errno ? errno : EIO;
	if (n == engine->block_size) {
		/* Follow a faster block at once, a slower one slowly: a block
		 * held up by preemption must not make the next holder oversleep. */
		took = clock_ns(CLOCK_MONOTONIC) - start;
		est = relay_get(&engine->block_ns);
		relay_set(&engine->block_ns, est == 0 || took < est ? took : est + (took - est) / 8);
	}
	return 0;
}

/*
 * One thread's share of a relayed file: blocks first, first + 2, ... read
 * into buf and hashed in turn (see the essay). Returns when the file ended,
 * failed, or the other thread stopped it.
 */
static void relay_blocks(struct hashio *engine, struct reading *r, uint64_t first,
			 unsigned char *buf)
{
	for (uint64_t b = first;; b += 2) {
		ssize_t n = 0;
		int err = 0;
		bool over;

		if (relay_get(&engine->end) <= b)
			return;
		n = read_full(r->fd, buf, engine->block_size, b * (uint64_t)engine->block_size);
		if (n < 0)
			err = errno;

		pthread_mutex_lock(&engine->lock);
		relay_wait(engine, r, b);
		over = relay_get(&engine->end) <= b;
		pthread_mutex_unlock(&engine->lock);
		if (over)
			return;

		/* This thread holds the baton: the context and r are its alone. */
		if (!err && n > 0) {
			block_read(engine, r, (size_t)n);
			err = relay_hash(engine, b, buf, (size_t)n);
			if (!err && r->sink)
				err = r->sink(r->sink_arg, buf, (size_t)n, r->offset);
			r->offset += (uint64_t)n;
		}

		pthread_mutex_lock(&engine->lock);
		if (err) {
			engine->relay_error = err;
			relay_set(&engine->end, b);
		} else if ((size_t)n < engine->block_size) {
			relay_set(&engine->end, b + 1);
		}
		relay_set(&engine->hashed, b + 1);
		pthread_cond_broadcast(&engine->turn);
		pthread_mutex_unlock(&engine->lock);
		if (err || (size_t)n < engine->block_size)
			return;
	}
}

/* The partner: the odd blocks of every relayed file, until relay_stop. */
static void *partner_main(void *arg)
{
	struct hashio *engine = arg;
	uint64_t done = 0;

	pthread_mutex_lock(&engine->lock);
	for (;;) {
		struct reading *r;

		while (!engine->quit && engine->files == done)
			pthread_cond_wait(&engine->turn, &engine->lock);
		if (engine->files == done)
			break; /* quitting */
		r = engine->file;
		pthread_mutex_unlock(&engine->lock);
		relay_blocks(engine, r, 1, engine->partner_buffer);
		pthread_mutex_lock(&engine->lock);
		engine->files_done = ++done;
		pthread_cond_broadcast(&engine->turn);
	}
	pthread_mutex_unlock(&engine->lock);
	return NULL;
}

/* Allocate the partner's buffer and start it. Returns 0 or -1. */
static int relay_start(struct hashio *engine)
{
	engine->partner_buffer = alloc_block(engine->block_size);
	if (engine->partner_buffer &&
	    pthread_create(&engine->partner, NULL, partner_main, engine) == 0) {
		engine->relay_ready = true;
		return 0;
	}
	free(engine->partner_buffer);
	engine->partner_buffer = NULL;
	engine->relay_failed = true;
	return -1;
}

/* The relay (see the essay). Returns 0 or an errno value. */
static int read_relay(struct hashio *engine, struct reading *r)
{
	int err;

	pthread_mutex_lock(&engine->lock);
	engine->file = r;
	relay_set(&engine->hashed, 0);
	relay_set(&engine->end, UINT64_MAX);
	relay_set(&engine->soon, 0);
	engine->relay_error = 0;
	engine->files++;
	pthread_cond_broadcast(&engine->turn);
	pthread_mutex_unlock(&engine->lock);

	relay_blocks(engine, r, 0, engine->buffer);

	pthread_mutex_lock(&engine->lock);
	while (engine->files_done != engine->files)
		pthread_cond_wait(&engine->turn, &engine->lock);
	err = engine->relay_error;
	pthread_mutex_unlock(&engine->lock);
	return err;
}

static bool same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static void fill_from_stat(struct hashio_result *result, const struct stat *st)
{
	result->ino = (uint64_t)st->st_ino;
	result->size = (uint64_t)st->st_size;
	result->mtime = st->st_mtim;
	result->mode = st->st_mode;
}

static void result_clear(struct hashio_result *result)
{
	/* The hex array is 2 KiB: leave it, only the count used is written. */
	result->error = 0;
	result->changed = false;
	result->not_regular = false;
	result->ino = result->size = 0;
	result->mtime.tv_sec = result->mtime.tv_nsec = 0;
	result->mode = 0;
}

/* Feed the first bytes of a file, read by the caller, as read_serial would. */
static int take_head(struct hashio *engine, struct reading *r, const void *head, size_t len)
{
	int err;

	block_read(engine, r, len);
	if (hashset_update(&engine->set, head, len) != 0)
		return errno ? errno : EIO;
	if (r->sink && (err = r->sink(r->sink_arg, head, len, 0)) != 0)
		return err;
	r->offset = (uint64_t)len;
	return 0;
}

/* Read on from r->offset by the fastest path this file and engine allow. */
static int read_file(struct hashio *engine, struct reading *r, bool parallel)
{
	if (parallel && engine->count == 1 &&
	    (engine->relay_ready || (!engine->relay_failed && relay_start(engine) == 0)))
		return read_relay(engine, r);
	if (parallel && engine->count >= 1 &&
	    (engine->parallel_ready || (!engine->parallel_failed && parallel_start(engine) == 0)))
		return read_parallel(engine, r);
	return read_serial(engine, r);
}

int hashio_fd(struct hashio *engine, int fd, const struct stat *st, const void *head,
	      size_t head_len, hashio_sink_fn *sink, void *sink_arg, struct hashio_result *result)
{
	struct reading r = {.fd = fd, .sink = sink, .sink_arg = sink_arg};
	struct stat own, after;
	uint64_t blocks;
	bool parallel;
	int err;

	result_clear(result);
	if (!st) {
		if (fstat(fd, &own) != 0) {
			result->error = errno;
			return -1;
		}
		st = &own;
	}
	fill_from_stat(result, st);
	if (!S_ISREG(st->st_mode)) {
		result->not_regular = true;
		return -1;
	}
	r.expect = (uint64_t)st->st_size;
	blocks = r.expect / engine->block_size;
	if (blocks > 0)
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

	if (hashset_reset(&engine->set) != 0) {
		result->error = errno ? errno : EIO;
		return -1;
	}
	/* A head is for small files: the rest, if any, is read serially. */
	parallel = head_len == 0 && !engine->serial && blocks >= PARALLEL_MIN_BLOCKS;
	err = head_len > 0 ? take_head(engine, &r, head, head_len) : 0;
	if (!err)
		err = read_file(engine, &r, parallel);

	if (engine->nocache)
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (err) {
		result->error = err;
		return -1;
	}
	if (fstat(fd, &after) != 0) {
		result->error = errno;
		return -1;
	}
	if (after.st_size != st->st_size || !same_time(&after.st_mtim, &st->st_mtim) ||
	    r.offset != r.expect)
		result->changed = true;
	if (hashset_final_hex(&engine->set, result->hex) != 0) {
		result->error = errno ? errno : EIO;
		return -1;
	}
	return 0;
}

/* Open path as hashio_file_at does (openread.h), saying why not in result. */
static int open_for_result(int dirfd, const char *path, int flags, struct stat *st,
			   struct hashio_result *result)
{
	bool have_stat;
	int fd;

	result_clear(result);
	fd = open_read_at(dirfd, path, flags, st, &have_stat);
	if (fd >= 0)
		return fd;
	if (have_stat)
		fill_from_stat(result, st);
	if (fd == OPEN_READ_NOT_REGULAR)
		result->not_regular = true;
	else
		result->error = errno;
	return -1;
}

int hashio_file_at(struct hashio *engine, int dirfd, const char *path, int flags,
		   struct hashio_result *result)
{
	struct stat st;
	int fd, ret;

	fd = open_for_result(dirfd, path, flags, &st, result);
	if (fd < 0)
		return -1;
	ret = hashio_fd(engine, fd, &st, NULL, 0, NULL, NULL, result);
	xclose(fd);
	return ret;
}
