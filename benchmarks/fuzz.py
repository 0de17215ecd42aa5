"""Fuzz campaign: mutated task folders, audio, run files, model cards and parquet imports.

Not a test (CI runs a few hundred cases through ``tests/test_fuzz.py``). Run:

    python benchmarks/fuzz.py --cases 10000 --seed 0

Each case copies a small valid workspace (a task folder, a submission made by
``majority`` and by an adapter that decodes the audio, and a parquet export of the
task), mutates one input, and runs the commands that read it in-process:
``bench validate``, ``run``, ``score``, ``leaderboard build`` and ``import-hf``.
Every outcome is either success or a clean failure (a finding with its code, or a
one-line error); anything else is a traceback, printed with the case that caused it.
The script prints the number of cases, of tracebacks (the goal is zero) and how
often each finding code and error kind came up.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import make_audio_task, make_task  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import benchmark.adapters.registry as registry  # noqa: E402
from benchmark.adapters.baselines import MajorityAdapter  # noqa: E402
from benchmark.task.audio import AudioError, decode_check, read_audio, read_header  # noqa: E402


class ListeningMajority(MajorityAdapter):
    """The majority answer, but it decodes every clip first (so broken audio reaches the runner)."""

    needs_audio = True


registry.REGISTRY["listening"] = registry.AdapterEntry(
    "listening", f"{__name__}:ListeningMajority", "majority that decodes audio", "listening"
)

TASK = "ToneHeight"
MODELS = ("majority", "listening")
"""The workspace's task and the two models run on it: a text task, or with ``--answers audio`` a task whose answer
is audio (``CleanTone``: references, an output block) run by ``copy-input`` and ``reference``."""
IMPORT_TYPE = "classification"
# Hostile JSON values: each once crashed a tool, or could.
HOSTILE: list[Callable[[random.Random], Any]] = [
    lambda r: None,
    lambda r: True,
    lambda r: -(10 ** r.randint(1, 30)),
    lambda r: r.choice([0, 1, -1, 2**63, 1e308, -0.0, 0.5]),
    lambda r: [[["deep"]]],
    lambda r: {"nested": {"object": [1, {"x": None}]}},
    lambda r: "\ud800" + "x",
    lambda r: "x" * r.choice([0, 1, 1001, 70_000]),
    lambda r: r.choice(["../../etc/passwd", "/etc/passwd", "C:\\x.wav", "audio/../../x.flac", "audio/", "\x00"]),
    lambda r: r.choice(["audio/0004.flac", "audio/0005.flac", ["audio/0004.flac", "audio/0005.flac"], []]),
    lambda r: [r.choice(["high", "low", "mid", ""]) for _ in range(r.randint(0, 4))],
    lambda r: r.choice(["high", "low", "HIGH", " high", "train", "test", "dev", "1.0.0", "1.0", "x" * 40]),
]
RAW_HOSTILE = [
    b"[" * 1000 + b"]" * 1000,
    b'{"a": ' * 1000 + b"1" + b"}" * 1000,
    b"9" * 5000,
    b'"\\ud800"',
    b"1e999",
    b"NaN",
    b"\xff\xfe",
    b"",
    b"null",
]


def hostile_value(rng: random.Random) -> Any:
    return rng.choice(HOSTILE)(rng)


def mutate_json_tree(value: Any, rng: random.Random) -> Any:
    """Replace, delete or add one node somewhere in a parsed JSON value."""
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(list(value))
        choice = rng.random()
        if choice < 0.15:
            value.pop(key)
        elif choice < 0.25:
            value[rng.choice(["extra", "Label", "audio2", key + "_"])] = hostile_value(rng)
        elif choice < 0.6:
            value[key] = hostile_value(rng)
        else:
            value[key] = mutate_json_tree(value[key], rng)
        return value
    if isinstance(value, list) and value and rng.random() < 0.8:
        i = rng.randrange(len(value))
        value[i] = mutate_json_tree(value[i], rng) if rng.random() < 0.5 else hostile_value(rng)
        return value
    return hostile_value(rng)


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """Byte-level damage: flips, truncation, insertion of hostile text, duplication."""
    buf = bytearray(data)
    choice = rng.random()
    if choice < 0.25 and buf:
        for _ in range(rng.randint(1, 8)):
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
    elif choice < 0.45:
        del buf[rng.randrange(len(buf) + 1) :]
    elif choice < 0.75:
        at = rng.randrange(len(buf) + 1)
        buf[at:at] = rng.choice(RAW_HOSTILE) + rng.choice([b"", b"\n"])
    elif buf:
        start = rng.randrange(len(buf))
        buf[start:start] = buf[start : start + rng.randint(1, 200)]
    return bytes(buf)


def mutate_jsonl(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    i = rng.randrange(len(lines))
    if rng.random() < 0.6:
        try:
            tree = json.loads(lines[i])
            lines[i] = json.dumps(mutate_json_tree(tree, rng), ensure_ascii=rng.random() < 0.5).encode(
                "utf-8", "surrogatepass"
            )
        except ValueError:
            lines[i] = mutate_bytes(lines[i], rng)
    elif rng.random() < 0.5:
        lines.insert(i, rng.choice(RAW_HOSTILE))
    else:
        lines[i] = mutate_bytes(lines[i], rng)
    return b"\n".join(lines)


def mutate_json_file(data: bytes, rng: random.Random) -> bytes:
    if rng.random() < 0.6:
        tree = mutate_json_tree(json.loads(data), rng)
        return json.dumps(tree, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
    return mutate_bytes(data, rng) if rng.random() < 0.7 else rng.choice(RAW_HOSTILE)


def mutate_audio(data: bytes, rng: random.Random) -> bytes:
    """Truncated or corrupted FLAC/WAV, wrong rates and channels, huge declared lengths, noise."""
    choice = rng.random()
    if choice < 0.2:
        return data[: rng.randrange(len(data))]
    if choice < 0.4:  # corrupt frames behind an intact header
        buf = bytearray(data)
        for _ in range(rng.randint(1, 50)):
            i = rng.randrange(min(len(buf) - 1, 100), len(buf))
            buf[i] ^= rng.randrange(1, 256)
        return bytes(buf)
    if choice < 0.55:  # header fields: FLAC STREAMINFO (rate, channels, total samples) or WAV sizes
        buf = bytearray(data)
        i = rng.randrange(8, min(len(buf), 44))
        buf[i : i + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\xff\xff\xf0", rng.randbytes(4)])
        return bytes(buf)
    if choice < 0.8:  # a valid file that breaks the contract
        rate = rng.choice([8000, 16000, 44100, 1, 200_000])
        channels = rng.choice([1, 1, 2, 6])
        frames = rng.choice([1, 1000, 16000, 16000 * 61])
        signal = np.zeros((frames, channels), dtype=np.float32)
        signal[:, 0] = np.sin(np.arange(frames) / 7.0) * rng.choice([0.3, 0.0, 5.0, np.nan])
        out = tempfile.SpooledTemporaryFile()
        try:
            sf.write(out, signal, rate, format=rng.choice(["WAV", "FLAC"]))
        except (sf.LibsndfileError, RuntimeError, ValueError, AssertionError):
            return rng.randbytes(100)  # soundfile cannot write that combination itself
        out.seek(0)
        return out.read()
    return rng.choice(
        [b"", rng.randbytes(rng.randint(1, 4096)), b"RIFF" + rng.randbytes(60), b"fLaC" + rng.randbytes(60)]
    )


@dataclass
class Tally:
    """What the campaign saw."""

    cases: int = 0
    commands: int = 0
    tracebacks: list[str] = field(default_factory=list)
    codes: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    by_target: Counter[str] = field(default_factory=Counter)


ERROR_KIND = re.compile(r"\b([TS]\d{3})\b")


def _error_kind(output: str) -> str:
    line = next((x for x in output.splitlines() if x.startswith("error:")), output.strip().splitlines()[-1:] or [""])
    text = line if isinstance(line, str) else line[0]
    code = ERROR_KIND.search(output)
    return code.group(1) if code else re.sub(r"[/\w.@-]*/[\w.@-]+|\d+", "#", text)[:70]


def _fast_cli_runner() -> Any:
    """typer's CliRunner rebuilds the click command on every call; build it once (half the campaign's time)."""
    import typer.testing

    typer.testing._get_command = functools.lru_cache(maxsize=None)(typer.testing._get_command)
    return typer.testing.CliRunner()


RUNNER = _fast_cli_runner()


def invoke(args: list[str], tally: Tally, label: str) -> None:
    """Run one ``bench`` command in-process; a traceback is any exception that is not an exit."""
    from benchmark.cli import app

    tally.commands += 1
    result = RUNNER.invoke(app, args)
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        tally.tracebacks.append(f"{label}: bench {' '.join(args)}\n{tb}")
        return
    if result.exit_code != 0:
        for code in set(ERROR_KIND.findall(result.output)):
            tally.codes[code] += 1
        tally.errors[f"{args[0]}: {_error_kind(result.output)}"] += 1


def build_base(root: Path) -> Path:
    """The valid workspace every case starts from."""
    from benchmark.authoring.hf import export_hf

    if TASK == "CleanTone":
        make_audio_task(root / "tasks", TASK)
    else:
        make_task(root / "tasks", TASK, n_train=4, n_test=32)
    for model in MODELS:
        invoke(["run", "--model", model, "--tasks-root", str(root / "tasks"), "--out", str(root / "subs")], Tally(), "")
    export_hf(root / "tasks" / TASK, root / "parquet")
    return root


def _read_write(path: Path, mutate: Callable[[bytes, random.Random], bytes], rng: random.Random) -> None:
    path.write_bytes(mutate(path.read_bytes(), rng))


def _commands(ws: Path, target: str, rng: random.Random) -> list[list[str]]:
    tasks, subs = str(ws / "tasks"), str(ws / "subs")
    build = ["leaderboard", "build", "--submissions", subs, "--tasks-root", tasks, "--out", str(ws / "tables")]
    build += ["--site", str(ws / "site")] if rng.random() < 0.1 else ["--no-site"]
    score = ["score", subs, "--tasks-root", tasks, "--no-semantic"]
    if target in ("task.json", "examples.jsonl", "audio"):
        model = rng.choice(MODELS)
        validate = ["validate", str(ws / "tasks" / TASK)] + (["--deep", "--workers", "1"] if rng.random() < 0.3 else [])
        run = ["run", "--model", model, "--tasks-root", tasks, "--out", str(ws / "fresh"), "--no-semantic"]
        return [validate, run, score, build]
    if target == "parquet":
        out = str(ws / "imported")
        return [
            [
                "import-hf",
                str(ws / "parquet"),
                "--name",
                "Imported",
                "--dimension",
                "audio",
                "--license",
                "CC0-1.0",
                "--task-type",
                IMPORT_TYPE,
                "--out",
                out,
            ]
        ]
    validate = ["validate", str(ws / "subs" / MODELS[0]), "--tasks-root", tasks]
    resume = ["run", "--model", MODELS[0], "--tasks-root", tasks, "--out", subs, "--no-semantic"]
    return [validate, score, build, resume]


def _mutate_parquet(ws: Path, rng: random.Random) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = next((ws / "parquet" / "data").glob("test-*.parquet"))
    if rng.random() < 0.3:
        _read_write(path, mutate_bytes, rng)
        return
    table = pq.read_table(path)
    rows = table.to_pylist()
    row = rows[rng.randrange(len(rows))]
    column = rng.choice(["file", "audio", "instruction", "label", "drop"])
    if column == "drop":
        table = table.drop_columns([rng.choice(table.column_names)])
        pq.write_table(table, path)
        return
    if column == "audio":
        cell = row["audio"]
        cell["bytes"] = mutate_audio(cell["bytes"], rng) if rng.random() < 0.7 else None
        cell["path"] = rng.choice([cell["path"], "/etc/passwd", "/dev/zero", "../x.flac", None, "x" * 300])
    else:
        row[column] = rng.choice(["", "x" * 5000, "../../etc", "high", "low", None, "\x00", "ø" * 10])
    try:
        pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        try:
            pq.write_table(pa.Table.from_pylist(rows), path)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # a text value in an audio column: the column goes instead
            pq.write_table(table.drop_columns([column]), path)


def mutate_case(ws: Path, target: str, rng: random.Random) -> None:
    """Apply one mutation of ``target`` to the workspace copy ``ws``."""
    task = ws / "tasks" / TASK
    if target == "task.json":
        _read_write(task / "task.json", mutate_json_file, rng)
    elif target == "examples.jsonl":
        _read_write(task / "examples.jsonl", mutate_jsonl, rng)
    elif target == "audio":
        clip = rng.choice(sorted((task / "audio").iterdir()))
        _read_write(clip, mutate_audio, rng)
    elif target == "records":
        run = ws / "subs" / rng.choice(MODELS) / "runs" / f"{TASK}@1.0.0.jsonl"
        if rng.random() < 0.2:  # the run's provenance file
            _read_write(run.with_name(f"{TASK}@1.0.0.header.json"), mutate_json_file, rng)
        elif rng.random() < 0.05:
            run.unlink()
            run.mkdir()
        else:
            _read_write(run, mutate_jsonl if rng.random() < 0.6 else mutate_bytes, rng)
    elif target == "model.json":
        _read_write(ws / "subs" / MODELS[0] / "model.json", mutate_json_file, rng)
    elif target == "parquet":
        _mutate_parquet(ws, rng)


def audio_case(base: Path, rng: random.Random, tally: Tally) -> None:
    """Library-level: the audio readers raise only AudioError (or report a DecodeResult error)."""
    clip = rng.choice(sorted((base / "tasks" / TASK / "audio").iterdir()))
    data = mutate_audio(clip.read_bytes(), rng)
    with tempfile.NamedTemporaryFile(suffix=clip.suffix) as f:
        f.write(data)
        f.flush()
        for reader in (read_header, read_audio, decode_check):
            tally.commands += 1
            try:
                reader(f.name)
            except AudioError as exc:
                tally.codes[exc.code] += 1
            except Exception as exc:  # noqa: BLE001 (any other exception is the finding)
                tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
                tally.tracebacks.append(f"audio bytes via {reader.__name__} ({len(data)} bytes)\n{tb}")


# Relative weights of the targets; parquet imports are slow (the datasets library), so they are rarer.
TARGETS = {
    "task.json": 3,
    "examples.jsonl": 3,
    "audio": 2,
    "audio bytes": 3,
    "records": 3,
    "model.json": 2,
    "parquet": 1,
}


def _quiet_datasets() -> None:
    import datasets

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity(datasets.logging.CRITICAL)  # damaged parquet files are counted, not logged


def campaign(cases: int, seed: int = 0, log: Callable[[str], None] = lambda s: None, answers: str = "text") -> Tally:
    """Run ``cases`` mutated cases; returns the tally (tracebacks hold every crash with its case).

    ``answers="audio"`` fuzzes a workspace whose task is answered with audio (references, an output block, stored
    FLAC answers) instead of the text task.
    """
    global TASK, MODELS, IMPORT_TYPE
    TASK, MODELS, IMPORT_TYPE = (
        ("CleanTone", ("copy-input", "reference"), "audio") if answers == "audio" else
        ("ToneHeight", ("majority", "listening"), "classification")
    )  # fmt: skip
    tally = Tally()
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="bench-fuzz-") as tmp:
        os.environ["HF_DATASETS_CACHE"] = str(Path(tmp) / "hf-cache")
        _quiet_datasets()
        base = build_base(Path(tmp) / "base")
        names, weights = list(TARGETS), list(TARGETS.values())
        for i in range(cases):
            target = rng.choices(names, weights)[0]
            tally.cases += 1
            tally.by_target[target] += 1
            case_rng = random.Random(rng.getrandbits(64))
            if target == "audio bytes":
                audio_case(base, case_rng, tally)
                continue
            ws = Path(tmp) / f"case-{i}"
            shutil.copytree(base, ws, ignore=shutil.ignore_patterns("hf-cache"))
            try:
                mutate_case(ws, target, case_rng)
                for args in _commands(ws, target, case_rng):
                    invoke(args, tally, f"case {i} ({target})")
            finally:
                shutil.rmtree(ws, ignore_errors=True)
            if (i + 1) % 500 == 0:
                log(f"{i + 1} cases, {len(tally.tracebacks)} tracebacks")
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=3, help="Tracebacks to print in full.")
    parser.add_argument("--answers", choices=["text", "audio"], default="text", help="The workspace task's answers.")
    args = parser.parse_args()
    start = time.perf_counter()
    tally = campaign(args.cases, args.seed, log=lambda s: print(s, file=sys.stderr, flush=True), answers=args.answers)
    seconds = time.perf_counter() - start
    print(f"cases: {tally.cases}  commands: {tally.commands}  seconds: {seconds:.0f}")
    print("cases by target: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.by_target.items())))
    print(f"tracebacks: {len(tally.tracebacks)}")
    print("finding codes seen: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.codes.items())))
    print("clean failures by kind:")
    for kind, n in tally.errors.most_common(25):
        print(f"  {n:6d}  {kind}")
    for tb in tally.tracebacks[: args.show]:
        print("\n" + tb)
    sys.exit(1 if tally.tracebacks else 0)


if __name__ == "__main__":
    main()
