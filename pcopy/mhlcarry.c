/* SPDX-License-Identifier: 0BSD */
/** A SRC's ASC MHL history, checked and carried into each destination (mhlcarry.h). */
#include "prelude.h"
#include "mhlcarry.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Whether the history directory open at histfd holds a generation file. */
static bool has_generations(int histfd)
{
	struct dirent *de;
	int fd = dup(histfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	bool found = false;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return true; /* unreadable: not taken for empty */
	}
	rewinddir(d);
	while (!found && (de = readdir(d))) {
		size_t n = strlen(de->d_name);

		found = n > 4 && strcmp(de->d_name + n - 4, ".mhl") == 0;
	}
	closedir(d);
	return found;
}

/*
 * Whether a chain's path names a generation file, which alone is carried
 * into a destination's history (never its chain, signature or a hidden
 * name of pcopy's): digits, then "_" and the rest or nothing, then ".mhl"
 * (the reference implementation's NNNN[_name].mhl).
 */
static bool generation_name_ok(const char *name)
{
	size_t n = strlen(name), digits = strspn(name, "0123456789");

	return digits > 0 && (name[digits] == '_' || name[digits] == '.') && n > 4 &&
	       strcmp(name + n - 4, ".mhl") == 0;
}

/* The C4 of generation link's file in histfd. 0, or -1 with errno. */
static int generation_c4(int histfd, const struct mhl2_chain_link *link, char *c4)
{
	int fd = openat(histfd, link->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = mhl2_fd_c4(fd, c4);
	close(fd);
	return rc;
}

int mhlcarry_open(struct mhlcarry *carry, const char *src, struct dbuf *path,
		  const char **reason)
{
	char c4[MHL2_C4_LEN + 1];
	int rootfd, fd, err;

	memset(carry, 0, sizeof(*carry));
	carry->histfd = -1;
	*reason = NULL;
	rootfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return 0; /* the walk reports it */
	carry->histfd = openat(rootfd, MHL2_DIR_NAME,
			       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(rootfd);
	if (carry->histfd < 0) {
		err = errno;
		if (err == ENOENT)
			return 0;
		dbuf_printf(path, "%s/%s", src, MHL2_DIR_NAME);
		errno = err;
		return -1;
	}
	fd = openat(carry->histfd, MHL2_CHAIN_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		if (err == ENOENT && !has_generations(carry->histfd)) {
			close(carry->histfd); /* an empty history: nothing to carry */
			carry->histfd = -1;
			return 0;
		}
		dbuf_printf(path, "%s/%s/%s", src, MHL2_DIR_NAME, MHL2_CHAIN_NAME);
		if (err == ENOENT)
			*reason = "missing, so the generations beside it cannot be carried";
		errno = err;
		return -1;
	}
	dbuf_printf(path, "%s/%s/%s", src, MHL2_DIR_NAME, MHL2_CHAIN_NAME);
	if (mhl2_chain_read(fd, &carry->chain, reason) != 0) {
		err = errno;
		close(fd);
		errno = *reason ? EINVAL : err;
		return -1;
	}
	close(fd);
	for (size_t i = 0; i < carry->chain.n; i++) {
		const struct mhl2_chain_link *link = &carry->chain.links[i];

		dbuf_clear(path);
		dbuf_printf(path, "%s/%s/%s", src, MHL2_DIR_NAME, link->path);
		if (!generation_name_ok(link->path)) {
			*reason = "the chain lists a file that is not a generation (NNNN_*.mhl): "
				  "the history cannot be carried";
			errno = EINVAL;
			return -1;
		}
		if (generation_c4(carry->histfd, link, c4) != 0) {
			if (errno == ENOENT)
				*reason = "listed by the chain but missing: the history cannot be "
					  "carried";
			return -1;
		}
		if (strcmp(c4, link->c4) != 0) {
			*reason = "its C4 differs from the one the chain records: the history "
				  "cannot be carried";
			errno = EINVAL;
			return -1;
		}
	}
	return 0;
}

int mhlcarry_plan(const struct mhlcarry *carry, int rootfd, size_t *from, const char **why)
{
	struct mhl2_chain dest = {0};
	size_t common;
	int histfd, fd, rc = -1;

	*from = 0;
	*why = NULL;
	histfd = openat(rootfd, MHL2_DIR_NAME, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (histfd < 0) {
		if (errno == ENOENT)
			return 0;
		*why = "opening the history";
		return -1;
	}
	fd = openat(histfd, MHL2_CHAIN_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT) {
			*why = "opening the chain";
			goto out;
		}
		/* No chain: generations of its own would be lost to the carried ones. */
		if (carry->chain.n > 0 && has_generations(histfd)) {
			*why = "generations without a chain: SRC's history cannot be carried there";
			errno = 0;
			goto out;
		}
		rc = 0;
		goto out;
	}
	rc = mhl2_chain_read(fd, &dest, why);
	close(fd);
	if (rc != 0) {
		if (!*why)
			*why = "reading the chain";
		goto out;
	}
	rc = -1;
	common = dest.n < carry->chain.n ? dest.n : carry->chain.n;
	for (size_t i = 0; i < common; i++) {
		const struct mhl2_chain_link *a = &carry->chain.links[i], *b = &dest.links[i];

		if (a->sequence != b->sequence || strcmp(a->path, b->path) != 0 ||
		    strcmp(a->c4, b->c4) != 0) {
			*why = "its history differs from SRC's (another generation where both have "
			       "one): not extended";
			errno = 0;
			goto out;
		}
	}
	*from = common;
	rc = 0;
out:
	mhl2_chain_free(&dest);
	close(histfd);
	return rc;
}

int mhlcarry_copy(const struct mhlcarry *carry, size_t i, int fd)
{
	const struct mhl2_chain_link *link = &carry->chain.links[i];
	char c4[MHL2_C4_LEN + 1];
	int in = openat(carry->histfd, link->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int rc = -1;

	if (in < 0)
		return -1;
	if (mhl2_fd_c4_copy(in, fd, c4) == 0) {
		if (strcmp(c4, link->c4) == 0)
			rc = 0;
		else
			errno = EBADMSG;
	}
	close(in);
	return rc;
}

void mhlcarry_close(struct mhlcarry *carry)
{
	if (carry->histfd >= 0)
		close(carry->histfd);
	carry->histfd = -1;
	mhl2_chain_free(&carry->chain);
}
