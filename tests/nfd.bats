#!/usr/bin/env bats
# SPDX-License-Identifier: 0BSD
# pverify and Unicode normalization: a manifest path missing on disk is
# looked for under its other form (NFC <-> NFD: macOS writes names
# decomposed), found and verified with a note instead of MISSING; --audit
# pairs such a file with its entry. Names are written by python3's
# unicodedata, independently of libcommon/unorm.

load test_helper
bats_require_minimum_version 1.5.0

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	NFC=$(python3 -c 'import unicodedata; print(unicodedata.normalize("NFC", "caf\u00e9"))')
	NFD=$(python3 -c 'import unicodedata; print(unicodedata.normalize("NFD", "caf\u00e9"))')
	[ "$NFC" != "$NFD" ] && [ "${#NFD}" -gt "${#NFC}" ]
}

# manifest_of PATH NAME: a native record naming NAME with PATH's size and sha256.
manifest_of() {
	printf '1\t%s\t%s\tsha256:%s\n' "$(stat -c %s "$1")" "$2" "$(sha256sum < "$1" | cut -c1-64)"
}

@test "pverify finds an NFC manifest path written NFD on disk, with a note, and exits 0" {
	mkdir "d-$NFD"
	printf 'coffee' > "d-$NFD/$NFD.txt"
	manifest_of "d-$NFD/$NFD.txt" "d-$NFC/$NFC.txt" > list
	prun --separate-stderr pverify -v < list
	assert_success
	assert_output "OK	d-$NFC/$NFC.txt"
	assert_equal "$stderr" "pverify: d-$NFC/$NFC.txt: found as its NFD form
pverify: 1 ok, 0 failed, 0 missing, 0 errors"
}

@test "pverify finds an NFD manifest path written NFC on disk, and checks its content" {
	printf 'coffee' > "$NFC"
	manifest_of "$NFC" "$NFD" > list
	prun --separate-stderr pverify < list
	assert_success
	assert_contains "$stderr" "pverify: $NFD: found as its NFC form"
	# What was found is verified: a changed byte there still fails.
	printf 'toffee' > "$NFC"
	prun --separate-stderr pverify < list
	assert_failure 1
	assert_output "FAILED	$NFD"
	# -q and --status say nothing of it.
	printf 'coffee' > "$NFC"
	prun --separate-stderr pverify -q < list
	assert_success
	assert_equal "$stderr" ""
}

@test "pverify still reports a file missing under both forms, and a name that is not UTF-8, as MISSING" {
	printf 'x' > other
	{ manifest_of other "$NFC"; manifest_of other "gone-"$'\xe9'; } > list
	prun --separate-stderr pverify < list
	assert_failure 1
	assert_output "MISSING	$NFC
MISSING	gone-"$'\xe9'
	[[ "$stderr" != *"found as"* ]]
}

@test "pverify under -C finds the other form beneath the root" {
	mkdir -p root/sub
	printf 'coffee' > "root/sub/$NFD"
	manifest_of "root/sub/$NFD" "sub/$NFC" > list
	prun --separate-stderr pverify -C root < list
	assert_success
	assert_contains "$stderr" "found as its NFD form"
}

@test "pverify --audit pairs an NFC entry with its NFD file: neither MISSING nor NEW" {
	mkdir t
	printf 'coffee' > "t/$NFD"
	printf 'tea' > t/plain
	{ manifest_of "t/$NFD" "$NFC"; manifest_of t/plain plain; } > t/list
	prun --separate-stderr pverify -C t --audit . -f t/list
	assert_success
	assert_output ""
	assert_contains "$stderr" "2 ok, 0 failed, 0 missing, 0 errors, 0 new, 0 moved"
	# When both forms are on disk they are two files: the NFD one is NEW.
	printf 'coffee' > "t/$NFC"
	prun --separate-stderr pverify -C t --audit . -f t/list
	assert_failure 1
	assert_output "NEW	$NFD"
}
