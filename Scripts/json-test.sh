#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Runs the policy-file JSON parser over JSONTestSuite's parsing tests: every y_ document must
# be accepted and every n_ document refused, except the two y_ documents with a duplicate key,
# which policy files refuse on purpose (RFC 8259 leaves duplicates to the implementation; a
# policy must not depend on which one wins). The i_ documents are listed with the choice made.
#
# Usage: Scripts/json-test.sh [JSONTESTSUITE_DIR]
#
# JSONTESTSUITE_DIR is a checkout of https://github.com/nst/JSONTestSuite (its test_parsing/
# folder is used). Nothing is downloaded: without a checkout the script says so and exits 2.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
suite=${1:-${JSON_TEST_SUITE_DIR:-/tmp/JSONTestSuite}}
if [ ! -d "$suite/test_parsing" ]; then
    echo "json-test.sh: no JSONTestSuite checkout at $suite (clone nst/JSONTestSuite there or pass its path)" >&2
    exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
config="$root/Sources/landlock-exec/Config"
swiftc -O -wmo -parse-as-library -o "$work/driver" \
    "$config/ConfigValue.swift" "$config/TOMLParser.swift" "$config/JSONParser.swift" \
    "$root/Scripts/toml-test/Driver.swift"
cd "$suite/test_parsing"
"$work/driver" --json ./*.json > "$work/output.jsonl"
python3 - "$work/output.jsonl" <<'PY'
import json, sys
refused_on_purpose = {"./y_object_duplicated_key.json", "./y_object_duplicated_key_and_value.json"}
counts = {"y": [0, 0], "n": [0, 0], "i": [0, 0]}
failures = []
for line in open(sys.argv[1], encoding="utf-8"):
    entry = json.loads(line)
    name = entry["file"]
    kind = name[2]
    counts[kind][0] += 1
    if kind == "y":
        ok = entry["ok"] or name in refused_on_purpose
    elif kind == "n":
        ok = not entry["ok"]
    else:
        print(f"{name}: {'accepted' if entry['ok'] else 'refused: ' + entry['error']}")
        ok = True
    counts[kind][1] += ok
    if not ok:
        failures.append(name)
for name in failures:
    print("FAIL", name)
(y, yok), (n, nok) = counts["y"], counts["n"]
print(f"y_: {yok}/{y} as expected ({len(refused_on_purpose)} duplicate-key documents refused on purpose); n_: {nok}/{n} refused")
sys.exit(1 if failures else 0)
PY
