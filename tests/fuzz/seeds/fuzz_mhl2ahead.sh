#!/bin/sh
# SPDX-License-Identifier: 0BSD
# Seeds for fuzz_mhl2ahead: the ASC MHL reader's own (the same inputs, parsed ahead).
set -eu
cp "$(dirname "$0")"/fuzz_mhl2/* "$1"/
