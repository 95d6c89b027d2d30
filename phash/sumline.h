/* SPDX-License-Identifier: 0BSD */
/**
 * The checksum-line forms phash writes with --format gnu and --format bsd:
 * exactly what coreutils 9.1 writes (sha256sum and sha256sum --tag),
 * including its escaping of names that hold a backslash, LF or CR.
 *
 * (Interim: these belong in libcommon/sumfmt.c, which the pverify work
 * brings with its parsers; phash switches to it once it is on main.)
 */
#ifndef PHASH_SUMLINE_H
#define PHASH_SUMLINE_H

#include "prelude.h"
#include "dbuf.h"
#include "hash.h"

/** Append "[\]HEX  NAME\n". Returns 0, or -1 with errno ENOMEM. */
int sumline_gnu(struct dbuf *out, const char *hex, const char *path, size_t len);

/** Append "[\]TAG (NAME) = HEX\n". Returns 0, or -1 with errno ENOMEM. */
int sumline_bsd(struct dbuf *out, const struct hash_algo *algo, const char *hex,
		const char *path, size_t len);

#endif
