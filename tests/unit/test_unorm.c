/* SPDX-License-Identifier: 0BSD */
/**
 * Unit tests of libcommon/unorm (NFC, NFD): known pairs from the Unicode
 * data, canonical order, Hangul by arithmetic, and names that are not UTF-8
 * left alone. (The tables were also checked against python3's unicodedata
 * for every code point when they were generated.)
 */
#include "prelude.h"
#include "unit.h"
#include "unorm.h"
#include <errno.h>
#include <string.h>

/* Whether normalizing in to form gives want. */
static bool gives(enum unorm_form form, const char *in, const char *want)
{
	struct dbuf out;
	bool ok;

	dbuf_init(&out);
	ok = unorm_normalize(form, in, strlen(in), &out) == 0 && out.len == strlen(want) &&
	     memcmp(out.data, want, out.len) == 0;
	dbuf_free(&out);
	return ok;
}

UNIT_TEST(unorm_known_pairs)
{
	/* é: U+00E9 <-> U+0065 U+0301 */
	EXPECT(gives(UNORM_NFD, "caf\xc3\xa9", "cafe\xcc\x81"));
	EXPECT(gives(UNORM_NFC, "cafe\xcc\x81", "caf\xc3\xa9"));
	EXPECT(gives(UNORM_NFC, "caf\xc3\xa9", "caf\xc3\xa9"));
	EXPECT(gives(UNORM_NFD, "cafe\xcc\x81", "cafe\xcc\x81"));
	/* Å (U+00C5) and the Angstrom sign U+212B, a singleton: both A U+030A in NFD, U+00C5 in NFC. */
	EXPECT(gives(UNORM_NFD, "\xe2\x84\xab", "A\xcc\x8a"));
	EXPECT(gives(UNORM_NFC, "\xe2\x84\xab", "\xc3\x85"));
	/* ǖ (U+01D6): u, diaeresis, macron, two levels deep. */
	EXPECT(gives(UNORM_NFD, "\xc7\x96", "u\xcc\x88\xcc\x84"));
	EXPECT(gives(UNORM_NFC, "u\xcc\x88\xcc\x84", "\xc7\x96"));
	/* ASCII and an empty name are their own forms. */
	EXPECT(gives(UNORM_NFC, "plain/name.txt", "plain/name.txt"));
	EXPECT(gives(UNORM_NFD, "", ""));
}

UNIT_TEST(unorm_canonical_order)
{
	/* a, dot below (220) after acute (230): reordered, then ạ (U+1EA1) + acute. */
	EXPECT(gives(UNORM_NFD, "a\xcc\x81\xcc\xa3", "a\xcc\xa3\xcc\x81"));
	EXPECT(gives(UNORM_NFC, "a\xcc\x81\xcc\xa3", "\xe1\xba\xa1\xcc\x81"));
	/* A composition exclusion stays decomposed: U+0958 is U+0915 U+093C in NFC too. */
	EXPECT(gives(UNORM_NFC, "\xe0\xa5\x98", "\xe0\xa4\x95\xe0\xa4\xbc"));
}

UNIT_TEST(unorm_hangul)
{
	/* 한 (U+D55C) = ᄒ U+1112, ᅡ U+1161, ᆫ U+11AB; 가 (U+AC00) = U+1100 U+1161, no final. */
	EXPECT(gives(UNORM_NFD, "\xed\x95\x9c", "\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab"));
	EXPECT(gives(UNORM_NFC, "\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab", "\xed\x95\x9c"));
	EXPECT(gives(UNORM_NFD, "\xea\xb0\x80", "\xe1\x84\x80\xe1\x85\xa1"));
	EXPECT(gives(UNORM_NFC, "\xe1\x84\x80\xe1\x85\xa1", "\xea\xb0\x80"));
	/* An LV syllable and a T jamo compose: 가 + ᆨ (U+11A8) = 각 (U+AC01). */
	EXPECT(gives(UNORM_NFC, "\xea\xb0\x80\xe1\x86\xa8", "\xea\xb0\x81"));
}

UNIT_TEST(unorm_invalid_utf8)
{
	static const char *const bad[] = {
		"caf\xe9",               /* Latin-1 é */
		"\xc3",                  /* cut */
		"\xc0\xaf",              /* overlong '/' */
		"\xed\xa0\x80",          /* a surrogate */
		"\xf4\x90\x80\x80",      /* past U+10FFFF */
		"a\xcc",                 /* a cut mark */
	};
	struct dbuf out;

	dbuf_init(&out);
	dbuf_puts(&out, "kept");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		EXPECT(unorm_normalize(UNORM_NFD, bad[i], strlen(bad[i]), &out) == -1);
		EXPECT(errno == EILSEQ);
		EXPECT(unorm_normalize(UNORM_NFC, bad[i], strlen(bad[i]), &out) == -1);
		EXPECT(out.len == 4 && memcmp(out.data, "kept", 4) == 0);
	}
	dbuf_free(&out);
	EXPECT(strlen(unorm_version()) > 0);
}
