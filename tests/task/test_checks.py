"""One broken fixture per rule: each must yield its code, at the right file, field and line."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from helpers import DELETE, edit_card, make_task, read_examples, tone, write_audio, write_examples

from benchmark.findings import CODES
from benchmark.task import TaskLoadError, load_task
from benchmark.task.checks import validate_task


def _set_example(i: int, **changes: object) -> Callable[[Path], None]:
    def mutate(folder: Path) -> None:
        rows = read_examples(folder)
        for key, value in changes.items():
            if value is DELETE:
                rows[i].pop(key)
            else:
                rows[i][key] = value
        write_examples(folder, rows)

    return mutate


def _card(**changes: object) -> Callable[[Path], None]:
    return lambda folder: edit_card(folder, **changes)


def _write(rel: str, text: str) -> Callable[[Path], None]:
    return lambda folder: (folder / rel).write_text(text)


def _audio(rel: str, data: np.ndarray, sr: int = 16_000, fmt: str | None = None) -> Callable[[Path], None]:
    return lambda folder: write_audio(folder / rel, data, sr, fmt)


def _replace_line(lineno: int, text: str) -> Callable[[Path], None]:
    def mutate(folder: Path) -> None:
        lines = (folder / "examples.jsonl").read_text().splitlines()
        lines[lineno - 1] = text
        (folder / "examples.jsonl").write_text("\n".join(lines) + "\n")

    return mutate


def _symlink_out(folder: Path) -> None:
    outside = folder.parent / "outside.flac"
    write_audio(outside, tone(300))
    os.remove(folder / "audio/0003.flac")
    os.symlink(outside, folder / "audio/0003.flac")


def _dup_audio(folder: Path) -> None:
    shutil.copy(folder / "audio/0001.flac", folder / "audio/0020.flac")  # 0001 is train, 0020 test


def _keep_tests(n: int) -> Callable[[Path], None]:
    def mutate(folder: Path) -> None:
        rows = read_examples(folder)
        keep = [r for r in rows if r["split"] == "train"] + [r for r in rows if r["split"] == "test"][:n]
        write_examples(folder, keep)

    return mutate


def _all_train(folder: Path) -> None:
    write_examples(folder, [r for r in read_examples(folder) if r["split"] == "test"])


def _truncate(rel: str) -> Callable[[Path], None]:
    def mutate(folder: Path) -> None:
        rng = np.random.default_rng(0)  # noise compresses badly, so the file has many FLAC frames
        write_audio(folder / rel, (0.1 * rng.standard_normal(48_000)).astype(np.float32))
        data = (folder / rel).read_bytes()
        (folder / rel).write_bytes(data[: len(data) // 2])

    return mutate


INSTR = ["a b", "c d", "e f", "g h", "i j"]

# (code, mutation, file the finding names, field, line)
CASES: list[tuple[str, Callable[[Path], None], str, str | None, int | None]] = [
    ("T100", lambda f: os.remove(f / "task.json"), "task.json", None, None),
    ("T101", _write("task.json", '{\n  "name": "ToneHeight",\n  "version": 1.0.0\n}'), "task.json", None, 3),
    ("T102", _write("task.json", '["not", "an", "object"]'), "task.json", None, 1),
    ("T103", _card(colour="blue"), "task.json", "colour", None),
    ("T104", _card(metric=DELETE), "task.json", "metric", None),
    ("T105", _card(audio_inputs="1"), "task.json", "audio_inputs", None),
    ("T106", _card(description="   "), "task.json", "description", None),
    ("T110", _card(name="ToneHeights"), "task.json", "name", None),
    ("T111", _card(name="tone_height"), "task.json", "name", None),
    ("T112", _card(version="1.0"), "task.json", "version", None),
    ("T113", _card(dimension="timbre"), "task.json", "dimension", None),
    ("T114", _card(task_type="ranking"), "task.json", "task_type", None),
    ("T115", _card(metric="f1"), "task.json", "metric", None),
    ("T116", _card(metric="wer"), "task.json", "metric", None),
    ("T120", _card(labels=DELETE), "task.json", "labels", None),
    ("T121", _card(task_type="generation", metric="wer"), "task.json", "labels", None),
    ("T122", _card(labels=["high", "low", "High"]), "task.json", "labels", None),
    ("T123", _card(labels=["high"]), "task.json", "labels", None),
    ("T124", _card(labels=["high", "low", " "]), "task.json", "labels[2]", None),
    ("T130", _card(instructions=INSTR[:4]), "task.json", "instructions", None),
    ("T131", _card(instructions=[*INSTR, "A  B"]), "task.json", "instructions[5]", None),
    ("T132", _card(instructions=[*INSTR, ""]), "task.json", "instructions[5]", None),
    ("T133", _card(instructions=[*INSTR, "x" * 1001]), "task.json", "instructions[5]", None),
    ("T134", _card(instructions=[*INSTR, "TODO: write me"]), "task.json", "instructions[5]", None),
    ("T140", _card(license="CC-BY-4"), "task.json", "license", None),
    ("T141", _card(license="CC-BY-ND-4.0"), "task.json", "license", None),
    ("T144", _card(license="LicenseRef-Phase2-local-use-only"), "task.json", "license", None),
    ("T142", _card(audio_inputs=0), "task.json", "audio_inputs", None),
    ("T143", _card(languages=["english"]), "task.json", "languages[0]", None),
    ("T200", lambda f: os.remove(f / "examples.jsonl"), "examples.jsonl", None, None),
    ("T201", _replace_line(5, '{"id": "0004", "split": "train",'), "examples.jsonl", None, 5),
    ("T202", _replace_line(6, '"0005"'), "examples.jsonl", None, 6),
    ("T203", _set_example(2, speaker="x"), "examples.jsonl", "speaker", 3),
    ("T204", _set_example(3, id="0002"), "examples.jsonl", "id", 4),
    ("T205", _set_example(4, split="dev"), "examples.jsonl", "split", 5),
    ("T206", _keep_tests(31), "examples.jsonl", "split", None),
    ("T207", _set_example(1, audio=["audio/0001.flac", "audio/0002.flac"]), "examples.jsonl", "audio", 2),
    ("T208", _set_example(6, label="medium"), "examples.jsonl", "label", 7),
    ("T209", _set_example(7, label=3), "examples.jsonl", "label", 8),
    ("T210", _write("examples.jsonl", "\n"), "examples.jsonl", None, None),
    ("T211", _all_train, "examples.jsonl", "split", None),
    ("T212", _set_example(8, instruction=" "), "examples.jsonl", "instruction", 9),
    ("T300", _set_example(9, audio="/etc/passwd"), "examples.jsonl", "audio", 10),
    ("T301", _set_example(9, audio="audio/../../x.flac"), "examples.jsonl", "audio", 10),
    ("T302", _symlink_out, "examples.jsonl", "audio", 4),
    ("T303", lambda f: os.remove(f / "audio/0010.flac"), "examples.jsonl", "audio", 11),
    ("T304", _audio("audio/0011.flac", tone(440, 0.5), fmt="OGG"), "audio/0011.flac", None, None),
    ("T310", _write("audio/0012.flac", "this is not audio"), "audio/0012.flac", None, None),
    ("T311", _audio("audio/0013.flac", tone(440, sr=8000), sr=8000), "audio/0013.flac", None, None),
    ("T312", _audio("audio/0014.flac", tone(440, channels=2)), "audio/0014.flac", None, None),
    ("T313", _audio("audio/0015.flac", tone(440, seconds=0.05)), "audio/0015.flac", None, None),
    ("T315", _dup_audio, "audio/0020.flac", None, None),
    ("T316", _audio("audio/stray.wav", tone(500)), "audio/stray.wav", None, None),
    ("T400", lambda f: os.remove(f / "README.md"), "README.md", None, None),
    ("T401", _write("README.md", "# ToneHeight\n\nJust a title.\n"), "README.md", None, None),
]
DEEP_CASES = [
    ("T317", _truncate("audio/0016.flac"), "audio/0016.flac", None, None),
    ("T318", _audio("audio/0017.flac", np.zeros(8000, dtype=np.float32)), "audio/0017.flac", None, None),
]


def test_valid_fixture_has_no_findings(tmp_path: Path) -> None:
    folder = make_task(tmp_path)
    # The one finding: Dynamic-SUPERB's review asks for 10 instructions, the fixture has 5 (a warning).
    assert [f.code for f in validate_task(folder, deep=True).findings] == ["T137"]
    task = load_task(folder)
    assert len(task.examples) == 40 and task.card.labels == ["high", "low"]


@pytest.mark.parametrize(
    ("code", "mutate", "file", "field", "line"), CASES + DEEP_CASES, ids=[c[0] for c in CASES + DEEP_CASES]
)
def test_each_rule_reports_its_code(tmp_path, code, mutate, file, field, line) -> None:
    folder = make_task(tmp_path)
    mutate(folder)
    findings = validate_task(folder, deep=(code, mutate, file, field, line) in DEEP_CASES).findings
    hits = [f for f in findings if f.code == code]
    assert hits, f"expected {code}, got {[f.render() for f in findings]}"
    hit = hits[0]
    assert hit.path == str(folder / file)
    assert hit.field == field
    if line is not None:
        assert hit.line == line
    assert hit.level == CODES[code][0] and hit.fix and hit.message


@pytest.mark.parametrize(("code", "mutate", "file", "field", "line"), CASES, ids=[c[0] for c in CASES])
def test_a_load_finds_every_error_a_full_check_finds(tmp_path, code, mutate, file, field, line) -> None:
    """Loading skips the checks that can only warn; the errors, and so whether a task loads, are the same."""
    folder = make_task(tmp_path)
    mutate(folder)
    full = validate_task(folder)
    assert [f.render() for f in validate_task(folder, errors_only=True).errors] == [f.render() for f in full.errors]


def test_every_code_has_a_fixture() -> None:
    covered = {c[0] for c in CASES + DEEP_CASES} | {"T314"}  # T314 is tested below with a small cap
    covered |= {"T107", "T135", "T136", "T137", "T213", "T214", "T402"}  # in tests/task/test_review.py
    covered |= {f"T17{i}" for i in range(6)}  # constraint sets: tests/test_following.py
    covered |= {f"T15{i}" for i in range(5)}  # audio answers: tests/task/test_audio_contract.py
    assert covered == {c for c in CODES if c.startswith("T")}


def test_file_over_size_cap(tmp_path, monkeypatch) -> None:
    import benchmark.task.audio_checks as v

    folder = make_task(tmp_path)
    monkeypatch.setattr(v, "MAX_FILE_BYTES", 100)
    codes = {f.code for f in validate_task(folder).findings}
    assert codes == {"T314"}


def test_json_syntax_error_has_line_and_column(tmp_path) -> None:
    folder = make_task(tmp_path)
    (folder / "task.json").write_text('{\n  "name": "ToneHeight",\n  "version": 1.0.0\n}')
    (hit,) = validate_task(folder).findings[:1]
    assert (hit.code, hit.line, hit.column) == ("T101", 3, 17)


def test_field_findings_point_at_the_key_line(tmp_path) -> None:
    folder = make_task(tmp_path)
    edit_card(folder, license="Proprietary-ish")
    text = (folder / "task.json").read_text().splitlines()
    hit = next(f for f in validate_task(folder).findings if f.code == "T140")
    assert '"license"' in text[hit.line - 1]


def test_many_faults_are_reported_in_one_run(tmp_path) -> None:
    folder = make_task(tmp_path)
    edit_card(folder, version="one", dimension="vibes", colour="red", instructions=["same", "same"])
    rows = read_examples(folder)
    rows[0]["label"] = "loud"
    rows[1]["audio"] = "../escape.flac"
    rows[2]["id"] = rows[3]["id"]
    write_examples(folder, rows)
    write_audio(folder / "audio/0030.flac", tone(440, sr=22050), sr=22050)
    os.remove(folder / "README.md")
    codes = {f.code for f in validate_task(folder).findings}
    assert {"T112", "T113", "T103", "T130", "T131", "T208", "T301", "T204", "T311", "T400"} <= codes


def test_in_folder_symlink_is_allowed(tmp_path) -> None:
    folder = make_task(tmp_path)
    (folder / "clips").mkdir()
    shutil.move(folder / "audio/0005.flac", folder / "clips/0005.flac")
    os.symlink(folder / "clips/0005.flac", folder / "audio/0005.flac")
    assert [f.code for f in validate_task(folder).errors] == []


def test_reencoded_duplicate_is_found_only_by_deep(tmp_path) -> None:
    folder = make_task(tmp_path)
    data, _ = __import__("soundfile").read(folder / "audio/0001.flac")
    os.remove(folder / "audio/0020.flac")
    write_audio(folder / "audio/0020.wav", data)
    _set_example(20, audio="audio/0020.wav")(folder)
    assert "T315" not in {f.code for f in validate_task(folder).findings}
    assert "T315" in {f.code for f in validate_task(folder, deep=True).findings}


@pytest.mark.parametrize("flip", [None, 0, -1])
def test_a_twin_is_byte_for_byte(tmp_path, flip: int | None) -> None:
    """Same size as a train file is not enough: one changed byte (here, or the last) and it is no twin."""
    folder = make_task(tmp_path)
    data = bytearray((folder / "audio/0001.flac").read_bytes())  # 0001 is train, 0020 test
    shutil.copy(folder / "audio/0001.flac", folder / "audio/0003.flac")  # two train files of the same size
    if flip is not None:
        data[flip] ^= 1
    (folder / "audio/0020.flac").write_bytes(bytes(data))
    hits = [f for f in validate_task(folder).findings if f.code == "T315"]
    assert len(hits) == (1 if flip is None else 0)


def test_same_path_in_both_splits(tmp_path) -> None:
    folder = make_task(tmp_path)
    _set_example(20, audio="audio/0001.flac")(folder)
    os.remove(folder / "audio/0020.flac")
    hits = [f for f in validate_task(folder).findings if f.code == "T315"]
    assert len(hits) == 1 and hits[0].path.endswith("audio/0001.flac")


def test_load_task_raises_with_all_findings(tmp_path) -> None:
    folder = make_task(tmp_path)
    edit_card(folder, metric="bleu", license="UNLICENSED")
    with pytest.raises(TaskLoadError) as info:
        load_task(folder)
    assert {f.code for f in info.value.findings} == {"T116", "T141"}
    assert "task.json" in str(info.value)


@pytest.mark.parametrize(
    ("label", "task_type", "metric", "ok"),
    [
        (3.5, "regression", "mae", True),
        ("3.5", "regression", "mae", False),
        (True, "regression", "mae", False),
        ("hello world", "generation", "wer", True),
        ("", "generation", "wer", False),
        (7, "generation", "cer", False),
    ],
)
def test_label_types(tmp_path, label, task_type, metric, ok) -> None:
    folder = make_task(tmp_path, card_overrides={"task_type": task_type, "metric": metric, "labels": None})
    rows = read_examples(folder)
    for r in rows:
        r["label"] = 1.0 if task_type == "regression" else "a reference"
    rows[0]["label"] = label
    write_examples(folder, rows)
    findings = validate_task(folder).findings
    label_codes = {f.code for f in findings if f.field == "label"}  # T209, or T203 for a boolean
    assert (not label_codes) == ok
    assert "T316" not in {f.code for f in findings}  # a bad line still references its audio


def test_multi_audio_examples(tmp_path) -> None:
    folder = make_task(tmp_path, card_overrides={"audio_inputs": 2})
    rows = read_examples(folder)
    for i, r in enumerate(rows):
        second = f"audio/b{i:04d}.flac"
        write_audio(folder / second, tone(300 + 3 * i))
        r["audio"] = [r["audio"], second]
    write_examples(folder, rows)
    assert [f.code for f in validate_task(folder).findings] == ["T137"]
    task = load_task(folder)
    clips = task.load_audio(task.examples[0])
    assert len(clips) == 2 and clips[0].dtype == np.float32


def test_instruction_choice_is_stable_and_spread(tmp_path) -> None:
    task = load_task(make_task(tmp_path))
    first = [task.instruction_for(e) for e in task.examples]
    again = [load_task(task.root).instruction_for(e) for e in task.examples]
    assert first == again and len(set(first)) >= 4


def test_content_hash_changes_with_audio(tmp_path) -> None:
    folder = make_task(tmp_path)
    before = load_task(folder).content_hash
    write_audio(folder / "audio/0003.flac", tone(1000))
    assert load_task(folder).content_hash != before


def test_examples_jsonl_line_numbers_count_blank_lines(tmp_path) -> None:
    folder = make_task(tmp_path)
    lines = (folder / "examples.jsonl").read_text().splitlines()
    lines.insert(1, "")
    lines[4] = json.dumps({**json.loads(lines[4]), "label": "nope"})
    (folder / "examples.jsonl").write_text("\n".join(lines) + "\n")
    hit = next(f for f in validate_task(folder).findings if f.code == "T208")
    assert hit.line == 5
