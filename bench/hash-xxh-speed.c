/* SPDX-License-Identifier: 0BSD */
/**
 * bench/hash helper: in-cache throughput of Debian libxxhash's plain
 * XXH3_64bits_update against the dispatching entry points phash uses
 * (libcommon/hash.c), to show the fast path is taken. Prints one line per
 * function: "NAME GB/s".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>
#include <xxh_x86dispatch.h>

#define BUF_SIZE (64 * 1024)   /* stays in L2 */
#define TOTAL ((size_t)8 << 30)

typedef XXH_errorcode update_fn(XXH3_state_t *, const void *, size_t);

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run(const char *name, update_fn *update, XXH_errorcode (*reset)(XXH3_state_t *),
		XXH3_state_t *state, const unsigned char *buf)
{
	double start, seconds;
	size_t done;

	reset(state);
	start = now();
	for (done = 0; done < TOTAL; done += BUF_SIZE)
		update(state, buf, BUF_SIZE);
	seconds = now() - start;
	printf("%s %.1f\n", name, (double)TOTAL / seconds / 1e9);
	/* Keep the digest live so the loop cannot be dropped. */
	if (XXH3_64bits_digest(state) == 42)
		putchar(' ');
}

int main(void)
{
	unsigned char *buf = malloc(BUF_SIZE);
	XXH3_state_t *state = XXH3_createState();

	if (!buf || !state)
		return 1;
	memset(buf, 0x5a, BUF_SIZE);
	run("XXH3_64bits_update", XXH3_64bits_update, XXH3_64bits_reset, state, buf);
	run("XXH3_64bits_update_dispatch", XXH3_64bits_update_dispatch, XXH3_64bits_reset, state, buf);
	run("XXH3_128bits_update", XXH3_128bits_update, XXH3_128bits_reset, state, buf);
	run("XXH3_128bits_update_dispatch", XXH3_128bits_update_dispatch, XXH3_128bits_reset, state, buf);
	XXH3_freeState(state);
	free(buf);
	return 0;
}
