#!/usr/bin/env bats
# SPDX-License-Identifier: 0BSD
# The tools the tests and the benchmark of delta updates (issue 20) measure
# with: the write counter (tests/write_count_shim.c, tests/write_count.bash)
# and the filesystems of a chosen kind (tests/reflink.bash). Each must
# measure what it says, or the delta tests built on them prove nothing.

load test_helper
load write_count
load reflink

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	# /proc shows resolved paths: the prefix must be one too.
	T=$(pwd -P)
	PY=/usr/bin/python3
	mkdir -p "$T/in" "$T/out"
}

teardown() {
	reflink_fs_stop
	tmpfs_stop
}

shim() {
	build_count_shim "$T/count.so" || skip "cannot build the write counter"
}

@test "write counter: bytes written under the prefix are counted, bytes elsewhere are not" {
	shim
	count_writes "$T/count.so" "$T/in" "$T/count" \
		dd if=/dev/zero of="$T/in/f" bs=4096 count=10 status=none
	assert_equal "$(count_total "$T/count")" 40960
	assert_equal "$(count_total "$T/count" copied)" 0
	# The same writes outside the prefix, and into a sibling whose name
	# only starts like it (in2), count nothing.
	mkdir "$T/in2"
	count_writes "$T/count.so" "$T/in" "$T/count" \
		dd if=/dev/zero of="$T/out/f" bs=4096 count=10 status=none
	count_writes "$T/count.so" "$T/in" "$T/count" \
		dd if=/dev/zero of="$T/in2/f" bs=4096 count=10 status=none
	assert_equal "$(count_total "$T/count")" 0
}

@test "write counter: write, pwrite, writev and pwritev are counted; what the call did not write is not" {
	shim
	count_writes "$T/count.so" "$T/in" "$T/count" "$PY" - "$T" <<'PY'
import os, sys
t = sys.argv[1]
fd = os.open(t + "/in/f", os.O_WRONLY | os.O_CREAT)
os.write(fd, b"a" * 1000)
os.pwrite(fd, b"b" * 500, 10000)
os.writev(fd, [b"c" * 7, b"d" * 3])
os.pwritev(fd, [b"e" * 20, b"f" * 30], 5000)
os.close(fd)
out = os.open(t + "/out/g", os.O_WRONLY | os.O_CREAT)
os.write(out, b"x" * 99999)
os.close(out)
# A write that fails counts nothing: a descriptor open only for reading.
ro = os.open(t + "/in/f", os.O_RDONLY)
try:
    os.write(ro, b"y" * 4096)
except OSError:
    pass
PY
	assert_equal "$(count_total "$T/count")" $((1000 + 500 + 10 + 50))
	assert_equal "$(stat -c %s "$T/in/f")" 10500
}

@test "write counter: copy_file_range is counted apart, as copied" {
	shim
	head -c 300000 /dev/urandom > "$T/out/src"
	count_writes "$T/count.so" "$T/in" "$T/count" "$PY" - "$T" <<'PY'
import os, sys
t = sys.argv[1]
src = os.open(t + "/out/src", os.O_RDONLY)
dst = os.open(t + "/in/dst", os.O_WRONLY | os.O_CREAT)
left = 300000
while left:
    left -= os.copy_file_range(src, dst, left)
os.write(dst, b"z" * 123)
PY
	cmp -n 300000 "$T/out/src" "$T/in/dst"
	assert_equal "$(count_total "$T/count" copied)" 300000
	assert_equal "$(count_total "$T/count")" 123
}

@test "write counter: every process counts its own writes, forked children and threads included, and _exit reports too" {
	shim
	# Two processes at once, each with its own line.
	count_writes "$T/count.so" "$T/in" "$T/count" sh -c \
		"dd if=/dev/zero of='$T/in/a' bs=1000 count=3 status=none &
		 dd if=/dev/zero of='$T/in/b' bs=1000 count=5 status=none; wait"
	assert_equal "$(count_total "$T/count")" 8000
	assert_equal "$(wc -l < "$T/count")" 2
	# A child forked after its parent wrote reports only its own writes;
	# 8 threads writing at once lose none; os._exit skips the destructors
	# but still reports.
	count_writes "$T/count.so" "$T/in" "$T/count" "$PY" - "$T" <<'PY'
import os, sys, threading
t = sys.argv[1]
fd = os.open(t + "/in/f", os.O_WRONLY | os.O_CREAT)
os.write(fd, b"p" * 100)
pid = os.fork()
if pid == 0:
    os.write(fd, b"c" * 7)
    os._exit(0)
os.waitpid(pid, 0)
def writer(i):
    for j in range(200):
        os.pwrite(fd, b"t" * 4096, (i * 200 + j) * 4096)
threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
for th in threads: th.start()
for th in threads: th.join()
os._exit(0)
PY
	assert_equal "$(count_total "$T/count")" $((100 + 7 + 8 * 200 * 4096))
	assert_equal "$(grep -c '^written 7 ' "$T/count")" 1
}

@test "reflink_fs_start mounts a filesystem where cp --reflink=always works; reflink_fs_stop removes it" {
	reflink_fs_start "$T/mnt"
	assert_equal "$REFLINK_MNT" "$T/mnt"
	assert_equal "$(stat -f -c %T "$T/mnt")" "$REFLINK_FS"
	head -c 4M /dev/urandom > "$T/mnt/a"
	run cp --reflink=always "$T/mnt/a" "$T/mnt/b"
	assert_success
	cmp "$T/mnt/a" "$T/mnt/b"
	# The clone shares the blocks (btrfs and XFS both report shared extents
	# through FIEMAP, which filefrag -v shows as "shared").
	if command -v filefrag >/dev/null; then
		run filefrag -v "$T/mnt/b"
		assert_output --partial shared
	fi
	# Outside it, a reflink is refused: the copy_file_range path's file system.
	run cp --reflink=always "$T/mnt/a" "$T/out/c"
	assert_failure
	dev=$REFLINK_DEV
	reflink_fs_stop
	run mountpoint -q "$T/mnt"
	assert_failure
	assert_file_not_exist "$T/mnt.img"
	run losetup "$dev"
	assert_failure
}

@test "reflink_fs_start with a kind names the kind" {
	for kind in xfs btrfs; do
		command -v "mkfs.$kind" >/dev/null || continue
		reflink_fs_start "$T/mnt" "$kind"
		assert_equal "$(stat -f -c %T "$T/mnt")" "$kind"
		printf 'some bytes' > "$T/mnt/a"
		cp --reflink=always "$T/mnt/a" "$T/mnt/b"
		reflink_fs_stop
	done
}

@test "tmpfs_start mounts a tmpfs of the size asked; tmpfs_stop unmounts it" {
	tmpfs_start "$T/small" 1m
	assert_equal "$(stat -f -c %T "$T/small")" tmpfs
	run dd if=/dev/zero of="$T/small/f" bs=64k count=32 status=none
	assert_failure
	assert_output --partial "No space left on device"
	tmpfs_stop
	run mountpoint -q "$T/small"
	assert_failure
}
