/* SPDX-License-Identifier: 0BSD */
/**
 * Unit tests of pcopy's journal for files changed in place (--inplace):
 * the records journal_inplace and journal_old_bytes write, read back by the
 * parser, and what journal_finish makes of them (pcopy/journal.c,
 * journal_read.c and journal_finish.c, linked into the unit tests on their
 * own).
 */
#include "prelude.h"
#include "unit.h"
#include "../../pcopy/journal.h"
#include "../../pcopy/journal_finish.h"
#include "../../pcopy/journal_read.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The file changed in place: big enough that restoring a range takes several chunks. */
#define OLD_SIZE ((size_t)300000)
#define OLD_MODE ((mode_t)0640)

/* What journal_finish reported. */
struct reports {
	unsigned count;
	int last_err;
	char last_path[PATH_MAX];
};

static void collect_report(void *arg, const char *path, int errnum)
{
	struct reports *reports = arg;

	reports->count++;
	reports->last_err = errnum;
	snprintf(reports->last_path, sizeof(reports->last_path), "%s", path);
}

/* A scratch destination root holding sub/file, OLD_SIZE bytes of a pattern, OLD_MODE. */
struct fixture {
	char root[64];
	char file[96];
	int rootfd;
	unsigned char *old;
	struct stat st;
	struct journal *journal;
};

static void pattern(unsigned char *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)(i * 7 + i / 251 + seed);
}

static bool fixture_init(struct fixture *fx, bool sync)
{
	struct journal_header header = { .run_id = 0x1234 };
	char dir[80];
	int fd;

	memset(fx, 0, sizeof(*fx));
	fx->rootfd = -1;
	snprintf(fx->root, sizeof(fx->root), "/tmp/unit-journal-XXXXXX");
	if (!mkdtemp(fx->root))
		return false;
	snprintf(dir, sizeof(dir), "%s/sub", fx->root);
	snprintf(fx->file, sizeof(fx->file), "%s/sub/file", fx->root);
	fx->old = malloc(OLD_SIZE);
	if (!fx->old || mkdir(dir, 0755) != 0)
		return false;
	pattern(fx->old, OLD_SIZE, 0);
	fd = open(fx->file, O_WRONLY | O_CREAT | O_EXCL, OLD_MODE);
	if (fd < 0)
		return false;
	if (write(fd, fx->old, OLD_SIZE) != (ssize_t)OLD_SIZE) {
		close(fd);
		return false;
	}
	/* An mtime with nanoseconds, so that a lost fraction shows. */
	{
		struct timespec times[2] = { { 0, UTIME_OMIT }, { 1500000000, 123456789 } };
		if (futimens(fd, times) != 0 || fchmod(fd, OLD_MODE) != 0 || fstat(fd, &fx->st) != 0) {
			close(fd);
			return false;
		}
	}
	close(fd);
	fx->rootfd = open(fx->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fx->rootfd < 0 || journal_lock(fx->rootfd) != 0)
		return false;
	fx->journal = journal_create(fx->rootfd, &header, sync);
	return fx->journal != NULL;
}

/* Close the journal and the root (dropping the lock), as a run does before its undo. */
static void fixture_close(struct fixture *fx)
{
	EXPECT(journal_close(fx->journal) == 0);
	fx->journal = NULL;
	if (fx->rootfd >= 0)
		close(fx->rootfd);
	fx->rootfd = -1;
}

static void fixture_fini(struct fixture *fx)
{
	char cmd[128];

	if (fx->journal)
		journal_close(fx->journal);
	if (fx->rootfd >= 0)
		close(fx->rootfd);
	free(fx->old);
	if (fx->root[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->root);
		if (system(cmd) != 0)
			return;
	}
}

/* Whether the root still holds name. */
static bool root_has(const struct fixture *fx, const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", fx->root, name);
	return access(path, F_OK) == 0;
}

/* Whether the file holds exactly len bytes equal to want. */
static bool file_is(const char *path, const unsigned char *want, size_t len)
{
	unsigned char *got = malloc(len + 1);
	ssize_t n;
	bool same;
	int fd = open(path, O_RDONLY);

	if (!got || fd < 0) {
		free(got);
		if (fd >= 0)
			close(fd);
		return false;
	}
	n = pread(fd, got, len + 1, 0);
	same = n == (ssize_t)len && memcmp(got, want, len) == 0;
	close(fd);
	free(got);
	return same;
}

/*
 * What an in-place update does, with the journal first at each step:
 * overwrite two ranges (one larger than the undo's copy chunk), cut the
 * file short, grow it again with new bytes and apply the source's mode and
 * mtime. new (at least 400000 bytes) receives the file's new content.
 */
static bool change_in_place(struct fixture *fx, unsigned char *new_bytes, size_t *new_size)
{
	const char *rel = "sub/file";
	size_t rel_len = strlen(rel);
	uint64_t ino = (uint64_t)fx->st.st_ino;
	struct timespec times[2] = { { 0, UTIME_OMIT }, { 1700000000, 5 } };
	unsigned char fresh[150000];
	bool ok = true;
	int fd = open(fx->file, O_WRONLY);

	if (fd < 0)
		return false;
	memcpy(new_bytes, fx->old, OLD_SIZE);
	pattern(fresh, sizeof(fresh), 99);
	ok = journal_inplace(fx->journal, rel, rel_len, ino, &fx->st) == 0;
	/* [0, 100) */
	ok = ok && journal_old_bytes(fx->journal, rel, rel_len, ino, 0, fx->old, 100) == 0;
	ok = ok && pwrite(fd, fresh, 100, 0) == 100;
	memcpy(new_bytes, fresh, 100);
	/* [70000, 220000) */
	ok = ok && journal_old_bytes(fx->journal, rel, rel_len, ino, 70000, fx->old + 70000,
				     150000) == 0;
	ok = ok && pwrite(fd, fresh, 150000, 70000) == 150000;
	memcpy(new_bytes + 70000, fresh, 150000);
	/* Cut at 250000: the bytes after it go first. */
	ok = ok && journal_old_bytes(fx->journal, rel, rel_len, ino, 250000, fx->old + 250000,
				     OLD_SIZE - 250000) == 0;
	ok = ok && ftruncate(fd, 250000) == 0;
	/* Grown to 400000 with new bytes from 260000 (a hole before them). */
	memset(new_bytes + 250000, 0, 10000);
	ok = ok && pwrite(fd, fresh, 140000, 260000) == 140000;
	memcpy(new_bytes + 260000, fresh, 140000);
	*new_size = 400000;
	ok = ok && fchmod(fd, 0600) == 0 && futimens(fd, times) == 0;
	close(fd);
	return ok;
}

UNIT_TEST(journal_inplace_undo_restores_the_old_file)
{
	static unsigned char new_bytes[400000];
	struct journal_result result;
	struct reports reports = { 0 };
	struct fixture fx;
	struct stat st;
	size_t new_size = 0;

	EXPECT(fixture_init(&fx, true));
	EXPECT(change_in_place(&fx, new_bytes, &new_size));
	EXPECT(root_has(&fx, JOURNAL_DATA_NAME));
	EXPECT(file_is(fx.file, new_bytes, new_size));
	fixture_close(&fx);

	EXPECT(journal_finish(fx.root, collect_report, &reports, &result) == 0);
	EXPECT(!result.committed);
	EXPECT(result.failures == 0);
	EXPECT(reports.count == 0);
	EXPECT(result.restored == 1);
	EXPECT(file_is(fx.file, fx.old, OLD_SIZE));
	EXPECT(stat(fx.file, &st) == 0);
	EXPECT(st.st_ino == fx.st.st_ino);
	EXPECT(st.st_size == (off_t)OLD_SIZE);
	EXPECT((st.st_mode & 07777) == OLD_MODE);
	EXPECT(st.st_mtim.tv_sec == 1500000000 && st.st_mtim.tv_nsec == 123456789);
	EXPECT(!root_has(&fx, JOURNAL_NAME));
	EXPECT(!root_has(&fx, JOURNAL_DATA_NAME));
	fixture_fini(&fx);
}

/* The whole undo of a file the run left read-only; true when it was put back exactly. */
static bool undo_read_only_file(void)
{
	static unsigned char new_bytes[400000];
	struct journal_result result;
	struct fixture fx;
	struct stat st;
	size_t new_size = 0;
	bool ok;

	ok = fixture_init(&fx, false) && change_in_place(&fx, new_bytes, &new_size) &&
	     chmod(fx.file, 0444) == 0;
	if (ok) {
		fixture_close(&fx);
		ok = journal_finish(fx.root, NULL, NULL, &result) == 0 && result.failures == 0 &&
		     file_is(fx.file, fx.old, OLD_SIZE) && stat(fx.file, &st) == 0 &&
		     (st.st_mode & 07777) == OLD_MODE && !root_has(&fx, JOURNAL_NAME);
	}
	fixture_fini(&fx);
	return ok;
}

UNIT_TEST(journal_inplace_undo_writes_a_file_left_read_only)
{
	int status = -1;
	pid_t pid = fork();

	EXPECT(pid >= 0);
	if (pid == 0) {
		/* As root every file is writable: the case needs an ordinary user. */
		if (geteuid() == 0 && (setgroups(0, NULL) != 0 || setgid(65534) != 0 ||
				       setuid(65534) != 0))
			_exit(2);
		_exit(undo_read_only_file() ? 0 : 1);
	}
	if (pid > 0)
		EXPECT(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		       WEXITSTATUS(status) == 0);
}

UNIT_TEST(journal_inplace_commit_keeps_the_new_file)
{
	static unsigned char new_bytes[400000];
	struct journal_result result;
	struct reports reports = { 0 };
	struct fixture fx;
	struct stat st;
	size_t new_size = 0;

	EXPECT(fixture_init(&fx, false));
	EXPECT(change_in_place(&fx, new_bytes, &new_size));
	EXPECT(journal_commit(fx.journal) == 0);
	fixture_close(&fx);

	EXPECT(journal_finish(fx.root, collect_report, &reports, &result) == 0);
	EXPECT(result.committed);
	EXPECT(result.failures == 0 && reports.count == 0);
	EXPECT(file_is(fx.file, new_bytes, new_size));
	EXPECT(stat(fx.file, &st) == 0);
	EXPECT((st.st_mode & 07777) == 0600);
	EXPECT(st.st_mtim.tv_sec == 1700000000 && st.st_mtim.tv_nsec == 5);
	EXPECT(!root_has(&fx, JOURNAL_NAME));
	EXPECT(!root_has(&fx, JOURNAL_DATA_NAME));
	fixture_fini(&fx);
}

UNIT_TEST(journal_inplace_leaves_another_inode_alone)
{
	static const char other[] = "someone else's file";
	struct journal_result result;
	struct reports reports = { 0 };
	struct fixture fx;
	char moved[128];
	int fd;

	EXPECT(fixture_init(&fx, false));
	EXPECT(journal_inplace(fx.journal, "sub/file", 8, (uint64_t)fx.st.st_ino, &fx.st) == 0);
	EXPECT(journal_old_bytes(fx.journal, "sub/file", 8, (uint64_t)fx.st.st_ino, 0, fx.old,
				 4096) == 0);
	EXPECT(journal_old_bytes(fx.journal, "sub/file", 8, (uint64_t)fx.st.st_ino, 8192,
				 fx.old + 8192, 4096) == 0);
	/* A new file (a new inode, while the old one still exists) takes the name. */
	snprintf(moved, sizeof(moved), "%s/sub/other", fx.root);
	fd = open(moved, O_WRONLY | O_CREAT | O_EXCL, 0644);
	EXPECT(fd >= 0 && write(fd, other, sizeof(other)) == (ssize_t)sizeof(other));
	if (fd >= 0)
		close(fd);
	snprintf(moved, sizeof(moved), "%s/sub/kept", fx.root);
	EXPECT(link(fx.file, moved) == 0);
	snprintf(moved, sizeof(moved), "%s/sub/other", fx.root);
	EXPECT(rename(moved, fx.file) == 0);
	fixture_close(&fx);

	EXPECT(journal_finish(fx.root, collect_report, &reports, &result) == 0);
	/* Reported once, though three records name it. */
	EXPECT(result.failures == 1);
	EXPECT(reports.count == 1);
	EXPECT(reports.last_err == ESTALE);
	EXPECT(strcmp(reports.last_path, "sub/file") == 0);
	EXPECT(file_is(fx.file, (const unsigned char *)other, sizeof(other)));
	EXPECT(!root_has(&fx, JOURNAL_NAME));
	EXPECT(!root_has(&fx, JOURNAL_DATA_NAME));
	fixture_fini(&fx);
}

UNIT_TEST(journal_inplace_reports_a_short_data_file)
{
	struct journal_result result;
	struct reports reports = { 0 };
	struct fixture fx;
	unsigned char zeros[8192] = { 0 };
	unsigned char *want;
	uint64_t ino;
	int fd;

	EXPECT(fixture_init(&fx, false));
	ino = (uint64_t)fx.st.st_ino;
	EXPECT(journal_inplace(fx.journal, "sub/file", 8, ino, &fx.st) == 0);
	EXPECT(journal_old_bytes(fx.journal, "sub/file", 8, ino, 0, fx.old, 8192) == 0);
	EXPECT(journal_old_bytes(fx.journal, "sub/file", 8, ino, 100000, fx.old + 100000,
				 8192) == 0);
	fd = open(fx.file, O_WRONLY);
	EXPECT(fd >= 0);
	EXPECT(pwrite(fd, zeros, sizeof(zeros), 0) == (ssize_t)sizeof(zeros));
	EXPECT(pwrite(fd, zeros, sizeof(zeros), 100000) == (ssize_t)sizeof(zeros));
	close(fd);
	fixture_close(&fx);
	/* Someone (or a crash) cut the data file: the second range is half gone. */
	{
		char data[128];
		snprintf(data, sizeof(data), "%s/" JOURNAL_DATA_NAME, fx.root);
		EXPECT(truncate(data, 8192 + 4096) == 0);
	}

	EXPECT(journal_finish(fx.root, collect_report, &reports, &result) == 0);
	EXPECT(result.failures == 1);
	EXPECT(reports.count == 1);
	EXPECT(reports.last_err == ENODATA);
	EXPECT(strcmp(reports.last_path, "sub/file") == 0);
	/* What the data file still held went back, and the metadata. */
	want = malloc(OLD_SIZE);
	EXPECT(want != NULL);
	if (want) {
		memcpy(want, fx.old, OLD_SIZE);
		memset(want + 100000, 0, 8192);
		EXPECT(file_is(fx.file, want, OLD_SIZE));
		free(want);
	}
	EXPECT(!root_has(&fx, JOURNAL_NAME));
	EXPECT(!root_has(&fx, JOURNAL_DATA_NAME));
	fixture_fini(&fx);
}

UNIT_TEST(journal_inplace_missing_data_file_is_reported)
{
	struct journal_result result;
	struct reports reports = { 0 };
	struct fixture fx;
	char data[128];

	EXPECT(fixture_init(&fx, false));
	EXPECT(journal_inplace(fx.journal, "sub/file", 8, (uint64_t)fx.st.st_ino, &fx.st) == 0);
	EXPECT(journal_old_bytes(fx.journal, "sub/file", 8, (uint64_t)fx.st.st_ino, 0, fx.old,
				 100) == 0);
	fixture_close(&fx);
	snprintf(data, sizeof(data), "%s/" JOURNAL_DATA_NAME, fx.root);
	EXPECT(unlink(data) == 0);

	EXPECT(journal_finish(fx.root, collect_report, &reports, &result) == 0);
	EXPECT(result.failures == 1 && reports.count == 1);
	EXPECT(reports.last_err == ENODATA);
	EXPECT(!root_has(&fx, JOURNAL_NAME));
	fixture_fini(&fx);
}

UNIT_TEST(journal_inplace_resume_appends_to_the_same_data_file)
{
	struct journal_owned *owned = NULL;
	struct journal_result result;
	struct reports reports = { 0 };
	struct journal *resumed;
	struct fixture fx;
	struct stat st;
	unsigned char zeros[4096] = { 0 };
	uint64_t ino;
	char data[128];
	int fd;

	EXPECT(fixture_init(&fx, false));
	ino = (uint64_t)fx.st.st_ino;
	snprintf(data, sizeof(data), "%s/" JOURNAL_DATA_NAME, fx.root);
	EXPECT(journal_inplace(fx.journal, "sub/file", 8, ino, &fx.st) == 0);
	EXPECT(journal_old_bytes(fx.journal, "sub/file", 8, ino, 0, fx.old, 4096) == 0);
	fd = open(fx.file, O_WRONLY);
	EXPECT(fd >= 0 && pwrite(fd, zeros, sizeof(zeros), 0) == (ssize_t)sizeof(zeros));
	/* Killed here; the next run resumes and goes on with the same file. */
	EXPECT(journal_close(fx.journal) == 0);
	fx.journal = NULL;
	resumed = journal_resume(fx.rootfd, false, NULL, &owned);
	EXPECT(resumed != NULL);
	if (resumed) {
		struct stat now;
		EXPECT(fstat(fd, &now) == 0);
		EXPECT(journal_inplace(resumed, "sub/file", 8, ino, &now) == 0);
		EXPECT(journal_old_bytes(resumed, "sub/file", 8, ino, 200000, fx.old + 200000,
					 4096) == 0);
		EXPECT(pwrite(fd, zeros, sizeof(zeros), 200000) == (ssize_t)sizeof(zeros));
		EXPECT(journal_close(resumed) == 0);
	}
	if (fd >= 0)
		close(fd);
	journal_owned_free(owned);
	/* Both runs' bytes, one after the other. */
	EXPECT(stat(data, &st) == 0 && st.st_size == 8192);
	close(fx.rootfd);
	fx.rootfd = -1;

	EXPECT(journal_finish(fx.root, collect_report, &reports, &result) == 0);
	EXPECT(result.failures == 0 && reports.count == 0);
	EXPECT(file_is(fx.file, fx.old, OLD_SIZE));
	EXPECT(stat(fx.file, &st) == 0 && (st.st_mode & 07777) == OLD_MODE);
	EXPECT(st.st_mtim.tv_sec == 1500000000 && st.st_mtim.tv_nsec == 123456789);
	EXPECT(!root_has(&fx, JOURNAL_NAME));
	EXPECT(!root_has(&fx, JOURNAL_DATA_NAME));
	fixture_fini(&fx);
}

/* Several threads saving old bytes of their own files at once, as the readers of a run do. */
#define SAVERS 4
#define SAVER_BLOCKS 16
#define SAVER_BLOCK 4096

struct saver {
	struct journal *journal;
	char rel[16];
	char path[128];
	uint64_t ino;
	unsigned char old[SAVER_BLOCKS * SAVER_BLOCK];
	bool ok;
};

static void *save_and_overwrite(void *arg)
{
	struct saver *saver = arg;
	unsigned char fresh[SAVER_BLOCK];
	int fd = open(saver->path, O_WRONLY);

	saver->ok = fd >= 0;
	memset(fresh, 0xee, sizeof(fresh));
	/* Backwards, so that the data file's order differs from the file's. */
	for (size_t i = SAVER_BLOCKS; saver->ok && i-- > 0;) {
		uint64_t offset = (uint64_t)i * SAVER_BLOCK;
		saver->ok = journal_old_bytes(saver->journal, saver->rel, strlen(saver->rel),
					      saver->ino, offset, saver->old + offset,
					      SAVER_BLOCK) == 0 &&
			    pwrite(fd, fresh, sizeof(fresh), (off_t)offset) == SAVER_BLOCK;
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

UNIT_TEST(journal_inplace_threads_save_old_bytes_at_once)
{
	static struct saver savers[SAVERS];
	struct journal_result result;
	pthread_t threads[SAVERS];
	struct fixture fx;
	struct stat st;
	char data[128];

	EXPECT(fixture_init(&fx, false));
	for (unsigned i = 0; i < SAVERS; i++) {
		struct saver *saver = &savers[i];
		int fd;
		snprintf(saver->rel, sizeof(saver->rel), "sub/f%u", i);
		snprintf(saver->path, sizeof(saver->path), "%s/%s", fx.root, saver->rel);
		pattern(saver->old, sizeof(saver->old), i + 1);
		fd = open(saver->path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		EXPECT(fd >= 0 && write(fd, saver->old, sizeof(saver->old)) ==
					  (ssize_t)sizeof(saver->old) && fstat(fd, &st) == 0);
		if (fd >= 0)
			close(fd);
		saver->ino = (uint64_t)st.st_ino;
		saver->journal = fx.journal;
		EXPECT(journal_inplace(fx.journal, saver->rel, strlen(saver->rel), saver->ino,
				       &st) == 0);
	}
	for (unsigned i = 0; i < SAVERS; i++)
		EXPECT(pthread_create(&threads[i], NULL, save_and_overwrite, &savers[i]) == 0);
	for (unsigned i = 0; i < SAVERS; i++) {
		pthread_join(threads[i], NULL);
		EXPECT(savers[i].ok);
	}
	snprintf(data, sizeof(data), "%s/" JOURNAL_DATA_NAME, fx.root);
	EXPECT(stat(data, &st) == 0 &&
	       st.st_size == (off_t)SAVERS * SAVER_BLOCKS * SAVER_BLOCK);
	fixture_close(&fx);

	EXPECT(journal_finish(fx.root, NULL, NULL, &result) == 0);
	EXPECT(result.failures == 0 && result.restored == SAVERS);
	for (unsigned i = 0; i < SAVERS; i++)
		EXPECT(file_is(savers[i].path, savers[i].old, sizeof(savers[i].old)));
	fixture_fini(&fx);
}

UNIT_TEST(journal_inplace_resume_refuses_a_lost_data_file)
{
	struct journal_owned *owned = NULL;
	struct fixture fx;
	char data[128];

	EXPECT(fixture_init(&fx, false));
	EXPECT(journal_inplace(fx.journal, "sub/file", 8, (uint64_t)fx.st.st_ino, &fx.st) == 0);
	EXPECT(journal_old_bytes(fx.journal, "sub/file", 8, (uint64_t)fx.st.st_ino, 0, fx.old,
				 4096) == 0);
	EXPECT(journal_close(fx.journal) == 0);
	fx.journal = NULL;
	/* Cut short: a fresh data file would put new bytes where the old
	 * record looks for old ones. */
	snprintf(data, sizeof(data), "%s/" JOURNAL_DATA_NAME, fx.root);
	EXPECT(truncate(data, 4095) == 0);
	errno = 0;
	EXPECT(journal_resume(fx.rootfd, false, NULL, &owned) == NULL);
	EXPECT(errno == ENODATA);
	EXPECT(unlink(data) == 0);
	errno = 0;
	EXPECT(journal_resume(fx.rootfd, false, NULL, &owned) == NULL);
	EXPECT(errno == ENODATA);
	EXPECT(owned == NULL);
	EXPECT(root_has(&fx, JOURNAL_NAME));
	fixture_fini(&fx);
}

UNIT_TEST(journal_data_file_goes_with_the_journal)
{
	struct journal_header header = { .run_id = 1 };
	struct journal_result result;
	struct journal *journal;
	char root[64], data[128];
	int rootfd, fd;

	snprintf(root, sizeof(root), "/tmp/unit-journal-XXXXXX");
	EXPECT(mkdtemp(root) != NULL);
	snprintf(data, sizeof(data), "%s/" JOURNAL_DATA_NAME, root);
	/* A data file without a journal (a kill between the two removals). */
	fd = open(data, O_WRONLY | O_CREAT | O_EXCL, 0600);
	EXPECT(fd >= 0);
	if (fd >= 0)
		close(fd);
	EXPECT(journal_finish(root, NULL, NULL, &result) == -1 && errno == ENOENT);
	EXPECT(access(data, F_OK) != 0);

	/* One left behind again: the next run's journal_create removes it. */
	fd = open(data, O_WRONLY | O_CREAT | O_EXCL, 0600);
	EXPECT(fd >= 0);
	if (fd >= 0)
		close(fd);
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	EXPECT(rootfd >= 0 && journal_lock(rootfd) == 0);
	journal = journal_create(rootfd, &header, false);
	EXPECT(journal != NULL);
	EXPECT(access(data, F_OK) != 0);
	/* And the rollback of a run that made no change in place has none to remove. */
	EXPECT(journal_close(journal) == 0);
	close(rootfd);
	EXPECT(journal_finish(root, NULL, NULL, &result) == 0 && result.failures == 0);
	EXPECT(rmdir(root) == 0);
}

UNIT_TEST(journal_parses_inplace_records)
{
	struct journal_record rec;
	static const char inplace[] = "I\tsub/f\\tx\t42\t300000\t0640\t1000\t100\t1500000000.123456789";
	static const char old_bytes[] = "U\tsub/f\t42\t70000\t150000\t100";
	static const char *const bad[] = {
		"U\tf\t42\t0\t10",
		"U\tf\t42\t0\t10\t0\t9",
		"U\tf\t42\t9223372036854775807\t1\t0",
		"U\tf\t42\t0\t1\t9223372036854775807",
		"U\tf\t42\t-1\t1\t0",
		"U\tf\tx\t0\t1\t0",
		"I\tf\t42\t10\t0640\t0\t0",
		"I\tf\t42\t10\t10000\t0\t0\t1.000000000",
		"I\tf\t42\t10\t0640\t4294967296\t0\t1.000000000",
		"I\tf\t42\t9223372036854775808\t0640\t0\t0\t1.000000000",
		"I\tf\t42\t10\t0640\t0\t0\t1.000000000\tx",
	};

	journal_record_init(&rec);
	EXPECT(journal_parse_record(&rec, inplace, strlen(inplace)));
	EXPECT(rec.kind == 'I');
	EXPECT(rec.path.len == 7 && memcmp(rec.path.data, "sub/f\tx", 7) == 0);
	EXPECT(rec.ino == 42 && rec.size == 300000 && rec.number == 0640);
	EXPECT(rec.uid == 1000 && rec.gid == 100);
	EXPECT(rec.old_mtime.tv_sec == 1500000000 && rec.old_mtime.tv_nsec == 123456789);

	EXPECT(journal_parse_record(&rec, old_bytes, strlen(old_bytes)));
	EXPECT(rec.kind == 'U');
	EXPECT(rec.ino == 42 && rec.offset == 70000 && rec.length == 150000 &&
	       rec.data_offset == 100);

	/* Refused: fields missing or extra, a range past what a file can hold, a bad mode. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT(!journal_parse_record(&rec, bad[i], strlen(bad[i])));
	journal_record_fini(&rec);
}
