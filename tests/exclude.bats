#!/usr/bin/env bats
# SPDX-License-Identifier: 0BSD
# Default excludes and --exclude (libcommon/exclude): the volatile files
# macOS, Windows and fsck leave in a tree stay out of pcopy's copies and
# seals, phash -r's listings and pverify --audit's NEW files; --exclude adds
# globs (as pfind's -name and -path), --no-default-excludes drops the
# defaults; the seal records the patterns; --delete protects excluded files.

load test_helper
bats_require_minimum_version 1.5.0

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
}

# A tree with every volatile name, as files and as directories, at the top
# and nested, beside ordinary files.
make_volatile_tree() {
	local d=$1
	mkdir -p "$d/a/b" "$d/.Spotlight-V100/Store-V2" "$d/lost+found/#123" "$d/a/.Trashes/501" \
		"$d/a/b/.fseventsd" "$d/.TemporaryItems" "$d/a/b/lost+found"
	printf 'keep' > "$d/keep.txt"
	printf 'a' > "$d/a/photo.jpg"
	printf 'b' > "$d/a/b/clip.mov"
	printf 'x' > "$d/.DS_Store"
	printf 'x' > "$d/a/b/.DS_Store"
	printf 'x' > "$d/._keep.txt"
	printf 'x' > "$d/a/._photo.jpg"
	printf 'x' > "$d/.Spotlight-V100/Store-V2/index"
	printf 'x' > "$d/lost+found/#123/frag"
	printf 'x' > "$d/a/.Trashes/501/old"
	printf 'x' > "$d/a/b/.fseventsd/0001"
	printf 'x' > "$d/.TemporaryItems/t"
	printf 'x' > "$d/a/Thumbs.db"
	printf 'x' > "$d/a/b/desktop.ini"
	printf 'x' > "$d/a/b/lost+found/f"
}

# What find keeps of DIR once the default names are pruned: the reference.
find_without_volatile() {
	(cd "$1" && find . -mindepth 1 \( -name .DS_Store -o -name '._*' -o -name .Spotlight-V100 \
		-o -name .Trashes -o -name .fseventsd -o -name .TemporaryItems -o -name Thumbs.db \
		-o -name desktop.ini -o -name lost+found \) -prune -o -print | sort)
}

listing() {
	(cd "$1" && find . -mindepth 1 -name .ptools-seal -prune -o -print | sort)
}

@test "pcopy leaves the volatile files and directories out of the copy and the seal, and counts them" {
	make_volatile_tree src
	prun --separate-stderr pcopy src dst
	assert_success
	assert_equal "$(listing dst)" "$(find_without_volatile src)"
	# 12 entries left out: each volatile file and each top volatile directory.
	assert_equal "$stderr" "pcopy: 12 excluded entries left out (volatile files, --exclude)"
	# The seal names exactly the regular files kept.
	assert_equal "$(grep -v '^#' dst/.ptools-seal | cut -f3 | sort)" \
		"$(find_without_volatile src | sed 's|^\./||' | while read -r p; do
			[ -f "src/$p" ] && echo "$p"; done | sort)"
	seal_ok dst
}

@test "pcopy --no-default-excludes copies the volatile files, and says nothing" {
	make_volatile_tree src
	prun --separate-stderr pcopy --no-default-excludes src dst
	assert_success
	assert_equal "$(listing dst)" "$(listing src)"
	assert_equal "$stderr" ""
	assert_equal "$(sed -n 2p dst/.ptools-seal)" "#exclude"
	seal_ok dst
}

@test "pcopy --exclude is repeatable and matches names as pfind -name and paths as pfind -path" {
	mkdir -p src/cache/sub src/x/cache src/build
	printf 1 > src/a.tmp
	printf 2 > src/cache/sub/m.tmp
	printf 3 > src/cache/sub/m.o
	printf 4 > src/x/cache/m.o
	printf 5 > src/keep
	printf 6 > src/top.log
	printf 7 > src/x/top.log
	printf 8 > src/build/b
	printf 9 > src/x/build
	prun --separate-stderr pcopy --exclude '*.tmp' --exclude 'cache/*.o' --exclude /top.log \
		--exclude 'build/' src dst
	assert_success
	# The same globs through pfind select what must be missing.
	assert_equal "$(listing dst)" "$(cd src && pfind . | cut -f3 | sort | grep -v '^\.$' |
		grep -v -e '\.tmp$' -e '^\./cache/.*\.o$' -e '^\./top\.log$' -e '^\./build')"
	[ -f dst/x/top.log ] && [ -f dst/x/build ] && [ -f dst/x/cache/m.o ]
	assert_equal "$stderr" "pcopy: 5 excluded entries left out (volatile files, --exclude)"
	seal_ok dst
}

@test "the seal records the patterns in a comment, is sealed over it and still verifies" {
	make_volatile_tree src
	printf 't' > src/a/t.tmp
	prun pcopy --exclude '*.tmp' --exclude $'odd\tname' src dst
	assert_success
	assert_equal "$(sed -n 1p dst/.ptools-seal)" "# ptools seal v1"
	# Each pattern escaped as a path is, the --exclude ones, then the defaults.
	want=$(printf '#exclude\t*.tmp\todd\\tname\t.DS_Store\t._*\t.Spotlight-V100\t.Trashes')
	want+=$(printf '\t.fseventsd\t.TemporaryItems\tThumbs.db\tdesktop.ini\tlost+found')
	assert_equal "$(sed -n 2p dst/.ptools-seal)" "$want"
	[ ! -e dst/a/t.tmp ]
	# The seal line covers the comment: sha256sum of every byte above it.
	assert_equal "$(tail -n1 dst/.ptools-seal | cut -f2)" \
		"sha256:$(head -n -1 dst/.ptools-seal | sha256sum | cut -c1-64)"
	seal_ok dst
	# Editing the recorded patterns breaks the seal.
	sed -i '2s/\*\.tmp/*.tmq/' dst/.ptools-seal
	prun pverify -C dst < dst/.ptools-seal
	assert_failure 1
}

@test "pcopy --delete does not delete an excluded entry of the destination" {
	mkdir -p src dst/sub
	printf 'k' > src/keep
	printf 'old' > dst/gone.txt
	printf 'mine' > dst/.DS_Store
	printf 'mine' > dst/sub/scratch.tmp
	printf 'old' > dst/sub/gone
	mkdir -p dst/old/deeper && printf 'old' > dst/old/deeper/f
	mkdir dst/lost+found && printf 'f' > dst/lost+found/frag
	prun pcopy --delete --exclude '*.tmp' src dst
	assert_success
	# What the source lacks goes; a directory holding an excluded file
	# stays, with only that file (as rsync keeps it).
	[ ! -e dst/gone.txt ] && [ ! -e dst/old ] && [ ! -e dst/sub/gone ]
	assert_equal "$(cat dst/.DS_Store)" mine
	assert_equal "$(cat dst/sub/scratch.tmp)" mine
	assert_equal "$(cat dst/lost+found/frag)" f
	seal_ok dst
	# Without the patterns they go.
	prun pcopy --delete --no-default-excludes --force src dst
	assert_success
	[ ! -e dst/.DS_Store ] && [ ! -e dst/sub/scratch.tmp ] && [ ! -e dst/lost+found ]
}

@test "pcopy copies records read on stdin as listed, volatile names included" {
	mkdir src
	printf 'x' > src/.DS_Store
	printf 'y' > src/file
	prun bash -c 'printf "%s\n" .DS_Store file | pcopy --from src --to dst'
	assert_success
	[ -f dst/.DS_Store ] && [ -f dst/file ]
	# The seal of a copy of records records no patterns.
	assert_equal "$(grep -c '^#exclude' dst/.ptools-seal)" 0
	seal_ok dst
}

@test "phash -r leaves out the volatile files and --exclude globs, and counts them" {
	make_volatile_tree t
	printf 'n' > t/a/note.tmp
	prun --separate-stderr phash -r --exclude '*.tmp' t
	assert_success
	assert_equal "$(printf '%s\n' "$output" | cut -f3 | grep -v '^t$' | sed 's|^t/|./|' | sort)" \
		"$(find_without_volatile t | grep -v 'note\.tmp$')"
	assert_equal "$stderr" "phash: 13 excluded entries left out (volatile files, --exclude)"
	prun --separate-stderr phash -r --no-default-excludes t
	assert_success
	assert_equal "$(printf '%s\n' "$output" | cut -f3 | grep -v '^t$' | sed 's|^t/|./|' | sort)" \
		"$(listing t)"
	assert_equal "$stderr" ""
}

@test "phash -r leaves the patterns out of its output: only records and passed comments" {
	make_volatile_tree t
	prun --separate-stderr phash -r t
	assert_success
	refute_output --partial '#exclude'
}

@test "pverify --audit does not report volatile or excluded files as NEW" {
	make_volatile_tree src
	prun pcopy src dst
	assert_success
	make_volatile_tree dst
	printf 'n' > dst/a/later.tmp
	prun --separate-stderr pverify -C dst --audit . --exclude '*.tmp' < dst/.ptools-seal
	assert_success
	assert_output ""
	assert_contains "$stderr" "pverify: 13 excluded entries left out of the audit"
	prun --separate-stderr pverify -q -C dst --audit . --exclude '*.tmp' < dst/.ptools-seal
	assert_success
	assert_equal "$stderr" ""
	# Without --exclude the .tmp file is NEW; without the defaults every volatile file is too.
	prun --separate-stderr pverify -C dst --audit . < dst/.ptools-seal
	assert_failure 1
	assert_output $'NEW\ta/later.tmp'
	prun --separate-stderr pverify -C dst --audit . --no-default-excludes < dst/.ptools-seal
	assert_failure 1
	assert_equal "$(printf '%s\n' "$output" | grep -c '^NEW')" 13
}

@test "--exclude and --no-default-excludes are usage errors where no walk uses them" {
	mkdir src
	prun pcopy --exclude '' src dst
	assert_failure 2
	assert_output --partial "invalid --exclude pattern ''"
	prun pcopy --exclude / src dst
	assert_failure 2
	prun bash -c 'echo x | pcopy --exclude "*.tmp" --to dst'
	assert_failure 2
	assert_output --partial "need SRC DEST"
	prun bash -c 'echo x | pcopy --no-default-excludes --to dst'
	assert_failure 2
	prun phash --exclude '*.tmp' src
	assert_failure 2
	assert_output --partial "need -r"
	prun phash -r --exclude '' src
	assert_failure 2
	prun bash -c 'pverify --exclude "*.tmp" < /dev/null'
	assert_failure 2
	assert_output --partial "need --audit"
	prun bash -c 'pverify --no-default-excludes < /dev/null'
	assert_failure 2
	[ ! -e dst ]
}

@test "pcopy --exclude with a remote DEST leaves the entries out of the local walk" {
	make_volatile_tree src
	printf 'x' > src/a/scratch.tmp
	prun rpcopy --exclude '*.tmp' src "testhost:$BATS_TEST_TMPDIR/dst"
	assert_success
	assert_output --partial "excluded entries left out"
	[ ! -e dst/a/scratch.tmp ]
	assert_equal "$(listing dst)" "$(find_without_volatile src | grep -v 'scratch\.tmp')"
	prun pverify -C dst dst/.ptools-seal
	assert_success
}

# rpcopy ARG...: pcopy ARG... with the stand-in as its remote shell and the
# pcopy under test as the remote one (tests/remote.bats has the same).
rpcopy() {
	timeout -k 5 120 pcopy -e "$BATS_TEST_DIRNAME/rsh-standin" --remote-pcopy "$(command -v pcopy)" \
		"$@" 3>&-
}

# A volatile tree with what the pull tests exclude besides: *.tmp files, a
# cache directory, and a file named by its path.
make_pull_tree() {
	make_volatile_tree "$1"
	mkdir -p "$1/cache/deep" "$1/a/cache"
	printf 't' > "$1/a/scratch.tmp"
	printf 't' > "$1/a/b/more.tmp"
	printf 'c' > "$1/cache/deep/blob"
	printf 'c' > "$1/a/cache/blob"
	printf 'n' > "$1/a/b/clip.tmp.keep"
}

@test "pcopy --exclude pulling from a remote SRC leaves out what a local copy does, says how many, and records the patterns" {
	make_pull_tree src
	# The local copy is the reference: the same entries, note and seal comment.
	prun --separate-stderr pcopy --exclude '*.tmp' --exclude /cache/ --exclude a/b/clip.mov src local
	assert_success
	prun --separate-stderr rpcopy --exclude '*.tmp' --exclude /cache/ --exclude a/b/clip.mov \
		"testhost:$BATS_TEST_TMPDIR/src" pulled
	assert_success
	# 12 volatile entries, two .tmp files, the top cache directory, clip.mov
	assert_equal "$stderr" "pcopy: 16 excluded entries left out (volatile files, --exclude)"
	assert_equal "$(listing pulled)" "$(listing local)"
	[ ! -e pulled/a/scratch.tmp ] && [ ! -e pulled/cache ] && [ ! -e pulled/a/b/clip.mov ]
	[ -f pulled/a/cache/blob ] && [ -f pulled/a/b/clip.tmp.keep ]
	want=$(printf '#exclude\t*.tmp\t/cache/\ta/b/clip.mov\t.DS_Store\t._*\t.Spotlight-V100')
	want+=$(printf '\t.Trashes\t.fseventsd\t.TemporaryItems\tThumbs.db\tdesktop.ini\tlost+found')
	assert_equal "$(grep '^#exclude' pulled/.ptools-seal)" "$want"
	assert_equal "$(grep '^#exclude' local/.ptools-seal)" "$want"
	seal_ok pulled
}

@test "a pull with --no-default-excludes copies the volatile files; a default pull leaves them out and says so" {
	make_volatile_tree src
	prun --separate-stderr rpcopy --no-default-excludes "testhost:$BATS_TEST_TMPDIR/src" all
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(listing all)" "$(listing src)"
	[ -f all/.DS_Store ] && [ -f all/a/b/.DS_Store ] && [ -f all/._keep.txt ]
	assert_equal "$(grep '^#exclude' all/.ptools-seal)" "#exclude"
	seal_ok all
	prun --separate-stderr rpcopy --no-default-excludes --exclude '*.mov' \
		"testhost:$BATS_TEST_TMPDIR/src" some
	assert_success
	assert_equal "$stderr" "pcopy: 1 excluded entry left out (volatile files, --exclude)"
	[ -f some/.DS_Store ] && [ ! -e some/a/b/clip.mov ] && [ -f some/a/._photo.jpg ]
	prun --separate-stderr rpcopy "testhost:$BATS_TEST_TMPDIR/src" plain
	assert_success
	assert_equal "$stderr" "pcopy: 12 excluded entries left out (volatile files, --exclude)"
	assert_equal "$(listing plain)" "$(find_without_volatile src)"
	[ ! -e plain/.DS_Store ]
}

@test "a pull with --bag and --exclude leaves the entries out of the bag's payload and manifests" {
	make_pull_tree src
	prun rpcopy --bag --exclude '*.tmp' "testhost:$BATS_TEST_TMPDIR/src" bag
	assert_success
	[ ! -e bag/data/a/scratch.tmp ] && [ ! -e bag/data/.DS_Store ] && [ -f bag/data/keep.txt ]
	run grep -c '\.tmp$' bag/manifest-sha256.txt
	assert_output 0
	assert_equal "$(cd bag/data && find . -type f | sed 's|^\./|data/|' | sort)" \
		"$(cut -d' ' -f3- bag/manifest-sha256.txt | sort)"
	prun pverify --bag bag
	assert_success
}

@test "a pull's --exclude patterns are bounded: too many or too long is a usage error" {
	mkdir src
	args=()
	for i in $(seq 1 1016); do args+=(--exclude "p$i"); done
	# 1016 and the 9 default ones: one over the protocol's 1024
	prun rpcopy "${args[@]}" "testhost:$BATS_TEST_TMPDIR/src" out
	assert_failure 2
	assert_output --partial "too many --exclude patterns for a remote SRC"
	prun rpcopy --no-default-excludes "${args[@]}" "testhost:$BATS_TEST_TMPDIR/src" out
	assert_success
	long=$(printf 'x%.0s' $(seq 1 4097))
	prun rpcopy --exclude "$long" "testhost:$BATS_TEST_TMPDIR/src" out2
	assert_failure 2
	assert_output --partial "too long for a remote SRC"
	[ ! -e out2 ]
	# the same patterns with a local SRC are not bounded
	prun pcopy "${args[@]}" --exclude "$long" src out3
	assert_success
}

@test "phash --seal records the patterns in the native seal's comment, sealed over it" {
	make_volatile_tree src
	printf 't' > src/a/t.tmp
	prun phash --seal --exclude '*.tmp' src
	assert_success
	want=$(printf '#exclude\t*.tmp\t.DS_Store\t._*\t.Spotlight-V100\t.Trashes')
	want+=$(printf '\t.fseventsd\t.TemporaryItems\tThumbs.db\tdesktop.ini\tlost+found')
	assert_equal "$(sed -n 2p src/.ptools-seal)" "$want"
	run grep -c 't\.tmp' src/.ptools-seal
	assert_output 0
	assert_equal "$(tail -n1 src/.ptools-seal | cut -f2)" \
		"sha256:$(head -n -1 src/.ptools-seal | sha256sum | cut -c1-64)"
	seal_ok src
	prun phash --seal --no-default-excludes src
	assert_success
	assert_equal "$(sed -n 2p src/.ptools-seal)" "#exclude"
}
