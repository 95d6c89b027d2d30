/* SPDX-License-Identifier: 0BSD */
/**
 * phash --seal DIR: the in-place seal (godi's seal, ascmhl's create). The
 * walk's records go to an unnamed temporary file (O_TMPFILE in DIR, so on
 * its disk and in no listing; else in $TMPDIR), in the sorted walk's order,
 * and only when every file was read are they turned into the native
 * .ptools-seal (seal.h). With --mhl they go through a pipe to a thread that
 * writes the new ASC MHL generation as they come (mhl2hist.h; "The ASC MHL
 * generation" below), and the generation and chain are put in
 * DIR/ascmhl only when every file was read. Each is written under a
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

static struct mhlrun *run_open(struct sealdir *sd, const struct options *opt);
static int run_start(struct mhlrun *r);
static void run_join(struct mhlrun *r);
static void run_free(struct sealdir *sd, struct mhlrun *r);

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
	if (sd->mhl) {
		sd->run = run_open(sd, opt);
		if (!sd->run)
			return -1; /* reported (errno 0: no file is worth reading) */
		sd->pipe = run_start(sd->run);
	}
	return sd->pipe >= 0 ? sd->pipe : sd->records;
}

void sealdir_close(struct sealdir *sd)
{
	if (sd->pipe >= 0)
		close(sd->pipe);
	sd->pipe = -1;
	if (sd->run) {
		run_join(sd->run);
		run_free(sd, sd->run);
		sd->run = NULL;
	}
	mhl2_ignore_fini(&sd->ignore);
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

/* The records read from fd (the temporary, or the pipe as they come). */
static int each_record(struct sealdir *sd, int fd, record_fn *fn, void *arg)
{
	char name[64];
	struct input *in;
	struct rec rec;
	const char *why;
	int rc = 0;

	snprintf(name, sizeof(name), "/dev/fd/%d", fd);
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
	if (n.fd < 0 || each_record(sd, sd->records, native_record, &n) != 0 || seal_writer_end(&n.w) != 0 ||
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
 * The ASC MHL generation. Its history is read before the walk (sealdir_open):
 * one that does not hold together stops phash before any file is read, and
 * the generation can then be written while the walk runs. phash writes its
 * records into a pipe, and a thread turns them into the generation's
 * entries and directory hashes as they come (mhl2_generation_write's one
 * pass, behind room for the head); after the last file only the head, the
 * C4 and the chain are left. Where that thread cannot start, the records go
 * to their temporary and the generation is written after the walk from it.
 * Either way it is put in place only when every file was read.
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
	uint64_t unnamed;          /* paths XML cannot hold, left out */
	int records;               /* where the records are read: the temporary, or the pipe */
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

static int mhl_record(void *arg, const struct rec *rec, const char *rel, size_t len, char type)
{
	struct mhlfeed *f = arg;
	char digests[MHL2_FORMATS][MHL2_DIGEST_MAX + 1];
	const char *strings[MHL2_FORMATS], *actions[MHL2_FORMATS], *value;
	struct timespec mtime;
	bool failed = false;

	if (!mhl2_text_valid(rel, len)) {
		/* A note now (the walk may still be running: the status
		 * says whether every file was read); the status is raised
		 * once the generation is written. */
		diag_file_note(rel, "path is not valid UTF-8 text XML can hold: "
			       "not in the generation");
		f->unnamed++;
		return 0;
	}
	if (type == 'd')
		return mhl2tree_add_dir(f->tree, rel, len);
	if (entry_digests(f, rec, digests, strings) != 0)
		return -1;
	failed = mhl2_prior_actions(f->prior, rel, len, f->formats, strings, f->nformats, actions);
	if (failed) {
		diag_file_note(f->sd->dir, "%.*s: differs from the digest the ASC MHL history "
			       "records (written with action \"failed\")", (int)len, rel);
		f->failed++;
	}
	value = rec_attr_get(rec, "mtime", NULL);
	return mhl2tree_add_file(f->tree, rel, len, rec->size,
				 value && parse_mtime(value, &mtime) ? &mtime : NULL, strings,
				 actions);
}

/* The generation's formats: those of -a that ASC MHL names, in its order. */
static void mhlfeed_init(struct mhlfeed *f, struct sealdir *sd, const struct options *opt)
{
	memset(f, 0, sizeof(*f));
	f->sd = sd;
	f->opt = opt;
	f->records = sd->records;
	for (int k = 0; k < MHL2_FORMATS; k++)
		for (size_t i = 0; i < opt->count; i++)
			if (mhl2_format_of_algo(opt->algos[i]) == k) {
				f->algo_of[f->nformats] = (int)i;
				f->formats[f->nformats++] = (enum mhl2_format)k;
				break;
			}
}

/* One generation being made, from sealdir_open to sealdir_write. */
struct mhlrun {
	struct mhlfeed feed;
	struct mhl2_chain chain;
	struct mhl2_prior *prior;
	struct mhl2_generation gen;
	struct dbuf name, temp;    /* the generation's name, and its temporary's */
	char c4[MHL2_C4_LEN + 1];
	uint64_t seq;
	int histfd, fd;            /* DIR/ascmhl; the temporary */
	bool made_dir;             /* DIR/ascmhl was made by this run */
	/* The thread that writes the generation from the pipe, when it runs. */
	bool threaded, threaded_done; /* started; joined */
	pthread_t thread;
	int rd;                    /* the pipe's end it reads */
	int rc, err;               /* mhl2_generation_write's result and errno */
};

/* Say why the seal was not written. */
static void run_failed(struct sealdir *sd, const char *what, const char *why, int err)
{
	if (!why)
		why = err == EINVAL ? "a walk entry out of order or malformed" : strerror(err);
	diag_file_errorf(sd->dir, "seal not written (%s): %s", what, why);
}

/*
 * Report what mhl2_prior_load_history found wrong when the history itself
 * is at fault (malformed, changed, its chain unreadable). Returns whether
 * it was.
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

static void run_free(struct sealdir *sd, struct mhlrun *r)
{
	if (r->fd >= 0) {
		close(r->fd);
		(void)unlinkat(r->histfd, r->temp.data, 0);
	}
	if (r->histfd >= 0)
		close(r->histfd);
	/* Nothing of this run's is left: a directory it made goes too. */
	if (r->made_dir)
		(void)unlinkat(sd->dirfd, MHL2_DIR_NAME, AT_REMOVEDIR);
	if (r->rd >= 0)
		close(r->rd);
	mhl2_chain_free(&r->chain);
	mhl2_prior_free(r->prior);
	dbuf_free(&r->name);
	dbuf_free(&r->temp);
	free(r);
}

static int mhl_feed(void *arg, struct mhl2tree *tree)
{
	struct mhlfeed *f = arg;

	f->tree = tree;
	return each_record(f->sd, f->records, mhl_record, f);
}

/*
 * Before the walk: read the history, name the generation and open its
 * temporary. Returns the run, or NULL: the history is at fault (reported,
 * errno 0) or the seal cannot be written (reported, errno 0; or ENOMEM).
 */
static struct mhlrun *run_open(struct sealdir *sd, const struct options *opt)
{
	struct mhlrun *r = calloc(1, sizeof(*r));
	struct mhl2_prior_fault fault;
	struct dbuf folder;
	const char *what = "history";

	if (!r)
		return NULL;
	r->histfd = r->fd = r->rd = -1;
	dbuf_init(&r->name);
	dbuf_init(&r->temp);
	dbuf_init(&folder);
	mhlfeed_init(&r->feed, sd, opt);
	if (mkdirat(sd->dirfd, MHL2_DIR_NAME, 0755) == 0)
		r->made_dir = true;
	else if (errno != EEXIST)
		goto fail;
	r->histfd = openat(sd->dirfd, MHL2_DIR_NAME, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (r->histfd < 0)
		goto fail;
	what = MHL2_DIR_NAME "/" MHL2_CHAIN_NAME;
	if (mhl2_prior_load_history(r->histfd, &r->chain, NULL, &r->prior, &fault) != 0) {
		if (history_fault(sd, &fault))
			goto reported;
		if (fault.generation)
			what = fault.generation;
		goto fail;
	}
	r->feed.prior = r->prior;
	what = "generation";
	if (mhl2_ignore_build(&sd->ignore, r->prior, &opt->exclude) != 0)
		goto fail;
	r->seq = mhl2_next_sequence(r->histfd, &r->chain);
	if (folder_name(sd->dir, &folder) != 0 ||
	    mhl2_generation_name(&r->name, r->seq, folder.data, sd->started) != 0 ||
	    dbuf_printf(&r->temp, ".%s%s", r->name.data, TEMP_SUFFIX) != 0)
		goto fail;
	/* Generations are never rewritten: a name taken stays taken. */
	if (faccessat(r->histfd, r->name.data, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		goto fail;
	}
	(void)unlinkat(r->histfd, r->temp.data, 0);
	r->fd = openat(r->histfd, r->temp.data, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		       0644);
	if (r->fd < 0)
		goto fail;
	r->gen = (struct mhl2_generation){
		.process = "in-place", .tool = "phash", .tool_version = PTOOLS_VERSION,
		.when = sd->started, .formats = r->feed.formats, .nformats = r->feed.nformats,
		.feed = mhl_feed, .arg = &r->feed,
		.ignore = sd->ignore.patterns, .nignore = sd->ignore.n,
	};
	dbuf_free(&folder);
	return r;
fail:
	run_failed(sd, what, NULL, errno);
reported:
	dbuf_free(&folder);
	run_free(sd, r);
	errno = 0;
	return NULL;
}

static void *run_main(void *arg)
{
	struct mhlrun *r = arg;
	char buf[4096];

	r->rc = mhl2_generation_write(r->fd, &r->gen, r->c4);
	r->err = errno;
	/* Whatever went wrong, phash's records are read to their end. */
	for (;;) {
		ssize_t n = read(r->rd, buf, sizeof(buf));

		if (n == 0 || (n < 0 && errno != EINTR))
			break;
	}
	return NULL;
}

/* Start writing the generation from what phash writes to the returned
 * descriptor; -1: the records go to their temporary instead. */
static int run_start(struct mhlrun *r)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) != 0)
		return -1;
	/* Larger than the default 64 KiB, so the writers seldom wait. */
	(void)fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
	r->rd = r->feed.records = fds[0];
	if (pthread_create(&r->thread, NULL, run_main, r) != 0) {
		close(fds[0]);
		close(fds[1]);
		r->rd = -1;
		r->feed.records = r->feed.sd->records;
		return -1;
	}
	r->threaded = true;
	return fds[1];
}

static void run_join(struct mhlrun *r)
{
	if (!r->threaded)
		return;
	pthread_join(r->thread, NULL);
	r->threaded = false;
	r->threaded_done = true;
}

/* After the walk, every file read: the generation (written now, or by the
 * thread), then the chain, each put in place. Returns 0 or -1 (reported). */
static int run_finish(struct sealdir *sd, const struct options *opt, struct mhlrun *r)
{
	const char *what = "generation", *why = NULL;
	int fd;

	if (r->threaded_done ? r->rc != 0 : mhl2_generation_write(r->fd, &r->gen, r->c4) != 0) {
		run_failed(sd, what, NULL, r->threaded_done ? r->err : errno);
		return -1;
	}
	if (fsync(r->fd) != 0 || renameat(r->histfd, r->temp.data, r->histfd, r->name.data) != 0)
		goto fail;
	close(r->fd);
	r->fd = -1;
	r->made_dir = false;
	what = MHL2_CHAIN_NAME;
	dbuf_clear(&r->temp);
	if (mhl2_chain_add(&r->chain, r->seq, r->name.data, r->c4) != 0 ||
	    dbuf_printf(&r->temp, ".%s%s", MHL2_CHAIN_NAME, TEMP_SUFFIX) != 0)
		goto fail;
	(void)unlinkat(r->histfd, r->temp.data, 0);
	fd = openat(r->histfd, r->temp.data, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		goto fail;
	r->fd = fd;
	if (mhl2_write_chain(fd, r->chain.links, r->chain.n) != 0)
		goto fail;
	/* The chain holds every generation's C4: its signature vouches for
	 * the whole history. It is ready before the chain moves, so the two
	 * go into place back to back; without --sign an old one goes. */
	what = MHL2_CHAIN_NAME SSHSIG_SUFFIX;
	if (opt->sign && sealsign_prepare(opt->sign, r->histfd, fd, MHL2_CHAIN_NAME, &why) != 0)
		goto fail;
	what = MHL2_CHAIN_NAME;
	if (put_in_place(r->histfd, r->temp.data, MHL2_CHAIN_NAME, fd) != 0)
		goto fail;
	close(r->fd);
	r->fd = -1;
	what = MHL2_CHAIN_NAME SSHSIG_SUFFIX;
	if ((opt->sign ? sealsign_install(r->histfd, MHL2_CHAIN_NAME)
		       : sealsign_drop(r->histfd, MHL2_CHAIN_NAME)) != 0 || fsync(r->histfd) != 0)
		goto fail;
	if (r->feed.unnamed > 0)
		diag_raise(EXIT_FAILED);
	if (r->feed.failed > 0) {
		diag_file_errorf(sd->dir, "generation written; files that differ from the "
				 "history: %ju", (uintmax_t)r->feed.failed);
		return -1;
	}
	return 0;
fail:
	run_failed(sd, what, why, errno);
	if (opt->sign)
		sealsign_abandon(r->histfd, MHL2_CHAIN_NAME);
	return -1;
}
int sealdir_write(struct sealdir *sd, const struct options *opt)
{
	/* The records are all written: the generation's thread reads to
	 * their end. */
	if (sd->pipe >= 0)
		close(sd->pipe);
	sd->pipe = -1;
	if (sd->run)
		run_join(sd->run);
	if (diag_status() != EXIT_ALL_GOOD) {
		diag_file_errorf(sd->dir, "seal not written: not every file was read");
		diag_raise(EXIT_FAILED);
		return -1;
	}
	/* With --mhl, sealdir_open made the run or phash stopped. */
	if ((sd->mhl ? !sd->run || run_finish(sd, opt, sd->run) != 0
		     : seal_native(sd, opt) != 0)) {
		diag_raise(EXIT_FAILED);
		return -1;
	}
	return 0;
}
