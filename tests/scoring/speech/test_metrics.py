"""Speech-output metrics: numpy signal metrics, the scoring models on espeak-ng speech, broken outputs."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from benchmark.scoring.speech import dsp
from benchmark.scoring.speech import metrics as M
from benchmark.scoring.speech.models import Models
from benchmark.scoring.speech.output import SAMPLE_RATE

RNG = np.random.default_rng(7)
SR = SAMPLE_RATE


def tone(freq: float, seconds: float = 1.0, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def noise(n: int, scale: float = 0.1, seed: int = 0) -> np.ndarray:
    return (scale * np.random.default_rng(seed).normal(size=n)).astype(np.float32)


def at_snr(clean: np.ndarray, snr_db: float, seed: int = 0) -> np.ndarray:
    n = noise(len(clean), seed=seed).astype(np.float64)
    n *= np.sqrt(np.mean(clean.astype(np.float64) ** 2) / np.mean(n**2) / 10 ** (snr_db / 10))
    return (clean + n).astype(np.float32)


# --- SI-SDR and PIT ------------------------------------------------------------------------------


def test_si_sdr_of_itself_is_huge_and_of_noise_very_negative() -> None:
    x = tone(220) + noise(SR, 0.05)
    assert dsp.si_sdr(x, x) > 100
    assert dsp.si_sdr(3.0 * x, x) > 100  # scale-invariant
    assert dsp.si_sdr(noise(SR, seed=5), x) < -25
    assert dsp.si_sdr(np.zeros(SR), x) == dsp.SI_SDR_FLOOR


@pytest.mark.parametrize("snr", [0.0, 10.0, 20.0])
def test_si_sdr_of_white_noise_at_an_snr_is_that_snr(snr: float) -> None:
    x = tone(220) + tone(330)
    assert dsp.si_sdr(at_snr(x, snr), x) == pytest.approx(snr, abs=0.3)


def test_si_sdr_fits_the_estimate_to_the_reference_length() -> None:
    x = tone(220, 2.0)
    assert dsp.si_sdr(np.concatenate([x, noise(SR)]), x) > 100  # trailing extra is cut
    # A quarter of the answer, padded with silence: the target is 1/4 of the reference, the rest (3/4) is missing.
    quarter = dsp.si_sdr(x[: SR // 2], x)
    assert quarter == pytest.approx(10 * math.log10(1 / 3), abs=0.01)


def test_pit_finds_the_swapped_order() -> None:
    a, b, c = tone(220) + noise(SR, 0.01, 1), noise(SR, 0.2, 2), tone(1330) * np.linspace(0, 1, SR, dtype=np.float32)
    value, assignment = dsp.pit_si_sdr([b, a], [a, b])
    assert assignment == (1, 0) and value > 100
    value3, assignment3 = dsp.pit_si_sdr([c, a, b], [a, b, c])
    assert assignment3 == (1, 2, 0) and value3 > 100
    value_fixed = np.mean([dsp.si_sdr(e, r) for e, r in zip([b, a], [a, b], strict=True)])
    assert value_fixed < 0  # without the assignment the same answer would score badly


def test_pit_with_fewer_estimates_than_sources_floors_the_missing_one() -> None:
    a, b = tone(220), noise(SR, 0.2, 3)
    value, assignment = dsp.pit_si_sdr([b], [a, b])
    assert assignment == (-1, 0)
    assert value == pytest.approx((dsp.SI_SDR_FLOOR + dsp.si_sdr(b, b)) / 2)


def test_si_sdri_of_the_mixture_is_zero_and_of_the_sources_positive() -> None:
    a, b = tone(220), noise(SR, 0.2, 4)
    mix = a + b
    assert dsp.pit_si_sdri([mix, mix], [a, b], mix)[0] == pytest.approx(0.0, abs=1e-9)
    assert dsp.pit_si_sdri([b, a], [a, b], mix)[0] > 50


def test_separation_through_score() -> None:
    a, b = tone(220), noise(SR, 0.2, 4)
    refs = M.References(sources=(a, b), source=a + b)
    out = M.score([M.SI_SDR, M.SI_SDRI], [b, a], SR, refs)
    assert out[M.SI_SDR].status == "ok" and out[M.SI_SDR].detail["assignment"] == [1, 0]
    assert out[M.SI_SDRI].value > 50
    broken = M.score([M.SI_SDR, M.SI_SDRI], [b, np.full(SR, np.nan)], SR, refs)
    assert {s.status for s in broken.values()} == {"non_finite"}
    assert broken[M.SI_SDR].value == dsp.SI_SDR_FLOOR


# --- F0 and duration -------------------------------------------------------------------------------


def test_f0_mean_difference_of_an_octave_is_1200_cents() -> None:
    mean_diff, std_diff = dsp.f0_differences(tone(200), tone(400), SR) or (math.nan, math.nan)
    assert mean_diff == pytest.approx(1200, abs=30)
    assert std_diff < 30
    same = dsp.f0_differences(tone(200), tone(200), SR)
    assert same is not None and same[0] < 5


def test_f0_metrics_and_duration_through_score() -> None:
    refs = M.References(audio=tone(150, 1.0))
    out = M.score([M.F0_MEAN, M.F0_STD, M.DURATION], [tone(300, 2.0)], SR, refs)
    assert out[M.F0_MEAN].value == pytest.approx(1200, abs=30)
    assert out[M.DURATION].value == pytest.approx(2.0, abs=1e-3)


def test_f0_of_unvoiced_output_is_unscorable_with_the_worst_value() -> None:
    out = M.score([M.F0_MEAN, M.F0_STD], [noise(SR, 0.3)], SR, M.References(audio=tone(150)))
    for s in out.values():
        assert (s.status, s.value) == ("unscorable", dsp.CENTS_WORST)


# --- declarations and checks before loading --------------------------------------------------------


class NoModels(Models):
    """Fails the test if any model is touched."""

    def __getattribute__(self, name: str) -> object:
        if name in ("asr", "ge2e", "dnsmos"):
            raise AssertionError(f"{name} was loaded for an output that cannot be scored")
        return super().__getattribute__(name)


def test_every_metric_is_declared_consistently() -> None:
    for name, m in M.SPEECH_METRICS.items():
        assert m.name == name and m.family in M.FAMILIES
        assert m.direction in ("higher", "lower", "target")
        if m.direction == "higher":
            assert m.worst < m.best
        elif m.direction == "lower":
            assert m.worst > m.best
        assert m.needs <= {"text", "audio", "speaker", "source", "sources", "distractors"}
        assert M.identity(name)  # reads versions and weight hashes, loads no model
    assert "WER[whisper-tiny.en]" in M.SPEECH_METRICS and "SIM[GE2E]" in M.SPEECH_METRICS


def test_missing_references_and_unknown_names_fail_before_any_model() -> None:
    with pytest.raises(ValueError, match="references.text"):
        M.score([M.WER], [tone(200)], SR, M.References(), models=NoModels())
    with pytest.raises(ValueError, match="references.distractors"):
        M.score([M.RETRIEVAL], [tone(200)], SR, M.References(speaker=tone(100)), models=NoModels())
    with pytest.raises(ValueError, match="unknown speech metric"):
        M.score(["MOS[nothing]"], [tone(200)], SR, M.References(), models=NoModels())
    with pytest.raises(ValueError, match="one audio output"):
        M.score([M.SIM], [tone(200), tone(300)], SR, M.References(speaker=tone(100)), models=NoModels())


ALL_REFS = M.References(
    text="hello world",
    audio=tone(200),
    speaker=tone(120),
    source=tone(200) + noise(SR),
    sources=(tone(200),),
    distractors=(tone(300),),
)
BROKEN = {
    "nan": (np.full(SR, np.nan, dtype=np.float32), SR, "non_finite"),
    "empty": (np.zeros(0, dtype=np.float32), SR, "empty"),
    "ten minutes": (np.zeros(600 * SR, dtype=np.float32), SR, "too_long"),
    "missing": (None, SR, "missing"),
    "silent": (np.zeros(SR, dtype=np.float32), SR, "silent"),
    "wrong rate": (tone(200), -1, "unreadable"),
    "not audio": ("a transcript instead of audio", SR, "unreadable"),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_broken_outputs_get_a_status_and_every_worst_value(case: str) -> None:
    samples, rate, status = BROKEN[case]
    out = M.score(list(M.SPEECH_METRICS), [samples], rate, ALL_REFS, models=NoModels())
    assert list(out) == list(M.SPEECH_METRICS)
    for name, s in out.items():
        assert (s.status, s.value) == (status, M.SPEECH_METRICS[name].worst)
    # The corpus WER counts every reference word of an unanswered example as an error.
    assert (out[M.WER].detail["errors"], out[M.WER].detail["ref_units"]) == (2, 2)


# Lengths of 9.6 s / 2**k: DNSMOS repeats a clip by doubling until it lasts 9.01 s, so these need one window.
ODD_BUT_VALID = {
    "0.15 s tone": tone(300, 0.15),
    "0.3 s loud noise, clipped": noise(int(0.3 * SR), 5.0),
    "full-scale square": np.sign(tone(100, 0.6)).astype(np.float32),
    "dc offset": np.full(int(0.6 * SR), 0.5, dtype=np.float32) + tone(100, 0.6, amp=0.01),
    "one click": np.eye(1, int(0.6 * SR), SR // 4, dtype=np.float32)[0],
}


@pytest.mark.parametrize("case", ODD_BUT_VALID, ids=list(ODD_BUT_VALID))
def test_odd_but_valid_outputs_get_every_metric_scored(case: str) -> None:
    out = M.score(list(M.SPEECH_METRICS), [ODD_BUT_VALID[case]], SR, ALL_REFS)
    for name, s in out.items():
        m = M.SPEECH_METRICS[name]
        assert s.status in ("ok", "unscorable") and math.isfinite(s.value), name
        if m.bounded and m.direction == "higher":
            assert s.value >= m.worst, name
        elif m.bounded and m.direction == "lower":
            assert s.value <= m.worst, name


def test_aggregate_pools_wer_counts() -> None:
    scores = [M.SpeechScore(1.0, "missing", {"errors": 2, "ref_units": 2}),
              M.SpeechScore(0.0, "ok", {"errors": 0, "ref_units": 8})]
    assert M.aggregate(M.WER, scores) == pytest.approx(0.2)
    assert M.aggregate(M.SIM, [M.SpeechScore(0.5, "ok"), M.SpeechScore(0.0, "missing")]) == 0.25


def test_importing_the_metrics_loads_no_scoring_library() -> None:
    code = (
        "import sys, benchmark, benchmark.scoring.speech.metrics, benchmark.scoring.speech.output\n"
        "heavy = ('torch', 'librosa', 'resemblyzer', 'speechmos', 'onnxruntime', 'pesq', 'pystoi', 'pyworld',"
        " 'faster_whisper', 'ctranslate2', 'whisper_normalizer', 'scipy')\n"
        "print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- the scoring models on espeak-ng speech --------------------------------------------------------

SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank."
OTHER = "She sells sea shells by the sea shore every single summer morning."


def espeak(text: str, tmp: Path, voice: str = "en-us", pitch: int = 50) -> np.ndarray:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not on PATH")
    path = tmp / f"{abs(hash((text, voice, pitch)))}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-p", str(pitch), "-w", str(path), text], check=True, timeout=60)
    audio, rate = sf.read(path, dtype="float32")
    return soxr.resample(audio, rate, SR).astype(np.float32)  # espeak-ng writes 22,050 Hz


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    tmp = tmp_path_factory.mktemp("espeak")
    return {
        "a1": espeak(SENTENCE, tmp),
        "a2": espeak(OTHER, tmp),
        "b1": espeak(SENTENCE, tmp, "en-gb-x-rp+f3", 80),
        "b2": espeak(OTHER, tmp, "en-gb-x-rp+f3", 80),
        "c2": espeak(OTHER, tmp, "en-us+m3", 20),
    }


@pytest.mark.espeak
def test_wer_of_espeak_speech_is_low_and_of_another_sentence_high(speech: dict[str, np.ndarray]) -> None:
    refs = M.References(text=SENTENCE)
    same = M.score([M.WER, M.CER], [speech["a1"]], SR, refs)
    other = M.score([M.WER], [speech["a2"]], SR, refs)
    assert same[M.WER].status == "ok" and same[M.WER].value < 0.3 and same[M.CER].value < 0.15
    assert "fox" in same[M.WER].detail["transcript"].lower()
    assert other[M.WER].value > 0.7
    assert same[M.WER].detail["ref_units"] == 13


def test_whisper_normaliser_reads_numbers_alike() -> None:
    pytest.importorskip("whisper_normalizer")
    from benchmark.scoring.speech.models import normalise_english as normalise

    assert normalise("One hundred dollars.") == normalise("$100") or normalise("one hundred") == normalise("100")
    assert normalise("one hundred") == normalise("100")
    assert normalise("Colour, Mr. Smith!") == normalise("color mister smith")


@pytest.mark.espeak
def test_ge2e_same_voice_is_closer_than_another_voice(speech: dict[str, np.ndarray]) -> None:
    same = M.score([M.SIM], [speech["a1"]], SR, M.References(speaker=speech["a2"]))[M.SIM].value
    other = M.score([M.SIM], [speech["a1"]], SR, M.References(speaker=speech["b2"]))[M.SIM].value
    assert 0 <= other < same <= 1
    refs = M.References(speaker=speech["b2"], distractors=(speech["a2"], speech["c2"]))
    assert M.score([M.RETRIEVAL], [speech["b1"]], SR, refs)[M.RETRIEVAL].value == 1.0
    refs = M.References(speaker=speech["c2"], distractors=(speech["a2"], speech["b2"]))
    assert M.score([M.RETRIEVAL], [speech["b1"]], SR, refs)[M.RETRIEVAL].value == 0.0


@pytest.mark.espeak
def test_dnsmos_pesq_estoi_rank_clean_above_noisy(speech: dict[str, np.ndarray]) -> None:
    clean = speech["a1"]
    noisy = np.clip(at_snr(clean, 0.0), -1, 1)
    names = [M.DNSMOS_NAMES["OVRL"], M.DNSMOS_NAMES["BAK"], M.DNSMOS_NAMES["P808"], M.PESQ, M.ESTOI]
    refs = M.References(audio=clean)
    good, bad = (M.score(names, [x], SR, refs) for x in (clean, noisy))
    for name in names:
        assert good[name].status == bad[name].status == "ok"
        assert good[name].value > bad[name].value, name
    assert good[M.PESQ].value > 4.5 and good[M.ESTOI].value > 0.99


@pytest.mark.espeak
def test_fuzzed_speech_outputs_are_scored(speech: dict[str, np.ndarray]) -> None:
    """48 kHz, stereo and int16 versions of the reference score as the reference does; nothing raises."""
    clean = speech["a1"]
    at48 = soxr.resample(clean, SR, 48_000)
    variants = {
        "48k": (at48, 48_000),
        "stereo 48k": (np.stack([at48, at48], axis=1), 48_000),
        "int16": ((clean * 32767).astype(np.int16), SR),
    }
    names = [M.WER, M.SIM, M.PESQ, M.ESTOI, M.SI_SDR, M.F0_MEAN, M.DURATION]  # DNSMOS: the slowest, tested above
    refs = M.References(text=SENTENCE, audio=clean, speaker=speech["a2"], sources=(clean,))
    for label, (samples, rate) in variants.items():
        out = M.score(names, [samples], rate, refs)
        assert {s.status for s in out.values()} == {"ok"}, label
        assert out[M.WER].value < 0.3 and out[M.ESTOI].value > 0.95 and out[M.SI_SDR].value > 20, label
        assert out[M.DURATION].value == pytest.approx(1.0, abs=0.01), label
