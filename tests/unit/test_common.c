/* SPDX-License-Identifier: 0BSD */
/** Unit tests for dbuf, escaping, pool and out. */
#include "prelude.h"
#include "unit.h"
#include "dbuf.h"
#include "longpath.h"
#include "out.h"
#include "pool.h"
#include "record.h"
#include "walk.h"
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

UNIT_TEST(dbuf_appends_and_formats_numbers)
{
	struct dbuf buf;

	dbuf_init(&buf);
	EXPECT(dbuf_puts(&buf, "a") == 0);
	EXPECT(dbuf_put_u64(&buf, 0) == 0);
	EXPECT(dbuf_put_u64(&buf, UINT64_MAX) == 0);
	EXPECT(dbuf_printf(&buf, "-%d", 42) == 0);
	EXPECT(strcmp(buf.data, "a018446744073709551615-42") == 0);
	dbuf_truncate(&buf, 1);
	EXPECT(buf.len == 1 && strcmp(buf.data, "a") == 0);
	dbuf_free(&buf);
	dbuf_free(&buf); /* safe twice */
}

UNIT_TEST(escape_round_trips_every_byte)
{
	struct dbuf raw, escaped, back;
	const char *why = NULL;
	int c;

	dbuf_init(&raw);
	dbuf_init(&escaped);
	dbuf_init(&back);
	for (c = 1; c < 256; c++)
		dbuf_putc(&raw, (char)c);
	EXPECT(rec_escape(&escaped, raw.data, raw.len) == 0);
	/* Nothing that splits a record survives escaping. */
	EXPECT(memchr(escaped.data, '\t', escaped.len) == NULL);
	EXPECT(memchr(escaped.data, '\n', escaped.len) == NULL);
	EXPECT(memchr(escaped.data, '\r', escaped.len) == NULL);
	EXPECT(rec_unescape(&back, escaped.data, escaped.len, &why) == 0);
	EXPECT(back.len == raw.len && memcmp(back.data, raw.data, raw.len) == 0);
	dbuf_free(&raw);
	dbuf_free(&escaped);
	dbuf_free(&back);
}

UNIT_TEST(escape_leaves_ordinary_names_alone)
{
	struct dbuf out;
	const char *name = "dir/ordinary name-\xc3\xa9.txt";

	dbuf_init(&out);
	EXPECT(rec_escape(&out, name, strlen(name)) == 0);
	EXPECT(strcmp(out.data, name) == 0);
	dbuf_clear(&out);
	EXPECT(rec_escape(&out, "a\\b\tc\x7f", 6) == 0);
	EXPECT(strcmp(out.data, "a\\\\b\\tc\\x7f") == 0);
	dbuf_free(&out);
}

UNIT_TEST(unescape_rejects_bad_escapes)
{
	static const char *const bad[] = { "a\\", "\\q", "\\x4", "\\x4g", "\\x00" };
	struct dbuf out;
	size_t i;

	dbuf_init(&out);
	for (i = 0; i < countof(bad); i++) {
		const char *why = NULL;

		dbuf_clear(&out);
		EXPECT(rec_unescape(&out, bad[i], strlen(bad[i]), &why) == -1);
		EXPECT(why != NULL);
	}
	dbuf_free(&out);
}

static atomic_int tasks_done;

static void count_task(void *context, void *task)
{
	(void)context;
	(void)task;
	atomic_fetch_add(&tasks_done, 1);
}

static void *make_context(void *arg)
{
	atomic_fetch_add((atomic_int *)arg, 1);
	return arg;
}

static void drop_context(void *context)
{
	atomic_fetch_sub((atomic_int *)context, 1);
}

UNIT_TEST(pool_runs_every_task_and_cleans_up_contexts)
{
	atomic_int live_contexts = 0;
	struct pool_config config = {
		.threads = 4, .queue_capacity = 3, .init = make_context,
		.work = count_task, .fini = drop_context, .arg = &live_contexts,
	};
	struct pool *pool = pool_new(&config);
	int i;

	atomic_store(&tasks_done, 0);
	EXPECT(pool != NULL);
	for (i = 0; i < 10000; i++)
		EXPECT(pool_submit(pool, NULL) == 0);
	EXPECT(pool_started(pool) >= 1 && pool_started(pool) <= 4);
	pool_finish(pool);
	EXPECT(atomic_load(&tasks_done) == 10000);
	EXPECT(atomic_load(&live_contexts) == 0);
}

UNIT_TEST(pool_starts_threads_lazily)
{
	struct pool_config config = { .threads = 16, .work = count_task };
	struct pool *pool = pool_new(&config);

	atomic_store(&tasks_done, 0);
	EXPECT(pool != NULL);
	EXPECT(pool_started(pool) == 0);
	EXPECT(pool_submit(pool, NULL) == 0);
	EXPECT(pool_started(pool) == 1);
	pool_finish(pool);
	EXPECT(atomic_load(&tasks_done) == 1);
}

static sem_t raise_gate;

/* Wait at the gate: the tasks of pool_raise's test stay running until released. */
static void gated_task(void *context, void *task)
{
	(void)context;
	(void)task;
	sem_wait(&raise_gate);
	atomic_fetch_add(&tasks_done, 1);
}

UNIT_TEST(pool_raise_lets_more_workers_start_up_to_threads_max)
{
	struct pool_config config = {
		.threads = 1, .threads_max = 4, .queue_capacity = 16, .work = gated_task,
	};
	struct pool *pool;

	EXPECT(sem_init(&raise_gate, 0, 0) == 0);
	atomic_store(&tasks_done, 0);
	pool = pool_new(&config);
	EXPECT(pool != NULL);
	for (int i = 0; i < 3; i++)
		EXPECT(pool_submit(pool, NULL) == 0);
	EXPECT(pool_started(pool) == 1);
	pool_raise(pool, 64);   /* clamped to threads_max */
	for (int i = 0; i < 4; i++)
		EXPECT(pool_submit(pool, NULL) == 0);
	EXPECT(pool_started(pool) == 4);
	pool_raise(pool, 2);    /* lower: no change, nothing breaks */
	for (int i = 0; i < 7; i++)
		sem_post(&raise_gate);
	pool_finish(pool);
	EXPECT(atomic_load(&tasks_done) == 7);
	sem_destroy(&raise_gate);
}

/*
 * The default thread counts follow the CPUs this process may run on: under
 * taskset -c 0 on a machine of several cores, one CPU's worth, not one per
 * core online.
 */
UNIT_TEST(default_threads_follow_the_cpu_affinity)
{
	cpu_set_t saved, one;
	int cpu = -1;

	EXPECT(sched_getaffinity(0, sizeof(saved), &saved) == 0);
	for (int i = 0; i < CPU_SETSIZE && cpu < 0; i++)
		if (CPU_ISSET(i, &saved))
			cpu = i;
	EXPECT(cpu >= 0);
	EXPECT(pool_cpus() == (unsigned)CPU_COUNT(&saved));
	EXPECT(pool_default_threads(1, 1, 1024) == pool_cpus());
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	EXPECT(sched_setaffinity(0, sizeof(one), &one) == 0);
	EXPECT(pool_cpus() == 1);
	EXPECT(pool_spare_cpus() == 0);
	EXPECT(pool_default_threads(1, 1, 64) == 1);
	EXPECT(pool_default_threads(8, 16, 256) == 16);
	EXPECT(pool_default_threads(3, 1, 2) == 2);
	EXPECT(walk_default_threads() == 2);
	EXPECT(walk_io_threads() == 8);
	EXPECT(sched_setaffinity(0, sizeof(saved), &saved) == 0);
	if (CPU_COUNT(&saved) >= 3)
		EXPECT(walk_io_threads() == (CPU_COUNT(&saved) >= 16 ? 64 : 4 * (unsigned)CPU_COUNT(&saved)));
}

struct writer_arg {
	struct out *sink;
	int id;
};

static void *write_records(void *arg)
{
	struct writer_arg *writer = arg;
	struct outbuf ob;
	int i;

	outbuf_init(&ob, writer->sink, 4096);
	for (i = 0; i < 2000; i++) {
		dbuf_printf(&ob.buf, "%d\t%d\t%0100d\n", writer->id, i, 0);
		outbuf_commit(&ob);
	}
	outbuf_fini(&ob);
	return NULL;
}

UNIT_TEST(out_never_interleaves_records)
{
	FILE *tmp = tmpfile();
	struct out *sink = out_new(fileno(tmp));
	struct writer_arg args[4];
	pthread_t threads[4];
	char line[256];
	int next[4] = { 0 }, i, lines = 0, bad = 0;

	for (i = 0; i < 4; i++) {
		args[i].sink = sink;
		args[i].id = i;
		pthread_create(&threads[i], NULL, write_records, &args[i]);
	}
	for (i = 0; i < 4; i++)
		pthread_join(threads[i], NULL);
	EXPECT(out_error(sink) == 0);
	rewind(tmp);
	while (fgets(line, sizeof(line), tmp)) {
		int id, seq;
		/* Each writer's records arrive whole and in its own order. */
		if (sscanf(line, "%d\t%d\t", &id, &seq) != 2 || id < 0 || id > 3 ||
		    seq != next[id] || strlen(strrchr(line, '\t') + 1) != 101)
			bad++;
		else
			next[id]++;
		lines++;
	}
	EXPECT(bad == 0);
	EXPECT(lines == 8000);
	out_free(sink);
	fclose(tmp);
}

UNIT_TEST(type_letters_follow_find)
{
	EXPECT(rec_type_letter(S_IFREG | 0644) == 'f');
	EXPECT(rec_type_letter(S_IFDIR) == 'd');
	EXPECT(rec_type_letter(S_IFLNK) == 'l');
	EXPECT(rec_type_letter(S_IFIFO) == 'p');
	EXPECT(rec_type_letter(S_IFSOCK) == 's');
	EXPECT(rec_type_letter(S_IFBLK) == 'b');
	EXPECT(rec_type_letter(S_IFCHR) == 'c');
	EXPECT(rec_type_letter(DTTOIF(DT_DIR)) == 'd');
	EXPECT(rec_type_letter(0) == '?');
}

UNIT_TEST(longpath_reaches_past_path_max)
{
	char top[] = "/tmp/ptools-longpath-XXXXXX", seg[201];
	struct dbuf path;
	const char *rest = NULL;
	int dirfd, fd, i;

	EXPECT(mkdtemp(top) != NULL);
	memset(seg, 'd', 200);
	seg[200] = '\0';
	dbuf_init(&path);
	dbuf_puts(&path, top);
	dirfd = open(top, O_RDONLY | O_DIRECTORY);
	/* 25 levels of 200 bytes: about 5,000 bytes, past PATH_MAX. */
	for (i = 0; i < 25; i++) {
		int next;
		EXPECT(mkdirat(dirfd, seg, 0700) == 0);
		next = openat(dirfd, seg, O_RDONLY | O_DIRECTORY);
		close(dirfd);
		dirfd = next;
		dbuf_putc(&path, '/');
		dbuf_puts(&path, seg);
	}
	fd = openat(dirfd, "leaf", O_WRONLY | O_CREAT, 0600);
	close(fd);
	close(dirfd);
	dbuf_puts(&path, "/leaf");
	EXPECT(path.len >= PATH_MAX);
	dirfd = longpath_parent(AT_FDCWD, path.data, &rest);
	EXPECT(dirfd >= 0 && rest && strcmp(rest, "leaf") == 0);
	EXPECT(faccessat(dirfd, rest, F_OK, 0) == 0);
	if (dirfd >= 0)
		close(dirfd);
	/* A short path comes back as it is. */
	EXPECT(longpath_parent(AT_FDCWD, top, &rest) == AT_FDCWD && rest == top);
	dbuf_free(&path);
	{
		char cmd[64];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
		EXPECT(system(cmd) == 0);
	}
}
