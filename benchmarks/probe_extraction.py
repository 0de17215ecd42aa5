"""Benchmark: probe feature extraction against a bare batched forward of the same clips (tiny HuBERT, CPU).

Not a test. Run:

    python benchmarks/probe_extraction.py [--clips 256] [--batch-size 16] [--device cpu]

Builds a tiny HuBERT from a config (hubert-large layout: layer-norm convolutions,
trained with attention masks; no download), takes test clips of the shipped
suite, and times, in one process, best of ``--repeat``:

- bare: the model's forward on the same length-sorted, padded batches (with
  the attention mask where a batch is padded), inputs prepared beforehand,
  hidden states left on the device;
- probe: ``upstream.features(clips, pooled=True)``, what the probe runs
  (normalisation, padding, forward, masked mean pooling on the device, copy out);
- one clip at a time: ``upstream.hidden_states`` per clip, then the mean (the
  probe's path before batching).

Prints probe / bare (target 1.15) and one-at-a-time / bare.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from benchmark.adapters.probe.upstreams import HFUpstream, _by_length
from benchmark.task import load_task


def tiny_hubert(folder: Path) -> None:
    from transformers import HubertConfig, HubertModel, Wav2Vec2FeatureExtractor

    torch.manual_seed(0)
    cfg = HubertConfig(
        hidden_size=64,
        num_hidden_layers=4,
        num_attention_heads=4,
        intermediate_size=128,
        conv_dim=(32,) * 7,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4,
        feat_extract_norm="layer",
        do_stable_layer_norm=True,
    )
    HubertModel(cfg).save_pretrained(folder)
    Wav2Vec2FeatureExtractor(return_attention_mask=True).save_pretrained(folder)


def suite_clips(tasks_root: Path, n: int) -> list[np.ndarray]:
    clips: list[np.ndarray] = []
    for folder in sorted(p for p in tasks_root.iterdir() if (p / "task.json").is_file()):
        task = load_task(folder)
        clips += [c for e in task.split("test")[:12] for c in task.load_audio(e)]
    return clips[:n]


def best(repeat: int, *fns) -> list[float]:
    """Best time of each function, rounds interleaved so a busy spell on a shared machine hits all of them."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, out in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return [min(t) for t in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clips", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tasks-root", type=Path, default=Path("tasks"))
    args = parser.parse_args()
    clips = suite_clips(args.tasks_root, args.clips)
    device = torch.device(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        tiny_hubert(Path(tmp))
        up = HFUpstream(tmp, device, torch.float32, args.batch_size)
    batches = _by_length(clips, args.batch_size)
    prepared = [up._inputs([clips[i] for i in b]) for b in batches]
    prepared = [(v.to(device), m.to(device)) for v, m in prepared]

    @torch.inference_mode()
    def bare() -> None:
        for values, mask in prepared:
            up.model(values, attention_mask=mask if bool((mask == 0).any()) else None, output_hidden_states=True)
        if device.type == "cuda":
            torch.cuda.synchronize()

    def probe() -> None:
        up.features(clips, pooled=True)

    def one_at_a_time() -> None:
        for clip in clips:
            up.hidden_states(clip).mean(dim=1)

    bare()  # warm up
    t_bare, t_probe, t_one = best(args.repeat, bare, probe, one_at_a_time)
    seconds = sum(len(c) for c in clips) / 16_000
    print(
        f"{len(clips)} clips, {seconds:.0f} s of audio, tiny HuBERT (4 layers, 64 wide), {device}, "
        f"batches of {args.batch_size}, {torch.get_num_threads()} threads"
    )
    print(f"bare batched forward: {t_bare:.2f} s; probe extraction: {t_probe:.2f} s; one clip at a time: {t_one:.2f} s")
    print(f"probe / bare: {t_probe / t_bare:.2f} (target 1.15); one clip at a time / bare: {t_one / t_bare:.2f}")


if __name__ == "__main__":
    main()
