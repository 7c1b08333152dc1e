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
list=$(grep '\.toml$' "$suite/tests/files-toml-1.0.0" | sed "s|^|$suite/tests/|")
status=0
# Both optimization modes that ship: debug (-Onone) and release (whole-module -O).
for mode in "-Onone" "-O -wmo"; do
    # shellcheck disable=SC2086
    swiftc $mode -parse-as-library -o "$work/driver" \
        "$config/ConfigValue.swift" "$config/TOMLParser.swift" "$config/JSONParser.swift" \
        "$root/Scripts/toml-test/Driver.swift"
    echo "$list" | xargs "$work/driver" > "$work/output.jsonl"
    printf '%s: ' "$mode"
    python3 "$root/Scripts/toml-test/compare.py" "$suite/tests" "$work/output.jsonl" "$suite/tests/files-toml-1.0.0" || status=1
done
exit $status
