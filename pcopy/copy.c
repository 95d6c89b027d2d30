/* SPDX-License-Identifier: 0BSD */
/**
 * The copy engine's outside: setting a run up (destinations, journals,
 * seals in progress, writer pools), finishing it (seal each healthy
 * destination, roll back the others, or all of them after a source failure
 * or a signal; the summary), and pcopy --rollback.
 *
 * How a run goes: producers (producer.c) walk the source or read records;
 * directories, symlinks and special files are made in every destination
 * right there, and each regular file becomes a task for its source
 * device's readers (reader.c). A reader reads the file once, hashing it and
 * writing every block to every destination at once (fileop.c), installs
 * each copy atomically and adds it to that destination's seal (sealer.c).
 * A failure in one destination marks it failed and every later step skips
 * it; at the end it is rolled back from its journal while the others are
 * sealed. A source failure or a signal stops everything and rolls back
 * every destination.
 */
#include "prelude.h"
#include "copy.h"
#include "run.h"
#include "destdir.h"
#include "diag.h"
#include "bagger.h"
#include "dryrun.h"
#include "fileop.h"
#include "journal.h"
#include "journal_finish.h"
#include "links.h"
#include "mirror.h"
#include "producer.h"
#include "rdest.h"
#include "reader.h"
#include "sealer.h"
#include "single.h"
#include "mhlseal.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t new_run_id(void)
{
	uint64_t id = 0;

	if (getrandom(&id, sizeof(id), 0) != sizeof(id)) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		id = ((uint64_t)now.tv_sec << 30) ^ (uint64_t)now.tv_nsec ^ ((uint64_t)getpid() << 48);
	}
	return id;
}

/* Report one thing an undo or completion left behind. */
static void report_leftover(void *arg, const char *path, int err)
{
	const char *dest = arg;

	diag_file_errorf(dest, "%s: could not be undone: %s", path, strerror(err));
}

/* Set dest aside as finished before this run: nothing is done there, and it is no failure. */
static void dest_done_before(struct dest *dest, const char *note)
{
	dest->done_before = true;
	atomic_store(&dest->error, ECANCELED);
	diag_file_note(dest->path, "%s", note);
}

/*
 * --resume: take over the journal an interrupted run left in dest. Returns
 * 0 (resumed: the journal is dest's), 1 (no unfinished run there: set up a
 * fresh one), or -1 (dest is done or has failed).
 */
static int dest_resume(struct copy *copy, struct dest *dest)
{
	struct journal_result result;

	/* With --mhl the history is written again whole: what the interrupted
	 * run put in ascmhl goes first (it would read as a history the source
	 * lacks). */
	dest->journal = journal_resume(dest->rootfd, copy->opt.fsync,
				       copy->opt.mhl ? MHL2_DIR_NAME : NULL, &dest->owned);
	if (dest->journal)
		return 0;
	if (errno == EALREADY) {
		if (journal_finish_at(dest->rootfd, dest->path, report_leftover, dest->path,
				      &result) != 0 || result.failures > 0) {
			dest_fail(dest, JOURNAL_NAME, strlen(JOURNAL_NAME), errno ? errno : EIO,
				  "completing the interrupted run");
			return -1;
		}
		dest_done_before(dest, "the interrupted run had sealed it: completed");
		return -1;
	}
	if (errno != ENOENT) {
		dest_fail(dest, JOURNAL_NAME, strlen(JOURNAL_NAME), errno, "resuming");
		return -1;
	}
	if (seal_file_is_seal(dest->rootfd, copy->opt.seal_name) == 1) {
		dest_done_before(dest, "no unfinished run, and sealed: nothing to resume");
		return -1;
	}
	return 1;
}

/* Open (or make) one destination root, its journal and its seal. */
/* Whether dest is written through a peer (host:PATH here, or the client of a sending server). */
static bool dest_is_remote(const struct copy *copy, const struct dest *dest)
{
	return copy->opt.peer || (!copy->opt.server && remote_operand(dest->path));
}

static void dest_setup(struct copy *copy, struct dest *dest)
{
	struct journal_header header;
	struct stat st;

	memset(&header, 0, sizeof(header));
	dest->rootfd = -1;
	if (dest_is_remote(copy, dest)) {
		rdest_setup(copy, dest, copy->opt.peer);
		return;
	}
	dest->rootfd = open(dest->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (copy->opt.dry_run) {
		/* Looked at, never changed: no lock, journal or seal. */
		if (dest->rootfd < 0 && errno != ENOENT)
			dest_fail(dest, "", 0, errno, NULL);
		else if (dest->rootfd >= 0 && !copy->opt.force && !copy->opt.update && !copy->opt.no_seal &&
			 faccessat(dest->rootfd, copy->opt.seal_name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			dryrun_say(dest, DRYRUN_REFUSE, copy->opt.seal_name,
				   strlen(copy->opt.seal_name));
		return;
	}
	if (dest->rootfd < 0 && errno == ENOENT) {
		if (mkdir(dest->path, 0777) != 0) {
			dest_fail(dest, "", 0, errno, "making the destination");
			return;
		}
		dest->root_created = true;
		dest->rootfd = open(dest->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (dest->rootfd < 0 || fstat(dest->rootfd, &st) != 0) {
		dest_fail(dest, "", 0, errno, NULL);
		if (dest->root_created)
			rmdir(dest->path);
		return;
	}
	for (size_t i = 0; i < dest->index; i++) {
		if (copy->root_dev[i] == st.st_dev && copy->root_ino[i] == st.st_ino &&
		    copy->dests[i].rootfd >= 0) {
			close(dest->rootfd);
			dest->rootfd = -1;
			dest_fail(dest, "", 0, EINVAL, "the same directory as another destination");
			return;
		}
	}
	/* One run at a time in a destination, and no --rollback under a live
	 * run: the lock is held until the root's descriptor closes. */
	if (journal_lock(dest->rootfd) != 0) {
		int err = errno;
		char why[64];
		long pid = err == EBUSY ? journal_holder(dest->rootfd) : 0;
		if (pid > 0)
			snprintf(why, sizeof(why), "in use by pcopy, pid %ld", pid);
		else
			snprintf(why, sizeof(why), err == EBUSY ? "in use by pcopy" : "locking");
		close(dest->rootfd);
		dest->rootfd = -1;
		dest_fail(dest, "", 0, err, why);
		return;
	}
	copy->root_dev[dest->index] = st.st_dev;
	copy->root_ino[dest->index] = st.st_ino;
	dest->root_mtime = st.st_mtim;
	if (copy->opt.resume && !dest->root_created) {
		switch (dest_resume(copy, dest)) {
		case 1:
			break; /* nothing to resume: a fresh run */
		case 0:
			dest_probe_anon(copy, dest);
			if (!copy->opt.no_seal && seal_open(copy, dest) != 0)
				dest_fail(dest, copy->opt.seal_name, strlen(copy->opt.seal_name),
					  errno, "seal");
			return;
		default:
			return; /* done, or failed */
		}
	}
	header.run_id = copy->run_id;
	header.root_created = dest->root_created;
	header.root_mtime_known = !dest->root_created;
	header.root_mtime = st.st_mtim;
	dest->journal = journal_create(dest->rootfd, &header, copy->opt.fsync);
	if (!dest->journal) {
		int err = errno;
		if (dest->root_created)
			rmdir(dest->path);
		dest_fail(dest, JOURNAL_NAME, strlen(JOURNAL_NAME), err,
			  err == EEXIST ? "an unfinished run left its journal (pcopy --resume to "
					  "finish it, or pcopy --rollback to undo it)"
					: "journal");
		return;
	}
	dest_probe_anon(copy, dest);
	if (!copy->opt.no_seal && seal_open(copy, dest) != 0) {
		int err = errno;
		dest_fail(dest, copy->opt.seal_name, strlen(copy->opt.seal_name),
			  err == ENOTSUP ? EEXIST : err,
			  err == EEXIST	   ? "a seal exists (use --force or --update)"
			  : err == ENOTSUP ? "not a seal, so never replaced by one (choose another name with --seal)"
					   : "seal");
	}
}

static void *writer_init(void *arg)
{
	return arg;
}

struct copy *copy_new(const struct copy_options *options, const char *const *dests,
		      size_t ndests)
{
	struct pool_config pool_config;
	const char *names[PROGRESS_LANES_MAX];
	struct copy *copy;

	copy = calloc(1, sizeof(*copy));
	if (!copy)
		return NULL;
	copy->opt = *options;
	mhlseal_setup(copy);
	copy->ndests = ndests;
	copy->run_id = new_run_id();
	/* Reading the umask means setting it; no other thread runs yet. */
	copy->umask = umask(0);
	umask(copy->umask);
	/* Room for a ring in every reader there could be, far storage's too. */
	atomic_init(&copy->ahead_left, readers_ahead_budget(readers_max(copy)));
	atomic_init(&copy->far, false);
	atomic_init(&copy->far_known, false);
	atomic_init(&copy->handed, 0);
	pthread_mutex_init(&copy->lock, NULL);
	dbuf_init(&copy->left_out_names);
	pthread_mutex_init(&copy->devices_lock, NULL);
	pthread_mutex_init(&copy->link_lock, NULL);
	pthread_cond_init(&copy->link_done, NULL);
	copy->dests = calloc(ndests, sizeof(*copy->dests));
	copy->root_dev = calloc(ndests, sizeof(*copy->root_dev));
	copy->root_ino = calloc(ndests, sizeof(*copy->root_ino));
	if (!copy->dests || !copy->root_dev || !copy->root_ino)
		goto fail;
	for (size_t i = 0; i < ndests; i++) {
		struct dest *dest = &copy->dests[i];
		dest->index = i;
		dest->rootfd = -1;
		dest->seal_fd = -1;
		pthread_mutex_init(&dest->lock, NULL);
		dest->path = strdup(dests[i]);
		if (!dest->path)
			goto fail;
	}
	for (size_t i = 0; i < ndests; i++) {
		struct dest *dest = &copy->dests[i];
		/* A remote destination's bag is made by the server there. */
		if (options->bag && !dest_is_remote(copy, dest)) {
			bagger_prepare(copy, dest);
			if (!dest->bag)
				continue;
		}
		dest_setup(copy, dest);
		if (i == 0 || !dest_ok(dest) || dest->rdest)
			continue; /* a remote destination's frames are queued by the reader itself */
		memset(&pool_config, 0, sizeof(pool_config));
		pool_config.threads = options->writers;
		pool_config.queue_capacity = (size_t)options->readers * 2;
		pool_config.init = writer_init;
		pool_config.work = writer_work;
		pool_config.arg = dest;
		dest->writers = pool_new(&pool_config); /* NULL: the reader writes it itself */
	}
	memcpy(copy->read_algos, options->algos, options->nalgos * sizeof(options->algos[0]));
	copy->read_nalgos = options->nalgos;
	for (size_t i = 0; i < ndests; i++) {
		if (!copy->dests[i].rdest)
			continue;
		copy->check_algo = rdest_check_algo(copy->read_algos, &copy->read_nalgos);
		break;
	}
	if (options->progress && ndests <= PROGRESS_LANES_MAX) {
		for (size_t i = 0; i < ndests; i++)
			names[i] = copy->dests[i].path;
		copy->progress = progress_new(ndests, names);
	}
	return copy;
fail:
	/* Nothing was created in any destination yet beyond journals: undo them. */
	for (size_t i = 0; copy->dests && i < ndests; i++) {
		struct dest *dest = &copy->dests[i];
		struct journal_result result;
		if (dest->journal) {
			journal_close(dest->journal);
			if (dest->seal_fd >= 0)
				close(dest->seal_fd);
			journal_finish_at(dest->rootfd, dest->path, NULL, NULL, &result);
		}
		if (dest->rootfd >= 0)
			close(dest->rootfd);
		seal_writer_fini(&dest->seal);
		hash_ctx_free(dest->seal_sha512);
		mhlseal_forget(dest);
		bagger_undo(dest);
		bagger_free(dest->bag);
		free(dest->path);
	}
	free(copy->dests);
	free(copy->root_dev);
	free(copy->root_ino);
	free(copy);
	errno = ENOMEM;
	return NULL;
}

/* Seal, commit and complete one healthy destination. Returns 0 or -1 (failed). */
static int dest_seal(struct copy *copy, struct worker *worker, struct dest *dest)
{
	struct journal_result result;

	if (copy->opt.fsync && syncfs(dest->rootfd) != 0) {
		dest_fail(dest, "", 0, errno, "syncing");
		return -1;
	}
	if (!copy->opt.no_seal && seal_close(copy, worker, dest) != 0)
		return -1;
	if (copy->opt.mhl && mhlseal_write(copy, worker, dest, time(NULL)) != 0)
		return -1;
	if (journal_commit(dest->journal) != 0) {
		dest_fail(dest, JOURNAL_NAME, strlen(JOURNAL_NAME), errno, "journal");
		return -1;
	}
	if (dest->seal_fd >= 0)
		close(dest->seal_fd);
	dest->seal_fd = -1;
	journal_close(dest->journal);
	dest->journal = NULL;
	if (journal_finish_at(dest->rootfd, dest->path, report_leftover, dest->path, &result) != 0 ||
	    result.failures > 0) {
		diag_file_errorf(dest->path, "sealed, but completing the copy failed: %s",
				 strerror(errno));
		return -1;
	}
	if (copy->opt.fsync && syncfs(dest->rootfd) != 0) {
		diag_file_error(dest->path, errno);
		return -1;
	}
	return 0;
}

/*
 * Undo one destination from its journal. Returns whether the run had
 * changed anything there (so that "rolled back" is said only where it is
 * true).
 */
static bool dest_undo(struct dest *dest)
{
	struct journal_result result;

	if (dest->seal_fd >= 0) {
		close(dest->seal_fd);
		dest->seal_fd = -1;
	}
	if (!dest->journal) {
		bagger_undo(dest);
		return false; /* nothing of this run is there */
	}
	journal_close(dest->journal);
	dest->journal = NULL;
	if (journal_finish_at(dest->rootfd, dest->path, report_leftover, dest->path, &result) != 0) {
		diag_file_errorf(dest->path, "rollback failed: %s (run pcopy --rollback)",
				 strerror(errno));
		return true;
	}
	bagger_undo(dest); /* after the payload, so that a bag root it made is empty */
	if (result.failures > 0)
		diag_file_errorf(dest->path, "rollback left %" PRIu64 " item(s) behind",
				 result.failures);
	return result.removed > 0 || result.restored > 0 || result.dirs_removed > 0 || result.root_removed ||
	       result.failures > 0;
}

/*
 * With progress shown (a terminal, or --progress): what delta updates did in
 * dest, as pdiffcopy reports it.
 */
static void say_delta(const struct copy *copy, const struct dest *dest)
{
	char human[32];
	unsigned similar = delta_similar_permille(&dest->delta);

	if (!copy->opt.progress || dest->delta.files == 0 || copy->opt.server)
		return;
	diag_file_note(dest->path, "%" PRIu64 " file(s) compared by blocks: %" PRIu64 " of %" PRIu64
		       " blocks differed (%u.%u%% similar), %s written", dest->delta.files,
		       dest->delta.differ, dest->delta.blocks, similar / 10, similar % 10,
		       progress_human(dest->delta.written, human, sizeof(human)));
}

void copy_say_excluded(struct copy *copy)
{
	uint64_t n = atomic_load(&copy->excluded);

	if (n > 0)
		diag_note("%" PRIu64 " excluded entr%s left out (volatile files, --exclude)", n,
			  n == 1 ? "y" : "ies");
}

int copy_finish(struct copy *copy)
{
	struct worker *worker;
	sigset_t block, old;
	int sig, status = EXIT_ALL_GOOD;
	bool all_back;

	readers_finish(copy);
	for (size_t i = 0; i < copy->ndests; i++)
		pool_finish(copy->dests[i].writers);
	progress_finish(copy->progress);
	copy->progress = NULL;
	mhlseal_wait(copy);
	/* From here on a second signal must not cut a rollback short. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	sig = copy->opt.interrupted ? atomic_load(copy->opt.interrupted) : 0;
	all_back = sig != 0 || atomic_load(&copy->stop) != STOP_NONE;
	worker = walker_init(copy);
	for (size_t i = 0; i < copy->ndests; i++) {
		struct dest *dest = &copy->dests[i];
		bool changed;
		if (dest->done_before)
			continue;
		if (dest->rdest) {
			int remote_status = rdest_finish(copy, dest, all_back,
							 sig ? "interrupted" : copy->stop_why);
			if (remote_status > status)
				status = remote_status;
			continue;
		}
		if (copy->opt.dry_run) {
			if (!all_back && dest_ok(dest) && dest->rootfd >= 0 && copy->opt.delete_extra &&
			    copy->src_root)
				mirror_delete(copy, dest);
			if (!dest_ok(dest))
				status = EXIT_FAILED;
			continue;
		}
		if (!all_back && dest_ok(dest) && worker) {
			if (copy->opt.delete_extra && copy->src_root)
				mirror_delete(copy, dest);
			if (dest_ok(dest) && dest_seal(copy, worker, dest) == 0) {
				say_delta(copy, dest);
				if (dest->single_name)
					single_say(copy, dest);
				continue;
			}
		}
		changed = dest_undo(dest);
		status = EXIT_FAILED;
		if (all_back) {
			if (changed)
				diag_file_note(dest->path, "rolled back");
			continue;
		}
		pthread_mutex_lock(&dest->lock);
		diag_file_errorf(dest->path, "failed (%s): %s",
				 changed ? "rolled back" : "nothing was changed",
				 dest->why ? dest->why : "out of memory");
		pthread_mutex_unlock(&dest->lock);
	}
	if (!worker)
		status = EXIT_FAILED;
	walker_fini(worker);
	if (!all_back && atomic_load(&copy->left_out) > 0 && !copy->opt.server) {
		uint64_t n = atomic_load(&copy->left_out);
		diag_file_errorf(NULL, "%" PRIu64 " source file(s) could not be read and were left out "
				 "of every copy and seal: %s%s", n,
				 copy->left_out_names.data ? copy->left_out_names.data : "",
				 n > 10 ? ", ..." : "");
		status = EXIT_FAILED;
	}
	if (!all_back && !copy->opt.server)
		copy_say_excluded(copy);
	if (all_back && !copy->opt.server) {
		if (sig)
			diag_note("interrupted: every destination rolled back");
		else
			diag_file_errorf(NULL, "stopped (%s): %s",
					 copy->stop_why ? copy->stop_why : "error",
					 copy->opt.dry_run ? "a run would stop here"
							   : "every destination rolled back");
	}
	if (all_back && atomic_load(&copy->stop) == STOP_USAGE)
		status = EXIT_USAGE;
	for (size_t i = 0; i < copy->ndests; i++) {
		struct dest *dest = &copy->dests[i];
		if (dest->rootfd >= 0)
			close(dest->rootfd);
		seal_writer_fini(&dest->seal);
		hash_ctx_free(dest->seal_sha512);
		mhlseal_forget(dest);
		bagger_free(dest->bag);
		pthread_mutex_destroy(&dest->lock);
		free(dest->why);
		free(dest->path);
		free(dest->single_name);
		free(dest->single_shown);
		free(dest->single_result);
		journal_owned_free(dest->owned);
	}
	links_free(copy);
	free(copy->dests);
	free(copy->root_dev);
	free(copy->root_ino);
	free(copy->stop_why);
	free(copy->src_root);
	mhlseal_release(copy);
	dbuf_free(&copy->left_out_names);
	pthread_mutex_destroy(&copy->devices_lock);
	free(copy);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (sig)
		return 128 + sig;
	diag_raise(status);
	return status;
}

bool copy_is_seal_name(const struct copy_options *opt, const char *name)
{
	size_t len = strlen(opt->seal_name);

	return strncmp(name, opt->seal_name, len) == 0 &&
	       (name[len] == '\0' || strcmp(name + len, SSHSIG_SUFFIX) == 0);
}

bool copy_seal_name_ok(const char *name)
{
	return name[0] != '\0' && !strchr(name, '/') && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0 && strncmp(name, ".pcopy", 6) != 0;
}

/* Say which run holds dest's lock. */
static void report_busy(const char *dest)
{
	int rootfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long pid = rootfd >= 0 ? journal_holder(rootfd) : 0;

	if (rootfd >= 0)
		close(rootfd);
	if (pid > 0)
		diag_file_errorf(dest, "in use by pcopy, pid %ld: left as it is", pid);
	else
		diag_file_errorf(dest, "in use by pcopy: left as it is");
}

int copy_rollback(const char *operand)
{
	struct journal_result result;
	char *dest = single_rollback_root(operand);
	int ret = -1;

	if (!dest) {
		diag_file_error(operand, ENOMEM);
		return -1;
	}
	if (journal_finish(dest, report_leftover, (void *)dest, &result) != 0) {
		if (errno == EBUSY)
			report_busy(dest);
		else if (errno == ENOENT)
			diag_file_errorf(dest, "no journal (%s): nothing to roll back", JOURNAL_NAME);
		else
			diag_file_error(dest, errno);
		goto out;
	}
	if (result.committed)
		diag_file_note(dest, "the run had completed: finished it (sealed copy kept)");
	else
		diag_file_note(dest, "rolled back: %" PRIu64 " file(s) removed, %" PRIu64
			  " restored, %" PRIu64 " directorie(s) removed%s", result.removed,
			  result.restored, result.dirs_removed,
			  result.root_removed ? ", destination removed" : "");
	if (result.failures > 0) {
		diag_file_errorf(dest, "%" PRIu64 " item(s) could not be undone", result.failures);
		goto out;
	}
	ret = 0;
out:
	free(dest);
	return ret;
}
