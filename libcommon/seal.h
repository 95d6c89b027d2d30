/* SPDX-License-Identifier: 0BSD */
/**
 * The sealed manifest's fixed text (FORMAT.md, "Sealed manifests"), shared
 * by its writer (pcopy) and its checker (pverify): a first line naming the
 * format, the records, then one last line carrying the SHA-256 of every
 * byte above it.
 */
#ifndef PTOOLS_SEAL_H
#define PTOOLS_SEAL_H

/** The first line of a sealed manifest (without its LF). */
#define SEAL_HEADER "# ptools seal v1"

/** The start of the last line; 64 lowercase hex digits and an LF follow. */
#define SEAL_LINE_PREFIX "#seal\tsha256:"

/** The name pcopy gives the seal in each destination unless told otherwise. */
#define SEAL_DEFAULT_NAME ".ptools-seal"

#endif
