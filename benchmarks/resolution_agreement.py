"""Agreement of answer resolution with a careful grader, on the shipped resolution set (or FILE).

Prints the per-category report of the rule tiers alone and with the semantic tier
(when installed), and the rule tiers' time per answer. Usage:

    python benchmarks/resolution_agreement.py [FILE] [--no-semantic]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchmark.scoring.audit import RESOLUTION_SET, audit, format_report, load_cases, resolve_case
from benchmark.scoring.judge import SemanticResolver, semantic_available


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file", nargs="?", type=Path, default=RESOLUTION_SET)
    parser.add_argument("--no-semantic", action="store_true")
    args = parser.parse_args()
    cases = load_cases(args.file)
    print(f"{args.file}: {len(cases)} answers, {sum(c.debatable for c in cases)} debatable\n")
    print("rule tiers only")
    print(format_report(audit(cases)))
    if not args.no_semantic and semantic_available():
        print("\nwith the semantic tier (all-MiniLM-L6-v2)")
        print(format_report(audit(cases, [SemanticResolver()])))
    repeats = 20
    start = time.perf_counter()
    for _ in range(repeats):
        for case in cases:
            resolve_case(case)
    per = (time.perf_counter() - start) / (repeats * len(cases))
    print(f"\nrule tiers: {per * 1e6:.0f} µs per answer ({repeats} passes over the set)")


if __name__ == "__main__":
    main()
