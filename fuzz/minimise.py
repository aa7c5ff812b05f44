#!/usr/bin/env python3
"""Shrinks corpus/<target>/ to a greedy cover of its coverage edges; `seed-*`, `crash-*` stay.

libFuzzer's merge (`cargo fuzz cmin`) keeps, in size order, every file that adds an edge,
which leaves thousands of files for the XML targets. This runs the built fuzz binary once per
file with `-features_dir` (one file per process, so the dump holds the file's whole edge set,
`-use_counters=0` so hit counts do not count), then keeps the file covering most uncovered
edges until nothing is left uncovered (or `--max` files are picked besides the seeds), and
deletes the others. Edge sets are cached in target/minimise-cache/<target>/, so a second run
with another `--max` is quick; delete the cache after rebuilding the binary.

    cd fuzz
    RUSTC_BOOTSTRAP=1 cargo fuzz build --features libfuzzer <target>
    python3 minimise.py [--max 300] <target>...
"""

import array
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

FUZZ = pathlib.Path(__file__).resolve().parent
BIN = FUZZ / "target" / "x86_64-unknown-linux-gnu" / "release"


def edges(binary, path, scratch, cache):
    """The coverage features of running `binary` on the file `path` alone."""
    cached = cache / path.name
    if cached.exists():
        a = array.array("I")
        a.frombytes(cached.read_bytes())
        return set(a)
    one, dump = scratch / "one", scratch / "dump"
    for d in (one, dump):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir()
    shutil.copy(path, one / path.name)
    subprocess.run(
        [str(binary), "-runs=0", "-use_counters=0", f"-features_dir={dump}", str(one)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
    )
    features = set()
    for f in dump.iterdir():
        a = array.array("I")
        a.frombytes(f.read_bytes())
        features.update(a)
    cached.write_bytes(array.array("I", sorted(features)).tobytes())
    return features


def main(target, limit):
    corpus = FUZZ / "corpus" / target
    cache = FUZZ / "target" / "minimise-cache" / target
    cache.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in corpus.iterdir() if p.is_file())
    with tempfile.TemporaryDirectory() as tmp:
        cov = {p: edges(BIN / target, p, pathlib.Path(tmp), cache) for p in files}
    everything = set().union(*cov.values())
    keep = {p for p in files if p.name.startswith(("seed-", "crash-"))}
    covered = set().union(*(cov[p] for p in keep))
    rest = {p: c - covered for p, c in cov.items() if p not in keep}
    picked = 0
    while rest and picked < limit:
        best = max(rest, key=lambda p: (len(rest[p]), -p.stat().st_size, p.name))
        gained = rest.pop(best)
        if not gained:
            break
        keep.add(best)
        picked += 1
        covered |= gained
        for p in rest:
            rest[p] -= gained
    for p in files:
        if p not in keep:
            p.unlink()
    print(
        f"{target}: kept {len(keep)} of {len(files)} files, "
        f"{len(covered)} of {len(everything)} edges"
    )


if __name__ == "__main__":
    args = sys.argv[1:]
    limit = 1 << 30
    if args[:1] == ["--max"]:
        limit, args = int(args[1]), args[2:]
    for name in args:
        main(name, limit)
