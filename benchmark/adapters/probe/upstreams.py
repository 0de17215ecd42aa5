"""Frozen upstreams for SSL probes: each turns 16 kHz waveforms into hidden states, many clips per forward.

Every layer of one upstream has the same shape ``(frames, dim)`` so the probe's
featurizer can take a weighted sum. Built-in ``fbank`` and ``mfcc`` need no
weights and no torchaudio; Hugging Face speech encoders (wav2vec2, HuBERT, WavLM,
data2vec-audio, the Whisper encoder) come from a local folder or a hub id; s3prl
upstreams are used when s3prl imports.

``features(clips, pooled)`` is the batched entry point: clips are sorted by
length and padded into batches of ``batch_size`` with attention masks, the
Whisper encoder gets batches of 30-second windows, and mean pooling over each
clip's own frames happens on the device in the model's dtype. A clip's features
do not depend on what it was batched with (to float tolerance; tests check it).
Encoders whose convolutional front end uses group norm (wav2vec2-base, HuBERT
base) normalise over the whole padded input, so for them only clips of equal
length share a forward.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import torch

from benchmark.adapters.base import offline_hint

SR = 16_000
WHISPER_WINDOW = 30 * SR


class UpstreamError(Exception):
    """The upstream cannot be built here; the message says what to do."""


class Upstream(Protocol):
    """A frozen feature extractor."""

    name: str

    def hidden_states(self, wav: np.ndarray) -> torch.Tensor:
        """``(layers, frames, dim)`` float32 hidden states of one clip."""

    def features(self, wavs: Sequence[np.ndarray], pooled: bool) -> list[torch.Tensor]:
        """Per clip, float32 on the CPU: ``(layers, dim)`` mean-pooled, or ``(layers, frames, dim)``."""


def _by_length(wavs: Sequence[np.ndarray], size: int) -> list[list[int]]:
    """Indices of ``wavs`` sorted by length, in consecutive batches of ``size`` (least padding)."""
    order = sorted(range(len(wavs)), key=lambda i: len(wavs[i]))
    return [order[i : i + size] for i in range(0, len(order), size)]


def _masked_outputs(layers: Sequence[torch.Tensor], frames: Sequence[int], pooled: bool) -> list[torch.Tensor]:
    """Hidden states ``(batch, time, dim)`` per layer, on the device -> per clip, only its own frames.

    Pooled: the masked mean is taken on the device in the model dtype, layer by
    layer, so the full stack of hidden states is never copied.
    """
    if pooled:
        first = layers[0]
        mask = torch.zeros(first.shape[0], first.shape[1], 1, dtype=first.dtype, device=first.device)
        for b, n in enumerate(frames):
            mask[b, :n] = 1
        counts = torch.tensor(list(frames), dtype=first.dtype, device=first.device)[:, None]
        means = torch.stack([(h * mask).sum(dim=1) / counts for h in layers])  # (layers, batch, dim)
        return list(means.float().cpu().unbind(1))
    stacked = torch.stack(list(layers))
    return [stacked[:, b, :n].float().cpu() for b, n in enumerate(frames)]


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
        return self.features([wav], pooled=False)[0]

    def features(self, wavs: Sequence[np.ndarray], pooled: bool, batch_size: int = 64) -> list[torch.Tensor]:
        """Batched STFT: each clip is centre-padded on its own (reflect, as ``center=True`` does), then zero-padded."""
        out: list[torch.Tensor] = [torch.empty(0)] * len(wavs)
        half = self.n_fft // 2
        for batch in _by_length(wavs, batch_size):
            padded = []
            for i in batch:
                x = torch.as_tensor(wavs[i], dtype=torch.float32)
                if len(x) < self.win:
                    x = torch.nn.functional.pad(x, (0, self.win - len(x)))
                padded.append(torch.nn.functional.pad(x[None, None], (half, half), mode="reflect")[0, 0])
            frames = [1 + (len(x) - self.n_fft) // self.hop for x in padded]
            signal = torch.nn.utils.rnn.pad_sequence(padded, batch_first=True)
            spec = torch.stft(signal, self.n_fft, self.hop, self.win, self.window, center=False, return_complex=True)
            static = torch.log(self.filters @ (spec.abs() ** 2) + 1e-6).transpose(1, 2)  # (batch, frames, mels)
            if self.mfcc:
                static = static @ self.dct.T
            for b, i in enumerate(batch):
                one = static[b, : frames[b]]
                d1 = deltas(one)
                layers = torch.stack([one, d1, deltas(d1)])
                out[i] = layers.mean(dim=1) if pooled else layers
        return out


class HFUpstream:
    """A Hugging Face speech encoder; all hidden states (embedding output included)."""

    def __init__(self, source: str, device: torch.device, dtype: torch.dtype, batch_size: int = 16) -> None:
        from transformers import AutoConfig

        self.name = source
        self.device, self.dtype, self.batch_size = device, dtype, batch_size
        try:
            config = AutoConfig.from_pretrained(source, trust_remote_code=False)
        except OSError as exc:
            raise UpstreamError(offline_hint(source, exc, "probe:/models/hubert-base-ls960")) from exc
        self.is_whisper = config.model_type == "whisper"
        self.group_norm = getattr(config, "feat_extract_norm", "layer") == "group"
        self.model, self.extractor = self._load(source, config)

    def _load(self, source: str, config: Any) -> tuple[Any, Any]:
        from transformers import AutoFeatureExtractor, AutoModel, WhisperModel

        try:
            if self.is_whisper:
                model = WhisperModel.from_pretrained(source, dtype=self.dtype).encoder
            else:
                model = AutoModel.from_pretrained(source, dtype=self.dtype, trust_remote_code=False)
        except OSError as exc:
            raise UpstreamError(offline_hint(source, exc, "probe:/models/hubert-base-ls960")) from exc
        try:
            extractor = AutoFeatureExtractor.from_pretrained(source)
        except OSError:
            extractor = None  # wav2vec2-style models: zero-mean unit-variance waveform
        return model.to(self.device).eval(), extractor  # type: ignore[arg-type]

    @torch.inference_mode()
    def hidden_states(self, wav: np.ndarray) -> torch.Tensor:
        """``(layers, frames, hidden)`` float32 of one clip."""
        return self.features([wav], pooled=False)[0]

    @torch.inference_mode()
    def features(self, wavs: Sequence[np.ndarray], pooled: bool) -> list[torch.Tensor]:
        """Length-sorted padded batches (30-second windows for Whisper); pooling on the device."""
        if self.is_whisper:
            return self._whisper_features(wavs, pooled)
        out: list[torch.Tensor] = [torch.empty(0)] * len(wavs)
        for batch in _by_length(wavs, self.batch_size):
            for group in self._shareable(batch, wavs):
                for i, feats in zip(group, self._forward([wavs[i] for i in group], pooled), strict=True):
                    out[i] = feats
        return out

    def _shareable(self, batch: list[int], wavs: Sequence[np.ndarray]) -> list[list[int]]:
        """Group-norm front ends see the padding, so they only batch clips of equal length."""
        if not self.group_norm:
            return [batch]
        groups: dict[int, list[int]] = {}
        for i in batch:
            groups.setdefault(len(wavs[i]), []).append(i)
        return list(groups.values())

    def _inputs(self, wavs: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded input values and the sample mask; each clip is normalised over its own samples.

        The normalisation is the feature extractor's (zero mean, unit variance, ``1e-7``
        under the root), done here in one pass instead of through its per-clip Python loop.
        """
        normalise = self.extractor is None or getattr(self.extractor, "do_normalize", True)
        values = torch.zeros(len(wavs), max(len(w) for w in wavs))
        mask = torch.zeros(values.shape, dtype=torch.long)
        for b, wav in enumerate(wavs):
            w = torch.as_tensor(np.asarray(wav, dtype=np.float32))
            if self.extractor is None:
                w = (w - w.mean()) / (w.std() + 1e-7)
            elif normalise:
                w = (w - w.mean()) / torch.sqrt(w.var(unbiased=False) + 1e-7)
            values[b, : len(w)] = w
            mask[b, : len(w)] = 1
        return values, mask

    def _forward(self, wavs: list[np.ndarray], pooled: bool) -> list[torch.Tensor]:
        values, mask = self._inputs(wavs)
        padded = bool((mask == 0).any())
        out = self.model(
            values.to(self.device, self.dtype),
            attention_mask=mask.to(self.device) if padded else None,
            output_hidden_states=True,
        )
        lengths = mask.sum(dim=1)
        frames = self.model._get_feat_extract_output_lengths(lengths).tolist()
        return _masked_outputs(out.hidden_states, frames, pooled)

    def _whisper_features(self, wavs: Sequence[np.ndarray], pooled: bool) -> list[torch.Tensor]:
        """Each clip cut into 30-second windows; windows of all clips go through the encoder in batches."""
        windows = [
            (i, w[s : s + WHISPER_WINDOW]) for i, w in enumerate(wavs) for s in range(0, max(len(w), 1), WHISPER_WINDOW)
        ]
        per_window: list[torch.Tensor] = []
        for start in range(0, len(windows), self.batch_size):
            chunk = [w for _, w in windows[start : start + self.batch_size]]
            feats = self.extractor(chunk, sampling_rate=SR, return_tensors="pt").input_features
            out = self.model(feats.to(self.device, self.dtype), output_hidden_states=True)
            frames = [max(1, math.ceil(len(w) / 320)) for w in chunk]  # the window's own frames, not the padding
            per_window += _masked_outputs(out.hidden_states, frames, pooled=False)
        out_clips: list[list[torch.Tensor]] = [[] for _ in wavs]
        for (i, _), h in zip(windows, per_window, strict=True):
            out_clips[i].append(h)
        joined = [torch.cat(parts, dim=1) for parts in out_clips]
        return [h.mean(dim=1) for h in joined] if pooled else joined


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

    def features(self, wavs: Sequence[np.ndarray], pooled: bool) -> list[torch.Tensor]:
        """One clip per forward (s3prl pads batches without telling the model which frames are real)."""
        return [h.mean(dim=1) if pooled else h for h in (self.hidden_states(w) for w in wavs)]


def build_upstream(spec: str, device: torch.device, dtype: torch.dtype, batch_size: int = 16) -> Upstream:
    """``fbank``, ``mfcc``, ``s3prl:NAME``, or a Hugging Face folder / hub id."""
    if spec == "fbank":
        return FilterbankUpstream()
    if spec == "mfcc":
        return FilterbankUpstream(n_mels=40, mfcc=20)
    if spec.startswith("s3prl:"):
        return S3prlUpstream(spec.partition(":")[2], device)
    return HFUpstream(spec, device, dtype, batch_size)
