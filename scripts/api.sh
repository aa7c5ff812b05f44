#!/usr/bin/env bash
# api.sh [--check] - the public API of the library crates as text, one line per item, in
# api/<crate>.txt (scripts/api-snapshot.py over rustdoc's JSON, every feature on). A change to
# the public API then shows up as a diff in review; with --check (CI) the run fails when the
# committed snapshot is not what the code exports: run scripts/api.sh and commit the diff.
# rustdoc's JSON output is unstable: RUSTC_BOOTSTRAP lets the stable toolchain write it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}/api
out=$root/api
[[ ${1:-} == --check ]] && out=$(mktemp -d) && trap 'rm -rf "$out"' EXIT
mkdir -p "$out"
for crate in s3-proto s3-blocking s3-async; do
  RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=$target cargo rustdoc -q -p "$crate" --lib --all-features \
    --locked -- -Z unstable-options --output-format json
  python3 scripts/api-snapshot.py "$target/doc/${crate//-/_}.json" >"$out/$crate.txt"
done
if [[ ${1:-} == --check ]]; then
  diff -ru "$root/api" "$out" || {
    echo "the public API changed: run scripts/api.sh and commit api/" >&2
    exit 1
  }
fi
