/* SPDX-License-Identifier: 0BSD */
/** pfind: walk trees in parallel and write one record per entry (format v1). */
#include "prelude.h"
#include "diag.h"
#include "expr.h"
#include "out.h"
#include "record.h"
#include "walk.h"
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Each thread's output buffer goes to the sink in writes of about this size. */
#define PFIND_FLUSH_AT ((size_t)256 << 10)

enum field {
	FIELD_TYPE,
	FIELD_MTIME,
	FIELD_MODE,
	FIELD_NLINK,
	FIELD_UID,
	FIELD_GID,
	FIELD_DEV,
	FIELD_LINK,
	FIELD_DEPTH,
};

static const char *const field_names[] = {
	[FIELD_TYPE] = "type",
	[FIELD_MTIME] = "mtime",
	[FIELD_MODE] = "mode",
	[FIELD_NLINK] = "nlink",
	[FIELD_UID] = "uid",
	[FIELD_GID] = "gid",
	[FIELD_DEV] = "dev",
	[FIELD_LINK] = "link",
	[FIELD_DEPTH] = "depth",
};

/*
 * Everything the visit callback reads; set up by main before the walk,
 * read-only during it except quit, an atomic.
 */
struct pfind {
	struct expr *expr;
	struct expr_options options;
	bool print0;
	bool no_hidden;
	char **excludes;
	size_t nexcludes;
	enum field fields[32];
	size_t nfields;
	struct out *sink;
	/* Set by the one visit whose -quit ends the walk: no other entry's
	 * output is kept after it. */
	atomic_bool quit;
};

/* One walking thread's state. */
struct pfind_thread {
	struct pfind *pfind;
	struct outbuf out;
	/* The last directory prefix ("dir/") raw and escaped: entries of one
	 * directory share it, and escaping a deep path byte by byte for each
	 * of them would cost more than the stat. */
	struct dbuf dir_raw, dir_escaped;
};

static const char usage_text[] =
	"Usage: pfind [OPTIONS] [PATH...] [EXPRESSION]\n"
	"Walk each PATH (default .) in parallel and write one record per entry:\n"
	"  INODE TAB SIZE TAB PATH [TAB KEY:VALUE]...\n"
	"\n"
	"Options (before the paths):\n"
	"  -j, --jobs N        worker threads (default: one per core, more when reads block)\n"
	"  -0, --print0        print bare paths ending in NUL (for xargs -0); no stat\n"
	"      --fields LIST   add attributes: type,mtime,mode,nlink,uid,gid,dev,link,depth\n"
	"      --sort          deterministic order: each directory's entries by name\n"
	"                      (byte order), then its subdirectories, recursively\n"
	"  -L, --follow        follow symbolic links; loops are reported\n"
	"      --xdev          do not descend into other filesystems (also -xdev)\n"
	"      --exclude GLOB  skip entries whose name matches GLOB (a GLOB with '/'\n"
	"                      matches the path), and do not enter such directories\n"
	"      --no-hidden     skip entries whose name starts with '.'\n"
	"      --help          show this help and exit\n"
	"      --version       show the version and exit\n"
	"\n"
	"Expression (after the paths), as in find(1):\n"
	"  -name GLOB  -iname GLOB  -path GLOB (or -wholename)  -ipath GLOB\n"
	"  -type [fdlpsbc][,...]  -size [+-]N[cwbkMG]  -mtime [+-]N  -mmin [+-]N\n"
	"  -newer FILE  -anewer FILE  -cnewer FILE  -empty  -true  -false\n"
	"  -newerXY REF entry's time X after REF's time Y (X, Y: a c m; Y t: REF is\n"
	"              a date: YYYY-MM-DD[ HH:MM[:SS[.FRAC]]], ...THH:MM:SS, @EPOCH)\n"
	"  -perm [-/]MODE (octal or symbolic: exactly, all of, any of the bits)\n"
	"  -user NAME|UID  -group NAME|GID  -nouser  -nogroup\n"
	"  -samefile FILE  -links [+-]N  -inum [+-]N\n"
	"  -regex ERE  -iregex ERE  (the whole path; POSIX extended, unlike find's\n"
	"              default: -regextype posix-extended is accepted)\n"
	"Actions:\n"
	"  -print       print the entry's record (once per -print reached; an\n"
	"              expression without -print or -print0 prints if true)\n"
	"  -print0      print the bare path and a NUL\n"
	"  -prune       do not descend into this directory (true)\n"
	"  -quit        stop the walk now; nothing more is printed\n"
	"Options spelled as tests (always true, wherever they stand):\n"	"  -mindepth N  -maxdepth N  -xdev (or -mount)  -follow (as -L)\n"
	"  -ignore_readdir_race  -noignore_readdir_race (say nothing of entries\n"
	"              that vanish during the walk, or do: the default)\n"
	"  ! EXPR  -not EXPR  EXPR [-a|-and] EXPR  EXPR -o|-or EXPR  ( EXPR )\n"
	"\n"
	"Exit status: 0 all good, 1 some entry could not be read, 2 usage error.\n";

/* Whether an entry is skipped by --exclude or --no-hidden (roots never are). */
static bool excluded(const struct pfind *pf, const struct walk_entry *entry)
{
	if (entry->depth == 0)
		return false;
	if (pf->no_hidden && entry->name[0] == '.')
		return true;
	for (size_t i = 0; i < pf->nexcludes; i++) {
		const char *pattern = pf->excludes[i];
		const char *subject = strchr(pattern, '/') ? entry->path : entry->name;

		if (fnmatch(pattern, subject, 0) == 0)
			return true;
	}
	return false;
}

static int emit_number(struct dbuf *buf, const char *key, uint64_t value)
{
	char text[24];
	int len = snprintf(text, sizeof(text), "%" PRIu64, value);

	return rec_emit_attr(buf, key, text, (size_t)len);
}

/*
 * Report an error about an entry. ENOENT below a root means the entry
 * vanished after its directory was read (a tree being changed, /proc): find
 * reports that too, and -ignore_readdir_race makes both leave it out
 * without a word. A root that does not exist is always an error.
 */
static void report(const struct pfind *pf, const struct walk_entry *entry, int error)
{
	if (error == ENOENT && entry->depth > 0 && pf->options.ignore_readdir_race)
		return;
	diag_file_error(entry->path, error);
}

/*
 * Append one attribute. Returns 0, or -1 with errno: ENOMEM, or ENOENT when
 * a symlink vanished before its target was read. A target that cannot be
 * read for another reason is reported, then left out.
 */
static int emit_field(const struct pfind *pf, struct dbuf *buf, enum field field,
		      const struct walk_entry *entry, const struct stat *st)
{
	const char *key = field_names[field];
	char text[64];
	int len;

	switch (field) {
	case FIELD_TYPE:
		text[0] = rec_type_letter(DTTOIF(entry->type));
		return rec_emit_attr(buf, key, text, 1);
	case FIELD_MTIME:
		return rec_emit_attr(buf, key, text, rec_time_into(text, &st->st_mtim));
	case FIELD_MODE:
		len = snprintf(text, sizeof(text), "%04o", (unsigned)(st->st_mode & 07777));
		return rec_emit_attr(buf, key, text, (size_t)len);
	case FIELD_NLINK:
		return emit_number(buf, key, st->st_nlink);
	case FIELD_UID:
		return emit_number(buf, key, st->st_uid);
	case FIELD_GID:
		return emit_number(buf, key, st->st_gid);
	case FIELD_DEV:
		return emit_number(buf, key, st->st_dev);
	case FIELD_DEPTH:
		return emit_number(buf, key, entry->depth);
	case FIELD_LINK: {
		char target[4096];
		ssize_t n;

		if (entry->type != DT_LNK)
			return 0;
		n = readlinkat(entry->at_fd, entry->at_path, target, sizeof(target));
		if (n < 0 && errno == ENOENT)
			return -1;
		if (n < 0) {
			report(pf, entry, errno);
			return 0;
		}
		return rec_emit_attr(buf, key, target, (size_t)n);
	}
	}
	return 0;
}

/*
 * Append "INODE TAB SIZE TAB escaped-PATH", as rec_emit_head does, but
 * escaping the directory prefix once per directory rather than per entry.
 */
static int emit_head(struct pfind_thread *t, struct dbuf *buf, const struct walk_entry *entry,
		     const struct stat *st)
{
	size_t dir_len = (size_t)(entry->name - entry->path);

	if (entry->depth == 0 || dir_len < 64)
		return rec_emit_head(buf, st->st_ino, (uint64_t)st->st_size, entry->path, entry->path_len);
	if (t->dir_raw.len != dir_len || memcmp(t->dir_raw.data, entry->path, dir_len) != 0) {
		/* Escaping is byte by byte, so a directory below the cached one
		 * (the usual next directory of a deep walk) escapes only the
		 * names it adds: a chain thousands deep costs its length once,
		 * not once per level. */
		size_t keep = t->dir_raw.len;

		if (keep > dir_len || (keep > 0 && memcmp(t->dir_raw.data, entry->path, keep) != 0)) {
			keep = 0;
			dbuf_clear(&t->dir_raw);
			dbuf_clear(&t->dir_escaped);
		}
		if (dbuf_append(&t->dir_raw, entry->path + keep, dir_len - keep) != 0 ||
		    rec_escape(&t->dir_escaped, entry->path + keep, dir_len - keep) != 0) {
			dbuf_clear(&t->dir_raw);
			dbuf_clear(&t->dir_escaped);
			return -1;
		}
	}
	if (dbuf_put_u64(buf, st->st_ino) != 0 || dbuf_putc(buf, '\t') != 0 ||
	    dbuf_put_u64(buf, (uint64_t)st->st_size) != 0 || dbuf_putc(buf, '\t') != 0 ||
	    dbuf_append(buf, t->dir_escaped.data, t->dir_escaped.len) != 0)
		return -1;
	return rec_escape(buf, entry->name, entry->name_len);
}

/*
 * Append the entry's record (or bare path) to the thread's buffer. Returns 0,
 * or -1 with errno (ENOMEM, or why the entry could not be stat'ed or its
 * link read: an entry that vanished gets no record).
 */
static int emit(struct pfind_thread *t, const struct walk_entry *entry, struct expr_entry *view,
		enum expr_print how)
{
	const struct pfind *pf = t->pfind;
	/* A sorted walk's workers format into the directory's block. */
	struct dbuf *buf = entry->out ? entry->out : &t->out.buf;
	const struct stat *st;
	size_t start = buf->len;

	if (pf->print0 || how == EXPR_PRINT_NUL)
		return dbuf_append(buf, entry->path, entry->path_len + 1);
	st = expr_entry_stat(view);
	if (!st) {
		errno = view->error;
		return -1;
	}
	if (emit_head(t, buf, entry, st) != 0)
		goto fail;
	for (size_t i = 0; i < pf->nfields; i++)
		if (emit_field(pf, buf, pf->fields[i], entry, st) != 0)
			goto fail;
	if (rec_emit_end(buf) != 0)
		goto fail;
	return 0;
fail:
	dbuf_truncate(buf, start);
	return -1;
}

/* One entry's printing, as expr_eval reports it. */
struct visit_state {
	struct pfind_thread *thread;
	const struct walk_entry *entry;
	struct expr_entry *view;
	int emit_error;         /* the first failure; nothing more is printed after it */
	bool emitted;
};

static void print_entry(void *context, enum expr_print how)
{
	struct visit_state *v = context;

	if (v->emit_error)
		return;
	if (emit(v->thread, v->entry, v->view, how) != 0)
		v->emit_error = errno;
	else
		v->emitted = true;
}

static enum walk_action visit(void *context, const struct walk_entry *entry)
{
	struct pfind_thread *t = context;
	struct pfind *pf;
	enum walk_action action = WALK_CONTINUE;
	struct expr_entry view;
	struct visit_state state = { .thread = t, .entry = entry, .view = &view };
	struct dbuf *buf;
	size_t start;

	if (entry->error) {
		if (t)
			report(t->pfind, entry, entry->error);
		else
			diag_file_error(entry->path, entry->error);
		return WALK_CONTINUE;
	}
	if (!t)
		return WALK_STOP; /* its thread had no memory for a buffer */
	pf = t->pfind;
	if (atomic_load_explicit(&pf->quit, memory_order_relaxed))
		return WALK_STOP;
	if (excluded(pf, entry))
		return WALK_PRUNE;
	if (entry->depth >= pf->options.maxdepth)
		action = WALK_PRUNE;
	if (entry->depth < pf->options.mindepth)
		return action;
	buf = entry->out ? entry->out : &t->out.buf;
	start = buf->len;
	expr_entry_init(&view, entry, pf->options.follow);
	/* find prints an entry once for each -print or -print0 it reaches. */
	expr_eval(pf->expr, &view, print_entry, &state);
	if (view.prune)
		action = WALK_PRUNE;
	if (view.quit || atomic_load_explicit(&pf->quit, memory_order_relaxed)) {
		bool expected = false;

		/* Only the first -quit reached, of all threads, keeps what its
		 * entry printed; an entry still being evaluated elsewhere is
		 * then taken as coming after it, and prints nothing. */
		if (!view.quit || !atomic_compare_exchange_strong(&pf->quit, &expected, true))
			dbuf_truncate(buf, start);
		else if (!entry->out)
			outbuf_commit(&t->out);
		return WALK_STOP;
	}
	/* The reader went away (or the disk filled): nothing more can be written. */
	if (state.emitted && !entry->out && outbuf_commit(&t->out) != 0)
		return WALK_STOP;
	/* An entry that could not be stat'ed is not entered either: a
	 * directory that vanished would be reported a second time. */
	if (view.error) {
		report(pf, entry, view.error);
		return WALK_PRUNE;
	}
	if (state.emit_error)
		report(pf, entry, state.emit_error);
	return action;
}

/*
 * --sort: a directory's records, formatted by a worker, reach the output in
 * order. Only a write error fails it (reported once, at the end).
 */
static enum walk_action write_block(void *context, const char *data, size_t len)
{
	struct pfind_thread *t = context;

	if (!t || outbuf_put(&t->out, data, len) != 0)
		return WALK_STOP;
	return WALK_CONTINUE;
}

static void *thread_init(void *arg)
{
	struct pfind *pf = arg;
	struct pfind_thread *t = malloc(sizeof(*t));

	if (!t) {
		/* Its visits stop the walk (visit, write_block): say why. */
		diag_file_error(NULL, ENOMEM);
		return NULL;
	}
	t->pfind = pf;
	outbuf_init(&t->out, pf->sink, PFIND_FLUSH_AT);
	dbuf_init(&t->dir_raw);
	dbuf_init(&t->dir_escaped);
	return t;
}

static void thread_fini(void *context)
{
	struct pfind_thread *t = context;

	if (!t)
		return;
	/* A failure is kept in the sink; main reports it once. */
	outbuf_fini(&t->out);
	dbuf_free(&t->dir_raw);
	dbuf_free(&t->dir_escaped);
	free(t);
}

/* Whether argv word starts the expression (find's words, operators). */
static bool starts_expression(const char *word)
{
	size_t i;

	if (strcmp(word, "!") == 0 || strcmp(word, "(") == 0 || strcmp(word, ")") == 0 ||
	    strcmp(word, "-o") == 0 || strcmp(word, "-a") == 0)
		return true;
	if (word[0] != '-' || word[1] < 'a' || word[1] > 'z')
		return false;
	for (i = 1; word[i]; i++)
		if (word[i] < 'a' || word[i] > 'z')
			return false;
	return i >= 3;
}

/* Whether argv word is one of pfind's own options, and if so whether it takes the next word. */
static bool is_option(const char *word, bool *takes_next)
{
	*takes_next = strcmp(word, "-j") == 0 || strcmp(word, "--jobs") == 0 ||
		      strcmp(word, "--fields") == 0 || strcmp(word, "--exclude") == 0;
	if (word[0] != '-')
		return false;
	if (word[1] == '-' && word[2] != '\0')
		return true;
	return strcmp(word, "-0") == 0 || strcmp(word, "-L") == 0 || (word[1] == 'j' && !starts_expression(word));
}

/*
 * Move pfind's own options (which may come anywhere, except as a test's
 * argument) to the front of argv, keeping paths and expression in order
 * after them. Returns the number of words for getopt (argv[0] included),
 * or -1 when out of memory. "--" ends the options: everything after it is
 * paths and expression.
 */
static int gather_options(int argc, char **argv)
{
	char **rest = malloc((size_t)argc * sizeof(*rest));
	int nopts = 1, nrest = 0, i;

	if (!rest)
		return -1;
	for (i = 1; i < argc; i++) {
		bool takes_next;

		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (expr_takes_argument(argv[i]) && i + 1 < argc) {
			rest[nrest++] = argv[i++];
			rest[nrest++] = argv[i];
		} else if (is_option(argv[i], &takes_next)) {
			argv[nopts++] = argv[i];
			if (takes_next && i + 1 < argc)
				argv[nopts++] = argv[++i];
		} else {
			rest[nrest++] = argv[i];
		}
	}
	while (i < argc)
		rest[nrest++] = argv[i++];
	memcpy(argv + nopts, rest, (size_t)nrest * sizeof(*rest));
	free(rest);
	return nopts;
}

static void parse_fields(struct pfind *pf, const char *list)
{
	const char *p = list;

	while (*p) {
		size_t len = strcspn(p, ",");
		size_t f;

		for (f = 0; f < countof(field_names); f++)
			if (strlen(field_names[f]) == len && strncmp(field_names[f], p, len) == 0)
				break;
		if (f == countof(field_names))
			diag_usage_error("unknown field '%.*s' in --fields (known: type, mtime, mode, "
					 "nlink, uid, gid, dev, link, depth)", (int)len, p);
		if (pf->nfields == countof(pf->fields))
			diag_usage_error("too many fields in --fields");
		pf->fields[pf->nfields++] = (enum field)f;
		p += len;
		if (*p == ',' && *++p == '\0')
			diag_usage_error("empty field name in --fields");
	}
	if (pf->nfields == 0)
		diag_usage_error("--fields needs at least one field");
}

int main(int argc, char **argv)
{
	enum { OPT_SORT = 256, OPT_FIELDS, OPT_EXCLUDE, OPT_NO_HIDDEN, OPT_XDEV, OPT_HELP, OPT_VERSION };
	static const struct option long_options[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "print0", no_argument, NULL, '0' },
		{ "follow", no_argument, NULL, 'L' },
		{ "sort", no_argument, NULL, OPT_SORT },
		{ "fields", required_argument, NULL, OPT_FIELDS },
		{ "exclude", required_argument, NULL, OPT_EXCLUDE },
		{ "no-hidden", no_argument, NULL, OPT_NO_HIDDEN },
		{ "xdev", no_argument, NULL, OPT_XDEV },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const default_roots[] = { "." };
	struct pfind pf = { .options = { .maxdepth = SIZE_MAX } };
	struct walk_config config = {
		.visit = visit, .thread_init = thread_init, .thread_fini = thread_fini, .arg = &pf,
	};
	const char *const *roots = default_roots;
	size_t nroots = 1;
	struct timespec now;
	char *error;
	int opt, split, first_path, first_test;

	diag_init("pfind");
	clock_gettime(CLOCK_REALTIME, &now);
	split = gather_options(argc, argv);
	if (split < 0) {
		diag_file_error(NULL, ENOMEM);
		return EXIT_FAILED;
	}
	opterr = 0;
	while ((opt = getopt_long(split, argv, "+:j:0L", long_options, NULL)) != -1) {
		switch (opt) {
		case 'j':
			config.threads = diag_parse_count(optarg, "thread");
			break;
		case '0':
			pf.print0 = true;
			break;
		case 'L':
			pf.options.follow = true;
			break;
		case OPT_SORT:
			config.flags |= WALK_SORT;
			break;
		case OPT_FIELDS:
			parse_fields(&pf, optarg);
			break;
		case OPT_EXCLUDE: {
			char **grown = realloc(pf.excludes, (pf.nexcludes + 1) * sizeof(*grown));

			if (!grown) {
				diag_file_error(NULL, ENOMEM);
				free(pf.excludes);
				return EXIT_FAILED;
			}
			pf.excludes = grown;
			pf.excludes[pf.nexcludes++] = optarg;
			break;
		}
		case OPT_NO_HIDDEN:
			pf.no_hidden = true;
			break;
		case OPT_XDEV:
			pf.options.xdev = true;
			break;
		case OPT_HELP:
			diag_help(usage_text);
		case OPT_VERSION:
			diag_version();
		default:
			diag_bad_option(opt, argv);
		}
	}
	if (optind < split)
		diag_usage_error("unexpected '%s'", argv[optind]);

	first_path = split;
	for (first_test = first_path; first_test < argc; first_test++) {
		const char *a = argv[first_test];

		if ((a[0] == '-' && a[1] != '\0') || starts_expression(a))
			break;
	}
	if (first_test > first_path) {
		roots = (const char *const *)argv + first_path;
		nroots = (size_t)(first_test - first_path);
	}
	if (expr_parse(argv + first_test, argc - first_test, now, &pf.options, &pf.expr, &error) != 0) {
		/* Out of memory is no fault of the command line: exit 1, not 2. */
		if (errno == ENOMEM) {
			diag_file_error(NULL, ENOMEM);
			free(pf.excludes);
			return EXIT_FAILED;
		}
		diag_usage_error("%s", error);
	}
	if (pf.print0 && pf.nfields)
		diag_usage_error("--fields cannot be combined with -0 (bare paths)");

	/* -0 and -print0 print bare paths: only a test that needs a stat makes one. */
	if (!pf.print0 && expr_prints_records(pf.expr))
		config.flags |= WALK_STAT;
	/* Sorted, the workers format ahead and their blocks are put in order;
	 * but -quit must see the entries one at a time, in that order, so that
	 * it stops at the first in it, as find stops at the first it meets. */
	if ((config.flags & WALK_SORT) && !expr_has_quit(pf.expr))
		config.write_block = write_block;
	if (pf.options.follow)
		config.flags |= WALK_FOLLOW;
	if (pf.options.xdev)
		config.flags |= WALK_XDEV;
	pf.sink = out_new(STDOUT_FILENO);
	if (!pf.sink) {
		diag_file_error(NULL, errno);
		return EXIT_FAILED;
	}
	if (walk(roots, nroots, &config) != 0)
		diag_file_error(NULL, errno);
	out_report_error(pf.sink);
	out_free(pf.sink);
	expr_free(pf.expr);
	free(pf.excludes);
	return diag_finish();
}
