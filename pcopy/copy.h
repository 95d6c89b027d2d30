/* SPDX-License-Identifier: 0BSD */
/**
 * The copy engine: one read of each source file, hashed and written to every
 * destination at once, installed atomically, journaled for undo, sealed.
 */
#ifndef PCOPY_COPY_H
#define PCOPY_COPY_H

#include "prelude.h"
#include "hash.h"
#include "dbuf.h"
#include "input.h"
#include "remote.h"
#include "seal.h"
#include "sshsig.h"
#include <signal.h>
#include <stdatomic.h>

struct exclude;

struct copy_options {
	const struct hash_algo *algos[HASH_SET_MAX]; /* digests in the seal */
	size_t nalgos;
	unsigned readers;        /* source files read at once */
	bool readers_given;      /* -j said how many (else far storage gets READERS_FAR) */
	unsigned writers;        /* writer threads per destination (with two or more) */
	bool force;              /* replace existing files */
	bool update;             /* replace existing files that differ (size or mtime) */
	bool fsync;              /* sync files, directories and the journal */
	bool verify;             /* read every copy back (page cache dropped) and compare */
	bool preserve;           /* -p: owner, group, xattrs (ACLs) */
	bool hard_links;         /* -H */
	bool resume;             /* take over an interrupted run's journal */
	bool keep_going;
	bool dry_run;            /* -n: say what would be done, do nothing */
	bool delete_extra;       /* --delete: entries the source lacks are removed */
	bool allow_empty_source; /* --allow-empty-source: --delete may empty a destination */
	bool progress;
	/* Delta updates (delta.h): --delta, -W, --inplace, --block-size. */
	bool delta;
	bool whole_file;
	bool inplace;
	size_t block_size;
	const char *seal_name;
	bool bag;                /* --bag: each destination becomes a BagIt bag (bagger.h) */
	bool no_seal;            /* a single file without --seal: no seal, no signature */
	const char *single_source; /* pcopy FILE DEST: FILE's name, for a remote DEST's side */
	struct dbuf *records;    /* a single file's records go here, not to stdout (server) */
	bool mhl;                /* --mhl: an ASC MHL generation beside the seal (mhlseal.h) */
	/* A pull with --exclude or --no-default-excludes: the remote SRC's
	 * side walks with exclude, in place of its own defaults. */
	bool exclude_travels;
	/* Entries a walk of SRC leaves out (exclude.h); NULL when copying
	 * records, which are copied as listed. Recorded in each seal. */
	const struct exclude *exclude;
	/* --sign: each seal gets SEAL_NAME.sig (sshsig.h) made with this key,
	 * locally when it holds its private half, else by the ssh-agent on
	 * agent_socket. NULL: no signature. */
	const struct sshsig_key *sign_key;
	const char *agent_socket;
	/* pcopy --server asked by the client to sign (PROTO_SIGN): each seal's
	 * digest goes to this client, which signs it (signer.h). */
	struct remote *sign_peer;
	struct remote_how how;   /* how remote destinations (host:path) are reached */
	bool compress;           /* -z: remote connections compressed (zstd) */
	bool server;             /* pcopy --server: the client says how the run stopped */
	struct remote *peer;     /* pcopy --server sending a tree: the one destination */
	/*
	 * Set (to the signal number) by main's SIGINT/SIGTERM handler and read
	 * by every thread: a lock-free atomic, which C11 allows in a signal
	 * handler and which, unlike volatile sig_atomic_t, is race-free across
	 * threads.
	 */
	const atomic_int *interrupted;
};

struct copy;

/**
 * Prepare a copy into ndests destinations (paths; made if missing, with
 * their journals). A destination that cannot be prepared is reported and
 * marked failed; the others go on. Returns NULL (ENOMEM) only when nothing
 * can run at all.
 */
struct copy *copy_new(const struct copy_options *options, const char *const *dests,
		      size_t ndests);

/** Copy the contents of the directory src into every destination. */
void copy_tree(struct copy *copy, const char *src);

/**
 * Copy the paths read as records (or plain paths) from in. from is the root
 * relative paths are taken from, and absolute paths must lie under (NULL:
 * relative paths are taken from the current directory and absolute ones are
 * copied whole, without their leading slash).
 */
void copy_records(struct copy *copy, struct input *in, const char *from);

/**
 * Before copy_records: when progress is shown and standard input is a
 * regular file, count its records ahead so that the totals are known.
 */
void copy_count_records(struct copy *copy, bool nul_separated);

/**
 * Seal every destination that had no failure, roll back every other one (all
 * of them after a source failure or a signal), print the summary, and free
 * everything. Returns the exit status: 0, 1, or 128+signal.
 */
int copy_finish(struct copy *copy);

/**
 * Whether name, at the top of a tree, is the seal's (opt->seal_name) or its
 * signature's (the seal's name and SSHSIG_SUFFIX): a source's own seal and
 * signature are not content, and a copy gets its own.
 */
bool copy_is_seal_name(const struct copy_options *opt, const char *name);

/** Whether name may be a seal's name (--seal): one component, not pcopy's own. */
bool copy_seal_name_ok(const char *name);

/**
 * pcopy --rollback: finish the journal left in dest (undo an unfinished run,
 * or complete a committed one); dest not a directory (a single file's DEST):
 * the directory that holds it. Returns 0 when it ends clean, -1 otherwise
 * (reported).
 */
int copy_rollback(const char *dest);

#endif
