#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes Snippets/<Page><n>.swift from the Swift code blocks of the README and the DocC
articles. A block that starts with `import` starts a program; a block that does not continues
the page's previous program. Tests/ExampleTests checks that the snippets still match the
pages, and runs them. Run this after editing an example."""
import os, re, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = ["README.md"] + sorted(
    os.path.join(d, f) for d in ["Sources/Landlock/Documentation.docc", "Sources/LandlockSupervisor/Documentation.docc"]
    for f in os.listdir(os.path.join(ROOT, d)) if f.endswith(".md"))
HEADER = "// SPDX-License-Identifier: Apache-2.0\n// Generated from {page} by Scripts/update-snippets.py: edit the page, not this file.\n\n"

def programs(text):
    result = []
    for block in re.findall(r"```swift\n(.*?)```", text, re.S):
        if block.startswith("import ") or not result:
            result.append(block)
        else:
            result[-1] += "\n" + block
    return result

wanted = {}
for page in PAGES:
    name = os.path.splitext(os.path.basename(page))[0]
    for index, program in enumerate(programs(open(os.path.join(ROOT, page)).read()), 1):
        wanted[f"{name}{index}.swift"] = HEADER.format(page=page) + program
os.makedirs(os.path.join(ROOT, "Snippets"), exist_ok=True)
for old in os.listdir(os.path.join(ROOT, "Snippets")):
    if old not in wanted: os.remove(os.path.join(ROOT, "Snippets", old))
for name, text in wanted.items():
    open(os.path.join(ROOT, "Snippets", name), "w").write(text)
    print("Snippets/" + name)
