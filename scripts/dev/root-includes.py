#!/usr/bin/env python3
"""Rewrites every quoted #include of a header in this repository to its path from the repository
root, so one include directory (the root) serves every target. Generated headers (skeletons, the
version header) live in the build tree and keep their bare names. Idempotent: run it after adding
files."""
import os
import re
import subprocess
import sys

root = subprocess.check_output(["git", "rev-parse", "--show-toplevel"], text=True).strip()
os.chdir(root)
files = subprocess.check_output(["git", "ls-files"], text=True).split()
headers = {}
for f in files:
    if f.endswith((".h", ".hpp")):
        headers.setdefault(os.path.basename(f), []).append(f)
include = re.compile(r'^(\s*#\s*include\s+)"([^"]+)"', re.M)
unresolved = set()
changed = 0
for f in files:
    if not f.endswith((".c", ".cpp", ".h", ".hpp", ".cc")) or not os.path.isfile(f):
        continue
    text = open(f).read()

    def rooted(m):
        name = m.group(2)
        if name in files:
            return m.group(0)
        candidates = headers.get(os.path.basename(name), [])
        if len(candidates) != 1:
            unresolved.add((f, name, len(candidates)))
            return m.group(0)
        return m.group(1) + '"' + candidates[0] + '"'

    new = include.sub(rooted, text)
    if new != text:
        open(f, "w").write(new)
        changed += 1
for f, name, n in sorted(unresolved):
    print(f"left as is: {f}: \"{name}\" ({n} candidates)", file=sys.stderr)
print(f"{changed} files rewritten")
