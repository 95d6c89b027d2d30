/* SPDX-License-Identifier: 0BSD */
/**
 * Unit tests of the walker's dir_done hook (walk.h), on which pcopy's
 * batched reads rely: once per directory read, in every mode, after the
 * visits of its entries and in the thread that made them, so that what a
 * thread held back from one directory is handed over before it visits
 * another. (That at_fd is still open then is checked only loosely: an
 * unpinned descriptor stays in the walker's cache until evicted.)
 */
#include "prelude.h"
#include "unit.h"
#include "walk.h"
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIRS 12
#define FILES_PER_DIR 40

struct dd_run {
	atomic_uint dones;       /* dir_done calls */
	atomic_uint files;       /* files visited */
	atomic_uint files_done;  /* files whose dir_done came, their at_fd still open */
	atomic_bool mixed;       /* one dir_done's files came through different at_fds */
};

/* One thread's files visited since its last dir_done. */
struct dd_thread {
	struct dd_run *run;
	pthread_t self;
	int at_fd;
	unsigned held;
};

static void *dd_init(void *arg)
{
	struct dd_thread *t = calloc(1, sizeof(*t));

	if (t) {
		t->run = arg;
		t->self = pthread_self();
		t->at_fd = -1;
	}
	return t;
}

static void dd_fini(void *context)
{
	struct dd_thread *t = context;

	/* Every file held was handed to a dir_done. */
	EXPECT(t && t->held == 0);
	free(t);
}

static enum walk_action dd_visit(void *context, const struct walk_entry *entry)
{
	struct dd_thread *t = context;

	EXPECT(pthread_equal(t->self, pthread_self()));
	if (entry->type != DT_REG)
		return WALK_CONTINUE;
	if (t->held > 0 && t->at_fd != entry->at_fd)
		atomic_store(&t->run->mixed, true);
	t->at_fd = entry->at_fd;
	t->held++;
	atomic_fetch_add(&t->run->files, 1);
	return WALK_CONTINUE;
}

static void dd_done(void *context)
{
	struct dd_thread *t = context;

	EXPECT(pthread_equal(t->self, pthread_self()));
	atomic_fetch_add(&t->run->dones, 1);
	if (t->held > 0 && fcntl(t->at_fd, F_GETFD) != -1)
		atomic_fetch_add(&t->run->files_done, t->held);
	t->held = 0;
	t->at_fd = -1;
}

/* root/dN/fM for N < DIRS, M < FILES_PER_DIR, with dN/sub (empty) in each. */
static bool make_tree(const char *root)
{
	char path[256];

	for (int d = 0; d < DIRS; d++) {
		snprintf(path, sizeof(path), "%s/d%d", root, d);
		if (mkdir(path, 0700) != 0)
			return false;
		snprintf(path, sizeof(path), "%s/d%d/sub", root, d);
		if (mkdir(path, 0700) != 0)
			return false;
		for (int f = 0; f < FILES_PER_DIR; f++) {
			int fd;

			snprintf(path, sizeof(path), "%s/d%d/f%d", root, d, f);
			fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
			if (fd < 0)
				return false;
			close(fd);
		}
	}
	return true;
}

static void remove_tree(const char *root)
{
	char path[256];

	for (int d = 0; d < DIRS; d++) {
		for (int f = 0; f < FILES_PER_DIR; f++) {
			snprintf(path, sizeof(path), "%s/d%d/f%d", root, d, f);
			unlink(path);
		}
		snprintf(path, sizeof(path), "%s/d%d/sub", root, d);
		rmdir(path);
		snprintf(path, sizeof(path), "%s/d%d", root, d);
		rmdir(path);
	}
	rmdir(root);
}

UNIT_TEST(walk_calls_dir_done_once_per_directory_after_its_visits)
{
	char root[] = "/tmp/zzwalkXXXXXX";
	const char *roots[1] = {root};
	/* Unsorted on 1 and 4 threads, sorted (visits in the calling thread). */
	const struct {
		unsigned threads;
		int flags;
	} modes[] = {{1, 0}, {4, 0}, {4, WALK_SORT}};

	EXPECT(mkdtemp(root) != NULL);
	EXPECT(make_tree(root));
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		struct dd_run run;
		struct walk_config config;

		memset(&run, 0, sizeof(run));
		memset(&config, 0, sizeof(config));
		config.threads = modes[m].threads;
		config.flags = modes[m].flags;
		config.visit = dd_visit;
		config.thread_init = dd_init;
		config.thread_fini = dd_fini;
		config.dir_done = dd_done;
		config.arg = &run;
		EXPECT(walk(roots, 1, &config) == 0);
		/* The root, each dN and each dN/sub: once each. */
		EXPECT(atomic_load(&run.dones) == 1 + 2 * DIRS);
		EXPECT(atomic_load(&run.files) == DIRS * FILES_PER_DIR);
		EXPECT(atomic_load(&run.files_done) == DIRS * FILES_PER_DIR);
		EXPECT(!atomic_load(&run.mixed));
	}
	remove_tree(root);
}
