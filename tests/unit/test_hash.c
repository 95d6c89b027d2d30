/* SPDX-License-Identifier: 0BSD */
/** Unit tests of the hash registry, the hashio engine and the reorder window. */
#include "prelude.h"
#include "unit.h"
#include "dbuf.h"
#include "hash.h"
#include "hashio.h"
#include "openread.h"
#include "out.h"
#include "reorder.h"
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The reference tool for each algorithm; the file name goes after it. */
static const struct {
	const char *name;
	const char *command;
} reference[] = {
	{"md5", "md5sum"},
	{"sha1", "sha1sum"},
	{"sha224", "sha224sum"},
	{"sha256", "sha256sum"},
	{"sha384", "sha384sum"},
	{"sha512", "sha512sum"},
	{"sha512-256", "openssl dgst -sha512-256 -r"},
	{"sha3-256", "openssl dgst -sha3-256 -r"},
	{"sha3-512", "openssl dgst -sha3-512 -r"},
	{"blake2b", "b2sum"},
	{"blake2s", "openssl dgst -blake2s256 -r"},
	{"xxh32", "xxhsum -H0"},
	{"xxh64", "xxhsum -H1"},
	{"xxh128", "xxhsum -H2"},
	{"xxh3", "xxhsum -H3"},
	/* zlib's crc32, as rhash --crc32 and SFV files have it. */
	{"crc32", "python3 -c 'import sys, zlib; print(\"%08x\" % zlib.crc32(open(sys.argv[1], \"rb\").read()))'"},
};

static bool is_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/*
 * Run the reference tool of algo on path and find, in its output, the first
 * run of exactly 2*digest_len hex digits (the tools differ in where they put
 * it; the temporary file names hold no such run). Returns 0 or -1.
 */
static int reference_hex(const struct hash_algo *algo, const char *path, char *hex)
{
	char command[512], output[1024];
	size_t i, want = 2 * algo->digest_len, len;
	FILE *pipe = NULL;

	for (i = 0; i < countof(reference); i++) {
		if (strcmp(reference[i].name, algo->name) == 0) {
			snprintf(command, sizeof(command), "%s %s 2>/dev/null", reference[i].command, path); /* xxhsum draws progress on stderr */
			pipe = popen(command, "r");
			break;
		}
	}
	if (!pipe)
		return -1;
	len = fread(output, 1, sizeof(output) - 1, pipe);
	pclose(pipe);
	output[len] = '\0';
	for (i = 0; i < len;) {
		size_t run = 0;

		while (i + run < len && is_hex(output[i + run]))
			run++;
		if (run == want && (i == 0 || !is_hex(output[i - 1]))) {
			memcpy(hex, output + i, want);
			hex[want] = '\0';
			return 0;
		}
		i += run ? run : 1;
	}
	return -1;
}

/* Deterministic, incompressible-looking test bytes. */
static void fill_bytes(unsigned char *data, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		data[i] = (unsigned char)(seed >> 16);
	}
}

/* Write len test bytes to a new temporary file; returns its path (static buffer). */
static const char *temp_file(size_t len, uint32_t seed)
{
	static char path[64];
	unsigned char *data = malloc(len ? len : 1);
	int fd;

	snprintf(path, sizeof(path), "/tmp/zzXXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || !data) {
		free(data);
		return NULL;
	}
	fill_bytes(data, len, seed);
	if (len && write(fd, data, len) != (ssize_t)len)
		path[0] = '\0';
	close(fd);
	free(data);
	return path[0] ? path : NULL;
}

/* Every algorithm through the engine, serial and parallel, at the block edges. */
UNIT_TEST(hash_matches_reference_tools)
{
	const struct hash_algo *all[HASH_SET_MAX];
	/* With 4 KiB blocks: empty, 1 byte, block-1, one block, block+1, and
	 * enough blocks to take the parallel path. */
	const size_t block = 4096;
	const size_t sizes[] = {0, 1, block - 1, block, block + 1, 9 * block + 17};
	size_t n = hash_count(), s, i;

	PT_ASSERT(n <= HASH_SET_MAX);
	for (i = 0; i < n; i++)
		all[i] = hash_at(i);
	for (s = 0; s < countof(sizes); s++) {
		const char *path = temp_file(sizes[s], (uint32_t)s + 1);
		struct hashio_config parallel = {.algos = all, .count = n, .block_size = block};
		struct hashio_config serial = parallel;
		struct hashio *engines[2];
		struct hashio_result result;
		int e;

		EXPECT(path != NULL);
		if (!path)
			continue;
		serial.serial = true;
		engines[0] = hashio_new(&parallel);
		engines[1] = hashio_new(&serial);
		EXPECT(engines[0] && engines[1]);
		for (e = 0; e < 2 && engines[e]; e++) {
			EXPECT(hashio_file_at(engines[e], AT_FDCWD, path, 0, &result) == 0);
			EXPECT(result.size == sizes[s] && !result.changed && !result.not_regular);
			for (i = 0; i < n; i++) {
				char want[HASH_HEX_MAX + 1];

				EXPECT(reference_hex(all[i], path, want) == 0);
				if (strcmp(want, result.hex[i]) != 0) {
					fprintf(stderr, "unit-tests: %s of %zu bytes: %s, reference %s\n",
						all[i]->name, sizes[s], result.hex[i], want);
					EXPECT(!"digest differs from the reference tool");
				}
			}
		}
		hashio_free(engines[0]);
		hashio_free(engines[1]);
		unlink(path);
	}
}

UNIT_TEST(hash_contexts_are_reusable_and_chunking_does_not_matter)
{
	unsigned char data[10000];
	size_t i;

	fill_bytes(data, sizeof(data), 7);
	for (i = 0; i < hash_count(); i++) {
		const struct hash_algo *algo = hash_at(i);
		struct hash_ctx *ctx = hash_ctx_new(algo);
		unsigned char one[HASH_DIGEST_MAX], many[HASH_DIGEST_MAX];
		size_t off = 0, step = 1;

		EXPECT(ctx != NULL);
		if (!ctx)
			continue;
		EXPECT(hash_ctx_update(ctx, data, sizeof(data)) == 0);
		EXPECT(hash_ctx_final(ctx, one) == 0);
		EXPECT(hash_ctx_reset(ctx) == 0);
		while (off < sizeof(data)) {
			size_t len = step < sizeof(data) - off ? step : sizeof(data) - off;

			EXPECT(hash_ctx_update(ctx, data + off, len) == 0);
			off += len;
			step = step * 3 + 1;
		}
		EXPECT(hash_ctx_final(ctx, many) == 0);
		EXPECT(memcmp(one, many, algo->digest_len) == 0);
		hash_ctx_free(ctx);
	}
}

UNIT_TEST(hash_registry_names_tags_and_lists)
{
	const struct hash_algo *list[HASH_SET_MAX];
	const char *bad;
	size_t bad_len;

	EXPECT(hash_lookup("sha256") && hash_lookup("sha256")->digest_len == 32);
	EXPECT(hash_lookup("SHA256") == NULL);
	EXPECT(hash_lookup_len("xxh128junk", 6) == hash_lookup("xxh128"));
	EXPECT(hash_lookup_tag("SHA256", 6) == hash_lookup("sha256"));
	EXPECT(hash_lookup_tag("BLAKE2b", 7) == hash_lookup("blake2b"));
	EXPECT(hash_lookup_tag("XXH3", 4) == hash_lookup("xxh3"));
	EXPECT(hash_lookup_tag("SHA512t256", 10) == hash_lookup("sha512-256"));
	EXPECT(hash_lookup_tag("SHA2", 4) == NULL);
	EXPECT(hash_parse_list("sha256,md5,sha256", list, HASH_SET_MAX, &bad, &bad_len) == 2);
	EXPECT(list[0] == hash_lookup("sha256") && list[1] == hash_lookup("md5"));
	EXPECT(hash_parse_list("md5,nope,sha1", list, HASH_SET_MAX, &bad, &bad_len) == -1);
	EXPECT(bad && bad_len == 4 && strncmp(bad, "nope", 4) == 0);
	EXPECT(hash_parse_list("md5,", list, HASH_SET_MAX, &bad, &bad_len) == -1);
	EXPECT(hash_parse_list("md5,sha1", list, 1, &bad, &bad_len) == -1 && errno == E2BIG);
	EXPECT(hash_lookup("md5")->gnu_tool && strcmp(hash_lookup("md5")->gnu_tool, "md5sum") == 0);
}

/* The sink sees every block in order, and a sink error stops the file. */
struct sink_state {
	uint64_t next_offset;
	size_t calls;
	int fail_at;
};

static int count_sink(void *arg, const void *data, size_t len, uint64_t offset)
{
	struct sink_state *state = arg;

	(void)data;
	if (offset != state->next_offset)
		return EINVAL;
	state->next_offset += len;
	if (++state->calls == (size_t)state->fail_at)
		return ENOSPC;
	return 0;
}

/*
 * The sink test on one engine: algos hashed from a file of 20 blocks and 5
 * bytes, in blocks of block bytes; the digests must equal a serial engine's.
 */
static void sink_case(const struct hash_algo *const *algos, size_t count, size_t block)
{
	struct hashio_config config = {.algos = algos, .count = count, .block_size = block};
	struct hashio_config serial_config = config;
	struct hashio *engine = hashio_new(&config), *serial;
	const char *path = temp_file(20 * block + 5, 3);
	struct sink_state state = {0, 0, 0};
	struct hashio_result result, want;
	int fd = path ? open(path, O_RDONLY) : -1;
	size_t i;

	serial_config.serial = true;
	serial = hashio_new(&serial_config);
	EXPECT(engine && serial && fd >= 0);
	if (!engine || !serial || fd < 0)
		goto out;
	EXPECT(hashio_fd(serial, fd, NULL, NULL, 0, NULL, NULL, &want) == 0);
	EXPECT(hashio_fd(engine, fd, NULL, NULL, 0, count_sink, &state, &result) == 0);
	EXPECT(state.next_offset == 20 * block + 5 && state.calls == 21);
	for (i = 0; i < count; i++)
		EXPECT(strcmp(result.hex[i], want.hex[i]) == 0);
	/* A sink error at the third block stops the file, whichever thread
	 * holds that block. */
	state = (struct sink_state){0, 0, 3};
	EXPECT(hashio_fd(engine, fd, NULL, NULL, 0, count_sink, &state, &result) == -1);
	EXPECT(result.error == ENOSPC && state.calls == 3);
	/* The engine is still good afterwards. */
	state = (struct sink_state){0, 0, 0};
	EXPECT(hashio_fd(engine, fd, NULL, NULL, 0, count_sink, &state, &result) == 0);
	for (i = 0; i < count; i++)
		EXPECT(strcmp(result.hex[i], want.hex[i]) == 0);
out:
	if (fd >= 0)
		close(fd);
	if (path)
		unlink(path);
	hashio_free(engine);
	hashio_free(serial);
}

UNIT_TEST(hashio_fd_feeds_the_sink_in_order_and_stops_on_its_error)
{
	const struct hash_algo *one[] = {hash_lookup("sha256")};
	const struct hash_algo *two[] = {hash_lookup("sha256"), hash_lookup("md5")};
	const struct hash_algo *three[] = {hash_lookup("md5"), hash_lookup("sha1"),
					   hash_lookup("xxh128")};

	sink_case(one, 1, 4096);          /* the relay */
	sink_case(two, 2, 4096);          /* the ring, every algorithm in a helper */
	sink_case(three, 3, 256 << 10);   /* the ring, the reader hashing the cheap ones */
}

UNIT_TEST(hashio_refuses_fifos_and_directories_without_opening_them)
{
	const struct hash_algo *algos[] = {hash_lookup("sha256")};
	struct hashio_config config = {.algos = algos, .count = 1};
	struct hashio *engine = hashio_new(&config);
	struct hashio_result result;
	char dir[] = "/tmp/zzXXXXXX", fifo[64];

	EXPECT(engine && mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/p", dir);
	EXPECT(mkfifo(fifo, 0600) == 0);
	/* Opening the FIFO for reading would block forever without O_NONBLOCK,
	 * and never returns a digest. */
	EXPECT(hashio_file_at(engine, AT_FDCWD, fifo, 0, &result) == -1);
	EXPECT(result.not_regular && result.error == 0 && S_ISFIFO(result.mode));
	EXPECT(hashio_file_at(engine, AT_FDCWD, dir, 0, &result) == -1);
	EXPECT(result.not_regular && S_ISDIR(result.mode));
	EXPECT(hashio_file_at(engine, AT_FDCWD, "/nonexistent/zz", 0, &result) == -1);
	EXPECT(!result.not_regular && result.error == ENOENT);
	unlink(fifo);
	rmdir(dir);
	hashio_free(engine);
}

/* Reorder: items completed in reverse order come out in sequence. */
struct reorder_job {
	struct reorder *reorder;
	uint64_t first, count;
};

static void *complete_backwards(void *arg)
{
	struct reorder_job *job = arg;
	struct dbuf bytes;
	uint64_t i;

	dbuf_init(&bytes);
	for (i = job->count; i-- > 0;) {
		dbuf_printf(&bytes, "%llu\n", (unsigned long long)(job->first + i));
		reorder_complete(job->reorder, job->first + i, &bytes);
	}
	dbuf_free(&bytes);
	return NULL;
}

UNIT_TEST(reorder_writes_in_sequence_and_bounds_the_window)
{
	int fds[2];
	struct out *out;
	struct reorder *reorder;
	struct reorder_job jobs[4];
	pthread_t threads[4];
	char buf[65536];
	size_t got = 0, i;
	uint64_t seq, expect = 0;
	ssize_t n;
	char *line;

	EXPECT(pipe(fds) == 0);
	out = out_new(fds[1]);
	reorder = reorder_new(out, 8);
	EXPECT(out && reorder);
	/* Four batches of 8: each fills the window exactly, so taking the
	 * next batch waits for the threads to complete the last one. */
	for (i = 0; i < 4; i++) {
		jobs[i].reorder = reorder;
		jobs[i].count = 8;
		jobs[i].first = reorder_take(reorder);
		for (seq = 1; seq < 8; seq++)
			EXPECT(reorder_take(reorder) == jobs[i].first + seq);
		pthread_create(&threads[i], NULL, complete_backwards, &jobs[i]);
	}
	for (i = 0; i < 4; i++)
		pthread_join(threads[i], NULL);
	EXPECT(reorder_finish(reorder) == 0);
	close(fds[1]);
	while ((n = read(fds[0], buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(fds[0]);
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		EXPECT(strtoull(line, NULL, 10) == expect++);
	EXPECT(expect == 32);
	reorder_free(reorder);
	out_free(out);
}

UNIT_TEST(hashio_nofollow_passes_symlinks_and_long_paths_work)
{
	const struct hash_algo *algos[] = {hash_lookup("sha256")};
	struct hashio_config config = {.algos = algos, .count = 1};
	struct hashio *engine = hashio_new(&config);
	struct hashio_result result, direct;
	char dir[] = "/tmp/zzXXXXXX", path[8192], link[64], segment[201];
	size_t len;
	int i, fd;

	EXPECT(engine && mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	EXPECT(fd >= 0 && write(fd, "abc", 3) == 3);
	close(fd);
	snprintf(link, sizeof(link), "%s/l", dir);
	EXPECT(symlink("f", link) == 0);
	EXPECT(hashio_file_at(engine, AT_FDCWD, link, OPEN_READ_NOFOLLOW, &result) == -1);
	EXPECT(result.not_regular && result.error == 0 && S_ISLNK(result.mode));
	EXPECT(hashio_file_at(engine, AT_FDCWD, link, OPEN_READ_NOFOLLOW | OPEN_READ_NO_PRESTAT,
			      &result) == -1);
	EXPECT(result.not_regular && result.error == 0);
	EXPECT(hashio_file_at(engine, AT_FDCWD, link, 0, &result) == 0); /* followed */
	EXPECT(hashio_file_at(engine, AT_FDCWD, path, 0, &direct) == 0);
	EXPECT(strcmp(result.hex[0], direct.hex[0]) == 0);

	/* A path of more than PATH_MAX bytes: 25 directories of 200 bytes. */
	memset(segment, 'd', 200);
	segment[200] = '\0';
	snprintf(path, sizeof(path), "%s", dir);
	for (i = 0; i < 25; i++) {
		len = strlen(path);
		snprintf(path + len, sizeof(path) - len, "/%s", segment);
	}
	{
		/* Made through relative paths, each call under PATH_MAX. */
		int dfd = open(dir, O_RDONLY | O_DIRECTORY), next;

		for (i = 0; i < 25 && dfd >= 0; i++) {
			EXPECT(mkdirat(dfd, segment, 0700) == 0);
			next = openat(dfd, segment, O_RDONLY | O_DIRECTORY);
			close(dfd);
			dfd = next;
		}
		fd = openat(dfd, "leaf", O_WRONLY | O_CREAT, 0600);
		EXPECT(fd >= 0 && write(fd, "abc", 3) == 3);
		close(fd);
		close(dfd);
	}
	len = strlen(path);
	snprintf(path + len, sizeof(path) - len, "/leaf");
	EXPECT(strlen(path) > PATH_MAX);
	EXPECT(hashio_file_at(engine, AT_FDCWD, path, 0, &result) == 0);
	EXPECT(strcmp(result.hex[0], direct.hex[0]) == 0);
	hashio_free(engine);
	{
		char command[64];

		snprintf(command, sizeof(command), "rm -rf %s", dir);
		EXPECT(system(command) == 0);
	}
}
