#!/usr/bin/env bats
# SPDX-License-Identifier: 0BSD
# Guarantees of docs/RELIABILITY.md that no program's own test file proves:
# write errors on stdout, a reader that goes away, SIGINT during a copy, and
# the --help/--version/usage-error contract of every tool.

load test_helper
bats_require_minimum_version 1.5.0

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
}

# make_wide DIR: 6,000 small files in 20 directories (enough output to fill
# a pipe many times over).
make_wide() {
	local d
	mkdir -p "$1"
	for d in $(seq 1 20); do
		mkdir "$1/d$d"
		(cd "$1/d$d" && seq 1 300 | xargs touch)
	done
	printf 'some data\n' > "$1/d1/1"
}

@test "pfind, phash and pverify exit 1 with one wording when standard output is a full disk" {
	make_wide t
	pfind t | phash > list
	prun --separate-stderr pfind t
	assert_success
	prun --separate-stderr bash -c 'pfind t > /dev/full'
	assert_failure 1
	assert_equal "$stderr" "pfind: standard output: No space left on device"
	prun --separate-stderr bash -c 'phash -r t > /dev/full'
	assert_failure 1
	assert_equal "$stderr" "phash: standard output: No space left on device"
	prun --separate-stderr bash -c 'pfind t | phash > /dev/full'
	assert_failure 1
	assert_equal "$stderr" "phash: standard output: No space left on device"
	prun --separate-stderr bash -c 'pverify -v -f list > /dev/full'
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "pverify: standard output: No space left on device"
}

@test "every tool refuses a bad count the same way: invalid WHAT count 'ARG' (1 to 1024), exit 2" {
	local tool arg
	for arg in 0 1025 x 3x -1 ''; do
		for tool in "pfind -j" "phash -j" "pverify -j" "pcopy -j" "pcopy -w"; do
			prun $tool "$arg" . dest
			assert_failure 2
			assert_line --index 0 --regexp "^${tool%% *}: invalid (thread|job|reader|writer) count '$arg' \\(1 to 1024\\)$"
		done
	done
	printf 'x\n' > f
	prun pfind -j 1024 f
	assert_success
	prun phash -j 1024 f
	assert_success
}

# quiet_when_reader_leaves SIGPIPE-DISPOSITION CMD: run CMD | head -n 1 and
# check CMD ended by SIGPIPE or with 0/1, and said nothing about the pipe.
quiet_when_reader_leaves() {
	local disposition=$1 trap_cmd=: status
	[ "$disposition" = ignored ] && trap_cmd="trap '' PIPE"
	shift
	prun bash -c "$trap_cmd; $* 2>err | head -n 1 > /dev/null; echo \${PIPESTATUS[0]}"
	assert_success
	status=$output
	if [ "$status" != 0 ] && [ "$status" != 1 ] && [ "$status" != 141 ]; then
		echo "'$*' ended with $status when its reader went away" >&2
		return 1
	fi
	if grep -Eiq 'pipe|standard output|stdout|write error' err; then
		echo "'$*' complained when its reader went away (SIGPIPE $disposition):" >&2
		cat err >&2
		return 1
	fi
}

@test "pfind, phash and pverify end quietly when their reader goes away, SIGPIPE default or ignored" {
	make_wide t
	pfind t | phash > list
	for disposition in default ignored; do
		quiet_when_reader_leaves "$disposition" pfind t
		quiet_when_reader_leaves "$disposition" phash -r t
		quiet_when_reader_leaves "$disposition" "pfind t | phash"
		quiet_when_reader_leaves "$disposition" pverify -v -f list
	done
}

@test "SIGINT rolls back every destination of pcopy and exits 130" {
	local i status
	cc -shared -fPIC -o slow.so "$BATS_TEST_DIRNAME/eio_shim.c" -ldl ||
		skip "cannot build the LD_PRELOAD shim"
	export ASAN_OPTIONS=verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}
	mkdir -p src/a src/b one
	for i in $(seq 1 300); do printf 'file %d\n' "$i" > "src/a/$i"; done
	printf 'keep\n' > one/keep
	mkdir one/a
	printf 'old\n' > one/a/old
	touch -d '2010-01-01' one/a one/keep one
	snap=$(cd one && find . -printf '%y %m %s %T@ %p\n' | sort && cat keep a/old)
	# Every write into the destinations sleeps, so the signal lands mid-copy.
	start_slow_pcopy "$PWD/slow.so" one --no-progress src one two
	kill -INT "$pid"
	status=0
	wait "$pid" || status=$?
	assert_equal "$status" 130
	assert_equal "$(cd one && find . -printf '%y %m %s %T@ %p\n' | sort && cat keep a/old)" "$snap"
	assert [ ! -e two ]
}

@test "every tool prints --help and --version on stdout with 0, and a usage error as one line with 2" {
	local tool
	for tool in pfind phash pverify pcopy; do
		prun --separate-stderr "$tool" --help
		assert_success
		[[ "$output" == *Usage:* || "$output" == *usage:* ]]
		assert_equal "$stderr" ""
		prun --separate-stderr "$tool" --version
		assert_success
		[[ "$output" == "$tool "* ]]
		assert_equal "$stderr" ""
		prun --separate-stderr "$tool" --no-such-option
		assert_failure 2
		assert_equal "$output" ""
		[[ "$stderr" == "$tool: "* ]]
		# The problem and the hint, nothing more.
		[ "${#stderr_lines[@]}" -le 2 ]
		assert_equal "${stderr_lines[0]}" "$tool: option '--no-such-option' is unknown"
		# A short option is named by its letter, even inside a group, and a
		# long one missing its argument by what the user wrote.
		prun --separate-stderr "$tool" -Z
		assert_failure 2
		[ "$tool" = pfind ] || assert_equal "${stderr_lines[0]}" "$tool: option '-Z' is unknown"
		prun --separate-stderr "$tool" --jobs
		assert_failure 2
		[ "$tool" = pcopy ] || assert_equal "${stderr_lines[0]}" "$tool: option '--jobs' needs an argument"
	done
	prun --separate-stderr phash -0Zr
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "phash: option '-Z' is unknown"
	prun --separate-stderr pcopy --readers
	assert_equal "${stderr_lines[0]}" "pcopy: option '--readers' needs an argument"
}
