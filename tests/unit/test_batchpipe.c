/* SPDX-License-Identifier: 0BSD */
/** Unit tests of libcommon/batchpipe: order, the fallback, the engine cache. */
#include "prelude.h"
#include "unit.h"
#include "batchpipe.h"
#include "hash.h"
#include "out.h"
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ITEMS 3000

/* Finish item n (an unsigned): its line, after a delay that makes workers
 * finish out of order (every seventh item is slow). */
static uint64_t finish_number(struct batchpipe_worker *worker, void *item, int fd,
			      const struct stat *st, const void *head, size_t head_len,
			      struct dbuf *out)
{
	unsigned n = *(unsigned *)item;

	(void)worker;
	(void)fd;
	(void)st;
	(void)head;
	(void)head_len;
	if (n % 7 == 0)
		nanosleep(&(struct timespec){.tv_nsec = 200000}, NULL);
	dbuf_printf(out, "%u\n", n);
	return n;
}

/* Run ITEMS numbers through a pipeline and return what it wrote (malloc'd). */
static char *run_numbers(unsigned jobs, size_t window, enum batchpipe_flush flush, size_t *len)
{
	char path[] = "/tmp/ptools-batchpipe-XXXXXX";
	int fd = mkstemp(path);
	struct out *out = fd >= 0 ? out_new(fd) : NULL;
	struct batchpipe_config config = {
		.jobs = jobs, .out = out, .window = window, .flush = flush,
		.batch_bytes = 64 << 10, .item_size = sizeof(unsigned), .finish = finish_number,
	};
	struct batchpipe *pipe = out ? batchpipe_new(&config) : NULL;
	struct batchpipe_feed feed;
	char *text = NULL;
	unsigned i;
	off_t size;

	*len = 0;
	EXPECT(pipe != NULL);
	if (pipe) {
		batchpipe_feed_init(&feed, pipe);
		for (i = 0; i < ITEMS; i++) {
			unsigned *item = batchpipe_slot(&feed);

			EXPECT(item != NULL);
			if (!item)
				break;
			*item = i;
			batchpipe_commit(&feed, i % 3 ? i : BATCHPIPE_SIZE_UNKNOWN);
		}
		batchpipe_flush(&feed);
		EXPECT(batchpipe_finish(pipe) == 0);
		batchpipe_free(pipe);
	}
	out_free(out);
	if (fd >= 0) {
		size = lseek(fd, 0, SEEK_END);
		text = size >= 0 ? calloc(1, (size_t)size + 1) : NULL;
		if (text && pread(fd, text, (size_t)size, 0) == size)
			*len = (size_t)size;
		close(fd);
		unlink(path);
	}
	return text;
}

static char *expected_numbers(size_t *len)
{
	struct dbuf buf;
	unsigned i;

	dbuf_init(&buf);
	for (i = 0; i < ITEMS; i++)
		dbuf_printf(&buf, "%u\n", i);
	*len = buf.len;
	return buf.data;
}

UNIT_TEST(batchpipe_writes_items_in_order_whatever_order_workers_finish)
{
	static const enum batchpipe_flush flushes[] = {BATCHPIPE_FLUSH_IDLE, BATCHPIPE_FLUSH_FIRST};
	size_t want_len, len, i;
	char *want = expected_numbers(&want_len), *got;

	for (i = 0; i < 2; i++) {
		/* A window of 2 batches makes the producer wait for the slow ones. */
		got = run_numbers(8, 2, flushes[i], &len);
		EXPECT(got && len == want_len && memcmp(got, want, len) == 0);
		free(got);
	}
	free(want);
}

UNIT_TEST(batchpipe_without_workers_gives_the_same_output)
{
	size_t want_len, len;
	char *want = expected_numbers(&want_len), *got = run_numbers(0, 4, BATCHPIPE_FLUSH_IDLE, &len);

	EXPECT(got && len == want_len && memcmp(got, want, len) == 0);
	free(got);
	free(want);
}

UNIT_TEST(batchpipe_unordered_writes_every_item_once)
{
	size_t len, i, lines = 0;
	char *got = run_numbers(4, 0, BATCHPIPE_FLUSH_IDLE, &len);
	char *seen = calloc(ITEMS, 1);

	EXPECT(got != NULL && seen != NULL);
	for (i = 0; got && seen && i < len; i++) {
		unsigned long n = strtoul(got + i, NULL, 10);

		EXPECT(n < ITEMS && !seen[n]);
		if (n < ITEMS)
			seen[n] = 1;
		lines++;
		while (i < len && got[i] != '\n')
			i++;
	}
	EXPECT(lines == ITEMS);
	free(seen);
	free(got);
}

/* Each item asks its worker for engines: the same set twice, another set,
 * then the first again; a context records whether they matched. */
struct engine_check {
	bool same, different, back;
};

static uint64_t finish_engines(struct batchpipe_worker *worker, void *item, int fd,
			       const struct stat *st, const void *head, size_t head_len,
			       struct dbuf *out)
{
	const struct hash_algo *one[] = {hash_lookup("sha256")};
	const struct hash_algo *two[] = {hash_lookup("md5"), hash_lookup("sha256")};
	const struct hash_algo *one_again[] = {hash_lookup("sha256")};
	struct engine_check *check = item;
	struct hashio *a, *b, *c, *d;

	(void)fd;
	(void)st;
	(void)head;
	(void)head_len;
	(void)out;
	a = batchpipe_engine(worker, one, 1);
	b = batchpipe_engine(worker, one_again, 1);
	c = batchpipe_engine(worker, two, 2);
	d = batchpipe_engine(worker, one, 1);
	check->same = a && a == b;
	check->different = c && c != a;
	check->back = d == a;
	return 0;
}

UNIT_TEST(batchpipe_engine_cache_returns_one_engine_per_algorithm_set)
{
	struct out *out = out_new(STDOUT_FILENO);
	struct batchpipe_config config = {
		.jobs = 2, .out = out, .window = 4, .flush = BATCHPIPE_FLUSH_FIRST,
		.batch_bytes = 1 << 20, .item_size = sizeof(struct engine_check),
		.finish = finish_engines,
	};
	struct batchpipe *pipe = out ? batchpipe_new(&config) : NULL;
	struct batchpipe_feed feed;
	struct engine_check *check;

	EXPECT(pipe != NULL);
	if (!pipe) {
		out_free(out);
		return;
	}
	batchpipe_feed_init(&feed, pipe);
	check = batchpipe_slot(&feed);
	EXPECT(check != NULL);
	if (check) {
		memset(check, 0, sizeof(*check));
		batchpipe_commit(&feed, 0);
	}
	batchpipe_flush(&feed);
	EXPECT(batchpipe_finish(pipe) == 0);
	/* The item stays in the recycled batch until the pipeline is freed. */
	if (check)
		EXPECT(check->same && check->different && check->back);
	batchpipe_free(pipe);
	out_free(out);
}

/* --- raising the workers when opens sleep (far storage) ------------------ */

static bool opens_sleep;
static atomic_int opens_now, opens_most;

/* An open that waits a millisecond, as one on far storage waits for its
 * round trip, when opens_sleep is set; it counts the opens at once. */
static int far_open(struct batchpipe_worker *worker, void *item, struct stat *st)
{
	int now = atomic_fetch_add(&opens_now, 1) + 1;
	int most = atomic_load(&opens_most);

	(void)worker;
	(void)item;
	(void)st;
	while (now > most && !atomic_compare_exchange_weak(&opens_most, &most, now))
		;
	if (opens_sleep)
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	else
		for (volatile int spin = 0; spin < 20000; spin++)
			;
	atomic_fetch_sub(&opens_now, 1);
	errno = ENOENT;
	return -1;
}

static uint64_t far_finish(struct batchpipe_worker *worker, void *item, int fd,
			   const struct stat *st, const void *head, size_t head_len,
			   struct dbuf *out)
{
	(void)worker;
	(void)item;
	(void)fd;
	(void)st;
	(void)head;
	(void)head_len;
	(void)out;
	return 0;
}

/* The most opens at once of 600 items through 2 workers that may rise to 8. */
static int most_opens_at_once(bool sleep)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	struct out *out = fd >= 0 ? out_new(fd) : NULL;
	struct batchpipe_config config = {
		.jobs = 2, .jobs_far = 8, .out = out, .flush = BATCHPIPE_FLUSH_FIRST,
		.batch_bytes = 64 << 10, .item_size = sizeof(unsigned),
		.open = far_open, .finish = far_finish,
	};
	struct batchpipe *pipe = out ? batchpipe_new(&config) : NULL;
	struct batchpipe_feed feed;

	opens_sleep = sleep;
	atomic_store(&opens_now, 0);
	atomic_store(&opens_most, 0);
	EXPECT(pipe != NULL);
	if (pipe) {
		batchpipe_feed_init(&feed, pipe);
		for (unsigned i = 0; i < 600; i++) {
			unsigned *item = batchpipe_slot(&feed);

			if (!item)
				break;
			*item = i;
			batchpipe_commit(&feed, 100);
		}
		batchpipe_flush(&feed);
		batchpipe_finish(pipe);
		batchpipe_free(pipe);
	}
	out_free(out);
	if (fd >= 0)
		close(fd);
	return atomic_load(&opens_most);
}

UNIT_TEST(batchpipe_raises_its_workers_to_jobs_far_only_when_opens_sleep)
{
	EXPECT(most_opens_at_once(false) <= 2);
	EXPECT(most_opens_at_once(true) > 2);
}
