#!/usr/bin/env python3
# SPDX-License-Identifier: 0BSD
"""Checks for tests/property.bats, written from docs/FORMAT.md alone (an
independent decoder of format v1, so the tools are not checked against their
own codec).

    prop_check.py digests RECORDS SUMS0 FIND0
        RECORDS: phash's output for `pfind T`; SUMS0: `sha256sum -z` over
        `find T -type f -print0`; FIND0: `find T -print0`. Passes when the
        records name exactly find's entries, every regular file carries the
        sha256 that sha256sum computed, nothing else carries a digest and no
        record carries an error.
    prop_check.py order PFIND PHASH
        phash's records name the same paths, in the same order, as its input.
    prop_check.py flip DIR SEAL SEED
        Change one byte of one non-empty, singly linked file the seal (or any
        manifest) lists, paths relative to DIR (file and offset chosen by
        SEED, mtime kept) and print the file's escaped path as written there.
    prop_check.py flip-any FILE SEED
        Change one byte anywhere in FILE.
    prop_check.py atomic DEST SRC PRE
        DEST is a destination caught in the middle of a copy of SRC into a
        tree that held PRE: every file and symlink under a final name (not a
        .pcopy temporary, backup or journal) is whole, identical to the one
        at the same path in SRC or in PRE, and a seal, if there, is whole.
Exit 0 on success; on failure, the reasons on stderr and exit 1.
"""
import os
import random
import re
import sys

ESCAPES = {b"\\": b"\\", b"t": b"\t", b"n": b"\n", b"r": b"\r"}


def unescape(field):
    """Decode an escaped PATH or VALUE field; raise ValueError on a bad escape."""
    out = bytearray()
    i = 0
    while i < len(field):
        c = field[i:i + 1]
        if c != b"\\":
            out += c
            i += 1
            continue
        nxt = field[i + 1:i + 2]
        if nxt in ESCAPES:
            out += ESCAPES[nxt]
            i += 2
        elif nxt == b"x" and re.fullmatch(rb"[0-9a-f]{2}", field[i + 2:i + 4]):
            out.append(int(field[i + 2:i + 4], 16))
            i += 4
        else:
            raise ValueError("bad escape at byte %d of %r" % (i, field))
    return bytes(out)


def records(data):
    """Yield (escaped path, path, {key: value}, attribute list) for each record."""
    for n, line in enumerate(data.split(b"\n"), 1):
        if not line or line.startswith(b"#"):
            continue
        fields = line.split(b"\t")
        if len(fields) < 3 or not fields[0].isdigit() or not fields[1].isdigit():
            raise ValueError("line %d is not a record: %r" % (n, line))
        attrs = {}
        for a in fields[3:]:
            key, sep, value = a.partition(b":")
            if not sep:
                raise ValueError("line %d: attribute without ':': %r" % (n, a))
            attrs[key] = unescape(value)
        yield fields[2], unescape(fields[2]), attrs, int(fields[1])


def read(path):
    with open(path, "rb") as f:
        return f.read()


def norm(path):
    """find prints 'T/x', pfind prints the root as given: compare without a trailing '/'."""
    return path.rstrip(b"/") if path != b"/" else path


def cmd_digests(records_file, sums_file, find_file):
    problems = []
    reference = {}
    for entry in read(sums_file).split(b"\0"):
        if not entry:
            continue
        hexdigest, sep, name = entry.partition(b"  ")
        if not sep or len(hexdigest) != 64:
            problems.append("cannot read sha256sum line %r" % entry)
            continue
        reference[norm(name)] = hexdigest
    found = {norm(p) for p in read(find_file).split(b"\0") if p}
    seen = {}
    for _, path, attrs, _ in records(read(records_file)):
        path = norm(path)
        if path in seen:
            problems.append("path listed twice: %r" % path)
        if b"error" in attrs:
            problems.append("error attribute on %r: %r" % (path, attrs[b"error"]))
        digest = attrs.get(b"sha256")
        seen[path] = digest
        if path in reference:
            if digest is None:
                problems.append("regular file without a sha256: %r" % path)
            elif digest != reference[path]:
                problems.append("digest of %r is %s, sha256sum says %s"
                                % (path, digest.decode(), reference[path].decode()))
        elif digest is not None:
            problems.append("digest on a non-regular file: %r" % path)
    for path in sorted(found - set(seen)):
        problems.append("find lists %r, the records do not" % path)
    for path in sorted(set(seen) - found):
        problems.append("the records list %r, find does not" % path)
    if not reference:
        problems.append("sha256sum listed no file")
    return problems


def cmd_order(pfind_file, phash_file):
    before = [p for _, p, _, _ in records(read(pfind_file))]
    after = [p for _, p, _, _ in records(read(phash_file))]
    if before == after:
        return []
    for i, (a, b) in enumerate(zip(before, after)):
        if a != b:
            return ["record %d: pfind gave %r, phash wrote %r" % (i + 1, a, b)]
    return ["pfind gave %d records, phash wrote %d" % (len(before), len(after))]


def flip_byte(path, rng):
    st = os.lstat(path)
    offset = rng.randrange(st.st_size)
    with open(path, "r+b") as f:
        f.seek(offset)
        old = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([old ^ rng.randint(1, 255)]))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    return offset


def cmd_flip(directory, seal, seed):
    rng = random.Random(int(seed))
    # A file with one name only: a change to a hard-linked file shows under
    # each of its names.
    candidates = [(escaped, path) for escaped, path, attrs, size in records(read(seal))
                  if size > 0 and b"sha256" in attrs and
                  os.lstat(os.path.join(os.fsencode(directory), path)).st_nlink == 1]
    if not candidates:
        return ["the seal lists no non-empty file"]
    escaped, path = rng.choice(sorted(candidates))
    offset = flip_byte(os.path.join(os.fsencode(directory), path), rng)
    sys.stdout.buffer.write(escaped + b"\n")
    sys.stderr.write("flipped byte %d of %r\n" % (offset, path))
    return []


def cmd_flip_any(path, seed):
    offset = flip_byte(os.fsencode(path), random.Random(int(seed)))
    sys.stderr.write("flipped byte %d of %s\n" % (offset, path))
    return []


def same_file(a, b):
    """Whether a and b are both symlinks with one target or regular files with one content."""
    try:
        sa, sb = os.lstat(a), os.lstat(b)
    except FileNotFoundError:
        return False
    if os.path.islink(a) or os.path.islink(b):
        return os.path.islink(a) and os.path.islink(b) and os.readlink(a) == os.readlink(b)
    return sa.st_size == sb.st_size and read(a) == read(b)


def cmd_atomic(dest, src, pre):
    problems = []
    dest, src, pre = os.fsencode(dest), os.fsencode(src), os.fsencode(pre)
    for top, dirs, names in os.walk(dest):
        for name in names:
            if name.startswith(b".pcopy"):
                continue
            path = os.path.join(top, name)
            rel = os.path.relpath(path, dest)
            if rel == b".ptools-seal":
                lines = read(path).rstrip(b"\n").split(b"\n")
                if not lines[-1].startswith(b"#seal\t"):
                    problems.append("a seal without its seal line: %r" % lines[-1][:80])
                continue
            if not (same_file(path, os.path.join(src, rel)) or
                    same_file(path, os.path.join(pre, rel))):
                problems.append("%r is neither the source's nor the old file (half written?)"
                                % rel)
    return problems


def main():
    commands = {"digests": (cmd_digests, 3), "order": (cmd_order, 2),
                "atomic": (cmd_atomic, 3),
                "flip": (cmd_flip, 3), "flip-any": (cmd_flip_any, 2)}
    if len(sys.argv) < 2 or sys.argv[1] not in commands or \
       len(sys.argv) - 2 != commands[sys.argv[1]][1]:
        sys.exit(__doc__)
    func, _ = commands[sys.argv[1]]
    try:
        problems = func(*sys.argv[2:])
    except ValueError as e:
        problems = [str(e)]
    for p in problems[:50]:
        sys.stderr.write("prop_check: %s\n" % p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
