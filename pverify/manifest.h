/* SPDX-License-Identifier: 0BSD */
/**
 * Manifest lines to tasks: native records (every digest attribute, the size,
 * the mtime), GNU lines, BSD tagged lines, SFV lines and hashdeep files,
 * told apart line by line (hashdeep by its header), whatever the line ends
 * (LF, CR LF, or NUL as sha256sum -z writes) and with or without a UTF-8
 * byte-order mark. The seal that closes a sealed manifest is seal.h's
 * (libcommon).
 */
#ifndef PVERIFY_MANIFEST_H
#define PVERIFY_MANIFEST_H

#include "prelude.h"
#include "hash.h"
#include "input.h"
#include "mhl1.h"
#include "record.h"
#include "sumfmt.h"
#include "task.h"


/** Reusable parsing state of the reading thread. */
struct manifest_parser {
	const struct hash_algo *forced; /* -a for GNU lines, or NULL */
	bool nul_terminated;            /* sha256sum -z: a CR before NUL is a name's */
	bool bom;                       /* a UTF-8 byte-order mark was skipped */
	bool hashdeep;                  /* a hashdeep column line was read */
	struct sumfmt_columns columns;  /* ...and these are its columns */
	struct rec rec;
	struct sumfmt_line sum;
	struct sumfmt_entry entry;
	/* The last entry parsed, held back until the next line shows whether
	 * it names the same file: rhash --bsd writes one line per algorithm,
	 * which make one check. Owned by the parser. */
	struct task *pending;
	bool pending_bsd;
};

/** Prepare a parser; forced is the -a algorithm or NULL. */
void manifest_parser_init(struct manifest_parser *parser, const struct hash_algo *forced);

/** Release the parser's storage; NULL-safe. */
void manifest_parser_fini(struct manifest_parser *parser);

/**
 * Before the first line: skip a UTF-8 byte-order mark at the start of in,
 * and switch in to NUL-terminated lines when the manifest has them
 * (sumfmt_nul_terminated). Returns 0, or -1 with errno (a read error).
 */
int manifest_sniff(struct manifest_parser *parser, struct input *in);

/**
 * Parse line number line_no (one that is not a '#' comment) and return the
 * task it completes, owned by the caller (free() it), with seq left 0 and
 * line set to the number of its first line. Each entry is held back one
 * line: the task returned is usually the previous line's, and the last one
 * comes from manifest_finish. Consecutive BSD lines naming the same file
 * (rhash --bsd with several algorithms) make one task of several digests.
 *
 * Returns a task; or NULL with *why NULL when no task is complete (a blank
 * line, a CR alone, an SFV ';' comment, a hashdeep header, an entry held
 * back); or NULL with *why set for a malformed line (errno ENOMEM with "out
 * of memory"), the held entry kept.
 */
struct task *manifest_parse(struct manifest_parser *parser, const char *line, size_t len,
			    uintmax_t line_no, const char **why);

/**
 * The task of one MHL v1 <hash> (mhl1.h): the same as a native record with
 * its size and digests would give. Returns it, owned by the caller (free()),
 * or NULL with errno ENOMEM.
 */
struct task *manifest_from_mhl1(const struct mhl1_entry *entry);

/**
 * A task for path with ndigests expected digests (lowercase hex of algos[i]'s
 * length), nothing else known: the entries of containers (--bag, --mhl). Returns it, owned by the
 * caller (free()), or NULL with errno ENOMEM.
 */
struct task *manifest_new_task(const char *path, size_t path_len, size_t ndigests,
			       const struct hash_algo *const *algos, const char *const *hex);

/** At the end of the manifest: the entry still held back, or NULL. Owned by the caller. */
struct task *manifest_finish(struct manifest_parser *parser);


#endif
