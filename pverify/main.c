/* SPDX-License-Identifier: 0BSD */
/** pverify: check a manifest against the files, in parallel, with phash's engine. */
#include "prelude.h"
#include "audit.h"
#include "bag.h"
#include "batchpipe.h"
#include "beneath.h"
#include "check.h"
#include "diag.h"
#include "exclude.h"
#include "hash.h"
#include "input.h"
#include "mhl2.h"
#include "mhlcheck.h"
#include "out.h"
#include "pool.h"
#include "progress.h"
#include "reading.h"
#include "report.h"
#include "seal.h"
#include "sshsig.h"
#include "task.h"
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_text[] =
	"Usage: pverify [OPTION]... [MANIFEST]...\n"
	"       pverify [OPTION]... --bag DIR\n"
	"       pverify [OPTION]... --mhl=DIR\n"
	"Check the files each manifest names against its digests and sizes, or\n"
	"validate a BagIt bag or an ASC MHL history.\n"
	"\n"
	"A manifest (standard input when none is named, or '-') may hold native\n"
	"records (every digest attribute is checked, from one read of the file),\n"
	"GNU lines (sha256sum, b2sum ...; -z's NUL-terminated ones too), BSD tagged\n"
	"lines (SHA256 (name) = hex, rhash --bsd), SFV and hashdeep files. One\n"
	"operand that is a directory is checked against the seal in it: pcopy's\n"
	"(.ptools-seal, as -C DIR), a bag (bagit.txt) or an ASC MHL history; one\n"
	"holding several is checked as the first of bag, history, seal (a note\n"
	"names a seal left aside).\n"
	"\n"
	"  -f, --file=MANIFEST  a manifest to read (repeatable; as an operand)\n"
	"      --bag            the one operand (or -C's DIR) is a BagIt bag: validate\n"
	"                       it (RFC 8493); an operand that is a directory holding\n"
	"                       bagit.txt is taken as a bag without --bag\n"
	"      --quick          with a bag: Payload-Oxum and the files' presence only,\n"
	"                       nothing hashed\n"
	"  -C, --root=DIR       resolve paths beneath DIR; absolute paths, paths\n"
	"                       climbing out with .. and symlinks leading out are\n"
	"                       refused and counted as errors\n"
	"  -a, --algorithm=ALGO the algorithm of GNU lines whose digest length is\n"
	"                       ambiguous (128 hex digits: sha512 or blake2b)\n"
	"      --audit=DIR      also walk DIR (beneath -C's root when relative): report\n"
	"                       NEW files (not in the manifest) and MOVED ones (a\n"
	"                       missing entry's digest found there)\n"
	"      --exclude=GLOB   --audit: leave out the entries whose name (or, for a\n"
	"                       GLOB with a '/', path below DIR) matches GLOB\n"
	"                       (repeatable; as pfind -name and -path)\n"
	"      --no-default-excludes  --audit: also report the volatile files left\n"
	"                       out by default (.DS_Store, ._*, Thumbs.db, ...)\n"
	"      --sealed         the manifest must be a pcopy seal: one without its\n"
	"                       seal header and seal line fails (the default for a\n"
	"                       manifest named " SEAL_DEFAULT_NAME ", from -f or stdin)\n"
	"      --signers=FILE   trust a manifest only when its SSH signature, MANIFEST.sig\n"
	"                       (pcopy --sign), is good and by a key FILE (ssh-keygen's\n"
	"                       allowed_signers format) trusts for namespace\n"
	"                       " SSHSIG_NAMESPACE "; otherwise check nothing in it and fail;\n"
	"                       for an ASC MHL history, the chain's signature,\n"
	"                       ascmhl/ascmhl_chain.xml.sig\n"
	"      --mhl=DIR        verify DIR against its ASC MHL history, DIR/ascmhl (also\n"
	"                       when DIR is the only operand): every file against the\n"
	"                       newest digest of each format, the chain, directory\n"
	"                       hashes, NEW and MISSING files\n"
	"      --ignore-missing do not report files that are missing, nor fail for\n"
	"                       them (sha256sum -c's); fails if no file was there\n"
	"      --sizes-only     compare size (and mtime when recorded) only, reading\n"
	"                       no file: nothing is hashed, and the summary says so\n"
	"  -q, --quiet          no OK lines, not even with -v, and no summary unless\n"
	"                       something failed (sha256sum -c's --quiet)\n"
	"      --status         print nothing on stdout and no summary: the exit\n"
	"                       status tells (sha256sum -c's --status)\n"
	"  -w, --warn           accepted for sha256sum -c's sake: a malformed line is\n"
	"                       always reported and always fails the run (exit 2)\n"
	"      --strict         the same\n"
	"  -z, --zero           manifest lines end with NUL (sha256sum -z), even when\n"
	"                       the first one does not show it\n"
	"  -v, --verbose        also print an OK line for every good file\n"
	"  -j, --jobs=N         N worker threads (default: 8 per CPU, at least 16, and\n"
	"                       up to 64 once opens are seen to wait, as phash)\n"
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
	OPT_SIGNERS,
	OPT_IGNORE_MISSING,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
	OPT_SIZES_ONLY,
	OPT_STATUS,
	OPT_STRICT,
	OPT_BAG,
	OPT_QUICK,
	OPT_MHL,
	OPT_EXCLUDE,
	OPT_NO_DEFAULT_EXCLUDES,
};

static const struct option long_options[] = {
	{"file", required_argument, NULL, 'f'},
	{"root", required_argument, NULL, 'C'},
	{"algorithm", required_argument, NULL, 'a'},
	{"audit", required_argument, NULL, OPT_AUDIT},
	{"exclude", required_argument, NULL, OPT_EXCLUDE},
	{"no-default-excludes", no_argument, NULL, OPT_NO_DEFAULT_EXCLUDES},
	{"sealed", no_argument, NULL, OPT_SEALED},
	{"bag", no_argument, NULL, OPT_BAG},
	{"quick", no_argument, NULL, OPT_QUICK},
	{"signers", required_argument, NULL, OPT_SIGNERS},
	{"mhl", required_argument, NULL, OPT_MHL},
	{"ignore-missing", no_argument, NULL, OPT_IGNORE_MISSING},
	{"sizes-only", no_argument, NULL, OPT_SIZES_ONLY},
	{"quiet", no_argument, NULL, 'q'},
	{"status", no_argument, NULL, OPT_STATUS},
	{"verbose", no_argument, NULL, 'v'},
	{"warn", no_argument, NULL, 'w'},
	{"strict", no_argument, NULL, OPT_STRICT},
	{"zero", no_argument, NULL, 'z'},
	{"jobs", required_argument, NULL, 'j'},
	{"progress", no_argument, NULL, OPT_PROGRESS},
	{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

struct options {
	const char **manifests;  /* from -f and the operands; none: stdin */
	size_t nmanifests;
	bool zero;               /* -z: NUL-terminated lines */
	const char *root;
	const char *audit_dir;
	struct exclude exclude;  /* --audit: what the walk leaves out */
	bool excludes_given, no_default_excludes;
	const struct hash_algo *forced;
	bool sizes_only;     /* --sizes-only: no file is read */
	bool verbose, quiet, status;
	bool ignore_missing; /* --ignore-missing: as sha256sum -c's */
	bool sealed;         /* --sealed, or the manifest is named SEAL_DEFAULT_NAME */
	const char *signers; /* --signers: allowed_signers file */
	const char *bag;     /* --bag, or an operand holding bagit.txt: the bag's root */
	bool bag_option;     /* --bag was given */
	bool quick;          /* --quick */
	const char *mhl_dir; /* --mhl, or the one operand holding an ascmhl history */
	int progress;        /* -1: when stderr is a terminal */
	unsigned jobs;
	bool jobs_given;     /* -j: exactly that many workers, far storage or not */
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
 * A bag: --bag DIR, --bag -C DIR, or one operand that is a directory holding
 * bagit.txt (a directory is never a manifest). The options that make no
 * sense for a bag are usage errors.
 */
static void check_bag_options(struct options *options)
{
	if (!options->bag_option && options->nmanifests == 1 && bag_detect(options->manifests[0]))
		options->bag = options->manifests[0];
	if (options->bag_option) {
		if (options->nmanifests > 1 || (options->nmanifests == 0 && !options->root))
			diag_usage_error("--bag takes one DIR (an operand, or -C DIR)");
		if (options->nmanifests == 1 && options->root)
			diag_usage_error("--bag: give DIR as the operand or as -C, not both");
		options->bag = options->nmanifests == 1 ? options->manifests[0] : options->root;
	}
	if (options->quick && !options->bag)
		diag_usage_error("--quick goes with a bag (--bag DIR); --sizes-only is for manifests");
	if (!options->bag)
		return;
	if (options->audit_dir || options->ignore_missing || options->sealed || options->forced ||
	    options->zero)
		diag_usage_error("a bag is checked whole: --audit, --ignore-missing, --sealed, -a and "
				 "-z do not apply");
	options->root = options->bag;
	options->sizes_only = options->sizes_only || options->quick;
}

/*
 * One operand that is a directory holding a pcopy seal (SEAL_DEFAULT_NAME)
 * means that seal, checked beneath the directory: `pverify DEST` as
 * `pverify -C DEST --sealed DEST/.ptools-seal`, as a bag or an ASC MHL
 * history is found in its folder. A directory is never a manifest: one
 * with none of those is a usage error.
 */
static void take_sealed_dir(struct options *options)
{
	static char *seal_path;  /* reachable until exit, as argv's operands are */
	const char *dir = options->manifests[0];
	struct stat st;
	int dirfd;

	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return;
	if (faccessat(dirfd, SEAL_DEFAULT_NAME, F_OK, AT_SYMLINK_NOFOLLOW) != 0) {
		close(dirfd);
		diag_usage_error("%s: a directory with no pcopy seal (" SEAL_DEFAULT_NAME
				 "), bag (bagit.txt) or ASC MHL history (ascmhl/) in it", dir);
	}
	close(dirfd);
	if (asprintf(&seal_path, "%s/%s", dir, SEAL_DEFAULT_NAME) < 0) {
		diag_file_error(NULL, ENOMEM);
		exit(EXIT_FAILED);
	}
	options->root = dir;
	options->manifests[0] = seal_path;
	options->sealed = true;
}

/*
 * A folder holding more than one kind of seal is checked against one of
 * them: a bag, else an ASC MHL history, else pcopy's seal. They can tell
 * different stories (a history copied in as plain files, say, beside the
 * seal of a later copy), so say which was left aside and how to check it.
 * pcopy --mhl writes its seal, then the generation and the chain: a seal
 * newer than the chain was written by a run the history does not record.
 */
static void note_unchecked_seal(const char *dir, const struct options *options)
{
	struct stat seal, chain, history;
	bool has_seal, newer_seal, has_history;
	int dirfd;

	if (options->quiet || options->status)
		return;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return;
	has_seal = fstatat(dirfd, SEAL_DEFAULT_NAME, &seal, AT_SYMLINK_NOFOLLOW) == 0;
	has_history = fstatat(dirfd, MHL2_DIR_NAME, &history, AT_SYMLINK_NOFOLLOW) == 0 &&
		      S_ISDIR(history.st_mode);
	newer_seal = has_seal &&
		     (fstatat(dirfd, MHL2_DIR_NAME "/" MHL2_CHAIN_NAME, &chain, AT_SYMLINK_NOFOLLOW) != 0 ||
		      seal.st_mtim.tv_sec > chain.st_mtim.tv_sec ||
		      (seal.st_mtim.tv_sec == chain.st_mtim.tv_sec &&
		       seal.st_mtim.tv_nsec > chain.st_mtim.tv_nsec));
	close(dirfd);
	if (options->bag && has_history)
		diag_file_note(dir, "checked as a bag; its ASC MHL history is not ('pverify "
			       "--mhl=%s' checks it)", dir);
	if (options->bag ? has_seal : newer_seal)
		diag_file_note(dir, "checked %s; its pcopy seal%s is not ('pverify -C %s %s/"
			       SEAL_DEFAULT_NAME "' checks it)",
			       options->bag ? "as a bag" : "against its ASC MHL history",
			       options->bag ? "" : ", newer than the history,", dir, dir);
}

static void parse_options(int argc, char **argv, struct options *options)
{
	int c;

	memset(options, 0, sizeof(*options));
	options->progress = -1;
	/* Every -f and operand fits: argc bounds both. */
	options->manifests = calloc((size_t)argc + 1, sizeof(*options->manifests));
	if (!options->manifests) {
		diag_file_error(NULL, ENOMEM);
		exit(EXIT_FAILED);
	}
	opterr = 0; /* our own messages, with the program name diag.c uses */
	while ((c = getopt_long(argc, argv, ":f:C:a:qvwzj:hV", long_options, NULL)) != -1) {
		switch (c) {
		case 'f':
			options->manifests[options->nmanifests++] = optarg;
			break;
		case 'w':
		case OPT_STRICT:
			break; /* what they ask for is always done */
		case 'z':
			options->zero = true;
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
		case OPT_EXCLUDE:
			exclude_option(&options->exclude, optarg);
			options->excludes_given = true;
			break;
		case OPT_NO_DEFAULT_EXCLUDES:
			options->no_default_excludes = options->excludes_given = true;
			break;
		case OPT_SEALED:
			options->sealed = true;
			break;
		case OPT_SIGNERS:
			options->signers = optarg;
			break;
		case OPT_BAG:
			options->bag_option = true;
			break;
		case OPT_QUICK:
			options->quick = true;
			break;
		case OPT_MHL:
			options->mhl_dir = optarg;
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
			options->jobs_given = true;
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
	while (optind < argc)
		options->manifests[options->nmanifests++] = argv[optind++];
	check_bag_options(options);
	if (options->bag && options->mhl_dir)
		diag_usage_error("--bag and --mhl do not go together");
	if (!options->bag && !options->mhl_dir && options->nmanifests == 1 && mhlcheck_detect(options->manifests[0])) {
		options->mhl_dir = options->manifests[0];
		options->nmanifests = 0;
		note_unchecked_seal(options->mhl_dir, options);
	} else if (options->bag && !options->bag_option) {
		note_unchecked_seal(options->bag, options);
	}
	if (!options->bag && !options->mhl_dir && options->nmanifests == 1 && !options->root)
		take_sealed_dir(options);
	if (options->mhl_dir) {
		if (options->nmanifests > 0 || options->root || options->audit_dir)
			diag_usage_error("--mhl DIR is the whole check: no manifest, -C or --audit");
		options->root = options->mhl_dir;
		if (!options->ignore_missing)
			options->audit_dir = ".";
	}
	if (options->ignore_missing && options->audit_dir)
		diag_usage_error("--ignore-missing and --audit do not go together (the audit "
				 "reports what is missing)");
	if (options->excludes_given && !options->audit_dir)
		diag_usage_error("--exclude and --no-default-excludes need --audit (every file a "
				 "manifest names is checked)");
	if (options->audit_dir && !options->no_default_excludes &&
	    exclude_add_defaults(&options->exclude) != 0) {
		diag_file_error(NULL, ENOMEM);
		exit(EXIT_FAILED);
	}
	if (options->signers && access(options->signers, R_OK) != 0)
		diag_usage_error("--signers: %s: %s", options->signers, strerror(errno));
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
	struct bag_state bag_state;
	struct out *sink = NULL;
	uint64_t walk_errors = 0;
	const char *last_name = "<stdin>";
	int rc;

	diag_init("pverify");
	/* SIGPIPE keeps its default: "pverify -v < list | head -1" ends when
	 * head does, quietly, as pfind and phash do. */
	parse_options(argc, argv, &options);
	if (getenv("PTOOLS_NO_OPENAT2"))
		beneath_disable_openat2();

	shared.rootfd = AT_FDCWD;
	shared.sizes_only = options.sizes_only;
	shared.quiet = options.quiet || options.status;
	if (options.root) {
		shared.rootfd = open(options.root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (shared.rootfd < 0) {
			diag_file_error(options.root, errno);
			free(options.manifests);
			exclude_fini(&options.exclude);
			return EXIT_USAGE;
		}
	}
	if (options.bag && !bag_has_payload_dir(options.bag)) {
		free(options.manifests);
		exclude_fini(&options.exclude);
		close(shared.rootfd);
		return diag_finish();
	}
	if ((options.audit_dir || options.bag) &&
	    audit_setup(options.root, options.bag ? "data" : options.audit_dir, &walk_root,
			&reading.audit) != 0) {
		free(options.manifests);
		exclude_fini(&options.exclude);
		return EXIT_USAGE;
	}
	if (reading.audit)
		audit_exclude(reading.audit, &options.exclude);
	if (reading.audit && options.bag)
		audit_count_bytes(reading.audit); /* Payload-Oxum */
	sink = out_new(STDOUT_FILENO);
	reading.sink = sink;
	shared.report = sink ? report_new(sink, print_level(&options),
					  options.audit_dir || options.bag ? REPORT_MISSING_KEEP
					  : options.ignore_missing ? REPORT_MISSING_IGNORE
					  : REPORT_MISSING_PRINT)
			     : NULL;
	if (!shared.report)
		goto nomem;
	if (options.progress == 1 || (options.progress == -1 && progress_default()))
		shared.progress = progress_new(1, NULL);

	config = (struct batchpipe_config){
		.jobs = options.jobs,
		.jobs_far = options.jobs_given ? 0 : BATCHPIPE_JOBS_FAR,
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
	reading.zero = options.zero;
	reading.signers = options.signers;
	reading.quiet = options.quiet || options.status;
	if (shared.progress && !options.mhl_dir)
		reading.counted = reading_count(options.manifests, options.nmanifests, options.zero,
					       options.forced, shared.progress);
	if (options.bag) {
		reading.beneath = true;
		if (bag_read(&reading, options.bag, shared.rootfd, &bag_state) != 0) {
			/* Not a bag that can be read: listing its files as NEW would
			 * say nothing more. */
			diag_raise(EXIT_FAILED);
			audit_free(reading.audit);
			reading.audit = NULL;
		}
		last_name = options.bag;
	} else if (options.mhl_dir) {
		/* No history to judge by: no NEW files either. */
		if (mhlcheck_run(&reading, options.mhl_dir, shared.rootfd) != 0) {
			audit_free(reading.audit);
			reading.audit = NULL;
		}
		last_name = options.mhl_dir;
	} else if (options.nmanifests == 0) {
		reading_file(&reading, NULL, options.forced, options.sealed, shared.rootfd);
		last_name = "<stdin>";
	}
	for (size_t i = 0; !options.bag && i < options.nmanifests; i++) {
		/* A manifest that cannot be opened is a usage error, as a
		 * missing -f file always was; the others are still checked. */
		if (reading_file(&reading, options.manifests[i], options.forced, options.sealed,
				 shared.rootfd) != 0)
			diag_raise(EXIT_USAGE);
		last_name = strcmp(options.manifests[i], "-") == 0 ? "<stdin>"
								    : options.manifests[i];
	}
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
		if (audit_run(reading.audit, walk_root, options.jobs, shared.report,
			      &walk_errors) != 0)
			diag_file_error(walk_root, errno);
		if (audit_excluded(reading.audit) > 0 && !options.quiet && !options.status)
			diag_note("%" PRIu64 " excluded entr%s left out of the audit (volatile files, "
				  "--exclude)", audit_excluded(reading.audit),
				  audit_excluded(reading.audit) == 1 ? "y" : "ies");
	}
	if (options.bag && reading.audit) {
		uint64_t files, bytes, others;

		audit_walked(reading.audit, &files, &bytes, &others);
		if (others > 0)
			diag_file_errorf(options.bag, "data/ holds %" PRIu64 " entries that are neither "
					 "files nor directories (symlinks, devices): not payload a "
					 "bag can list", others);
		bag_end(&bag_state, options.bag, files, bytes);
	}

	counts = report_counts(shared.report);
	counts.errors += reading.refused + walk_errors;
	if (counts.failed + counts.size + (options.ignore_missing ? 0 : counts.missing) +
	    counts.errors + counts.new_files + counts.moved > 0)
		diag_raise(EXIT_FAILED);
	/* -q: the summary only when something went wrong; --status: never. */
	if (!options.status && (!options.quiet || diag_status() != EXIT_ALL_GOOD)) {
		report_print_assumed(&counts, last_name);
		report_print_summary(&counts, options.sizes_only,
				     options.audit_dir != NULL || options.bag != NULL,
				     options.ignore_missing);
	}
	if (reading.malformed)
		diag_note("%ju malformed manifest lines skipped", (uintmax_t)reading.malformed);
	/* As sha256sum -c --ignore-missing: manifests none of whose files is
	 * there verified nothing, which is a failure, not a success. */
	if (reading.tasks > 0 && options.ignore_missing &&
		 counts.ok + counts.failed + counts.size + counts.errors == 0) {
		diag_note("%s: no file was verified", last_name);
		diag_raise(EXIT_FAILED);
	}
done:
	report_free(shared.report);
	out_free(sink);
	audit_free(reading.audit);
	exclude_fini(&options.exclude);
	free(walk_root);
	free(options.manifests);
	if (shared.rootfd != AT_FDCWD)
		close(shared.rootfd);
	return diag_finish();
nomem:
	diag_file_error(NULL, ENOMEM);
	goto done;
}
