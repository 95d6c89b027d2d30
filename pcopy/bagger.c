/* SPDX-License-Identifier: 0BSD */
/**
 * pcopy --bag. With a bag, the engine's destination root is DEST/data, so
 * its journal and temporaries live beside the payload and go with the run;
 * each payload manifest (one per digest of -a that BagIt names) is written
 * to a journaled temporary in DEST/data as files complete, from the same
 * per-file record the native seal would get, so memory does not grow with
 * the files; no native seal is written (its place in the bag is taken by
 * the manifests, which carry the same digests).
 *
 * At the end, after every file is in place and before the journal's commit
 * record, the tag files are put into DEST, each by a rename: the manifests
 * (from DEST/data), bag-info.txt, the tag manifests, a signature of the
 * first tag manifest with --sign, and bagit.txt last. A failure on the way
 * removes those already renamed (bagger_undo) and the run is rolled back;
 * a crash between those renames and the commit leaves tag files whose
 * payload the rollback removes, which any validator finds invalid, never a
 * bag that validates with the wrong content.
 */
#include "prelude.h"
#include "bagger.h"
#include "bagit.h"
#include "destdir.h"
#include "journal.h"
#include "proto.h"
#include "signer.h"
#include "sshsig.h"
#include "xio.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Tag files one run may put in place: two manifests per algorithm, bag-info,
 * bagit.txt and a signature. */
#define BAG_INSTALLED_MAX (2 * HASH_SET_MAX + 3)
#define BAG_NAME_MAX 64

/* Buffered manifest text is written out past this many bytes. */
#define BAG_FLUSH_BYTES ((size_t)1 << 18)

struct bagger {
	char *root_path;              /* DEST as given */
	int rootfd;                   /* DEST, the bag's root */
	bool root_created;
	size_t nalgos;
	const struct hash_algo *algos[HASH_SET_MAX]; /* BagIt's among -a, in -a's order */
	size_t index[HASH_SET_MAX];   /* ...and where each is in -a */
	/* The payload manifests in progress, in DEST/data; fields guarded by dest->lock. */
	int fd[HASH_SET_MAX];
	char temp[HASH_SET_MAX][BAG_NAME_MAX];
	struct dbuf text[HASH_SET_MAX];
	struct hashset digest[HASH_SET_MAX]; /* every BagIt algorithm over manifest i's bytes */
	uint64_t octets, streams;
	/* What this run put in place in the bag root (for bagger_undo). */
	char installed[BAG_INSTALLED_MAX][BAG_NAME_MAX];
	size_t ninstalled;
};

size_t bagger_algos(const struct hash_algo *const *algos, size_t nalgos, size_t *index)
{
	size_t n = 0;

	for (size_t i = 0; i < nalgos; i++)
		if (bagit_algo_name(algos[i]))
			index[n++] = i;
	return n;
}

void bagger_free(struct bagger *bag)
{
	if (!bag)
		return;
	for (size_t i = 0; i < bag->nalgos; i++) {
		if (bag->fd[i] >= 0)
			close(bag->fd[i]);
		dbuf_free(&bag->text[i]);
		hashset_fini(&bag->digest[i]);
	}
	if (bag->rootfd >= 0)
		close(bag->rootfd);
	free(bag->root_path);
	free(bag);
}

void bagger_prepare(struct copy *copy, struct dest *dest)
{
	struct bagger *bag = calloc(1, sizeof(*bag));
	struct stat st;
	char *data = NULL;
	size_t len = strlen(dest->path);

	if (!bag || !(bag->root_path = strdup(dest->path)) ||
	    !(data = malloc(len + sizeof("/" BAGIT_PAYLOAD_DIR)))) {
		dest_fail(dest, "", 0, ENOMEM, NULL);
		goto fail;
	}
	bag->rootfd = -1;
	for (size_t i = 0; i < HASH_SET_MAX; i++)
		bag->fd[i] = -1;
	bag->nalgos = bagger_algos(copy->opt.algos, copy->opt.nalgos, bag->index);
	for (size_t i = 0; i < bag->nalgos; i++) {
		bag->algos[i] = copy->opt.algos[bag->index[i]];
		dbuf_init(&bag->text[i]);
	}
	bag->rootfd = open(dest->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (bag->rootfd < 0 && errno == ENOENT) {
		if (mkdir(dest->path, 0777) != 0) {
			dest_fail(dest, "", 0, errno, "making the bag");
			goto fail;
		}
		bag->root_created = true;
		bag->rootfd = open(dest->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (bag->rootfd < 0) {
		dest_fail(dest, "", 0, errno, "the bag");
		goto fail;
	}
	/* data must be the bag's own directory, not a link to elsewhere. */
	if (fstatat(bag->rootfd, BAGIT_PAYLOAD_DIR, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !S_ISDIR(st.st_mode)) {
		dest_fail(dest, BAGIT_PAYLOAD_DIR, strlen(BAGIT_PAYLOAD_DIR), ENOTDIR,
			  "the bag's payload directory");
		goto fail;
	}
	memcpy(data, dest->path, len);
	memcpy(data + len, "/" BAGIT_PAYLOAD_DIR, sizeof("/" BAGIT_PAYLOAD_DIR));
	free(dest->path);
	dest->path = data;
	dest->bag = bag;
	return;
fail:
	free(data);
	if (bag && bag->root_created)
		rmdir(bag->root_path);
	bagger_free(bag);
}

int bagger_open(struct copy *copy, struct dest *dest)
{
	struct bagger *bag = dest->bag;

	if (!copy->opt.force && !copy->opt.update &&
	    faccessat(bag->rootfd, BAGIT_DECLARATION, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		dest_fail(dest, "", 0, EEXIST, "a bag is there already (use --force or --update)");
		return -1;
	}
	for (size_t i = 0; i < bag->nalgos; i++) {
		if (hashset_init(&bag->digest[i], bag->algos, bag->nalgos) != 0)
			goto fail;
		dest_temp_name(copy, bag->temp[i], sizeof(bag->temp[i]), ".bag");
		if (journal_temp(dest->journal, bag->temp[i], strlen(bag->temp[i])) != 0)
			goto fail;
		bag->fd[i] = openat(dest->rootfd, bag->temp[i],
				    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (bag->fd[i] < 0)
			goto fail;
	}
	return 0;
fail:
	dest_fail(dest, "", 0, errno, "bag manifest");
	return -1;
}

/* Write out manifest i's buffered text. Called with dest->lock held. */
static int manifest_flush(struct bagger *bag, size_t i)
{
	if (bag->text[i].len == 0)
		return 0;
	if (xwrite(bag->fd[i], bag->text[i].data, bag->text[i].len) != 0 ||
	    hashset_update(&bag->digest[i], bag->text[i].data, bag->text[i].len) != 0)
		return -1;
	dbuf_clear(&bag->text[i]);
	return 0;
}

void bagger_add(struct copy *copy, struct dest *dest, uint64_t size, const char *rel, size_t len,
		char hex[][HASH_HEX_MAX + 1])
{
	struct bagger *bag = dest->bag;
	struct dbuf path;
	int rc = 0;

	(void)copy;
	dbuf_init(&path);
	if (dbuf_puts(&path, BAGIT_PAYLOAD_DIR "/") != 0 ||
	    bagit_encode_path(&path, rel, len) != 0) {
		dbuf_free(&path);
		dest_fail(dest, rel, len, ENOMEM, "bag manifest");
		return;
	}
	pthread_mutex_lock(&dest->lock);
	bag->octets += size;
	bag->streams++;
	for (size_t i = 0; i < bag->nalgos && rc == 0; i++) {
		struct dbuf *text = &bag->text[i];
		if (dbuf_puts(text, hex[bag->index[i]]) != 0 || dbuf_append(text, "  ", 2) != 0 ||
		    dbuf_append(text, path.data, path.len) != 0 || dbuf_putc(text, '\n') != 0 ||
		    (text->len >= BAG_FLUSH_BYTES && manifest_flush(bag, i) != 0))
			rc = -1;
	}
	pthread_mutex_unlock(&dest->lock);
	if (rc != 0)
		dest_fail(dest, rel, len, errno, "bag manifest");
	dbuf_free(&path);
}

/* Name buf "PREFIX-ALGO.txt". */
static void tag_name(char *buf, const char *prefix, const struct hash_algo *algo)
{
	snprintf(buf, BAG_NAME_MAX, "%s-%s.txt", prefix, bagit_algo_name(algo));
}

/* Add one tag manifest line per algorithm to tagtext for a tag file (its digests). */
static int tag_lines(struct bagger *bag, struct dbuf *tagtext, const char *name,
		     char hex[][HASH_HEX_MAX + 1])
{
	for (size_t j = 0; j < bag->nalgos; j++)
		if (dbuf_printf(&tagtext[j], "%s  %s\n", hex[j], name) != 0)
			return -1;
	return 0;
}

/* The digests of text (every BagIt algorithm) into hex. */
static int digest_text(struct bagger *bag, const struct dbuf *text, char hex[][HASH_HEX_MAX + 1])
{
	struct hashset set;
	int rc;

	if (hashset_init(&set, bag->algos, bag->nalgos) != 0)
		return -1;
	rc = hashset_update(&set, text->data ? text->data : "", text->len) == 0 &&
	     hashset_final_hex(&set, hex) == 0 ? 0 : -1;
	hashset_fini(&set);
	return rc;
}

/* Rename temp (in fromfd) to name in the bag root, remembered for bagger_undo. */
static int install(struct bagger *bag, int fromfd, const char *temp, const char *name)
{
	if (strlen(name) >= BAG_NAME_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (renameat(fromfd, temp, bag->rootfd, name) != 0)
		return -1;
	snprintf(bag->installed[bag->ninstalled++], BAG_NAME_MAX, "%s", name);
	return 0;
}

/* Write text to a new temporary in the bag root, then put it in place as name. */
static int install_text(struct copy *copy, struct bagger *bag, const struct dbuf *text,
			const char *name)
{
	char temp[BAG_NAME_MAX];
	int fd, rc = -1;

	dest_temp_name(copy, temp, sizeof(temp), ".bagtag");
	fd = openat(bag->rootfd, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (xwrite(fd, text->data ? text->data : "", text->len) == 0 &&
	    (!copy->opt.fsync || fsync(fd) == 0))
		rc = 0;
	if (xclose(fd) != 0)
		rc = -1;
	if (rc == 0 && install(bag, bag->rootfd, temp, name) == 0)
		return 0;
	unlinkat(bag->rootfd, temp, 0);
	return -1;
}

/*
 * Manifests and tag manifests of algorithms this run did not write, and a
 * signature this run did not make, were about the bag being replaced
 * (--force, --update): left in place they would no longer match.
 */
static void remove_stale(struct bagger *bag)
{
	int fd = openat(bag->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *entry;

	if (!dir) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((entry = readdir(dir)) != NULL) {
		const char *name = entry->d_name;
		bool ours = false;
		size_t len = strlen(name);
		if (strncmp(name, "manifest-", 9) != 0 && strncmp(name, "tagmanifest-", 12) != 0)
			continue;
		if (!(len > 4 && strcmp(name + len - 4, ".txt") == 0) &&
		    !(len > 8 && strcmp(name + len - 8, ".txt" SSHSIG_SUFFIX) == 0))
			continue;
		for (size_t i = 0; i < bag->ninstalled && !ours; i++)
			ours = strcmp(bag->installed[i], name) == 0;
		if (!ours)
			unlinkat(bag->rootfd, name, 0);
	}
	closedir(dir);
}

/* Sign text (a tag manifest) into name.sig beside it. */
static int sign_tag_manifest(struct copy *copy, struct bagger *bag, const struct dbuf *text,
			     const char *name, const char **why)
{
	unsigned char digest[SSHSIG_DIGEST_LEN];
	struct hash_ctx *ctx = hash_ctx_new(hash_lookup("sha512"));
	char sig[BAG_NAME_MAX + sizeof(SSHSIG_SUFFIX)];
	struct dbuf armored;
	int rc = -1;

	dbuf_init(&armored);
	*why = NULL;
	if (!ctx || hash_ctx_update(ctx, text->data ? text->data : "", text->len) != 0 ||
	    hash_ctx_final(ctx, digest) != 0)
		goto out;
	if (copy_sign(copy, PROTO_SIGN_TAG_MANIFEST, digest, &armored, why) != 0)
		goto out;
	*why = NULL;
	snprintf(sig, sizeof(sig), "%s%s", name, SSHSIG_SUFFIX);
	rc = install_text(copy, bag, &armored, sig);
out:
	hash_ctx_free(ctx);
	dbuf_free(&armored);
	return rc;
}

int bagger_close(struct copy *copy, struct worker *worker, struct dest *dest)
{
	struct bagger *bag = dest->bag;
	char hex[HASH_SET_MAX][HASH_HEX_MAX + 1], name[BAG_NAME_MAX];
	struct dbuf info, declaration, tagtext[HASH_SET_MAX];
	const char *what = "writing the bag's tag files", *why = NULL;
	size_t signed_one = 0;
	struct tm tm;
	time_t now = time(NULL);
	int rc = -1;

	(void)worker;
	dbuf_init(&info);
	dbuf_init(&declaration);
	for (size_t j = 0; j < bag->nalgos; j++)
		dbuf_init(&tagtext[j]);
	/* The manifests: in place first, and their digests for the tag manifests. */
	for (size_t i = 0; i < bag->nalgos; i++) {
		what = "writing a bag manifest";
		if (manifest_flush(bag, i) != 0 || (copy->opt.fsync && fsync(bag->fd[i]) != 0) ||
		    hashset_final_hex(&bag->digest[i], hex) != 0)
			goto out;
		tag_name(name, "manifest", bag->algos[i]);
		if (install(bag, dest->rootfd, bag->temp[i], name) != 0 ||
		    tag_lines(bag, tagtext, name, hex) != 0)
			goto out;
	}
	what = "writing bag-info.txt";
	localtime_r(&now, &tm);
	if (dbuf_printf(&info, "Bagging-Date: %04d-%02d-%02d\n", tm.tm_year + 1900, tm.tm_mon + 1,
			tm.tm_mday) != 0 ||
	    dbuf_printf(&info, "Bag-Software-Agent: pcopy %s\n", PTOOLS_VERSION) != 0 ||
	    dbuf_printf(&info, "Payload-Oxum: %" PRIu64 ".%" PRIu64 "\n", bag->octets,
			bag->streams) != 0 ||
	    digest_text(bag, &info, hex) != 0 || tag_lines(bag, tagtext, BAGIT_INFO, hex) != 0 ||
	    install_text(copy, bag, &info, BAGIT_INFO) != 0)
		goto out;
	what = "writing bagit.txt";
	if (dbuf_puts(&declaration, "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n") != 0 ||
	    digest_text(bag, &declaration, hex) != 0 ||
	    tag_lines(bag, tagtext, BAGIT_DECLARATION, hex) != 0)
		goto out;
	what = "writing a tag manifest";
	for (size_t j = 0; j < bag->nalgos; j++) {
		tag_name(name, "tagmanifest", bag->algos[j]);
		if (install_text(copy, bag, &tagtext[j], name) != 0)
			goto out;
		if (strcmp(bag->algos[j]->name, "sha256") == 0)
			signed_one = j;
	}
	if (copy_signs(&copy->opt)) {
		what = "signing the tag manifest";
		tag_name(name, "tagmanifest", bag->algos[signed_one]);
		if (sign_tag_manifest(copy, bag, &tagtext[signed_one], name, &why) != 0)
			goto out;
	}
	what = "writing bagit.txt";
	if (install_text(copy, bag, &declaration, BAGIT_DECLARATION) != 0)
		goto out;
	if (copy->opt.force || copy->opt.update)
		remove_stale(bag);
	if (copy->opt.fsync && fsync(bag->rootfd) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		dest_fail(dest, "", 0, why ? EINVAL : errno, why ? why : what);
	dbuf_free(&info);
	dbuf_free(&declaration);
	for (size_t j = 0; j < bag->nalgos; j++)
		dbuf_free(&tagtext[j]);
	return rc;
}

void bagger_undo(struct dest *dest)
{
	struct bagger *bag = dest->bag;

	if (!bag)
		return;
	for (size_t i = bag->ninstalled; i-- > 0;)
		unlinkat(bag->rootfd, bag->installed[i], 0);
	bag->ninstalled = 0;
	if (bag->root_created)
		rmdir(bag->root_path);
}
