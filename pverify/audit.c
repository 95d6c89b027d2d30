/* SPDX-License-Identifier: 0BSD */
/** --audit: NEW and MOVED files, found with libcommon's walker. */
#include "prelude.h"
#include "audit.h"
#include "dbuf.h"
#include "diag.h"
#include "exclude.h"
#include "grow.h"
#include "hash.h"
#include "hashio.h"
#include "hugepage.h"
#include "seal.h"
#include "unorm.h"
#include "walk.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A file under the audited tree that the manifest does not name. */
struct new_file {
	char *key;      /* normalised path, as printed */
	char *path;     /* the walker's path, to open it */
	uint64_t size;
	bool matched;
};

/* One key of a table, in the order added: where its text is, its length
 * and its value. Sixteen bytes: a table holds a manifest's every path, and
 * its memory is touched once per path on the reading thread's way. The
 * hash is not kept; growing the index (rare once audit_expect sized it)
 * computes it again from the text. */
struct key_ref {
	size_t at;      /* offset in the table's text */
	uint32_t len;
	uint32_t value;
};

/* A slot of the index: the high half of its key's hash, to pass over most
 * other keys without reading them, and the key's ref plus one (0: empty).
 * Eight bytes, so that the index of a million keys stays in cache longer;
 * the refs and the text, read in the order the keys were added, which is
 * about the order they are looked up in, are mostly read in sequence. */
struct slot {
	uint32_t tag;
	uint32_t ref;
};

/*
 * An open-addressing table of strings (copied into the table) with a
 * value; equal keys may repeat. The keys lie one after another in one
 * buffer, so that a manifest's worth of paths is not a malloc each.
 *
 * Keys added with table_add go into the index only when it is next needed
 * (table_index), many at a time: each lands on a random slot of an index
 * far larger than the cache, so one at a time the reading thread would
 * wait for memory at every key, while a run of them is fetched together.
 */
struct table {
	struct dbuf text;
	struct key_ref *refs;
	size_t count, refs_cap;
	size_t indexed;         /* refs[0, indexed) are in the index */
	struct slot *slots;
	size_t cap;
};

/* Size cells (audit_add_listed) in blocks that never move, so that a worker
 * may write one while the reading thread adds more. */
enum { CELLS_PER_BLOCK = 4096 };

struct audit {
	/* The manifest paths' keys, each valued its size cell's index + 1 (0:
	 * none); read-only during the walk. */
	struct table names;
	char *base;                /* the directory manifest paths are relative to, canonical */
	char *walk_canon;          /* the walked directory, canonical */
	struct dbuf walk_key;      /* its key (path_key) */
	size_t walk_given_len;     /* the length of the walked directory as the walker names it */
	bool ignore;               /* leave out the file ignore_dev/ignore_ino */
	uint64_t ignore_dev, ignore_ino;
	/* lock guards files, nfiles and files_cap. */
	pthread_mutex_t lock;
	struct new_file *files;
	size_t nfiles, files_cap;
	atomic_uint_fast64_t errors;
	/* Every regular file walked (listed or not) and its bytes; other
	 * entries that are neither files nor directories (--bag's Payload-Oxum). */
	atomic_uint_fast64_t walked_files, walked_bytes, walked_others;
	bool count_bytes;          /* count every file's bytes, for walked_bytes */
	uint64_t **cell_blocks;    /* the size cells: size + 1, or 0 */
	size_t ncells, blocks_cap;
	struct dbuf add_key, add_scratch; /* audit_add_path's work, reused */
	const struct exclude *exclude; /* borrowed; NULL: nothing left out */
	struct exclude history;    /* a history's ignore patterns (audit_exclude_pattern) */
	atomic_uint_fast64_t excluded;
	int walk_errno;            /* first allocation failure in a walker thread */
};

/* A path's hash, eight bytes at a time (every manifest path is hashed once
 * and every walked file looked up): each word mixed in by a multiply and a
 * shift, the tail as a zero-padded word, the result mixed once more so that
 * its low bits, the table's index, depend on every byte. */
static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15u ^ len, word;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&word, s, 8);
		h = (h ^ word) * 0xff51afd7ed558ccdu;
		h ^= h >> 32;
	}
	word = 0;
	memcpy(&word, s, len);
	h = (h ^ word) * 0xc4ceb9fe1a85ec53u;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdu;
	return h ^ h >> 29;
}

static void table_free(struct table *table)
{
	dbuf_free(&table->text);
	free(table->refs);
	free(table->slots);
	memset(table, 0, sizeof(*table));
}

static void slot_put(struct slot *slots, size_t cap, uint64_t hash, size_t ref)
{
	size_t j = hash & (cap - 1);

	while (slots[j].ref)
		j = (j + 1) & (cap - 1);
	slots[j] = (struct slot){.tag = (uint32_t)(hash >> 32), .ref = (uint32_t)(ref + 1)};
}

/*
 * A zeroed index of cap slots. Each lookup lands on a random slot: in an
 * index of a million paths (8 MiB) nearly every one would also miss the
 * TLB with 4 KiB pages, so a large index asks for huge pages (hugepage.h).
 * calloc leaves a large block's pages untouched until used.
 */
static struct slot *index_alloc(size_t cap)
{
	struct slot *slots = calloc(cap, sizeof(struct slot));

	if (slots && cap * sizeof(struct slot) >= HUGEPAGE_MIN)
		hugepage_advise(slots, cap * sizeof(struct slot));
	return slots;
}

/* Make room for at least keys keys in all (the index at most half full).
 * The index starts empty: table_index puts every key back. */
static int table_grow(struct table *table, size_t keys)
{
	size_t cap = table->cap ? 2 * table->cap : 1024;
	struct slot *slots;

	while (cap / 2 < keys)
		cap *= 2;
	slots = index_alloc(cap);
	if (!slots) {
		errno = ENOMEM;
		return -1;
	}
	free(table->slots);
	table->slots = slots;
	table->cap = cap;
	table->indexed = 0;
	return 0;
}

/* Room for refs at least cap refs. Returns 0, or -1 (ENOMEM). */
static int table_reserve_refs(struct table *table, size_t cap)
{
	return GROW(table->refs, &table->refs_cap, cap, 1024);
}

/* A hint is followed up to this many keys and bytes of text: a hint comes
 * from a file's size, which may be mostly something else (long paths,
 * white space), and the index is all touched as keys land in it. */
#define EXPECT_KEYS_MAX ((size_t)1 << 20)
#define EXPECT_TEXT_MAX ((size_t)64 << 20)

static int table_index(struct table *table);

/*
 * Size the table for keys keys of text_bytes bytes in all (their NULs
 * included), so that adding them neither moves the refs and text nor
 * rebuilds the index (each rebuild touches every key again). Only a hint:
 * more keys still fit.
 */
static int table_expect(struct table *table, size_t keys, size_t text_bytes)
{
	if (keys > EXPECT_KEYS_MAX)
		keys = EXPECT_KEYS_MAX;
	if (text_bytes > EXPECT_TEXT_MAX)
		text_bytes = EXPECT_TEXT_MAX;
	if (2 * keys > table->cap && (table_grow(table, keys) != 0 || table_index(table) != 0))
		return -1;
	if (table_reserve_refs(table, keys) != 0)
		return -1;
	return dbuf_reserve(&table->text, text_bytes);
}

/* Keys hashed, and their slots fetched, ahead of their insertion. */
#define INDEX_AHEAD 32

/* Put the keys added since the last call into the index. Returns 0, or -1 (ENOMEM). */
static int table_index(struct table *table)
{
	uint64_t hashes[INDEX_AHEAD];
	size_t i, k, n;

	if (table->indexed == table->count)
		return 0;
	if (2 * table->count > table->cap && table_grow(table, table->count) != 0)
		return -1; /* every key to put back, from the first */
	for (i = table->indexed; i < table->count; i += n) {
		n = table->count - i;
		if (n > INDEX_AHEAD)
			n = INDEX_AHEAD;
		for (k = 0; k < n; k++) {
			const struct key_ref *ref = &table->refs[i + k];

			hashes[k] = hash_bytes(table->text.data + ref->at, ref->len);
			__builtin_prefetch(&table->slots[hashes[k] & (table->cap - 1)], 1);
		}
		for (k = 0; k < n; k++)
			slot_put(table->slots, table->cap, hashes[k], i + k);
	}
	table->indexed = table->count;
	return 0;
}

/* Append key (len bytes) and its value to the refs and text; not indexed. */
static int table_append(struct table *table, const char *key, size_t len, size_t value)
{
	size_t at = table->text.len;

	if (table->count >= UINT32_MAX - 1 || len > UINT32_MAX || value > UINT32_MAX) {
		errno = ENOMEM; /* a slot's ref, a key's length and value are 32 bits */
		return -1;
	}
	if (table->count == table->refs_cap &&
	    table_reserve_refs(table, table->refs_cap ? 2 * table->refs_cap : 1024) != 0)
		return -1;
	if (dbuf_append(&table->text, key, len) != 0 || dbuf_putc(&table->text, '\0') != 0)
		return -1;
	table->refs[table->count++] = (struct key_ref){.at = at, .len = (uint32_t)len,
						       .value = (uint32_t)value};
	return 0;
}

/* Add a copy of key (len bytes, no NUL inside) with value; equal keys may
 * repeat. It is indexed later (table_index). Returns 0, or -1 (ENOMEM). */
static int table_add(struct table *table, const char *key, size_t len, size_t value)
{
	return table_append(table, key, len, value);
}

/*
 * Add a copy of key (len bytes, no NUL inside) with value unless the key is
 * there already: then *added is false. Indexed at once. Returns 0, or -1
 * (ENOMEM).
 */
static int table_put(struct table *table, const char *key, size_t len, size_t value,
		     bool *added)
{
	uint64_t hash = hash_bytes(key, len);
	uint32_t tag = (uint32_t)(hash >> 32);
	size_t j;

	*added = false;
	if (2 * (table->count + 1) > table->cap && table_grow(table, table->count + 1) != 0)
		return -1;
	if (table_index(table) != 0)
		return -1;
	for (j = hash & (table->cap - 1); table->slots[j].ref; j = (j + 1) & (table->cap - 1)) {
		const struct key_ref *ref = &table->refs[table->slots[j].ref - 1];

		if (table->slots[j].tag == tag && ref->len == len &&
		    memcmp(table->text.data + ref->at, key, len) == 0)
			return 0;
	}
	if (table_append(table, key, len, value) != 0)
		return -1;
	table->slots[j] = (struct slot){.tag = tag, .ref = (uint32_t)table->count};
	table->indexed = table->count;
	*added = true;
	return 0;
}

/* Visit every slot holding key; stop when fn returns true. Returns whether
 * it did. Every key must be indexed (table_index). */
static bool table_find(const struct table *table, const char *key, size_t len,
		       bool (*fn)(void *arg, size_t value), void *arg)
{
	uint64_t hash;
	uint32_t tag;
	size_t j;

	PT_ASSERT(table->indexed == table->count);
	if (table->cap == 0)
		return false;
	hash = hash_bytes(key, len);
	tag = (uint32_t)(hash >> 32);
	j = hash & (table->cap - 1);
	for (; table->slots[j].ref; j = (j + 1) & (table->cap - 1)) {
		const struct key_ref *ref;

		if (table->slots[j].tag != tag)
			continue;
		ref = &table->refs[table->slots[j].ref - 1];
		if (ref->len == len && memcmp(table->text.data + ref->at, key, len) == 0 &&
		    (!fn || fn(arg, ref->value)))
			return true;
	}
	return false;
}

/*
 * Normalise an absolute path lexically into out: empty and "." components
 * dropped, ".." taking back the component before it (at "/", nothing), so
 * "/r/./a//b/../c" is "/r/a/c".
 */
static int normalise(struct dbuf *out, const char *path, size_t len)
{
	size_t i = 0, start, k;

	dbuf_clear(out);
	if (dbuf_putc(out, '/') != 0)
		return -1;
	while (i < len) {
		start = i;
		while (i < len && path[i] != '/')
			i++;
		if (i - start == 2 && path[start] == '.' && path[start + 1] == '.') {
			k = out->len;
			while (k > 1 && out->data[k - 1] != '/')
				k--;
			/* Also the '/' before the component taken back, but not the root. */
			dbuf_truncate(out, k > 1 ? k - 1 : 1);
		} else if (i > start && !(i - start == 1 && path[start] == '.')) {
			if (out->data[out->len - 1] != '/' && dbuf_putc(out, '/') != 0)
				return -1;
			if (dbuf_append(out, path + start, i - start) != 0)
				return -1;
		}
		i++;
	}
	return 0;
}

/*
 * The key under which a path is compared, the same for a manifest path and a
 * walked one: dir (absolute) joined with path (ignored when path is
 * absolute), normalised, then made relative to base when it lies inside it
 * ("." for base itself), else left absolute. So "./a", "a//b/../a" and
 * "BASE/a" are all "a", as printed in NEW and MOVED lines. scratch is a
 * buffer for the work. Returns 0, or -1 (ENOMEM).
 */
static int path_key(struct dbuf *out, struct dbuf *scratch, const char *base, const char *dir,
		    const char *path, size_t len)
{
	size_t base_len = strlen(base);

	dbuf_clear(scratch);
	if ((len == 0 || path[0] != '/') &&
	    (dbuf_puts(scratch, dir) != 0 || dbuf_putc(scratch, '/') != 0))
		return -1;
	if (dbuf_append(scratch, path, len) != 0 || normalise(out, scratch->data, scratch->len) != 0)
		return -1;
	if (base_len == 1)
		base_len = 0; /* base is "/": every path is inside it */
	if (out->len == base_len + (base_len == 0) && memcmp(out->data, base, base_len) == 0) {
		dbuf_clear(out);
	} else if (out->len > base_len && memcmp(out->data, base, base_len) == 0 &&
		   out->data[base_len] == '/') {
		memmove(out->data, out->data + base_len + 1, out->len - base_len - 1);
		dbuf_truncate(out, out->len - base_len - 1);
	}
	if (out->len == 0)
		return dbuf_putc(out, '.');
	dbuf_truncate(out, out->len); /* NUL-terminated again after the moves */
	return 0;
}

/*
 * Whether path (len bytes) is relative with no empty, "." or ".." component:
 * then its key beneath a canonical directory whose key is prefix is prefix,
 * "/" and path, and path_key's work can be skipped (prefix_key). Every
 * walked path is such, and so are most manifest paths.
 */
static bool plain_relative(const char *path, size_t len)
{
	size_t i = 0, start;

	if (len == 0 || path[0] == '/')
		return false;
	while (i <= len) {
		start = i;
		while (i < len && path[i] != '/')
			i++;
		if (i == start || (i - start == 1 && path[start] == '.') ||
		    (i - start == 2 && path[start] == '.' && path[start + 1] == '.'))
			return false;
		i++;
	}
	return true;
}

/* path_key's result for a plain_relative path beneath a directory whose key is
 * prefix ("." or "" for the base itself). Returns 0, or -1 (ENOMEM). */
static int prefix_key(struct dbuf *out, const char *prefix, size_t prefix_len, const char *path,
		      size_t len)
{
	dbuf_clear(out);
	if (prefix_len == 1 && prefix[0] == '.')
		prefix_len = 0;
	if (prefix_len > 0 && (dbuf_append(out, prefix, prefix_len) != 0 ||
			       (prefix[prefix_len - 1] != '/' && dbuf_putc(out, '/') != 0)))
		return -1;
	return dbuf_append(out, path, len);
}

struct audit *audit_new(const char *base)
{
	struct audit *audit = calloc(1, sizeof(*audit));

	if (!audit)
		return NULL;
	audit->base = strdup(base);
	if (!audit->base) {
		free(audit);
		return NULL;
	}
	dbuf_init(&audit->add_key);
	dbuf_init(&audit->add_scratch);
	dbuf_init(&audit->walk_key);
	pthread_mutex_init(&audit->lock, NULL);
	atomic_init(&audit->errors, 0);
	atomic_init(&audit->excluded, 0);
	return audit;
}

void audit_free(struct audit *audit)
{
	size_t i;

	if (!audit)
		return;
	table_free(&audit->names);
	dbuf_free(&audit->add_key);
	dbuf_free(&audit->add_scratch);
	exclude_fini(&audit->history);
	dbuf_free(&audit->walk_key);
	free(audit->base);
	free(audit->walk_canon);
	for (i = 0; i < audit->nfiles; i++) {
		free(audit->files[i].key);
		free(audit->files[i].path);
	}
	free(audit->files);
	for (i = 0; i * CELLS_PER_BLOCK < audit->ncells; i++)
		free(audit->cell_blocks[i]);
	free(audit->cell_blocks);
	pthread_mutex_destroy(&audit->lock);
	free(audit);
}

void audit_ignore(struct audit *audit, uint64_t dev, uint64_t ino)
{
	audit->ignore = true;
	audit->ignore_dev = dev;
	audit->ignore_ino = ino;
}

void audit_exclude(struct audit *audit, const struct exclude *set)
{
	audit->exclude = set;
}

int audit_exclude_pattern(struct audit *audit, const char *pattern)
{
	return exclude_add(&audit->history, pattern);
}

uint64_t audit_excluded(const struct audit *audit)
{
	return atomic_load(&audit->excluded);
}

void audit_count_bytes(struct audit *audit)
{
	audit->count_bytes = true;
}

/* Whether path (len bytes) has a ".." component. */
static bool climbs(const char *path, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++)
		if (path[i] == '.' && path[i + 1] == '.' && (i == 0 || path[i - 1] == '/') &&
		    (i + 2 == len || path[i + 2] == '/'))
			return true;
	return false;
}

static uint64_t *cell_at(const struct audit *audit, size_t index)
{
	return &audit->cell_blocks[index / CELLS_PER_BLOCK][index % CELLS_PER_BLOCK];
}

/* A new size cell, 0; its index in *index. Returns it, or NULL (ENOMEM). */
static uint64_t *new_cell(struct audit *audit, size_t *index)
{
	size_t block = audit->ncells / CELLS_PER_BLOCK;

	if (audit->ncells % CELLS_PER_BLOCK == 0) {
		if (GROW(audit->cell_blocks, &audit->blocks_cap, block + 1, 16) != 0)
			return NULL;
		audit->cell_blocks[block] = calloc(CELLS_PER_BLOCK, sizeof(uint64_t));
		if (!audit->cell_blocks[block]) {
			errno = ENOMEM;
			return NULL;
		}
	}
	*index = audit->ncells++;
	return cell_at(audit, *index);
}

/* audit_add_listed's and audit_add_once's work: with unique, a path whose
 * key is there already is not added again (*added false). */
static int add_listed(struct audit *audit, const char *path, size_t len, uint64_t **size_cell,
		      bool unique, bool *added)
{
	struct dbuf *key = &audit->add_key;
	uint64_t *cell = NULL;
	size_t index = 0;

	if (size_cell)
		*size_cell = NULL;
	if ((plain_relative(path, len) ? prefix_key(key, "", 0, path, len)
	     : path_key(key, &audit->add_scratch, audit->base, audit->base, path, len)) != 0)
		return -1;
	/* A path listed twice keeps its cell unused: a rare waste of 8 bytes. */
	if (audit->count_bytes && !climbs(path, len)) {
		cell = new_cell(audit, &index);
		if (!cell)
			return -1;
	}
	*added = true;
	if ((unique ? table_put(&audit->names, key->data, key->len, cell ? index + 1 : 0, added)
		    : table_add(&audit->names, key->data, key->len, cell ? index + 1 : 0)) != 0)
		return -1;
	if (size_cell && *added)
		*size_cell = cell;
	return 0;
}

int audit_add_listed(struct audit *audit, const char *path, size_t len, uint64_t **size_cell)
{
	bool added;

	return add_listed(audit, path, len, size_cell, false, &added);
}

int audit_add_once(struct audit *audit, const char *path, size_t len, uint64_t **size_cell,
		   bool *added)
{
	return add_listed(audit, path, len, size_cell, true, added);
}

void audit_prefetch(const struct audit *audit, const char *path, size_t len)
{
	const struct table *table = &audit->names;

	/* A plain relative path is its own key (add_listed's prefix_key). */
	if (table->cap > 0 && table->indexed == table->count && plain_relative(path, len))
		__builtin_prefetch(&table->slots[hash_bytes(path, len) & (table->cap - 1)], 1);
}

int audit_expect(struct audit *audit, size_t paths, size_t text_bytes)
{
	return table_expect(&audit->names, paths, text_bytes);
}

int audit_add_path(struct audit *audit, const char *path, size_t len)
{
	return audit_add_listed(audit, path, len, NULL);
}

struct walker_thread {
	struct audit *audit;
	struct dbuf norm;
	struct dbuf scratch;
};

static void *walker_init(void *arg)
{
	struct walker_thread *thread = calloc(1, sizeof(*thread));

	if (thread) {
		thread->audit = arg;
		dbuf_init(&thread->norm);
		dbuf_init(&thread->scratch);
	}
	return thread;
}

static void walker_fini(void *context)
{
	struct walker_thread *thread = context;

	if (thread) {
		dbuf_free(&thread->norm);
		dbuf_free(&thread->scratch);
		free(thread);
	}
}

static int add_file(struct audit *audit, const char *key, size_t key_len,
		    const struct walk_entry *entry, const struct stat *st)
{
	struct new_file file;
	int rc = -1;

	file.key = strndup(key, key_len);
	file.path = strndup(entry->path, entry->path_len);
	file.size = st ? (uint64_t)st->st_size : 0;
	file.matched = false;
	if (!file.key || !file.path)
		goto fail;
	pthread_mutex_lock(&audit->lock);
	if (GROW(audit->files, &audit->files_cap, audit->nfiles + 1, 64) != 0) {
		pthread_mutex_unlock(&audit->lock);
		goto fail;
	}
	audit->files[audit->nfiles++] = file;
	pthread_mutex_unlock(&audit->lock);
	return 0;
fail:
	free(file.key);
	free(file.path);
	return rc;
}

/* Whether the file key (a manifest path's key: relative to the base unless absolute) exists. */
static bool manifest_form_exists(const struct audit *audit, const struct dbuf *key)
{
	struct dbuf path;
	struct stat st;
	bool exists = false;

	dbuf_init(&path);
	if ((key->data[0] == '/' || (dbuf_puts(&path, audit->base) == 0 &&
				     dbuf_putc(&path, '/') == 0)) &&
	    dbuf_append(&path, key->data, key->len) == 0)
		exists = fstatat(AT_FDCWD, path.data, &st, AT_SYMLINK_NOFOLLOW) == 0;
	dbuf_free(&path);
	return exists;
}

/*
 * Whether the manifest names the walked file (key, len bytes) under the
 * other Unicode normalization of its path, and has no file of its own
 * under that form: then pverify found the entry as this file (check.c's
 * second look), which is neither NEW nor MISSING. thread->scratch is used.
 */
static bool named_in_other_form(struct walker_thread *thread, const char *key, size_t len)
{
	static const enum unorm_form forms[] = { UNORM_NFC, UNORM_NFD };
	const struct audit *audit = thread->audit;
	struct dbuf *other = &thread->scratch;

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		dbuf_clear(other);
		if (unorm_normalize(forms[i], key, len, other) != 0)
			return false; /* not UTF-8: no other form */
		if ((other->len == len && memcmp(other->data, key, len) == 0) ||
		    !table_find(&audit->names, other->data, other->len, NULL, NULL))
			continue;
		return !manifest_form_exists(audit, other);
	}
	return false;
}

struct learned {
	const struct audit *audit;
	bool listed;     /* some key matched */
	bool want_size;  /* look on for a key whose cell holds a size */
	bool found;      /* ...and one did */
	uint64_t size;
};

/* table_find's test: the key's cell holds a size its check learned. */
static bool take_learned(void *arg, size_t value)
{
	struct learned *learned = arg;
	uint64_t cell;

	if (value == 0)
		return false;
	cell = *cell_at(learned->audit, value - 1);
	if (cell == 0)
		return false;
	learned->found = true;
	learned->size = cell - 1;
	return true;
}

/* table_find's test for a walked file: it is listed, and (with want_size)
 * the first of its keys whose check learned a size gives it, in one look. */
static bool note_listed(void *arg, size_t value)
{
	struct learned *learned = arg;

	learned->listed = true;
	return !learned->want_size || take_learned(arg, value);
}

/* Whether st is the file audit_ignore named. */
static bool is_ignored(const struct audit *audit, const struct stat *st)
{
	return audit->ignore && (uint64_t)st->st_dev == audit->ignore_dev &&
	       (uint64_t)st->st_ino == audit->ignore_ino;
}

static enum walk_action visit(void *context, const struct walk_entry *entry)
{
	struct walker_thread *thread = context;
	const struct dbuf *listed = NULL;
	const struct stat *st;
	struct stat own;
	struct audit *audit;
	struct learned learned;
	size_t given;

	if (!thread)
		return WALK_STOP;
	audit = thread->audit;
	learned = (struct learned){.audit = audit, .want_size = audit->count_bytes && !entry->st};
	if (entry->error) {
		diag_file_error(entry->path, entry->error);
		atomic_fetch_add(&audit->errors, 1);
		return WALK_CONTINUE;
	}
	if (entry->depth == 0)
		return WALK_CONTINUE;
	given = audit->walk_given_len <= entry->path_len ? audit->walk_given_len : entry->path_len;
	while (given < entry->path_len && entry->path[given] == '/')
		given++; /* the rest is relative to the directory */
	if ((audit->exclude && exclude_match(audit->exclude, entry->name, entry->path + given,
					     entry->type == DT_DIR)) ||
	    (audit->history.n > 0 && exclude_match(&audit->history, entry->name,
						   entry->path + given, entry->type == DT_DIR))) {
		atomic_fetch_add(&audit->excluded, 1);
		return WALK_PRUNE;
	}
	if (entry->type != DT_REG && entry->type != DT_DIR)
		atomic_fetch_add(&audit->walked_others, 1);
	if (entry->type != DT_REG)
		return WALK_CONTINUE;
	st = entry->st;
	if (st && is_ignored(audit, st))
		return WALK_CONTINUE;
	/* The walker's path is the directory as given, then names: key it
	 * from the directory's canonical path, as manifest paths are from the base. */
	atomic_fetch_add(&audit->walked_files, 1);
	if (st && audit->count_bytes)
		atomic_fetch_add(&audit->walked_bytes, (uint64_t)st->st_size);
	if ((plain_relative(entry->path + given, entry->path_len - given)
	     ? prefix_key(&thread->norm, audit->walk_key.data, audit->walk_key.len,
			  entry->path + given, entry->path_len - given)
	     : path_key(&thread->norm, &thread->scratch, audit->base, audit->walk_canon,
			entry->path + given, entry->path_len - given)) != 0) {
		audit->walk_errno = ENOMEM;
		return WALK_STOP;
	}
	(void)table_find(&audit->names, thread->norm.data, thread->norm.len, note_listed, &learned);
	if (learned.listed)
		listed = &thread->norm;
	else if (named_in_other_form(thread, thread->norm.data, thread->norm.len))
		listed = &thread->scratch; /* the form the manifest names */
	if (listed && !audit->count_bytes)
		return WALK_CONTINUE;
	/* A named file's bytes are what its check learned, if it did. */
	if (listed == &thread->scratch && !st)
		(void)table_find(&audit->names, listed->data, listed->len, take_learned, &learned);
	if (listed && !st && learned.found) {
		atomic_fetch_add(&audit->walked_bytes, learned.size);
		return WALK_CONTINUE;
	}
	/* Only now is its stat needed, when the walk had none. */
	if (!st) {
		if (fstatat(entry->at_fd, entry->at_path, &own, AT_SYMLINK_NOFOLLOW) != 0) {
			diag_file_error(entry->path, errno);
			atomic_fetch_add(&audit->errors, 1);
			return WALK_CONTINUE;
		}
		st = &own;
		if (is_ignored(audit, st)) {
			atomic_fetch_sub(&audit->walked_files, 1);
			return WALK_CONTINUE;
		}
		if (audit->count_bytes)
			atomic_fetch_add(&audit->walked_bytes, (uint64_t)st->st_size);
	}
	if (listed)
		return WALK_CONTINUE;
	if (add_file(audit, thread->norm.data, thread->norm.len, entry, st) != 0) {
		audit->walk_errno = ENOMEM;
		return WALK_STOP;
	}
	return WALK_CONTINUE;
}

int audit_walk(struct audit *audit, const char *walk_root, unsigned threads, uint64_t *errors)
{
	struct walk_config config;
	const char *roots[1] = {walk_root};
	int rc;

	*errors = 0;
	free(audit->walk_canon);
	audit->walk_canon = realpath(walk_root, NULL);
	if (!audit->walk_canon)
		return -1;
	audit->walk_given_len = strlen(walk_root);
	if (path_key(&audit->walk_key, &audit->add_scratch, audit->base, audit->walk_canon, "",
		     0) != 0)
		return -1;
	/* The walkers only read the table: every path goes into its index now. */
	if (table_index(&audit->names) != 0)
		return -1;
	memset(&config, 0, sizeof(config));
	config.threads = threads;
	/* A file the manifest names needs no stat: its bytes are what its
	 * check learned. But for the file audit_ignore names, which is known
	 * only by its device and inode. */
	config.flags = audit->count_bytes && audit->ignore ? WALK_STAT : 0;
	config.visit = visit;
	config.thread_init = walker_init;
	config.thread_fini = walker_fini;
	config.arg = audit;
	rc = walk(roots, 1, &config);
	*errors = atomic_load(&audit->errors);
	if (rc == 0 && audit->walk_errno) {
		errno = audit->walk_errno;
		rc = -1;
	}
	return rc;
}

static int by_key(const void *a, const void *b)
{
	const struct new_file *x = a, *y = b;

	return strcmp(x->key, y->key);
}

static int by_size(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int by_seq(const void *a, const void *b)
{
	const struct task *x = *(struct task *const *)a, *y = *(struct task *const *)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

struct pairing {
	struct task **missing;
	bool *matched;
	uint64_t size;
	size_t found;
};

/* Take the first unmatched missing entry with this digest and a fitting size. */
static bool take_missing(void *arg, size_t index)
{
	struct pairing *pairing = arg;
	struct task *task = pairing->missing[index];

	if (pairing->matched[index] || (task->has_size && task->size != pairing->size))
		return false;
	pairing->matched[index] = true;
	pairing->found = index;
	return true;
}

int audit_finish(struct audit *audit, struct report *report, struct task **missing,
		 size_t nmissing)
{
	const struct hash_algo *algos[HASH_SET_MAX];
	struct hashio_config config;
	struct hashio_result result;
	struct hashio *engine = NULL;
	struct table digests = {0};
	struct pairing pairing;
	struct dbuf key;
	uint64_t *sizes = NULL, moved = 0;
	bool *matched = NULL, any_unsized = false;
	size_t nalgos = 0, nsizes = 0, i, j;
	int rc = -1, saved;

	dbuf_init(&key);
	/* Workers finish in any order: print the missing ones in manifest order. */
	if (nmissing > 1)
		qsort(missing, nmissing, sizeof(*missing), by_seq);
	matched = calloc(nmissing ? nmissing : 1, sizeof(*matched));
	sizes = calloc(nmissing ? nmissing : 1, sizeof(*sizes));
	if (!matched || !sizes)
		goto out;
	/* Index the missing entries by "algo:hex" of their first digest. */
	for (i = 0; i < nmissing; i++) {
		struct task *task = missing[i];

		if (task->ndigests == 0)
			continue;
		for (j = 0; j < nalgos && algos[j] != task->algos[0]; j++)
			;
		if (j == nalgos && nalgos < HASH_SET_MAX)
			algos[nalgos++] = task->algos[0];
		dbuf_clear(&key);
		if (dbuf_printf(&key, "%s:%s", task->algos[0]->name, task->hex[0]) != 0 ||
		    table_add(&digests, key.data, key.len, i) != 0)
			goto out;
		if (task->has_size)
			sizes[nsizes++] = task->size;
		else
			any_unsized = true;
	}
	if (table_index(&digests) != 0)
		goto out;
	if (nsizes > 1)
		qsort(sizes, nsizes, sizeof(*sizes), by_size);
	if (audit->nfiles > 1)
		qsort(audit->files, audit->nfiles, sizeof(*audit->files), by_key);
	if (nalgos > 0) {
		memset(&config, 0, sizeof(config));
		config.algos = algos;
		config.count = nalgos;
		engine = hashio_new(&config);
		if (!engine)
			goto out;
	}
	pairing.missing = missing;
	pairing.matched = matched;
	pairing.found = 0; /* set by take_missing before any use */
	for (i = 0; engine && i < audit->nfiles; i++) {
		struct new_file *file = &audit->files[i];

		if (!any_unsized &&
		    (nsizes == 0 || !bsearch(&file->size, sizes, nsizes, sizeof(*sizes), by_size)))
			continue;
		if (hashio_file_at(engine, AT_FDCWD, file->path, 0, &result) != 0)
			continue; /* unreadable: it stays NEW */
		pairing.size = result.size;
		for (j = 0; j < nalgos; j++) {
			dbuf_clear(&key);
			if (dbuf_printf(&key, "%s:%s", algos[j]->name, result.hex[j]) != 0)
				goto out;
			if (table_find(&digests, key.data, key.len, take_missing, &pairing)) {
				file->matched = true;
				break;
			}
		}
		if (!file->matched)
			continue;
		moved++;
		report_line(report, "MOVED", missing[pairing.found]->path,
			    missing[pairing.found]->path_len, file->key, strlen(file->key));
	}
	for (i = 0; i < nmissing; i++) {
		if (!matched[i])
			report_line(report, "MISSING", missing[i]->path, missing[i]->path_len,
				    NULL, 0);
	}
	for (i = 0; i < audit->nfiles; i++) {
		if (!audit->files[i].matched)
			report_line(report, "NEW", audit->files[i].key,
				    strlen(audit->files[i].key), NULL, 0);
	}
	report_count_audit(report, audit->nfiles - moved, moved, moved);
	rc = 0;
out:
	saved = errno;
	hashio_free(engine);
	table_free(&digests);
	dbuf_free(&key);
	free(matched);
	free(sizes);
	for (i = 0; i < nmissing; i++)
		free(missing[i]);
	free(missing);
	errno = saved;
	return rc;
}

void audit_walked(const struct audit *audit, uint64_t *files, uint64_t *bytes, uint64_t *others)
{
	*files = atomic_load(&audit->walked_files);
	*bytes = atomic_load(&audit->walked_bytes);
	*others = atomic_load(&audit->walked_others);
}

int audit_run(struct audit *audit, const char *walk_root, unsigned jobs, struct report *report,
	      uint64_t *walk_errors)
{
	struct task **missing;
	size_t nmissing;
	int rc;

	rc = audit_walk(audit, walk_root, jobs, walk_errors);
	missing = report_take_missing(report, &nmissing);
	if (rc == 0)
		rc = audit_finish(audit, report, missing, nmissing);
	else
		audit_finish(audit, report, missing, nmissing);
	return rc;
}

/* What audit.h says; the messages are pverify's usage errors. */
int audit_setup(const char *root, const char *audit_dir, char **walk_root, struct audit **audit)
{
	bool beneath = root && audit_dir[0] != '/';
	char *base = NULL, *canon = NULL;
	struct stat st;
	size_t len;
	int rc = -1;

	*audit = NULL;
	*walk_root = NULL;
	if (beneath ? asprintf(walk_root, "%s/%s", root, audit_dir) < 0
		    : !(*walk_root = strdup(audit_dir))) {
		*walk_root = NULL;
		diag_file_error(NULL, ENOMEM);
		return -1;
	}
	base = realpath(root ? root : ".", NULL);
	if (!base) {
		diag_file_error(root ? root : ".", errno);
		goto out;
	}
	canon = realpath(*walk_root, NULL);
	if (!canon || stat(canon, &st) != 0) {
		diag_file_errorf(*walk_root, "--audit: %s%s", strerror(errno),
				 beneath ? " (a relative --audit directory is beneath -C's)" : "");
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		diag_file_errorf(*walk_root, "--audit: not a directory");
		goto out;
	}
	len = strlen(base);
	if (root && strcmp(canon, base) != 0 && strcmp(base, "/") != 0 &&
	    !(strncmp(canon, base, len) == 0 && canon[len] == '/')) {
		diag_file_errorf(*walk_root, "--audit: outside the -C root %s, where every "
				 "manifest path lies", root);
		goto out;
	}
	*audit = audit_new(base);
	if (!*audit) {
		diag_file_error(NULL, errno);
		goto out;
	}
	rc = 0;
out:
	free(base);
	free(canon);
	if (rc != 0) {
		free(*walk_root);
		*walk_root = NULL;
	}
	return rc;
}

void audit_ignore_manifest(struct audit *audit, const char *manifest, int rootfd,
			   bool sealed_content)
{
	struct stat st;

	if (manifest && strcmp(manifest, "-") != 0) {
		if (stat(manifest, &st) == 0)
			audit_ignore(audit, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
		return;
	}
	if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
		audit_ignore(audit, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
		return;
	}
	if (sealed_content && fstatat(rootfd, SEAL_DEFAULT_NAME, &st,
				      AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
		audit_ignore(audit, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
}
