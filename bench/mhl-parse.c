/* SPDX-License-Identifier: 0BSD */
/**
 * bench/mhl-scale helper: one ASC MHL generation read, hashed for its C4
 * and parsed as pverify --mhl does (libcommon/mhl2ahead.h), with a given
 * number of parsing threads (0: inline), and nothing else done with the
 * entries: the part of pverify --mhl that the pieces make parallel, timed
 * alone. Prints "ENTRIES entries, PIECES pieces"; exit 1 if the parse
 * stopped. With "bare" for PARSERS, expat parses the file with no handler
 * at all, and with "c4" it is only hashed: the floor under any reader that
 * parses with expat and checks the C4.
 *
 *   mhl-parse FILE PARSERS|bare|c4
 */
#include "prelude.h"
#include "hash.h"
#include "mhl2.h"
#include "mhl2ahead.h"
#include <expat.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The file read in 256 KiB pieces, each parsed (parse) or hashed. */
static int floor_only(int fd, bool parse, struct hash_ctx *c4)
{
	static char buf[256 << 10];
	XML_Parser xml = parse ? XML_ParserCreate("UTF-8") : NULL;
	ssize_t n = 0;
	int ok = 1;

	while (ok && (n = read(fd, buf, sizeof(buf))) > 0)
		ok = xml ? XML_Parse(xml, buf, (int)n, 0) == XML_STATUS_OK
			 : hash_ctx_update(c4, buf, (size_t)n) == 0;
	if (xml) {
		ok = ok && n == 0 && XML_Parse(xml, buf, 0, 1) == XML_STATUS_OK;
		XML_ParserFree(xml);
	}
	puts(ok && n == 0 ? "read" : "failed");
	return ok && n == 0 ? 0 : 1;
}

static int count(void *arg, const struct mhl2_entry *e, uintmax_t line, const char *why)
{
	(void)e, (void)line, (void)why;
	++*(uint64_t *)arg;
	return 0;
}

int main(int argc, char **argv)
{
	struct hash_ctx *c4 = hash_ctx_new(hash_lookup("sha512"));
	struct mhl2ahead_chunk chunk;
	struct mhl2ahead *a;
	uint64_t entries = 0;
	bool stopped = false;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: mhl-parse FILE PARSERS\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && c4 && (strcmp(argv[2], "bare") == 0 || strcmp(argv[2], "c4") == 0))
		return floor_only(fd, argv[2][0] == 'b', c4);
	a = fd >= 0 && c4 ? mhl2ahead_start(fd, MHL2_DOC_GENERATION, c4,
					    (unsigned)strtoul(argv[2], NULL, 10), 0) : NULL;
	if (!a) {
		perror(argv[1]);
		return 2;
	}
	while (mhl2ahead_next(a, count, &entries, &chunk) > 0)
		stopped |= chunk.stopped;
	printf("%ju entries, %ju pieces\n", (uintmax_t)entries, (uintmax_t)mhl2ahead_pieces(a));
	mhl2ahead_free(a);
	hash_ctx_free(c4);
	close(fd);
	return stopped ? 1 : 0;
}
