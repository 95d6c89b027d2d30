#!/usr/bin/env python3
# SPDX-License-Identifier: 0BSD
"""Check that every test docs/RELIABILITY.md cites still exists.

A guarantee is only as good as the test named beside it: a renamed or
deleted test would leave a promise that nothing proves. Each quoted name
after a `tests/FILE.bats` reference must be the name of a @test in that
file, and each UNIT_TEST(name) after a `tests/unit/FILE.c` reference must be
defined there. Exit 1 naming every citation that is not found.
"""
import re
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
doc = (root / "docs" / "RELIABILITY.md").read_text()

bats_names = {}
for path in (root / "tests").glob("*.bats"):
    names = set()
    for line in path.read_text().splitlines():
        m = re.match(r'@test "(.*)" \{$', line)
        if m:
            names.add(m.group(1).replace('\\"', '"').replace("\\$", "$"))
    bats_names[f"tests/{path.name}"] = names

missing = []
checked = 0
# A reference to a file sets where the quoted names that follow it live.
token = re.compile(r'`(tests/[\w./-]+)`|"((?:[^"\\]|\\.)*)"|UNIT_TEST\((\w+)\)')
for lineno, line in enumerate(doc.splitlines(), 1):
    current = None
    for m in token.finditer(line):
        if m.group(1):
            current = m.group(1)
            continue
        if current is None:
            continue
        if m.group(3):
            if not current.endswith(".c"):
                continue
            source = root / current
            checked += 1
            if not source.exists() or f"UNIT_TEST({m.group(3)})" not in source.read_text():
                missing.append(f"{lineno}: {current}: UNIT_TEST({m.group(3)})")
            continue
        if not current.endswith(".bats"):
            continue
        name = m.group(2).replace("\\|", "|")
        checked += 1
        if name not in bats_names.get(current, set()):
            missing.append(f'{lineno}: {current}: "{name}"')

for item in missing:
    print(f"docs/RELIABILITY.md:{item}: no such test", file=sys.stderr)
if checked == 0:
    print("docs/RELIABILITY.md: no test citation found (the check is broken)", file=sys.stderr)
    sys.exit(1)
sys.exit(1 if missing else 0)
