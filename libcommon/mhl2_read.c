/* SPDX-License-Identifier: 0BSD */
/** ASC MHL v2 generations and chains read with expat, one entry at a time, in bounded memory. */
#include "prelude.h"
#include "mhl2.h"
#include "xmlbound.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where the text being kept goes. */
enum field { FIELD_NONE, FIELD_PATH, FIELD_DIGEST, FIELD_PROCESS, FIELD_C4, FIELD_PATTERN };

/* Which digests of a directory hash an element gives. */
enum section { SECTION_NONE, SECTION_CONTENT, SECTION_STRUCTURE };

struct mhl2_reader {
	enum mhl2_doc doc;
	mhl2_entry_fn *fn;
	void *arg;
	struct xmlbound xb;
	bool root_seen;
	bool started;
	bool in_processinfo;      /* inside <processinfo> */
	bool in_ignore;           /* inside its <ignore> */
	/* The entry being read: depth of its element, 0 when none. */
	int entry_depth;
	enum section section;
	enum field field;
	int format;               /* the digest element's format, or -1 */
	char action[16];
	bool text_long;
	bool has_path;
	const char *entry_why;
	size_t text_len;
	char *path;               /* MHL2_PATH_MAX + 1 bytes */
	size_t path_len;
	struct mhl2_entry entry;
	char text[MHL2_TEXT_MAX + 1];
	char values[MHL2_DIGESTS_MAX][MHL2_DIGEST_MAX + 1];
	char structures[MHL2_DIGESTS_MAX][MHL2_DIGEST_MAX + 1];
	char actions[MHL2_DIGESTS_MAX][16];
};

static const char *attr(const XML_Char **attrs, const char *name)
{
	for (size_t i = 0; attrs[i]; i += 2)
		if (strcmp(attrs[i], name) == 0)
			return attrs[i + 1];
	return NULL;
}

/* The first problem of the entry, and the line it was found on. Lines are
 * counted only here: expat finds a line number by scanning every byte since
 * the last one it was asked for, a second pass over the whole generation if
 * every entry asked. */
static void entry_bad(struct mhl2_reader *r, const char *why)
{
	if (!r->entry_why) {
		r->entry_why = why;
		r->entry.line = xmlbound_line(&r->xb);
	}
}

static bool take_decimal(const char *s, uint64_t *value)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*value = v;
	return true;
}

static void begin_entry(struct mhl2_reader *r, enum mhl2_kind kind)
{
	r->entry_depth = r->xb.depth;
	r->entry_why = NULL;
	r->has_path = false;
	r->path_len = 0;
	r->path[0] = '\0';
	r->section = SECTION_NONE;
	memset(&r->entry, 0, sizeof(r->entry));
	r->entry.kind = kind;
}

static void begin_text(struct mhl2_reader *r, enum field field)
{
	r->field = field;
	r->text_len = 0;
	r->text_long = false;
	if (field == FIELD_PATH)
		r->path_len = 0;
}

static void start_root(struct mhl2_reader *r, const char *name, const XML_Char **attrs)
{
	const char *version;

	if (r->doc == MHL2_DOC_CHAIN) {
		if (strcmp(name, "ascmhldirectory") != 0)
			xmlbound_fail(&r->xb, "not an ASC MHL chain: the root element is not <ascmhldirectory>");
		r->root_seen = true;
		return;
	}
	if (strcmp(name, "hashlist") != 0) {
		xmlbound_fail(&r->xb, "not an ASC MHL generation: the root element is not <hashlist>");
		return;
	}
	version = attr(attrs, "version");
	if (!version || strncmp(version, "2.", 2) != 0) {
		xmlbound_fail(&r->xb, "not an ASC MHL v2 generation: <hashlist> version is not 2.x");
		return;
	}
	r->root_seen = true;
}

static void XMLCALL on_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
	struct mhl2_reader *r = arg;
	int d = r->xb.depth;

	if (d == 1) {
		start_root(r, name, attrs);
		return;
	}
	if (r->entry_depth == 0) {
		if (r->doc == MHL2_DOC_CHAIN) {
			if (d == 2 && strcmp(name, "hashlist") == 0) {
				const char *seq = attr(attrs, "sequencenr");

				begin_entry(r, MHL2_ENTRY_LINK);
				if (!seq || !take_decimal(seq, &r->entry.sequence))
					entry_bad(r, "<hashlist> without a sequencenr");
			}
			return;
		}
		if (d == 2 && strcmp(name, "processinfo") == 0)
			r->in_processinfo = true;
		else if (d == 3 && r->in_processinfo && strcmp(name, "ignore") == 0)
			r->in_ignore = true;
		else if (d == 4 && r->in_ignore && strcmp(name, "pattern") == 0)
			begin_text(r, FIELD_PATTERN);
		else if (d == 3 && strcmp(name, "hash") == 0)
			begin_entry(r, MHL2_ENTRY_FILE);
		else if (d == 3 && strcmp(name, "directoryhash") == 0)
			begin_entry(r, MHL2_ENTRY_DIR);
		else if (d == 3 && strcmp(name, "roothash") == 0)
			begin_entry(r, MHL2_ENTRY_ROOT);
		else if (d == 3 && strcmp(name, "process") == 0)
			begin_text(r, FIELD_PROCESS);
		return;
	}
	/* Inside an entry. */
	if (d == r->entry_depth + 1 && strcmp(name, "path") == 0) {
		const char *size = attr(attrs, "size");

		begin_text(r, FIELD_PATH);
		if (size) {
			if (!take_decimal(size, &r->entry.size))
				entry_bad(r, "bad size attribute");
			r->entry.has_size = true;
		}
		return;
	}
	if (r->entry.kind == MHL2_ENTRY_LINK) {
		if (d == r->entry_depth + 1 && strcmp(name, "c4") == 0)
			begin_text(r, FIELD_C4);
		return;
	}
	if (r->entry.kind != MHL2_ENTRY_FILE && d == r->entry_depth + 1) {
		r->section = strcmp(name, "content") == 0 ? SECTION_CONTENT
			   : strcmp(name, "structure") == 0 ? SECTION_STRUCTURE : SECTION_NONE;
		return;
	}
	if ((r->entry.kind == MHL2_ENTRY_FILE && d == r->entry_depth + 1) ||
	    (r->section != SECTION_NONE && d == r->entry_depth + 2)) {
		const char *action = attr(attrs, "action");

		r->format = mhl2_format_lookup(name, strlen(name));
		if (r->format < 0)
			return; /* an element this reader does not know */
		r->action[0] = '\0';
		if (action && strlen(action) < sizeof(r->action))
			memcpy(r->action, action, strlen(action) + 1);
		else if (action)
			entry_bad(r, "unknown action");
		begin_text(r, FIELD_DIGEST);
	}
}

static void XMLCALL on_text(void *arg, const XML_Char *s, int len)
{
	struct mhl2_reader *r = arg;
	size_t n = (size_t)len;

	if (r->field == FIELD_NONE || r->text_long)
		return;
	if (r->field == FIELD_PATH) {
		if (n > MHL2_PATH_MAX - r->path_len) {
			r->text_long = true;
			return;
		}
		memcpy(r->path + r->path_len, s, n);
		r->path_len += n;
		return;
	}
	if (n > MHL2_TEXT_MAX - r->text_len) {
		r->text_long = true;
		return;
	}
	memcpy(r->text + r->text_len, s, n);
	r->text_len += n;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The kept text without surrounding white space (writers indent), NUL-terminated. */
static const char *trimmed(struct mhl2_reader *r, size_t *len)
{
	char *s = r->text;
	size_t n = r->text_len;

	while (n > 0 && is_space(*s))
		s++, n--;
	while (n > 0 && is_space(s[n - 1]))
		n--;
	s[n] = '\0';
	*len = n;
	return s;
}

/* A digest element ended: add its value to the entry. */
static void end_digest(struct mhl2_reader *r)
{
	struct mhl2_entry *e = &r->entry;
	enum mhl2_format format = (enum mhl2_format)r->format;
	char canonical[MHL2_DIGEST_MAX + 1];
	size_t len, i;
	const char *s = trimmed(r, &len);

	if (r->field == FIELD_C4 && !r->text_long && len <= MHL2_DIGEST_MAX &&
	    !mhl2_digest_valid(format, s, len, canonical)) {
		/* A chain's C4 is compared, never decoded: one that is not a
		 * C4 id is kept to fail that comparison, not the whole chain. */
		memcpy(canonical, s, len + 1);
	} else if (r->text_long || !mhl2_digest_valid(format, s, len, canonical)) {
		entry_bad(r, "a digest that is not of its format");
		return;
	}
	if (r->section == SECTION_STRUCTURE) {
		for (i = 0; i < e->ndigests; i++)
			if (e->digests[i].format == format && !e->digests[i].structure)
				break;
	} else {
		i = e->ndigests;
	}
	if (i == e->ndigests) {
		if (e->ndigests == MHL2_DIGESTS_MAX) {
			entry_bad(r, "too many digests in one entry");
			return;
		}
		e->ndigests++;
		e->digests[i] = (struct mhl2_digest){.format = format};
	}
	if (r->section == SECTION_STRUCTURE) {
		memcpy(r->structures[i], canonical, len + 1);
		e->digests[i].structure = r->structures[i];
	} else {
		memcpy(r->values[i], canonical, len + 1);
		e->digests[i].value = r->values[i];
		memcpy(r->actions[i], r->action, sizeof(r->action));
		e->digests[i].action = r->actions[i][0] ? r->actions[i] : NULL;
	}
}

static int emit(struct mhl2_reader *r)
{
	struct mhl2_entry *e = &r->entry;
	size_t i;

	e->path = r->path;
	e->path_len = r->path_len;
	if (e->kind != MHL2_ENTRY_ROOT && !r->has_path)
		entry_bad(r, "an entry without a <path>");
	if (e->kind == MHL2_ENTRY_LINK) {
		if (e->ndigests != 1)
			entry_bad(r, "a chain <hashlist> without one <c4>");
	} else if (e->kind == MHL2_ENTRY_FILE && e->ndigests == 0) {
		entry_bad(r, "a <hash> without a digest");
	}
	for (i = 0; i < e->ndigests; i++) {
		if (!e->digests[i].value)
			entry_bad(r, "a structure digest without its content digest");
		else if ((e->kind == MHL2_ENTRY_DIR || e->kind == MHL2_ENTRY_ROOT) &&
			 !e->digests[i].structure)
			entry_bad(r, "a content digest without its structure digest");
	}
	if (r->path_len > 0 && memchr(r->path, '\0', r->path_len))
		entry_bad(r, "a path with a NUL character");
	return r->fn(r->arg, r->entry_why ? NULL : e, e->line, r->entry_why);
}

static void XMLCALL on_end(void *arg, const XML_Char *name)
{
	struct mhl2_reader *r = arg;
	size_t len;

	switch (r->field) {
	case FIELD_PATH:
		if (r->text_long)
			entry_bad(r, "a path longer than 65536 bytes");
		else if (r->has_path)
			entry_bad(r, "two <path> elements in one entry");
		else if (r->path_len == 0)
			entry_bad(r, "an empty <path>");
		r->path[r->path_len] = '\0';
		r->has_path = true;
		break;
	case FIELD_DIGEST:
		end_digest(r);
		break;
	case FIELD_C4:
		r->format = MHL2_C4;
		r->section = SECTION_NONE;
		r->action[0] = '\0';
		end_digest(r);
		break;
	case FIELD_PROCESS:
	case FIELD_PATTERN: {
		const char *s = trimmed(r, &len);
		const char *why = NULL;

		memset(&r->entry, 0, sizeof(r->entry));
		r->entry.kind = r->field == FIELD_PROCESS ? MHL2_ENTRY_PROCESS : MHL2_ENTRY_IGNORE;
		r->entry.path = s;
		r->entry.path_len = len;
		if (r->field == FIELD_PATTERN && r->text_long)
			why = "an ignore pattern longer than 512 bytes";
		else if (r->field == FIELD_PATTERN && memchr(s, '\0', len))
			why = "an ignore pattern with a NUL character";
		if (why)
			r->entry.line = xmlbound_line(&r->xb);
		if (r->fn(r->arg, why ? NULL : &r->entry, r->entry.line, why) != 0)
			xmlbound_callback_failed(&r->xb);
		break;
	}
	default:
		break;
	}
	if (r->entry_depth == 0 && r->xb.depth == 3 && strcmp(name, "ignore") == 0)
		r->in_ignore = false;
	else if (r->entry_depth == 0 && r->xb.depth == 2 && strcmp(name, "processinfo") == 0)
		r->in_processinfo = false;
	r->field = FIELD_NONE;
	if (r->entry_depth != 0 && r->xb.depth == r->entry_depth + 1)
		r->section = SECTION_NONE;
	if (r->entry_depth != 0 && r->xb.depth == r->entry_depth) {
		r->entry_depth = 0;
		if (emit(r) != 0)
			xmlbound_callback_failed(&r->xb);
	}
}

struct mhl2_reader *mhl2_reader_new(enum mhl2_doc doc, mhl2_entry_fn *fn, void *arg)
{
	struct mhl2_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->doc = doc;
	r->fn = fn;
	r->arg = arg;
	r->format = -1;
	xmlbound_init(&r->xb, &(struct xmlbound_reader){
		.on_start = on_start, .on_end = on_end, .on_text = on_text, .arg = r,
		.depth_max = MHL2_DEPTH_MAX, .token_max = MHL2_TOKEN_MAX,
		.doctype = "DOCTYPE refused: an ASC MHL file has no DTD or entities",
	});
	r->path = malloc(MHL2_PATH_MAX + 1);
	if (!r->path || xmlbound_start(&r->xb, NULL) != 0) {
		mhl2_reader_free(r);
		errno = ENOMEM;
		return NULL;
	}
	return r;
}

void mhl2_reader_free(struct mhl2_reader *r)
{
	if (!r)
		return;
	xmlbound_destroy(&r->xb);
	free(r->path);
	free(r);
}

uintmax_t mhl2_line(const struct mhl2_reader *r)
{
	return xmlbound_line(&r->xb);
}

int mhl2_feed(struct mhl2_reader *r, const void *data, size_t len, bool final, const char **why)
{
	const unsigned char *p = data;

	if (!r->started && len > 0) {
		r->started = true;
		r->xb.bom_hint = (len >= 2 && ((p[0] == 0xff && p[1] == 0xfe) ||
					       (p[0] == 0xfe && p[1] == 0xff))) ||
				 (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf);
	}
	if (!xmlbound_feed(&r->xb, data, len, final))
		goto failed;
	if (final && !r->root_seen) {
		xmlbound_fail(&r->xb, r->doc == MHL2_DOC_CHAIN
				      ? "not an ASC MHL chain: no <ascmhldirectory>"
				      : "not an ASC MHL generation: no <hashlist>");
		goto failed;
	}
	return 0;
failed:
	*why = xmlbound_error(&r->xb);
	return -1;
}
