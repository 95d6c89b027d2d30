/* SPDX-License-Identifier: 0BSD */
/** Unit tests for openread: the one safe way to open a file to read. */
#include "prelude.h"
#include "unit.h"
#include "beneath.h"
#include "openread.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

UNIT_TEST(open_read_opens_regular_files_only_and_never_blocks)
{
	char dir[] = "/tmp/unit-openread-XXXXXX", path[PATH_MAX], fifo[PATH_MAX], link[PATH_MAX];
	struct stat st;
	bool have_stat;
	int fd, rootfd;

	EXPECT(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/file", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	EXPECT(fd >= 0 && write(fd, "abc", 3) == 3);
	close(fd);
	EXPECT(mkfifo(fifo, 0600) == 0);
	EXPECT(symlink("file", link) == 0);

	for (int flags = 0; flags < 4; flags++) {
		/* A regular file: its descriptor and fstat, whatever the flags. */
		fd = open_read_at(AT_FDCWD, path, flags, &st, &have_stat);
		EXPECT(fd >= 0 && have_stat && S_ISREG(st.st_mode) && st.st_size == 3);
		if (fd >= 0) {
			EXPECT(!(fcntl(fd, F_GETFL) & O_WRONLY));
			close(fd);
		}
		/* A FIFO (no writer: an open for reading would block) and a
		 * directory: not regular, their stat given, nothing left open. */
		EXPECT(open_read_at(AT_FDCWD, fifo, flags, &st, &have_stat) == OPEN_READ_NOT_REGULAR);
		EXPECT(have_stat && S_ISFIFO(st.st_mode));
		EXPECT(open_read_at(AT_FDCWD, dir, flags, &st, &have_stat) == OPEN_READ_NOT_REGULAR);
		EXPECT(have_stat && S_ISDIR(st.st_mode));
		/* A final symlink: followed unless OPEN_READ_NOFOLLOW. */
		fd = open_read_at(AT_FDCWD, link, flags, &st, &have_stat);
		if (flags & OPEN_READ_NOFOLLOW) {
			EXPECT(fd == OPEN_READ_NOT_REGULAR && have_stat && S_ISLNK(st.st_mode));
		} else {
			EXPECT(fd >= 0 && S_ISREG(st.st_mode));
			if (fd >= 0)
				close(fd);
		}
		/* Nothing there: ENOENT, and no stat to give. */
		EXPECT(open_read_at(AT_FDCWD, "/nonexistent/zz", flags, &st, &have_stat) == -1);
		EXPECT(errno == ENOENT && !have_stat);
	}

	/* Beneath a root: inside is fine, ".." or "/" that leaves is not. */
	rootfd = open(dir, O_RDONLY | O_DIRECTORY);
	EXPECT(rootfd >= 0);
	fd = open_read_at(rootfd, "file", OPEN_READ_BENEATH | OPEN_READ_NO_PRESTAT, &st, NULL);
	EXPECT(fd >= 0 && st.st_size == 3);
	if (fd >= 0)
		close(fd);
	EXPECT(open_read_at(rootfd, "../etc/passwd", OPEN_READ_BENEATH, &st, NULL) == -1);
	EXPECT(errno == EXDEV);
	EXPECT(open_read_at(rootfd, "/etc/passwd", OPEN_READ_BENEATH, &st, NULL) == -1);
	EXPECT(errno == EXDEV);
	close(rootfd);

	unlink(link);
	unlink(fifo);
	unlink(path);
	rmdir(dir);
}

UNIT_TEST(beneath_resolve_without_openat2_follows_no_symlink)
{
	char dir[] = "/tmp/unit-resolve-XXXXXX", path[PATH_MAX];
	int rootfd, fd;

	EXPECT(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/sub", dir);
	EXPECT(mkdir(path, 0755) == 0);
	snprintf(path, sizeof(path), "%s/sub/f", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	EXPECT(fd >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/via", dir);
	EXPECT(symlink("sub", path) == 0);
	rootfd = open(dir, O_RDONLY | O_DIRECTORY);
	EXPECT(rootfd >= 0);
	/* Lexical "..": sub/../sub/f is sub/f. */
	beneath_disable_openat2();
	fd = beneath_resolve(rootfd, "sub/../sub/f", O_RDONLY);
	EXPECT(fd >= 0);
	if (fd >= 0)
		close(fd);
	/* A symlink on the way is not followed: ELOOP. */
	EXPECT(beneath_resolve(rootfd, "via/f", O_RDONLY) == -1 && errno == ELOOP);
	EXPECT(beneath_resolve(rootfd, "sub/../../x", O_RDONLY) == -1 && errno == EXDEV);
	close(rootfd);
	unlink(path);
	snprintf(path, sizeof(path), "%s/sub/f", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
}
