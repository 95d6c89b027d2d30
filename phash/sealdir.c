/* SPDX-License-Identifier: 0BSD */
/**
 * phash --seal DIR: the in-place seal (godi's seal, ascmhl's create). The
 * walk's records go to an unnamed temporary file (O_TMPFILE in DIR, so on
 * its disk and in no listing; else in $TMPDIR), in the sorted
 * walk's order; only when every file was read are they turned into the seal
 * inside DIR: the native .ptools-seal (seal.h) or, with --mhl, a new ASC MHL
 * generation and chain in DIR/ascmhl (mhl2hist.h). Each is written under a
 * temporary name and renamed into place after fsync, so a previous seal
 * stays whole until the new one is complete; the seal's own files are left
 * out of its listing.
 */
#include "prelude.h"
#include "sealdir.h"
#include "diag.h"
#include "input.h"
#include "mhl2hist.h"
#include "mhl2ignore.h"
#include "mhl2prior.h"
#include "record.h"
#include "seal.h"
#include "sealsign.h"
#include "xio.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The temporary a seal is written under, beside it. */
#define TEMP_SUFFIX ".tmp"

/* The records' unnamed temporary. Returns 0 or -1. */
static int open_records(struct sealdir *sd)
{
	FILE *tmp;

	sd->records = openat(sd->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (sd->records >= 0)
		return 0;
	tmp = tmpfile();
	if (!tmp)
		return -1;
	sd->records = dup(fileno(tmp));
	fclose(tmp);
	return sd->records >= 0 ? 0 : -1;
}

static int ahead_start(struct sealdir *sd, const struct options *opt);
static void ahead_join(struct ahead *a);
static void ahead_free(struct ahead *a);
static bool ahead_broken(const struct ahead *a);

int sealdir_open(struct sealdir *sd, const char *dir, const struct options *opt)
{
	struct stat st;

	memset(sd, 0, sizeof(*sd));
	sd->dir = dir;
	sd->mhl = opt->mhl;
	sd->started = time(NULL);
	sd->records = -1;
	sd->pipe = -1;
	sd->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sd->dirfd < 0 || fstat(sd->dirfd, &st) != 0 || open_records(sd) != 0)
		return -1;
	if (sd->mhl)
		sd->pipe = ahead_start(sd, opt);
	if (ahead_broken(sd->ahead)) {
		errno = 0; /* reported: no file is worth reading */
		return -1;
	}
	return sd->pipe >= 0 ? sd->pipe : sd->records;
}

void sealdir_close(struct sealdir *sd)
{
	if (sd->pipe >= 0)
		close(sd->pipe);
	sd->pipe = -1;
	if (sd->ahead) {
		ahead_join(sd->ahead);
		ahead_free(sd->ahead);
		sd->ahead = NULL;
	}
	mhl2_ignore_fini(&sd->ignore); /* built before the walk, if seal_mhl never ran */
	if (sd->records >= 0)
		close(sd->records);
	if (sd->dirfd >= 0)
		close(sd->dirfd);
	sd->records = -1;
	sd->dirfd = -1;
}

/* Parse "SEC.NSEC" (or "SEC"). */
static bool parse_mtime(const char *s, struct timespec *ts)
{
	char *end;
	long long sec;
	long nsec = 0;

	errno = 0;
	sec = strtoll(s, &end, 10);
	if (errno || end == s)
		return false;
	if (*end == '.') {
		const char *p = end + 1;
		int digits = 0;

		for (; *p >= '0' && *p <= '9' && digits < 9; p++, digits++)
			nsec = nsec * 10 + (*p - '0');
		for (; digits < 9; digits++)
			nsec *= 10;
		end = (char *)p;
	}
	if (*end)
		return false;
	ts->tv_sec = (time_t)sec;
	ts->tv_nsec = nsec;
	return true;
}

/* The path of rec relative to DIR, or NULL for DIR itself or a path not in it. */
static const char *relative(const struct sealdir *sd, const struct rec *rec, size_t *len)
{
	const char *path = rec_path(rec);
	size_t plen = rec_path_len(rec), dlen = strlen(sd->dir);

	while (dlen > 1 && sd->dir[dlen - 1] == '/')
		dlen--;
	if (plen < dlen || memcmp(path, sd->dir, dlen) != 0)
		return NULL;
	path += dlen;
	plen -= dlen;
	if (dlen > 0 && sd->dir[dlen - 1] != '/') {
		if (plen == 0 || *path != '/')
			return NULL;
	}
	while (plen > 0 && *path == '/')
		path++, plen--;
	if (plen == 0)
		return NULL;
	*len = plen;
	return path;
}

/*
 * Whether a path relative to DIR is left out of the seal: the seal's own
 * files, and in a generation what its ignore patterns say.
 */
static bool is_own(const struct sealdir *sd, const char *rel, size_t len, bool is_dir)
{
	static const char seal[] = SEAL_DEFAULT_NAME;
	size_t n = sizeof(seal) - 1;

	if (sd->mhl)
		return mhl2_ignore_match(&sd->ignore, rel, len, is_dir);
	return len >= n && memcmp(rel, seal, n) == 0 &&
	       (len == n || memchr(rel + n, '/', len - n) == NULL);
}

/* Each record of the walk, in order: a callback per file or directory. */
typedef int record_fn(void *arg, const struct rec *rec, const char *rel, size_t len, char type);

/* fn for rec, if it is a file or directory of the seal. */
static int one_record(struct sealdir *sd, const struct rec *rec, record_fn *fn, void *arg)
{
	const char *rel, *type = rec_attr_get(rec, "type", NULL);
	size_t len = 0;

	if (!type || (strcmp(type, "f") != 0 && strcmp(type, "d") != 0))
		return 0; /* links and special files: nothing to hash */
	rel = relative(sd, rec, &len);
	if (!rel || is_own(sd, rel, len, type[0] == 'd'))
		return 0;
	return fn(arg, rec, rel, len, type[0]);
}

static int each_record(struct sealdir *sd, record_fn *fn, void *arg)
{
	char name[64];
	struct input *in;
	struct rec rec;
	const char *why;
	int rc = 0;

	snprintf(name, sizeof(name), "/dev/fd/%d", sd->records);
	in = input_open(name, false);
	if (!in)
		return -1;
	rec_init(&rec);
	for (;;) {
		enum input_status status = input_next(in, &rec, &why);

		if (status == INPUT_EOF)
			break;
		if (status != INPUT_RECORD) {
			if (status == INPUT_COMMENT)
				continue;
			errno = status == INPUT_ERROR ? errno : EINVAL;
			rc = -1;
			break;
		}
		if (one_record(sd, &rec, fn, arg) != 0) {
			rc = -1;
			break;
		}
	}
	rec_free(&rec);
	input_close(in);
	return rc;
}

/* Write text at fd and fsync it. */
static int write_all(int fd, struct dbuf *text)
{
	if (text->len > 0 && xwrite(fd, text->data, text->len) != 0)
		return -1;
	dbuf_clear(text);
	return 0;
}

/*
 * The native seal.
 */

struct native {
	struct seal_writer w;
	const struct options *opt;
	int fd;
	struct dbuf line;
};

static int native_record(void *arg, const struct rec *rec, const char *rel, size_t len, char type)
{
	struct native *n = arg;
	char hex[HASH_SET_MAX][HASH_HEX_MAX + 1];
	struct timespec mtime = {0};
	const char *value;
	size_t vlen;

	if (type != 'f')
		return 0;
	value = rec_attr_get(rec, "mtime", NULL);
	if (value && !parse_mtime(value, &mtime))
		mtime = (struct timespec){0};
	for (size_t i = 0; i < n->opt->count; i++) {
		value = rec_attr_get(rec, n->opt->algos[i]->name, &vlen);
		if (!value || vlen > HASH_HEX_MAX) {
			errno = EINVAL;
			return -1;
		}
		memcpy(hex[i], value, vlen);
		hex[i][vlen] = '\0';
	}
	if (seal_format_record(&n->line, rec->ino, rec->size, rel, len, &mtime, n->opt->algos, hex,
			       n->opt->count) != 0 ||
	    seal_writer_add(&n->w, n->line.data, n->line.len) != 0)
		return -1;
	if (n->w.text.len >= ((size_t)1 << 18))
		return write_all(n->fd, &n->w.text);
	return 0;
}

/* Write name's temporary in dirfd, then rename it into place. */
static int put_in_place(int dirfd, const char *temp, const char *name, int fd)
{
	if (fsync(fd) != 0 || renameat(dirfd, temp, dirfd, name) != 0)
		return -1;
	return fsync(dirfd);
}

static int seal_native(struct sealdir *sd, const struct options *opt)
{
	static const char temp[] = SEAL_DEFAULT_NAME TEMP_SUFFIX;
	struct native n = {.opt = opt, .fd = -1};
	const char *why = NULL;
	int rc = -1;

	/* A seal only ever replaces a seal: a file of the user's bearing the
	 * name is not lost. */
	if (seal_file_is_seal(sd->dirfd, SEAL_DEFAULT_NAME) == 0) {
		errno = EEXIST;
		diag_file_errorf(sd->dir, "%s exists and is not a seal: not replaced",
				 SEAL_DEFAULT_NAME);
		return -1;
	}
	dbuf_init(&n.line);
	if (seal_writer_init(&n.w) != 0)
		goto fail;
	/* What the walk left out, as pcopy's seal records it (exclude.h). */
	if (exclude_format_comment(&opt->exclude, &n.line) != 0 ||
	    seal_writer_add(&n.w, n.line.data, n.line.len) != 0)
		goto fail;
	dbuf_clear(&n.line);
	(void)unlinkat(sd->dirfd, temp, 0);
	n.fd = openat(sd->dirfd, temp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (n.fd < 0 || each_record(sd, native_record, &n) != 0 || seal_writer_end(&n.w) != 0 ||
	    write_all(n.fd, &n.w.text) != 0)
		goto fail;
	/* The signature is ready before the seal moves, so the two go into
	 * place back to back; without --sign an old one goes (it signed the
	 * seal replaced). */
	if (opt->sign && sealsign_prepare(opt->sign, sd->dirfd, n.fd, SEAL_DEFAULT_NAME, &why) != 0)
		goto fail;
	if (put_in_place(sd->dirfd, temp, SEAL_DEFAULT_NAME, n.fd) != 0)
		goto fail;
	if (opt->sign ? sealsign_install(sd->dirfd, SEAL_DEFAULT_NAME) != 0
		      : sealsign_drop(sd->dirfd, SEAL_DEFAULT_NAME) != 0) {
		diag_file_errorf(sd->dir, "seal written, but its signature %s: %s",
				 opt->sign ? "not put in place" : "of the old seal not removed",
				 strerror(errno));
		if (opt->sign)
			sealsign_abandon(sd->dirfd, SEAL_DEFAULT_NAME);
		rc = -1;
		goto done;
	}
	rc = fsync(sd->dirfd);
fail:
	if (rc != 0) {
		diag_file_errorf(sd->dir, "seal not written: %s", why ? why : strerror(errno));
		if (n.fd >= 0)
			(void)unlinkat(sd->dirfd, temp, 0);
		if (opt->sign)
			sealsign_abandon(sd->dirfd, SEAL_DEFAULT_NAME);
	}
done:
	if (n.fd >= 0)
		close(n.fd);
	seal_writer_fini(&n.w);
	dbuf_free(&n.line);
	return rc;
}

/*
 * The ASC MHL generation.
 */

struct mhlfeed {
	struct sealdir *sd;
	const struct options *opt;
	enum mhl2_format formats[MHL2_FORMATS];
	size_t nformats;
	int algo_of[MHL2_FORMATS]; /* index in opt->algos of each format */
	struct mhl2tree *tree;
	const struct mhl2_prior *prior; /* what the history records, or NULL */
	uint64_t failed;           /* files whose digest differs from the history's */
};

/* A file record's digests as the generation writes them, in f's formats. */
static int entry_digests(const struct mhlfeed *f, const struct rec *rec,
			 char (*digests)[MHL2_DIGEST_MAX + 1], const char **strings)
{
	char hex[HASH_HEX_MAX + 1];
	const char *value;
	size_t vlen;

	for (size_t i = 0; i < f->nformats; i++) {
		value = rec_attr_get(rec, f->opt->algos[f->algo_of[i]]->name, &vlen);
		if (!value || vlen > HASH_HEX_MAX) {
			errno = EINVAL;
			return -1;
		}
		memcpy(hex, value, vlen);
		hex[vlen] = '\0';
		if (mhl2_digest_from_hex(f->formats[i], hex, digests[i]) != 0)
			return -1;
		strings[i] = digests[i];
	}
	return 0;
}

/* The first pass, made while the walk runs (struct ahead): the directory
 * hashes only. What the second pass reports, this one passes over. */
static int ahead_record(void *arg, const struct rec *rec, const char *rel, size_t len, char type)
{
	struct mhlfeed *f = arg;
	char digests[MHL2_FORMATS][MHL2_DIGEST_MAX + 1];
	const char *strings[MHL2_FORMATS];

	if (!mhl2_text_valid(rel, len))
		return 0;
	if (type == 'd')
		return mhl2tree_add_dir(f->tree, rel, len);
	if (entry_digests(f, rec, digests, strings) != 0)
		return -1;
	return mhl2tree_add_file(f->tree, rel, len, rec->size, NULL, strings, NULL);
}

static int mhl_record(void *arg, const struct rec *rec, const char *rel, size_t len, char type)
{
	struct mhlfeed *f = arg;
	char digests[MHL2_FORMATS][MHL2_DIGEST_MAX + 1];
	const char *strings[MHL2_FORMATS];
	struct timespec mtime;
	const char *value;

	const char *actions[MHL2_FORMATS];
	bool failed = false;

	if (!mhl2_text_valid(rel, len)) {
		diag_file_errorf(rel, "path is not valid UTF-8 text XML can hold: "
				 "not in the generation");
		diag_raise(EXIT_FAILED);
		return 0;
	}
	if (type == 'd')
		return mhl2tree_add_dir(f->tree, rel, len);
	if (entry_digests(f, rec, digests, strings) != 0)
		return -1;
	for (size_t i = 0; i < f->nformats; i++) {
		actions[i] = mhl2_prior_action(f->prior, rel, len, f->formats[i], digests[i]);
		failed |= strcmp(actions[i], "failed") == 0;
	}
	if (failed) {
		diag_file_errorf(f->sd->dir, "%.*s: differs from the digest the ASC MHL history "
				 "records (written with action \"failed\")", (int)len, rel);
		f->failed++;
	}
	value = rec_attr_get(rec, "mtime", NULL);
	return mhl2tree_add_file(f->tree, rel, len, rec->size,
				 value && parse_mtime(value, &mtime) ? &mtime : NULL, strings,
				 actions);
}

static int mhl_feed(void *arg, struct mhl2tree *tree)
{
	struct mhlfeed *f = arg;

	f->tree = tree;
	return each_record(f->sd, mhl_record, f);
}

/* The generation's formats: those of -a that ASC MHL names, in its order. */
static void mhlfeed_init(struct mhlfeed *f, struct sealdir *sd, const struct options *opt)
{
	memset(f, 0, sizeof(*f));
	f->sd = sd;
	f->opt = opt;
	for (int k = 0; k < MHL2_FORMATS; k++)
		for (size_t i = 0; i < opt->count; i++)
			if (mhl2_format_of_algo(opt->algos[i]) == k) {
				f->algo_of[f->nformats] = (int)i;
				f->formats[f->nformats++] = (enum mhl2_format)k;
				break;
			}
}

/*
 * --mhl: the generation's directory hashes are made while the walk runs.
 * phash writes its records into a pipe; this thread copies them into the
 * records' temporary and gives each to a tree that only hashes, so that
 * after the walk only the second pass is left (head first, the entries
 * streamed through a writer thread that makes the C4), not three (hashes,
 * entries, the C4 read back) one after another on one core. The history is
 * read before the walk for its ignore patterns, and kept for the seal.
 * What goes wrong here but the copy only turns the first pass off: the
 * generation is then made after the walk, as without it.
 */
struct ahead {
	struct sealdir *sd;
	int rd;                     /* the pipe's end this thread reads */
	pthread_t thread;
	struct mhlfeed feed;
	bool started;               /* the thread runs (until ahead_join) */
	struct mhl2_dirlog *log;    /* NULL once the first pass failed */
	struct dbuf line;           /* the part of a line read so far */
	struct rec rec;
	int copy_error;             /* errno of a failed copy: no seal */
	bool history;               /* chain, prior and sd->ignore were read */
	bool broken;                /* the history is at fault, and was reported */
	struct mhl2_chain chain;
	struct mhl2_prior *prior;
};

#define AHEAD_CHUNK ((size_t)1 << 16)

/* One whole line of records (LF left out) through the first pass. */
static void ahead_line(struct ahead *a, const char *line, size_t len)
{
	const char *why;
	int kind = rec_parse(&a->rec, line, len, &why);

	if (kind == REC_ENTRY && one_record(a->sd, &a->rec, ahead_record, &a->feed) == 0)
		return;
	if (kind == REC_COMMENT || kind == REC_BLANK)
		return;
	mhl2_dirlog_free(a->log);
	a->log = NULL;
}

static void ahead_bytes(struct ahead *a, const char *data, size_t len)
{
	while (a->log && len > 0) {
		const char *lf = memchr(data, '\n', len);
		size_t n = lf ? (size_t)(lf - data) : len;

		if (!lf || a->line.len > 0) {
			if (dbuf_append(&a->line, data, n) != 0) {
				mhl2_dirlog_free(a->log);
				a->log = NULL;
				return;
			}
			if (lf) {
				ahead_line(a, a->line.data, a->line.len);
				dbuf_clear(&a->line);
			}
		} else {
			ahead_line(a, data, n);
		}
		data += lf ? n + 1 : n;
		len -= lf ? n + 1 : n;
	}
}

static void *ahead_main(void *arg)
{
	struct ahead *a = arg;
	static char buf[AHEAD_CHUNK]; /* one such thread */
	ssize_t n;

	for (;;) {
		n = read(a->rd, buf, AHEAD_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0)
				a->copy_error = errno;
			break;
		}
		/* After a failed copy the rest is still read, so phash ends;
		 * the seal is then not written. */
		if (!a->copy_error && xwrite(a->sd->records, buf, (size_t)n) != 0)
			a->copy_error = errno ? errno : EIO;
		ahead_bytes(a, buf, (size_t)n);
	}
	if (a->log && (a->line.len > 0 || mhl2_dirlog_finish(a->log) != 0)) {
		mhl2_dirlog_free(a->log);
		a->log = NULL;
	}
	close(a->rd);
	a->rd = -1;
	return NULL;
}

/*
 * Report what mhl2_prior_load_history found wrong when the history itself
 * is at fault (malformed, or its chain unreadable), as the end of the run.
 * Returns whether it was.
 */
static bool history_fault(const struct sealdir *sd, const struct mhl2_prior_fault *fault)
{
	if (fault->why)
		diag_file_errorf(sd->dir, "%s/%s: %s: no generation added", MHL2_DIR_NAME,
				 fault->generation ? fault->generation : MHL2_CHAIN_NAME,
				 fault->why);
	else if (fault->chain)
		diag_file_errorf(sd->dir, "%s/%s: %s", MHL2_DIR_NAME, MHL2_CHAIN_NAME,
				 strerror(errno));
	return fault->why || fault->chain;
}

/* Read the history DIR has, if any, as seal_mhl would. Returns 0 or -1;
 * a history at fault is reported (a->broken), before any file is read. */
static int ahead_history(struct ahead *a, const struct options *opt)
{
	struct mhl2_prior_fault fault;
	int histfd = openat(a->sd->dirfd, MHL2_DIR_NAME,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (histfd < 0 && errno != ENOENT)
		return -1;
	if (histfd >= 0) {
		int rc = mhl2_prior_load_history(histfd, &a->chain, NULL, &a->prior, &fault);

		if (rc != 0)
			a->broken = history_fault(a->sd, &fault);
		close(histfd);
		if (rc != 0)
			return -1;
	}
	if (mhl2_ignore_build(&a->sd->ignore, a->prior, &opt->exclude) != 0)
		return -1;
	a->history = true;
	return 0;
}

/* Start the first pass; returns the pipe's end for phash's records, or -1
 * (nothing started: the records go to their temporary directly). */
static int ahead_start(struct sealdir *sd, const struct options *opt)
{
	struct ahead *a = calloc(1, sizeof(*a));
	int fds[2] = {-1, -1};

	if (!a)
		return -1;
	a->sd = sd;
	a->rd = -1;
	dbuf_init(&a->line);
	rec_init(&a->rec);
	mhlfeed_init(&a->feed, sd, opt);
	if (a->feed.nformats == 0 || ahead_history(a, opt) != 0 ||
	    !(a->log = mhl2_dirlog_new(a->feed.formats, a->feed.nformats)) ||
	    pipe2(fds, O_CLOEXEC) != 0)
		goto fail;
	a->feed.tree = mhl2_dirlog_tree(a->log);
	a->rd = fds[0];
	/* Larger than the default 64 KiB, so the writers seldom wait. */
	(void)fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
	if (pthread_create(&a->thread, NULL, ahead_main, a) != 0)
		goto fail;
	a->started = true;
	sd->ahead = a;
	return fds[1];
fail:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	a->rd = -1;
	sd->ahead = a; /* freed by sealdir_close; a->history may still serve */
	mhl2_dirlog_free(a->log);
	a->log = NULL;
	return -1;
}

/* After the walk: wait for the first pass. */
static void ahead_join(struct ahead *a)
{
	if (a->started)
		pthread_join(a->thread, NULL);
	a->started = false;
}

static bool ahead_broken(const struct ahead *a)
{
	return a && a->broken;
}

static void ahead_free(struct ahead *a)
{
	if (!a)
		return;
	mhl2_dirlog_free(a->log);
	dbuf_free(&a->line);
	rec_free(&a->rec);
	mhl2_chain_free(&a->chain);
	mhl2_prior_free(a->prior);
	if (a->rd >= 0)
		close(a->rd);
	free(a);
}

/* The folder's name, for the generation's file name: DIR's last component. */
static int folder_name(const char *dir, struct dbuf *out)
{
	char *real = realpath(dir, NULL);
	const char *name;
	int rc;

	if (!real)
		return -1;
	name = strrchr(real, '/');
	name = name && name[1] ? name + 1 : "root";
	rc = dbuf_puts(out, name);
	free(real);
	return rc;
}

static int seal_mhl(struct sealdir *sd, const struct options *opt)
{
	struct mhlfeed feed;
	struct mhl2_chain chain = {0};
	struct mhl2_generation gen;
	struct dbuf name, temp, folder;
	char c4[MHL2_C4_LEN + 1];
	const char *what = "history", *why = NULL;
	struct mhl2_prior *prior = NULL;
	struct mhl2_prior_fault fault;
	uint64_t seq;
	int histfd = -1, fd = -1, rc = -1;

	dbuf_init(&name);
	dbuf_init(&temp);
	dbuf_init(&folder);
	mhlfeed_init(&feed, sd, opt);
	if (mkdirat(sd->dirfd, MHL2_DIR_NAME, 0755) != 0 && errno != EEXIST)
		goto fail;
	histfd = openat(sd->dirfd, MHL2_DIR_NAME, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (histfd < 0)
		goto fail;
	what = MHL2_DIR_NAME "/" MHL2_CHAIN_NAME;
	if (sd->ahead && sd->ahead->history) {
		/* Read before the walk, and the ignore patterns built then. */
		chain = sd->ahead->chain;
		sd->ahead->chain = (struct mhl2_chain){0};
		prior = sd->ahead->prior;
		sd->ahead->prior = NULL;
	} else if (mhl2_prior_load_history(histfd, &chain, NULL, &prior, &fault) != 0) {
		if (history_fault(sd, &fault)) {
			errno = 0;
			goto out;
		}
		if (fault.generation)
			what = fault.generation;
		goto fail;
	}
	feed.prior = prior;
	what = "generation";
	if (!(sd->ahead && sd->ahead->history) &&
	    mhl2_ignore_build(&sd->ignore, prior, &opt->exclude) != 0)
		goto fail;
	seq = mhl2_next_sequence(histfd, &chain);
	if (folder_name(sd->dir, &folder) != 0 ||
	    mhl2_generation_name(&name, seq, folder.data, sd->started) != 0 ||
	    dbuf_printf(&temp, ".%s%s", name.data, TEMP_SUFFIX) != 0)
		goto fail;
	(void)unlinkat(histfd, temp.data, 0);
	fd = openat(histfd, temp.data, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		goto fail;
	gen = (struct mhl2_generation){
		.process = "in-place", .tool = "phash", .tool_version = PTOOLS_VERSION,
		.when = sd->started, .formats = feed.formats, .nformats = feed.nformats,
		.feed = mhl_feed, .arg = &feed,
		.ignore = sd->ignore.patterns, .nignore = sd->ignore.n,
		.ahead = sd->ahead ? sd->ahead->log : NULL,
	};
	/* Generations are never rewritten: a name taken stays taken. */
	if (faccessat(histfd, name.data, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		goto fail;
	}
	if (mhl2_generation_write(fd, &gen, c4) != 0 || fsync(fd) != 0 ||
	    renameat(histfd, temp.data, histfd, name.data) != 0)
		goto fail;
	close(fd);
	fd = -1;
	what = MHL2_CHAIN_NAME;
	dbuf_clear(&temp);
	if (mhl2_chain_add(&chain, seq, name.data, c4) != 0 ||
	    dbuf_printf(&temp, ".%s%s", MHL2_CHAIN_NAME, TEMP_SUFFIX) != 0)
		goto fail;
	(void)unlinkat(histfd, temp.data, 0);
	fd = openat(histfd, temp.data, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || mhl2_write_chain(fd, chain.links, chain.n) != 0)
		goto fail;
	/* The chain holds every generation's C4: its signature vouches for
	 * the whole history. It is ready before the chain moves, so the two
	 * go into place back to back; without --sign an old one goes. */
	what = MHL2_CHAIN_NAME SSHSIG_SUFFIX;
	if (opt->sign && sealsign_prepare(opt->sign, histfd, fd, MHL2_CHAIN_NAME, &why) != 0)
		goto fail;
	what = MHL2_CHAIN_NAME;
	if (put_in_place(histfd, temp.data, MHL2_CHAIN_NAME, fd) != 0)
		goto fail;
	what = MHL2_CHAIN_NAME SSHSIG_SUFFIX;
	if ((opt->sign ? sealsign_install(histfd, MHL2_CHAIN_NAME)
		       : sealsign_drop(histfd, MHL2_CHAIN_NAME)) != 0 || fsync(histfd) != 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	if (why)
		diag_file_errorf(sd->dir, "seal not written (%s): %s", what, why);
	else
		diag_file_errorf(sd->dir, "seal not written (%s): %s", what,
				 errno == EINVAL ? "a walk entry out of order or malformed"
						 : strerror(errno));
	if (fd >= 0 && temp.len > 0)
		(void)unlinkat(histfd, temp.data, 0);
	if (opt->sign && histfd >= 0)
		sealsign_abandon(histfd, MHL2_CHAIN_NAME);
out:
	if (fd >= 0)
		close(fd);
	if (histfd >= 0)
		close(histfd);
	mhl2_ignore_fini(&sd->ignore);
	mhl2_chain_free(&chain);
	mhl2_prior_free(prior);
	dbuf_free(&name);
	dbuf_free(&temp);
	dbuf_free(&folder);
	if (rc == 0 && feed.failed > 0) {
		diag_file_errorf(sd->dir, "generation written; files that differ from the "
				 "history: %ju", (uintmax_t)feed.failed);
		rc = -1;
	}
	return rc;
}

int sealdir_write(struct sealdir *sd, const struct options *opt)
{
	/* The records are all written: the first pass reads to their end. */
	if (sd->pipe >= 0)
		close(sd->pipe);
	sd->pipe = -1;
	if (sd->ahead) {
		ahead_join(sd->ahead);
		if (sd->ahead->copy_error) {
			diag_file_errorf(sd->dir, "seal not written: the walk's records: %s",
					 strerror(sd->ahead->copy_error));
			diag_raise(EXIT_FAILED);
			return -1;
		}
	}
	if (diag_status() != EXIT_ALL_GOOD) {
		diag_file_errorf(sd->dir, "seal not written: not every file was read");
		diag_raise(EXIT_FAILED);
		return -1;
	}
	if ((sd->mhl ? seal_mhl(sd, opt) : seal_native(sd, opt)) != 0) {
		diag_raise(EXIT_FAILED);
		return -1;
	}
	return 0;
}
