"""Importing histories is linear: load time per operation at 10k, 100k and 1M operations, for every format, and the
peak memory of loading (and checking) the largest.

Each size is loaded in a fresh process (peak RSS is per process). A linear importer keeps the microseconds per
operation flat as the size grows 100x; a quadratic one (as faultlab-json's line numbering was: 36k events took 20 s)
grows 100x with it. The history is a Jepsen-style register workload over many keys, ten processes each doing one
operation at a time, so it also checks linearizability per key (the kv model) within bounded memory.

    python benchmarks/bench_import.py [--sizes 10000 100000 1000000] [--formats jepsen-edn faultlab-json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from faultlab.importers import load_history
path, fmt, check = sys.argv[1], sys.argv[2], sys.argv[3] == "check"
t, cpu = time.perf_counter(), time.process_time()
history = load_history(path, fmt)
loaded, loaded_cpu = time.perf_counter() - t, time.process_time() - cpu
ops = len(history.operations())
checked = None
if check:
    from invariants.linearizability import check_linearizable
    t = time.process_time()
    result = check_linearizable(history, "kv")
    checked = [time.process_time() - t, result.verdict.value]
print(json.dumps({"ops": ops, "load_s": loaded, "load_cpu_s": loaded_cpu, "check": checked,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_history(path: Path, fmt: str, ops: int) -> None:
    """``ops`` operations of the kv model (``put`` and ``get`` of ``[key value]``, Jepsen's shape) over ops/10 keys
    from ten processes; each completes before the next begins and a get returns the key's current value, so the
    history is linearizable and the check must say so."""
    keys = max(1, ops // 10)
    current: dict[str, str] = {}
    with path.open("w", encoding="utf-8") as f:
        if fmt == "faultlab-json":
            f.write("[\n")
        index = 0
        for i in range(ops):
            p, key = i % 10, f"k{(i * 7919) % keys}"
            put = i % 3 != 2
            if put:
                current[key] = f"v{i}"
            value = current.get(key, "")
            fn = "put" if put else "get"
            for kind, v in (("invoke", [key, value if put else None]), ("ok", [key, value])):
                if fmt == "jepsen-edn":
                    shown = "nil" if v[1] is None else json.dumps(v[1])
                    f.write(f'{{:type :{kind}, :f :{fn}, :value ["{key}" {shown}], :process {p}, :time {index}}}\n')
                else:
                    f.write(("," if index else "") + json.dumps({"process": p, "type": kind, "f": fn, "value": v,
                                                                "time": index, "index": index}) + "\n")
                index += 1
        if fmt == "faultlab-json":
            f.write("]\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--formats", nargs="+", default=["jepsen-edn", "faultlab-json"])
    args = ap.parse_args()
    repo = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats:
            base = None
            for n in args.sizes:
                path = Path(tmp) / f"h{n}.{'edn' if fmt == 'jepsen-edn' else 'json'}"
                write_history(path, fmt, n)
                check = "check" if n == max(args.sizes) else "load"
                out = subprocess.run([sys.executable, "-c", CHILD, str(path), fmt, check], capture_output=True,
                                     text=True, check=True, cwd=repo)
                r = json.loads(out.stdout.strip().splitlines()[-1])
                per = 1e6 * r["load_cpu_s"] / r["ops"]  # CPU time: the machine may be shared
                base = base or per
                line = (f"{fmt:14} {r['ops']:>9,} ops  load {r['load_s']:7.2f} s ({r['load_cpu_s']:.2f} CPU s)  "
                        f"{per:6.1f} CPU us/op ({per / base:4.2f}x the smallest)  peak {r['peak_mib']:7.1f} MiB")
                if r["check"]:
                    line += f"  kv linearizability {r['check'][0]:.2f} CPU s: {r['check'][1]}"
                print(line, flush=True)
                path.unlink()


if __name__ == "__main__":
    main()
