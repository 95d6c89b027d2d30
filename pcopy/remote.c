/* SPDX-License-Identifier: 0BSD */
/**
 * Reaching the pcopy on another host the way rsync does: the remote shell
 * (ssh by default) runs `pcopy --server` there, and everything else, paths
 * and options included, travels in frames on its stdin and stdout, so no
 * name ever passes through the remote shell. The first frame each side
 * sends is a greeting; anything else first (a login banner, a shell's
 * "not found") is said as it is, not taken for a frame.
 */
#include "prelude.h"
#include "remote.h"
#include "diag.h"
#include "proto.h"
#include "xio.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

/* Queued frames are written once this much has gathered: little, so that the
 * peer always has work while the frames of the next files are made. */
#define REMOTE_SEND_CHUNK ((size_t)32 << 10)

/*
 * -z: the largest window (2^n bytes) either side uses or accepts, so a
 * hostile peer cannot make the decompressor allocate more; and the level.
 */
#define REMOTE_ZSTD_WINDOW_LOG 23
#define REMOTE_ZSTD_LEVEL 3

struct remote_zstd {
	ZSTD_CCtx *cctx;
	ZSTD_DCtx *dctx;
	unsigned char *in;           /* compressed bytes read, not yet decompressed */
	size_t in_len, in_pos, in_cap;
	unsigned char *out;          /* compressed bytes to write */
	size_t out_cap;
};

/*
 * The remote shells running, for remote_signal_all (a signal handler):
 * lock-free slots, 0 when free.
 */
#define REMOTE_SHELLS_MAX 72
static atomic_int shells[REMOTE_SHELLS_MAX];

static void shell_add(pid_t pid)
{
	for (size_t i = 0; i < REMOTE_SHELLS_MAX; i++) {
		int none = 0;
		if (atomic_compare_exchange_strong(&shells[i], &none, (int)pid))
			return;
	}
}

static void shell_remove(pid_t pid)
{
	for (size_t i = 0; i < REMOTE_SHELLS_MAX; i++) {
		int mine = (int)pid;
		if (atomic_compare_exchange_strong(&shells[i], &mine, 0))
			return;
	}
}

void remote_signal_all(int sig)
{
	for (size_t i = 0; i < REMOTE_SHELLS_MAX; i++) {
		int pid = atomic_load(&shells[i]);
		if (pid > 0)
			kill((pid_t)pid, sig);
	}
}

bool remote_operand(const char *arg)
{
	const char *colon = strchr(arg, ':');

	return colon && colon > arg && memchr(arg, '/', (size_t)(colon - arg)) == NULL;
}

/*
 * Split a remote shell command into words as a shell would, without any
 * expansion: blanks separate, quotes group, a backslash takes the next
 * character. The words go into text, each NUL-terminated, their offsets
 * into offs (at most max), their number into *count. 0, or -1 with errno
 * (E2BIG: too many; EINVAL: an unclosed quote).
 */
static int split_words(const char *cmd, struct dbuf *text, size_t *offs, size_t max, size_t *count)
{
	const char *p = cmd;
	int bad = 0;

	*count = 0;
	for (;;) {
		char quote = 0;
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (*p == '\0')
			return bad ? -1 : 0;
		if (*count == max) {
			errno = E2BIG;
			return -1;
		}
		offs[(*count)++] = text->len;
		for (; *p && (quote || (*p != ' ' && *p != '\t' && *p != '\n')); p++) {
			bool escaped = quote != '\'' && *p == '\\' && p[1] &&
				       (!quote || p[1] == '"' || p[1] == '\\');
			if (escaped) {
				bad |= dbuf_putc(text, *++p);
				continue;
			}
			if (quote ? *p == quote : (*p == '\'' || *p == '"')) {
				quote = quote ? 0 : *p; /* a quote opens or closes */
				continue;
			}
			bad |= dbuf_putc(text, *p);
		}
		if (quote) {
			errno = EINVAL;
			return -1;
		}
		bad |= dbuf_putc(text, '\0');
	}
}

static struct remote *remote_new(int in, int out)
{
	struct remote *remote = calloc(1, sizeof(*remote));

	if (!remote)
		return NULL;
	remote->in = in;
	remote->out = out;
	frame_reader_init(&remote->reader, in);
	pthread_mutex_init(&remote->lock, NULL);
	pthread_mutex_init(&remote->write_lock, NULL);
	pthread_cond_init(&remote->cond, NULL);
	dbuf_init(&remote->sendbuf);
	return remote;
}

static void zstd_free(struct remote_zstd *z)
{
	if (!z)
		return;
	ZSTD_freeCCtx(z->cctx);
	ZSTD_freeDCtx(z->dctx);
	free(z->in);
	free(z->out);
	free(z);
}

static void remote_free(struct remote *remote)
{
	if (!remote)
		return;
	zstd_free(remote->zstd);
	frame_reader_fini(&remote->reader);
	pthread_mutex_destroy(&remote->lock);
	pthread_mutex_destroy(&remote->write_lock);
	pthread_cond_destroy(&remote->cond);
	dbuf_free(&remote->sendbuf);
	free(remote->host);
	free(remote->path);
	free(remote->name);
	free(remote);
}

/* Print bytes from the other side, made printable, after "got '". */
static void say_got(const char *who, const unsigned char *p, size_t len)
{
	char shown[81];
	size_t n = 0;

	while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		len--;
	for (size_t i = 0; i < len && n < sizeof(shown) - 4; i++)
		shown[n++] = p[i] >= 0x20 && p[i] != 0x7f ? (char)p[i] : '?';
	if (n < len)
		memcpy(shown + n, "...", 3), n += 3;
	shown[n] = '\0';
	diag_file_errorf(who, "remote shell is not clean: got '%s' (the remote shell must print "
			 "nothing before pcopy starts)", shown);
}

/* Send our greeting and check the peer's. who names the peer in messages. 0 or -1. */
static int greet(struct remote *remote, const char *who)
{
	struct dbuf out;
	struct frame frame;
	const char *why;
	unsigned version;
	int ret, err;

	dbuf_init(&out);
	ret = proto_put_hello(&out);
	if (ret == 0)
		ret = xwrite(remote->out, out.data, out.len);
	err = errno;
	dbuf_free(&out);
	ret = ret == 0 ? frame_read(&remote->reader, &frame) : -1;
	if (ret == 1 && proto_get_hello(&frame, &version, &why) == 0) {
		if (version != PROTO_VERSION) {
			diag_file_errorf(who, "the pcopy there speaks protocol version %u, this one %u: "
					 "install the same pcopy on both hosts", version, PROTO_VERSION);
			return -1;
		}
		return 0;
	}
	if (ret == 0 || (ret < 0 && errno == EPIPE) || (ret < 0 && err == EPIPE)) {
		size_t len;
		const unsigned char *got = frame_reader_pending(&remote->reader, &len);
		if (len > 0) {
			say_got(who, got, len);
			return -1;
		}
		errno = EPIPE;
		return -2; /* the peer said nothing at all */
	}
	if (ret < 0 && errno != EPROTO) {
		diag_file_error(who, errno);
		return -1;
	}
	{
		size_t len;
		const unsigned char *got = frame_reader_pending(&remote->reader, &len);
		if (ret == 1) {
			/* A whole frame that is not a greeting: show its bytes. */
			got = frame.payload - FRAME_HEADER;
			len = frame.len + FRAME_HEADER;
		}
		say_got(who, got, len);
	}
	return -1;
}

struct remote *remote_start(const char *operand, const struct remote_how *how)
{
	const char *colon = strchr(operand, ':'), *at, *rsh, *prog;
	char *argv[72], *user = NULL;
	size_t offs[64], nrsh = 0, argc = 0;
	struct dbuf words;
	struct remote *remote = NULL;
	int to_peer[2] = { -1, -1 }, from_peer[2] = { -1, -1 }, exec_err[2] = { -1, -1 }, ret, wstatus;
	int child_errno = 0;
	pid_t pid;

	dbuf_init(&words);
	rsh = how->rsh ? how->rsh : getenv("PTOOLS_RSH");
	if (!rsh || !*rsh)
		rsh = "ssh";
	prog = how->remote_pcopy ? how->remote_pcopy : "pcopy";
	remote = remote_new(-1, -1);
	if (!remote || !(remote->host = strndup(operand, (size_t)(colon - operand))) ||
	    !(remote->path = strdup(colon + 1)) || !(remote->name = strdup(operand)))
		goto nomem;
	if (split_words(rsh, &words, offs, 60, &nrsh) != 0 || nrsh == 0) {
		diag_file_errorf(remote->host, "cannot use the remote shell command '%s'", rsh);
		goto fail;
	}
	for (size_t i = 0; i < nrsh; i++)
		argv[argc++] = words.data + offs[i];
	at = strrchr(remote->host, '@');
	if (at) {
		argv[argc++] = "-l";
		argv[argc++] = NULL;
	}
	argv[argc++] = at ? (char *)at + 1 : remote->host;
	argv[argc++] = (char *)prog;
	argv[argc++] = "--server";
	argv[argc] = NULL;
	if (at) {
		user = strndup(remote->host, (size_t)(at - remote->host));
		if (!user)
			goto nomem;
		argv[nrsh + 1] = user;
	}
	/* exec_err's write end closes on a successful exec; else it carries errno. */
	if (pipe2(to_peer, O_CLOEXEC) != 0 || pipe2(from_peer, O_CLOEXEC) != 0 ||
	    pipe2(exec_err, O_CLOEXEC) != 0)
		goto syserr;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		goto syserr;
	if (pid == 0) {
		/* The child: the pipes as stdin and stdout, default SIGPIPE. */
		signal(SIGPIPE, SIG_DFL);
		if (dup2(to_peer[0], STDIN_FILENO) < 0 || dup2(from_peer[1], STDOUT_FILENO) < 0)
			_exit(126);
		execvp(argv[0], argv);
		child_errno = errno;
		if (write(exec_err[1], &child_errno, sizeof(child_errno)) < 0)
			_exit(126);
		_exit(127);
	}
	free(user);
	user = NULL;
	close(to_peer[0]);
	close(from_peer[1]);
	close(exec_err[1]);
	if (xread(exec_err[0], &child_errno, sizeof(child_errno)) != (ssize_t)sizeof(child_errno))
		child_errno = 0;
	close(exec_err[0]);
	remote->pid = pid;
	shell_add(pid);
	remote->out = to_peer[1];
	remote->in = from_peer[0];
	remote->reader.fd = remote->in;
	dbuf_free(&words);
	ret = greet(remote, remote->host);
	if (ret == 0)
		return remote;
	close(remote->out);
	remote->out = -1;
	shell_remove(pid);
	while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	remote->pid = 0;
	if (child_errno != 0)
		diag_file_errorf(rsh, "cannot run the remote shell: %s", strerror(child_errno));
	else if (ret == -2) {
		if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 127)
			diag_file_errorf(remote->host, "pcopy not found on %s (give --remote-pcopy PATH)",
					 remote->host);
		else if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 255)
			diag_file_errorf(remote->host, "the remote shell could not connect (exit 255)");
		else if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 2)
			diag_file_errorf(remote->host, "the pcopy there refused --server (exit 2): it "
					 "may be older than remote copies; give --remote-pcopy PATH");
		else if (WIFEXITED(wstatus))
			diag_file_errorf(remote->host, "the remote side ended before pcopy answered "
					 "(exit %d)", WEXITSTATUS(wstatus));
		else
			diag_file_errorf(remote->host, "the remote shell was killed by signal %d",
					 WTERMSIG(wstatus));
	}
	close(remote->in);
	remote_free(remote);
	return NULL;
syserr:
	diag_file_errorf(remote ? remote->host : operand, "starting the remote shell: %s",
			 strerror(errno));
	goto fail;
nomem:
	diag_file_error(operand, ENOMEM);
fail:
	for (int i = 0; i < 2; i++) {
		if (to_peer[i] >= 0)
			close(to_peer[i]);
		if (from_peer[i] >= 0)
			close(from_peer[i]);
		if (exec_err[i] >= 0)
			close(exec_err[i]);
	}
	free(user);
	dbuf_free(&words);
	remote_free(remote);
	return NULL;
}

struct remote *remote_serve(void)
{
	struct remote *remote = remote_new(STDIN_FILENO, STDOUT_FILENO);

	if (!remote) {
		diag_file_error(NULL, ENOMEM);
		return NULL;
	}
	if (greet(remote, "<client>") != 0) {
		remote_free(remote);
		return NULL;
	}
	return remote;
}

void remote_claim(struct remote *remote, const void *owner)
{
	pthread_mutex_lock(&remote->lock);
	while (remote->owner && remote->owner != owner)
		pthread_cond_wait(&remote->cond, &remote->lock);
	remote->owner = owner;
	pthread_mutex_unlock(&remote->lock);
}

/* Compress len bytes and write them, flushed so the peer can read them all now. */
static int write_compressed(struct remote *remote, const void *data, size_t len)
{
	struct remote_zstd *z = remote->zstd;
	ZSTD_inBuffer in = { data, len, 0 };
	size_t left;

	do {
		ZSTD_outBuffer out = { z->out, z->out_cap, 0 };
		left = ZSTD_compressStream2(z->cctx, &out, &in, ZSTD_e_flush);
		if (ZSTD_isError(left)) {
			errno = EIO;
			return -1;
		}
		if (out.pos > 0 && xwrite(remote->out, z->out, out.pos) != 0)
			return -1;
	} while (left != 0 || in.pos < in.size);
	return 0;
}

/* frame_reader's read_fn under -z: decompressed bytes, as read(2) would give them. */
static ssize_t read_decompressed(void *arg, void *buf, size_t len)
{
	struct remote *remote = arg;
	struct remote_zstd *z = remote->zstd;
	ZSTD_outBuffer out = { buf, len, 0 };

	for (;;) {
		ZSTD_inBuffer in;
		size_t ret;

		if (z->in_pos == z->in_len) {
			ssize_t n = read(remote->in, z->in, z->in_cap);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return n;
			z->in_len = (size_t)n;
			z->in_pos = 0;
		}
		in.src = z->in;
		in.size = z->in_len;
		in.pos = z->in_pos;
		ret = ZSTD_decompressStream(z->dctx, &out, &in);
		z->in_pos = in.pos;
		if (ZSTD_isError(ret)) {
			errno = EPROTO;
			return -1;
		}
		if (out.pos > 0)
			return (ssize_t)out.pos;
	}
}

int remote_compress(struct remote *remote)
{
	struct remote_zstd *z = calloc(1, sizeof(*z));

	if (!z)
		return -1;
	z->cctx = ZSTD_createCCtx();
	z->dctx = ZSTD_createDCtx();
	z->in_cap = ZSTD_DStreamInSize();
	z->out_cap = ZSTD_CStreamOutSize();
	z->in = malloc(z->in_cap);
	z->out = malloc(z->out_cap);
	if (!z->cctx || !z->dctx || !z->in || !z->out ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_compressionLevel, REMOTE_ZSTD_LEVEL)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_windowLog, REMOTE_ZSTD_WINDOW_LOG)) ||
	    ZSTD_isError(ZSTD_DCtx_setParameter(z->dctx, ZSTD_d_windowLogMax, REMOTE_ZSTD_WINDOW_LOG))) {
		zstd_free(z);
		errno = ENOMEM;
		return -1;
	}
	pthread_mutex_lock(&remote->write_lock);
	remote->zstd = z;
	pthread_mutex_unlock(&remote->write_lock);
	remote->reader.read_fn = read_decompressed;
	remote->reader.read_arg = remote;
	return 0;
}

/* Write whole frames to the peer; a failure marks the connection broken. */
static int send_out(struct remote *remote, const void *data, size_t len)
{
	int ret = -1, err = EPIPE;

	pthread_mutex_lock(&remote->write_lock);
	if (!remote->broken) {
		ret = remote->zstd ? write_compressed(remote, data, len)
				   : xwrite(remote->out, data, len);
		err = errno;
		if (ret != 0)
			remote->broken = true;
	}
	pthread_mutex_unlock(&remote->write_lock);
	errno = err;
	return ret;
}

int remote_send_now(struct remote *remote, const void *data, size_t len)
{
	return send_out(remote, data, len);
}

int remote_flush(struct remote *remote)
{
	int ret = 0;

	if (remote->sendbuf.len > 0)
		ret = send_out(remote, remote->sendbuf.data, remote->sendbuf.len);
	dbuf_clear(&remote->sendbuf);
	return ret;
}

int remote_put(struct remote *remote, const void *data, size_t len)
{
	if (remote->sendbuf.len + len <= REMOTE_SEND_CHUNK)
		return dbuf_append(&remote->sendbuf, data, len);
	if (remote_flush(remote) != 0)
		return -1;
	if (len >= REMOTE_SEND_CHUNK)
		return send_out(remote, data, len);
	return dbuf_append(&remote->sendbuf, data, len);
}

int remote_release(struct remote *remote)
{
	pthread_mutex_lock(&remote->lock);
	remote->owner = NULL;
	pthread_cond_broadcast(&remote->cond);
	pthread_mutex_unlock(&remote->lock);
	return 0;
}

int remote_send(struct remote *remote, const struct dbuf *frames, bool queue)
{
	int ret;

	remote_claim(remote, frames);
	ret = remote_put(remote, frames->data, frames->len);
	if (ret == 0 && !queue)
		ret = remote_flush(remote);
	remote_release(remote);
	return ret;
}

int remote_read(struct remote *remote, struct frame *frame)
{
	for (;;) {
		const char *text, *why;
		size_t len;
		int ret = frame_read(&remote->reader, frame);

		if (ret <= 0 || frame->type != PROTO_MSG)
			return ret;
		if (proto_get_text(frame, &text, &len, &why) != 0) {
			errno = EPROTO;
			return -1;
		}
		{
			/* One line, printable: the peer's words cannot forge ours. */
			char *line = remote_printable(text, len);
			if (!line)
				continue;
			line[len] = '\n';
			{
				ssize_t ignored = write(STDERR_FILENO, line, len + 1);
				(void)ignored;
			}
			free(line);
		}
	}
}

char *remote_printable(const char *text, size_t len)
{
	char *shown = malloc(len + 2);

	if (!shown)
		return NULL;
	for (size_t i = 0; i < len; i++)
		shown[i] = (unsigned char)text[i] >= 0x20 && text[i] != 0x7f ? text[i] : '?';
	shown[len] = '\0';
	return shown;
}

int remote_close(struct remote *remote)
{
	int wstatus = 0, status = 0;

	if (!remote)
		return 0;
	if (remote->out >= 0 && remote->pid > 0)
		close(remote->out);
	if (remote->in >= 0 && remote->pid > 0)
		close(remote->in);
	if (remote->pid > 0) {
		shell_remove(remote->pid);
		while (waitpid(remote->pid, &wstatus, 0) < 0 && errno == EINTR)
			;
		status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
	}
	remote_free(remote);
	return status;
}
