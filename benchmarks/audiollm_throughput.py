"""`bench run --model audiollm:...` against a bare transformers loop over the same examples, on a tiny model on CPU.

Both sides load the same tiny Qwen2-Audio (built from a config, as in the tests),
read the same test examples, apply the same chat template and generate the same
number of tokens greedily with the same batch size. The harness adds what a run
needs: task checks, decoding in a background thread,
scoring and durable per-batch records. Printed: the harness's wall time over the
bare loop's (target <= 1.05) and examples/s at each batch size::

    python benchmarks/audiollm_throughput.py                  # batch sizes 1, 8, 32
    python benchmarks/audiollm_throughput.py --hidden 256 --layers 4
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


def main() -> None:
    """Print the ratio and the throughput per batch size."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-sizes", type=int, nargs="*", default=[1, 8, 32])
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = tiny_model(Path(tmp) / "model", args.hidden, args.layers)
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
