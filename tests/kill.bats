#!/usr/bin/env bats
# SPDX-License-Identifier: 0BSD
# The kill test: pcopy killed with SIGKILL at 20 random moments of a copy to
# two destinations that already hold files; after `pcopy --rollback` each
# destination is exactly as it was before the run (or, when the kill came
# after the run's commit point, exactly the finished copy), and no temporary
# or journal file is left. Before the rollback, at the moment of the kill,
# every file under its final name is whole: the source's or the old one.
#
# The moments are random but seeded: PTOOLS_SEED (default 1) picks them, and
# a failure names the seed and the kill. They are spread over the duration of
# one uninterrupted run measured first, so they land at every stage of the
# copy however fast or slow (ASan, valgrind) the build is. PTOOLS_KILLS
# (default 20) is the number of kills of a plain copy; the --force and
# --fsync variants get half and a quarter as many (they are slower).

load test_helper
bats_require_minimum_version 1.5.0

setup_file() {
	local src=$BATS_FILE_TMPDIR/src i
	: "${PTOOLS_SEED:=1}" "${PTOOLS_KILLS:=20}"
	export PTOOLS_SEED PTOOLS_KILLS
	# Slow enough to kill midway: 600 small files (a journal record and a
	# rename each) in 30 directories, and two files of 6 MiB.
	mkdir -p "$src/empty dir" "$src/"$'odd\nname'
	make_many "$src" 600 30
	for i in 1 2; do
		head -c $((6 << 20)) /dev/urandom > "$src/d$i/big$i"
	done
	printf 'x' > "$src/"$'odd\nname/tab\there'
	ln -s d1/f1 "$src/link"
	touch -d '2020-05-06 07:08:09.123456789' "$src/d1" "$src/d3"
}

setup() {
	command -v python3 >/dev/null || skip "python3 is needed to check the files"
	cd "$BATS_TEST_TMPDIR" || return 1
}

# make_pre DIR [--collide]: a destination that already holds files, a
# directory the copy also writes into (d3), a symlink and an empty directory,
# all with old mtimes. With --collide it also holds d3/f3, which the source
# has too (only --force may replace it, and a rollback must put it back).
make_pre() {
	mkdir -p "$1/d3" "$1/old/deeper" "$1/emptyold"
	printf 'keep me\n' > "$1/keep"
	printf 'mine\n' > "$1/d3/mine"
	printf 'old\n' > "$1/old/deeper/file"
	ln -s keep "$1/link-to-keep"
	chmod 0600 "$1/keep"
	chmod 0750 "$1/old"
	if [ "${2:-}" = --collide ]; then
		printf 'the original f3\n' > "$1/d3/f3"
		chmod 0640 "$1/d3/f3"
		touch -d '2011-01-01 00:00:00.5' "$1/d3/f3"
	fi
	touch -h -d '2010-01-01 00:00:00.25' "$1/keep" "$1/d3/mine" "$1/old/deeper/file" \
		"$1/link-to-keep" "$1/old/deeper" "$1/old" "$1/emptyold" "$1/d3" "$1"
}

# now_ns: the time in nanoseconds.
now_ns() {
	date +%s%N
}

# calibrate COLLIDE OPTS...: one uninterrupted pcopy OPTS of the source to
# full1 and full2 (made by make_pre, as is pre$COLLIDE for prop_check.py):
# how long a copy takes, in the caller's $duration (ns), and what a finished
# destination looks like, in $done1 and $done2 (tree_listing); both sealed.
calibrate() {
	local collide=$1 start
	shift
	make_pre full1 $collide
	make_pre full2 $collide
	make_pre pre$collide $collide
	start=$(now_ns)
	prun pcopy --no-progress "$@" "$BATS_FILE_TMPDIR/src" full1 full2
	duration=$(($(now_ns) - start))
	assert_success
	seal_ok full1
	seal_ok full2
	done1=$(tree_listing full1)
	done2=$(tree_listing full2)
}

# kill_moments SEED N: N fractions of a run, from 0.02 to 0.98, seeded.
kill_moments() {
	awk -v seed="$1" -v n="$2" \
		'BEGIN { srand(seed); for (i = 0; i < n; i++) printf "%.4f\n", 0.02 + 0.96 * rand() }'
}

# kill_copy_at FRACTION WHAT OPTS...: start pcopy OPTS of the source to one
# and two, and kill -9 it FRACTION of $duration (ns) later. It must have been
# killed (137) or have finished (0: the calibration run was slower than this
# one, on a busy machine, so $duration is cut to aim the next moments
# earlier); any other status fails, naming WHAT.
kill_copy_at() {
	local fraction=$1 what=$2 pid killed=0
	shift 2
	pcopy --no-progress "$@" "$BATS_FILE_TMPDIR/src" one two 2>err &
	pid=$!
	sleep "$(awk -v d="$duration" -v f="$fraction" 'BEGIN { printf "%.4f", d * f / 1e9 }')"
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" || killed=$?
	if [ "$killed" -ne 137 ] && [ "$killed" -ne 0 ]; then
		echo "seed $PTOOLS_SEED, $what at $fraction: pcopy exited $killed before the kill" >&2
		cat err >&2
		return 1
	fi
	[ "$killed" -ne 0 ] || duration=$((duration * 7 / 10))
}

# kill_round VARIANT KILLS OPTS...: calibrate, then kill KILLS copies made
# with OPTS at seeded random moments and check both destinations after each.
kill_round() {
	local variant=$1 kills=$2 collide= src=$BATS_FILE_TMPDIR/src
	local duration k fraction d journal committed uncommitted
	local before1 before2 done1 done2 before done_state
	local mid=0 completed=0 untouched=0
	shift 2
	[ "$variant" = force ] && collide=--collide

	calibrate "$collide" "$@"
	[ -z "$collide" ] || assert_equal "$(cat full1/d3/f3)" "file 3"

	k=0
	# Up to three times the kills asked for, until one has landed mid-copy:
	# a run of a few hundred milliseconds (--fsync with group commit) can
	# see every planned moment miss it on a loaded machine.
	for fraction in $(kill_moments "$PTOOLS_SEED" $((3 * kills))); do
		[ "$k" -ge "$kills" ] && [ "$mid" -gt 0 ] && break
		k=$((k + 1))
		rm -rf one two
		make_pre one $collide
		make_pre two $collide
		before1=$(snapshot one)
		before2=$(snapshot two)

		kill_copy_at "$fraction" "$variant kill $k" "$@" || return 1

		uncommitted=0
		for d in one two; do
			if [ "$d" = one ]; then
				before=$before1 done_state=$done1
			else
				before=$before2 done_state=$done2
			fi
			journal=$d/.pcopy-journal
			committed=0
			# Before any repair: no half-written file under a final name.
			if ! python3 "$BATS_TEST_DIRNAME/prop_check.py" atomic "$d" "$src" pre$collide; then
				echo "seed $PTOOLS_SEED, $variant kill $k at $fraction: $d holds a partial file" >&2
				return 1
			fi
			if [ -e "$journal" ]; then
				if [ "$(tail -n 1 "$journal")" = C ]; then committed=1; else uncommitted=1; fi
				prun pcopy --rollback "$d"
				if [ "$status" -ne 0 ]; then
					echo "seed $PTOOLS_SEED, $variant kill $k at $fraction: rollback of $d exited $status: $output" >&2
					return 1
				fi
			fi
			# Nothing of pcopy's own is left: no journal, no temporary.
			if [ -n "$(find "$d" -name '.pcopy*')" ]; then
				echo "seed $PTOOLS_SEED, $variant kill $k at $fraction: left behind in $d:" >&2
				find "$d" -name '.pcopy*' >&2
				return 1
			fi
			if [ "$(snapshot "$d")" = "$before" ]; then
				if [ "$committed" = 1 ]; then
					echo "seed $PTOOLS_SEED, $variant kill $k: a committed run of $d was undone" >&2
					return 1
				fi
			elif [ "$uncommitted" = 0 ] && [ -e "$d/.ptools-seal" ] &&
				[ "$(tree_listing "$d")" = "$done_state" ]; then
				# The kill came after the commit point (or after the end):
				# the copy was completed, and it must verify.
				prun pverify -C "$d" < "$d/.ptools-seal"
				if [ "$status" -ne 0 ]; then
					echo "seed $PTOOLS_SEED, $variant kill $k: completed $d does not verify: $output" >&2
					return 1
				fi
			else
				echo "seed $PTOOLS_SEED, $variant kill $k at $fraction of ${duration}ns: $d is neither as before nor complete:" >&2
				diff <(echo "$before") <(snapshot "$d") >&2
				return 1
			fi
		done
		if [ "$uncommitted" = 1 ]; then
			mid=$((mid + 1))
		elif [ -e one/.ptools-seal ] || [ -e two/.ptools-seal ]; then
			completed=$((completed + 1))
		else
			untouched=$((untouched + 1))
		fi
	done
	echo "# $variant: $mid kills mid-copy (rolled back), $completed after the commit point (completed), $untouched before any change" >&3
	# The moments are spread over a measured run, so most land mid-copy; if
	# none did, the test proved nothing.
	if [ "$mid" -eq 0 ]; then
		echo "seed $PTOOLS_SEED, $variant: no kill landed mid-copy (run took ${duration}ns)" >&2
		return 1
	fi
}

# resume_round KILLS OPTS...: as kill_round, but each killed copy is
# finished with pcopy --resume instead of undone: both destinations must then
# be exactly the finished copy, sealed, with nothing of pcopy's left.
resume_round() {
	local kills=$1 src=$BATS_FILE_TMPDIR/src
	local duration k fraction d done1 done2 resumed=0
	shift

	calibrate "" "$@"

	k=0
	# As kill_round: more moments until one has left an unfinished run.
	for fraction in $(kill_moments $((PTOOLS_SEED + 7)) $((3 * kills))); do
		[ "$k" -ge "$kills" ] && [ "$resumed" -gt 0 ] && break
		k=$((k + 1))
		rm -rf one two
		make_pre one
		make_pre two
		kill_copy_at "$fraction" "resume after kill $k" "$@" || return 1
		[ -e one/.pcopy-journal ] && [ "$(tail -n 1 one/.pcopy-journal)" != C ] &&
			resumed=$((resumed + 1))
		prun pcopy --no-progress --resume "$@" "$src" one two
		if [ "$status" -ne 0 ]; then
			echo "seed $PTOOLS_SEED, resume after kill $k at $fraction: exited $status: $output" >&2
			return 1
		fi
		for d in one two; do
			if [ -n "$(find "$d" -name '.pcopy*')" ]; then
				echo "seed $PTOOLS_SEED, resume after kill $k at $fraction: left behind in $d:" >&2
				find "$d" -name '.pcopy*' >&2
				return 1
			fi
			prun pverify -C "$d" < "$d/.ptools-seal"
			if [ "$status" -ne 0 ]; then
				echo "seed $PTOOLS_SEED, resume after kill $k: $d does not verify: $output" >&2
				return 1
			fi
		done
		if [ "$(tree_listing one)" != "$done1" ] || [ "$(tree_listing two)" != "$done2" ]; then
			echo "seed $PTOOLS_SEED, resume after kill $k at $fraction: not the finished copy:" >&2
			diff <(echo "$done1") <(tree_listing one) >&2
			diff <(echo "$done2") <(tree_listing two) >&2
			return 1
		fi
	done
	echo "# resume: $resumed of $k kills left an unfinished run that --resume finished" >&3
	if [ "$resumed" -eq 0 ]; then
		echo "seed $PTOOLS_SEED: no kill landed mid-copy (run took ${duration}ns)" >&2
		return 1
	fi
}

@test "pcopy killed at 20 random moments: --rollback restores both destinations exactly, leaving nothing behind" {
	kill_round plain "$PTOOLS_KILLS"
}

@test "pcopy --force killed at random moments: --rollback puts the replaced files back exactly" {
	kill_round force $(((PTOOLS_KILLS + 1) / 2)) --force
}

@test "pcopy --fsync killed at random moments: --rollback restores both destinations exactly" {
	kill_round fsync $(((PTOOLS_KILLS + 3) / 4)) --fsync
}

@test "pcopy killed at 20 random moments, then --resume: both destinations end as the finished copy, sealed" {
	resume_round "$PTOOLS_KILLS"
}
