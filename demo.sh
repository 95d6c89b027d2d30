#!/usr/bin/env bash
# SPDX-License-Identifier: 0BSD
# The main job on a default input: make a sample tree, list it with pfind,
# hash it with phash, verify the list with pverify, make a sealed copy to two
# destinations with pcopy and verify both seals. Run by `make demo`.
set -euo pipefail
: "${PTOOLS_BIN:=$(cd "$(dirname "$0")" && pwd)/bin}"
PATH="$PTOOLS_BIN:$PATH"
demo=${DEMO_DIR:-build/demo}
rm -rf "$demo"
mkdir -p "$demo/sample/photos/2026" "$demo/sample/docs" "$demo/sample/empty"
for i in $(seq 1 40); do
	head -c $((i * 1531)) /dev/urandom > "$demo/sample/photos/2026/IMG_$i.raw"
done
printf 'hello\n' > "$demo/sample/docs/readme.txt"
printf 'tab\tand newline\n' > "$demo/sample/docs/odd"$'\t'"name"
ln -s docs/readme.txt "$demo/sample/link-to-readme"

step() { printf '\n$ %s\n' "$*"; }

step "pfind $demo/sample | phash -a sha256,xxh128 > $demo/list"
pfind "$demo/sample" | phash -a sha256,xxh128 > "$demo/list"
head -n 3 "$demo/list"
echo "... $(wc -l < "$demo/list") records"

step "pverify < $demo/list"
pverify < "$demo/list" && echo "all files verified"

step "pcopy $demo/sample $demo/copy-a $demo/copy-b"
pcopy "$demo/sample" "$demo/copy-a" "$demo/copy-b"

for d in copy-a copy-b; do
	step "pverify -C $demo/$d < $demo/$d/.ptools-seal"
	pverify -C "$demo/$d" < "$demo/$d/.ptools-seal" && echo "seal of $d verified"
done
