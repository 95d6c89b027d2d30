/* SPDX-License-Identifier: 0BSD */
/** Unit tests of libcommon/exclude: the defaults, names, paths, anchors, directories. */
#include "prelude.h"
#include "unit.h"
#include "exclude.h"
#include <errno.h>
#include <string.h>

UNIT_TEST(exclude_defaults_match_volatile_names)
{
	struct exclude set;

	exclude_init(&set);
	EXPECT(exclude_add_defaults(&set) == 0);
	EXPECT(exclude_match(&set, ".DS_Store", "a/.DS_Store", false));
	EXPECT(exclude_match(&set, "._photo.jpg", "deep/er/._photo.jpg", false));
	EXPECT(exclude_match(&set, ".Spotlight-V100", ".Spotlight-V100", true));
	EXPECT(exclude_match(&set, "lost+found", "lost+found", true));
	EXPECT(exclude_match(&set, "Thumbs.db", "x/Thumbs.db", false));
	EXPECT(exclude_match(&set, "desktop.ini", "desktop.ini", false));
	EXPECT(!exclude_match(&set, "photo.jpg", "photo.jpg", false));
	EXPECT(!exclude_match(&set, "_x", "_x", false));
	EXPECT(!exclude_match(&set, ".DS_Store.bak", ".DS_Store.bak", false));
	exclude_fini(&set);
	exclude_fini(&set); /* idempotent */
}

UNIT_TEST(exclude_globs_as_pfind)
{
	struct exclude set;

	exclude_init(&set);
	EXPECT(exclude_match(&set, "a.tmp", "a.tmp", false) == false); /* empty set */
	EXPECT(exclude_add(&set, "*.tmp") == 0);
	EXPECT(exclude_add(&set, "cache/*.o") == 0);
	EXPECT(exclude_add(&set, "/top") == 0);
	EXPECT(exclude_add(&set, "build/") == 0);
	/* No '/': the name, at any depth; '*' matches a leading dot (find -name). */
	EXPECT(exclude_match(&set, "a.tmp", "x/y/a.tmp", false));
	EXPECT(exclude_match(&set, ".a.tmp", ".a.tmp", false));
	EXPECT(!exclude_match(&set, "a.tmpx", "a.tmpx", false));
	/* A '/': the path below the root, where '*' crosses '/' (find -path). */
	EXPECT(exclude_match(&set, "m.o", "cache/m.o", false));
	EXPECT(exclude_match(&set, "m.o", "cache/sub/m.o", false));
	EXPECT(!exclude_match(&set, "m.o", "x/cache/m.o", false));
	/* A leading '/': anchored at the root. */
	EXPECT(exclude_match(&set, "top", "top", true));
	EXPECT(!exclude_match(&set, "top", "x/top", true));
	/* A trailing '/': directories only. */
	EXPECT(exclude_match(&set, "build", "src/build", true));
	EXPECT(!exclude_match(&set, "build", "src/build", false));
	exclude_fini(&set);
}

UNIT_TEST(exclude_plain_names_compare_whole_and_globs_still_match)
{
	struct exclude set;

	exclude_init(&set);
	EXPECT(exclude_add(&set, "lost+found") == 0); /* plain: compared */
	EXPECT(exclude_add(&set, "a/b.txt") == 0);    /* plain path */
	EXPECT(exclude_add(&set, "\\*star") == 0);    /* an escape: fnmatch's */
	EXPECT(exclude_add(&set, "x[1]") == 0);       /* a bracket: fnmatch's */
	EXPECT(exclude_match(&set, "lost+found", "d/lost+found", true));
	EXPECT(!exclude_match(&set, "lost+foun", "lost+foun", true));
	EXPECT(!exclude_match(&set, "lost+found2", "lost+found2", true));
	EXPECT(exclude_match(&set, "b.txt", "a/b.txt", false));
	EXPECT(!exclude_match(&set, "b.txt", "x/a/b.txt", false));
	EXPECT(!exclude_match(&set, "c", "a/b.txt/c", false));
	EXPECT(exclude_match(&set, "*star", "*star", false));
	EXPECT(!exclude_match(&set, "xstar", "xstar", false));
	EXPECT(!exclude_match(&set, "\\*star", "\\*star", false));
	EXPECT(exclude_match(&set, "x1", "x1", false));
	EXPECT(!exclude_match(&set, "x[1]", "x[1]", false));
	exclude_fini(&set);
}

UNIT_TEST(exclude_refuses_empty_patterns_and_records_them)
{
	struct exclude set;
	struct dbuf line;

	exclude_init(&set);
	dbuf_init(&line);
	errno = 0;
	EXPECT(exclude_add(&set, "") == -1 && errno == EINVAL);
	EXPECT(exclude_add(&set, "//") == -1 && errno == EINVAL);
	EXPECT(exclude_format_comment(&set, &line) == 0);
	EXPECT(line.len == strlen("#exclude\n") && memcmp(line.data, "#exclude\n", line.len) == 0);
	EXPECT(exclude_add(&set, "*.tmp") == 0);
	EXPECT(exclude_add(&set, "a\tb\\") == 0);
	dbuf_clear(&line);
	EXPECT(exclude_format_comment(&set, &line) == 0);
	EXPECT(line.len == strlen("#exclude\t*.tmp\ta\\tb\\\\\n") &&
	       memcmp(line.data, "#exclude\t*.tmp\ta\\tb\\\\\n", line.len) == 0);
	dbuf_free(&line);
	exclude_fini(&set);
}
