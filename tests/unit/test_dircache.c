/* SPDX-License-Identifier: 0BSD */
/** Unit tests for dircache_at_beneath: a cached directory resolved beneath a root. */
#include "prelude.h"
#include "unit.h"
#include "dircache.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* root/a/b, root/b, root/out -> /tmp, root/in -> a: made under root (a mkdtemp pattern). */
static int make_tree(char *root)
{
	static const char *const dirs[] = { "a", "a/b", "b" };
	char path[PATH_MAX];

	if (!mkdtemp(root))
		return -1;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, dirs[i]);
		if (mkdir(path, 0755) != 0)
			return -1;
	}
	snprintf(path, sizeof(path), "%s/out", root);
	if (symlink("/tmp", path) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/in", root);
	return symlink("a", path);
}

static void remove_tree(const char *root)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		return;
}

/* Whether fd is the directory at path (the same inode). */
static bool is_dir(int fd, const char *root, const char *rel)
{
	char path[PATH_MAX];
	struct stat a, b;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return fd >= 0 && fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
	       a.st_dev == b.st_dev;
}

UNIT_TEST(dircache_beneath_resolves_each_directory_once)
{
	char root[] = "/tmp/unit-dircache-XXXXXX";
	struct dircache cache;
	const char *name;
	int rootfd, fd, again;

	EXPECT(make_tree(root) == 0);
	rootfd = open(root, O_PATH | O_DIRECTORY);
	dircache_init(&cache);
	fd = dircache_at_beneath(&cache, rootfd, "a/b/x", 5, &name);
	EXPECT(fd != rootfd && is_dir(fd, root, "a/b") && strcmp(name, "x") == 0);
	again = dircache_at_beneath(&cache, rootfd, "a/b/y", 5, &name);
	EXPECT(again == fd && strcmp(name, "y") == 0);
	/* Another spelling of a directory is resolved again, to the same one. */
	fd = dircache_at_beneath(&cache, rootfd, "./a/../a/b/z", 12, &name);
	EXPECT(is_dir(fd, root, "a/b") && strcmp(name, "z") == 0);
	/* A symlink that stays beneath the root is followed where openat2 is. */
	fd = dircache_at_beneath(&cache, rootfd, "in/b/x", 6, &name);
	EXPECT((fd == rootfd && strcmp(name, "in/b/x") == 0) ||
	       (is_dir(fd, root, "a/b") && strcmp(name, "x") == 0));
	dircache_fini(&cache);
	close(rootfd);
	remove_tree(root);
}

UNIT_TEST(dircache_beneath_hands_back_the_root_and_the_whole_path)
{
	static const char *const paths[] = {
		"x", "a/b/", "a/b/.", "a/b/..", "out/x", "out/../a/x", "../x", "/tmp/x",
		"missing/x", "a/x/y",
	};
	char root[] = "/tmp/unit-dircache-XXXXXX";
	struct dircache cache;
	const char *name;
	int rootfd, fd;

	EXPECT(make_tree(root) == 0);
	rootfd = open(root, O_PATH | O_DIRECTORY);
	dircache_init(&cache);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		/* Each after a directory is cached, which must not answer for it. */
		fd = dircache_at_beneath(&cache, rootfd, "a/f", 3, &name);
		EXPECT(is_dir(fd, root, "a"));
		fd = dircache_at_beneath(&cache, rootfd, paths[i], strlen(paths[i]), &name);
		EXPECT(fd == rootfd && name == paths[i]);
	}
	dircache_fini(&cache);
	close(rootfd);
	remove_tree(root);
}

UNIT_TEST(dircache_keeps_directories_of_one_root_apart_from_another)
{
	char root[] = "/tmp/unit-dircache-XXXXXX", inner[PATH_MAX];
	struct dircache cache;
	const char *name;
	int rootfd, innerfd, fd;

	EXPECT(make_tree(root) == 0);
	snprintf(inner, sizeof(inner), "%s/a", root);
	rootfd = open(root, O_PATH | O_DIRECTORY);
	innerfd = open(inner, O_PATH | O_DIRECTORY);
	dircache_init(&cache);
	/* "b/x" names root/b from the root, root/a/b from root/a. */
	fd = dircache_at_beneath(&cache, rootfd, "b/x", 3, &name);
	EXPECT(is_dir(fd, root, "b"));
	fd = dircache_at_beneath(&cache, innerfd, "b/x", 3, &name);
	EXPECT(is_dir(fd, root, "a/b"));
	dircache_fini(&cache);
	close(innerfd);
	close(rootfd);
	remove_tree(root);
}

UNIT_TEST(dircache_keeps_interleaved_directories_open)
{
	char root[] = "/tmp/unit-dircache-XXXXXX";
	static const char *const dirs[] = { "a/b/x", "b/x", "a/x" };
	struct dircache cache;
	const char *name;
	int rootfd, fds[3], fd;

	EXPECT(make_tree(root) == 0);
	rootfd = open(root, O_PATH | O_DIRECTORY);
	dircache_init(&cache);
	dircache_keep(&cache, DIRCACHE_WAYS);
	/* A list written by parallel workers alternates directories line by
	 * line: each stays open, under the descriptor it was first given. */
	for (size_t i = 0; i < 3; i++)
		fds[i] = dircache_at_beneath(&cache, rootfd, dirs[i], strlen(dirs[i]), &name);
	EXPECT(fds[0] != fds[1] && fds[1] != fds[2] && fds[0] != fds[2]);
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < 3; i++) {
			fd = dircache_at_beneath(&cache, rootfd, dirs[2 - i], strlen(dirs[2 - i]), &name);
			EXPECT(fd == fds[2 - i] && strcmp(name, "x") == 0);
		}
	/* More directories than it keeps: the least recently used goes, and
	 * every answer is still the right directory. */
	fd = dircache_at(&cache, "/tmp/x", 6, &name); /* a fourth, from the current directory */
	EXPECT(fd >= 0 && strcmp(name, "x") == 0);
	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < 3; i++) {
			fd = dircache_at_beneath(&cache, rootfd, dirs[i], strlen(dirs[i]), &name);
			EXPECT(is_dir(fd, root, i == 0 ? "a/b" : i == 1 ? "b" : "a"));
			fd = dircache_at_beneath(&cache, rootfd, "a/b/../../in/b/y", 16, &name);
			EXPECT(fd == rootfd || is_dir(fd, root, "a/b"));
			fd = dircache_at_beneath(&cache, rootfd, "./b/y", 5, &name);
			EXPECT(is_dir(fd, root, "b"));
		}
	dircache_fini(&cache);
	close(rootfd);
	remove_tree(root);
}
