# SPDX-License-Identifier: 0BSD
# Shared setup for every .bats file: load bats-support/assert/file, put the
# binaries under test first on PATH, and provide tree builders.
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

# start_slow_pcopy SHIM DEST ARG...: start pcopy ARG... in the background
# (stderr to ./err, its pid in $pid) with every write under the current
# directory slowed 5 ms by SHIM, tests/eio_shim.c built as a shared object;
# return once DEST's journal records more than ten files, so that a signal
# or a kill sent now lands mid-copy.
start_slow_pcopy() {
	local shim=$1 dest=$2 i
	shift 2
	# A non-interactive shell starts background jobs with SIGINT ignored,
	# which pcopy keeps ignored: give it the default disposition, unless
	# the caller asks for the signals as they are (KEEP_SIGNALS=1).
	local reset=(env --default-signal=INT)
	[ "${KEEP_SIGNALS:-0}" = 1 ] && reset=()
	LD_PRELOAD=$shim EIO_SHIM_PREFIX=$PWD EIO_SHIM_SPARE=.pcopy-journal \
		EIO_SHIM_DELAY_US=5000 "${reset[@]}" pcopy "$@" 2>err &
	pid=$!
	for ((i = 0; i < 400; i++)); do
		[ -f "$dest/.pcopy-journal" ] && [ "$(grep -c '^R' "$dest/.pcopy-journal")" -gt 10 ] &&
			return 0
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

# drop_to_nobody CMD...: run CMD as user nobody (tests run as root, and root
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
