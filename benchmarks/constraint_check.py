"""Benchmark: the cost of checking instruction-following constraints, per 1,000 records.

Not a test. Run:

    python benchmarks/constraint_check.py --records 1000 --repeat 5

Builds ``--records`` synthetic answers (a fixed mix: plain labels, JSON, fenced JSON,
capitals, Chinese, quoted, lead-in and closing phrases, bullets, reasoning blocks, long
explanations), then times ``check`` (strict and loose) for each family over all of them,
all families together, ``unwrap`` for all families, and, as the baseline in the same
process, the rule tiers of ``resolve_label`` on the same answers. Prints the best of
``--repeat`` CPU timings (process time: the cores are shared) per 1,000 records, and
the ratio of checking to resolving.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from benchmark.scoring.constraints import FAMILIES, check, unwrap
from benchmark.scoring.labels import resolve_label

LABELS = ["happy", "sad", "angry", "neutral"]
ARGS: dict[str, dict[str, Any]] = {
    "json": {"keys": ["answer"]},
    "upper": {},
    "lower": {},
    "words": {"max": 10},
    "language": {"lang": "zh"},
    "starts_with": {"phrase": "My answer is"},
    "ends_with": {"phrase": "Is there anything else I can help with?"},
    "wrap": {"open": '"', "close": '"'},
    "keywords": {"include": ["happy"], "exclude": ["audio"]},
    "bullets": {"count": 2},
}
TEMPLATES = [
    "{label}",
    '{{"answer": "{label}"}}',
    '```json\n{{"answer": "{label}", "reason": "the pitch rises"}}\n```',
    "{upper}",
    "**{upper}**\nThe speaker sounds {label} because the pitch and energy are high.",
    "开心",
    '"{label}"',
    "My answer is {label}.",
    "The speaker is {label}. Is there anything else I can help with?",
    "- {label}\n- the voice is bright and fast",
    "<think>The audio has a rising pitch; maybe {other}, but the energy says {label}.</think>\n{label}",
    "In the audio, the speaker's tone is {label}. " * 12,
]


def make_outputs(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    outputs = []
    for i in range(n):
        label, other = rng.sample(LABELS, 2)
        outputs.append(TEMPLATES[i % len(TEMPLATES)].format(label=label, upper=label.upper(), other=other))
    return outputs


def check_family(outputs: list[str], name: str) -> list[tuple[bool, bool]]:
    return [check(o, name, ARGS[name]) for o in outputs]


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    outputs = make_outputs(args.records)
    per = 1000 / args.records * 1000  # seconds over all records -> ms per 1,000 records
    print(f"records: {args.records} (CPU ms per 1,000 records, best of {args.repeat})")
    for name in FAMILIES:
        seconds = best(partial(check_family, outputs, name), args.repeat)
        print(f"check {name:<12} {seconds * per:7.2f} ms")
    total = best(lambda: [check(o, name, ARGS[name]) for o in outputs for name in FAMILIES], args.repeat)
    print(f"check all {len(FAMILIES)} families {total * per:7.2f} ms (strict and loose)")
    unwrapped = best(lambda: [unwrap(o, name, ARGS[name]) for o in outputs for name in FAMILIES], args.repeat)
    print(f"unwrap all {len(FAMILIES)} families {unwrapped * per:6.2f} ms")
    resolved = best(lambda: [resolve_label(o, LABELS) for o in outputs], args.repeat)
    print(f"baseline resolve_label   {resolved * per:7.2f} ms (rule tiers, same answers)")
    print(f"ratio check-all/resolve: {total / resolved:.2f}x")


if __name__ == "__main__":
    main()
