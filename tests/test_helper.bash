# SPDX-License-Identifier: 0BSD
# Shared setup for every .bats file: load bats-support/assert/file, put the
# binaries under test first on PATH, and every helper more than one file
# uses (each defined here once): prun, the LD_PRELOAD shim and slow copies,
# tree builders (make_awkward_tree, make_mixed_tree, make_typed_tree,
# make_many, make_wide, make_tree), tree states (snapshot, tree_listing),
# manifests and seals (native_manifest, seal_manifest, seal_ok) and the
# proof that cold files were read in batches (uring_traced, assert_batched).
bats_load_library bats-support
bats_load_library bats-assert
bats_load_library bats-file

: "${PTOOLS_BIN:=$BATS_TEST_DIRNAME/../bin}"

# With PTOOLS_VALGRIND=1 every tool runs under memcheck through a wrapper;
# a memcheck report exits 126, which prun treats as a crash (and then prints
# the report). Memcheck writes to a log file per process, not to the tool's
# stderr, which tests compare exactly (valgrind also warns there about
# syscalls it does not know, such as openat2, that the tools fall back from).
_pt_setup_path() {
	if [ "${PTOOLS_VALGRIND:-0}" = 1 ]; then
		local wrap="$BATS_RUN_TMPDIR/valgrind-bin" prog
		PTOOLS_VALGRIND_LOGS="$BATS_RUN_TMPDIR/valgrind-logs"
		export PTOOLS_VALGRIND_LOGS
		if [ ! -d "$wrap" ]; then
			mkdir -p "$wrap" "$PTOOLS_VALGRIND_LOGS"
			for prog in pfind phash pverify pcopy; do
				printf '#!/bin/sh\nexec valgrind -q --log-file="%s/%s.%%p.log" --error-exitcode=126 --leak-check=full --errors-for-leak-kinds=definite "%s/%s" "$@"\n' \
					"$PTOOLS_VALGRIND_LOGS" "$prog" "$PTOOLS_BIN" "$prog" > "$wrap/$prog"
				chmod +x "$wrap/$prog"
			done
			# Tests run tools as nobody too (as_nobody): let nobody reach
			# the wrappers (traverse only; the run directory stays unlisted)
			# and write its logs.
			chmod 711 "$BATS_RUN_TMPDIR"
			chmod 755 "$wrap"
			chmod 1777 "$PTOOLS_VALGRIND_LOGS"
		fi
		PATH="$wrap:$PATH"
	else
		PATH="$PTOOLS_BIN:$PATH"
	fi
	export PATH
}
_pt_setup_path
export LC_ALL=C

# prun CMD...: bats' run, then fail the test if CMD crashed (status above 125:
# a signal, a sanitizer abort or a valgrind report). "Allow it to fail, but
# not crash."
prun() {
	run "$@"
	if [ "$status" -gt 125 ]; then
		echo "crash: '$*' exited $status" >&2
		echo "$output" >&2
		if [ -n "${PTOOLS_VALGRIND_LOGS:-}" ]; then
			grep -l '^==[0-9]*== [A-Z]' "$PTOOLS_VALGRIND_LOGS"/*.log 2>/dev/null |
				xargs -r cat >&2
		fi
		return 1
	fi
}

# build_shim: build tests/eio_shim.c (an LD_PRELOAD shim that fails, slows,
# corrupts, holds or shortens reads and writes: see its header) as
# $BATS_TEST_TMPDIR/eio.so, or skip the test.
build_shim() {
	cc -shared -fPIC -o "$BATS_TEST_TMPDIR/eio.so" "$BATS_TEST_DIRNAME/eio_shim.c" -ldl ||
		skip "cannot build the LD_PRELOAD shim"
	# An ASan build (make check) insists on coming first in the preload list.
	export ASAN_OPTIONS=verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}
}

# slow_writes US CMD...: CMD with every write under the current directory
# (but to pcopy's journal) slowed US microseconds by the shim build_shim
# made, so that a copy is still running when the test looks at it.
slow_writes() {
	local us=$1
	shift
	LD_PRELOAD="$BATS_TEST_TMPDIR/eio.so" EIO_SHIM_PREFIX=$PWD EIO_SHIM_SPARE=.pcopy-journal \
		EIO_SHIM_DELAY_US=$us "$@"
}

# status_peak KEY CMD...: run CMD in the background (stderr discarded) and
# print the largest value of KEY (VmHWM, Threads, ...) its /proc/PID/status
# showed, read every 20 ms until it exits; return CMD's exit status.
status_peak() {
	local key=$1 pid most=0 n
	shift
	"$@" 2>/dev/null &
	pid=$!
	while n=$(awk -v k="$key:" '$1 == k {print $2}' "/proc/$pid/status" 2>/dev/null) &&
		[ -n "$n" ]; do
		[ "$n" -gt "$most" ] && most=$n
		sleep 0.02
	done
	echo "$most"
	wait "$pid"
}

# make_awkward_tree DIR [--no-long]: a tree whose names hold every byte
# 0x01-0xff except '/', a newline, a tab, a CR, a backslash, invalid UTF-8, a
# 255-byte name and (unless --no-long) a path longer than PATH_MAX. Every file
# holds its own name, so contents differ.
make_awkward_tree() {
	local dir=$1 long=1 i name hex
	[ "${2:-}" = --no-long ] && long=0
	mkdir -p "$dir/bytes" "$dir/special"
	for ((i = 1; i < 256; i++)); do
		[ "$i" -eq 47 ] && continue
		printf -v hex '%02x' "$i"
		printf -v name "b$hex-\\x$hex-end"
		printf '%s' "$name" > "$dir/bytes/$name"
	done
	printf 'nl' > "$dir/special/new"$'\n'"line"
	printf 'tab' > "$dir/special/tab"$'\t'"name"
	printf 'cr' > "$dir/special/cr"$'\r'
	printf 'bs' > "$dir/special/back\\slash"
	printf 'bs2' > "$dir/special/\\leading backslash"
	printf 'utf' > "$dir/special/bad-utf8-"$'\xff\xfe\xc3'
	printf 'hash' > "$dir/special/#not a comment"
	printf 'sp' > "$dir/special/ leading and trailing space "
	printf -v name '%0255d' 0
	printf 'long' > "$dir/special/$name"
	if [ "$long" = 1 ]; then
		# 25 levels of 200-byte names: about 5,000 bytes, past PATH_MAX (4096).
		local deep="$dir/deep" seg
		printf -v seg 'd%0199d' 0
		mkdir -p "$deep"
		( cd "$deep" && for ((i = 0; i < 25; i++)); do mkdir "$seg" && cd "$seg" || exit 1; done
		  printf 'deep' > leaf )
	fi
}

# start_slow_pcopy DEST ARG...: start pcopy ARG... in the background
# (stderr to ./err, its pid in $pid) with every write under the current
# directory slowed 20 ms by the shim build_shim made; return once DEST's
# journal records more than AFTER files (default 10), so that a signal or a
# kill sent now lands mid-copy.
start_slow_pcopy() {
	local dest=$1 after=${AFTER:-10} i
	shift
	# A non-interactive shell starts background jobs with SIGINT ignored,
	# and nohup (a suite started under it) SIGHUP, which pcopy keeps
	# ignored: give both the default disposition, unless the caller asks
	# for the signals as they are (KEEP_SIGNALS=1).
	local reset=(env --default-signal=INT,HUP)
	[ "${KEEP_SIGNALS:-0}" = 1 ] && reset=()
	# One reader (-j 1), 20 ms a write: writes this slow make pcopy take the
	# storage for far and copy with many readers at once, and each walker
	# copies a directory's files itself; slower, the copy is still running
	# when the test looks, on a loaded machine too.
	LD_PRELOAD="$BATS_TEST_TMPDIR/eio.so" EIO_SHIM_PREFIX=$PWD EIO_SHIM_SPARE=.pcopy-journal \
		EIO_SHIM_DELAY_US=20000 "${reset[@]}" pcopy -j 1 "$@" 2>err &
	pid=$!
	for ((i = 0; i < 400; i++)); do
		[ -f "$dest/.pcopy-journal" ] &&
			[ "$(grep -c '^R' "$dest/.pcopy-journal")" -gt "$after" ] && return 0
		sleep 0.05
	done
}

# copy_in_progress PID DIR: whether process PID has a copy open in DIR that
# holds data: an unnamed (O_TMPFILE) file, which /proc shows as
# "DIR/#INODE (deleted)", or a named temporary (.pcopy.*, not the seal's).
copy_in_progress() {
	local fd target
	for fd in /proc/"$1"/fd/*; do
		target=$(readlink "$fd" 2>/dev/null) || continue
		case $target in
		"$2"/\#*" (deleted)" | "$2"/.pcopy.*[0-9]) [ -s "$fd" ] && return 0 ;;
		esac
	done
	return 1
}

# as_nobody CMD...: run CMD as user nobody (tests run as root, and root
# ignores permissions).
as_nobody() {
	if command -v setpriv >/dev/null; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
	else
		runuser -u nobody -- "$@"
	fi
}

# evict_tree DIR: drop the pages of every file under DIR, so that the next
# read goes to the disk (dd's nocache with count=0 only advises the kernel).
evict_tree() {
	find "$1" -type f -exec dd iflag=nocache count=0 status=none if={} \;
}

# assert_contains TEXT PART: fail the test unless TEXT holds PART (for
# $stderr and other strings that assert_output --partial does not look at).
assert_contains() {
	if [[ "$1" != *"$2"* ]]; then
		batslib_print_kv_single_or_multi 8 'text' "$1" 'part' "$2" |
			batslib_decorate 'text does not contain part' | fail
	fi
}

# --- Trees and what they look like ------------------------------------------

# snapshot DIR: the state of the tree at DIR, for proving that a run changed
# nothing (or undid all it did): every entry, DIR itself included, with its
# type, mode, size, mtime with nanoseconds, link target and path, then every
# regular file's sha256. Directories' sizes are left out: a directory that
# held entries for a while may keep its larger size once they are gone (ext4),
# which no rollback can (or need) undo.
snapshot() {
	_tree_state "$1"
}

# tree_listing DIR: as snapshot, without the seal (.ptools-seal), for
# comparing a copy with its source (or with another finished copy).
tree_listing() {
	_tree_state "$1" -name .ptools-seal -prune -o
}

# _tree_state DIR [FIND-PREFIX...]: snapshot's and tree_listing's lines, the
# entries find's FIND-PREFIX (a pruning clause ending in -o) leaves.
_tree_state() {
	local dir=$1
	shift
	(cd "$dir" &&
		find . "$@" ! -type d -printf '%y %m %s %T@ %l %p\0' | sort -z | tr '\0' '\n' &&
		find . "$@" -type d -printf '%y %m %T@ %p\0' | sort -z | tr '\0' '\n' &&
		find . "$@" -type f -print0 | sort -z | xargs -0r sha256sum)
}

# make_mixed_tree DIR: a tree to copy: files of several sizes, an empty
# directory, a symlink and a dangling one, an 8 MiB sparse file, a hard
# link, modes other than the umask's and a set mtime.
make_mixed_tree() {
	mkdir -p "$1/sub/deeper" "$1/empty"
	printf 'alpha\n' > "$1/a"
	printf 'bravo\n' > "$1/sub/b"
	head -c 300000 /dev/urandom > "$1/sub/deeper/medium"
	ln -s sub/b "$1/link-to-b"
	ln -s /nonexistent/target "$1/dangling"
	truncate -s 8M "$1/sparse"
	printf 'middle' | dd of="$1/sparse" bs=1 seek=4000000 conv=notrunc 2>/dev/null
	ln "$1/a" "$1/sub/hardlink-to-a"
	chmod 0640 "$1/sub/b"
	chmod 0750 "$1/sub/deeper"
	touch -d '2001-02-03 04:05:06.123456789' "$1/a" "$1/sub"
}

# make_typed_tree DIR: a tree to walk and match against find: every file
# type (a fifo, a socket, device nodes where mknod is allowed, symlinks, one
# of them broken), sizes on both sides of 512 B, 1 KiB and 1 MiB, sparse
# files of 1 and 3 GiB, names that differ in case only, and hidden entries.
make_typed_tree() {
	local t=$1
	mkdir -p "$t/a/b/c" "$t/d" "$t/.hid/x" "$t/e"
	: > "$t/empty"
	head -c 1 /dev/zero > "$t/one"
	head -c 511 /dev/zero > "$t/a/s511"
	head -c 512 /dev/zero > "$t/a/s512"
	head -c 513 /dev/zero > "$t/a/s513"
	head -c 1023 /dev/zero > "$t/a/b/s1023"
	head -c 1024 /dev/zero > "$t/a/b/s1024"
	head -c 1025 /dev/zero > "$t/a/b/s1025"
	head -c 1048576 /dev/zero > "$t/a/b/c/s1M"
	head -c 1048577 /dev/zero > "$t/a/b/c/s1Mplus"
	truncate -s 1G "$t/d/sparse1G"
	truncate -s 3G "$t/d/sparse3G"
	echo hi > "$t/d/README.txt"
	echo hi > "$t/d/readme.TXT"
	: > "$t/.hid/x/inside"
	: > "$t/.dot"
	ln -s a "$t/link-to-a"
	ln -s nowhere "$t/broken"
	mkfifo "$t/d/fifo"
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$t/d/sock"
	mknod "$t/d/blk" b 7 250 2>/dev/null || true
	mknod "$t/d/chr" c 1 3 2>/dev/null || true
}

# make_many DIR N [DIRS]: N small files f0..f(N-1), each holding "file I",
# spread over DIRS directories d0..d(DIRS-1) (default 5): a copy of many
# files that takes a while (a journal record and a rename each).
make_many() {
	local dirs=${3:-5} i
	for ((i = 0; i < $2; i++)); do
		mkdir -p "$1/d$((i % dirs))"
		printf 'file %d\n' "$i" > "$1/d$((i % dirs))/f$i"
	done
}

# make_wide DIR: 6,000 empty files named 1..300 in 20 directories d1..d20,
# and d1/1 holding a line: output enough to fill a pipe many times over,
# from files that cost nothing to hash.
make_wide() {
	local d
	mkdir -p "$1"
	for d in $(seq 1 20); do
		mkdir "$1/d$d"
		(cd "$1/d$d" && seq 1 300 | xargs touch)
	done
	printf 'some data\n' > "$1/d1/1"
}

# make_tree DIR: four files with distinct contents, three of them of one
# size, one in a subdirectory: a tree small enough to name each file.
make_tree() {
	mkdir -p "$1/sub"
	printf 'alpha content\n' > "$1/a"
	printf 'bravo content\n' > "$1/b"
	printf 'gamma content\n' > "$1/sub/c"
	printf 'a much longer file, not the same size as the others\n' > "$1/sub/d"
}

# --- Manifests and seals -----------------------------------------------------

# native_manifest DIR: one native record per regular file under DIR (simple
# names only), with sha256 and the mtime, built with stat and sha256sum so
# that the tests of pverify do not depend on phash.
native_manifest() {
	local f
	find "$1" -type f -print0 | sort -z | while IFS= read -r -d '' f; do
		printf '%s\t%s\t%s\tsha256:%s\tmtime:%s\n' "$(stat -c %i "$f")" "$(stat -c %s "$f")" \
			"$f" "$(sha256sum < "$f" | cut -d' ' -f1)" "$(stat -c %.9Y "$f")"
	done
}

# seal_manifest IN OUT: OUT = "# ptools seal v1", the lines of IN, then the
# seal line as docs/FORMAT.md section 9 defines it (the sha256 of every byte
# before it), computed with sha256sum. IN may be a process substitution.
seal_manifest() {
	{ printf '# ptools seal v1\n'; cat "$1"; } > "$2.body"
	{ cat "$2.body"; printf '#seal\tsha256:%s\n' "$(sha256sum < "$2.body" | cut -c1-64)"; } > "$2"
	rm -f "$2.body"
}

# seal_ok DEST [SEAL]: the seal DEST/SEAL (default .ptools-seal) verifies
# with pverify -C DEST; fails the test (or returns 1 where the caller tests
# it) if not.
seal_ok() {
	prun pverify -C "$1" < "$1/${2:-.ptools-seal}"
	assert_success
}

# --- The batched (io_uring) read path ---------------------------------------

# uring_traced TRACE CMD...: CMD, logging its io_uring system calls (and its
# children's) to TRACE with strace where strace can trace here; CMD alone,
# and TRACE empty, where it cannot. Leak checking is off under strace: an
# ASan build's LeakSanitizer does not work under ptrace.
uring_traced() {
	local trace=$1
	shift
	: > "$trace"
	if command -v strace >/dev/null && strace -f -qq -e trace=none -o /dev/null true 2>/dev/null; then
		ASAN_OPTIONS=detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS} \
			strace -f -qq -e trace=io_uring_setup,io_uring_enter -o "$trace" "$@"
	else
		echo "untraced" > "$trace"
		"$@"
	fi
}

# assert_batched ON OFF: the run uring_traced logged in ON (io_uring allowed)
# read cold files in batches: an io_uring_enter submitted two reads or more
# at once; and the run logged in OFF (PTOOLS_IO_URING=0) read them one by
# one, with no io_uring call at all. Skips the test, saying why, where that
# cannot be shown: io_uring turned off for the whole run (make valgrind), no
# strace, a tmpfs (whose pages are never cold), or a kernel that refuses
# io_uring (the tools then read one by one too).
assert_batched() {
	local on=$1 off=$2 refused batches
	[ "${PTOOLS_IO_URING:-1}" != 0 ] ||
		skip "PTOOLS_IO_URING=0 for the whole run: the batched path was not run"
	[ "$(head -n 1 "$on")" != untraced ] ||
		skip "strace cannot trace here: the batched path may have run, but is not shown to"
	[ "$(stat -f -c %T .)" != tmpfs ] ||
		skip "a tmpfs keeps every page cached: no file is read cold, so none in batches"
	refused=$(sed -n 's/.*io_uring_setup(.*= -1 \(.*\)$/\1/p' "$on" | head -n 1)
	[ -z "$refused" ] || skip "the kernel refuses io_uring ($refused): files are read one by one"
	batches=$(grep -Eo 'io_uring_enter\([0-9]+, [0-9]+' "$on" | awk -F', ' '$2 >= 2 { n++ } END { print n + 0 }')
	[ "$batches" -gt 0 ] ||
		fail "no io_uring_enter submitted more than one read; the calls were:
$(grep io_uring "$on")"
	assert_equal "$(grep -c io_uring "$off")" 0
}
