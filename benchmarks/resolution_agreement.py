"""Agreement of answer resolution with a careful grader, on the shipped answer sets (or FILEs).

Prints, for each set, the per-category report of the rule tiers alone and with the semantic
tier (when installed, unless --no-semantic), then the time per answer of the rule tiers grouped
by the tier that decided, and of the semantic tier on the answers it is asked about. Usage:

    python benchmarks/resolution_agreement.py [FILE ...] [--no-semantic]

Without FILEs: the shipped resolution set, ``adversarial_extra.jsonl`` and both splits of
``real_outputs`` (the test split is the held-out measurement: never tune on it).
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path

from benchmark.scoring.audit import (
    ADVERSARIAL_EXTRA,
    REAL_OUTPUTS,
    RESOLUTION_SET,
    ResolutionCase,
    audit,
    format_report,
    load_cases,
    resolve_case,
)
from benchmark.scoring.judge import SemanticResolver, semantic_available
from benchmark.scoring.labels import RESOLVER_VERSION

DEFAULT_FILES = [RESOLUTION_SET, ADVERSARIAL_EXTRA, REAL_OUTPUTS / "dev.jsonl", REAL_OUTPUTS / "test.jsonl"]


def tier_costs(cases: list[ResolutionCase], repeats: int = 5) -> dict[str, tuple[int, float]]:
    """Per deciding tier: how many answers, and the mean rule-tier time per answer in microseconds."""
    times: dict[str, list[float]] = defaultdict(list)
    for case in cases:
        start = time.perf_counter()
        for _ in range(repeats):
            res = resolve_case(case)
        times[res.tier].append((time.perf_counter() - start) / repeats)
    return {tier: (len(t), 1e6 * sum(t) / len(t)) for tier, t in sorted(times.items())}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="*", type=Path, default=DEFAULT_FILES)
    parser.add_argument("--no-semantic", action="store_true")
    args = parser.parse_args()
    semantic = SemanticResolver() if not args.no_semantic and semantic_available() else None
    every: list[ResolutionCase] = []
    for path in args.files:
        cases = load_cases(path)
        every += cases
        print(f"\n== {path.name}: {len(cases)} answers, {sum(c.debatable for c in cases)} debatable")
        print(f"rule tiers only (resolver v{RESOLVER_VERSION})")
        print(format_report(audit(cases)))
        if semantic is not None:
            print("with the semantic tier (all-MiniLM-L6-v2)")
            print(format_report(audit(cases, [semantic])))
    print("\nrule tiers, time per answer by the tier that decided (all sets):")
    for tier, (n, micros) in tier_costs(every).items():
        print(f"  {tier:11} {n:5} answers  {micros:8.0f} µs")
    if semantic is not None:
        asked = [c for c in every if c.task_type == "classification" and resolve_case(c).tier == "na"]
        start = time.perf_counter()
        for case in asked:
            semantic(case.output, case.labels or [], case.instruction)
        per = (time.perf_counter() - start) / max(len(asked), 1)
        print(f"  semantic    {len(asked):5} answers  {per * 1e6:8.0f} µs (on top of the rules, CPU, warm)")


if __name__ == "__main__":
    main()
