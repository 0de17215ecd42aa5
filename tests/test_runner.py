"""End to end: baselines run on a small suite, records are written, tables recomputed by hand."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import edit_card, make_suite, make_task, read_examples
from typer.testing import CliRunner

from benchmark.cli import app
from benchmark.scoring.text import normalise_transcript
from benchmark.submission.records import read_records
from benchmark.task import load_task

runner = CliRunner()


def bench(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    return make_suite(tmp_path / "tasks")


def _records(sub: Path) -> dict[str, list]:
    return {p.stem: read_records(p) for p in sorted((sub / "runs").glob("*.jsonl"))}


def test_models_lists_every_registered_name_and_each_builds() -> None:
    from benchmark.adapters import REGISTRY, build_adapter

    out = bench("models").output
    for family, entry in REGISTRY.items():
        assert family in out
        assert build_adapter(entry.example) is not None


def test_baselines_end_to_end_and_tables_recomputed_by_hand(suite: Path, tmp_path: Path) -> None:
    subs, board = tmp_path / "submissions", tmp_path / "board"
    for model in ("majority", "random"):
        result = bench("run", "--model", model, "--tasks-root", str(suite), "--out", str(subs), "--batch-size", "5")
        assert result.exit_code == 0, result.output
    result = bench(
        "leaderboard", "build", "--submissions", str(subs), "--tasks-root", str(suite), "--out", str(board), "--no-site"
    )
    assert result.exit_code == 0, result.output

    tasks = {p.name: load_task(p) for p in suite.iterdir()}
    recs = {m: _records(subs / m) for m in ("majority", "random")}
    for model in recs:
        for key, records in recs[model].items():
            name = key.split("@")[0]
            assert sorted(r.id for r in records) == sorted(e.id for e in tasks[name].split("test"))

    table = pd.read_csv(board / "tasks.csv").set_index(["model", "task"])
    # Majority on ToneHeight: train labels alternate low/high -> tie -> first card label "high".
    tone = tasks["ToneHeight"]
    refs = [e.label for e in tone.split("test")]
    majority_acc = sum(r == "high" for r in refs) / len(refs)
    assert table.loc[("majority", "ToneHeight"), "value"] == pytest.approx(majority_acc)
    assert table.loc[("majority", "ToneHeight"), "normalised"] == pytest.approx(0.0)
    # Random on ToneHeight: recount the answers written in its records.
    random_recs = recs["random"]["ToneHeight@1.0.0"]
    random_acc = sum(r.output == r.reference for r in random_recs) / len(random_recs)
    assert table.loc[("random", "ToneHeight"), "value"] == pytest.approx(random_acc)
    norm_tone = 1000 * (random_acc - majority_acc) / (1 - majority_acc)
    assert table.loc[("random", "ToneHeight"), "normalised"] == pytest.approx(norm_tone, abs=0.01)
    # Majority on BeepCount predicts the train mean; MAE by hand.
    beep = tasks["BeepCount"]
    mean = np.mean([e.label for e in beep.split("train")])
    mae = np.mean([abs(float(f"{mean:.6g}") - e.label) for e in beep.split("test")])
    assert table.loc[("majority", "BeepCount"), "value"] == pytest.approx(mae)
    random_mae = np.mean([abs(float(r.output) - r.reference) for r in recs["random"]["BeepCount@1.0.0"]])
    assert table.loc[("random", "BeepCount"), "value"] == pytest.approx(random_mae)
    norm_beep = 1000 * (random_mae - mae) / (0 - mae)  # lower is better: the same rule flips the sign
    assert table.loc[("random", "BeepCount"), "normalised"] == pytest.approx(norm_beep, abs=0.01)
    # Corpus WER of the majority transcript, by hand.
    words = tasks["ColourWords"]
    guess = Counter(e.label for e in words.split("train")).most_common(1)[0][0]
    import jiwer

    # Both sides as the text metrics compare them: Whisper-style numbers ("one two three four" -> "1234").
    refs = [normalise_transcript(e.label) for e in words.split("test")]
    wer = jiwer.wer(refs, [normalise_transcript(guess)] * len(refs))
    assert table.loc[("majority", "ColourWords"), "value"] == pytest.approx(wer)
    for key in [("majority", "ToneHeight"), ("random", "BeepCount")]:
        row = table.loc[key]
        assert row["ci_low"] <= row["value"] <= row["ci_high"] and row["n"] == 32

    dims = pd.read_csv(board / "dimensions.csv")
    rand_all = dims[(dims.model == "random") & (dims.split == "all")].set_index("dimension")
    assert rand_all.loc["audio", "score"] == pytest.approx((norm_tone + norm_beep) / 2, abs=0.02)
    content = table.loc[("random", "ColourWords"), "normalised"]
    assert rand_all.loc["overall", "score"] == pytest.approx(((norm_tone + norm_beep) / 2 + content) / 2, abs=0.02)
    assert rand_all.loc["audio", "tasks"] == 2
    assert (board / "leaderboard.md").read_text().count("| random |") >= 1
    data = json.loads((board / "leaderboard.json").read_text())
    assert {m["name"] for m in data["models"]} == {"majority", "random"}


def test_seen_and_unseen_tables(suite: Path, tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    bench("run", "--model", "random", "--tasks-root", str(suite), "--out", str(subs))
    model_json = subs / "random" / "model.json"
    data = json.loads(model_json.read_text())
    data["trained_on"] = ["ToneHeight"]
    model_json.write_text(json.dumps(data))
    bench(
        "leaderboard",
        "build",
        "--submissions",
        str(subs),
        "--tasks-root",
        str(suite),
        "--out",
        str(tmp_path / "b"),
        "--no-site",
    )
    dims = pd.read_csv(tmp_path / "b" / "dimensions.csv")
    seen = dims[(dims.split == "seen") & (dims.dimension == "overall")]
    unseen = dims[(dims.split == "unseen") & (dims.dimension == "overall")]
    assert seen.tasks.item() == 1 and unseen.tasks.item() == 2
    assert seen.score.item() != unseen.score.item()


def test_task_selection(suite: Path, tmp_path: Path) -> None:
    out = tmp_path / "s"
    base = ["run", "--model", "majority", "--tasks-root", str(suite), "--out", str(out), "--dry-run"]
    assert "ToneHeight" in bench(*base, "--tasks", "Tone*").output
    result = bench(*base, "--tasks", "dimension:audio")
    assert "ToneHeight" in result.output and "BeepCount" in result.output and "ColourWords" not in result.output
    other = make_task(tmp_path / "elsewhere", "OutsideTask")
    assert "OutsideTask" in bench(*base, "--tasks", str(other)).output
    result = bench(*base, "--tasks", "Nope*")
    assert result.exit_code == 2 and "matches no task" in result.output
    assert bench(*base, "--tasks", "dimension:vibes").exit_code == 2
    assert not out.exists()  # a dry run writes nothing


def test_limit_and_resume_redo_only_missing(suite: Path, tmp_path: Path) -> None:
    out = tmp_path / "s"
    args = ["run", "--model", "random", "--tasks-root", str(suite), "--out", str(out), "--tasks", "ToneHeight"]
    bench(*args, "--limit", "10")
    assert len(read_records(out / "random/runs/ToneHeight@1.0.0.jsonl")) == 10
    assert "22 to run, 10 done" in bench(*args, "--dry-run").output
    bench(*args)
    records = read_records(out / "random/runs/ToneHeight@1.0.0.jsonl")
    assert len(records) == 32 and len({r.id for r in records}) == 32


def test_changed_task_is_never_mixed_with_old_records(suite: Path, tmp_path: Path) -> None:
    out = tmp_path / "s"
    args = ["run", "--model", "majority", "--tasks-root", str(suite), "--out", str(out), "--tasks", "ToneHeight"]
    bench(*args)
    edit_card(suite / "ToneHeight", description="Changed without a version bump.")
    result = bench(*args)
    assert "changed since its records were written" in result.output
    runs = out / "majority" / "runs"
    assert len(read_records(runs / "ToneHeight@1.0.0.jsonl")) == 32
    assert len({r.task_hash for r in read_records(runs / "ToneHeight@1.0.0.jsonl")}) == 1
    assert len(read_records(runs / "ToneHeight@1.0.0.stale-1.jsonl")) == 32  # kept, not deleted


def test_cut_short_last_line_is_dropped_and_redone(suite: Path, tmp_path: Path) -> None:
    out = tmp_path / "s"
    args = ["run", "--model", "random", "--tasks-root", str(suite), "--out", str(out), "--tasks", "ToneHeight"]
    bench(*args, "--limit", "5")
    path = out / "random/runs/ToneHeight@1.0.0.jsonl"
    with path.open("a") as f:
        f.write('{"schema_version": 1, "task": "ToneHei')  # a crash mid-write
    bench(*args)
    records = read_records(path)
    assert len(records) == 32 and path.read_text().endswith("\n")


def test_conflicting_submission_and_bad_options(suite: Path, tmp_path: Path) -> None:
    out = tmp_path / "s"
    bench("run", "--model", "random", "--tasks-root", str(suite), "--out", str(out), "--tasks", "ToneHeight")
    result = bench(
        "run",
        "--model",
        "random",
        "--model-arg",
        "seed=2",
        "--tasks-root",
        str(suite),
        "--out",
        str(out),
        "--tasks",
        "ToneHeight",
    )
    assert result.exit_code == 2 and "--name" in result.output
    assert bench("run", "--model", "nope", "--tasks-root", str(suite)).exit_code == 2
    assert bench("run", "--model", "random", "--model-arg", "seed", "--tasks-root", str(suite)).exit_code == 2
    assert bench("run", "--model", "random", "--model-arg", "colour=1", "--tasks-root", str(suite)).exit_code == 2


def test_invalid_task_fails_before_any_model_loads(suite: Path, tmp_path: Path) -> None:
    (suite / "ToneHeight" / "README.md").unlink()
    result = bench("run", "--model", "majority", "--tasks-root", str(suite), "--out", str(tmp_path / "s"))
    assert result.exit_code == 2 and "T400" in result.output and not (tmp_path / "s").exists()


def test_majority_skips_tasks_without_train_split(tmp_path: Path) -> None:
    folder = make_task(tmp_path / "tasks", n_train=0)
    result = bench("run", "--model", "majority", "--tasks-root", str(folder.parent), "--out", str(tmp_path / "s"))
    assert result.exit_code == 0 and "no train split" in result.output
    assert (
        bench("run", "--model", "random", "--tasks-root", str(folder.parent), "--out", str(tmp_path / "s")).exit_code
        == 0
    )


def test_rescore_recomputes_from_raw_outputs(suite: Path, tmp_path: Path) -> None:
    out = tmp_path / "s"
    bench("run", "--model", "random", "--tasks-root", str(suite), "--out", str(out), "--tasks", "ToneHeight")
    path = out / "random/runs/ToneHeight@1.0.0.jsonl"
    original = read_records(path)
    tampered = [r.model_copy(update={"score": 1.0, "tier": "exact", "output": f"It is {r.output}."}) for r in original]
    path.write_text("".join(r.model_dump_json() + "\n" for r in tampered))
    result = bench("score", str(out / "random"), "--tasks-root", str(suite))
    assert result.exit_code == 0, result.output
    rescored = read_records(path)
    assert [r.score for r in rescored] == [r.score for r in original]
    assert {r.tier for r in rescored} == {"mention"}


SLOW_ADAPTER = textwrap.dedent("""
    import sys, time
    import benchmark.adapters.registry as adapters
    from benchmark.adapters.baselines import RandomAdapter

    class SlowRandom(RandomAdapter):
        def predict(self, card, batch):
            time.sleep(0.05)
            return super().predict(card, batch)

    sys.modules["slow_adapter"] = sys.modules[__name__]
    adapters.REGISTRY["slow"] = adapters.AdapterEntry("slow", "slow_adapter:SlowRandom", "slow random", "slow")
    from benchmark.cli import app
    app(sys.argv[1:], prog_name="bench")
""")


def test_killed_run_resumes_to_the_same_result(suite: Path, tmp_path: Path) -> None:
    script = tmp_path / "slow_bench.py"
    script.write_text(SLOW_ADAPTER)
    args = ["run", "--model", "slow", "--tasks-root", str(suite), "--batch-size", "2"]
    run_file = tmp_path / "killed" / "slow" / "runs" / "ToneHeight@1.0.0.jsonl"
    proc = subprocess.Popen(
        [sys.executable, str(script), *args, "--out", str(tmp_path / "killed")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if run_file.exists() and run_file.read_text().count("\n") >= 6:
            break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    written = len(read_records(run_file))
    assert 6 <= written < 32, "the run must be killed mid-way"
    subprocess.run(
        [sys.executable, str(script), *args, "--out", str(tmp_path / "killed")], check=True, capture_output=True
    )
    subprocess.run(
        [sys.executable, str(script), *args, "--out", str(tmp_path / "whole")], check=True, capture_output=True
    )
    killed, whole = _records(tmp_path / "killed" / "slow"), _records(tmp_path / "whole" / "slow")
    assert killed.keys() == whole.keys() and len(killed) == 3
    for key in killed:
        ids = [r.id for r in killed[key]]
        assert (
            len(ids)
            == len(set(ids))
            == len(read_examples(suite / key.split("@")[0]))
            - {"ToneHeight": 8, "BeepCount": 12, "ColourWords": 8}[key.split("@")[0]]
        )
        by_id = {r.id: (r.output, r.score) for r in whole[key]}
        assert {r.id: (r.output, r.score) for r in killed[key]} == by_id


def test_unresolved_answers_round_trip_through_records(tmp_path: Path) -> None:
    from benchmark.submission.records import Record, append_records

    path = tmp_path / "runs" / "T@1.0.0.jsonl"
    record = Record(
        task="T",
        task_version="1.0.0",
        task_hash="h",
        id="1",
        split="test",
        instruction="?",
        reference="male",
        output="I cannot tell",
        answer=None,
        tier="na",
        score=0.0,
    )
    append_records(path, [record])
    assert read_records(path) == [record]
