#!/usr/bin/env bats
# SPDX-License-Identifier: 0BSD
# pverify: every kind of damage reported with the right word and exit status,
# the classic tools' own output verified, malformed and hostile manifests
# refused line by line, --audit, --sizes-only, -q, --status and the pcopy seal.

load test_helper
bats_require_minimum_version 1.5.0

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
}

@test "pverify accepts an intact native manifest and exits 0" {
	make_tree t
	native_manifest t > list
	prun pverify -f list
	assert_success
	assert_output --partial "4 ok, 0 failed, 0 missing, 0 errors"
}

@test "pverify reads the manifest from stdin and prints OK lines with -v" {
	make_tree t
	native_manifest t > list
	prun --separate-stderr pverify -v < list
	assert_success
	assert_equal "$(printf '%s\n' "${lines[@]}" | sort)" "$(printf 'OK\t%s\n' t/a t/b t/sub/c t/sub/d)"
}

@test "pverify reports a file with one byte flipped as FAILED and exits 1" {
	make_tree t
	native_manifest t > list
	printf 'X' | dd of=t/b bs=1 seek=3 conv=notrunc status=none
	prun --separate-stderr pverify -f list
	assert_failure 1
	assert_output "$(printf 'FAILED\tt/b')"
	assert_equal "${stderr##*$'\n'}" "pverify: 3 ok, 1 failed, 0 missing, 0 errors"
}

@test "pverify reports a truncated file as SIZE and exits 1" {
	make_tree t
	native_manifest t > list
	truncate -s 3 t/sub/d
	prun --separate-stderr pverify -f list
	assert_failure 1
	assert_output "$(printf 'SIZE\tt/sub/d')"
}

@test "pverify reports a deleted file as MISSING and exits 1" {
	make_tree t
	native_manifest t > list
	rm t/a
	prun --separate-stderr pverify -f list
	assert_failure 1
	assert_output "$(printf 'MISSING\tt/a')"
	assert_equal "${stderr##*$'\n'}" "pverify: 3 ok, 0 failed, 1 missing, 0 errors"
}

@test "pverify --ignore-missing skips deleted files, still fails a changed one, and fails when none is there" {
	make_tree t
	native_manifest t > list
	rm t/a t/sub/c
	prun --separate-stderr pverify --ignore-missing -f list
	assert_success
	assert_output ""
	assert_equal "$stderr" "pverify: 2 ok, 0 failed, 2 missing (ignored), 0 errors"
	printf 'bravo CONTENT\n' > t/b
	prun pverify --ignore-missing -f list
	assert_failure 1
	assert_output --partial "$(printf 'FAILED\tt/b')"
	refute_output --partial MISSING
	rm -r t
	prun --separate-stderr pverify --ignore-missing -f list
	assert_failure 1
	assert_equal "${stderr##*$'\n'}" "pverify: list: no file was verified"
	prun pverify --ignore-missing --audit . -f list
	assert_failure 2
}

@test "pverify ignores an added file without --audit and reports it as NEW with it" {
	make_tree t
	native_manifest t > list
	printf 'new\n' > t/sub/added
	prun pverify -f list
	assert_success
	prun --separate-stderr pverify -f list --audit t
	assert_failure 1
	assert_output "$(printf 'NEW\tt/sub/added')"
	assert_equal "${stderr##*$'\n'}" "pverify: 4 ok, 0 failed, 0 missing, 0 errors, 1 new, 0 moved"
}

@test "pverify reports a renamed file as MISSING, and as MOVED with --audit" {
	make_tree t
	native_manifest t > list
	mv t/sub/c t/renamed
	prun --separate-stderr pverify -f list
	assert_failure 1
	assert_output "$(printf 'MISSING\tt/sub/c')"
	prun --separate-stderr pverify -f list --audit t
	assert_failure 1
	assert_output "$(printf 'MOVED\tt/sub/c\tt/renamed')"
	assert_equal "${stderr##*$'\n'}" "pverify: 3 ok, 0 failed, 0 missing, 0 errors, 0 new, 1 moved"
}

@test "pverify --audit of an unchanged tree exits 0, and lists several missing files in manifest order" {
	make_tree t
	native_manifest t > list
	prun --separate-stderr pverify -f list --audit t
	assert_success
	assert_output ""
	rm t/a t/b t/sub/c
	prun --separate-stderr pverify -j 8 -f list --audit t
	assert_failure 1
	assert_equal "$output" "$(printf 'MISSING\t%s\n' t/a t/b t/sub/c)"
}

@test "pverify --audit checks a pcopy-style sealed manifest inside the tree, not reporting it as NEW" {
	make_tree t
	seal_manifest <(cd t && native_manifest .) seal
	mv seal t/.ptools-seal
	prun --separate-stderr pverify -C t -f t/.ptools-seal --audit .
	assert_success
	assert_output ""
	assert_equal "${stderr##*$'\n'}" "pverify: 4 ok, 0 failed, 0 missing, 0 errors, 0 new, 0 moved"
}

@test "pverify --audit works on a manifest relative to --root" {
	make_tree t
	( cd t && find . -type f -print0 | xargs -0 sha256sum ) > list
	mv t/a t/sub/a2
	printf 'fresh\n' > t/fresh
	prun --separate-stderr pverify -C t -f list --audit .
	assert_failure 1
	assert_line "$(printf 'MOVED\t./a\tsub/a2')"
	assert_line "$(printf 'NEW\tfresh')"
	assert_equal "${#lines[@]}" 2
}

@test "pverify --audit -C DIR never reports the seal as NEW, read with -f, redirected or piped" {
	make_tree t
	seal_manifest <(cd t && native_manifest .) seal
	mv seal t/.ptools-seal
	local how
	for how in '-f t/.ptools-seal' '< t/.ptools-seal' 'cat t/.ptools-seal |'; do
		case $how in
		*'|') prun --separate-stderr bash -c "$how pverify -C t --audit ." ;;
		*) prun --separate-stderr bash -c "pverify -C t --audit . $how" ;;
		esac
		assert_success
		assert_output ""
		assert_equal "${stderr##*$'\n'}" "pverify: 4 ok, 0 failed, 0 missing, 0 errors, 0 new, 0 moved"
	done
}

@test "pverify --audit compares manifest and walked paths after the same resolution, relative or absolute" {
	make_tree t
	find t -type f | sort | xargs sha256sum > rel
	printf '%s  t/sub/../a\n' "$(sha256sum < t/a | cut -c1-64)" >> rel
	sed "s|  t/|  $PWD/t/|" rel > abs
	( cd t && find . -type f | sort | xargs sha256sum ) > under
	printf 'fresh\n' > t/added
	local list dir
	# Without -C: paths relative to the current directory, or absolute.
	for list in rel abs; do
		for dir in t ./t/ "$PWD/t" "$PWD/t/sub/.."; do
			prun --separate-stderr pverify -f "$list" --audit "$dir"
			assert_failure 1
			assert_output "$(printf 'NEW\tt/added')"
			assert_equal "${stderr##*$'\n'}" "pverify: 5 ok, 0 failed, 0 missing, 0 errors, 1 new, 0 moved"
		done
	done
	# With -C, relative or absolute, the audited directory relative to
	# the root or absolute.
	local root
	for root in t "$PWD/t"; do
		for dir in . "$PWD/t" sub/..; do
			prun --separate-stderr pverify -C "$root" -f under --audit="$dir"
			assert_failure 1
			assert_output "$(printf 'NEW\tadded')"
			assert_equal "${stderr##*$'\n'}" "pverify: 4 ok, 0 failed, 0 missing, 0 errors, 1 new, 0 moved"
		done
	done
	# A subdirectory of the root: only its files are walked.
	prun --separate-stderr pverify -C t -f under --audit sub
	assert_success
	# What cannot be audited says why and is a usage error, never skipped.
	prun --separate-stderr pverify -C t -f under --audit t
	assert_failure 2
	assert_equal "$stderr" "pverify: t/t: --audit: No such file or directory (a relative --audit directory is beneath -C's)"
	prun --separate-stderr pverify -C t -f under --audit "$PWD"
	assert_failure 2
	assert_equal "$stderr" "pverify: $PWD: --audit: outside the -C root t, where every manifest path lies"
	prun --separate-stderr pverify -C t -f under --audit a
	assert_failure 2
	assert_equal "$stderr" "pverify: t/a: --audit: not a directory"
}

@test "pverify reports two swapped files as FAILED and exits 1" {
	make_tree t
	native_manifest t > list
	mv t/a tmp && mv t/b t/a && mv tmp t/b
	prun --separate-stderr pverify -f list
	assert_failure 1
	assert_line --index 0 "$(printf 'FAILED\tt/a')"
	assert_line --index 1 "$(printf 'FAILED\tt/b')"
	assert_equal "${#lines[@]}" 2
}

@test "pverify checks every digest attribute of a record" {
	make_tree t
	local ino size sha md5
	ino=$(stat -c %i t/a) size=$(stat -c %s t/a)
	sha=$(sha256sum < t/a | cut -d' ' -f1) md5=$(md5sum < t/a | cut -d' ' -f1)
	printf '%s\t%s\tt/a\tmd5:%s\tsha256:%s\n' "$ino" "$size" "$md5" "$sha" > good
	prun pverify -f good
	assert_success
	printf '%s\t%s\tt/a\tmd5:%s\tsha256:%s\n' "$ino" "$size" "$(printf '%s' "$md5" | tr 0-9a-f 1-9a-f0)" "$sha" > bad
	prun pverify -f bad
	assert_failure 1
	assert_output --partial "$(printf 'FAILED\tt/a')"
}

@test "pverify verifies sha256sum's own output of the awkward-names tree" {
	make_awkward_tree t --no-long
	find t -type f -print0 | xargs -0 sha256sum > list
	sha256sum --quiet -c list
	n=$(find t -type f -print0 | tr -cd '\0' | wc -c)
	prun --separate-stderr pverify -f list
	assert_success
	assert_output ""
	assert_equal "${stderr##*$'\n'}" "pverify: $n ok, 0 failed, 0 missing, 0 errors"
}

@test "pverify reads a checksum file with CRLF line ends, as sha256sum -c does" {
	make_awkward_tree t --no-long
	find t -type f -print0 | xargs -0 sha256sum > lf
	find t -type f -print0 | xargs -0 sha256sum --tag >> lf
	sed 's/$/\r/' lf > list
	sha256sum --quiet -c list
	n=$(grep -c . list)
	prun --separate-stderr pverify -f list
	assert_success
	assert_output ""
	assert_equal "${stderr##*$'\n'}" "pverify: $n ok, 0 failed, 0 missing, 0 errors"
	# Each changed file fails on both its lines, the one whose name ends
	# in an escaped CR too.
	printf 'changed' > t/bytes/b41-A-end
	printf 'changed' > t/special/cr$'\r'
	prun --separate-stderr pverify -f list
	assert_failure 1
	assert_output --partial "$(printf 'FAILED\tt/bytes/b41-A-end')"
	assert_equal "${stderr##*$'\n'}" "pverify: $((n - 4)) ok, 4 failed, 0 missing, 0 errors"
}

@test "pverify verifies b2sum's own output of the awkward-names tree with -a blake2b" {
	make_awkward_tree t --no-long
	find t -type f -print0 | xargs -0 b2sum > list
	n=$(find t -type f -print0 | tr -cd '\0' | wc -c)
	prun --separate-stderr pverify -a blake2b -f list
	assert_success
	assert_equal "${stderr##*$'\n'}" "pverify: $n ok, 0 failed, 0 missing, 0 errors"
}

@test "pverify opens paths longer than PATH_MAX, with and without --root" {
	make_awkward_tree t
	local leaf
	leaf=$(cd t && find deep -name leaf)
	assert [ "${#leaf}" -gt 4096 ]
	printf '%s  %s\n' "$(printf deep | sha256sum | cut -c1-64)" "$leaf" > list
	cd t
	prun --separate-stderr pverify -f ../list
	assert_success
	assert_equal "${stderr##*$'\n'}" "pverify: 1 ok, 0 failed, 0 missing, 0 errors"
	cd ..
	prun --separate-stderr pverify -C t -f list
	assert_success
	PTOOLS_NO_OPENAT2=1 prun --separate-stderr pverify -C t -f list
	assert_success
}

@test "pverify checks records of directories and symlinks for existence and type, without reading them" {
	make_tree t
	ln -s a t/link
	mkdir t/gone t/was-dir
	{
		printf '%s\t4096\tt\ttype:d\n' "$(stat -c %i t)"
		printf '%s\t1\tt/link\ttype:l\tlink:a\n' "$(stat -c %i -L t/link)"
		printf '1\t4096\tt/gone\ttype:d\n'
		printf '1\t4096\tt/was-dir\ttype:d\n'
		native_manifest t
	} > list
	prun --separate-stderr pverify -f list
	assert_success
	assert_equal "${stderr##*$'\n'}" "pverify: 8 ok, 0 failed, 0 missing, 0 errors"
	rmdir t/gone t/was-dir
	echo file > t/was-dir
	prun --separate-stderr pverify -f list
	assert_failure 1
	assert_line "MISSING	t/gone"
	assert_line "ERROR	t/was-dir	type differs"
	assert_equal "${stderr##*$'\n'}" "pverify: 6 ok, 0 failed, 1 missing, 1 errors"
}

@test "pverify accepts pfind | phash output of a tree with directories, symlinks and a FIFO" {
	make_tree t
	ln -s a t/link
	ln -s nowhere t/dangling
	mkfifo t/fifo
	pfind t | phash > list
	prun --separate-stderr pverify -f list
	assert_success
	assert_equal "${stderr##*$'\n'}" "pverify: $(wc -l < list) ok, 0 failed, 0 missing, 0 errors"
}

@test "pverify refuses 128-digit GNU lines without -a, naming the line" {
	make_tree t
	b2sum t/a > list
	prun --separate-stderr pverify -f list
	assert_failure 2
	assert_contains "$stderr" "list:1: digest length fits several algorithms"
}

@test "pverify says which algorithm it assumed for failed GNU lines whose length fits several, and to use -a" {
	make_tree t
	find t -type f | sort | xargs sha256sum > sha256
	find t -type f | sort | xargs md5sum > md5
	find t -type f | sort | xargs sha1sum > sha1
	printf 'x' >> t/b
	# The same files fail as under sha256sum -c, with the same FAILED
	# lines as ever; stderr names the guess and every other algorithm of
	# that length that pverify knows.
	run sha256sum -c sha256
	assert_failure 1
	expected=$(printf '%s\n' "$output" | sed -n 's/: FAILED$//p' | sed 's/^/FAILED\t/')
	prun --separate-stderr pverify -f sha256
	assert_failure 1
	assert_output "$expected"
	assert_equal "$stderr" "pverify: sha256: 1 FAILED line (assumed sha256; a 64-digit digest may also be sha512-256, sha3-256 or blake2s: use -a)
pverify: 3 ok, 1 failed, 0 missing, 0 errors"
	prun --separate-stderr pverify -f md5
	assert_failure 1
	assert_output "$(printf 'FAILED\tt/b')"
	assert_contains "$stderr" "pverify: md5: 1 FAILED line (assumed md5; a 32-digit digest may also be xxh128: use -a)"
	# No other algorithm has 40 digits, and with -a nothing was assumed.
	prun --separate-stderr pverify -f sha1
	assert_failure 1
	assert_equal "$stderr" "pverify: 3 ok, 1 failed, 0 missing, 0 errors"
	prun --separate-stderr pverify -a sha256 -f sha256
	assert_failure 1
	assert_equal "$stderr" "pverify: 3 ok, 1 failed, 0 missing, 0 errors"
	# The case the hint is for: sha3-256 lines, taken for sha256, all fail;
	# with -a sha3-256, as told, they verify.
	prun sh -c 'find t -type f | sort | phash -a sha3-256 --format gnu > sha3'
	assert_success
	prun --separate-stderr pverify -f sha3
	assert_failure 1
	assert_equal "${#lines[@]}" 4
	assert_contains "$stderr" "pverify: sha3: 4 FAILED lines (assumed sha256; a 64-digit digest may also be sha512-256, sha3-256 or blake2s: use -a)"
	prun --separate-stderr pverify -a sha3-256 -f sha3
	assert_success
}

@test "pverify verifies BSD tagged lines of coreutils and xxhsum, and '*' binary lines" {
	make_awkward_tree t --no-long
	find t -type f -print0 | xargs -0 sha256sum --tag > list
	find t -type f -print0 | xargs -0 md5sum -b >> list
	find t/special -type f ! -name '*[[:cntrl:]\\]*' -print0 | xargs -0 xxhsum -H2 --tag >> list 2>/dev/null
	find t/special -type f ! -name '*[[:cntrl:]\\]*' -print0 | xargs -0 xxhsum -H1 --tag >> list 2>/dev/null
	prun --separate-stderr pverify -f list
	assert_success
	assert_output ""
	assert_regex "$stderr" '^pverify: [0-9]+ ok, 0 failed, 0 missing, 0 errors$'
}

@test "pverify verifies xxhsum's GNU lines: xxh32 by its length, the others with -a" {
	make_tree t
	xxhsum -H0 t/a t/b > h0
	prun --separate-stderr pverify -f h0
	assert_success
	xxhsum -H1 t/a t/b > h1
	prun --separate-stderr pverify -f h1
	assert_failure 2
	prun --separate-stderr pverify -a xxh64 -f h1
	assert_success
	xxhsum -H2 t/a t/b > h2
	prun --separate-stderr pverify -a xxh128 -f h2
	assert_success
	xxhsum -H3 t/a t/b > h3
	prun --separate-stderr pverify -a xxh3 -f h3
	assert_success
	printf 'x' >> t/b
	prun --separate-stderr pverify -a xxh3 -f h3
	assert_failure 1
	assert_output "$(printf 'FAILED\tt/b')"
}

@test "pverify reports a damaged file of a sha256sum list as FAILED with its escaped name" {
	make_awkward_tree t --no-long
	find t -type f -print0 | xargs -0 sha256sum > list
	printf 'x' >> "t/special/new"$'\n'"line"
	printf 'x' | dd of="t/special/back\\slash" bs=1 seek=0 conv=notrunc status=none
	prun --separate-stderr pverify -f list
	assert_failure 1
	assert_line "$(printf 'FAILED\tt/special/new\\nline')"
	assert_line "$(printf 'FAILED\tt/special/back\\\\slash')"
	assert_equal "${#lines[@]}" 2
}

@test "pverify reports each malformed line with its number, verifies the rest and exits 2" {
	make_tree t
	native_manifest t > list
	sha256sum t/a | cut -d' ' -f1 >> list                                # 5: digest only
	printf 'abc123def  t/a\n' >> list                                    # 6: odd-length hex
	printf 'NOSUCH (t/a) = %s\n' "$(sha256sum < t/a | cut -c1-64)" >> list # 7: unknown algorithm
	printf '\\%s  t/\\qa\n' "$(sha256sum < t/a | cut -c1-64)" >> list     # 8: bad escape
	printf '1\t2\tt/\\q\tsha256:00\n' >> list                            # 9: bad escape in a record
	printf '12\tx\tt/a\n' >> list                                        # 10: bad size
	printf '1\t14\tt/a\tsha256:abc\n' >> list                            # 11: bad digest
	printf 'SHA256 (t/a) = 1234\n' >> list                               # 12: wrong length for the tag
	printf 'x' | dd of=t/b bs=1 seek=0 conv=notrunc status=none
	prun --separate-stderr pverify -f list
	assert_failure 2
	assert_output "$(printf 'FAILED\tt/b')"
	for n in 5 6 7 8 9 10 11 12; do
		assert_contains "$stderr" "pverify: list:$n: "
	done
	assert_contains "$stderr" "3 ok, 1 failed, 0 missing, 0 errors"
}

@test "pverify survives a 2 MB line and binary garbage with line-numbered errors" {
	make_tree t
	native_manifest t > list
	head -c 2097152 /dev/zero | tr '\0' 'a' >> list
	printf '\n' >> list
	head -c 65536 /dev/urandom >> list
	printf '\n' >> list
	native_manifest t >> list
	prun --separate-stderr pverify -f list
	assert_failure 2
	assert_output ""
	assert_contains "$stderr" "pverify: list:5: "
	assert_contains "$stderr" "8 ok, 0 failed, 0 missing, 0 errors"
}

@test "pverify --root refuses absolute paths and paths climbing out, counting them as errors" {
	make_tree t
	printf 'secret\n' > outside
	mkdir -p root
	cp t/a root/a
	{
		printf '%s  a\n' "$(sha256sum < t/a | cut -c1-64)"
		printf '%s  %s\n' "$(sha256sum < outside | cut -c1-64)" "$PWD/outside"
		printf '%s  ../outside\n' "$(sha256sum < outside | cut -c1-64)"
		printf '%s  a/../../outside\n' "$(sha256sum < outside | cut -c1-64)"
	} > list
	prun --separate-stderr pverify -C root -f list
	assert_failure 1
	assert_line --index 0 "$(printf 'ERROR\t%s\tabsolute path refused under --root' "$PWD/outside")"
	assert_line --index 1 "$(printf 'ERROR\t../outside\tpath climbs out of the root')"
	assert_line --index 2 "$(printf 'ERROR\ta/../../outside\tpath climbs out of the root')"
	assert_equal "${stderr##*$'\n'}" "pverify: 1 ok, 0 failed, 0 missing, 3 errors"
}

@test "pverify --root does not follow a symlink out of the root, but follows one inside it" {
	# valgrind does not know openat2 and makes pverify take the fallback,
	# which follows no symlink at all (tested below).
	[ "${PTOOLS_VALGRIND:-0}" = 1 ] && skip "valgrind lacks openat2"
	printf 'secret\n' > outside
	mkdir -p root/d
	printf 'inside\n' > root/d/real
	ln -s "$PWD/outside" root/abs
	ln -s ../../outside root/d/rel
	ln -s real root/d/near
	{
		printf '%s  abs\n' "$(sha256sum < outside | cut -c1-64)"
		printf '%s  d/rel\n' "$(sha256sum < outside | cut -c1-64)"
		printf '%s  d/near\n' "$(sha256sum < root/d/real | cut -c1-64)"
	} > list
	prun --separate-stderr pverify -C root -f list
	assert_failure 1
	assert_line --index 0 --regexp $'^ERROR\tabs\t'
	assert_line --index 1 --regexp $'^ERROR\td/rel\t'
	assert_equal "${#lines[@]}" 2
	assert_equal "${stderr##*$'\n'}" "pverify: 1 ok, 0 failed, 0 missing, 2 errors"
}

@test "pverify --root without openat2 follows no symlink at all and still refuses escapes" {
	make_tree t
	printf 'secret\n' > outside
	mkdir -p root/d
	cp t/a root/d/real
	ln -s "$PWD/outside" root/abs
	ln -s ../../outside root/d/rel
	ln -s real root/d/near
	ln -s d root/dirlink
	{
		printf '%s  abs\n' "$(sha256sum < outside | cut -c1-64)"
		printf '%s  d/rel\n' "$(sha256sum < outside | cut -c1-64)"
		printf '%s  d/near\n' "$(sha256sum < t/a | cut -c1-64)"
		printf '%s  dirlink/real\n' "$(sha256sum < t/a | cut -c1-64)"
		printf '%s  d/./x/../real\n' "$(sha256sum < t/a | cut -c1-64)"
		printf '%s  ../outside\n' "$(sha256sum < outside | cut -c1-64)"
	} > list
	PTOOLS_NO_OPENAT2=1 prun --separate-stderr pverify -C root -f list
	assert_failure 1
	assert_line --index 0 "$(printf 'ERROR\tabs\tsymlink not followed under --root')"
	assert_line --index 1 "$(printf 'ERROR\td/rel\tsymlink not followed under --root')"
	assert_line --index 2 "$(printf 'ERROR\td/near\tsymlink not followed under --root')"
	assert_line --index 3 --regexp $'^ERROR\tdirlink/real\t'
	assert_line --index 4 "$(printf 'ERROR\t../outside\tpath climbs out of the root')"
	assert_equal "${#lines[@]}" 5
	assert_equal "${stderr##*$'\n'}" "pverify: 1 ok, 0 failed, 0 missing, 5 errors"
}

# root_with_linked_dirs: root/d/{real,f2}, root/out and root/up symlinks
# to the directory outside (absolute and relative) holding f, root/e/up a
# symlink out of its directory that stays in the root (../d/real), and a
# manifest (list) that names files in d between the others, so a directory
# a worker holds from one path meets the next.
root_with_linked_dirs() {
	mkdir -p root/d root/e outside
	printf 'real\n' > root/d/real
	printf 'two\n' > root/d/f2
	printf 'secret\n' > outside/f
	ln -s "$PWD/outside" root/out
	ln -s ../outside root/up
	ln -s ../d/real root/e/up
	{
		printf '%s  d/real\n' "$(sha256sum < root/d/real | cut -c1-64)"
		printf '%s  out/f\n' "$(sha256sum < outside/f | cut -c1-64)"
		printf '%s  d/f2\n' "$(sha256sum < root/d/f2 | cut -c1-64)"
		printf '%s  up/f\n' "$(sha256sum < outside/f | cut -c1-64)"
		printf '%s  e/up\n' "$(sha256sum < root/d/real | cut -c1-64)"
		printf '%s  d/real\n' "$(sha256sum < root/d/real | cut -c1-64)"
	} > list
}

@test "pverify --root refuses a directory of the manifest that is a symlink out, and follows a file's symlink out of its directory that stays inside" {
	[ "${PTOOLS_VALGRIND:-0}" = 1 ] && skip "valgrind lacks openat2"
	root_with_linked_dirs
	for jobs in 1 4; do
		prun --separate-stderr pverify -j "$jobs" -C root -f list
		assert_failure 1
		assert_line "$(printf 'ERROR\tout/f\tleads out of the root through a symlink')"
		assert_line "$(printf 'ERROR\tup/f\tleads out of the root through a symlink')"
		assert_equal "${#lines[@]}" 2
		assert_equal "${stderr##*$'\n'}" "pverify: 4 ok, 0 failed, 0 missing, 2 errors"
	done
	# Records that claim only existence and type are looked at the same way.
	printf '1\t4096\tout\ttype:d\n1\t0\tout/f\ttype:f\n1\t0\te/up\ttype:l\n' > types
	prun --separate-stderr pverify -C root types
	assert_failure 1
	assert_line "$(printf 'ERROR\tout\ttype differs')"
	assert_line "$(printf 'ERROR\tout/f\tleads out of the root through a symlink')"
	assert_equal "${#lines[@]}" 2
}

@test "pverify --root without openat2 refuses a directory of the manifest that is a symlink, out or not" {
	root_with_linked_dirs
	PTOOLS_NO_OPENAT2=1 prun --separate-stderr pverify -C root -f list
	assert_failure 1
	assert_line "$(printf 'ERROR\tout/f\tsymlink not followed under --root')"
	assert_line "$(printf 'ERROR\tup/f\tsymlink not followed under --root')"
	assert_line "$(printf 'ERROR\te/up\tsymlink not followed under --root')"
	assert_equal "${#lines[@]}" 3
	assert_equal "${stderr##*$'\n'}" "pverify: 3 ok, 0 failed, 0 missing, 3 errors"
}

@test "pverify reports an unreadable file as ERROR with the reason and exits 1" {
	# The valgrind wrappers live where user nobody cannot reach them.
	[ "${PTOOLS_VALGRIND:-0}" = 1 ] && skip "as_nobody cannot run the valgrind wrapper"
	make_tree t
	native_manifest t > list
	chmod 600 t/a
	chmod 755 t t/sub
	chmod 644 list
	prun --separate-stderr as_nobody pverify -f list
	assert_failure 1
	assert_output "$(printf 'ERROR\tt/a\tPermission denied')"
}

@test "pverify never counts a record carrying error: as OK, reports its reason and exits 1" {
	make_tree t
	native_manifest t > list
	# phash could not read t/a (as nobody, it is 0600 root's): its record
	# carries error: and no digest. pverify, as root, can read t/a, and
	# still must not call a file nobody hashed verified.
	chmod 600 t/a
	chmod 755 t t/sub
	if [ "${PTOOLS_VALGRIND:-0}" != 1 ]; then
		# (status: phash exits 1 for the file it could not read)
		status=0
		printf 't/a\nt/b\n' | as_nobody phash > hashed 2>/dev/null || status=$?
		assert_equal "$status" 1
		assert grep -q $'^[0-9]*\t[0-9]*\tt/a\t.*error:EACCES' hashed
		prun --separate-stderr pverify -f hashed
		assert_failure 1
		assert_output "$(printf 'ERROR\tt/a\tnot verifiable: the manifest records error:EACCES')"
		assert_equal "${stderr##*$'\n'}" "pverify: 1 ok, 0 failed, 0 missing, 1 errors"
	fi
	# Nor is a hand-made record with error: beside a digest that matches,
	# nor one without a digest (which would otherwise be checked for its
	# existence and size only).
	printf '%s\t%s\tt/b\terror:EIO\tsha256:%s\n' "$(stat -c %i t/b)" "$(stat -c %s t/b)" \
		"$(sha256sum < t/b | cut -c1-64)" > hand
	printf '%s\t%s\tt/sub/c\terror:EACCES\n' "$(stat -c %i t/sub/c)" "$(stat -c %s t/sub/c)" >> hand
	prun --separate-stderr pverify -v -f hand
	assert_failure 1
	assert_line --index 0 "$(printf 'ERROR\tt/b\tnot verifiable: the manifest records error:EIO')"
	assert_line --index 1 "$(printf 'ERROR\tt/sub/c\tnot verifiable: the manifest records error:EACCES')"
	assert_equal "${#lines[@]}" 2
	assert_equal "${stderr##*$'\n'}" "pverify: 0 ok, 0 failed, 0 missing, 2 errors"
}

@test "pverify never opens a FIFO named by the manifest for reading" {
	mkfifo fifo
	printf '%s  fifo\n' "$(printf '' | sha256sum | cut -c1-64)" > list
	prun --separate-stderr timeout 10 pverify -f list
	assert_failure 1
	assert_output "$(printf 'ERROR\tfifo\tnot a regular file')"
}

@test "pverify --sizes-only compares size and mtime without reading the files, and says so" {
	make_tree t
	native_manifest t > list
	# Same size, same mtime, different bytes: --sizes-only cannot see it.
	cp -p t/a saved
	printf 'ALPHA CONTENT\n' > t/a
	touch -r saved t/a
	prun --separate-stderr pverify --sizes-only -f list
	assert_success
	assert_equal "$stderr" "pverify: 4 ok (sizes only, not hashed), 0 failed, 0 missing, 0 errors"
	prun pverify -f list
	assert_failure 1
	# A new mtime is seen; so is a new size.
	touch -d '2001-01-01' t/b
	truncate -s 1 t/sub/c
	prun --separate-stderr pverify --sizes-only -f list
	assert_failure 1
	assert_line --index 0 "$(printf 'FAILED\tt/b')"
	assert_line --index 1 "$(printf 'SIZE\tt/sub/c')"
	assert_equal "${stderr##*$'\n'}" "pverify: 2 ok (sizes only, not hashed), 2 failed, 0 missing, 0 errors"
}

@test "pverify -q and --quiet hash every file and drop only the OK lines, as sha256sum -c --quiet" {
	make_tree t
	find t -type f | sort | xargs sha256sum > list
	local opt
	for opt in -q --quiet "-v -q"; do
		run sha256sum -c --quiet list
		assert_success
		assert_output ""
		prun --separate-stderr pverify $opt -f list
		assert_success
		assert_output ""
		assert_equal "$stderr" ""
	done
	# Same size and mtime, different bytes: -q is no shortcut, it still hashes.
	cp -p t/a saved
	printf 'ALPHA CONTENT\n' > t/a
	touch -r saved t/a
	rm t/b
	run sha256sum -c --quiet list
	assert_failure 1
	expected=$(printf '%s\n' "$output" | sed -n 's/: FAILED.*$//p')
	prun --separate-stderr pverify -q -f list
	assert_failure 1
	assert_equal "$(printf '%s\n' "${lines[@]}" | cut -f2)" "$expected"
	assert_line --index 0 "$(printf 'FAILED\tt/a')"
	assert_line --index 1 "$(printf 'MISSING\tt/b')"
	# The summary comes back when something failed.
	assert_equal "${stderr##*$'\n'}" "pverify: 2 ok, 1 failed, 1 missing, 0 errors"
}

@test "pverify --status prints nothing on stdout and exits as sha256sum -c --status" {
	make_tree t
	find t -type f | sort | xargs sha256sum > list
	run sha256sum -c --status list
	assert_success
	assert_output ""
	prun --separate-stderr pverify --status -v -f list
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
	printf 'x' >> t/b
	run sha256sum -c --status list
	assert_failure 1
	assert_output ""
	prun --separate-stderr pverify --status -f list
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" ""
	# --audit's NEW and MOVED lines are results too.
	printf 'new\n' > t/added
	prun --separate-stderr pverify --status --audit t -f list
	assert_failure 1
	assert_output ""
}

# sealed_tree_manifest FILE: make the tree t and write its sealed manifest to FILE.
sealed_tree_manifest() {
	make_tree t
	seal_manifest <(native_manifest t) "$1"
}

@test "pverify accepts an intact sealed manifest" {
	sealed_tree_manifest list
	prun --separate-stderr pverify -f list
	assert_success
	assert_equal "${stderr##*$'\n'}" "pverify: 4 ok, 0 failed, 0 missing, 0 errors"
}

@test "pverify detects an edited sealed manifest and exits 1" {
	sealed_tree_manifest list
	printf 'new alpha\n' > t/a
	# Someone re-hashes t/a and puts its new record in place of the old one.
	native_manifest t | head -n 1 > newrecord
	awk 'NR == FNR { r = $0; next } FNR == 2 { print r; next } { print }' newrecord list > edited
	mv edited list
	prun --separate-stderr pverify -f list
	assert_failure 1
	assert_contains "$stderr" "pverify: list:6: seal digest mismatch: the seal was edited"
}

@test "pverify treats a record after the seal as an error" {
	sealed_tree_manifest list
	native_manifest t | head -n 1 >> list
	prun --separate-stderr pverify -f list
	assert_failure 1
	assert_contains "$stderr" "pverify: list:7: line after the seal"
}

@test "pverify reports a sealed manifest whose seal line was cut off" {
	make_tree t
	{ echo '# ptools seal v1'; native_manifest t; } > list
	prun --separate-stderr pverify -f list
	assert_failure 1
	assert_contains "$stderr" "without its seal line"
}

@test "pverify --sealed fails a manifest whose seal header and seal line were both removed" {
	sealed_tree_manifest list
	prun --separate-stderr pverify --sealed -f list
	assert_success
	# Strip both seal lines and drop a record: as a plain manifest it
	# still verifies, so only --sealed can tell.
	grep -v '^#' list | sed 1d > stripped
	prun --separate-stderr pverify -f stripped
	assert_success
	prun --separate-stderr pverify --sealed -f stripped
	assert_failure 1
	assert_contains "$stderr" "pverify: stripped: no seal header: not a sealed manifest, or its seal was removed"
}

@test "pverify holds a manifest named .ptools-seal to being sealed, from -f and from stdin" {
	sealed_tree_manifest list
	mkdir s
	grep -v '^#' list | sed 1d > s/.ptools-seal
	prun --separate-stderr pverify -f s/.ptools-seal
	assert_failure 1
	assert_contains "$stderr" "no seal header"
	prun --separate-stderr bash -c 'pverify < s/.ptools-seal'
	assert_failure 1
	assert_contains "$stderr" "pverify: <stdin>: no seal header"
	# The intact seal under that name verifies.
	cp list s/.ptools-seal
	prun --separate-stderr bash -c 'pverify < s/.ptools-seal'
	assert_success
}

@test "pverify fails a manifest with no checkable line, as sha256sum -c does" {
	local input
	printf '# only a comment\n\n' > comments
	: > empty
	for input in empty comments; do
		run sha256sum -c "$input"
		assert_failure 1
		prun --separate-stderr pverify -f "$input"
		assert_failure 1
		assert_output ""
		assert_contains "$stderr" "pverify: $input: no file was checked"
		prun --separate-stderr bash -c 'cat "$0" | pverify' "$input"
		assert_failure 1
		assert_contains "$stderr" "pverify: <stdin>: no file was checked"
	done
}

@test "pverify recognises a seal piped through cat by its content, and fails it emptied or cut" {
	sealed_tree_manifest list
	mkdir -p s
	cp list s/.ptools-seal
	prun --separate-stderr bash -c 'cat s/.ptools-seal | pverify'
	assert_success
	# Its self-digest is checked though the name is gone.
	sed 's/^\([0-9]*\)\t14\t/\1\t15\t/' s/.ptools-seal > edited
	prun --separate-stderr bash -c 'cat edited | pverify'
	assert_failure 1
	assert_contains "$stderr" "pverify: <stdin>:6: seal digest mismatch: the seal was edited"
	# Cut after its header: no seal line.
	prun --separate-stderr bash -c 'head -n 1 s/.ptools-seal | pverify'
	assert_failure 1
	assert_contains "$stderr" "pverify: <stdin>: sealed manifest without its seal line: it was cut short"
	# Emptied: nothing at all was checked.
	: > s/.ptools-seal
	prun --separate-stderr bash -c 'cat s/.ptools-seal | pverify'
	assert_failure 1
	assert_output ""
	assert_contains "$stderr" "pverify: <stdin>: no file was checked"
}

@test "pverify rejects usage errors with exit 2" {
	prun pverify --no-such-option
	assert_failure 2
	prun pverify -j 0
	assert_failure 2
	prun pverify -a nosuchalgo
	assert_failure 2
	prun pverify extra-argument
	assert_failure 2
	prun pverify -f does-not-exist
	assert_failure 2
	prun pverify -C does-not-exist
	assert_failure 2
	# The quick mode is --sizes-only now, with no short form and no alias.
	prun pverify --quick
	assert_failure 2
}

@test "pverify --help and --version print to stdout and exit 0" {
	prun pverify --help
	assert_success
	assert_output --partial "Usage: pverify"
	prun pverify --version
	assert_success
	assert_output --partial "pverify"
}

@test "pverify gives the same verdicts with one worker and with many" {
	make_tree t
	for i in $(seq 1 200); do printf '%s\n' "$i" > "t/f$i"; done
	native_manifest t > list
	for i in 3 50 120 199; do printf 'z' >> "t/f$i"; done
	rm t/f77
	prun --separate-stderr pverify -j 1 -f list
	one=$output
	assert_failure 1
	prun --separate-stderr pverify -j 32 -f list
	assert_failure 1
	assert_equal "$output" "$one"
	assert_equal "${#lines[@]}" 5
}

@test "pverify reports a write error on stdout and exits 1" {
	make_tree t
	native_manifest t > list
	prun bash -c 'pverify -v -f list > /dev/full'
	assert_failure 1
	assert_output --partial "pverify: standard output: No space left on device"
}

@test "pverify -v | head -1 stops reading the manifest once its reader has gone, quietly" {
	printf 'hello\n' > a
	printf '1\t6\ta\tsha256:%s\n' "$(sha256sum < a | cut -c1-64)" > line
	# A million entries, made by "head -n 1000000": that head can write
	# them all only if pverify reads them all, so its death by SIGPIPE
	# (141) proves pverify stopped early; pverify itself dies of SIGPIPE
	# (141, as pfind and phash do) and prints nothing on stderr.
	prun bash -c 'yes "$(cat line)" | head -n 1000000 | pverify -v 2>err | head -n 1
		echo "status ${PIPESTATUS[1]} ${PIPESTATUS[2]}"'
	assert_success
	assert_line --index 0 "$(printf 'OK\ta')"
	assert_line --index 1 "status 141 141"
	assert_equal "$(cat err)" ""
	# With SIGPIPE ignored, the write fails (EPIPE) instead: pverify still
	# stops reading (the producer then fails to write, status 1), exits 1
	# and says nothing.
	prun bash -c 'trap "" PIPE
		yes "$(cat line)" 2>/dev/null | head -n 1000000 2>/dev/null | pverify -v 2>err | head -n 1
		echo "status ${PIPESTATUS[1]} ${PIPESTATUS[2]}"'
	assert_success
	assert_line --index 0 "$(printf 'OK\ta')"
	assert_line --index 1 "status 1 1"
	assert_equal "$(cat err)" ""
}

@test "pverify reads phash's BSD lines for every algorithm, SHA512/256's slash tag included" {
	make_tree t
	local algo
	for algo in sha512-256 sha3-256 blake2s xxh128 md5; do
		prun sh -c 'find t -type f | phash -a "$1" --format bsd > "list-$1"' _ "$algo"
		assert_success
		prun --separate-stderr pverify -f "list-$algo"
		assert_success
		assert_equal "${stderr##*$'\n'}" "pverify: 4 ok, 0 failed, 0 missing, 0 errors"
	done
	assert grep -q '^SHA512/256 (' list-sha512-256
}

@test "pverify accepts a whole seal of a copy that held no file, and fails a record marked changed:1" {
	mkdir -p src/only-dirs/deeper
	prun pcopy src one
	assert_success
	seal_ok one
	# the same seal with its digest line edited is no proof of anything
	sed 's/sha256:\(.\)/sha256:x\1/' one/.ptools-seal > edited
	prun pverify -C one -f edited
	assert_failure
	# a failure in one manifest does not make the next whole seal count as empty
	prun pverify -C one -f edited -f one/.ptools-seal
	assert_failure 1
	refute_output --partial "one/.ptools-seal: no file was checked" 1
	# line 3: the header, the exclude patterns, then the seal line
	assert_output --partial "edited:3: seal digest mismatch: the seal was edited"
	printf 'same\n' > f
	printf '%s\t5\tf\tchanged:1\tsha256:%s\n' "$(stat -c %i f)" "$(sha256sum f | cut -c1-64)" > list
	prun pverify -f list
	assert_failure 1
	assert_output --partial "ERROR	f	not verifiable: the manifest records changed:1"
}

@test "pverify shows progress on a terminal by default, and not with --no-progress" {
	command -v script >/dev/null || skip "script(1) is needed for a pseudo-terminal"
	mkdir t
	for i in $(seq 1 20); do head -c 2000000 /dev/urandom > "t/f$i"; done
	pfind t | phash > list
	prun script -qfec "pverify -j1 -f list" /dev/null
	assert_success
	assert_output --regexp $'\r''pverify: [0-9]+(/[0-9]+)? files, '
	prun script -qfec "pverify --no-progress -f list" /dev/null
	assert_success
	refute_output --regexp $'\r''pverify: '
}

# --- The manifests of other tools (issue 22) ---------------------------------

# need TOOL...: skip unless every peer tool is installed (.ci/install-deps
# installs them).
need() {
	local tool
	for tool in "$@"; do
		command -v "$tool" > /dev/null || skip "$tool is not installed"
	done
}

# peer_tree: make_tree t plus a name with a comma and spaces, which hashdeep
# and SFV write raw.
peer_tree() {
	make_tree t
	printf 'echo content\n' > 't/e, f.txt'
}

# peer_variants LIST: LIST as written, with CR LF line ends, with a UTF-8
# byte-order mark, and with both, as list.lf, list.crlf, list.bom, list.both
# (NUL-terminated lists get no CR: there a CR would be part of a name).
peer_variants() {
	cp "$1" list.lf
	if [ "${2:-}" = nul ]; then
		cp "$1" list.crlf
	else
		sed 's/$/\r/' "$1" > list.crlf
	fi
	{ printf '\357\273\277'; cat list.lf; } > list.bom
	{ printf '\357\273\277'; cat list.crlf; } > list.both
}

# check_peer LIST PREFIX [nul]: the peer tree's five files verify OK from
# LIST in each variant; then, with t/b changed (same size) and t/sub/c
# removed, each variant reports exactly those two (PREFIX before the names:
# hashdeep writes absolute paths) and exits 1.
check_peer() {
	local list=$1 prefix=$2 v
	peer_variants "$list" "${3:-}"
	for v in lf crlf bom both; do
		prun --separate-stderr pverify -f list.$v
		assert_success
		assert_output ""
		assert_equal "${stderr##*$'\n'}" "pverify: 5 ok, 0 failed, 0 missing, 0 errors"
	done
	printf 'X' | dd of=t/b bs=1 seek=3 conv=notrunc status=none
	rm t/sub/c
	for v in lf crlf bom both; do
		prun --separate-stderr pverify -f list.$v
		assert_failure 1
		assert_line "$(printf 'FAILED\t%st/b' "$prefix")"
		assert_line "$(printf 'MISSING\t%st/sub/c' "$prefix")"
		assert_equal "${#lines[@]}" 2
		assert_equal "${stderr##*$'\n'}" "pverify: 3 ok, 1 failed, 1 missing, 0 errors"
	done
}

@test "pverify verifies hashdeep's own output (absolute paths), CR LF and BOM too, and catches a change and a removal" {
	need hashdeep
	peer_tree
	hashdeep -c md5,sha256 -r t > list
	head -n 2 list | grep -qx '%%%% size,md5,sha256,filename'
	check_peer list "$PWD/"
}

@test "pverify verifies hashdeep -l with sha1 and tiger columns, checking the columns it knows" {
	need hashdeep
	peer_tree
	hashdeep -l -c md5,sha1,sha256,tiger -r t > list
	check_peer list ""
}

@test "pverify reports a hashdeep entry of another size as SIZE" {
	need hashdeep
	peer_tree
	hashdeep -l -r t > list
	printf 'longer now\n' >> t/a
	prun --separate-stderr pverify -f list
	assert_failure 1
	assert_output "$(printf 'SIZE\tt/a')"
}

@test "pverify verifies md5deep's output, which is GNU format" {
	need md5deep
	peer_tree
	md5deep -l -r t > list
	check_peer list ""
}

@test "pverify verifies rhash --bsd with padded tags and four algorithms per file as one check each" {
	need rhash
	peer_tree
	rhash --bsd --crc32 --md5 --sha1 --sha256 -r t > list
	grep -q '^MD5   (' list
	prun --separate-stderr pverify -v -f list
	assert_success
	assert_equal "${#lines[@]}" 5
	check_peer list ""
}

@test "pverify verifies rhash --sfv and its ';' comments" {
	need rhash
	peer_tree
	rhash --sfv -r t > list
	grep -q '^;' list
	check_peer list ""
}

@test "phash -a crc32 agrees with rhash --crc32, and pverify checks crc32 records" {
	need rhash
	peer_tree
	head -c 300000 /dev/urandom > t/big
	find t -type f | sort | phash -a crc32 > list
	prun --separate-stderr pverify -f list
	assert_success
	assert_equal "$(find t -type f | sort | xargs -d '\n' rhash --crc32 --simple)" \
		"$(awk -F'\t' '{ sub(/^crc32:/, "", $NF); print $NF "  " $3 }' list)"
}

@test "pverify detects sha256sum -z and sha256sum -z --tag output (NUL-terminated lines)" {
	peer_tree
	find t -type f -print0 | sort -z | xargs -0 sha256sum -z > list
	check_peer list "" nul
	peer_tree
	find t -type f -print0 | sort -z | xargs -0 sha256sum -z --tag > list
	check_peer list "" nul
}

@test "pverify reads a NUL-terminated list whose names hold a newline and a trailing CR" {
	mkdir t
	printf 'one\n' > t/$'new\nline'
	printf 'two\n' > t/$'cr\r'
	(cd t && sha256sum -z -- * > ../list)
	cd t
	prun --separate-stderr pverify -f ../list
	assert_success
	assert_equal "${stderr##*$'\n'}" "pverify: 2 ok, 0 failed, 0 missing, 0 errors"
}

@test "pverify reads native, GNU and BSD manifests with CR LF and a BOM" {
	peer_tree
	native_manifest t > native
	find t -type f -print0 | sort -z | xargs -0 md5sum > gnu
	find t -type f -print0 | sort -z | xargs -0 sha256sum --tag > bsd
	for m in native gnu bsd; do
		peer_tree
		check_peer $m ""
		rm -rf t
	done
}

@test "pverify reports malformed hashdeep lines by number and exits 2" {
	peer_tree
	md5=$(md5sum < t/a | cut -c1-32) sha=$(sha256sum < t/a | cut -c1-64)
	{
		printf '%%%%%%%% HASHDEEP-1.0\n'                   # 1
		printf '%%%%%%%% size,md5,sha256,filename\n'       # 2
		printf '## comment\n'                              # 3
		printf '14,%s,%s,t/a\n' "$md5" "$sha"              # 4: good
		printf 'x,%s,%s,t/a\n' "$md5" "$sha"               # 5: bad size
		printf '14,%s,%s,t/a\n' "${md5:0:30}" "$sha"       # 6: short md5
		printf '14,%s,%s\n' "$md5" "$sha"                  # 7: no name
		printf '14,%s\n' "$md5"                            # 8: too few fields
		printf '14,%s,%s,\n' "$md5" "$sha"                 # 9: empty name
		printf '%%%%%%%% size,md5,name\n'                  # 10: bad column line
		printf '%%%%%%%% HASHDEEP-9\n'                     # 11: unknown header
		printf '14,%s,%szz,t/a\n' "$md5" "${sha:0:62}"     # 12: bad hex
	} > list
	prun --separate-stderr pverify -f list
	assert_failure 2
	assert_output ""
	for n in 5 6 7 8 9 10 11 12; do
		[[ "$stderr" == *"pverify: list:$n: "* ]] || { echo "no error for line $n: $stderr"; return 1; }
	done
	[[ "$stderr" == *"pverify: list:6: digest length does not match its hashdeep column"* ]]
	[[ "$stderr" == *"1 ok, 0 failed, 0 missing, 0 errors"* ]]
	# A hashdeep line without its column line is not taken for anything.
	printf '14,%s,%s,t/a\n' "$md5" "$sha" > list
	prun --separate-stderr pverify -f list
	assert_failure 2
	[[ "$stderr" == *"pverify: list:1: "* ]]
}

@test "pverify reports malformed rhash --bsd and SFV lines by number and exits 2" {
	need rhash
	peer_tree
	rhash --bsd --md5 --crc32 t/a > list                           # 1, 2: good, one check
	printf 'MD5   (t/a) = %s\n' "$(printf x | md5sum | cut -c1-32)" >> list # 3: contradicts line 2
	printf 'TIGER (t/b) = %s\n' "$(printf x | md5sum | cut -c1-32)" >> list # 4: unknown algorithm
	printf 'MD5   (t/b) = 1234\n' >> list                          # 5: wrong length
	printf 'MD5   (t/b = 1234\n' >> list                          # 6: no ') = '
	rhash --sfv t/b | grep -v '^;' >> list                         # 7: good SFV
	printf 't/sub/c\n' >> list                                     # 8: no CRC
	printf 't/sub/c 1234567\n' >> list                             # 9: 7 digits
	printf ';\n; comment 12345678\n' >> list                       # 10, 11: comments
	prun --separate-stderr pverify -v -f list
	assert_failure 2
	assert_line "$(printf 'OK\tt/a')"
	assert_line "$(printf 'OK\tt/b')"
	assert_equal "${#lines[@]}" 2
	for n in 3 4 5 6 8 9; do
		[[ "$stderr" == *"pverify: list:$n: "* ]] || { echo "no error for line $n: $stderr"; return 1; }
	done
	[[ "$stderr" == *"pverify: list:3: two different digests for one file and algorithm"* ]]
	[[ "$stderr" != *"list:10:"* && "$stderr" != *"list:11:"* ]]
}

@test "pverify reports malformed sha256sum -z items by number and exits 2" {
	peer_tree
	{
		sha256sum -z t/a                                       # 1: good
		printf 'zz  t/b\0'                                     # 2: not a checksum line
		printf '%s  t/b\0' "$(sha256sum < t/b | cut -c1-63)"   # 3: odd length
		sha256sum -z t/sub/d                                   # 4: good
	} > list
	prun --separate-stderr pverify -f list
	assert_failure 2
	[[ "$stderr" == *"pverify: list:2: "* ]]
	[[ "$stderr" == *"pverify: list:3: odd number of hex digits"* ]]
	[[ "$stderr" == *"2 ok, 0 failed, 0 missing, 0 errors"* ]]
}

@test "pverify refuses an mtime with 20 digits of nanoseconds as bad mtime, without overflow" {
	make_tree t
	printf '1\t14\tt/a\tsha256:%s\tmtime:1.51111111111111111111\n' "$(sha256sum < t/a | cut -c1-64)" > list
	prun --separate-stderr pverify -f list
	assert_failure 2
	[[ "$stderr" == *"pverify: list:1: bad mtime"* ]]
}

@test "pverify fails a seal with a byte-order mark put in front: a seal proves every byte" {
	mkdir -p src/d
	printf 'hello\n' > src/d/f
	prun pcopy src one
	assert_success
	(printf '\xef\xbb\xbf'; cat one/.ptools-seal) > bom-seal
	prun pverify -C one -f bom-seal
	assert_failure 1
	assert_output --partial "the seal could not be checked"
	# the same bytes without the mark still verify
	prun pverify -C one -f one/.ptools-seal
	assert_success
}

@test "pverify takes manifests as sha256sum -c does: several operands, '-' for stdin, -w and --strict, and phash -c runs it" {
	mkdir d
	printf 'one\n' > d/a
	printf 'two\n' > d/b
	printf 'three\n' > d/c
	sha256sum d/a > l1
	sha256sum d/b > l2
	sha256sum d/c > l3
	prun pverify l1 l2 - < l3
	assert_success
	run sha256sum -c l1 l2 - < l3
	assert_success
	printf 'TWO\n' > d/b
	prun --separate-stderr pverify l1 l2 -f l3
	assert_failure 1
	assert_equal "$output" $'FAILED\td/b'
	run sha256sum -c l1 l2 l3
	assert_failure 1
	# sha256sum -c's -w and --strict: accepted, and a malformed line always fails
	printf 'not a checksum line\n' >> l1
	prun pverify -w --strict l1
	assert_failure 2
	assert_output --partial "l1:2:"
	# phash -c is pverify, with every other argument passed on
	prun --separate-stderr phash -c l3 --status
	assert_success
	assert_equal "$output" ""
	prun --separate-stderr phash --check l2
	assert_failure 1
	assert_equal "$output" $'FAILED\td/b'
	# a manifest operand that cannot be opened is a usage error; the others are checked
	prun pverify l3 no-such-list
	assert_failure 2
	assert_output --partial "pverify: no-such-list: No such file or directory"
}

@test "pverify -z reads NUL-terminated lines even when the first name shows none" {
	mkdir d
	printf 'x\n' > d/plain
	printf 'y\n' > "d/new"$'\n'"line"
	sha256sum -z d/plain "d/new"$'\n'"line" > zlist
	prun pverify -z -f zlist
	assert_success
	# one changed byte is found under -z too
	printf 'Y\n' > "d/new"$'\n'"line"
	prun pverify -z -f zlist
	assert_failure 1
}

@test "pverify --progress counts a manifest file first and shows files, bytes of the total and a percentage" {
	mkdir d
	for i in $(seq 1 20); do head -c 2000000 /dev/urandom > "d/f$i"; done
	pfind d | phash > list
	prun --separate-stderr pverify -j1 --progress list
	assert_success
	assert_contains "$stderr" "/21 files, "
	assert_regex "$stderr" "of 38\\.1 MiB \\([0-9]+%\\)"
}

@test "pverify -C run by a user who does not own the files still follows a symlink that stays inside the root" {
	# valgrind does not know openat2: without it no symlink is followed at all.
	[ "${PTOOLS_VALGRIND:-0}" = 1 ] && skip "valgrind lacks openat2"
	mkdir -p root/sub
	printf 'x\n' > root/sub/f
	ln -s sub root/via
	printf '%s  via/f\n' "$(sha256sum < root/sub/f | cut -c1-64)" > list
	chmod 755 "$BATS_TEST_TMPDIR"
	if ! as_nobody test -r list; then skip "nobody cannot reach the test directory"; fi
	# O_NOATIME is refused (EPERM) on a file one does not own: that must
	# not be taken for openat2 being unavailable, which would stop every
	# symlink from being followed from then on.
	prun as_nobody pverify -C root -f list
	assert_success
	prun as_nobody pverify -C root -f list -v
	assert_success
	assert_output --partial $'OK\tvia/f'
}

@test "pverify DEST checks the pcopy seal in DEST, beneath DEST, as -C DEST DEST/.ptools-seal does" {
	make_tree t
	prun pcopy t dest
	assert_success
	cd /
	prun pverify "$BATS_TEST_TMPDIR/dest"
	assert_success
	assert_output --partial "4 ok, 0 failed, 0 missing, 0 errors"
	printf 'x' >> "$BATS_TEST_TMPDIR/dest/sub/c"
	prun pverify "$BATS_TEST_TMPDIR/dest"
	assert_failure 1
	assert_output --partial "1 failed"
	# A seal edited by hand fails as the sealed form does, whatever it lists.
	sed -i '1,/^[0-9]/{/^[0-9]/s/\t4\t/\t5\t/}' "$BATS_TEST_TMPDIR/dest/.ptools-seal"
	prun pverify "$BATS_TEST_TMPDIR/dest"
	assert_failure
	# A directory without a seal is no manifest: a usage error that says what it lacks.
	mkdir "$BATS_TEST_TMPDIR/plain"
	prun pverify "$BATS_TEST_TMPDIR/plain"
	assert_failure 2
	assert_output --partial "plain: a directory with no pcopy seal"
}
