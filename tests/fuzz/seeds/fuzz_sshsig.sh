#!/usr/bin/env bash
# SPDX-License-Identifier: 0BSD
# Seeds for fuzz_sshsig (see its header for the first byte): a signature as
# ssh-keygen -Y sign wrote it, the throwaway test key of
# tests/unit/test_sshsig.c (private and public), allowed_signers lines, and
# the signature's and key's raw bytes (for the selectors that armor them),
# written into the directory $1. Made here so that no binary file is
# checked in.
set -eu
out=${1:?usage: fuzz_sshsig.sh DIR}
mkdir -p "$out"
exec python3 - "$out" <<'PY'
import base64, os, sys

out = sys.argv[1]
sig = """-----BEGIN SSH SIGNATURE-----
U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAgUA8ZOpDnCrg0HZNVbvvcO64TU3
CAx5I3VTQq0d35fWQAAAALcHRvb2xzLXNlYWwAAAAAAAAABnNoYTUxMgAAAFMAAAALc3No
LWVkMjU1MTkAAABAB2bap62TQG55p1UG1atvFVr4YNJpLGgROHuGjPbvA3eNZITPVnycXc
6G1E1jTyoNiX4yffYkIEEekuL2t90SAg==
-----END SSH SIGNATURE-----
"""
key = """-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACBQDxk6kOcKuDQdk1Vu+9w7rhNTcIDHkjdVNCrR3fl9ZAAAAJC8ozqevKM6
ngAAAAtzc2gtZWQyNTUxOQAAACBQDxk6kOcKuDQdk1Vu+9w7rhNTcIDHkjdVNCrR3fl9ZA
AAAEA393ymT2kn3eXgurGvanQ03m32QlGc3IrI/6xtdcH4cVAPGTqQ5wq4NB2TVW773Duu
E1NwgMeSN1U0KtHd+X1kAAAAC3VuaXRAcHRvb2xzAQI=
-----END OPENSSH PRIVATE KEY-----
"""
pub = "AAAAC3NzaC1lZDI1NTE5AAAAIFAPGTqQ5wq4NB2TVW773DuuE1NwgMeSN1U0KtHd+X1k"
signers = f"""# allowed signers
alice@example.org ssh-ed25519 {pub} alice
"bob smith",carol namespaces="git,ptools-*" ssh-ed25519 {pub}
dave namespaces="*,!ptools-seal" ssh-ed25519 {pub}
ca@example.org cert-authority ssh-ed25519 {pub}
erin valid-after="20200101",valid-before="20300101" ssh-ed25519 {pub}
frank ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7
"""

def body(armored):
    return base64.b64decode("".join(l for l in armored.splitlines() if not l.startswith("-----")))

seeds = {
    "sig": b"0" + sig.encode(),
    "key": b"1" + key.encode(),
    "pub": b"1ssh-ed25519 " + pub.encode() + b" unit@ptools\n",
    "signers": b"2" + signers.encode(),
    "base64": b"3" + pub.encode(),
    "sig-raw": b"4" + body(sig),
    "key-raw": b"5" + body(key),
}
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
PY
