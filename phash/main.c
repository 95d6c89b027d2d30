/* SPDX-License-Identifier: 0BSD */
/** phash: add digests to a record stream, several algorithms from one read, many files at once. */
#include "prelude.h"
#include "phash.h"
#include "batchpipe.h"
#include "diag.h"
#include "hash.h"
#include "out.h"
#include "pool.h"
#include "progress.h"
#include "reuse.h"
#include "mhl2.h"
#include "sealdir.h"
#include "signkey.h"
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
	"Usage: phash [OPTION]... [PATH]...\n"
	"Add one ALGO:HEX digest attribute per algorithm to each record of a stream\n"
	"(records, plain paths, or NUL-separated paths with -0) read from standard\n"
	"input, or to the PATHs given, or to every entry under each DIR with -r.\n"
	"Each file is read once, however many algorithms; files are hashed in parallel.\n"
	"\n"
	"  -a, --algorithm=LIST  comma-separated algorithms (default sha256): md5 sha1\n"
	"                        sha224 sha256 sha384 sha512 sha512-256 sha3-256\n"
	"                        sha3-512 blake2b blake2s xxh32 xxh64 xxh3 xxh128 crc32\n"
	"  -j, --jobs=N          files hashed at once (default 8 per core, at least 16,\n"
	"                        and up to 64 once opens are seen to wait: far storage)\n"
	"  -0, --null            input paths are separated by NUL (find -print0)\n"
	"  -r, --recursive       walk each PATH as a directory tree\n"
	"  -f, --format=FORMAT   records (default), gnu (as sha256sum), bsd (as --tag)\n"
	"      --tag             the same as --format=bsd (sha256sum's)\n"
	"      --reuse=OLDLIST   keep the digests of files whose inode, size and mtime\n"
	"                        are unchanged since OLDLIST, without reading them\n"
	"      --exclude=GLOB    -r: leave out the entries whose name (or, for a GLOB\n"
	"                        with a '/', path below PATH) matches GLOB (repeatable;\n"
	"                        as pfind -name and -path)\n"
	"      --no-default-excludes  -r: also hash the volatile files left out by\n"
	"                        default (.DS_Store, ._*, Thumbs.db, lost+found, ...)\n"
	"      --unordered       write records as they finish, not in input order\n"
	"      --nocache         drop each file's pages from the cache once hashed\n"
	"      --progress        report progress on standard error (default on a tty)\n"
	"      --no-progress     do not\n"
	"      --seal DIR        hash every file under DIR and, only when all were read,\n"
	"                        write the seal DIR/.ptools-seal (atomically; a previous\n"
	"                        seal stays whole until the new one is complete)\n"
	"      --mhl             with --seal: add an ASC MHL generation to DIR/ascmhl\n"
	"      --sign=KEY        with --seal: sign the seal (DIR/.ptools-seal.sig; with --mhl\n"
	"                        ascmhl/ascmhl_chain.xml.sig) as ssh-keygen -Y sign -n\n"
	"                        ptools-seal does; KEY: an Ed25519 private key file, or a\n"
	"                        public key whose private key is in ssh-agent\n"
	"                        instead (default -a xxh64,md5; formats md5 sha1 xxh32\n"
	"                        xxh64 xxh3 xxh128, and c4 from sha512 or -a c4)\n"
	"  -c, --check           check manifests instead, as sha256sum -c does: runs\n"
	"                        pverify with the other arguments (see pverify --help)\n"
	"  -h, --help            show this help\n"
	"  -V, --version         show the version\n"
	"\n"
	"Exit status: 0 all good, 1 a file could not be read or changed while being\n"
	"hashed, 2 usage error or malformed input.\n";

/*
 * The batch pipeline's policy for phash: sizes are mostly unknown until the
 * files are hashed (plain paths, walks), so batches are handed on whenever a
 * worker may be idle and hold about 1 MiB of the typical size seen so far.
 */
#define BATCH_BYTES ((uint64_t)1 << 20)

/*
 * phash -c: sha256sum -c's habit. Checking is pverify's job, so run it with
 * every argument but -c, preferring the pverify installed beside this phash
 * to whatever PATH finds first. Returns only when there is no -c.
 */
static void check_instead(int argc, char **argv)
{
	char self[PATH_MAX], **args;
	ssize_t len;
	int n = 0, i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--check") == 0)
			break;
	if (i >= argc || strcmp(argv[i], "--") == 0)
		return;
	args = calloc((size_t)argc + 1, sizeof(*args));
	if (!args) {
		diag_file_error(NULL, ENOMEM);
		exit(EXIT_FAILED);
	}
	args[n++] = (char *)"pverify";
	for (int k = 1; k < argc; k++)
		if (k != i)
			args[n++] = argv[k];
	len = readlink("/proc/self/exe", self, sizeof(self) - sizeof("/pverify"));
	if (len > 0) {
		char *slash;
		self[len] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			strcpy(slash + 1, "pverify");
			execv(self, args);
		}
	}
	execvp("pverify", args);
	diag_usage_error("-c: cannot run pverify: %s", strerror(errno));
}

/* --sign KEY, loaded once options are read; wiped at the end. */
static struct signkey sign_key;

static void parse_options(int argc, char **argv, struct options *opt)
{
	enum { OPT_REUSE = 256, OPT_UNORDERED, OPT_NOCACHE, OPT_PROGRESS, OPT_NO_PROGRESS,
	       OPT_SEAL, OPT_MHL, OPT_SIGN, OPT_EXCLUDE, OPT_NO_DEFAULT_EXCLUDES, OPT_TAG };
	static const struct option longopts[] = {
		{"algorithm", required_argument, NULL, 'a'},
		{"jobs", required_argument, NULL, 'j'},
		{"null", no_argument, NULL, '0'},
		{"recursive", no_argument, NULL, 'r'},
		{"format", required_argument, NULL, 'f'},
		{"tag", no_argument, NULL, OPT_TAG},
		{"reuse", required_argument, NULL, OPT_REUSE},
		{"exclude", required_argument, NULL, OPT_EXCLUDE},
		{"no-default-excludes", no_argument, NULL, OPT_NO_DEFAULT_EXCLUDES},
		{"unordered", no_argument, NULL, OPT_UNORDERED},
		{"nocache", no_argument, NULL, OPT_NOCACHE},
		{"progress", no_argument, NULL, OPT_PROGRESS},
		{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
		{"seal", no_argument, NULL, OPT_SEAL},
		{"mhl", no_argument, NULL, OPT_MHL},
		{"sign", required_argument, NULL, OPT_SIGN},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *algos = NULL, *bad, *sign_path = NULL;
	char *mhl_algos = NULL;
	size_t bad_len;
	bool no_default_excludes = false, excludes_given = false;
	int c, n;

	opt->progress = progress_default();
	opterr = 0; /* our own messages, with the program name diag.c uses */
	while ((c = getopt_long(argc, argv, ":a:j:0rf:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': algos = optarg; break;
		case 'j': opt->jobs = diag_parse_count(optarg, "job"); opt->jobs_given = true; break;
		case '0': opt->nul = true; break;
		case 'r': opt->recursive = true; break;
		case 'f':
			if (strcmp(optarg, "native") == 0 || strcmp(optarg, "records") == 0)
				opt->format = FORMAT_NATIVE;
			else if (strcmp(optarg, "gnu") == 0)
				opt->format = FORMAT_GNU;
			else if (strcmp(optarg, "bsd") == 0)
				opt->format = FORMAT_BSD;
			else
				diag_usage_error("unknown format '%s' (native, gnu or bsd)", optarg);
			break;
		case OPT_TAG: opt->format = FORMAT_BSD; break;
		case OPT_REUSE: opt->reuse_path = optarg; break;
		case OPT_EXCLUDE:
			exclude_option(&opt->exclude, optarg);
			excludes_given = true;
			break;
		case OPT_NO_DEFAULT_EXCLUDES: no_default_excludes = excludes_given = true; break;
		case OPT_UNORDERED: opt->unordered = true; break;
		case OPT_NOCACHE: opt->nocache = true; break;
		case OPT_PROGRESS: opt->progress = true; break;
		case OPT_NO_PROGRESS: opt->progress = false; break;
		case OPT_SEAL: opt->seal = true; break;
		case OPT_MHL: opt->mhl = true; break;
		case OPT_SIGN: sign_path = optarg; break;
		case 'h': diag_help(usage_text);
		case 'V': diag_version();
		default: diag_bad_option(c, argv);
		}
	}
	if (opt->mhl && !opt->seal)
		diag_usage_error("--mhl goes with --seal DIR");
	if (sign_path && !opt->seal)
		diag_usage_error("--sign goes with --seal DIR");
	if (opt->mhl)
		algos = mhl_algos = mhl2_algorithm_list(algos ? algos : MHL2_DEFAULT_ALGORITHMS);
	if (opt->mhl && !algos) {
		diag_file_error(NULL, ENOMEM);
		exit(EXIT_FAILED);
	}
	if (!algos)
		algos = "sha256";
	n = hash_parse_list(algos, opt->algos, HASH_SET_MAX, &bad, &bad_len);
	if (n < 0 && bad)
		diag_usage_error("unknown algorithm '%.*s'", (int)bad_len, bad);
	if (n <= 0)
		diag_usage_error("bad algorithm list '%s'", algos);
	opt->count = (size_t)n;
	for (size_t i = 0; opt->mhl && i < opt->count; i++)
		if (mhl2_format_of_algo(opt->algos[i]) < 0)
			diag_usage_error("--mhl: ASC MHL has no format for %s (it knows c4, md5, "
					 "sha1, xxh32, xxh64, xxh3, xxh128)", opt->algos[i]->name);
	free(mhl_algos);
	if (opt->seal) {
		if (argc - optind != 1)
			diag_usage_error("--seal takes exactly one directory");
		if (opt->format != FORMAT_NATIVE || opt->unordered || opt->nul)
			diag_usage_error("--seal writes records in order: no --format, "
					 "--unordered or -0");
		opt->recursive = true;
	}
	if (sign_path) {
		/* Read before any file is: a key that cannot sign stops the run. */
		signkey_setup(&sign_key, sign_path);
		opt->sign = &sign_key;
	}
	if (opt->format == FORMAT_GNU && opt->count != 1)
		diag_usage_error("--format gnu takes exactly one algorithm (use --format bsd for several)");
	if (opt->recursive && optind == argc)
		diag_usage_error("-r needs at least one directory");
	if (excludes_given && !opt->recursive)
		diag_usage_error("--exclude and --no-default-excludes need -r (records and paths "
				 "given are hashed as listed)");
	if (opt->recursive && !no_default_excludes && exclude_add_defaults(&opt->exclude) != 0) {
		diag_file_error(NULL, ENOMEM);
		exit(EXIT_FAILED);
	}
	if (opt->nul && optind < argc && !opt->recursive)
		diag_usage_error("-0 reads paths from standard input: no PATH arguments");
	if (!opt->jobs)
		opt->jobs = pool_default_threads(8, 16, 256);
}

int main(int argc, char **argv)
{
	struct phash ph;
	struct batchpipe_config config;
	struct sealdir seal = {.dirfd = -1, .records = -1, .pipe = -1};
	int out_fd = STDOUT_FILENO;

	diag_init(argv[0]);
	check_instead(argc, argv);
	memset(&ph, 0, sizeof(ph));
	parse_options(argc, argv, &ph.opt);

	if (ph.opt.seal) {
		out_fd = sealdir_open(&seal, argv[optind], &ph.opt);
		if (out_fd < 0) {
			/* errno 0: DIR's history is at fault, and was reported. */
			int status = errno ? EXIT_USAGE : EXIT_FAILED;

			if (errno)
				diag_file_error(argv[optind], errno);
			sealdir_close(&seal);
			exclude_fini(&ph.opt.exclude);
			return status;
		}
	}
	ph.out = out_new(out_fd);
	if (!ph.out) {
		diag_file_error(NULL, errno);
		exclude_fini(&ph.opt.exclude);
		return EXIT_FAILED;
	}
	if (ph.opt.reuse_path) {
		ph.reuse = reuse_load(ph.opt.reuse_path, ph.opt.algos, ph.opt.count);
		if (!ph.reuse) {
			diag_file_error(ph.opt.reuse_path, errno);
			out_free(ph.out);
			exclude_fini(&ph.opt.exclude);
			return EXIT_USAGE;
		}
	}
	if (ph.opt.progress)
		ph.progress = progress_new(1, NULL);

	config = (struct batchpipe_config){
		.jobs = ph.opt.jobs,
		.jobs_far = ph.opt.jobs_given ? 0 : BATCHPIPE_JOBS_FAR,
		.out = ph.out,
		/* The window counts batches: it bounds memory (a few kilobytes of
		 * output each) while a huge file holds back the small files
		 * finished behind it. */
		.window = ph.opt.unordered ? 0 : 256 + 8 * (size_t)ph.opt.jobs,
		.flush = BATCHPIPE_FLUSH_IDLE,
		.batch_bytes = BATCH_BYTES,
		.parallel_engines = pool_default_threads(1, 1, 64),
		.engine = {.nocache = ph.opt.nocache, .progress = ph.progress},
		.item_size = sizeof(struct task),
		.item_init = task_init,
		.item_free = task_free,
		.item_reset = task_reset,
		.open = hashfile_open,
		.finish = hashfile_finish,
		.arg = &ph,
	};
	ph.pipe = batchpipe_new(&config);
	if (!ph.pipe) {
		diag_file_error(NULL, errno);
		exclude_fini(&ph.opt.exclude);
		return EXIT_FAILED;
	}

	if (ph.opt.recursive)
		source_walk(&ph, argv + optind, argc - optind);
	else if (optind < argc)
		source_arguments(&ph, argv + optind, argc - optind);
	else
		source_input(&ph, "-");

	/* An output error is reported once, below. */
	(void)batchpipe_finish(ph.pipe);
	progress_finish(ph.progress);
	if (atomic_load(&ph.excluded) > 0) {
		uint64_t n = atomic_load(&ph.excluded);
		diag_note("%" PRIu64 " excluded entr%s left out (volatile files, --exclude)", n,
			  n == 1 ? "y" : "ies");
	}
	out_report_error(ph.out);
	batchpipe_free(ph.pipe);
	if (ph.opt.seal) {
		(void)sealdir_write(&seal, &ph.opt); /* records the exclude patterns */
		sealdir_close(&seal);
	}
	exclude_fini(&ph.opt.exclude);
	if (ph.opt.sign)
		signkey_wipe(&sign_key);
	reuse_free(ph.reuse);
	out_free(ph.out);
	return diag_finish();
}
