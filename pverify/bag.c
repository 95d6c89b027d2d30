/* SPDX-License-Identifier: 0BSD */
/**
 * pverify --bag. A bag's manifests are joined by path before anything is
 * checked: one task per listed file, carrying the digest of every manifest
 * that lists it, so each file is read once whatever the number of
 * algorithms, and a payload file missing from one of the payload manifests
 * is found (with a single payload manifest, each file is queued as its
 * line is read). The join holds every listed path until the manifests are read:
 * memory in proportion to the bag's file count (a path and its digests
 * each), the one thing here that grows with the bag; lines are read with a
 * stated maximum length and the small tag files with a stated maximum size.
 *
 * What a valid bag needs, and what is checked here (RFC 8493 §3): bagit.txt
 * (version 1.0, or 0.97/0.96, and an encoding we read), at least one
 * payload manifest, every entry's path inside the bag (payload entries under
 * data/, tag entries outside it) and listed once per manifest, every
 * payload file in every payload manifest, the digests (the pipeline), no
 * file under data/ that no manifest lists and the Payload-Oxum (the audit's
 * walk; bag_end), and fetch.txt's entries inside data/ and all present.
 */
#include "prelude.h"
#include "bag.h"
#include "arena.h"
#include "openread.h"
#include "bagit.h"
#include "diag.h"
#include "manifest.h"
#include "signed.h"
#include "xio.h"
#include "grow.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The manifests read (payload and tag): one per algorithm each. */
#define BAG_FILES_MAX (2 * HASH_SET_MAX)
#define BAG_NAME_MAX 64

struct manifest_file {
	char name[BAG_NAME_MAX];
	const struct hash_algo *algo;
	bool tag;
	size_t slot;        /* its bit in an entry's mask, among its kind */
	size_t offset;      /* where its digest goes in an entry's hex area */
};

/* One listed path: the struct, the path and its NUL, then the hex area. */
struct entry {
	uint32_t mask;      /* the manifests (of its kind) that list it */
	bool tag;
	bool queued;        /* its task went out as its line was read */
	size_t path_len;
	char data[];
};

struct bag {
	struct reading *reading;
	const char *dir;
	int rootfd;
	bool decode;        /* BagIt 1.0: paths are percent-encoded */
	bool latin1;
	struct manifest_file files[BAG_FILES_MAX];
	size_t nfiles, nkind[2], hex_bytes[2];
	struct entry **entries;  /* in the order first listed */
	size_t count, cap;
	/* Open addressing: 0 empty, else the high half of the path's hash
	 * (to pass over other paths without reading their entries) above the
	 * entry number + 1. */
	uint64_t *index;
	size_t index_cap;
	struct arena entries_mem;  /* where the entries live: a bag lists up to
				    * millions of files, and a malloc each would
				    * cost more than reading their lines */
};

/* Report "DIR/NAME[:LINE]: message" and fail the run. */
__attribute__((format(printf, 4, 5)))
static void bag_error(const struct bag *bag, const char *name, uintmax_t line,
		      const char *format, ...)
{
	char where[PATH_MAX + 64], text[1024];
	va_list args;

	if (line)
		snprintf(where, sizeof(where), "%s/%s:%ju", bag->dir, name, line);
	else
		snprintf(where, sizeof(where), "%s/%s", bag->dir, name);
	va_start(args, format);
	vsnprintf(text, sizeof(text), format, args);
	va_end(args);
	diag_file_errorf(where, "%s", text);
}

bool bag_detect(const char *dir)
{
	struct stat st;
	char path[PATH_MAX];

	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return false;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, BAGIT_DECLARATION) >= sizeof(path))
		return false;
	return lstat(path, &st) == 0;
}

bool bag_has_payload_dir(const char *dir)
{
	struct stat st;
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, BAGIT_PAYLOAD_DIR) >= sizeof(path)) {
		diag_file_error(dir, ENAMETOOLONG);
		return false;
	}
	if (lstat(path, &st) != 0) {
		diag_file_errorf(dir, "%s: %s: not a valid bag", BAGIT_PAYLOAD_DIR, strerror(errno));
		return false;
	}
	if (!S_ISDIR(st.st_mode)) {
		diag_file_errorf(dir, "%s: not a directory: not a valid bag", BAGIT_PAYLOAD_DIR);
		return false;
	}
	return true;
}

/* Read the small tag file name whole into text (at most BAGIT_TAG_FILE_MAX). -1 errno: EFBIG too big. */
static int read_small(int rootfd, const char *name, struct dbuf *text)
{
	int fd = open_regular_at(rootfd, name);
	ssize_t got;

	dbuf_clear(text);
	if (fd < 0)
		return -1;
	do {
		if (dbuf_reserve(text, 65536) != 0) {
			close(fd);
			return -1;
		}
		got = xread(fd, text->data + text->len, 65536);
		if (got > 0)
			text->len += (size_t)got;
	} while (got > 0 && text->len <= BAGIT_TAG_FILE_MAX);
	close(fd);
	if (got < 0)
		return -1;
	if (text->len > BAGIT_TAG_FILE_MAX) {
		errno = EFBIG;
		return -1;
	}
	return 0;
}

static uint64_t hash_path(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603u; /* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211u;
	}
	return h;
}

static int index_grow(struct bag *bag)
{
	size_t cap = bag->index_cap ? 2 * bag->index_cap : 4096;
	uint64_t *index = calloc(cap, sizeof(*index));

	if (!index)
		return -1;
	for (size_t i = 0; i < bag->count; i++) {
		const struct entry *e = bag->entries[i];
		uint64_t h = hash_path(e->data, e->path_len);
		size_t j = h & (cap - 1);
		while (index[j])
			j = (j + 1) & (cap - 1);
		index[j] = (h & ~(uint64_t)UINT32_MAX) | (i + 1);
	}
	free(bag->index);
	bag->index = index;
	bag->index_cap = cap;
	return 0;
}

/* Room for an entry of size bytes, until the bag is done. NULL: ENOMEM. */
static struct entry *entry_alloc(struct bag *bag, size_t size)
{
	return arena_alloc(&bag->entries_mem, size, _Alignof(struct entry));
}

/* The entry for path, made when new. NULL with errno ENOMEM. */
static struct entry *entry_get(struct bag *bag, const char *path, size_t len, bool tag)
{
	uint64_t h = hash_path(path, len), high = h & ~(uint64_t)UINT32_MAX;
	struct entry *e;
	size_t j;

	if (bag->count >= UINT32_MAX - 1) {
		errno = ENOMEM; /* an entry number is 32 bits in the index */
		return NULL;
	}
	if (2 * (bag->count + 1) > bag->index_cap && index_grow(bag) != 0)
		return NULL;
	for (j = h & (bag->index_cap - 1); bag->index[j]; j = (j + 1) & (bag->index_cap - 1)) {
		if ((bag->index[j] & ~(uint64_t)UINT32_MAX) != high)
			continue;
		e = bag->entries[(bag->index[j] & UINT32_MAX) - 1];
		if (e->path_len == len && memcmp(e->data, path, len) == 0)
			return e;
	}
	if (GROW(bag->entries, &bag->cap, bag->count + 1, 1024) != 0)
		return NULL;
	e = entry_alloc(bag, sizeof(*e) + len + 1 + bag->hex_bytes[tag]);
	if (!e)
		return NULL;
	e->mask = 0;
	e->tag = tag;
	e->queued = false;
	e->path_len = len;
	memcpy(e->data, path, len);
	e->data[len] = '\0';
	bag->entries[bag->count++] = e;
	bag->index[j] = high | bag->count;
	return e;
}

static bool under_data(const char *path, size_t len)
{
	size_t n = strlen(BAGIT_PAYLOAD_DIR);

	return len > n + 1 && memcmp(path, BAGIT_PAYLOAD_DIR "/", n + 1) == 0;
}

/*
 * Size the audit's table of listed paths from the first payload manifest's
 * size: each line is a digest, two spaces and a path (taken at 8 bytes or
 * more), so this is about as many paths as it lists, and their text fits
 * in its size. A hint only: nothing is lost when it is wrong.
 */
static void expect_paths(struct bag *bag, int fd, const struct manifest_file *file)
{
	struct stat st;

	if (bag->reading->audit && fstat(fd, &st) == 0 && st.st_size > 0)
		(void)audit_expect(bag->reading->audit,
				   (size_t)st.st_size / (file->algo->digest_len * 2 + 2 + 8) + 1,
				   (size_t)st.st_size);
}

/* Queue task (NULL: none) of a line of file, unless its path was listed
 * before. Returns 0, or -1 (ENOMEM). */
static int take_once(struct bag *bag, const struct manifest_file *file, struct task *task)
{
	bool queued;

	if (!task)
		return 0;
	if (reading_take_once(bag->reading, task, &queued) != 0)
		return -1;
	if (!queued) {
		bag_error(bag, file->name, task->line, "%s: listed twice", task->path);
		free(task);
	}
	return 0;
}

/* Read one manifest into the join. Returns 0, or -1 on a read error or ENOMEM (reported). */
static int read_manifest(struct bag *bag, const struct manifest_file *file)
{
	struct bagit_lines lines;
	struct dbuf path;
	char hex[HASH_HEX_MAX + 1];
	const char *text, *why, *refusal;
	struct task *held = NULL;  /* the last line's task, not taken yet */
	size_t len, plen;
	int fd, got, rc = 0;

	dbuf_init(&path);
	fd = open_regular_at(bag->rootfd, file->name);
	if (fd < 0 || bagit_lines_init(&lines, fd, bag->latin1) != 0) {
		bag_error(bag, file->name, 0, "%s", diag_strerror(errno));
		if (fd >= 0)
			close(fd);
		return errno == ENOMEM ? -1 : 0;
	}
	if (!file->tag && file->slot == 0)
		expect_paths(bag, fd, file);
	while ((got = bagit_lines_next(&lines, &text, &len)) == 1) {
		struct entry *e;
		if (len == 0)
			continue;
		if (bagit_parse_manifest_line(text, len, file->algo, bag->decode, hex, &path,
					      &why) != 0) {
			bag_error(bag, file->name, lines.lineno, "%s", why);
			if (errno == ENOMEM) {
				rc = -1;
				break;
			}
			continue;
		}
		refusal = bagit_path_refusal(path.data, path.len);
		if (refusal) {
			bag_error(bag, file->name, lines.lineno, "%s", refusal);
			continue;
		}
		plen = bagit_normalize(path.data, path.len);
		path.data[plen] = '\0';
		if (!file->tag && !under_data(path.data, plen)) {
			bag_error(bag, file->name, lines.lineno,
				  "%s: a payload manifest lists a file outside data/", path.data);
			continue;
		}
		if (file->tag && under_data(path.data, plen)) {
			bag_error(bag, file->name, lines.lineno,
				  "%s: a tag manifest lists a payload file", path.data);
			continue;
		}
		/* With one payload manifest there is nothing to join: the file
		 * is checked while the rest is read, as a manifest line is, and
		 * the audit, which keeps every listed path anyway, tells a path
		 * listed twice. Each task is held back one line, its place in
		 * the audit's table fetched from memory while the next is read. */
		if (!file->tag && bag->nkind[0] == 1 && bag->reading->audit) {
			const char *hexes[1] = { hex };
			struct task *task = manifest_new_task(path.data, plen, 1, &file->algo, hexes);

			if (!task) {
				rc = -1;
				break;
			}
			task->line = lines.lineno;
			audit_prefetch(bag->reading->audit, task->path, task->path_len);
			rc = take_once(bag, file, held);
			held = task;
			if (rc != 0)
				break;
			continue;
		}
		e = entry_get(bag, path.data, plen, file->tag);
		if (!e) {
			rc = -1;
			break;
		}
		if (e->tag != file->tag) {
			bag_error(bag, file->name, lines.lineno, "%s: listed as a payload and a tag file",
				  path.data);
			continue;
		}
		if (e->mask & (1u << file->slot)) {
			bag_error(bag, file->name, lines.lineno, "%s: listed twice", path.data);
			continue;
		}
		e->mask |= 1u << file->slot;
		memcpy(e->data + e->path_len + 1 + file->offset, hex, file->algo->digest_len * 2 + 1);
		/* One payload manifest and no audit: queued at once all the same. */
		if (!file->tag && bag->nkind[0] == 1) {
			const char *hexes[1] = { e->data + e->path_len + 1 + file->offset };
			struct task *task = manifest_new_task(e->data, e->path_len, 1, &file->algo, hexes);
			if (!task || reading_take(bag->reading, task) != 0) {
				rc = -1;
				break;
			}
			e->queued = true;
		}
	}
	if (got < 0) {
		bag_error(bag, file->name, lines.lineno + 1, "%s",
			  errno == EOVERFLOW ? "line too long" : strerror(errno));
		rc = errno == ENOMEM ? -1 : 0;
	}
	if (rc == 0)
		rc = take_once(bag, file, held);
	else
		free(held);
	if (rc != 0)
		diag_file_error(NULL, ENOMEM);
	bagit_lines_fini(&lines);
	close(fd);
	dbuf_free(&path);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct manifest_file *)a)->name,
		      ((const struct manifest_file *)b)->name);
}

/* Find the manifests and tag manifests in the bag's root. Returns 0 or -1 (reported). */
static int find_manifests(struct bag *bag)
{
	int fd = openat(bag->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *entry;

	if (!dir) {
		diag_file_error(bag->dir, errno);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((entry = readdir(dir)) != NULL) {
		const char *name = entry->d_name, *algo;
		size_t len = strlen(name);
		bool tag = strncmp(name, "tagmanifest-", 12) == 0;
		struct manifest_file *file;

		if (!tag && strncmp(name, "manifest-", 9) != 0)
			continue;
		if (len < 5 || strcmp(name + len - 4, ".txt") != 0)
			continue;
		if (len >= BAG_NAME_MAX || bag->nfiles == BAG_FILES_MAX) {
			bag_error(bag, name, 0, "too many manifests, or too long a name");
			continue;
		}
		file = &bag->files[bag->nfiles];
		memset(file, 0, sizeof(*file));
		memcpy(file->name, name, len + 1);
		file->name[len - 4] = '\0';
		algo = file->name + (tag ? 12 : 9);
		file->algo = hash_lookup(algo);
		file->name[len - 4] = '.';
		file->tag = tag;
		if (!file->algo || strncmp(file->algo->name, "xxh", 3) == 0) {
			bag_error(bag, name, 0, "an algorithm pverify cannot compute: not checked");
			continue;
		}
		bag->nfiles++;
	}
	closedir(dir);
	qsort(bag->files, bag->nfiles, sizeof(bag->files[0]), by_name);
	for (size_t i = 0; i < bag->nfiles; i++) {
		struct manifest_file *file = &bag->files[i];
		file->slot = bag->nkind[file->tag]++;
		file->offset = bag->hex_bytes[file->tag];
		bag->hex_bytes[file->tag] += file->algo->digest_len * 2 + 1;
	}
	return 0;
}

/* Queue every joined entry not queued yet as a task. Returns 0 or -1 (reported). */
static int submit_entries(struct bag *bag, struct reading *reading)
{
	int rc = 0;

	for (size_t i = 0; i < bag->count && rc == 0; i++) {
		struct entry *e = bag->entries[i];
		const struct hash_algo *algos[HASH_SET_MAX];
		const char *hex[HASH_SET_MAX];
		size_t n = 0;
		struct task *task;

		if (e->queued)
			continue;
		for (size_t f = 0; f < bag->nfiles && rc == 0; f++) {
			const struct manifest_file *file = &bag->files[f];
			if (file->tag != e->tag)
				continue;
			if (!(e->mask & (1u << file->slot))) {
				/* Tag manifests need not list every tag file; payload ones must. */
				if (!e->tag)
					bag_error(bag, e->data, 0, "not listed in %s (every payload "
						  "manifest must list every payload file)", file->name);
				continue;
			}
			if (n < HASH_SET_MAX) {
				algos[n] = file->algo;
				hex[n++] = e->data + e->path_len + 1 + file->offset;
			}
		}
		if (rc == 0) {
			task = manifest_new_task(e->data, e->path_len, n, algos, hex);
			if (!task || reading_take(reading, task) != 0) {
				if (!task)
					diag_file_error(NULL, ENOMEM);
				rc = -1;
			}
		}
	}
	return rc;
}

/* fetch.txt: every entry inside data/ and present; pverify fetches nothing. */
static void read_fetch(struct bag *bag, struct bag_state *state)
{
	struct bagit_lines lines;
	struct dbuf path;
	struct stat st;
	const char *text, *why, *refusal;
	uint64_t length;
	size_t len, plen;
	int fd, got;

	fd = open_regular_at(bag->rootfd, BAGIT_FETCH);
	if (fd < 0) {
		if (errno != ENOENT)
			bag_error(bag, BAGIT_FETCH, 0, "%s", diag_strerror(errno));
		return;
	}
	dbuf_init(&path);
	if (bagit_lines_init(&lines, fd, bag->latin1) != 0) {
		bag_error(bag, BAGIT_FETCH, 0, "%s", strerror(errno));
		close(fd);
		return;
	}
	while ((got = bagit_lines_next(&lines, &text, &len)) == 1) {
		if (len == 0)
			continue;
		if (bagit_parse_fetch_line(text, len, bag->decode, &length, &path, &why) != 0) {
			bag_error(bag, BAGIT_FETCH, lines.lineno, "%s", why);
			continue;
		}
		refusal = bagit_path_refusal(path.data, path.len);
		if (refusal) {
			bag_error(bag, BAGIT_FETCH, lines.lineno, "%s", refusal);
			continue;
		}
		plen = bagit_normalize(path.data, path.len);
		path.data[plen] = '\0';
		if (!under_data(path.data, plen)) {
			bag_error(bag, BAGIT_FETCH, lines.lineno, "%s: outside data/", path.data);
			continue;
		}
		if (fstatat(bag->rootfd, path.data, &st, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT) {
			diag_file_note(bag->dir, "%s: listed in fetch.txt and not fetched", path.data);
			state->fetch_absent++;
		}
	}
	if (got < 0)
		bag_error(bag, BAGIT_FETCH, lines.lineno + 1, "%s",
			  errno == EOVERFLOW ? "line too long" : strerror(errno));
	bagit_lines_fini(&lines);
	close(fd);
	dbuf_free(&path);
}

struct info_state {
	const struct bag *bag;
	struct bag_state *state;
	bool bad;
};

static int info_tag(void *arg, const char *label, size_t label_len, const char *value,
		    size_t value_len)
{
	struct info_state *info = arg;

	if (label_len != 12 || memcmp(label, "Payload-Oxum", 12) != 0)
		return 0;
	if (info->state->has_oxum) {
		bag_error(info->bag, BAGIT_INFO, 0, "Payload-Oxum given twice");
		info->bad = true;
		return 0;
	}
	if (bagit_parse_oxum(value, value_len, &info->state->oxum_octets,
			     &info->state->oxum_streams) != 0) {
		bag_error(info->bag, BAGIT_INFO, 0, "Payload-Oxum is not OCTETS.STREAMS");
		info->bad = true;
		return 0;
	}
	info->state->has_oxum = true;
	return 0;
}

/* bag-info.txt, when there is one: its Payload-Oxum. */
static void read_info(struct bag *bag, struct bag_state *state)
{
	struct info_state info = { bag, state, false };
	struct dbuf text;
	const char *why;

	dbuf_init(&text);
	if (read_small(bag->rootfd, BAGIT_INFO, &text) != 0) {
		if (errno != ENOENT)
			bag_error(bag, BAGIT_INFO, 0, "%s", errno == EFBIG ? "too large" : diag_strerror(errno));
	} else if (bagit_parse_tags(text.data ? text.data : "", text.len, bag->latin1, info_tag,
				    &info, &why) != 0) {
		bag_error(bag, BAGIT_INFO, 0, "%s", why);
	}
	dbuf_free(&text);
}

/* --signers: the first tag manifest (sha256's if any) must be signed and trusted. */
static void check_signature(struct bag *bag, struct reading *reading)
{
	const struct manifest_file *chosen = NULL;
	struct signed_check check;
	struct input *in;
	const char *data;
	size_t len;
	char path[PATH_MAX + BAG_NAME_MAX];
	int got;

	for (size_t i = 0; i < bag->nfiles; i++) {
		const struct manifest_file *file = &bag->files[i];
		if (file->tag && (!chosen || strcmp(file->algo->name, "sha256") == 0))
			chosen = file;
	}
	if (!chosen) {
		diag_file_errorf(bag->dir, "--signers: no tag manifest to carry a signature");
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", bag->dir, chosen->name);
	in = input_open(path, false);
	if (!in) {
		diag_file_error(path, errno);
		return;
	}
	if (signed_begin(&check, in, path, reading->signers, reading->quiet) == 0) {
		while ((got = input_read_chunk(in, &data, &len)) > 0)
			;
		signed_end(&check, in, got == 0);
	}
	input_close(in);
}

int bag_read(struct reading *reading, const char *dir, int rootfd, struct bag_state *state)
{
	struct bag bag;
	struct bagit_declaration decl;
	struct dbuf text;
	const char *why;
	int rc = -1;

	memset(&bag, 0, sizeof(bag));
	memset(state, 0, sizeof(*state));
	bag.reading = reading;
	bag.dir = dir;
	bag.rootfd = rootfd;
	dbuf_init(&text);
	if (read_small(rootfd, BAGIT_DECLARATION, &text) != 0) {
		bag_error(&bag, BAGIT_DECLARATION, 0, "%s",
			  errno == ENOENT ? "missing: not a bag"
			  : errno == EFBIG ? "too large" : diag_strerror(errno));
		goto out;
	}
	if (text.len >= 2 && ((unsigned char)text.data[0] == 0xff || (unsigned char)text.data[0] == 0xfe)) {
		bag_error(&bag, BAGIT_DECLARATION, 0, "UTF-16 (a byte-order mark): bagit.txt must be UTF-8");
		goto out;
	}
	if (bagit_parse_declaration(text.data ? text.data : "", text.len, &decl, &why) != 0) {
		bag_error(&bag, BAGIT_DECLARATION, 0, "%s", why);
		goto out;
	}
	bag.decode = decl.major >= 1;
	bag.latin1 = decl.latin1;
	if (find_manifests(&bag) != 0)
		goto out;
	if (bag.nkind[0] == 0) {
		bag_error(&bag, "manifest-ALG.txt", 0, "no payload manifest pverify can check");
		goto out;
	}
	if (reading->signers)
		check_signature(&bag, reading);
	read_info(&bag, state);
	read_fetch(&bag, state);
	for (size_t i = 0; i < bag.nfiles; i++)
		if (read_manifest(&bag, &bag.files[i]) != 0)
			goto out;
	rc = submit_entries(&bag, reading);
out:
	batchpipe_flush(&reading->feed);
	arena_free(&bag.entries_mem);
	free(bag.entries);
	free(bag.index);
	dbuf_free(&text);
	return rc;
}

void bag_end(const struct bag_state *state, const char *dir, uint64_t files, uint64_t bytes)
{
	if (state->has_oxum && (state->oxum_octets != bytes || state->oxum_streams != files))
		diag_file_errorf(dir, "%s: Payload-Oxum %" PRIu64 ".%" PRIu64 ", but data/ holds %"
				 PRIu64 ".%" PRIu64, BAGIT_INFO, state->oxum_octets,
				 state->oxum_streams, bytes, files);
	if (state->fetch_absent > 0)
		diag_file_errorf(dir, "incomplete: %" PRIu64 " file(s) of fetch.txt not fetched "
				 "(pverify fetches nothing)", state->fetch_absent);
}
