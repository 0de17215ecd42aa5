"""Benchmark: speech-output scoring through ``benchmark.scoring.speech`` against the metric libraries called directly.

Not a test. Run:

    HF_HUB_OFFLINE=1 python benchmarks/speech_scoring.py [--utterances 8] [--repeat 3] [--only NAME]

Makes espeak-ng utterances (16 kHz), then for each metric times, on the same arrays,
``benchmark.scoring.speech.metrics.score`` (output check, needs check, model reuse, records'
detail) and the library call a user would write (``WhisperModel.transcribe`` + the
Whisper normaliser + jiwer, ``VoiceEncoder.embed_utterance``, ``speechmos.dnsmos.run``,
``pesq``, ``pystoi.stoi``, ``pyworld.dio``/``stonemask``, a textbook numpy SI-SDR).
Models are loaded and warmed before timing; the two paths alternate and the best of
``--repeat`` rounds is kept. The GE2E embedding cache is emptied before each round, so
the harness embeds as often as the direct path. Prints the cost per second of audio,
wall and CPU (all threads; steadier on a shared machine), the ratios (target: at most
1.2x), and whether both paths gave the same values.

``--files`` times what a run does instead: every clip is a file (the answers stored by
``AudioStore`` as FLAC, the references in an ``audio`` task folder), the harness path is
``submission.audio_scorer.AudioScorer`` on the stored answers with an empty score cache
each round (it reads the answer and reference files, checks and scores), and the direct
path reads the same files with soundfile and calls the libraries.
"""

from __future__ import annotations

import argparse
import itertools
import math
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from benchmark.scoring.speech import metrics as M
from benchmark.scoring.speech.compat import pkg_resources_stand_in
from benchmark.scoring.speech.models import Models, normalise_english

SR = 16_000
SENTENCES = [
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "She sells sea shells by the sea shore every single summer morning.",
    "A large crowd gathered in the square to hear the mayor speak.",
    "Please remember to turn off the lights before you leave the office.",
    "The train to the city leaves at seven fifteen from platform two.",
    "Heavy rain is expected across the north of the country tomorrow.",
    "He bought three apples, a loaf of bread and a bottle of milk.",
    "Our team finished the project two weeks ahead of the schedule.",
]
VOICES = [("en-us", 50), ("en-gb-x-rp+f3", 80), ("en-us+m3", 20), ("en-gb", 60)]


def espeak(text: str, voice: str, pitch: int, folder: Path) -> np.ndarray:
    path = folder / "say.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-p", str(pitch), "-w", str(path), text], check=True)
    audio, rate = sf.read(path, dtype="float32")
    return soxr.resample(audio, rate, SR).astype(np.float32)


def corpus(n: int) -> list[dict]:
    rng = np.random.default_rng(0)
    items = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n):
            text = SENTENCES[i % len(SENTENCES)]
            voice, pitch = VOICES[i % len(VOICES)]
            clean = espeak(text, voice, pitch, Path(tmp))
            prompt = espeak(SENTENCES[(i + 1) % len(SENTENCES)], voice, pitch, Path(tmp))
            other = espeak(SENTENCES[(i + 3) % len(SENTENCES)], *VOICES[(i + 1) % len(VOICES)], Path(tmp))
            interferer = np.resize(other, len(clean))
            out = np.clip(clean + 0.05 * rng.normal(size=len(clean)).astype(np.float32), -1, 1)
            other_est = interferer + 0.01 * rng.normal(size=len(clean)).astype(np.float32)
            x = {"text": text, "clean": clean, "out": out, "prompt": prompt}
            items.append(x | {"other": interferer, "other_est": other_est})
    return items


def si_sdr_textbook(est: np.ndarray, ref: np.ndarray) -> float:
    est, ref = est - est.mean(), ref - ref.mean()
    target = (est @ ref) / (ref @ ref) * ref
    return float(10 * np.log10((target @ target) / ((est - target) @ (est - target))))


def direct_functions(models: Models) -> dict[str, Callable[[dict], list[float]]]:
    import jiwer
    from pesq import pesq
    from pystoi import stoi
    from speechmos import dnsmos

    with pkg_resources_stand_in():
        import pyworld
        from resemblyzer import preprocess_wav
    whisper, encoder = models.asr.load(), models.ge2e.load()

    def wer(x: dict) -> list[float]:
        segments, _ = whisper.transcribe(x["out"], **models.asr.OPTIONS)
        hyp = normalise_english(" ".join(s.text.strip() for s in segments))
        return [jiwer.wer(normalise_english(x["text"]), hyp)]

    def sim(x: dict) -> list[float]:
        a, b = (encoder.embed_utterance(preprocess_wav(w, SR)) for w in (x["out"], x["prompt"]))
        return [float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))]

    def mos(x: dict) -> list[float]:
        r = dnsmos.run(x["out"], SR)
        return [float(r[k]) for k in ("sig_mos", "bak_mos", "ovrl_mos", "p808_mos")]

    def f0(x: dict) -> list[float]:
        stats = []
        for w in (x["out"], x["clean"]):
            w64 = w.astype(np.float64)
            f, t = pyworld.dio(w64, SR, f0_floor=50.0, f0_ceil=800.0, frame_period=5.0)
            f = pyworld.stonemask(w64, f, t, SR)
            c = 1200 * np.log2(f[f > 0])
            stats.append((c.mean(), c.std()))
        return [abs(stats[0][0] - stats[1][0]), abs(stats[0][1] - stats[1][1])]

    def sep(x: dict) -> list[float]:
        refs, ests = (x["clean"], x["other"]), (x["other_est"], x["out"])
        best = max(
            np.mean([si_sdr_textbook(ests[p], refs[i]) for i, p in enumerate(perm)])
            for perm in itertools.permutations(range(2))
        )
        return [float(best)]

    return {
        "WER[whisper-tiny.en]": wer,
        "SIM[GE2E]": sim,
        "DNSMOS (4 scores)": mos,
        "PESQ-WB": lambda x: [float(pesq(SR, x["clean"], x["out"], "wb"))],
        "ESTOI": lambda x: [float(stoi(x["clean"], x["out"], SR, extended=True))],
        "F0 diffs[pyworld]": f0,
        "SI-SDR (PIT, 2 sources)": sep,
        "duration-ratio": lambda x: [len(x["out"]) / len(x["clean"])],
    }


def harness_functions(models: Models) -> dict[str, Callable[[dict], list[float]]]:
    def run(names: list[str], outputs: Callable[[dict], list[np.ndarray]]) -> Callable[[dict], list[float]]:
        def f(x: dict) -> list[float]:
            refs = M.References(text=x["text"], audio=x["clean"], speaker=x["prompt"], sources=(x["clean"], x["other"]))
            out = M.score(names, outputs(x), SR, refs, models=models)
            return [out[n].value for n in names]

        return f

    one = lambda x: [x["out"]]  # noqa: E731
    return {
        "WER[whisper-tiny.en]": run([M.WER], one),
        "SIM[GE2E]": run([M.SIM], one),
        "DNSMOS (4 scores)": run(list(M.DNSMOS_NAMES.values()), one),
        "PESQ-WB": run([M.PESQ], one),
        "ESTOI": run([M.ESTOI], one),
        "F0 diffs[pyworld]": run([M.F0_MEAN, M.F0_STD], one),
        "SI-SDR (PIT, 2 sources)": run([M.SI_SDR], lambda x: [x["other_est"], x["out"]]),
        "duration-ratio": run([M.DURATION], one),
    }


def write_task(items: list[dict], root: Path) -> Path:
    """An ``audio`` task folder holding the references, and the items' file paths (``x["files"]``)."""
    import json

    folder = root / "Scored"
    (folder / "audio").mkdir(parents=True)
    lines = []
    for i, x in enumerate(items):
        files = {}
        for key in ("clean", "prompt", "other", "out", "other_est"):
            rel = f"audio/{i:02d}-{key}.flac"
            sf.write(folder / rel, x[key], SR, subtype="PCM_24")
            files[key] = folder / rel
        x["files"] = files
    for i in range(max(32, len(items))):  # the contract's 32 test examples; the first len(items) are timed
        k = i % len(items)
        lines.append(json.dumps({"id": f"{i:02d}", "split": "test", "audio": f"audio/{k:02d}-out.flac",
                                 "label": items[k]["text"], "speaker_prompt": f"audio/{k:02d}-prompt.flac",
                                 "reference_audio": f"audio/{k:02d}-clean.flac"}))  # fmt: skip
    card = {"name": "Scored", "version": "1.0.0", "description": "Benchmark.", "dimension": "degradation",
            "task_type": "audio", "metric": "PESQ-WB", "instructions": [f"Say it ({i})." for i in range(5)],
            "license": "CC0-1.0", "source": {}, "languages": ["en"], "authors": ["bench"],
            "output": {"sources": 1, "max_seconds": 30}}  # fmt: skip
    (folder / "task.json").write_text(json.dumps(card))
    (folder / "examples.jsonl").write_text("\n".join(lines) + "\n")
    readme = "# Scored\n## Objective\n## Data provenance\n## Licence\n## Example\n## Baseline\n"
    (folder / "README.md").write_text(readme)
    return folder


def file_functions(models: Models, items: list[dict], root: Path) -> tuple[dict, dict]:
    """Direct and harness scorers that read files: the direct path with soundfile, the harness through a run's
    scorer on answers stored by ``AudioStore`` (the separation answer holds two clips)."""
    from benchmark.scoring.speech.answer import AudioAnswer
    from benchmark.submission.audio_scorer import AudioScorer
    from benchmark.submission.audio_store import AudioStore, ScoreCache
    from benchmark.task import load_task

    task = load_task(write_task(items, root))
    store = AudioStore(root / "store")
    for x, e in zip(items, task.examples, strict=False):
        x["example"] = e
        x["one"] = store.put(AudioAnswer(samples=x["out"], rate=SR), max_seconds=30)
        x["two"] = store.put(AudioAnswer(samples=[x["other_est"], x["out"]], rate=SR), max_seconds=30)
        x["files"]["out"] = store.path(x["one"].hashes[0])  # the direct path reads the very file the harness does

    def read(x: dict) -> dict:
        return {k: sf.read(p, dtype="float32")[0] for k, p in x["files"].items()} | {"text": x["text"]}

    def reading(fn: Callable[[dict], list[float]]) -> Callable[[dict], list[float]]:
        return lambda x: fn(read(x))

    direct = {name: reading(fn) for name, fn in direct_functions(models).items()}
    rounds = itertools.count()

    def run(names: list[str], answer: str, sources: int = 1) -> Callable[[dict], list[float]]:
        output = task.card.output.model_copy(update={"metrics": names[1:], "sources": sources})  # type: ignore[union-attr]
        card = task.card.model_copy(update={"metric": names[0], "output": output})
        scored = task.model_copy(update={"card": card})
        scorers: dict[int, AudioScorer] = {}

        def f(x: dict) -> list[float]:
            if x is items[0]:  # a new round: a new, empty score cache (nothing is looked up twice)
                scorers.clear()
            if not scorers:
                scorers[0] = AudioScorer(scored, store, ScoreCache(root / f"scores-{next(rounds)}.jsonl"), models)
            out = scorers[0](x["example"], x[answer])
            return [out.speech[n]["value"] for n in names]  # type: ignore[index]

        return f

    harness = {
        "WER[whisper-tiny.en]": run([M.WER], "one"),
        "SIM[GE2E]": run([M.SIM], "one"),
        "DNSMOS (4 scores)": run(list(M.DNSMOS_NAMES.values()), "one"),
        "PESQ-WB": run([M.PESQ], "one"),
        "ESTOI": run([M.ESTOI], "one"),
        "F0 diffs[pyworld]": run([M.F0_MEAN, M.F0_STD], "one"),
        "duration-ratio": run([M.DURATION], "one"),
    }
    # Separation scores against two reference files: the direct path reads both; the harness task names one
    # reference per example, so SI-SDR is timed on arrays only (run without --files).
    direct.pop("SI-SDR (PIT, 2 sources)")
    return direct, harness


def timed(fn: Callable[[dict], list[float]], items: list[dict]) -> tuple[float, float, list[list[float]]]:
    """Wall and CPU seconds (all threads of the process) of scoring every item, and the values."""
    wall, cpu = time.perf_counter(), time.process_time()
    values = [fn(x) for x in items]
    return time.perf_counter() - wall, time.process_time() - cpu, values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--utterances", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="", help="time only the metrics whose name contains this")
    parser.add_argument("--files", action="store_true", help="score stored answer files through a run's scorer")
    args = parser.parse_args()
    items = corpus(args.utterances)
    seconds = sum(len(x["out"]) for x in items) / SR
    models = Models()
    tmp = tempfile.TemporaryDirectory()
    if args.files:
        direct, harness = file_functions(models, items, Path(tmp.name))
    else:
        direct, harness = direct_functions(models), harness_functions(models)
    where = "files (stored answers, task references)" if args.files else "arrays"
    print(
        f"{len(items)} espeak-ng utterances, {seconds:.1f} s of audio at 16 kHz, from {where}; "
        f"best of {args.repeat} rounds"
    )
    print(
        f"{'metric':26s} {'direct ms/s':>11s} {'harness ms/s':>12s} {'ratio':>6s} {'CPU direct':>10s} "
        f"{'CPU harness':>11s} {'ratio':>6s}  same values"
    )
    for name in (n for n in direct if args.only in n):
        direct[name](items[0]), harness[name](items[0])  # warm: model loads, numba JIT, first ONNX run
        best = {"d": [math.inf, math.inf], "h": [math.inf, math.inf]}
        values: dict[str, list[list[float]]] = {}
        for _ in range(args.repeat):
            for side, fn in (("d", direct[name]), ("h", harness[name])):
                models.ge2e._cache.clear()  # embed as often as the direct path does
                wall, cpu, values[side] = timed(fn, items)
                best[side] = [min(best[side][0], wall), min(best[side][1], cpu)]
        same = np.allclose(np.array(values["d"], dtype=float), np.array(values["h"], dtype=float), rtol=1e-4, atol=1e-4)
        (wd, cd), (wh, ch) = (1000 * np.array(best[k]) / seconds for k in ("d", "h"))
        print(f"{name:26s} {wd:11.3f} {wh:12.3f} {wh / wd:6.2f} {cd:10.3f} {ch:11.3f} {ch / cd:6.2f}  {same}")


if __name__ == "__main__":
    main()
