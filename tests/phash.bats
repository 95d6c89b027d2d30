#!/usr/bin/env bats
# SPDX-License-Identifier: 0BSD
# phash: digests against the reference tools, formats, reuse, order, and
# how it treats what is not a readable regular file.
load test_helper
bats_require_minimum_version 1.5.0

ALL_ALGOS=md5,sha1,sha224,sha256,sha384,sha512,sha512-256,sha3-256,sha3-512,blake2b,blake2s,xxh32,xxh64,xxh3,xxh128

# ref_hex ALGO FILE: the digest of FILE as the algorithm's reference tool prints it.
ref_hex() {
	case $1 in
	md5 | sha1 | sha224 | sha256 | sha384 | sha512) "${1}sum" < "$2" | cut -d' ' -f1 ;;
	blake2b) b2sum < "$2" | cut -d' ' -f1 ;;
	sha512-256 | sha3-256 | sha3-512) openssl dgst "-$1" -r < "$2" | cut -d' ' -f1 ;;
	blake2s) openssl dgst -blake2s256 -r < "$2" | cut -d' ' -f1 ;;
	xxh32) xxhsum -H0 < "$2" | cut -d' ' -f1 ;;
	xxh64) xxhsum -H1 < "$2" | cut -d' ' -f1 ;;
	xxh128) xxhsum -H2 < "$2" | cut -d' ' -f1 ;;
	xxh3) xxhsum -H3 < "$2" | sed 's/.* = //' ;;
	esac
}

# attr KEY LINE: the value of attribute KEY in a record line.
attr() {
	printf '%s\n' "$2" | tr '\t' '\n' | sed -n "s/^$1://p"
}

setup() {
	cd "$BATS_TEST_TMPDIR"
}

@test "phash matches every reference tool on empty, 1-byte, and block-edge files" {
	local f a line
	: > empty
	printf x > one
	head -c 1048575 /dev/urandom > block-1
	head -c 1048576 /dev/urandom > block
	head -c 1048577 /dev/urandom > block+1
	head -c $((5 * 1048576 + 3)) /dev/urandom > blocks5
	prun phash -a "$ALL_ALGOS" empty one block-1 block block+1 blocks5
	assert_success
	assert_equal "${#lines[@]}" 6
	for line in "${lines[@]}"; do
		f=$(printf '%s\n' "$line" | cut -f3)
		for a in ${ALL_ALGOS//,/ }; do
			assert_equal "$f $a:$(attr "$a" "$line")" "$f $a:$(ref_hex "$a" "$f")"
		done
	done
}

@test "phash with one algorithm gives the reference digests of many-block files of every shape" {
	# One algorithm on a file of 4 blocks or more takes the relay: two
	# threads read alternate 1 MiB blocks and pass the hash between them.
	# Even and odd block counts, exact multiples and one byte either side.
	local f a size
	for size in $((4 << 20)) $(((4 << 20) + 1)) $((5 << 20)) $(((7 << 20) - 1)) $(((9 << 20) + 3)); do
		head -c "$size" /dev/urandom > "f$size"
	done
	for a in sha256 xxh128 blake2b; do
		for j in 1 4; do
			prun phash -j "$j" -a "$a" f*
			assert_success
			assert_equal "${#lines[@]}" 5
			for line in "${lines[@]}"; do
				f=$(printf '%s\n' "$line" | cut -f3)
				assert_equal "$f $a:$(attr "$a" "$line")" "$f $a:$(ref_hex "$a" "$f")"
			done
		done
	done
}

@test "phash gives the same digests when every read comes back short" {
	build_shim
	head -c $(((6 << 20) + 5)) /dev/urandom > short
	head -c $((100 << 10)) /dev/urandom > small
	for a in sha256 md5,sha1; do
		prun env LD_PRELOAD="$BATS_TEST_TMPDIR/eio.so" EIO_SHIM_SHORT_READ=short phash -a "$a" short
		assert_success
		assert_equal "$(attr "${a%%,*}" "$output")" "$(ref_hex "${a%%,*}" short)"
		refute_output --partial changed
	done
	prun env LD_PRELOAD="$BATS_TEST_TMPDIR/eio.so" EIO_SHIM_SHORT_READ=small phash small
	assert_success
	assert_equal "$(attr sha256 "$output")" "$(ref_hex sha256 small)"
}

@test "phash reports a read error in the middle of a large file and goes on with the others" {
	build_shim
	head -c $((8 << 20)) /dev/urandom > bad
	head -c $((8 << 20)) /dev/urandom > good
	# The bad sector sits in the fourth block (an odd one: the relay's
	# second thread meets it), then in the third (the first thread's).
	for at in $(((3 << 20) + 10)) $(((2 << 20) + 10)); do
		for a in sha256 md5,sha256; do
			prun env LD_PRELOAD="$BATS_TEST_TMPDIR/eio.so" EIO_SHIM_BAD_READ=bad \
				EIO_SHIM_BAD_OFFSET="$at" phash -a "$a" bad good
			assert_failure 1
			assert_equal "${#lines[@]}" 3
			assert_line --index 0 "phash: bad: Input/output error"
			assert_equal "$(attr error "${lines[1]}")" EIO
			assert_equal "$(cut -f1-3 <<< "${lines[1]}")" "$(stat -c '%i	%s' bad)	bad"
			assert_equal "$(attr sha256 "${lines[1]}")" ""
			assert_equal "$(attr sha256 "${lines[2]}")" "$(ref_hex sha256 good)"
		done
	done
}

@test "phash hashes a 3 GiB sparse file as xxhsum does" {
	truncate -s 3G sparse
	prun phash -a xxh128,xxh3 sparse
	assert_success
	assert_equal "$(attr xxh128 "$output")" "$(ref_hex xxh128 sparse)"
	assert_equal "$(attr xxh3 "$output")" "$(ref_hex xxh3 sparse)"
	assert_equal "$(printf '%s\n' "$output" | cut -f2)" 3221225472
}

@test "phash --format gnu writes exactly what sha256sum writes, awkward names included" {
	make_awkward_tree tree --no-long
	find tree -type f -print0 | sort -z > list
	prun sh -c 'phash -0 --format gnu < list'
	assert_success
	expected=$(xargs -0 sha256sum < list)
	assert_equal "$output" "$expected"
}

@test "phash gives every coreutils tool's digests on the awkward tree" {
	local a tool
	make_awkward_tree tree --no-long
	find tree -type f -print0 | sort -z > list
	for a in md5 sha1 sha224 sha384 sha512 blake2b; do
		tool=${a}sum
		[ "$a" = blake2b ] && tool=b2sum
		prun sh -c "phash -0 -f gnu -a $a < list"
		assert_success
		assert_equal "$output" "$(xargs -0 "$tool" < list)"
	done
}

@test "phash gives xxhsum's and openssl's digests on the awkward tree" {
	local a n tool
	make_awkward_tree tree --no-long
	find tree -type f -print0 > list
	prun sh -c 'phash -0 -a xxh32,xxh64,xxh128,sha3-256,blake2s,sha512-256 < list > out'
	assert_success
	# Every file holds its own name, so digests are all different: the
	# sorted digests of each algorithm must be the reference tool's. (The
	# tools print names raw, so a name with a newline breaks its line: only
	# the digest at the start of a line is taken, after openssl's escape
	# marker.)
	for a in xxh32:"xxhsum -H0":8 xxh64:"xxhsum -H1":16 xxh128:"xxhsum -H2":32 \
		sha3-256:"openssl dgst -sha3-256 -r":64 blake2s:"openssl dgst -blake2s256 -r":64 \
		sha512-256:"openssl dgst -sha512-256 -r":64; do
		n=${a##*:}
		tool=${a#*:}
		tool=${tool%:*}
		tr '\t' '\n' < out | sed -n "s/^${a%%:*}://p" | sort > mine
		xargs -0 $tool < list 2>/dev/null | grep -oE "^\\\\?[0-9a-f]{$n} " | tr -d '\\ ' | sort > ref
		assert_equal "$(wc -l < mine)" "$(tr -cd '\0' < list | wc -c)"
		cmp mine ref
	done
}

@test "phash --format gnu output passes sha256sum -c and b2sum -c" {
	make_awkward_tree tree --no-long
	find tree -type f -print0 > list
	prun sh -c 'phash -0 -f gnu < list > sums'
	assert_success
	run sha256sum --strict -c sums
	assert_success
	prun sh -c 'phash -0 -f gnu -a blake2b < list > b2sums'
	assert_success
	run b2sum --strict -c b2sums
	assert_success
}

@test "phash --format bsd writes what sha256sum --tag and xxhsum --tag write" {
	printf 'abc' > a
	printf 'de\\f' > 'b\ack'
	prun phash -f bsd a 'b\ack'
	assert_success
	assert_equal "$output" "$(sha256sum --tag a 'b\ack')"
	prun phash -f bsd -a xxh128 a
	assert_success
	assert_equal "$output" "$(xxhsum --tag -H2 a)"
	# sha256sum's own spelling of it.
	prun phash --tag a 'b\ack'
	assert_success
	assert_equal "$output" "$(sha256sum --tag a 'b\ack')"
}

@test "phash --format gnu refuses several algorithms" {
	prun phash -f gnu -a sha256,md5 /dev/null
	assert_failure 2
	assert_output --partial 'exactly one algorithm'
}

@test "phash hashes every file of the awkward tree, the path longer than PATH_MAX too" {
	local line path want i
	make_awkward_tree tree
	# find's -print0 reaches the deep leaf; phash must open it although its
	# path is longer than PATH_MAX.
	find tree -type f -print0 > list
	prun sh -c 'phash -0 -a sha256 < list > out'
	assert_success
	assert_equal "$(wc -l < out)" "$(tr -cd '\0' < list | wc -c)"
	refute grep -q 'error:' out
	line=$(grep 'leaf	' out)
	want=$(cd tree/deep && for i in $(seq 25); do cd d* || exit; done && sha256sum < leaf | cut -d' ' -f1)
	assert_equal "$(attr sha256 "$line")" "$want"
	path=$(printf '%s\n' "$line" | cut -f3)
	assert [ "${#path}" -gt 4096 ]
}

@test "phash record output fills inode, size and mtime from the file and keeps other attributes" {
	printf 'hello' > f
	printf '1\t2\tf\tzz:keep\tsha256:%064d\tmode:0644\n' 0 > in
	prun sh -c 'phash < in'
	assert_success
	assert_equal "$(printf '%s\n' "$output" | cut -f1,2)" "$(stat -c '%i	%s' f)"
	assert_equal "$(attr zz "$output")" keep
	assert_equal "$(attr sha256 "$output")" "$(ref_hex sha256 f)"
	assert_equal "$(attr mtime "$output")" "$(stat -c '%Y' f).$(stat -c '%y' f | sed 's/.*\.\([0-9]*\) .*/\1/')"
	# attributes keep their places: zz, sha256 (replaced in place), mode, mtime
	assert_equal "$(printf '%s\n' "$output" | cut -f4,6 | tr '\t' ' ')" "zz:keep mode:0644"
}

@test "phash keeps input order with a large file first, and --unordered writes the same set" {
	local i
	head -c $((40 * 1048576)) /dev/zero > big
	echo big > list
	for i in $(seq 1 300); do echo "$i" > "s$i"; echo "s$i" >> list; done
	prun sh -c 'phash -j 8 < list | cut -f3'
	assert_success
	assert_equal "$output" "$(cat list)"
	prun sh -c 'phash -j 8 --unordered < list | cut -f3 | sort'
	assert_success
	assert_equal "$output" "$(sort list)"
}

@test "phash passes comments through and reports malformed lines with exit 2" {
	printf 'x' > f
	printf '# a comment\nf\n1\tnot-a-number\tf\n#another\n' > in
	prun sh -c 'phash < in 2>err'
	assert_failure 2
	assert_line --index 0 '# a comment'
	assert_line --index 2 '#another'
	assert_equal "$(attr sha256 "${lines[1]}")" "$(ref_hex sha256 f)"
	assert_contains "$(cat err)" 'phash: <stdin>:3:'
}

@test "phash never opens a FIFO: its blocked writer stays blocked, phash finishes" {
	mkfifo fifo
	# If phash opened the FIFO for reading, this writer's open would return.
	timeout 5 sh -c 'echo data > fifo' &
	writer=$!
	prun timeout 10 phash fifo
	assert_success
	assert_equal "$(attr type "$output")" p
	refute_output --partial sha256
	status=0
	wait "$writer" || status=$?
	assert_equal "$status" 124
}

@test "phash passes walked and recorded symlinks, directory records and typed records through unchanged" {
	mkdir d
	printf x > f
	ln -s f link
	ln -s d dirlink
	printf '5\t0\tf\ttype:p\n' > in
	pfind d > dir-record
	pfind . -name '*link' > link-records
	prun sh -c 'phash -r . | grep -P "\t\\./(dir)?link\t"; phash < link-records; phash < in; phash < dir-record'
	assert_success
	assert_equal "$(attr type "${lines[0]}")" l
	assert_equal "$(attr type "${lines[1]}")" l
	refute_output --partial sha256
	assert_line --index 2 "$(sed -n 1p link-records)"
	assert_line --index 3 "$(sed -n 2p link-records)"
	assert_line --index 4 "$(cat in)"
	assert_line --index 5 "$(cat dir-record)"
}

@test "phash follows a symlink the user names, as sha256sum does: a file hashed, a directory or dangling link an error" {
	mkdir d
	printf x > f
	ln -s f link
	ln -s d dirlink
	ln -s missing dangling
	want=$(sha256sum f | cut -d' ' -f1)
	# As an argument, a plain path and a -0 item: the file it points at.
	for input in "phash link" "echo link | phash" "printf 'link\0' | phash -0"; do
		prun sh -c "$input"
		assert_success
		assert_equal "$(attr sha256 "$output")" "$want"
		assert_equal "$(cut -f1-3 <<< "$output")" "$(stat -L -c '%i	%s	link' link)"
	done
	prun phash -f gnu link
	assert_success
	assert_output "$(sha256sum link)"
	# sha256sum's own words for the others, and its exit status (phash's
	# workers report in the order they finish: compared sorted).
	run sh -c 'sha256sum dirlink dangling 2>&1'
	assert_failure 1
	prun sh -c 'phash -f gnu dirlink dangling 2>&1'
	assert_failure 1
	assert_equal "$(sed 's/^phash: //' <<< "$output" | sort)" "$(sha256sum dirlink dangling 2>&1 | sed 's/^sha256sum: //' | sort)"
}

@test "phash -f gnu and bsd name a FIFO they were given, never opened, instead of leaving it out" {
	mkfifo fifo
	printf x > f
	for format in gnu bsd; do
		run --separate-stderr timeout 10 phash -f "$format" fifo f
		assert_failure 1
		assert_equal "$stderr" "phash: fifo: not a regular file"
		assert_equal "${#lines[@]}" 1
		assert_output --partial "$(sha256sum f | cut -d' ' -f1)"
	done
	# The record format says what it is, as before.
	prun timeout 10 phash fifo
	assert_success
	assert_equal "$(attr type "$output")" p
}

@test "phash reports a directory given as a path as sha256sum does, exit 1; records of directories pass quietly" {
	local want
	mkdir -p d/sub
	printf x > d/f
	# sha256sum's own words for a directory operand.
	run sha256sum d
	assert_failure 1
	want="phash: ${output#sha256sum: }"
	assert_equal "$want" "phash: d: Is a directory"
	# An argument, a plain path on standard input, a -0 item: each an error,
	# with a record that says so.
	for input in "phash d d/f" "printf 'd\nd/f\n' | phash" "printf 'd\0d/f\0' | phash -0"; do
		prun sh -c "$input 2>err"
		assert_failure 1
		assert_equal "$(cat err)" "$want"
		assert_equal "${#lines[@]}" 2
		assert_equal "$(cut -f1-3 <<< "${lines[0]}")" "$(stat -c '%i	%s	%n' d)"
		assert_equal "$(attr type "${lines[0]}")" d
		assert_equal "$(attr error "${lines[0]}")" EISDIR
		assert_equal "$(attr sha256 "${lines[1]}")" "$(ref_hex sha256 d/f)"
	done
	# The checksum formats write what sha256sum writes, and exit as it does.
	run sh -c 'sha256sum d d/f 2>&1'
	assert_failure 1
	want=$output
	prun sh -c 'phash -f gnu d d/f 2>&1'
	assert_failure 1
	assert_equal "${output//phash:/sha256sum:}" "$want"
	# A record stream holds directories as a matter of course: pfind's
	# records, with a type or without, pass through without a word; so does
	# every directory a walk meets.
	for input in "pfind d | phash" "pfind --fields type d | phash" "phash -r d"; do
		prun sh -c "$input 2>err"
		assert_success
		assert_equal "$(cat err)" ""
		assert_equal "${#lines[@]}" 3
		assert_line --regexp "^$(stat -c '%i	%s' d/sub)	d/sub(	type:d)?\$"
		assert_line --regexp "	d/f	.*sha256:$(ref_hex sha256 d/f)"
	done
}

@test "phash reports an unreadable file, writes its record with error:EACCES, exits 1" {
	local dir
	dir=$(mktemp -d /tmp/phash-perm.XXXXXX)
	chmod 755 "$dir"
	printf 'secret' > "$dir/locked"
	printf 'open' > "$dir/open"
	chmod 000 "$dir/locked"
	local ino
	ino=$(stat -c %i "$dir/locked")
	prun as_nobody phash "$dir/locked" "$dir/open"
	rm -rf "$dir"
	assert_failure 1
	assert_line --partial "phash: $dir/locked: Permission denied"
	# The stat worked where the open did not: the record says what it saw.
	assert_line --regexp "^$ino	6	$dir/locked	.*error:EACCES"
	assert_line --regexp "	$dir/open	.*sha256:"
}

@test "phash marks a file whose length differs from its size as changed:1 and exits 1" {
	# /proc files claim size 0 but hold bytes: what a file growing under
	# the reader looks like.
	prun phash /proc/version
	assert_failure 1
	assert_equal "$(attr changed "${lines[-1]}")" 1
	assert_line --partial 'changed while being hashed'
}

@test "phash --reuse keeps the digests of unchanged files without reading them" {
	printf 'aaaa' > same
	printf 'bbbb' > edited
	phash -a sha256,md5 same edited > old
	# Alter same's bytes but restore its mtime (and size and inode): phash
	# can only keep the old digest by not reading it.
	touch -r same stamp
	printf 'AAAA' > same
	touch -r stamp same
	printf 'BBBB' > edited
	touch -d '2001-01-01' edited
	prun phash --reuse old -a sha256,md5 same edited
	assert_success
	assert_equal "$(attr sha256 "${lines[0]}")" "$(printf aaaa | sha256sum | cut -d' ' -f1)"
	assert_equal "$(attr md5 "${lines[0]}")" "$(printf aaaa | md5sum | cut -d' ' -f1)"
	assert_equal "$(attr sha256 "${lines[1]}")" "$(ref_hex sha256 edited)"
	# An algorithm missing from the old list means reading the file.
	prun phash --reuse old -a sha1 same
	assert_success
	assert_equal "$(attr sha1 "$output")" "$(ref_hex sha1 same)"
}

@test "phash -0 reads NUL-separated paths" {
	printf 'x' > 'a b'
	printf 'y' > "new"$'\n'"line"
	prun sh -c 'printf "a b\0new\nline\0" | phash -0 -f gnu'
	assert_success
	assert_equal "$output" "$(sha256sum 'a b' "new"$'\n'"line")"
}

@test "phash --nocache leaves none of the file's pages cached" {
	head -c $((8 * 1048576)) /dev/urandom > f
	sync f
	cat f > /dev/null
	prun phash --nocache f
	assert_success
	assert_equal "$(fincore -n -o PAGES f | tr -d ' ')" 0
}

@test "phash usage errors exit 2; --help and --version exit 0" {
	prun phash -a nope /dev/null
	assert_failure 2
	assert_output --partial "unknown algorithm 'nope'"
	prun phash -j 0 /dev/null
	assert_failure 2
	prun phash --format xml /dev/null
	assert_failure 2
	prun phash --bogus
	assert_failure 2
	prun phash --help
	assert_success
	assert_output --partial 'Usage: phash'
	prun phash --version
	assert_success
}

@test "phash -r walks a tree: every entry once, regular files hashed as sha256sum does" {
	make_awkward_tree tree
	prun sh -c 'phash -r tree > out'
	assert_success
	assert_equal "$(wc -l < out)" "$(find tree -print0 | tr -cd '\0' | wc -c)"
	assert_equal "$(grep -c 'type:f' out)" "$(find tree -type f -print0 | tr -cd '\0' | wc -c)"
	# once: no path twice
	assert_equal "$(cut -f3 out | sort | uniq -d)" ""
	refute grep -q 'error:' out
	rm -rf tree/deep
	prun sh -c 'phash -r -f gnu tree | LC_ALL=C sort'
	assert_success
	assert_equal "$output" "$(find tree -type f -print0 | xargs -0 sha256sum | LC_ALL=C sort)"
}

@test "phash -r output order is deterministic, and --unordered gives the same records" {
	mkdir -p t/a t/b t/c
	for i in 1 2 3 4 5 6 7 8 9; do echo "$i" > "t/a/$i"; echo "$i$i" > "t/c/$i"; done
	prun sh -c 'phash -r -j 4 t > one && phash -r -j 16 t > two && cmp one two'
	assert_success
	prun bash -c 'phash -r --unordered t | LC_ALL=C sort | cmp - <(LC_ALL=C sort one)'
	assert_success
}

@test "phash -r without a directory is a usage error" {
	prun phash -r
	assert_failure 2
}

@test "phash reports a write error on standard output and exits 1" {
	printf x > f
	prun sh -c 'phash f > /dev/full'
	assert_failure 1
	assert_output --partial 'No space left on device'
}

@test "phash --progress reports files and bytes on standard error only" {
	head -c 100000 /dev/zero > f
	prun sh -c 'phash --progress f 2>err >out'
	assert_success
	# stdout holds the record alone, as without --progress
	assert_equal "$(cat out)" "$(phash f)"
	# 100,000 bytes are 97.7 KiB
	assert_contains "$(cat err)" 'phash: 1 files, 97.7 KiB, '
}

@test "phash reports a missing file with error:ENOENT and exits 1" {
	prun phash missing
	assert_failure 1
	assert_line --partial 'phash: missing: No such file or directory'
	assert_line --regexp '^0	0	missing	.*error:ENOENT'
}

@test "phash opens paths in and out of its cached directory as open(2) would" {
	mkdir -p a b/c
	printf 1 > a/f
	printf 2 > b/f
	printf 3 > b/c/f
	printf 4 > top
	ln -s b link
	printf '%s\n' a/f b/f a/f link/f link/c/f b/c/../f top ./a/f "$PWD/b/c/f" > good
	printf '%s\n' a/f nope/f b/f/ b/f > mixed
	prun phash --format gnu < good
	assert_success
	assert_output "$(xargs -d '\n' sha256sum < good)"
	prun phash < mixed
	assert_failure 1
	assert_line --regexp '	nope/f	.*error:ENOENT'
	assert_line --regexp '	b/f/	.*error:ENOTDIR'
	assert_line --regexp "	b/f	.*sha256:$(sha256sum < b/f | cut -d' ' -f1)"
}

@test "phash and pverify give the reference digests of small files read cold, in batches or not" {
	local i mode
	make_awkward_tree tree --no-long
	mkdir tree/small
	# Sizes on both sides of the read-ahead limit (64 KiB), more than a batch (32).
	for ((i = 0; i < 80; i++)); do
		head -c $(((i * 997) % 70000 + (i % 3))) /dev/urandom > "tree/small/f$i"
	done
	find tree -type f -print0 | sort -z > list
	xargs -0 sha256sum < list > want
	sync
	# The default (io_uring where the kernel has it, unless the run turned
	# it off, as make valgrind does), then plain reads.
	for mode in "${PTOOLS_IO_URING:-1}" 0; do
		evict_tree tree
		# (a tmpfs keeps its pages: there the files are read warm)
		[ "$(stat -f -c %T .)" = tmpfs ] ||
			assert_equal "$(fincore -n -o PAGES tree/small/f7 | tr -d ' ')" 0
		PTOOLS_IO_URING=$mode prun uring_traced "phash$mode" sh -c 'phash -0 -f gnu < list'
		assert_success
		assert_equal "$output" "$(cat want)"
	done
	# pverify on cold files: all good, then the one changed byte found.
	evict_tree tree
	prun sh -c 'pverify -f want 2>/dev/null'
	assert_success
	printf 'X' | dd of=tree/small/f40 bs=1 seek=100 conv=notrunc status=none
	sync
	for mode in "${PTOOLS_IO_URING:-1}" 0; do
		evict_tree tree
		PTOOLS_IO_URING=$mode prun uring_traced "pverify$mode" sh -c 'pverify -f want 2>/dev/null'
		assert_failure 1
		assert_equal "$output" "FAILED	tree/small/f40"
	done
	# With io_uring, phash and pverify read the cold small files in
	# batches; with PTOOLS_IO_URING=0, one by one.
	assert_batched "phash${PTOOLS_IO_URING:-1}" phash0
	assert_batched "pverify${PTOOLS_IO_URING:-1}" pverify0
}

@test "phash and pverify read cold files ahead within a small limit of open files" {
	local i n
	mkdir -p tree/a tree/b
	# Enough batches (of 32) to keep all 16 workers busy.
	for ((i = 0; i < 1600; i++)); do
		printf '%*d\n' $((i % 700)) "$i" > "tree/$([ $((i % 2)) = 0 ] && echo a || echo b)/f$i"
	done
	find tree -type f | sort > list
	xargs sha256sum < list > want
	sync
	# 16 workers: with 128 descriptors each may hold one file open ahead
	# (and its ring), with 48 none; neither may run out. (Under valgrind,
	# which keeps descriptors of its own below the limit, only 128.)
	local limits="128 48"
	[ "${PTOOLS_VALGRIND:-0}" = 1 ] && limits=128
	for n in $limits; do
		evict_tree tree
		prun sh -c "ulimit -n $n && phash -j 16 -f gnu < list"
		assert_success
		assert_equal "$output" "$(cat want)"
		evict_tree tree
		prun sh -c "ulimit -n $n && phash -j 16 -r -f gnu tree | sort -k2"
		assert_success
		assert_equal "$output" "$(sort -k2 want)"
		evict_tree tree
		prun sh -c "ulimit -n $n && pverify -j 16 -f want 2>&1"
		assert_success
		assert_output "pverify: 1600 ok, 0 failed, 0 missing, 0 errors"
	done
}

@test "phash -r writes an unreadable file's own inode and size with error:EACCES, as pfind does" {
	local order line
	mkdir -p t/sub
	printf 'secret' > t/sub/locked
	printf 'open' > t/open
	chmod 000 t/sub/locked
	# Relative paths from the test's directory: nobody need not reach its parents.
	chmod 755 .
	for order in "" --unordered; do
		prun as_nobody phash -r $order t
		assert_failure 1
		assert_line "phash: t/sub/locked: Permission denied"
		line=$(printf '%s\n' "$output" | grep '	t/sub/locked	')
		assert_equal "$(cut -f1,2 <<< "$line")" "$(stat -c '%i	%s' t/sub/locked)"
		assert_equal "$(cut -f1-3 <<< "$line")" "$(pfind t/sub/locked)"
		assert_equal "$(attr error "$line")" EACCES
		assert_equal "$(attr type "$line")" f
		assert_equal "$(attr sha256 "$line")" ""
		assert_equal "$(attr sha256 "$(printf '%s\n' "$output" | grep '	t/open	')")" \
			"$(ref_hex sha256 t/open)"
	done
}
