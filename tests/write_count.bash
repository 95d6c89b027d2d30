# SPDX-License-Identifier: 0BSD
# The bytes a command writes under a directory, counted by the LD_PRELOAD
# shim tests/write_count_shim.c (see its header), for the tests and the
# benchmark of delta updates (sourced by .bats files and bench/delta).
#
#   build_count_shim SO      build the shim as SO; returns 1, saying why on
#                            stderr, where it cannot be built (a test skips)
#   count_writes SO PREFIX OUT CMD...
#                            run CMD with the shim, counting what it and its
#                            children write under the directory PREFIX (an
#                            absolute path as /proc shows it: no symlinks);
#                            OUT is emptied first; returns CMD's status
#   count_total OUT [written|copied]
#                            the sum over OUT's lines (one a process) of the
#                            bytes written (default) or copied by
#                            copy_file_range
#
# Bytes a process writes are counted only if it ends by exit or _exit (not
# by a signal, not by exec), and only through the calls the shim wraps: not
# io_uring, not mmap, not sendfile or splice.

_write_count_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

build_count_shim() {
	cc -shared -fPIC -o "$1" "$_write_count_dir/write_count_shim.c" -ldl -lpthread || {
		echo "build_count_shim: cannot build $_write_count_dir/write_count_shim.c" >&2
		return 1
	}
}

count_writes() {
	local so=$1 prefix=$2 out=$3
	shift 3
	: > "$out"
	# An ASan build insists on coming first in the preload list.
	LD_PRELOAD="$so${LD_PRELOAD:+:$LD_PRELOAD}" PTOOLS_COUNT_PREFIX=$prefix \
		PTOOLS_COUNT_OUT=$out \
		ASAN_OPTIONS=verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS} "$@"
}

count_total() {
	awk -v what="${2:-written}" '$1 == what { n += $2 } $3 == what { n += $4 } END { printf "%d\n", n }' "$1"
}
