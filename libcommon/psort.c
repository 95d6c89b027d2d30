/* SPDX-License-Identifier: 0BSD */
/** qsort on several threads (psort.h). */
#include "prelude.h"
#include "psort.h"
#include "hugepage.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Below this many elements a run is not worth a thread. */
#define RUN_MIN 8192
#define RUNS_MAX 64

struct job {
	char *src, *dst;           /* a run's sort: src only; a merge: src into dst */
	size_t from, mid, to;      /* elements [from, to); a merge's runs meet at mid */
	size_t size;
	int (*cmp)(const void *, const void *);
	pthread_t thread;
	bool threaded;
};

static void merge(const struct job *j)
{
	const char *a = j->src + j->from * j->size, *a_end = j->src + j->mid * j->size;
	const char *b = a_end, *b_end = j->src + j->to * j->size;
	char *out = j->dst + j->from * j->size;

	while (a < a_end && b < b_end) {
		const char **take = j->cmp(b, a) < 0 ? &b : &a;

		memcpy(out, *take, j->size);
		*take += j->size;
		out += j->size;
	}
	memcpy(out, a, (size_t)(a_end - a));
	out += a_end - a;
	memcpy(out, b, (size_t)(b_end - b));
}

static void *run_job(void *arg)
{
	struct job *j = arg;

	if (j->dst)
		merge(j);
	else
		qsort(j->src + j->from * j->size, j->to - j->from, j->size, j->cmp);
	return NULL;
}

/* Run jobs[0..n) at once: the first in the calling thread. */
static void run_all(struct job *jobs, size_t n)
{
	for (size_t i = 1; i < n; i++)
		jobs[i].threaded = pthread_create(&jobs[i].thread, NULL, run_job, &jobs[i]) == 0;
	run_job(&jobs[0]);
	for (size_t i = 1; i < n; i++) {
		if (jobs[i].threaded)
			pthread_join(jobs[i].thread, NULL);
		else
			run_job(&jobs[i]);
	}
}

void psort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *),
	   unsigned threads)
{
	struct job jobs[RUNS_MAX];
	size_t runs = 1, bound[RUNS_MAX + 1];
	char *bufs[2], *tmp;
	int at = 0;

	while (runs < RUNS_MAX && runs <= threads && n / (2 * runs) >= RUN_MIN)
		runs *= 2;
	tmp = runs > 1 && n <= SIZE_MAX / size ? hugepage_alloc(n * size) : NULL;
	if (!tmp) {
		qsort(base, n, size, cmp);
		return;
	}
	for (size_t r = 0; r <= runs; r++)
		bound[r] = n / runs * r + (r == runs ? n % runs : 0);
	for (size_t r = 0; r < runs; r++)
		jobs[r] = (struct job){.src = base, .from = bound[r], .to = bound[r + 1],
				       .size = size, .cmp = cmp};
	run_all(jobs, runs);
	bufs[0] = base;
	bufs[1] = tmp;
	/* Merge neighbours until one run is left; the last round is one
	 * merge, on one thread. */
	for (size_t width = 1; width < runs; width *= 2, at ^= 1) {
		size_t k = 0;

		for (size_t r = 0; r < runs; r += 2 * width, k++)
			jobs[k] = (struct job){.src = bufs[at], .dst = bufs[at ^ 1], .from = bound[r],
					       .mid = bound[r + width], .to = bound[r + 2 * width],
					       .size = size, .cmp = cmp};
		run_all(jobs, k);
	}
	if (at == 1)
		memcpy(base, tmp, n * size);
	free(tmp);
}
