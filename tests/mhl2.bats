#!/usr/bin/env bats
# SPDX-License-Identifier: 0BSD
# ASC MHL v2 histories and in-place seals: what phash --seal (--mhl) and
# pcopy --mhl write is checked by tests/mhl2_check.py, an independent reader
# (python3's xml.etree, hashlib, python3-xxhash, its own C4 and directory
# hashes after the reference implementation's rules); pverify --mhl judges
# histories, tampered ones and hostile XML.

load test_helper
bats_require_minimum_version 1.5.0

CHECK="$BATS_TEST_DIRNAME/mhl2_check.py"

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	/usr/bin/python3 -c 'import xxhash' 2>/dev/null || skip "python3-xxhash is not installed"
}

# card DIR: a small camera card: nested clips, an empty directory, awkward names.
card() {
	mkdir -p "$1/Clips/A001" "$1/Clips/A002" "$1/Empty" "$1/Sound"
	printf 'clip one' > "$1/Clips/A001/C001.mov"
	head -c 200000 /dev/urandom > "$1/Clips/A001/C002.mov"
	printf 'clip three' > "$1/Clips/A002/C003.mov"
	printf 'wav' > "$1/Sound/take 1 & <2>.wav"
	printf 'caf\xc3\xa9' > "$1/Sound/caf\xc3\xa9.txt"
	printf 'notes\n' > "$1/Sidecar.txt"
	: > "$1/empty-file"
}

# sealed DIR [ARGS...]: card DIR sealed in place with an ASC MHL generation.
sealed() {
	local dir=$1
	shift
	card "$dir"
	run phash --seal --mhl "$@" "$dir"
	assert_success
}

# second_generation DIR: DIR's history has grown by generation 0002, its
# 0001 as it was (a copy in first.mhl), and the reference reader accepts both.
second_generation() {
	local dir=$1
	cmp first.mhl "$dir"/ascmhl/0001_*.mhl
	run ls "$dir/ascmhl"
	assert_line --regexp "^0002_${dir}_.*Z\.mhl\$"
	run grep -c '<hashlist sequencenr=' "$dir/ascmhl/ascmhl_chain.xml"
	assert_output 2
	run /usr/bin/python3 "$CHECK" "$dir"
	assert_success
	assert_output --partial "2 generations checked"
}

# chain_c4 FILE: the C4 id of FILE, computed here (base58 of SHA-512).
chain_c4() {
	/usr/bin/python3 - "$1" <<'PY'
import hashlib, sys
a = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
n = int.from_bytes(hashlib.sha512(open(sys.argv[1], 'rb').read()).digest(), 'big')
s = ''
while n:
    n, r = divmod(n, 58)
    s = a[r] + s
print('c4' + s.rjust(88, '1'))
PY
}

# hostile_history DIR GENERATION: DIR's history made of one generation file
# (copied from GENERATION), with a chain that lists it under its true C4, so
# that only the generation's content is to blame.
hostile_history() {
	mkdir -p "$1/ascmhl"
	cp "$2" "$1/ascmhl/0001_x_2024-01-01_000000Z.mhl"
	cat > "$1/ascmhl/ascmhl_chain.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<ascmhldirectory xmlns="urn:ASC:MHL:DIRECTORY:v2.0">
  <hashlist sequencenr="1">
    <path>0001_x_2024-01-01_000000Z.mhl</path>
    <c4>$(chain_c4 "$2")</c4>
  </hashlist>
</ascmhldirectory>
EOF
}

# refuse GENERATION MESSAGE: pverify exits 2 on a history holding GENERATION, saying MESSAGE.
refuse() {
	mkdir -p hostile
	hostile_history hostile "$1"
	prun pverify --mhl hostile
	assert_failure 2
	assert_output --partial "$2"
}

@test "phash --seal --mhl writes a generation and chain that an independent reader accepts, every format" {
	sealed card -a c4,md5,sha1,xxh64,xxh3,xxh128
	run ls card/ascmhl
	assert_success
	assert_line --regexp '^0001_card_[0-9]{4}-[0-9]{2}-[0-9]{2}_[0-9]{6}Z\.mhl$'
	assert_line ascmhl_chain.xml
	run /usr/bin/python3 "$CHECK" card
	assert_success
	assert_output --partial "7 files, 1 generations checked"
	run grep -c '<directoryhash>' card/ascmhl/0001_*.mhl
	assert_output 5
	grep -q '<process>in-place</process>' card/ascmhl/0001_*.mhl
	grep -q '<xxh128 action="original" hashdate="' card/ascmhl/0001_*.mhl
	prun pverify --mhl card
	assert_success
	assert_output "pverify: 7 ok, 0 failed, 0 missing, 0 errors, 0 new, 0 moved"
}

@test "phash --seal --mhl over records that fill its pipe many times: the generation an independent reader accepts, the root hash pcopy gives" {
	# The generation is made from phash's records as they come through a
	# pipe, read in chunks: records cut between two reads must come out
	# whole. 2,000 files with long names are some 400 KB of records.
	local name=a-name-long-enough-to-make-records-of-two-hundred-bytes-or-so
	make_many tree 2000 7
	for f in tree/d3/f*; do mv "$f" "$f-$name"; done
	run phash --seal --mhl tree
	assert_success
	run /usr/bin/python3 "$CHECK" tree
	assert_success
	assert_output --partial "2000 files, 1 generations checked"
	prun pcopy --mhl tree copy
	assert_success
	# Without a pipe (out of descriptors) the generation is written after
	# the walk, from the records' temporary: the same root hash.
	build_shim
	mkdir again
	cp -a tree/d* again/
	run env LD_PRELOAD="$BATS_TEST_TMPDIR/eio.so" EIO_SHIM_NO_PIPE=1 phash --seal --mhl again
	assert_success
	run /usr/bin/python3 "$CHECK" again
	assert_success
	assert_output --partial "2000 files, 1 generations checked"
	run diff <(sed -n '/<roothash>/,/<\/roothash>/p' tree/ascmhl/0001_*.mhl | sed 's/ hashdate="[^"]*"//') \
		<(sed -n '/<roothash>/,/<\/roothash>/p' again/ascmhl/0001_*.mhl | sed 's/ hashdate="[^"]*"//')
	assert_success
	# The copy carries the tree's generation (0001) and adds its own.
	run diff <(sed -n '/<roothash>/,/<\/roothash>/p' tree/ascmhl/0001_*.mhl | sed 's/ hashdate="[^"]*"//') \
		<(sed -n '/<roothash>/,/<\/roothash>/p' copy/ascmhl/0002_*.mhl | sed 's/ hashdate="[^"]*"//')
	assert_success
}

@test "phash --seal --mhl uses xxh64 and md5 by default and refuses formats MHL does not name" {
	sealed card
	run /usr/bin/python3 "$CHECK" card
	assert_success
	grep -q '<xxh64 action="original"' card/ascmhl/0001_*.mhl
	grep -q '<md5 action="original"' card/ascmhl/0001_*.mhl
	run grep -c '<sha1\|<c4' card/ascmhl/0001_*.mhl
	assert_output 0
	prun phash --seal --mhl -a sha256 card
	assert_failure 2
	assert_output --partial "ASC MHL has no format for sha256"
}

@test "a second phash --seal --mhl appends generation 0002, extends the chain, leaves 0001 as it was" {
	sealed card
	cp card/ascmhl/0001_*.mhl first.mhl
	printf 'new clip' > card/Clips/A002/C004.mov
	run phash --seal --mhl -a c4,xxh64 card
	assert_success
	second_generation card
	# Digests the history had are verified; the new file's and format's are original.
	run grep -c '<xxh64 action="verified"' card/ascmhl/0002_*.mhl
	assert_output 7
	run grep -c '<xxh64 action="original"' card/ascmhl/0002_*.mhl
	assert_output 1
	run grep -c '<c4 action="original"' card/ascmhl/0002_*.mhl
	assert_output 8
	prun pverify card
	assert_success
}

@test "phash --seal --mhl and pcopy --mhl -u do not extend a history whose generation changed or went missing" {
	# A new generation after a changed one would vouch for it.
	sealed card
	sed -i '0,/original/s//verified/' card/ascmhl/0001_*.mhl
	cp -a card before
	prun phash --seal --mhl card
	assert_failure 1
	assert_output --regexp "card: ascmhl/0001_card_.*Z\.mhl: generation changed: its C4 differs from the chain's: no generation added"
	diff -r before card
	rm card/ascmhl/0001_*.mhl
	prun phash --seal --mhl card
	assert_failure 1
	assert_output --partial "listed by the chain but missing: no generation added"
	[ "$(ls card/ascmhl)" = ascmhl_chain.xml ]
	# pcopy -u into a destination whose history was changed: rolled back.
	card src
	prun pcopy --mhl src dest
	assert_success
	sed -i '0,/original/s//verified/' dest/ascmhl/0001_*.mhl
	cp -a dest dest-before
	printf 'more' > src/Sound/more.wav
	prun pcopy --mhl -u src dest
	assert_failure 1
	assert_output --regexp "dest/ascmhl/0001_dest_.*Z\.mhl: generation changed: its C4 differs from the chain's"
	assert_output --partial "rolled back"
	diff -r dest-before dest
}

@test "phash --seal --mhl records a file that differs from the history as failed, and exits 1" {
	sealed card
	printf 'changed' > card/Sidecar.txt
	prun phash --seal --mhl card
	assert_failure 1
	assert_output --partial 'card: Sidecar.txt: differs from the digest the ASC MHL history records'
	run grep -A2 '>Sidecar.txt</path>' card/ascmhl/0002_*.mhl
	assert_output --partial '<md5 action="failed"'
	run grep -c 'action="failed"' card/ascmhl/0002_*.mhl
	assert_output 2
	# The failed digest is not trusted: the file still fails against the history.
	prun pverify card
	assert_failure 1
	assert_line "FAILED	Sidecar.txt"
}

@test "phash --seal writes a native seal that pverify accepts, leaving the seal out of its listing" {
	card card
	run phash --seal -a sha256,xxh64 card
	assert_success
	assert_output ""
	run head -1 card/.ptools-seal
	assert_output "# ptools seal v1"
	run grep -vc '^#' card/.ptools-seal
	assert_output 7
	prun pverify -C card --sealed card/.ptools-seal
	assert_success
	# Sealed again: the old seal is not listed in the new one.
	run phash --seal -a sha256 card
	assert_success
	run grep -c 'ptools-seal' card/.ptools-seal
	assert_output 0
	prun pverify -C card --audit . card/.ptools-seal
	assert_success
	[ ! -e card/.ptools-seal.tmp ]
}

@test "phash --seal writes no seal when a file cannot be read, and keeps the previous one" {
	card card
	run phash --seal card
	assert_success
	cp card/.ptools-seal before
	chown -R nobody card
	chmod 000 card/Sidecar.txt
	prun as_nobody phash --seal card
	assert_failure 1
	assert_output --partial "seal not written: not every file was read"
	cmp before card/.ptools-seal
	prun as_nobody phash --seal --mhl card
	assert_failure 1
	[ ! -e card/ascmhl ]
}

@test "phash --seal refuses to replace a file that is not a seal, and usage errors exit 2" {
	card card
	echo mine > card/.ptools-seal
	prun phash --seal card
	assert_failure
	assert_output --partial "exists and is not a seal"
	run cat card/.ptools-seal
	assert_output mine
	prun phash --mhl card
	assert_failure 2
	prun phash --seal card card
	assert_failure 2
	prun phash --seal --format gnu card
	assert_failure 2
}

@test "pverify --mhl reports a changed byte in a file as FAILED and exits 1" {
	sealed card -a c4,xxh3
	printf 'clip onE' > card/Clips/A001/C001.mov
	prun pverify --mhl card
	assert_failure 1
	assert_line "FAILED	Clips/A001/C001.mov"
}

@test "pverify --mhl reports a new file as NEW and a removed one as MISSING, exit 1" {
	sealed card
	printf 'x' > card/Clips/extra.mov
	prun pverify --mhl card
	assert_failure 1
	assert_line "NEW	Clips/extra.mov"
	rm card/Clips/extra.mov card/Sidecar.txt
	prun pverify --mhl card
	assert_failure 1
	assert_line "MISSING	Sidecar.txt"
}

@test "pverify --mhl reports a changed byte in a generation: its C4 differs from the chain's, exit 1" {
	sealed card
	sed -i 's/<hostname>/<hostname>x/' card/ascmhl/0001_*.mhl
	prun pverify --mhl card
	assert_failure 1
	assert_output --partial "generation changed: its C4 differs from the chain's"
}

@test "pverify --mhl holds a generation whose XML breaks early to its C4 over the whole file, exit 2" {
	sealed card
	# The C4 is hashed from the reads that parse the generation: a parse that
	# stops at a broken tag near the top must still hash the rest, here past
	# the first read (64 KiB of padding), and find the C4 the chain records.
	gen=$(echo card/ascmhl/0001_*.mhl)
	sed -i 's/<hostname>/<hostname<>/' "$gen"
	head -c 200000 /dev/zero | tr '\0' ' ' >> "$gen"
	sed -i "s|<c4>.*</c4>|<c4>$(chain_c4 "$gen")</c4>|" card/ascmhl/ascmhl_chain.xml
	prun pverify --mhl card
	assert_failure 2
	assert_output --partial "ASC MHL: malformed XML"
	refute_output --partial "C4 differs"
	# one more byte, at the end, far past where the parse stopped, is seen
	echo >> "$gen"
	prun pverify --mhl card
	assert_failure 2
	assert_output --partial "generation changed: its C4 differs from the chain's"
}

@test "pverify --mhl reports a changed byte in the chain, a removed generation and a removed chain, exit 1" {
	sealed card
	cp -a card saved
	# one character of the first C4 in the chain, made another (a swap of two
	# could swap equal ones)
	/usr/bin/python3 - card/ascmhl/ascmhl_chain.xml <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
i = s.index('<c4>c4') + 6
s = s[:i] + ('2' if s[i] == '1' else '1') + s[i + 1:]
open(p, 'w').write(s)
PY
	prun pverify --mhl card
	assert_failure 1
	assert_output --partial "its C4 differs from the chain's"
	rm -rf card && cp -a saved card
	rm card/ascmhl/0001_*.mhl
	prun pverify --mhl card
	assert_failure 1
	assert_output --partial "generation missing (listed in the chain)"
	rm -rf card && cp -a saved card
	rm card/ascmhl/ascmhl_chain.xml
	prun pverify --mhl card
	assert_failure 1
	assert_output --partial "chain missing"
	rm -rf card && cp -a saved card
	cp card/ascmhl/0001_*.mhl card/ascmhl/0002_card_2030-01-01_000000Z.mhl
	prun pverify --mhl card
	assert_failure 1
	assert_output --partial "generation not in the chain"
}

@test "pverify --mhl recomputes directory hashes: one changed in a generation is reported, exit 1" {
	sealed card -a xxh64
	gen=$(echo card/ascmhl/0001_*.mhl)
	/usr/bin/python3 - "$gen" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
i = s.index('<path>Clips/A001</path>')
j = s.index('<xxh64', i)
k = s.index('>', j) + 1
s = s[:k] + ('0' if s[k] != '0' else '1') + s[k + 1:]
open(p, 'w').write(s)
PY
	# The chain made to match, so only the directory hash is wrong.
	sed -i "s|<c4>.*</c4>|<c4>$(chain_c4 "$gen")</c4>|" card/ascmhl/ascmhl_chain.xml
	prun pverify --mhl card
	assert_failure 1
	assert_output --partial "card/Clips/A001: directory xxh64 hash differs from the files"
	refute_output --partial "C4 differs"
}

@test "pverify reads a history written independently, by the reference implementation's rules" {
	card card
	/usr/bin/python3 - card <<'PY'
import hashlib, os, sys, xxhash
from xml.sax.saxutils import escape
root = sys.argv[1]
A = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
def c4(d):
    n = int.from_bytes(d, 'big'); s = ''
    while n:
        n, r = divmod(n, 58); s = A[r] + s
    return 'c4' + s.rjust(88, '1')
def c4b(s):
    n = 0
    for ch in s[2:]:
        n = n * 58 + A.index(ch)
    return n.to_bytes(64, 'big')
H = {'xxh128': (xxhash.xxh3_128, bytes.fromhex), 'c4': (hashlib.sha512, c4b)}
def hs(f, data):
    d = H[f][0](data).digest()
    return c4(d) if f == 'c4' else d.hex()
def hol(f, l):
    h = H[f][0]()
    for s in sorted(l):
        h.update(H[f][1](s))
    return c4(h.digest()) if f == 'c4' else h.hexdigest()
out = []
def walk(d, rel):
    res = {}
    for f in H:
        res[f] = ([], [])
    for name in sorted(os.listdir(d)):
        p, r = os.path.join(d, name), (rel + '/' + name if rel else name)
        if os.path.isdir(p):
            sub = walk(p, r)
            out.append('<directoryhash><path>%s</path><content>%s</content><structure>%s</structure></directoryhash>' % (escape(r),
                ''.join('<%s>%s</%s>' % (f, sub[f][0], f) for f in H), ''.join('<%s>%s</%s>' % (f, sub[f][1], f) for f in H)))
            for f in H:
                res[f][0].append(sub[f][0]); res[f][1].append(hs(f, name.encode() + H[f][1](sub[f][1])))
        else:
            data = open(p, 'rb').read()
            out.append('<hash><path size="%d">%s</path>%s</hash>' % (len(data), escape(r),
                ''.join('<%s action="original" hashdate="2024-01-01T00:00:00+00:00">%s</%s>' % (f, hs(f, data), f) for f in H)))
            for f in H:
                c = hs(f, data)
                res[f][0].append(c); res[f][1].append(hs(f, name.encode() + H[f][1](c)))
    return {f: (hol(f, res[f][0]), hol(f, res[f][1])) for f in H}
top = walk(root, '')
gen = ('<?xml version="1.0" encoding="UTF-8"?>\n<hashlist version="2.0" xmlns="urn:ASC:MHL:v2.0">'
       '<creatorinfo><creationdate>2024-01-01T00:00:00+00:00</creationdate><hostname>h</hostname>'
       '<tool version="1">test</tool></creatorinfo><processinfo><process>in-place</process><roothash><content>%s</content>'
       '<structure>%s</structure></roothash><ignore><pattern>ascmhl</pattern></ignore></processinfo><hashes>\n%s\n</hashes></hashlist>\n') % (
       ''.join('<%s>%s</%s>' % (f, top[f][0], f) for f in H), ''.join('<%s>%s</%s>' % (f, top[f][1], f) for f in H),
       '\n'.join(out))
os.mkdir(os.path.join(root, 'ascmhl'))
name = '0001_card_2024-01-01_000000Z.mhl'
open(os.path.join(root, 'ascmhl', name), 'w').write(gen)
open(os.path.join(root, 'ascmhl', 'ascmhl_chain.xml'), 'w').write(
    '<?xml version="1.0" encoding="UTF-8"?>\n<ascmhldirectory xmlns="urn:ASC:MHL:DIRECTORY:v2.0"><hashlist sequencenr="1">'
    '<path>%s</path><c4>%s</c4></hashlist></ascmhldirectory>\n' % (name, c4(hashlib.sha512(gen.encode()).digest())))
PY
	prun pverify -v card
	assert_success
	assert_line "OK	Sound/take 1 & <2>.wav"
	assert_output --partial "7 ok, 0 failed"
	run /usr/bin/python3 "$CHECK" card
	assert_success
}

@test "pverify --mhl refuses malformed XML in a generation with exit 2" {
	printf '<?xml version="1.0"?>\n<hashlist version="2.0"><hashes><hash><path>a</path>' > cut.mhl
	refuse cut.mhl "malformed XML"
	printf '<hashlist version="1.1"><hashes/></hashlist>' > v1.mhl
	rm -rf hostile
	refuse v1.mhl "not an ASC MHL v2 generation"
}

@test "a chain with bytes after its root element: pverify, phash --seal --mhl and pcopy --mhl name expat's reason" {
	# The reason lived in the freed reader, read after it was freed (make
	# check's ASan caught it); a plain build printed it by luck.
	sealed card
	echo junk >> card/ascmhl/ascmhl_chain.xml
	prun pverify --mhl card
	assert_failure 2
	assert_output --partial "ascmhl_chain.xml:1: ASC MHL chain: malformed XML: junk after document element"
	# phash reads the history before any file: it stops there, before
	# hashing a tree whose seal could not be written (no file is read,
	# so the unreadable one is never reported).
	chown -R nobody card
	chmod 000 card/Sidecar.txt
	prun as_nobody phash --seal --mhl card
	assert_failure 1
	assert_output --partial "ascmhl_chain.xml: malformed XML: junk after document element: no generation added"
	refute_output --partial "Sidecar.txt"
	chmod 644 card/Sidecar.txt
	prun pcopy --mhl card dest
	assert_failure 1
	assert_output --partial "ascmhl_chain.xml: malformed XML: junk after document element"
	[ ! -e dest ]
}

@test "pverify --mhl refuses a billion-laughs entity, a huge attribute and deep nesting with exit 2" {
	/usr/bin/python3 - > laughs.mhl <<'PY'
print('<?xml version="1.0"?>')
print('<!DOCTYPE hashlist [')
print(' <!ENTITY lol "lol">')
for i in range(1, 10):
    print(' <!ENTITY lol%d "%s">' % (i, ("&lol%s;" % ("" if i == 1 else i - 1)) * 10))
print(']>')
print('<hashlist version="2.0"><hashes><hash><path>&lol9;</path><md5>00000000000000000000000000000000</md5></hash></hashes></hashlist>')
PY
	refuse laughs.mhl "DOCTYPE refused"
	/usr/bin/python3 -c '
print("<hashlist version=\"2.0\"><hashes><hash><path size=\"" + "1" * 2000000 + "\">a</path></hash></hashes></hashlist>")' > attr.mhl
	rm -rf hostile
	refuse attr.mhl "longer than 1 MiB"
	/usr/bin/python3 -c '
print("<hashlist version=\"2.0\">" + "<a>" * 100 + "</a>" * 100 + "</hashlist>")' > deep.mhl
	rm -rf hostile
	refuse deep.mhl "nested too deep"
}

@test "pverify --mhl refuses a UTF-16 generation whose byte-order mark does not match with exit 2" {
	printf '\xff\xfe<?xml version="1.0" encoding="UTF-8"?><hashlist version="2.0"></hashlist>' > bom.mhl
	refuse bom.mhl "byte-order mark"
}

@test "pverify --mhl: usage errors and a folder without a history exit 2" {
	card card
	prun pverify --mhl card
	assert_failure 2
	assert_output --partial "no ASC MHL history"
	sealed other
	prun pverify --mhl other -C other
	assert_failure 2
	prun pverify --mhl other manifest
	assert_failure 2
}

@test "pcopy --mhl writes each destination an ASC MHL generation an independent reader accepts" {
	card src
	prun pcopy --mhl -a xxh64,md5,c4 src d1 d2
	assert_success
	for d in d1 d2; do
		run /usr/bin/python3 "$CHECK" "$d"
		assert_success
		assert_output --partial "7 files, 1 generations checked"
		grep -q '<process>transfer</process>' "$d"/ascmhl/0001_"$d"_*Z.mhl
		prun pverify "$d"
		assert_success
		prun pverify -C "$d" "$d/.ptools-seal"
		assert_success
	done
	prun pcopy --mhl -a sha256 src d3
	assert_failure 2
	assert_output --partial "no digest ASC MHL names"
	prun pcopy --mhl --seal=other src d3
	assert_failure 2
	[ ! -e d3 ]
}

@test "pcopy --mhl hashes a directory whose siblings extend its name (a, 'a b', a-b, a.c) as an independent reader does" {
	# strcmp sorts "a b", "a-b" and "a.c" between "a" and "a/x": a copy
	# that fed its entries in that order hashed "a" twice, once empty.
	mkdir -p src/a/sub "src/a b" src/a-b src/a.c
	printf 1 > src/a/x
	printf 2 > src/a/sub/y
	printf 3 > "src/a b/z"
	printf 4 > src/a-b/w
	printf 5 > src/a.c/v
	prun pcopy --mhl src d1 d2
	assert_success
	for d in d1 d2; do
		run /usr/bin/python3 "$CHECK" "$d"
		assert_success
		assert_output --partial "5 files, 1 generations checked"
		run grep -c '<path>a</path>' "$d"/ascmhl/0001_*.mhl
		assert_output 1
	done
	# The second generation, with "a" up to date but for a new file.
	cp d1/ascmhl/0001_*.mhl first.mhl
	printf 6 > src/a/new
	prun pcopy --mhl -u src d1
	assert_success
	second_generation d1
	run grep -c '<path>a</path>' d1/ascmhl/0002_*.mhl
	assert_output 1
	prun pverify --mhl d1
	assert_success
	refute_output --partial "not checked"
}

# kill_sealing DEST... -- STEP: pcopy --mhl of src into each DEST, killed by the
# shim (build_shim) at STEP of writing a history: SUFFIX:0 just before the
# rename to a name ending in SUFFIX, SUFFIX:1 just after it.
kill_sealing() {
	local step=${*: -1}
	run -137 env LD_PRELOAD="$BATS_TEST_TMPDIR/eio.so" EIO_SHIM_KILL_RENAME="${step%:*}" \
		EIO_SHIM_KILL_AFTER="${step#*:}" pcopy --no-progress "${@:1:$#-2}" src d1 d2
}

@test "pcopy --mhl killed at each step of writing its history, then --resume: one generation and a chain, as an uninterrupted copy writes them" {
	build_shim
	card src
	for step in .mhl:0 .mhl:1 ascmhl_chain.xml:0 ascmhl_chain.xml:1; do
		rm -rf d1 d2
		kill_sealing --mhl -- "$step"
		[ -e d1/.pcopy-journal ]
		prun pcopy --no-progress --mhl --resume src d1 d2
		assert_success
		for d in d1 d2; do
			run ls -A "$d/ascmhl"
			assert_output --regexp "^0001_${d}_[0-9_-]*Z\.mhl"$'\n'"ascmhl_chain\.xml\$"
			run /usr/bin/python3 "$CHECK" "$d"
			assert_success
			assert_output --partial "7 files, 1 generations checked"
			prun pverify "$d"
			assert_success
			[ -z "$(find "$d" -name '.pcopy*')" ]
		done
	done
	# A resumed run killed in turn is still undone whole.
	rm -rf d1 d2
	mkdir d1 d2
	printf 'mine\n' > d1/keep
	kill_sealing --mhl -- ascmhl_chain.xml:1
	kill_sealing --mhl --resume -- ascmhl_chain.xml:1
	prun pcopy --rollback d1 d2
	assert_success
	run ls -A d1 d2
	assert_output $'d1:\nkeep\n\nd2:'
}

@test "pcopy --mhl -u killed once its new chain is in place, then --resume: generation 0002 beside 0001 as it was, the chain extended once" {
	build_shim
	card src
	prun pcopy --mhl src d1 d2
	assert_success
	cp d1/ascmhl/0001_*.mhl first.mhl
	cp d1/ascmhl/ascmhl_chain.xml first-chain.xml
	printf 'more' > src/Sound/more.wav
	kill_sealing --mhl -u -- ascmhl_chain.xml:1
	# The kill left d1's new chain in place, the old one set aside.
	! cmp -s first-chain.xml d1/ascmhl/ascmhl_chain.xml
	prun pcopy --no-progress --mhl -u --resume src d1 d2
	assert_success
	second_generation d1
	assert_output --partial "8 files, 2 generations checked"
	run ls -A d1/ascmhl
	assert_equal "${#lines[@]}" 3
	prun pverify --mhl d1
	assert_success
	[ -z "$(find d1 d2 -name '.pcopy*')" ]
}

@test "a second pcopy --mhl into the same destination appends generation 0002 and extends the chain" {
	card src
	prun pcopy --mhl src dest
	assert_success
	cp dest/ascmhl/0001_*.mhl first.mhl
	printf 'more' > src/Sound/more.wav
	prun pcopy --mhl -u src dest
	assert_success
	second_generation dest
	assert_output --partial "8 files, 2 generations checked"
	prun pverify --mhl dest
	assert_success
}

@test "pcopy --mhl rolls a destination back, its history as it was, when the history cannot be extended" {
	card src
	prun pcopy --mhl src dest
	assert_success
	printf 'x' > src/Sound/new.wav
	printf '<ascmhldirectory><hashlist sequencenr="1"><path>a</path></hashlist>' \
		> dest/ascmhl/ascmhl_chain.xml
	before=$(snapshot dest)
	prun pcopy --mhl -u src dest
	assert_failure 1
	assert_output --partial "ascmhl_chain.xml"
	assert_output --partial "rolled back"
	[ "$(snapshot dest)" = "$before" ]
}

@test "pcopy --mhl --delete keeps the destination's history and extends it" {
	card src
	prun pcopy --mhl src dest
	assert_success
	rm src/Sidecar.txt
	prun pcopy --mhl --delete -u src dest
	assert_success
	run ls dest/ascmhl
	assert_line --regexp '^0001_dest_.*Z\.mhl$'
	assert_line --regexp '^0002_dest_.*Z\.mhl$'
	[ ! -e dest/Sidecar.txt ]
	run /usr/bin/python3 "$CHECK" dest
	assert_success
	assert_output --partial "6 files, 2 generations checked"
}

@test "pcopy --mhl records a copied file that differs from the destination's history as failed, exit 1" {
	card src
	prun pcopy --mhl src dest
	assert_success
	printf 'retake' > src/Clips/A002/C003.mov
	prun pcopy --mhl -f src dest
	assert_failure 1
	assert_output --partial "Clips/A002/C003.mov: differs from the digest the ASC MHL history records"
	run grep -c 'action="failed"' dest/ascmhl/0002_*.mhl
	assert_output 2
	cmp src/Clips/A002/C003.mov dest/Clips/A002/C003.mov
}

@test "pcopy --mhl writes one generation on one CPU and on several: shares of subtrees put in their places" {
	# Enough entries for the generation to be divided into shares of whole
	# subtrees (libcommon/mhl2list.h), hashed and written by several
	# threads when there are CPUs for them; files and empty directories
	# between the subtrees stay the main thread's.
	/usr/bin/python3 - <<'PY'
import os
for d in range(12):
    for e in range(3):
        os.makedirs('src/d%02d/e%d' % (d, e))
        for f in range(20):
            with open('src/d%02d/e%d/f%02d' % (d, e, f), 'w') as out:
                out.write('%d %d %d\n' % (d, e, f))
    with open('src/d%02d.txt' % d, 'w') as out:
        out.write('between %d\n' % d)
    os.makedirs('src/d%02d-empty' % d)
os.makedirs('src/d05/e1/deeper/still')
PY
	[ "$(nproc)" -ge 2 ] || skip "one CPU: the generation is never divided"
	prun taskset -c 0 pcopy --mhl -a md5,xxh64 src one
	assert_success
	prun pcopy --mhl -a md5,xxh64 src all
	assert_success
	/usr/bin/python3 "$CHECK" all
	/usr/bin/python3 "$CHECK" one
	# The same bytes but for the dates (the runs' seconds).
	local dates='s/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}[^<"]*/DATE/g'
	diff <(sed -E "$dates" one/ascmhl/0001_*.mhl) <(sed -E "$dates" all/ascmhl/0001_*.mhl)
	# Files that differ from the history: reported in the generation's order.
	printf 'retake' > src/d07/e2/f03
	printf 'retake' > src/d02/e0/f19
	printf 'retake' > src/d02.txt
	prun pcopy --mhl -f -a md5,xxh64 src all
	assert_failure 1
	run grep -o '[^ ]*: differs from the digest' <<< "$output"
	assert_output "$(printf '%s\n' 'd02/e0/f19: differs from the digest' \
		'd02.txt: differs from the digest' 'd07/e2/f03: differs from the digest')"
	run grep -c 'action="failed"' all/ascmhl/0002_*.mhl
	assert_output 6
}

@test "pverify --mhl reads a generation streaming: 200,000 entries take no more memory than 20,000" {
	# A generation ten times larger (38 MB here) must not cost memory: each
	# <hash> becomes a task and is gone (--ignore-missing: no audit, which
	# would keep every path; no file is there to check).
	/usr/bin/python3 - <<'PY'
import hashlib, os
A = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
def c4(d):
    n = int.from_bytes(d, 'big'); s = ''
    while n:
        n, r = divmod(n, 58); s = A[r] + s
    return 'c4' + s.rjust(88, '1')
for tree, n in (('small', 20000), ('large', 200000)):
    os.makedirs(tree + '/ascmhl')
    parts = ['<hashlist version="2.0" xmlns="urn:ASC:MHL:v2.0"><hashes>\n']
    for i in range(n):
        parts.append('<hash><path size="1">d%03d/a/longer/path/file%07d.mov</path>'
                     '<md5 action="original">%032x</md5><xxh64>%016x</xxh64></hash>\n' % (i % 500, i, i, i))
    parts.append('</hashes></hashlist>\n')
    g = ''.join(parts).encode()
    name = '0001_%s_2024-01-01_000000Z.mhl' % tree
    open(tree + '/ascmhl/' + name, 'wb').write(g)
    open(tree + '/ascmhl/ascmhl_chain.xml', 'w').write(
        '<ascmhldirectory><hashlist sequencenr="1"><path>%s</path><c4>%s</c4></hashlist></ascmhldirectory>'
        % (name, c4(hashlib.sha512(g).digest())))
PY
	export ASAN_OPTIONS=quarantine_size_mb=0:thread_local_quarantine_size_kb=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}
	peak() {
		# Exit 1: nothing was verified, every file being missing.
		/usr/bin/time -f '%M' -o "peak-$1" pverify --mhl "$1" --ignore-missing -q 2>/dev/null
		tail -1 "peak-$1"
	}
	small=$(peak small)
	large=$(peak large)
	echo "peak KiB: 20,000 entries $small; 200,000 entries $large"
	local slack=4096
	if ldd "$(command -v pverify)" 2>/dev/null | grep -q libasan; then
		slack=16384
	fi
	assert [ "$small" -gt 0 ]
	assert [ "$large" -le $((small + slack)) ]
}

# dirhashes DIR: "path content structure" per directory hash of DIR's newest
# generation (one line per format, in the order written), and "root ..." last.
dirhashes() {
	/usr/bin/python3 - "$1" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
NS = '{urn:ASC:MHL:v2.0}'
r = ET.parse(sorted(glob.glob(sys.argv[1] + '/ascmhl/*.mhl'))[-1]).getroot()
def show(path, d):
    for c, s in zip(d.find(NS + 'content'), d.find(NS + 'structure')):
        print(path, c.tag[len(NS):], c.text, s.text)
for d in r.iter(NS + 'directoryhash'):
    show(d.find(NS + 'path').text, d)
show('root', r.find(NS + 'processinfo').find(NS + 'roothash'))
PY
}

@test "phash --seal --mhl gives the directory hashes of the reference implementation's own tests" {
	# The tree and the values of ascmitc/mhl's tests/test_dirhash.py and
	# tests/test_create.py (test_create_directory_hashes).
	mkdir -p root/A
	printf 'stuff\n' > root/Stuff.txt
	printf 'A1\n' > root/A/A1.txt
	prun phash --seal --mhl -a xxh64 root
	assert_success
	run dirhashes root
	assert_line "A xxh64 d3904ee76bba3d2a 3fbe33b2924e26aa"
	assert_line "root xxh64 ca56d22f064fdf1b 2ccca3899111eabb"
	mkdir -p root/A/AA root/B root/emptyFolderA root/emptyFolderB \
		root/emptyFolderC/emptyFolderCA root/emptyFolderC/emptyFolderCB
	printf 'B1\n' > root/B/B1.txt
	printf 'A2\n' > root/A/A2.txt
	printf 'AA1\n' > root/A/AA/AA1.txt
	prun phash --seal --mhl -a xxh64 root
	assert_success
	run dirhashes root
	assert_line --regexp '^A xxh64 cc195301a14023a9 '
	assert_line --regexp '^root xxh64 4ccac5e6856ecf04 '
	assert_line "emptyFolderA xxh64 ef46db3751d8e999 ef46db3751d8e999"
	assert_line "emptyFolderC xxh64 cf4b060700272aa6 949018e6a4932905"
	printf '!!' >> root/A/A2.txt
	prun phash --seal --mhl -a xxh64,md5 root
	assert_failure 1
	run dirhashes root
	assert_line "B md5 d6df246725efff6ceaee31f663a32cf8 a21e164c1df944733e5e3d4e4ed64f90"
	assert_line "B xxh64 aab0eba57cd1aca9 fac2a2ceb0fa0c0b"
	assert_line "root xxh64 28ed09733f793dfc 89e4debdb80cc068"
	mv root/B/B1.txt root/B/B2.txt
	prun phash --seal --mhl -a xxh64,c4 root
	assert_failure 1
	run dirhashes root
	assert_line "B c4 c43X1ve8nmicwGit4fnhs428pTCV6ZjXQsorxPLNx3396oRuQFaq79iLR2ZsPoWN8yckFzZdkqZ21igH8K7rWAoDMa c42qegPDBxh16Vqi4qFGh1EQv39nEbVmZ9R1LGkaVr1dEBRcD69pH3r5vdGDSwceQLEZc872kQho5Cforb95s2wjH8"
	assert_line "B xxh64 aab0eba57cd1aca9 7ae620e883160eb3"
	assert_line "root xxh64 28ed09733f793dfc 0bba67923d19d36b"
}

# ignore_patterns FILE: the processinfo/<ignore> patterns of generation FILE,
# read with xml.etree, one a line, sorted.
ignore_patterns() {
	/usr/bin/python3 - "$1" <<'PY'
import sys
import xml.etree.ElementTree as ET
NS = '{urn:ASC:MHL:v2.0}'
ignore = ET.parse(sys.argv[1]).getroot().find(NS + 'processinfo').find(NS + 'ignore')
for p in sorted(p.text for p in ignore.findall(NS + 'pattern')):
    print(p)
PY
}

# expected_patterns [PATTERN...]: what a generation must record: the reference
# implementation's own (.DS_Store, ascmhl, ascmhl/), ptools' seal names, and
# the patterns given, one a line, sorted.
expected_patterns() {
	printf '%s\n' .DS_Store ascmhl ascmhl/ .ptools-seal .ptools-seal.sig "$@" | LC_ALL=C sort -u
}

DEFAULT_EXCLUDES=(.DS_Store '._*' .Spotlight-V100 .Trashes .fseventsd .TemporaryItems Thumbs.db
		  desktop.ini lost+found)

@test "pcopy --mhl and phash --seal --mhl record in <ignore> the default excludes and each --exclude" {
	card src
	printf 'x' > src/scratch.tmp
	mkdir src/cache && printf 'x' > src/cache/c
	prun pcopy --mhl --exclude '*.tmp' --exclude /cache/ src d1
	assert_success
	run ignore_patterns d1/ascmhl/0001_*.mhl
	assert_success
	[ "$output" = "$(expected_patterns "${DEFAULT_EXCLUDES[@]}" '*.tmp' /cache/)" ]
	[ ! -e d1/scratch.tmp ] && [ ! -e d1/cache ]
	run /usr/bin/python3 "$CHECK" d1
	assert_success
	prun pcopy --mhl --no-default-excludes --exclude '*.tmp' src d2
	assert_success
	run ignore_patterns d2/ascmhl/0001_*.mhl
	[ "$output" = "$(expected_patterns '*.tmp')" ]
	refute_line '._*'
	refute_line 'lost+found'
	# the same from the in-place seal
	prun phash --seal --mhl --exclude '*.tmp' src
	assert_success
	run ignore_patterns src/ascmhl/0001_*.mhl
	[ "$output" = "$(expected_patterns "${DEFAULT_EXCLUDES[@]}" '*.tmp')" ]
	rm -rf src/ascmhl
	prun phash --seal --mhl --no-default-excludes src
	assert_success
	run ignore_patterns src/ascmhl/0001_*.mhl
	[ "$output" = "$(expected_patterns)" ]
}

@test "a pull with --mhl and --exclude records the patterns in <ignore> and leaves out what they match" {
	card src
	printf 'x' > src/scratch.tmp
	printf 'x' > src/Clips/.DS_Store
	mkdir src/cache && printf 'x' > src/cache/c
	prun timeout -k 5 120 pcopy -e "$BATS_TEST_DIRNAME/rsh-standin" \
		--remote-pcopy "$(command -v pcopy)" --mhl --exclude '*.tmp' --exclude /cache/ \
		"testhost:$BATS_TEST_TMPDIR/src" pulled 3>&-
	assert_success
	run ignore_patterns pulled/ascmhl/0001_*.mhl
	assert_success
	[ "$output" = "$(expected_patterns "${DEFAULT_EXCLUDES[@]}" '*.tmp' /cache/)" ]
	[ ! -e pulled/scratch.tmp ] && [ ! -e pulled/cache ] && [ ! -e pulled/Clips/.DS_Store ]
	run /usr/bin/python3 "$CHECK" pulled
	assert_success
}

@test "a new generation carries the newest generation's ignore patterns forward and leaves out what they match" {
	card src
	prun pcopy --mhl --exclude '*.tmp' src dest
	assert_success
	printf 'x' > src/Sound/late.tmp
	# without --exclude the file is copied, but the history still ignores it
	prun pcopy --mhl -u src dest
	assert_success
	[ -e dest/Sound/late.tmp ]
	run ignore_patterns dest/ascmhl/0002_*.mhl
	assert_line '*.tmp'
	run grep -c 'late.tmp' dest/ascmhl/0002_*.mhl
	assert_output 0
	run /usr/bin/python3 "$CHECK" dest
	assert_success
	assert_output --partial "7 files, 2 generations checked"
	# pverify --mhl holds the newest generation's patterns too: not NEW
	prun pverify --mhl dest
	assert_success
	refute_output --partial "late.tmp"
	# phash --seal --mhl carries them too
	prun phash --seal --mhl dest
	assert_success
	run ignore_patterns dest/ascmhl/0003_*.mhl
	assert_line '*.tmp'
	run /usr/bin/python3 "$CHECK" dest
	assert_success
}

@test "pcopy --mhl carries SRC's history: its generation byte for byte, then the transfer generation, verified" {
	sealed src
	prun pcopy --mhl src dest
	assert_success
	run ls dest/ascmhl
	assert_line --regexp '^0001_src_.*Z\.mhl$'
	assert_line --regexp '^0002_dest_.*Z\.mhl$'
	cmp src/ascmhl/0001_*.mhl dest/ascmhl/0001_*.mhl
	run /usr/bin/python3 "$CHECK" dest
	assert_success
	assert_output --partial "7 files, 2 generations checked"
	# every file verified against the carried history, none original
	run grep -c 'action="original"' dest/ascmhl/0002_*.mhl
	assert_output 0
	run grep -c 'action="verified"' dest/ascmhl/0002_*.mhl
	assert_output 14
	grep -q '<process>transfer</process>' dest/ascmhl/0002_*.mhl
	prun pverify --mhl dest
	assert_success
	# SRC's history is its own, not payload: no file of it in the seal
	run grep -c 'ascmhl' dest/.ptools-seal
	assert_output 0
}

@test "pcopy --mhl --force into a copy of SRC's history with its own generation appends 0003, rewriting nothing" {
	sealed src
	prun pcopy --mhl src dest
	assert_success
	cp dest/ascmhl/0001_*.mhl g1.keep
	cp dest/ascmhl/0002_*.mhl g2.keep
	prun pcopy --mhl --force src dest
	assert_success
	run ls dest/ascmhl
	assert_line --regexp '^0003_dest_.*Z\.mhl$'
	cmp g1.keep dest/ascmhl/0001_*.mhl
	cmp g2.keep dest/ascmhl/0002_*.mhl
	run grep -c '<hashlist sequencenr=' dest/ascmhl/ascmhl_chain.xml
	assert_output 3
	run /usr/bin/python3 "$CHECK" dest
	assert_success
	assert_output --partial "7 files, 3 generations checked"
	# SRC grows a generation of its own: its 0002 is not dest's 0002, so
	# the histories differ and dest is refused
	prun phash --seal --mhl src
	assert_success
	before=$(snapshot dest)
	prun pcopy --mhl --force src dest
	assert_failure 1
	assert_output --partial "dest/ascmhl: its history differs from SRC's"
	[ "$(snapshot dest)" = "$before" ]
}

@test "pcopy --mhl carries the generations SRC has beyond those a destination already holds" {
	sealed src
	cp -a src early
	prun phash --seal --mhl src
	assert_success
	prun pcopy --mhl --force src early
	assert_success
	run ls early/ascmhl
	assert_line --regexp '^0001_src_.*Z\.mhl$'
	assert_line --regexp '^0002_src_.*Z\.mhl$'
	assert_line --regexp '^0003_early_.*Z\.mhl$'
	cmp src/ascmhl/0002_*.mhl early/ascmhl/0002_*.mhl
	run /usr/bin/python3 "$CHECK" early
	assert_success
	assert_output --partial "3 generations checked"
}

@test "pcopy --mhl to two destinations compares each file with SRC's whole history, read once for both" {
	sealed src
	cp -a src early
	printf 'new' > src/Sound/added.txt
	prun phash --seal --mhl -a xxh64 src
	assert_success
	printf 'changed since' > src/Sidecar.txt
	# fresh carries 0001 and 0002, early only 0002: both end with SRC's history
	prun pcopy --mhl --force src fresh early
	assert_failure 1
	assert_output --partial "Sidecar.txt: differs from the digest the ASC MHL history records"
	for d in fresh early; do
		cmp src/ascmhl/0001_*.mhl $d/ascmhl/0001_*.mhl
		cmp src/ascmhl/0002_*.mhl $d/ascmhl/0002_*.mhl
		gen=$(ls $d/ascmhl/0003_${d}_*Z.mhl)
		# md5 is known from 0001 only, xxh64 from 0002: the newest of each
		run grep -c 'action="verified"' "$gen"
		assert_output 13
		run grep -c 'action="failed"' "$gen"
		assert_output 2
		run grep -B2 'action="failed"' "$gen"
		assert_output --partial '>Sidecar.txt</path>'
		run grep -A2 '>Sound/added.txt</path>' "$gen"
		assert_output --regexp '<md5 action="original"'
		assert_output --regexp '<xxh64 action="verified"'
	done
}

@test "pcopy --mhl refuses a destination whose history differs from SRC's, nothing written there, exit 1" {
	sealed src
	card other
	prun phash --seal --mhl other
	assert_success
	before=$(snapshot other)
	prun pcopy --mhl src other fresh
	assert_failure 1
	assert_output --partial "pcopy: other/ascmhl: its history differs from SRC's"
	[ "$(snapshot other)" = "$before" ]
	# the other destination got the carried history
	run /usr/bin/python3 "$CHECK" fresh
	assert_success
	assert_output --partial "2 generations checked"
}

@test "pcopy --mhl refuses a SRC whose history does not match its chain, copying nothing, exit 1" {
	sealed src
	printf ' ' >> src/ascmhl/0001_*.mhl
	prun pcopy --mhl src dest
	assert_failure 1
	assert_output --partial "src/ascmhl/0001_src_"
	assert_output --partial "its C4 differs from the one the chain records"
	[ ! -e dest ]
	# a generation the chain lists but that is gone, and a chain that is gone
	sealed src2
	rm src2/ascmhl/0001_*.mhl
	prun pcopy --mhl src2 dest
	assert_failure 1
	assert_output --partial "listed by the chain but missing"
	[ ! -e dest ]
	sealed src3
	rm src3/ascmhl/ascmhl_chain.xml
	prun pcopy --mhl src3 dest
	assert_failure 1
	assert_output --partial "src3/ascmhl/ascmhl_chain.xml: missing"
	[ ! -e dest ]
	# a chain that lists, under its true C4, a file that is no generation
	card src4
	mkdir src4/ascmhl
	printf 'not a generation' > src4/ascmhl/ascmhl_chain.xml.sig
	cat > src4/ascmhl/ascmhl_chain.xml <<EOF
<ascmhldirectory xmlns="urn:ASC:MHL:DIRECTORY:v2.0"><hashlist sequencenr="1">
<path>ascmhl_chain.xml.sig</path><c4>$(chain_c4 src4/ascmhl/ascmhl_chain.xml.sig)</c4>
</hashlist></ascmhldirectory>
EOF
	prun pcopy --mhl src4 dest
	assert_failure 1
	assert_output --partial "not a generation"
	[ ! -e dest ]
}

@test "pcopy --mhl stops on a SRC whose generation matches its C4 but not the format, naming SRC's file, exit 1" {
	card src
	printf '<hashlist version="2.0" xmlns="urn:ASC:MHL:v2.0"><hashes><hash></hashes></hashlist>' > broken.mhl
	hostile_history src broken.mhl
	mkdir early
	before=$(snapshot early)
	prun pcopy --mhl src fresh early
	assert_failure 1
	assert_output --partial "src/ascmhl/0001_x_2024-01-01_000000Z.mhl: malformed XML: mismatched tag: the history cannot be carried"
	assert_output --partial "every destination rolled back"
	refute_output --partial "Invalid argument"
	[ ! -e fresh ]
	[ "$(snapshot early)" = "$before" ]
}

@test "pcopy without --mhl copies SRC's ascmhl folder as any other" {
	sealed src
	prun pcopy src dest
	assert_success
	diff -r src/ascmhl dest/ascmhl
	prun pverify --mhl dest
	assert_success
}

@test "pverify DIR checks a history copied in as files, and names the newer pcopy seal it left aside" {
	sealed src
	prun pcopy src dest
	assert_success
	printf 'more' > src/Sound/more.wav
	prun pcopy -u src dest
	assert_success
	# The history does not list the file the update added; the seal does.
	run --separate-stderr pverify dest
	assert_failure 1
	assert_output --partial $'NEW\tSound/more.wav'
	assert_equal "${stderr_lines[0]}" "pverify: dest: checked against its ASC MHL history; its pcopy seal, newer than the history, is not ('pverify -C dest dest/.ptools-seal' checks it)"
	run --separate-stderr pverify -q dest
	assert_failure 1
	refute_regex "$stderr" 'pcopy seal'
	prun pverify -C dest dest/.ptools-seal
	assert_success
	# pcopy --mhl writes its seal and then the history: nothing to say.
	prun pcopy --mhl src dest2
	assert_success
	run --separate-stderr pverify dest2
	assert_success
	refute_regex "$stderr" 'pcopy seal'
}

@test "pcopy --mhl --to carries the history of the --from root; records inside ascmhl/ are never payload" {
	sealed src
	(cd src && find . -type f) > list
	prun bash -c 'pcopy --mhl --from src --to dest < list'
	assert_success
	cmp src/ascmhl/0001_*.mhl dest/ascmhl/0001_*.mhl
	run /usr/bin/python3 "$CHECK" dest
	assert_success
	assert_output --partial "2 generations checked"
	# without --from there is no source root: its history is left out, and
	# the destination's own (0001) is not overwritten by the listed one
	prun bash -c 'cd src && pcopy --mhl --to ../plain < ../list'
	assert_success
	run ls plain/ascmhl
	assert_line --regexp '^0001_plain_.*Z\.mhl$'
	refute_line --regexp '^0001_src_'
	run /usr/bin/python3 "$CHECK" plain
	assert_success
	assert_output --partial "1 generations checked"
}

# fifo_in FILE: FILE replaced by a FIFO no one writes to.
fifo_in() {
	rm -f "$1"
	mkfifo "$1"
}

@test "a FIFO in place of a generation or the chain is refused at once, never waited on" {
	sealed card
	cp -a card bare
	fifo_in card/ascmhl/ascmhl_chain.xml
	run -1 timeout -k 5 20 pverify card
	assert_output --partial "card/ascmhl/ascmhl_chain.xml: not a regular file"
	run -1 timeout -k 5 20 phash --seal --mhl card
	assert_output --partial "ascmhl/ascmhl_chain.xml: not a regular file"
	run -1 timeout -k 5 20 pcopy --mhl card copy
	assert_output --partial "card/ascmhl/ascmhl_chain.xml: not a regular file"
	assert [ ! -e copy ]
	# The destination's own history, as pcopy reads it to extend it.
	mkdir -p dest/ascmhl
	fifo_in dest/ascmhl/ascmhl_chain.xml
	run -1 timeout -k 5 20 pcopy --mhl bare dest
	assert_output --partial "opening the chain: not a regular file"
	rm -rf card copy && cp -a bare card
	fifo_in "$(echo card/ascmhl/0001_*.mhl)"
	run -1 timeout -k 5 20 pverify card
	assert_output --regexp "card/ascmhl/0001_card_[^:]*\.mhl: not a regular file"
	run -1 timeout -k 5 20 phash --seal --mhl card
	assert_output --partial ": not a regular file: no generation added"
	run -1 timeout -k 5 20 pcopy --mhl card copy
	assert_output --partial ": not a regular file: the history cannot be carried"
}
