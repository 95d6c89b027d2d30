/* SPDX-License-Identifier: 0BSD */
/**
 * pfind's test expression: a small recursive-descent parser over find's
 * words into a tree, and its evaluation. Precedence as in find: ( ) binds
 * tightest, then ! (-not), then and (implicit or -a/-and), then -o (-or).
 */
#include "prelude.h"
#include "expr.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum expr_kind {
	EXPR_TRUE,
	EXPR_AND,
	EXPR_OR,
	EXPR_NOT,
	EXPR_NAME,
	EXPR_INAME,
	EXPR_PATH,
	EXPR_IPATH,
	EXPR_TYPE,
	EXPR_SIZE,
	EXPR_MTIME,      /* -mtime: age in whole days */
	EXPR_MMIN,       /* -mmin: age in minutes, compared exactly */
	EXPR_NEWER,
	EXPR_EMPTY,
	EXPR_PRINT,      /* find's action: the entry is printed each time one is reached */
};

/* How a number compares: +N, N or -N. */
enum expr_cmp { CMP_LESS, CMP_EQUAL, CMP_MORE };

struct expr {
	enum expr_kind kind;
	struct expr *left, *right;   /* AND, OR; NOT uses left */
	const char *pattern;         /* NAME, INAME, PATH, IPATH (borrowed from argv) */
	unsigned types;              /* TYPE: bit per DT_* value */
	enum expr_cmp cmp;
	int64_t number;
	int64_t unit;                /* SIZE: bytes per unit; MTIME: seconds per unit */
	struct timespec ref;         /* MTIME: now; NEWER: the reference mtime */
};

struct parser {
	char **argv;
	int argc, pos;
	struct timespec now;
	struct expr_options *options;
	char *error;            /* the first syntax error */
	bool out_of_memory;     /* an allocation failed: not the user's error */
};

/*
 * One word the parser knows (a test, or an option spelled as one). parse
 * makes its node from arg, the next word when takes_argument, else NULL;
 * kind is the node it makes, for parse functions that several rows share.
 */
struct predicate {
	const char *word;
	bool takes_argument;
	enum expr_kind kind;
	struct expr *(*parse)(struct parser *p, const struct predicate *pred, const char *arg);
};

static struct expr *parse_or(struct parser *p);

/* Record the first syntax error, printf-style. */
__attribute__((format(printf, 2, 3)))
static void parse_error(struct parser *p, const char *format, ...)
{
	va_list args;

	if (p->error || p->out_of_memory)
		return;
	va_start(args, format);
	if (vasprintf(&p->error, format, args) < 0) {
		p->error = NULL;
		p->out_of_memory = true;
	}
	va_end(args);
}

static struct expr *node(struct parser *p, enum expr_kind kind)
{
	struct expr *e = calloc(1, sizeof(*e));

	if (!e)
		p->out_of_memory = true;
	else
		e->kind = kind;
	return e;
}

void expr_free(struct expr *expr)
{
	if (!expr)
		return;
	expr_free(expr->left);
	expr_free(expr->right);
	free(expr);
}

static const char *peek(const struct parser *p)
{
	return p->pos < p->argc ? p->argv[p->pos] : NULL;
}

/* The argument of the test argv[pos - 1], or NULL after reporting it missing. */
static const char *argument(struct parser *p)
{
	if (p->pos >= p->argc) {
		parse_error(p, "missing argument to '%s'", p->argv[p->pos - 1]);
		return NULL;
	}
	return p->argv[p->pos++];
}

/* Parse "[+-]N" into cmp and number; suffix receives what follows the digits. */
static bool parse_number(const char *text, enum expr_cmp *cmp, int64_t *number, const char **suffix)
{
	char *end;
	intmax_t value;

	*cmp = CMP_EQUAL;
	if (*text == '+') {
		*cmp = CMP_MORE;
		text++;
	} else if (*text == '-') {
		*cmp = CMP_LESS;
		text++;
	}
	if (*text < '0' || *text > '9')
		return false;
	errno = 0;
	value = strtoimax(text, &end, 10);
	if (errno != 0 || value < 0 || value > INT64_MAX / 2)
		return false;
	*number = (int64_t)value;
	*suffix = end;
	return true;
}

static struct expr *parse_size(struct parser *p, const struct predicate *pred, const char *arg)
{
	struct expr *e;
	const char *suffix;
	int64_t unit = 512;
	enum expr_cmp cmp;
	int64_t number;

	if (!parse_number(arg, &cmp, &number, &suffix))
		goto bad;
	switch (*suffix) {
	case '\0': break;
	case 'b': unit = 512; break;
	case 'c': unit = 1; break;
	case 'w': unit = 2; break;
	case 'k': unit = 1024; break;
	case 'M': unit = 1024 * 1024; break;
	case 'G': unit = 1024 * 1024 * 1024; break;
	default: goto bad;
	}
	if (*suffix && suffix[1])
		goto bad;
	e = node(p, pred->kind);
	if (e) {
		e->cmp = cmp;
		e->number = number;
		e->unit = unit;
	}
	return e;
bad:
	parse_error(p, "invalid argument '%s' to %s", arg, pred->word);
	return NULL;
}

/* -mtime (whole days) and -mmin (minutes). */
static struct expr *parse_age(struct parser *p, const struct predicate *pred, const char *arg)
{
	struct expr *e;
	const char *suffix;
	enum expr_cmp cmp;
	int64_t number;

	if (!parse_number(arg, &cmp, &number, &suffix) || *suffix) {
		parse_error(p, "invalid argument '%s' to %s", arg, pred->word);
		return NULL;
	}
	e = node(p, pred->kind);
	if (e) {
		e->cmp = cmp;
		e->number = number;
		e->unit = pred->kind == EXPR_MTIME ? 86400 : 60;
		e->ref = p->now;
	}
	return e;
}

static struct expr *parse_type(struct parser *p, const struct predicate *pred, const char *arg)
{
	struct expr *e;
	unsigned types = 0;
	const char *c;

	for (c = arg; *c; c++) {
		switch (*c) {
		case 'f': types |= 1u << DT_REG; break;
		case 'd': types |= 1u << DT_DIR; break;
		case 'l': types |= 1u << DT_LNK; break;
		case 'p': types |= 1u << DT_FIFO; break;
		case 's': types |= 1u << DT_SOCK; break;
		case 'b': types |= 1u << DT_BLK; break;
		case 'c': types |= 1u << DT_CHR; break;
		default: goto bad;
		}
		if (c[1] == ',' && c[2])
			c++;
		else if (c[1])
			goto bad;
	}
	if (!types)
		goto bad;
	e = node(p, pred->kind);
	if (e)
		e->types = types;
	return e;
bad:
	parse_error(p, "invalid argument '%s' to %s", arg, pred->word);
	return NULL;
}

/* -name, -iname, -path, -ipath, -wholename: the pattern stays in argv. */
static struct expr *parse_glob(struct parser *p, const struct predicate *pred, const char *arg)
{
	struct expr *e = node(p, pred->kind);

	if (e)
		e->pattern = arg;
	return e;
}

static struct expr *parse_newer(struct parser *p, const struct predicate *pred, const char *arg)
{
	struct expr *e;
	struct stat st;

	if (stat(arg, &st) != 0) {
		parse_error(p, "%s: %s", arg, strerror(errno));
		return NULL;
	}
	e = node(p, pred->kind);
	if (e)
		e->ref = st.st_mtim;
	return e;
}

/* A test without an argument: its node is all it needs (-empty, -true, -print). */
static struct expr *parse_plain(struct parser *p, const struct predicate *pred, const char *arg)
{
	(void)arg;
	return node(p, pred->kind);
}

/* -false, as ! -true. */
static struct expr *parse_false(struct parser *p, const struct predicate *pred, const char *arg)
{
	struct expr *e = node(p, EXPR_NOT);

	(void)pred;
	(void)arg;
	if (e && !(e->left = node(p, EXPR_TRUE))) {
		expr_free(e);
		return NULL;
	}
	return e;
}

/*
 * The options spelled as tests: each sets its option and is always true, as
 * in find, wherever it stands.
 */
static bool parse_depth(struct parser *p, const struct predicate *pred, const char *arg, size_t *out)
{
	char *end;
	unsigned long long value;

	errno = 0;
	value = strtoull(arg, &end, 10);
	if (*arg < '0' || *arg > '9' || *end || errno != 0 || value > SIZE_MAX - 1) {
		parse_error(p, "invalid argument '%s' to %s", arg, pred->word);
		return false;
	}
	*out = (size_t)value;
	return true;
}

static struct expr *parse_mindepth(struct parser *p, const struct predicate *pred, const char *arg)
{
	return parse_depth(p, pred, arg, &p->options->mindepth) ? node(p, EXPR_TRUE) : NULL;
}

static struct expr *parse_maxdepth(struct parser *p, const struct predicate *pred, const char *arg)
{
	return parse_depth(p, pred, arg, &p->options->maxdepth) ? node(p, EXPR_TRUE) : NULL;
}

static struct expr *parse_xdev(struct parser *p, const struct predicate *pred, const char *arg)
{
	(void)pred;
	(void)arg;
	p->options->xdev = true;
	return node(p, EXPR_TRUE);
}

static struct expr *parse_follow(struct parser *p, const struct predicate *pred, const char *arg)
{
	(void)pred;
	(void)arg;
	p->options->follow = true;
	return node(p, EXPR_TRUE);
}

static struct expr *parse_ignore_race(struct parser *p, const struct predicate *pred, const char *arg)
{
	(void)pred;
	(void)arg;
	p->options->ignore_readdir_race = true;
	return node(p, EXPR_TRUE);
}

static struct expr *parse_noignore_race(struct parser *p, const struct predicate *pred, const char *arg)
{
	(void)pred;
	(void)arg;
	p->options->ignore_readdir_race = false;
	return node(p, EXPR_TRUE);
}

/*
 * Every word the parser knows besides the operators: the one list of which
 * take an argument (main's option gathering asks it too, through
 * expr_takes_argument). A new test is one row here and its parse function.
 */
static const struct predicate predicates[] = {
	{ "-name",                  true,  EXPR_NAME,  parse_glob },
	{ "-iname",                 true,  EXPR_INAME, parse_glob },
	{ "-path",                  true,  EXPR_PATH,  parse_glob },
	{ "-wholename",             true,  EXPR_PATH,  parse_glob },
	{ "-ipath",                 true,  EXPR_IPATH, parse_glob },
	{ "-type",                  true,  EXPR_TYPE,  parse_type },
	{ "-size",                  true,  EXPR_SIZE,  parse_size },
	{ "-mtime",                 true,  EXPR_MTIME, parse_age },
	{ "-mmin",                  true,  EXPR_MMIN,  parse_age },
	{ "-newer",                 true,  EXPR_NEWER, parse_newer },
	{ "-empty",                 false, EXPR_EMPTY, parse_plain },
	{ "-true",                  false, EXPR_TRUE,  parse_plain },
	{ "-print",                 false, EXPR_PRINT, parse_plain },
	{ "-false",                 false, EXPR_NOT,   parse_false },
	{ "-mindepth",              true,  EXPR_TRUE,  parse_mindepth },
	{ "-maxdepth",              true,  EXPR_TRUE,  parse_maxdepth },
	{ "-xdev",                  false, EXPR_TRUE,  parse_xdev },
	{ "-mount",                 false, EXPR_TRUE,  parse_xdev },
	{ "-follow",                false, EXPR_TRUE,  parse_follow },
	{ "-ignore_readdir_race",   false, EXPR_TRUE,  parse_ignore_race },
	{ "-noignore_readdir_race", false, EXPR_TRUE,  parse_noignore_race },
};

static const struct predicate *find_predicate(const char *word)
{
	for (size_t i = 0; i < countof(predicates); i++)
		if (strcmp(word, predicates[i].word) == 0)
			return &predicates[i];
	return NULL;
}

bool expr_takes_argument(const char *word)
{
	const struct predicate *pred = find_predicate(word);

	return pred && pred->takes_argument;
}

static bool has_print(const struct expr *e)
{
	return e && (e->kind == EXPR_PRINT || has_print(e->left) || has_print(e->right));
}

static struct expr *parse_primary(struct parser *p)
{
	const char *word = peek(p), *arg = NULL;
	const struct predicate *pred;
	struct expr *e;

	if (!word) {
		parse_error(p, "expected an expression at the end");
		return NULL;
	}
	p->pos++;
	if (strcmp(word, "(") == 0) {
		e = parse_or(p);
		if (!e)
			return NULL;
		if (!peek(p) || strcmp(peek(p), ")") != 0) {
			expr_free(e);
			parse_error(p, "missing ')'");
			return NULL;
		}
		p->pos++;
		return e;
	}
	pred = find_predicate(word);
	if (pred) {
		if (pred->takes_argument && !(arg = argument(p)))
			return NULL;
		return pred->parse(p, pred, arg);
	}
	if (word[0] == '-')
		parse_error(p, "unknown predicate '%s'", word);
	else
		parse_error(p, "paths must precede the expression: '%s'", word);
	return NULL;
}

static bool is_word(const char *word, const char *a, const char *b)
{
	return word && (strcmp(word, a) == 0 || (b && strcmp(word, b) == 0));
}

static struct expr *parse_not(struct parser *p)
{
	struct expr *e, *inner;

	if (!is_word(peek(p), "!", "-not"))
		return parse_primary(p);
	p->pos++;
	inner = parse_not(p);
	if (!inner)
		return NULL;
	e = node(p, EXPR_NOT);
	if (!e) {
		expr_free(inner);
		return NULL;
	}
	e->left = inner;
	return e;
}

static struct expr *binary(struct parser *p, enum expr_kind kind, struct expr *left, struct expr *right)
{
	struct expr *e;

	if (!left || !right) {
		expr_free(left);
		expr_free(right);
		return NULL;
	}
	e = node(p, kind);
	if (!e) {
		expr_free(left);
		expr_free(right);
		return NULL;
	}
	e->left = left;
	e->right = right;
	return e;
}

static struct expr *parse_and(struct parser *p)
{
	struct expr *e = parse_not(p);

	while (e) {
		const char *word = peek(p);

		if (!word || is_word(word, ")", NULL) || is_word(word, "-o", "-or"))
			break;
		if (is_word(word, "-a", "-and"))
			p->pos++;
		e = binary(p, EXPR_AND, e, parse_not(p));
	}
	return e;
}

static struct expr *parse_or(struct parser *p)
{
	struct expr *e = parse_and(p);

	while (e && is_word(peek(p), "-o", "-or")) {
		p->pos++;
		e = binary(p, EXPR_OR, e, parse_and(p));
	}
	return e;
}

/* Fold away the TRUE nodes that options leave, so that "-xdev" alone needs nothing. */
static struct expr *simplify(struct expr *e)
{
	struct expr *keep;

	if (!e || e->kind != EXPR_AND)
		return e;
	e->left = simplify(e->left);
	e->right = simplify(e->right);
	if (e->left->kind == EXPR_TRUE)
		keep = e->right, e->right = NULL;
	else if (e->right->kind == EXPR_TRUE)
		keep = e->left, e->left = NULL;
	else
		return e;
	expr_free(e);
	return keep;
}

int expr_parse(char **argv, int argc, struct timespec now, struct expr_options *options,
	       struct expr **expr, char **error)
{
	struct parser p = { .argv = argv, .argc = argc, .now = now, .options = options };
	struct expr *e;

	*expr = NULL;
	*error = NULL;
	if (argc == 0)
		return 0;
	e = parse_or(&p);
	if (e && p.pos < argc)
		parse_error(&p, "unexpected '%s'", argv[p.pos]);
	if (p.out_of_memory || p.error) {
		expr_free(e);
		/* Out of memory wins: a message about the syntax may be
		 * only what the failed allocation left behind. */
		if (p.out_of_memory) {
			free(p.error);
			errno = ENOMEM;
			return -1;
		}
		*error = p.error;
		errno = EINVAL;
		return -1;
	}
	e = simplify(e);
	if (e && e->kind == EXPR_TRUE) {
		expr_free(e);
		e = NULL;
	}
	/* As find does: an expression without -print is "( EXPR ) -print". */
	if (e && !has_print(e)) {
		struct expr *print = node(&p, EXPR_PRINT);

		if (!(e = binary(&p, EXPR_AND, e, print))) {
			errno = ENOMEM;
			return -1;
		}
	}
	*expr = e;
	return 0;
}

void expr_entry_init(struct expr_entry *view, const struct walk_entry *entry, bool follow)
{
	view->entry = entry;
	view->st = entry->st;
	view->follow = follow;
	view->tried = entry->st != NULL;
	view->error = 0;
}

const struct stat *expr_entry_stat(struct expr_entry *view)
{
	const struct walk_entry *entry = view->entry;

	if (view->tried)
		return view->st;
	view->tried = true;
	if (fstatat(entry->at_fd, entry->at_path, &view->buf,
		    view->follow ? 0 : AT_SYMLINK_NOFOLLOW) != 0 &&
	    (!view->follow || fstatat(entry->at_fd, entry->at_path, &view->buf, AT_SYMLINK_NOFOLLOW) != 0)) {
		view->error = errno;
		return NULL;
	}
	view->st = &view->buf;
	return view->st;
}

/* The entry's name as find's -name sees it: a root's last component, trailing slashes ignored. */
static bool match_name(const char *pattern, const struct walk_entry *entry, int flags)
{
	const char *name = entry->name, *end, *start;
	char buf[256];
	size_t len;

	if (entry->depth > 0)
		return fnmatch(pattern, name, flags) == 0;
	end = entry->path + entry->path_len;
	while (end > entry->path + 1 && end[-1] == '/')
		end--;
	start = end;
	while (start > entry->path && start[-1] != '/')
		start--;
	if (start == end) /* "/" */
		start = entry->path;
	len = (size_t)(end - start);
	if (len >= sizeof(buf))
		return fnmatch(pattern, start, flags) == 0;
	memcpy(buf, start, len);
	buf[len] = '\0';
	return fnmatch(pattern, buf, flags) == 0;
}

static bool compare(enum expr_cmp cmp, int64_t value, int64_t number)
{
	switch (cmp) {
	case CMP_LESS: return value < number;
	case CMP_MORE: return value > number;
	default: return value == number;
	}
}

/*
 * find's age tests. -mtime N compares the age in whole days, fractions
 * dropped (so -mtime +1 means at least two days). -mmin compares exactly:
 * -N is younger than N minutes, +N older, and N means N-1 minutes <= age < N
 * minutes (findutils' window). Ages are in nanoseconds, in 128 bits so that
 * no timestamp can overflow.
 */
static bool age_matches(const struct expr *e, const struct timespec *then)
{
	const __int128 second = 1000000000;
	__int128 age = ((__int128)e->ref.tv_sec - then->tv_sec) * second + (e->ref.tv_nsec - then->tv_nsec);
	__int128 unit = e->unit * second, n = e->number;

	if (e->kind == EXPR_MTIME) {
		/* Floor division, so that a file from the future is -1, not 0. */
		__int128 units = age >= 0 ? age / unit : -((-age + unit - 1) / unit);

		return compare(e->cmp, (int64_t)units, e->number);
	}
	switch (e->cmp) {
	case CMP_LESS: return age < n * unit;
	case CMP_MORE: return age > n * unit;
	default: return age >= (n - 1) * unit && age < n * unit;
	}
}

/* Whether a directory holds no entry but . and .. (for -empty). */
static bool dir_is_empty(const struct walk_entry *entry)
{
	int fd = openat(entry->at_fd, entry->at_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char buf[1024];
	ssize_t len;
	bool empty = true;

	if (fd < 0)
		return false;
	while (empty && (len = getdents64(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < len;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);

			off += d->d_reclen;
			if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0) {
				empty = false;
				break;
			}
		}
	}
	close(fd);
	return empty;
}

/* The value of e on the entry; *prints counts the -print reached. */
static bool eval(const struct expr *e, struct expr_entry *view, unsigned *prints)
{
	const struct walk_entry *entry = view->entry;
	const struct stat *st;

	switch (e->kind) {
	case EXPR_TRUE:
		return true;
	case EXPR_PRINT:
		++*prints;
		return true;
	case EXPR_AND:
		return eval(e->left, view, prints) && eval(e->right, view, prints);
	case EXPR_OR:
		return eval(e->left, view, prints) || eval(e->right, view, prints);
	case EXPR_NOT:
		return !eval(e->left, view, prints);
	case EXPR_NAME:
		return match_name(e->pattern, entry, 0);
	case EXPR_INAME:
		return match_name(e->pattern, entry, FNM_CASEFOLD);
	case EXPR_PATH:
		return fnmatch(e->pattern, entry->path, 0) == 0;
	case EXPR_IPATH:
		return fnmatch(e->pattern, entry->path, FNM_CASEFOLD) == 0;
	case EXPR_TYPE:
		return entry->type < 32 && (e->types >> entry->type) & 1;
	default:
		break;
	}
	st = expr_entry_stat(view);
	if (!st)
		return false;
	switch (e->kind) {
	case EXPR_SIZE: {
		/* find rounds the size up to whole units before comparing. */
		int64_t size = st->st_size, units = size / e->unit + (size % e->unit != 0);

		return compare(e->cmp, units, e->number);
	}
	case EXPR_MTIME:
	case EXPR_MMIN:
		return age_matches(e, &st->st_mtim);
	case EXPR_NEWER:
		return st->st_mtim.tv_sec > e->ref.tv_sec ||
		       (st->st_mtim.tv_sec == e->ref.tv_sec && st->st_mtim.tv_nsec > e->ref.tv_nsec);
	case EXPR_EMPTY:
		if (S_ISREG(st->st_mode))
			return st->st_size == 0;
		return S_ISDIR(st->st_mode) && dir_is_empty(entry);
	default:
		PT_ASSERT(!"unknown expression kind");
	}
}

unsigned expr_eval(const struct expr *expr, struct expr_entry *view)
{
	unsigned prints = 0;

	if (!expr)
		return 1;
	eval(expr, view, &prints);
	return prints;
}
