/* SPDX-License-Identifier: 0BSD */
/**
 * A destination on another host. Every step the engine takes for a local
 * destination becomes a frame to the pcopy there, which takes the step
 * itself, beneath its own root, with its own journal, temporaries, --verify
 * and seal: nothing a local destination promises depends on this side.
 *
 * Frames go out with no round trip per file: a small file's frames are
 * gathered in its fileop and queued whole when it ends; a large file holds
 * the connection from its first full buffer to its end, so a file's frames
 * always arrive together. A thread per destination listens to what comes
 * back (messages, printed as they come; the destination's failure; the
 * outcome).
 */
#include "prelude.h"
#include "rdest.h"
#include "destdir.h"
#include "diag.h"
#include "exclude.h"
#include "mhlcarry.h"
#include "proto.h"
#include "rdelta.h"
#include "record.h"
#include "signer.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A large file's frames are queued once this much has gathered. */
#define RDEST_FILE_CHUNK ((size_t)1 << 20)

struct rdest {
	struct remote *remote;
	struct copy *copy;
	bool started;                /* we started the remote side (not the server's own peer) */
	pthread_t listener;
	bool listening;
	pthread_mutex_t lock;        /* guards the rest */
	pthread_cond_t cond;
	bool done, lost;
	bool committed;              /* COMMIT is going out: SIGN may come */
	struct proto_done result;
	char *why;
	/* Remote delta (rdelta.h): the file that asked, while it holds the connection. */
	struct rdelta_peer *delta;   /* the hashes coming back */
	const struct fileop *asking; /* NULL: none */
	int mode;                    /* DELTA_ASKED, DELTA_WHOLE or DELTA_BLOCKS */
	size_t block;
	uint64_t index;              /* the next block's */
	unsigned char *part;         /* a block being gathered (block bytes) */
	size_t part_len, part_cap;
	uint64_t same_at, same_len;  /* the SAME run not sent yet */
	struct dbuf data;            /* or the run of differing blocks not sent yet */
	unsigned signed_kinds;       /* the listener's: a bit per proto_sign_what answered */
};

enum { DELTA_ASKED, DELTA_WHOLE, DELTA_BLOCKS };

/*
 * A write to the remote side failed: the connection is gone. Said once, at
 * the end (rdest_finish); errno ECANCELED keeps the engine from saying it
 * per file.
 */
static void lost(struct dest *dest)
{
	static const char why[] = "the connection was lost";

	dest_fail_said(dest, why, sizeof(why) - 1);
	errno = ECANCELED;
}

/* dest_each_xattr's fn: add the attribute to a blob. */
static int put_xattr(void *arg, const char *name, const void *value, size_t len)
{
	return proto_xattr_put(arg, name, value, len);
}

/* An entry frame for rel (st) appended to out, with xattr_fd's xattrs (-p; or -1). 0 or -1. */
static int put_entry(struct dbuf *out, unsigned type, const char *rel, size_t len,
		     const struct stat *st, const char *target, int xattr_fd)
{
	struct proto_entry entry;
	struct dbuf xattrs;
	int ret = 0;

	memset(&entry, 0, sizeof(entry));
	dbuf_init(&xattrs);
	entry.rel = rel;
	entry.rel_len = len;
	entry.st = *st;
	entry.target = target;
	entry.target_len = target ? strlen(target) : 0;
	if (xattr_fd >= 0)
		ret = dest_each_xattr(xattr_fd, put_xattr, &xattrs);
	entry.xattrs = (const unsigned char *)xattrs.data;
	entry.xattrs_len = xattrs.len;
	if (ret == 0)
		ret = proto_put_entry(out, type, &entry);
	dbuf_free(&xattrs);
	return ret;
}

/* Send one entry's frame now (claiming the connection for it). */
static void send_entry(struct dest *dest, unsigned type, const char *rel, size_t len,
		       const struct stat *st, const char *target, int xattr_fd)
{
	struct dbuf out;

	if (!dest_ok(dest))
		return;
	dbuf_init(&out);
	if (put_entry(&out, type, rel, len, st, target, xattr_fd) != 0)
		dest_fail(dest, rel, len, errno, NULL);
	else if (remote_send(dest->rdest->remote, &out, true) != 0)
		lost(dest);
	dbuf_free(&out);
}

/*
 * A single file's record from the remote side: printed once it is checked
 * to be one record (a peer's words never reach stdout unparsed). 0 or -1.
 */
static int say_record(const char *text, size_t len)
{
	struct rec rec;
	struct dbuf line;
	const char *why;
	int ret = -1;

	rec_init(&rec);
	dbuf_init(&line);
	if (rec_parse(&rec, text, len, &why) == REC_ENTRY && !rec.plain &&
	    rec_format(&rec, &line) == 0) {
		fwrite(line.data, 1, line.len, stdout);
		ret = 0;
	}
	rec_free(&rec);
	dbuf_free(&line);
	return ret;
}

/* The seals (a bit per proto_sign_what) a run with opt writes in each destination. */
static unsigned sign_kinds(const struct copy_options *opt)
{
	if (opt->no_seal)
		return 0;
	if (opt->bag)
		return 1u << PROTO_SIGN_TAG_MANIFEST;
	return 1u << PROTO_SIGN_SEAL | (opt->mhl ? 1u << PROTO_SIGN_CHAIN : 0);
}

/*
 * SIGN (PROTOCOL.md 4.10): the remote side seals and asks for its seal's
 * signature; the key never leaves this side. Answered only with --sign,
 * only after COMMIT went out (before it the remote side has nothing to
 * seal), and once for each seal the run writes there: so a peer gets no
 * more signatures than a local run would make. A key that cannot sign
 * (the agent refused) is answered with the reason. Returns 0, or -1 with
 * *why when the request is malformed or out of place.
 */
static int answer_sign(struct dest *dest, const struct frame *frame, const char **why)
{
	struct rdest *rd = dest->rdest;
	const struct copy_options *opt = &rd->copy->opt;
	const unsigned char *digest;
	const char *reason = NULL;
	struct dbuf armored, out;
	unsigned what;
	bool committed;
	int ret, signed_ok;

	if (proto_get_sign(frame, &what, &digest, why) != 0)
		return -1;
	pthread_mutex_lock(&rd->lock);
	committed = rd->committed;
	pthread_mutex_unlock(&rd->lock);
	if (!opt->sign_key || !committed || (rd->signed_kinds & 1u << what) ||
	    !(sign_kinds(opt) & 1u << what)) {
		*why = "a signing request out of place";
		return -1;
	}
	rd->signed_kinds |= 1u << what;
	dbuf_init(&armored);
	dbuf_init(&out);
	signed_ok = copy_sign(rd->copy, what, digest, &armored, &reason) == 0;
	if (!signed_ok && !reason)
		reason = strerror(errno);
	ret = signed_ok ? proto_put_signature(&out, armored.data, armored.len, NULL, 0)
			: proto_put_signature(&out, NULL, 0, reason, strlen(reason));
	/* A failed write: the remote side is gone, and its end of input comes next. */
	if (ret == 0)
		remote_send_now(rd->remote, out.data, out.len);
	dbuf_free(&armored);
	dbuf_free(&out);
	return 0;
}

/* The listener: what the remote side says, until it is done or gone. */
static void *listen_remote(void *arg)
{
	struct dest *dest = arg;
	struct rdest *rd = dest->rdest;
	struct frame frame;
	const char *text, *why;
	size_t len;

	for (;;) {
		int ret = remote_read(rd->remote, &frame);
		if (ret <= 0)
			break;
		ret = rd->delta ? rdelta_peer_frame(rd->delta, &frame, &why) : 0;
		if (ret > 0)
			continue;
		if (ret < 0) {
			diag_file_errorf(dest->path, "a malformed message from the remote side: %s", why);
			break;
		}
		if (frame.type == PROTO_FAILED && proto_get_text(&frame, &text, &len, &why) == 0) {
			char *shown = remote_printable(text, len);
			dest_fail_said(dest, shown ? shown : "failed", shown ? len : 6);
			free(shown);
			continue;
		}
		if (frame.type == PROTO_SIGN_ASK) {
			if (answer_sign(dest, &frame, &why) == 0)
				continue;
			diag_file_errorf(dest->path, "a malformed message from the remote side: %s", why);
			break;
		}
		if (frame.type == PROTO_RECORD && proto_get_text(&frame, &text, &len, &why) == 0 &&
		    memchr(text, '\n', len) == NULL && say_record(text, len) == 0)
			continue;
		if (frame.type == PROTO_DONE && proto_get_done(&frame, &rd->result, &why) == 0) {
			pthread_mutex_lock(&rd->lock);
			rd->why = remote_printable(rd->result.why ? rd->result.why : "", rd->result.why_len);
			rd->done = true;
			pthread_cond_broadcast(&rd->cond);
			pthread_mutex_unlock(&rd->lock);
			if (rd->delta)
				rdelta_peer_gone(rd->delta);
			return NULL;
		}
		diag_file_errorf(dest->path, "a malformed message from the remote side");
		break;
	}
	lost(dest);
	if (rd->delta)
		rdelta_peer_gone(rd->delta);
	pthread_mutex_lock(&rd->lock);
	rd->lost = true;
	pthread_cond_broadcast(&rd->cond);
	pthread_mutex_unlock(&rd->lock);
	return NULL;
}

size_t rdest_check_algo(const struct hash_algo **algos, size_t *count)
{
	const struct hash_algo *check = hash_lookup(PROTO_CHECK_ALGO);

	for (size_t i = 0; i < *count; i++)
		if (algos[i] == check)
			return i;
	PT_ASSERT(*count < HASH_SET_MAX);
	algos[*count] = check;
	return (*count)++;
}

/*
 * A pull's exclude set into setup (PROTO_EXCLUDE), its patterns as given
 * gathered in patterns. 0 or -1 (ENOMEM).
 */
static int ask_exclude(struct proto_setup *setup, const struct exclude *set, struct dbuf *patterns)
{
	for (size_t i = 0; i < set->n; i++)
		if (dbuf_append(patterns, set->rules[i].given, strlen(set->rules[i].given) + 1) != 0)
			return -1;
	setup->flags |= PROTO_EXCLUDE;
	setup->excludes = patterns->data;
	setup->nexcludes = (uint32_t)set->n;
	return 0;
}

int rdest_ask(struct remote *remote, const struct copy_options *opt, unsigned role, bool *single)
{
	struct proto_setup setup;
	struct proto_done result;
	struct dbuf algos, patterns, out;
	struct frame frame;
	const char *why;
	bool is_single = false;
	int ret = 0;

	dbuf_init(&algos);
	dbuf_init(&patterns);
	dbuf_init(&out);
	memset(&setup, 0, sizeof(setup));
	setup.role = role;
	setup.path = remote->path;
	setup.host = remote->host;
	setup.flags = (opt->force ? PROTO_FORCE : 0) | (opt->update ? PROTO_UPDATE : 0) |
		      (opt->fsync ? PROTO_FSYNC : 0) | (opt->verify ? PROTO_VERIFY : 0) |
		      (opt->preserve ? PROTO_PRESERVE : 0) | (opt->hard_links ? PROTO_HARD_LINKS : 0) |
		      (opt->keep_going ? PROTO_KEEP_GOING : 0) | (opt->compress ? PROTO_COMPRESS : 0) |
		      (opt->delta ? PROTO_DELTA : 0) | (opt->whole_file ? PROTO_WHOLE_FILE : 0) |
		      (opt->inplace ? PROTO_INPLACE : 0) | (opt->mhl ? PROTO_MHL : 0) |
		      (opt->bag ? PROTO_BAG : 0);
	/* Pushing with --sign: the remote side's seals are signed here (PROTOCOL.md 4.10). */
	if (role == ROLE_RECEIVE && opt->sign_key)
		setup.flags |= PROTO_SIGN;
	setup.block_size = (uint32_t)opt->block_size;
	/* The run's block-hash key, the client's for both directions (rdelta.c). */
	if (rdelta_new_key(remote->delta_key) != 0) {
		diag_file_error(remote->name, errno);
		return -1;
	}
	memcpy(setup.key, remote->delta_key, sizeof(setup.key));
	setup.seal_name = opt->seal_name ? opt->seal_name : SEAL_DEFAULT_NAME;
	setup.readers = opt->readers;
	if (role == ROLE_SEND || (role == ROLE_RECEIVE && opt->single_source)) {
		setup.flags |= PROTO_SINGLE;
		setup.single_name = role == ROLE_RECEIVE ? opt->single_source : "";
		if (opt->no_seal)
			setup.seal_name = ""; /* a single file, sealed only when asked */
	}
	/* The run's algorithms, as -a takes them. */
	for (size_t i = 0; ret == 0 && i < opt->nalgos; i++)
		ret = (i > 0 && dbuf_putc(&algos, ',') != 0) || dbuf_puts(&algos, opt->algos[i]->name) != 0
			      ? -1 : 0;
	setup.algos = algos.data ? algos.data : "sha256";
	/* main bounds the set (PROTO_EXCLUDE_MAX, PROTO_EXCLUDE_LEN_MAX). */
	if (ret == 0 && role == ROLE_SEND && opt->exclude_travels && opt->exclude)
		ret = ask_exclude(&setup, opt->exclude, &patterns);
	if (ret == 0)
		ret = proto_put_setup(&out, &setup);
	if (ret == 0)
		ret = remote_send(remote, &out, false);
	if (ret == 0 && opt->compress)
		ret = remote_compress(remote);
	dbuf_free(&algos);
	dbuf_free(&patterns);
	dbuf_free(&out);
	if (ret != 0) {
		diag_file_error(remote->name, errno);
		return -1;
	}
	ret = remote_read(remote, &frame);
	if (ret == 1 && frame.type == PROTO_READY &&
	    proto_get_ready(&frame, (setup.flags & PROTO_SINGLE) ? &is_single : NULL, &why) == 0) {
		if (single)
			*single = is_single;
		return 0;
	}
	if (ret == 1 && frame.type == PROTO_DONE && proto_get_done(&frame, &result, &why) == 0)
		return -1; /* the remote side said why */
	diag_file_errorf(remote->name, "%s", ret == 0 ? "the remote side ended before it was ready"
						    : "a malformed message from the remote side");
	return -1;
}

void rdest_setup(struct copy *copy, struct dest *dest, struct remote *peer)
{
	struct rdest *rd = calloc(1, sizeof(*rd));
	static const char unreachable[] = "could not be reached";
	static const char refused[] = "the remote side did not start the copy (its reason is above)";

	dest->rdest = rd;
	if (!rd) {
		dest_fail(dest, "", 0, ENOMEM, NULL);
		return;
	}
	pthread_mutex_init(&rd->lock, NULL);
	pthread_cond_init(&rd->cond, NULL);
	dbuf_init(&rd->data);
	rd->copy = copy;
	rd->remote = peer;
	if (!peer) {
		rd->remote = remote_start(dest->path, &copy->opt.how);
		rd->started = rd->remote != NULL;
		if (!rd->remote) {
			dest_fail_said(dest, unreachable, sizeof(unreachable) - 1);
			return;
		}
		if (rdest_ask(rd->remote, &copy->opt, ROLE_RECEIVE, NULL) != 0) {
			dest_fail_said(dest, refused, sizeof(refused) - 1);
			return;
		}
	}
	rd->delta = rdelta_peer_new(rd->remote);
	if (!rd->delta) {
		dest_fail(dest, "", 0, ENOMEM, NULL);
		return;
	}
	if (pthread_create(&rd->listener, NULL, listen_remote, dest) != 0) {
		dest_fail(dest, "", 0, errno, "starting a thread");
		return;
	}
	rd->listening = true;
}

/* rdest_history's: the file in progress, and what became of the connection. */
struct history_out {
	struct dest *dest;
	const char *name;
	struct dbuf out;
	bool sent;                   /* a piece of this file went out */
	bool lost;
};

/* One piece of the file in progress (mhlcarry_read's fn) as a HISTORY frame. 0 or -1. */
static int history_piece(void *arg, const void *data, size_t len)
{
	struct history_out *h = arg;

	dbuf_clear(&h->out);
	if (proto_put_history(&h->out, h->name, strlen(h->name), data, len) != 0)
		return -1;
	h->sent = true;
	if (remote_send(h->dest->rdest->remote, &h->out, true) != 0) {
		h->lost = true;
		return -1;
	}
	return 0;
}

void rdest_history(struct copy *copy, struct dest *dest, const struct mhlcarry *carry,
		   const char *src)
{
	struct history_out h = {.dest = dest};
	struct dbuf path;

	dbuf_init(&h.out);
	dbuf_init(&path);
	for (size_t i = 0; i <= carry->chain.n && dest_ok(dest); i++) {
		h.name = i == 0 ? MHL2_CHAIN_NAME : carry->chain.links[i - 1].path;
		h.sent = false;
		/* An empty file still goes out, as one empty piece. */
		if (mhlcarry_read(carry, i == 0 ? MHLCARRY_CHAIN : i - 1, history_piece, &h) == 0 &&
		    (h.sent || history_piece(&h, "", 0) == 0))
			continue;
		if (h.lost) {
			lost(dest);
		} else {
			int err = errno;

			dbuf_printf(&path, "%s/%s/%s", src, MHL2_DIR_NAME, h.name);
			stop_run_why(copy, STOP_SOURCE, path.data ? path.data : src, err,
				     err == EBADMSG ? "changed during the run: the history cannot be "
						      "carried" : NULL);
		}
		goto out;
	}
	h.name = "";
	if (dest_ok(dest) && history_piece(&h, "", 0) != 0)
		lost(dest);
out:
	dbuf_free(&h.out);
	dbuf_free(&path);
}

void rdest_root(struct dest *dest, const struct stat *st)
{
	send_entry(dest, PROTO_ROOT, "", 0, st, NULL, -1);
}

void rdest_dir(struct copy *copy, struct dest *dest, const char *rel, size_t len,
	       const struct stat *st, int srcfd)
{
	send_entry(dest, PROTO_DIR, rel, len, st, NULL, copy->opt.preserve ? srcfd : -1);
}

void rdest_node(struct dest *dest, const char *rel, size_t len, const struct stat *st,
		const char *target)
{
	send_entry(dest, PROTO_NODE, rel, len, st, target, -1);
}

/* Queue op's gathered frames, holding the connection until the file ends. */
static int file_flush(struct fileop *op)
{
	struct remote *remote = op->dest->rdest->remote;
	int ret;

	if (!op->claimed) {
		remote_claim(remote, op);
		op->claimed = true;
	}
	ret = remote_put(remote, op->rbuf.data, op->rbuf.len);
	dbuf_clear(&op->rbuf);
	if (ret != 0)
		lost(op->dest);
	return ret;
}

/* Give the connection up after op's last frame. */
static void file_release(struct fileop *op)
{
	op->claimed = false;
	remote_release(op->dest->rdest->remote);
}

/* Write out everything of op's file queued so far (before waiting for an answer). 0 or -1. */
static int file_push(void *arg)
{
	struct fileop *op = arg;

	if (file_flush(op) != 0)
		return -1;
	if (remote_flush(op->dest->rdest->remote) != 0) {
		lost(op->dest);
		return -1;
	}
	return 0;
}

int rdest_file_start(struct fileop *op, struct task *task)
{
	struct copy *copy = op->reader->worker.copy;
	struct rdest *rd = op->dest->rdest;

	dbuf_clear(&op->rbuf);
	op->claimed = false;
	if (put_entry(&op->rbuf, PROTO_FILE, task->rel, task->rel_len, &task->st, NULL,
		      copy->opt.preserve ? task->srcfd : -1) != 0) {
		dest_fail(op->dest, task->rel, task->rel_len, errno, NULL);
		return -1;
	}
	if (!rd->delta || !rdelta_eligible(&copy->opt, (uint64_t)task->st.st_size))
		return 0;
	/*
	 * The receiver answers (PROTOCOL.md 4.7): FILE goes out now, holding the
	 * connection, and the answer is awaited at the first block, after the
	 * first read: the round trip overlaps it.
	 */
	remote_claim(rd->remote, op);
	op->claimed = true;
	rdelta_expect(rd->delta, (uint64_t)task->st.st_size);
	rd->asking = op;
	rd->mode = DELTA_ASKED;
	rd->index = 0;
	rd->part_len = 0;
	rd->same_len = 0;
	dbuf_clear(&rd->data);
	if (file_push(op) != 0) {
		rdelta_done(rd->delta, false);
		rd->asking = NULL;
		file_release(op);
		return -1;
	}
	return 0;
}

/*
 * Progress: a remote lane counts the file's bytes that went out; the bytes
 * the receiver had already (SAME) come off its expected total instead.
 */
static void count_sent(struct fileop *op, uint64_t sent, uint64_t same)
{
	struct copy *copy = op->reader->worker.copy;
	size_t lane = (size_t)(op - op->reader->ops);

	if (sent > 0)
		progress_add(copy->progress, lane, 0, sent);
	if (same > 0)
		progress_expect(copy->progress, lane, 0, (uint64_t)0 - same);
}

/* Send the SAME run held back, if any. 0 or -1. */
static int put_same(struct fileop *op)
{
	struct rdest *rd = op->dest->rdest;

	if (rd->same_len == 0)
		return 0;
	if (proto_put_same(&op->rbuf, rd->same_at, rd->same_len) != 0)
		return -1;
	count_sent(op, 0, rd->same_len);
	rd->same_len = 0;
	return 0;
}

/* Send the run of differing blocks held back, if any, as one DATA. 0 or -1. */
static int put_data(struct fileop *op)
{
	struct rdest *rd = op->dest->rdest;

	if (rd->data.len == 0)
		return 0;
	if (proto_put_data(&op->rbuf, rd->data.data, rd->data.len) != 0)
		return -1;
	count_sent(op, rd->data.len, 0);
	dbuf_clear(&rd->data);
	return op->rbuf.len >= RDEST_FILE_CHUNK ? file_flush(op) : 0;
}

/* rdelta_same's ready: before waiting for a hash, everything of the file so far goes out. */
static int delta_push(void *arg)
{
	struct fileop *op = arg;

	return put_data(op) == 0 ? file_push(op) : -1;
}

/*
 * One block of a delta (len bytes; only the last may be short): added to
 * the SAME run or to the DATA run held back, each sent when the other kind
 * of block comes, when it is long enough, or before a wait.
 */
static int delta_block(struct fileop *op, const unsigned char *data, size_t len)
{
	struct rdest *rd = op->dest->rdest;
	uint64_t index = rd->index++;
	int same = rdelta_same(rd->delta, index, data, len, delta_push, op);

	if (same < 0) {
		lost(op->dest);
		return -1;
	}
	if (same) {
		if (put_data(op) != 0)
			return -1;
		if (rd->same_len == 0)
			rd->same_at = index * rd->block;
		rd->same_len += len;
		if (rd->same_len < (uint64_t)RDELTA_RUN_MAX * rd->block)
			return 0;
		/* Out at once: the receiver's progress through the file opens its window. */
		return put_same(op) == 0 ? file_push(op) : -1;
	}
	/* DATA stays within 1 MiB, as a whole file's (a block is at most that). */
	if (put_same(op) != 0 || (rd->data.len + len > RDEST_FILE_CHUNK && put_data(op) != 0) ||
	    dbuf_append(&rd->data, data, len) != 0)
		return -1;
	return 0;
}

/* The file's next len bytes, by delta: cut into blocks. 0 or -1. */
static int delta_bytes(struct fileop *op, const unsigned char *data, size_t len)
{
	struct rdest *rd = op->dest->rdest;

	while (len > 0) {
		if (rd->part_len == 0 && len >= rd->block) {
			if (delta_block(op, data, rd->block) != 0)
				return -1;
			data += rd->block;
			len -= rd->block;
			continue;
		}
		{
			size_t take = rd->block - rd->part_len < len ? rd->block - rd->part_len : len;
			memcpy(rd->part + rd->part_len, data, take);
			rd->part_len += take;
			data += take;
			len -= take;
		}
		if (rd->part_len == rd->block) {
			rd->part_len = 0;
			if (delta_block(op, rd->part, rd->block) != 0)
				return -1;
		}
	}
	return 0;
}

/* The receiver's answer to op's FILE, at its first block. 0 or -1. */
static int take_answer(struct fileop *op)
{
	struct rdest *rd = op->dest->rdest;
	size_t block;
	int ret = rdelta_answer(rd->delta, &block);

	if (ret < 0) {
		lost(op->dest);
		return -1;
	}
	rd->mode = ret ? DELTA_BLOCKS : DELTA_WHOLE;
	if (!ret)
		return 0;
	rd->block = block;
	if (rd->part_cap < block) {
		unsigned char *grown = realloc(rd->part, block);
		if (!grown)
			return -1;
		rd->part = grown;
		rd->part_cap = block;
	}
	return 0;
}

int rdest_file_block(struct fileop *op, const void *data, size_t len)
{
	struct rdest *rd = op->dest->rdest;
	const unsigned char *p = data;

	/* asking is the claim holder's: an op without the claim never is it. */
	if (op->claimed && rd->asking == op) {
		if (rd->mode == DELTA_ASKED && take_answer(op) != 0)
			return -1;
		if (rd->mode == DELTA_BLOCKS)
			return delta_bytes(op, p, len);
	}
	while (len > 0) {
		size_t n = len < RDEST_FILE_CHUNK ? len : RDEST_FILE_CHUNK;
		if (proto_put_data(&op->rbuf, p, n) != 0)
			return -1;
		count_sent(op, n, 0);
		p += n;
		len -= n;
		if (op->rbuf.len >= RDEST_FILE_CHUNK && file_flush(op) != 0)
			return -1;
	}
	return 0;
}

/*
 * The file that asked is over: its answer taken (waited for when sent: the
 * FILE went out), its hashes no longer wanted.
 */
static void delta_over(struct fileop *op, bool sent)
{
	struct rdest *rd = op->dest->rdest;

	if (!op->claimed || rd->asking != op)
		return;
	rdelta_done(rd->delta, sent);
	rd->asking = NULL;
}

int rdest_file_end(struct fileop *op, char hex[][HASH_HEX_MAX + 1])
{
	struct rdest *rd = op->dest->rdest;
	struct copy *copy = op->reader->worker.copy;
	int ret;

	if (op->claimed && rd->asking == op && rd->mode == DELTA_BLOCKS) {
		size_t part = rd->part_len;
		rd->part_len = 0;
		if ((part > 0 && delta_block(op, rd->part, part) != 0) || put_same(op) != 0 ||
		    put_data(op) != 0)
			return -1; /* dropped: rdest_file_drop */
	}
	if (proto_put_end(&op->rbuf, hex, copy->opt.nalgos, hex[copy->check_algo]) != 0)
		return -1;
	ret = file_flush(op);
	delta_over(op, ret == 0);
	file_release(op);
	return ret;
}

void rdest_file_drop(struct fileop *op)
{
	dbuf_clear(&op->rbuf);
	if (!op->claimed)
		return; /* nothing of it was sent */
	if (proto_put_text(&op->rbuf, PROTO_ABORT, NULL, 0) == 0)
		file_flush(op);
	dbuf_clear(&op->rbuf);
	/* A broken connection's peer is gone: its end of input comes, and with it "gone". */
	delta_over(op, true);
	file_release(op);
}

int rdest_link(struct fileop *op, struct task *task)
{
	struct dbuf out;
	int ret;

	dbuf_init(&out);
	ret = put_entry(&out, PROTO_LINK, task->rel, task->rel_len, &task->st, NULL, -1);
	if (ret == 0 && remote_send(op->dest->rdest->remote, &out, true) != 0) {
		lost(op->dest);
		ret = -1;
	}
	dbuf_free(&out);
	return ret;
}

int rdest_finish(struct copy *copy, struct dest *dest, bool all_back, const char *why)
{
	struct rdest *rd = dest->rdest;
	struct dbuf out;
	bool interrupted = copy->opt.interrupted && atomic_load(copy->opt.interrupted);
	bool commit = !all_back && dest_ok(dest);
	int status = EXIT_FAILED;

	if (!rd)
		return EXIT_FAILED;
	if (rd->listening) {
		bool sent;

		dbuf_init(&out);
		pthread_mutex_lock(&rd->lock);
		rd->committed = commit;
		pthread_mutex_unlock(&rd->lock);
		/* A sending server's note would come after the client's DONE: said now. */
		if (commit && copy->opt.server)
			copy_say_excluded(copy);
		if (commit)
			proto_put_commit(&out, atomic_load(&copy->left_out));
		else
			proto_put_text(&out, PROTO_CANCEL, why ? why : "", why ? strlen(why) : 0);
		remote_claim(rd->remote, &out);
		sent = remote_put(rd->remote, out.data, out.len) == 0 && remote_flush(rd->remote) == 0;
		remote_release(rd->remote);
		dbuf_free(&out);
		pthread_mutex_lock(&rd->lock);
		while (!rd->done && !rd->lost)
			pthread_cond_wait(&rd->cond, &rd->lock);
		pthread_mutex_unlock(&rd->lock);
		pthread_join(rd->listener, NULL);
		if (rd->done)
			status = (int)rd->result.status;
		else if (commit && sent)
			diag_file_errorf(dest->path, "failed: the connection was lost after everything was "
					 "sent, before the remote side said how it ended: it seals the copy "
					 "if it received all of it, else rolls it back by itself (pverify "
					 "the seal there; if the remote pcopy was killed, pcopy --rollback "
					 "%s finishes the undo)", dest->path);
		else if (!interrupted)
			diag_file_errorf(dest->path, "failed: the connection was lost before the remote "
					 "side finished (it rolls back by itself; if it was killed, "
					 "pcopy --rollback %s finishes the undo)", dest->path);
		if (status != 0)
			dest_fail_said(dest, rd->why ? rd->why : "failed", rd->why ? strlen(rd->why) : 6);
	} else {
		/* Never reached or never ready: the summary line a local one gets. */
		pthread_mutex_lock(&dest->lock);
		diag_file_errorf(dest->path, "failed (nothing was changed): %s",
				 dest->why ? dest->why : "out of memory");
		pthread_mutex_unlock(&dest->lock);
	}
	if (rd->started)
		remote_close(rd->remote);
	pthread_mutex_destroy(&rd->lock);
	pthread_cond_destroy(&rd->cond);
	free(rd->why);
	rdelta_peer_free(rd->delta);
	free(rd->part);
	dbuf_free(&rd->data);
	free(rd);
	dest->rdest = NULL;
	return status;
}

int rdest_rollback(const char *operand, const struct remote_how *how)
{
	struct copy_options opt;
	struct remote *remote = remote_start(operand, how);
	struct proto_done result;
	struct frame frame;
	const char *why;
	int ret;

	if (!remote)
		return -1;
	memset(&opt, 0, sizeof(opt));
	ret = rdest_ask(remote, &opt, ROLE_ROLLBACK, NULL);
	if (ret == 0) {
		ret = remote_read(remote, &frame);
		if (ret == 1 && frame.type == PROTO_DONE && proto_get_done(&frame, &result, &why) == 0) {
			ret = result.status == 0 ? 0 : -1;
		} else {
			diag_file_errorf(operand, "%s", ret == 0 ? "the connection was lost"
							       : "a malformed message from the remote side");
			ret = -1;
		}
	}
	remote_close(remote);
	return ret;
}
