#!/usr/bin/env bats
# SPDX-License-Identifier: 0BSD
# pverify reading MHL v1 files (Pomfort's mhl tool, godi): written here by
# python3 with hashlib and python3-xxhash, independently of ptools, with the
# format's quirks (xxhash as decimal XXH32, xxhash64 byte-reversed, UTF-16
# and UTF-32 files, CR LF); and hostile or broken XML refused with exit 2.

load test_helper
bats_require_minimum_version 1.5.0

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	/usr/bin/python3 -c 'import xxhash' 2>/dev/null || skip "python3-xxhash is not installed"
}

# write_mhl DIR OUT [ENCODING [NEWLINE [ALGOS]]]: an MHL v1 file listing every
# regular file under DIR (paths relative to DIR), in ENCODING (utf-8,
# utf-16-le, utf-16-be, utf-32-le, utf-32-be, with a byte-order mark except
# for utf-8), lines ended by NEWLINE (lf or crlf), with ALGOS (a comma list of
# md5, sha1, xxhash, xxhash64, xxhash64be; default all).
write_mhl() {
	/usr/bin/python3 - "$@" <<'PY'
import hashlib, os, sys, xxhash
from xml.sax.saxutils import escape
root, out = sys.argv[1], sys.argv[2]
enc = sys.argv[3] if len(sys.argv) > 3 else "utf-8"
nl = "\r\n" if len(sys.argv) > 4 and sys.argv[4] == "crlf" else "\n"
algos = (sys.argv[5] if len(sys.argv) > 5 else "md5,sha1,xxhash,xxhash64,xxhash64be").split(",")
declared = {"utf-8": "UTF-8"}.get(enc, enc.upper()[:6])
lines = ['<?xml version="1.0" encoding="%s"?>' % declared, '<hashlist version="1.1">',
         '  <creatorinfo>', '    <name>test</name>', '    <tool>write_mhl</tool>',
         '    <startdate>2024-01-01T00:00:00Z</startdate>', '  </creatorinfo>']
for dirpath, dirs, files in sorted(os.walk(root)):
    dirs.sort()
    for name in sorted(files):
        full = os.path.join(dirpath, name)
        data = open(full, "rb").read()
        rel = os.path.relpath(full, root)
        lines += ['  <hash>', '    <file>%s</file>' % escape(rel), '    <size>%d</size>' % len(data),
                  '    <lastmodificationdate>2024-01-01T00:00:00Z</lastmodificationdate>']
        for a in algos:
            if a == "md5": v = hashlib.md5(data).hexdigest()
            elif a == "sha1": v = hashlib.sha1(data).hexdigest()
            elif a == "xxhash": v = str(xxhash.xxh32_intdigest(data))
            elif a == "xxhash64": v = xxhash.xxh64_digest(data)[::-1].hex()
            elif a == "xxhash64be": v = xxhash.xxh64_hexdigest(data)
            lines.append('    <%s>%s</%s>' % (a, v, a))
        lines += ['    <hashdate>2024-01-01T00:00:00Z</hashdate>', '  </hash>']
lines.append('</hashlist>')
text = nl.join(lines) + nl
codec = {"utf-16-le": "utf-16-le", "utf-16-be": "utf-16-be", "utf-32-le": "utf-32-le",
         "utf-32-be": "utf-32-be"}.get(enc, "utf-8")
data = ("\ufeff" + text if codec != "utf-8" else text).encode(codec)
open(out, "wb").write(data)
PY
}

@test "pverify accepts an MHL v1 file with every digest through -f and -C, and exits 0" {
	make_tree t
	write_mhl t t.mhl
	prun pverify -C t -f t.mhl
	assert_success
	assert_output --partial "4 ok, 0 failed, 0 missing, 0 errors"
}

@test "pverify reads an MHL v1 file from standard input, paths relative to the current directory" {
	make_tree t
	write_mhl t t/list.mhl
	cd t
	prun pverify < list.mhl
	assert_success
	assert_output --partial "4 ok, 0 failed"
}

@test "pverify checks each MHL v1 digest alone: md5, sha1, decimal xxhash, reversed xxhash64, xxhash64be" {
	make_tree t
	for a in md5 sha1 xxhash xxhash64 xxhash64be; do
		write_mhl t "$a.mhl" utf-8 lf "$a"
		prun pverify -C t -f "$a.mhl"
		assert_success
		assert_output --partial "4 ok, 0 failed"
		printf 'X' >> t/b
		prun --separate-stderr pverify -C t -f "$a.mhl"
		assert_failure 1
		assert_output "$(printf 'SIZE\tb')"
		truncate -s -1 t/b
	done
}

@test "pverify reports a changed byte in a file listed by an MHL v1 file as FAILED and exits 1" {
	make_tree t
	write_mhl t t.mhl
	printf 'Bravo content\n' > t/b
	prun --separate-stderr pverify -C t -f t.mhl
	assert_failure 1
	assert_output "$(printf 'FAILED\tb')"
}

@test "pverify reports a file missing from an MHL v1 listing as MISSING and exits 1" {
	make_tree t
	write_mhl t t.mhl
	rm t/sub/c
	prun --separate-stderr pverify -C t -f t.mhl
	assert_failure 1
	assert_output "$(printf 'MISSING\tsub/c')"
}

@test "pverify reads MHL v1 files in UTF-16 and UTF-32, either byte order, and with CR LF" {
	make_tree t
	mkdir -p t/ünï
	printf 'accented\n' > t/ünï/é.txt
	for enc in utf-16-le utf-16-be utf-32-le utf-32-be utf-8; do
		for nl in lf crlf; do
			write_mhl t "$enc-$nl.mhl" "$enc" "$nl"
			prun pverify -C t -f "$enc-$nl.mhl"
			assert_success
			assert_output --partial "5 ok, 0 failed"
		done
	done
	write_mhl t u16.mhl utf-16-le crlf
	prun pverify -C t < u16.mhl
	assert_success
	printf 'Accented\n' > t/ünï/é.txt
	prun --separate-stderr pverify -C t -f u16.mhl
	assert_failure 1
	assert_output "$(printf 'FAILED\tünï/é.txt')"
}

# refuse FILE WORDS: pverify -f FILE exits 2 without a crash and says WORDS.
refuse() {
	prun --separate-stderr pverify -f "$1"
	assert_failure 2
	assert_contains "$stderr" "$2"
}

@test "pverify refuses malformed MHL v1 XML with exit 2" {
	printf '<?xml version="1.0"?>\n<hashlist version="1.1">\n<hash><file>a</file>\n' > cut.mhl
	refuse cut.mhl "malformed XML"
	printf '<hashlist version="1.1"><hash><file>a</fil></hash></hashlist>' > bad.mhl
	refuse bad.mhl "malformed XML"
	printf '<?xml version="1.0"?>\n<hashlist version="2.0"></hashlist>\n' > v2.mhl
	refuse v2.mhl "not an MHL v1 file"
	printf '<?xml version="1.0"?>\n<other/>\n' > other.mhl
	refuse other.mhl "not an MHL v1 file"
	printf '<hashlist version="1.1"><hash><file>a</file><md5>xyz</md5></hash></hashlist>' > md5.mhl
	refuse md5.mhl "bad <md5>"
	printf '<hashlist version="1.1"><hash><file>a</file><xxhash>4294967296</xxhash></hash></hashlist>' > xx.mhl
	refuse xx.mhl "bad <xxhash>"
}

@test "pverify refuses an MHL v1 file with a DOCTYPE and entities (billion laughs) with exit 2" {
	python3 - > laughs.mhl <<'PY'
print('<?xml version="1.0"?>')
print('<!DOCTYPE hashlist [')
print(' <!ENTITY lol "lol">')
for i in range(1, 10):
    print(' <!ENTITY lol%d "%s">' % (i, ("&lol%s;" % ("" if i == 1 else i - 1)) * 10))
print(']>')
print('<hashlist version="1.1"><hash><file>&lol9;</file><md5>00000000000000000000000000000000</md5></hash></hashlist>')
PY
	refuse laughs.mhl "DOCTYPE refused"
	printf '<hashlist version="1.1"><hash><file>&lol;</file></hash></hashlist>' > undefined.mhl
	refuse undefined.mhl "malformed XML"
}

@test "pverify refuses huge text, a huge attribute and deep nesting in an MHL v1 file with exit 2" {
	python3 -c '
print("<hashlist version=\"1.1\"><hash><file>" + "a" * 70000 + "</file><md5>" + "0" * 32 + "</md5></hash></hashlist>")' > long.mhl
	refuse long.mhl "path longer than 65536 bytes"
	python3 -c '
print("<hashlist version=\"1.1\"><hash><file>a</file><md5>" + " " * 300 + "0" * 32 + "</md5></hash></hashlist>")' > longtext.mhl
	refuse longtext.mhl "longer than 256 bytes"
	python3 -c '
print("<hashlist version=\"1.1\" x=\"" + "a" * 3000000 + "\"></hashlist>")' > attr.mhl
	refuse attr.mhl "longer than 1 MiB"
	python3 -c '
print("<hashlist version=\"1.1\">" + "<x>" * 100000 + "</x>" * 100000 + "</hashlist>")' > deep.mhl
	refuse deep.mhl "nested too deep"
}

@test "pverify refuses an MHL v1 file whose byte-order mark does not match its encoding with exit 2" {
	make_tree t
	write_mhl t be.mhl utf-16-be
	# A little-endian mark in front of big-endian text.
	{ printf '\377\376'; tail -c +3 be.mhl; } > badbom.mhl
	refuse badbom.mhl "byte-order mark"
	# A UTF-16 mark in front of UTF-8 text.
	write_mhl t u8.mhl
	{ printf '\376\377'; cat u8.mhl; } > mixed.mhl
	refuse mixed.mhl "byte-order mark"
	# A UTF-32 mark in front of UTF-16 text.
	write_mhl t u16.mhl utf-16-le
	{ printf '\377\376\0\0'; tail -c +3 u16.mhl; } > u32on16.mhl
	refuse u32on16.mhl "byte-order mark"
	# Half a mark.
	printf '\377' > half.mhl
	prun --separate-stderr pverify -f half.mhl
	assert_failure 2
	# UTF-32 that stops inside a character.
	write_mhl t u32.mhl utf-32-le
	head -c -2 u32.mhl > cut32.mhl
	refuse cut32.mhl "UTF-32"
}
