#!/usr/bin/env bats
# SPDX-License-Identifier: 0BSD
# pcopy's delta updates on one machine: a file that exists in the
# destination is compared block by block with the source, and only the
# blocks that differ are written; atomically (a temporary, renamed) or with
# --inplace (the old bytes journaled, so a rollback restores them). Every
# result is byte-identical to the source, and the blocks counted are those
# changed.

load test_helper
load write_count
load reflink
bats_require_minimum_version 1.5.0

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
}

teardown() {
	reflink_fs_stop
	tmpfs_stop
}

# pseudo FILE MIB [SEED]: MIB MiB of seeded pseudo-random bytes.
pseudo() {
	/usr/bin/python3 - "$1" "$2" "${3:-1}" <<'EOF'
import random, sys
r = random.Random(int(sys.argv[3]))
with open(sys.argv[1], "wb") as f:
    for _ in range(int(sys.argv[2]) * 16):
        f.write(r.randbytes(65536))
EOF
}

# poke FILE OFFSET: overwrite 7 bytes at OFFSET.
poke() {
	printf 'CHANGED' | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# delta_note: the "compared by blocks" note of the last run's stderr.
delta_note() {
	grep 'compared by blocks' <<<"$output"
}

# start_tree MIB: src/big of MIB MiB, copied into dst (sealed).
start_tree() {
	mkdir src
	pseudo src/big "$1"
	prun pcopy --no-progress src dst
	assert_success
	cp dst/big old-big
}

@test "delta: a block changed at the start, in the middle, at the end: one block each, identical" {
	start_tree 4
	poke src/big 0
	poke src/big $((2 << 20))
	poke src/big $(((4 << 20) - 7))
	run -0 pcopy -n --delta src dst
	assert_output $'delta\tdst\tbig\tblocks:64\tdiffer:3\tsimilar:95.3'
	cmp old-big dst/big # -n changed nothing
	prun pcopy -u --progress src dst
	assert_success
	assert_regex "$(delta_note)" ': 1 file\(s\) compared by blocks: 3 of 64 blocks differed \(95.3% similar\), 192.0 KiB written$'
	cmp src/big dst/big
	seal_ok dst
}

@test "delta: scattered blocks with --block-size 4K count each changed block" {
	start_tree 2
	for off in 4096 40960 409600 1048576 2000000; do poke src/big "$off"; done
	run -0 pcopy -n --delta --block-size 4K src dst
	assert_output $'delta\tdst\tbig\tblocks:512\tdiffer:5\tsimilar:99.0'
	prun pcopy --delta --block-size 4K --progress src dst
	assert_success
	assert_regex "$(delta_note)" '5 of 512 blocks differed'
	cmp src/big dst/big
}

@test "delta: a grown and a shrunk file end byte-identical" {
	start_tree 3
	head -c 100000 /dev/urandom >> src/big
	prun pcopy --delta --progress src dst
	assert_success
	# 3 MiB equal (48 blocks), then 100000 new bytes over 2 blocks
	assert_regex "$(delta_note)" '2 of 50 blocks differed'
	cmp src/big dst/big
	truncate -s $((2 << 20)) src/big
	prun pcopy --delta --progress src dst
	assert_success
	assert_regex "$(delta_note)" '0 of 32 blocks differed'
	cmp src/big dst/big
	seal_ok dst
}

@test "delta: an unchanged file is kept as it is, the same inode, nothing written" {
	start_tree 2
	ino=$(stat -c %i dst/big)
	prun pcopy --delta --progress src dst
	assert_success
	assert_regex "$(delta_note)" '0 of 32 blocks differed \(100.0% similar\), 0 B written'
	assert_equal "$(stat -c %i dst/big)" "$ino"
	cmp src/big dst/big
}

@test "delta: only the metadata differs: the file keeps its inode and gets the source's mtime" {
	start_tree 2
	ino=$(stat -c %i dst/big)
	touch -d '2001-02-03 04:05:06' src/big
	prun pcopy -u --progress src dst
	assert_success
	assert_equal "$(stat -c %i dst/big)" "$ino"
	assert_equal "$(stat -c %Y dst/big)" "$(stat -c %Y src/big)"
}

@test "delta: atomic by default: a changed file is a new inode, renamed into place" {
	start_tree 2
	ino=$(stat -c %i dst/big)
	poke src/big 70000
	prun pcopy -u src dst
	assert_success
	[ "$(stat -c %i dst/big)" != "$ino" ]
	cmp src/big dst/big
}

@test "delta: --inplace keeps the inode and writes only the changed block" {
	start_tree 2
	ino=$(stat -c %i dst/big)
	poke src/big 70000
	prun pcopy --inplace --progress src dst
	assert_success
	assert_equal "$(stat -c %i dst/big)" "$ino"
	assert_regex "$(delta_note)" '1 of 32 blocks differed.*, 64.0 KiB written'
	cmp src/big dst/big
	seal_ok dst
	assert_file_not_exists dst/.pcopy-journal
	assert_file_not_exists dst/.pcopy-journal-data
}

@test "delta: --inplace leaves a file with other names alone (the update is atomic)" {
	start_tree 2
	ln dst/big other-name
	poke src/big 70000
	prun pcopy --inplace src dst
	assert_success
	cmp src/big dst/big
	cmp old-big other-name
}

@test "delta: a file that differs nearly everywhere is copied whole from there on, identical" {
	start_tree 3
	pseudo src/big 3 99
	prun pcopy -u --progress src dst
	assert_success
	cmp src/big dst/big
	# the compare stopped once nearly everything differed
	run -0 delta_note
	assert_regex "$output" 'compared by blocks: 1[6-9] of 1[6-9] blocks differed'
}

@test "delta: -W rewrites the whole file (no blocks compared)" {
	start_tree 2
	poke src/big 70000
	run -0 pcopy -n -u -W src dst
	assert_output $'replace\tdst\tbig'
	prun pcopy -u -W --progress src dst
	assert_success
	refute_output --partial 'compared by blocks'
	cmp src/big dst/big
}

@test "delta: a file below 1 MiB is replaced whole" {
	mkdir src
	head -c 500000 /dev/urandom > src/small
	prun pcopy --no-progress src dst
	assert_success
	poke src/small 10
	run -0 pcopy -n --delta src dst
	assert_output $'replace\tdst\tsmall'
	prun pcopy --delta --progress src dst
	assert_success
	refute_output --partial 'compared by blocks'
	cmp src/small dst/small
}

@test "delta: zero blocks of the source become holes in the new copy" {
	mkdir src
	pseudo src/big 2
	prun pcopy --no-progress src dst
	assert_success
	# the second MiB turns to zeros
	dd if=/dev/zero of=src/big bs=1M seek=1 count=1 conv=notrunc status=none
	prun pcopy -u src dst
	assert_success
	cmp src/big dst/big
	# about 1 MiB of the 2 MiB is allocated
	[ "$(stat -c %b dst/big)" -lt 3000 ] || fail "no hole: $(stat -c %b dst/big) blocks"
}

@test "delta: ENOSPC during a delta leaves the old file intact" {
	mkdir src
	tmpfs_start "$PWD/small" 5m
	pseudo src/big 3
	prun pcopy --no-progress src small/dst
	assert_success
	cp small/dst/big old-big
	# the new version needs a second 3+ MiB file beside the old one
	head -c $((1 << 20)) /dev/urandom >> src/big
	poke src/big 10
	prun pcopy -u -W src small/dst
	assert_failure 1
	prun pcopy -u src small/dst
	assert_failure 1
	cmp old-big small/dst/big
	run -0 ls -A small/dst
	assert_output '.ptools-seal
big'
}

@test "delta: usage errors: a bad --block-size, -W with --delta or --inplace" {
	run -2 pcopy --block-size 3000 src dst
	assert_output --partial "invalid block size '3000'"
	run -2 pcopy --block-size 2M src dst
	run -2 pcopy -W --delta src dst
	assert_output --partial '--whole-file excludes --delta and --inplace'
}

# scatter FILE: change every third 64 KiB block of FILE (16 MiB: 86 blocks).
scatter() {
	local off
	for ((off = 0; off < (16 << 20); off += 3 * 65536)); do
		poke "$1" "$off"
	done
}

@test "delta: --inplace: a write failing midway rolls the file back exactly" {
	build_shim
	start_tree 16
	scatter src/big
	touch -d '2003-04-05 06:07:08' dst/big
	before=$(stat -c '%s %a %Y' dst/big)
	# the source (and the old file, which has its name) cannot be read past
	# 8 MiB: the blocks before were already changed in place
	LD_PRELOAD="$BATS_TEST_TMPDIR/eio.so" EIO_SHIM_BAD_READ=big EIO_SHIM_BAD_OFFSET=$((8 << 20)) \
		run -1 pcopy --inplace --no-progress src dst
	assert_output --partial 'rolled back'
	cmp old-big dst/big
	assert_equal "$(stat -c '%s %a %Y' dst/big)" "$before"
	assert_file_not_exists dst/.pcopy-journal
	assert_file_not_exists dst/.pcopy-journal-data
}

@test "delta: --inplace: SIGTERM midway puts every old byte back" {
	build_shim
	start_tree 16
	scatter src/big
	head -c 100000 /dev/urandom >> src/big
	LD_PRELOAD="$BATS_TEST_TMPDIR/eio.so" EIO_SHIM_PREFIX=$PWD/dst EIO_SHIM_SPARE=.pcopy-journal \
		EIO_SHIM_DELAY_US=20000 env --default-signal=INT pcopy --inplace --no-progress src dst 2>err &
	pid=$!
	for ((i = 0; i < 200; i++)); do
		[ -s dst/.pcopy-journal-data ] && break
		sleep 0.05
	done
	[ -s dst/.pcopy-journal-data ] || fail "no block was changed in place"
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 143
	cmp old-big dst/big
	assert_file_not_exists dst/.pcopy-journal
}

@test "delta: --inplace killed -9 at random moments: --rollback restores the old file exactly" {
	build_shim
	start_tree 16
	scatter src/big
	truncate -s $((15 << 20)) src/big # the tail is cut too
	cp src/big new-big
	: "${PTOOLS_SEED:=1}"
	slowly() {
		LD_PRELOAD="$BATS_TEST_TMPDIR/eio.so" EIO_SHIM_PREFIX=$PWD/dst \
			EIO_SHIM_SPARE=.pcopy-journal EIO_SHIM_DELAY_US=3000 "$@"
	}
	# the same in place of the calling (background) shell, so that its pid is pcopy's
	slowly_exec() {
		LD_PRELOAD="$BATS_TEST_TMPDIR/eio.so" EIO_SHIM_PREFIX=$PWD/dst \
			EIO_SHIM_SPARE=.pcopy-journal EIO_SHIM_DELAY_US=3000 exec "$@"
	}
	start=$(date +%s%N)
	slowly pcopy --inplace --no-progress src dst
	duration=$(($(date +%s%N) - start))
	cmp new-big dst/big
	restored=0 completed=0
	for fraction in $(awk -v seed="$PTOOLS_SEED" 'BEGIN { srand(seed); for (i = 0; i < 8; i++) printf "%.3f\n", 0.05 + 0.9 * rand() }'); do
		cp old-big dst/big
		(exec 2>err; slowly_exec pcopy --inplace --no-progress src dst) &
		pid=$!
		sleep "$(awk -v d="$duration" -v f="$fraction" 'BEGIN { printf "%.4f", d * f / 1e9 }')"
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" || true
		if [ -e dst/.pcopy-journal ]; then
			run pcopy --rollback dst
			[ "$status" = 0 ] || fail "seed $PTOOLS_SEED, kill at $fraction: --rollback: $output"
		fi
		assert_file_not_exists dst/.pcopy-journal
		assert_file_not_exists dst/.pcopy-journal-data
		if cmp -s old-big dst/big; then
			restored=$((restored + 1))
		else
			cmp new-big dst/big || fail "seed $PTOOLS_SEED, kill at $fraction: neither old nor new"
			completed=$((completed + 1))
		fi
	done
	# the moments landed mid-update at least once
	[ "$restored" -gt 0 ] || fail "no kill landed before the commit ($completed completed)"
}

@test "delta: bytes written (write counter): --inplace writes the changed blocks and no more" {
	build_count_shim "$BATS_TEST_TMPDIR/count.so" || skip "cannot build the write counter"
	start_tree 4
	poke src/big 100
	poke src/big $((3 << 20))
	count_writes "$BATS_TEST_TMPDIR/count.so" "$PWD/dst" count \
		pcopy --inplace --no-progress src dst
	cmp src/big dst/big
	# two 64 KiB blocks into the file, and their old bytes into the journal's
	# data file, plus the journal's and the seal's text
	written=$(count_total count written)
	[ "$written" -ge $((4 * 65536)) ] && [ "$written" -lt $((4 * 65536 + 8192)) ] ||
		fail "wrote $written bytes for two changed blocks"
	assert_equal "$(count_total count copied)" 0
}

@test "delta: on a filesystem without reflinks the equal ranges come from copy_file_range" {
	build_count_shim "$BATS_TEST_TMPDIR/count.so" || skip "cannot build the write counter"
	tmpfs_start "$PWD/t" 64m
	mkdir t/src
	pseudo t/src/big 4
	prun pcopy --no-progress t/src t/dst
	assert_success
	poke t/src/big 100
	count_writes "$BATS_TEST_TMPDIR/count.so" "$PWD/t/dst" count \
		pcopy -u --no-progress t/src t/dst
	cmp t/src/big t/dst/big
	# one block written by hand, the other 63 copied in the kernel
	written=$(count_total count written) copied=$(count_total count copied)
	[ "$written" -lt $((65536 + 8192)) ] || fail "wrote $written bytes for one changed block"
	assert_equal "$copied" $((63 * 65536))
	seal_ok t/dst
}

@test "delta: on a reflink filesystem the new version is a clone: only changed blocks take space" {
	build_count_shim "$BATS_TEST_TMPDIR/count.so" || skip "cannot build the write counter"
	REFLINK_SIZE=400M reflink_fs_start "$PWD/r"
	mkdir r/src
	pseudo r/src/big 64
	prun pcopy --no-progress r/src r/dst
	assert_success
	poke r/src/big 100
	poke r/src/big $((40 << 20))
	sync
	used=$(df --output=used -B1 r | tail -1)
	count_writes "$BATS_TEST_TMPDIR/count.so" "$PWD/r/dst" count \
		pcopy -u --no-progress r/src r/dst
	cmp r/src/big r/dst/big
	assert_equal "$(count_total count copied)" 0
	written=$(count_total count written)
	[ "$written" -lt $((2 * 65536 + 8192)) ] || fail "wrote $written bytes for two changed blocks"
	sync
	grown=$(($(df --output=used -B1 r | tail -1) - used))
	# a whole copy would take 64 MiB more; a clone takes the changed blocks
	[ "$grown" -lt $((8 << 20)) ] || fail "$REFLINK_FS: $grown bytes more in use"
	seal_ok r/dst
	# a changed prefix (every block of it differs) does not give the clone up
	head -c $((4 << 20)) /dev/urandom | dd of=r/src/big conv=notrunc status=none
	count_writes "$BATS_TEST_TMPDIR/count.so" "$PWD/r/dst" count \
		pcopy -u --no-progress r/src r/dst
	cmp r/src/big r/dst/big
	written=$(count_total count written)
	[ "$written" -lt $(((4 << 20) + 8192)) ] || fail "wrote $written bytes for a 4 MiB prefix"
}

@test "delta: a single file (pcopy FILE DEST): -n reports its blocks, -u writes only them" {
	mkdir d
	pseudo big 2
	run -0 pcopy big d/big
	poke big 5000
	run -0 pcopy -n -u big d/big
	assert_output $'delta\td\tbig\tblocks:32\tdiffer:1\tsimilar:96.8'
	run -0 pcopy -u --progress big d/big
	assert_line --partial '1 of 32 blocks differed'
	assert_line --regexp $'^[0-9]+\t2097152\td/big\tsha256:'"$(sha256sum big | cut -c1-64)"'$'
	cmp big d/big
}

@test "delta: a file with other names that differs only in its mtime gets a new copy: the other names keep theirs" {
	start_tree 2
	ln dst/big other-name
	touch -d '2004-05-06 07:08:09' dst/big
	before=$(stat -c %Y other-name)
	prun pcopy --delta src dst
	assert_success
	cmp src/big dst/big
	assert_equal "$(stat -c %Y dst/big)" "$(stat -c %Y src/big)"
	assert_equal "$(stat -c %Y other-name)" "$before"
	[ "$(stat -c %i dst/big)" != "$(stat -c %i other-name)" ]
}
