#!/usr/bin/env bats
# SPDX-License-Identifier: 0BSD
# pcopy's remote copies (issue 19): [user@]host:path operands reached
# through a remote shell that runs "pcopy --server" there. Most tests use
# tests/rsh-standin, a local stand-in for ssh (as rsync's own suite does)
# that relays through pipes of its own, so that killing it drops the
# "connection"; host names such as testhost need no DNS, and the "remote"
# side is this machine, where a test can look at it. One test goes through a
# real sshd on 127.0.0.1 (tests/sshd.bash). The first tests check the
# stand-in and the sshd themselves.

load test_helper
load sshd
bats_require_minimum_version 1.5.0

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	T=$BATS_TEST_TMPDIR
	MOUNTED= SSHD_DIR= HOLDER= pid=
	STANDIN=$BATS_TEST_DIRNAME/rsh-standin
	# The pcopy under test (a valgrind wrapper with PTOOLS_VALGRIND=1), run
	# by absolute path on the "remote" side.
	RPCOPY=$(command -v pcopy)
}

teardown() {
	local f p
	# What a failed test may have left running, by pid: the client, the
	# stand-in, the remote side (its whole process group, which the
	# stand-in made a session of its own), a process holding a fifo open.
	[ -n "${pid:-}" ] && ! process_gone "$pid" && kill -KILL "$pid" 2>/dev/null
	for f in standin.pid server.pid; do
		[ -s "$T/$f" ] || continue
		p=$(cat "$T/$f")
		process_gone "$p" && continue
		if [ "$f" = server.pid ] && [ "$(process_group "$p")" = "$p" ]; then
			kill -KILL -- "-$p" 2>/dev/null
		else
			kill -KILL "$p" 2>/dev/null
		fi
		wait_gone "$p" 10
	done
	[ -n "${HOLDER:-}" ] && kill "$HOLDER" 2>/dev/null
	sshd_stop
	[ -n "${SSHD_DIR:-}" ] && rm -rf "$SSHD_DIR"
	if [ -n "${MOUNTED:-}" ]; then
		umount "$MOUNTED" 2>/dev/null || umount -l "$MOUNTED" 2>/dev/null || true
	fi
	return 0
}

# rpcopy ARG...: pcopy ARG... with the stand-in as its remote shell and the
# pcopy under test as the remote one, given 120 s (a hung run then fails
# its test with 124 instead of holding up the suite), and without bats'
# descriptor 3 (a stand-in or remote side left running with it would hold
# the whole run open).
rpcopy() {
	timeout -k 5 120 pcopy -e "$STANDIN" --remote-pcopy "$RPCOPY" "$@" 3>&-
}

# process_gone PID: whether PID has ended: no such process, or a zombie (a
# remote side orphaned by a killed stand-in stays one where nothing reaps
# orphans).
process_gone() {
	local state
	state=$(sed -n 's/^.*) \(.\) .*$/\1/p' "/proc/$1/stat" 2>/dev/null) || return 0
	[ -z "$state" ] || [ "$state" = Z ] || [ "$state" = X ]
}

# process_group PID: PID's process group id.
process_group() {
	sed -n 's/^.*) . [0-9]* \([0-9]*\) .*$/\1/p' "/proc/$1/stat" 2>/dev/null
}

# wait_gone PID [SECONDS]: wait until PID has ended (60 s at most); 1 if not.
wait_gone() {
	local i
	for ((i = 0; i < ${2:-60} * 10; i++)); do
		process_gone "$1" && return 0
		sleep 0.1
	done
	return 1
}

# finish PID: wait for the background pcopy PID (60 s at most, then kill -9
# it) and set status to its exit status.
finish() {
	wait_gone "$1" 60 || kill -KILL "$1" 2>/dev/null
	status=0
	wait "$1" || status=$?
}

# started_mid_copy DEST: fail the test, showing ./err, unless the copy
# start_slow_pcopy started has journaled into DEST (it gives up after 20 s).
# grow_past_buffers DIR: 64 KiB more in every file of DIR: 25 MiB in all,
# more than the pipes and the stand-in between client and server hold, so a
# client killed mid-copy cannot have sent everything (and its COMMIT) yet.
# (A client that has sent everything leaves the remote side to seal.)
grow_past_buffers() {
	/usr/bin/python3 -c 'import os, sys
for p in sys.argv[1:]:
    with open(p, "ab") as f:
        f.write(os.urandom(65536))' "$1"/d*/f*
}

started_mid_copy() {
	[ -f "$1/.pcopy-journal" ] || fail "no copy under way into $1; pcopy said: $(cat err)"
}

# marker_rsh: make ./marker-rsh, a remote shell that leaves ./rsh-ran and
# then does what the stand-in does: for proving that no remote shell started.
marker_rsh() {
	printf '#!/bin/sh\n: > "%s/rsh-ran"\nexec "%s" "$@"\n' "$T" "$STANDIN" > "$T/marker-rsh"
	chmod +x "$T/marker-rsh"
}

# --- The stand-in and the sshd themselves ------------------------------------

# Intent: the stand-in is a faithful pipe: bytes both ways, large data
# unchanged, the command's status (127 included), run by a shell.
@test "rsh-standin relays both ways, 100 MB unchanged, and exits with its command's status, 127 included" {
	prun sh -c 'printf data | "$1" testhost cat' _ "$STANDIN"
	assert_success
	assert_output data
	prun "$STANDIN" -l someone testhost echo 'two  words' '$((1 + 2))'
	assert_success
	assert_output "two words 3"
	head -c 100000000 /dev/urandom > big
	prun sh -c '"$1" testhost cat < big > back' _ "$STANDIN"
	assert_success
	cmp big back
	rm -f big back
	prun "$STANDIN" testhost 'exit 3'
	assert_failure 3
	# (run, not prun: these statuses above 125 are no crash)
	run -127 "$STANDIN" testhost /nonexistent/pcopy --server
	assert_output --partial "not found"
	run -255 "$STANDIN" testhost
	# The command's end ends the stand-in, even while its input stays open.
	mkfifo in
	sleep 60 > in 3>&- &
	HOLDER=$!
	prun timeout 10 "$STANDIN" testhost 'echo done' < in
	assert_success
	assert_output done
}

# Intent: killing the stand-in -9 is a dropped connection: the command sees
# the end of its input, the client the end of the command's output.
@test "killing rsh-standin with -9 gives its command end of input and its client end of output, as a dropped connection" {
	mkfifo in
	# Holds the stand-in's stdin open: only the kill can end the command's input.
	sleep 60 > in 3>&- &
	HOLDER=$!
	STANDIN_SELF_PIDFILE=$T/standin.pid STANDIN_PIDFILE=$T/server.pid \
		"$STANDIN" testhost "cat > /dev/null; echo eof > '$T/seen'" < in 3>&- &
	pid=$!
	for ((i = 0; i < 100; i++)); do [ -s server.pid ] && break; sleep 0.1; done
	assert [ -s server.pid ]
	assert_equal "$(cat standin.pid)" "$pid"
	kill -KILL "$pid"
	finish "$pid"
	assert_equal "$status" 137
	wait_gone "$(cat server.pid)" 10
	assert_equal "$(cat seen)" eof
	kill "$HOLDER"
	HOLDER=
	rm -f server.pid standin.pid

	# The client's side: a command that writes, then runs on.
	coproc RSH { STANDIN_SELF_PIDFILE=$T/standin.pid STANDIN_PIDFILE=$T/server.pid \
		exec "$STANDIN" testhost 'echo started; exec sleep 60' </dev/null 3>&-; }
	pid=$RSH_PID
	IFS= read -r -t 10 line <&"${RSH[0]}"
	assert_equal "$line" started
	kill -KILL "$(cat standin.pid)"
	got=0
	IFS= read -r -t 10 line <&"${RSH[0]}" || got=$?
	# 1: end of file; above 128: still waiting after 10 s
	assert_equal "$got" 1
	finish "$pid"
	# the command itself was not killed: only its connection dropped
	assert [ -d "/proc/$(cat server.pid)" ]
}

# Intent: STANDIN_BANNER plays a noisy login script: its line comes first.
@test "rsh-standin prints STANDIN_BANNER on stdout before its command's output" {
	STANDIN_BANNER='Welcome to host' prun "$STANDIN" testhost echo hi
	assert_success
	assert_output $'Welcome to host\nhi'
}

# Intent: sshd.bash's interface: a private sshd that ssh and rsync get into
# with PTOOLS_TEST_SSH, on 127.0.0.1 only, stopped by its pid.
@test "sshd_start runs a private sshd on 127.0.0.1 that ssh and rsync get into, and sshd_stop leaves none" {
	SSHD_DIR=$(mktemp -d /tmp/ptsshd.XXXXXX)
	sshd_start "$SSHD_DIR" 2> sshd-start.err || skip "no test sshd here: $(tail -n 1 sshd-start.err)"
	started=$SSHD_PID
	assert [ -n "$SSHD_PORT" ]
	prun $PTOOLS_TEST_SSH 127.0.0.1 echo hi
	assert_success
	assert_output hi
	# A clean remote shell: nothing before a command's own output.
	prun $PTOOLS_TEST_SSH 127.0.0.1 true
	assert_success
	assert_output ""
	grep -q "Server listening on 127.0.0.1 port $SSHD_PORT" "$SSHD_DIR/sshd.log"
	assert_equal "$(grep -c 'Server listening' "$SSHD_DIR/sshd.log")" 1
	if command -v rsync >/dev/null; then
		make_tree src
		prun rsync -a -e "$PTOOLS_TEST_SSH" src/ "127.0.0.1:$T/rsynced/"
		assert_success
		diff -r src rsynced
	fi
	sshd_stop
	assert process_gone "$started"
	assert [ -z "${SSHD_PID:-}" ]
	assert [ -z "${PTOOLS_TEST_SSH:-}" ]
}

# --- Copies ------------------------------------------------------------------

# Intent: the basic push: the remote side makes the same tree and seals it.
@test "pcopy pushes a mixed tree to host:DEST: the same tree there, sealed" {
	make_mixed_tree src
	prun rpcopy src "testhost:$T/one"
	assert_success
	assert_equal "$(tree_listing src)" "$(tree_listing one)"
	seal_ok one
}

# Intent: the basic pull: one remote source to two local destinations.
@test "pcopy pulls host:SRC to two local destinations, both the same tree, sealed" {
	make_mixed_tree src
	prun rpcopy "testhost:$T/src" one two
	assert_success
	assert_equal "$(tree_listing src)" "$(tree_listing one)"
	assert_equal "$(tree_listing src)" "$(tree_listing two)"
	seal_ok one
	seal_ok two
}

# Intent: read once, write many holds remotely: the remote side opens each
# source file once for two destinations (traced with strace there).
@test "pcopy pulling host:SRC to two destinations opens each source file once on the remote side" {
	command -v strace >/dev/null || skip "strace not installed"
	strace -f -qq -z -e trace=none -o /dev/null true 2>/dev/null || skip "strace cannot trace here"
	make_mixed_tree src
	# An ASan build's LeakSanitizer does not work under ptrace.
	export ASAN_OPTIONS=detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}
	prun timeout -k 5 120 pcopy -e "$STANDIN" \
		--remote-pcopy "strace -f -qq -z -e trace=open,openat,openat2 -o $T/trace $RPCOPY" \
		"testhost:$T/src" one two 3>&-
	assert_success
	seal_ok one
	seal_ok two
	assert_equal "$(tree_listing src)" "$(tree_listing one)"
	# successful opens (-z) of sub/deeper/medium, by name or by path
	assert_equal "$(grep -E '["/]medium"' trace | grep -vc 'O_PATH')" 1
}

# Intent: local and remote destinations (two hosts) in one run.
@test "pcopy SRC LOCAL host:REMOTE otherhost:REMOTE2 copies to all three in one run, all sealed" {
	make_mixed_tree src
	prun rpcopy src local "testhost:$T/remote" "otherhost:$T/remote2"
	assert_success
	for d in local remote remote2; do
		assert_equal "$(tree_listing src)" "$(tree_listing "$d")"
		seal_ok "$d"
	done
}

# Intent: --to host:DEST takes records on stdin, as a local --to does.
@test "pfind SRC | pcopy --from SRC --to host:DEST --to LOCAL copies the records to both, sealed" {
	make_mixed_tree src
	prun sh -c 'pfind "$1/src" | timeout -k 5 120 pcopy -e "$2" --remote-pcopy "$3" \
		--from "$1/src" --to "testhost:$1/one" --to "$1/local"' _ "$T" "$STANDIN" "$RPCOPY" 3>&-
	assert_success
	seal_ok one
	seal_ok local
	# (the root itself is not a record: its line is left out)
	assert_equal "$(tree_listing src | grep -v ' \.$')" "$(tree_listing one | grep -v ' \.$')"
	assert_equal "$(tree_listing src | grep -v ' \.$')" "$(tree_listing local | grep -v ' \.$')"
}

# Intent: every byte of a name survives the protocol both ways, and paths
# past PATH_MAX too.
@test "awkward names go to host:DEST and come back byte for byte" {
	make_awkward_tree src
	prun rpcopy src "testhost:$T/there"
	assert_success
	seal_ok there
	assert_equal "$(tree_listing src)" "$(tree_listing there)"
	prun rpcopy "testhost:$T/there" back
	assert_success
	seal_ok back
	assert_equal "$(tree_listing src)" "$(tree_listing back)"
}

# Intent: a remote path never reaches a shell: newline, tab, quotes, $(),
# backquotes, ;, |, &, > and a second ':' are taken literally, both ways.
@test "a remote path with a newline, a tab, quotes, \$(...), ; and a second ':' is taken literally, never by a shell" {
	make_tree src
	odd=$'d\nnew\tline'
	prun rpcopy src "testhost:$T/$odd"
	assert_success
	seal_ok "$odd"
	assert_equal "$(tree_listing src)" "$(tree_listing "$odd")"
	evil="q\$(touch pwned1);touch pwned2;\`touch pwned3\` it's \"x\" | touch pwned4 & >pwned5 :x *"
	prun rpcopy src "testhost:$T/$evil"
	assert_success
	assert [ -d "$T/$evil" ]
	seal_ok "$T/$evil"
	prun rpcopy "testhost:$T/$evil" back
	assert_success
	assert_equal "$(tree_listing src)" "$(tree_listing back)"
	# The remote side runs in this directory: no command in the name ran.
	assert_equal "$(find "$T" -name 'pwned*' ! -path "$T/q*")" ""
	assert_equal "$(find / -xdev -maxdepth 1 -name 'pwned*')" ""
}

# Intent: a banner before pcopy's own first bytes is caught, named, and
# fails only that destination; the remote side ends and changed nothing.
@test "a remote shell that prints a banner fails that destination ('not clean'), the local one is sealed, nothing hangs" {
	make_mixed_tree src
	mkdir one
	printf 'keep\n' > one/keep
	snap=$(snapshot one)
	export STANDIN_BANNER='Welcome to host' STANDIN_PIDFILE=$T/server.pid
	prun timeout -k 5 60 pcopy -e "$STANDIN" --remote-pcopy "$RPCOPY" src "testhost:$T/one" local 3>&-
	assert_failure 1
	assert_output --partial "pcopy: testhost: remote shell is not clean: got 'Welc"
	seal_ok local
	wait_gone "$(cat server.pid)" 30
	assert_equal "$(snapshot one)" "$snap"
}

# Intent: a remote host without pcopy (its shell exits 127) is named as
# such and fails only that destination.
@test "a missing remote pcopy fails that destination with 'pcopy not found on testhost', exit 1, no hang" {
	make_mixed_tree src
	prun timeout -k 5 60 pcopy -e "$STANDIN" --remote-pcopy /nonexistent/pcopy src "testhost:$T/one" local 3>&-
	assert_failure 1
	assert_output --partial "pcopy not found on testhost"
	seal_ok local
	assert [ ! -e one ]
}

# Intent: the combinations the spec refuses are usage errors, found before
# any remote shell starts or anything is made.
@test "a remote SRC with a remote DEST, and --delete, -n or --resume with a remote operand, exit 2 and start no remote shell" {
	make_mixed_tree src
	marker_rsh
	R=(-e "$T/marker-rsh" --remote-pcopy "$RPCOPY")
	prun timeout -k 5 60 pcopy "${R[@]}" "testhost:$T/src" "otherhost:$T/x1" 3>&-
	assert_failure 2
	prun timeout -k 5 60 pcopy "${R[@]}" "testhost:$T/src" x2 "testhost:$T/x3" 3>&-
	assert_failure 2
	prun timeout -k 5 60 pcopy "${R[@]}" --delete src "testhost:$T/x4" 3>&-
	assert_failure 2
	prun timeout -k 5 60 pcopy "${R[@]}" --delete "testhost:$T/src" x5 3>&-
	assert_failure 2
	prun timeout -k 5 60 pcopy "${R[@]}" -n src "testhost:$T/x6" 3>&-
	assert_failure 2
	prun timeout -k 5 60 pcopy "${R[@]}" --dry-run "testhost:$T/src" x7 3>&-
	assert_failure 2
	prun timeout -k 5 60 pcopy "${R[@]}" --resume src "testhost:$T/x8" 3>&-
	assert_failure 2
	prun timeout -k 5 60 pcopy "${R[@]}" --resume src x9 "testhost:$T/x10" 3>&-
	assert_failure 2
	# (-n with records is allowed locally; --delete is not)
	prun sh -c 'echo a | timeout -k 5 60 pcopy -e "$1" --remote-pcopy "$2" -n --from src --to "testhost:$3/x11"' \
		_ "$T/marker-rsh" "$RPCOPY" "$T" 3>&-
	assert_failure 2
	assert [ ! -e rsh-ran ]
	assert_equal "$(ls -d x* 2>/dev/null)" ""
}

# Intent: the remote shell command line is rsync's: -e words split as a
# shell would (quotes kept, nothing expanded), then -l USER HOST and the
# remote pcopy with --server, and no path of the copy on it; PTOOLS_RSH is
# the default and --rsh the long form.
@test "pcopy runs CMD-WORDS -l USER HOST 'PCOPY --server', splitting -e as a shell would; PTOOLS_RSH is the default, --rsh the long form" {
	make_tree src
	mkdir "rsh dir"
	printf '#!/bin/sh\nprintf "%%s\\0" "$@" > "%s/wrap-argv"\nshift 3\nexec "%s" "$@"\n' "$T" "$STANDIN" > "rsh dir/wrap"
	chmod +x "rsh dir/wrap"
	prun timeout -k 5 120 pcopy -e "'$T/rsh dir/wrap' 'a b' \"c d\" \$HOME" --remote-pcopy "$RPCOPY" \
		src "someone@testhost:$T/one" 3>&-
	assert_success
	seal_ok one
	mapfile -d '' -t argv < wrap-argv
	assert_equal "${argv[*]:0:6}" 'a b c d $HOME -l someone testhost'
	assert_equal "${#argv[0]}|${#argv[1]}|${argv[2]}" '3|3|$HOME'
	# what the remote shell runs: the remote pcopy and --server, nothing more
	assert_equal "${argv[*]:6}" "$RPCOPY --server"
	# PTOOLS_RSH when there is no -e; -e over PTOOLS_RSH; --rsh=CMD
	PTOOLS_RSH=$STANDIN prun timeout -k 5 120 pcopy --remote-pcopy "$RPCOPY" src "testhost:$T/two" 3>&-
	assert_success
	seal_ok two
	PTOOLS_RSH=/nonexistent/rsh prun rpcopy src "testhost:$T/three"
	assert_success
	seal_ok three
	prun timeout -k 5 120 pcopy --rsh="$STANDIN" --remote-pcopy="$RPCOPY" src "testhost:$T/four" 3>&-
	assert_success
	seal_ok four
}

# Intent: rsync's rule for what is remote: a '/' before the first ':' (or
# nothing before it) keeps an operand local.
@test "an operand with a '/' before its first ':' (./host:x, /abs:b, a/b:c) is local, and no remote shell starts" {
	make_tree src
	cp -a src "local:src"
	mkdir a
	marker_rsh
	prun timeout -k 5 60 pcopy -e "$T/marker-rsh" --remote-pcopy "$RPCOPY" src ./testhost:x "$T/abs:b" a/b:c 3>&-
	assert_success
	for d in testhost:x abs:b a/b:c; do
		seal_ok "$d"
		assert_equal "$(tree_listing src)" "$(tree_listing "$d")"
	done
	prun timeout -k 5 60 pcopy -e "$T/marker-rsh" --remote-pcopy "$RPCOPY" ./local:src pulled 3>&-
	assert_success
	seal_ok pulled
	assert [ ! -e rsh-ran ]
}

# --- Interruptions -------------------------------------------------------------

# Intent: a connection that drops mid-copy: the server sees the end of its
# input and rolls its destination back by itself; the client fails that
# destination and seals the local one.
@test "the connection dropped mid-copy (remote shell killed -9): the remote side rolls DEST back itself, the local DEST is sealed" {
	build_shim
	make_many src 400
	grow_past_buffers src
	mkdir one
	printf 'keep\n' > one/keep
	mkdir one/d1
	printf 'old\n' > one/d1/old
	touch -d '2010-01-01' one/d1 one
	snap=$(snapshot one)
	export STANDIN_PIDFILE=$T/server.pid STANDIN_SELF_PIDFILE=$T/standin.pid
	start_slow_pcopy one -e "$STANDIN" --remote-pcopy "$RPCOPY" src "testhost:$T/one" local
	unset STANDIN_PIDFILE STANDIN_SELF_PIDFILE
	started_mid_copy one
	server=$(cat server.pid)
	kill -KILL "$(cat standin.pid)"
	wait_gone "$server" 60 || fail "the remote pcopy still runs 60 s after its connection dropped"
	assert_equal "$(snapshot one)" "$snap"
	assert_equal "$(find one -name '.pcopy*')" ""
	finish "$pid"
	assert_equal "$status" 1
	assert_contains "$(cat err)" "testhost:$T/one"
	seal_ok local
	assert_equal "$(tree_listing src)" "$(tree_listing local)"
}

# Intent: the client killed mid-copy: the remote side sees the end of its
# input and rolls back by itself.
@test "the client killed -9 mid-copy: the remote side sees the end of its input and rolls DEST back itself" {
	build_shim
	make_many src 400
	grow_past_buffers src
	mkdir one
	printf 'keep\n' > one/keep
	touch -d '2010-01-01' one
	snap=$(snapshot one)
	export STANDIN_PIDFILE=$T/server.pid
	start_slow_pcopy one -e "$STANDIN" --remote-pcopy "$RPCOPY" src "testhost:$T/one"
	unset STANDIN_PIDFILE
	started_mid_copy one
	server=$(cat server.pid)
	kill -KILL "$pid"
	finish "$pid"
	assert_equal "$status" 137
	wait_gone "$server" 60 || fail "the remote pcopy still runs 60 s after its client was killed"
	assert_equal "$(snapshot one)" "$snap"
	assert_equal "$(find one -name '.pcopy*')" ""
}

# Intent: the remote pcopy killed -9 leaves its journal on the remote
# disk; a new run is refused there, and --rollback host:DEST undoes it.
@test "the remote pcopy killed -9 mid-copy leaves its journal; pcopy --rollback host:DEST restores DEST exactly" {
	build_shim
	make_many src 400
	mkdir one
	printf 'keep\n' > one/keep
	mkdir one/d1
	printf 'old\n' > one/d1/old
	touch -d '2010-01-01' one/d1 one
	snap=$(snapshot one)
	export STANDIN_PIDFILE=$T/server.pid
	start_slow_pcopy one -e "$STANDIN" --remote-pcopy "$RPCOPY" src "testhost:$T/one"
	unset STANDIN_PIDFILE
	started_mid_copy one
	server=$(cat server.pid)
	assert_equal "$(process_group "$server")" "$server"
	# the remote side's whole process group: the shell and the pcopy it runs
	kill -KILL -- "-$server"
	finish "$pid"
	assert_equal "$status" 1
	assert [ -f one/.pcopy-journal ]
	# an unfinished journal blocks a new run into that destination
	prun rpcopy src "testhost:$T/one"
	assert_failure 1
	assert_output --partial "rollback"
	prun rpcopy --rollback "testhost:$T/one"
	assert_success
	assert_equal "$(snapshot one)" "$snap"
	assert_equal "$(find one -name '.pcopy*')" ""
}

# Intent: --rollback of a remote destination with nothing to undo says so.
@test "pcopy --rollback host:DEST with no journal there fails with 1 and says so" {
	mkdir one
	printf 'keep\n' > one/keep
	snap=$(snapshot one)
	prun rpcopy --rollback "testhost:$T/one"
	assert_failure 1
	assert_output --partial "testhost:$T/one"
	assert_output --partial "no journal"
	assert_equal "$(snapshot one)" "$snap"
	prun rpcopy --rollback "testhost:$T/nonexistent"
	assert_failure 1
	assert_output --partial "testhost:$T/nonexistent"
	assert [ ! -e nonexistent ]
}

# --- Failing remote destinations ------------------------------------------------

# Intent: the remote side never writes through a symlink planted in its
# destination, and the failure names the remote destination.
@test "a symlink planted in a remote destination is never followed: the outside dir is untouched, that destination fails naming host:DEST" {
	make_mixed_tree src
	mkdir outside one
	ln -s "$T/outside" one/sub
	prun rpcopy src "testhost:$T/one" local
	assert_failure 1
	assert_output --partial "testhost:$T/one"
	assert_equal "$(ls -A outside)" ""
	seal_ok local
}

# Intent: ENOSPC on the remote disk: that destination rolled back exactly,
# the local one sealed, exit 1.
@test "ENOSPC on a remote destination rolls it back exactly while the local one is sealed" {
	make_mixed_tree src
	head -c 3000000 /dev/urandom > src/big
	mkdir small
	if ! mount -t tmpfs -o size=2m tmpfs small 2>/dev/null; then
		skip "cannot mount a tmpfs here"
	fi
	MOUNTED=$T/small
	printf 'was here before\n' > small/keep
	mkdir small/sub
	printf 'old\n' > small/sub/old
	touch -d '2010-01-01' small/sub small
	snap=$(snapshot small)
	prun rpcopy src "testhost:$T/small" local
	assert_failure 1
	assert_output --partial "testhost:$T/small"
	assert_output --partial "No space left on device"
	assert_equal "$(snapshot small)" "$snap"
	seal_ok local
	assert_equal "$(tree_listing src)" "$(tree_listing local)"
}

# Intent: no overwrite without --force on the remote side either; --force
# replaces there.
@test "a file already in a remote destination is not replaced without --force, and is with --force" {
	make_mixed_tree src
	mkdir one
	printf 'precious\n' > one/a
	snap=$(snapshot one)
	prun rpcopy src "testhost:$T/one"
	assert_failure 1
	assert_output --partial "pcopy: testhost:$T/one/a: "
	assert_output --partial "not replaced without --force"
	assert_equal "$(snapshot one)" "$snap"
	prun rpcopy --force src "testhost:$T/one"
	assert_success
	cmp src/a one/a
	seal_ok one
}

# --- Options that keep their local meaning --------------------------------------

# Intent: -p keeps owner, group, set-id modes and mtimes, pushed and pulled.
@test "pcopy -p keeps owner, group, mode and mtime both ways" {
	make_mixed_tree src
	chown 1234:2345 src/sub/b src/sub/deeper
	chmod 4755 src/sub/b
	touch -d '2002-03-04 05:06:07.987654321' src/sub/b
	prun rpcopy -p src "testhost:$T/pushed"
	assert_success
	prun rpcopy -p "testhost:$T/src" pulled
	assert_success
	for d in pushed pulled; do
		for f in a sub/b sub/deeper sub; do
			assert_equal "$d $f $(stat -c '%u:%g %a %.9Y' "$d/$f")" "$d $f $(stat -c '%u:%g %a %.9Y' "src/$f")"
		done
		seal_ok "$d"
	done
	assert_equal "$(stat -c %u:%g pushed/sub/b)" 1234:2345
}

# Intent: -H links what is linked in the source, and a sparse file stays
# sparse, pushed and pulled.
@test "pcopy -H keeps hard links and sparse files stay sparse both ways" {
	make_mixed_tree src
	prun rpcopy -H src "testhost:$T/pushed"
	assert_success
	prun rpcopy -H "testhost:$T/src" pulled
	assert_success
	for d in pushed pulled; do
		assert_equal "$d $(stat -c %i "$d/a")" "$d $(stat -c %i "$d/sub/hardlink-to-a")"
		# 8 MiB long, one block of data
		assert [ "$(du -k "$d/sparse" | cut -f1)" -lt 1000 ]
		cmp src/sparse "$d/sparse"
		assert_equal "$(tree_listing src)" "$(tree_listing "$d")"
		seal_ok "$d"
	done
}

# Intent: --verify and --fsync are accepted remotely and seal; --verify
# really reads the remote copy back (a corrupting remote disk is caught).
@test "pcopy --verify --fsync works with remote operands, and --verify catches a remote disk that stores other bytes" {
	make_mixed_tree src
	prun rpcopy --verify --fsync src "testhost:$T/one" local
	assert_success
	seal_ok one
	seal_ok local
	prun rpcopy --verify --fsync "testhost:$T/src" pulled
	assert_success
	seal_ok pulled
	build_shim
	mkdir bad
	snap=$(snapshot bad)
	# the shim reaches the remote side through the remote shell's environment
	export LD_PRELOAD=$T/eio.so EIO_SHIM_PREFIX=$T/bad EIO_SHIM_SPARE=.pcopy-journal EIO_SHIM_CORRUPT=1
	prun rpcopy --verify src "testhost:$T/bad" good
	unset LD_PRELOAD EIO_SHIM_PREFIX EIO_SHIM_SPARE EIO_SHIM_CORRUPT
	assert_failure 1
	assert_output --partial "read back differs"
	assert_output --partial "testhost:$T/bad"
	assert_equal "$(snapshot bad)" "$snap"
	seal_ok good
}

# Intent: --update replaces on the remote side only what differs.
@test "pcopy --update on a remote destination replaces only what differs and seals everything" {
	make_mixed_tree src
	prun rpcopy src "testhost:$T/one"
	assert_success
	ino_a=$(stat -c %i one/a)
	ino_b=$(stat -c %i one/sub/b)
	printf 'changed\n' > src/sub/b
	prun rpcopy --update src "testhost:$T/one"
	assert_success
	assert_equal "$(stat -c %i one/a)" "$ino_a"
	assert [ "$(stat -c %i one/sub/b)" != "$ino_b" ]
	cmp src/sub/b one/sub/b
	seal_ok one
}

# --- A real ssh -----------------------------------------------------------------

# Intent: the whole path through a real ssh and sshd: awkward names there
# and back, both copies sealed.
@test "pcopy over a real sshd on 127.0.0.1 copies awkward names there and back, and both seals verify" {
	SSHD_DIR=$(mktemp -d /tmp/ptsshd.XXXXXX)
	sshd_start "$SSHD_DIR" 2> sshd-start.err || skip "no test sshd here: $(tail -n 1 sshd-start.err)"
	make_awkward_tree src
	prun timeout -k 5 300 pcopy -e "$PTOOLS_TEST_SSH" --remote-pcopy "$RPCOPY" src "127.0.0.1:$T/there" 3>&-
	assert_success
	prun timeout -k 5 300 pcopy -e "$PTOOLS_TEST_SSH" --remote-pcopy "$RPCOPY" "127.0.0.1:$T/there" back 3>&-
	assert_success
	seal_ok there
	seal_ok back
	assert_equal "$(tree_listing src)" "$(tree_listing there)"
	assert_equal "$(tree_listing src)" "$(tree_listing back)"
}

# --- A hostile peer -----------------------------------------------------------

# frames OUT STEP...: write to OUT a client's byte stream to pcopy --server:
# the greeting, SETUP to receive into $T/dest, then each STEP: "dir REL",
# "file REL DATA" (FILE, DATA, END with DATA's true sha256 and a wrong check
# digest unless REL ends in .ok), or "commit". Python writes the bytes the way
# docs/PROTOCOL.md describes them, independently of pcopy's encoder.
frames() {
	/usr/bin/python3 - "$BATS_TEST_DIRNAME" "$@" <<'PY'
import hashlib, os, sys, xxhash
sys.path.insert(0, sys.argv[1])
from proto_frames import u32, u64, blob, frame, hello, setup_receive, entry
out, steps = sys.argv[2], sys.argv[3:]
s = hello() + setup_receive(os.getcwd().encode() + b"/dest")
i = 0
while i < len(steps):
    if steps[i] == 'dir':
        s += entry(11, steps[i + 1].encode(), 0o40755, 0); i += 2
    elif steps[i] == 'file':
        rel, data = steps[i + 1].encode(), steps[i + 2].encode(); i += 3
        check = xxhash.xxh3_128(data).hexdigest() if rel.endswith(b'.ok') else 'f' * 32
        s += entry(13, rel, 0o100644, len(data)) + frame(14, blob(data))
        s += frame(15, u32(1) + blob(hashlib.sha256(data).hexdigest().encode()) + blob(check.encode()))
    elif steps[i] == 'commit':
        s += frame(20, u64(0)); i += 1
open(out, 'wb').write(s)
PY
}

# Intent: the server trusts nothing a client sends: a path that climbs out
# of the destination stops the run there, the destination is rolled back, and
# nothing is written outside it.
@test "pcopy --server refuses a client's path that climbs out of the destination, and rolls back" {
	/usr/bin/python3 -c 'import xxhash' 2>/dev/null || skip "python3-xxhash is not installed"
	mkdir dest outside
	frames in.bin file a.ok hello dir ../outside/x file ../outside/f bad commit
	prun sh -c 'pcopy --server < in.bin > out.bin'
	assert_equal "$status" 2
	grep -aq 'a path that does not stay beneath the destination' out.bin
	assert_equal "$(ls -A outside)" ""
	assert_equal "$(ls -A dest)" ""
}

# Intent: the bytes that arrive are checked against the sender's check
# digest before anything is sealed: a file damaged on the way is never
# sealed, and (without -k) the destination is rolled back.
@test "pcopy --server refuses a file whose bytes do not match the sender's check digest, and rolls back" {
	/usr/bin/python3 -c 'import xxhash' 2>/dev/null || skip "python3-xxhash is not installed"
	mkdir dest
	frames in.bin file good.ok hello commit
	prun sh -c 'pcopy --server < in.bin > out.bin'
	assert_equal "$status" 0
	seal_ok dest
	assert_equal "$(cat dest/good.ok)" hello
	rm -rf dest && mkdir dest
	frames in.bin file good.ok hello file damaged bytes commit
	prun sh -c 'pcopy --server < in.bin > out.bin'
	assert_equal "$status" 1
	grep -aq 'damaged on the way' out.bin
	assert_equal "$(ls -A dest)" ""
}

# Intent: "host:" with nothing after the colon is refused before anything
# starts, with the spelling that means the remote home directory.
@test "a remote operand with no path after ':' is a usage error naming host:." {
	mkdir src
	prun pcopy -e "$STANDIN" src testhost:
	assert_equal "$status" 2
	assert_contains "$output" "testhost:: no path after ':' (write testhost:. for the remote home directory)"
	prun pcopy -e "$STANDIN" testhost: dest
	assert_equal "$status" 2
	assert_not_exists dest
}

# Intent: --mhl reaches a remote destination (issue 21): the server writes the
# ASC MHL generation there, the independent checker and pverify --mhl accept
# it; pulling, the local destination gets one. (A source's own history is
# carried too: the tests after this one.)
@test "pcopy --mhl pushes and pulls: each destination gets its ASC MHL generation and chain" {
	make_mixed_tree src
	prun rpcopy --mhl -a xxh64,md5 src "testhost:$T/pushed"
	assert_success
	run ls pushed/ascmhl
	assert_line --regexp '^0001_pushed_.*Z\.mhl$'
	assert_line ascmhl_chain.xml
	run /usr/bin/python3 "$BATS_TEST_DIRNAME/mhl2_check.py" pushed
	assert_success
	prun pverify --mhl pushed
	assert_success
	prun rpcopy --mhl -a xxh64 "testhost:$T/src" pulled
	assert_success
	run /usr/bin/python3 "$BATS_TEST_DIRNAME/mhl2_check.py" pulled
	assert_success
	prun pverify --mhl pulled
	assert_success
	# A changed byte at the destination is caught against its history.
	printf 'x' >> "$(find pushed -type f -size +0 ! -path '*/ascmhl/*' ! -name '.ptools-seal' | head -n 1)"
	prun pverify --mhl pushed
	assert_failure 1
}

# mhl_card DIR: a small tree with an ASC MHL history of two generations
# (phash --seal --mhl twice), the second after a change.
mhl_card() {
	mkdir -p "$1/Clips/A001" "$1/Empty"
	printf 'clip one' > "$1/Clips/A001/C001.mov"
	head -c 300000 /dev/urandom > "$1/Clips/A001/C002.mov"
	printf 'notes\n' > "$1/Sidecar.txt"
	prun phash --seal --mhl "$1"
	assert_success
	printf 'clip two' > "$1/Clips/A001/C003.mov"
	prun phash --seal --mhl "$1"
	assert_success
}

# carried_ok SRC DEST: DEST's history is SRC's two generations, byte for
# byte, and a transfer generation of DEST's own after them, which the
# independent checker and pverify --mhl accept; SRC's history is no payload.
carried_ok() {
	local gen
	run ls "$2/ascmhl"
	assert_line --regexp "^0001_$1_.*Z\.mhl\$"
	assert_line --regexp "^0002_$1_.*Z\.mhl\$"
	assert_line --regexp "^0003_$2_.*Z\.mhl\$"
	for gen in "$1"/ascmhl/000[12]_*.mhl; do
		cmp "$gen" "$2/ascmhl/${gen##*/}"
	done
	grep -q '<process>transfer</process>' "$2"/ascmhl/0003_*.mhl
	# every file verified against the carried history, none new to it
	run grep -c 'action="original"' "$2"/ascmhl/0003_*.mhl
	assert_output 0
	run /usr/bin/python3 "$BATS_TEST_DIRNAME/mhl2_check.py" "$2"
	assert_success
	assert_output --partial "3 generations checked"
	prun pverify --mhl "$2"
	assert_success
	run grep -c ascmhl "$2/.ptools-seal"
	assert_output 0
}

# Intent: a source's own ASC MHL history goes through a remote copy both
# ways (issue 21) as through a local one: pushing, the server is sent it
# and carries it; pulling, the server sends it and the client carries it.
# Either way the destination holds the source's generation files
# byte-identical, then a transfer generation, and verifies. A destination
# that holds the history already gets only a new generation.
@test "pcopy --mhl carries a source's ASC MHL history through a push and a pull" {
	/usr/bin/python3 -c 'import xxhash' 2>/dev/null || skip "python3-xxhash is not installed"
	mhl_card card
	prun rpcopy --mhl card "testhost:$T/pushed"
	assert_success
	carried_ok card pushed
	prun rpcopy --mhl "testhost:$T/card" pulled
	assert_success
	carried_ok card pulled
	# compressed, the same
	prun rpcopy -z --mhl card "testhost:$T/zipped"
	assert_success
	carried_ok card zipped
	# again into the pushed copy: its history holds SRC's, only 0004 is new
	cp pushed/ascmhl/0003_*.mhl g3.keep
	prun rpcopy --mhl --force card "testhost:$T/pushed"
	assert_success
	run ls pushed/ascmhl
	assert_line --regexp '^0004_pushed_.*Z\.mhl$'
	cmp g3.keep pushed/ascmhl/0003_*.mhl
	run /usr/bin/python3 "$BATS_TEST_DIRNAME/mhl2_check.py" pushed
	assert_success
	assert_output --partial "4 generations checked"
}

# Intent: a destination whose own history differs from the source's is
# refused with nothing written there, remote (pushing) or local (pulling),
# while the run's other destination gets the carried history, exit 1: the
# same outcome as a local copy's.
@test "pcopy --mhl refuses a destination whose history differs from the remote copy's source, nothing written there" {
	/usr/bin/python3 -c 'import xxhash' 2>/dev/null || skip "python3-xxhash is not installed"
	mhl_card card
	mkdir other
	printf 'its own\n' > other/own.txt
	prun phash --seal --mhl other
	assert_success
	cp -a other other2
	before=$(snapshot other)
	prun rpcopy --mhl card "testhost:$T/other" fresh
	assert_failure 1
	assert_output --partial "testhost:$T/other/ascmhl: its history differs from SRC's"
	[ "$(snapshot other)" = "$before" ]
	carried_ok card fresh
	before=$(snapshot other2)
	prun rpcopy --mhl "testhost:$T/card" other2 fresh2
	assert_failure 1
	assert_output --partial "other2/ascmhl: its history differs from SRC's"
	[ "$(snapshot other2)" = "$before" ]
	carried_ok card fresh2
}

# Intent: a source history that does not match its chain stops a remote
# copy before anything is copied, pushing or pulling, exit 1, as a local
# copy's does: carried whole or not at all.
@test "pcopy --mhl stops a remote copy whose source history does not match its chain, exit 1" {
	/usr/bin/python3 -c 'import xxhash' 2>/dev/null || skip "python3-xxhash is not installed"
	mhl_card card
	cp card/ascmhl/0001_*.mhl g1.keep
	printf ' ' >> card/ascmhl/0001_*.mhl
	prun rpcopy --mhl card "testhost:$T/pushed"
	assert_failure 1
	assert_output --partial "card/ascmhl/0001_card_"
	assert_output --partial "its C4 differs from the one the chain records"
	assert_not_exists pushed
	prun rpcopy --mhl "testhost:$T/card" pulled
	assert_failure 1
	assert_output --partial "testhost:$T/card/ascmhl/0001_card_"
	assert_output --partial "its C4 differs from the one the chain records"
	assert_not_exists pulled
	# a generation the chain lists, gone
	cp g1.keep card/ascmhl/0001_*.mhl
	rm card/ascmhl/0002_*.mhl
	prun rpcopy --mhl "testhost:$T/card" pulled
	assert_failure 1
	assert_output --partial "listed by the chain but missing"
	assert_not_exists pulled
}

# history_frames OUT FLAGS STEP...: a client's frames for pcopy --server,
# receiving into ./dest with md5 digests and SETUP flags FLAGS: "hist NAME
# FILE" (a HISTORY frame of FILE's bytes), "end" (the history's end), "file
# REL DATA" (a file), "commit".
history_frames() {
	/usr/bin/python3 - "$BATS_TEST_DIRNAME" "$@" <<'PY'
import hashlib, os, sys, xxhash
sys.path.insert(0, sys.argv[1])
from proto_frames import u32, u64, blob, frame, hello, setup_receive, entry, history
out, flags, steps = sys.argv[2], int(sys.argv[3]), sys.argv[4:]
s = hello() + setup_receive(os.getcwd().encode() + b"/dest", flags, algos=b'md5')
i = 0
while i < len(steps):
    if steps[i] == 'hist':
        s += history(steps[i + 1].encode(), open(steps[i + 2], 'rb').read()); i += 3
    elif steps[i] == 'end':
        s += history(b'', b''); i += 1
    elif steps[i] == 'file':
        rel, data = steps[i + 1].encode(), steps[i + 2].encode(); i += 3
        s += entry(13, rel, 0o100644, len(data)) + frame(14, blob(data))
        s += frame(15, u32(1) + blob(hashlib.md5(data).hexdigest().encode()) +
                   blob(xxhash.xxh3_128(data).hexdigest().encode()))
    elif steps[i] == 'commit':
        s += frame(20, u64(0)); i += 1
open(out, 'wb').write(s)
PY
}

# Intent: the receiving side checks a history it is sent itself, trusting
# nothing of the sender: a generation whose bytes are not those its chain
# records stops the run (exit 1, rolled back), where the same frames with
# the right bytes are carried.
@test "pcopy --server checks a sent ASC MHL history against its chain itself, and rolls back on a mismatch" {
	/usr/bin/python3 -c 'import xxhash' 2>/dev/null || skip "python3-xxhash is not installed"
	mhl_card card
	chain=card/ascmhl/ascmhl_chain.xml
	g1=$(cd card/ascmhl && ls 0001_*.mhl) g2=$(cd card/ascmhl && ls 0002_*.mhl)
	mkdir dest
	history_frames in.bin 2048 hist ascmhl_chain.xml "$chain" hist "$g1" "card/ascmhl/$g1" \
		hist "$g2" "card/ascmhl/$g2" end file a.ok hello commit
	prun sh -c 'pcopy --server < in.bin > out.bin'
	assert_equal "$status" 0
	cmp "card/ascmhl/$g2" "dest/ascmhl/$g2"
	rm -rf dest && mkdir dest
	cp "card/ascmhl/$g2" tampered.mhl
	printf ' ' >> tampered.mhl
	history_frames in.bin 2048 hist ascmhl_chain.xml "$chain" hist "$g1" "card/ascmhl/$g1" \
		hist "$g2" tampered.mhl end file a.ok hello commit
	prun sh -c 'pcopy --server < in.bin > out.bin'
	assert_equal "$status" 1
	grep -aq 'its C4 differs from the one the chain records' out.bin
	assert_equal "$(ls -A dest)" ""
}

# Intent: every HISTORY frame is checked before it is used: a name that is
# neither the chain nor a generation (a path that climbs out, a name with a
# '/'), a history without --mhl, after an entry, cut short by an entry,
# not beginning with its chain, or with a generation its chain does not
# list is malformed input: exit 2, nothing written.
@test "pcopy --server refuses malformed ASC MHL history frames with exit 2, nothing written" {
	/usr/bin/python3 -c 'import xxhash' 2>/dev/null || skip "python3-xxhash is not installed"
	mhl_card card
	chain=card/ascmhl/ascmhl_chain.xml
	g1=$(cd card/ascmhl && ls 0001_*.mhl) g2=$(cd card/ascmhl && ls 0002_*.mhl)
	mkdir dest outside
	refused() {
		local why=$1
		shift
		history_frames in.bin "$@"
		prun sh -c 'pcopy --server < in.bin > out.bin'
		assert_equal "$status" 2
		grep -aq "$why" out.bin
		assert_equal "$(ls -A dest)" ""
		assert_equal "$(ls -A outside)" ""
	}
	refused 'neither the chain nor a generation' 2048 hist ascmhl_chain.xml "$chain" \
		hist "../outside/$g1" "card/ascmhl/$g1" end file a.ok hello commit
	refused 'neither the chain nor a generation' 2048 hist ascmhl_chain.xml "$chain" \
		hist "0001_x/$g1" "card/ascmhl/$g1" end file a.ok hello commit
	refused 'history without --mhl' 0 hist ascmhl_chain.xml "$chain" end file a.ok hello commit
	refused 'history out of place' 2048 file a.ok hello hist ascmhl_chain.xml "$chain" end commit
	refused 'history cut short' 2048 hist ascmhl_chain.xml "$chain" file a.ok hello commit
	refused 'does not begin with its chain' 2048 hist "$g1" "card/ascmhl/$g1" end commit
	refused 'a generation its chain does not list' 2048 hist ascmhl_chain.xml "$chain" \
		hist "$g1" "card/ascmhl/$g1" hist "$g2" "card/ascmhl/$g2" hist 0009_x.mhl "$chain" \
		end file a.ok hello commit
}

# Intent: --bag reaches a remote destination (issue 21): the server makes the
# bag there; pulling, the local destination is made a bag; both validate.
@test "pcopy --bag pushes and pulls: each destination is a valid BagIt bag" {
	make_tree src
	prun rpcopy --bag -a sha256 src "testhost:$T/pushed"
	assert_success
	assert_file_exists pushed/bagit.txt
	assert_file_exists pushed/manifest-sha256.txt
	prun pverify --bag pushed
	assert_success
	prun rpcopy --bag -a sha256,md5 "testhost:$T/src" pulled
	assert_success
	assert_file_exists pulled/manifest-md5.txt
	prun pverify --bag pulled
	assert_success
	diff <(cd src && find . -type f | sort) <(cd pulled/data && find . -type f | sort)
	# Pushing into an existing bag without --force is refused, saying why once.
	prun rpcopy --bag -a sha256 src "testhost:$T/pushed"
	assert_failure
	assert_output --partial "a bag is there already"
	refute_output --partial "could not be reached"
}
