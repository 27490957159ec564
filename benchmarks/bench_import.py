"""How long ``import calcml`` takes in a fresh interpreter, against ``import numpy`` (its floor).

Each run is a new ``python -c "..."`` process timing its own import with ``time.perf_counter`` (so the
interpreter's start-up is not counted); the median of ``--runs`` runs is reported, with the heavy modules
that the import loaded (none of SymPy, matplotlib, FastAPI may be). ``--importtime`` prints the slowest
modules of one ``python -X importtime`` run, to see where the time goes.

    .venv/bin/python benchmarks/bench_import.py [--runs 15] [--importtime]

Target (issue 12): ``import calcml`` ≤ 0.35 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

HEAVY = ("sympy", "matplotlib", "fastapi", "uvicorn", "plotly", "scipy", "rich", "typer")
TARGET_SECONDS = 0.35

PROBE = """
import sys, time
start = time.perf_counter()
import {module}
elapsed = time.perf_counter() - start
print(elapsed, ",".join(m for m in {heavy!r} if m in sys.modules))
"""


def import_seconds(module: str) -> tuple[float, str]:
    """Seconds to import ``module`` in a fresh interpreter, and the heavy modules that came with it."""
    out = subprocess.run([sys.executable, "-c", PROBE.format(module=module, heavy=HEAVY)],
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), (out[1] if len(out) > 1 else "")


def slowest_modules(module: str, count: int = 15) -> list[tuple[int, int, str]]:
    """(self µs, cumulative µs, name) of the ``count`` slowest imports, from ``python -X importtime``."""
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                         capture_output=True, text=True, check=True).stderr
    rows = []
    for line in err.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line[len("import time:"):].split("|")
        rows.append((int(self_us), int(cumulative_us), name.strip()))
    return sorted(rows, reverse=True)[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--importtime", action="store_true", help="also list the slowest modules")
    args = parser.parse_args()

    print(f"median of {args.runs} fresh interpreters (python {sys.version.split()[0]})")
    samples: dict[str, list[float]] = {"numpy": [], "calcml": []}
    heavy: dict[str, set[str]] = {"numpy": set(), "calcml": set()}
    for _ in range(args.runs):  # alternate, so that a busy moment of the machine hits both alike
        for module in samples:
            seconds, loaded = import_seconds(module)
            samples[module].append(seconds)
            heavy[module].update(filter(None, loaded.split(",")))
    medians = {module: statistics.median(times) for module, times in samples.items()}
    for module, times in samples.items():
        print(f"  import {module:<8} median {medians[module]:.3f} s   (min {min(times):.3f}, max {max(times):.3f})"
              f"   heavy modules loaded: {', '.join(sorted(heavy[module])) or 'none'}")
    verdict = "within" if medians["calcml"] <= TARGET_SECONDS else "OVER"
    print(f"  calcml beyond numpy: {medians['calcml'] - medians['numpy']:.3f} s; "
          f"{verdict} the {TARGET_SECONDS} s target")
    if args.importtime:
        print("\nslowest modules of one `python -X importtime -c 'import calcml'` (self, cumulative):")
        for self_us, cumulative_us, name in slowest_modules("calcml"):
            print(f"  {self_us / 1e3:7.1f} ms {cumulative_us / 1e3:8.1f} ms  {name}")


if __name__ == "__main__":
    main()
