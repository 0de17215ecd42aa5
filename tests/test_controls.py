"""Run variants: audio-reliance controls and instruction robustness, run end to end with real small adapters."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from helpers import make_task, read_examples, tone, write_audio, write_examples
from listeners import ENTRIES, Echo, Pitch
from typer.testing import CliRunner

import benchmark.adapters.registry as registry
from benchmark.cli import app
from benchmark.controls import derangement, make_variant
from benchmark.runner import RunError, evaluate, rescore
from benchmark.submission.card import read_model_card
from benchmark.submission.records import read_records

runner = CliRunner()


@pytest.fixture(autouse=True)
def _test_adapters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "REGISTRY", {**registry.REGISTRY, **ENTRIES})


def _run(tasks: Path, out: Path, model: object, **kw: object) -> Path:
    evaluate(model, "ToneHeight", out, tasks_root=tasks, name="m", **kw)  # type: ignore[arg-type]
    suffix = f"+control-{kw['control']}" if kw.get("control") else "+instructions" if kw.get("instructions") else ""
    return out / f"m{suffix}"


def _outputs(sub: Path) -> dict[tuple[str, int | None], str]:
    return {(r.id, r.instruction_index): r.output for r in read_records(sub / "runs" / "ToneHeight@1.0.0.jsonl")}


@pytest.mark.parametrize("n", [2, 3, 7, 32, 101])
@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_derangement_moves_every_item_and_is_seeded(n: int, seed: int) -> None:
    perm = derangement(n, seed)
    assert sorted(perm) == list(range(n)) and all(perm[i] != i for i in range(n))
    assert derangement(n, seed) == perm


def test_silence_control_is_its_own_linked_submission(tmp_path: Path) -> None:
    tasks, out = tmp_path / "tasks", tmp_path / "subs"
    make_task(tasks)
    main = _run(tasks, out, Pitch())
    control = _run(tasks, out, Pitch(), control="silence")
    assert {"high", "low"} <= set(_outputs(main).values())
    assert "low" in set(_outputs(control).values()) and "high" not in set(_outputs(control).values())  # silence
    card = read_model_card(control)
    assert (card.base, card.variant) == ("m", "control-silence")
    assert read_model_card(main).base is None


def test_shuffled_control_gives_each_example_another_examples_clip(tmp_path: Path) -> None:
    tasks, out = tmp_path / "tasks", tmp_path / "subs"
    make_task(tasks)
    main, control = _outputs(_run(tasks, out, Echo())), _outputs(_run(tasks, out, Echo(), control="shuffled"))
    assert main.keys() == control.keys()
    assert sorted(main.values()) == sorted(control.values())  # the same clips, dealt out again
    assert all(main[k] != control[k] for k in main)  # none kept its own


def test_shuffled_control_replaces_every_clip_of_a_pair(tmp_path: Path) -> None:
    tasks, out = tmp_path / "tasks", tmp_path / "subs"
    folder = make_task(tasks, card_overrides={"audio_inputs": 2})
    rows = read_examples(folder)
    for i, r in enumerate(rows):
        write_audio(folder / f"audio/b{i:04d}.flac", tone(3000 + 10 * i))
        r["audio"] = [r["audio"], f"audio/b{i:04d}.flac"]
    write_examples(folder, rows)
    main, control = _outputs(_run(tasks, out, Echo())), _outputs(_run(tasks, out, Echo(), control="shuffled"))
    partner = {v: k for k, v in main.items()}
    for key, heard in control.items():
        assert partner[heard] != key  # both clips come from one other example, in order


def test_instruction_variants_resume_per_example_and_variant(tmp_path: Path) -> None:
    tasks, out = tmp_path / "tasks", tmp_path / "subs"
    make_task(tasks)
    sub = _run(tasks, out, Pitch(), instructions=2, limit=3)
    first = _outputs(sub)
    assert len(first) == 6 and len({i for _, i in first}) == 2
    _run(tasks, out, Pitch(), instructions="all", limit=3)
    records = read_records(sub / "runs" / "ToneHeight@1.0.0.jsonl")
    assert len(records) == 15 and len({(r.id, r.instruction_index) for r in records}) == 15
    assert Counter(r.instruction_index for r in records) == {i: 3 for i in range(5)}
    _run(tasks, out, Pitch(), instructions="all", limit=3)
    assert len(read_records(sub / "runs" / "ToneHeight@1.0.0.jsonl")) == 15  # nothing left to do
    classify = [r for r in records if r.instruction.startswith("Classify")]
    assert {r.output for r in classify} == {"I cannot tell."} and {r.score for r in classify} == {0.0}
    assert read_model_card(sub).variant == "instructions"


def test_rescore_keeps_each_records_instruction(tmp_path: Path) -> None:
    tasks, out = tmp_path / "tasks", tmp_path / "subs"
    make_task(tasks)
    sub = _run(tasks, out, Pitch(), instructions="all", limit=4)
    before = read_records(sub / "runs" / "ToneHeight@1.0.0.jsonl")
    [summary] = rescore(sub, tasks)
    assert (summary.n, summary.expected) == (20, 160)  # 4 of 32 examples done, under 5 instructions each
    after = read_records(sub / "runs" / "ToneHeight@1.0.0.jsonl")
    assert [(r.id, r.instruction_index, r.instruction, r.score) for r in after] == [
        (r.id, r.instruction_index, r.instruction, r.score) for r in before
    ]
    assert runner.invoke(app, ["score", str(sub), "--tasks-root", str(tasks), "--no-semantic"]).exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "majority", "--control", "silence"], "reads no audio"),
        (["--model", "pitch", "--control", "loud"], "use silence or shuffled"),
        (["--model", "pitch", "--instructions", "0"], "use all, or a number"),
        (["--model", "pitch", "--instructions", "some"], "use all, or a number"),
        (["--model", "pitch", "--control", "silence", "--instructions", "all"], "pass one of them"),
        (["--model", "pitch", "--instructions", "all", "--tasks", "OwnPrompts"], "own instruction"),
    ],
)
def test_bad_variant_requests_fail_before_anything_is_written(tmp_path: Path, args: list[str], message: str) -> None:
    tasks, out = tmp_path / "tasks", tmp_path / "subs"
    make_task(tasks)
    own = make_task(tasks, "OwnPrompts")
    write_examples(own, [{**r, "instruction": f"Is tone {r['id']} high or low?"} for r in read_examples(own)])
    result = runner.invoke(app, ["run", *args, "--tasks-root", str(tasks), "--out", str(out), "--no-semantic"])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_make_variant_names_and_links() -> None:
    assert make_variant(None, None).submission("m") == "m"
    assert make_variant("shuffled", None).card_fields("m") == {"base": "m", "variant": "control-shuffled"}
    assert make_variant(None, "3").instructions == 3
    with pytest.raises(RunError):
        evaluate(Pitch(), [], "x", control="loud")


def test_variant_records_round_trip_through_the_cli(tmp_path: Path) -> None:
    tasks, out = tmp_path / "tasks", tmp_path / "subs"
    make_task(tasks)
    args = ["run", "--model", "pitch", "--tasks-root", str(tasks), "--out", str(out), "--no-semantic"]
    assert runner.invoke(app, [*args, "--limit", "4"]).exit_code == 0
    result = runner.invoke(app, [*args, "--limit", "4", "--control", "shuffled"])
    assert result.exit_code == 0, result.output
    card = json.loads((out / "pitch+control-shuffled" / "model.json").read_text())
    assert card["base"] == "pitch" and card["adapter"] == "pitch"


def test_summary_counts_units_of_the_variant(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks"
    make_task(tasks)
    [summary] = evaluate(Pitch(), "ToneHeight", tmp_path / "subs", tasks_root=tasks, instructions=2)
    assert (summary.n, summary.expected) == (64, 64)  # 32 test examples x 2 instructions
    [plain] = evaluate(Pitch(), "ToneHeight", tmp_path / "subs", tasks_root=tasks, control="silence")
    assert (plain.n, plain.expected) == (32, 32)
