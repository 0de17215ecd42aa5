"""Frozen upstreams for SSL probes: each turns a 16 kHz waveform into a list of hidden states.

Every layer of one upstream has the same shape ``(frames, dim)`` so the probe's
featurizer can take a weighted sum. Built-in ``fbank`` and ``mfcc`` need no
weights and no torchaudio; Hugging Face speech encoders (wav2vec2, HuBERT, WavLM,
data2vec-audio, the Whisper encoder) come from a local folder or a hub id; s3prl
upstreams are used when s3prl imports.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import numpy as np
import torch

from benchmark.adapters.base import offline_hint

SR = 16_000


class UpstreamError(Exception):
    """The upstream cannot be built here; the message says what to do."""


class Upstream(Protocol):
    """A frozen feature extractor."""

    name: str

    def hidden_states(self, wav: np.ndarray) -> torch.Tensor:
        """``(layers, frames, dim)`` float32 hidden states of one clip."""


def _mel_filterbank(
    n_mels: int, n_fft: int, sr: int = SR, fmin: float = 20.0, fmax: float | None = None
) -> torch.Tensor:
    """Triangular HTK-mel filters, ``(n_mels, n_fft // 2 + 1)``."""
    fmax = fmax or sr / 2

    def mel(f: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10 ** (m / 2595.0) - 1.0)

    points = hz(np.linspace(mel(np.array(fmin)), mel(np.array(fmax)), n_mels + 2))
    bins = np.fft.rfftfreq(n_fft, 1 / sr)
    fb = np.zeros((n_mels, len(bins)))
    for i in range(n_mels):
        left, centre, right = points[i], points[i + 1], points[i + 2]
        fb[i] = np.maximum(0, np.minimum((bins - left) / (centre - left), (right - bins) / (right - centre)))
    return torch.tensor(fb, dtype=torch.float32)


def deltas(x: torch.Tensor, width: int = 2) -> torch.Tensor:
    """Regression deltas along time of a ``(frames, dim)`` tensor."""
    padded = torch.nn.functional.pad(x.T[None], (width, width), mode="replicate")[0].T
    num = torch.zeros_like(x)
    for k in range(1, width + 1):
        num += k * (padded[width + k : width + k + len(x)] - padded[width - k : width - k + len(x)])
    return num / (2 * sum(k * k for k in range(1, width + 1)))


class FilterbankUpstream:
    """Log-mel filterbank (25 ms windows, 10 ms hop) as three layers: static, delta, delta-delta."""

    def __init__(self, n_mels: int = 80, mfcc: int = 0) -> None:
        self.name = f"mfcc{mfcc}" if mfcc else f"fbank{n_mels}"
        self.n_fft, self.hop, self.win = 512, 160, 400
        self.filters = _mel_filterbank(n_mels, self.n_fft)
        self.window = torch.hann_window(self.win)
        self.mfcc = mfcc
        if mfcc:
            n = torch.arange(n_mels, dtype=torch.float32)
            k = torch.arange(mfcc, dtype=torch.float32)[:, None]
            self.dct = torch.cos(math.pi / n_mels * (n + 0.5) * k) * math.sqrt(2.0 / n_mels)

    def hidden_states(self, wav: np.ndarray) -> torch.Tensor:
        """``(3, frames, dim)``: static features, deltas and delta-deltas."""
        x = torch.as_tensor(wav, dtype=torch.float32)
        if len(x) < self.win:
            x = torch.nn.functional.pad(x, (0, self.win - len(x)))
        spec = torch.stft(x, self.n_fft, self.hop, self.win, self.window, center=True, return_complex=True)
        power = spec.abs() ** 2  # (freq, frames)
        static = torch.log(self.filters @ power + 1e-6).T  # (frames, mels)
        if self.mfcc:
            static = static @ self.dct.T
        d1 = deltas(static)
        return torch.stack([static, d1, deltas(d1)])


class HFUpstream:
    """A Hugging Face speech encoder; all hidden states (embedding output included)."""

    def __init__(self, source: str, device: torch.device, dtype: torch.dtype) -> None:
        from transformers import AutoConfig

        self.name = source
        self.device, self.dtype = device, dtype
        try:
            config = AutoConfig.from_pretrained(source, trust_remote_code=False)
        except OSError as exc:
            raise UpstreamError(offline_hint(source, exc, "probe:/models/hubert-base-ls960")) from exc
        self.is_whisper = config.model_type == "whisper"
        self.model, self.extractor = self._load(source, config)

    def _load(self, source: str, config: Any) -> tuple[Any, Any]:
        from transformers import AutoFeatureExtractor, AutoModel, WhisperModel

        try:
            if self.is_whisper:
                model = WhisperModel.from_pretrained(source, torch_dtype=self.dtype).encoder
            else:
                model = AutoModel.from_pretrained(source, torch_dtype=self.dtype, trust_remote_code=False)
        except OSError as exc:
            raise UpstreamError(offline_hint(source, exc, "probe:/models/hubert-base-ls960")) from exc
        try:
            extractor = AutoFeatureExtractor.from_pretrained(source)
        except OSError:
            extractor = None  # wav2vec2-style models: zero-mean unit-variance waveform
        return model.to(self.device).eval(), extractor  # type: ignore[arg-type]

    @torch.inference_mode()
    def hidden_states(self, wav: np.ndarray) -> torch.Tensor:
        """``(layers, frames, hidden)`` float32."""
        if self.is_whisper:
            feats = self.extractor(wav, sampling_rate=SR, return_tensors="pt").input_features
            out = self.model(feats.to(self.device, self.dtype), output_hidden_states=True)
            frames = max(1, math.ceil(len(wav) / 320))  # 30 s padded input: keep the clip's frames
            layers = [h[0, :frames] for h in out.hidden_states]
        else:
            if self.extractor is not None:
                values = self.extractor(wav, sampling_rate=SR, return_tensors="pt").input_values
            else:
                w = torch.as_tensor(wav, dtype=torch.float32)
                values = ((w - w.mean()) / (w.std() + 1e-7))[None]
            out = self.model(values.to(self.device, self.dtype), output_hidden_states=True)
            layers = [h[0] for h in out.hidden_states]
        return torch.stack(layers).float().cpu()


class S3prlUpstream:
    """An s3prl upstream by name (needs s3prl, which needs torchaudio)."""

    def __init__(self, name: str, device: torch.device) -> None:
        try:
            import s3prl.hub as hub
        except Exception as exc:  # s3prl fails at import in many ways when torchaudio is missing
            raise UpstreamError(
                f"s3prl cannot be imported ({type(exc).__name__}: {exc}). s3prl needs torchaudio, which has no "
                "CPU build on PyPI for this torch; install both on a machine where they import "
                "(pip install s3prl torchaudio), or use probe:fbank, probe:mfcc or a Hugging Face "
                "folder: probe:/path/to/model"
            ) from exc
        if not hasattr(hub, name):
            raise UpstreamError(f"s3prl has no upstream named {name!r}")
        self.name = f"s3prl:{name}"
        self.device = device
        self.model = getattr(hub, name)().to(device).eval()

    @torch.inference_mode()
    def hidden_states(self, wav: np.ndarray) -> torch.Tensor:
        """``(layers, frames, hidden)`` float32."""
        out = self.model([torch.as_tensor(wav, dtype=torch.float32, device=self.device)])
        return torch.stack([h[0] for h in out["hidden_states"]]).float().cpu()


def build_upstream(spec: str, device: torch.device, dtype: torch.dtype) -> Upstream:
    """``fbank``, ``mfcc``, ``s3prl:NAME``, or a Hugging Face folder / hub id."""
    if spec == "fbank":
        return FilterbankUpstream()
    if spec == "mfcc":
        return FilterbankUpstream(n_mels=40, mfcc=20)
    if spec.startswith("s3prl:"):
        return S3prlUpstream(spec.partition(":")[2], device)
    return HFUpstream(spec, device, dtype)
