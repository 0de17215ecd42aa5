"""The shipped suite: composition, labels re-derived from the audio, and reproducible generation."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from benchmark.scoring.constraint_library import resolve_set
from benchmark.scoring.constraints import check
from benchmark.suite import SUITE, generate, write_task
from benchmark.task import load_task
from benchmark.validate import validate_paths

TASKS = Path(__file__).resolve().parents[2] / "tasks"
SR = 16_000
AUDIO_TASKS = [
    "TextToSpeech",
    "VoiceCloning",
    "VoiceConversion",
    "SpeechEnhancement",
    "SpeakerSeparation",
    "SpokenQuestionAnswering",
]
"""The tasks whose answer is audio, one per family."""


def test_suite_composition() -> None:
    assert {p.name for p in TASKS.iterdir() if p.is_dir()} == set(SUITE)  # every folder is generated
    cards = [load_task(TASKS / name).card for name in SUITE]
    assert len(cards) >= 24
    dims = Counter(c.dimension for c in cards)
    assert all(dims[d] >= 3 for d in ("content", "speaker", "semantics", "paralinguistics", "degradation", "audio"))
    assert dims["music"] >= 2
    types = Counter(c.task_type for c in cards)
    assert types["generation"] >= 3 and types["regression"] >= 3
    assert {"wer"} <= {c.metric for c in cards if c.task_type == "generation"}
    assert sum(c.audio_inputs > 1 for c in cards) >= 3
    assert sum(any(lang != "en" for lang in c.languages) for c in cards) >= 2
    assert "LanguageIdentification" in SUITE
    assert {c.name for c in cards if c.task_type == "audio"} == set(AUDIO_TASKS)
    for name in SUITE:
        task = load_task(TASKS / name)
        # An audio task keeps a few train examples: each example holds reference clips besides its inputs.
        assert len(task.split("train")) >= (4 if name in AUDIO_TASKS else 64) and len(task.split("test")) >= 32
        if task.card.task_type == "classification":
            assert all(all(label in instr for label in task.card.labels or []) for instr in task.card.instructions)


def test_committed_suite_validates_deep_and_fits_the_size_budget() -> None:
    reports = validate_paths([TASKS], deep=True, strict=True)  # strict: as pull-request CI checks them
    assert {r.root.name for r in reports} >= set(SUITE)
    # The one finding left: Dynamic-SUPERB's review asks for 10 instructions, the suite has 5 (a warning).
    assert [f.render() for r in reports for f in r.findings if f.code != "T137"] == []
    assert {f.level for r in reports for f in r.findings} == {"warning"}
    size = sum(p.stat().st_size for p in TASKS.rglob("*") if p.is_file())
    # 70 MiB: the 28 answer-in-text tasks hold 59.8 MiB, the six audio-answer tasks 9.1 MiB (each under 2 MiB).
    assert size < 70 * 1024 * 1024
    for name in AUDIO_TASKS:
        assert sum(p.stat().st_size for p in (TASKS / name).rglob("*") if p.is_file()) < 2 * 1024 * 1024, name


# ---------------------------------------------------------------- instruction following


NATIVE = ["SpokenFormatRequests", "SpokenLengthRequests"]
"""Tasks whose clips speak their own format request; every other classification task opts in to library sets."""


def _families(entries: list) -> set[str]:
    return {c.id for entry in entries for c in resolve_set(entry).constraints}


@pytest.mark.parametrize("name", sorted(n for n, t in SUITE.items() if t.task_type == "classification"))
def test_classification_tasks_follow_instructions(name: str) -> None:
    task = load_task(TASKS / name)
    if name in NATIVE:
        assert task.card.constraints is None  # a constraint run has nothing to vary on them
        assert all(e.constraints for e in task.examples)
        requests = {json.dumps(e.constraints, sort_keys=True) for e in task.split("test")}
        assert len(requests) >= 5 and len(task.split("test")) >= 32
        return
    assert len(_families(task.card.constraints or [])) >= 4
    for entry in task.card.constraints or []:
        for c in resolve_set(entry).constraints:
            if c.id in ("words", "keywords"):  # a bare label must be allowed: no set may forbid an answer
                assert all(check(label, c.id, c.args)[0] for label in task.card.labels or []), (name, c)


def test_some_tasks_ask_for_chinese_answers_and_translate_every_label() -> None:
    zh = [n for n in SUITE if "language" in _families(load_task(TASKS / n).card.constraints or [])]
    assert len(zh) >= 2
    for name in zh:
        card = load_task(TASKS / name).card
        assert set((card.translations or {})["zh"]) == set(card.labels or [])


# ---------------------------------------------------------------- labels from the audio


def _spectrum(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = 1 << int(np.ceil(np.log2(len(x) * 4)))
    mag = np.abs(np.fft.rfft(x * np.hanning(len(x)), n))
    return np.fft.rfftfreq(n, 1 / SR), mag


def _peak_freq(x: np.ndarray) -> float:
    freqs, mag = _spectrum(x)
    return float(freqs[np.argmax(mag)])


def _bursts(x: np.ndarray, rel: float = 0.1, min_gap: float = 0.03) -> list[tuple[int, int]]:
    frame = int(0.005 * SR)
    env = np.array([np.abs(x[i : i + frame]).max() for i in range(0, len(x) - frame, frame)])
    on = env > rel * env.max()
    runs, start, gap = [], None, 0
    for i, v in enumerate(on):
        if v:
            start = i if start is None else start
            gap = 0
        elif start is not None:
            gap += 1
            if gap * frame >= min_gap * SR:
                runs.append((start * frame, (i - gap + 1) * frame))
                start, gap = None, 0
    if start is not None:
        runs.append((start * frame, len(x)))
    return runs


def _duration(x: np.ndarray) -> float:
    ((start, end),) = _bursts(x)
    return (end - start) / SR


def _snr_db(x: np.ndarray, lead: float = 0.4) -> float:
    n = int(lead * SR)
    noise_power = np.mean(np.concatenate([x[:n], x[-n:]]) ** 2)
    mix_power = np.mean(x[n:-n] ** 2)
    return float(10 * np.log10((mix_power - noise_power) / noise_power))


def _flatness(x: np.ndarray) -> float:
    _, mag = _spectrum(x)
    p = mag[1:] ** 2 + 1e-20
    return float(np.exp(np.mean(np.log(p))) / np.mean(p))


def _colour(x: np.ndarray) -> str:
    freqs, mag = _spectrum(x)
    band = (freqs > 100) & (freqs < 6000)
    slope = np.polyfit(np.log10(freqs[band]), np.log10(mag[band] ** 2 + 1e-20), 1)[0]
    return min({"white": 0.0, "pink": -1.0, "brown": -2.0}.items(), key=lambda kv: abs(kv[1] - slope))[0]


def _harmonic(x: np.ndarray, f0: float, k: int) -> float:
    freqs, mag = _spectrum(x)
    return float(mag[np.argmin(np.abs(freqs - k * f0))])


def _waveform(x: np.ndarray) -> str:
    f0 = _peak_freq(x)
    h1, h2, h3 = (_harmonic(x, f0, k) for k in (1, 2, 3))
    if h3 / h1 < 0.05:
        return "sine"
    return "square" if h2 / h1 < 0.1 else "sawtooth"


def _chord_quality(x: np.ndarray) -> str:
    freqs, mag = _spectrum(x)
    peaks = [
        i for i in range(1, len(mag) - 1) if mag[i] > mag[i - 1] and mag[i] >= mag[i + 1] and mag[i] > 0.3 * mag.max()
    ]
    semis = sorted({round(12 * np.log2(freqs[i] / freqs[peaks[0]])) for i in peaks})
    return "major" if 4 in semis else "minor" if 3 in semis else "unknown"


def _clipped(x: np.ndarray) -> str:
    return "clipped" if np.mean(np.abs(x) >= 0.999 * np.abs(x).max()) > 0.005 else "clean"


DERIVE: dict[str, Callable[[list[np.ndarray]], object]] = {
    "BeepCount": lambda clips: float(len(_bursts(clips[0]))),
    "IntervalDirection": lambda clips: "first" if _peak_freq(clips[0]) > _peak_freq(clips[1]) else "second",
    "DurationComparison": lambda clips: "first" if _duration(clips[0]) > _duration(clips[1]) else "second",
    "ToneVsNoise": lambda clips: "tone" if _flatness(clips[0]) < 0.05 else "noise",
    "NoiseColour": lambda clips: _colour(clips[0]),
    "Timbre": lambda clips: _waveform(clips[0]),
    "ChordQuality": lambda clips: _chord_quality(clips[0]),
    "ClippingDetection": lambda clips: _clipped(clips[0]),
}


def _mismatches(folder: Path, derive: Callable[[list[np.ndarray]], object]) -> list[str]:
    task = load_task(folder)
    bad = []
    for example in task.examples:
        clips = [sf.read(p, dtype="float32")[0] for p in task.audio_files(example)]
        got = derive(clips)
        if got != example.label:
            bad.append(f"{example.id}: label {example.label!r}, audio says {got!r}")
    return bad


@pytest.mark.parametrize("name", sorted(DERIVE))
def test_labels_agree_with_the_audio(name: str) -> None:
    assert _mismatches(TASKS / name, DERIVE[name]) == []


def test_snr_labels_agree_with_the_signal_levels() -> None:
    task = load_task(TASKS / "NoiseSNR")
    errors = [abs(_snr_db(sf.read(task.audio_files(e)[0], dtype="float64")[0]) - float(e.label)) for e in task.examples]
    assert max(errors) < 1.0, f"worst SNR error {max(errors):.2f} dB"


def test_a_mislabelled_example_is_caught(tmp_path: Path) -> None:
    for name in ("BeepCount", "IntervalDirection"):
        copy = shutil.copytree(TASKS / name, tmp_path / name)
        rows = [json.loads(x) for x in (copy / "examples.jsonl").read_text().splitlines()]
        rows[5]["label"] = (
            rows[5]["label"] + 1.0 if name == "BeepCount" else ("second" if rows[5]["label"] == "first" else "first")
        )
        (copy / "examples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        bad = _mismatches(copy, DERIVE[name])
        assert len(bad) == 1 and bad[0].startswith(rows[5]["id"])


# ---------------------------------------------------------------- reproducibility


def _fingerprint(folder: Path) -> list[tuple[str, str, object, list[str]]]:
    task = load_task(folder)
    out = []
    for e in task.examples:
        paths = [folder / rel for _, rel, _ in e.audio_fields()]  # inputs, then an audio task's references
        hashes = [hashlib.sha256(sf.read(p, dtype="int16")[0].tobytes()).hexdigest() for p in paths]
        out.append((e.id, e.split, e.label, hashes))
    return out


@pytest.mark.espeak
@pytest.mark.parametrize(
    "name",
    [
        "SpeakerGender",
        "SameSpeaker",
        "NoiseSNR",
        "BeepCount",
        "ChordQuality",
        "SpokenFormatRequests",
        "TextToSpeech",
        "VoiceConversion",
        "SpeakerSeparation",
    ],
)
def test_regenerating_reproduces_the_committed_task(tmp_path: Path, name: str) -> None:
    if SUITE[name].languages and shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is needed to regenerate speech tasks: apt-get install espeak-ng")
    (folder,) = generate(tmp_path, [name])
    assert _fingerprint(folder) == _fingerprint(TASKS / name)
    for text in ("task.json", "examples.jsonl", "README.md"):  # examples.jsonl: an example's own constraints
        assert (folder / text).read_text() == (TASKS / name / text).read_text()


def test_the_task_version_is_the_one_written(tmp_path: Path) -> None:
    folder = write_task(replace(SUITE["BeepCount"], version="1.2.0"), tmp_path)
    assert load_task(folder).card.version == "1.2.0"
    assert [p.name for p in tmp_path.iterdir()] == ["BeepCount"]


# ---------------------------------------------------------------- audio answers


def _read(folder: Path, rel: str) -> np.ndarray:
    return sf.read(folder / rel, dtype="float64")[0]


@pytest.mark.parametrize("name", AUDIO_TASKS)
def test_audio_tasks_carry_what_their_metrics_read(name: str) -> None:
    task = load_task(TASKS / name)
    card = task.card
    assert card.task_type == "audio" and card.labels is None and card.output is not None
    assert card.output.language == "en" and 1 <= card.output.sources <= 2
    for e in task.examples:
        assert isinstance(e.label, str) and len(e.reference_paths) == card.output.sources
        assert len(e.audio_paths) == card.audio_inputs
        for rel in [*e.audio_paths, *e.reference_paths]:
            assert 0.3 < sf.info(TASKS / name / rel).duration < 3.0, rel  # short clips (a spoken answer: a word)
    texts = [e.text for e in task.examples]
    if name in ("TextToSpeech", "VoiceCloning"):  # what to say is given as text, and each text is said once
        assert all(t == e.label for t, e in zip(texts, task.examples, strict=True))
        assert len(set(texts)) == len(texts)
    else:
        assert texts == [None] * len(texts)


def test_voice_tasks_name_the_prompt_and_other_voices() -> None:
    cloning, conversion = load_task(TASKS / "VoiceCloning"), load_task(TASKS / "VoiceConversion")
    for e in cloning.examples:
        assert e.speaker_prompt == e.audio  # the model hears the prompt; the metric reads the same file
        assert e.distractors and len(set(e.distractors)) == 3
    for e in conversion.examples:
        assert isinstance(e.audio, list) and e.speaker_prompt == e.audio[1]
        split = "train_" if e.split == "train" else "test_"
        assert e.distractors and all(Path(d).name.startswith(split) for d in e.distractors)
        assert e.speaker_prompt not in e.distractors and len(set(e.distractors)) == 3
        # the source voice is a distractor: the reference says the source's words at the target's voice
        assert len(_read(TASKS / "VoiceConversion", e.audio[0])) == pytest.approx(
            len(_read(TASKS / "VoiceConversion", e.reference_paths[0])), rel=0.25
        )


def test_separation_references_sum_to_the_mixture_and_enhancement_references_align() -> None:
    folder = TASKS / "SpeakerSeparation"
    for e in load_task(folder).examples:
        mixture = _read(folder, e.audio_paths[0])
        s1, s2 = (_read(folder, r) for r in e.reference_paths)
        assert len(mixture) == len(s1) == len(s2)
        assert np.max(np.abs(mixture - s1 - s2)) < 3 / 32768  # up to the 16-bit rounding of three files
    folder = TASKS / "SpeechEnhancement"
    for e in load_task(folder).examples:
        noisy, clean = _read(folder, e.audio_paths[0]), _read(folder, e.reference_paths[0])
        assert len(noisy) == len(clean)
        assert np.corrcoef(noisy, clean)[0, 1] > 0.1  # the clean speech is in the input, at its timing


def test_spoken_questions_have_short_answers() -> None:
    task = load_task(TASKS / "SpokenQuestionAnswering")
    assert all(1 <= len(str(e.label).split()) <= 2 for e in task.examples)
    assert len({str(e.label) for e in task.split("test")}) >= 10
