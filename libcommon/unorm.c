/* SPDX-License-Identifier: 0BSD */
/**
 * NFC and NFD (unorm.h), after UAX #15: decode the UTF-8, decompose each
 * code point fully (the tables hold full decompositions, so no recursion
 * here), put each run of combining marks in canonical order (a stable sort
 * by combining class), and for NFC compose again, left to right, each mark
 * with the last starter unless a mark between them blocks it.
 */
#include "prelude.h"
#include "unorm.h"
#include "unorm_data.h"
#include "grow.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Hangul syllables, composed and decomposed by arithmetic (Unicode, 3.12). */
#define HANGUL_S 0xAC00u
#define HANGUL_L 0x1100u
#define HANGUL_V 0x1161u
#define HANGUL_T 0x11A7u
#define HANGUL_LCOUNT 19u
#define HANGUL_VCOUNT 21u
#define HANGUL_TCOUNT 28u
#define HANGUL_NCOUNT (HANGUL_VCOUNT * HANGUL_TCOUNT)
#define HANGUL_SCOUNT (HANGUL_LCOUNT * HANGUL_NCOUNT)

/* A growing array of code points. */
struct code_points {
	uint32_t *v;
	size_t n, cap;
};

static int push(struct code_points *cps, uint32_t cp)
{
	if (GROW(cps->v, &cps->cap, cps->n + 1, 64) != 0)
		return -1;
	cps->v[cps->n++] = cp;
	return 0;
}

/*
 * Decode the code point at s[*at] (len bytes in all), strictly: no overlong
 * form, no surrogate, nothing past U+10FFFF, no cut sequence. Returns the
 * code point and moves *at past it, or -1.
 */
static int32_t decode(const unsigned char *s, size_t len, size_t *at)
{
	static const uint32_t least[] = { 0, 0, 0x80, 0x800, 0x10000 };
	unsigned char b = s[*at];
	size_t need, i;
	uint32_t cp;

	if (b < 0x80) {
		(*at)++;
		return b;
	}
	if (b >= 0xC0 && b < 0xE0) {
		need = 2;
		cp = b & 0x1F;
	} else if (b >= 0xE0 && b < 0xF0) {
		need = 3;
		cp = b & 0x0F;
	} else if (b >= 0xF0 && b < 0xF5) {
		need = 4;
		cp = b & 0x07;
	} else {
		return -1;
	}
	if (len - *at < need)
		return -1;
	for (i = 1; i < need; i++) {
		if ((s[*at + i] & 0xC0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[*at + i] & 0x3F);
	}
	if (cp < least[need] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	*at += need;
	return (int32_t)cp;
}

static int encode(struct dbuf *out, uint32_t cp)
{
	char buf[4];
	size_t n;

	if (cp < 0x80) {
		buf[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		buf[0] = (char)(0xC0 | (cp >> 6));
		buf[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		buf[0] = (char)(0xE0 | (cp >> 12));
		buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		buf[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		buf[0] = (char)(0xF0 | (cp >> 18));
		buf[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		buf[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		buf[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return dbuf_append(out, buf, n);
}

static unsigned combining_class(uint32_t cp)
{
	size_t lo = 0, hi = unorm_nclasses;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (unorm_classes[mid].cp == cp)
			return unorm_classes[mid].ccc;
		if (unorm_classes[mid].cp < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static const struct unorm_decomp *decomposition(uint32_t cp)
{
	size_t lo = 0, hi = unorm_ndecomps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (unorm_decomps[mid].cp == cp)
			return &unorm_decomps[mid];
		if (unorm_decomps[mid].cp < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The primary composite of first and second, or 0 when they do not compose. */
static uint32_t composite(uint32_t first, uint32_t second)
{
	size_t lo = 0, hi = unorm_npairs;

	if (first >= HANGUL_L && first < HANGUL_L + HANGUL_LCOUNT && second >= HANGUL_V &&
	    second < HANGUL_V + HANGUL_VCOUNT)
		return HANGUL_S + ((first - HANGUL_L) * HANGUL_VCOUNT + (second - HANGUL_V)) *
				  HANGUL_TCOUNT;
	if (first >= HANGUL_S && first < HANGUL_S + HANGUL_SCOUNT &&
	    (first - HANGUL_S) % HANGUL_TCOUNT == 0 && second > HANGUL_T &&
	    second < HANGUL_T + HANGUL_TCOUNT)
		return first + (second - HANGUL_T);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct unorm_pair *pair = &unorm_pairs[mid];

		if (pair->first == first && pair->second == second)
			return pair->composite;
		if (pair->first < first || (pair->first == first && pair->second < second))
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Append cp's full canonical decomposition (cp itself when it has none). */
static int decompose(struct code_points *cps, uint32_t cp)
{
	const struct unorm_decomp *d;

	if (cp >= HANGUL_S && cp < HANGUL_S + HANGUL_SCOUNT) {
		uint32_t s = cp - HANGUL_S, t = s % HANGUL_TCOUNT;

		if (push(cps, HANGUL_L + s / HANGUL_NCOUNT) != 0 ||
		    push(cps, HANGUL_V + (s % HANGUL_NCOUNT) / HANGUL_TCOUNT) != 0)
			return -1;
		return t ? push(cps, HANGUL_T + t) : 0;
	}
	d = decomposition(cp);
	if (!d)
		return push(cps, cp);
	for (size_t i = 0; i < d->len; i++)
		if (push(cps, unorm_pool[d->offset + i]) != 0)
			return -1;
	return 0;
}

/* Canonical order: each run of non-starters sorted by class, stably. */
static void reorder(struct code_points *cps)
{
	for (size_t i = 1; i < cps->n; i++) {
		uint32_t cp = cps->v[i];
		unsigned ccc = combining_class(cp);
		size_t j = i;

		if (ccc == 0)
			continue;
		while (j > 0) {
			unsigned before = combining_class(cps->v[j - 1]);

			if (before == 0 || before <= ccc)
				break;
			cps->v[j] = cps->v[j - 1];
			j--;
		}
		cps->v[j] = cp;
	}
}

/*
 * Canonical composition in place: each character composes with the last
 * starter when nothing between them blocks it (a character between of
 * class 0, or of a class not below its own).
 */
static void compose(struct code_points *cps)
{
	size_t starter = 0, n = 0;
	bool have_starter = false;

	for (size_t i = 0; i < cps->n; i++) {
		uint32_t cp = cps->v[i], made;
		unsigned ccc = combining_class(cp);

		if (have_starter) {
			unsigned last = combining_class(cps->v[n - 1]);
			bool adjacent = n - 1 == starter;

			if ((adjacent || (last != 0 && last < ccc)) &&
			    (made = composite(cps->v[starter], cp)) != 0) {
				cps->v[starter] = made;
				continue;
			}
		}
		if (ccc == 0) {
			starter = n;
			have_starter = true;
		}
		cps->v[n++] = cp;
	}
	cps->n = n;
}

int unorm_normalize(enum unorm_form form, const char *text, size_t len, struct dbuf *out)
{
	const unsigned char *s = (const unsigned char *)text;
	struct code_points cps = { NULL, 0, 0 };
	size_t at = 0, before = out->len;
	int rc = -1;

	while (at < len && s[at] < 0x80)
		at++;
	if (at == len) /* ASCII is its own normal form */
		return dbuf_append(out, text, len);
	at = 0;
	while (at < len) {
		int32_t cp = decode(s, len, &at);

		if (cp < 0) {
			errno = EILSEQ;
			goto out;
		}
		if (decompose(&cps, (uint32_t)cp) != 0)
			goto nomem;
	}
	reorder(&cps);
	if (form == UNORM_NFC)
		compose(&cps);
	for (size_t i = 0; i < cps.n; i++)
		if (encode(out, cps.v[i]) != 0)
			goto nomem;
	rc = 0;
	goto out;
nomem:
	errno = ENOMEM;
out:
	if (rc != 0)
		dbuf_truncate(out, before);
	free(cps.v);
	return rc;
}

const char *unorm_version(void)
{
	return unorm_unicode_version;
}
