#!/usr/bin/env bats
# SPDX-License-Identifier: 0BSD
# Format v1 (docs/FORMAT.md) through the tools: every awkward name round-trips
# pfind -> phash -> pverify, digests equal the reference tools', comments
# pass through, malformed lines are reported with FILE:LINE, skipped, exit 2.

load test_helper
bats_require_minimum_version 1.5.0

# A small decoder written from docs/FORMAT.md alone (not from libcommon), so
# the tests check the stream against the specification:
#   fmt_decode paths            decoded path of each record, NUL-terminated
#   fmt_decode triples          "INODE SIZE PATH", NUL-terminated
#   fmt_decode digests ALGO     "HEX  PATH" of each record holding ALGO, NUL-terminated
#   fmt_decode attrs            "KEY=VALUE,..." of each record, one per line (values decoded, repr)
# It exits 3 on any line that is not a comment and not a well-formed record.
fmt_decode() {
	python3 -c '
import re, sys
mode = sys.argv[1]
algo = sys.argv[2] if len(sys.argv) > 2 else None
esc = re.compile(rb"\\(x[0-9a-fA-F]{2}|[tnr\\])|\\")
table = {b"t": b"\t", b"n": b"\n", b"r": b"\r", b"\\": b"\\"}
def decode(field):
    def one(m):
        e = m.group(1)
        if e is None:
            raise ValueError("bad escape")
        if e[:1] == b"x":
            v = int(e[1:], 16)
            if v == 0:
                raise ValueError("bad escape")
            return bytes([v])
        return table[e]
    return esc.sub(one, field)
out = sys.stdout.buffer
data = sys.stdin.buffer.read()
lines = data.split(b"\n")
if lines and lines[-1] == b"":
    lines.pop()
for n, line in enumerate(lines, 1):
    if line == b"" or line.startswith(b"#"):
        continue
    fields = line.split(b"\t")
    if len(fields) < 3 or not fields[0].isdigit() or not fields[1].isdigit() or not fields[2]:
        sys.stderr.write("line %d is not a record: %r\n" % (n, line[:200]))
        sys.exit(3)
    path = decode(fields[2])
    attrs = []
    for f in fields[3:]:
        key, sep, value = f.partition(b":")
        if not sep or not re.fullmatch(rb"[a-z0-9][a-z0-9_.-]{0,31}", key):
            sys.stderr.write("line %d: bad attribute %r\n" % (n, f))
            sys.exit(3)
        attrs.append((key.decode(), decode(value)))
    if mode == "paths":
        out.write(path + b"\0")
    elif mode == "triples":
        out.write(fields[0] + b" " + fields[1] + b" " + path + b"\0")
    elif mode == "digests":
        for k, v in attrs:
            if k == algo:
                out.write(v + b"  " + path + b"\0")
                break
    elif mode == "attrs":
        out.write((",".join("%s=%r" % (k, v) for k, v in attrs) + "\n").encode())
' "$@"
}

# ref_sha256 TREE: "HEX  PATH", NUL-terminated, for every regular file, from
# sha256sum. A path longer than PATH_MAX is hashed from inside its directory
# (cd one component at a time), since no tool can open it by its full name.
ref_sha256() {
	find "$1" -type f -print0 | while IFS= read -r -d '' f; do
		if [ "${#f}" -lt 4000 ]; then
			sha256sum -z -- "$f"
		else
			(
				rest=${f%/*}
				while [ -n "$rest" ]; do
					comp=${rest%%/*}
					[ "$comp" = "$rest" ] && rest= || rest=${rest#*/}
					[ -z "$comp" ] && comp=/
					cd -- "$comp" || exit 1
				done
				hex=$(sha256sum -- "${f##*/}") || exit 1
				printf '%s  %s\0' "${hex%% *}" "$f"
			)
		fi
	done
}

setup() {
	T=$BATS_TEST_TMPDIR
	TAB=$'\t'
	# A tool failing (or crashing) early in a pipeline fails the test too.
	set -o pipefail
}

@test "pfind lists exactly the names find lists, each escaped path decoding to the name" {
	make_awkward_tree "$T/tree"
	prun pfind "$T/tree"
	assert_success
	printf '%s\n' "$output" > "$T/records"
	fmt_decode paths < "$T/records" | sort -z > "$T/pfind.names"
	find "$T/tree" -print0 | sort -z > "$T/find.names"
	# 254 byte names, the specials, the deep chain and the directories
	assert [ "$(tr -cd '\0' < "$T/find.names" | wc -c)" -gt 280 ]
	cmp "$T/pfind.names" "$T/find.names"
}

@test "pfind writes one line per entry with find's inode and size" {
	make_awkward_tree "$T/tree"
	prun sh -c 'pfind "$1/tree" > "$1/records"' _ "$T"
	assert_success
	assert_equal "$(wc -l < "$T/records")" "$(find "$T/tree" -print0 | tr -cd '\0' | wc -c)"
	fmt_decode triples < "$T/records" | sort -z > "$T/pfind.triples"
	find "$T/tree" -printf '%i %s %p\0' | sort -z > "$T/find.triples"
	cmp "$T/pfind.triples" "$T/find.triples"
}

@test "pfind escapes exactly as specified and leaves ordinary names unchanged" {
	mkdir "$T/d"
	: > "$T/d/plain name.txt"
	: > "$T/d/tab${TAB}in"
	: > "$T/d/nl"$'\n'"in"
	: > "$T/d/back\\slash"
	: > "$T/d/esc"$'\x1b'"del"$'\x7f'"cr"$'\r'
	: > "$T/d/raw"$'\xc3\xa9\xff'
	prun pfind "$T/d"
	assert_success
	cut -f3 <<< "$output" | sort > "$T/paths"
	{
		printf '%s\n' "$T/d" "$T/d/back\\\\slash" "$T/d/esc\\x1bdel\\x7fcr\\r" \
			"$T/d/nl\\nin" "$T/d/plain name.txt" "$T/d/raw"$'\xc3\xa9\xff' "$T/d/tab\\tin"
	} | sort > "$T/expected"
	diff "$T/expected" "$T/paths"
}

@test "pfind | phash -a sha256 gives sha256sum's digest for every awkward file" {
	make_awkward_tree "$T/tree"
	pfind "$T/tree" > "$T/records"
	prun phash -a sha256 < "$T/records"
	assert_success
	printf '%s\n' "$output" > "$T/hashed"
	fmt_decode digests sha256 < "$T/hashed" | sort -z > "$T/phash.sums"
	ref_sha256 "$T/tree" | sort -z > "$T/ref.sums"
	assert [ "$(tr -cd '\0' < "$T/ref.sums" | wc -c)" -gt 260 ]
	cmp "$T/phash.sums" "$T/ref.sums"
}

@test "phash keeps the records' own fields and adds the digest after them" {
	make_awkward_tree "$T/tree" --no-long
	pfind "$T/tree" > "$T/records"
	prun phash -a sha256 < "$T/records"
	assert_success
	printf '%s\n' "$output" > "$T/hashed"
	# Same entries, in the same order, with the same first three fields.
	cut -f1-3 "$T/records" > "$T/in3"
	cut -f1-3 "$T/hashed" > "$T/out3"
	cmp "$T/in3" "$T/out3"
}

@test "pverify accepts phash's output for every awkward regular file name" {
	make_awkward_tree "$T/tree" --no-long
	pfind "$T/tree" -type f | phash -a sha256 > "$T/list"
	assert [ "$(wc -l < "$T/list")" -gt 260 ]
	prun pverify < "$T/list"
	assert_success
}

@test "pverify accepts pfind | phash output for the whole awkward tree, directories and the deep path included" {
	make_awkward_tree "$T/tree"
	pfind "$T/tree" | phash -a sha256 > "$T/list"
	prun pverify < "$T/list"
	assert_success
}

@test "pverify accepts phash's output with several algorithms and catches one changed byte" {
	make_awkward_tree "$T/tree" --no-long
	pfind "$T/tree" -type f | phash -a sha256,blake2b,xxh128,md5 > "$T/list"
	prun pverify < "$T/list"
	assert_success
	# Same size, one byte different, in a file whose name holds a newline.
	printf 'X' | dd of="$T/tree/special/new"$'\n'"line" bs=1 seek=1 conv=notrunc status=none
	prun --separate-stderr pverify < "$T/list"
	assert_failure 1
	assert_output "FAILED	$T/tree/special/new\\nline"
}

@test "find -print0 | phash -0 hashes every awkward name like sha256sum" {
	make_awkward_tree "$T/tree" --no-long
	find "$T/tree" -type f -print0 > "$T/names"
	prun phash -0 -a sha256 < "$T/names"
	assert_success
	printf '%s\n' "$output" | fmt_decode digests sha256 | sort -z > "$T/phash.sums"
	ref_sha256 "$T/tree" | sort -z > "$T/ref.sums"
	cmp "$T/phash.sums" "$T/ref.sums"
}

@test "plain find output is read raw: backslashes and invalid UTF-8 are not unescaped" {
	make_awkward_tree "$T/tree" --no-long
	# Plain lines cannot hold a newline or a TAB (FORMAT.md section 8).
	find "$T/tree" -type f ! -name "*${TAB}*" ! -name $'*\n*' > "$T/names"
	grep -q '\\' "$T/names"
	prun phash -a sha256 < "$T/names"
	assert_success
	printf '%s\n' "$output" | fmt_decode digests sha256 | sort -z > "$T/phash.sums"
	tr '\n' '\0' < "$T/names" | xargs -0 sha256sum -z | sort -z > "$T/ref.sums"
	cmp "$T/phash.sums" "$T/ref.sums"
}

@test "unknown attributes pass through phash untouched and in order" {
	printf 'data' > "$T/f"
	ino=$(stat -c %i "$T/f")
	printf '%s\t4\t%s\tx-zeta:1\tx-alpha:a\\tb\\\\c\tzz.top-1_2:\tx-zeta:2\n' "$ino" "$T/f" > "$T/in"
	prun phash -a md5 < "$T/in"
	assert_success
	# The unknown ones keep their values and order; md5 comes after them.
	run fmt_decode attrs <<< "$output"
	assert_success
	assert_output --regexp "^x-zeta=b'1',x-alpha=b'a\\\\tb\\\\\\\\c',zz.top-1_2=b'',x-zeta=b'2'(,.*)?,md5=b'$(md5sum < "$T/f" | cut -c1-32)'"
}

@test "comments pass through phash unchanged and in place" {
	printf 'a' > "$T/a"
	printf 'b' > "$T/b"
	{
		printf '# ptools seal v1\n'
		pfind "$T/a"
		printf '#\tcomment with\ttabs and \\ backslash \xff\n'
		printf '\n'
		pfind "$T/b"
		printf '#seal\tsha256:%064d\n' 0
	} > "$T/in"
	prun phash -a sha256 < "$T/in"
	assert_success
	printf '%s\n' "$output" > "$T/out"
	# Blank lines are dropped; the comments keep their bytes and their order
	# relative to the records.
	grep -v '^$' "$T/in" | cut -c1 > "$T/in.kinds"
	cut -c1 "$T/out" > "$T/out.kinds"
	cmp "$T/in.kinds" "$T/out.kinds"
	grep '^#' "$T/in" > "$T/in.comments"
	grep '^#' "$T/out" > "$T/out.comments"
	cmp "$T/in.comments" "$T/out.comments"
}

# A stream of good and malformed lines; the good ones name real files.
make_malformed_stream() {
	printf 'good one' > "$T/one"
	printf 'good two' > "$T/two"
	{
		printf '# a comment\n'                                  # 1
		pfind "$T/one"                                          # 2
		printf '1\t2\n'                                         # 3 too few fields
		printf 'x1\t2\t%s\n' "$T/one"                           # 4 bad inode number
		printf '1\t-2\t%s\n' "$T/one"                           # 5 bad size
		printf '1\t2\t%s\\q\n' "$T/one"                         # 6 bad escape
		printf '1\t2\t%s\tsha256:ABC\n' "$T/one"                # 7 bad hex
		printf '1\t2\t' ; head -c 2097152 /dev/zero | tr '\0' x # 8 a 2 MB line
		printf '\n'
		printf '99999999999999999999\t2\t%s\n' "$T/one"         # 9 overflow
		printf '1\t2\t%s\tsha256:%064d\tbad key:1\n' "$T/one" 0 # 10 bad key
		pfind "$T/two"                                          # 11
	} > "$T/stream"
}

expected_diagnostics() {
	local prog=$1
	cat <<-EOF
	$prog: <stdin>:3: too few fields
	$prog: <stdin>:4: bad inode number
	$prog: <stdin>:5: bad size
	$prog: <stdin>:6: bad escape in path
	$prog: <stdin>:7: bad hex for sha256
	$prog: <stdin>:8: line longer than 1048576 bytes
	$prog: <stdin>:9: bad inode number
	$prog: <stdin>:10: bad attribute key
	EOF
}

@test "phash reports each malformed line as <stdin>:LINE, hashes the good ones and exits 2" {
	make_malformed_stream
	prun sh -c 'phash -a sha256 < "$1/stream" > "$1/out" 2> "$1/err"' _ "$T"
	assert_failure 2
	expected_diagnostics phash | diff - "$T/err"
	# The comment and both good records came through, hashed.
	assert_equal "$(wc -l < "$T/out")" 3
	fmt_decode digests sha256 < "$T/out" | sort -z > "$T/phash.sums"
	sha256sum -z "$T/one" "$T/two" | sort -z > "$T/ref.sums"
	cmp "$T/phash.sums" "$T/ref.sums"
}

@test "pverify reports each malformed line as <stdin>:LINE, checks the good ones and exits 2" {
	make_malformed_stream
	pfind "$T/one" "$T/two" | phash -a sha256 > "$T/good"
	# Swap the two good records for hashed ones, keep the bad lines.
	{
		head -n 1 "$T/stream"
		sed -n 1p "$T/good"
		sed -n '3,10p' "$T/stream"
		sed -n 2p "$T/good"
	} > "$T/manifest"
	prun sh -c 'pverify < "$1/manifest" > "$1/out" 2> "$1/err"' _ "$T"
	assert_failure 2
	expected_diagnostics pverify | diff - <(grep -F '<stdin>:' "$T/err")
	# The good records were checked, and verified.
	assert grep -qxF "pverify: 2 ok, 0 failed, 0 missing, 0 errors" "$T/err"
	# Damage a good file (one byte shorter): the malformed lines still give
	# 2, the mismatch is reported.
	printf 'changed' > "$T/two"
	prun sh -c 'pverify < "$1/manifest" > "$1/out" 2> "$1/err"' _ "$T"
	assert_failure 2
	assert_equal "$(cat "$T/out")" "SIZE	$T/two"
}

@test "binary garbage on stdin crashes no tool; lines after it are still processed" {
	printf 'after the garbage' > "$T/after"
	python3 -c '
import random, sys
r = random.Random(7)
out = bytearray()
for _ in range(200000):
    c = r.randrange(256)
    out.append(c if c > 0xf0 or c < 0xe0 else b"\t\\\n:#x"[c % 6])
sys.stdout.buffer.write(bytes(out) + b"\n1\tbad\n")' > "$T/garbage"
	{ cat "$T/garbage"; pfind "$T/after"; } > "$T/stream"
	prun phash -a sha256 < "$T/stream"
	assert_failure 2
	assert_output --partial "sha256:$(sha256sum < "$T/after" | cut -c1-64)"
	prun pverify < "$T/stream"
	assert_failure 2
	# With -0 each NUL-terminated piece is a path, and none of them exists.
	prun phash -0 -a sha256 < "$T/stream"
	assert_failure 1
}

@test "a record line longer than the limit is skipped, the next line is read" {
	printf 'x' > "$T/x"
	{ printf '1\t2\t'; head -c 1048573 /dev/zero | tr '\0' a; printf '\tk:v\n'; pfind "$T/x"; } > "$T/stream"
	prun phash -a sha256 < "$T/stream"
	assert_failure 2
	assert_line --partial "phash: <stdin>:1: line longer than 1048576 bytes"
	assert_line --partial "sha256:$(sha256sum < "$T/x" | cut -c1-64)"
	# A line of exactly the limit is not too long: just a missing file.
	{ printf '1\t2\t'; head -c 1048568 /dev/zero | tr '\0' a; printf '\tk:v\n'; } > "$T/exact"
	assert_equal "$(head -n 1 "$T/exact" | wc -c)" 1048577
	prun phash -a sha256 < "$T/exact"
	assert_failure 1
	refute_output --partial "longer than"
}

@test "pverify accepts a manifest sealed exactly as FORMAT.md specifies" {
	make_awkward_tree "$T/tree" --no-long
	pfind "$T/tree" -type f | phash -a sha256 > "$T/list"
	seal_manifest "$T/list" "$T/sealed"
	prun pverify < "$T/sealed"
	assert_success
}

@test "pverify exits 1 when a sealed manifest was edited, even if every file still verifies" {
	printf 'content' > "$T/f"
	pfind "$T/f" | phash -a sha256 > "$T/list"
	seal_manifest "$T/list" "$T/sealed"
	# A comment slipped in before the seal: every record still verifies.
	{ head -n 1 "$T/sealed"; printf '# inserted\n'; tail -n +2 "$T/sealed"; } > "$T/edited"
	prun pverify < "$T/edited"
	assert_failure 1
	assert_output --partial seal
	# Anything after the seal line is refused too.
	{ cat "$T/sealed"; pfind "$T/f" | phash -a sha256; } > "$T/extended"
	prun pverify < "$T/extended"
	assert_failure 1
	assert_output --partial seal
}
