/* SPDX-License-Identifier: 0BSD */
/** pcopy: sealed copy of a tree (or of a record stream) to several destinations. */
#include "prelude.h"
#include "copy.h"
#include "bagger.h"
#include "delta.h"
#include "diag.h"
#include "exclude.h"
#include "hash.h"
#include "input.h"
#include "mhl2.h"
#include "pool.h"
#include "progress.h"
#include "proto.h"
#include "rdest.h"
#include "receive.h"
#include "remote.h"
#include "server.h"
#include "signkey.h"
#include "single.h"
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_text[] =
	"Usage: pcopy [OPTION]... SRC DEST...\n"
	"       pcopy [OPTION]... FILE DEST...\n"
	"       pcopy [OPTION]... --to DEST [--to DEST]... [--from ROOT] < RECORDS\n"
	"       pcopy --rollback [--bag] DEST...\n"
	"Copy the contents of SRC (or the paths read on standard input) into every\n"
	"DEST at once, reading each file once, and seal each destination with a\n"
	"manifest that pverify -C DEST < DEST/.ptools-seal checks. SRC or any DEST\n"
	"may be on another host, written [USER@]HOST:PATH (reached over ssh).\n"
	"A single FILE goes into each DEST that is a directory under its own name,\n"
	"else becomes DEST; its record (INODE SIZE DEST digests) is printed, and it\n"
	"is sealed only with --seal.\n"
	"\n"
	"  -a, --algo=LIST      digests in the seal (default sha256), e.g. sha256,xxh128\n"
	"  -t, --to=DEST        a destination (repeatable; records are read from stdin)\n"
	"      --from=ROOT      relative record paths are under ROOT, absolute ones must be\n"
	"  -0, --null           input is NUL-separated plain paths (find -print0)\n"
	"  -f, --force          replace existing files\n"
	"  -u, --update         replace existing files whose size or mtime differ\n"
	"      --delta          replace existing files whose content differs; files of\n"
	"                       1 MiB or more are compared by blocks and only the blocks\n"
	"                       that differ are written (also with -f and -u)\n"
	"      --inplace        write the changed blocks into the file itself (the old\n"
	"                       bytes kept in the journal, so a rollback restores them)\n"
	"  -W, --whole-file     no delta: rewrite every replaced file whole\n"
	"      --block-size=N   delta block size (default 64K; 4K to 1M, a power of two)\n"
	"  -p, --preserve       also owner, group, xattrs and ACLs\n"
	"  -H, --hard-links     keep hard links within the source as hard links\n"
	"  -n, --dry-run        say what would be copied, replaced, kept, refused or\n"
	"                       deleted in each DEST (ACTION TAB DEST TAB PATH on\n"
	"                       stdout; a delta also its blocks); nothing is written\n"
	"      --delete         remove from each DEST what SRC does not have (set\n"
	"                       aside until the seal is written; undone by a rollback;\n"
	"                       excluded entries are kept); an empty SRC (an unmounted\n"
	"                       card or share) deletes nothing and fails the run\n"
	"      --allow-empty-source  let --delete empty each DEST when SRC is empty\n"
	"      --exclude=GLOB   leave out of the walk of SRC the entries whose name (or,\n"
	"                       for a GLOB with a '/', path below SRC) matches GLOB\n"
	"                       (repeatable; as pfind -name and -path)\n"
	"      --no-default-excludes  also copy the volatile files left out by default\n"
	"                       (.DS_Store, ._*, Thumbs.db, lost+found, ...)\n"
	"  -k, --keep-going     leave out source files that cannot be read (listed at\n"
	"                       the end; exit 1) instead of stopping and rolling back\n"
	"      --fsync          sync files, directories and the journal before sealing\n"
	"      --verify         read every copy back (uncached) and compare digests\n"
	"      --mhl            also write an ASC MHL generation (process transfer) and\n"
	"                       chain in DEST/ascmhl, extending a history already there,\n"
	"                       with the digests of -a that MHL names (default -a\n"
	"                       xxh64,md5; c4 stands for sha512, written in base58);\n"
	"                       SRC's own history (SRC/ascmhl) is checked and carried,\n"
	"                       not copied as files\n"
	"      --seal=NAME      name of the seal in each destination (default .ptools-seal)\n"
	"      --bag            make each DEST a BagIt bag (RFC 8493): files under\n"
	"                       DEST/data, manifest-ALG.txt for each digest of -a that\n"
	"                       BagIt names (md5, sha1, sha224, sha256, sha384, sha512)\n"
	"                       in place of the seal, bag-info.txt, tagmanifest-ALG.txt\n"
	"                       and bagit.txt; with --rollback, DEST is a bag's root\n"
	"      --sign=KEY       sign each seal (SEAL.sig beside it, as ssh-keygen -Y sign\n"
	"                       -n " SSHSIG_NAMESPACE " would; with --bag, the sha256 tag\n"
	"                       manifest, or the first; with --mhl, also the chain,\n"
	"                       ascmhl/ascmhl_chain.xml.sig) with the Ed25519 key in the\n"
	"                       OpenSSH key file KEY, or through ssh-agent (SSH_AUTH_SOCK)\n"
	"                       when KEY is a public key or an encrypted private key\n"
	"  -j, --readers=N      source files read at once per source device (default 4;\n"
	"                       up to 64 once the source is found slow to answer)\n"
	"  -w, --writers=N      writer threads per extra destination (default 2)\n"
	"      --progress       show progress even when stderr is not a terminal\n"
	"      --no-progress    never show progress\n"
	"      --resume         finish the run interrupted in each DEST: keep what it\n"
	"                       copied (compared with the source) and copy the rest\n"
	"      --rollback       finish the undo left by an interrupted run in each DEST\n"
	"  -e, --rsh=CMD        the remote shell (default $PTOOLS_RSH, else ssh), e.g.\n"
	"                       -e 'ssh -p 2222 -i key'\n"
	"      --remote-pcopy=PATH  the pcopy to run on the other host (default pcopy)\n"
	"  -z, --compress       compress what travels to and from other hosts (zstd)\n"
	"  -h, --help           show this help and exit\n"
	"  -V, --version        show the version and exit\n"
	"\n"
	"Exit status: 0 every destination sealed, 1 some destination failed (rolled\n"
	"back; see the summary), 2 usage error or malformed input; 130/143 after\n"
	"SIGINT/SIGTERM (everything rolled back).\n";

enum {
	OPT_FSYNC = 256,
	OPT_VERIFY,
	OPT_SEAL,
	OPT_SIGN,
	OPT_MHL,
	OPT_FROM,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
	OPT_ROLLBACK,
	OPT_RESUME,
	OPT_DELETE,
	OPT_ALLOW_EMPTY_SOURCE,
	OPT_REMOTE_PCOPY,
	OPT_SERVER,
	OPT_DELTA,
	OPT_INPLACE,
	OPT_BLOCK_SIZE,
	OPT_BAG,
	OPT_EXCLUDE,
	OPT_NO_DEFAULT_EXCLUDES,
};

static const struct option long_options[] = {
	{ "algo", required_argument, NULL, 'a' },
	{ "to", required_argument, NULL, 't' },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "null", no_argument, NULL, '0' },
	{ "force", no_argument, NULL, 'f' },
	{ "update", no_argument, NULL, 'u' },
	{ "delta", no_argument, NULL, OPT_DELTA },
	{ "inplace", no_argument, NULL, OPT_INPLACE },
	{ "whole-file", no_argument, NULL, 'W' },
	{ "block-size", required_argument, NULL, OPT_BLOCK_SIZE },
	{ "preserve", no_argument, NULL, 'p' },
	{ "hard-links", no_argument, NULL, 'H' },
	{ "keep-going", no_argument, NULL, 'k' },
	{ "delete", no_argument, NULL, OPT_DELETE },
	{ "allow-empty-source", no_argument, NULL, OPT_ALLOW_EMPTY_SOURCE },
	{ "exclude", required_argument, NULL, OPT_EXCLUDE },
	{ "no-default-excludes", no_argument, NULL, OPT_NO_DEFAULT_EXCLUDES },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "fsync", no_argument, NULL, OPT_FSYNC },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "seal", required_argument, NULL, OPT_SEAL },
	{ "sign", required_argument, NULL, OPT_SIGN },
	{ "bag", no_argument, NULL, OPT_BAG },
	{ "mhl", no_argument, NULL, OPT_MHL },
	{ "readers", required_argument, NULL, 'j' },
	{ "writers", required_argument, NULL, 'w' },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	{ "rollback", no_argument, NULL, OPT_ROLLBACK },
	{ "resume", no_argument, NULL, OPT_RESUME },
	{ "rsh", required_argument, NULL, 'e' },
	{ "compress", no_argument, NULL, 'z' },
	{ "remote-pcopy", required_argument, NULL, OPT_REMOTE_PCOPY },
	{ "server", no_argument, NULL, OPT_SERVER },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* Set by the handler; read by the copy engine between blocks and entries. */
static atomic_int interrupted;

static void on_signal(int sig)
{
	int none = 0;

	/* The first signal wins; a lock-free atomic is async-signal-safe. */
	atomic_compare_exchange_strong(&interrupted, &none, sig);
	remote_signal_all(SIGTERM);
}

/*
 * Roll back on SIGINT, SIGTERM and SIGHUP, except those ignored when pcopy
 * started: nohup ignores SIGHUP, and a non-interactive shell starts
 * background jobs with SIGINT ignored; the user asked for the run to
 * survive them.
 */
static void catch_signals(void)
{
	static const int signals[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		if (sigaction(signals[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sigaction(signals[i], &sa, NULL);
	}
	signal(SIGPIPE, SIG_IGN);
}

/*
 * SRC's own seal is left out of the copy (each destination gets a new one),
 * so anything else by that name in SRC would be silently lost: refuse it
 * before anything is written.
 */
static void refuse_seal_name_in_source(const char *src, const char *seal_name)
{
	int srcfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (srcfd < 0)
		return; /* reported by the copy itself */
	if (seal_file_is_seal(srcfd, seal_name) == 0)
		diag_usage_error("%s/%s: a source file has the seal's name (choose another "
				 "with --seal)", src, seal_name);
	close(srcfd);
}

/*
 * path made absolute with its symlinks resolved, as far as it exists; the
 * rest (destinations not made yet) is appended as written. NULL when that
 * rest holds "." or ".." (not resolved here), or on an error.
 */
static char *canonical_path(const char *path)
{
	char *real = realpath(path, NULL), *copy, *slash, *parent, *out = NULL;
	const char *base;

	if (real || errno != ENOENT)
		return real;
	copy = strdup(path);
	if (!copy)
		return NULL;
	for (size_t n = strlen(copy); n > 1 && copy[n - 1] == '/'; n--)
		copy[n - 1] = '\0';
	slash = strrchr(copy, '/');
	base = slash ? slash + 1 : copy;
	if (slash == copy)
		parent = strdup("/");
	else if (slash)
		parent = (*slash = '\0', canonical_path(copy));
	else
		parent = canonical_path(".");
	if (parent && *base && strcmp(base, ".") != 0 && strcmp(base, "..") != 0 &&
	    asprintf(&out, "%s%s%s", parent, strcmp(parent, "/") == 0 ? "" : "/", base) < 0)
		out = NULL;
	free(parent);
	free(copy);
	return out;
}

/* Whether canonical path inner lies strictly below canonical path outer. */
static bool path_below(const char *inner, const char *outer)
{
	size_t len = strlen(outer);

	if (strcmp(outer, "/") == 0)
		return strcmp(inner, "/") != 0;
	return strncmp(inner, outer, len) == 0 && inner[len] == '/';
}

/*
 * A destination that is the source directory itself would have its journal,
 * seal and temporaries made among the files being copied: refuse it before
 * anything is made. (A destination inside the source is skipped by the walk.)
 * So are a destination inside another (its copy would become part of the
 * other's, unsealed, and the other's --delete would take it) and, with
 * --delete, a destination holding the source (the mirror would remove it).
 */
static void refuse_overlapping_dests(const char *src, const char *const *to, size_t nto, bool bag,
				  bool delete_extra)
{
	struct stat src_st, st;
	char **canon = calloc(nto + 1, sizeof(*canon));
	char *src_canon;

	if (src && stat(src, &src_st) == 0) {
		for (size_t i = 0; i < nto; i++) {
			if (stat(to[i], &st) == 0 && st.st_dev == src_st.st_dev &&
			    st.st_ino == src_st.st_ino)
				diag_usage_error("%s: the destination is the source directory", to[i]);
			/* --bag: the run's root is DEST/data. */
			if (bag) {
				char data[PATH_MAX];
				if ((size_t)snprintf(data, sizeof(data), "%s/data", to[i]) < sizeof(data) &&
				    stat(data, &st) == 0 && st.st_dev == src_st.st_dev &&
				    st.st_ino == src_st.st_ino)
					diag_usage_error("%s: the bag's payload directory is the source "
							 "directory", to[i]);
			}
		}
	}
	if (!canon)
		return;
	for (size_t i = 0; i < nto; i++)
		canon[i] = remote_operand(to[i]) ? NULL : canonical_path(to[i]);
	src_canon = src && !remote_operand(src) ? canonical_path(src) : NULL;
	for (size_t i = 0; i < nto; i++) {
		if (!canon[i])
			continue;
		if (delete_extra && src_canon && path_below(src_canon, canon[i]))
			diag_usage_error("%s: holds the source directory %s: --delete would remove it",
					 to[i], src);
		for (size_t j = 0; j < nto; j++)
			if (j != i && canon[j] && path_below(canon[i], canon[j]))
				diag_usage_error("%s: inside another destination, %s (its copy would "
						 "become unsealed content of the other)", to[i], to[j]);
	}
	for (size_t i = 0; i < nto; i++)
		free(canon[i]);
	free(canon);
	free(src_canon);
}

/*
 * --bag: the digests a bag can carry, and the modes a bag does not go
 * with (--dry-run, --resume, --seal: the bag's tag files are the seal).
 * Each problem is a usage error.
 */
static void check_bag_options(const struct copy_options *opt)
{
	size_t index[HASH_SET_MAX], n = bagger_algos(opt->algos, opt->nalgos, index);

	if (n == 0)
		diag_usage_error("--bag: none of the digests of -a can go in a bag (BagIt names "
				 "md5, sha1, sha224, sha256, sha384 and sha512)");
	for (size_t i = 0, k = 0; i < opt->nalgos; i++) {
		if (k < n && index[k] == i) {
			k++;
			continue;
		}
		diag_note("--bag: %s has no BagIt name: left out of the bag's manifests",
			  opt->algos[i]->name);
	}
	if (opt->dry_run)
		diag_usage_error("--bag and --dry-run do not go together");
	if (opt->resume)
		diag_usage_error("--bag and --resume do not go together (roll back with "
				 "pcopy --rollback --bag DEST and copy again)");
	if (strcmp(opt->seal_name, SEAL_DEFAULT_NAME) != 0)
		diag_usage_error("--bag and --seal do not go together (a bag has no native seal)");
}

/* --rollback --bag DEST: the run's journal is in DEST/data. */
static int rollback_bag(const char *dest)
{
	char *data;
	int rc;

	if (asprintf(&data, "%s/data", dest) < 0) {
		diag_file_error(dest, ENOMEM);
		return -1;
	}
	rc = copy_rollback(data);
	free(data);
	return rc;
}

/*
 * pcopy FILE DEST...: check FILE (followed if a symlink, as cp follows its
 * operands) and resolve every local DEST before anything is written; a
 * problem with either is said and ends the run. remote_src: FILE is on
 * another host (only the DESTs are looked at). Returns the targets (a
 * remote DEST's left empty: its side resolves it).
 */
static struct single_target *single_targets(const char *src, bool remote_src, const char *base,
					    const char *const *to, size_t nto)
{
	struct single_target *targets = calloc(nto ? nto : 1, sizeof(*targets));
	struct stat src_st, st, *roots = calloc(nto ? nto : 1, sizeof(*roots));
	bool bad = false;

	if (!targets || !roots) {
		diag_file_error(NULL, ENOMEM);
		exit(EXIT_FAILED);
	}
	if (!remote_src && stat(src, &src_st) != 0) {
		diag_file_error(src, errno);
		exit(EXIT_FAILED);
	}
	for (size_t i = 0; i < nto; i++) {
		if (remote_operand(to[i]))
			continue;
		if (single_resolve(to[i], base, &targets[i]) != 0) {
			diag_file_error(to[i], errno);
			bad = true;
			continue;
		}
		if (!remote_src && stat(targets[i].shown, &st) == 0 && st.st_dev == src_st.st_dev &&
		    st.st_ino == src_st.st_ino)
			diag_usage_error("%s: the destination is the source file itself", to[i]);
		/* One run holds a root (its lock and journal): one DEST in each. */
		if (stat(targets[i].root, &roots[i]) != 0)
			continue; /* said when it is opened */
		for (size_t j = 0; j < i; j++)
			if (targets[j].root && roots[j].st_dev == roots[i].st_dev &&
			    roots[j].st_ino == roots[i].st_ino)
				diag_usage_error("%s: in the same directory as %s (one DEST per "
						 "directory)", to[i], to[j]);
	}
	free(roots);
	if (bad)
		exit(EXIT_FAILED);
	return targets;
}

/*
 * A single FILE (remote_src: host:FILE) to the DESTs: its name, the targets
 * (single_targets), and the options a single file takes: sealed only with
 * --seal, no -H (one file has no other names to keep).
 */
static struct single_target *single_setup(const char *src, bool remote_src, const char *const *to,
					  size_t nto, bool seal_given, struct copy_options *opt,
					  char **base)
{
	*base = single_basename(remote_src ? strchr(src, ':') + 1 : src);
	if (!*base) {
		diag_file_error(NULL, ENOMEM);
		exit(EXIT_FAILED);
	}
	opt->no_seal = !seal_given;
	opt->hard_links = false;
	opt->single_source = *base;
	return single_targets(src, remote_src, *base, to, nto);
}

/*
 * Whether SRC is a single file: a regular file (or a symlink to one). A
 * directory is a tree; a missing SRC is said here; anything else is refused.
 */
static bool source_is_file(const char *src)
{
	struct stat st;

	if (stat(src, &st) != 0) {
		diag_file_error(src, errno);
		exit(EXIT_FAILED);
	}
	if (S_ISDIR(st.st_mode))
		return false;
	if (!S_ISREG(st.st_mode))
		diag_usage_error("%s: not a regular file or a directory (pcopy copies a device, "
				 "fifo or socket only as an entry of a tree)", src);
	return true;
}

/*
 * A pull with --exclude or --no-default-excludes: the remote side walks SRC
 * with this set, defaults included, which SETUP carries within its bounds.
 */
static void pull_excludes(struct copy_options *opt, const struct exclude *set)
{
	if (set->n > PROTO_EXCLUDE_MAX)
		diag_usage_error("too many --exclude patterns for a remote SRC (at most %d, the "
				 "default ones included)", PROTO_EXCLUDE_MAX);
	for (size_t i = 0; i < set->n; i++)
		if (strlen(set->rules[i].given) > PROTO_EXCLUDE_LEN_MAX)
			diag_usage_error("an --exclude pattern too long for a remote SRC (at most %zu "
					 "bytes)", PROTO_EXCLUDE_LEN_MAX);
	opt->exclude_travels = true;
}

/* A single file, local or pulled, is sealed (and so signed) only when asked. */
static const char sign_needs_seal[] = "--sign needs --seal with a single FILE (a single file is "
				      "sealed only when asked)";

int main(int argc, char **argv)
{
	struct copy_options opt;
	const char **to = NULL;
	const char *from = NULL, *algo_list = NULL;
	char *mhl_algos = NULL;
	size_t nto = 0;
	bool rollback = false, nul = false, server = false, any_remote = false, seal_given = false;
	bool single = false;
	struct single_target *targets = NULL;
	char *single_base = NULL;
	const char *pull_from = NULL, *sign_path = NULL;
	struct signkey sign_key;
	struct remote *pulling = NULL;
	int progress = -1, c, status;
	struct copy *copy;
	struct exclude exclude;
	bool no_default_excludes = false, excludes_given = false;

	diag_init("pcopy");
	exclude_init(&exclude);
	memset(&opt, 0, sizeof(opt));
	opt.readers = 4;
	opt.writers = 2;
	opt.seal_name = SEAL_DEFAULT_NAME;
	opt.block_size = DELTA_BLOCK_DEFAULT;
	to = calloc((size_t)argc + 1, sizeof(*to));
	if (!to) {
		diag_file_error(NULL, ENOMEM);
		return EXIT_FAILED;
	}
	opterr = 0; /* one message of our own, not getopt's and ours */
	while ((c = getopt_long(argc, argv, ":a:t:0fuWpHknj:w:e:zhV", long_options, NULL)) != -1) {
		switch (c) {
		case 'a': algo_list = optarg; break;
		case 't': to[nto++] = optarg; break;
		case OPT_FROM: from = optarg; break;
		case '0': nul = true; break;
		case 'f': opt.force = true; break;
		case 'u': opt.update = true; break;
		case OPT_DELTA: opt.delta = true; break;
		case OPT_INPLACE: opt.inplace = true; break;
		case 'W': opt.whole_file = true; break;
		case OPT_BLOCK_SIZE:
			if (delta_parse_block_size(optarg, &opt.block_size) != 0)
				diag_usage_error("invalid block size '%s' (a power of two from 4K to 1M)",
						 optarg);
			break;
		case 'p': opt.preserve = true; break;
		case 'H': opt.hard_links = true; break;
		case 'k': opt.keep_going = true; break;
		case OPT_DELETE: opt.delete_extra = true; break;
		case OPT_ALLOW_EMPTY_SOURCE: opt.allow_empty_source = true; break;
		case OPT_EXCLUDE:
			exclude_option(&exclude, optarg);
			excludes_given = true;
			break;
		case OPT_NO_DEFAULT_EXCLUDES: no_default_excludes = excludes_given = true; break;
		case 'n': opt.dry_run = true; break;
		case OPT_FSYNC: opt.fsync = true; break;
		case OPT_VERIFY: opt.verify = true; break;
		case OPT_SEAL: opt.seal_name = optarg; seal_given = true; break;
		case OPT_SIGN: sign_path = optarg; break;
		case OPT_BAG: opt.bag = true; break;
		case OPT_MHL: opt.mhl = true; break;
		case 'j':
			opt.readers = diag_parse_count(optarg, "reader");
			opt.readers_given = true;
			break;
		case 'w': opt.writers = diag_parse_count(optarg, "writer"); break;
		case OPT_PROGRESS: progress = 1; break;
		case OPT_NO_PROGRESS: progress = 0; break;
		case OPT_ROLLBACK: rollback = true; break;
		case OPT_RESUME: opt.resume = true; break;
		case 'e': opt.how.rsh = optarg; break;
		case 'z': opt.compress = true; break;
		case OPT_REMOTE_PCOPY: opt.how.remote_pcopy = optarg; break;
		case OPT_SERVER: server = true; break;
		case 'h': diag_help(usage_text);
		case 'V': diag_version();
		default: diag_bad_option(c, argv);
		}
	}
	/* The set a tree walk uses; records on stdin are copied as listed. */
	if (!no_default_excludes && exclude_add_defaults(&exclude) != 0) {
		diag_file_error(NULL, ENOMEM);
		exit(EXIT_FAILED);
	}
	opt.exclude = &exclude;
	if (server) {
		if (optind < argc || nto > 0)
			diag_usage_error("--server takes no operands (it is started by pcopy itself)");
		catch_signals();
		free(to);
		diag_raise(server_main(&opt));
		exclude_fini(&exclude);
		return diag_status();
	}
	if (rollback) {
		if (optind >= argc)
			diag_usage_error("--rollback needs at least one DEST");
		if (nto > 0 || from)
			diag_usage_error("--rollback takes only DEST operands");
		if (opt.resume)
			diag_usage_error("--rollback and --resume exclude each other");
		status = EXIT_ALL_GOOD;
		for (int i = optind; i < argc; i++)
			if ((opt.bag ? rollback_bag(argv[i])
			     : remote_operand(argv[i]) ? rdest_rollback(argv[i], &opt.how)
						       : copy_rollback(argv[i])) != 0)
				status = EXIT_FAILED;
		free(to);
		exclude_fini(&exclude);
		diag_raise(status);
		return diag_finish();
	}
	{
		const char *bad;
		size_t bad_len;
		int n;

		if (opt.mhl) {
			algo_list = mhl_algos = mhl2_algorithm_list(algo_list ? algo_list
								  : MHL2_DEFAULT_ALGORITHMS);
			if (!algo_list)
				diag_usage_error("%s", strerror(ENOMEM));
		}
		n = hash_parse_list(algo_list ? algo_list : "sha256", opt.algos, HASH_SET_MAX, &bad,
				    &bad_len);
		if (n < 0 && errno == E2BIG)
			diag_usage_error("too many algorithms (at most %d)", HASH_SET_MAX);
		/* rsync's -a (archive) is the habit behind many of these: a copy
		 * here is recursive and keeps modes and times without it. */
		if (n < 0)
			diag_usage_error("unknown algorithm '%.*s' (-a names digests, as in -a "
					 "sha256,xxh128; rsync's -a is not needed: a copy is "
					 "recursive and keeps modes and times)", (int)bad_len, bad);
		if (n == 0)
			diag_usage_error("no algorithm given to -a");
		opt.nalgos = (size_t)n;
		free(mhl_algos);
		for (n = 0; opt.mhl && (size_t)n < opt.nalgos; n++)
			if (mhl2_format_of_algo(opt.algos[n]) >= 0)
				break;
		if (opt.mhl && (size_t)n == opt.nalgos)
			diag_usage_error("--mhl: -a has no digest ASC MHL names (c4, md5, sha1, "
					 "xxh32, xxh64, xxh3, xxh128)");
	}
	if (opt.whole_file && (opt.delta || opt.inplace))
		diag_usage_error("--whole-file excludes --delta and --inplace");
	/* --delta and --inplace replace what differs, as --force does; with
	 * --update, what --update finds current is kept. */
	if ((opt.delta || opt.inplace) && !opt.update)
		opt.force = true;
	if (!copy_seal_name_ok(opt.seal_name))
		diag_usage_error("invalid seal name '%s'", opt.seal_name);
	if (nto > 0) {
		if (optind < argc)
			diag_usage_error("operands given with --to (records come on stdin)");
		if (opt.delete_extra)
			diag_usage_error("--delete needs SRC DEST (a tree to mirror), not --to");
		if (excludes_given)
			diag_usage_error("--exclude and --no-default-excludes need SRC DEST (records "
					 "read with --to are copied as listed)");
		opt.exclude = NULL;
	} else {
		if (from)
			diag_usage_error("--from needs --to");
		if (nul)
			diag_usage_error("-0 needs --to");
		if (argc - optind < 2)
			diag_usage_error(argc - optind < 1 ? "missing SRC and DEST" : "missing DEST");
		for (int i = optind + 1; i < argc; i++)
			to[nto++] = argv[i];
	}
	if (nto > 64)
		diag_usage_error("too many destinations (at most 64)");
	for (size_t i = 0; i < nto; i++)
		any_remote |= remote_operand(to[i]);
	for (int i = optind; i < argc + (int)nto; i++) {
		const char *op = i < argc ? argv[i] : to[i - argc];
		if (remote_operand(op) && strchr(op, ':')[1] == '\0')
			diag_usage_error("%s: no path after ':' (write %s. for the remote home directory)",
					 op, op);
	}
	if (optind < argc && remote_operand(argv[optind])) {
		pull_from = argv[optind];
		if (any_remote)
			diag_usage_error("a remote SRC and a remote DEST in one run are not supported "
					 "(copy through a local directory, or run pcopy on one of the hosts)");
		any_remote = true;
		if (excludes_given)
			pull_excludes(&opt, &exclude);
	}
	if (any_remote && opt.nalgos == HASH_SET_MAX)
		diag_usage_error("too many algorithms for a remote copy (at most %d)", HASH_SET_MAX - 1);
	if (opt.allow_empty_source && !opt.delete_extra)
		diag_usage_error("--allow-empty-source goes with --delete");
	if (any_remote && opt.delete_extra)
		diag_usage_error("--delete is not supported with a remote SRC or DEST");
	if (any_remote && opt.dry_run)
		diag_usage_error("--dry-run is not supported with a remote SRC or DEST");
	if (opt.mhl && strcmp(opt.seal_name, SEAL_DEFAULT_NAME) != 0)
		diag_usage_error("--mhl keeps the seal's default name (its generations leave "
				 "out " SEAL_DEFAULT_NAME ")");
	if (opt.mhl && opt.bag)
		diag_usage_error("--bag and --mhl do not go together (a bag carries its own "
				 "manifests)");
	if (any_remote && opt.resume)
		diag_usage_error("--resume is not supported with a remote SRC or DEST");
	if (opt.bag)
		check_bag_options(&opt);
	if (optind < argc && !pull_from)
		single = source_is_file(argv[optind]);
	if (single) {
		if (sign_path && !seal_given)
			diag_usage_error("%s", sign_needs_seal);
		if (opt.delete_extra)
			diag_usage_error("--delete needs SRC DEST (a tree to mirror), not a single FILE");
		if (opt.resume)
			diag_usage_error("--resume is not supported with a single FILE (it is copied "
					 "again whole)");
		if (opt.bag || opt.mhl)
			diag_usage_error("%s needs SRC DEST (a tree), not a single FILE",
					 opt.bag ? "--bag" : "--mhl");
		targets = single_setup(argv[optind], false, to, nto, seal_given, &opt, &single_base);
	}
	if (!single)
		refuse_overlapping_dests(nto > 0 && optind == argc ? from : argv[optind], to, nto, opt.bag,
				      opt.delete_extra);
	if (optind < argc && !pull_from && !single)
		refuse_seal_name_in_source(argv[optind], opt.seal_name);
	if (sign_path) {
		signkey_setup(&sign_key, sign_path);
		opt.sign_key = &sign_key.key;
		opt.agent_socket = sign_key.agent_socket;
	}
	opt.progress = !opt.dry_run && (progress < 0 ? progress_default() : progress == 1);
	opt.interrupted = &interrupted;

	catch_signals();

	if (pull_from) {
		/* Whether host:FILE is a file decides what each DEST means: asked first. */
		pulling = pull_start(pull_from, &opt, &single);
		if (!pulling) {
			exclude_fini(&exclude);
			free(to);
			return EXIT_FAILED;
		}
		if (single && sign_path && !seal_given) {
			pull_end(pulling, EXIT_USAGE);
			diag_usage_error("%s", sign_needs_seal);
		}
		if (single)
			targets = single_setup(pull_from, true, to, nto, seal_given, &opt, &single_base);
	}
	copy = single ? single_copy_new(&opt, to, targets, nto) : copy_new(&opt, to, nto);
	if (!copy) {
		diag_file_error(NULL, errno);
		exclude_fini(&exclude);
		free(to);
		return EXIT_FAILED;
	}
	if (pulling) {
		pull_receive(copy, pulling, pull_from);
	} else if (single) {
		single_copy(copy, argv[optind], any_remote ? single_base : argv[optind]);
	} else if (optind < argc) {
		copy_tree(copy, argv[optind]);
	} else {
		struct input *in;

		copy_count_records(copy, nul);
		in = input_open(NULL, nul);
		if (!in) {
			diag_file_error("<stdin>", errno);
			diag_raise(EXIT_FAILED);
		} else {
			copy_records(copy, in, from);
			input_close(in);
		}
	}
	status = copy_finish(copy);
	pull_end(pulling, status);
	if (sign_path)
		signkey_wipe(&sign_key);
	for (size_t i = 0; targets && i < nto; i++)
		single_target_free(&targets[i]);
	free(targets);
	free(single_base);
	exclude_fini(&exclude);
	free(to);
	if (status > EXIT_USAGE) {
		diag_finish();
		return status;
	}
	return diag_finish();
}
