/* SPDX-License-Identifier: 0BSD */
/**
 * pcopy --server. Everything the client wants arrives in its SETUP frame,
 * never on the command line the remote shell parsed. Every message this
 * side would print goes to the client in-band (MSG), its paths named
 * host:path as the user wrote them; the outcome ends with DONE.
 *
 * Receiving, this side is the destination's only guardian: it journals,
 * writes temporaries beneath the root, seals only after COMMIT, and rolls
 * back by itself when the client cancels or its input ends without a
 * COMMIT (the connection dropped, the client was killed).
 */
#include "prelude.h"
#include "server.h"
#include "delta.h"
#include "diag.h"
#include "exclude.h"
#include "proto.h"
#include "receive.h"
#include "remote.h"
#include "run.h"
#include "seal.h"
#include "single.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The client, for diag's sink: set before any thread starts. */
static struct remote *client;

/* diag's sink: each message line goes to the client as a MSG frame. */
static void send_message(const char *line, size_t len)
{
	struct dbuf out;

	dbuf_init(&out);
	if (proto_put_text(&out, PROTO_MSG, line, len) == 0)
		remote_send_now(client, out.data, out.len);
	dbuf_free(&out);
}

/* Tell the client how the run ended here. */
static void send_done(int status)
{
	struct proto_done done;
	struct dbuf out;

	memset(&done, 0, sizeof(done));
	done.status = status < 0 || status > 255 ? EXIT_FAILED : (unsigned)status;
	dbuf_init(&out);
	if (proto_put_done(&out, &done) == 0)
		remote_send_now(client, out.data, out.len);
	dbuf_free(&out);
}

/* Whether READY went out: after it, a sending run ends with the client's DONE, not ours. */
static bool ready_sent;

/* READY; single: -1 (the client did not ask), 0 (a tree) or 1 (a single file). */
static int send_ready(int single)
{
	struct dbuf out;
	int ret;

	ready_sent = true;
	dbuf_init(&out);
	ret = proto_put_ready(&out, single);
	if (ret == 0)
		ret = remote_send_now(client, out.data, out.len);
	dbuf_free(&out);
	return ret;
}

/* The client's exclude set (PROTO_EXCLUDE), which a sending run walks with. */
static struct exclude client_exclude;

/* The client's exclude patterns into client_exclude. 0, or -1 after saying why. */
static int take_excludes(const struct proto_setup *setup)
{
	const char *pattern = setup->excludes;

	for (uint32_t i = 0; i < setup->nexcludes; i++) {
		if (exclude_add(&client_exclude, pattern) != 0) {
			if (errno == EINVAL)
				diag_file_errorf(NULL, "invalid --exclude pattern '%s'", pattern);
			else
				diag_file_error(NULL, errno);
			return -1;
		}
		pattern = proto_setup_next_exclude(pattern);
	}
	return 0;
}

/* The client's options into opt. 0, or -1 after saying why. */
static int take_options(struct copy_options *opt, const struct proto_setup *setup)
{
	const char *bad;
	size_t bad_len;
	int n;

	opt->force = setup->flags & PROTO_FORCE;
	opt->update = setup->flags & PROTO_UPDATE;
	opt->fsync = setup->flags & PROTO_FSYNC;
	opt->verify = setup->flags & PROTO_VERIFY;
	opt->preserve = setup->flags & PROTO_PRESERVE;
	opt->hard_links = setup->flags & PROTO_HARD_LINKS;
	opt->keep_going = setup->flags & PROTO_KEEP_GOING;
	opt->compress = setup->flags & PROTO_COMPRESS;
	opt->delta = setup->flags & PROTO_DELTA;
	opt->whole_file = setup->flags & PROTO_WHOLE_FILE;
	opt->inplace = setup->flags & PROTO_INPLACE;
	opt->mhl = setup->flags & PROTO_MHL;
	opt->bag = setup->flags & PROTO_BAG;
	/* Receiving only (proto_get_setup): the client holds the key and signs. */
	opt->sign_peer = (setup->flags & PROTO_SIGN) ? client : NULL;
	opt->block_size = setup->block_size ? setup->block_size : DELTA_BLOCK_DEFAULT;
	if (setup->readers >= 1 && setup->readers <= DIAG_COUNT_MAX)
		opt->readers = setup->readers;
	n = hash_parse_list(setup->algos, opt->algos, HASH_SET_MAX, &bad, &bad_len);
	if (n <= 0) {
		diag_file_errorf(NULL, "unknown algorithm '%.*s' (this pcopy is version %s)",
				 n < 0 ? (int)bad_len : 0, n < 0 ? bad : "", PTOOLS_VERSION);
		return -1;
	}
	opt->nalgos = (size_t)n;
	opt->single_source = setup->single_name;
	opt->no_seal = setup->single_name && setup->seal_name[0] == '\0';
	if (!opt->no_seal && !copy_seal_name_ok(setup->seal_name)) {
		diag_file_errorf(NULL, "invalid seal name '%s'", setup->seal_name);
		return -1;
	}
	opt->seal_name = opt->no_seal ? SEAL_DEFAULT_NAME : setup->seal_name;
	/* Sending only (proto_get_setup): the client's set, its defaults
	 * included, replaces this side's, so that what its seal records is
	 * what this walk left out. */
	if (setup->flags & PROTO_EXCLUDE) {
		if (take_excludes(setup) != 0)
			return -1;
		opt->exclude = &client_exclude;
	}
	return 0;
}

/* A single file's records (gathered in records), each to the client as RECORD. */
static void send_records(const struct dbuf *records)
{
	struct dbuf out;
	size_t at = 0;

	dbuf_init(&out);
	while (at < records->len) {
		const char *end = memchr(records->data + at, '\n', records->len - at);
		size_t len = end ? (size_t)(end - records->data) - at : records->len - at;
		if (proto_put_text(&out, PROTO_RECORD, records->data + at, len) != 0)
			break;
		at += len + 1;
	}
	if (out.len > 0)
		remote_send_now(client, out.data, out.len);
	dbuf_free(&out);
}

/*
 * Receive a single file (named name) into path, resolved here as a local
 * DEST is (single.h), its record named host:DEST. Returns the exit status.
 */
static int serve_receive_single(const struct copy_options *opt, const char *host, const char *path,
				const char *name)
{
	struct copy_options single_opt;
	struct single_target target;
	struct dbuf records, shown;
	const char *dests[1] = { path };
	struct copy *copy;
	int status;

	if (single_resolve(path, name, &target) != 0) {
		diag_file_error(path, errno);
		return EXIT_FAILED;
	}
	dbuf_init(&shown);
	if (dbuf_printf(&shown, "%s:%s", host, target.shown) != 0) {
		single_target_free(&target);
		diag_file_error(path, ENOMEM);
		return EXIT_FAILED;
	}
	free(target.shown);
	target.shown = shown.data;
	dbuf_init(&records);
	single_opt = *opt;
	single_opt.records = &records; /* copy_new keeps its own copy of the options */
	copy = single_copy_new(&single_opt, dests, &target, 1);
	single_target_free(&target);
	if (!copy) {
		diag_file_error(path, errno);
		dbuf_free(&records);
		return EXIT_FAILED;
	}
	if (dest_ok(&copy->dests[0])) {
		uint64_t left_out;
		if (send_ready(1) == 0)
			receive_entries(copy, client, path, &left_out);
		else
			stop_run_said(copy, STOP_SOURCE, "not ready", strlen("not ready"));
	}
	status = copy_finish(copy);
	send_records(&records);
	dbuf_free(&records);
	return status;
}

/* Receive into path. Returns the exit status. */
static int serve_receive(struct copy_options *opt, const char *path)
{
	const char *dests[1] = { path };
	struct copy *copy;
	uint64_t left_out;
	int status;

	/* The client walked its tree: its exclude patterns do not travel, so
	 * this seal records none. */
	opt->exclude = NULL;
	copy = copy_new(opt, dests, 1);
	if (!copy) {
		diag_file_error(path, errno);
		return EXIT_FAILED;
	}
	/* A destination that failed to set up says so in copy_finish. */
	if (dest_ok(&copy->dests[0])) {
		if (send_ready(-1) == 0)
			receive_entries(copy, client, path, &left_out);
		else
			stop_run_said(copy, STOP_SOURCE, "not ready", strlen("not ready"));
	}
	status = copy_finish(copy);
	return status;
}

/*
 * Send the tree at path to the client; or, when it asked (single_ok) and
 * path is a regular file (or a symlink to one), that file alone. Returns
 * the exit status.
 */
static int serve_send(struct copy_options *opt, const char *path, bool single_ok)
{
	const char *dests[1] = { "<client>" };
	struct copy *copy;
	struct stat st;
	int srcfd;
	char *base;

	if (single_ok && stat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
		if (!S_ISREG(st.st_mode)) {
			diag_file_errorf(path, "not a regular file or a directory");
			return EXIT_USAGE;
		}
		base = single_basename(path);
		opt->peer = client;
		opt->hard_links = false;
		copy = base ? copy_new(opt, dests, 1) : NULL;
		if (!copy) {
			diag_file_error(path, ENOMEM);
			free(base);
			return EXIT_FAILED;
		}
		if (send_ready(1) != 0)
			stop_run_said(copy, STOP_SOURCE, "not ready", strlen("not ready"));
		else
			single_copy(copy, path, base);
		free(base);
		return copy_finish(copy);
	}
	srcfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (srcfd < 0) {
		diag_file_error(path, errno);
		return EXIT_FAILED;
	}
	if (seal_file_is_seal(srcfd, opt->seal_name) == 0) {
		diag_file_errorf(path, "a source file has the seal's name %s (choose another with "
				 "--seal)", opt->seal_name);
		close(srcfd);
		return EXIT_USAGE;
	}
	close(srcfd);
	opt->peer = client;
	copy = copy_new(opt, dests, 1);
	if (!copy) {
		diag_file_error(path, errno);
		return EXIT_FAILED;
	}
	if (send_ready(single_ok ? 0 : -1) != 0)
		stop_run_said(copy, STOP_SOURCE, "not ready", strlen("not ready"));
	else
		copy_tree(copy, path);
	return copy_finish(copy);
}

int server_main(struct copy_options *opt)
{
	struct proto_setup setup;
	struct dbuf store, prefix;
	struct frame frame;
	const char *why;
	int status;

	client = remote_serve();
	if (!client)
		return EXIT_USAGE;
	dbuf_init(&store);
	dbuf_init(&prefix);
	diag_set_sink(send_message, NULL);
	if (frame_read(&client->reader, &frame) != 1 || frame.type != PROTO_SETUP ||
	    proto_get_setup(&frame, &setup, &store, &why) != 0) {
		diag_file_errorf(NULL, "the client did not say what to do");
		send_done(EXIT_USAGE);
		return EXIT_USAGE;
	}
	memcpy(client->delta_key, setup.key, sizeof(client->delta_key));
	if ((setup.flags & PROTO_COMPRESS) && remote_compress(client) != 0)
		return EXIT_FAILED; /* nothing can be said: the client expects zstd now */
	if (dbuf_printf(&prefix, "%s:", setup.host) == 0)
		diag_set_sink(send_message, prefix.data);
	opt->server = true;
	opt->progress = false;
	if (take_options(opt, &setup) != 0) {
		status = EXIT_USAGE;
	} else if (setup.role == ROLE_ROLLBACK) {
		status = send_ready(-1) == 0 && copy_rollback(setup.path) == 0 ? EXIT_ALL_GOOD
									      : EXIT_FAILED;
	} else if (setup.role == ROLE_SEND) {
		status = serve_send(opt, setup.path, setup.single_name != NULL);
	} else if (setup.single_name) {
		status = serve_receive_single(opt, setup.host, setup.path, setup.single_name);
	} else {
		status = serve_receive(opt, setup.path);
	}
	if (setup.role != ROLE_SEND || !ready_sent)
		send_done(status);
	dbuf_free(&store);
	dbuf_free(&prefix);
	exclude_fini(&client_exclude);
	return status;
}
