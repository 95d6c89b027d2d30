# SPDX-License-Identifier: 0BSD
# Small filesystems of a chosen kind for the tests of delta updates (issue
# 20), sourced by .bats files (and bench/delta): one that shares blocks
# between files (reflinks: FICLONE, FICLONERANGE, cp --reflink=always), and
# a tmpfs (no reflinks; copy_file_range copies bytes).
#
#   reflink_fs_start DIR [xfs|btrfs]
#                    make a sparse image file beside DIR (DIR.img) of
#                    REFLINK_SIZE (truncate's units; default 300M, XFS's least),
#                    format it with reflinks (mkfs.xfs -m reflink=1, else
#                    mkfs.btrfs; only the kind named, if one is), attach it to
#                    a loop device and mount it on DIR (made if missing).
#                    Sets REFLINK_MNT (DIR, absolute), REFLINK_FS (xfs or
#                    btrfs), REFLINK_DEV and REFLINK_IMG. Where that is not
#                    possible (no mkfs, no losetup, no loop device, mount
#                    refused, as in most containers) it undoes what it did and,
#                    in a bats test, skips it saying why; elsewhere it says
#                    why on stderr and returns 1.
#   reflink_fs_stop  unmount REFLINK_MNT, detach the loop device, remove the
#                    image; safe to call when nothing is mounted (teardown).
#   tmpfs_start DIR [SIZE]
#                    mount a tmpfs of SIZE (default 64m) on DIR (made if
#                    missing); sets TMPFS_MNT; skips (or returns 1) as above.
#   tmpfs_stop       unmount TMPFS_MNT; safe to call when nothing is mounted.
#
# Mounting needs root (tests run as root). One of each at a time per shell.

# _fs_unavailable MESSAGE: skip the bats test with MESSAGE, or outside bats
# print it and fail.
_fs_unavailable() {
	if [ "$(type -t skip)" = function ]; then
		skip "$1"
	fi
	echo "$1" >&2
	return 1
}

# _reflink_mkfs KIND IMG: format IMG as KIND with reflinks; its output on failure.
_reflink_mkfs() {
	local out
	case $1 in
	xfs) out=$(mkfs.xfs -q -f -m reflink=1 "$2" 2>&1) ;;
	btrfs) out=$(mkfs.btrfs -q -f "$2" 2>&1) ;;
	esac || { echo "$out"; return 1; }
}

reflink_fs_start() {
	local dir=$1 want=${2:-} kind kinds="" why="" out
	[ -n "$dir" ] || { echo "usage: reflink_fs_start DIR [xfs|btrfs]" >&2; return 2; }
	for kind in ${want:-xfs btrfs}; do
		command -v "mkfs.$kind" >/dev/null && kinds+=" $kind"
	done
	[ -n "$kinds" ] || { _fs_unavailable "no mkfs.${want:-xfs or mkfs.btrfs} to make a filesystem with reflinks (Debian: xfsprogs, btrfs-progs)"; return 1; }
	command -v losetup >/dev/null || { _fs_unavailable "no losetup to attach a filesystem image (Debian: mount)"; return 1; }
	[ "$(id -u)" = 0 ] || { _fs_unavailable "mounting a filesystem image needs root"; return 1; }
	mkdir -p "$dir" || return 1
	dir=$(cd "$dir" && pwd) || return 1
	REFLINK_MNT=$dir REFLINK_IMG=$dir.img REFLINK_DEV="" REFLINK_FS=""
	for kind in $kinds; do
		rm -f "$REFLINK_IMG"
		truncate -s "${REFLINK_SIZE:-300M}" "$REFLINK_IMG" || return 1
		out=$(_reflink_mkfs "$kind" "$REFLINK_IMG") || { why+=" mkfs.$kind failed: $out;"; continue; }
		REFLINK_DEV=$(losetup -f --show "$REFLINK_IMG" 2>&1) || {
			why+=" no loop device ($REFLINK_DEV);"
			REFLINK_DEV=""
			break
		}
		if out=$(mount -t "$kind" "$REFLINK_DEV" "$dir" 2>&1); then
			REFLINK_FS=$kind
			return 0
		fi
		why+=" mount -t $kind refused ($out);"
		losetup -d "$REFLINK_DEV" 2>/dev/null || true
		REFLINK_DEV=""
	done
	rm -f "$REFLINK_IMG"
	_fs_unavailable "cannot mount a filesystem with reflinks here:${why%;}"
	return 1
}

reflink_fs_stop() {
	if [ -n "${REFLINK_MNT:-}" ] && mountpoint -q "$REFLINK_MNT"; then
		umount "$REFLINK_MNT" || umount -l "$REFLINK_MNT"
	fi
	[ -z "${REFLINK_DEV:-}" ] || losetup -d "$REFLINK_DEV" 2>/dev/null || true
	[ -z "${REFLINK_IMG:-}" ] || rm -f "$REFLINK_IMG"
	REFLINK_MNT="" REFLINK_DEV="" REFLINK_IMG="" REFLINK_FS=""
	return 0
}

tmpfs_start() {
	local dir=$1 size=${2:-64m} out
	[ -n "$dir" ] || { echo "usage: tmpfs_start DIR [SIZE]" >&2; return 2; }
	mkdir -p "$dir" || return 1
	dir=$(cd "$dir" && pwd) || return 1
	out=$(mount -t tmpfs -o "size=$size" ptools-test "$dir" 2>&1) || {
		_fs_unavailable "cannot mount a tmpfs here: $out"
		return 1
	}
	TMPFS_MNT=$dir
}

tmpfs_stop() {
	if [ -n "${TMPFS_MNT:-}" ] && mountpoint -q "$TMPFS_MNT"; then
		umount "$TMPFS_MNT" || umount -l "$TMPFS_MNT"
	fi
	TMPFS_MNT=""
	return 0
}
