/* SPDX-License-Identifier: 0BSD */
/**
 * Unit tests of the journal's group commit (pcopy/journal_group.c, through
 * pcopy/journal.c): many threads appending at once get every record into the
 * file once, each thread's in its own order, in fewer writes than records;
 * a failed write fails the records it held and everything after.
 *
 * The writes are counted, and made slow as far storage makes them, by a
 * journal whose descriptor is the write end of a packet-mode pipe (or of a
 * SOCK_SEQPACKET socket pair, for records longer than a pipe's packet): each
 * write(2) arrives at the other end as one message, and a reader there that
 * takes its time makes the writes wait, as round trips to a far destination
 * do. A failed write is a file that may grow no further (RLIMIT_FSIZE).
 */
#include "prelude.h"
#include "unit.h"
#include "../../pcopy/journal.h"
#include "../../pcopy/journal_group.h"
#include "dbuf.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define APPENDERS 8
#define PER_APPENDER 250
#define LONG_PAD 70000 /* longer than JOURNAL_GROUP_MAX: such a record goes alone */

/*
 * Whether records are long: a few of them fill the buffer, and some are
 * longer than it. Set by one test while no appender runs.
 */
static bool long_records;

/* How many records each appender appends (fewer when they are long). */
static unsigned per_appender = PER_APPENDER;

/* The padding of appender t's record n. */
static size_t pad_of(unsigned t, unsigned n)
{
	if (!long_records)
		return 0;
	if (t == 0 && n % 20 == 19)
		return LONG_PAD;
	return 12000;
}

/* Appender t's record n as a path: "t<t>/<n>/" and the padding. */
static size_t record_path(char *path, unsigned t, unsigned n)
{
	int len = sprintf(path, "t%u/%u/", t, n);
	size_t pad = pad_of(t, n);

	memset(path + len, 'x', pad);
	return (size_t)len + pad;
}

struct appender {
	struct journal *journal;
	unsigned t;
	unsigned appended; /* appends that returned 0, in a row from the first */
	int err;           /* the errno of the first that failed, or 0 */
};

/* Append per_appender temporaries' records, stopping at the first failure. */
static void *append_records(void *arg)
{
	struct appender *app = arg;
	char *path = malloc(64 + LONG_PAD);

	if (!path) {
		app->err = ENOMEM;
		return NULL;
	}
	for (unsigned n = 0; n < per_appender; n++) {
		if (journal_temp(app->journal, path, record_path(path, app->t, n)) != 0) {
			app->err = errno;
			break;
		}
		app->appended++;
	}
	free(path);
	return NULL;
}

/* Run APPENDERS threads on journal; true when every append returned 0. */
static bool run_appenders(struct journal *journal, struct appender *apps)
{
	pthread_t threads[APPENDERS];
	bool ok = true;

	for (unsigned t = 0; t < APPENDERS; t++) {
		apps[t] = (struct appender){ .journal = journal, .t = t };
		if (pthread_create(&threads[t], NULL, append_records, &apps[t]) != 0)
			return false;
	}
	for (unsigned t = 0; t < APPENDERS; t++) {
		pthread_join(threads[t], NULL);
		ok = ok && apps[t].err == 0 && apps[t].appended == per_appender;
	}
	return ok;
}

/*
 * Check the T records in text (len bytes, a trailing partial line ignored):
 * each appender's in order from its first, none twice, none foreign, their
 * padding intact. Sets found[t] to how many of appender t's are there.
 */
static bool check_records(const char *text, size_t len, unsigned *found)
{
	const char *line = text, *end = text + len;

	memset(found, 0, APPENDERS * sizeof(*found));
	while (line < end) {
		const char *lf = memchr(line, '\n', (size_t)(end - line));
		unsigned t, n;
		int head;

		if (!lf)
			break;
		if (line[0] == 'T') {
			if (sscanf(line, "T\tt%u/%u/%n", &t, &n, &head) != 2 || t >= APPENDERS ||
			    n != found[t] || (size_t)(lf - line) != (size_t)head + pad_of(t, n))
				return false;
			for (const char *c = line + head; c < lf; c++)
				if (*c != 'x')
					return false;
			found[t]++;
		} else if (line[0] != '#' && line[0] != 'H' && line[0] != 'C') {
			return false;
		}
		line = lf + 1;
	}
	return true;
}

/*
 * The far end of the journal's descriptor: takes each write as one message (a
 * packet of a packet-mode pipe, or of a SOCK_SEQPACKET socket), pausing after
 * each as a round trip would.
 */
struct far_end {
	int fd;
	struct dbuf bytes;  /* the journal's messages, in order */
	size_t writes;      /* the journal's messages */
	size_t grouped;     /* those that held more than one record */
	bool bounded;       /* every message within JOURNAL_GROUP_MAX, or one record alone */
	bool ok;
};

#define FILLER 0 /* the first byte of a message the test itself sent: no journal line starts so */

static void *take_writes(void *arg)
{
	struct far_end *far = arg;
	size_t cap = 2 * JOURNAL_GROUP_MAX + LONG_PAD;
	char *buf = malloc(cap);
	const struct timespec pause = { 0, 200000 };

	far->ok = buf != NULL;
	while (far->ok) {
		ssize_t n = read(far->fd, buf, cap);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			far->ok = n == 0;
			break;
		}
		if (buf[0] != FILLER) {
			const char *lf = memchr(buf, '\n', (size_t)n);
			bool one = lf == buf + n - 1;
			far->writes++;
			far->grouped += !one;
			if ((size_t)n > JOURNAL_GROUP_MAX && !one)
				far->bounded = false;
			far->ok = dbuf_append(&far->bytes, buf, (size_t)n) == 0;
		}
		nanosleep(&pause, NULL);
	}
	free(buf);
	return NULL;
}

/*
 * Adopt sv[0] as the journal of a fresh directory and run the appenders on
 * it while take_writes reads sv[1]; the records found in what it read are put
 * in found. True when every append returned 0 and the journal closed clean.
 */
static bool append_far(int sv[2], struct far_end *far, unsigned *found)
{
	struct appender apps[APPENDERS];
	struct journal *journal;
	pthread_t reader;
	char root[64];
	bool ok;
	int rootfd;

	snprintf(root, sizeof(root), "/tmp/unit-jgroup-XXXXXX");
	if (!mkdtemp(root))
		return false;
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dbuf_init(&far->bytes);
	far->fd = sv[1];
	far->bounded = true;
	ok = rootfd >= 0 && pthread_create(&reader, NULL, take_writes, far) == 0;
	if (!ok) {
		close(sv[0]);
	} else {
		journal = journal_adopt(rootfd, sv[0], false);
		if (!journal)
			close(sv[0]);
		ok = journal && run_appenders(journal, apps);
		ok = ok && journal_error(journal) == 0;
		/* Closes sv[0]: the reader sees the end. */
		ok = journal_close(journal) == 0 && ok;
		pthread_join(reader, NULL);
	}
	close(sv[1]);
	if (rootfd >= 0)
		close(rootfd);
	ok = rmdir(root) == 0 && ok && far->ok;
	return ok && check_records(far->bytes.data, far->bytes.len, found) && far->bytes.len > 0 &&
	       far->bytes.data[far->bytes.len - 1] == '\n';
}

UNIT_TEST(journal_group_threads_append_each_record_once_in_order_in_fewer_writes)
{
	struct far_end far = { 0 };
	unsigned found[APPENDERS];
	size_t records = 1; /* the pid line journal_adopt writes */
	int sv[2];

	/* A packet-mode pipe of one page: one packet at a time, so every
	 * write but the first waits until the reader took the one before. */
	EXPECT(pipe2(sv, O_DIRECT | O_CLOEXEC) == 0);
	EXPECT(fcntl(sv[1], F_SETPIPE_SZ, 4096) >= 0);
	{
		/* pipe2 gives the read end first. */
		int read_end = sv[0];
		sv[0] = sv[1];
		sv[1] = read_end;
	}
	EXPECT(append_far(sv, &far, found));
	for (unsigned t = 0; t < APPENDERS; t++) {
		EXPECT(found[t] == PER_APPENDER);
		records += found[t];
	}
	/* Appends overlapped: most writes carried several records. */
	EXPECT(far.writes > 0 && far.writes * 2 <= records);
	if (getenv("UNIT_VERBOSE"))
		fprintf(stderr, "journal_group: %zu records in %zu writes\n", records, far.writes);
	dbuf_free(&far.bytes);
}

UNIT_TEST(journal_group_gathers_no_more_than_its_bound)
{
	struct far_end far = { 0 };
	unsigned found[APPENDERS];
	char filler[1024];
	int sv[2];

	long_records = true;
	per_appender = 60;
	EXPECT(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
	/* A full send buffer: the writes wait for the slow reader from the first. */
	memset(filler, FILLER, sizeof(filler));
	while (send(sv[0], filler, sizeof(filler), MSG_DONTWAIT) == (ssize_t)sizeof(filler))
		continue;
	EXPECT(errno == EAGAIN || errno == EWOULDBLOCK);
	EXPECT(append_far(sv, &far, found));
	for (unsigned t = 0; t < APPENDERS; t++)
		EXPECT(found[t] == per_appender);
	long_records = false;
	per_appender = PER_APPENDER;
	/* Records did gather, and never past the bound. */
	EXPECT(far.grouped > 0);
	EXPECT(far.bounded);
	if (getenv("UNIT_VERBOSE"))
		fprintf(stderr, "journal_group: long records in %zu writes, %zu grouped\n",
			far.writes, far.grouped);
	dbuf_free(&far.bytes);
}

/* Read the whole file at path into buf; true on success. */
static bool read_whole(const char *path, struct dbuf *buf)
{
	char chunk[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (dbuf_append(buf, chunk, (size_t)n) != 0)
			break;
	close(fd);
	return n == 0;
}

/* A fresh journal in a new directory under /tmp (its name in root). */
static struct journal *journal_in_temp_dir(char *root, size_t size, int *rootfd, bool sync)
{
	struct journal_header header = { .run_id = 0x5eed };

	snprintf(root, size, "/tmp/unit-jgroup-XXXXXX");
	if (!mkdtemp(root))
		return NULL;
	*rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*rootfd < 0 || journal_lock(*rootfd) != 0)
		return NULL;
	return journal_create(*rootfd, &header, sync);
}

static void remove_temp_dir(const char *root, int rootfd)
{
	char path[128];

	if (rootfd >= 0)
		close(rootfd);
	snprintf(path, sizeof(path), "%s/" JOURNAL_NAME, root);
	unlink(path);
	rmdir(root);
}

UNIT_TEST(journal_group_synced_appends_from_threads_are_all_in_the_file_in_order)
{
	struct appender apps[APPENDERS];
	struct dbuf text;
	struct journal *journal;
	char root[64], path[128];
	unsigned found[APPENDERS];
	int rootfd = -1;

	journal = journal_in_temp_dir(root, sizeof(root), &rootfd, true);
	EXPECT(journal != NULL);
	if (!journal)
		return;
	EXPECT(run_appenders(journal, apps));
	EXPECT(journal_commit(journal) == 0);
	EXPECT(journal_close(journal) == 0);
	dbuf_init(&text);
	snprintf(path, sizeof(path), "%s/" JOURNAL_NAME, root);
	EXPECT(read_whole(path, &text));
	EXPECT(check_records(text.data, text.len, found));
	for (unsigned t = 0; t < APPENDERS; t++)
		EXPECT(found[t] == PER_APPENDER);
	/* The commit came after every other append returned: it is last. */
	EXPECT(text.len >= 2 && memcmp(text.data + text.len - 2, "C\n", 2) == 0);
	dbuf_free(&text);
	remove_temp_dir(root, rootfd);
}

/*
 * Appenders on a journal whose file may grow only to limit bytes (a full
 * disk): true when the write that crossed the limit failed its records and
 * everything after with EFBIG, and every append that returned 0 is whole in
 * the file, each appender's in order. Run in a child: the limit is the
 * process's.
 */
static bool fails_at_the_limit(const char *root, rlim_t limit)
{
	struct rlimit rl = { limit, limit };
	struct appender apps[APPENDERS];
	struct journal_header header = { .run_id = 1 };
	struct journal *journal;
	struct dbuf text;
	char path[128];
	unsigned found[APPENDERS];
	bool ok = true;
	int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (rootfd < 0 || signal(SIGXFSZ, SIG_IGN) == SIG_ERR || setrlimit(RLIMIT_FSIZE, &rl) != 0)
		return false;
	journal = journal_create(rootfd, &header, false);
	if (!journal)
		return false;
	run_appenders(journal, apps);
	for (unsigned t = 0; t < APPENDERS; t++)
		ok = ok && apps[t].err == EFBIG && apps[t].appended < PER_APPENDER;
	ok = ok && journal_error(journal) == EFBIG;
	/* Later appends fail at once, with the same error. */
	errno = 0;
	ok = ok && journal_temp(journal, "late", 4) == -1 && errno == EFBIG;
	ok = journal_close(journal) == 0 && ok;
	close(rootfd);

	dbuf_init(&text);
	snprintf(path, sizeof(path), "%s/" JOURNAL_NAME, root);
	ok = ok && read_whole(path, &text) && text.len <= limit;
	ok = ok && check_records(text.data, text.len, found);
	/* A record whose append failed may be there (its write got that far),
	 * and each appender had one in flight at most; one that succeeded is. */
	for (unsigned t = 0; ok && t < APPENDERS; t++)
		ok = found[t] == apps[t].appended || found[t] == apps[t].appended + 1;
	dbuf_free(&text);
	return ok;
}

UNIT_TEST(journal_group_a_failed_write_fails_its_records_and_every_later_append)
{
	char root[64], path[128];
	int status = -1;
	pid_t pid;

	snprintf(root, sizeof(root), "/tmp/unit-jgroup-XXXXXX");
	EXPECT(mkdtemp(root) != NULL);
	pid = fork();
	EXPECT(pid >= 0);
	if (pid == 0)
		_exit(fails_at_the_limit(root, 2000) ? 0 : 1);
	if (pid > 0)
		EXPECT(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		       WEXITSTATUS(status) == 0);
	snprintf(path, sizeof(path), "%s/" JOURNAL_NAME, root);
	unlink(path);
	EXPECT(rmdir(root) == 0);
}

UNIT_TEST(journal_group_refuses_appends_after_a_failure_set_from_outside)
{
	struct journal_group *group;
	int fds[2];

	EXPECT(pipe(fds) == 0);
	group = journal_group_new(fds[1], false);
	EXPECT(group != NULL);
	if (group) {
		EXPECT(journal_group_append(group, "a\n", 2) == 0);
		journal_group_fail(group, ENOSPC);
		journal_group_fail(group, EIO); /* the first failure stays */
		errno = 0;
		EXPECT(journal_group_append(group, "b\n", 2) == -1 && errno == ENOSPC);
		EXPECT(journal_group_error(group) == ENOSPC);
		journal_group_free(group);
	}
	journal_group_free(NULL);
	close(fds[1]);
	{
		char got[8];
		EXPECT(read(fds[0], got, sizeof(got)) == 2 && memcmp(got, "a\n", 2) == 0);
	}
	close(fds[0]);
}
