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
	local status
	build_shim
	# 300 files in one directory, which the first destination already has.
	make_many src 300 1
	mkdir -p src/b one/d0
	printf 'keep\n' > one/keep
	printf 'old\n' > one/d0/old
	touch -d '2010-01-01' one/d0 one/keep one
	snap=$(snapshot one)
	# Every write into the destinations sleeps, so the signal lands mid-copy.
	start_slow_pcopy one --no-progress src one two
	kill -INT "$pid"
	status=0
	wait "$pid" || status=$?
	assert_equal "$status" 130
	assert_equal "$(snapshot one)" "$snap"
	assert [ ! -e two ]
}

@test "every tool prints --help and --version on stdout with 0, and a usage error as one line and a hint with 2" {
	local tool
	for tool in pfind phash pverify pcopy; do
		prun --separate-stderr "$tool" --help
		assert_success
		assert_output --regexp '[Uu]sage:'
		assert_equal "$stderr" ""
		prun --separate-stderr "$tool" --version
		assert_success
		assert_output --regexp "^$tool "
		assert_equal "$stderr" ""
		prun --separate-stderr "$tool" --no-such-option
		assert_failure 2
		assert_equal "$output" ""
		# The problem on one line and the hint, nothing more.
		assert_equal "$stderr" "$tool: option '--no-such-option' is unknown
Try '$tool --help' for more information."
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
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "pcopy: option '--readers' needs an argument"
}
