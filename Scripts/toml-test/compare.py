#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Compares the driver's output with the toml-test expectations.

Usage: compare.py SUITE_DIR DRIVER_OUTPUT FILE_LIST
Valid documents must parse to the expected tagged JSON (floats compared as numbers, dates
and times as instants, as toml-test's own runner does); invalid ones must be refused.
"""
import json
import re
import sys
from datetime import date
from decimal import Decimal

suite, output, listing = sys.argv[1:4]
results = {}
with open(output, encoding="utf-8") as f:
    for line in f:
        entry = json.loads(line)
        results[entry["file"]] = entry

DT = re.compile(r"(\d{4})-(\d\d)-(\d\d)(?:T(\d\d):(\d\d):(\d\d)(\.\d+)?)?(Z|[+-]\d\d:\d\d)?$")
TM = re.compile(r"(\d\d):(\d\d):(\d\d)(\.\d+)?$")


def instant(kind, text):
    text = text.replace(" ", "T").replace("t", "T").replace("z", "Z")
    if kind == "time-local":
        h, m, s, frac = TM.match(text).groups()
        return int(h) * 3600 + int(m) * 60 + int(s) + Decimal(frac or "0")
    y, mo, d, h, mi, s, frac, offset = DT.match(text).groups()
    total = Decimal(date(int(y), int(mo), int(d)).toordinal() * 86400)
    if h is not None:
        total += int(h) * 3600 + int(mi) * 60 + int(s) + Decimal(frac or "0")
    if offset and offset != "Z":
        sign = -1 if offset[0] == "-" else 1
        total -= sign * (int(offset[1:3]) * 3600 + int(offset[4:6]) * 60)
    return (total, offset is not None)


def same(want, have, path):
    if isinstance(want, dict) and set(want.keys()) == {"type", "value"} and isinstance(want["value"], str):
        if not isinstance(have, dict) or have.get("type") != want["type"]:
            return f"{path}: expected {want}, got {have}"
        t, w, h = want["type"], want["value"], have["value"]
        if t == "float":
            w, h = w.lower(), h.lower()
            if w.endswith("nan") or h.endswith("nan"):
                ok = w.lstrip("+-") == h.lstrip("+-")
            else:
                ok = float(w) == float(h)
        elif t in ("datetime", "datetime-local", "date-local", "time-local"):
            ok = instant(t, w) == instant(t, h)
        else:
            ok = w == h
        return None if ok else f"{path}: expected {w!r}, got {h!r}"
    if isinstance(want, dict):
        if not isinstance(have, dict) or set(want) != set(have):
            return f"{path}: expected keys {sorted(want)}, got {sorted(have) if isinstance(have, dict) else have}"
        for k in want:
            problem = same(want[k], have[k], f"{path}.{k}")
            if problem:
                return problem
        return None
    if isinstance(want, list):
        if not isinstance(have, list) or len(want) != len(have):
            return f"{path}: expected an array of {len(want)}, got {have}"
        for i, (w, h) in enumerate(zip(want, have)):
            problem = same(w, h, f"{path}[{i}]")
            if problem:
                return problem
        return None
    return None if want == have else f"{path}: expected {want}, got {have}"


valid_pass = valid_total = invalid_pass = invalid_total = 0
failures = []
for name in open(listing, encoding="utf-8").read().split():
    if not name.endswith(".toml"):
        continue
    result = results.get(f"{suite}/{name}")
    if name.startswith("valid/"):
        valid_total += 1
        with open(f"{suite}/{name[:-5]}.json", encoding="utf-8") as f:
            want = json.load(f)
        if not result["ok"]:
            failures.append(f"{name}: refused: {result['error']}")
        else:
            problem = same(want, result["value"], "")
            if problem:
                failures.append(f"{name}: {problem}")
            else:
                valid_pass += 1
    elif name.startswith("invalid/"):
        invalid_total += 1
        if result["ok"]:
            failures.append(f"{name}: accepted")
        else:
            invalid_pass += 1

for failure in failures:
    print("FAIL", failure)
print(f"valid: {valid_pass}/{valid_total} parsed as expected; invalid: {invalid_pass}/{invalid_total} refused")
sys.exit(0 if not failures else 1)
