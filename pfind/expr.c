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
#include <grp.h>
#include <inttypes.h>
#include <pthread.h>
#include <pwd.h>
#include <regex.h>
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
	EXPR_NEWER,      /* -newer, -anewer, -cnewer, -newerXY: a timestamp after ref */
	EXPR_EMPTY,
	EXPR_PERM,
	EXPR_USER,
	EXPR_GROUP,
	EXPR_NOUSER,
	EXPR_NOGROUP,
	EXPR_SAMEFILE,
	EXPR_LINKS,
	EXPR_INUM,
	EXPR_REGEX,      /* -regex, -iregex: an ERE matching the whole path */
	EXPR_PRINT,      /* find's action: the entry is printed each time one is reached */
	EXPR_PRINT0,     /* the same, as a bare path and a NUL */
	EXPR_PRUNE,      /* always true; the entry is not descended into */
	EXPR_QUIT,       /* always true; nothing more is evaluated, the walk ends */
};

/* How -perm compares: MODE exactly, -MODE all of its bits, /MODE any. */
enum perm_kind { PERM_EXACT, PERM_ALL, PERM_ANY };

/*
 * Which uids (or gids) have a name, for -nouser and -nogroup: looked up on
 * first sight from any thread, as find caches them. The lock guards ids,
 * named and count; once full, further ids are looked up every time.
 */
struct name_cache {
	pthread_mutex_t lock;
	uint32_t ids[256];
	bool named[256];
	size_t count;
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
	struct timespec ref;         /* MTIME: now; NEWER: the reference time */
	char stamp;                  /* NEWER: which of the entry's times, 'a', 'c' or 'm' */
	enum perm_kind perm_kind;    /* PERM */
	mode_t perm[2];              /* PERM: the bits for a non-directory, a directory */
	uint64_t id;                 /* USER, GROUP: the uid or gid; SAMEFILE: the inode */
	dev_t dev;                   /* SAMEFILE */
	struct name_cache *names;    /* NOUSER, NOGROUP (owned) */
	struct re_pattern_buffer *regex; /* REGEX (owned) */
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

/* What find's actions that pfind leaves to other tools become in a pipe. */
static const char *unknown_hint(const char *word)
{
	static const char *const runs[] = {"-exec", "-execdir", "-ok", "-okdir"};
	static const char *const prints[] = {"-printf", "-fprintf", "-fprint", "-fprint0", "-ls",
					     "-fls"};

	for (size_t i = 0; i < countof(runs); i++)
		if (strcmp(word, runs[i]) == 0)
			return " (pfind runs no command: pipe bare paths, "
			       "pfind PATH... -print0 | xargs -0 COMMAND)";
	if (strcmp(word, "-delete") == 0)
		return " (pfind deletes nothing: pfind PATH... -print0 | xargs -0 rm --)";
	for (size_t i = 0; i < countof(prints); i++)
		if (strcmp(word, prints[i]) == 0)
			return " (pfind writes records: --fields adds attributes, -print0 bare paths)";
	return "";
}

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
	if (expr->names) {
		pthread_mutex_destroy(&expr->names->lock);
		free(expr->names);
	}
	if (expr->regex) {
		regfree(expr->regex);
		free(expr->regex);
	}
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

/* -links [+-]N and -inum [+-]N. */
static struct expr *parse_count(struct parser *p, const struct predicate *pred, const char *arg)
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
	}
	return e;
}

/* -mtime (whole days) and -mmin (minutes): a count of units before now. */
static struct expr *parse_age(struct parser *p, const struct predicate *pred, const char *arg)
{
	struct expr *e = parse_count(p, pred, arg);

	if (e) {
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

/* The time of a stat that find's letter names: 'a' access, 'c' change, 'm' modification. */
static struct timespec stamp_of(const struct stat *st, char stamp)
{
	switch (stamp) {
	case 'a': return st->st_atim;
	case 'c': return st->st_ctim;
	default: return st->st_mtim;
	}
}

/* Read from 1 to max decimal digits at *s into *value; false if there are none. */
static bool read_digits(const char **s, int max, int *value)
{
	int n = 0;

	*value = 0;
	while (n < max && **s >= '0' && **s <= '9') {
		*value = *value * 10 + (**s - '0');
		++*s;
		n++;
	}
	return n > 0;
}

/* Skip c at *s if it is there. */
static bool skip_char(const char **s, char c)
{
	if (**s != c)
		return false;
	++*s;
	return true;
}

/* A fraction of a second after its '.' or ',': up to nine digits kept, the rest dropped. */
static bool read_fraction(const char **s, long *nsec)
{
	long scale = 100000000;

	*nsec = 0;
	if (**s < '0' || **s > '9')
		return false;
	for (; **s >= '0' && **s <= '9'; ++*s, scale /= 10)
		*nsec += (**s - '0') * scale;
	return true;
}

/* "@[-]SECONDS[.FRACTION]": seconds since the Epoch. */
static bool parse_epoch(const char *s, struct timespec *when)
{
	bool negative = *s == '-';
	long nsec = 0;
	char *end;
	long long seconds;

	if (*s == '-' || *s == '+')
		s++;
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	seconds = strtoll(s, &end, 10);
	if (errno != 0)
		return false;
	s = end;
	if ((*s == '.' || *s == ',') && (s++, !read_fraction(&s, &nsec)))
		return false;
	if (*s)
		return false;
	if (negative) {
		seconds = -seconds;
		if (nsec) {
			seconds--;
			nsec = 1000000000 - nsec;
		}
	}
	when->tv_sec = (time_t)seconds;
	when->tv_nsec = nsec;
	return true;
}

static int days_in_month(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

/*
 * The dates users type to find's -newermt, a subset of what GNU's
 * parse_datetime reads: "@EPOCH[.FRAC]", "YYYY-MM-DD", and that followed
 * by a space or 'T' and "HH:MM[:SS[.FRAC]]", then optionally 'Z' or an
 * offset "+HH:MM" / "-HHMM" (with or without a space before it). Without
 * a zone the time is local, as in find.
 */
static bool parse_date(const char *text, struct timespec *when)
{
	const char *s = text;
	struct tm tm = { .tm_isdst = -1 };
	int year, month, day, hour = 0, minute = 0, second = 0;
	int zone_hours = 0, zone_minutes = 0, zone_sign = 0;
	long nsec = 0;
	time_t t;

	if (*s == '@')
		return parse_epoch(s + 1, when);
	if (!read_digits(&s, 4, &year) || s - text != 4 || !skip_char(&s, '-') ||
	    !read_digits(&s, 2, &month) || !skip_char(&s, '-') || !read_digits(&s, 2, &day))
		return false;
	if (skip_char(&s, ' ') || skip_char(&s, 'T')) {
		const char *start = s;

		if (!read_digits(&s, 2, &hour) || !skip_char(&s, ':') ||
		    !read_digits(&s, 2, &minute) || s - start < 4)
			return false;
		if (skip_char(&s, ':')) {
			start = s;
			if (!read_digits(&s, 2, &second) || s - start != 2)
				return false;
			if ((skip_char(&s, '.') || skip_char(&s, ',')) && !read_fraction(&s, &nsec))
				return false;
		}
		skip_char(&s, ' ');
		if (skip_char(&s, 'Z')) {
			zone_sign = 1;
		} else if (*s == '+' || *s == '-') {
			zone_sign = *s++ == '+' ? 1 : -1;
			start = s;
			if (!read_digits(&s, 2, &zone_hours) || s - start != 2)
				return false;
			skip_char(&s, ':');
			start = s;
			if (*s && (!read_digits(&s, 2, &zone_minutes) || s - start != 2))
				return false;
			if (zone_hours > 24 || zone_minutes > 59)
				return false;
		}
	}
	if (*s || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
	    hour > 23 || minute > 59 || second > 59)
		return false;
	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = minute;
	tm.tm_sec = second;
	if (zone_sign) {
		tm.tm_isdst = 0;
		t = timegm(&tm) - zone_sign * (zone_hours * 3600 + zone_minutes * 60);
	} else {
		t = mktime(&tm);
	}
	when->tv_sec = t;
	when->tv_nsec = nsec;
	return true;
}

/*
 * -newer FILE, -anewer FILE, -cnewer FILE and -newerXY REF: the entry's
 * time X (m for -newer, a and c for the others) is after REF's time Y, or
 * after the date REF when Y is 't'. The table's word says X and Y.
 */
static struct expr *parse_newer(struct parser *p, const struct predicate *pred, const char *arg)
{
	const char *word = pred->word;
	char stamp = 'm', ref_stamp = 'm';
	struct timespec ref;
	struct expr *e;
	struct stat st;

	if (strncmp(word, "-newer", 6) == 0 && word[6]) {
		stamp = word[6];
		ref_stamp = word[7];
	} else if (word[1] != 'n') {
		stamp = word[1];
	}
	if (ref_stamp == 't') {
		if (!parse_date(arg, &ref)) {
			parse_error(p, "invalid date '%s' to %s (use YYYY-MM-DD, "
				    "YYYY-MM-DD HH:MM[:SS[.FRAC]], YYYY-MM-DDTHH:MM:SS or @EPOCH)", arg, word);
			return NULL;
		}
	} else {
		if (stat(arg, &st) != 0) {
			parse_error(p, "%s: %s", arg, strerror(errno));
			return NULL;
		}
		ref = stamp_of(&st, ref_stamp);
	}
	e = node(p, pred->kind);
	if (e) {
		e->ref = ref;
		e->stamp = stamp;
	}
	return e;
}

/*
 * One clause of a symbolic mode applied to the mode being built, for a
 * non-directory (mode[0]) and a directory (mode[1]): gnulib's mode_adjust
 * with a umask of 0, which is how find reads -perm's argument.
 */
enum perm_flag { PERM_ORDINARY, PERM_COPY, PERM_X_IF_ANY_X };

static void perm_change(mode_t mode[2], char op, enum perm_flag flag, mode_t affected, mode_t value,
			mode_t mentioned)
{
	for (int dir = 0; dir < 2; dir++) {
		mode_t bits = mode[dir], v = value;
		mode_t omit = (dir ? S_ISUID | S_ISGID : 0) & ~mentioned;

		if (flag == PERM_COPY) {
			v &= bits;
			v |= (v & 0444 ? 0444 : 0) | (v & 0222 ? 0222 : 0) | (v & 0111 ? 0111 : 0);
		} else if (flag == PERM_X_IF_ANY_X && ((bits & 0111) || dir)) {
			v |= 0111;
		}
		v &= (affected ? affected : 07777) & ~omit;
		if (op == '=')
			bits = (bits & ((affected ? ~affected : 0) | omit)) | v;
		else if (op == '+')
			bits |= v;
		else
			bits &= ~v;
		mode[dir] = bits & 07777;
	}
}

/* An octal number of at most 07777 at *s. */
static bool read_octal(const char **s, mode_t *value)
{
	*value = 0;
	if (**s < '0' || **s > '7')
		return false;
	for (; **s >= '0' && **s <= '7'; ++*s)
		if ((*value = *value * 8 + (mode_t)(**s - '0')) > 07777)
			return false;
	return true;
}

/* A mode as chmod(1) takes it, octal or symbolic, as the bits find's -perm compares. */
static bool parse_mode(const char *text, mode_t mode[2])
{
	const char *s = text;
	mode_t value;

	mode[0] = mode[1] = 0;
	if (*s >= '0' && *s <= '7') {
		if (!read_octal(&s, &value) || *s)
			return false;
		perm_change(mode, '=', PERM_ORDINARY, 07777, value,
			    s - text < 5 ? (value & (S_ISUID | S_ISGID)) | S_ISVTX | 0777 : 07777);
		return true;
	}
	for (;;) {
		mode_t affected = 0;

		for (;; s++) {
			if (*s == 'u')
				affected |= S_ISUID | S_IRWXU;
			else if (*s == 'g')
				affected |= S_ISGID | S_IRWXG;
			else if (*s == 'o')
				affected |= S_ISVTX | S_IRWXO;
			else if (*s == 'a')
				affected |= 07777;
			else
				break;
		}
		if (*s != '=' && *s != '+' && *s != '-')
			return false;
		do {
			char op = *s++;
			enum perm_flag flag = PERM_COPY;
			mode_t mentioned = 0;

			value = 0;
			if (*s >= '0' && *s <= '7') {
				if (!read_octal(&s, &value) || affected || (*s && *s != ','))
					return false;
				affected = mentioned = 07777;
				flag = PERM_ORDINARY;
			} else if (*s == 'u' || *s == 'g' || *s == 'o') {
				value = *s == 'u' ? S_IRWXU : *s == 'g' ? S_IRWXG : S_IRWXO;
				s++;
			} else {
				flag = PERM_ORDINARY;
				for (;; s++) {
					if (*s == 'r')
						value |= 0444;
					else if (*s == 'w')
						value |= 0222;
					else if (*s == 'x')
						value |= 0111;
					else if (*s == 'X')
						flag = PERM_X_IF_ANY_X;
					else if (*s == 's')
						value |= S_ISUID | S_ISGID;
					else if (*s == 't')
						value |= S_ISVTX;
					else
						break;
				}
			}
			if (!mentioned)
				mentioned = affected ? affected & value : value;
			perm_change(mode, op, flag, affected, value, mentioned);
		} while (*s == '=' || *s == '+' || *s == '-');
		if (*s != ',')
			break;
		s++;
	}
	return *s == '\0';
}

/* -perm MODE, -perm -MODE, -perm /MODE, MODE octal or symbolic as find reads it. */
static struct expr *parse_perm(struct parser *p, const struct predicate *pred, const char *arg)
{
	enum perm_kind kind = PERM_EXACT;
	const char *mode_text = arg;
	mode_t mode[2];
	struct expr *e;

	if (*arg == '-' || *arg == '/') {
		kind = *arg == '-' ? PERM_ALL : PERM_ANY;
		mode_text++;
	}
	/* find no longer takes "+MODE" for "/MODE": "+" then a digit is an error. */
	if (!parse_mode(mode_text, mode) || (arg[0] == '+' && arg[1] >= '0' && arg[1] <= '7')) {
		parse_error(p, "invalid mode '%s' to %s", arg, pred->word);
		return NULL;
	}
	e = node(p, pred->kind);
	if (e) {
		e->perm_kind = kind;
		e->perm[0] = mode[0];
		e->perm[1] = mode[1];
	}
	return e;
}

/* -user NAME|UID and -group NAME|GID: a name first, as in find, then a number. */
static struct expr *parse_owner(struct parser *p, const struct predicate *pred, const char *arg)
{
	bool user = pred->kind == EXPR_USER;
	unsigned long long id;
	struct expr *e;
	char *end;

	if (!*arg) {
		parse_error(p, "empty argument to %s", pred->word);
		return NULL;
	}
	if (user) {
		struct passwd *pw = getpwnam(arg);

		id = pw ? pw->pw_uid : UINT64_MAX;
	} else {
		struct group *gr = getgrnam(arg);

		id = gr ? gr->gr_gid : UINT64_MAX;
	}
	if (id == UINT64_MAX) {
		errno = 0;
		id = strtoull(arg, &end, 10);
		if (strspn(arg, "0123456789") != strlen(arg) || errno != 0 || id > UINT32_MAX) {
			parse_error(p, "'%s' is not the name of a known %s to %s", arg,
				    user ? "user" : "group", pred->word);
			return NULL;
		}
	}
	e = node(p, pred->kind);
	if (e)
		e->id = id;
	return e;
}

/* -nouser, -nogroup: the node and its cache of names. */
static struct expr *parse_noowner(struct parser *p, const struct predicate *pred, const char *arg)
{
	struct expr *e = node(p, pred->kind);

	(void)arg;
	if (!e)
		return NULL;
	e->names = calloc(1, sizeof(*e->names));
	if (!e->names || pthread_mutex_init(&e->names->lock, NULL) != 0) {
		free(e->names);
		e->names = NULL;
		expr_free(e);
		p->out_of_memory = true;
		return NULL;
	}
	return e;
}

/* -samefile FILE: FILE's device and inode (its target's under -L, as find does). */
static struct expr *parse_samefile(struct parser *p, const struct predicate *pred, const char *arg)
{
	struct expr *e;
	struct stat st;

	if ((p->options->follow ? stat(arg, &st) : lstat(arg, &st)) != 0 &&
	    (!p->options->follow || lstat(arg, &st) != 0)) {
		parse_error(p, "%s: %s", arg, strerror(errno));
		return NULL;
	}
	e = node(p, pred->kind);
	if (e) {
		e->dev = st.st_dev;
		e->id = st.st_ino;
	}
	return e;
}


/*
 * -regex RE, -iregex RE: compiled as find compiles it under -regextype
 * posix-extended (GNU's re_compile_pattern, case folded for -iregex), to be
 * matched the same way, against the whole path.
 */
static struct expr *parse_regex(struct parser *p, const struct predicate *pred, const char *arg)
{
	struct re_pattern_buffer *regex = calloc(1, sizeof(*regex));
	const char *message;
	struct expr *e;

	if (!regex) {
		p->out_of_memory = true;
		return NULL;
	}
	/* re_compile_pattern reads the syntax from glibc's global: set here,
	 * in the one thread that parses, before any walk. */
	re_set_syntax(RE_SYNTAX_POSIX_EXTENDED | (strcmp(pred->word, "-iregex") == 0 ? RE_ICASE : 0));
	message = re_compile_pattern(arg, strlen(arg), regex);
	if (message) {
		regfree(regex);
		free(regex);
		parse_error(p, "invalid regular expression '%s' to %s: %s", arg, pred->word, message);
		return NULL;
	}
	e = node(p, pred->kind);
	if (!e) {
		regfree(regex);
		free(regex);
		return NULL;
	}
	e->regex = regex;
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

/* -regextype: pfind's regular expressions are POSIX extended ones, find's are not by default. */
static struct expr *parse_regextype(struct parser *p, const struct predicate *pred, const char *arg)
{
	if (strcmp(arg, "posix-extended") != 0) {
		parse_error(p, "unsupported argument '%s' to %s (pfind's -regex is always posix-extended)",
			    arg, pred->word);
		return NULL;
	}
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
	{ "-anewer",                true,  EXPR_NEWER, parse_newer },
	{ "-cnewer",                true,  EXPR_NEWER, parse_newer },
	{ "-neweraa",               true,  EXPR_NEWER, parse_newer },
	{ "-newerac",               true,  EXPR_NEWER, parse_newer },
	{ "-neweram",               true,  EXPR_NEWER, parse_newer },
	{ "-newerat",               true,  EXPR_NEWER, parse_newer },
	{ "-newerca",               true,  EXPR_NEWER, parse_newer },
	{ "-newercc",               true,  EXPR_NEWER, parse_newer },
	{ "-newercm",               true,  EXPR_NEWER, parse_newer },
	{ "-newerct",               true,  EXPR_NEWER, parse_newer },
	{ "-newerma",               true,  EXPR_NEWER, parse_newer },
	{ "-newermc",               true,  EXPR_NEWER, parse_newer },
	{ "-newermm",               true,  EXPR_NEWER, parse_newer },
	{ "-newermt",               true,  EXPR_NEWER, parse_newer },
	{ "-empty",                 false, EXPR_EMPTY, parse_plain },
	{ "-perm",                  true,  EXPR_PERM,  parse_perm },
	{ "-user",                  true,  EXPR_USER,  parse_owner },
	{ "-group",                 true,  EXPR_GROUP, parse_owner },
	{ "-nouser",                false, EXPR_NOUSER, parse_noowner },
	{ "-nogroup",               false, EXPR_NOGROUP, parse_noowner },
	{ "-samefile",              true,  EXPR_SAMEFILE, parse_samefile },
	{ "-links",                 true,  EXPR_LINKS, parse_count },
	{ "-inum",                  true,  EXPR_INUM,  parse_count },
	{ "-regex",                 true,  EXPR_REGEX, parse_regex },
	{ "-iregex",                true,  EXPR_REGEX, parse_regex },
	{ "-regextype",             true,  EXPR_TRUE,  parse_regextype },
	{ "-true",                  false, EXPR_TRUE,  parse_plain },
	{ "-print",                 false, EXPR_PRINT, parse_plain },
	{ "-print0",                false, EXPR_PRINT0, parse_plain },
	{ "-prune",                 false, EXPR_PRUNE, parse_plain },
	{ "-quit",                  false, EXPR_QUIT,  parse_plain },
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

static bool has_kind(const struct expr *e, enum expr_kind kind)
{
	return e && (e->kind == kind || has_kind(e->left, kind) || has_kind(e->right, kind));
}

bool expr_prints_records(const struct expr *expr)
{
	return !expr || has_kind(expr, EXPR_PRINT);
}

bool expr_has_quit(const struct expr *expr)
{
	return has_kind(expr, EXPR_QUIT);
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
		parse_error(p, "unknown predicate '%s'%s", word, unknown_hint(word));
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
	/* As find does: an expression without -print or -print0 (-prune and
	 * -quit do not count) is "( EXPR ) -print". */
	if (e && !has_kind(e, EXPR_PRINT) && !has_kind(e, EXPR_PRINT0)) {
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
	view->prune = false;
	view->quit = false;
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

/* Whether uid (user) or gid has a name, through the node's cache. */
static bool id_has_name(struct name_cache *cache, bool user, uint32_t id)
{
	char stack_buf[1024], *buf = stack_buf, *grown;
	size_t size = sizeof(stack_buf), i;
	bool named = true;
	void *result = NULL;
	struct passwd pw;
	struct group gr;
	int error;

	pthread_mutex_lock(&cache->lock);
	for (i = 0; i < cache->count; i++)
		if (cache->ids[i] == id)
			break;
	if (i < cache->count)
		named = cache->named[i];
	pthread_mutex_unlock(&cache->lock);
	if (i < cache->count)
		return named;
	for (;;) {
		if (user)
			error = getpwuid_r(id, &pw, buf, size, (struct passwd **)&result);
		else
			error = getgrgid_r(id, &gr, buf, size, (struct group **)&result);
		if (error != ERANGE || size >= (1u << 24))
			break;
		size *= 2;
		grown = realloc(buf == stack_buf ? NULL : buf, size);
		if (!grown) /* Cannot tell: say it has a name, and cache nothing. */
			goto out;
		buf = grown;
	}
	/* As find's getpwuid: a failed look-up is no name. */
	named = error == 0 && result != NULL;
	pthread_mutex_lock(&cache->lock);
	if (cache->count < countof(cache->ids)) {
		cache->ids[cache->count] = id;
		cache->named[cache->count++] = named;
	}
	pthread_mutex_unlock(&cache->lock);
out:
	if (buf != stack_buf)
		free(buf);
	return named;
}

static bool perm_matches(const struct expr *e, mode_t mode)
{
	mode_t bits = e->perm[S_ISDIR(mode) ? 1 : 0];

	switch (e->perm_kind) {
	case PERM_ALL: return (mode & bits) == bits;
	case PERM_ANY: return bits == 0 || (mode & bits) != 0; /* /000 matches all, as in find 4.9 */
	default: return (mode & 07777) == bits;
	}
}

/* The entry's path matches the whole of e's regular expression, as find's re_match does. */
static bool regex_matches(const struct expr *e, const struct walk_entry *entry)
{
	if (entry->path_len > INT32_MAX)
		return false;
	return re_match(e->regex, entry->path, (regoff_t)entry->path_len, 0, NULL) == (regoff_t)entry->path_len;
}

/* What eval passes down: where to report each -print reached. */
struct eval_out {
	expr_print_fn *print;
	void *context;
};

/*
 * The value of e on the entry. -quit stops everything: no operator
 * evaluates its right side once view->quit is set.
 */
static bool eval(const struct expr *e, struct expr_entry *view, const struct eval_out *out)
{
	const struct walk_entry *entry = view->entry;
	const struct stat *st;
	bool value;

	switch (e->kind) {
	case EXPR_TRUE:
		return true;
	case EXPR_PRINT:
		out->print(out->context, EXPR_PRINT_RECORD);
		return true;
	case EXPR_PRINT0:
		out->print(out->context, EXPR_PRINT_NUL);
		return true;
	case EXPR_PRUNE:
		view->prune = true;
		return true;
	case EXPR_QUIT:
		view->quit = true;
		return true;
	case EXPR_AND:
		value = eval(e->left, view, out);
		return value && !view->quit ? eval(e->right, view, out) : value;
	case EXPR_OR:
		value = eval(e->left, view, out);
		return !value && !view->quit ? eval(e->right, view, out) : value;
	case EXPR_NOT:
		return !eval(e->left, view, out);
	case EXPR_NAME:
		return match_name(e->pattern, entry, 0);
	case EXPR_INAME:
		return match_name(e->pattern, entry, FNM_CASEFOLD);
	case EXPR_PATH:
		return fnmatch(e->pattern, entry->path, 0) == 0;
	case EXPR_IPATH:
		return fnmatch(e->pattern, entry->path, FNM_CASEFOLD) == 0;
	case EXPR_REGEX:
		return regex_matches(e, entry);
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
	case EXPR_NEWER: {
		struct timespec t = stamp_of(st, e->stamp);

		return t.tv_sec > e->ref.tv_sec || (t.tv_sec == e->ref.tv_sec && t.tv_nsec > e->ref.tv_nsec);
	}
	case EXPR_EMPTY:
		if (S_ISREG(st->st_mode))
			return st->st_size == 0;
		return S_ISDIR(st->st_mode) && dir_is_empty(entry);
	case EXPR_PERM:
		return perm_matches(e, st->st_mode);
	case EXPR_USER:
		return st->st_uid == e->id;
	case EXPR_GROUP:
		return st->st_gid == e->id;
	case EXPR_NOUSER:
		return !id_has_name(e->names, true, st->st_uid);
	case EXPR_NOGROUP:
		return !id_has_name(e->names, false, st->st_gid);
	case EXPR_SAMEFILE:
		return st->st_dev == e->dev && st->st_ino == e->id;
	case EXPR_LINKS:
		return compare(e->cmp, (int64_t)st->st_nlink, e->number);
	case EXPR_INUM:
		return st->st_ino <= INT64_MAX && compare(e->cmp, (int64_t)st->st_ino, e->number);
	default:
		PT_ASSERT(!"unknown expression kind");
	}
}

void expr_eval(const struct expr *expr, struct expr_entry *view, expr_print_fn *print, void *context)
{
	struct eval_out out = { .print = print, .context = context };

	if (!expr)
		print(context, EXPR_PRINT_RECORD);
	else
		eval(expr, view, &out);
}
