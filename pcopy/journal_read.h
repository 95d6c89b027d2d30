/* SPDX-License-Identifier: 0BSD */
/**
 * Reading pcopy's journal (format in journal.c): its lines last first, with
 * a chunked reverse reader whose memory is bounded by the longest line, and
 * each line parsed into a record. Undo, completion, --resume and the fuzz
 * target all read it through here; nothing here changes a file.
 */
#ifndef PCOPY_JOURNAL_READ_H
#define PCOPY_JOURNAL_READ_H

#include "prelude.h"
#include "dbuf.h"
#include <sys/types.h>
#include <time.h>

/** Bytes read at a time, from the end towards the start. */
#define JOURNAL_READ_CHUNK ((size_t)1 << 16)

/** The longest line the reader holds; a longer one fails the read (EFBIG). */
#define JOURNAL_LINE_MAX ((size_t)64 << 20)

/** A reader going backwards: buf holds the file's bytes [lo, lo + n); those after were returned. */
struct journal_reader {
	int fd;
	off_t lo;
	char *buf;
	size_t n, cap;
};

/**
 * Open the reader at the end of fd (not owned), dropping a trailing partial
 * line (a write a kill or a full disk cut short). Returns 0, or -1 with errno;
 * journal_reader_close is needed either way.
 */
int journal_reader_open(struct journal_reader *rev, int fd);

/**
 * The previous line, without its LF, valid until the next call. Returns 1, 0
 * at the start of the file, or -1 with errno (EFBIG: a line past
 * JOURNAL_LINE_MAX; EIO: the file shrank).
 */
int journal_reader_prev(struct journal_reader *rev, const char **line, size_t *len);

/** Right after journal_reader_open: the length of the file's complete lines. */
off_t journal_reader_whole(const struct journal_reader *rev);

/** Free the reader's buffer; it may be opened again. */
void journal_reader_close(struct journal_reader *rev);

/** One parsed record (kinds in journal.c); path and other are unescaped copies. */
struct journal_record {
	char kind;
	struct dbuf path, other;
	uint64_t number;           /* R: inode; D, M, I: mode; H: root created (0/1) */
	struct timespec mtime;     /* D, M: the mtime to apply at completion; H: the root's */
	struct timespec old_mtime; /* M, I: the mtime to restore on undo */
	uint64_t ino;              /* I, U: the inode of the file changed in place */
	uint64_t size;             /* I: its size to restore (at most INT64_MAX) */
	uid_t uid;                 /* I: its owner to restore */
	gid_t gid;
	/* U: the length bytes at offset were saved at data_offset in the data
	 * file; offset + length and data_offset + length are at most INT64_MAX. */
	uint64_t offset, length, data_offset;
};

/** Prepare a record for parsing into. */
void journal_record_init(struct journal_record *rec);

/** Free a record's buffers. */
void journal_record_fini(struct journal_record *rec);

/** Parse one line (without its LF) into rec. Returns false for a line that is not a valid record. */
bool journal_parse_record(struct journal_record *rec, const char *line, size_t len);

/** Whether the last complete line of the journal fd is a commit. Returns 0, or -1 with errno. */
int journal_is_committed(int fd, bool *committed);

#endif
