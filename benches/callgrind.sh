#!/usr/bin/env bash
# Instruction counts per operation (and per byte) under callgrind, free of timing noise.
#
#   ./callgrind.sh                       every workload
#   ./callgrind.sh sign parse            some workloads (see `cargo run --release -- --list`)
#   ./callgrind.sh --annotate parse      one workload, then its most expensive functions
#
# Each workload runs at two iteration counts; the difference divided by the extra iterations
# is the cost of one operation, so process start and input generation cancel out.
# Under valgrind, SHA-256 runs the portable code path (valgrind hides the SHA extensions from
# CPUID), so hashing-heavy rows count more instructions than the CPU runs natively.
set -euo pipefail
cd "$(dirname "$0")"

annotate=0
if [[ ${1:-} == --annotate ]]; then
    annotate=1
    shift
fi

if ! command -v valgrind >/dev/null; then
    echo "valgrind not found; installing it with apt-get" >&2
    sudo=; [[ $(id -u) -ne 0 ]] && sudo=sudo
    $sudo apt-get update -qq >&2 && $sudo apt-get install -y valgrind >&2
fi

cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/s3-benches
if [[ $# -gt 0 ]]; then
    workloads=("$@")
else
    mapfile -t workloads < <("$bin" --list)
fi
out=$(mktemp -d)

# Prints the instructions callgrind collected for `workload iterations`.
count() {
    valgrind --tool=callgrind --callgrind-out-file="$out/$1.$2.out" "$bin" --callgrind "$1" "$2" \
        2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

printf '%-16s %14s %10s %12s\n' workload instr/op bytes/op instr/byte
for w in "${workloads[@]}"; do
    bytes=$("$bin" --callgrind "$w" 0 | awk '{print $2}')
    if [[ $bytes -gt 10000 ]]; then lo=2 hi=12; else lo=100 hi=1100; fi
    a=$(count "$w" "$lo")
    b=$(count "$w" "$hi")
    per=$(((b - a) / (hi - lo)))
    if [[ $bytes -gt 0 ]]; then
        per_byte=$(awk -v p="$per" -v n="$bytes" 'BEGIN { printf "%.2f", p / n }')
    else
        per_byte=-
    fi
    printf '%-16s %14d %10d %12s\n' "$w" "$per" "$bytes" "$per_byte"
    if [[ $annotate == 1 ]]; then
        callgrind_annotate --inclusive=yes "$out/$w.$hi.out" 2>/dev/null | head -45
    fi
done
rm -rf "$out"
