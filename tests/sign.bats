#!/usr/bin/env bats
# SPDX-License-Identifier: 0BSD
# Signed seals: pcopy --sign writes SEAL.sig beside each seal, an SSHSIG
# signature that ssh-keygen -Y verify (OpenSSH, independent of ptools)
# accepts; pverify --signers trusts a seal only with a good signature by an
# allowed signer; tampering, another key and a missing signature fail with 1,
# malformed signatures and keys with 2; a rollback leaves no signature.
# With a remote DEST the server's seals are signed by the client, which keeps
# the key (PROTOCOL.md 4.10); each side refuses what the other sends out of
# place.

load test_helper
bats_require_minimum_version 1.5.0

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	command -v ssh-keygen >/dev/null || skip "ssh-keygen (openssh-client) is not installed"
	unset SSH_AUTH_SOCK
	AGENT_PID= SSHD_DIR=
	make_tree src
	ssh-keygen -q -t ed25519 -N '' -C alice@example.org -f alice
	ssh-keygen -q -t ed25519 -N '' -C mallory@example.org -f mallory
	printf 'alice@example.org namespaces="ptools-seal" %s\n' "$(cut -d' ' -f1,2 alice.pub)" > allowed
}

teardown() {
	if [ -n "${AGENT_PID:-}" ]; then
		kill "$AGENT_PID" 2>/dev/null || true
	fi
	# The test over a real sshd (tests/sshd.bash, loaded by that test only).
	if [ -n "${SSHD_DIR:-}" ]; then
		sshd_stop
		rm -rf "$SSHD_DIR"
	fi
	return 0
}

# keygen_verifies DEST [PRINCIPAL]: ssh-keygen -Y verify accepts DEST's seal signature.
keygen_verifies() {
	run ssh-keygen -Y verify -f allowed -I "${2:-alice@example.org}" -n ptools-seal \
		-s "$1/.ptools-seal.sig" < "$1/.ptools-seal"
	assert_success
	assert_output --partial 'Good "ptools-seal" signature for alice@example.org'
}

# agent_holding KEY: start an ssh-agent (stopped by teardown) holding the
# private key file KEY, SSH_AUTH_SOCK exported; skip without ssh-agent.
agent_holding() {
	command -v ssh-agent >/dev/null || skip "ssh-agent is not installed"
	eval "$(ssh-agent -a "$BATS_TEST_TMPDIR/agent.sock")" >/dev/null
	AGENT_PID=$SSH_AGENT_PID
	export SSH_AUTH_SOCK
	ssh-add -q "$1" 2>/dev/null
}

@test "pcopy --sign writes a signature beside each seal that ssh-keygen -Y verify accepts" {
	prun pcopy --sign alice src one two
	assert_success
	keygen_verifies one
	keygen_verifies two
	assert_equal "$(head -n1 one/.ptools-seal.sig)" "-----BEGIN SSH SIGNATURE-----"
	# the signature is not content: the copy's listing is the source's
	assert_equal "$(tree_listing src)" "$(tree_listing one | grep -v 'ptools-seal.sig')"
	# base64 at 70 columns, as ssh-keygen writes it
	run awk 'NR > 1 && !/^-----/ && length($0) > 70' one/.ptools-seal.sig
	assert_output ''
}

@test "pverify --signers trusts a signed seal and says who signed it" {
	prun pcopy --sign alice src one
	assert_success
	prun pverify --signers allowed -C one < one/.ptools-seal
	assert_success
	assert_output --partial 'good signature by alice@example.org'
	prun pverify --signers allowed -C one one/.ptools-seal
	assert_success
}

@test "pverify --signers fails with 1 on a seal edited after signing, checking nothing" {
	prun pcopy --sign alice src one
	assert_success
	# a consistent edit: a record dropped and the seal's own digest recomputed,
	# so that only the signature can tell
	sed -i '/\tsub\/d\t/d; /^#seal/d' one/.ptools-seal
	printf '#seal\tsha256:%s\n' "$(sha256sum < one/.ptools-seal | cut -c1-64)" >> one/.ptools-seal
	prun pverify -C one < one/.ptools-seal
	assert_success
	prun pverify --signers allowed -C one < one/.ptools-seal
	assert_failure 1
	assert_output --partial 'bad signature'
	refute_output --partial 'ok, 0 failed, 0 missing, 0 errors'
	run ssh-keygen -Y verify -f allowed -I alice@example.org -n ptools-seal \
		-s one/.ptools-seal.sig < one/.ptools-seal
	assert_failure
}

@test "pverify --signers fails with 1 on a signature by a key allowed_signers does not list" {
	prun pcopy --sign mallory src one
	assert_success
	prun pverify --signers allowed -C one < one/.ptools-seal
	assert_failure 1
	assert_output --partial 'does not trust'
	# and ssh-keygen agrees
	run ssh-keygen -Y verify -f allowed -I alice@example.org -n ptools-seal \
		-s one/.ptools-seal.sig < one/.ptools-seal
	assert_failure
}

@test "pverify --signers fails with 1 on a missing signature" {
	prun pcopy src one
	assert_success
	prun pverify --signers allowed -C one < one/.ptools-seal
	assert_failure 1
	assert_output --partial 'no signature'
}

@test "pverify --signers refuses a key whose namespaces= leaves ptools-seal out" {
	prun pcopy --sign alice src one
	assert_success
	printf 'alice@example.org namespaces="git,file" %s\n' "$(cut -d' ' -f1,2 alice.pub)" > git-only
	prun pverify --signers git-only -C one < one/.ptools-seal
	assert_failure 1
	assert_output --partial 'namespaces='
	printf 'alice@example.org cert-authority %s\n' "$(cut -d' ' -f1,2 alice.pub)" > ca
	prun pverify --signers ca -C one < one/.ptools-seal
	assert_failure 1
	assert_output --partial 'cert-authority'
}

@test "pverify --signers accepts what ssh-keygen -Y sign made in namespace ptools-seal" {
	prun pcopy src one
	assert_success
	ssh-keygen -q -Y sign -f alice -n ptools-seal one/.ptools-seal
	prun pverify --signers allowed -C one < one/.ptools-seal
	assert_success
	# another namespace is not a seal signature
	rm one/.ptools-seal.sig
	ssh-keygen -q -Y sign -f alice -n file one/.ptools-seal
	prun pverify --signers allowed -C one < one/.ptools-seal
	assert_failure 1
	assert_output --partial 'another namespace'
}

@test "pverify --signers reports malformed signatures with 2 and no crash" {
	prun pcopy --sign alice src one
	assert_success
	cp one/.ptools-seal.sig good.sig
	for bad in 'garbage' \
		"$(head -n2 good.sig)" \
		"$(sed '2s/^./*/' good.sig)" \
		"$(printf -- '-----BEGIN SSH SIGNATURE-----\nU1NIU0lH/////w==\n-----END SSH SIGNATURE-----')" \
		"$(printf -- '-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQ==\n-----END SSH SIGNATURE-----')"; do
		printf '%s\n' "$bad" > one/.ptools-seal.sig
		prun pverify --signers allowed -C one < one/.ptools-seal
		assert_failure
		assert [ "$status" -le 2 ]
		refute_output --partial 'good signature'
	done
	printf -- '-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQ==\n-----END SSH SIGNATURE-----\n' > one/.ptools-seal.sig
	prun pverify --signers allowed -C one < one/.ptools-seal
	assert_failure 2
	assert_output --partial 'malformed SSH signature'
	head -c 100000 /dev/zero | tr '\0' 'A' > one/.ptools-seal.sig
	prun pverify --signers allowed -C one < one/.ptools-seal
	assert_failure 2
}

@test "pverify --signers reports malformed allowed_signers lines with 2 and still finds the signer" {
	prun pcopy --sign alice src one
	assert_success
	{
		echo 'bob@example.org bogus-option ssh-ed25519 AAAA'
		echo '# a comment'
		echo 'carol@example.org ssh-ed25519 not*base64'
		cat allowed
	} > messy
	prun pverify --signers messy -C one < one/.ptools-seal
	assert_failure 2
	assert_output --partial 'messy:1:'
	assert_output --partial 'messy:3:'
	assert_output --partial 'good signature by alice@example.org'
	prun pverify --signers /nonexistent -C one < one/.ptools-seal
	assert_failure 2
}

@test "pverify --signers refuses a manifest piped in (exit 2): its signature cannot be found" {
	prun pcopy --sign alice src one
	assert_success
	run bash -c 'cat one/.ptools-seal | pverify --signers allowed -C one'
	assert_failure 2
	assert_output --partial 'needs the manifest in a file'
}

@test "pcopy --sign with an encrypted key and no agent: a clear message, exit 2, nothing written" {
	ssh-keygen -q -t ed25519 -N 'a passphrase' -C locked -f locked
	prun pcopy --sign locked src one
	assert_failure 2
	assert_output --partial 'encrypted'
	assert_output --partial 'ssh-agent'
	assert_not_exist one
}

@test "pcopy --sign refuses malformed keys and other key types with 2, writing nothing" {
	echo 'not a key' > junk
	prun pcopy --sign junk src one
	assert_failure 2
	assert_not_exist one
	ssh-keygen -q -t ecdsa -N '' -f ec
	prun pcopy --sign ec src one
	assert_failure 2
	assert_output --partial 'Ed25519'
	assert_not_exist one
	# one byte of the private section changed: refused, never used to sign
	sed '3s/^\(.\{10\}\)./\1A/' alice > broken
	chmod 600 broken
	if ! cmp -s alice broken; then
		prun pcopy --sign broken src one
		assert_failure 2
		assert_not_exist one
	fi
	prun pcopy --sign /nonexistent/key src one
	assert_failure 2
	assert_not_exist one
	# a public key alone needs an agent
	prun pcopy --sign alice.pub src one
	assert_failure 2
	assert_output --partial 'SSH_AUTH_SOCK'
	assert_not_exist one
}

@test "pcopy --sign signs through ssh-agent given only the public key, and ssh-keygen verifies" {
	agent_holding alice
	prun pcopy --sign alice.pub src one
	assert_success
	keygen_verifies one
	prun pverify --signers allowed -C one < one/.ptools-seal
	assert_success
	# an encrypted private key file: its public half finds the agent's key
	ssh-keygen -q -t ed25519 -N 'a passphrase' -C locked -f locked
	prun pcopy --sign locked src two
	assert_failure 2
	assert_output --partial 'does not hold this key'
	assert_not_exist two
}

@test "pcopy --force re-signs; a re-seal without --sign sets the old signature aside" {
	prun pcopy --sign alice src one
	assert_success
	echo more > src/e
	prun pcopy --force --sign alice src one
	assert_success
	keygen_verifies one
	grep -q '	e	' one/.ptools-seal
	echo more2 > src/f
	prun pcopy --force src one
	assert_success
	assert_not_exist one/.ptools-seal.sig
	run bash -c 'ls -A one | grep -c pcopy'
	assert_output 0
	seal_ok one
}

@test "a source's own seal signature is not copied as content" {
	prun pcopy --sign alice src one
	assert_success
	prun pcopy one two
	assert_success
	assert_not_exist two/.ptools-seal.sig
	prun pcopy --sign alice one three
	assert_success
	keygen_verifies three
}

@test "a failed seal rolls the signature back with everything else" {
	build_shim
	head -c 300000 /dev/urandom > src/stuck
	LD_PRELOAD="$BATS_TEST_TMPDIR/eio.so" EIO_SHIM_HOLD=stuck \
		EIO_SHIM_RELEASE="$BATS_TEST_TMPDIR/release" pcopy -j1 --sign alice src one 2>err &
	pid=$!
	for ((i = 0; i < 300; i++)); do
		[ -f one/.pcopy-journal ] && break
		sleep 0.1
	done
	# the seal's name taken while the copy runs: installing the seal fails
	# after its signature was put in place
	echo 'a file of the user' > one/.ptools-seal
	touch release
	status=0
	wait "$pid" || status=$?
	assert_equal "$status" 1
	assert_not_exist one/.ptools-seal.sig
	assert_not_exist one/.pcopy-journal
	assert_equal "$(cat one/.ptools-seal)" 'a file of the user'
	run bash -c 'ls -A one'
	assert_output '.ptools-seal'
}

@test "kill -9 mid-copy: pcopy --resume --sign finishes with a signature ssh-keygen accepts" {
	build_shim
	make_many src 200
	start_slow_pcopy one --sign alice src one
	kill -KILL "$pid"
	status=0
	wait "$pid" || status=$?
	assert_equal "$status" 137
	assert_not_exist one/.ptools-seal.sig
	prun pcopy --resume --sign alice src one
	assert_success
	keygen_verifies one
	prun pverify --signers allowed -C one < one/.ptools-seal
	assert_success
	assert_equal "$(find one -name '.pcopy*')" ""
}

@test "phash --seal --sign signs the in-place seal: ssh-keygen -Y verify and pverify --signers accept it" {
	prun phash --seal src --sign alice
	assert_success
	keygen_verifies src
	prun pverify --signers allowed -C src < src/.ptools-seal
	assert_success
	assert_output --partial 'good signature by alice@example.org'
	# no temporary is left, and the signature is not in the seal's listing
	run ls -A src
	refute_output --partial '.tmp'
	run grep -c 'ptools-seal' src/.ptools-seal
	assert_output 0
}

@test "phash --seal --sign: an edit after signing, another key, a missing signature: exit 1" {
	prun phash --seal src --sign mallory
	assert_success
	prun pverify --signers allowed -C src < src/.ptools-seal
	assert_failure 1
	prun phash --seal src --sign alice
	assert_success
	cp src/.ptools-seal.sig keep.sig
	printf '# edited\n' >> src/.ptools-seal
	prun pverify --signers allowed -C src < src/.ptools-seal
	assert_failure 1
	# a re-seal without --sign removes the old signature: it signed the seal replaced
	prun phash --seal src
	assert_success
	assert [ ! -e src/.ptools-seal.sig ]
	prun pverify --signers allowed -C src < src/.ptools-seal
	assert_failure 1
}

@test "phash --sign needs --seal, and a key that cannot sign stops it before anything is written" {
	prun phash -r src --sign alice
	assert_failure 2
	assert_output --partial '--sign goes with --seal'
	ssh-keygen -q -t ed25519 -N 'a passphrase' -C locked -f locked
	prun phash --seal src --sign locked
	assert_failure 2
	assert_output --partial 'phash does not ask for passphrases'
	assert [ ! -e src/.ptools-seal ]
}

# keygen_verifies_chain DIR: ssh-keygen -Y verify accepts DIR's ASC MHL chain signature.
keygen_verifies_chain() {
	run ssh-keygen -Y verify -f allowed -I alice@example.org -n ptools-seal \
		-s "$1/ascmhl/ascmhl_chain.xml.sig" < "$1/ascmhl/ascmhl_chain.xml"
	assert_success
	assert_output --partial 'Good "ptools-seal" signature for alice@example.org'
}

@test "pcopy --mhl --sign signs the ASC MHL chain: ssh-keygen and pverify --mhl --signers accept it" {
	prun pcopy --mhl --sign alice src dst
	assert_success
	keygen_verifies_chain dst
	prun pverify --mhl dst --signers allowed
	assert_success
	assert_output --partial 'good signature by alice@example.org'
	# a later generation re-signs the new chain
	prun pcopy --mhl --sign alice --force src dst
	assert_success
	run grep -c '<hashlist' dst/ascmhl/ascmhl_chain.xml
	assert_output 2
	keygen_verifies_chain dst
	prun pverify dst --signers allowed
	assert_success
}

@test "pcopy --mhl --sign from a SRC with its own signed history signs the destination's chain" {
	prun phash --seal --mhl src --sign alice
	assert_success
	cp src/ascmhl/ascmhl_chain.xml.sig src-chain.sig
	prun pcopy --mhl --sign alice src dst
	assert_success
	run grep -c '<hashlist' dst/ascmhl/ascmhl_chain.xml
	assert_output 2
	cmp src/ascmhl/0001_*.mhl dst/ascmhl/0001_*.mhl
	# the signature is over dst's chain (carried generation and transfer), not SRC's
	keygen_verifies_chain dst
	! cmp -s src-chain.sig dst/ascmhl/ascmhl_chain.xml.sig
	prun pverify --mhl dst --signers allowed
	assert_success
	# without --sign, SRC's signature is not carried: it signed another chain
	prun pcopy --mhl src unsigned
	assert_success
	assert [ ! -e unsigned/ascmhl/ascmhl_chain.xml.sig ]
}

@test "phash --seal --mhl --sign signs the chain, and each new generation re-signs it" {
	prun phash --seal --mhl src --sign alice
	assert_success
	keygen_verifies_chain src
	prun phash --seal --mhl src --sign alice
	assert_success
	run grep -c '<hashlist' src/ascmhl/ascmhl_chain.xml
	assert_output 2
	keygen_verifies_chain src
	prun pverify --mhl src --signers allowed
	assert_success
	assert_output --partial 'good signature by alice@example.org'
	# a generation added without --sign removes the signature of the chain replaced
	prun phash --seal --mhl src
	assert_success
	assert [ ! -e src/ascmhl/ascmhl_chain.xml.sig ]
}

@test "pverify --mhl --signers: a chain edited after signing, another key, no signature: exit 1, nothing checked" {
	prun pcopy --mhl --sign alice src dst
	assert_success
	cp dst/ascmhl/ascmhl_chain.xml chain.keep
	printf '\n' >> dst/ascmhl/ascmhl_chain.xml
	prun pverify --mhl dst --signers allowed
	assert_failure 1
	assert_output --partial 'not trusted'
	assert_output --partial '0 ok'
	cp chain.keep dst/ascmhl/ascmhl_chain.xml
	prun pverify --mhl dst --signers allowed
	assert_success
	prun phash --seal --mhl dst --sign mallory
	assert_success
	prun pverify --mhl dst --signers allowed
	assert_failure 1
	assert_output --partial 'does not trust'
	rm dst/ascmhl/ascmhl_chain.xml.sig
	prun pverify dst --signers allowed
	assert_failure 1
	assert_output --partial 'no signature'
}

# --- Remote operands (PROTOCOL.md 4.10) -----------------------------------------

# rpcopy ARG...: pcopy ARG... with tests/rsh-standin as its remote shell and the
# pcopy under test as the remote one (as tests/remote.bats runs it), given 120 s
# and without bats' descriptor 3.
rpcopy() {
	timeout -k 5 120 pcopy -e "$BATS_TEST_DIRNAME/rsh-standin" --remote-pcopy "$(command -v pcopy)" \
		"$@" 3>&-
}

# keygen_verifies_file FILE: ssh-keygen -Y verify accepts FILE.sig over FILE, by alice.
keygen_verifies_file() {
	run ssh-keygen -Y verify -f allowed -I alice@example.org -n ptools-seal -s "$1.sig" < "$1"
	assert_success
	assert_output --partial 'Good "ptools-seal" signature for alice@example.org'
}

@test "pcopy --sign to a remote DEST: the server's seal is signed by the client's key, ssh-keygen and pverify accept it" {
	prun rpcopy --sign alice src "testhost:$BATS_TEST_TMPDIR/there"
	assert_success
	keygen_verifies there
	prun pverify --signers allowed -C there < there/.ptools-seal
	assert_success
	assert_output --partial 'good signature by alice@example.org'
	# records on stdin (--to) and -z take the same way
	(cd src && find . -type f ! -name '.*' -printf '%P\n') > list
	prun sh -c 'cd src && pcopy -e "$1" --remote-pcopy "$2" -z --sign ../alice --to "testhost:$3" < ../list' \
		sh "$BATS_TEST_DIRNAME/rsh-standin" "$(command -v pcopy)" "$BATS_TEST_TMPDIR/listed"
	assert_success
	keygen_verifies listed
}

@test "pcopy --mhl --sign and --bag --sign to a remote DEST sign the chain and the tag manifest there" {
	prun rpcopy --mhl --sign alice src "testhost:$BATS_TEST_TMPDIR/mhl"
	assert_success
	keygen_verifies mhl
	keygen_verifies_file mhl/ascmhl/ascmhl_chain.xml
	prun pverify --mhl mhl --signers allowed
	assert_success
	prun rpcopy --bag --sign alice src "testhost:$BATS_TEST_TMPDIR/bag"
	assert_success
	keygen_verifies_file bag/tagmanifest-sha256.txt
	assert_not_exist bag/.ptools-seal.sig
}

@test "pcopy --sign from a remote SRC signs the local copy; a pulled single file needs --seal" {
	prun rpcopy --sign alice "testhost:$BATS_TEST_TMPDIR/src" here
	assert_success
	keygen_verifies here
	prun rpcopy --sign alice "testhost:$BATS_TEST_TMPDIR/src/a" one.txt
	assert_failure 2
	assert_output --partial '--sign needs --seal with a single FILE'
	assert_not_exist one.txt
	mkdir single
	prun rpcopy --seal S --sign alice "testhost:$BATS_TEST_TMPDIR/src/a" single
	assert_success
	keygen_verifies_file single/S
}

@test "pcopy --sign to a local and a remote DEST signs both; a pushed single file with --seal is signed there" {
	prun rpcopy --sign alice src local "testhost:$BATS_TEST_TMPDIR/remote"
	assert_success
	keygen_verifies local
	keygen_verifies remote
	mkdir one
	prun rpcopy --seal S --sign alice src/a "testhost:$BATS_TEST_TMPDIR/one"
	assert_success
	keygen_verifies_file one/S
}

@test "pcopy --sign with a remote operand and a key that cannot sign: exit 2 before any remote shell starts" {
	ssh-keygen -q -t ed25519 -N 'a passphrase' -C locked -f locked
	STANDIN_ARGVFILE=$BATS_TEST_TMPDIR/argv prun rpcopy --sign locked src "testhost:$BATS_TEST_TMPDIR/there"
	assert_failure 2
	assert_output --partial 'ssh-agent'
	STANDIN_ARGVFILE=$BATS_TEST_TMPDIR/argv prun rpcopy --sign locked "testhost:$BATS_TEST_TMPDIR/src" here
	assert_failure 2
	assert_not_exist argv
	assert_not_exist there
	assert_not_exist here
}

@test "pcopy --sign to a remote DEST signs through ssh-agent, also over a real sshd on 127.0.0.1" {
	agent_holding alice
	prun rpcopy --sign alice.pub src "testhost:$BATS_TEST_TMPDIR/there"
	assert_success
	keygen_verifies there
	load sshd
	SSHD_DIR=$(mktemp -d /tmp/ptsshd.XXXXXX)
	sshd_start "$SSHD_DIR" 2> sshd-start.err || skip "no test sshd here: $(tail -n 1 sshd-start.err)"
	prun timeout -k 5 300 pcopy -e "$PTOOLS_TEST_SSH" --remote-pcopy "$(command -v pcopy)" \
		--mhl --sign alice.pub src "127.0.0.1:$BATS_TEST_TMPDIR/sshd" 3>&-
	assert_success
	keygen_verifies sshd
	keygen_verifies_file sshd/ascmhl/ascmhl_chain.xml
}

# fake_signing_server PATH: a stand-in for pcopy --server that greets, says
# READY and then asks to be signed out of place, as $FAKE_MODE says: "early"
# sends SIGN before any COMMIT, in place of its answer to the first FILE
# (sent by delta, PROTOCOL.md 4.7: the client waits for that answer, so it
# cannot have committed yet, whatever the timing); "twice" asks for the native seal twice after
# COMMIT; "chain" asks for an ASC MHL chain the run (no --mhl) does not write.
# Each SIGNATURE that comes back is appended to $FAKE_ANSWERS.
fake_signing_server() {
	{
		printf '#!/usr/bin/python3\nimport sys\nsys.path.insert(0, "%s")\n' "$BATS_TEST_DIRNAME"
		cat <<'PY'
import hashlib, os
from proto_frames import u8, blob, frame, hello, read_frame
mode, answers = os.environ["FAKE_MODE"], os.environ["FAKE_ANSWERS"]
def next_frame():
    got = read_frame(0)
    if got is None:
        sys.exit(0)
    if got[0] == 44:
        with open(answers, "ab") as f:
            f.write(got[1] + b"\n")
    return got
def sign(what):
    os.write(1, frame(43, u8(what) + blob(hashlib.sha512(b"anything").digest())))
os.write(1, hello())
next_frame()  # HELLO
next_frame()  # SETUP
os.write(1, frame(3))
if mode == "early":
    while next_frame()[0] != 13:
        pass
    sign(0)
else:
    while next_frame()[0] != 20:
        pass
    sign(0)
    next_frame()
    sign(0 if mode == "twice" else 1)
while True:
    next_frame()
PY
	} > "$1"
	chmod +x "$1"
}

# Intent: the client signs only what a run of its own would: never before
# COMMIT, each seal once, only the seals the run writes. A server that asks
# otherwise gets no signature for it, and the run fails.
@test "pcopy --sign refuses a server's signing request before COMMIT, twice, or for a seal the run does not write" {
	fake_signing_server fake
	export FAKE_ANSWERS=$BATS_TEST_TMPDIR/answers
	mkdir big
	head -c $((2 * 1024 * 1024)) /dev/zero > big/file
	FAKE_MODE=early prun timeout -k 5 60 pcopy -u -e "$BATS_TEST_DIRNAME/rsh-standin" \
		--remote-pcopy "$BATS_TEST_TMPDIR/fake" --sign alice big testhost:dest 3>&-
	assert_failure 1
	assert_output --partial 'a malformed message from the remote side: a signing request out of place'
	assert_not_exist answers
	for mode in twice chain; do
		rm -f answers
		FAKE_MODE=$mode prun timeout -k 5 60 pcopy -e "$BATS_TEST_DIRNAME/rsh-standin" \
			--remote-pcopy "$BATS_TEST_TMPDIR/fake" --sign alice src testhost:dest 3>&-
		assert_failure 1
		assert_output --partial 'a signing request out of place'
		# the first request after COMMIT was answered, the second was not
		assert_equal "$(grep -c 'BEGIN SSH SIGNATURE' answers)" 1
	done
}

# signing_client_stream OUT TAIL: a client's byte stream to pcopy --server:
# greeting, SETUP receiving into ./dest with flag bit 13 (sign through the
# client), one good file, COMMIT, then TAIL's answer to the server's SIGN:
# "other" a signature over other bytes, "garbled" armor around nonsense,
# "reason" no signature and a reason, "wrong" another frame, "none" nothing
# (the client gone); "unsigned": the same stream without bit 13 and no answer.
signing_client_stream() {
	/usr/bin/python3 - "$BATS_TEST_DIRNAME" "$@" <<'PY'
import hashlib, os, sys, xxhash
sys.path.insert(0, sys.argv[1])
from proto_frames import u32, u64, blob, frame, hello, setup_receive, entry
out, tail = sys.argv[2], sys.argv[3]
data = b"hello\n"
s = hello() + setup_receive(os.getcwd().encode() + b"/dest", flags=0 if tail == "unsigned" else 1 << 13)
s += entry(13, b"a", 0o100644, len(data)) + frame(14, blob(data))
s += frame(15, u32(1) + blob(hashlib.sha256(data).hexdigest().encode()) +
           blob(xxhash.xxh3_128(data).hexdigest().encode()))
s += frame(20, u64(0))
if tail == "other":
    s += frame(44, blob(open("other.sig", "rb").read()) + blob(b""))
elif tail == "garbled":
    s += frame(44, blob(b"-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n") + blob(b""))
elif tail == "reason":
    s += frame(44, blob(b"") + blob(b"agent refused operation"))
elif tail == "wrong":
    s += frame(20, u64(0))
open(out, "wb").write(s)
PY
}

# Intent: the server trusts no signature it did not check: one that does not
# verify over the seal it asked for, a refusal, a wrong answer, or no answer
# at all fail the destination, which is rolled back (nothing sealed, nothing
# left), exit 1.
@test "pcopy --server rolls back when the client's signature does not verify, is refused, or never comes" {
	/usr/bin/python3 -c 'import xxhash' 2>/dev/null || skip "python3-xxhash is not installed"
	echo other > other
	ssh-keygen -q -Y sign -f alice -n ptools-seal other
	for tail in other garbled reason wrong none; do
		rm -rf dest && mkdir dest
		signing_client_stream in.bin "$tail"
		prun sh -c 'pcopy --server < in.bin > out.bin'
		assert_equal "$tail:$status" "$tail:1"
		assert_equal "$tail:$(ls -A dest)" "$tail:"
		grep -aq 'rolled back' out.bin
		case $tail in
		other | garbled) grep -aq "the client's signature does not verify" out.bin ;;
		reason) grep -aq 'the client could not sign: agent refused operation' out.bin ;;
		wrong) grep -aq 'answer to the signing request is malformed' out.bin ;;
		none) grep -aq 'the client went away before it signed' out.bin ;;
		esac
	done
	# without bit 13 nothing is asked, and the copy is sealed unsigned (a good
	# signature through the client: the tests through the stand-in above)
	rm -rf dest && mkdir dest
	signing_client_stream in.bin unsigned
	prun sh -c 'pcopy --server < in.bin > out.bin'
	assert_success
	assert_exist dest/.ptools-seal
	assert_not_exist dest/.ptools-seal.sig
}
