/* SPDX-License-Identifier: 0BSD */
/**
 * pverify --bag DIR: validate a BagIt bag (libcommon/bagit.h; see bag.c).
 * The tag files are read here and every manifest entry becomes a task for
 * the usual pipeline (check.c), so files are hashed by the same engine,
 * once for all the bag's algorithms; the walk that finds files no manifest
 * lists is --audit's (audit.h).
 */
#ifndef PVERIFY_BAG_H
#define PVERIFY_BAG_H

#include "prelude.h"
#include "reading.h"

/** What a bag's reading found out, for bag_end. */
struct bag_state {
	bool has_oxum;
	uint64_t oxum_octets, oxum_streams;
	uint64_t fetch_absent;   /* fetch.txt entries not (yet) fetched */
};

/** Whether dir is a directory holding bagit.txt (so an operand dir is a bag). */
bool bag_detect(const char *dir);

/** Whether dir/data is a directory (not a link); if not, reported (exit 1). */
bool bag_has_payload_dir(const char *dir);

/**
 * Read the bag at dir (opened as rootfd, the pipeline's root): bagit.txt,
 * bag-info.txt, fetch.txt, every manifest and tag manifest, and queue one
 * task per listed file through reading (reading->audit must be set up on
 * DIR/data). Every problem is reported ("pverify: DIR/FILE: reason") and
 * makes the run fail (exit 1). With signers, the first tag manifest
 * (sha256's when there is one) must carry a good, trusted signature.
 * Returns 0, or -1 when the bag cannot be read at all (reported).
 */
int bag_read(struct reading *reading, const char *dir, int rootfd, struct bag_state *state);

/**
 * After the walk of DIR/data: the files and bytes found there against
 * bag-info.txt's Payload-Oxum, and the verdict on fetch.txt. Reports and
 * fails as bag_read does.
 */
void bag_end(const struct bag_state *state, const char *dir, uint64_t files, uint64_t bytes);

#endif
