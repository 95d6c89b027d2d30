/* SPDX-License-Identifier: 0BSD */
/**
 * The record codec: format v1 of the stream every tool reads and writes,
 * specified in docs/FORMAT.md. This module is the only code that knows the
 * syntax; programs parse, query and emit records through it.
 *
 *   INODE TAB SIZE TAB PATH [TAB KEY:VALUE]... LF
 *
 * PATH and every VALUE are escaped (rec_escape); everything held in a
 * struct rec is decoded bytes.
 */
#ifndef PTOOLS_RECORD_H
#define PTOOLS_RECORD_H

#include "prelude.h"
#include "dbuf.h"
#include <time.h>

/** The longest line a reader accepts, LF excluded (documented in FORMAT.md). */
#define REC_LINE_MAX ((size_t)1 << 20)

/** The longest attribute key. */
#define REC_KEY_MAX 32

/** What rec_parse found on a line. */
enum rec_kind {
	REC_ENTRY = 0, /* a record (or a plain path) was stored in the struct rec */
	REC_COMMENT,   /* a line starting with '#': pass it through unchanged */
	REC_BLANK,     /* an empty line: ignore it */
};

/** One attribute, as offsets into struct rec's storage (private). */
struct rec_attr {
	size_t key_off, key_len;
	size_t value_off, value_len;
};

/**
 * One decoded record. Fields ino, size and plain may be read and written
 * directly; the path and the attributes only through the functions below,
 * which keep the private storage consistent. A zeroed struct is not valid:
 * call rec_init. The struct owns its storage; rec_free releases it.
 */
struct rec {
	uint64_t ino;
	uint64_t size;
	/* True when the line was a bare path (find's output) or a NUL-separated
	 * item: ino and size are then unknown (0) and there are no attributes. */
	bool plain;
	/* Private. */
	struct dbuf path_buf;   /* decoded path, NUL-terminated */
	struct dbuf attr_text;  /* decoded keys and values */
	struct rec_attr *attrs;
	size_t nattrs, attrs_cap;
};

/** Make an empty record. */
void rec_init(struct rec *rec);

/** Release the record's storage; NULL-safe. */
void rec_free(struct rec *rec);

/** Empty the record (ino = size = 0, no path, no attributes), keeping its storage. */
void rec_reset(struct rec *rec);

/** The decoded path, NUL-terminated; valid until the record is next changed. */
const char *rec_path(const struct rec *rec);

/** The decoded path's length in bytes. */
size_t rec_path_len(const struct rec *rec);

/** Replace the path with len raw bytes (not empty, no NUL). Returns 0, or -1 (ENOMEM, EINVAL). */
int rec_set_path(struct rec *rec, const char *path, size_t len);

/**
 * Make rec a plain record holding just this raw path (ino = size = 0, no
 * attributes). path may point into rec itself. Returns 0, or -1 (ENOMEM,
 * EINVAL as for rec_set_path).
 */
int rec_set_plain(struct rec *rec, const char *path, size_t len);

/** Number of attributes. */
size_t rec_attr_count(const struct rec *rec);

/**
 * The i-th attribute in input order. *key is NUL-terminated; *value is
 * NUL-terminated and *value_len long. Pointers are valid until the record is
 * next changed.
 */
void rec_attr_at(const struct rec *rec, size_t i, const char **key,
		 const char **value, size_t *value_len);

/** The value of the first attribute named key, or NULL; *value_len may be NULL. */
const char *rec_attr_get(const struct rec *rec, const char *key, size_t *value_len);

/**
 * Set an attribute: replace the value of the first attribute with this key,
 * keeping its position, or append a new one. Returns 0, or -1 with errno
 * EINVAL (invalid key, or a NUL in the value) or ENOMEM.
 */
int rec_attr_set(struct rec *rec, const char *key, const char *value, size_t value_len);

/** Remove every attribute named key. Returns how many were removed. */
size_t rec_attr_remove(struct rec *rec, const char *key);

/**
 * The letter of the type attribute for a file mode (st_mode, or DTTOIF(d_type)):
 * f d l p s b c as find's -type, '?' for anything else.
 */
char rec_type_letter(unsigned int mode);

/** Whether key is a syntactically valid attribute key ([a-z0-9][a-z0-9_.-]*, at most REC_KEY_MAX). */
bool rec_key_valid(const char *key, size_t len);

/**
 * Parse one line (without its LF) into rec, replacing its contents.
 * A line with no TAB that is not a comment is a plain path (rec->plain).
 * Returns a rec_kind, or -1 for a malformed line with errno EINVAL and *why
 * set to a static message such as "bad escape in path" (the list is in
 * docs/FORMAT.md; rec is then unspecified but may be reused). ENOMEM also
 * gives -1, with *why "out of memory" and errno ENOMEM. An attribute named
 * after an algorithm of hash.h's registry is malformed unless its value is
 * exactly that algorithm's digest in lowercase hex, so a caller may take
 * such a value as a valid digest without checking it again.
 */
int rec_parse(struct rec *rec, const char *line, size_t len, const char **why);

/**
 * Append rec as one complete line (LF included) to out; a plain record is
 * written in full form too. Returns 0, or -1 with errno ENOMEM, or EINVAL when
 * rec has no path; on failure out is left as it was.
 */
int rec_format(const struct rec *rec, struct dbuf *out);

/** Append the escaped form of len raw bytes (path or value). Returns 0, or -1 (ENOMEM). */
int rec_escape(struct dbuf *out, const char *bytes, size_t len);

/**
 * Append the decoded form of len escaped bytes. Returns 0, or -1 with *why
 * set ("bad escape", or "out of memory" with errno ENOMEM); on -1, out may
 * hold a partial result.
 */
int rec_unescape(struct dbuf *out, const char *text, size_t len, const char **why);

/** rec_hex_value's table: each byte's value as a hex digit plus one, 0 for none. */
extern const unsigned char rec_hex_values[256];

/**
 * The value of a hex digit, either case, or -1 for any other character: the
 * reading side of \xHH, also used by every other reader of hex (BagIt's
 * percent-escapes and checksums, MHL's digests). Inline, and a table
 * rather than comparisons (a digest's digits and letters come in no order
 * a branch predictor could learn): readers call it for every digit of every
 * digest.
 */
static inline int rec_hex_value(char c)
{
	return (int)rec_hex_values[(unsigned char)c] - 1;
}

/** Fast emitters for producers that never build a struct rec (pfind's hot path): */
/** Append "INODE TAB SIZE TAB escaped-PATH". Returns 0, or -1 (ENOMEM). */
int rec_emit_head(struct dbuf *out, uint64_t ino, uint64_t size, const char *path, size_t len);
/** Append "TAB key:escaped-value". Returns 0, or -1 (ENOMEM). */
int rec_emit_attr(struct dbuf *out, const char *key, const char *value, size_t len);
/** Append the LF that ends a record. Returns 0, or -1 (ENOMEM). */
int rec_emit_end(struct dbuf *out);

/** Room rec_time_into needs: a sign, 19 digits, the point, 9 digits. */
#define REC_TIME_MAX 32
/**
 * Write a time as FORMAT.md's mtime value, "SEC.NSEC" (printf's
 * "%lld.%09ld": a '-' before SEC for times before 1970, NSEC always nine
 * digits) into dst (REC_TIME_MAX bytes, not NUL-terminated); returns the
 * length. ts->tv_nsec must be within 0..999999999.
 */
size_t rec_time_into(char *dst, const struct timespec *ts);

#endif
