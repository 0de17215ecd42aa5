"""Hostile input never crashes the tools: the known crashes, property-based tests, and a short fuzz campaign.

``benchmarks/fuzz.py --cases 10000`` is the long campaign; CI runs the short one here.
"""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from helpers import make_task, read_examples, tone, write_examples
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import benchmark.adapters.registry as registry
from benchmark.adapters.baselines import MajorityAdapter
from benchmark.cli import app
from benchmark.submission.card import read_model_card
from benchmark.submission.records import Record, RunFileError, append_records, read_records
from benchmark.task import safejson
from benchmark.task.audio import AudioError, decode_check, read_audio, read_header
from benchmark.task.checks import validate_task
from benchmark.task.folder import TaskLoadError, load_task

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]


def bench(*args: str):
    return runner.invoke(app, list(args))


def no_traceback(result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


# ---------------------------------------------------------------- the crashes the issue lists

DEEP = "[" * 1000 + "]" * 1000
HUGE_INT = "9" * 5000


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (DEEP, "nested more than 32 levels"),
        ('{"a":' * 1000 + "1" + "}" * 1000, "nested more than 32 levels"),
        (HUGE_INT, "integer of 5000 digits"),
        ("1e999", "out of range"),
        ("NaN", "not a JSON number"),
        ('"\\ud800"', "lone surrogate"),
        ('{"x": ["ok", "\\udfff"]}', "lone surrogate"),
    ],
)
def test_bounded_json_refuses_what_used_to_crash(text: str, problem: str) -> None:
    with pytest.raises(safejson.JsonLimitError, match=problem):
        safejson.loads(text)


@pytest.mark.parametrize(
    ("where", "content", "code"),
    [
        ("task.json", DEEP, "T101"),
        ("task.json", '{"name": ' + HUGE_INT + "}", "T101"),
        ("examples.jsonl", DEEP, "T201"),
        ("examples.jsonl", '{"id": "x", "split": "test", "audio": "a.flac", "label": ' + HUGE_INT + "}", "T201"),
        ("examples.jsonl", '{"id": "x", "split": "test", "audio": [["audio/0001.flac"]], "label": "low"}', "T203"),
        ("examples.jsonl", '{"id": "x", "split": "test", "audio": [[["a"]], {}], "label": "low"}', "T203"),
        (
            "examples.jsonl",
            '{"id": "x", "split": "test", "audio": "audio/0001.flac", "label": "low", "instruction": "hi \\ud800"}',
            "T201",
        ),
        ("examples.jsonl", '{"id": "x", "audio": "' + "a" * 70_000 + '"}', "T201"),
    ],
)
def test_hostile_task_files_are_findings(tmp_path: Path, where: str, content: str, code: str) -> None:
    folder = make_task(tmp_path, n_train=2, n_test=32)
    path = folder / where
    if where == "examples.jsonl":
        path.write_text(path.read_text() + content + "\n")
    else:
        path.write_text(content)
    report = validate_task(folder)
    assert code in {f.code for f in report.errors}
    result = bench("validate", str(folder))
    no_traceback(result)
    assert result.exit_code == 1 and code in result.output
    run = bench("run", "--model", "majority", "--tasks-root", str(tmp_path), "--out", str(tmp_path / "subs"))
    no_traceback(run)
    assert run.exit_code == 2 and code in run.output


def test_lone_surrogate_in_model_output_is_written_as_replacement(tmp_path: Path) -> None:
    record = Record(
        task="T", task_version="1.0.0", task_hash="h", id="1", split="test", instruction="i",
        reference="a", output="odd \ud800 output", tier="na", score=0.0,
    )  # fmt: skip
    append_records(tmp_path / "r.jsonl", [record])
    assert read_records(tmp_path / "r.jsonl")[0].output == "odd \ufffd output"


class ListeningMajority(MajorityAdapter):
    """The majority answer, after decoding every clip (so broken audio reaches the runner)."""

    needs_audio = True


def test_flac_with_corrupt_frames_stops_run_cleanly_and_keeps_records(tmp_path: Path, monkeypatch) -> None:
    folder = make_task(tmp_path / "tasks", n_train=2, n_test=32)
    clip = folder / "audio" / "0020.flac"  # test example 19 of 32: the first batches succeed
    data = bytearray(clip.read_bytes())
    for i in range(200, len(data), 7):
        data[i] ^= 0x5A
    clip.write_bytes(bytes(data))
    assert bench("validate", str(folder)).exit_code == 0  # the header is intact
    entry = registry.AdapterEntry("listening", f"{__name__}:ListeningMajority", "majority, listening", "listening")
    monkeypatch.setitem(registry.REGISTRY, "listening", entry)
    out = tmp_path / "subs"
    args = ("run", "--model", "listening", "--tasks-root", str(tmp_path / "tasks"), "--out", str(out))
    result = bench(*args, "--batch-size", "4")
    no_traceback(result)
    assert result.exit_code == 2
    assert "T310" in result.output and "0020.flac" in result.output and "--deep" in result.output
    kept = read_records(out / "listening" / "runs" / "ToneHeight@1.0.0.jsonl")
    assert [r.id for r in kept] == [f"{i:04d}" for i in range(2, 18)]
    deep = bench("validate", "--deep", "--workers", "1", str(folder))
    assert deep.exit_code == 1 and "0020.flac" in deep.output


@pytest.mark.parametrize("text", ["null", "{}", '{"runs": [1]}', DEEP, "\xff"])
def test_damaged_run_header_is_kept_aside_and_the_run_goes_on(tmp_path: Path, text: str) -> None:
    make_task(tmp_path / "tasks", n_train=2, n_test=32)
    run = ("run", "--model", "majority", "--tasks-root", str(tmp_path / "tasks"), "--out", str(tmp_path / "subs"))
    assert bench(*run, "--limit", "4").exit_code == 0
    header = tmp_path / "subs" / "majority" / "runs" / "ToneHeight@1.0.0.header.json"
    header.write_bytes(text.encode("utf-8", "surrogateescape") if text != "\xff" else b"\xff")
    result = bench(*run)
    no_traceback(result)
    assert result.exit_code == 0, result.output
    assert len(json.loads(header.read_text())["runs"]) == 1
    assert header.with_name(header.name + ".unreadable").read_bytes() != b""


@pytest.mark.parametrize(
    "declared",
    [b"\xff\xff\xff\xff", b"\x7f\xff\xff\xf0"],
)
def test_huge_declared_length_is_refused_before_reading(tmp_path: Path, declared: bytes) -> None:
    buf = io.BytesIO()
    sf.write(buf, tone(440), 16000, format="FLAC")
    data = bytearray(buf.getvalue())
    data[22:26] = declared  # STREAMINFO: the low 32 bits of the total sample count
    (tmp_path / "x.flac").write_bytes(bytes(data))
    with pytest.raises(AudioError) as err:
        read_audio(tmp_path / "x.flac")
    assert err.value.code == "T313" and "over the 60 s cap" in str(err.value)
    deep = decode_check(str(tmp_path / "x.flac"))  # streamed, not one buffer of the declared size
    assert deep.header_frames > 60 * 16000 and deep.frames < 60 * 16000


# ---------------------------------------------------------------- properties

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150)
@given(st.text(max_size=200) | st.binary(max_size=200))
def test_loads_raises_only_its_own_errors(text: str | bytes) -> None:
    try:
        safejson.loads(text)
    except (json.JSONDecodeError, safejson.JsonLimitError):
        pass


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_JSON_TEXTS = _JSON_VALUES.map(json.dumps) | st.text(max_size=200)


@given(_JSON_TEXTS | _JSON_TEXTS.map(lambda t: t.encode("utf-16")) | st.binary(max_size=200) | st.just("\ufeff{}"))
def test_the_shared_decoder_parses_as_json_loads(text: str | bytes) -> None:
    def outcome(parse) -> tuple[str, str]:
        try:
            return "value", repr(parse(text))
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError and the limits
            return type(exc).__name__, str(exc)

    hooks = {"parse_int": safejson._bounded_int, "parse_float": safejson._finite_float}
    expected = outcome(lambda t: json.loads(t, **hooks, parse_constant=safejson._no_constant))
    assert outcome(safejson._decode) == expected


@pytest.fixture(scope="module")
def task_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_task(tmp_path_factory.mktemp("fuzz"), n_train=2, n_test=32)


def _restoring(path: Path):
    original = path.read_bytes()

    class Restore:
        def __enter__(self) -> Path:
            return path

        def __exit__(self, *exc: object) -> None:
            path.write_bytes(original)

    return Restore()


def _load_cleanly(folder: Path) -> None:
    validate_task(folder)
    try:
        load_task(folder)
    except TaskLoadError:
        pass


@settings(max_examples=60)
@given(JSON, st.sampled_from(["name", "labels", "instructions", "audio_inputs", "source", "metric", "new"]))
def test_any_value_in_task_json_is_a_finding(task_folder: Path, value: object, key: str) -> None:
    with _restoring(task_folder / "task.json") as path:
        card = json.loads(path.read_text())
        card[key] = value
        path.write_text(json.dumps(card))
        _load_cleanly(task_folder)


@settings(max_examples=60)
@given(JSON, st.sampled_from(["id", "split", "audio", "label", "instruction", "extra"]))
def test_any_value_in_an_example_is_a_finding(task_folder: Path, value: object, key: str) -> None:
    with _restoring(task_folder / "examples.jsonl"):
        rows = read_examples(task_folder)
        rows[3][key] = value
        write_examples(task_folder, rows)
        _load_cleanly(task_folder)


@pytest.fixture(scope="module")
def flac_bytes() -> bytes:
    buf = io.BytesIO()
    sf.write(buf, tone(440, 0.5), 16000, format="FLAC")
    return buf.getvalue()


@settings(max_examples=80)
@given(st.data())
def test_damaged_audio_raises_only_audio_errors(flac_bytes: bytes, tmp_path_factory, data) -> None:
    blob = bytearray(flac_bytes)
    cut = data.draw(st.integers(0, len(blob)))
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(blob) - 1), st.integers(1, 255)), max_size=20))
    for at, mask in flips:
        blob[at] ^= mask
    path = tmp_path_factory.mktemp("audio") / "x.flac"
    path.write_bytes(bytes(blob[:cut] if data.draw(st.booleans()) else blob))
    for reader in (read_header, read_audio):
        try:
            reader(path)
        except AudioError:
            pass
    result = decode_check(str(path))
    assert result.error is not None or np.isfinite(result.peak)


@settings(max_examples=100)
@given(st.lists(st.binary(max_size=80) | JSON.map(json.dumps).map(str.encode), max_size=5))
def test_any_run_file_reads_or_raises_run_file_error(tmp_path_factory, lines: list[bytes]) -> None:
    path = tmp_path_factory.mktemp("runs") / "T@1.0.0.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    try:
        read_records(path)
    except RunFileError:
        pass


@settings(max_examples=60)
@given(st.binary(max_size=100) | JSON.map(json.dumps).map(str.encode))
def test_any_model_json_reads_or_raises_value_error(tmp_path_factory, blob: bytes) -> None:
    folder = tmp_path_factory.mktemp("sub")
    (folder / "model.json").write_bytes(blob)
    try:
        read_model_card(folder)
    except ValueError:
        pass


# ---------------------------------------------------------------- the campaign, short


def test_short_fuzz_campaign_has_no_traceback() -> None:
    spec = importlib.util.spec_from_file_location("bench_fuzz", ROOT / "benchmarks" / "fuzz.py")
    assert spec is not None and spec.loader is not None
    fuzz = importlib.util.module_from_spec(spec)
    sys.modules["bench_fuzz"] = fuzz
    spec.loader.exec_module(fuzz)
    tally = fuzz.campaign(cases=60, seed=15)
    assert tally.cases == 60 and tally.commands > 150
    assert tally.tracebacks == [], tally.tracebacks[0]
    assert {"T201", "T310", "S100", "S101"} <= set(tally.codes)  # the mutations reach every reader
    # A task answered with audio: references, an output block, stored answers (a corrupt reference once crashed
    # `bench score`).
    audio = fuzz.campaign(cases=40, seed=3, answers="audio")
    assert audio.cases == 40 and audio.tracebacks == [], audio.tracebacks[0]
    fuzz.campaign(cases=0)  # the module's workspace back to the text task
    shutil.rmtree(ROOT / "benchmarks" / "__pycache__", ignore_errors=True)
