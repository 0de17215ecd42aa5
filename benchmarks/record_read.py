"""Benchmark: reading run files within limits (``read_records``) against an unbounded parse of the same lines.

Not a test. Run:

    python benchmarks/record_read.py --records 20000

``read_records`` reads line by line with a length cap, validates the whole file in
one pydantic call, and falls back to the bounded JSON reader (depth, integer size,
valid Unicode) only to name a bad line. The baseline reads the whole file without
limits and runs ``Record.model_validate_json`` on each line. Both run in this process on the same
file; the script prints the best of ``--repeat`` timings and their ratio.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmark.submission.records import Record, append_records, read_records


def baseline(path: Path) -> list[Record]:
    data = path.read_bytes()
    return [Record.model_validate_json(line) for line in data.decode("utf-8").splitlines() if line.strip()]


def best(fn, path: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(path)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "T@1.0.0.jsonl"
        records = [
            Record(task="T", task_version="1.0.0", task_hash="h" * 64, id=f"{i:06d}", split="test",
                   instruction="Is the tone high or low? Answer high or low.", reference="high",
                   output=f"I think the tone is high ({i}).", answer="high", tier="mention", score=1.0, seconds=0.01)
            for i in range(args.records)
        ]  # fmt: skip
        append_records(path, records)
        assert read_records(path) == baseline(path)
        new, old = best(read_records, path, args.repeat), best(baseline, path, args.repeat)
    per = 1e6 / args.records
    print(f"records: {args.records}")
    print(f"read_records (bounded): {new * per:.1f} us/record")
    print(f"unbounded baseline:     {old * per:.1f} us/record")
    print(f"ratio bounded/baseline: {new / old:.2f}x")


if __name__ == "__main__":
    main()
