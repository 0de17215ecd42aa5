"""The offline default cascade (faster-whisper tiny.en + SmolLM2-135M) with free generation vs label ranking.

For each task it transcribes every test example once, then asks SmolLM2 the same
transcript-based prompt three ways: free generation (resolved to a label by the
harness's scorer), ``answer=rank`` (the label with the highest log-likelihood) and
``answer=rank`` with ``rank_calibration=content-free`` (minus each label's
log-likelihood after an empty transcript).
It also counts how often the ASR transcript itself contains the right label word,
the ceiling a transcript-reading LLM can reach by copying::

    python benchmarks/cascade_rank.py                       # SpokenDigits, KeywordSpotting, GermanCommands
    python benchmarks/cascade_rank.py --tasks SpeakerGender --limit 8

Prints one row per task: accuracy and N/A rate under each protocol, and the
"transcript contains the label" rate.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from benchmark.adapters.base import Query
from benchmark.adapters.cascade import CascadeAdapter, format_conversation
from benchmark.submission.scorer import scorer_for
from benchmark.task.folder import load_task

SPOKEN_WORDS = ["SpokenDigits", "KeywordSpotting", "GermanCommands"]


def contains(transcript: str, label: str) -> bool:
    """Whether the label appears as a whole word in the transcript (case and punctuation ignored)."""
    words = re.sub(r"[^\w\s]", " ", transcript.lower()).split()
    return label.lower() in words


def measure(adapter: CascadeAdapter, folder: Path, limit: int | None, batch: int) -> dict[str, float]:
    """Both protocols and the transcript ceiling on one task's test split."""
    task = load_task(folder)
    examples = task.split("test")[:limit]
    score = scorer_for(task)
    assert adapter.llm is not None and task.card.labels
    gen_ok = gen_na = rank_ok = rank_na = cal_ok = hits = 0
    for start in range(0, len(examples), batch):
        part = examples[start : start + batch]
        queries = [Query(e.id, task.instruction_for(e), task.load_audio(e)) for e in part]
        adapter.answer, adapter.calibration = "rank", "none"
        ranked = adapter.predict(task.card, queries)
        adapter.calibration = "content-free"
        calibrated = adapter.predict(task.card, queries)
        chats = [format_conversation(t, q.instruction) for t, q in zip(adapter.last_transcripts, queries, strict=True)]
        generated = [r.strip().splitlines()[0] if r.strip() else "" for r in adapter.llm.generate(chats)]
        for e, transcripts, g, r, c in zip(part, adapter.last_transcripts, generated, ranked, calibrated, strict=True):
            scored = score(e, g)
            gen_ok += scored.score == 1.0
            gen_na += scored.tier == "na"
            ranked_score = score(e, r)
            rank_ok += ranked_score.score == 1.0
            rank_na += ranked_score.tier == "na"
            cal_ok += score(e, c).score == 1.0
            hits += any(contains(t, str(e.label)) for t in transcripts)
    n = len(examples)
    return {
        "n": n,
        "gen_acc": gen_ok / n,
        "gen_na": gen_na / n,
        "rank_acc": rank_ok / n,
        "rank_na": rank_na / n,
        "cal_acc": cal_ok / n,
        "contains": hits / n,
    }


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="*", default=SPOKEN_WORDS)
    parser.add_argument("--tasks-root", type=Path, default=Path("tasks"))
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()
    adapter = CascadeAdapter(device="cpu", answer="rank")
    adapter.load()
    print(f"{'task':18} {'n':>3}  {'generate acc':>12} {'generate N/A':>12}  {'rank acc':>8} {'rank N/A':>8}  "
          f"{'calibrated acc':>14}  {'transcript has label':>20}")
    for name in args.tasks:
        start = time.perf_counter()
        m = measure(adapter, args.tasks_root / name, args.limit, args.batch_size)
        seconds = time.perf_counter() - start
        print(
            f"{name:18} {m['n']:>3}  {m['gen_acc']:>12.3f} {m['gen_na']:>12.3f}  {m['rank_acc']:>8.3f} "
            f"{m['rank_na']:>8.3f}  {m['cal_acc']:>14.3f}  {m['contains']:>20.3f}   ({seconds:.0f} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
