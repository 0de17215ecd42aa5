"""The speech-output metrics, each declared once and named after its scoring model.

A :class:`SpeechMetric` says its name (``WER[whisper-tiny.en]``, ``SIM[GE2E]``...),
its direction, best and worst values, what it needs besides the output (a reference
text, reference audio, a speaker prompt, the source mixture, reference sources,
distractor prompts) and its family. Metrics of one family share one model call per
output: the four DNSMOS scores come from one pass, SIM and retrieval from one set
of embeddings.

:func:`score` scores every example: an output that fails :func:`~benchmark.scoring.speech.output.check_output`
gets that status and each metric's worst value; an output the metric cannot score
(no speech PESQ can find, no voiced frame) gets ``unscorable`` and the worst value.
Empty output is never a good score.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import numpy as np

from benchmark.scoring.labels import resolve_label
from benchmark.scoring.metrics import edit_counts, error_rate
from benchmark.scoring.speech import dsp
from benchmark.scoring.speech.compat import version
from benchmark.scoring.speech.models import Models, ScorerUnavailable, default_models, normalise_english
from benchmark.scoring.speech.output import SAMPLE_RATE, check_output

Direction = Literal["higher", "lower", "target"]
Need = Literal["text", "audio", "speaker", "source", "sources", "distractors"]


@dataclass(frozen=True)
class References:
    """What an output is compared with; every audio is mono float at 16 kHz (see ``check_output``)."""

    text: str | None = None
    """The words the output should say (WER, CER)."""
    audio: np.ndarray | None = None
    """The reference recording: clean speech for PESQ and ESTOI, natural speech for F0 and duration."""
    speaker: np.ndarray | None = None
    """A prompt in the voice the output should have (SIM, retrieval)."""
    source: np.ndarray | None = None
    """The input the model transformed, e.g. the mixture a separator was given (SI-SDRi)."""
    sources: tuple[np.ndarray, ...] = ()
    """The reference sources, in any order (SI-SDR, SI-SDRi); one for enhancement."""
    distractors: tuple[np.ndarray, ...] = ()
    """Prompts of other speakers, against which the output must be closest to ``speaker`` (retrieval)."""

    def provides(self) -> frozenset[str]:
        """The fields that are given."""
        return frozenset(f.name for f in fields(self) if _given(getattr(self, f.name)))


def _given(value: Any) -> bool:
    if isinstance(value, tuple):
        return len(value) > 0
    if isinstance(value, np.ndarray):
        return value.ndim == 1 and value.size > 0  # audio references are mono 16 kHz, as check_output makes them
    return value is not None


@dataclass(frozen=True)
class SpeechScore:
    """One metric's score of one example; stored in the example's record."""

    value: float
    """The metric value, or the metric's worst value when ``status`` is not ``ok``."""
    status: str
    """``ok``, an output status (``missing``, ``silent``...) or ``unscorable``."""
    detail: Mapping[str, Any] = field(default_factory=dict)
    """What the value came from: the transcript and edit counts (WER/CER), the PIT assignment, the margin."""


Compute = Callable[[frozenset[str], list[np.ndarray], References, Models], dict[str, tuple[float, dict[str, Any]]]]


@dataclass(frozen=True)
class Family:
    """Metrics computed together: one model pass per output serves all of them."""

    compute: Compute
    """``(requested names, checked outputs, references, models) -> {name: (value, detail)}``; a name left
    out of the answer could not be scored."""
    identity: Callable[[Models], str]
    """The scorer identity: model, package versions, weights hash, settings."""
    several_outputs: bool = False
    """Whether an answer may hold several audio outputs (separated sources)."""


@dataclass(frozen=True)
class SpeechMetric:
    """One speech-output metric: everything the harness needs to know about it."""

    name: str
    """The name used in task files and tables, naming the scoring model in brackets."""
    direction: Direction
    """``higher`` or ``lower`` is better, or ``target``: closest to ``best`` is better."""
    best: float
    """The best achievable value (the target of a ``target`` metric)."""
    worst: float
    """The value of a missing, broken or unscorable output; no output can score worse."""
    needs: frozenset[Need]
    """The :class:`References` fields it reads."""
    family: str
    """Key into :data:`FAMILIES`."""
    summary: str
    """One line for the site and CONTRIBUTING."""
    bounded: bool = True
    """Whether ``worst`` bounds every value (values beyond it are clipped). WER and CER are not: insertions take
    them past 1, the value of saying nothing, as they do in the corpus rate."""
    languages: tuple[str, ...] = ()
    """The languages it can score (the ASR metrics: English, Whisper tiny.en); empty: any."""


FAMILIES: dict[str, Family] = {}
SPEECH_METRICS: dict[str, SpeechMetric] = {}


def register(metric: SpeechMetric) -> SpeechMetric:
    """Add a metric to :data:`SPEECH_METRICS` (its family must be registered)."""
    if metric.name in SPEECH_METRICS or metric.family not in FAMILIES:
        raise ValueError(f"speech metric {metric.name!r}: duplicate name or unknown family {metric.family!r}")
    SPEECH_METRICS[metric.name] = metric
    return metric


def identity(name: str, models: Models | None = None) -> str:
    """The scorer identity of a metric, for the run header and records (reads weights, loads no model)."""
    return FAMILIES[SPEECH_METRICS[name].family].identity(models or default_models())


def score(
    names: Sequence[str],
    outputs: Sequence[Any],
    rate: Any,
    refs: References,
    *,
    min_seconds: float = 0.1,
    max_seconds: float = 60.0,
    models: Models | None = None,
) -> dict[str, SpeechScore]:
    """Score one example's audio answer with each named metric.

    Args:
        names: Metric names from :data:`SPEECH_METRICS`.
        outputs: The raw audio outputs of the answer, as the model returned them: one for every
            task except separation, which gives one per source.
        rate: Their sample rate in Hz.
        refs: What the metrics compare with (see each metric's ``needs``).
        min_seconds: Shorter outputs are ``too_short``.
        max_seconds: Longer outputs are ``too_long``.
        models: The scoring models (the process-wide ones by default).

    Returns:
        ``{name: SpeechScore}``, one per name, in order.

    Raises:
        ValueError: An unknown name, or ``refs`` missing what a metric needs (a task error, found
            before any model loads).
        ScorerUnavailable: A scoring package is not installed.
    """
    metrics = [_metric(n) for n in names]
    _check_needs(metrics, refs, len(outputs))
    checked = [check_output(o, rate, min_seconds=min_seconds, max_seconds=max_seconds) for o in outputs]
    broken = next((status for status, _ in checked if status != "ok"), "missing" if not checked else None)
    if broken is not None:
        return {m.name: SpeechScore(m.worst, broken, _worst_detail(m, refs)) for m in metrics}
    audio = [a for _, a in checked if a is not None]
    models = models or default_models()
    results: dict[str, tuple[float, dict[str, Any]]] = {}
    for family in dict.fromkeys(m.family for m in metrics):
        wanted = frozenset(m.name for m in metrics if m.family == family)
        results.update(FAMILIES[family].compute(wanted, audio, refs, models))
    return {m.name: _final(m, results.get(m.name)) for m in metrics}


def scores_language(name: str, language: str) -> bool:
    """Whether a metric can score speech in ``language`` (a BCP-47 tag)."""
    own = _metric(name).languages
    return not own or language.split("-")[0].lower() in own


def scores_sources(name: str) -> bool:
    """Whether a metric scores an answer of several clips (separated sources)."""
    return FAMILIES[_metric(name).family].several_outputs


def worst_scores(names: Sequence[str], status: str, refs: References) -> dict[str, SpeechScore]:
    """Each metric's worst value for an answer that is not audio a metric could read (``status``)."""
    return {n: SpeechScore(_metric(n).worst, status, _worst_detail(_metric(n), refs)) for n in names}


def aggregate(name: str, scores: Sequence[SpeechScore]) -> float:
    """The corpus value: WER and CER pool all edit errors over all reference units, the rest are means."""
    if name in POOLED:
        return error_rate([(int(s.detail.get("errors", 0)), int(s.detail.get("ref_units", 0))) for s in scores])
    return float(np.mean([s.value for s in scores])) if scores else math.nan


def _metric(name: str) -> SpeechMetric:
    if name not in SPEECH_METRICS:
        raise ValueError(f"unknown speech metric {name!r}; known: {', '.join(SPEECH_METRICS)}")
    return SPEECH_METRICS[name]


def _check_needs(metrics: Sequence[SpeechMetric], refs: References, n_outputs: int) -> None:
    given = refs.provides()
    for m in metrics:
        missing = sorted(m.needs - given)
        if missing:
            raise ValueError(f"{m.name} needs references.{', references.'.join(missing)}")
        if n_outputs > 1 and not FAMILIES[m.family].several_outputs:
            raise ValueError(f"{m.name} scores one audio output per example, got {n_outputs}")


def _worst_detail(metric: SpeechMetric, refs: References) -> dict[str, Any]:
    """What a broken output's record keeps besides the worst value.

    For WER and CER: an empty transcript's edit counts, so the corpus rate counts every
    reference word of an unanswered example as an error.
    """
    if metric.name not in POOLED:
        return {}
    unit: Literal["word", "char"] = "word" if metric.name == WER else "char"
    errors, n = edit_counts("", normalise_english(refs.text or ""), unit)
    return {"transcript": "", "errors": errors, "ref_units": n}


def _final(metric: SpeechMetric, result: tuple[float, dict[str, Any]] | None) -> SpeechScore:
    """The metric's score, or its worst value with ``unscorable`` when it gave none or a non-finite one.

    A value beyond the worst (PESQ's mapping dips just under 1.02, DNSMOS's polynomials under 1) is
    clipped to it: no answer scores below a missing one.
    """
    if result is None or not math.isfinite(result[0]):
        return SpeechScore(metric.worst, "unscorable", result[1] if result else {})
    value = float(result[0])
    if metric.bounded and metric.direction == "higher":
        value = max(value, metric.worst)
    elif metric.bounded and metric.direction == "lower":
        value = min(value, metric.worst)
    return SpeechScore(value, "ok", result[1])


# --- families ----------------------------------------------------------------------------------


def _asr(wanted: frozenset[str], audio: list[np.ndarray], refs: References, models: Models) -> dict[str, Any]:
    return _read(wanted, models.asr.transcribe(audio[0]), refs.text or "")


def text_channel_scores(names: Sequence[str], text: str, reference: str) -> dict[str, SpeechScore]:
    """The word-reading metrics among ``names`` applied to a model's text channel, normalised as a transcript is.

    So a model that answers with both speech and text shows both side by side (an empty text scores as saying
    nothing: every reference word missed).
    """
    wanted = frozenset(n for n in names if n in TEXT_READ)
    out = _read(wanted, text, reference) if text.strip() else {}
    refs = References(text=reference)
    return {n: _final(_metric(n), out[n]) if n in out else worst_scores([n], "missing", refs)[n] for n in wanted}


def _read(wanted: frozenset[str], transcript: str, reference: str) -> dict[str, Any]:
    hyp, ref = normalise_english(transcript), normalise_english(reference)
    out: dict[str, Any] = {}
    if ANSWER in wanted:
        # A closed-form spoken answer read as a grader reads a written one: both sides Whisper-normalised
        # ("seven" and "7" agree), then the resolver finds the answer in the reply ("It's seven.", not "not seven").
        resolved = resolve_label(hyp, [ref]).answer if ref.strip() else None
        out[ANSWER] = (float(resolved == ref), {"transcript": transcript, "answer": resolved})
    for name in (WER, CER):
        if name in wanted:
            unit: Literal["word", "char"] = "word" if name == WER else "char"
            errors, n = edit_counts(hyp, ref, unit)
            out[name] = (errors / n if n else math.nan, {"transcript": transcript, "errors": errors, "ref_units": n})
    return out


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def _ge2e(wanted: frozenset[str], audio: list[np.ndarray], refs: References, models: Models) -> dict[str, Any]:
    embed = models.ge2e.embed
    output, target = embed(audio[0]), embed(refs.speaker)  # type: ignore[arg-type]
    similarity = _cosine(output, target)
    out: dict[str, Any] = {}
    if SIM in wanted:
        out[SIM] = (similarity, {})
    if RETRIEVAL in wanted:
        closest_other = max(_cosine(output, embed(d)) for d in refs.distractors)
        out[RETRIEVAL] = (float(similarity > closest_other), {"margin": similarity - closest_other})
    return out


def _dnsmos(wanted: frozenset[str], audio: list[np.ndarray], refs: References, models: Models) -> dict[str, Any]:
    values = models.dnsmos(audio[0])
    return {name: (values[key], {}) for key, name in DNSMOS_NAMES.items() if name in wanted}


def _pesq(wanted: frozenset[str], audio: list[np.ndarray], refs: References, models: Models) -> dict[str, Any]:
    """Wide-band PESQ over the reference's length (the output cut or padded with silence)."""
    from pesq import PesqError, pesq

    reference = np.asarray(refs.audio, dtype=np.float64)
    try:
        value = float(pesq(SAMPLE_RATE, reference, dsp.fit_length(audio[0], len(reference)), "wb"))
    except PesqError as exc:  # no utterance found in the reference or the output: unscorable
        return {PESQ: (math.nan, {"error": str(exc)})}
    return {PESQ: (value, {})}


def _estoi(wanted: frozenset[str], audio: list[np.ndarray], refs: References, models: Models) -> dict[str, Any]:
    """Extended STOI over the reference's length (the output cut or padded with silence)."""
    from pystoi import stoi

    reference = np.asarray(refs.audio, dtype=np.float64)
    return {ESTOI: (float(stoi(reference, dsp.fit_length(audio[0], len(reference)), SAMPLE_RATE, extended=True)), {})}


def _separation(wanted: frozenset[str], audio: list[np.ndarray], refs: References, models: Models) -> dict[str, Any]:
    out: dict[str, Any] = {}
    value, assignment = dsp.pit_si_sdr(audio, refs.sources)
    if SI_SDR in wanted:
        out[SI_SDR] = (value, {"assignment": list(assignment)})
    if SI_SDRI in wanted:
        gain = dsp.improvement(value, refs.source, refs.sources)  # type: ignore[arg-type]
        out[SI_SDRI] = (gain, {"assignment": list(assignment)})
    return out


def _f0(wanted: frozenset[str], audio: list[np.ndarray], refs: References, models: Models) -> dict[str, Any]:
    diffs = dsp.f0_differences(audio[0], refs.audio, SAMPLE_RATE)  # type: ignore[arg-type]
    if diffs is None:
        return {}
    return {name: (value, {}) for name, value in zip((F0_MEAN, F0_STD), diffs, strict=True) if name in wanted}


def _duration(wanted: frozenset[str], audio: list[np.ndarray], refs: References, models: Models) -> dict[str, Any]:
    return {DURATION: (dsp.duration_ratio(audio[0], refs.audio), {})}  # type: ignore[arg-type]


def _package_identity(*dists: str, settings: str = "") -> Callable[[Models], str]:
    def ident(models: Models) -> str:
        return " ".join(f"{d} {version(d)}" for d in dists) + (f" {settings}" if settings else "")

    return ident


WER, CER = "WER[whisper-tiny.en]", "CER[whisper-tiny.en]"
ANSWER = "answer-acc[whisper-tiny.en]"
TEXT_READ = (WER, CER, ANSWER)
"""The metrics that read words: on a text channel they read the text itself instead of a transcript."""
POOLED = (WER, CER)
"""Corpus error rates: all edit errors over all reference units, never a mean of per-clip rates."""
SIM, RETRIEVAL = "SIM[GE2E]", "retrieval-acc[GE2E]"
DNSMOS_NAMES = {k: f"DNSMOS-{k}[speechmos]" for k in ("SIG", "BAK", "OVRL", "P808")}
PESQ, ESTOI = "PESQ-WB", "ESTOI"
SI_SDR, SI_SDRI = "SI-SDR", "SI-SDRi"
F0_MEAN, F0_STD = "F0-mean-diff[pyworld]", "F0-std-diff[pyworld]"
DURATION = "duration-ratio"

FAMILIES.update(
    asr=Family(_asr, lambda m: m.asr.identity()),
    ge2e=Family(_ge2e, lambda m: m.ge2e.identity()),
    dnsmos=Family(_dnsmos, lambda m: m.dnsmos.identity()),
    pesq=Family(_pesq, _package_identity("pesq", settings="wide-band (P.862.2) 16 kHz")),
    estoi=Family(_estoi, _package_identity("pystoi", settings="extended=True 16 kHz")),
    separation=Family(
        _separation,
        _package_identity("numpy", "scipy", settings="zero-mean SI-SDR, Hungarian PIT, floor -50 dB"),
        several_outputs=True,
    ),
    f0=Family(_f0, _package_identity("pyworld", settings="dio+stonemask 50-800 Hz 5 ms, log-F0 in cents")),
    duration=Family(_duration, _package_identity("numpy", settings="output/reference length")),
)

# fmt: off
_ASR = "of a Whisper tiny.en transcript, both sides Whisper-normalised"
# name, direction, best, worst, needs, family, summary
_TABLE: list[tuple[str, Direction, float, float, tuple[str, ...], str, str]] = [
    (WER, "lower", 0.0, 1.0, ("text",), "asr", f"word error rate {_ASR}"),
    (CER, "lower", 0.0, 1.0, ("text",), "asr", f"character error rate {_ASR}"),
    (ANSWER, "higher", 1.0, 0.0, ("text",), "asr",
     "1 when the Whisper tiny.en transcript gives the reference answer, read as a grader reads a written answer"),
    (SIM, "higher", 1.0, 0.0, ("speaker",), "ge2e",
     "cosine similarity of GE2E speaker embeddings of the output and the speaker prompt"),
    (RETRIEVAL, "higher", 1.0, 0.0, ("speaker", "distractors"), "ge2e",
     "1 when the output's GE2E embedding is closer to the prompt than to every distractor"),
    *((name, "higher", 5.0, 1.0, (), "dnsmos", f"DNSMOS {key} MOS (1-5), non-intrusive, from the speechmos ONNX models")
      for key, name in DNSMOS_NAMES.items()),
    (PESQ, "higher", 4.64, 1.0, ("audio",), "pesq",
     "wide-band PESQ (ITU-T P.862.2 MOS-LQO) against the clean reference"),
    (ESTOI, "higher", 1.0, 0.0, ("audio",), "estoi",
     "extended short-time objective intelligibility against the clean reference"),
    (SI_SDR, "higher", math.inf, dsp.SI_SDR_FLOOR, ("sources",), "separation",
     "scale-invariant SDR in dB, sources matched by permutation-invariant assignment"),
    (SI_SDRI, "higher", math.inf, dsp.SI_SDR_FLOOR, ("sources", "source"), "separation",
     "SI-SDR gain over the unprocessed mixture in dB (the mixture itself scores 0)"),
    (F0_MEAN, "lower", 0.0, dsp.CENTS_WORST, ("audio",), "f0",
     "difference of mean log-F0 from the reference, in cents (WORLD DIO)"),
    (F0_STD, "lower", 0.0, dsp.CENTS_WORST, ("audio",), "f0",
     "difference of log-F0 standard deviation (liveliness of intonation), in cents"),
    (DURATION, "target", 1.0, 0.0, ("audio",), "duration",
     "output duration over the reference's; 1 is the reference's pace"),
]
for _name, _direction, _best, _worst, _needs, _family, _summary in _TABLE:
    # WER and CER are unbounded: insertions take them past 1, the value of saying nothing, as in the corpus rate.
    register(SpeechMetric(_name, _direction, _best, _worst, frozenset(_needs), _family, _summary,  # type: ignore[arg-type]
                          bounded=_family != "asr" or _name == ANSWER, languages=("en",) if _family == "asr" else ()))

# fmt: on

__all__ = ["References", "ScorerUnavailable", "SpeechMetric", "SpeechScore", "SPEECH_METRICS", "aggregate", "score"]
