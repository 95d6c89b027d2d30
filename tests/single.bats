#!/usr/bin/env bats
# SPDX-License-Identifier: 0BSD
# pcopy FILE DEST... (issue 20): a single regular file as the source, as cp
# and pdiffcopy take one. Each DEST is an existing directory (the copy goes
# in under FILE's name) or the new file's path; the run prints one record per
# destination and writes a seal only with --seal.

load test_helper
bats_require_minimum_version 1.5.0

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	T=$BATS_TEST_TMPDIR
	head -c 300000 /dev/urandom > file
	touch -d '2020-02-03 04:05:06.5' file
	SUM=$(sha256sum < file | cut -c1-64)
	STANDIN=$BATS_TEST_DIRNAME/rsh-standin
	RPCOPY=$(command -v pcopy)
}

# rpcopy ARG...: pcopy through the ssh stand-in (tests/remote.bats).
rpcopy() {
	timeout -k 5 120 pcopy -e "$STANDIN" --remote-pcopy "$RPCOPY" "$@" 3>&-
}

# record_ok LINE PATH: LINE is the record of the copy at PATH (as named):
# the inode and size of PATH, and the sha256 that sha256sum computes of it.
record_ok() {
	local ino size path digest
	IFS=$'\t' read -r ino size path digest <<< "$1"
	assert_equal "$path" "$2"
	assert_equal "$ino" "$(stat -c %i "$2")"
	assert_equal "$size" "$(stat -c %s "$2")"
	assert_equal "$digest" "sha256:$(sha256sum < "$2" | cut -c1-64)"
}

@test "pcopy FILE DIR copies the file into the directory under its name, with one record" {
	mkdir d
	prun pcopy --no-progress file d
	assert_success
	cmp file d/file
	assert_equal "$(stat -c '%a %Y' d/file)" "$(stat -c '%a %Y' file)"
	assert_equal "${#lines[@]}" 1
	record_ok "${lines[0]}" d/file
	assert_equal "${lines[0]##*sha256:}" "$SUM"
	# No seal, no journal, no temporary left.
	assert_equal "$(ls -A d)" file
}

@test "pcopy FILE NEW makes the file under the new name in an existing parent" {
	mkdir d
	prun pcopy --no-progress file d/new.bin
	assert_success
	cmp file d/new.bin
	record_ok "$output" d/new.bin
	assert_equal "$(ls -A d)" new.bin
	prun pcopy --no-progress file plain-name
	assert_success
	cmp file plain-name
	record_ok "$output" plain-name
	assert [ ! -e .pcopy-journal ]
}

@test "several DESTs get the file under their own names, one record each, in order" {
	mkdir d e
	prun pcopy --no-progress -a sha256,xxh128 file d e/other "$T/abs" d2/../e/../named 2>&1
	assert_failure 1
	assert_output "pcopy: d2/../e/../named: No such file or directory"
	assert [ ! -e d/file ]
	prun pcopy --no-progress -a sha256,xxh128 file d e/other "$T/abs"
	assert_success
	assert_equal "${#lines[@]}" 3
	for f in d/file e/other "$T/abs"; do cmp file "$f"; done
	assert_equal "$(cut -f3 <<< "$output" | tr '\n' ' ')" "d/file e/other $T/abs "
	record_ok "$(cut -f1-4 <<< "${lines[1]}")" e/other
	assert_equal "$(cut -f5 <<< "${lines[2]}")" "xxh128:$(xxhsum -H128 < file | cut -d' ' -f1)"
	prun pcopy --no-progress file d/x e/y d/z
	assert_failure 2
	assert_output --partial "pcopy: d/z: in the same directory as d/x (one DEST per directory)"
	assert [ ! -e d/x ]
}

@test "an existing file is not replaced without -f or -u; -f and -u replace it" {
	mkdir d
	printf 'old\n' > d/file
	prun pcopy --no-progress file d
	assert_failure 1
	assert_equal "$(cat d/file)" old
	assert_contains "$output" "pcopy: d/file: exists (not replaced without --force or --update)"
	assert_equal "$(ls -A d)" file
	prun pcopy --no-progress -f file d
	assert_success
	cmp file d/file
	record_ok "${lines[0]}" d/file
	printf 'old\n' > d/named
	prun pcopy --no-progress -u file d/named
	assert_success
	cmp file d/named
	record_ok "$output" d/named
	# -u with the same size and mtime: kept (compared), and its record said.
	ino=$(stat -c %i d/named)
	prun pcopy --no-progress -u file d/named
	assert_success
	assert_equal "$(stat -c %i d/named)" "$ino"
	record_ok "$output" d/named
}

@test "no seal unless --seal; --seal=NAME writes one that pverify accepts, listing the file by its name" {
	mkdir d
	prun pcopy --no-progress file d/a
	assert_success
	assert_equal "$(ls -A d)" a
	prun pcopy --no-progress --seal=SEAL file d/b
	assert_success
	record_ok "$output" d/b
	assert_equal "$(ls -A d | tr '\n' ' ')" "SEAL a b "
	seal_ok d SEAL
	assert_equal "$(grep -vc '^#' d/SEAL)" 1
	assert_equal "$(grep -v '^#' d/SEAL | cut -f3)" b
}

@test "--sign without --seal is a usage error with a single file" {
	mkdir d
	prun pcopy --no-progress --sign=/nonexistent file d
	assert_failure 2
	assert_output --partial "--sign needs --seal with a single FILE"
	assert_equal "$(ls -A d)" ""
}

@test "a missing FILE, a FILE that is a fifo, a missing DEST parent, DEST the FILE itself: refused, nothing written" {
	mkdir d
	prun pcopy --no-progress missing d
	assert_failure 1
	assert_output "pcopy: missing: No such file or directory"
	mkfifo fifo
	prun timeout 10 pcopy --no-progress fifo d
	assert_failure 2
	assert_output --partial "pcopy: fifo: not a regular file or a directory"
	prun pcopy --no-progress file nodir/x
	assert_failure 1
	assert_output "pcopy: nodir/x: No such file or directory"
	prun pcopy --no-progress file file/x
	assert_failure 1
	assert_output "pcopy: file/x: Not a directory"
	prun pcopy --no-progress file nodir/
	assert_failure 1
	assert_output "pcopy: nodir/: No such file or directory"
	prun pcopy --no-progress file file
	assert_failure 2
	assert_output --partial "pcopy: file: the destination is the source file itself"
	ln -s file alias
	prun pcopy --no-progress -f file alias
	assert_failure 2
	prun pcopy --no-progress -f file .
	assert_failure 2
	assert_equal "$(ls -A d)" ""
	cmp file <(head -c 300000 file)
}

@test "a symlink as FILE is followed, as cp follows its operands" {
	mkdir d
	ln -s file link
	prun pcopy --no-progress link d
	assert_success
	assert [ -f d/link ] && assert [ ! -L d/link ]
	cmp file d/link
	record_ok "$output" d/link
}

@test "-n says what a single-file copy would do, and changes nothing" {
	mkdir d e
	printf 'old\n' > d/file
	prun pcopy --no-progress -n file d e/new
	assert_failure 1
	assert_equal "${lines[0]}" $'refuse\td\tfile'
	assert_equal "${lines[1]}" $'copy\te\tnew'
	prun pcopy --no-progress -n -f file d
	assert_success
	assert_output $'replace\td\tfile'
	assert_equal "$(ls -A d)" file
	assert_equal "$(ls -A e)" ""
}

@test "--verify and -p apply to a single file" {
	mkdir d
	chmod 0640 file
	prun pcopy --no-progress --verify -p --fsync file d/v
	assert_success
	cmp file d/v
	assert_equal "$(stat -c '%a %u %Y' d/v)" "$(stat -c '%a %u %Y' file)"
}

# slow_single DEST ARG...: pcopy ARG... started with slow writes (stdout in
# out, stderr in err, SIGINT not ignored as it is in a background job);
# returns once its copy is in progress in the directory DEST, its pid in pid.
slow_single() {
	local dir=$1 i
	shift
	head -c $((8 << 20)) /dev/urandom > big
	LD_PRELOAD="$T/eio.so" EIO_SHIM_PREFIX=$T/$dir EIO_SHIM_SPARE=.pcopy-journal \
		EIO_SHIM_DELAY_US=100000 PTOOLS_NO_TMPFILE=1 env --default-signal=INT \
		pcopy --no-progress "$@" > out 2>err &
	pid=$!
	for ((i = 0; i < 400; i++)); do
		copy_in_progress "$pid" "$T/$dir" && break
		sleep 0.05
	done
}

# kill_single DEST ARG...: pcopy ARG... with slow writes, killed with -9 while
# its copy is in progress in the directory DEST.
kill_single() {
	slow_single "$@"
	kill -KILL "$pid"
	wait "$pid" || true
	assert [ -e "$1/.pcopy-journal" ]
}

# killed_over_named: d/named (old, dated 2010) being replaced by a single-file
# copy killed with -9; snap is d as it was before.
killed_over_named() {
	build_shim
	mkdir d
	printf 'old\n' > d/named
	touch -d '2010-01-01' d/named d
	snap=$(snapshot d)
	kill_single d -f big d/named
}

@test "after kill -9, pcopy --rollback DEST (a single file's DEST) restores its directory exactly" {
	killed_over_named
	prun pcopy --rollback d/named
	assert_success
	assert_equal "$(snapshot d)" "$snap"
	# A new name, not there yet at the kill: its directory is rolled back.
	kill_single d big d/fresh
	assert [ ! -e d/fresh ]
	prun pcopy --rollback d/fresh
	assert_success
	assert_equal "$(snapshot d)" "$snap"
}

@test "SIGINT during a single-file copy rolls back and exits 130" {
	build_shim
	mkdir d
	slow_single d big d/x
	kill -INT "$pid"
	status=0
	wait "$pid" || status=$?
	assert_equal "$status" 130
	assert_equal "$(ls -A d)" ""
	assert [ ! -s out ]
}

@test "push: pcopy FILE host:DIR puts it in the directory there, host:NEW names it; records name host:path" {
	mkdir d
	prun rpcopy --no-progress file "testhost:$T/nodir/x"
	assert_failure 1
	assert_output --partial "testhost:$T/nodir/x: No such file or directory"
	assert [ ! -e nodir ]
	prun rpcopy --no-progress file "testhost:$T/d" "testhost:$T/new.bin"
	assert_success
	cmp file d/file
	cmp file new.bin
	assert_equal "${#lines[@]}" 2
	record_ok "$(sed "s|testhost:||" <<< "${lines[0]}")" "$T/d/file"
	record_ok "$(sed "s|testhost:||" <<< "${lines[1]}")" "$T/new.bin"
	assert_equal "$(cut -f3 <<< "${lines[0]}")" "testhost:$T/d/file"
	assert_equal "$(ls -A d)" file
	# -f and --seal travel; without -f an existing file is refused there.
	prun rpcopy --no-progress file "testhost:$T/d"
	assert_failure 1
	prun rpcopy --no-progress -f --seal=S file "testhost:$T/d"
	assert_success
	assert_equal "$(ls -A d | tr '\n' ' ')" "S file "
	seal_ok d S
}

@test "pull: pcopy host:FILE DIR puts it in the directory, NEW names it; a remote directory is a tree pull as before" {
	mkdir d
	prun rpcopy --no-progress "testhost:$T/file" d pulled.bin
	assert_success
	cmp file d/file
	cmp file pulled.bin
	record_ok "${lines[0]}" d/file
	record_ok "${lines[1]}" pulled.bin
	assert_equal "$(ls -A d)" file
	mkdir -p tree/sub
	printf 'x\n' > tree/sub/y
	prun rpcopy --no-progress "testhost:$T/tree" tcopy
	assert_success
	assert_output ""
	assert_equal "$(cat tcopy/sub/y)" x
	seal_ok tcopy
	prun rpcopy --no-progress "testhost:$T/missing" d
	assert_failure 1
	assert_output --partial "missing: No such file or directory"
	prun rpcopy --no-progress "testhost:$T/file" nodir/x
	assert_failure 1
	assert_output --partial "nodir/x: No such file or directory"
	assert [ ! -e nodir ]
	mkfifo fifo
	# Refused there with status 2; a pull that never started exits 1 here, as a tree's does.
	prun rpcopy --no-progress "testhost:$T/fifo" d
	assert_failure 1
	assert_output --partial "testhost:$T/fifo: not a regular file or a directory"
	assert_equal "$(ls -A d)" file
}

@test "pcopy --rollback host:DEST of a single file's DEST rolls back its directory there" {
	killed_over_named
	prun rpcopy --rollback "testhost:$T/d/named"
	assert_success
	assert_equal "$(snapshot d)" "$snap"
}
