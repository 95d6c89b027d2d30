/* SPDX-License-Identifier: 0BSD */
/** A SRC's ASC MHL history, checked and carried into each destination (mhlcarry.h). */
#include "prelude.h"
#include "mhlcarry.h"
#include "openread.h"
#include "hash.h"
#include "proto.h"
#include "xio.h"
#include "grow.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* One file of a received history: its name, and where its bytes are. */
struct part {
	char *name;
	uint64_t at, len;         /* the chain's in chainfd, a generation's in blobfd */
};

struct mhlcarry_received {
	int chainfd, blobfd;      /* memfds: the chain's bytes; the generations', one after another */
	struct part *parts;       /* parts[0] is the chain */
	size_t nparts, cap;
	uint64_t bytes, blob_len; /* all received; the generations' */
	size_t *link_part;        /* once checked: the part of each link of the chain */
};

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
	return proto_generation_name_ok(name, strlen(name));
}

/* The C4 of generation link's file in histfd. 0, or -1 with errno. */
static int generation_c4(int histfd, const struct mhl2_chain_link *link, char *c4)
{
	int fd = open_regular_at(histfd, link->path);
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
	fd = open_regular_at(carry->histfd, MHL2_CHAIN_NAME);
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
			else if (errno == ENOTREGULAR)
				*reason = "not a regular file: the history cannot be carried";
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
	fd = open_regular_at(histfd, MHL2_CHAIN_NAME);
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

int mhlcarry_read(const struct mhlcarry *carry, size_t i, mhlcarry_piece_fn *fn, void *arg)
{
	const struct mhl2_chain_link *link = i == MHLCARRY_CHAIN ? NULL : &carry->chain.links[i];
	const struct mhlcarry_received *r = carry->received;
	unsigned char *buf = malloc(MHLCARRY_PIECE), digest[64];
	char c4[MHL2_C4_LEN + 1];
	struct hash_ctx *ctx = NULL;
	uint64_t at = 0, left = UINT64_MAX;
	int fd, rc = -1, err;

	if (r) {
		const struct part *part = link ? &r->parts[r->link_part[i]] : &r->parts[0];

		fd = link ? r->blobfd : r->chainfd;
		at = part->at;
		left = part->len;
	} else {
		fd = openat(carry->histfd, link ? link->path : MHL2_CHAIN_NAME,
			    O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (!buf || fd < 0 || (link && !(ctx = hash_ctx_new(hash_lookup("sha512")))))
		goto out;
	while (left > 0) {
		size_t want = left < MHLCARRY_PIECE ? (size_t)left : MHLCARRY_PIECE;
		ssize_t n = r ? xpread(fd, buf, want, (off_t)at) : xread(fd, buf, want);

		if (n < 0)
			goto out;
		if (n == 0) {
			if (!r)
				break; /* the end of SRC's file */
			errno = EIO; /* a received file is all there */
			goto out;
		}
		if ((ctx && hash_ctx_update(ctx, buf, (size_t)n) != 0) || fn(arg, buf, (size_t)n) != 0)
			goto out;
		at += (uint64_t)n;
		if (r)
			left -= (uint64_t)n;
	}
	if (ctx) {
		if (hash_ctx_final(ctx, digest) != 0)
			goto out;
		mhl2_c4_encode(digest, c4);
		if (strcmp(c4, link->c4) != 0) {
			errno = EBADMSG;
			goto out;
		}
	}
	rc = 0;
out:
	err = errno;
	if (!r && fd >= 0)
		close(fd);
	hash_ctx_free(ctx);
	free(buf);
	errno = err;
	return rc;
}

static int write_piece(void *arg, const void *data, size_t len)
{
	return xwrite(*(const int *)arg, data, len);
}

int mhlcarry_copy(const struct mhlcarry *carry, size_t i, int fd)
{
	return mhlcarry_read(carry, i, write_piece, &fd);
}

/* The sender broke the protocol: why, errno EPROTO, -1. */
static int protocol(const char **why, const char *reason)
{
	*why = reason;
	errno = EPROTO;
	return -1;
}

/* Start the next file of a received history. 0, or -1 with errno. */
static int add_part(struct mhlcarry_received *r, const char *name, size_t len)
{
	struct part *part;

	if (GROW(r->parts, &r->cap, r->nparts + 1, 16) != 0)
		return -1;
	part = &r->parts[r->nparts];
	part->name = strndup(name, len);
	if (!part->name)
		return -1;
	part->at = r->nparts == 0 ? 0 : r->blob_len;
	part->len = 0;
	r->nparts++;
	return 0;
}

int mhlcarry_receive(struct mhlcarry *carry, const char *name, size_t name_len, const void *data,
		     size_t len, const char **why)
{
	static const char chain_name[] = MHL2_CHAIN_NAME;
	struct mhlcarry_received *r = carry->received;
	bool chain = name_len == sizeof(chain_name) - 1 && memcmp(name, chain_name, name_len) == 0;
	struct part *part;

	if (!chain && !proto_generation_name_ok(name, name_len))
		return protocol(why, "a history file that is neither the chain nor a generation");
	if (!r) {
		if (!chain)
			return protocol(why, "an ASC MHL history that does not begin with its chain");
		r = calloc(1, sizeof(*r));
		if (!r)
			return -1;
		r->chainfd = r->blobfd = -1;
		carry->received = r;
		r->chainfd = memfd_create("pcopy-history-chain", MFD_CLOEXEC);
		r->blobfd = memfd_create("pcopy-history", MFD_CLOEXEC);
		if (r->chainfd < 0 || r->blobfd < 0 || add_part(r, name, name_len) != 0)
			return -1;
	} else {
		part = &r->parts[r->nparts - 1];
		if (strlen(part->name) != name_len || memcmp(part->name, name, name_len) != 0) {
			if (chain)
				return protocol(why, "an ASC MHL history that sends its chain twice");
			if (r->nparts >= PROTO_HISTORY_FILES_MAX)
				return protocol(why, "more history files than the protocol allows");
			if (add_part(r, name, name_len) != 0)
				return -1;
		}
	}
	if (len > PROTO_HISTORY_MAX - r->bytes)
		return protocol(why, "an ASC MHL history larger than the protocol allows");
	part = &r->parts[r->nparts - 1];
	if (len > 0 && xpwrite(r->nparts == 1 ? r->chainfd : r->blobfd, data, len,
			       (off_t)(part->at + part->len)) != 0)
		return -1;
	part->len += len;
	r->bytes += len;
	if (r->nparts > 1)
		r->blob_len += len;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp((*(const struct part *const *)a)->name, (*(const struct part *const *)b)->name);
}

/* bsearch's: a name (key) against a part of the sorted generations. */
static int name_to_part(const void *key, const void *elem)
{
	return strcmp(*(const char *const *)key, (*(const struct part *const *)elem)->name);
}

static int ignore_piece(void *arg, const void *data, size_t len)
{
	(void)arg;
	(void)data;
	(void)len;
	return 0;
}

/*
 * Each link's part (r->link_part), found by name in sorted (the generations,
 * sorted by name). 0; or -1 with errno EPROTO and *reason (a file sent
 * twice, or one the chain does not list), or path and *reason (a link that
 * is no generation or was not sent), as mhlcarry_open says them.
 */
static int match_links(struct mhlcarry *carry, struct part **sorted, size_t n, const char *src,
		       struct dbuf *path, const char **reason)
{
	struct mhlcarry_received *r = carry->received;
	bool *listed = calloc(n ? n : 1, sizeof(*listed));

	if (!listed)
		return -1;
	for (size_t k = 1; k < n; k++)
		if (strcmp(sorted[k - 1]->name, sorted[k]->name) == 0) {
			free(listed);
			return protocol(reason, "an ASC MHL history that sends a generation twice");
		}
	for (size_t i = 0; i < carry->chain.n; i++) {
		const struct mhl2_chain_link *link = &carry->chain.links[i];
		struct part **found;

		dbuf_clear(path);
		dbuf_printf(path, "%s/%s/%s", src, MHL2_DIR_NAME, link->path);
		if (!generation_name_ok(link->path)) {
			*reason = "the chain lists a file that is not a generation (NNNN_*.mhl): "
				  "the history cannot be carried";
			free(listed);
			errno = EINVAL;
			return -1;
		}
		found = n ? bsearch(&link->path, sorted, n, sizeof(*sorted), name_to_part) : NULL;
		if (!found) {
			*reason = "listed by the chain but missing: the history cannot be carried";
			free(listed);
			errno = ENOENT;
			return -1;
		}
		listed[found - sorted] = true;
		r->link_part[i] = (size_t)(*found - r->parts);
	}
	for (size_t k = 0; k < n; k++)
		if (!listed[k]) {
			free(listed);
			return protocol(reason, "an ASC MHL history with a generation its chain does "
					"not list");
		}
	free(listed);
	return 0;
}

int mhlcarry_receive_end(struct mhlcarry *carry, const char *src, struct dbuf *path,
			 const char **reason)
{
	struct mhlcarry_received *r = carry->received;
	struct part **sorted = NULL;
	size_t n;
	int rc = -1, err;

	*reason = NULL;
	if (!r)
		return protocol(reason, "an empty ASC MHL history");
	n = r->nparts - 1;
	dbuf_printf(path, "%s/%s/%s", src, MHL2_DIR_NAME, MHL2_CHAIN_NAME);
	if (lseek(r->chainfd, 0, SEEK_SET) != 0)
		return -1;
	if (mhl2_chain_read(r->chainfd, &carry->chain, reason) != 0) {
		if (*reason)
			errno = EINVAL;
		return -1;
	}
	sorted = malloc((n ? n : 1) * sizeof(*sorted));
	r->link_part = calloc(carry->chain.n ? carry->chain.n : 1, sizeof(*r->link_part));
	if (!sorted || !r->link_part)
		goto out;
	for (size_t k = 0; k < n; k++)
		sorted[k] = &r->parts[k + 1];
	if (n > 1)
		qsort(sorted, n, sizeof(*sorted), by_name);
	if (match_links(carry, sorted, n, src, path, reason) != 0)
		goto out;
	for (size_t i = 0; i < carry->chain.n; i++) {
		dbuf_clear(path);
		dbuf_printf(path, "%s/%s/%s", src, MHL2_DIR_NAME, carry->chain.links[i].path);
		if (mhlcarry_read(carry, i, ignore_piece, NULL) != 0) {
			if (errno == EBADMSG) {
				*reason = "its C4 differs from the one the chain records: the history "
					  "cannot be carried";
				errno = EINVAL;
			}
			goto out;
		}
	}
	rc = 0;
out:
	err = errno;
	free(sorted);
	errno = err;
	return rc;
}

void mhlcarry_close(struct mhlcarry *carry)
{
	struct mhlcarry_received *r = carry->received;

	if (carry->histfd >= 0)
		close(carry->histfd);
	carry->histfd = -1;
	mhl2_chain_free(&carry->chain);
	if (!r)
		return;
	if (r->chainfd >= 0)
		close(r->chainfd);
	if (r->blobfd >= 0)
		close(r->blobfd);
	for (size_t i = 0; i < r->nparts; i++)
		free(r->parts[i].name);
	free(r->parts);
	free(r->link_part);
	free(r);
	carry->received = NULL;
}
