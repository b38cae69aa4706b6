"""A small mutation check: plant one known bug at a time in a copy of the checkout and expect a test to fail.

Each mutant replaces one exact snippet of one file (the snippet must occur exactly once, so a mutant that no
longer applies is reported, not silently skipped) and names the test files that should catch it. The copy is run
with ``PYTHONPATH`` pointing at it, so the installed package is not touched.

    python tests/mutation/check.py              # every mutant, against the test files it names
    python tests/mutation/check.py --list       # what each mutant plants
    python tests/mutation/check.py crash-off    # one mutant by name

Exit 0 when every mutant is caught (a test fails), 1 when one survives, 3 when a mutant no longer applies.
Not part of the default test run: it takes a few minutes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Mutant:
    name: str
    what: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]


MUTANTS = (
    Mutant("state-digest-ignores-network", "exhaustive search's state digest leaves out the messages in flight, so "
           "states differing only in them are pruned as one",
           "faultlab/statehash.py", "              enc.enc(_fields(sim.network)), enc.enc(sim.storages),",
           "              enc.enc(sim.storages),",
           ("tests/test_exhaustive.py",)),
    Mutant("sibling-convergence-always-ok", "Dynamo's check_sibling_convergence returns ok on every history",
           "protocols/dynamo/siblings.py", "def check_sibling_convergence(history: History) -> CheckResult:\n",
           "def check_sibling_convergence(history: History) -> CheckResult:\n"
           "    return CheckResult.holds('convergence', 'mutant')\n",
           ("tests/test_checker_controls.py",)),
    Mutant("partition-keeps-in-flight", "a partition does not reset the stream connections it cuts, and a message "
           "arriving over a cut link is delivered",
           "faultlab/network.py", "        if not self.stream:\n            return []\n",
           "        return []\n",
           ("tests/test_links.py",)),
    Mutant("delivery-ignores-cuts", "the driver delivers messages whose link is cut (datagram links)",
           "faultlab/runtime.py", "            if self.network.is_cut(env.src, dst):",
           "            if False:",
           ("tests/test_links.py",)),
    Mutant("aiming-off", "fault targets are never aimed (FaultPlan.directed ignored)",
           "faultlab/injector.py", "        if not sim.settings.plan.directed:\n            return pool\n",
           "        return pool\n",
           ("tests/test_fault_controls.py",)),
    Mutant("crash-off", "crash faults are never injected",
           "faultlab/injector.py", "    def fault_crash(self) -> bool:\n",
           "    def fault_crash(self) -> bool:\n        return False\n",
           ("tests/test_fault_controls.py", "tests/test_engine.py")),
    Mutant("drop-off", "drop faults do nothing", "faultlab/injector.py", "    def fault_drop(self) -> bool:\n",
           "    def fault_drop(self) -> bool:\n        return False\n", ("tests/test_fault_controls.py",)),
    Mutant("duplicate-off", "duplicate faults do nothing (datagram links)", "faultlab/injector.py",
           "    def fault_duplicate(self) -> bool:\n", "    def fault_duplicate(self) -> bool:\n        return False\n",
           ("tests/test_fault_controls.py",)),
    Mutant("delay-off", "delay faults do nothing", "faultlab/injector.py", "    def fault_delay(self) -> bool:\n",
           "    def fault_delay(self) -> bool:\n        return False\n", ("tests/test_fault_controls.py",)),
    Mutant("partition-off", "partition faults do nothing", "faultlab/injector.py",
           "    def fault_partition(self) -> bool:\n",
           "    def fault_partition(self) -> bool:\n        return False\n", ("tests/test_fault_controls.py",)),
    Mutant("skew-off", "a skew fault does not move the node's clock", "faultlab/node.py",
           "        return trio.current_time() + self._sim.skew.get(self.id, 0.0)",
           "        return trio.current_time()", ("tests/test_fault_controls.py",)),
    Mutant("power-loss-keeps-unsynced", "lose_unsynced keeps the writes that were not synced", "faultlab/node.py",
           "        n = len(self._unsynced)\n        self._unsynced.clear()\n", "        n = len(self._unsynced)\n",
           ("tests/test_fault_controls.py",)),
    Mutant("stream-reorders", "a held stream direction lets later messages on it overtake", "faultlab/network.py",
           "            return [e for e in self._queue.values() if (e.src, e.dst) == link]\n",
           "            del self._slow[link]\n            del self._queue[env.id]\n            env.deliver_at = until\n"
           "            self._held[env.id] = env\n            return [env]\n",
           ("tests/test_links.py",)),
    Mutant("crash-keeps-connections", "a crash does not reset the node's connections: a message sent to one "
           "incarnation reaches the next", "faultlab/runtime.py",
           "        if self.network.stream:\n            self._lost(self.network.reset_endpoint(nid), \"crash\")\n",
           "", ("tests/test_links.py",)),
    Mutant("client-requests-duplicated", "duplicates may copy a client's request", "faultlab/injector.py",
           "        env = self._pick_message(between_nodes=True)", "        env = self._pick_message()",
           ("tests/test_engine.py",)),
    Mutant("checker-name-matching", "the engine stops stamping results with the invariant that produced them",
           "faultlab/runtime.py", "        return result.judged_as(inv.name)", "        return result",
           ("tests/test_verdicts.py",)),
    Mutant("unknown-is-held", "an exploration with undecided runs is reported held", "faultlab/explore.py",
           "        if any(self.coverage.undecided.values()):\n            return \"unknown\"\n        return \"vacuous\"",
           "        return \"vacuous\"", ("tests/test_verdicts.py",)),
    Mutant("vacuous-is-held", "an exploration that never exercised an invariant is held", "faultlab/explore.py",
           "        return missing + [f\"{name} exercised\" for name in self.invariants if not "
           "self.coverage.exercised[name]]", "        return missing", ("tests/test_verdicts.py",)),
    Mutant("coins-always-steered", "the protocol's coins stay steered after recovery (never fair)",
           "faultlab/runtime.py", "        self.coin_seed = zlib.crc32(", "        self.coin_seed = None and zlib.crc32(",
           ("tests/test_coins.py",)),
    Mutant("unhandled-message-silent", "a message with no handler is dropped silently", "faultlab/node.py",
           "                if isinstance(env.msg, ignores):", "                if True:",
           ("tests/test_api_example.py",)),
    Mutant("fail-recorded-ok", "a Fail outcome is recorded as ok", "faultlab/outcomes.py",
           'STATUS = {Ok: "ok", Fail: "fail", Unknown: "info"}', 'STATUS = {Ok: "ok", Fail: "ok", Unknown: "info"}',
           ("tests/test_api_example.py",)),
    Mutant("no-reduction", "a shrunk counterexample is not reduced further", "faultlab/reduce.py",
           "    best = failure\n    trials = 0\n", "    return failure\n    best = failure\n    trials = 0\n",
           ("tests/test_quorum_register.py",)),
    Mutant("cause-not-propagated", "handlers do not inherit the cause of the message they handle",
           "faultlab/node.py", "            token = CAUSE.set(env.cause)", "            token = CAUSE.set(None)",
           ("tests/test_quorum_register.py", "tests/test_replay.py")),
    Mutant("local-literals-on", "Hypothesis draws literals of loaded local modules while faultlab explores",
           "faultlab/_compat.py", "    providers._get_local_constants = lambda: empty\n", "",
           ("tests/test_compat.py",)),
    Mutant("register-true-is-one", "the register model compares values with Python's ==", "models/registers.py",
           "    if isinstance(a, bool) or isinstance(b, bool):\n        return type(a) is type(b) and a == b\n", "",
           ("tests/test_models.py",)),
    Mutant("other-invariants-held-early", "verify judges every promised invariant by the first exploration only",
           "faultlab/explore.py", "            decided.update(dict.fromkeys(violated, exp))\n"
           "            remaining = [n for n in remaining if n not in violated]\n",
           "            decided.update(dict.fromkeys(remaining, exp))\n            break\n",
           ("tests/test_verify.py",)),
    Mutant("replay-never-diverges", "replay does not compare the events it produced with the recorded ones",
           "faultlab/trace.py", "        if a != b:\n", "        if False:\n", ("tests/test_cli.py",)),
    Mutant("shard-found-after-local", "a failure in a later shard does not count the runs of the shards before it",
           "faultlab/explore.py", "exp.failure, exp.found_after = part.failure, runs_before + part.found_after",
           "exp.failure, exp.found_after = part.failure, part.found_after", ("tests/test_parallel.py",)),
    Mutant("shard-coverage-dropped", "an exploration keeps only its last shard's coverage",
           "faultlab/explore.py", "        exp.coverage.merge(part.coverage)\n",
           "        exp.coverage = part.coverage\n", ("tests/test_parallel.py",)),
)


def _copy_checkout(dest: Path) -> None:
    """Tracked files plus untracked ones git does not ignore: the work as it is now, committed or not."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           check=True, capture_output=True).stdout
    for rel in filter(None, files.decode().split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def _plant(copy: Path, m: Mutant) -> None:
    path = copy / m.file
    text = path.read_text(encoding="utf-8")
    if text.count(m.old) != 1:
        raise SystemExit(f"mutant {m.name}: the snippet occurs {text.count(m.old)} times in {m.file}, not once; "
                         f"update it to the code as it is now")
    path.write_text(text.replace(m.old, m.new), encoding="utf-8")


def run(m: Mutant, *, keep_going: bool = False) -> tuple[bool | None, float, str]:
    """Plant ``m`` in a fresh copy and run its tests; (caught, seconds, last line of pytest's output). Caught means
    a test failed (pytest exit 1); None means the tests did not run (no tests collected, a usage error)."""
    with tempfile.TemporaryDirectory(prefix=f"mutant-{m.name}-") as tmp:
        copy = Path(tmp)
        _copy_checkout(copy)
        _plant(copy, m)
        env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("CI", None)
        # -n 0: with xdist, -x stops the session as interrupted (exit 2) once two workers have failed
        args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", *([] if keep_going else ["-x"]),
                *m.tests]
        start = time.perf_counter()
        proc = subprocess.run(args, cwd=copy, env=env, capture_output=True, text=True)
        lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
        caught = {0: False, 1: True}.get(proc.returncode)
        return caught, time.perf_counter() - start, (lines[-1] if lines else proc.stderr[-200:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="mutants to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args()
    chosen = [m for m in MUTANTS if not args.names or m.name in args.names]
    if args.list:
        for m in MUTANTS:
            print(f"{m.name:32} {m.what}  [{', '.join(m.tests)}]")
        return 0
    unknown = set(args.names) - {m.name for m in MUTANTS}
    if unknown:
        print(f"unknown mutant(s): {', '.join(sorted(unknown))}; see --list", file=sys.stderr)
        return 3
    survived, broken = [], []
    for m in chosen:
        caught, seconds, last = run(m)
        label = {True: "caught  ", False: "SURVIVED", None: "NOT RUN "}[caught]
        print(f"{label} {m.name:32} {seconds:6.1f}s  {last}", flush=True)
        (survived if caught is False else broken if caught is None else []).append(m.name)
    print(f"{len(chosen) - len(survived) - len(broken)} of {len(chosen)} mutants caught" +
          (f"; survived: {', '.join(survived)}" if survived else "") +
          (f"; tests did not run: {', '.join(broken)}" if broken else ""))
    return 3 if broken else 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
