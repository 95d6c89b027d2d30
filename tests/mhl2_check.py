#!/usr/bin/python3
# SPDX-License-Identifier: 0BSD
"""Independent check of an ASC MHL v2 history (tests/mhl2.bats).

    mhl2_check.py FOLDER

Parses FOLDER/ascmhl with xml.etree, recomputes with hashlib and xxhash,
and follows the reference implementation's rules (ascmitc/mhl) written
down here from its description, not from ptools' C: every <hash> digest of
the newest generation against the file, every <directoryhash> and the
<roothash> (content: the format's digest of the children's sorted digest
strings as bytes; structure: the same over each child's digest of its
UTF-8 name and its content (file) or structure (directory) digest bytes),
and each chain entry's C4 (base58 of SHA-512, "c4" and 88 digits) against
its generation file. What the newest generation's processinfo/<ignore>
patterns match (gitignore's rules: a pattern without '/' matches a name at
any depth, one with a '/' the path from the folder, a trailing '/' only
directories) is left out of the directory hashes. Prints what is wrong;
exit 0 when nothing is.
"""
import fnmatch
import hashlib
import os
import sys
import xml.etree.ElementTree as ET

import xxhash

NS = '{urn:ASC:MHL:v2.0}'
CNS = '{urn:ASC:MHL:DIRECTORY:v2.0}'
ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
HASHERS = {
    'md5': hashlib.md5, 'sha1': hashlib.sha1, 'xxh32': xxhash.xxh32,
    'xxh64': xxhash.xxh64, 'xxh3': xxhash.xxh3_64, 'xxh128': xxhash.xxh3_128,
    'c4': hashlib.sha512,
}
IGNORED = {'ascmhl', '.DS_Store', '.ptools-seal', '.ptools-seal.sig'}
PATTERNS = []


def ignored(rel, name, is_dir):
    if name in IGNORED:
        return True
    for p in PATTERNS:
        dirs_only = p.endswith('/')
        body = p.strip('/')
        if not body or (dirs_only and not is_dir):
            continue
        if '/' in p.rstrip('/'):
            if fnmatch.fnmatchcase(rel, body):
                return True
        elif fnmatch.fnmatchcase(name, body):
            return True
    return False


def c4_of_digest(digest):
    n = int.from_bytes(digest, 'big')
    out = ''
    while n:
        n, r = divmod(n, 58)
        out = ALPHABET[r] + out
    return 'c4' + out.rjust(88, '1')


def c4_bytes(text):
    n = 0
    for ch in text[2:]:
        n = n * 58 + ALPHABET.index(ch)
    return n.to_bytes(64, 'big')


def digest_string(fmt, data):
    h = HASHERS[fmt](data)
    return c4_of_digest(h.digest()) if fmt == 'c4' else h.hexdigest()


def string_bytes(fmt, s):
    return c4_bytes(s) if fmt == 'c4' else bytes.fromhex(s)


def file_digest(fmt, path):
    h = HASHERS[fmt]()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return c4_of_digest(h.digest()) if fmt == 'c4' else h.hexdigest()


def hash_of_list(fmt, strings):
    h = HASHERS[fmt]()
    for s in sorted(strings):
        h.update(string_bytes(fmt, s))
    return c4_of_digest(h.digest()) if fmt == 'c4' else h.hexdigest()


def dir_hashes(fmt, path, files, rel=''):
    """(content, structure) of directory path, recursively, from files' digests."""
    contents, structures = [], []
    for name in sorted(os.listdir(path)):
        child = os.path.join(path, name)
        child_rel = rel + '/' + name if rel else name
        if ignored(child_rel, name, os.path.isdir(child) and not os.path.islink(child)):
            continue
        if os.path.islink(child):
            continue
        if os.path.isdir(child):
            c, s = dir_hashes(fmt, child, files, child_rel)
            contents.append(c)
            structures.append(digest_string(fmt, name.encode() + string_bytes(fmt, s)))
        elif os.path.isfile(child):
            c = files[child][fmt] if child in files and fmt in files[child] \
                else file_digest(fmt, child)
            contents.append(c)
            structures.append(digest_string(fmt, name.encode() + string_bytes(fmt, c)))
    return hash_of_list(fmt, contents), hash_of_list(fmt, structures)


def main():
    folder = sys.argv[1]
    history = os.path.join(folder, 'ascmhl')
    problems = []
    chain = ET.parse(os.path.join(history, 'ascmhl_chain.xml')).getroot()
    assert chain.tag == CNS + 'ascmhldirectory', chain.tag
    links = chain.findall(CNS + 'hashlist')
    if not links:
        problems.append('empty chain')
    for i, link in enumerate(links, 1):
        name = link.find(CNS + 'path').text
        if int(link.get('sequencenr')) != i:
            problems.append('sequence %s out of order' % link.get('sequencenr'))
        if not name.startswith('%04d_' % i) or not name.endswith('Z.mhl'):
            problems.append('bad generation name ' + name)
        with open(os.path.join(history, name), 'rb') as f:
            want = c4_of_digest(hashlib.sha512(f.read()).digest())
        if link.find(CNS + 'c4').text != want:
            problems.append('chain C4 of %s differs' % name)
    newest = os.path.join(history, links[-1].find(CNS + 'path').text)
    root = ET.parse(newest).getroot()
    assert root.tag == NS + 'hashlist' and root.get('version') == '2.0'
    ignore = root.find(NS + 'processinfo').find(NS + 'ignore')
    if ignore is not None:
        PATTERNS.extend(p.text for p in ignore.findall(NS + 'pattern') if p.text)
    info = root.find(NS + 'creatorinfo')
    for what in ('creationdate', 'hostname', 'tool'):
        if info.find(NS + what) is None:
            problems.append('creatorinfo lacks ' + what)
    files = {}
    nfiles = 0
    for h in root.find(NS + 'hashes').findall(NS + 'hash'):
        p = h.find(NS + 'path')
        path = os.path.join(folder, p.text)
        nfiles += 1
        parts = p.text.split('/')
        if any(ignored('/'.join(parts[:i + 1]), parts[i], i < len(parts) - 1)
               for i in range(len(parts))):
            problems.append('lists %s, which its ignore patterns leave out' % p.text)
        if int(p.get('size')) != os.path.getsize(path):
            problems.append('size of ' + p.text)
        for el in h:
            fmt = el.tag[len(NS):]
            if fmt == 'path':
                continue
            if el.get('action') not in ('original', 'verified') or not el.get('hashdate'):
                problems.append('action/hashdate of %s %s' % (fmt, p.text))
            want = file_digest(fmt, path)
            if el.text != want:
                problems.append('%s of %s: %s, recomputed %s' % (fmt, p.text, el.text, want))
            files.setdefault(path, {})[fmt] = want
    formats = set()
    for d in root.find(NS + 'hashes').findall(NS + 'directoryhash'):
        rel = d.find(NS + 'path').text
        for el in d.find(NS + 'content'):
            fmt = el.tag[len(NS):]
            formats.add(fmt)
            structure = d.find(NS + 'structure').find(NS + fmt).text
            want = dir_hashes(fmt, os.path.join(folder, rel), files, rel)
            if (el.text, structure) != want:
                problems.append('directory hash %s of %s: %s %s, recomputed %s %s' %
                                (fmt, rel, el.text, structure, want[0], want[1]))
    rh = root.find(NS + 'processinfo').find(NS + 'roothash')
    for el in rh.find(NS + 'content'):
        fmt = el.tag[len(NS):]
        structure = rh.find(NS + 'structure').find(NS + fmt).text
        want = dir_hashes(fmt, folder, files)
        if (el.text, structure) != want:
            problems.append('root hash %s: %s %s, recomputed %s %s' %
                            (fmt, el.text, structure, want[0], want[1]))
    for p in problems:
        print(p)
    print('%d files, %d generations checked' % (nfiles, len(links)))
    sys.exit(1 if problems else 0)


main()
