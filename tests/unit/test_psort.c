/* SPDX-License-Identifier: 0BSD */
/** psort: qsort's order, whatever the threads and sizes. */
#include "prelude.h"
#include "unit.h"
#include "psort.h"
#include <stdlib.h>
#include <string.h>

struct item {
	uint32_t key;              /* few values: many ties across runs */
	uint64_t id;               /* unique: the order is total */
	char pad[5];               /* an element size that is no power of two */
};

static int by_key(const void *x, const void *y)
{
	const struct item *a = x, *b = y;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

UNIT_TEST(psort_gives_qsort_s_order_whatever_the_threads)
{
	static const size_t sizes[] = {0, 1, 2, 8191, 16384, 16385, 40000, 100003, 250001};
	static const unsigned threads[] = {0, 1, 2, 3, 7, 15, 63, 200};
	unsigned long state = 7;

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t n = sizes[s];
		struct item *want = calloc(n + 1, sizeof(*want)), *got = calloc(n + 1, sizeof(*got));

		EXPECT(want && got);
		if (!want || !got)
			return;
		for (size_t i = 0; i < n; i++) {
			state = state * 6364136223846793005u + 1442695040888963407u;
			want[i] = (struct item){.key = (uint32_t)(state >> 54), .id = state ^ i};
		}
		for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
			memcpy(got, want, n * sizeof(*got));
			psort(got, n, sizeof(*got), by_key, threads[t]);
			if (t == 0)
				qsort(want, n, sizeof(*want), by_key);
			EXPECT(memcmp(got, want, n * sizeof(*got)) == 0);
		}
		free(want);
		free(got);
	}
}
