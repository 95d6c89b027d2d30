# SPDX-License-Identifier: 0BSD
# Start and stop the latency fixture (bench/latencyfs/latencyfs.c, a FUSE
# passthrough that delays each request) from bash: sourced by tests/far.bats
# and by benchmarks of far storage. Works under set -euo pipefail.
#
#   latencyfs_start SRC MNT [OPT...]
#                    mount the directory SRC at MNT (an empty directory)
#                    through latencyfs with OPT... (--delay-us=N,
#                    --jitter-us=N, --queue-depth=N, -o ...; see
#                    latencyfs --help), building it first (make fixture)
#                    if needed; wait (10 s at most) until it is mounted,
#                    and export LATENCYFS_PID (its pid) and LATENCYFS_STATS
#                    (its stats file: MNT.stats, unless OPT names one with
#                    --stats=FILE). Its messages go to MNT.log. Returns 1,
#                    saying why on stderr, where it cannot run: no
#                    /dev/fuse or fusermount3, no libfuse3 to build it
#                    with, or the mount fails (a container without FUSE);
#                    then nothing is left mounted or running. Callers skip.
#   latencyfs_stop MNT
#                    unmount MNT (fusermount3 -u, retried while busy) and
#                    wait until the fixture serving it has exited (10 s,
#                    then it is killed and the mount detached); its stats
#                    file is then complete. Returns 1 if it had to force
#                    anything or the fixture failed. Safe to call on an MNT
#                    that is no longer mounted.
#   latencyfs_dump MNT [--reset]
#                    have the fixture serving MNT write its stats file now
#                    (SIGUSR1), or write it and zero its counters (SIGUSR2,
#                    with --reset), and wait until the file is there.
#   latencyfs_stat FILE KEY
#                    print KEY's value in stats file FILE: ops,
#                    peak_in_flight, peak_waited (the same without the
#                    background release and releasedir), peak_serving,
#                    busy_us (all requests' time in the fixture: over a
#                    run's wall time, the mean in flight), ops.getattr, ...
#                    (the list is at the top of bench/latencyfs/latencyfs.c).
#
# A fixture is found by its mount point: each start records the pid and the
# stats file for MNT, so several can run at once.

: "${PTOOLS_SRC_ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${LATENCYFS:=$PTOOLS_SRC_ROOT/build/bench/latencyfs}"
declare -gA _LATENCYFS_PIDS=() _LATENCYFS_STATS=()

# _latencyfs_abs PATH: PATH made absolute, its last component kept.
_latencyfs_abs() {
	(cd "$(dirname "$1")" && printf '%s/%s\n' "$(pwd -P)" "$(basename "$1")")
}

# _latencyfs_mounted MNT: whether absolute MNT is a mount point now.
_latencyfs_mounted() {
	local mnt=$1
	# /proc/self/mountinfo escapes space, tab, newline and backslash.
	mnt=${mnt//\\/\\134}
	mnt=${mnt// /\\040}
	awk -v m="$mnt" '$5 == m { found = 1 } END { exit !found }' /proc/self/mountinfo
}

# _latencyfs_gone PID: whether process PID has ended (or is a zombie).
_latencyfs_gone() {
	local state
	[ -r "/proc/$1/stat" ] || return 0
	state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 0
	[ -z "$state" ] || [ "$state" = Z ] || [ "$state" = X ]
}

# latencyfs_build: build the fixture unless it is there and up to date.
latencyfs_build() {
	if [ ! -x "$LATENCYFS" ] || [ "$PTOOLS_SRC_ROOT/bench/latencyfs/latencyfs.c" -nt "$LATENCYFS" ]; then
		if ! make -s -C "$PTOOLS_SRC_ROOT" fixture >&2; then
			echo "latencyfs: cannot build the fixture (make fixture; libfuse3-dev installed?)" >&2
			return 1
		fi
	fi
}

latencyfs_start() {
	local src=$1 mnt opt stats="" i
	mnt=$(_latencyfs_abs "$2")
	shift 2
	if [ ! -c /dev/fuse ]; then
		echo "latencyfs: /dev/fuse is absent: FUSE cannot be used here" >&2
		return 1
	fi
	if ! command -v fusermount3 >/dev/null; then
		echo "latencyfs: fusermount3 not found (install fuse3)" >&2
		return 1
	fi
	latencyfs_build || return 1
	for opt in "$@"; do
		case $opt in --stats=*) stats=${opt#--stats=} ;; esac
	done
	if [ -z "$stats" ]; then
		stats=$mnt.stats
		set -- "$@" --stats="$stats"
	fi
	"$LATENCYFS" "$src" "$mnt" -f "$@" 2>"$mnt.log" &
	local pid=$!
	for ((i = 0; i < 200; i++)); do
		if _latencyfs_mounted "$mnt"; then
			_LATENCYFS_PIDS[$mnt]=$pid
			_LATENCYFS_STATS[$mnt]=$stats
			export LATENCYFS_PID=$pid LATENCYFS_STATS=$stats
			return 0
		fi
		_latencyfs_gone "$pid" && break
		sleep 0.05
	done
	echo "latencyfs: $src could not be mounted at $mnt:" >&2
	cat "$mnt.log" >&2
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		_latencyfs_gone "$pid" && break
		sleep 0.1
	done
	_latencyfs_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
	_latencyfs_mounted "$mnt" && fusermount3 -u -z "$mnt" 2>/dev/null
	return 1
}

latencyfs_stop() {
	local mnt pid i ret=0 rc
	mnt=$(_latencyfs_abs "$1")
	pid=${_LATENCYFS_PIDS[$mnt]:-}
	for ((i = 0; i < 50; i++)); do
		_latencyfs_mounted "$mnt" || break
		fusermount3 -u "$mnt" 2>/dev/null && break
		sleep 0.1 # busy: a reader still has a file open there
	done
	if _latencyfs_mounted "$mnt"; then
		echo "latencyfs: $mnt still busy after 5 s: detached (fusermount3 -u -z)" >&2
		fusermount3 -u -z "$mnt" 2>/dev/null || true
		ret=1
	fi
	if [ -n "$pid" ]; then
		for ((i = 0; i < 100; i++)); do
			_latencyfs_gone "$pid" && break
			sleep 0.1
		done
		if ! _latencyfs_gone "$pid"; then
			echo "latencyfs: pid $pid still running 10 s after the unmount: killed" >&2
			kill -KILL "$pid" 2>/dev/null || true
			ret=1
		fi
		# Its exit status, where it is this shell's child.
		if wait "$pid" 2>/dev/null; then rc=0; else rc=$?; fi
		if [ "$rc" -ne 0 ] && [ "$rc" -ne 127 ]; then
			echo "latencyfs: pid $pid exited $rc:" >&2
			cat "$mnt.log" >&2 2>/dev/null || true
			ret=1
		fi
		unset '_LATENCYFS_PIDS[$mnt]'
	fi
	return $ret
}

latencyfs_dump() {
	local mnt pid stats sig=USR1 i
	mnt=$(_latencyfs_abs "$1")
	[ "${2:-}" = --reset ] && sig=USR2
	pid=${_LATENCYFS_PIDS[$mnt]:-}
	stats=${_LATENCYFS_STATS[$mnt]:-}
	if [ -z "$pid" ] || [ -z "$stats" ]; then
		echo "latencyfs_dump: no fixture started at $mnt" >&2
		return 1
	fi
	rm -f "$stats"
	kill -"$sig" "$pid" || return 1
	for ((i = 0; i < 100; i++)); do
		[ -f "$stats" ] && return 0
		sleep 0.05
	done
	echo "latencyfs_dump: $stats not written" >&2
	return 1
}

latencyfs_stat() {
	awk -v k="$2" '$1 == k { print $2; found = 1 } END { exit !found }' "$1"
}
