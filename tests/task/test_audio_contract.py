"""The contract of tasks whose answer is audio: the output block, what each metric needs, reference files."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import edit_card, make_audio_task, make_task, read_examples, tone, write_audio, write_examples

from benchmark.task import load_task
from benchmark.task.checks import validate_task


def _codes(folder, deep: bool = False) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in validate_task(folder, deep=deep).findings:
        out.setdefault(f.code, []).append(f)
    return out


def test_a_valid_audio_task_loads_with_its_references_in_the_content_hash(tmp_path) -> None:
    folder = make_audio_task(tmp_path)
    assert not [f for f in validate_task(folder, deep=True).findings if f.level == "error"]
    task = load_task(folder)
    before = task.content_hash
    write_audio(folder / "audio/0005-clean.flac", tone(999.0, seconds=0.5))
    assert load_task(folder).content_hash != before  # a reference is part of what the scores depend on
    assert task.card.reported_metrics == ["SI-SDR", "SI-SDRi", "duration-ratio"]


def test_output_block_rules(tmp_path) -> None:
    folder = make_audio_task(tmp_path)
    edit_card(folder, output={"sources": 9, "max_seconds": 90, "language": "english", "metrics": ["wer"]})
    found = _codes(folder)
    assert {f.field for f in found["T152"]} == {"output.sources", "output.max_seconds"}
    assert found["T143"][0].field == "output.language"
    assert found["T116"][0].field == "output.metrics[0]" and "not an audio metric" in found["T116"][0].message
    data = json.loads((folder / "task.json").read_text())
    data.pop("output")
    (folder / "task.json").write_text(json.dumps(data))
    assert _codes(folder)["T150"][0].field == "output"


def test_a_text_task_may_not_have_an_output_block_or_audio_references(tmp_path) -> None:
    folder = make_task(tmp_path)
    edit_card(folder, output={"sources": 1})
    rows = read_examples(folder)
    rows[2]["speaker_prompt"] = rows[2]["audio"]
    write_examples(folder, rows)
    found = _codes(folder)
    assert found["T151"][0].field == "output"
    assert (found["T154"][0].field, found["T154"][0].line) == ("speaker_prompt", 3)


def test_every_example_must_carry_what_each_reported_metric_needs(tmp_path) -> None:
    folder = make_audio_task(tmp_path, metrics=("SIM[GE2E]", "WER[whisper-tiny.en]"))
    rows = read_examples(folder)
    rows[4]["reference_audio"] = [rows[4]["reference_audio"][0], rows[5]["reference_audio"][0]]  # 2 for 1 source
    write_examples(folder, rows)
    found = _codes(folder)["T153"]
    messages = {(f.line, f.field): f.message for f in found}
    assert "SIM[GE2E] needs a speaker_prompt clip" in messages[(1, "speaker_prompt")]
    assert "WER[whisper-tiny.en] needs the words the answer should say" in messages[(1, "label")]
    assert "SI-SDR" in messages[(5, "reference_audio")] and "1 reference_audio clip" in messages[(5, "reference_audio")]
    assert len(found) == 2 * 36 + 1


def test_reference_files_are_checked_like_inputs_but_may_be_shared_across_splits(tmp_path) -> None:
    folder = make_audio_task(tmp_path, metrics=("SIM[GE2E]",))
    rows = read_examples(folder)
    for row in rows:
        row["speaker_prompt"] = "audio/0000-clean.flac"  # one prompt for train and test: leaks nothing heard
    rows[6]["reference_audio"] = ["../outside.flac"]
    rows[7]["distractors"] = ["audio/nope.flac"]
    write_examples(folder, rows)
    write_audio(folder / "audio/stray.wav", np.zeros(1600, dtype=np.float32))
    found = _codes(folder)
    assert "T315" not in found
    fields = {(f.code, f.field, f.line) for fs in found.values() for f in fs}
    assert any(field == "reference_audio[0]" and line == 7 for _, field, line in fields)
    assert any(field == "distractors[0]" and line == 8 for _, field, line in fields)
    assert "T316" in found  # the stray file is still unreferenced


@pytest.mark.parametrize("inputs", [0, -1])
def test_only_an_audio_task_may_take_no_audio_input(tmp_path, inputs: int) -> None:
    folder = make_task(tmp_path)
    edit_card(folder, audio_inputs=inputs)
    assert "T142" in _codes(folder)
    audio = make_audio_task(tmp_path / "a")
    edit_card(audio, audio_inputs=inputs)
    assert ("T142" in _codes(audio)) == (inputs < 0)


def test_an_answer_of_several_sources_needs_metrics_that_score_several_clips(tmp_path) -> None:
    folder = make_audio_task(tmp_path, metrics=("SI-SDRi", "WER[whisper-tiny.en]"))
    edit_card(folder, output={"sources": 2, "metrics": ["SI-SDRi", "WER[whisper-tiny.en]"]})
    found = [f for f in validate_task(folder).findings if f.code == "T152"]
    assert [f.field for f in found] == ["output.metrics[1]"] and "scores one clip per answer" in found[0].message


def test_english_scorers_refuse_another_language_and_a_train_input_is_no_test_target(tmp_path) -> None:
    folder = make_audio_task(tmp_path, metrics=("WER[whisper-tiny.en]",))
    rows = read_examples(folder)
    for row in rows:
        row["label"] = "words"
    rows[10]["reference_audio"] = [rows[0]["audio"]]  # a train example's input as a test example's target
    write_examples(folder, rows)
    edit_card(folder, output={"sources": 1, "language": "de", "metrics": ["WER[whisper-tiny.en]"]})
    found = _codes(folder)
    assert "reads English; output.language is de" in found["T116"][0].message
    assert any("0000.flac" in f.path for f in found["T315"])
