#!/bin/sh
# SPDX-License-Identifier: 0BSD
# Seeds for fuzz_mhl2ahead: the ASC MHL reader's own (the same inputs, parsed
# ahead), and the generation again behind a first byte that makes it a
# generation cut into pieces of 72 and 24 bytes: as it is, with a UTF-8
# byte-order mark, with CR LF line ends, and with junk after the root.
set -eu
seeds=$(dirname "$0")
cp "$seeds"/fuzz_mhl2/* "$1"/
gen=$seeds/fuzz_mhl2/generation.xml
{ printf '\020'; cat "$gen"; } > "$1/pieces-72.xml"
{ printf '\004'; cat "$gen"; } > "$1/pieces-24.xml"
{ printf '\020\357\273\277'; cat "$gen"; printf 'junk\n'; } > "$1/pieces-bom-junk.xml"
{ printf '\004'; sed 's/$/\r/' "$gen"; } > "$1/pieces-crlf.xml"
