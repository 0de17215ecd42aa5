"""Agreement of the current label resolver with careful human readings of REAL model outputs.

Reads ``benchmark/scoring/data/real_outputs/{dev,test}.jsonl`` (published outputs of audio LLMs and
ASR/caption + LLM cascades, graded by hand; see that folder's README) and resolves every row the way
scoring does: ``resolve_label(output, labels, instruction=...)`` for classification rows,
``parse_number(output, instruction=...)`` for regression rows. Prints, per split, a table over the
non-debatable rows -- agreement (answer == expected, N/A == null), wrong commits (a label other than
the expected one, including a label where the grader reads none) and missed (N/A where the grader
reads a label) -- per category and overall, then the debatable rows apart, then the most instructive
disagreements grouped by category.

    python benchmarks/real_outputs_baseline.py             # both splits, 40 disagreements
    python benchmarks/real_outputs_baseline.py --split dev --examples 80

Rows are read as plain JSON (the ``source`` key is data for this script, not for the resolver), so
the script runs whether or not ``ResolutionCase`` accepts ``source`` yet. Rule tiers only: no
semantic model, no judge. CPU only, a few seconds.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path

from benchmark.scoring.audit import ResolutionCase, resolve_case, same_reading

DATA = Path(__file__).resolve().parent.parent / "benchmark" / "scoring" / "data" / "real_outputs"


def load(split: str) -> list[dict]:
    """The rows of one split, in file order."""
    path = DATA / f"{split}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def resolve(row: dict) -> tuple[str | float | None, str]:
    """The answer the current resolver reads from a row (as ``bench resolve-report`` does), and the tier."""
    res = resolve_case(ResolutionCase.model_validate(row))
    return res.answer, res.tier


same = same_reading


def outcome(answer: str | float | None, expected: str | float | None) -> str:
    """``agree``, ``wrong`` (committed to another answer) or ``missed`` (N/A where one was expected)."""
    if same(answer, expected):
        return "agree"
    return "missed" if answer is None else "wrong"


def table(title: str, rows: list[dict]) -> None:
    """Print agreement / wrong / missed per category and overall."""
    by: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        by[row["category"]][row["_outcome"]] += 1
        by["ALL"][row["_outcome"]] += 1
    print(f"\n{title}")
    print(f"  {'category':18s} {'n':>4s} {'agree':>7s} {'wrong':>7s} {'missed':>7s}")
    for cat in sorted(by, key=lambda c: (c == "ALL", -sum(by[c].values()), c)):
        c = by[cat]
        n = sum(c.values())
        shares = " ".join(f"{100 * c[k] / n:6.1f}%" for k in ("agree", "wrong", "missed"))
        if cat == "ALL":
            print("  " + "-" * 48)
        print(f"  {cat:18s} {n:4d} {shares}")


def clip(text: str, width: int = 230) -> str:
    """One line: the start and, for long outputs, the end (where final answers sit)."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    return flat[: width // 3] + " ... " + flat[-(2 * width) // 3 :]


def instructive(rows: list[dict], limit: int) -> list[dict]:
    """Disagreements spread over categories and models: round-robin by category, wrong commits first."""
    bad = [r for r in rows if r["_outcome"] != "agree"]
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in sorted(bad, key=lambda r: (r["_outcome"] != "wrong", len(r["output"]), r["source"])):
        groups[r["category"]].append(r)
    picked: list[dict] = []
    seen_models: Counter = Counter()
    while len(picked) < limit and any(groups.values()):
        for cat in sorted(groups, key=lambda c: -len(groups[c])):
            if groups[cat] and len(picked) < limit:
                # prefer a row from a model seen least so far
                pool = groups[cat]
                best = min(range(len(pool)), key=lambda i: seen_models[pool[i]["source"].split("#")[0]])
                r = pool.pop(best)
                seen_models[r["source"].split("#")[0]] += 1
                picked.append(r)
    return picked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["dev", "test", "both"], default="both")
    parser.add_argument("--examples", type=int, default=40, help="disagreements to list (over the chosen splits)")
    args = parser.parse_args()
    splits = ["dev", "test"] if args.split == "both" else [args.split]

    everything: list[dict] = []
    for split in splits:
        rows = load(split)
        for row in rows:
            row["_answer"], row["_tier"] = resolve(row)
            row["_outcome"] = outcome(row["_answer"], row.get("expected"))
            row["_split"] = split
        firm = [r for r in rows if not r.get("debatable")]
        debatable = [r for r in rows if r.get("debatable")]
        table(f"[{split}] non-debatable rows: {len(firm)} of {len(rows)}", firm)
        if debatable:
            agree = sum(r["_outcome"] == "agree" for r in debatable)
            print(f"  debatable rows (apart): {agree}/{len(debatable)} agree")
        tiers = Counter(r["_tier"] for r in firm)
        print("  tiers that decided:", ", ".join(f"{t}={n}" for t, n in tiers.most_common()))
        everything.extend(rows)

    firm_all = [r for r in everything if not r.get("debatable")]
    if len(splits) > 1:
        table(f"[dev+test] non-debatable rows: {len(firm_all)}", firm_all)

    print(f"\nMost instructive disagreements (non-debatable, up to {args.examples}), by category:")
    current = None
    for r in sorted(instructive(firm_all, args.examples), key=lambda r: r["category"]):
        if r["category"] != current:
            current = r["category"]
            print(f"\n== {current}")
        model_file = r["source"].split(":", 1)[1].split("#")[0]
        print(f"  [{r['_split']}] {model_file}#{r['source'].split('#')[-1][:8]}")
        print(f"    output:   {clip(r['output'])}")
        print(f"    labels:   {clip(' | '.join(r['labels']), 160)}")
        print(f"    expected: {r.get('expected')!r}   got: {r['_answer']!r} ({r['_tier']}, {r['_outcome']})")


if __name__ == "__main__":
    main()
