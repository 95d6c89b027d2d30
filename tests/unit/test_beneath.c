/* SPDX-License-Identifier: 0BSD */
/** Unit tests for beneath: opening paths under a root without following links. */
#include "prelude.h"
#include "unit.h"
#include "beneath.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Make a scratch tree: root/a/b/file, root/link -> /tmp, root/a/up -> .. */
static int make_tree(char *root, size_t size)
{
	char path[PATH_MAX];
	int fd;

	snprintf(root, size, "/tmp/unit-beneath-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	snprintf(path, sizeof(path), "%s/a", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/a/b", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/a/b/file", root);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof(path), "%s/link", root);
	if (symlink("/tmp", path) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/a/up", root);
	return symlink("..", path);
}

static void remove_tree(const char *root)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		return;
}

UNIT_TEST(beneath_opens_plain_paths)
{
	char root[64];
	int rootfd, fd;

	EXPECT(make_tree(root, sizeof(root)) == 0);
	rootfd = open(root, O_RDONLY | O_DIRECTORY);
	EXPECT(rootfd >= 0);
	fd = beneath_open_dir(rootfd, "a/b", 3, 0);
	EXPECT(fd >= 0);
	if (fd >= 0)
		close(fd);
	fd = beneath_open_dir(rootfd, "./a//b/", 7, 0);
	EXPECT(fd >= 0);
	if (fd >= 0)
		close(fd);
	fd = beneath_open_dir(rootfd, "", 0, 0);
	EXPECT(fd >= 0);
	if (fd >= 0)
		close(fd);
	fd = beneath_open(rootfd, "a/b/file", O_RDONLY, 0);
	EXPECT(fd >= 0);
	if (fd >= 0)
		close(fd);
	close(rootfd);
	remove_tree(root);
}

UNIT_TEST(beneath_refuses_links_dotdot_and_absolute_paths)
{
	char root[64];
	int rootfd;

	EXPECT(make_tree(root, sizeof(root)) == 0);
	rootfd = open(root, O_RDONLY | O_DIRECTORY);
	EXPECT(beneath_open_dir(rootfd, "link", 4, 0) < 0 && (errno == ELOOP || errno == ENOTDIR));
	EXPECT(beneath_open_dir(rootfd, "a/up/a", 6, 0) < 0);
	EXPECT(beneath_open(rootfd, "link", O_RDONLY, 0) < 0 && errno == ELOOP);
	EXPECT(beneath_open(rootfd, "a/../a/b/file", O_RDONLY, 0) < 0 && errno == EXDEV);
	EXPECT(beneath_open_dir(rootfd, "/tmp", 4, 0) < 0 && errno == EXDEV);
	EXPECT(beneath_open(rootfd, "link/x", O_WRONLY | O_CREAT, 0644) < 0);
	close(rootfd);
	remove_tree(root);
}

UNIT_TEST(beneath_split_finds_the_last_component)
{
	const char *name;
	size_t dir_len, name_len;

	beneath_split("a/b/c", 5, &dir_len, &name, &name_len);
	EXPECT(dir_len == 4 && name_len == 1 && name[0] == 'c');
	beneath_split("c", 1, &dir_len, &name, &name_len);
	EXPECT(dir_len == 0 && name_len == 1);
	beneath_split("a/b/", 4, &dir_len, &name, &name_len);
	EXPECT(dir_len == 2 && name_len == 1 && name[0] == 'b');
}
