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
#include "diag.h"
#include "proto.h"
#include "receive.h"
#include "remote.h"
#include "run.h"
#include "seal.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
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

static int send_ready(void)
{
	struct dbuf out;
	int ret;

	ready_sent = true;
	dbuf_init(&out);
	ret = proto_put_text(&out, PROTO_READY, NULL, 0);
	if (ret == 0)
		ret = remote_send_now(client, out.data, out.len);
	dbuf_free(&out);
	return ret;
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
	if (setup->readers >= 1 && setup->readers <= DIAG_COUNT_MAX)
		opt->readers = setup->readers;
	n = hash_parse_list(setup->algos, opt->algos, HASH_SET_MAX, &bad, &bad_len);
	if (n <= 0) {
		diag_file_errorf(NULL, "unknown algorithm '%.*s' (this pcopy is version %s)",
				 n < 0 ? (int)bad_len : 0, n < 0 ? bad : "", PTOOLS_VERSION);
		return -1;
	}
	opt->nalgos = (size_t)n;
	if (!copy_seal_name_ok(setup->seal_name)) {
		diag_file_errorf(NULL, "invalid seal name '%s'", setup->seal_name);
		return -1;
	}
	opt->seal_name = setup->seal_name;
	return 0;
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
		if (send_ready() == 0)
			receive_entries(copy, client, path, &left_out);
		else
			stop_run_said(copy, STOP_SOURCE, "not ready", strlen("not ready"));
	}
	status = copy_finish(copy);
	return status;
}

/* Send the tree at path to the client. Returns the exit status. */
static int serve_send(struct copy_options *opt, const char *path)
{
	const char *dests[1] = { "<client>" };
	struct copy *copy;
	int srcfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

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
	if (send_ready() != 0)
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
	if ((setup.flags & PROTO_COMPRESS) && remote_compress(client) != 0)
		return EXIT_FAILED; /* nothing can be said: the client expects zstd now */
	if (dbuf_printf(&prefix, "%s:", setup.host) == 0)
		diag_set_sink(send_message, prefix.data);
	opt->server = true;
	opt->progress = false;
	if (take_options(opt, &setup) != 0) {
		status = EXIT_USAGE;
	} else if (setup.role == ROLE_ROLLBACK) {
		status = send_ready() == 0 && copy_rollback(setup.path) == 0 ? EXIT_ALL_GOOD
									      : EXIT_FAILED;
	} else if (setup.role == ROLE_SEND) {
		status = serve_send(opt, setup.path);
	} else {
		status = serve_receive(opt, setup.path);
	}
	if (setup.role != ROLE_SEND || !ready_sent)
		send_done(status);
	dbuf_free(&store);
	dbuf_free(&prefix);
	return status;
}
