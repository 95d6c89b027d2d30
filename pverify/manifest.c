/* SPDX-License-Identifier: 0BSD */
/** Manifest lines (native, GNU, BSD, SFV, hashdeep) to tasks. */
#include "prelude.h"
#include "manifest.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void manifest_parser_init(struct manifest_parser *parser, const struct hash_algo *forced)
{
	parser->forced = forced;
	parser->nul_terminated = false;
	parser->bom = false;
	parser->hashdeep = false;
	memset(&parser->columns, 0, sizeof(parser->columns));
	rec_init(&parser->rec);
	sumfmt_line_init(&parser->sum);
	sumfmt_entry_init(&parser->entry);
	parser->pending = NULL;
	parser->pending_bsd = false;
}

void manifest_parser_fini(struct manifest_parser *parser)
{
	if (!parser)
		return;
	rec_free(&parser->rec);
	sumfmt_line_free(&parser->sum);
	sumfmt_entry_free(&parser->entry);
	free(parser->pending);
	parser->pending = NULL;
}

/* The UTF-8 byte-order mark some Windows editors put first. */
static const char utf8_bom[] = "\xef\xbb\xbf";

int manifest_sniff(struct manifest_parser *parser, struct input *in)
{
	const size_t bom_len = sizeof(utf8_bom) - 1;
	const char *data;
	size_t len;

	if (input_peek(in, &data, &len) != 0)
		return -1;
	if (len >= bom_len && memcmp(data, utf8_bom, bom_len) == 0) {
		input_skip(in, bom_len);
		parser->bom = true;
		data += bom_len;
		len -= bom_len;
	}
	if (sumfmt_nul_terminated(data, len)) {
		input_set_terminator(in, '\0');
		parser->nul_terminated = true;
	}
	return 0;
}

/* One block: the struct, the path and its NUL, each digest and its NUL, then
 * the note (note_len bytes and a NUL) when note is not NULL. */
static struct task *task_new(const char *path, size_t path_len, size_t ndigests,
			     const struct hash_algo *const *algos, const char *const *hex,
			     const char *note, size_t note_len)
{
	size_t total = sizeof(struct task) + path_len + 1, i, off;
	struct task *task;
	char *p;

	for (i = 0; i < ndigests; i++)
		total += algos[i]->digest_len * 2 + 1;
	if (note)
		total += note_len + 1; /* note_len is within a line: no overflow */
	task = malloc(total);
	if (!task)
		return NULL;
	memset(task, 0, sizeof(*task));
	p = task->storage;
	memcpy(p, path, path_len);
	p[path_len] = '\0';
	task->path = p;
	task->path_len = path_len;
	off = path_len + 1;
	for (i = 0; i < ndigests; i++) {
		task->algos[i] = algos[i];
		memcpy(p + off, hex[i], algos[i]->digest_len * 2 + 1);
		task->hex[i] = p + off;
		off += algos[i]->digest_len * 2 + 1;
	}
	task->ndigests = ndigests;
	if (note) {
		memcpy(p + off, note, note_len);
		p[off + note_len] = '\0';
		task->note = p + off;
	}
	return task;
}

/* The reason an entry recorded with error:NAME cannot be verified. */
#define RECORDED_ERROR "not verifiable: the manifest records error:"
/* The same for an entry hashed while it changed (changed:1). */
#define RECORDED_CHANGE_PREFIX "not verifiable: the manifest records "
#define RECORDED_CHANGE "changed:1 (the file changed while it was hashed)"


/* "SEC.NSEC" with 1-9 digits of nanoseconds (a negative SEC is allowed). */
static bool parse_mtime(const char *s, size_t len, struct timespec *ts)
{
	size_t i = 0, digits;
	bool negative = false;
	int64_t sec = 0;
	long nsec = 0;

	if (i < len && s[i] == '-') {
		negative = true;
		i++;
	}
	for (digits = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
		if (sec > (INT64_MAX - 9) / 10)
			return false;
		sec = sec * 10 + (s[i] - '0');
	}
	if (digits == 0)
		return false;
	if (i < len) {
		if (s[i++] != '.')
			return false;
		for (digits = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
			if (digits < 9) /* more is refused below: never overflow */
				nsec = nsec * 10 + (s[i] - '0');
		}
		if (digits == 0 || digits > 9 || i != len)
			return false;
		for (; digits < 9; digits++)
			nsec *= 10;
	}
	ts->tv_sec = (time_t)(negative ? -sec : sec);
	ts->tv_nsec = nsec;
	return true;
}

static struct task *from_record(struct manifest_parser *parser, const char *line, size_t len,
				const char **why)
{
	const struct hash_algo *algos[HASH_SET_MAX], *algo;
	const char *hex[HASH_SET_MAX], *key, *value, *error = NULL;
	struct rec *rec = &parser->rec;
	size_t i, j, n = 0, value_len, error_len = 0;
	bool error_is_change = false;
	struct dbuf note;
	struct timespec mtime = {0, 0};
	bool has_mtime = false;
	struct task *task;
	char type = 0;

	if (rec_parse(rec, line, len, why) < 0)
		return NULL;
	if (rec->plain) {
		*why = "neither a record nor a checksum line";
		return NULL;
	}
	if (memchr(rec_path(rec), '\0', rec_path_len(rec))) {
		*why = "NUL byte in path";
		return NULL;
	}
	for (i = 0; i < rec_attr_count(rec); i++) {
		rec_attr_at(rec, i, &key, &value, &value_len);
		if (strcmp(key, "type") == 0) {
			if (value_len != 1) {
				*why = "bad type";
				return NULL;
			}
			type = value[0];
			continue;
		}
		if (strcmp(key, "changed") == 0 && value_len == 1 && value[0] == '1') {
			/* Digests of no single version of the file (FORMAT.md):
			 * nothing can be verified against them. */
			if (!error) {
				error = RECORDED_CHANGE;
				error_len = strlen(RECORDED_CHANGE);
				error_is_change = true;
			}
			continue;
		}
		if (strcmp(key, "error") == 0) {
			/* The producer could not read the file: whatever else the
			 * record says, its content was never hashed. */
			if (!error || error_is_change) {
				error = value;
				error_len = value_len;
				error_is_change = false;
			}
			continue;
		}
		if (strcmp(key, "mtime") == 0) {
			if (!parse_mtime(value, value_len, &mtime)) {
				*why = "bad mtime";
				return NULL;
			}
			has_mtime = true;
			continue;
		}
		/* rec_parse refused a digest that is not lowercase hex of its
		 * algorithm's length: what is left here is a valid digest. */
		algo = hash_lookup(key);
		if (!algo)
			continue; /* another attribute: not ours to judge */
		for (j = 0; j < n && algos[j] != algo; j++)
			;
		if (j < n) {
			if (strcmp(hex[j], value) != 0) {
				*why = "two different digests for one algorithm";
				return NULL;
			}
			continue;
		}
		if (n == HASH_SET_MAX) {
			*why = "too many digests";
			return NULL;
		}
		algos[n] = algo;
		hex[n++] = value;
	}
	if (error) {
		dbuf_init(&note);
		if (dbuf_puts(&note, error_is_change ? RECORDED_CHANGE_PREFIX : RECORDED_ERROR) != 0 ||
		    dbuf_append(&note, error, error_len) != 0) {
			dbuf_free(&note);
			goto nomem;
		}
		task = task_new(rec_path(rec), rec_path_len(rec), n, algos, hex, note.data,
				note.len);
		dbuf_free(&note);
	} else {
		task = task_new(rec_path(rec), rec_path_len(rec), n, algos, hex, NULL, 0);
	}
	if (!task)
		goto nomem;
	if (task->note) {
		task->verdict = VERDICT_ERROR;
		task->reason = task->note;
	}
	task->has_size = true;
	task->size = rec->size;
	task->has_mtime = has_mtime;
	task->mtime = mtime;
	/* phash passes directories, symlinks and special files through
	 * unhashed: such a record claims existence and type, not content. */
	task->look_only = n == 0 || (type != 0 && type != 'f');
	task->type = type;
	return task;
nomem:
	*why = "out of memory";
	errno = ENOMEM;
	return NULL;
}

static struct task *out_of_memory(const char **why)
{
	*why = "out of memory";
	errno = ENOMEM;
	return NULL;
}

/*
 * Hold task back, and return the one held before it; or, for a BSD line
 * naming the file of a held BSD entry, add its digest to that entry and
 * return NULL (*why NULL, or set when the line contradicts the entry).
 */
static struct task *hold(struct manifest_parser *parser, struct task *task, bool bsd,
			 const char **why)
{
	const struct hash_algo *algos[HASH_SET_MAX];
	struct task *held = parser->pending, *merged;
	const char *hex[HASH_SET_MAX];
	size_t i, n;

	if (bsd && held && parser->pending_bsd && held->ndigests < HASH_SET_MAX &&
	    held->path_len == task->path_len && memcmp(held->path, task->path, task->path_len) == 0) {
		n = held->ndigests;
		for (i = 0; i < n; i++) {
			if (held->algos[i] != task->algos[0])
				continue;
			if (strcmp(held->hex[i], task->hex[0]) != 0)
				*why = "two different digests for one file and algorithm";
			free(task);
			return NULL;
		}
		memcpy(algos, held->algos, n * sizeof(algos[0]));
		memcpy(hex, held->hex, n * sizeof(hex[0]));
		algos[n] = task->algos[0];
		hex[n] = task->hex[0];
		merged = task_new(held->path, held->path_len, n + 1, algos, hex, NULL, 0);
		free(task);
		if (!merged)
			return out_of_memory(why);
		merged->line = held->line;
		free(held);
		parser->pending = merged;
		return NULL;
	}
	parser->pending = task;
	parser->pending_bsd = bsd;
	return held;
}

struct task *manifest_from_mhl1(const struct mhl1_entry *entry)
{
	struct task *task;

	task = task_new(entry->path, entry->path_len, entry->ndigests, entry->algos, entry->hex,
			NULL, 0);
	if (!task) {
		errno = ENOMEM;
		return NULL;
	}
	task->has_size = entry->has_size;
	task->size = entry->size;
	task->line = entry->line;
	return task;
}

struct task *manifest_task(const char *path, size_t len, size_t n,
			   const struct hash_algo *const *algos, const char *const *hex)
{
	struct task *task = task_new(path, len, n, algos, hex, NULL, 0);

	if (!task)
		errno = ENOMEM;
	return task;
}

struct task *manifest_finish(struct manifest_parser *parser)
{
	struct task *held = parser->pending;

	parser->pending = NULL;
	return held;
}

/* "%%%% ..." lines and the CSV lines after the column line. */
static struct task *from_hashdeep(struct manifest_parser *parser, const char *line, size_t len,
				  const char **why)
{
	struct sumfmt_entry *entry = &parser->entry;
	const char *hex[SUMFMT_COLUMNS_MAX];
	struct task *task;
	size_t i;
	int rc;

	if (len >= 4 && memcmp(line, "%%%%", 4) == 0) {
		rc = sumfmt_hashdeep_header(&parser->columns, line, len, why);
		if (rc == 1)
			parser->hashdeep = true;
		return NULL;
	}
	if (sumfmt_hashdeep_parse(entry, &parser->columns, line, len, why) != 0)
		return NULL;
	for (i = 0; i < entry->count; i++)
		hex[i] = entry->hex[i];
	task = task_new(entry->path.data, entry->path.len, entry->count, entry->algos, hex, NULL, 0);
	if (!task)
		return out_of_memory(why);
	task->has_size = true;
	task->size = entry->size;
	return task;
}

struct task *manifest_parse(struct manifest_parser *parser, const char *line, size_t len,
			    uintmax_t line_no, const char **why)
{
	struct sumfmt_line *sum = &parser->sum;
	enum sumfmt_kind kind;
	const char *hex;
	struct task *task;

	*why = NULL;
	/* A CR LF file: drop the CR, for every format. No writer leaves a raw
	 * CR at the end of a line (records and GNU/BSD lines escape it, SFV
	 * and hashdeep cannot hold one), but sha256sum -z writes names raw. */
	if (!parser->nul_terminated && len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0 || line[0] == ';' || line[0] == '#')
		return NULL; /* blank, SFV comment, comment before a CR */
	if (parser->hashdeep || (len >= 4 && memcmp(line, "%%%%", 4) == 0)) {
		task = from_hashdeep(parser, line, len, why);
		kind = SUMFMT_NONE;
		goto got;
	}
	kind = sumfmt_detect(line, len);
	if (kind == SUMFMT_NONE) {
		task = from_record(parser, line, len, why);
		goto got;
	}
	/* The CR is gone already, or part of a -z name. */
	if (sumfmt_parse_item(sum, line, len, parser->forced, why) != 0)
		return NULL;
	if (memchr(sum->path.data, '\0', sum->path.len)) {
		*why = "NUL byte in file name";
		return NULL;
	}
	hex = sum->hex;
	task = task_new(sum->path.data, sum->path.len, 1, &sum->algo, &hex, NULL, 0);
	if (!task)
		return out_of_memory(why);
	task->assumed = sum->kind == SUMFMT_GNU && !parser->forced;
got:
	if (!task)
		return NULL;
	task->line = line_no;
	return hold(parser, task, kind == SUMFMT_BSD, why);
}
