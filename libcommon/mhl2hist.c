/* SPDX-License-Identifier: 0BSD */
/** A folder's ASC MHL history: its chain, generation C4s, a new generation (mhl2hist.h). */
#include "prelude.h"
#include "mhl2hist.h"
#include "xio.h"
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK ((size_t)64 << 10)

/* The chain is small: one entry per generation; a file with more than this
 * many is refused rather than held. */
#define CHAIN_LINKS_MAX 1000000

int mhl2_chain_add(struct mhl2_chain *chain, uint64_t sequence, const char *path,
		   const char *c4)
{
	struct mhl2_chain_link *links;
	char *p, *c;

	if (chain->n >= CHAIN_LINKS_MAX) {
		errno = EOVERFLOW;
		return -1;
	}
	links = realloc(chain->links, (chain->n + 1) * sizeof(*links));
	if (!links)
		return -1;
	chain->links = links;
	p = strdup(path);
	c = strdup(c4);
	if (!p || !c) {
		free(p);
		free(c);
		return -1;
	}
	links[chain->n++] = (struct mhl2_chain_link){.sequence = sequence, .path = p, .c4 = c};
	if (sequence > chain->last)
		chain->last = sequence;
	return 0;
}

void mhl2_chain_free(struct mhl2_chain *chain)
{
	if (!chain)
		return;
	for (size_t i = 0; i < chain->n; i++) {
		free((char *)chain->links[i].path);
		free((char *)chain->links[i].c4);
	}
	free(chain->links);
	chain->links = NULL;
	chain->n = 0;
	chain->last = 0;
}

struct chain_reading {
	struct mhl2_chain *chain;
	const char *why;
};

static int on_link(void *arg, const struct mhl2_entry *entry, uintmax_t line, const char *why)
{
	struct chain_reading *cr = arg;

	(void)line;
	if (!entry) {
		cr->why = why;
		errno = 0;
		return -1;
	}
	if (entry->kind != MHL2_ENTRY_LINK)
		return 0;
	if (memchr(entry->path, '/', entry->path_len) || strcmp(entry->path, "..") == 0 ||
	    strcmp(entry->path, ".") == 0) {
		cr->why = "a chain entry whose path is not a file name in the history";
		errno = 0;
		return -1;
	}
	return mhl2_chain_add(cr->chain, entry->sequence, entry->path, entry->digests[0].value);
}

int mhl2_chain_read(int fd, struct mhl2_chain *chain, const char **why)
{
	struct chain_reading cr = {.chain = chain};
	struct mhl2_reader *reader;
	char *buf = malloc(READ_CHUNK);
	ssize_t n;
	int rc = -1;

	memset(chain, 0, sizeof(*chain));
	*why = NULL;
	reader = mhl2_reader_new(MHL2_DOC_CHAIN, on_link, &cr);
	if (!buf || !reader)
		goto out;
	do {
		n = read(fd, buf, READ_CHUNK);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (mhl2_feed(reader, buf, (size_t)n, n == 0, why) != 0) {
			if (cr.why)
				*why = cr.why;
			goto out;
		}
	} while (n > 0);
	rc = 0;
out:
	if (rc != 0)
		mhl2_chain_free(chain);
	mhl2_reader_free(reader);
	free(buf);
	return rc;
}

uint64_t mhl2_next_sequence(int histfd, const struct mhl2_chain *chain)
{
	uint64_t last = chain->last;
	struct dirent *de;
	int fd = dup(histfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return last + 1;
	}
	rewinddir(d); /* the offset is shared with every dup of histfd */
	while ((de = readdir(d))) {
		const char *p = de->d_name;
		uint64_t v = 0;

		for (; *p >= '0' && *p <= '9' && v < UINT64_MAX / 10 - 10; p++)
			v = v * 10 + (uint64_t)(*p - '0');
		if (p != de->d_name && *p == '_' && v > last)
			last = v;
	}
	closedir(d);
	return last + 1;
}

int mhl2_fd_c4(int fd, char *c4)
{
	return mhl2_fd_c4_copy(fd, -1, c4);
}

int mhl2_fd_c4_copy(int fd, int out_fd, char *c4)
{
	struct hash_ctx *ctx = hash_ctx_new(hash_lookup("sha512"));
	unsigned char digest[64];
	char *buf = malloc(READ_CHUNK);
	ssize_t n;
	int rc = -1;

	if (!ctx || !buf)
		goto out;
	for (;;) {
		n = read(fd, buf, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (hash_ctx_update(ctx, buf, (size_t)n) != 0 ||
		    (out_fd >= 0 && xwrite(out_fd, buf, (size_t)n) != 0))
			goto out;
	}
	if (hash_ctx_final(ctx, digest) != 0)
		goto out;
	mhl2_c4_encode(digest, c4);
	rc = 0;
out:
	hash_ctx_free(ctx);
	free(buf);
	return rc;
}

/* The generation's head (into w's buffer, nothing flushed: it is small). */
static int render_head(struct mhl2_writer *w, const struct mhl2_generation *gen,
		       const char *date, const char *host, const struct mhl2_digest *root)
{
	static const char *const ignore[] = MHL2_IGNORE_PATTERNS;
	struct mhl2_head head = {
		.creationdate = date, .hostname = host, .tool = gen->tool,
		.tool_version = gen->tool_version, .process = gen->process, .hashdate = date,
		.root = root, .nroot = gen->nformats,
		.ignore = gen->ignore ? gen->ignore : ignore,
		.nignore = gen->ignore ? gen->nignore : MHL2_NIGNORE,
	};

	mhl2_write_head(w, &head);
	if (w->error) {
		errno = w->error;
		return -1;
	}
	return 0;
}

/* gen->list: hash first, then write head and entries in one stream. */
static int write_listed(int fd, const struct mhl2_generation *gen, const char *date,
			const char *host, char *c4)
{
	char content[MHL2_FORMATS][MHL2_DIGEST_MAX + 1];
	char structure[MHL2_FORMATS][MHL2_DIGEST_MAX + 1];
	struct mhl2_digest root[MHL2_FORMATS];
	struct mhl2_writer w = {.fd = -1};
	struct mhl2list_run *run;
	int rc = -1;

	run = mhl2list_hash(gen->list, gen->formats, gen->nformats, date, content, structure);
	if (!run)
		return -1;
	for (size_t i = 0; i < gen->nformats; i++)
		root[i] = (struct mhl2_digest){.format = gen->formats[i], .value = content[i],
					       .structure = structure[i]};
	if (mhl2_writer_init_async(&w, fd) != 0 || render_head(&w, gen, date, host, root) != 0 ||
	    mhl2list_write(run, &w) != 0)
		goto out;
	mhl2_write_tail(&w);
	rc = mhl2_writer_finish(&w, c4);
out:
	mhl2list_free(run);
	mhl2_writer_fini(&w);
	return rc;
}

int mhl2_generation_write(int fd, const struct mhl2_generation *gen, char *c4)
{
	char content[MHL2_FORMATS][MHL2_DIGEST_MAX + 1];
	char structure[MHL2_FORMATS][MHL2_DIGEST_MAX + 1];
	struct mhl2_digest root[MHL2_FORMATS];
	char date[40], host[256];
	struct mhl2_writer head = {.fd = -1}, body = {.fd = -1};
	struct mhl2tree *tree = NULL;
	size_t head_len;
	int rc = -1;

	mhl2_format_date(gen->when, date, sizeof(date));
	if (gethostname(host, sizeof(host)) != 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	if (gen->list)
		return write_listed(fd, gen, date, host, c4);
	/*
	 * The root hash goes before the entries it is made from. Every digest
	 * string of a format has the same length, so the head's length is
	 * known before the root hash is: the entries are written behind room
	 * left for it, and the head put in front once they are all written.
	 * The C4 is of the finished file, read back (from the page cache).
	 */
	for (size_t i = 0; i < gen->nformats; i++) {
		size_t len = mhl2_digest_len(gen->formats[i]);

		memset(content[i], '0', len);
		content[i][len] = '\0';
		root[i] = (struct mhl2_digest){.format = gen->formats[i], .value = content[i],
					       .structure = content[i]};
	}
	(void)mhl2_writer_init_plain(&head, -1);
	if (render_head(&head, gen, date, host, root) != 0)
		goto out;
	head_len = head.buf.len;
	mhl2_writer_fini(&head);
	if (lseek(fd, (off_t)head_len, SEEK_SET) < 0 || mhl2_writer_init_plain(&body, fd) != 0)
		goto out;
	tree = mhl2tree_new(&body, gen->formats, gen->nformats, date, "original");
	if (!tree || gen->feed(gen->arg, tree) != 0 || mhl2tree_finish(tree, content, structure) != 0)
		goto out;
	mhl2_write_tail(&body);
	if (mhl2_writer_finish(&body, NULL) != 0)
		goto out;
	for (size_t i = 0; i < gen->nformats; i++)
		root[i] = (struct mhl2_digest){.format = gen->formats[i], .value = content[i],
					       .structure = structure[i]};
	(void)mhl2_writer_init_plain(&head, -1);
	if (render_head(&head, gen, date, host, root) != 0)
		goto out;
	PT_ASSERT(head.buf.len == head_len);
	if (xpwrite(fd, head.buf.data, head.buf.len, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
		goto out;
	rc = mhl2_fd_c4(fd, c4);
out:
	mhl2tree_free(tree);
	mhl2_writer_fini(&head);
	mhl2_writer_fini(&body);
	return rc;
}
