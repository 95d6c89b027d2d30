#!/usr/bin/env python3
# SPDX-License-Identifier: 0BSD
"""Random trees for tests/property.bats: a reproducible tree from a seed.

    gen_tree.py DIR SEED [TOTAL_MIB]

DIR must not exist. The same SEED always gives the same names, sizes,
contents, links, modes and mtimes. The tree holds names with awkward bytes
(newline, tab, CR, backslash, invalid UTF-8, a leading '-', '#' or space,
every other byte below 0x20 and 0x7f), regular files of 0 bytes to 10 MiB
(sizes at the 1 MiB read-buffer edges included; TOTAL_MIB, default 24, caps
the sum), symbolic links (to files, to directories, dangling, absolute, a
loop), empty directories, hard links (within a directory and across
directories) and one FIFO. Prints a one-line summary.
"""
import os
import random
import stat
import sys

MIB = 1 << 20

# Pieces a name is made of: mostly plain, with every awkward kind.
AWKWARD = [b"\n", b"\t", b"\r", b"\\", b"\xff", b"\xfe\xc3", b"\xc3(", b" ", b"\x7f",
           b"\x01", b"\x1b[0m", b"\xe2\x80\x8f", b"\xc3\xa9", b"*", b"?", b"[a]",
           b"'", b'"', b"$x", b"%s", b"\\n", b"\\x41", b":", b"="]
PLAIN = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._"
# Leading bytes that trip naive tools and parsers.
LEADING = [b"-", b"--", b"#", b" ", b"\\", b"\t", b"\n", b"~", b"."]


# Names pcopy and phash -r leave out by default (libcommon/exclude.c).
VOLATILE = {b".DS_Store", b".Spotlight-V100", b".Trashes", b".fseventsd", b".TemporaryItems",
            b"Thumbs.db", b"desktop.ini", b"lost+found"}


def is_volatile(name):
    """Whether a walk leaves name out by default: a copy would lack it."""
    return name in VOLATILE or name.startswith(b"._")


def make_name(rng, taken):
    """A fresh name (bytes) not in taken, never '.', '..' or a pcopy name."""
    while True:
        parts = []
        if rng.random() < 0.25:
            parts.append(rng.choice(LEADING))
        for _ in range(rng.randint(1, 6)):
            r = rng.random()
            if r < 0.55:
                parts.append(bytes(rng.choice(PLAIN) for _ in range(rng.randint(1, 8))))
            elif r < 0.9:
                parts.append(rng.choice(AWKWARD))
            else:
                # any byte but NUL and '/'
                parts.append(bytes([rng.choice([b for b in range(1, 256) if b != 0x2f])]))
        name = b"".join(parts)[:200]
        if name in (b".", b"..") or name.startswith(b".pcopy") or \
           name.startswith(b".ptools") or name in taken or is_volatile(name):
            continue
        taken.add(name)
        return name


def pick_size(rng, budget):
    """A file size: edge cases, small, medium, sometimes large, within budget."""
    r = rng.random()
    if r < 0.10:
        size = 0
    elif r < 0.20:
        size = rng.choice([1, 4095, 4096, 4097, 65535, 65536, MIB - 1, MIB, MIB + 1])
    elif r < 0.75:
        size = int(2 ** rng.uniform(0, 16))          # up to 64 KiB
    elif r < 0.95:
        size = int(2 ** rng.uniform(16, 21))         # 64 KiB to 2 MiB
    else:
        size = rng.randint(2 * MIB, 10 * MIB)
    return size if size <= budget else rng.randint(0, min(budget, 4096))


def contents(rng, size):
    """Random bytes, or runs of zeros, or a repeated pattern."""
    r = rng.random()
    if size == 0:
        return b""
    if r < 0.1:
        return bytes(size)
    if r < 0.2:
        unit = rng.randbytes(rng.randint(1, 64))
        return (unit * (size // len(unit) + 1))[:size]
    return rng.randbytes(size)


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: gen_tree.py DIR SEED [TOTAL_MIB]")
    root = os.fsencode(sys.argv[1])
    seed = int(sys.argv[2])
    budget = int(sys.argv[3] if len(sys.argv) == 4 else 24) * MIB
    rng = random.Random(seed)

    os.mkdir(root)
    dirs = [root]
    taken = {root: set()}
    files = []
    counts = {"dirs": 0, "files": 0, "bytes": 0, "symlinks": 0, "hardlinks": 0,
              "empty_dirs": 0}

    # Directories: a random tree up to 5 levels deep.
    for _ in range(rng.randint(4, 12)):
        parent = rng.choice(dirs)
        if parent.count(b"/") - root.count(b"/") >= 5:
            continue
        path = os.path.join(parent, make_name(rng, taken[parent]))
        os.mkdir(path)
        dirs.append(path)
        taken[path] = set()
        counts["dirs"] += 1

    # One large file guaranteed, then a mix.
    nfiles = rng.randint(25, 60)
    for i in range(nfiles):
        size = rng.randint(5 * MIB, 10 * MIB) if i == 0 else pick_size(rng, budget)
        size = min(size, budget)
        budget -= size
        parent = rng.choice(dirs)
        path = os.path.join(parent, make_name(rng, taken[parent]))
        with open(path, "xb") as f:
            f.write(contents(rng, size))
        os.chmod(path, rng.choice([0o644, 0o644, 0o600, 0o755, 0o444, 0o640]))
        files.append(path)
        counts["files"] += 1
        counts["bytes"] += size

    # Duplicated contents under another name (same digest, different path).
    for _ in range(2):
        src = rng.choice(files)
        parent = rng.choice(dirs)
        path = os.path.join(parent, make_name(rng, taken[parent]))
        with open(src, "rb") as f, open(path, "xb") as g:
            g.write(f.read())
        files.append(path)
        counts["files"] += 1

    # Hard links, in the same directory and in another one.
    for _ in range(rng.randint(1, 4)):
        src = rng.choice(files)
        parent = rng.choice([os.path.dirname(src), rng.choice(dirs)])
        os.link(src, os.path.join(parent, make_name(rng, taken[parent])))
        counts["hardlinks"] += 1

    # Symbolic links: to a file (relative), to a directory, dangling, absolute, a loop.
    targets = [os.path.relpath(rng.choice(files), rng.choice(dirs)),
               b"..", b"does/not/exist", b"/etc/hostname", None]
    for target in targets:
        parent = rng.choice(dirs)
        name = make_name(rng, taken[parent])
        os.symlink(name if target is None else target, os.path.join(parent, name))
        counts["symlinks"] += 1

    # Empty directories, one of them nested two deep.
    for _ in range(rng.randint(1, 3)):
        parent = rng.choice(dirs)
        path = os.path.join(parent, make_name(rng, taken[parent]))
        os.mkdir(path)
        if rng.random() < 0.5:
            path = os.path.join(path, make_name(rng, set()))
            os.mkdir(path)
        counts["empty_dirs"] += 1

    # A FIFO: nothing may open it for reading (it would hang).
    parent = rng.choice(dirs)
    os.mkfifo(os.path.join(parent, make_name(rng, taken[parent])), 0o644)

    # Mtimes with nanoseconds, deepest entries first so directories keep theirs.
    entries = []
    for top, subdirs, names in os.walk(root):
        for name in subdirs + names:
            entries.append(os.path.join(top, name))
    entries.sort(key=lambda p: -p.count(b"/"))
    for path in entries:
        ns = rng.randint(10**9, 1.8 * 10**18)
        mode = os.lstat(path).st_mode
        os.utime(path, ns=(ns, ns), follow_symlinks=not stat.S_ISLNK(mode))
    for path in sorted(dirs[1:], key=lambda p: -p.count(b"/")):
        if rng.random() < 0.15:
            os.chmod(path, 0o555)     # read-only directory: a copy must still fill it

    print("seed %d: %d dirs, %d files (%d bytes), %d hard links, %d symlinks, %d empty dirs, 1 fifo"
          % (seed, counts["dirs"], counts["files"], counts["bytes"], counts["hardlinks"],
             counts["symlinks"], counts["empty_dirs"]))


if __name__ == "__main__":
    main()
