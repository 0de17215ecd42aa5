"""`bench run --model audiollm:...` against a bare transformers loop over the same examples, on a tiny model on CPU.

Both sides load the same tiny Qwen2-Audio (built from a config, as in the tests),
read the same test examples, apply the same chat template and generate the same
number of tokens greedily with the same batch size. The harness adds what a run
needs: task checks, decoding in a background thread,
scoring and durable per-batch records. Printed: the harness's wall time over the
bare loop's (target <= 1.05) and examples/s at each batch size::

    python benchmarks/audiollm_throughput.py                  # batch sizes 1, 8, 32
    python benchmarks/audiollm_throughput.py --hidden 256 --layers 4

``--mixing`` compares, through ``evaluate``, batches within each task
(``mix_tasks=False``: each task in file order, its last batch part-empty) with
batches across tasks (the default for audio LLMs: the pending examples of every task
interleaved and sorted by audio length), over several small tasks; the records
of the two must be the same apart from timing, which is checked. Printed: wall and
CPU seconds of each (best of N), predict calls, and the per-task wall time over the
cross-task one::

    python benchmarks/audiollm_throughput.py --mixing --batch-sizes 8 32 --limit 20
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the tiny-model builders the tests use

from tiny_audio_llms import build_qwen2_audio  # noqa: E402

from benchmark.runner import evaluate  # noqa: E402
from benchmark.task.folder import load_task  # noqa: E402

TASKS = ["SpeakerGender", "KeywordSpotting", "SpokenDigits"]
SMALL_TASKS = [
    "SpeakerGender", "KeywordSpotting", "SpokenDigits", "PitchLevel",
    "SentimentClassification", "IntentClassification", "LanguageIdentification", "SpeakingRate",
]  # fmt: skip
"""Single-clip tasks whose clips last 0.3 s to 3.3 s (the shorter tasks' clips are 3 to 5 times shorter)."""
NEW_TOKENS = 8


def tiny_model(folder: Path, hidden: int, layers: int) -> Path:
    """The tests' tiny Qwen2-Audio, optionally wider and deeper; it never stops early (no EOS)."""
    torch.manual_seed(0)
    build_qwen2_audio(folder, hidden=hidden, layers=layers)
    config = json.loads((folder / "generation_config.json").read_text())
    config.update(eos_token_id=None, pad_token_id=0)
    (folder / "generation_config.json").write_text(json.dumps(config))
    return folder


def bare_loop(model_dir: Path, batch_size: int) -> int:
    """Load, then for each task in file order: read audio, template, generate, decode. Returns examples done."""
    from transformers import AutoProcessor, Qwen2AudioForConditionalGeneration

    processor = AutoProcessor.from_pretrained(model_dir)
    processor.tokenizer.padding_side = "left"
    model = Qwen2AudioForConditionalGeneration.from_pretrained(model_dir).eval()
    done = 0
    for name in TASKS:
        task = load_task(ROOT / "tasks" / name)
        examples = task.split("test")
        for start in range(0, len(examples), batch_size):
            part = examples[start : start + batch_size]
            chats = []
            for e in part:
                clips = [sf.read(str(p), dtype="float32")[0] for p in task.audio_files(e)]
                content = [{"type": "audio", "audio": np.asarray(c)} for c in clips]
                content.append({"type": "text", "text": task.instruction_for(e)})
                chats.append([{"role": "user", "content": content}])
            inputs = processor.apply_chat_template(
                chats,
                add_generation_prompt=True,
                tokenize=True,
                return_dict=True,
                return_tensors="pt",
                processor_kwargs={"text_kwargs": {"padding": True}},
            )
            with torch.inference_mode():
                out = model.generate(**inputs, do_sample=False, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS)
            processor.batch_decode(out[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
            done += len(part)
    return done


def harness(model_dir: Path, batch_size: int, out: Path) -> int:
    """The same work through ``evaluate`` (what ``bench run`` calls). Returns examples done."""
    summaries = evaluate(
        f"audiollm:{model_dir}",
        tasks=TASKS,
        out=out,
        tasks_root=ROOT / "tasks",
        name=f"b{batch_size}-{time.monotonic_ns()}",
        model_args={"device": "cpu", "max_new_tokens": str(NEW_TOKENS)},
        batch_size=batch_size,
    )
    return sum(s.n for s in summaries)


def timed(fn, *args) -> tuple[float, int]:
    start = time.perf_counter()
    n = fn(*args)
    return time.perf_counter() - start, n


class Counted:
    """Counts the adapter's predict calls (a class is made per run so ``evaluate`` records a plain spec)."""

    calls = 0


def mixed_run(model_dir: Path, batch_size: int, mix: bool, out: Path, limit: int) -> tuple[float, float, int, Path]:
    """SMALL_TASKS through ``evaluate`` with or without batches across tasks: wall s, CPU s, predict calls, folder."""
    from benchmark.adapters.audiollm import AudioLLMAdapter

    class Counting(AudioLLMAdapter):
        def predict_mixed(self, items):
            Counted.calls += 1
            return super().predict_mixed(items)

    Counted.calls = 0
    name = f"{'mixed' if mix else 'per-task'}-b{batch_size}-{time.monotonic_ns()}"
    adapter = Counting(str(model_dir), device="cpu", max_new_tokens=NEW_TOKENS)
    wall, cpu = time.perf_counter(), time.process_time()
    evaluate(adapter, tasks=SMALL_TASKS, out=out, tasks_root=ROOT / "tasks", name=name, limit=limit,
             batch_size=batch_size, mix_tasks=mix)
    return time.perf_counter() - wall, time.process_time() - cpu, Counted.calls, out / name


def same_records(a: Path, b: Path) -> bool:
    """Whether two submissions hold the same records apart from timing."""
    from benchmark.submission.records import read_records

    files = sorted(p.name for p in (a / "runs").glob("*.jsonl"))
    return files == sorted(p.name for p in (b / "runs").glob("*.jsonl")) and all(
        [r.model_dump(exclude={"seconds"}) for r in read_records(a / "runs" / f)]
        == [r.model_dump(exclude={"seconds"}) for r in read_records(b / "runs" / f)]
        for f in files
    )


def compare_mixing(model_dir: Path, sizes: list[int], repeats: int, limit: int, out: Path) -> None:
    """Print per-task against cross-task batches at each batch size (best of ``repeats``, alternating)."""
    print(f"{len(SMALL_TASKS)} tasks x {limit} test examples, {NEW_TOKENS} new tokens, CPU, best of {repeats}")
    print(f"{'batch':>5} {'calls per-task/cross':>20} {'per-task s':>10} {'cpu s':>6} {'cross s':>8} {'cpu s':>6} "
          f"{'per-task/cross':>14} {'same records':>12}")
    for size in sizes:
        runs: dict[bool, list[tuple[float, float, int, Path]]] = {False: [], True: []}
        for _ in range(repeats):
            for mix in (False, True):
                runs[mix].append(mixed_run(model_dir, size, mix, out, limit))
        alone, mixed = (min(runs[m], key=lambda r: r[0]) for m in (False, True))
        same = same_records(alone[3], mixed[3])
        print(f"{size:>5} {f'{alone[2]}/{mixed[2]}':>20} {alone[0]:>10.2f} {alone[1]:>6.1f} {mixed[0]:>8.2f} "
              f"{mixed[1]:>6.1f} {alone[0] / mixed[0]:>14.3f} {str(same):>12}", flush=True)


def main() -> None:
    """Print the ratio and the throughput per batch size."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-sizes", type=int, nargs="*", default=[1, 8, 32])
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mixing", action="store_true", help="per-task against cross-task batches")
    parser.add_argument("--limit", type=int, default=20, help="test examples per task with --mixing")
    args = parser.parse_args()
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = tiny_model(Path(tmp) / "model", args.hidden, args.layers)
        if args.mixing:
            print(f"tiny Qwen2-Audio hidden={args.hidden} layers={args.layers}")
            compare_mixing(model_dir, args.batch_sizes, args.repeats, args.limit, Path(tmp) / "subs")
            return
        print(f"tiny Qwen2-Audio hidden={args.hidden} layers={args.layers}, tasks {', '.join(TASKS)}, "
              f"{NEW_TOKENS} new tokens, CPU, best of {args.repeats}")
        print(f"{'batch':>5} {'examples':>8} {'bare s':>8} {'harness s':>9} {'ratio':>6} {'bare ex/s':>9} "
              f"{'harness ex/s':>12}")
        for size in args.batch_sizes:
            bare, ours, n = [], [], 0
            for _ in range(args.repeats):  # alternate, so background load hits both sides alike
                seconds, n = timed(bare_loop, model_dir, size)
                bare.append(seconds)
                seconds, n_ours = timed(harness, model_dir, size, Path(tmp) / "subs")
                ours.append(seconds)
                assert n_ours == n, (n_ours, n)
            b, h = min(bare), min(ours)
            print(f"{size:>5} {n:>8} {b:>8.2f} {h:>9.2f} {h / b:>6.3f} {n / b:>9.1f} {n / h:>12.1f}", flush=True)


if __name__ == "__main__":
    main()
