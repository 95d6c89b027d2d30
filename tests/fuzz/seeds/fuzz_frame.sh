#!/usr/bin/env bash
# SPDX-License-Identifier: 0BSD
# Seeds for fuzz_frame: valid frame streams of pcopy's protocol
# (docs/PROTOCOL.md) written into the directory $1 — a push, a pull and a
# rollback as the peers send them, each message alone, and the ways a stream
# goes wrong (a login banner, a truncated frame, an oversized length). Built
# here at run time so that no binary file is checked in.
set -eu
out=${1:?usage: fuzz_frame.sh DIR}
mkdir -p "$out"
exec python3 - "$out" <<'PY'
import hashlib, os, struct, sys

out = sys.argv[1]
HELLO, SETUP, READY = 1, 2, 3
ROOT, DIR, NODE, FILE, DATA, END, ABORT, LINK = 10, 11, 12, 13, 14, 15, 16, 17
COMMIT, CANCEL, MSG, FAILED, DONE = 20, 21, 30, 31, 32
SAME, BASE, WHOLE, HASHES = 18, 40, 41, 42
HISTORY = 19
SIGN, SIGNATURE = 43, 44
S_IFDIR, S_IFREG, S_IFLNK, S_IFIFO, S_IFCHR = 0o040000, 0o100000, 0o120000, 0o010000, 0o020000

def u8(v): return struct.pack('>B', v)
def u32(v): return struct.pack('>I', v)
def u64(v): return struct.pack('>Q', v)
def blob(b): return u32(len(b)) + b
def frame(t, payload=b''): return u32(len(payload)) + u8(t) + payload

def hello(): return frame(HELLO, b'ptools-pcopy' + u32(1))

def setup(role, path, flags=0):
    return frame(SETUP, u8(role) + blob(path) + blob(b'host') + u32(flags) +
                 blob(b'sha256,xxh128') + blob(b'.ptools-seal') + u32(4) + u32(65536) +
                 blob(bytes(range(16))))

def entry(t, rel, mode, size=0, nlink=1, ino=1, rdev=0, target=b'', xattrs=b''):
    return frame(t, blob(rel) + u32(mode) + u32(1000) + u32(1000) + u64(size) +
                 u64((size + 511) // 512) + u64(1700000000) + u32(123456789) +
                 u64(1700000001) + u32(999999999) + u64(2049) + u64(ino) + u32(nlink) +
                 u64(rdev) + blob(target) + blob(xattrs))

def xattr(name, value): return blob(name) + blob(value)

def end(data):
    # xxh128 is only checked for its shape here: 32 lower-case hex digits.
    # The check digest (xxh128) after the seal's two: its shape again.
    return frame(END, u32(2) + blob(hashlib.sha256(data).hexdigest().encode()) +
                 blob(hashlib.md5(data).hexdigest().encode()) +
                 blob(hashlib.md5(data[::-1]).hexdigest().encode()))

def text(t, s=b''): return frame(t, blob(s)) if s is not None else frame(t)
def done(status, why=b''): return frame(DONE, u8(status) + u8(0) + u64(3) + u64(11) + blob(why))

body = b'hello'
tree = [
    entry(ROOT, b'', S_IFDIR | 0o755),
    entry(DIR, b'd', S_IFDIR | 0o750, xattrs=xattr(b'user.note', b'kept') + xattr(b'user.empty', b'')),
    entry(FILE, b'd/f', S_IFREG | 0o644, size=len(body), nlink=2, ino=7),
    frame(DATA, blob(body[:2])), frame(DATA, blob(body[2:])), end(body),
    entry(LINK, b'd/g', S_IFREG | 0o644, size=len(body), nlink=2, ino=7),
    entry(NODE, b'd/l', S_IFLNK | 0o777, size=1, target=b'f'),
    entry(NODE, b'd/p', S_IFIFO | 0o600),
    entry(NODE, b'd/c', S_IFCHR | 0o600, rdev=0x0103),
    entry(FILE, b'.a..b\n\t\\', S_IFREG | 0o600),
    end(b''),
    entry(FILE, b'gone', S_IFREG | 0o600, size=10),
    frame(DATA, blob(b'01234')), frame(ABORT),
]
B = 4096
delta_sender = [
    entry(ROOT, b'', S_IFDIR | 0o755),
    entry(FILE, b'big', S_IFREG | 0o644, size=3 * B),
    frame(SAME, u64(0) + u64(B)), frame(DATA, blob(b'x' * B)), frame(SAME, u64(2 * B) + u64(B)),
    end(b'x'),
    entry(FILE, b'other', S_IFREG | 0o644, size=B), frame(DATA, blob(b'y' * B)), end(b'y'),
]
delta_receiver = [
    frame(BASE, u64(3 * B) + u32(B)),
    frame(HASHES, u64(0) + blob(bytes(range(16)) * 2)),
    frame(HASHES, u64(2) + blob(bytes(16))),
    frame(WHOLE),
]
# A source's ASC MHL history (PROTOCOL.md 4.9): its chain, listing two
# generations under their true C4, then the generations, one in two pieces.
def c4(data):
    digits = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
    n, s = int.from_bytes(hashlib.sha512(data).digest(), 'big'), ''
    while n:
        n, r = divmod(n, 58)
        s = digits[r] + s
    return ('c4' + s.rjust(88, '1')).encode()

gens = [(b'0001_card_2024-01-01_000000Z.mhl', b'<hashlist version="2.0"/>'),
        (b'0002_card_2024-01-02_000000Z.mhl', b'<hashlist version="2.0"></hashlist>')]
chain = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
         b'<ascmhldirectory xmlns="urn:ASC:MHL:DIRECTORY:v2.0">\n' +
         b''.join(b'<hashlist sequencenr="%d"><path>%s</path><c4>%s</c4></hashlist>\n'
                  % (i + 1, name, c4(data)) for i, (name, data) in enumerate(gens)) +
         b'</ascmhldirectory>\n')
def history(name, data): return frame(HISTORY, blob(name) + blob(data))
mhl_history = ([history(b'ascmhl_chain.xml', chain[:40]), history(b'ascmhl_chain.xml', chain[40:]),
                history(gens[0][0], gens[0][1][:10]), history(gens[0][0], gens[0][1][10:]),
                history(gens[1][0], gens[1][1]), history(b'', b'')])
# Signing a pushed copy's seals through the client (PROTOCOL.md 4.10): the
# server asks after COMMIT, the client answers with a signature or a reason.
armored = (b'-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQ==\n-----END SSH SIGNATURE-----\n')
signing = [frame(SIGN, u8(0) + blob(hashlib.sha512(b'seal').digest())),
           frame(SIGN, u8(1) + blob(hashlib.sha512(b'chain').digest())),
           frame(SIGNATURE, blob(armored) + blob(b'')),
           frame(SIGNATURE, blob(b'') + blob(b'agent refused operation'))]
exclude_setup = frame(SETUP, setup(2, b'src', 0xc000)[5:] + blob(b'') + u32(3) +
                      blob(b'*.tmp') + blob(b'/cache/') + blob(b'.DS_Store'))
streams = {
    'push-client': [hello(), setup(1, b'/srv/dest', 0x7f)] + tree + [frame(COMMIT, u64(0))],
    'push-server': [hello(), frame(READY), text(MSG, b'host:/srv/dest: a note'), done(0)],
    'push-cancel': [hello(), setup(1, b'dest')] + tree[:3] + [text(CANCEL, b'interrupted')],
    'push-failed': [hello(), frame(READY), text(FAILED, b'No space left on device'), done(1, b'failed')],
    'pull-client': [hello(), setup(2, b'src', 0x70), done(0)],
    'pull-server': [hello(), frame(READY)] + tree + [frame(COMMIT, u64(2))],
    'rollback': [hello(), setup(3, b'dest'), frame(READY), done(0)],
    # A delta (PROTOCOL.md 4.7): the sender's blocks and SAME runs, the receiver's answers.
    'delta-sender': [hello(), setup(1, b'dest', 0x102)] + delta_sender + [frame(COMMIT, u64(0))],
    'delta-receiver': [hello(), frame(READY)] + delta_receiver + [done(0)],
    'history-push': [hello(), setup(1, b'dest', 0x800)] + mhl_history + tree + [frame(COMMIT, u64(0))],
    'history-pull': [hello(), frame(READY)] + mhl_history + tree + [frame(COMMIT, u64(0))],
    'sign-push': [hello(), setup(1, b'dest', 0x2000)] + tree + [frame(COMMIT, u64(0))] + signing[2:3],
    'sign-server': [hello(), frame(READY)] + signing[:2] + [done(0)],
    # A pull with --exclude (bit 14, after single_name of bit 15): the set the server walks with.
    'exclude-pull': [hello(), exclude_setup, done(0)],
}
for name, frames in streams.items():
    with open(os.path.join(out, name), 'wb') as f:
        f.write(b''.join(frames))
# Each kind of message alone, for the decoders.
for i, fr in enumerate(tree + [hello(), setup(1, b'x'), frame(COMMIT, u64(5)), done(2, b'why')] +
                       delta_sender[2:5] + delta_receiver + mhl_history + signing + [exclude_setup]):
    with open(os.path.join(out, 'frame-%02d' % i), 'wb') as f:
        f.write(fr)
# What comes instead of frames.
bad = {
    'banner': b'Welcome to host\n',
    'truncated': hello()[:-3],
    'oversized': u32(4 * 1024 * 1024 + 1) + u8(DATA),
    'largest-header': u32(4 * 1024 * 1024) + u8(DATA) + b'x' * 16,
    'short-header': b'\0\0\0',
}
for name, data in bad.items():
    with open(os.path.join(out, name), 'wb') as f:
        f.write(data)
PY
