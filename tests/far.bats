#!/usr/bin/env bats
# SPDX-License-Identifier: 0BSD
# Storage far away: the latency fixture (bench/latencyfs, a FUSE passthrough
# that delays each request) tested on its own, and every program's answer on
# it compared with its answer on the directory under it, with no delay and
# with jitter (replies out of order). Skipped, saying why, where FUSE cannot
# be used (no /dev/fuse, a container that refuses the mount) or the fixture
# cannot be built (no libfuse3-dev).

load test_helper
load latencyfs

# Requests wait a random 0-2 ms: replies come back out of order.
JITTER=(--delay-us=0 --jitter-us=2000)

setup_file() {
	# Build once for the whole file (tests only check it is there).
	latencyfs_build 2>"$BATS_FILE_TMPDIR/build.log" || true
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	mounts=()
	[ -c /dev/fuse ] || skip "no /dev/fuse: FUSE cannot be used here"
	[ -x "$LATENCYFS" ] || skip "the latency fixture cannot be built here: $(head -n 1 "$BATS_FILE_TMPDIR/build.log")"
}

teardown() {
	local m
	for m in "${mounts[@]}"; do
		latencyfs_stop "$m" || true
	done
}

# mount_far SRC MNT [OPT...]: latencyfs_start, the mount undone by teardown
# whatever happens; skips the test where FUSE refuses the mount.
mount_far() {
	mkdir -p "$2"
	mounts+=("$2")
	latencyfs_start "$@" 2>"$BATS_TEST_TMPDIR/start.err" ||
		skip "latencyfs could not mount $1 here: $(tr '\n' ' ' < "$BATS_TEST_TMPDIR/start.err")"
}

# make_far_tree DIR: a small tree of every kind the programs handle: that of
# make_mixed_tree (symlinks, a hard link, a sparse file, modes, mtimes), 300
# small files in 10 directories, a 3 MB file and a file with an xattr.
make_far_tree() {
	make_mixed_tree "$1"
	make_many "$1/many" 300 10
	head -c 3000000 /dev/urandom > "$1/three-mb"
	printf 'tagged\n' > "$1/tagged"
	setfattr -n user.origin -v camera-card "$1/tagged" 2>/dev/null || true
}

# records_under ROOT: stdin's records with ROOT at the start of each path
# replaced by ROOT:, sorted (a walk's order is its own).
records_under() {
	local root=$1
	awk -F '\t' -v r="$root" 'BEGIN { OFS = "\t" }
		{ if (index($3, r) == 1) $3 = "ROOT:" substr($3, length(r) + 1); print }' | sort
}

# --- The fixture itself ------------------------------------------------------

@test "latencyfs serves the directory under it unchanged: entries, modes, sizes, mtimes, link targets, inodes, xattrs, bytes" {
	make_far_tree src
	make_awkward_tree src/awkward --no-long
	mount_far src mnt
	assert_equal "$(tree_listing mnt)" "$(tree_listing src)"
	# Inode numbers and link counts are the directory's: hard links show.
	assert_equal "$(stat -c '%i %h' mnt/a mnt/sub/hardlink-to-a)" "$(stat -c '%i %h' src/a src/sub/hardlink-to-a)"
	assert_equal "$(stat -c '%i' mnt/a)" "$(stat -c '%i' mnt/sub/hardlink-to-a)"
	if getfattr -n user.origin src/tagged >/dev/null 2>&1; then
		assert_equal "$(getfattr -n user.origin --only-values mnt/tagged)" camera-card
		assert_equal "$(getfattr -d mnt/tagged 2>&1 | sed 's|^# file: mnt/|# file: |')" \
			"$(getfattr -d src/tagged 2>&1 | sed 's|^# file: src/|# file: |')"
	fi
	# A sparse file reads back hole for hole (SEEK_DATA/SEEK_HOLE pass through).
	cmp src/sparse mnt/sparse
	latencyfs_stop mnt
	! _latencyfs_mounted "$PWD/mnt"
	run latencyfs_stat mnt.stats ops.opendir
	assert_success
	[ "$output" -gt 0 ]
	for key in ops.getattr ops.readdir ops.open ops.read ops.readlink ops.release; do
		[ "$(latencyfs_stat mnt.stats "$key")" -gt 0 ] || fail "$key not counted: $(cat mnt.stats)"
	done
	[ "$(latencyfs_stat mnt.stats read_bytes)" -ge 3000000 ]
}

@test "latencyfs writes through: files, directories, links, symlinks, xattrs, modes, times, renames, removals, a file past 4 GiB" {
	mkdir under local
	mount_far under mnt "${JITTER[@]}"
	for d in mnt local; do
		(
			set -e
			cd "$d"
			mkdir -p x/y z
			printf 'one\n' > x/one
			seq 1 200000 | head -c 1000000 > x/y/mb
			cp x/y/mb z/mb-copy
			ln x/one x/one-again
			ln -s y/mb x/to-mb
			printf 'gone\n' > z/gone
			rm z/gone
			printf 'old\n' > z/old
			mv z/old z/new
			printf 'append\n' >> x/one
			chmod 0604 x/one
			mkfifo z/fifo
			truncate -s 100 z/cut
			mkdir z/empty
			rmdir z/empty
			sync x/one
			find . -depth -exec touch -h -d '2002-03-04 05:06:07.5' {} +
		)
	done
	cmp local/x/y/mb local/z/mb-copy
	assert_equal "$(tree_listing under)" "$(tree_listing local)"
	assert_equal "$(stat -c %h under/x/one)" 2
	if setfattr -n user.k -v v local/x/one 2>/dev/null; then
		setfattr -n user.k -v v mnt/x/one
		assert_equal "$(getfattr -n user.k --only-values under/x/one)" v
		setfattr -x user.k mnt/x/one
		run getfattr -n user.k under/x/one
		assert_failure
	fi
	# Past 4 GiB: offsets in 64 bits all the way.
	truncate -s 5G mnt/big
	printf 'far end' | dd of=mnt/big bs=1 seek=$((4 * 1024 * 1024 * 1024 + 5)) conv=notrunc status=none
	assert_equal "$(stat -c %s under/big)" $((5 * 1024 * 1024 * 1024))
	assert_equal "$(dd if=under/big bs=1 skip=$((4 * 1024 * 1024 * 1024 + 5)) count=7 status=none)" 'far end'
	assert_equal "$(dd if=mnt/big bs=1 skip=$((4 * 1024 * 1024 * 1024 + 5)) count=7 status=none)" 'far end'
	latencyfs_stop mnt
	for key in ops.mkdir ops.create ops.write ops.link ops.symlink ops.unlink ops.rename ops.chmod \
		ops.utimens ops.mknod ops.truncate ops.rmdir ops.fsync; do
		[ "$(latencyfs_stat mnt.stats "$key")" -gt 0 ] || fail "$key not counted: $(cat mnt.stats)"
	done
}

@test "latencyfs waits --delay-us before answering each request" {
	make_tree src
	mount_far src mnt --delay-us=20000
	local t0 t1 us
	latencyfs_dump mnt --reset
	t0=$(date +%s%N)
	cat mnt/sub/c > /dev/null
	t1=$(date +%s%N)
	latencyfs_stop mnt
	# A cat waits for the lookups of sub and c, the open and a read, one
	# after another (its flush and release may overlap): 20 ms each.
	for key in ops.getattr ops.open ops.read; do
		[ "$(latencyfs_stat mnt.stats "$key")" -ge 1 ] || fail "$key not counted: $(cat mnt.stats)"
	done
	[ "$(latencyfs_stat mnt.stats ops.getattr)" -ge 2 ]
	us=$(((t1 - t0) / 1000))
	[ "$us" -ge 80000 ] || fail "cat took $us us: four requests of 20 ms take 80,000"
}

@test "latencyfs keeps several requests in flight for a parallel reader, and serves no more than --queue-depth at once" {
	make_many src 64 4
	mount_far src mnt --delay-us=3000
	find mnt -type f -print0 | xargs -0 -P 8 -n 2 cat > /dev/null
	latencyfs_stop mnt
	# Requests the readers wait for, not only the background releases.
	[ "$(latencyfs_stat mnt.stats peak_waited)" -gt 1 ] || fail "peak in flight: $(cat mnt.stats)"
	[ "$(latencyfs_stat mnt.stats peak_in_flight)" -ge "$(latencyfs_stat mnt.stats peak_waited)" ]
	[ "$(latencyfs_stat mnt.stats peak_serving)" -gt 1 ]
	# 8 readers, each with a request in the fixture most of the time.
	[ "$(latencyfs_stat mnt.stats busy_us)" -gt 0 ]

	mount_far src mnt2 --delay-us=3000 --queue-depth=2
	find mnt2 -type f -print0 | xargs -0 -P 8 -n 2 cat > /dev/null
	latencyfs_stop mnt2
	[ "$(latencyfs_stat mnt2.stats peak_in_flight)" -gt 2 ] || fail "peak in flight: $(cat mnt2.stats)"
	[ "$(latencyfs_stat mnt2.stats peak_serving)" -eq 2 ] || fail "queue depth 2: $(cat mnt2.stats)"
	assert_equal "$(latencyfs_stat mnt2.stats queue_depth)" 2
}

@test "latencyfs writes its counters on SIGUSR1, zeroes them on SIGUSR2, and again on unmount" {
	make_tree src
	mount_far src mnt --stats="$PWD/counts"
	assert_equal "$LATENCYFS_STATS" "$PWD/counts"
	ls -lR mnt > /dev/null
	latencyfs_dump mnt
	[ "$(latencyfs_stat counts ops)" -gt 0 ]
	[ "$(latencyfs_stat counts peak_in_flight)" -ge 1 ]
	latencyfs_dump mnt --reset
	[ "$(latencyfs_stat counts ops.opendir)" -gt 0 ]
	latencyfs_dump mnt
	assert_equal "$(latencyfs_stat counts ops)" 0
	assert_equal "$(latencyfs_stat counts peak_in_flight)" 0
	assert_equal "$(latencyfs_stat counts peak_waited)" 0
	assert_equal "$(latencyfs_stat counts busy_us)" 0
	cat mnt/a > /dev/null
	latencyfs_stop mnt
	[ "$(latencyfs_stat counts ops.read)" -ge 1 ]
	[ "$(latencyfs_stat counts ops.opendir)" -eq 0 ]
}

@test "latencyfs: missing operands, a SRC that is no directory and an unknown option are usage errors (exit 2)" {
	prun "$LATENCYFS"
	assert_failure 2
	assert_output --partial 'SRC and MOUNTPOINT'
	mkdir mnt
	: > file
	mkdir src
	prun "$LATENCYFS" file mnt -f
	assert_failure 2
	prun "$LATENCYFS" src mnt --no-such-option -f
	assert_failure 2
	assert_output --partial 'unknown option'
	prun "$LATENCYFS" --help
	assert_success
	assert_output --partial '--queue-depth'
	! _latencyfs_mounted "$PWD/mnt"
}

@test "latencyfs_start fails, leaving nothing mounted or running, when the mount point is missing" {
	make_tree src
	run latencyfs_start src "$PWD/no/such/dir"
	assert_failure
	assert_output --partial 'could not be mounted'
	! _latencyfs_mounted "$PWD/no/such/dir"
	run pgrep -f "$PWD/no/such/dir"
	assert_failure
}

# --- Every program, far and near -----------------------------------------------

# same_pfind OPT...: pfind's records (with type, mode, links, target, mtime,
# owner) are the same on the fixture mounted with OPT... as on the directory
# under it, by default and with -j 16.
same_pfind() {
	make_typed_tree src
	make_far_tree src/far
	make_awkward_tree src/awkward --no-long
	mount_far src mnt "$@"
	local fields=type,mode,nlink,link,mtime,uid,gid,depth near far
	prun pfind --fields "$fields" "$PWD/src"
	assert_success
	near=$(records_under "$PWD/src" <<< "$output")
	prun pfind --fields "$fields" "$PWD/mnt"
	assert_success
	far=$(records_under "$PWD/mnt" <<< "$output")
	assert_equal "$far" "$near"
	prun pfind -j 16 --fields "$fields" "$PWD/mnt"
	assert_success
	assert_equal "$(records_under "$PWD/mnt" <<< "$output")" "$near"
	# And the expression sees the same entries.
	prun pfind "$PWD/mnt" -type f -size +1k
	assert_success
	far=$(records_under "$PWD/mnt" <<< "$output")
	prun pfind "$PWD/src" -type f -size +1k
	assert_equal "$far" "$(records_under "$PWD/src" <<< "$output")"
	[ "$(wc -l <<< "$near")" -gt 300 ]
}

@test "pfind lists the same entries on the fixture as on the directory under it" {
	same_pfind
}

@test "pfind lists the same entries on the fixture with jitter (replies out of order)" {
	same_pfind "${JITTER[@]}"
}

# io_uring_usable: whether this kernel lets a process set up an io_uring
# (not refused by seccomp or kernel.io_uring_disabled, nor switched off).
io_uring_usable() {
	[ "${PTOOLS_IO_URING:-1}" != 0 ] || return 1
	python3 - <<'PY' 2>/dev/null
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
params = ctypes.create_string_buffer(120)
fd = libc.syscall(425, 1, params)   # io_uring_setup (the same number on every architecture)
sys.exit(0 if fd >= 0 else 1)
PY
}

@test "pfind keeps many stats of one directory in flight on the fixture, with the same answer as on the directory under it" {
	io_uring_usable || skip "io_uring is unavailable here: pfind stats one entry at a time"
	local i near
	mkdir -p src/wide
	for i in $(seq 1 400); do : > "src/wide/f$i"; done
	ln -s f1 src/wide/link
	ln -s nowhere src/wide/dangling
	mount_far src mnt --delay-us=2000
	# The first walk looks every name up; the FUSE stack serialises the
	# first lookups of names in one directory (plain threads get no more
	# than 3 in flight there either), so the second walk, whose lookups
	# are revalidations, shows what pfind keeps in flight.
	prun pfind "$PWD/mnt"
	assert_success
	latencyfs_dump mnt --reset
	prun pfind "$PWD/mnt/wide"
	assert_success
	latencyfs_dump mnt
	# One thread reads the directory: before batching, one stat at a time.
	[ "$(latencyfs_stat mnt.stats peak_waited)" -gt 4 ] ||
		fail "peak in flight within one directory: $(cat mnt.stats)"
	# Batched or not, every walk sees what the directory under it holds:
	# stats, the targets of links under -L (a dangling one as itself),
	# and in --sort order.
	local fields=type,mode,nlink,link,mtime,uid,gid,depth
	for opts in "" "-L" "--sort" "-L --sort" "-j 1"; do
		# shellcheck disable=SC2086
		prun pfind $opts --fields "$fields" "$PWD/src"
		assert_success
		near=$(records_under "$PWD/src" <<< "$output")
		# shellcheck disable=SC2086
		prun pfind $opts --fields "$fields" "$PWD/mnt"
		assert_success
		assert_equal "$(records_under "$PWD/mnt" <<< "$output")" "$near"
	done
	[ "$(wc -l <<< "$near")" -gt 400 ]
}

@test "pfind without io_uring still raises its default threads where stats block: many directories in flight" {
	# Where io_uring is refused (a container's seccomp filter) or switched
	# off, blocking stats cannot go as batches, but they must still raise
	# the default thread cap to far storage's, one directory a thread:
	# before, such a walk stayed at the cold-disk cap (4 a core).
	local cold i
	cold=$((4 * $(nproc)))
	[ "$cold" -lt 8 ] && cold=8
	[ "$cold" -lt 48 ] || skip "on $(nproc) cores the cold-disk cap is near far storage's already"
	for i in $(seq 1 120); do
		mkdir -p "src/d$i"
		touch "src/d$i/a" "src/d$i/b" "src/d$i/c" "src/d$i/d" "src/d$i/e" "src/d$i/f"
	done
	mount_far src mnt --delay-us=2000
	# The first walk looks every name up (the FUSE stack serialises first
	# lookups per directory); the second one's lookups are revalidations.
	PTOOLS_IO_URING=0 prun pfind "$PWD/mnt"
	assert_success
	latencyfs_dump mnt --reset
	PTOOLS_IO_URING=0 prun pfind "$PWD/mnt"
	assert_success
	latencyfs_dump mnt
	[ "$(latencyfs_stat mnt.stats peak_waited)" -gt $((cold + 1)) ] ||
		fail "peak in flight $(latencyfs_stat mnt.stats peak_waited), cold-disk cap $cold: $(cat mnt.stats)"
	assert_equal "$(wc -l <<< "$output")" 841
}

# same_phash OPT...: phash -r's digests are the same on the fixture as on the
# directory under it.
same_phash() {
	make_far_tree src
	mount_far src mnt "$@"
	prun phash -r -a sha256,xxh128 "$PWD/src"
	assert_success
	local near
	near=$(records_under "$PWD/src" <<< "$output")
	prun phash -r -a sha256,xxh128 "$PWD/mnt"
	assert_success
	assert_equal "$(records_under "$PWD/mnt" <<< "$output")" "$near"
	[ "$(grep -c 'sha256:' <<< "$near")" -gt 300 ]
	# Plain paths on stdin, in GNU format: sha256sum's own lines.
	(cd mnt && find . -type f -print0 | sort -z | xargs -0 sha256sum) > expected
	(cd mnt && find . -type f -print0 | sort -z | phash -0 -f gnu) > got
	assert_equal "$(cat got)" "$(cat expected)"
}

@test "phash -r gives the same digests on the fixture as on the directory under it" {
	same_phash
}

@test "phash -r gives the same digests on the fixture with jitter" {
	same_phash "${JITTER[@]}"
}

# same_pverify OPT...: pverify's verdicts on a manifest with a good file, a
# changed digest, a changed size and a missing file, and its audit (NEW,
# MOVED), are the same on the fixture as on the directory under it.
same_pverify() {
	make_far_tree src
	(cd src && phash -r -a sha256 .) > all
	# sub/b's digest changed, three-mb's size changed, one missing file,
	# many/d1 left out (its files are NEW to an audit).
	awk -F '\t' 'BEGIN { OFS = "\t" }
		$3 == "./sub/b" { sub(/sha256:./, "sha256:0") }
		$3 == "./three-mb" { $2 = $2 + 1 }
		$3 !~ /^\.\/many\/d1\// { print }
		END { print "1\t5\t./not-there\ttype:f\tsha256:" sprintf("%064d", 0) }' all > manifest
	mv src/a src/a-moved
	mount_far src mnt "$@"
	local dir near_out near_status
	for dir in src mnt; do
		prun pverify -C "$dir" manifest
		[ "$dir" = src ] && { near_out=$(sort <<< "$output"); near_status=$status; continue; }
		assert_equal "$status" "$near_status"
		assert_equal "$(sort <<< "$output")" "$near_out"
	done
	assert_equal "$near_status" 1
	assert_contains "$near_out" 'FAILED'
	assert_contains "$near_out" 'MISSING'
	for dir in src mnt; do
		prun pverify -C "$dir" --audit=. manifest
		[ "$dir" = src ] && { near_out=$(sort <<< "$output"); near_status=$status; continue; }
		assert_equal "$status" "$near_status"
		assert_equal "$(sort <<< "$output")" "$near_out"
	done
	assert_equal "$near_status" 1
	assert_contains "$near_out" 'NEW'
	assert_contains "$near_out" 'MOVED'
}

@test "pverify gives the same verdicts on the fixture as on the directory under it" {
	same_pverify
}

@test "pverify gives the same verdicts on the fixture with jitter" {
	same_pverify "${JITTER[@]}"
}

# requests_of KEY CMD...: the count of KEY (ops, ops.getattr) of the fixture
# at the test's mnt for CMD... alone, run in the current directory; CMD must
# succeed.
requests_of() {
	local key=$1 mnt=$BATS_TEST_TMPDIR/mnt
	shift
	latencyfs_dump "$mnt" --reset
	prun "$@"
	assert_success
	latencyfs_dump "$mnt"
	latencyfs_stat "$mnt.stats" "$key"
}

@test "pverify -C looks each directory up once per worker, as phash -r does: no more requests to the fixture than phash -r of the same files" {
	make_many src/top/sm 300 10
	(cd src && phash -r top) > manifest
	mount_far src mnt
	# Each directory may be looked up once more by each of pverify's
	# workers (-j 4, so the allowance does not grow with the CPUs) than by
	# phash's walk; looking every path's directories up again for each
	# file costs three requests more per file here.
	local dirs slack key phash_n pverify_n
	dirs=$(find src/top -type d | wc -l)
	slack=$((dirs * 4))
	for key in ops.getattr ops; do
		phash_n=$(cd mnt && requests_of "$key" phash -r top)
		pverify_n=$(requests_of "$key" pverify -j 4 -C mnt manifest)
		[ "$pverify_n" -le $((phash_n + slack)) ] ||
			fail "$key: pverify -C $pverify_n, phash -r $phash_n (+ $slack allowed)"
	done
	# The same with the paths spelt "./top/...", as phash -r . writes them.
	sed 's|\ttop/|\t./top/|' manifest > dotted
	assert_equal "$(grep -c $'\t\./top/' dotted)" 311
	pverify_n=$(requests_of ops.getattr pverify -j 4 -C mnt dotted)
	phash_n=$(cd mnt && requests_of ops.getattr phash -r top)
	[ "$pverify_n" -le $((phash_n + slack)) ] ||
		fail "./ paths: pverify -C $pverify_n, phash -r $phash_n (+ $slack allowed)"
}

# seal_lines SEAL: the seal's records without the destination's inode
# numbers and the seal line, sorted: what two copies of one tree share.
seal_lines() {
	grep -v '^#' "$1" | cut -f 2- | sort
}

# same_pcopy_from OPT...: pcopy from the fixture to a local directory makes
# the copy, and the seal, that pcopy from the directory under it makes.
same_pcopy_from() {
	make_far_tree src
	mount_far src mnt "$@"
	prun pcopy "$PWD/src" near
	assert_success
	prun pcopy "$PWD/mnt" far
	assert_success
	assert_equal "$(tree_listing far)" "$(tree_listing near)"
	assert_equal "$(tree_listing far)" "$(tree_listing src)"
	assert_equal "$(seal_lines far/.ptools-seal)" "$(seal_lines near/.ptools-seal)"
	seal_ok far
	prun pcopy -H "$PWD/mnt" far-h
	assert_success
	assert_equal "$(stat -c %h far-h/sub/hardlink-to-a)" 2
	seal_ok far-h
}

@test "pcopy from the fixture makes the copy and seal a copy from the directory under it makes" {
	same_pcopy_from
}

@test "pcopy from the fixture with jitter makes the same copy and seal" {
	same_pcopy_from "${JITTER[@]}"
}

# same_pcopy_to OPT...: pcopy from a local directory to a destination on the
# fixture leaves in the directory under it the copy and seal a local
# destination gets; both seals verify, through the fixture and beneath it.
same_pcopy_to() {
	make_far_tree src
	mkdir under
	mount_far under mnt "$@"
	prun pcopy "$PWD/src" near
	assert_success
	prun pcopy "$PWD/src" mnt/copy
	assert_success
	assert_equal "$(tree_listing under/copy)" "$(tree_listing near)"
	assert_equal "$(seal_lines under/copy/.ptools-seal)" "$(seal_lines near/.ptools-seal)"
	seal_ok mnt/copy
	seal_ok under/copy
	# Nothing else left beside the copy (temporaries, journal).
	assert_equal "$(ls -A under)" copy
	assert_equal "$(ls -A under/copy | sort)" "$(ls -A near | sort)"
	# Hard links and xattrs (-H -p) through the fixture too.
	prun pcopy -H -p "$PWD/src" mnt/copy-hp
	assert_success
	assert_equal "$(stat -c %h under/copy-hp/sub/hardlink-to-a)" 2
	if getfattr -n user.origin src/tagged >/dev/null 2>&1; then
		assert_equal "$(getfattr -n user.origin --only-values under/copy-hp/tagged)" camera-card
	fi
	seal_ok under/copy-hp
	latencyfs_stop mnt
	for key in ops.create ops.write ops.rename ops.utimens; do
		[ "$(latencyfs_stat mnt.stats "$key")" -gt 0 ] || fail "$key not counted: $(cat mnt.stats)"
	done
}

@test "pcopy to a destination on the fixture leaves the copy and seal a local destination gets" {
	same_pcopy_to
}

@test "pcopy to a destination on the fixture with jitter leaves the same copy and seal" {
	same_pcopy_to "${JITTER[@]}"
}

# Each file copied to a far destination has two journal records written
# before what they record (its temporary's, its rename's), and its data
# written: three writes a file, each a round trip, when every record is a
# write of its own. Records appended while a write is in progress go out
# together in the next (group commit), so with files copied in parallel the
# journal takes well under a write (and, with --fsync, an fdatasync) a file.
# And the inode number its rename record names is the kernel's, not asked of
# the fixture again (the fixture caches no attributes): the other requests
# of a file's copy (lookups of names, attributes before a change) come to
# about six getattr a file, seven with that one.
@test "pcopy to a far destination gathers its journal's records into shared writes and syncs, asks no attributes back for the inode it wrote, and the copy and seal are right" {
	local files=200 writes getattrs syncs
	make_many src "$files" 20
	mkdir under
	mount_far under mnt --delay-us=1000
	prun pcopy "$PWD/src" mnt/copy
	assert_success
	latencyfs_dump mnt --reset
	writes=$(latencyfs_stat mnt.stats ops.write)
	getattrs=$(latencyfs_stat mnt.stats ops.getattr)
	prun pcopy --fsync "$PWD/src" mnt/synced
	assert_success
	latencyfs_stop mnt
	syncs=$(latencyfs_stat mnt.stats ops.fsync)
	[ "$writes" -le $((files * 9 / 4)) ] || fail "$writes writes for $files files"
	[ "$syncs" -le $((files * 9 / 4)) ] || fail "$syncs fsyncs for $files files with --fsync"
	[ "$getattrs" -le $((files * 32 / 5)) ] || fail "$getattrs getattrs for $files files"
	assert_equal "$(tree_listing under/copy)" "$(tree_listing src)"
	assert_equal "$(tree_listing under/synced)" "$(tree_listing src)"
	seal_ok under/copy
	seal_ok under/synced
	# The journals are gone, and nothing else is left.
	assert_equal "$(ls -A under | sort)" "$(printf 'copy\nsynced')"
	assert_equal "$(ls -A under/copy | sort)" "$( (ls -A src; echo .ptools-seal) | sort)"
}
