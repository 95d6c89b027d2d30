/* SPDX-License-Identifier: 0BSD */
/**
 * The parse ahead (mhl2ahead.h) gives what a reader fed in place gives: the
 * same entries and problems in the same order, every byte of the file in
 * order (and into the digest), the same stop where the file is malformed, and a stop where the
 * caller's callback fails.
 */
#include "prelude.h"
#include "unit.h"
#include "dbuf.h"
#include "hash.h"
#include "mhl2.h"
#include "mhl2ahead.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A generation of n files (about 250 bytes each), with bad as the text of
 * file number at (a malformed entry, or a break in the XML). */
static void make_generation(struct dbuf *doc, size_t n, size_t at, const char *bad)
{
	dbuf_clear(doc);
	dbuf_printf(doc, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<hashlist version=\"2.0\" xmlns=\"urn:ASC:MHL:v2.0\">\n"
		    "<processinfo><process>in-place</process><roothash><content>"
		    "<md5>0123456789abcdef0123456789abcdef</md5></content><structure>"
		    "<md5>0123456789abcdef0123456789abcdef</md5></structure></roothash>"
		    "<ignore><pattern>.DS_Store</pattern></ignore></processinfo>\n<hashes>\n");
	for (size_t i = 0; i < n; i++) {
		if (bad && i == at) {
			dbuf_printf(doc, "%s\n", bad);
			continue;
		}
		dbuf_printf(doc, "<hash><path size=\"%zu\">d%03zu/f &amp; %zu</path>"
			    "<md5 action=\"original\">%032zx</md5>"
			    "<xxh64 action=\"verified\" hashdate=\"2026-12-04T00:00:00+00:00\">%016zx</xxh64>"
			    "</hash>\n", i * 7, i % 100, i, i, i * 3);
		if (i % 50 == 49)
			dbuf_printf(doc, "<directoryhash><path>d%03zu</path><content>"
				    "<md5>%032zx</md5></content><structure><md5>%032zx</md5>"
				    "</structure></directoryhash>\n", i % 100, i, i + 1);
	}
	dbuf_printf(doc, "</hashes>\n</hashlist>\n");
}

/* Each entry as a line of text; fail_at: the callback fails (EMLINK) on that entry (1-based). */
struct log {
	struct dbuf text;
	size_t entries, fail_at;
};

static int log_entry(void *arg, const struct mhl2_entry *e, uintmax_t line, const char *why)
{
	struct log *log = arg;

	if (++log->entries == log->fail_at) {
		errno = EMLINK;
		return -1;
	}
	if (!e)
		return dbuf_printf(&log->text, "malformed %ju %s\n", line, why);
	dbuf_printf(&log->text, "%d %s %d %ju %ju %ju", (int)e->kind, e->path ? e->path : "(none)",
		    e->has_size, (uintmax_t)e->size, (uintmax_t)e->sequence, e->line);
	for (size_t k = 0; k < e->ndigests; k++)
		dbuf_printf(&log->text, " %d:%s:%s:%s", (int)e->digests[k].format,
			    e->digests[k].value ? e->digests[k].value : "-",
			    e->digests[k].structure ? e->digests[k].structure : "-",
			    e->digests[k].action ? e->digests[k].action : "-");
	return dbuf_printf(&log->text, "\n");
}

/* The file of doc's text, open for reading from its start. */
static int file_of(const struct dbuf *doc)
{
	char path[] = "/tmp/ptools-unit-ahead-XXXXXX";
	int fd = mkstemp(path);

	EXPECT(fd >= 0);
	if (fd < 0)
		return -1;
	unlink(path);
	EXPECT(write(fd, doc->data, doc->len) == (ssize_t)doc->len);
	EXPECT(lseek(fd, 0, SEEK_SET) == 0);
	return fd;
}

/* What the parse in place gives: the log, whether it stopped, the line and why. */
struct outcome {
	struct log log;
	bool stopped;
	int error;
	uintmax_t line;
	char why[256];
	struct dbuf bytes;        /* what the chunks held, in order */
	uint64_t pieces;          /* chunks parsed alone */
};

static void outcome_init(struct outcome *o, size_t fail_at)
{
	memset(o, 0, sizeof(*o));
	dbuf_init(&o->log.text);
	dbuf_init(&o->bytes);
	o->log.fail_at = fail_at;
}

static void outcome_fini(struct outcome *o)
{
	dbuf_free(&o->log.text);
	dbuf_free(&o->bytes);
}

static void parse_in_place(const struct dbuf *doc, struct outcome *o)
{
	struct mhl2_reader *r = mhl2_reader_new(MHL2_DOC_GENERATION, log_entry, &o->log);
	const char *why = NULL;
	size_t step = 4096;

	EXPECT(r != NULL);
	for (size_t at = 0; r && at <= doc->len && !o->stopped; at += step) {
		size_t n = doc->len - at < step ? doc->len - at : step;

		errno = 0;
		if (mhl2_feed(r, doc->data + at, n, n < step, &why) != 0) {
			o->stopped = true;
			o->error = errno;
			o->line = mhl2_line(r);
			snprintf(o->why, sizeof(o->why), "%s", o->error ? "" : why);
		}
		if (n < step)
			break;
	}
	mhl2_reader_free(r);
}

/* How the parse ahead runs: inline, one parser, pieces (default and small). */
static const struct how {
	unsigned parsers;
	size_t piece;
} hows[] = {{0, 0}, {1, 0}, {3, 0}, {3, 300}, {2, 5000}};

static void parse_ahead(const struct dbuf *doc, bool whole, const struct how *how,
			struct outcome *o)
{
	int fd = file_of(doc);
	struct hash_ctx *digest = whole ? hash_ctx_new(hash_lookup("sha512")) : NULL;
	struct mhl2ahead *a = fd >= 0 ? mhl2ahead_start(fd, MHL2_DOC_GENERATION, digest,
							how->parsers, how->piece) : NULL;
	struct mhl2ahead_chunk chunk;
	int more = -1;

	EXPECT(a != NULL);
	while (a && (more = mhl2ahead_next(a, log_entry, &o->log, &chunk)) > 0) {
		EXPECT(!chunk.read_failed);
		dbuf_append(&o->bytes, chunk.bytes, chunk.len);
		if (chunk.stopped) {
			EXPECT(!o->stopped); /* once */
			o->stopped = true;
			o->error = chunk.error;
			o->line = chunk.line;
			snprintf(o->why, sizeof(o->why), "%s", chunk.error ? "" : chunk.why);
		}
	}
	EXPECT(more == 0);
	if (a)
		o->pieces = mhl2ahead_pieces(a);
	/* The digest, hashed on the reading thread, is of every byte. */
	if (a && digest) {
		unsigned char got[64], want[64];

		EXPECT(mhl2ahead_digest_status(a) == 0);
		EXPECT(hash_ctx_final(digest, got) == 0);
		struct hash_ctx *whole_doc = hash_ctx_new(hash_lookup("sha512"));

		EXPECT(whole_doc && hash_ctx_update(whole_doc, doc->data, doc->len) == 0 &&
		       hash_ctx_final(whole_doc, want) == 0);
		hash_ctx_free(whole_doc);
		EXPECT(memcmp(got, want, sizeof(got)) == 0);
	}
	mhl2ahead_free(a);
	hash_ctx_free(digest);
	if (fd >= 0)
		close(fd);
}

/* Parsed ahead, every way, doc gives what it gives in place; returns the
 * most chunks parsed alone in any one way. */
static uint64_t expect_same(const struct dbuf *doc, size_t fail_at, bool whole, bool whole_read)
{
	struct outcome in_place, ahead;
	uint64_t pieces = 0;

	outcome_init(&in_place, fail_at);
	parse_in_place(doc, &in_place);
	EXPECT(in_place.log.text.len > 0);
	for (size_t h = 0; h < sizeof(hows) / sizeof(hows[0]); h++) {
		outcome_init(&ahead, fail_at);
		parse_ahead(doc, whole, &hows[h], &ahead);
		if (hows[h].parsers < 2)
			EXPECT(ahead.pieces == 0);
		pieces = ahead.pieces > pieces ? ahead.pieces : pieces;
		EXPECT(ahead.log.text.len == in_place.log.text.len &&
		       memcmp(ahead.log.text.data, in_place.log.text.data, in_place.log.text.len) == 0);
		EXPECT(ahead.stopped == in_place.stopped && ahead.error == in_place.error);
		EXPECT(strcmp(ahead.why, in_place.why) == 0);
		if (!in_place.error)
			EXPECT(ahead.line == in_place.line);
		/* Every byte, in order, for a digest of the whole file; or, past a
		 * stop without whole, the bytes up to it only. */
		if (whole_read)
			EXPECT(ahead.bytes.len == doc->len &&
			       memcmp(ahead.bytes.data, doc->data, doc->len) == 0);
		else /* (pieces in flight may hold the whole file) */
			EXPECT((ahead.bytes.len < doc->len || hows[h].parsers > 1) &&
			       memcmp(ahead.bytes.data, doc->data, ahead.bytes.len) == 0);
		outcome_fini(&ahead);
	}
	outcome_fini(&in_place);
	return pieces;
}

UNIT_TEST(mhl2ahead_gives_the_entries_and_bytes_a_reader_in_place_gives)
{
	struct dbuf doc;

	dbuf_init(&doc);
	/* About 1.5 MB: many more chunks than are in flight at once. */
	make_generation(&doc, 6000, 0, NULL);
	EXPECT(doc.len > (size_t)1 << 20);
	EXPECT(expect_same(&doc, 0, true, true) > 1000);
	expect_same(&doc, 0, false, true);
	/* A malformed entry is reported in its place and the parse goes on. */
	make_generation(&doc, 6000, 3000, "<hash><path size=\"x\">bad size</path><md5>00</md5></hash>");
	expect_same(&doc, 0, true, true);
	dbuf_free(&doc);
}

UNIT_TEST(mhl2ahead_stops_where_the_xml_breaks_and_reads_on_only_for_whole)
{
	struct dbuf doc;

	dbuf_init(&doc);
	make_generation(&doc, 6000, 400, "<hash><path>broken</hash>");
	expect_same(&doc, 0, true, true);
	expect_same(&doc, 0, false, false);
	dbuf_free(&doc);
}

UNIT_TEST(mhl2ahead_stops_the_parse_where_the_callback_fails)
{
	struct dbuf doc;

	dbuf_init(&doc);
	make_generation(&doc, 6000, 0, NULL);
	/* The entries before the failure, then the callback's errno, no more. */
	expect_same(&doc, 1000, true, true);
	expect_same(&doc, 1000, false, false);
	dbuf_free(&doc);
}

UNIT_TEST(mhl2ahead_can_be_freed_before_the_end)
{
	struct dbuf doc;
	struct log log = {0};
	struct mhl2ahead_chunk chunk;
	int fd;
	struct mhl2ahead *a;

	dbuf_init(&doc);
	dbuf_init(&log.text);
	make_generation(&doc, 6000, 0, NULL);
	fd = file_of(&doc);
	for (size_t h = 0; h < sizeof(hows) / sizeof(hows[0]); h++) {
		EXPECT(lseek(fd, 0, SEEK_SET) == 0);
		a = mhl2ahead_start(fd, MHL2_DOC_GENERATION, NULL, hows[h].parsers, hows[h].piece);
		EXPECT(a != NULL);
		EXPECT(a && mhl2ahead_next(a, log_entry, &log, &chunk) == 1);
		mhl2ahead_free(a); /* threads waiting for a free slot must end */
	}
	close(fd);
	dbuf_free(&log.text);
	dbuf_free(&doc);
}

/* doc with each "\n" made eol. */
static void line_ends(struct dbuf *doc, const char *eol)
{
	struct dbuf out;

	dbuf_init(&out);
	for (size_t i = 0; i < doc->len; i++)
		if (doc->data[i] == '\n')
			dbuf_puts(&out, eol);
		else
			dbuf_putc(&out, doc->data[i]);
	dbuf_clear(doc);
	dbuf_append(doc, out.data, out.len);
	dbuf_free(&out);
}

UNIT_TEST(mhl2ahead_pieces_report_the_lines_one_parse_reports)
{
	static const char *const eols[] = {"\n", "\r\n", "\r", "\n\r"};
	struct dbuf doc;

	dbuf_init(&doc);
	/* Problems far into the body, in pieces parsed alone, whatever ends
	 * the lines: lines counted as expat counts them. */
	for (size_t e = 0; e < sizeof(eols) / sizeof(eols[0]); e++) {
		make_generation(&doc, 3000, 2500, "<hash><path size=\"x\">bad\nsize</path><md5>00</md5></hash>");
		line_ends(&doc, eols[e]);
		EXPECT(expect_same(&doc, 0, true, true) > 100);
		make_generation(&doc, 3000, 2500, "<hash><path>broken\n</hash>");
		line_ends(&doc, eols[e]);
		expect_same(&doc, 0, true, true);
	}
	dbuf_free(&doc);
}

UNIT_TEST(mhl2ahead_pieces_stop_where_one_parse_stops_wherever_the_file_is_cut)
{
	struct dbuf doc, cut;

	dbuf_init(&doc);
	dbuf_init(&cut);
	make_generation(&doc, 300, 200, "<hash><path size=\"x\">bad size</path><md5>00</md5></hash>");
	/* Cut anywhere past the head: in a tag, a piece, the tail. */
	for (size_t at = 600; at < doc.len; at += 997) {
		dbuf_clear(&cut);
		dbuf_append(&cut, doc.data, at);
		expect_same(&cut, 0, true, true);
		/* ...and after the entries already given, the callback fails. */
		expect_same(&cut, 150, true, true);
	}
	dbuf_free(&cut);
	dbuf_free(&doc);
}

UNIT_TEST(mhl2ahead_pieces_are_not_cut_inside_markup)
{
	struct dbuf doc;

	dbuf_init(&doc);
	/* Comments, CDATA, processing instructions and attribute values that
	 * hold what looks like markup, between and inside the entries; an
	 * element of another name around some; a second <hashes>. */
	dbuf_printf(&doc, "<?xml version='1.0' encoding='utf-8'?>\n<!-- <hashes> -->"
		    "<hashlist version=\"2.0\"><hashes>\n");
	for (size_t i = 0; i < 2000; i++) {
		switch (i % 7) {
		case 0:
			dbuf_printf(&doc, "<!-- <hash><path>no%zu</path></hash> </hashes> -->\n", i);
			break;
		case 1:
			dbuf_printf(&doc, "<?pi </hashes><hash> ?>\n");
			break;
		case 2:
			dbuf_printf(&doc, "<hash><path><![CDATA[c<%zu>]]></path><md5>%032zx</md5></hash>\n", i, i);
			break;
		case 3:
			dbuf_printf(&doc, "<other a=\"/>&lt;/hashes>\" b='>'><hash><path>in%zu</path>"
				    "<md5>%032zx</md5></hash></other>\n", i, i);
			break;
		case 4:
			dbuf_printf(&doc, "<hash x='/'><path>p%zu</path><md5>%032zx</md5><empty/></hash>\n", i, i);
			break;
		case 5:
			dbuf_printf(&doc, "</hashes><hashes><hash><path>again%zu</path><md5>%032zx</md5></hash>\n", i, i);
			break;
		default:
			dbuf_printf(&doc, "<hash><path size=\"x\">bad%zu</path><md5>%032zx</md5></hash>\n", i, i);
			break;
		}
	}
	dbuf_printf(&doc, "</hashes></hashlist>\n");
	EXPECT(expect_same(&doc, 0, true, true) > 100);
	dbuf_free(&doc);
}

UNIT_TEST(mhl2ahead_a_break_far_past_the_last_piece_is_reported_as_one_parse_reports)
{
	static const char end[] = "</hashes>\n</hashlist>\n";
	struct dbuf doc;

	dbuf_init(&doc);
	/* After <hashes>, entries in another element (no points there): the
	 * main reader's chunks after the last piece give entries before the
	 * break, which the reparse from that piece's end must not give again. */
	make_generation(&doc, 3000, 0, NULL);
	EXPECT(doc.len > sizeof(end) && strcmp(doc.data + doc.len - (sizeof(end) - 1), end) == 0);
	dbuf_truncate(&doc, doc.len - (sizeof(end) - 1));
	dbuf_puts(&doc, "</hashes>\n<other>\n");
	for (size_t i = 0; i < 2000; i++)
		dbuf_printf(&doc, "<hash><path>o%zu</path><md5>%032zx</md5></hash>\n", i, i);
	dbuf_puts(&doc, "<hash><path>broken</hash>\n</other></hashlist>\n");
	EXPECT(expect_same(&doc, 0, true, true) > 100);
	dbuf_free(&doc);
}

UNIT_TEST(mhl2ahead_a_reparse_of_a_file_with_a_byte_order_mark_says_so_as_one_parse_does)
{
	struct dbuf doc, bom;
	struct outcome in_place;

	dbuf_init(&doc);
	dbuf_init(&bom);
	/* Junk after the root: the main reader fails in the tail, after the
	 * pieces, and the reparse's reason must mention the mark too. */
	make_generation(&doc, 3000, 0, NULL);
	dbuf_puts(&bom, "\xef\xbb\xbf");
	dbuf_append(&bom, doc.data, doc.len);
	dbuf_puts(&bom, "junk\n");
	outcome_init(&in_place, 0);
	parse_in_place(&bom, &in_place);
	EXPECT(in_place.stopped && strstr(in_place.why, "byte-order mark") != NULL);
	outcome_fini(&in_place);
	EXPECT(expect_same(&bom, 0, true, true) > 100);
	dbuf_free(&bom);
	dbuf_free(&doc);
}
