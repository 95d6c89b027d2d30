/* SPDX-License-Identifier: 0BSD */
#include "prelude.h"
#include "sealsign.h"
#include "dbuf.h"
#include "xio.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* NAME + suffix into out. 0 or -1 (ENAMETOOLONG). */
static int name_with(char *out, size_t size, const char *name, const char *suffix)
{
	int n = snprintf(out, size, "%s%s", name, suffix);

	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int sealsign_prepare(const struct signkey *sk, int dirfd, int fd, const char *name,
		     const char **why)
{
	unsigned char digest[SSHSIG_DIGEST_LEN];
	char temp[NAME_MAX + 1];
	struct dbuf text;
	int out = -1, rc = -1;

	*why = NULL;
	dbuf_init(&text);
	if (name_with(temp, sizeof(temp), name, SSHSIG_SUFFIX ".tmp") != 0 ||
	    signkey_digest_fd(fd, digest) != 0 ||
	    sshsig_sign(&sk->key, sk->agent_socket, SSHSIG_NAMESPACE, digest, &text, why) != 0)
		goto done;
	*why = NULL;
	(void)unlinkat(dirfd, temp, 0);
	out = openat(dirfd, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (out < 0 || xwrite(out, text.data, text.len) != 0 || fsync(out) != 0)
		goto done;
	rc = 0;
done:
	if (out >= 0 && close(out) != 0 && rc == 0)
		rc = -1;
	if (rc != 0 && out >= 0)
		(void)unlinkat(dirfd, temp, 0);
	dbuf_free(&text);
	return rc;
}

int sealsign_install(int dirfd, const char *name)
{
	char temp[NAME_MAX + 1], sig[NAME_MAX + 1];

	if (name_with(temp, sizeof(temp), name, SSHSIG_SUFFIX ".tmp") != 0 ||
	    name_with(sig, sizeof(sig), name, SSHSIG_SUFFIX) != 0)
		return -1;
	return renameat(dirfd, temp, dirfd, sig);
}

void sealsign_abandon(int dirfd, const char *name)
{
	char temp[NAME_MAX + 1];

	if (name_with(temp, sizeof(temp), name, SSHSIG_SUFFIX ".tmp") == 0)
		(void)unlinkat(dirfd, temp, 0);
}

int sealsign_drop(int dirfd, const char *name)
{
	char sig[NAME_MAX + 1];
	struct stat st;

	if (name_with(sig, sizeof(sig), name, SSHSIG_SUFFIX) != 0)
		return -1;
	if (fstatat(dirfd, sig, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISREG(st.st_mode))
		return 0;
	return unlinkat(dirfd, sig, 0);
}
