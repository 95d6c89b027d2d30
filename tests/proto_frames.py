# SPDX-License-Identifier: 0BSD
"""pcopy's protocol frames (docs/PROTOCOL.md) written by hand, for the tests
that play a hostile peer (tests/remote.bats, tests/rdelta.bats): built from
the document, independently of pcopy's own encoder."""
import os
import struct

VERSION = 2


def u8(v):
    return struct.pack('>B', v)


def u32(v):
    return struct.pack('>I', v)


def u64(v):
    return struct.pack('>Q', v)


def blob(b):
    return u32(len(b)) + b


def frame(kind, payload=b''):
    return u32(len(payload)) + u8(kind) + payload


def hello():
    return frame(1, b'ptools-pcopy' + u32(VERSION))


def setup_receive(dest, flags=0, key=bytes(16), algos=b'sha256'):
    """SETUP asking the server to receive into dest (a sha256 seal, 4 readers)."""
    return frame(2, u8(1) + blob(dest) + blob(b'host') + u32(flags) + blob(algos) +
                 blob(b'.ptools-seal') + u32(4) + u32(0) + blob(key))


def history(name, data):
    """HISTORY (19): the next bytes of the history file name; b'', b'' ends it."""
    return frame(19, blob(name) + blob(data))


def entry(kind, rel, mode, size):
    """DIR (11) or FILE (13) for rel, owned by root, mtime 2010-01-01."""
    return frame(kind, blob(rel) + u32(mode) + u32(0) + u32(0) + u64(size) +
                 u64(size // 512 + 1) + u64(0) + u32(0) + u64(1262304000) + u32(0) + u64(1) +
                 u64(1) + u32(1) + u64(0) + blob(b'') + blob(b''))


def read_exact(fd, n):
    """n bytes from fd; None at the end of the input."""
    got = b''
    while len(got) < n:
        more = os.read(fd, n - len(got))
        if not more:
            return None
        got += more
    return got


def read_frame(fd):
    """(kind, payload) of the next frame on fd; None at the end of the input."""
    head = read_exact(fd, 5)
    if head is None:
        return None
    payload = read_exact(fd, struct.unpack('>I', head[:4])[0])
    return None if payload is None else (head[4], payload)
