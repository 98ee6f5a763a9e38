"""Benchmark of the modules' own cost: wall time and peak memory per module run.

Runs each module as Ansible would run it on a managed host (a fresh Python process reading
its arguments from a JSON file), against a real primary + streaming standby started from the
host's PostgreSQL binaries, with many replication slots present. Ansible's controller
overhead is left out: it is the same for every module and not ours to tune.

Usage: .venv/bin/python bench/run.py [--slots N] [--rounds N]
Exit status 1 when a target in TARGETS is missed. Results go to bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "collections"))

from tests.integration.pgcluster import Lab  # noqa: E402

MODULES = "ansible_collections.pgrepl.streaming.plugins.modules."

# Targets for one module run on the 2-core reference machine (median wall ms, peak RSS MiB).
TARGETS = {
    "status_primary": (600, 80),
    "status_standby": (600, 80),
    "slot_present_unchanged": (600, 80),
    "slot_create_drop": (600, 80),
}


def run_module(module: str, args: dict) -> tuple[float, float, dict]:
    """One module process: (wall ms, peak RSS MiB, result)."""
    with tempfile.TemporaryDirectory() as tmp:
        args_file, out_file = Path(tmp, "args.json"), Path(tmp, "out.json")
        args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
        env = dict(os.environ, PYTHONPATH=str(REPO / "collections"))
        start = time.perf_counter()
        with out_file.open("w") as out:
            proc = subprocess.Popen([sys.executable, "-m", MODULES + module, str(args_file)],
                                    stdout=out, stderr=subprocess.STDOUT, env=env)
            # wait4 rather than Popen.wait: it reports this child's own peak RSS.
            _pid, _status, usage = os.wait4(proc.pid, 0)
        wall_ms = (time.perf_counter() - start) * 1000
        text = out_file.read_text()
    result = json.loads(text)
    if result.get("failed"):
        raise RuntimeError("%s failed: %s" % (module, result.get("msg")))
    return wall_ms, usage.ru_maxrss / 1024, result


def measure(name: str, rounds: int, call) -> dict:
    walls, rss = [], []
    for _round in range(rounds):
        wall, mem, _result = call()
        walls.append(wall)
        rss.append(mem)
    return {"case": name, "median_ms": round(statistics.median(walls), 1),
            "max_ms": round(max(walls), 1), "peak_rss_mib": round(max(rss), 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slots", type=int, default=100, help="extra slots on the primary")
    parser.add_argument("--rounds", type=int, default=15)
    opts = parser.parse_args()

    lab = Lab(extra_conf="max_replication_slots = %d\n" % (opts.slots + 20))
    lab.start()
    try:
        for i in range(opts.slots):
            lab.primary.sql("SELECT pg_create_physical_replication_slot(%s)", ("bench_%03d" % i,))
        primary, standby = lab.primary.conn_args, lab.standby.conn_args
        slot = dict(primary, name="bench_000")
        cases = [
            measure("status_primary", opts.rounds,
                    lambda: run_module("pg_replication_status", primary)),
            measure("status_standby", opts.rounds,
                    lambda: run_module("pg_replication_status", standby)),
            measure("slot_present_unchanged", opts.rounds,
                    lambda: run_module("pg_replication_slot", slot)),
            measure("slot_create_drop", opts.rounds,
                    lambda: run_module("pg_replication_slot",
                                       dict(primary, name="bench_tmp",
                                            state="absent" if lab.primary.scalar(
                                                "SELECT count(*) FROM pg_replication_slots "
                                                "WHERE slot_name = 'bench_tmp'") else "present"))),
        ]
    finally:
        lab.stop()

    failed = 0
    print("%-24s %10s %10s %12s  %s" % ("case", "median ms", "max ms", "peak MiB", "target"))
    for case in cases:
        ms, mib = TARGETS[case["case"]]
        ok = case["median_ms"] <= ms and case["peak_rss_mib"] <= mib
        failed += not ok
        case["target"] = {"median_ms": ms, "peak_rss_mib": mib, "met": ok}
        print("%-24s %10.1f %10.1f %12.1f  <=%d ms, <=%d MiB %s" % (
            case["case"], case["median_ms"], case["max_ms"], case["peak_rss_mib"], ms, mib,
            "ok" if ok else "MISSED"))
    out_dir = REPO / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "latest.json").write_text(json.dumps(
        {"slots": opts.slots, "rounds": opts.rounds, "cases": cases}, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
