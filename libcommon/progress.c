/* SPDX-License-Identifier: 0BSD */
/** Progress on standard error, redrawn by one background thread. */
#include "prelude.h"
#include "progress.h"
#include "dbuf.h"
#include "diag.h"
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

struct lane {
	const char *name;
	atomic_uint_fast64_t files, bytes;
	atomic_uint_fast64_t expect_files, expect_bytes;
	atomic_uint_fast64_t blocks, changed; /* compared by blocks (progress_blocks) */
};

struct progress {
	size_t nlanes;
	struct lane lanes[PROGRESS_LANES_MAX];
	struct timespec start;
	pthread_t thread;
	pthread_mutex_t lock;   /* guards stopping, with wake */
	pthread_cond_t wake;
	bool stopping;
	atomic_bool known;      /* the expected totals are complete */
};

bool progress_default(void)
{
	return isatty(STDERR_FILENO) == 1;
}

char *progress_human(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double value = (double)bytes;
	size_t unit = 0;

	while (value >= 1024 && unit + 1 < countof(units)) {
		value /= 1024;
		unit++;
	}
	snprintf(buf, size, unit ? "%.1f %s" : "%.0f %s", value, units[unit]);
	return buf;
}

static double elapsed_seconds(const struct progress *progress)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - progress->start.tv_sec) +
	       (double)(now.tv_nsec - progress->start.tv_nsec) / 1e9;
}

/* Part done of part expected, in percent (100 when nothing is expected). */
static double share(uint64_t done, uint64_t expect)
{
	return expect > 0 ? 100.0 * (double)(done < expect ? done : expect) / (double)expect : 100.0;
}

/* Seconds left at rate for what remains of expect, or -1 when unknown. */
static double time_left(uint64_t done, uint64_t expect, double rate)
{
	return expect > done && rate > 0 ? (double)(expect - done) / rate : -1;
}

/*
 * How much is done: the lesser of the bytes' and the files' share, since
 * many small files cost their time per file, not per byte (a copy whose one
 * big file is done has not nearly finished its thousand small ones). The
 * file under way counts among the files, or one big file would show 0%
 * until its last byte.
 */
static double percent(uint64_t bytes, uint64_t expect_bytes, uint64_t files,
		      uint64_t expect_files)
{
	double by_bytes = share(bytes, expect_bytes);
	double by_files = share(files < expect_files ? files + 1 : files, expect_files);

	return expect_bytes == 0 ? by_files : by_bytes < by_files ? by_bytes : by_files;
}

static void draw(struct progress *progress, bool final)
{
	double seconds = elapsed_seconds(progress);
	struct dbuf line;
	size_t i;

	dbuf_init(&line);
	dbuf_printf(&line, "\r%s:", diag_prog());
	for (i = 0; i < progress->nlanes; i++) {
		struct lane *lane = &progress->lanes[i];
		uint64_t files = atomic_load(&lane->files);
		uint64_t bytes = atomic_load(&lane->bytes);
		uint64_t expect = atomic_load(&lane->expect_bytes);
		double rate = seconds > 0 ? (double)bytes / seconds : 0, left;
		char done[32], speed[32];

		if (atomic_load(&progress->known)) {
			uint64_t expect_files = atomic_load(&lane->expect_files);
			char total[40] = "";
			/* Plain paths carry no size: then the total is in files only. */
			if (expect > 0) {
				char human[32];
				snprintf(total, sizeof(total), " of %s",
					 progress_human(expect, human, sizeof(human)));
			}
			dbuf_printf(&line, "%s %s%s%ju/%ju files, %s%s (%.0f%%), %s/s",
				    i ? " |" : "", lane->name ? lane->name : "",
				    lane->name ? " " : "", (uintmax_t)files, (uintmax_t)expect_files,
				    progress_human(bytes, done, sizeof(done)), total,
				    percent(bytes, expect, files, expect_files),
				    progress_human((uint64_t)rate, speed, sizeof(speed)));
		} else {
			dbuf_printf(&line, "%s %s%s%ju files, %s, %s/s", i ? " |" : "",
				    lane->name ? lane->name : "", lane->name ? " " : "",
				    (uintmax_t)files, progress_human(bytes, done, sizeof(done)),
				    progress_human((uint64_t)rate, speed, sizeof(speed)));
		}
		if (atomic_load(&lane->blocks) > 0)
			dbuf_printf(&line, ", %ju/%ju blocks changed",
				    (uintmax_t)atomic_load(&lane->changed),
				    (uintmax_t)atomic_load(&lane->blocks));
		left = time_left(bytes, expect, rate);
		if (atomic_load(&progress->known)) {
			/* The later of the two estimates, for the same reason as percent(). */
			double by_files = time_left(files, atomic_load(&lane->expect_files),
						    seconds > 0 ? (double)files / seconds : 0);
			if (by_files > left)
				left = by_files;
		}
		if (!final && left >= 0) {
			uint64_t eta = (uint64_t)left;
			dbuf_printf(&line, ", ETA %ju:%02ju:%02ju", (uintmax_t)(eta / 3600),
				    (uintmax_t)(eta / 60 % 60), (uintmax_t)(eta % 60));
		}
	}
	/* Clear what a longer previous line left behind. */
	dbuf_puts(&line, final ? "\033[K\n" : "\033[K");
	if (line.data) {
		ssize_t ignored = write(STDERR_FILENO, line.data, line.len);
		(void)ignored;
	}
	dbuf_free(&line);
}

static void *progress_main(void *arg)
{
	struct progress *progress = arg;

	pthread_mutex_lock(&progress->lock);
	while (!progress->stopping) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 250 * 1000 * 1000;
		if (until.tv_nsec >= 1000 * 1000 * 1000) {
			until.tv_sec++;
			until.tv_nsec -= 1000 * 1000 * 1000;
		}
		pthread_cond_timedwait(&progress->wake, &progress->lock, &until);
		if (!progress->stopping)
			draw(progress, false);
	}
	pthread_mutex_unlock(&progress->lock);
	return NULL;
}

struct progress *progress_new(size_t nlanes, const char *const *names)
{
	struct progress *progress;
	size_t i;
	int err;

	if (nlanes == 0 || nlanes > PROGRESS_LANES_MAX) {
		errno = EINVAL;
		return NULL;
	}
	progress = calloc(1, sizeof(*progress));
	if (!progress)
		return NULL;
	progress->nlanes = nlanes;
	for (i = 0; i < nlanes; i++)
		progress->lanes[i].name = names ? names[i] : NULL;
	clock_gettime(CLOCK_MONOTONIC, &progress->start);
	pthread_mutex_init(&progress->lock, NULL);
	pthread_cond_init(&progress->wake, NULL);
	err = pthread_create(&progress->thread, NULL, progress_main, progress);
	if (err != 0) {
		pthread_cond_destroy(&progress->wake);
		pthread_mutex_destroy(&progress->lock);
		free(progress);
		errno = err;
		return NULL;
	}
	return progress;
}

void progress_expect(struct progress *progress, size_t lane, uint64_t files, uint64_t bytes)
{
	if (!progress || lane >= progress->nlanes)
		return;
	atomic_fetch_add(&progress->lanes[lane].expect_files, files);
	atomic_fetch_add(&progress->lanes[lane].expect_bytes, bytes);
}

void progress_known(struct progress *progress)
{
	if (progress)
		atomic_store(&progress->known, true);
}

void progress_add(struct progress *progress, size_t lane, uint64_t files, uint64_t bytes)
{
	if (!progress || lane >= progress->nlanes)
		return;
	atomic_fetch_add_explicit(&progress->lanes[lane].files, files, memory_order_relaxed);
	atomic_fetch_add_explicit(&progress->lanes[lane].bytes, bytes, memory_order_relaxed);
}

void progress_blocks(struct progress *progress, size_t lane, uint64_t blocks, uint64_t changed)
{
	if (!progress || lane >= progress->nlanes)
		return;
	atomic_fetch_add_explicit(&progress->lanes[lane].blocks, blocks, memory_order_relaxed);
	atomic_fetch_add_explicit(&progress->lanes[lane].changed, changed, memory_order_relaxed);
}

void progress_finish(struct progress *progress)
{
	if (!progress)
		return;
	pthread_mutex_lock(&progress->lock);
	progress->stopping = true;
	pthread_cond_signal(&progress->wake);
	pthread_mutex_unlock(&progress->lock);
	pthread_join(progress->thread, NULL);
	draw(progress, true);
	pthread_cond_destroy(&progress->wake);
	pthread_mutex_destroy(&progress->lock);
	free(progress);
}
