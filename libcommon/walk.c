/* SPDX-License-Identifier: 0BSD */
/**
 * The parallel tree walker (walk.h).
 *
 * Design
 * ======
 *
 * Where the time goes. On a warm cache a walk that prints sizes costs one
 * getdents64 per few hundred entries and one fstatat per entry; the stat is
 * most of it. So the walker does exactly that work, spread
 * over threads, and nothing per entry that takes a lock or a stdio call:
 * each worker reads a whole directory from its own descriptor, stats each
 * entry relative to that descriptor (only when a flag, d_type DT_UNKNOWN,
 * -L or -xdev needs it), builds the path in its own buffer and calls the
 * visit callback, which formats into the worker's own output buffer.
 *
 * Nodes, not paths. Each directory still to be read is a struct walk_node:
 * its name, a pointer to its parent node and a reference count (one for
 * whoever will read it, one per child node alive). A path is rebuilt from
 * the chain when a worker starts a directory (usually by appending one name
 * to the previous directory's path, which it caches). A queued directory
 * therefore costs its name, never its whole path, and a node is freed, with
 * its descriptor closed, as soon as it has been read and its last child is
 * gone. Memory is the pending directories' names plus one path per thread;
 * files are never stored (except in the listings a sorted walk reads ahead,
 * within its window).
 *
 * Descriptors. Directories are opened with openat() relative to their
 * parent's descriptor, one component at a time, so depth and PATH_MAX never
 * matter. Open directory descriptors live in a cache of at most max_fds
 * (sized from RLIMIT_NOFILE, leaving room for the callbacks' own files);
 * a descriptor in use is pinned, an unpinned one sits on an LRU list and is
 * closed when the cache is full. When a directory's parent was evicted, the
 * walker climbs to the nearest ancestor that is still open (or to the root,
 * opened from the working directory as given) and reopens the chain
 * downwards, caching each step, as bfs does. A chain 10,000 levels deep thus
 * uses at most max_fds descriptors, and the common case (a child read right
 * after its parent) finds the parent open.
 *
 * Scheduling. pool.h's bounded queue does not fit a walker that feeds
 * itself: a worker that blocked pushing subdirectories into a full queue
 * while every other worker did the same would deadlock, and the queue's
 * length is really the tree's frontier, which no bound can shorten. So the
 * walker has its own queue: a LIFO stack of nodes under one mutex.
 * Workers pop a directory, read it, and push its subdirectories - right
 * away when a worker is idle, otherwise once per getdents64 buffer, so a
 * million-entry directory takes the lock a few hundred times, not a
 * million. LIFO makes the walk roughly depth-first: the pending set stays
 * near depth x siblings instead of the breadth-first frontier, and a popped
 * directory's parent was usually read moments ago, so its descriptor is
 * still cached. The walk ends when the stack is empty and no worker is
 * reading (a reader may still push). Threads start lazily: the calling
 * thread is worker 0, and a push that would leave work waiting with no idle
 * worker starts one per directory waiting, up to the cap; a one-directory
 * tree or a bare chain starts none. The default cap is one thread per core,
 * raised to four per core once reads or stats are seen to block on I/O
 * (note_blocking, note_stat_blocking). Inside one directory, stats that
 * block go to the kernel in batches (see "Stats far away" below).
 *
 * Output back-pressure needs nothing here: a visit that blocks in write(2)
 * stops its worker from reading, so nothing grows behind a slow reader.
 *
 * Sorted mode. Output order must not depend on which thread read what.
 * The calling thread (the emitter) keeps a stack of frames, one per level:
 * a directory and its remaining subdirectories. For each directory, in
 * order, it takes the listing (names sorted with strcmp, stats done, by a
 * worker or by itself if no worker got there), emits it, then descends
 * into its subdirectories one by one. Listings read ahead and not yet
 * emitted are bounded by a window (WALK_WINDOW bytes), which bounds
 * memory; if the emitter needs a directory no worker has taken, it reads
 * it itself, so it never waits on a worker that waits on it, and while a
 * worker is still reading it the emitter reads others rather than sleep.
 *
 * Who visits depends on the caller. A caller whose visits must run in
 * order, one at a time (phash -r queues each entry to its hashing pool)
 * gets them all in the emitter: workers only read ahead, the emitter
 * visits each listing when it emits it, and only then are its
 * subdirectories known (the visit may prune), so it queues them for
 * read-ahead - all but the first, which it reads itself at once, so a
 * chain of single subdirectories never wakes anyone. That keeps the
 * workers barely ahead of the emitter, and on a tree of small directories
 * the emitter, visiting every entry, is the bottleneck. A caller whose
 * visits only produce output (pfind --sort) sets write_block: the worker
 * that reads a listing also visits it, into a block of output kept with
 * the listing, and queues its subdirectories at once, exactly as an
 * unsorted walk does; the emitter only writes finished blocks in order.
 * The workers then run ahead as far as the window allows, and the emitter
 * stops being the bottleneck. A listing read ahead holds its subdirectories' nodes, which
 * hold it; a walk stopped before it was emitted frees those at the end
 * (walker.held).
 *
 * A caller may hold entries back from its visits and handle them together
 * (pcopy reads a directory's small files as one batch): dir_done is called
 * by the thread that visited a directory's entries, after the last, while
 * the directory is still pinned, so the at_fd those visits got still works.
 *
 * Errors are per entry: a failed stat is one visit with error set; a
 * directory that cannot be opened or read gets a second visit with error
 * set. Allocation failures on the way are reported the same way (ENOMEM)
 * for the directory concerned and the walk goes on.
 */
#include "prelude.h"
#include "walk.h"
#include "dbuf.h"
#include "pool.h"
#include "sleeps.h"
#include "uring.h"
#include "grow.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/*
 * How far a sorted walk's workers may read ahead of the emitter: the bytes
 * held by listings read and not yet emitted (names, entries, stats and
 * formatted output, which long paths make large), plus a directory's worth
 * for each one being read. Enough for hundreds of ordinary directories (a
 * listing costs about 100 to 300 bytes an entry), so that workers rarely
 * stop and wait; the bound can be passed by the one directory that
 * crosses it, however large.
 */
#define WALK_WINDOW ((size_t)8 << 20)
#define WALK_WINDOW_DIR ((size_t)4096)

/* One directory in this many has its first read timed (read_dents). */
#define WALK_SAMPLE 4u

/*
 * Stats far away. A thread stats a directory's entries itself, one fstatat
 * after another: on a warm cache nothing is faster, but where each stat
 * waits on a server (a network mount, FUSE) that keeps one request in
 * flight per thread, whatever -j says. So once stats are seen to block
 * (note_stat_blocking), the entries are stat'ed in batches of up to
 * WALK_STAT_BATCH through io_uring's IORING_OP_STATX, whose blocking
 * statx calls the kernel runs in its own workers: the whole batch is in
 * flight at once, and a thread still holds at most one batch (memory stays
 * bounded in a directory of a million entries). The visits are unchanged:
 * the same entries in the same order, each with the stat or error that
 * fstatat would have given (stat_entry's rules, applied to the results).
 * Not on a warm cache (the hand-off to the kernel's workers costs more than
 * the stat), not for batches under WALK_STAT_BATCH_MIN stats (a hand-off
 * for one or two gains little), not with -j 1 (one request at a time is
 * what was asked), not where io_uring is missing, refused or switched off
 * (PTOOLS_IO_URING=0).
 */
#define WALK_STAT_BATCH 64u
#define WALK_STAT_BATCH_MIN 4u

/*
 * How a thread finds out that stats block: it times the first
 * WALK_STAT_PROBE stats of a sampled batch, one by one, and then the next
 * WALK_STAT_PROBE while every one of a probe slept; WALK_STAT_BLOCKED such
 * probes, in any threads, switch the walk to batches. Probing a few rather
 * than timing whole batches: a thread alone in one wide directory would
 * otherwise pay two whole batches of round trips, one at a time, before its
 * first batch in flight.
 */
#define WALK_STAT_PROBE 8u
#define WALK_STAT_BLOCKED 2u

/*
 * The default thread cap once stats are seen to block (far storage), above
 * walk_io_threads' cap for a cold disk, which more threads would only queue
 * on. Far away each stat waits on a round trip, not on a device, and a
 * filesystem may serve one lookup at a time per directory (FUSE does,
 * unless it asks for parallel directory operations): there the requests in
 * flight are the directories being read at once, one per thread, whatever
 * the batches through io_uring hold.
 */
#define WALK_FAR_THREADS 64u

/* getdents64 buffer per thread: a few hundred entries per system call. */
#define WALK_DENTS_SIZE ((size_t)64 << 10)

/* The kernel's record for getdents64 (glibc declares the call, not this). */
struct walk_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* A sorted directory listing (WALK_SORT only). */
struct walk_dent {
	size_t name_off;         /* into walk_listing.names */
	size_t name_len;
	uint64_t ino;
	unsigned char type;
	int error;               /* stat failed */
	struct stat *st;         /* into walk_listing.stats, or NULL */
};

struct walk_listing {
	struct walk_dent *ents;
	size_t n, cap;
	struct dbuf names;
	struct stat *stats;
	size_t nstats;
	int error;               /* the directory could not be opened or read */
	struct walk_node **children;  /* the subdirectories to enter, in order */
	size_t nchildren;
	struct dbuf block;       /* with write_block: the visits' output */
};

enum walk_node_state { NODE_PENDING, NODE_TAKEN, NODE_DONE };

struct walk_node;

/* A node's place on one of the walker's lists (a node may be on two). */
struct walk_link {
	struct walk_node *prev, *next;
};

/* A doubly linked list of nodes, through the link at offset in each node. */
struct walk_list {
	struct walk_node *head, *tail;
	size_t offset;           /* offsetof(struct walk_node, the walk_link) */
};

struct walk_node {
	struct walk_node *parent;
	atomic_size_t refs;
	/* Guarded by walker.lock: */
	int fd;                  /* -1 when not open */
	unsigned pins;           /* users of fd; on the LRU list when fd >= 0 && !pins */
	struct walk_link lru;
	enum walk_node_state state;   /* WALK_SORT read-ahead */
	bool prefetched;         /* taken by a worker (counts against the window) */
	size_t window_cost;      /* what it counts against the window (bytes) */
	struct walk_listing *listing;
	/* On walker.held while listing holds children (which hold this node). */
	struct walk_link held;
	/* Immutable after creation: */
	dev_t dev, root_dev;
	ino_t ino;
	bool have_id;            /* dev and ino are known */
	bool slash;              /* children's paths need a '/' after ours */
	size_t depth, root_index;
	size_t path_len, name_len;
	char name[];             /* a root's is the root as given */
};

struct walk_thread {
	pthread_t id;
	bool running;            /* written by the starter before the walk can end */
};

struct walker {
	const struct walk_config *config;
	int flags;
	pthread_mutex_t lock;          /* guards everything below and nodes' locked fields */
	pthread_cond_t work_cond;      /* workers wait here for work */
	pthread_cond_t done_cond;      /* the sorting emitter waits here for listings */
	struct walk_node **stack;
	size_t nstack, stack_cap;
	unsigned max_threads, started, active;
	unsigned io_threads;           /* the cap once reads are seen to block (adaptive) */
	unsigned far_threads;          /* the cap once stats are seen to block (adaptive) */
	atomic_bool adaptive;          /* default thread count: may still rise to far_threads */
	atomic_uint blocked_reads;     /* first reads of a directory that blocked */
	atomic_uint blocked_stats;     /* stat probes that blocked */
	atomic_bool stats_block;       /* stat through io_uring batches (WALK_STAT_BATCH) */
	bool may_batch_stats;          /* io_uring allowed and more than one thread asked for */
	atomic_uint idle;              /* read without the lock as a hint */
	bool finished;
	struct walk_thread *threads;   /* far_threads slots */
	atomic_bool stop;
	struct walk_list lru;          /* head: most recently unpinned */
	size_t open_fds, max_fds;
	size_t window_used;            /* WALK_SORT read-ahead, in bytes (bound: WALK_WINDOW) */
	struct walk_list held;         /* nodes whose unconsumed listing holds children */
	struct walk_node *awaited;     /* the listing the emitter sleeps for, or NULL */
};

/* One thread's state. */
struct walk_worker {
	struct walker *walker;
	void *context;
	bool has_context;
	char *dents;
	struct dbuf path;
	struct walk_node *path_node;   /* whose path is in path (holds a reference) */
	struct walk_node **batch;      /* subdirectories found, not yet pushed */
	size_t nbatch, batch_cap;
	struct walk_node **chain;      /* ancestors to reopen */
	size_t chain_cap;
	struct dbuf *block;            /* with write_block: output of the listing being visited */
	unsigned first_reads;          /* directories started (read_dents samples them) */
	unsigned stat_batches;         /* stat batches done one by one (some probed) */
	struct uring *ring;            /* for stat batches, made when first needed */
	bool no_ring;                  /* io_uring failed here: stat one by one */
	/* The entries of a getdents64 buffer being visited, at most WALK_STAT_BATCH: */
	struct walk_dent *chunk;
	const char **chunk_names;
	struct stat *chunk_stats;
	struct walk_stat_job *jobs;    /* those of them to stat */
	struct uring_stat *ustats;
};

/* An entry to stat: its name, where its results go. */
struct walk_stat_job {
	const char *name;
	struct walk_dent *dent;
	struct stat *st;
};

/* Frame of the sorting emitter: a directory and its subdirectories to enter. */
struct walk_frame {
	struct walk_node *node;
	struct walk_node **subdirs;
	size_t n, next;
};

static struct walk_link *list_link(const struct walk_list *list, struct walk_node *node)
{
	return (struct walk_link *)((char *)node + list->offset);
}

static void list_remove(struct walk_list *list, struct walk_node *node)
{
	struct walk_link *link = list_link(list, node);

	if (link->prev)
		list_link(list, link->prev)->next = link->next;
	else
		list->head = link->next;
	if (link->next)
		list_link(list, link->next)->prev = link->prev;
	else
		list->tail = link->prev;
	link->prev = link->next = NULL;
}

static void list_push(struct walk_list *list, struct walk_node *node)
{
	struct walk_link *link = list_link(list, node);

	link->prev = NULL;
	link->next = list->head;
	if (list->head)
		list_link(list, list->head)->prev = node;
	else
		list->tail = node;
	list->head = node;
}

/* Close the least recently used unpinned descriptor. Lock held. Returns false if none. */
static bool evict_one(struct walker *wk)
{
	struct walk_node *victim = wk->lru.tail;

	if (!victim)
		return false;
	list_remove(&wk->lru, victim);
	close(victim->fd);
	victim->fd = -1;
	wk->open_fds--;
	return true;
}

static void node_release(struct walker *wk, struct walk_node *node);

/* The memory a listing holds, as counted against a sorted walk's window. */
static size_t listing_bytes(const struct walk_listing *listing)
{
	return sizeof(*listing) + listing->cap * sizeof(*listing->ents) + listing->names.cap +
	       listing->nstats * sizeof(*listing->stats) + listing->block.cap +
	       listing->nchildren * (sizeof(*listing->children) + sizeof(struct walk_node));
}

static void listing_free(struct walker *wk, struct walk_listing *listing)
{
	if (!listing)
		return;
	for (size_t i = 0; i < listing->nchildren; i++)
		node_release(wk, listing->children[i]);
	free(listing->children);
	free(listing->ents);
	free(listing->stats);
	dbuf_free(&listing->names);
	dbuf_free(&listing->block);
	free(listing);
}

static void node_ref(struct walk_node *node)
{
	atomic_fetch_add_explicit(&node->refs, 1, memory_order_relaxed);
}

/* Drop a reference; the last one frees the node, closes its fd and drops its parent's. */
static void node_release(struct walker *wk, struct walk_node *node)
{
	while (node && atomic_fetch_sub_explicit(&node->refs, 1, memory_order_acq_rel) == 1) {
		struct walk_node *parent = node->parent;
		int fd = -1;

		pthread_mutex_lock(&wk->lock);
		PT_ASSERT(node->pins == 0);
		if (node->fd >= 0) {
			list_remove(&wk->lru, node);
			fd = node->fd;
			wk->open_fds--;
		}
		pthread_mutex_unlock(&wk->lock);
		if (fd >= 0)
			close(fd);
		/* (A listing with children is not here: they hold this node.) */
		listing_free(wk, node->listing);
		free(node);
		node = parent;
	}
}

/*
 * A node for a directory named name under parent (NULL: a root, whose name
 * is the root as given). The reference returned belongs to the caller.
 * st may be NULL when not known. Returns NULL (ENOMEM) on failure.
 */
static struct walk_node *node_new(struct walk_node *parent, const char *name, size_t name_len,
				  const struct stat *st, size_t root_index)
{
	struct walk_node *node;

	if (name_len > SIZE_MAX - sizeof(*node) - 1) {
		errno = ENOMEM;
		return NULL;
	}
	node = malloc(sizeof(*node) + name_len + 1);
	if (!node)
		return NULL;
	memset(node, 0, sizeof(*node));
	atomic_init(&node->refs, 1);
	node->fd = -1;
	node->state = NODE_PENDING;
	node->name_len = name_len;
	memcpy(node->name, name, name_len);
	node->name[name_len] = '\0';
	if (st) {
		node->dev = st->st_dev;
		node->ino = st->st_ino;
		node->have_id = true;
	}
	if (parent) {
		node_ref(parent);
		node->parent = parent;
		node->depth = parent->depth + 1;
		node->root_index = parent->root_index;
		node->root_dev = parent->root_dev;
		node->path_len = parent->path_len + (parent->slash ? 1 : 0) + name_len;
		node->slash = true;
	} else {
		node->root_index = root_index;
		node->root_dev = node->dev;
		node->path_len = name_len;
		node->slash = name_len == 0 || name[name_len - 1] != '/';
	}
	return node;
}

/* Unpin a node's descriptor, making it evictable. */
static void dir_unpin(struct walker *wk, struct walk_node *node)
{
	pthread_mutex_lock(&wk->lock);
	PT_ASSERT(node->pins > 0);
	if (--node->pins == 0 && node->fd >= 0) {
		list_push(&wk->lru, node);
		while (wk->open_fds > wk->max_fds && evict_one(wk))
			;
	}
	pthread_mutex_unlock(&wk->lock);
}

/* openat() a directory, making room in the cache when the process is out of descriptors. */
static int open_dir_at(struct walker *wk, int at_fd, const char *name, bool root)
{
	int oflags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK;
	int fd;

	/* A non-root directory is entered by name only when it was a directory,
	 * not a symlink, a moment ago: O_NOFOLLOW keeps a swapped-in symlink out. */
	if (!root && !(wk->flags & WALK_FOLLOW))
		oflags |= O_NOFOLLOW;
	for (;;) {
		bool evicted;

		fd = openat(at_fd, name, oflags);
		if (fd >= 0 || (errno != EMFILE && errno != ENFILE))
			return fd;
		pthread_mutex_lock(&wk->lock);
		evicted = evict_one(wk);
		pthread_mutex_unlock(&wk->lock);
		if (!evicted)
			return -1;
	}
}

/*
 * Pin and return node's directory descriptor, opening it (and any evicted
 * ancestors, one component at a time) if needed. Returns -1 with errno.
 */
static int dir_pin(struct walk_worker *w, struct walk_node *node)
{
	struct walker *wk = w->walker;
	struct walk_node *n, *base = NULL;
	size_t depth = 0, i;
	int base_fd = AT_FDCWD;

	pthread_mutex_lock(&wk->lock);
	/* Collect the chain of unopened nodes up to the nearest open ancestor. */
	for (n = node; n; n = n->parent) {
		if (n->fd >= 0) {
			if (n->pins++ == 0)
				list_remove(&wk->lru, n);
			base = n;
			base_fd = n->fd;
			break;
		}
		if (GROW(w->chain, &w->chain_cap, depth + 1, 64) != 0) {
			pthread_mutex_unlock(&wk->lock);
			return -1;
		}
		w->chain[depth++] = n;
	}
	pthread_mutex_unlock(&wk->lock);

	/* Open downwards; each step pins the new one, then unpins its parent. */
	for (i = depth; i-- > 0;) {
		struct walk_node *step = w->chain[i];
		int fd = open_dir_at(wk, base_fd, step->name, step->parent == NULL);
		int extra = -1;

		if (fd < 0) {
			int saved = errno;

			if (base)
				dir_unpin(wk, base);
			errno = saved;
			return -1;
		}
		pthread_mutex_lock(&wk->lock);
		if (step->fd >= 0) {
			/* Another thread opened it meanwhile: use that one. */
			extra = fd;
			if (step->pins++ == 0)
				list_remove(&wk->lru, step);
		} else {
			step->fd = fd;
			step->pins = 1;
			wk->open_fds++;
		}
		pthread_mutex_unlock(&wk->lock);
		if (extra >= 0)
			close(extra);
		if (base)
			dir_unpin(wk, base);
		base = step;
		base_fd = step->fd;
	}
	return base_fd;
}

/* Put node's path into w->path (reusing the cached parent path when possible). */
static int build_path(struct walk_worker *w, struct walk_node *node)
{
	struct walk_node *n;
	size_t pos;

	if (w->path_node == node) {
		dbuf_truncate(&w->path, node->path_len);
		return 0;
	}
	if (node->parent && w->path_node == node->parent) {
		dbuf_truncate(&w->path, node->parent->path_len);
		if (node->parent->slash && dbuf_putc(&w->path, '/') != 0)
			return -1;
		if (dbuf_append(&w->path, node->name, node->name_len) != 0)
			return -1;
	} else {
		dbuf_clear(&w->path);
		if (dbuf_reserve(&w->path, node->path_len) != 0)
			return -1;
		pos = node->path_len;
		for (n = node; n; n = n->parent) {
			pos -= n->name_len;
			memcpy(w->path.data + pos, n->name, n->name_len);
			if (n->parent && n->parent->slash)
				w->path.data[--pos] = '/';
		}
		PT_ASSERT(pos == 0);
		w->path.len = node->path_len;
		w->path.data[w->path.len] = '\0';
	}
	node_ref(node);
	node_release(w->walker, w->path_node);
	w->path_node = node;
	return 0;
}

/* Append "/name" to the directory path in w->path (which holds dir's path). */
static int path_push_name(struct walk_worker *w, struct walk_node *dir, const char *name, size_t len)
{
	dbuf_truncate(&w->path, dir->path_len);
	if (dir->slash && dbuf_putc(&w->path, '/') != 0)
		return -1;
	return dbuf_append(&w->path, name, len);
}

static bool stopping(const struct walker *wk)
{
	return atomic_load_explicit(&wk->stop, memory_order_relaxed);
}

unsigned walk_default_threads(void)
{
	return pool_default_threads(1, 2, 64);
}

/* The thread cap once directory reads block on I/O: more reads in flight than cores. */
unsigned walk_io_threads(void)
{
	return pool_default_threads(4, 8, 64);
}

/* Raise the default thread cap to cap (io_threads or far_threads); far_threads ends the rises. */
static void raise_threads(struct walker *wk, unsigned cap)
{
	if (!atomic_load(&wk->adaptive))
		return;
	pthread_mutex_lock(&wk->lock);
	if (wk->max_threads < cap)
		wk->max_threads = cap;
	if (cap >= wk->far_threads)
		atomic_store(&wk->adaptive, false);
	pthread_mutex_unlock(&wk->lock);
}

/*
 * The default thread count adapts: with the data in memory a walk is bound
 * by the CPU and one thread per core is fastest (more only adds switches),
 * but on a cold disk or a network filesystem reads block, and then more
 * reads in flight is what brings speed. So the walk starts with one thread
 * per core and raises the cap, once, when workers' first getdents64 of a
 * directory has been seen to block (a voluntary context switch across the
 * call) a few times.
 */
static void note_blocking(struct walker *wk, long before)
{
	/* A few blocked reads happen on a warm tree too (a page evicted under
	 * memory pressure); a cold one blocks on nearly every directory. */
	if (thread_sleeps() == before || atomic_fetch_add(&wk->blocked_reads, 1) + 1 < 8)
		return;
	raise_threads(wk, wk->io_threads);
}

/*
 * A probe of n stats done one by one has been timed (before: thread_sleeps()
 * before it). On a warm cache a stat never sleeps; far away every one does
 * (a round trip each), while on a cold local disk only some do (one inode
 * block read serves many entries) and there the hand-off to the kernel's
 * workers costs more than it gains (a cold walk of /usr took 18% longer).
 * So a probe counts as blocked only when every one of its stats slept, and
 * WALK_STAT_BLOCKED of them switch the walk to batches through io_uring
 * (for good: a walk rarely goes from far to near) and raise the default
 * thread cap to WALK_FAR_THREADS. Returns whether this probe blocked.
 */
static bool note_stat_blocking(struct walker *wk, long before, size_t n)
{
	if ((size_t)(thread_sleeps() - before) < n)
		return false;
	if (atomic_fetch_add(&wk->blocked_stats, 1) + 1 >= WALK_STAT_BLOCKED) {
		atomic_store(&wk->stats_block, true);
		raise_threads(wk, wk->far_threads);
	}
	return true;
}

/*
 * getdents64 into the worker's buffer. *first is true for a directory's
 * first read, the only one timed (not the open: it may wait on our own
 * lock), which is enough to tell a cold disk; it is false afterwards. Only
 * one directory in WALK_SAMPLE is timed: the two getrusage calls are not
 * free on a warm walk, and a cold one blocks on nearly every directory.
 */
static ssize_t read_dents(struct walk_worker *w, int fd, bool *first)
{
	struct walker *wk = w->walker;
	bool measure = *first && w->first_reads++ % WALK_SAMPLE == 0 &&
		       atomic_load_explicit(&wk->adaptive, memory_order_relaxed);
	long before = measure ? thread_sleeps() : 0;
	ssize_t len = getdents64(fd, w->dents, WALK_DENTS_SIZE);

	if (measure)
		note_blocking(wk, before);
	*first = false;
	return len;
}

/* Call visit (its output going to the block being made, if any) and act on WALK_STOP. */
static enum walk_action call_visit(struct walk_worker *w, struct walk_entry *entry)
{
	enum walk_action action;

	entry->out = w->block;
	action = w->walker->config->visit(w->context, entry);

	if (action == WALK_STOP)
		atomic_store(&w->walker->stop, true);
	return action;
}

/* A directory's entries have all been visited: tell the caller, if it asked. */
static void dir_done(struct walk_worker *w)
{
	if (w->walker->config->dir_done)
		w->walker->config->dir_done(w->context);
}

/* Report that directory node could not be opened or read (w->path must hold its path). */
static void report_dir_error(struct walk_worker *w, struct walk_node *node, int error)
{
	struct walk_entry entry = {
		.path = w->path.data,
		.path_len = node->path_len,
		.name = w->path.data + node->path_len - node->name_len,
		.name_len = node->name_len,
		.at_fd = -1,
		.at_path = NULL,
		.type = DT_DIR,
		.ino = node->ino,
		.depth = node->depth,
		.root_index = node->root_index,
		.error = error,
	};

	dbuf_truncate(&w->path, node->path_len);
	call_visit(w, &entry);
}

/* Report an error for a directory whose path may not be built yet. */
static void fail_dir(struct walk_worker *w, struct walk_node *node, int error)
{
	if (build_path(w, node) != 0) {
		/* Not even the path fits: report the bare name. */
		struct walk_entry entry = {
			.path = node->name, .path_len = node->name_len,
			.name = node->name, .name_len = node->name_len,
			.at_fd = -1, .type = DT_DIR, .depth = node->depth,
			.root_index = node->root_index, .error = error,
		};
		call_visit(w, &entry);
		return;
	}
	report_dir_error(w, node, error);
}

/* Whether a directory with this dev/ino is node or one of its ancestors. */
static bool is_ancestor(const struct walk_node *node, dev_t dev, ino_t ino)
{
	for (; node; node = node->parent)
		if (node->have_id && node->dev == dev && node->ino == ino)
			return true;
	return false;
}

/* Whether an entry of this d_type needs a stat under these flags. */
static bool needs_stat(int flags, unsigned char type)
{
	if (flags & WALK_STAT || type == DT_UNKNOWN)
		return true;
	if (type == DT_LNK && flags & WALK_FOLLOW)
		return true;
	return type == DT_DIR && flags & (WALK_XDEV | WALK_FOLLOW);
}

/*
 * Stat name in dirfd as the flags ask: under WALK_FOLLOW the target, falling
 * back to the link itself when it is broken. Returns 0 or an errno value.
 */
static int stat_entry(int flags, int dirfd, const char *name, struct stat *st)
{
	if (flags & WALK_FOLLOW) {
		if (fstatat(dirfd, name, st, 0) == 0)
			return 0;
		if (errno != ENOENT && errno != ELOOP)
			return errno;
	}
	if (fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	return errno;
}

/*
 * Whether an entry must be reported instead of visited: under WALK_FOLLOW, a
 * directory that is its own ancestor (find -L reports it and leaves it out).
 */
static bool is_loop(const struct walker *wk, const struct walk_node *parent,
		    const struct walk_entry *entry)
{
	return wk->flags & WALK_FOLLOW && entry->type == DT_DIR && entry->st &&
	       is_ancestor(parent, entry->st->st_dev, entry->st->st_ino);
}

/* Whether a directory visited with CONTINUE is entered: not across a mount with -xdev. */
static bool may_enter(const struct walker *wk, const struct walk_node *parent, const struct stat *st)
{
	return !(st && wk->flags & WALK_XDEV && st->st_dev != parent->root_dev);
}

static void *thread_main(void *arg);

/*
 * Queue the batched subdirectories, and wake (or start) a helper if they
 * would otherwise wait. They would not when the caller is about to finish
 * its directory and only one is queued: it pops that one itself, and on a
 * chain of single subdirectories a wake-up per level (a futex and, on a VM,
 * an inter-processor interrupt) would cost more than the directory.
 * busy says the caller still has a part of its directory to read.
 * With nobody idle, it starts a thread for each directory waiting (up to
 * the cap), not just one: a tree of leaf directories under one parent
 * flushes once, and one thread per flush would leave a -j 32 walk of
 * such a tree on two threads.
 */
static void flush_batch(struct walk_worker *w, bool may_spawn, bool busy)
{
	struct walker *wk = w->walker;
	bool wake;
	unsigned first = 0, nspawn = 0;

	if (w->nbatch == 0)
		return;
	pthread_mutex_lock(&wk->lock);
	if (GROW(wk->stack, &wk->stack_cap, wk->nstack + w->nbatch, 256) != 0) {
		pthread_mutex_unlock(&wk->lock);
		/* Keep going with what the stack holds; these directories are lost. */
		for (size_t i = 0; i < w->nbatch; i++) {
			/* (A sorted walk's emitter still holds them and reads them itself.) */
			if (!(wk->flags & WALK_SORT))
				fail_dir(w, w->batch[i], ENOMEM);
			node_release(wk, w->batch[i]);
		}
		w->nbatch = 0;
		return;
	}
	/* Reverse, so that the first found is popped first (roughly name order
	 * within a directory, which keeps sibling reads close on disk). */
	for (size_t i = w->nbatch; i-- > 0;)
		wk->stack[wk->nstack++] = w->batch[i];
	wake = busy || wk->nstack >= 2;
	/* Sorted: workers idle at a full read-ahead window have nothing to take
	 * (take_listing wakes them when half of it is free). */
	if ((wk->flags & WALK_SORT) && wk->window_used >= WALK_WINDOW)
		wake = false;
	if (wake && atomic_load(&wk->idle) > 0) {
		if (w->nbatch == 1)
			pthread_cond_signal(&wk->work_cond);
		else
			pthread_cond_broadcast(&wk->work_cond);
	} else if (wake && may_spawn && wk->started < wk->max_threads && !wk->finished) {
		/* The caller pops one itself unless busy. */
		size_t waiting = busy || wk->nstack < 2 ? wk->nstack : wk->nstack - 1;

		first = wk->started;
		nspawn = wk->max_threads - wk->started;
		if (waiting < nspawn)
			nspawn = waiting > 0 ? (unsigned)waiting : 1;
		wk->started += nspawn;
	}
	pthread_mutex_unlock(&wk->lock);

	w->nbatch = 0;
	for (unsigned slot = first; slot < first + nspawn; slot++)
		if (pthread_create(&wk->threads[slot].id, NULL, thread_main, wk) == 0)
			wk->threads[slot].running = true;
	/* A thread that could not start only means fewer helpers: the caller
	 * (and in sorted mode the emitter) does the work. */
}

/* Make room for one more batched subdirectory. Returns 0 or -1 (ENOMEM). */
static int batch_reserve(struct walk_worker *w)
{
	return GROW(w->batch, &w->batch_cap, w->nbatch + 1, 64);
}

static int batch_add(struct walk_worker *w, struct walk_node *node)
{
	if (batch_reserve(w) != 0)
		return -1;
	w->batch[w->nbatch++] = node;
	return 0;
}

/* Take a stat's outcome into its entry: on success its type and inode are the stat's. */
static void set_dent_stat(struct walk_dent *dent, struct stat *st, int error)
{
	dent->error = error;
	dent->st = NULL;
	if (error)
		return;
	dent->st = st;
	dent->type = IFTODT(st->st_mode);
	dent->ino = st->st_ino;
}

/*
 * Stat jobs[0..n) through io_uring, all in flight at once, with stat_entry's
 * rules: under WALK_FOLLOW the target, the link itself when it is broken
 * (that second stat is rare and done here). Returns 0, or -1 when io_uring
 * failed: the caller stats them one by one, and this thread never tries
 * io_uring again.
 */
static int stat_jobs_batched(struct walk_worker *w, int dirfd, struct walk_stat_job *jobs, size_t n)
{
	int flags = w->walker->flags & WALK_FOLLOW ? 0 : AT_SYMLINK_NOFOLLOW;

	if (!w->ring) {
		w->ring = uring_new(WALK_STAT_BATCH);
		if (!w->ring) {
			w->no_ring = true;
			return -1;
		}
		/* Failing, the kernel's default stays (fewer in flight). */
		(void)uring_max_workers(w->ring, WALK_STAT_BATCH);
	}
	for (size_t i = 0; i < n; i++) {
		w->ustats[i].dirfd = dirfd;
		w->ustats[i].name = jobs[i].name;
		w->ustats[i].flags = flags;
		w->ustats[i].st = jobs[i].st;
		w->ustats[i].error = 0;
	}
	if (uring_stat_all(w->ring, w->ustats, n) != 0) {
		uring_free(w->ring);
		w->ring = NULL;
		w->no_ring = true;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		int error = w->ustats[i].error;

		if (flags == 0 && (error == ENOENT || error == ELOOP))
			error = fstatat(dirfd, jobs[i].name, jobs[i].st, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno;
		set_dent_stat(jobs[i].dent, jobs[i].st, error);
	}
	return 0;
}

/* Stat jobs[0..n) one after another, with stat_entry's rules. */
static void stat_jobs_one_by_one(struct walk_worker *w, int dirfd, struct walk_stat_job *jobs,
				 size_t n)
{
	for (size_t i = 0; i < n; i++)
		set_dent_stat(jobs[i].dent, jobs[i].st,
			      stat_entry(w->walker->flags, dirfd, jobs[i].name, jobs[i].st));
}

/*
 * Stat jobs[0..n) (at most WALK_STAT_BATCH, each an entry needs_stat chose)
 * in dirfd: as a batch through io_uring once stats are known to block,
 * otherwise one by one, probing some batches' first stats to find out (the
 * rest of a batch whose probes switched the walk goes as a batch already).
 */
static void stat_jobs(struct walk_worker *w, int dirfd, struct walk_stat_job *jobs, size_t n)
{
	struct walker *wk = w->walker;
	bool big = n >= WALK_STAT_BATCH_MIN && wk->may_batch_stats && !w->no_ring;
	/* Without io_uring (refused by a container's seccomp filter, switched
	 * off) blocking stats still raise the default thread cap: probe then too. */
	bool probe_worth = big || (n >= WALK_STAT_BATCH_MIN &&
				   atomic_load_explicit(&wk->adaptive, memory_order_relaxed));
	size_t done = 0;

	if (probe_worth && !atomic_load_explicit(&wk->stats_block, memory_order_relaxed)) {
		/* Every batch while a thread is young, then one in WALK_SAMPLE:
		 * getrusage costs little next to a probe of stats. */
		bool probe = w->stat_batches < 8 || w->stat_batches % WALK_SAMPLE == 0;

		w->stat_batches++;
		while (probe && done < n &&
		       !atomic_load_explicit(&wk->stats_block, memory_order_relaxed)) {
			size_t m = n - done < WALK_STAT_PROBE ? n - done : WALK_STAT_PROBE;
			long before = thread_sleeps();

			stat_jobs_one_by_one(w, dirfd, jobs + done, m);
			done += m;
			probe = note_stat_blocking(wk, before, m);
		}
	}
	if (big && n - done >= WALK_STAT_BATCH_MIN &&
	    atomic_load_explicit(&wk->stats_block, memory_order_relaxed) &&
	    stat_jobs_batched(w, dirfd, jobs + done, n - done) == 0)
		return;
	stat_jobs_one_by_one(w, dirfd, jobs + done, n - done);
}

/*
 * Pin node's descriptor and put its path in w->path, to visit its entries.
 * Returns the descriptor, or -1 once the failure is reported.
 */
static int open_for_visits(struct walk_worker *w, struct walk_node *node)
{
	int fd = dir_pin(w, node);

	if (fd < 0) {
		fail_dir(w, node, errno);
		return -1;
	}
	if (build_path(w, node) != 0) {
		int error = errno;

		dir_unpin(w->walker, node);
		fail_dir(w, node, error);
		return -1;
	}
	return fd;
}

/*
 * Visit the entry name (described by dent) of directory node, open as fd.
 * When it is a directory to enter, its node goes to *slot and true is
 * returned; a NULL slot (no room) reports it as ENOMEM instead.
 */
static bool visit_entry(struct walk_worker *w, struct walk_node *node, int fd, const char *name,
			const struct walk_dent *dent, struct walk_node **slot)
{
	struct walker *wk = w->walker;
	struct walk_entry entry;

	if (path_push_name(w, node, name, dent->name_len) != 0) {
		report_dir_error(w, node, ENOMEM);
		return false;
	}
	entry.path = w->path.data;
	entry.path_len = w->path.len;
	entry.name = w->path.data + w->path.len - dent->name_len;
	entry.name_len = dent->name_len;
	entry.at_fd = fd;
	entry.at_path = name;
	entry.type = dent->type;
	entry.ino = dent->ino;
	entry.depth = node->depth + 1;
	entry.root_index = node->root_index;
	entry.st = dent->st;
	entry.error = dent->error;
	if (is_loop(wk, node, &entry)) {
		entry.error = ELOOP;
		entry.at_fd = -1;
	}
	if (call_visit(w, &entry) != WALK_CONTINUE || entry.type != DT_DIR || entry.error ||
	    !may_enter(wk, node, entry.st))
		return false;
	if (slot)
		*slot = node_new(node, name, dent->name_len, entry.st, 0);
	if (!slot || !*slot) {
		entry.error = ENOMEM;
		entry.at_fd = -1;
		call_visit(w, &entry);
		return false;
	}
	return true;
}

/* Read one directory (default mode): visit each entry, queue subdirectories. */
static void read_dir(struct walk_worker *w, struct walk_node *node)
{
	struct walker *wk = w->walker;
	bool first = true;
	int fd = open_for_visits(w, node);

	if (fd < 0)
		return;
	for (;;) {
		ssize_t len;
		size_t off = 0;

		len = read_dents(w, fd, &first);
		if (len <= 0) {
			if (len < 0)
				report_dir_error(w, node, errno);
			break;
		}
		while (off < (size_t)len && !stopping(wk)) {
			size_t n = 0, njobs = 0;

			/* The buffer's next WALK_STAT_BATCH entries: stat those
			 * that need it together, then visit them in order. */
			while (off < (size_t)len && n < WALK_STAT_BATCH) {
				struct walk_dirent64 *d = (struct walk_dirent64 *)(w->dents + off);
				const char *name = d->d_name;
				struct walk_dent *dent = &w->chunk[n];

				off += d->d_reclen;
				if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
					continue;
				dent->name_len = strlen(name);
				dent->type = d->d_type;
				dent->ino = d->d_ino;
				dent->st = NULL;
				dent->error = 0;
				w->chunk_names[n] = name;
				if (needs_stat(wk->flags, dent->type)) {
					w->jobs[njobs].name = name;
					w->jobs[njobs].dent = dent;
					w->jobs[njobs].st = &w->chunk_stats[n];
					njobs++;
				}
				n++;
			}
			stat_jobs(w, fd, w->jobs, njobs);
			for (size_t i = 0; i < n && !stopping(wk); i++) {
				if (!visit_entry(w, node, fd, w->chunk_names[i], &w->chunk[i],
						 batch_reserve(w) == 0 ? &w->batch[w->nbatch] : NULL))
					continue;
				w->nbatch++;
				/* Somebody is waiting for work: hand it over now. */
				if (atomic_load_explicit(&wk->idle, memory_order_relaxed) > 0)
					flush_batch(w, true, true);
			}
		}
		/* A buffer filled to more than half probably has a successor. */
		flush_batch(w, true, (size_t)len > WALK_DENTS_SIZE / 2);
		if (stopping(wk))
			break;
	}
	dir_done(w);
	dir_unpin(wk, node);
}

/* Release everything a worker holds. */
static void worker_fini(struct walk_worker *w)
{
	const struct walk_config *config = w->walker->config;

	if (w->has_context && config->thread_fini)
		config->thread_fini(w->context);
	node_release(w->walker, w->path_node);
	for (size_t i = 0; i < w->nbatch; i++)
		node_release(w->walker, w->batch[i]);
	free(w->batch);
	free(w->chain);
	free(w->dents);
	free(w->chunk);
	free(w->chunk_names);
	free(w->chunk_stats);
	free(w->jobs);
	free(w->ustats);
	uring_free(w->ring);
	dbuf_free(&w->path);
}

/* Set up a worker; with_context makes a visit context. Returns 0 or -1 (ENOMEM). */
static int worker_init(struct walk_worker *w, struct walker *wk, bool with_context)
{
	memset(w, 0, sizeof(*w));
	w->walker = wk;
	dbuf_init(&w->path);
	w->dents = malloc(WALK_DENTS_SIZE);
	w->chunk = malloc(WALK_STAT_BATCH * sizeof(*w->chunk));
	w->chunk_names = malloc(WALK_STAT_BATCH * sizeof(*w->chunk_names));
	w->chunk_stats = malloc(WALK_STAT_BATCH * sizeof(*w->chunk_stats));
	w->jobs = malloc(WALK_STAT_BATCH * sizeof(*w->jobs));
	w->ustats = malloc(WALK_STAT_BATCH * sizeof(*w->ustats));
	if (!w->dents || !w->chunk || !w->chunk_names || !w->chunk_stats || !w->jobs || !w->ustats)
		return -1;
	w->context = wk->config->arg;
	if (with_context && wk->config->thread_init) {
		w->context = wk->config->thread_init(wk->config->arg);
		w->has_context = true;
	}
	return 0;
}

/* Forward declarations for the two worker loops. */
static void work_loop(struct walk_worker *w);
static void prefetch_loop(struct walk_worker *w);

static void *thread_main(void *arg)
{
	struct walker *wk = arg;
	struct walk_worker w;
	bool sorted = wk->flags & WALK_SORT;

	/* Sorted workers visit only when they make output blocks. */
	if (worker_init(&w, wk, !sorted || wk->config->write_block) != 0) {
		/* This thread cannot help; the others (and the caller) finish the walk. */
		worker_fini(&w);
		return NULL;
	}
	if (sorted)
		prefetch_loop(&w);
	else
		work_loop(&w);
	worker_fini(&w);
	return NULL;
}

/* Default mode: pop, read, repeat until the stack is empty and nobody reads. */
static void work_loop(struct walk_worker *w)
{
	struct walker *wk = w->walker;

	pthread_mutex_lock(&wk->lock);
	for (;;) {
		struct walk_node *node;

		if (wk->finished || stopping(wk))
			break;
		if (wk->nstack == 0) {
			if (wk->active == 0) {
				wk->finished = true;
				pthread_cond_broadcast(&wk->work_cond);
				break;
			}
			atomic_fetch_add(&wk->idle, 1);
			pthread_cond_wait(&wk->work_cond, &wk->lock);
			atomic_fetch_sub(&wk->idle, 1);
			continue;
		}
		node = wk->stack[--wk->nstack];
		wk->active++;
		pthread_mutex_unlock(&wk->lock);
		read_dir(w, node);
		node_release(wk, node);
		pthread_mutex_lock(&wk->lock);
		wk->active--;
	}
	/* Stopping: wake everybody so they see it. */
	pthread_cond_broadcast(&wk->work_cond);
	pthread_mutex_unlock(&wk->lock);
}

static int compare_dents(const void *a, const void *b, void *arg)
{
	const struct walk_dent *x = a, *y = b;
	const char *names = arg;

	return strcmp(names + x->name_off, names + y->name_off);
}

/* Read node's whole directory into a sorted listing (WALK_SORT). NULL: ENOMEM. */
static struct walk_listing *read_listing(struct walk_worker *w, struct walk_node *node)
{
	struct walker *wk = w->walker;
	struct walk_listing *listing = calloc(1, sizeof(*listing));
	size_t nstat = 0;
	ssize_t got;
	bool first = true;
	int fd;

	if (!listing)
		return NULL;
	dbuf_init(&listing->names);
	dbuf_init(&listing->block);
	fd = dir_pin(w, node);
	if (fd < 0) {
		listing->error = errno;
		return listing;
	}
	while ((got = read_dents(w, fd, &first)) > 0) {
		for (size_t off = 0; off < (size_t)got;) {
			struct walk_dirent64 *d = (struct walk_dirent64 *)(w->dents + off);
			const char *name = d->d_name;
			struct walk_dent *dent;
			size_t name_len;

			off += d->d_reclen;
			if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
				continue;
			if (GROW(listing->ents, &listing->cap, listing->n + 1, 64) != 0)
				goto nomem;
			name_len = strlen(name);
			dent = &listing->ents[listing->n];
			dent->name_off = listing->names.len;
			dent->name_len = name_len;
			dent->ino = d->d_ino;
			dent->type = d->d_type;
			dent->error = 0;
			dent->st = NULL;
			if (dbuf_append(&listing->names, name, name_len + 1) != 0)
				goto nomem;
			listing->n++;
			if (needs_stat(wk->flags, d->d_type))
				nstat++;
		}
	}
	if (got < 0)
		listing->error = errno;
	if (nstat) {
		listing->stats = malloc(nstat * sizeof(*listing->stats));
		if (!listing->stats)
			goto nomem;
		listing->nstats = nstat;
	}
	nstat = 0;
	for (size_t i = 0, njobs = 0; i < listing->n; i++) {
		struct walk_dent *dent = &listing->ents[i];

		if (needs_stat(wk->flags, dent->type)) {
			w->jobs[njobs].name = listing->names.data + dent->name_off;
			w->jobs[njobs].dent = dent;
			w->jobs[njobs].st = &listing->stats[nstat++];
			njobs++;
		}
		if (njobs == WALK_STAT_BATCH || (njobs && i + 1 == listing->n)) {
			stat_jobs(w, fd, w->jobs, njobs);
			njobs = 0;
		}
	}
	dir_unpin(wk, node);
	if (listing->n)
		qsort_r(listing->ents, listing->n, sizeof(*listing->ents), compare_dents,
			listing->names.data);
	return listing;
nomem:
	dir_unpin(wk, node);
	listing->error = ENOMEM;
	free(listing->ents);
	listing->ents = NULL;
	listing->n = listing->cap = 0;
	return listing;
}

/*
 * Visit a sorted listing's entries in order, keeping the subdirectories to
 * enter in listing->children. Called by the emitter, or with write_block by
 * the worker that read the listing, its visits' output going to
 * listing->block.
 */
static void visit_listing(struct walk_worker *w, struct walk_node *node, struct walk_listing *listing)
{
	struct walker *wk = w->walker;
	int fd;

	if (listing->error && listing->n == 0) {
		fail_dir(w, node, listing->error);
		return;
	}
	fd = open_for_visits(w, node);
	if (fd < 0)
		return;
	listing->children = malloc(listing->n * sizeof(*listing->children));
	for (size_t i = 0; i < listing->n && !stopping(wk); i++) {
		const struct walk_dent *dent = &listing->ents[i];
		struct walk_node **slot =
			listing->children ? &listing->children[listing->nchildren] : NULL;

		if (visit_entry(w, node, fd, listing->names.data + dent->name_off, dent, slot))
			listing->nchildren++;
	}
	if (listing->error)
		report_dir_error(w, node, listing->error);
	dir_done(w);
	dir_unpin(wk, node);
}

/*
 * Read a listing. With write_block, also visit it, into its block, and
 * queue its subdirectories for read-ahead at once, as an unsorted walk
 * does: the workers then never wait for the emitter to reach a directory
 * before they can read below it. The emitter, reading the directory it
 * emits next (for_emitter), leaves the first subdirectory out: it enters
 * that one at once and reads it itself, so a chain of single
 * subdirectories wakes nobody. NULL: ENOMEM.
 */
static struct walk_listing *produce_listing(struct walk_worker *w, struct walk_node *node,
					    bool for_emitter)
{
	struct walk_listing *listing = read_listing(w, node);

	if (!listing || !w->walker->config->write_block)
		return listing;
	w->block = &listing->block;
	visit_listing(w, node, listing);
	w->block = NULL;
	for (size_t i = for_emitter ? 1 : 0; i < listing->nchildren; i++) {
		if (batch_add(w, listing->children[i]) != 0)
			break; /* the emitter reads those itself */
		node_ref(listing->children[i]);
	}
	flush_batch(w, true, false);
	return listing;
}

/*
 * Read ahead the top of the read-ahead stack, as a worker would. Lock held on
 * entry and on return. Returns false if there was nothing to take.
 */
static bool prefetch_one(struct walk_worker *w)
{
	struct walker *wk = w->walker;
	struct walk_node *node;
	struct walk_listing *listing;

	if (wk->nstack == 0 || wk->window_used >= WALK_WINDOW)
		return false;
	node = wk->stack[--wk->nstack];
	if (node->state == NODE_PENDING) {
		node->state = NODE_TAKEN;
		node->prefetched = true;
		node->window_cost = WALK_WINDOW_DIR;
		wk->window_used += WALK_WINDOW_DIR;
		pthread_mutex_unlock(&wk->lock);
		listing = produce_listing(w, node, false);
		pthread_mutex_lock(&wk->lock);
		node->listing = listing;
		if (listing) {
			size_t bytes = listing_bytes(listing);

			node->window_cost += bytes;
			wk->window_used += bytes;
			if (listing->nchildren)
				list_push(&wk->held, node); /* its listing holds children */
		}
		node->state = NODE_DONE;
		/* Only the listing the emitter sleeps for is worth a wake-up. */
		if (wk->awaited == node)
			pthread_cond_signal(&wk->done_cond);
	}
	/* Drop the stack's reference (the last one when the emitter is past it). */
	pthread_mutex_unlock(&wk->lock);
	node_release(wk, node);
	pthread_mutex_lock(&wk->lock);
	return true;
}

/* WALK_SORT workers: take the read-ahead stack's top while the window allows. */
static void prefetch_loop(struct walk_worker *w)
{
	struct walker *wk = w->walker;

	pthread_mutex_lock(&wk->lock);
	while (!wk->finished && !stopping(wk)) {
		if (prefetch_one(w))
			continue;
		atomic_fetch_add(&wk->idle, 1);
		pthread_cond_wait(&wk->work_cond, &wk->lock);
		atomic_fetch_sub(&wk->idle, 1);
	}
	pthread_cond_broadcast(&wk->work_cond);
	pthread_mutex_unlock(&wk->lock);
}

/*
 * The emitter's way to a listing: the read-ahead one, or read it now. While
 * a worker is still reading it, the emitter reads ahead too rather than
 * sleep: on two cores, a sleeping emitter is half the machine idle, and a
 * wake-up on a busy machine costs a scheduling round. NULL: ENOMEM.
 */
static struct walk_listing *take_listing(struct walk_worker *w, struct walk_node *node)
{
	struct walker *wk = w->walker;
	struct walk_listing *listing;

	pthread_mutex_lock(&wk->lock);
	if (node->state == NODE_PENDING) {
		node->state = NODE_TAKEN;
		pthread_mutex_unlock(&wk->lock);
		return produce_listing(w, node, true);
	}
	while (node->state != NODE_DONE) {
		if (prefetch_one(w))
			continue;
		wk->awaited = node;
		pthread_cond_wait(&wk->done_cond, &wk->lock);
		wk->awaited = NULL;
	}
	listing = node->listing;
	node->listing = NULL;
	if (listing && listing->nchildren)
		list_remove(&wk->held, node);
	if (node->prefetched) {
		/* Workers that stopped at a full window are woken together once
		 * half of it is free, not one per listing consumed: on a tree of
		 * small directories that was a wake-up and a sleep per directory. */
		bool was_full = wk->window_used >= WALK_WINDOW / 2;

		wk->window_used -= node->window_cost;
		if (was_full && wk->window_used < WALK_WINDOW / 2)
			pthread_cond_broadcast(&wk->work_cond);
	}
	pthread_mutex_unlock(&wk->lock);
	return listing;
}

/*
 * Queue subdirectories for read-ahead, the second on top; start or wake a
 * worker. The first is left out: the emitter needs it at once and reads it
 * itself (take_listing), so a chain of single subdirectories never wakes
 * anyone, and the workers get the directories the emitter needs next.
 */
static void prefetch_push(struct walk_worker *w, struct walk_frame *frame)
{
	size_t i;

	for (i = 1; i < frame->n; i++) {
		/* subdirs[0..n) are all set: visit_listing counts a child only
		 * once visit_entry has stored it, which clang's analyzer does
		 * not follow through the loop. */
		// NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage)
		if (batch_add(w, frame->subdirs[i]) != 0)
			break;
		node_ref(frame->subdirs[i]);
	}
	/* flush_batch pushes in reverse, so subdirs[1] ends on top. */
	flush_batch(w, true, true);
}

/*
 * Emit one directory: its listing's visits (made now, or already by the
 * worker that read it, whose block is written now), then its
 * subdirectories, kept in frame for emit_tree.
 */
static void emit_dir(struct walk_worker *w, struct walk_frame *frame)
{
	struct walker *wk = w->walker;
	struct walk_node *node = frame->node;
	struct walk_listing *listing = take_listing(w, node);
	/* With write_block the reader visited it and queued its subdirectories. */
	bool visit_here = !wk->config->write_block;

	if (!listing) {
		fail_dir(w, node, ENOMEM);
		return;
	}
	if (visit_here)
		visit_listing(w, node, listing);
	if (listing->block.len && !stopping(wk) &&
	    wk->config->write_block(w->context, listing->block.data, listing->block.len) == WALK_STOP)
		atomic_store(&wk->stop, true);
	frame->subdirs = listing->children;
	frame->n = listing->nchildren;
	listing->children = NULL;
	listing->nchildren = 0;
	if (visit_here)
		prefetch_push(w, frame);
	listing_free(wk, listing);
}

static void frame_free(struct walker *wk, struct walk_frame *frame)
{
	for (size_t i = frame->next; i < frame->n; i++)
		node_release(wk, frame->subdirs[i]);
	free(frame->subdirs);
	node_release(wk, frame->node);
}

/* WALK_SORT: emit root's subtree depth-first, one directory block at a time. */
static void emit_tree(struct walk_worker *w, struct walk_node *root)
{
	struct walker *wk = w->walker;
	struct walk_frame *frames = NULL;
	size_t nframes = 0, cap = 0;
	struct walk_node *next = root;

	while (next || nframes) {
		struct walk_frame *top;

		if (next) {
			if (GROW(frames, &cap, nframes + 1, 32) != 0) {
				fail_dir(w, next, ENOMEM);
				node_release(wk, next);
				next = NULL;
				continue;
			}
			top = &frames[nframes++];
			memset(top, 0, sizeof(*top));
			top->node = next;
			next = NULL;
			emit_dir(w, top);
		}
		top = &frames[nframes - 1];
		if (!stopping(wk) && top->next < top->n) {
			next = top->subdirs[top->next++];
			continue;
		}
		frame_free(wk, top);
		nframes--;
	}
	free(frames);
}

/* Visit root number i; returns its node when it is a directory to enter. */
static struct walk_node *visit_root(struct walk_worker *w, const char *root, size_t i)
{
	struct walker *wk = w->walker;
	struct walk_entry entry = {
		.path = root, .path_len = strlen(root),
		.name = root, .name_len = strlen(root),
		.at_fd = AT_FDCWD, .at_path = root,
		.type = DT_UNKNOWN, .root_index = i,
	};
	struct walk_node *node;
	struct stat st;

	entry.error = stat_entry(wk->flags, AT_FDCWD, root, &st);
	if (!entry.error) {
		entry.st = &st;
		entry.type = IFTODT(st.st_mode);
		entry.ino = st.st_ino;
	}
	if (call_visit(w, &entry) != WALK_CONTINUE || entry.error || entry.type != DT_DIR)
		return NULL;
	node = node_new(NULL, root, entry.path_len, &st, i);
	if (!node) {
		entry.error = ENOMEM;
		entry.at_fd = -1;
		call_visit(w, &entry);
	}
	return node;
}

/* The descriptor budget: half of what is left under RLIMIT_NOFILE, within [8, 4096]. */
static size_t fd_budget(void)
{
	struct rlimit rl;
	rlim_t n = 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		n = rl.rlim_cur == RLIM_INFINITY ? 8192 : rl.rlim_cur;
	n = n > 48 ? (n - 32) / 2 : 8;
	if (n > 4096)
		n = 4096;
	if (n < 8)
		n = 8;
	return (size_t)n;
}

int walk(const char *const *roots, size_t nroots, const struct walk_config *config)
{
	struct walker wk;
	struct walk_worker main_worker;
	pthread_mutexattr_t lock_attr;
	bool sorted;
	int ret = -1;

	if (!roots || nroots == 0 || !config || !config->visit) {
		errno = EINVAL;
		return -1;
	}
	memset(&wk, 0, sizeof(wk));
	wk.lru.offset = offsetof(struct walk_node, lru);
	wk.held.offset = offsetof(struct walk_node, held);
	wk.config = config;
	wk.flags = config->flags;
	sorted = wk.flags & WALK_SORT;
	wk.max_threads = config->threads ? config->threads : walk_default_threads();
	if (wk.max_threads > 256)
		wk.max_threads = 256;
	wk.io_threads = config->threads ? wk.max_threads : walk_io_threads();
	wk.far_threads = config->threads ? wk.max_threads : WALK_FAR_THREADS;
	/* Each cap at least the one before it: on a machine of more than 64
	 * cores the default (one thread a core) is above both. */
	if (wk.io_threads < wk.max_threads)
		wk.io_threads = wk.max_threads;
	if (wk.far_threads < wk.io_threads)
		wk.far_threads = wk.io_threads;
	atomic_init(&wk.adaptive, config->threads == 0);
	atomic_init(&wk.blocked_reads, 0);
	atomic_init(&wk.blocked_stats, 0);
	atomic_init(&wk.stats_block, false);
	wk.may_batch_stats = config->threads != 1 && uring_allowed();
	wk.max_fds = fd_budget();
	atomic_init(&wk.idle, 0);
	atomic_init(&wk.stop, false);
	/* The calling thread is a worker in default mode, and nearly one when
	 * sorted with write_block (it reads what no worker took, and otherwise
	 * only copies blocks): one fewer to start. */
	if (!sorted || config->write_block) {
		wk.max_threads--;
		wk.io_threads--;
		wk.far_threads--;
	}
	wk.threads = calloc(wk.far_threads + 1, sizeof(*wk.threads));
	/* Each thread pins at most two descriptors; keep the cache above that. */
	if (wk.max_fds < 2 * (size_t)wk.far_threads + 4)
		wk.max_fds = 2 * (size_t)wk.far_threads + 4;
	if (!wk.threads)
		return -1;
	/* Critical sections are a few pointer moves; on a VM a sleeping futex
	 * costs far more than a short spin, so let contended lockers spin first. */
	pthread_mutexattr_init(&lock_attr);
	pthread_mutexattr_settype(&lock_attr, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(&wk.lock, &lock_attr);
	pthread_mutexattr_destroy(&lock_attr);
	pthread_cond_init(&wk.work_cond, NULL);
	pthread_cond_init(&wk.done_cond, NULL);
	if (worker_init(&main_worker, &wk, true) != 0)
		goto out;

	for (size_t i = 0; i < nroots && !stopping(&wk); i++) {
		struct walk_node *node = visit_root(&main_worker, roots[i], i);

		if (!node)
			continue;
		if (sorted) {
			emit_tree(&main_worker, node);
		} else if (batch_add(&main_worker, node) != 0) {
			fail_dir(&main_worker, node, ENOMEM);
			node_release(&wk, node);
		}
	}
	if (!sorted) {
		/* Push the roots in one go (no thread yet: this one pops them),
		 * then work until the walk is done. */
		flush_batch(&main_worker, false, false);
		work_loop(&main_worker);
	}
	pthread_mutex_lock(&wk.lock);
	wk.finished = true;
	pthread_cond_broadcast(&wk.work_cond);
	pthread_mutex_unlock(&wk.lock);
	for (unsigned t = 0; t < wk.started; t++)
		if (wk.threads[t].running)
			pthread_join(wk.threads[t].id, NULL);
	/* A stopped sorted walk leaves listings read ahead and not emitted,
	 * whose children hold their nodes: free them apart. */
	while (wk.held.head) {
		struct walk_node *node = wk.held.head;
		struct walk_listing *listing = node->listing;

		list_remove(&wk.held, node);
		node->listing = NULL;
		listing_free(&wk, listing);
	}
	/* A stopped walk leaves nodes queued. */
	for (size_t i = 0; i < wk.nstack; i++)
		node_release(&wk, wk.stack[i]);
	ret = 0;
out:
	worker_fini(&main_worker);
	PT_ASSERT(ret != 0 || wk.open_fds == 0);
	free(wk.stack);
	free(wk.threads);
	pthread_cond_destroy(&wk.done_cond);
	pthread_cond_destroy(&wk.work_cond);
	pthread_mutex_destroy(&wk.lock);
	return ret;
}
