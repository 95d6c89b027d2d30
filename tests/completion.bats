#!/usr/bin/env bats
# SPDX-License-Identifier: 0BSD
# bash completion (completion/ptools.bash): what it offers for a few command
# lines, and that its options and algorithm names are those of the programs'
# --help, so that the two cannot drift apart.
load test_helper

ROOT=$BATS_TEST_DIRNAME/..
COMPLETION=$ROOT/completion/ptools.bash

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# complete_words WORD...: what the completion offers for the last WORD of the
# command line WORD... (the program first), one reply per line. It runs in a
# fresh bash that has sourced the completion, and calls the function that
# complete -F registered for the program, as bash does on a TAB. Give
# "--opt=val" as three words, --opt = val, as bash splits it ('=' is in
# COMP_WORDBREAKS), unless the test is about the one-word form.
complete_words() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	bash -c '
		source "$1" || exit 3
		shift
		spec=$(complete -p "$1") || exit 4
		func=${spec#*-F }
		func=${func%% *}
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		"$func" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"
	' complete_words "$COMPLETION" "$@"
}

# offered WORD: whether WORD is one of the lines of the last run's output
# (assert_line would take a WORD such as -a for one of its own options).
offered() {
	printf '%s\n' "${lines[@]}" | grep -qxF -- "$1"
}

# help_long PROG: the long options PROG --help lists in its option lines, one
# per line, sorted (not those named in passing in the text, as phash's "as
# --tag" is sha256sum's).
help_long() {
	"$1" --help | grep -oE '^ +(-[^ ,], )?--[a-z0-9][a-z0-9-]*' |
		grep -oE -- '--[a-z0-9-]+$' | sort -u
}

# help_short PROG: the short options of PROG --help's option lines, sorted.
help_short() {
	"$1" --help | grep -oE '^ +-[A-Za-z0-9],' | tr -d ' ,' | sort -u
}

# help_algorithms: the algorithm names phash --help lists under -a.
help_algorithms() {
	phash --help | awk '/--algorithm=/ { sub(/.*\): */, ""); on = 1 }
		/^  -j/ { on = 0 } on' | tr -s ' \n' '\n\n' | sed '/^$/d'
}

@test "completion: pcopy --r<TAB> offers --readers=, --remote-pcopy=, --resume, --rollback and --rsh=" {
	run complete_words pcopy --r
	assert_success
	assert_output "$(printf '%s\n' --readers= --resume --rollback --rsh= --remote-pcopy=)"
	run complete_words pcopy --res
	assert_success
	assert_output --resume
}

@test "completion: phash -a sh<TAB> offers the sha algorithms, as phash --help names them" {
	run complete_words phash -a sh
	assert_success
	assert_output "$(help_algorithms | grep '^sh')"
	assert_line sha256
	assert_line sha3-512
	refute_line md5
}

@test "completion: --algorithm=VALUE completes the value, split at '=' or not" {
	run complete_words phash --algorithm = xxh1
	assert_success
	assert_output xxh128
	run complete_words phash --algorithm=xxh1
	assert_success
	assert_output --algorithm=xxh128
	run complete_words pcopy --algo = bl
	assert_success
	assert_output "$(printf '%s\n' blake2b blake2s)"
	run complete_words pverify -a sha512-
	assert_success
	assert_output sha512-256
}

@test "completion: a comma-separated algorithm list completes its last name" {
	run complete_words phash -a sha256,xxh
	assert_success
	assert_output "$(printf 'sha256,%s\n' xxh32 xxh64 xxh3 xxh128)"
	run complete_words pcopy -a md5,sha1,b
	assert_success
	assert_output "$(printf 'md5,sha1,%s\n' blake2b blake2s)"
}

@test "completion: phash -f offers the three formats; pfind's --fields and -type their lists" {
	run complete_words phash --format = ""
	assert_success
	assert_output "$(printf '%s\n' records gnu bsd)"
	run complete_words pfind --fields type,m
	assert_success
	assert_output "$(printf 'type,%s\n' mtime mode)"
	run complete_words pfind . -type f,
	assert_success
	assert_line f,d
	assert_line f,l
}

@test "completion: pcopy --seal= offers the default seal name and seals here" {
	touch old.ptools-seal notes
	run complete_words pcopy --seal = ""
	assert_success
	assert_output "$(printf '%s\n' .ptools-seal old.ptools-seal)"
}

@test "completion: operands are directories for pfind and pcopy, files for phash; pverify -f a file, -C a directory" {
	mkdir dir1 dir2
	touch file1
	run complete_words pcopy ""
	assert_success
	assert_output "$(printf '%s\n' dir1 dir2)"
	run complete_words pcopy --to = d
	assert_success
	assert_output "$(printf '%s\n' dir1 dir2)"
	run complete_words pfind di
	assert_success
	assert_output "$(printf '%s\n' dir1 dir2)"
	run complete_words phash f
	assert_success
	assert_output file1
	run complete_words pverify -f fi
	assert_success
	assert_output file1
	run complete_words pverify -C ""
	assert_success
	assert_output "$(printf '%s\n' dir1 dir2)"
	run complete_words pverify --audit d
	assert_success
	assert_output "$(printf '%s\n' dir1 dir2)"
}

@test "completion: every long option of each program's --help is offered, and no other" {
	local prog
	for prog in pfind phash pverify pcopy; do
		run help_long "$prog"
		assert_success
		[ "${#lines[@]}" -gt 5 ] || fail "$prog --help: found no long options"
		local want=$output
		run complete_words "$prog" --
		assert_success
		run bash -c 'printf "%s\n" "$1" | sed "s/=\$//" | sort -u' _ "$output"
		[ "$output" = "$want" ] ||
			fail "$prog: completion and --help differ (< completion, > help):
$(diff <(printf '%s\n' "$output") <(printf '%s\n' "$want"))"
	done
}

@test "completion: every short option of each program's --help is offered" {
	local prog opt
	for prog in pfind phash pverify pcopy; do
		run help_short "$prog"
		assert_success
		[ "${#lines[@]}" -gt 1 ] || fail "$prog --help: found no short options"
		local want=("${lines[@]}")
		run complete_words "$prog" -
		assert_success
		for opt in "${want[@]}"; do
			offered "$opt" || fail "$prog: $opt is not offered"
		done
	done
}

@test "completion: every primary and operator of pfind --help's expression is offered" {
	local word
	run bash -c "pfind --help | sed -n '/^Expression/,/^Exit/p' |
		grep -oE '(^|[ (|[])-[a-z][a-z_]*' | sed 's/^[ (|[]//' | sort -u"
	assert_success
	[ "${#lines[@]}" -gt 20 ] || fail "pfind --help: found no expression"
	local want=("${lines[@]}")
	run complete_words pfind . -
	assert_success
	for word in "${want[@]}"; do
		offered "$word" || fail "pfind: $word is not offered"
	done
}

@test "completion: the algorithm names are phash --help's and the registry's, and phash takes each" {
	run help_algorithms
	assert_success
	[ "${#lines[@]}" -gt 10 ] || fail "phash --help: found no algorithm list"
	local help_list=$output
	# The registry: the first column of libcommon/hashreg.c's table.
	run sed -n 's/^[[:space:]]*{"\([a-z0-9-]*\)", .*BACKEND_.*/\1/p' "$ROOT/libcommon/hashreg.c"
	assert_success
	assert_output "$help_list"
	run complete_words phash -a ""
	assert_success
	assert_output "$help_list"
	echo data > file
	prun phash -a "$(printf '%s' "$help_list" | tr '\n' ',')" file
	assert_success
}

@test "completion: the file sources cleanly and registers one complete -F per program" {
	# shellcheck disable=SC2016
	run bash -c 'source "$1" && complete -p pfind phash pverify pcopy' _ "$COMPLETION"
	assert_success
	assert_line "complete -F _ptools_pfind pfind"
	assert_line "complete -F _ptools_phash phash"
	assert_line "complete -F _ptools_pverify pverify"
	assert_line "complete -F _ptools_pcopy pcopy"
}

@test "completion: make install puts it under each program's name in BASHCOMPDIR; make uninstall removes it" {
	local dest=$BATS_TEST_TMPDIR/root dir prog
	dir=$dest/usr/share/bash-completion/completions
	# -o: use the binaries under test as they are, whichever build made them.
	# Without what an enclosing make (make check's O=, BIN=) passes down.
	run env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$ROOT" --no-print-directory -o "$PTOOLS_BIN/pfind" -o "$PTOOLS_BIN/phash" \
		-o "$PTOOLS_BIN/pverify" -o "$PTOOLS_BIN/pcopy" BIN="$PTOOLS_BIN" \
		DESTDIR="$dest" PREFIX=/usr install
	assert_success
	for prog in pfind phash pverify pcopy; do
		cmp "$COMPLETION" "$dir/$prog" || fail "$dir/$prog is not completion/ptools.bash"
		assert_file_exists "$dest/usr/bin/$prog"
		assert_file_exists "$dest/usr/share/man/man1/$prog.1"
	done
	run env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$ROOT" --no-print-directory DESTDIR="$dest" PREFIX=/usr uninstall
	assert_success
	run find "$dest" ! -type d
	assert_success
	assert_output ""
}
