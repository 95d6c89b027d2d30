#!/usr/bin/env bats
# SPDX-License-Identifier: 0BSD
# Property tests over random trees (tests/gen_tree.py): awkward names, sizes
# from 0 to 10 MiB, symlinks, empty directories, hard links and a FIFO.
#
# The trees are seeded: PTOOLS_SEED (default 1) is the first seed and
# PTOOLS_SEEDS (default 3) how many consecutive seeds each test runs over. A
# failure names its seed; `PTOOLS_SEED=N PTOOLS_SEEDS=1 make test
# TESTS=tests/property.bats` reproduces it. PTOOLS_TREE_MIB (default 16) caps
# each tree's total size.

load test_helper
bats_require_minimum_version 1.5.0

setup_file() {
	local seed
	: "${PTOOLS_SEED:=1}" "${PTOOLS_SEEDS:=3}" "${PTOOLS_TREE_MIB:=16}"
	export PTOOLS_SEED PTOOLS_SEEDS PTOOLS_TREE_MIB
	command -v python3 >/dev/null || return 0
	for ((seed = PTOOLS_SEED; seed < PTOOLS_SEED + PTOOLS_SEEDS; seed++)); do
		python3 "$BATS_TEST_DIRNAME/gen_tree.py" "$BATS_FILE_TMPDIR/t$seed" "$seed" \
			"$PTOOLS_TREE_MIB" >&3 || return 1
	done
}

setup() {
	command -v python3 >/dev/null || skip "python3 is needed to generate the trees"
	cd "$BATS_TEST_TMPDIR" || return 1
}

check() {
	python3 "$BATS_TEST_DIRNAME/prop_check.py" "$@"
}

# seeds: the seeds this run covers, one per line.
seeds() {
	seq "$PTOOLS_SEED" $((PTOOLS_SEED + PTOOLS_SEEDS - 1))
}

# seed_failed SEED WHAT: say which seed broke the property and how to rerun it.
seed_failed() {
	echo "seed $1: $2 (reproduce with PTOOLS_SEED=$1 PTOOLS_SEEDS=1)" >&2
	return 1
}

# Any failure below names the seed; test bodies use `|| seed_failed`.

@test "pfind | phash gives sha256sum's digest for every regular file of random trees, in order" {
	local seed t
	for seed in $(seeds); do
		t=$BATS_FILE_TMPDIR/t$seed
		prun bash -o pipefail -c 'pfind "$1" | tee pf | phash > ph' _ "$t"
		[ "$status" -eq 0 ] || seed_failed "$seed" "pfind | phash exited $status: $output" || return 1
		find "$t" -type f -print0 | xargs -0 sha256sum -z > sums
		find "$t" -print0 > found
		check digests ph sums found || seed_failed "$seed" "digests differ from sha256sum" || return 1
		check order pf ph || seed_failed "$seed" "phash changed the order of its input" || return 1
	done
}

@test "pverify accepts pfind | phash's manifest of random trees, then catches one changed byte" {
	local seed t escaped
	for seed in $(seeds); do
		t=$BATS_FILE_TMPDIR/t$seed
		prun bash -o pipefail -c 'pfind "$1" | phash > list' _ "$t"
		[ "$status" -eq 0 ] || seed_failed "$seed" "pfind | phash exited $status: $output" || return 1
		# Directories, symlinks (dangling, looping, to directories) and the
		# FIFO carry no digest: they claim only that they exist (FORMAT.md).
		prun --separate-stderr pverify -f list
		[ "$status" -eq 0 ] || seed_failed "$seed" "pverify of the manifest exited $status: $output" ||
			return 1
		rm -rf copy
		cp -a "$t" copy
		sed "s|	$t/|	copy/|; s|	$t	|	copy	|" list > copy.list
		escaped=$(check flip . copy.list "$seed") ||
			seed_failed "$seed" "cannot flip a byte" || return 1
		prun --separate-stderr pverify -f copy.list
		[ "$status" -eq 1 ] && [ "$output" = "FAILED	$escaped" ] ||
			seed_failed "$seed" "pverify said '$output' ($status) for a byte changed in $escaped" ||
			return 1
	done
}

@test "pcopy of random trees to two destinations: both seals verify and both copies equal the source" {
	local seed t d
	for seed in $(seeds); do
		t=$BATS_FILE_TMPDIR/t$seed
		rm -rf d1 d2
		prun pcopy "$t" d1 d2
		[ "$status" -eq 0 ] || seed_failed "$seed" "pcopy exited $status: $output" || return 1
		for d in d1 d2; do
			seal_ok "$d" || seed_failed "$seed" "the seal of $d does not verify" || return 1
			diff <(tree_listing "$t") <(tree_listing "$d") >&2 ||
				seed_failed "$seed" "$d differs from the source" || return 1
		done
		# The seal lists exactly the source's regular files.
		[ "$(grep -vc "^#" d1/.ptools-seal)" -eq "$(find "$t" -type f -printf x | wc -c)" ] ||
			seed_failed "$seed" "the seal does not list every regular file" || return 1
	done
}

@test "pverify catches a single changed byte in any file of a sealed copy of random trees" {
	local seed t d escaped round
	for seed in $(seeds); do
		t=$BATS_FILE_TMPDIR/t$seed
		rm -rf d1 d2
		prun pcopy "$t" d1 d2
		[ "$status" -eq 0 ] || seed_failed "$seed" "pcopy exited $status: $output" || return 1
		for round in 1 2; do
			d=d$round
			# A different file (and byte) in each copy; the mtime is kept, so
			# only the contents can give the change away.
			escaped=$(check flip "$d" "$d/.ptools-seal" $((seed * 10 + round))) ||
				seed_failed "$seed" "cannot flip a byte in $d" || return 1
			prun --separate-stderr pverify -C "$d" < "$d/.ptools-seal"
			[ "$status" -eq 1 ] || seed_failed "$seed" "pverify of $d exited $status, not 1" || return 1
			# Exactly one problem line, and it names the changed file.
			[ "$output" = "FAILED	$escaped" ] ||
				seed_failed "$seed" "pverify said '$output' for a byte changed in $escaped" || return 1
			[[ "$stderr" == *", 1 failed, 0 missing, 0 errors" ]] ||
				seed_failed "$seed" "pverify's summary: $stderr" || return 1
		done
	done
}

@test "pverify rejects a seal with any single byte changed" {
	local seed t round
	for seed in $(seeds); do
		t=$BATS_FILE_TMPDIR/t$seed
		rm -rf d1
		prun pcopy "$t" d1
		[ "$status" -eq 0 ] || seed_failed "$seed" "pcopy exited $status: $output" || return 1
		cp d1/.ptools-seal intact
		for round in 1 2 3 4 5; do
			cp intact d1/.ptools-seal
			check flip-any d1/.ptools-seal $((seed * 10 + round)) ||
				seed_failed "$seed" "cannot change the seal" || return 1
			prun pverify -C d1 < d1/.ptools-seal
			# 1 (the seal digest differs) or 2 (the edit broke a line), never 0.
			[ "$status" -eq 1 ] || [ "$status" -eq 2 ] ||
				seed_failed "$seed" "an edited seal gave exit $status (round $round): $output" ||
				return 1
		done
	done
}
