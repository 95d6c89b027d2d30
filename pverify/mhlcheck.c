/* SPDX-License-Identifier: 0BSD */
/**
 * pverify --mhl DIR: a folder against its ASC MHL history (mhl2.h).
 *
 * The chain first: each generation it lists must be there, with the C4 the
 * chain records (hashed from the same reads that parse the generation, so
 * each is read once, and what is checked is what was parsed); a generation
 * file the chain does not list, or a missing chain, is reported too. Then
 * the generations, newest first, each read streaming (read, hashed and
 * parsed ahead on threads of their own where there are cores to spare,
 * mhl2ahead.h): every <hash> becomes a task for the batch pipeline (the same
 * engine and workers as any manifest), with the digests of the formats no
 * newer generation gave for that path, so each file is checked against the
 * newest digest of each format. With one generation nothing is kept per
 * file; with several, the paths seen (and which formats) are kept, as
 * --audit keeps every path anyway. The newest generation's directory hashes
 * and root hash are recomputed from its own file digests (mhl2tree.h),
 * which the tasks prove against the files, while it is read; memory for
 * that grows with one directory's entries per level, not with the tree.
 * NEW and MISSING come from the audit of DIR (audit.h), the history itself
 * left out.
 */
#include "prelude.h"
#include "mhlcheck.h"
#include "diag.h"
#include "manifest.h"
#include "mhl2ahead.h"
#include "mhl2hist.h"
#include "mhl2tree.h"
#include "openread.h"
#include "signed.h"
#include "signkey.h"
#include "grow.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* With several generations, the newest digest of each format per path,
 * gathered from every generation before any task is made (so each file is
 * read once): the entries in the order first met, and an open-addressing
 * index of them by path. */
struct held {
	char *path;
	size_t len;
	bool has_size;
	uint64_t size;
	uintmax_t line;
	char *digests[MHL2_FORMATS];  /* malloc'd strings, NULL where none */
};

struct seen {
	struct held *held;
	size_t n, held_cap;
	size_t *index;                /* held index + 1, 0 for an empty slot */
	size_t cap;
};

static uint64_t path_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211u;
	return h;
}

/* The slot of path in index, or of the empty place it would go. */
static size_t seen_slot(const struct seen *s, size_t *index, size_t cap, const char *path,
			size_t len)
{
	size_t i = path_hash(path, len) & (cap - 1);

	while (index[i]) {
		const struct held *h = &s->held[index[i] - 1];

		if (h->len == len && memcmp(h->path, path, len) == 0)
			break;
		i = (i + 1) & (cap - 1);
	}
	return i;
}

static int seen_grow(struct seen *s)
{
	size_t cap = s->cap ? 2 * s->cap : 1024;
	size_t *index = calloc(cap, sizeof(*index));

	if (!index)
		return -1;
	for (size_t k = 0; k < s->n; k++)
		index[seen_slot(s, index, cap, s->held[k].path, s->held[k].len)] = k + 1;
	free(s->index);
	s->index = index;
	s->cap = cap;
	return 0;
}

/* The entry of path, added empty if new. NULL: ENOMEM. */
static struct held *seen_get(struct seen *s, const char *path, size_t len)
{
	size_t i;

	if (2 * (s->n + 1) > s->cap && seen_grow(s) != 0)
		return NULL;
	i = seen_slot(s, s->index, s->cap, path, len);
	if (s->index[i])
		return &s->held[s->index[i] - 1];
	if (GROW(s->held, &s->held_cap, s->n + 1, 1024) != 0)
		return NULL;
	s->held[s->n] = (struct held){.path = strndup(path, len), .len = len};
	if (!s->held[s->n].path)
		return NULL;
	s->index[i] = ++s->n;
	return &s->held[s->n - 1];
}

static void seen_free(struct seen *s)
{
	for (size_t k = 0; k < s->n; k++) {
		free(s->held[k].path);
		for (int f = 0; f < MHL2_FORMATS; f++)
			free(s->held[k].digests[f]);
	}
	free(s->held);
	free(s->index);
}

/* One generation to read. */
struct generation {
	uint64_t sequence;
	char *name;
	const char *c4;           /* the chain's C4 of it (the chain's), or NULL */
};

/* The state of the whole check. */
struct mhlcheck {
	struct reading *reading;
	const char *dir;          /* as given, for messages */
	int histfd;
	struct seen seen;
	bool keep_seen;           /* more than one generation */
	const char *gen_name;     /* the generation being read */
	struct dbuf msg_path;
	struct dbuf hist_path;
	/* Directory hashes (the newest generation only). */
	struct mhl2tree *tree;
	enum mhl2_format formats[MHL2_FORMATS];
	size_t nformats;
	char root_content[MHL2_FORMATS][MHL2_DIGEST_MAX + 1];
	char root_structure[MHL2_FORMATS][MHL2_DIGEST_MAX + 1];
	const struct mhl2_entry *expected; /* the <directoryhash> being ended */
	bool tree_off;            /* the generation cannot be recomputed (noted once) */
	bool newest;              /* reading the newest generation */
	unsigned ahead_parsers;   /* threads parsing a generation (mhl2ahead.h) */
	uint64_t problems;        /* history problems: each fails the run */
	const struct hash_algo *algo_of[MHL2_FORMATS]; /* each format's, looked up once */
};

/* "DIR/rel" into check->msg_path, for messages. */
static const char *shown(struct mhlcheck *c, const char *rel)
{
	dbuf_clear(&c->msg_path);
	if (dbuf_printf(&c->msg_path, "%s%s%s", c->dir,
			c->dir[strlen(c->dir) - 1] == '/' ? "" : "/", rel) != 0)
		return rel;
	return c->msg_path.data;
}

/* "ascmhl/name" into check->hist_path. */
static const char *history_rel(struct mhlcheck *c, const char *name)
{
	dbuf_clear(&c->hist_path);
	if (dbuf_printf(&c->hist_path, "%s/%s", MHL2_DIR_NAME, name) != 0)
		return name;
	return c->hist_path.data;
}

static void problem(struct mhlcheck *c, const char *rel, const char *why)
{
	diag_file_errorf(shown(c, rel), "%s", why);
	c->problems++;
}

static void tree_off(struct mhlcheck *c, const char *why)
{
	if (!c->tree_off)
		diag_file_note(shown(c, c->gen_name), "directory hashes not checked: %s", why);
	c->tree_off = true;
	mhl2tree_free(c->tree);
	c->tree = NULL;
}

/* Compare digests the tree computed with those recorded. */
static void compare_dir(struct mhlcheck *c, const char *what, const struct mhl2_entry *e,
			char (*content)[MHL2_DIGEST_MAX + 1],
			char (*structure)[MHL2_DIGEST_MAX + 1])
{
	for (size_t k = 0; k < e->ndigests; k++)
		for (size_t i = 0; i < c->nformats; i++) {
			const struct mhl2_digest *d = &e->digests[k];

			if (d->format != c->formats[i])
				continue;
			if (strcmp(d->value, content[i]) != 0 ||
			    strcmp(d->structure, structure[i]) != 0) {
				char why[160];

				snprintf(why, sizeof(why), "%s %s hash differs from the files "
					 "(%s: content %s, structure %s)", what, mhl2_format_name(d->format),
					 c->gen_name, strcmp(d->value, content[i]) ? "differs" : "matches",
					 strcmp(d->structure, structure[i]) ? "differs" : "matches");
				problem(c, e->kind == MHL2_ENTRY_ROOT ? "." : e->path, why);
			}
		}
}

static int on_dir(void *arg, const char *path, size_t len, char (*content)[MHL2_DIGEST_MAX + 1],
		  char (*structure)[MHL2_DIGEST_MAX + 1])
{
	struct mhlcheck *c = arg;
	const struct mhl2_entry *e = c->expected;

	if (e && e->path_len == len && memcmp(e->path, path, len) == 0)
		compare_dir(c, "directory", e, content, structure);
	return 0;
}

/* The root hash opens the tree, in the formats it records. */
static void start_tree(struct mhlcheck *c, const struct mhl2_entry *e)
{
	c->nformats = 0;
	for (size_t i = 0; i < e->ndigests && c->nformats < MHL2_FORMATS; i++) {
		bool dup = false;

		for (size_t k = 0; k < c->nformats; k++)
			dup |= c->formats[k] == e->digests[i].format;
		if (!dup)
			c->formats[c->nformats++] = e->digests[i].format;
	}
	c->tree = c->nformats ? mhl2tree_new(NULL, c->formats, c->nformats, NULL, NULL) : NULL;
	if (!c->tree) {
		tree_off(c, "out of memory");
		return;
	}
	mhl2tree_on_dir(c->tree, on_dir, c);
}

/* A <hash>'s part in the directory hashes. */
static void tree_file(struct mhlcheck *c, const struct mhl2_entry *e)
{
	const char *digests[MHL2_FORMATS];

	for (size_t i = 0; i < c->nformats; i++) {
		digests[i] = NULL;
		for (size_t k = 0; k < e->ndigests; k++)
			if (e->digests[k].format == c->formats[i] && !digests[i])
				digests[i] = e->digests[k].value;
		if (!digests[i]) {
			tree_off(c, "a file without a digest in each root hash format");
			return;
		}
	}
	if (mhl2tree_add_file(c->tree, e->path, e->path_len, e->size, NULL, digests, NULL) != 0)
		tree_off(c, errno == EINVAL ? "entries out of order" : strerror(errno));
}

/* The task of path with one digest string per format (NULL: none). */
static int make_task(struct mhlcheck *c, const char *path, size_t len, bool has_size,
		     uint64_t size, uintmax_t line, const char *const *digests)
{
	const struct hash_algo *algos[MHL2_FORMATS];
	char hex[MHL2_FORMATS][HASH_HEX_MAX + 1];
	const char *hexp[MHL2_FORMATS];
	unsigned char digest[64];
	struct task *task;
	size_t n = 0;

	for (int f = 0; f < MHL2_FORMATS; f++) {
		if (!digests[f])
			continue;
		algos[n] = c->algo_of[f];
		if (f == MHL2_C4) {
			if (mhl2_c4_decode(digests[f], strlen(digests[f]), digest) != 0)
				continue;
			hash_to_hex(digest, 64, hex[n]);
			hexp[n] = hex[n];
		} else {
			hexp[n] = digests[f]; /* canonical: lower-case hex already */
		}
		n++;
	}
	if (n == 0)
		return 0;
	task = manifest_new_task(path, len, n, algos, hexp);
	if (!task)
		return -1;
	task->has_size = has_size;
	task->size = size;
	task->line = line;
	return reading_take(c->reading, task);
}

/*
 * A <hash>: with one generation, its task at once; with several, its
 * digests of formats no newer generation gave for the path, kept.
 */
static int file_task(struct mhlcheck *c, const struct mhl2_entry *e)
{
	const char *digests[MHL2_FORMATS] = {0};
	struct held *h;

	for (size_t k = 0; k < e->ndigests; k++) {
		const struct mhl2_digest *d = &e->digests[k];

		/* A failed check's digest is what was found, not what was sealed. */
		if (d->action && strcmp(d->action, "failed") == 0)
			continue;
		if (!digests[d->format])
			digests[d->format] = d->value;
	}
	if (!c->keep_seen)
		return make_task(c, e->path, e->path_len, e->has_size, e->size, e->line, digests);
	h = seen_get(&c->seen, e->path, e->path_len);
	if (!h)
		return -1;
	if (!h->line) {
		h->has_size = e->has_size;
		h->size = e->size;
		h->line = e->line ? e->line : 1;
	}
	for (int f = 0; f < MHL2_FORMATS; f++) {
		if (!digests[f] || h->digests[f])
			continue;
		h->digests[f] = strdup(digests[f]);
		if (!h->digests[f])
			return -1;
	}
	return 0;
}

static int on_entry(void *arg, const struct mhl2_entry *e, uintmax_t line, const char *why)
{
	struct mhlcheck *c = arg;

	if (!e) {
		diag_input_error(shown(c, c->gen_name), line, "%s", why);
		c->reading->malformed++;
		if (c->tree)
			tree_off(c, "a malformed entry");
		return 0;
	}
	switch (e->kind) {
	case MHL2_ENTRY_IGNORE:
		/* The newest generation's patterns hold for the folder now: what
		 * they match is not listed, so not NEW either. */
		if (c->newest && c->reading->audit && !mhl2_ignored(e->path, e->path_len) &&
		    audit_exclude_pattern(c->reading->audit, e->path) != 0 && errno != EINVAL)
			return -1;
		break;
	case MHL2_ENTRY_ROOT:
		if (c->tree_off || c->tree)
			break;
		start_tree(c, e);
		if (!c->tree)
			break;
		for (size_t i = 0; i < c->nformats; i++)
			for (size_t k = 0; k < e->ndigests; k++)
				if (e->digests[k].format == c->formats[i]) {
					memcpy(c->root_content[i], e->digests[k].value,
					       strlen(e->digests[k].value) + 1);
					memcpy(c->root_structure[i], e->digests[k].structure,
					       strlen(e->digests[k].structure) + 1);
				}
		break;
	case MHL2_ENTRY_FILE:
		if (c->tree)
			tree_file(c, e);
		return file_task(c, e);
	case MHL2_ENTRY_DIR:
		if (!c->tree)
			break;
		c->expected = e;
		if (mhl2tree_end_dir(c->tree, e->path, e->path_len) != 0)
			tree_off(c, errno == EINVAL ? "entries out of order" : strerror(errno));
		c->expected = NULL;
		break;
	default:
		break;
	}
	return 0;
}

/* Compare the generation's C4, hashed as it was read, with the chain's. */
static void check_c4(struct mhlcheck *c, const char *name, struct hash_ctx *ctx,
		     const char *expected)
{
	unsigned char digest[64];
	char c4[MHL2_C4_LEN + 1];

	if (hash_ctx_final(ctx, digest) != 0) {
		problem(c, history_rel(c, name), strerror(errno));
		return;
	}
	mhl2_c4_encode(digest, c4);
	if (strcmp(c4, expected) != 0)
		problem(c, history_rel(c, name), "generation changed: its C4 differs from the chain's");
}

/*
 * Read one generation open at fd (name: its file name in the history) and,
 * when the chain gave one, hold it to its C4 (c4). The file is read,
 * hashed for its C4 and parsed ahead on threads of their own (mhl2ahead.h),
 * each chunk hashed from the buffer that is parsed. Returns 0, or -1
 * (reported).
 */
static int read_generation(struct mhlcheck *c, int fd, const char *name, bool newest,
			   const char *c4)
{
	struct hash_ctx *ctx = c4 ? hash_ctx_new(mhl2_format_algo(MHL2_C4)) : NULL;
	struct mhl2ahead *ahead = NULL;
	struct mhl2ahead_chunk chunk;
	bool parsing = true;
	int rc = -1;

	c->tree_off = !newest;
	c->newest = newest;
	if (!c4 || ctx)
		ahead = mhl2ahead_start(fd, MHL2_DOC_GENERATION, ctx, c->ahead_parsers, 0);
	if (!ahead) {
		diag_file_error(shown(c, c->gen_name), ENOMEM);
		if (c4)
			problem(c, history_rel(c, name), strerror(ENOMEM));
		goto out;
	}
	while (mhl2ahead_next(ahead, on_entry, c, &chunk) > 0) {
		if (chunk.read_failed) {
			diag_file_error(shown(c, c->gen_name), chunk.error);
			if (c4)
				problem(c, history_rel(c, name), strerror(chunk.error));
			goto out;
		}
		if (!chunk.stopped)
			continue;
		if (chunk.error == 0) {
			diag_input_error(shown(c, c->gen_name), chunk.line, "ASC MHL: %s", chunk.why);
			c->reading->malformed++;
		} else {
			diag_file_error(shown(c, c->gen_name), chunk.error);
		}
		parsing = false;
	}
	if (ctx) {
		if (mhl2ahead_digest_status(ahead) != 0)
			problem(c, history_rel(c, name), strerror(errno));
		else
			check_c4(c, name, ctx, c4);
	}
	if (!parsing)
		goto out;
	if (c->tree) {
		char content[MHL2_FORMATS][MHL2_DIGEST_MAX + 1];
		char structure[MHL2_FORMATS][MHL2_DIGEST_MAX + 1];
		struct mhl2_entry root = {.kind = MHL2_ENTRY_ROOT, .ndigests = c->nformats};

		if (mhl2tree_finish(c->tree, content, structure) != 0) {
			tree_off(c, strerror(errno));
		} else {
			for (size_t i = 0; i < c->nformats; i++)
				root.digests[i] = (struct mhl2_digest){
					.format = c->formats[i], .value = c->root_content[i],
					.structure = c->root_structure[i]};
			compare_dir(c, "root", &root, content, structure);
		}
	}
	rc = 0;
out:
	mhl2tree_free(c->tree);
	c->tree = NULL;
	mhl2ahead_free(ahead);
	hash_ctx_free(ctx);
	return rc;
}

static int by_sequence(const void *a, const void *b)
{
	const struct generation *x = a, *y = b;

	return x->sequence < y->sequence ? 1 : x->sequence > y->sequence ? -1 : 0;
}

/* The number a generation's name starts with (NNNN_...), or 0. */
static uint64_t name_sequence(const char *name)
{
	uint64_t v = 0;

	for (; *name >= '0' && *name <= '9' && v < UINT64_MAX / 10; name++)
		v = v * 10 + (uint64_t)(*name - '0');
	return *name == '_' ? v : 0;
}

static bool is_generation_name(const char *name)
{
	size_t len = strlen(name);

	return name[0] != '.' && len > 4 && strcmp(name + len - 4, ".mhl") == 0;
}

/* Append a generation (name copied). Returns 0 or -1 (ENOMEM). */
static int gens_push(struct generation **gens, size_t *n, size_t *cap, uint64_t sequence,
		     const char *name)
{
	char *copy;

	if (GROW(*gens, cap, *n + 1, 16) != 0)
		return -1;
	copy = strdup(name);
	if (!copy)
		return -1;
	(*gens)[(*n)++] = (struct generation){.sequence = sequence, .name = copy, .c4 = NULL};
	return 0;
}

/*
 * The generations to read: the chain's, each checked against its C4, then
 * any .mhl file the chain does not list (reported; read only when there is
 * no chain). Returns how many, *out malloc'd, or -1 (reported).
 */
static ssize_t list_generations(struct mhlcheck *c, const struct mhl2_chain *chain, bool have_chain,
				struct generation **out)
{
	struct generation *gens = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int fd;

	for (size_t i = 0; i < chain->n; i++) {
		fd = open_regular_at(c->histfd, chain->links[i].path);
		if (fd < 0) {
			problem(c, history_rel(c, chain->links[i].path), errno == ENOENT
				? "generation missing (listed in the chain)" : diag_strerror(errno));
			continue;
		}
		close(fd);
		if (gens_push(&gens, &n, &cap, chain->links[i].sequence, chain->links[i].path) != 0)
			goto nomem;
		gens[n - 1].c4 = chain->links[i].c4;
	}
	fd = dup(c->histfd);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		for (size_t i = 0; i < n; i++)
			free(gens[i].name);
		free(gens);
		return -1;
	}
	rewinddir(d); /* the descriptor's offset is shared with every dup */
	while ((de = readdir(d))) {
		bool listed = false;

		if (!is_generation_name(de->d_name))
			continue;
		for (size_t i = 0; i < chain->n && !listed; i++)
			listed = strcmp(chain->links[i].path, de->d_name) == 0;
		if (listed)
			continue;
		if (have_chain) {
			problem(c, history_rel(c, de->d_name), "generation not in the chain");
			continue;
		}
		if (gens_push(&gens, &n, &cap, name_sequence(de->d_name), de->d_name) != 0) {
			closedir(d);
			goto nomem;
		}
	}
	closedir(d);
	if (n > 1)
		qsort(gens, n, sizeof(*gens), by_sequence);
	*out = gens;
	return (ssize_t)n;
nomem:
	for (size_t i = 0; i < n; i++)
		free(gens[i].name);
	free(gens);
	errno = ENOMEM;
	return -1;
}

/*
 * Size the audit's table of listed paths from the newest generation's
 * size: a <hash> entry takes a few hundred bytes of XML, so this is about
 * as many paths as it lists, with room for their text. A hint only.
 */
static void expect_paths(struct mhlcheck *c, int fd)
{
	struct stat st;

	if (fstat(fd, &st) == 0 && st.st_size > 0)
		(void)audit_expect(c->reading->audit, (size_t)st.st_size / 256 + 1,
				   (size_t)st.st_size / 4);
}

/* Leave the history's own files out of the NEW ones. */
static void audit_skip_history(struct mhlcheck *c)
{
	struct dirent *de;
	struct dbuf rel;
	int fd = dup(c->histfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	dbuf_init(&rel);
	rewinddir(d); /* the descriptor's offset is shared with every dup */
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		dbuf_clear(&rel);
		if (dbuf_printf(&rel, "%s/%s", MHL2_DIR_NAME, de->d_name) == 0)
			(void)audit_add_path(c->reading->audit, rel.data, rel.len);
	}
	dbuf_free(&rel);
	closedir(d);
	/* Files the generations' ignore patterns leave out, at the top. */
	(void)audit_add_path(c->reading->audit, ".ptools-seal", 12);
	(void)audit_add_path(c->reading->audit, ".ptools-seal.sig", 16);
}

/*
 * --signers: the chain must carry a good signature
 * (ascmhl_chain.xml.sig) by a trusted key before anything in the history is:
 * the chain holds every generation's C4, so it vouches for the whole
 * history. digest gets what the signature covers, so that the chain read
 * after can be held to it. 0 when trusted, -1 (reported, exit 1 or 2) when
 * not.
 */
static int chain_signed(struct mhlcheck *c, unsigned char digest[SSHSIG_DIGEST_LEN])
{
	struct signed_check check;
	struct input *in;
	char *path = strdup(shown(c, history_rel(c, MHL2_CHAIN_NAME)));
	int rc = -1;

	if (!path) {
		diag_file_error(c->dir, errno);
		return -1;
	}
	in = input_open(path, false);
	if (!in) {
		diag_file_error(path, errno);
		free(path);
		return -1;
	}
	if (signed_begin(&check, in, path, c->reading->signers, c->reading->quiet) == 0) {
		memcpy(digest, check.digest, SSHSIG_DIGEST_LEN);
		signed_end(&check, in, false);
		rc = 0;
	} else {
		diag_file_errorf(path, "the ASC MHL history is not trusted: nothing in it was "
				 "checked");
	}
	input_close(in);
	free(path);
	return rc;
}

int mhlcheck_run(struct reading *reading, const char *dir, int rootfd)
{
	struct mhlcheck c = {.reading = reading, .dir = dir, .histfd = -1};
	struct mhl2_chain chain = {0};
	struct generation *gens = NULL;
	struct dbuf gen_name;
	bool have_chain = false;
	const char *why;
	unsigned char signed_digest[SSHSIG_DIGEST_LEN], digest[SSHSIG_DIGEST_LEN];
	ssize_t n = 0;
	int fd, rc = -1;

	dbuf_init(&c.msg_path);
	dbuf_init(&c.hist_path);
	dbuf_init(&gen_name);
	for (int f = 0; f < MHL2_FORMATS; f++)
		c.algo_of[f] = mhl2_format_algo((enum mhl2_format)f);
	/* With two cores the workers keep both busy: threads for the parse
	 * would only add hand-offs; with more, it runs beside the checks. */
	c.ahead_parsers = mhl2ahead_parsers(false);
	c.histfd = openat(rootfd, MHL2_DIR_NAME, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (c.histfd < 0) {
		diag_file_errorf(shown(&c, MHL2_DIR_NAME), "no ASC MHL history: %s", strerror(errno));
		diag_raise(EXIT_USAGE);
		goto out;
	}
	fd = open_regular_at(c.histfd, MHL2_CHAIN_NAME);
	if (fd < 0) {
		problem(&c, history_rel(&c, MHL2_CHAIN_NAME), errno == ENOENT
			? "chain missing: no generation can be proven" : diag_strerror(errno));
		if (reading->signers)
			goto out; /* nothing to carry a signature: nothing is trusted */
	} else {
		if (reading->signers && chain_signed(&c, signed_digest) != 0) {
			close(fd);
			goto out;
		}
		if (mhl2_chain_read(fd, &chain, &why) != 0) {
			if (why)
				diag_input_error(shown(&c, history_rel(&c, MHL2_CHAIN_NAME)), 1,
						 "ASC MHL chain: %s", why);
			else
				diag_file_error(shown(&c, history_rel(&c, MHL2_CHAIN_NAME)), errno);
			close(fd);
			goto out;
		}
		if (reading->signers && (signkey_digest_fd(fd, digest) != 0 ||
					 memcmp(digest, signed_digest, sizeof(digest)) != 0)) {
			diag_file_errorf(shown(&c, history_rel(&c, MHL2_CHAIN_NAME)),
					 "changed while it was read: what was checked is not what "
					 "was signed; nothing in the history was checked");
			close(fd);
			goto out;
		}
		close(fd);
		have_chain = true;
	}
	n = list_generations(&c, &chain, have_chain, &gens);
	if (n < 0) {
		diag_file_error(shown(&c, MHL2_DIR_NAME), errno ? errno : ENOMEM);
		n = 0;
		goto out;
	}
	if (n == 0) {
		problem(&c, MHL2_DIR_NAME, "no generation to verify against");
		rc = 0;
		goto out;
	}
	if (reading->audit)
		audit_skip_history(&c);
	c.keep_seen = n > 1;
	for (ssize_t i = 0; i < n; i++) {
		dbuf_clear(&gen_name);
		if (dbuf_printf(&gen_name, "%s/%s", MHL2_DIR_NAME, gens[i].name) != 0)
			goto out;
		c.gen_name = gen_name.data;
		fd = open_regular_at(c.histfd, gens[i].name);
		if (fd < 0) {
			problem(&c, history_rel(&c, gens[i].name), diag_strerror(errno));
			continue;
		}
		if (i == 0 && reading->audit)
			expect_paths(&c, fd);
		(void)read_generation(&c, fd, gens[i].name, i == 0, gens[i].c4);
		close(fd);
	}
	for (size_t k = 0; k < c.seen.n; k++) {
		struct held *h = &c.seen.held[k];

		if (make_task(&c, h->path, h->len, h->has_size, h->size, h->line,
			      (const char *const *)h->digests) != 0) {
			diag_file_error(h->path, errno);
			goto out;
		}
	}
	rc = 0;
out:
	batchpipe_flush(&reading->feed);
	reading->refused += c.problems;
	for (ssize_t i = 0; i < n; i++)
		free(gens[i].name);
	free(gens);
	mhl2_chain_free(&chain);
	seen_free(&c.seen);
	if (c.histfd >= 0)
		close(c.histfd);
	dbuf_free(&c.msg_path);
	dbuf_free(&c.hist_path);
	dbuf_free(&gen_name);
	return rc;
}

bool mhlcheck_detect(const char *path)
{
	struct stat st;
	struct dbuf hist;
	bool yes;

	if (strcmp(path, "-") == 0 || stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return false;
	dbuf_init(&hist);
	yes = dbuf_printf(&hist, "%s/%s", path, MHL2_DIR_NAME) == 0 && stat(hist.data, &st) == 0 &&
	      S_ISDIR(st.st_mode);
	dbuf_free(&hist);
	return yes;
}
