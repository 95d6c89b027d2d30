#!/usr/bin/env bats
# SPDX-License-Identifier: 0BSD
# pcopy's remote delta (issue 20, docs/PROTOCOL.md 4.7): a file the remote
# side already has an old version of is updated by blocks: the receiver
# streams keyed hashes of its old file's blocks, the sender sends only the
# blocks that differ. Through tests/rsh-standin, which counts the bytes it
# relays (PTOOLS_STANDIN_COUNT) and can damage a DATA frame in transit
# (PTOOLS_STANDIN_FLIP). "up" is what the client sent (a push's file), "down"
# what the remote side sent (a pull's file).

load test_helper
bats_require_minimum_version 1.5.0

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	T=$BATS_TEST_TMPDIR
	STANDIN=$BATS_TEST_DIRNAME/rsh-standin
	RPCOPY=$(command -v pcopy)
	MiB=1048576
}

# rpcopy ARG...: pcopy through the stand-in (bytes counted into ./count),
# the pcopy under test on the "remote" side, given 120 s.
rpcopy() {
	PTOOLS_STANDIN_COUNT=$T/count timeout -k 5 120 \
		pcopy -e "$STANDIN" --remote-pcopy "$RPCOPY" "$@" 3>&-
}

# sent up|down: the bytes the last rpcopy relayed that way.
sent() {
	sed -n "s/^$1 //p" "$T/count"
}

# assert_sent_below up|down BYTES
assert_sent_below() {
	local n
	n=$(sent "$1")
	[ -n "$n" ] || fail "no byte count from the stand-in"
	[ "$n" -lt "$2" ] || fail "$n bytes went $1, not fewer than $2"
}

# make_versions: new/big (4 MiB of random bytes) and old/big, a sealed copy
# of it that each test then changes into the old version.
make_versions() {
	mkdir new
	head -c $((4 * MiB)) /dev/urandom > new/big
	prun pcopy new old
	assert_success
}

# poke FILE OFFSET...: overwrite 4 bytes at each offset (the file keeps its size).
poke() {
	/usr/bin/python3 -c 'import sys
with open(sys.argv[1], "r+b") as f:
    for off in sys.argv[2:]:
        f.seek(int(off))
        f.write(b"\xde\xad\xbe\xef")' "$@"
}

# same_mtime FILE: give FILE new/big's mtime (pcopy -u then compares the
# content: the path to a delta that needs no more of the engine than that).
same_mtime() {
	touch -r new/big "$1"
}

# push_delta / pull_delta ARG...: bring old/ up to date with new/ by -u, pushed
# from new/ to old/ there, or pulled from new/ there into old/.
push_delta() {
	prun rpcopy -u "$@" new "testhost:$T/old"
}

pull_delta() {
	prun rpcopy -u "$@" "testhost:$T/new" old
}

# check_result: old/big is now new/big, and the seal there verifies.
check_result() {
	assert_success
	cmp new/big old/big
	seal_ok old
}

# --- Changes that keep the size (a kept file compared: the stub's path too) ----

# Intent: a change in the first block sends about that block, not the file.
@test "rdelta: a file changed at its start is pushed and pulled by delta, a block's worth sent" {
	make_versions
	poke old/big 10
	same_mtime old/big
	push_delta
	check_result
	assert_sent_below up $MiB
	poke old/big 10
	same_mtime old/big
	pull_delta
	check_result
	assert_sent_below down $MiB
}

# Intent: scattered changed blocks are each sent, the rest is not.
@test "rdelta: a file changed in scattered blocks is pushed and pulled by delta" {
	make_versions
	poke old/big 70000 1500000 3000000
	same_mtime old/big
	push_delta
	check_result
	assert_sent_below up $MiB
	poke old/big 70000 1500000 3000000
	same_mtime old/big
	pull_delta
	check_result
	assert_sent_below down $MiB
}

# Intent: the last block (and the file's end) is handled.
@test "rdelta: a file changed at its end is pushed and pulled by delta" {
	make_versions
	poke old/big $((4 * MiB - 4))
	same_mtime old/big
	push_delta
	check_result
	assert_sent_below up $MiB
	poke old/big $((4 * MiB - 4))
	same_mtime old/big
	pull_delta
	check_result
	assert_sent_below down $MiB
}

# Intent: nothing differs: nothing of the file's content travels.
@test "rdelta: an unchanged file sends no block, only SAME runs" {
	make_versions
	# New mtime on both sides, same content: -u compares, finds no difference.
	same_mtime old/big
	push_delta
	check_result
	assert_sent_below up 65536
	pull_delta
	check_result
	assert_sent_below down 65536
}

# Intent: --block-size 4K: a 4-byte change sends about 4 KiB.
@test "rdelta: --block-size 4K sends one small block for a one-block change" {
	make_versions
	poke old/big 2000000
	same_mtime old/big
	push_delta --block-size 4K
	check_result
	assert_sent_below up 32768
	poke old/big 2000000
	same_mtime old/big
	pull_delta --block-size 4K
	check_result
	assert_sent_below down 32768
}

# Intent: more blocks than the window of hashes in flight (16384 blocks of 4
# KiB, 4096 hashes at most ahead): the stream waits and goes on, in both
# directions, and the result is exact.
@test "rdelta: a 64 MiB file with 4 KiB blocks goes through the bounded window of hashes" {
	mkdir new
	head -c $((64 * MiB)) /dev/urandom > new/big
	prun pcopy new old
	assert_success
	poke old/big 0 5000000 33554432 $((64 * MiB - 4))
	same_mtime old/big
	push_delta --block-size 4K
	check_result
	assert_sent_below up $MiB
	poke old/big 0 5000000 33554432 $((64 * MiB - 4))
	same_mtime old/big
	pull_delta --block-size 4K
	check_result
	assert_sent_below down $MiB
}

# Intent: -z and delta together: the changed blocks go compressed.
@test "rdelta: a delta under -z is exact" {
	make_versions
	poke old/big 10 3000000
	same_mtime old/big
	push_delta -z
	check_result
	assert_sent_below up $MiB
}

# --- Whole files -------------------------------------------------------------

# Intent: -W turns delta off: the whole file travels.
@test "rdelta: -W sends the whole file" {
	make_versions
	poke old/big 10
	same_mtime old/big
	push_delta -W
	check_result
	[ "$(sent up)" -gt $((4 * MiB)) ] || fail "only $(sent up) bytes went up"
	poke old/big 10
	same_mtime old/big
	pull_delta -W
	check_result
	[ "$(sent down)" -gt $((4 * MiB)) ] || fail "only $(sent down) bytes went down"
}

# Intent: a pull into several destinations copies whole (no single old file).
@test "rdelta: a pull into two destinations sends the whole file" {
	make_versions
	prun pcopy new old2
	assert_success
	poke old/big 10
	poke old2/big 10
	same_mtime old/big
	same_mtime old2/big
	prun rpcopy -u "testhost:$T/new" old old2
	assert_success
	cmp new/big old/big
	cmp new/big old2/big
	[ "$(sent down)" -gt $((4 * MiB)) ] || fail "only $(sent down) bytes went down"
}

# Intent: a file below the delta threshold (1 MiB) goes whole, as before.
@test "rdelta: a small file is sent whole" {
	mkdir new
	head -c 500000 /dev/urandom > new/small
	prun pcopy new old
	assert_success
	poke old/small 10
	touch -r new/small old/small
	prun rpcopy -u new "testhost:$T/old"
	assert_success
	cmp new/small old/small
	[ "$(sent up)" -gt 500000 ] || fail "only $(sent up) bytes went up"
}

# --- The end-to-end check ----------------------------------------------------

# Intent: a changed block damaged in transit is caught by the receiver's check
# digest over the whole new file: exit 1, rolled back, the old file intact.
@test "rdelta: a block damaged in transit fails the file and leaves the old file intact, push and pull" {
	make_versions
	poke old/big 10
	same_mtime old/big
	cp -p old/big before
	PTOOLS_STANDIN_FLIP=1 prun rpcopy -u new "testhost:$T/old"
	assert_failure 1
	assert_output --partial "damaged on the way"
	cmp before old/big
	[ ! -e old/.pcopy-journal ]
	PTOOLS_STANDIN_FLIP=1 PTOOLS_STANDIN_FLIP_DIR=down prun rpcopy -u "testhost:$T/new" old
	assert_failure 1
	assert_output --partial "damaged on the way"
	cmp before old/big
	[ ! -e old/.pcopy-journal ]
}

# --- With the local delta engine (size or mtime differ) ------------------------

# Intent: a grown file: the old blocks are kept, the new tail is sent.
@test "rdelta: a grown file is pushed and pulled by delta" {
	make_versions
	head -c $((4 * MiB - 100000)) new/big > old/big
	prun rpcopy --delta new "testhost:$T/old"
	check_result
	assert_sent_below up $MiB
	head -c $((4 * MiB - 100000)) new/big > old/big
	prun rpcopy --delta "testhost:$T/new" old
	check_result
	assert_sent_below down $MiB
}

# Intent: a shrunk file: nothing but SAME runs travel; the rest is cut off.
@test "rdelta: a shrunk file is pushed and pulled by delta" {
	make_versions
	cat new/big > old/big
	head -c 300000 /dev/urandom >> old/big
	prun rpcopy --delta new "testhost:$T/old"
	check_result
	assert_sent_below up 65536
	cat new/big > old/big
	head -c 300000 /dev/urandom >> old/big
	prun rpcopy --delta "testhost:$T/new" old
	check_result
	assert_sent_below down 65536
}

# Intent: -u with a different mtime (the usual case) goes by delta too.
@test "rdelta: -u with a different mtime updates by delta" {
	make_versions
	poke old/big 1000000
	touch -d '2001-01-01' old/big
	push_delta
	check_result
	assert_sent_below up $MiB
	poke old/big 1000000
	touch -d '2001-01-01' old/big
	pull_delta
	check_result
	assert_sent_below down $MiB
}

# --- A hostile peer ------------------------------------------------------------

# client_stream OUT STEP...: a client's bytes to pcopy --server receiving
# into ./dest with -u: the greeting, SETUP, then "file REL SIZE" (a FILE
# entry), "same OFFSET LENGTH", "data BYTES". Written from docs/PROTOCOL.md.
client_stream() {
	/usr/bin/python3 - "$BATS_TEST_DIRNAME" "$@" <<'PY'
import os, sys
sys.path.insert(0, sys.argv[1])
from proto_frames import u64, blob, frame, hello, setup_receive, entry
out, steps = sys.argv[2], sys.argv[3:]
s = hello() + setup_receive(os.getcwd().encode() + b"/dest", flags=2, key=os.urandom(16))
i = 0
while i < len(steps):
    if steps[i] == 'file':
        s += entry(13, steps[i + 1].encode(), 0o100644, int(steps[i + 2])); i += 3
    elif steps[i] == 'same':
        s += frame(18, u64(int(steps[i + 1])) + u64(int(steps[i + 2]))); i += 3
    elif steps[i] == 'data':
        s += frame(14, blob(steps[i + 1].encode())); i += 2
open(out, 'wb').write(s)
PY
}

# Intent: SAME is only taken inside a delta the receiver asked for: a client
# that sends one for a file the server answered WHOLE (no old file there)
# stops the run as malformed input, and nothing is left in the destination.
@test "rdelta: pcopy --server refuses SAME for a file it did not take by delta" {
	mkdir dest
	client_stream in.bin file big $((2 * MiB)) same 0 65536
	prun sh -c 'pcopy --server < in.bin > out.bin'
	assert_equal "$status" 2
	grep -aq 'same bytes in a file not sent by delta' out.bin
	assert_equal "$(ls -A dest)" ""
	# The server's answer to the FILE came first: WHOLE (type 41, empty).
	/usr/bin/python3 -c 'import sys
d = open(sys.argv[1], "rb").read()
at = 0
types = []
while at + 5 <= len(d):
    n = int.from_bytes(d[at:at + 4], "big")
    types.append(d[at + 4])
    at += 5 + n
assert 41 in types, types' out.bin
}

# Intent: SAME out of place (not where the file's bytes have got to) is
# refused even inside a delta: the old file is there, the server answers
# BASE, and a SAME that skips ahead stops the run; the old file is intact.
@test "rdelta: pcopy --server refuses a SAME range out of place" {
	mkdir dest
	head -c $((2 * MiB)) /dev/urandom > dest/big
	touch -d @1262304000 dest/big
	cp dest/big before
	client_stream in.bin file big $((2 * MiB)) data abcd same 65536 65536
	prun sh -c 'pcopy --server < in.bin > out.bin'
	assert_equal "$status" 2
	grep -aq 'same bytes out of place' out.bin
	cmp before dest/big
}

# fake_receiver PATH MODE: a stand-in for pcopy --server that greets, says
# READY, answers the first FILE with BASE and then misbehaves: MODE
# "order" sends hashes from block 5 first, "window" more hashes than the
# window allows (4096 + 1024 for a 64 MiB file of 4 KiB blocks, all at once).
fake_receiver() {
	{
		printf '#!/usr/bin/python3\nimport sys\nsys.path.insert(0, "%s")\n' "$BATS_TEST_DIRNAME"
		cat <<'PY'
import os, struct
from proto_frames import frame, hello, read_frame
mode = os.environ["FAKE_MODE"]
def send(kind, payload=b""):
    os.write(1, frame(kind, payload))
def next_frame():
    got = read_frame(0)
    if got is None:
        sys.exit(0)
    return got
os.write(1, hello())
next_frame()  # HELLO
next_frame()  # SETUP
send(3)
while next_frame()[0] != 13:
    pass
B = 4096
send(40, struct.pack(">QI", 64 << 20, B))
h = bytes(16)
if mode == "order":
    send(42, struct.pack(">QI", 5, 16) + h)
else:
    for first in range(0, 5120, 1024):
        send(42, struct.pack(">QI", first, 1024 * 16) + h * 1024)
while True:
    next_frame()
PY
	} > "$1"
	chmod +x "$1"
}

# Intent: the sender checks what the receiver sends back too: hashes out of
# order, or more than the window allows, end the connection with a message
# (no hang, no unbounded memory), and the run fails.
@test "rdelta: the sending side refuses block hashes out of order or past the window" {
	mkdir new
	head -c $((64 * MiB)) /dev/zero > new/big
	fake_receiver fake order
	FAKE_MODE=order prun timeout -k 5 60 pcopy -u --block-size 4K -e "$STANDIN" \
		--remote-pcopy "$T/fake" new testhost:dest
	assert_failure 1
	assert_output --partial "block hashes out of order"
	FAKE_MODE=window prun timeout -k 5 60 pcopy -u --block-size 4K -e "$STANDIN" \
		--remote-pcopy "$T/fake" new testhost:dest
	assert_failure 1
	assert_output --partial "more block hashes ahead than the window allows"
}

# Intent: --inplace over ssh is undone by the remote side itself: the client
# killed -9 while the server overwrites blocks in place, the server sees the
# end of its input and puts every old byte back from its journal.
@test "rdelta: the client killed -9 during an --inplace delta: the remote side restores the old file exactly" {
	build_shim
	mkdir new
	head -c $((16 * MiB)) /dev/urandom > new/big
	prun pcopy new old
	assert_success
	for ((off = 0; off < 16 * MiB; off += 3 * 65536)); do poke new/big "$off"; done
	cp old/big old-big
	before=$(stat -c '%i %s %a %Y' old/big)
	LD_PRELOAD="$BATS_TEST_TMPDIR/eio.so" EIO_SHIM_PREFIX=$T/old EIO_SHIM_SPARE=.pcopy-journal \
		EIO_SHIM_DELAY_US=20000 STANDIN_PIDFILE=$T/server.pid env --default-signal=INT \
		pcopy --inplace --no-progress -e "$STANDIN" --remote-pcopy "$RPCOPY" new "testhost:$T/old" \
		2>err &
	pid=$!
	for ((i = 0; i < 400; i++)); do
		[ -s old/.pcopy-journal-data ] && break
		sleep 0.05
	done
	[ -s old/.pcopy-journal-data ] || fail "no block was changed in place: $(cat err)"
	server=$(cat server.pid)
	kill -KILL "$pid"
	wait "$pid" || true
	for ((i = 0; i < 600; i++)); do
		kill -0 "$server" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$server" 2>/dev/null && fail "the remote pcopy still runs 60 s after its client was killed"
	cmp old-big old/big
	assert_equal "$(stat -c '%i %s %a %Y' old/big)" "$before"
	assert_equal "$(find old -name '.pcopy*')" ""
}
