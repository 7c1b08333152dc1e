#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Runs the policy-file TOML parser over the TOML 1.0 conformance suite (toml-test): every
# valid document must parse to the expected value, every invalid one must be refused.
#
# Usage: Scripts/toml-test.sh [TOML_TEST_DIR]
#
# TOML_TEST_DIR is a checkout of https://github.com/toml-lang/toml-test (its tests/ folder and
# tests/files-toml-1.0.0 are used). Nothing is downloaded: without a checkout the script says
# so and exits 2. Needs swiftc and python3; no SwiftPM build.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
suite=${1:-${TOML_TEST_DIR:-/tmp/toml-test}}
if [ ! -f "$suite/tests/files-toml-1.0.0" ]; then
    echo "toml-test.sh: no toml-test checkout at $suite (clone toml-lang/toml-test there or pass its path)" >&2
    exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
config="$root/Sources/landlock-exec/Config"
swiftc -O -parse-as-library -o "$work/driver" \
    "$config/ConfigValue.swift" "$config/TOMLParser.swift" "$config/JSONParser.swift" \
    "$root/Scripts/toml-test/Driver.swift"
cd "$suite/tests"
grep '\.toml$' files-toml-1.0.0 | sed "s|^|$suite/tests/|" | xargs "$work/driver" > "$work/output.jsonl"
python3 "$root/Scripts/toml-test/compare.py" "$suite/tests" "$work/output.jsonl" files-toml-1.0.0
