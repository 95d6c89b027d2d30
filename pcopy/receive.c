/* SPDX-License-Identifier: 0BSD */
/**
 * Receiving a tree from a peer: each entry frame becomes the step the
 * engine takes for a local source entry (copy_root, dest_make_dir,
 * dest_make_node, reader_file_begin/reader_sink/reader_file_end), so a
 * remote copy keeps every promise a local one does. The bytes of a file
 * are hashed here as they arrive and must give the digests the sender read:
 * what was damaged on the way is never sealed.
 */
#include "prelude.h"
#include "receive.h"
#include "destdir.h"
#include "diag.h"
#include "fileop.h"
#include "journal.h"
#include "mhlcarry.h"
#include "mhlseal.h"
#include "producer.h"
#include "proto.h"
#include "rdelta.h"
#include "rdest.h"
#include "xio.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* SAME ranges are read from the old file this much at a time. */
#define RECEIVE_SAME_CHUNK ((size_t)1 << 20)

struct receiving {
	struct copy *copy;
	struct remote *peer;
	const char *peer_name;
	struct reader *reader;
	struct task *task;           /* the file in progress, or NULL */
	bool wanted;                 /* its bytes go to some destination */
	uint64_t offset;
	struct hashset hashes;
	struct dbuf xattrs;          /* the task's */
	bool said_failed;
	struct rdelta_recv *delta;   /* the file comes by delta: its old file's hashes go back */
	unsigned char *same_buf;     /* RECEIVE_SAME_CHUNK bytes, made on first use */
	struct mhlcarry *history;    /* --mhl: SRC's ASC MHL history arriving, or NULL */
	bool history_over;           /* its end came: no other history */
	bool entries;                /* an entry came: a history would be out of place */
};

/* A frame the protocol does not allow here: malformed input, exit 2; said once. */
static void malformed(struct receiving *rx, const char *why)
{
	if (!stopping(rx->copy))
		stop_run_why(rx->copy, STOP_USAGE, rx->peer_name, 0, why);
}

/* The names a sender may not use at the top: our journal, temporaries and seal. */
static bool reserved_name(const struct copy *copy, const char *rel, size_t len)
{
	size_t seal_len = strlen(copy->opt.seal_name);

	if (memchr(rel, '/', len))
		return false;
	return (len == seal_len && memcmp(rel, copy->opt.seal_name, len) == 0) ||
	       (len >= 6 && memcmp(rel, ".pcopy", 6) == 0);
}

/* An entry frame decoded and checked. 0 or -1 (stopped). */
static int get_entry(struct receiving *rx, const struct frame *frame, struct proto_entry *entry)
{
	const char *why;

	if (proto_get_entry(frame, entry, &why) != 0) {
		malformed(rx, why);
		return -1;
	}
	if (entry->rel_len > 0 && reserved_name(rx->copy, entry->rel, entry->rel_len)) {
		stop_run_why(rx->copy, STOP_USAGE, rx->peer_name, 0,
			     "the sender named the seal or pcopy's own files (choose another --seal)");
		return -1;
	}
	return 0;
}

/* Make the task for an entry (rel copied and NUL-terminated). NULL (stopped) on ENOMEM. */
static struct task *new_task(struct receiving *rx, const struct proto_entry *entry)
{
	struct task *task = calloc(1, sizeof(*task) + entry->rel_len + 1);

	if (!task) {
		stop_run(rx->copy, STOP_INTERNAL, rx->peer_name, ENOMEM);
		return NULL;
	}
	task->copy = rx->copy;
	task->srcfd = -1;
	task->st = entry->st;
	task->rel_len = entry->rel_len;
	memcpy(task->rel, entry->rel, entry->rel_len);
	dbuf_clear(&rx->xattrs);
	if (entry->xattrs && rx->copy->opt.preserve &&
	    dbuf_append(&rx->xattrs, entry->xattrs, entry->xattrs_len) == 0) {
		task->xattrs = (const unsigned char *)rx->xattrs.data;
		task->xattrs_len = rx->xattrs.len;
	}
	return task;
}

/* The file in progress ends: finished with result, or dropped (NULL). */
static void end_file(struct receiving *rx, struct hashio_result *result)
{
	rdelta_recv_stop(rx->delta);
	rx->delta = NULL;
	if (rx->wanted)
		reader_file_end(rx->reader, result);
	rx->wanted = false;
	free(rx->task);
	rx->task = NULL;
}

static void on_dir(struct receiving *rx, const struct proto_entry *entry, char *rel)
{
	struct copy *copy = rx->copy;

	for (size_t i = 0; i < copy->ndests; i++) {
		struct dest *dest = &copy->dests[i];
		dest_make_dir(&rx->reader->worker, dest, rel, entry->rel_len, &entry->st, -1);
		if (entry->xattrs && copy->opt.preserve && dest_ok(dest)) {
			int fd = dest_dircache_get(&rx->reader->worker, dest, rel, entry->rel_len);
			if (fd < 0 || dest_set_xattrs(entry->xattrs, entry->xattrs_len, fd) != 0)
				dest_fail(dest, rel, entry->rel_len, errno, "preserving xattrs");
		}
	}
}

static void on_data(struct receiving *rx, const struct frame *frame)
{
	const unsigned char *data;
	const char *why;
	size_t len;

	if (proto_get_data(frame, &data, &len, &why) != 0) {
		malformed(rx, why);
		return;
	}
	if (len > (uint64_t)rx->task->st.st_size - rx->offset) {
		/* Dropped here; the rest of its frames, up to END or ABORT, are skipped. */
		if (rx->wanted) {
			source_error(rx->copy, rx->task->rel, 0, "grew while being copied");
			reader_file_end(rx->reader, NULL);
			rx->wanted = false;
		}
		rx->offset = (uint64_t)rx->task->st.st_size;
		return;
	}
	if (rx->wanted) {
		hashset_update(&rx->hashes, data, len);
		if (reader_sink(rx->reader, data, len, rx->offset) != 0) {
			reader_file_end(rx->reader, NULL);
			rx->wanted = false;
		}
	}
	rx->offset += len;
	if (rx->delta)
		rdelta_recv_advance(rx->delta, rx->offset);
}

/* Feed [offset, offset + length) of the old file (fd) to the engine, as DATA's bytes would be. */
static void feed_base(struct receiving *rx, int fd, uint64_t offset, uint64_t length)
{
	if (!rx->same_buf) {
		rx->same_buf = malloc(RECEIVE_SAME_CHUNK);
		if (!rx->same_buf) {
			stop_run(rx->copy, STOP_INTERNAL, rx->task->rel, ENOMEM);
			reader_file_end(rx->reader, NULL);
			rx->wanted = false;
			return;
		}
	}
	while (length > 0 && rx->wanted) {
		size_t n = length < RECEIVE_SAME_CHUNK ? (size_t)length : RECEIVE_SAME_CHUNK;
		ssize_t got = xpread(fd, rx->same_buf, n, (off_t)offset);
		if (got != (ssize_t)n) {
			/* The old file is the destination's: it failed, not the source. */
			dest_fail(&rx->copy->dests[0], rx->task->rel, rx->task->rel_len,
				  got < 0 ? errno : EAGAIN, "reading the old file (it changed?)");
			reader_file_end(rx->reader, NULL);
			rx->wanted = false;
			return;
		}
		hashset_update(&rx->hashes, rx->same_buf, n);
		if (reader_sink(rx->reader, rx->same_buf, n, offset) != 0) {
			reader_file_end(rx->reader, NULL);
			rx->wanted = false;
			return;
		}
		offset += n;
		length -= n;
	}
}

/* SAME: the next bytes are the old file's, at the same offset. */
static void on_same(struct receiving *rx, const struct frame *frame)
{
	uint64_t offset, length, base;
	const char *why;
	int fd;

	if (proto_get_same(frame, &offset, &length, &why) != 0) {
		malformed(rx, why);
		return;
	}
	if (!rx->delta) {
		malformed(rx, "same bytes in a file not sent by delta");
		return;
	}
	base = rdelta_recv_base(rx->delta, &fd);
	if (offset != rx->offset || offset > base || length > base - offset ||
	    length > (uint64_t)rx->task->st.st_size - offset) {
		malformed(rx, "same bytes out of place");
		return;
	}
	if (rx->wanted)
		feed_base(rx, fd, offset, length);
	rx->offset += length;
	rdelta_recv_advance(rx->delta, rx->offset);
}

/*
 * A FILE that may come by delta gets an answer (PROTOCOL.md 4.7): BASE,
 * with the old file's hashes from a thread, when the engine updates the
 * file from an old one here; else WHOLE.
 */
static void answer_delta(struct receiving *rx)
{
	struct copy *copy = rx->copy;
	uint64_t size = (uint64_t)rx->task->st.st_size;
	size_t block = copy->opt.block_size ? copy->opt.block_size : DELTA_BLOCK_DEFAULT;
	struct dbuf out;
	struct stat st;
	int base = -1;

	if (!rdelta_eligible(&copy->opt, size))
		return;
	if (rx->wanted && copy->ndests == 1 && proto_block_ok(block)) {
		int fd = reader_delta_base(rx->reader);
		/* Our own descriptor: the engine may close its own once the file differs. */
		if (fd >= 0)
			base = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	}
	if (base >= 0 && fstat(base, &st) == 0 && S_ISREG(st.st_mode))
		rx->delta = rdelta_recv_start(rx->peer, base, (uint64_t)st.st_size, size, block);
	if (rx->delta)
		return;
	if (base >= 0)
		close(base);
	dbuf_init(&out);
	if (proto_put_text(&out, PROTO_WHOLE, NULL, 0) == 0)
		remote_send_now(rx->peer, out.data, out.len);
	dbuf_free(&out);
}

static void on_end(struct receiving *rx, const struct frame *frame)
{
	struct copy *copy = rx->copy;
	char mine[1][HASH_HEX_MAX + 1], check[HASH_HEX_MAX + 1];
	struct hashio_result result;
	const char *why;

	memset(&result, 0, sizeof(result));
	if (proto_get_end(frame, copy->opt.algos, copy->opt.nalgos, result.hex, check, &why) != 0) {
		malformed(rx, why);
		return;
	}
	if (!rx->wanted) {
		end_file(rx, NULL);
		return;
	}
	if (rx->offset != (uint64_t)rx->task->st.st_size) {
		source_error(copy, rx->task->rel, 0, "changed while being copied");
		end_file(rx, NULL);
		return;
	}
	if (hashset_final_hex(&rx->hashes, mine) != 0) {
		stop_run(copy, STOP_INTERNAL, rx->task->rel, ENOMEM);
		end_file(rx, NULL);
		return;
	}
	if (strcmp(mine[0], check) != 0) {
		source_error(copy, rx->task->rel, 0, "damaged on the way: the bytes that arrived "
			     "are not the bytes read");
		end_file(rx, NULL);
		return;
	}
	result.size = (uint64_t)rx->task->st.st_size;
	end_file(rx, &result);
}

static void on_file(struct receiving *rx, const struct proto_entry *entry)
{
	rx->task = new_task(rx, entry);
	if (!rx->task)
		return;
	rx->offset = 0;
	rx->wanted = reader_file_begin(rx->reader, rx->task) > 0;
	if (rx->wanted && hashset_reset(&rx->hashes) != 0) {
		stop_run(rx->copy, STOP_INTERNAL, rx->task->rel, ENOMEM);
		end_file(rx, NULL);
		return;
	}
	answer_delta(rx);
}

static void on_link(struct receiving *rx, const struct proto_entry *entry)
{
	struct task *task;

	if (!rx->copy->opt.hard_links || entry->st.st_nlink < 2) {
		malformed(rx, "a hard link without -H");
		return;
	}
	task = new_task(rx, entry);
	if (!task)
		return;
	if (reader_file_begin(rx->reader, task) > 0) {
		/* Not linked: no file with its inode was sent before. */
		reader_file_end(rx->reader, NULL);
		malformed(rx, "a hard link to a file never sent");
	}
	free(task);
}

/*
 * HISTORY (PROTOCOL.md 4.9): SRC's ASC MHL history, before any entry,
 * gathered; at its end checked here as SRC's own would be (mhlcarry.h), and
 * carried by the run as a local SRC's is (mhlseal_adopt).
 */
static void on_history(struct receiving *rx, const struct frame *frame)
{
	const unsigned char *data;
	const char *name, *why, *reason;
	size_t name_len, len;
	struct dbuf path;

	if (!rx->copy->opt.mhl) {
		malformed(rx, "an ASC MHL history without --mhl");
		return;
	}
	if (rx->entries || rx->history_over) {
		malformed(rx, "an ASC MHL history out of place");
		return;
	}
	if (proto_get_history(frame, &name, &name_len, &data, &len, &why) != 0) {
		malformed(rx, why);
		return;
	}
	if (!rx->history) {
		rx->history = calloc(1, sizeof(*rx->history));
		if (!rx->history) {
			stop_run(rx->copy, STOP_INTERNAL, rx->peer_name, ENOMEM);
			return;
		}
		rx->history->histfd = -1;
	}
	if (name_len > 0) {
		if (mhlcarry_receive(rx->history, name, name_len, data, len, &why) == 0)
			return;
		if (errno == EPROTO)
			malformed(rx, why);
		else
			stop_run(rx->copy, STOP_INTERNAL, rx->peer_name, errno);
		return;
	}
	rx->history_over = true;
	dbuf_init(&path);
	if (mhlcarry_receive_end(rx->history, rx->peer_name, &path, &reason) == 0) {
		mhlseal_adopt(rx->copy, rx->history, rx->peer_name);
		rx->history = NULL;
	} else if (errno == EPROTO) {
		malformed(rx, reason);
	} else {
		/* As a local SRC's would: carried whole or not at all. */
		stop_run_why(rx->copy, STOP_SOURCE, path.data ? path.data : rx->peer_name, errno,
			     reason);
	}
	dbuf_free(&path);
}

/* Stop the run for the sender's reason, made printable: its words cannot forge ours. */
static void stop_run_printable(struct copy *copy, const char *why, size_t len)
{
	char *shown = remote_printable(why, len);

	if (shown)
		stop_run_said(copy, STOP_SOURCE, shown, len);
	else
		stop_run(copy, STOP_INTERNAL, "", ENOMEM);
	free(shown);
}

/* After an entry: tell the sender once when no destination is left. */
static void check_dests(struct receiving *rx)
{
	struct copy *copy = rx->copy;
	struct dbuf out;
	const char *why = "every destination failed";

	if (rx->said_failed)
		return;
	for (size_t i = 0; i < copy->ndests; i++)
		if (dest_ok(&copy->dests[i]))
			return;
	rx->said_failed = true;
	if (copy->ndests == 1 && copy->dests[0].why)
		why = copy->dests[0].why;
	dbuf_init(&out);
	if (proto_put_text(&out, PROTO_FAILED, why, strlen(why)) == 0)
		remote_send_now(rx->peer, out.data, out.len);
	dbuf_free(&out);
}

int receive_entries(struct copy *copy, struct remote *peer, const char *peer_name,
		    uint64_t *left_out)
{
	struct receiving rx;
	const struct hash_algo *check[1];
	struct proto_entry entry;
	struct frame frame;
	struct dbuf text;
	const char *why, *target;
	size_t len;
	int ret, committed = 0;

	memset(&rx, 0, sizeof(rx));
	rx.copy = copy;
	rx.peer = peer;
	rx.peer_name = peer_name;
	dbuf_init(&rx.xattrs);
	dbuf_init(&text);
	*left_out = 0;
	rx.reader = walker_init(copy);
	check[0] = hash_lookup(PROTO_CHECK_ALGO);
	if (!rx.reader || hashset_init(&rx.hashes, check, 1) != 0) {
		stop_run(copy, STOP_INTERNAL, peer_name, ENOMEM);
		walker_fini(rx.reader);
		return 0;
	}
	rx.reader->worker.inline_small = false;
	for (;;) {
		ret = remote_read(peer, &frame);
		if (ret <= 0) {
			if (ret == 0 || errno != EPROTO)
				stop_run_why(copy, STOP_SOURCE, peer_name, 0,
					     ret == 0 ? "the connection was lost" : strerror(errno));
			else
				malformed(&rx, "a malformed message");
			break;
		}
		if (rx.task && frame.type != PROTO_DATA && frame.type != PROTO_SAME &&
		    frame.type != PROTO_END && frame.type != PROTO_ABORT) {
			malformed(&rx, "a file's data cut short");
			break;
		}
		if (rx.history && !rx.history_over && frame.type != PROTO_HISTORY &&
		    frame.type != PROTO_CANCEL) {
			malformed(&rx, "an ASC MHL history cut short");
			break;
		}
		if (frame.type >= PROTO_ROOT && frame.type <= PROTO_LINK)
			rx.entries = true;
		switch (frame.type) {
		case PROTO_ROOT:
			if (get_entry(&rx, &frame, &entry) == 0)
				copy_root(copy, &entry.st);
			break;
		case PROTO_DIR:
		case PROTO_NODE:
			if (get_entry(&rx, &frame, &entry) != 0)
				break;
			dbuf_clear(&text);
			if (dbuf_append(&text, entry.rel, entry.rel_len) != 0 || dbuf_putc(&text, '\0') != 0) {
				stop_run(copy, STOP_INTERNAL, peer_name, ENOMEM);
				break;
			}
			if (frame.type == PROTO_DIR) {
				on_dir(&rx, &entry, text.data);
				break;
			}
			target = NULL;
			if (entry.target) {
				size_t at = text.len;
				if (dbuf_append(&text, entry.target, entry.target_len) != 0 ||
				    dbuf_putc(&text, '\0') != 0) {
					stop_run(copy, STOP_INTERNAL, peer_name, ENOMEM);
					break;
				}
				target = text.data + at;
			}
			for (size_t i = 0; i < copy->ndests; i++)
				dest_make_node(&rx.reader->worker, &copy->dests[i], text.data, entry.rel_len,
					       &entry.st, target);
			break;
		case PROTO_FILE:
			if (get_entry(&rx, &frame, &entry) == 0)
				on_file(&rx, &entry);
			break;
		case PROTO_DATA:
		case PROTO_SAME:
		case PROTO_END:
		case PROTO_ABORT:
			if (!rx.task) {
				malformed(&rx, "file data outside a file");
				break;
			}
			if (frame.type == PROTO_DATA)
				on_data(&rx, &frame);
			else if (frame.type == PROTO_SAME)
				on_same(&rx, &frame);
			else if (frame.type == PROTO_END)
				on_end(&rx, &frame);
			else if (frame.len != 0)
				malformed(&rx, "a malformed message");
			else
				end_file(&rx, NULL);
			break;
		case PROTO_LINK:
			if (get_entry(&rx, &frame, &entry) == 0)
				on_link(&rx, &entry);
			break;
		case PROTO_HISTORY:
			on_history(&rx, &frame);
			break;
		case PROTO_COMMIT:
			if (proto_get_commit(&frame, left_out, &why) != 0)
				malformed(&rx, why);
			else
				committed = 1;
			break;
		case PROTO_CANCEL:
			if (proto_get_text(&frame, &target, &len, &why) != 0) {
				malformed(&rx, why);
				break;
			}
			if (rx.said_failed)
				goto out; /* as asked: the destinations' failures say the rest */
			if (len == 0) {
				target = "cancelled by the sender";
				len = strlen(target);
			}
			stop_run_printable(copy, target, len);
			break;
		default:
			malformed(&rx, "an unknown message");
			break;
		}
		if (committed || stopping(copy))
			break;
		check_dests(&rx);
	}
out:
	if (rx.task)
		end_file(&rx, NULL);
	if (rx.history) {
		mhlcarry_close(rx.history);
		free(rx.history);
	}
	hashset_fini(&rx.hashes);
	walker_fini(rx.reader);
	free(rx.same_buf);
	dbuf_free(&rx.xattrs);
	dbuf_free(&text);
	return committed;
}

struct remote *pull_start(const char *operand, const struct copy_options *opt, bool *single)
{
	struct remote *remote = remote_start(operand, &opt->how);

	if (remote && rdest_ask(remote, opt, ROLE_SEND, single) != 0) {
		remote_close(remote);
		remote = NULL;
	}
	return remote;
}

void pull_receive(struct copy *copy, struct remote *remote, const char *operand)
{
	uint64_t left_out;

	if (receive_entries(copy, remote, operand, &left_out) == 1 && left_out > 0)
		atomic_fetch_add(&copy->left_out, left_out);
}

void pull_end(struct remote *remote, int status)
{
	struct proto_done done;
	struct dbuf out;

	if (!remote)
		return;
	memset(&done, 0, sizeof(done));
	done.status = status > 255 || status < 0 ? 1 : (unsigned)status;
	dbuf_init(&out);
	if (proto_put_done(&out, &done) == 0)
		remote_send(remote, &out, false);
	dbuf_free(&out);
	remote_close(remote);
}
