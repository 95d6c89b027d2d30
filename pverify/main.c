/* SPDX-License-Identifier: 0BSD */
/** pverify: check a manifest against the files, in parallel, with phash's engine. */
#include "prelude.h"
#include "audit.h"
#include "batchpipe.h"
#include "beneath.h"
#include "check.h"
#include "diag.h"
#include "hash.h"
#include "input.h"
#include "out.h"
#include "pool.h"
#include "progress.h"
#include "reading.h"
#include "report.h"
#include "seal.h"
#include "task.h"
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_text[] =
	"Usage: pverify [OPTION]... [-f MANIFEST]\n"
	"Check the files a manifest names against its digests and sizes.\n"
	"\n"
	"The manifest (standard input by default) may hold native records (every\n"
	"digest attribute is checked, from one read of the file), GNU lines\n"
	"(sha256sum, b2sum ...) and BSD tagged lines (SHA256 (name) = hex), mixed.\n"
	"\n"
	"  -f, --file=MANIFEST  read the manifest from MANIFEST ('-': stdin)\n"
	"  -C, --root=DIR       resolve paths beneath DIR; absolute paths, paths\n"
	"                       climbing out with .. and symlinks leading out are\n"
	"                       refused and counted as errors\n"
	"  -a, --algorithm=ALGO the algorithm of GNU lines whose digest length is\n"
	"                       ambiguous (128 hex digits: sha512 or blake2b)\n"
	"      --audit=DIR      also walk DIR (beneath -C's root when relative): report\n"
	"                       NEW files (not in the manifest) and MOVED ones (a\n"
	"                       missing entry's digest found there)\n"
	"      --sealed         the manifest must be a pcopy seal: one without its\n"
	"                       seal header and seal line fails (the default for a\n"
	"                       manifest named " SEAL_DEFAULT_NAME ", from -f or stdin)\n"
	"      --ignore-missing do not report files that are missing, nor fail for\n"
	"                       them (sha256sum -c's); fails if no file was there\n"
	"      --sizes-only     compare size (and mtime when recorded) only, reading\n"
	"                       no file: nothing is hashed, and the summary says so\n"
	"  -q, --quiet          no OK lines, not even with -v, and no summary unless\n"
	"                       something failed (sha256sum -c's --quiet)\n"
	"      --status         print nothing on stdout and no summary: the exit\n"
	"                       status tells (sha256sum -c's --status)\n"
	"  -v, --verbose        also print an OK line for every good file\n"
	"  -j, --jobs=N         N worker threads (default: 8 per CPU, at least 16,\n"
	"                       as phash: enough to hide storage latency)\n"
	"      --progress       show progress on stderr (default: when it is a terminal)\n"
	"      --no-progress    never show progress\n"
	"  -h, --help           show this help and exit\n"
	"  -V, --version        show the version and exit\n"
	"\n"
	"Output, one line per problem: FAILED, SIZE, MISSING, NEW, then TAB and the\n"
	"escaped path; ERROR TAB path TAB reason; MOVED TAB old-path TAB new-path;\n"
	"OK TAB path with -v. A summary goes to stderr.\n"
	"Exit status: 0 every file verified, 1 some file failed, was missing, new,\n"
	"moved or unreadable, or no file was checked, 2 usage error or malformed\n"
	"manifest lines.\n";

enum {
	OPT_AUDIT = 256,
	OPT_SEALED,
	OPT_IGNORE_MISSING,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
	OPT_SIZES_ONLY,
	OPT_STATUS,
};

static const struct option long_options[] = {
	{"file", required_argument, NULL, 'f'},
	{"root", required_argument, NULL, 'C'},
	{"algorithm", required_argument, NULL, 'a'},
	{"audit", required_argument, NULL, OPT_AUDIT},
	{"sealed", no_argument, NULL, OPT_SEALED},
	{"ignore-missing", no_argument, NULL, OPT_IGNORE_MISSING},
	{"sizes-only", no_argument, NULL, OPT_SIZES_ONLY},
	{"quiet", no_argument, NULL, 'q'},
	{"status", no_argument, NULL, OPT_STATUS},
	{"verbose", no_argument, NULL, 'v'},
	{"jobs", required_argument, NULL, 'j'},
	{"progress", no_argument, NULL, OPT_PROGRESS},
	{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

struct options {
	const char *manifest;
	const char *root;
	const char *audit_dir;
	const struct hash_algo *forced;
	bool sizes_only;     /* --sizes-only: no file is read */
	bool verbose, quiet, status;
	bool ignore_missing; /* --ignore-missing: as sha256sum -c's */
	bool sealed;         /* --sealed, or the manifest is named SEAL_DEFAULT_NAME */
	int progress;        /* -1: when stderr is a terminal */
	unsigned jobs;
};

/* What every worker shares (main.c's one piece of global state). */
static struct check shared;

/*
 * The batch pipeline's policy for pverify: a manifest mostly states its
 * files' sizes, so the first batches go out one file each (a short list of
 * large files is spread over every worker) and later ones only when full,
 * at BATCHPIPE_ITEMS files or BATCH_BYTES of expected size; a file of
 * unknown size (GNU and BSD lines) counts as UNKNOWN_BYTES.
 */
#define BATCH_BYTES ((uint64_t)4 << 20)
#define UNKNOWN_BYTES (BATCH_BYTES / 16)

/*
 * A GNU line's algorithm is told from its digest length: 64 digits are
 * taken for sha256, though sha3-256 lines have 64 too, and then every line
 * fails. Say, once per length, which algorithm was assumed for the FAILED
 * lines and that -a chooses another (the FAILED lines keep their format).
 */
static void print_assumed(const struct report_counts *counts, const char *name)
{
	char others[256];
	size_t len;

	for (len = 0; len <= HASH_DIGEST_MAX; len++) {
		if (!counts->assumed_failed[len] ||
		    !report_alternatives(counts->assumed[len], others, sizeof(others)))
			continue;
		diag_note("%s: %ju FAILED %s (assumed %s; a %zu-digit digest may also be %s: "
			  "use -a)", name, (uintmax_t)counts->assumed_failed[len],
			  counts->assumed_failed[len] == 1 ? "line" : "lines",
			  counts->assumed[len]->name, 2 * len, others);
	}
}

/* The summary line on stderr. With --sizes-only, what was compared was not
 * hashed, and an "ok" must not read as verified content. */
static void print_summary(const struct report_counts *counts, const struct options *options)
{
	const char *ok = options->sizes_only ? " ok (sizes only, not hashed)" : " ok";

	if (options->audit_dir)
		diag_note("%ju%s, %ju failed, %ju missing, %ju errors, %ju new, %ju moved",
			  (uintmax_t)counts->ok, ok, (uintmax_t)(counts->failed + counts->size),
			  (uintmax_t)counts->missing, (uintmax_t)counts->errors,
			  (uintmax_t)counts->new_files, (uintmax_t)counts->moved);
	else
		diag_note("%ju%s, %ju failed, %ju missing%s, %ju errors", (uintmax_t)counts->ok,
			  ok, (uintmax_t)(counts->failed + counts->size),
			  (uintmax_t)counts->missing, options->ignore_missing ? " (ignored)" : "",
			  (uintmax_t)counts->errors);
}

static void parse_options(int argc, char **argv, struct options *options)
{
	int c;

	memset(options, 0, sizeof(*options));
	options->progress = -1;
	opterr = 0; /* our own messages, with the program name diag.c uses */
	while ((c = getopt_long(argc, argv, ":f:C:a:qvj:hV", long_options, NULL)) != -1) {
		switch (c) {
		case 'f':
			options->manifest = optarg;
			break;
		case 'C':
			options->root = optarg;
			break;
		case 'a':
			options->forced = hash_lookup(optarg);
			if (!options->forced)
				diag_usage_error("unknown algorithm '%s'", optarg);
			break;
		case OPT_AUDIT:
			options->audit_dir = optarg;
			break;
		case OPT_SEALED:
			options->sealed = true;
			break;
		case OPT_IGNORE_MISSING:
			options->ignore_missing = true;
			break;
		case OPT_SIZES_ONLY:
			options->sizes_only = true;
			break;
		case 'q':
			options->quiet = true;
			break;
		case OPT_STATUS:
			options->status = true;
			break;
		case 'v':
			options->verbose = true;
			break;
		case 'j':
			options->jobs = diag_parse_count(optarg, "job");
			break;
		case OPT_PROGRESS:
			options->progress = 1;
			break;
		case OPT_NO_PROGRESS:
			options->progress = 0;
			break;
		case 'h':
			diag_help(usage_text);
		case 'V':
			diag_version();
		default:
			diag_bad_option(c, argv);
		}
	}
	if (optind < argc)
		diag_usage_error("unexpected argument '%s' (the manifest is read with -f or from stdin)",
				 argv[optind]);
	if (options->ignore_missing && options->audit_dir)
		diag_usage_error("--ignore-missing and --audit do not go together (the audit "
				 "reports what is missing)");
	if (options->jobs == 0)
		options->jobs = pool_default_threads(8, 16, 256);
}

/* Which lines the report prints: --status none, -q no OK line even with -v. */
static enum report_print print_level(const struct options *options)
{
	if (options->status)
		return REPORT_PRINT_NOTHING;
	if (options->quiet || !options->verbose)
		return REPORT_PRINT_PROBLEMS;
	return REPORT_PRINT_ALL;
}

int main(int argc, char **argv)
{
	struct options options;
	struct reading reading = {0};
	char *walk_root = NULL;
	struct batchpipe_config config;
	struct batchpipe *pipe;
	struct report_counts counts;
	struct out *sink = NULL;
	uint64_t walk_errors = 0;
	int rc;

	diag_init("pverify");
	/* SIGPIPE keeps its default: "pverify -v < list | head -1" ends when
	 * head does, quietly, as pfind and phash do. */
	parse_options(argc, argv, &options);
	if (getenv("PTOOLS_NO_OPENAT2"))
		beneath_disable_openat2();

	shared.rootfd = AT_FDCWD;
	shared.sizes_only = options.sizes_only;
	if (options.root) {
		shared.rootfd = open(options.root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (shared.rootfd < 0) {
			diag_file_error(options.root, errno);
			return EXIT_USAGE;
		}
	}
	if (options.audit_dir &&
	    audit_setup(options.root, options.audit_dir, &walk_root, &reading.audit) != 0)
		return EXIT_USAGE;
	reading.in = input_open(options.manifest, false);
	if (!reading.in) {
		diag_file_error(options.manifest, errno);
		audit_free(reading.audit);
		free(walk_root);
		return EXIT_USAGE;
	}
	if (seal_named(options.manifest))
		options.sealed = true;
	sink = out_new(STDOUT_FILENO);
	reading.sink = sink;
	shared.report = sink ? report_new(sink, print_level(&options),
					  options.audit_dir ? REPORT_MISSING_KEEP
					  : options.ignore_missing ? REPORT_MISSING_IGNORE
					  : REPORT_MISSING_PRINT)
			     : NULL;
	if (!shared.report)
		goto nomem;
	if (options.progress == 1 || (options.progress == -1 && progress_default()))
		shared.progress = progress_new(1, NULL);

	config = (struct batchpipe_config){
		.jobs = options.jobs,
		.queue_capacity = 2 * (size_t)options.jobs + 64,
		.out = sink,
		.window = 1024,
		.flush = BATCHPIPE_FLUSH_FIRST,
		.batch_bytes = BATCH_BYTES,
		.unknown_bytes = UNKNOWN_BYTES,
		/*
		 * The reading thread parses the manifest for every worker, so it
		 * must not wait for CPU behind them: workers it wakes with a
		 * batch would take the CPU from it (wakeup preemption), the queue
		 * would run dry and the workers sleep. SCHED_BATCH workers
		 * (throughput work; no privilege needed) do not preempt it.
		 */
		.sched_batch = true,
		.item_size = sizeof(struct task *),
		.context_size = sizeof(struct report_batch),
		.context_init = check_context_init,
		.context_fini = check_context_fini,
		.open = check_open_item,
		.finish = check_finish_item,
		.batch_end = check_batch_end,
		.arg = &shared,
	};
	pipe = batchpipe_new(&config);
	if (!pipe)
		goto nomem;
	batchpipe_feed_init(&reading.feed, pipe);
	reading.progress = shared.progress;
	reading.beneath = shared.rootfd != AT_FDCWD;
	reading_run(&reading, options.forced, options.sealed);
	batchpipe_drain(pipe);
	progress_finish(shared.progress);
	shared.progress = NULL;
	rc = batchpipe_finish(pipe);
	batchpipe_free(pipe);
	if (rc != 0)
		diag_stdout_error(errno);
	if (out_error(sink) == EPIPE) {
		/* Its reader has gone (SIGPIPE ignored): results were lost, so
		 * not a success, but nothing is worth a message. */
		diag_raise(EXIT_FAILED);
		goto done;
	}
	if (reading.audit) {
		audit_ignore_manifest(reading.audit, options.manifest, shared.rootfd,
				      reading.sealed_content);
		if (audit_run(reading.audit, walk_root, options.jobs, shared.report,
			      &walk_errors) != 0)
			diag_file_error(walk_root, errno);
	}

	counts = report_counts(shared.report);
	counts.errors += reading.refused + walk_errors;
	if (counts.failed + counts.size + (options.ignore_missing ? 0 : counts.missing) +
	    counts.errors + counts.new_files + counts.moved > 0)
		diag_raise(EXIT_FAILED);
	/* -q: the summary only when something went wrong; --status: never. */
	if (!options.status && (!options.quiet || diag_status() != EXIT_ALL_GOOD)) {
		print_assumed(&counts, input_name(reading.in));
		print_summary(&counts, &options);
	}
	if (reading.malformed)
		diag_note("%ju malformed manifest lines skipped", (uintmax_t)reading.malformed);
	/* As sha256sum -c ("no properly formatted checksum lines found"): a
	 * manifest without one entry to check (empty, only comments, a seal
	 * emptied or cut before its first record) proves nothing, which is a
	 * failure, not a success. A whole seal of an empty copy (only
	 * directories) proves that copy held no file. */
	if (reading.tasks == 0 && !reading.seal_whole) {
		diag_note("%s: no file was checked", input_name(reading.in));
		diag_raise(EXIT_FAILED);
	}
	/* As sha256sum -c --ignore-missing: a manifest none of whose files is
	 * there verified nothing, which is a failure, not a success. */
	else if (options.ignore_missing &&
		 counts.ok + counts.failed + counts.size + counts.errors == 0) {
		diag_note("%s: no file was verified", input_name(reading.in));
		diag_raise(EXIT_FAILED);
	}
done:
	report_free(shared.report);
	out_free(sink);
	audit_free(reading.audit);
	free(walk_root);
	input_close(reading.in);
	if (shared.rootfd != AT_FDCWD)
		close(shared.rootfd);
	return diag_finish();
nomem:
	diag_file_error(NULL, ENOMEM);
	goto done;
}
