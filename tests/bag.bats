#!/usr/bin/env bats
# SPDX-License-Identifier: 0BSD
# BagIt (RFC 8493): pcopy --bag makes each destination a bag, which a small
# validator written here in python3 (hashlib, independent of ptools) accepts,
# and pverify --bag validates bags: tampering of every kind is exit 1, paths
# escaping the bag and duplicate entries are refused, fetch.txt is checked and
# never fetched, --quick hashes nothing, 0.97 and ISO-8859-1 bags are read.

load test_helper
bats_require_minimum_version 1.5.0

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
}

# validate BAG: an independent BagIt validator; prints "valid" or the problems.
validate() {
	/usr/bin/python3 - "$1" <<'PY'
import hashlib, os, re, sys
bag = os.fsencode(sys.argv[1])
problems = []
def lines(data):
    return [l for l in re.split(rb"\r\n|\r|\n", data) if l]
def tags(data):
    out = {}
    for l in lines(data):
        k, v = l.split(b":", 1)
        out[k.strip()] = v.strip()
    return out
def decode(p):
    return re.sub(rb"%(0A|0D|25)", lambda m: bytes([int(m.group(1), 16)]), p, flags=re.I)
decl = tags(open(os.path.join(bag, b"bagit.txt"), "rb").read())
if decl.get(b"BagIt-Version") != b"1.0": problems.append("version")
if decl.get(b"Tag-File-Character-Encoding") != b"UTF-8": problems.append("encoding")
def manifest(name, alg):
    entries = {}
    for l in lines(open(os.path.join(bag, name), "rb").read()):
        m = re.match(rb"([0-9a-fA-F]+)[ \t]+(.*)$", l, re.S)
        path = decode(m.group(2))
        if path in entries: problems.append("duplicate %r" % path)
        entries[path] = m.group(1).lower().decode()
        if hashlib.new(alg, open(os.path.join(bag, path), "rb").read()).hexdigest() != entries[path]:
            problems.append("digest %r" % path)
    return entries
names = os.listdir(bag)
payload = [n for n in names if re.match(rb"manifest-\w+\.txt$", n)]
tagm = [n for n in names if re.match(rb"tagmanifest-\w+\.txt$", n)]
if not payload or not tagm: problems.append("manifests")
on_disk, octets = set(), 0
for d, dirs, files in os.walk(os.path.join(bag, b"data")):
    for f in files:
        full = os.path.join(d, f)
        on_disk.add(os.path.relpath(full, bag))
        octets += os.path.getsize(full)
for n in payload:
    listed = manifest(n, n[9:-4].decode())
    if set(listed) != on_disk: problems.append("listing of %r" % n)
for n in tagm:
    listed = manifest(n, n[12:-4].decode())
    for t in (b"bagit.txt", b"bag-info.txt") + tuple(payload):
        if t not in listed: problems.append("%r not in %r" % (t, n))
info = tags(open(os.path.join(bag, b"bag-info.txt"), "rb").read())
if info.get(b"Payload-Oxum") != b"%d.%d" % (octets, len(on_disk)): problems.append("oxum")
if not re.match(rb"\d{4}-\d\d-\d\d$", info.get(b"Bagging-Date", b"")): problems.append("date")
print("\n".join(problems) if problems else "valid")
PY
}

# retag BAG: rewrite every tag manifest from the tag files as they are now
# (so that a test changes one thing only: bag-info.txt's Payload-Oxum).
retag() {
	/usr/bin/python3 - "$1" <<'PY'
import hashlib, os, sys
bag = sys.argv[1]
for n in os.listdir(bag):
    if n.startswith("tagmanifest-"):
        alg = n[12:-4]
        names = [t for t in os.listdir(bag) if t in ("bagit.txt", "bag-info.txt") or t.startswith("manifest-")]
        with open(os.path.join(bag, n), "w") as out:
            for t in sorted(names):
                out.write("%s  %s\n" % (hashlib.new(alg, open(os.path.join(bag, t), "rb").read()).hexdigest(), t))
PY
}

# hand_bag DIR: a small bag written by hand (sha256), valid.
hand_bag() {
	mkdir -p "$1/data/sub"
	printf 'one\n' > "$1/data/a"
	printf 'two\n' > "$1/data/sub/b"
	printf 'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n' > "$1/bagit.txt"
	( cd "$1" && sha256sum data/a data/sub/b > manifest-sha256.txt )
	printf 'Payload-Oxum: 8.2\n' > "$1/bag-info.txt"
}

@test "pcopy --bag makes a bag of a tree with awkward names that an independent validator accepts" {
	make_awkward_tree src --no-long
	prun pcopy --bag src bag
	assert_success
	run validate bag
	assert_output valid
	diff -r src bag/data
	[ ! -e bag/data/.ptools-seal ]
	[ ! -e bag/.ptools-seal ]
	grep -q '%0A' bag/manifest-sha256.txt
	grep -q '%0D' bag/manifest-sha256.txt
	grep -q '%25' bag/manifest-sha256.txt
	prun pverify --bag bag
	assert_success
	prun pverify bag
	assert_success
}

@test "pcopy --bag writes one manifest per BagIt digest of -a and leaves the others out with a note" {
	make_tree src
	prun pcopy --bag -a sha512,xxh128,md5 src bag
	assert_success
	assert_output --partial "xxh128 has no BagIt name"
	[ -f bag/manifest-sha512.txt ] && [ -f bag/manifest-md5.txt ] && [ -f bag/tagmanifest-md5.txt ]
	[ ! -e bag/manifest-xxh128.txt ]
	run validate bag
	assert_output valid
	prun pcopy --bag -a xxh64 src bag2
	assert_failure 2
	assert_output --partial "none of the digests of -a can go in a bag"
	[ ! -e bag2 ]
}

@test "pcopy --bag refuses an existing bag without --force, and re-bags with it, dropping stale manifests" {
	make_tree src
	prun pcopy --bag -a md5 src bag
	assert_success
	prun pcopy --bag src bag
	assert_failure 1
	assert_output --partial "a bag is there already"
	[ -f bag/manifest-md5.txt ]
	prun pcopy --bag --force -a sha256 src bag
	assert_success
	[ ! -e bag/manifest-md5.txt ] && [ ! -e bag/tagmanifest-md5.txt ]
	run validate bag
	assert_output valid
}

@test "a pcopy --bag run that fails leaves no tag files and removes the bag it made" {
	make_tree src
	chmod 000 src/sub
	chmod 755 "$BATS_TEST_TMPDIR"
	mkdir out && chown nobody out
	if ! as_nobody test -w out; then skip "nobody cannot reach the test directory"; fi
	prun as_nobody pcopy --bag src out/bag
	assert_failure 1
	assert_output --partial "rolled back"
	[ ! -e out/bag ]
}

@test "kill -9 during pcopy --bag, then pcopy --rollback --bag, leaves no bag behind" {
	build_shim
	make_many src 400
	start_slow_pcopy bag/data --bag src bag
	[ -f bag/data/.pcopy-journal ]
	kill -KILL "$pid"
	wait "$pid" || true
	[ ! -e bag/bagit.txt ]
	prun pcopy --rollback --bag bag
	assert_success
	assert_output --partial "rolled back"
	[ ! -e bag/data ]
	prun pcopy --rollback --bag bag
	assert_failure 1
	assert_output --partial "no journal"
}

@test "pverify --bag finds each kind of tampering and exits 1" {
	make_tree src
	prun pcopy --bag src good
	assert_success
	# a changed byte in a payload file
	cp -a good t1 && printf 'X' | dd of=t1/data/a bs=1 seek=0 conv=notrunc status=none
	prun pverify --bag t1
	assert_failure 1
	assert_output --partial "$(printf 'FAILED\tdata/a')"
	run validate t1
	refute_output valid
	# an extra payload file
	cp -a good t2 && printf 'new\n' > t2/data/extra
	prun pverify --bag t2
	assert_failure 1
	assert_output --partial "$(printf 'NEW\tdata/extra')"
	assert_output --partial "Payload-Oxum"
	# a removed payload file
	cp -a good t3 && rm t3/data/sub/c
	prun pverify --bag t3
	assert_failure 1
	assert_output --partial "$(printf 'MISSING\tdata/sub/c')"
	# an edited manifest line (the tag manifest no longer matches either)
	cp -a good t4 && sed -i 's/^[0-9a-f]/0/' t4/manifest-sha256.txt
	prun pverify --bag t4
	assert_failure 1
	assert_output --partial "$(printf 'FAILED\tmanifest-sha256.txt')"
	# an edited tag file
	cp -a good t5 && printf 'Contact-Name: someone\n' >> t5/bag-info.txt
	prun pverify --bag t5
	assert_failure 1
	assert_output --partial "$(printf 'FAILED\tbag-info.txt')"
	# a wrong Payload-Oxum, the tag manifest made to match it
	cp -a good t6 && sed -i 's/^Payload-Oxum: .*/Payload-Oxum: 1.1/' t6/bag-info.txt && retag t6
	prun pverify --bag t6
	assert_failure 1
	assert_output --partial "Payload-Oxum 1.1, but data/ holds"
	refute_output --partial FAILED
	# and the untouched bag still validates
	prun pverify --bag good
	assert_success
}

@test "pverify --bag counts Payload-Oxum from every payload file as it is: grown, unreadable, found as its NFD form" {
	# Bytes: a 4, sub/b 4, caf\u00e9 2; the checks learn the sizes of the
	# files they open, the others are stat'ed: the count is the same.
	hand_bag good
	printf 'zz' > "good/data/$(printf 'caf\xc3\xa9')"
	( cd good && sha256sum "data/$(printf 'caf\xc3\xa9')" >> manifest-sha256.txt )
	printf 'Payload-Oxum: 10.3\n' > good/bag-info.txt
	prun pverify --bag good
	assert_success
	# a listed file grown by 3 bytes: FAILED, and data/ holds 13 bytes
	cp -a good grown && printf 'abc' >> grown/data/sub/b
	prun pverify --bag grown
	assert_failure 1
	assert_output --partial "$(printf 'FAILED\tdata/sub/b')"
	assert_output --partial "Payload-Oxum 10.3, but data/ holds 13.3"
	# the NFC name on disk as NFD, grown: found, and its bytes counted
	cp -a good nfd && mv "nfd/data/$(printf 'caf\xc3\xa9')" "nfd/data/$(printf 'cafe\xcc\x81')"
	printf 'y' >> "nfd/data/$(printf 'cafe\xcc\x81')"
	prun pverify --bag nfd
	assert_failure 1
	assert_output --partial "found as its NFD form"
	assert_output --partial "Payload-Oxum 10.3, but data/ holds 11.3"
	# a listed file nobody may read: an error, but its bytes are still
	# there (in /tmp: pverify resolves the bag's path from /, and nobody
	# may not pass through the test directory's parents)
	local dir
	dir=$(mktemp -d /tmp/bag-oxum.XXXXXX)
	chmod 755 "$dir"
	cp -a good "$dir/locked" && chmod -R a+rX "$dir/locked" && chmod 000 "$dir/locked/data/sub/b"
	prun as_nobody pverify --bag "$dir/locked"
	rm -rf "$dir"
	assert_failure 1
	assert_output --partial "$(printf 'ERROR\tdata/sub/b')"
	refute_output --partial "Payload-Oxum"
}

@test "pverify --bag refuses a payload file missing from one of the payload manifests" {
	make_tree src
	prun pcopy --bag -a sha256,md5 src bag
	assert_success
	sed -i '/data\/b$/d' bag/manifest-md5.txt
	retag bag
	prun pverify --bag bag
	assert_failure 1
	assert_output --partial "data/b: not listed in manifest-md5.txt"
}

@test "pverify --bag refuses duplicate entries and paths escaping the bag, in manifests and fetch.txt" {
	hand_bag ok
	prun pverify --bag ok
	assert_success
	cp -a ok dup && ( cd dup && sha256sum ./data/a >> manifest-sha256.txt )
	prun pverify --bag dup
	assert_failure 1
	assert_output --partial "dup/manifest-sha256.txt:3: data/a: listed twice"
	for bad in ../x /etc/passwd data/../../x '~/x' 'c:/x'; do
		rm -rf esc && cp -a ok esc
		printf '%s  %s\n' "$(sha256sum < /etc/hostname | cut -d' ' -f1)" "$bad" >> esc/manifest-sha256.txt
		prun pverify --bag esc
		assert_failure 1
		assert_output --regexp "esc/manifest-sha256.txt:3: .*(outside the bag|outside data/)"
		rm -rf esc && cp -a ok esc
		printf 'https://example.org/x 5 %s\n' "$bad" > esc/fetch.txt
		prun pverify --bag esc
		assert_failure 1
		assert_output --regexp "esc/fetch.txt:1: .*(outside the bag|outside data/)"
	done
	# a symlink inside data/ that leads out of the bag
	cp -a ok link && ln -s /etc/hostname link/data/out
	( cd link && sha256sum data/out >> manifest-sha256.txt )
	prun pverify --bag link
	assert_failure 1
	assert_output --partial "data/out"
}

@test "pverify --bag judges a holey bag on what it holds: fetch.txt items absent make it incomplete" {
	hand_bag holey
	printf 'https://example.org/b 4 data/sub/b\n' > holey/fetch.txt
	prun pverify --bag holey
	assert_success
	rm holey/data/sub/b
	prun pverify --bag holey
	assert_failure 1
	assert_output --partial "data/sub/b: listed in fetch.txt and not fetched"
	assert_output --partial "incomplete: 1 file(s) of fetch.txt not fetched"
}

@test "pverify --bag --quick checks Payload-Oxum and presence, hashing nothing" {
	make_tree src
	prun pcopy --bag src bag
	assert_success
	printf 'X' | dd of=bag/data/a bs=1 seek=0 conv=notrunc status=none
	prun pverify --bag --quick bag
	assert_success
	assert_output --partial "sizes only, not hashed"
	printf 'X' >> bag/data/a
	prun pverify --bag --quick bag
	assert_failure 1
	assert_output --partial "Payload-Oxum"
	prun pverify --quick bag/manifest-sha256.txt
	assert_failure 2
}

@test "pverify reads a BagIt 0.97 bag (no percent-encoding) and an ISO-8859-1 one" {
	mkdir -p old/data
	printf 'x' > 'old/data/100%25'
	printf 'BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n' > old/bagit.txt
	printf '%s  data/100%%25\n' "$(sha256sum < 'old/data/100%25' | cut -d' ' -f1)" > old/manifest-sha256.txt
	prun pverify --bag old
	assert_success
	assert_output --partial "1 ok"
	mkdir -p latin/data
	printf 'e' > latin/data/$'\xc3\xa9t\xc3\xa9'
	printf 'BagIt-Version: 1.0\r\nTag-File-Character-Encoding: ISO-8859-1\r\n' > latin/bagit.txt
	printf '%s  data/\xe9t\xe9\r\n' "$(printf e | md5sum | cut -d' ' -f1)" > latin/manifest-md5.txt
	printf 'Payload-Oxum: 1.1\r\nSource-Organization: Universit\xe9\r\n' > latin/bag-info.txt
	prun pverify --bag latin
	assert_success
	assert_output --partial "1 ok"
}

@test "pverify --bag rejects an unreadable bag declaration clearly" {
	hand_bag b
	printf '\xff\xfeB\0a\0' > b/bagit.txt
	prun pverify --bag b
	assert_failure 1
	assert_output --partial "b/bagit.txt: UTF-16"
	printf 'BagIt-Version: 2.0\nTag-File-Character-Encoding: UTF-8\n' > b/bagit.txt
	prun pverify --bag b
	assert_failure 1
	assert_output --partial "unsupported BagIt-Version"
	printf 'BagIt-Version: 1.0\nTag-File-Character-Encoding: EBCDIC\n' > b/bagit.txt
	prun pverify --bag b
	assert_failure 1
	assert_output --partial "unsupported Tag-File-Character-Encoding"
	rm b/bagit.txt
	prun pverify --bag b
	assert_failure 1
	assert_output --partial "b/bagit.txt: missing: not a bag"
	refute_output --partial NEW
}

@test "pverify --bag usage errors exit 2" {
	hand_bag b
	prun pverify --bag b b
	assert_failure 2
	prun pverify --bag
	assert_failure 2
	prun pverify --bag --audit b b
	assert_failure 2
	prun pverify --bag nonexistent
	assert_failure 2
	prun pcopy --bag --dry-run b c
	assert_failure 2
	prun pcopy --bag b/data b
	assert_failure 2
	assert_output --partial "the bag's payload directory is the source directory"
	prun pcopy --bag --resume b c
	assert_failure 2
}

@test "pcopy --bag --to makes a bag of the records read on standard input" {
	make_tree src
	( cd src && find . -type f ) > list
	prun pcopy --bag --from src --to bag < list
	assert_success
	run validate bag
	assert_output valid
}

@test "pcopy --bag --sign signs the tag manifest: ssh-keygen -Y verify and pverify --signers accept it" {
	command -v ssh-keygen >/dev/null || skip "ssh-keygen (openssh-client) is not installed"
	unset SSH_AUTH_SOCK
	make_tree src
	ssh-keygen -q -t ed25519 -N '' -C alice@example.org -f alice
	printf 'alice@example.org namespaces="ptools-seal" %s\n' "$(cut -d' ' -f1,2 alice.pub)" > allowed
	prun pcopy --bag --sign alice src bag
	assert_success
	run ssh-keygen -Y verify -f allowed -I alice@example.org -n ptools-seal \
		-s bag/tagmanifest-sha256.txt.sig < bag/tagmanifest-sha256.txt
	assert_success
	prun pverify --bag --signers allowed bag
	assert_success
	printf '\n' >> bag/tagmanifest-sha256.txt
	prun pverify --bag --signers allowed bag
	assert_failure 1
}

@test "pcopy --bag refuses a symlink in the source (a bag's payload holds files): the run stops, or -k leaves it out and says so" {
	mkdir src
	printf 'a\n' > src/a
	ln -s a src/link
	prun pcopy --bag -a sha256 src bag
	assert_failure 1
	assert_output --partial "link: a symlink cannot go into a bag"
	assert_not_exist bag
	prun pcopy -k --bag -a sha256 src bag
	assert_failure 1
	assert_output --partial "left out"
	run validate bag
	assert_output valid
	prun pverify --bag bag
	assert_success
}

@test "pverify --bag refuses a FIFO in place of a tag file at once, never waiting on it" {
	mkdir -p src/sub
	printf 'one' > src/a.txt
	printf 'two' > src/sub/b.txt
	run pcopy --bag -a sha256 src bag
	assert_success
	for tag in bagit.txt manifest-sha256.txt tagmanifest-sha256.txt bag-info.txt fetch.txt; do
		rm -rf b && cp -a bag b
		rm -f "b/$tag" && mkfifo "b/$tag"
		run timeout -k 5 20 pverify --bag b
		assert_equal "$status" 1
		assert_output --partial "b/$tag: not a regular file"
	done
}
