"""``probe:<upstream>``: the SUPERB protocol, a frozen upstream with a small trained head.

The featurizer is a softmax over zero-initialised layer weights (so training starts
from the plain layer average) applied to hidden states standardised with train-split
statistics. Heads: mean-pooled linear for classification and regression (clips of
multi-audio examples are pooled separately and concatenated), a per-frame linear
CTC character head for generation. Training is seeded: Adam, early stopping on a
slice of the train split, length-bucketed batches for CTC. Hidden states are
computed once per clip and reused every epoch (in memory, spilled to disk as
float16 past ``cache_mb``); ``cache=false`` recomputes them each epoch, which only
exists to measure what the cache saves.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from benchmark.adapters.base import Adapter, AdapterError, Query, float_option, int_option
from benchmark.adapters.probe.featurizer import FeatureCache, Fitted, ProbeModel
from benchmark.adapters.probe.upstreams import Upstream, UpstreamError, build_upstream
from benchmark.adapters.torch_utils import resolve_device, resolve_dtype
from benchmark.adapters.transcripts import clip_hash
from benchmark.task.card import Example, TaskCard
from benchmark.task.folder import Task


class ProbeAdapter(Adapter):
    """Weighted-sum probe on a frozen upstream (SUPERB protocol)."""

    libraries = ("torch", "transformers", "s3prl")

    needs_train = True

    def __init__(
        self,
        spec_argument: str = "fbank",
        device: str = "auto",
        dtype: str = "float32",
        seed: object = 0,
        epochs: object = 200,
        lr: object = 0.005,
        batch_size: object = 32,
        patience: object = 20,
        cache: object = "true",
        cache_mb: object = 2048,
        extract_batch: object = 16,
    ) -> None:
        self.upstream_spec = spec_argument
        self.device_spec, self.dtype_spec = device, dtype
        self.seed, self.epochs = int_option("seed", seed), int_option("epochs", epochs)
        self.lr, self.batch_size = float_option("lr", lr), int_option("batch_size", batch_size)
        self.patience = int_option("patience", patience)
        self.use_cache = str(cache).lower() not in ("false", "0", "no")
        self.cache = FeatureCache(int_option("cache_mb", cache_mb) * 1024 * 1024)
        self.extract_batch = int_option("extract_batch", extract_batch)
        self.upstream: Upstream | None = None
        self.device = torch.device("cpu")
        self.fitted: dict[str, Fitted] = {}

    def check(self, card: TaskCard, n_train: int) -> str | None:
        """Needs a train split; the CTC head reads one clip per example."""
        reason = super().check(card, n_train)
        if reason is None and card.task_type == "generation" and card.audio_inputs > 1:
            return f"{card.name}: the CTC head transcribes one clip, and this task has {card.audio_inputs}"
        if reason is None and card.task_type == "open":
            return f"{card.name} is open-ended: no reference answers to train a probe on"
        return reason

    def load(self) -> None:
        """Build the upstream (loads weights for Hugging Face and s3prl upstreams)."""
        self.device = resolve_device(self.device_spec)
        try:
            self.upstream = build_upstream(
                self.upstream_spec, self.device, resolve_dtype(self.dtype_spec), self.extract_batch
            )
        except UpstreamError as exc:
            raise AdapterError(str(exc)) from exc

    # ------------------------------------------------------------ features

    def _clip_features(self, clips: Sequence[np.ndarray], pooled: bool, use_cache: bool) -> list[torch.Tensor]:
        """Per clip: pooled ``(L, D)`` or per-frame ``(T, L, D)``; uncached clips go to the upstream in batches."""
        if self.upstream is None:
            self.load()
        assert self.upstream is not None  # load() either sets it or raises
        keys = [(clip_hash(c), pooled) for c in clips] if use_cache else [(i, pooled) for i in range(len(clips))]
        todo = list(dict.fromkeys(k for k in keys if not use_cache or k not in self.cache))
        if todo:
            first = {k: i for i, k in reversed(list(enumerate(keys)))}
            computed = self.upstream.features([clips[first[k]] for k in todo], pooled)
            fresh = {k: h if pooled else h.transpose(0, 1) for k, h in zip(todo, computed, strict=True)}
            if not use_cache:
                return [fresh[k] for k in keys]
            for k, h in fresh.items():
                self.cache.put(k, h)
        return [self.cache.get(k) for k in keys]

    def _example_features(self, task: Task, examples: Sequence[Example], pooled: bool) -> list[torch.Tensor]:
        """Per example: pooled ``(clips, L, D)`` or per-frame ``(T, L, D)`` (cached per clip when allowed)."""
        audio = [task.load_audio(e) for e in examples]
        feats = iter(self._clip_features([c for clips in audio for c in clips], pooled, self.use_cache))
        per_example = [[next(feats) for _ in clips] for clips in audio]
        return [torch.stack(f) if pooled else f[0] for f in per_example]

    # ------------------------------------------------------------ training

    def fit(self, task: Task) -> None:
        """Train the featurizer weights and head on the task's train split (seeded; ``task`` holds no test split)."""
        torch.manual_seed(self.seed)
        card = task.card
        pooled = card.task_type != "generation"
        train = task.split("train")
        rng = np.random.default_rng(self.seed)
        order = rng.permutation(len(train))
        n_dev = max(1, len(train) // 10) if len(train) >= 10 else 0
        dev_idx, fit_idx = order[:n_dev], order[n_dev:]
        feats = [f.to(self.device) for f in self._example_features(task, train, pooled)]
        stacked = torch.cat([f.reshape(-1, f.shape[-2], f.shape[-1]) for f in feats])
        mean, std = stacked.mean(dim=0), stacked.std(dim=0) + 1e-5
        fitted = self._new_fitted(card, train, feats[0], mean, std)
        fitted.model.to(self.device)
        targets = [t.to(self.device) for t in self._targets(fitted, card.task_type, train)]
        threads = torch.get_num_threads()
        if self.device.type == "cpu":
            # The head's ops are tiny: one CPU thread beats a thread team, whose barriers stall whenever the
            # machine is shared (measured: several times the wall time at load 10 on 2 cores).
            torch.set_num_threads(1)
        try:
            self._train(fitted, card.task_type, task, train, feats, targets, fit_idx, dev_idx, rng)
        finally:
            torch.set_num_threads(threads)
        self.fitted[task.key] = fitted

    def _new_fitted(
        self, card: TaskCard, train: Sequence[Example], first: torch.Tensor, mean: torch.Tensor, std: torch.Tensor
    ) -> Fitted:
        n_layers, dim = first.shape[-2], first.shape[-1]
        if card.task_type == "classification":
            labels = list(card.labels or [])
            return Fitted(ProbeModel(n_layers, dim, card.audio_inputs, len(labels), True), mean, std, labels=labels)
        if card.task_type == "regression":
            ys = np.array([float(e.label) for e in train])
            return Fitted(
                ProbeModel(n_layers, dim, card.audio_inputs, 1, True),
                mean,
                std,
                y_mean=float(ys.mean()),
                y_std=float(ys.std() or 1.0),
            )
        vocab = sorted({c for e in train for c in str(e.label)})
        return Fitted(ProbeModel(n_layers, dim, 1, len(vocab) + 1, False), mean, std, vocab=vocab)

    def _targets(self, fitted: Fitted, task_type: str, train: Sequence[Example]) -> list[torch.Tensor]:
        if task_type == "classification":
            return [torch.tensor(fitted.labels.index(str(e.label))) for e in train]
        if task_type == "regression":
            return [torch.tensor((float(e.label) - fitted.y_mean) / fitted.y_std) for e in train]
        index = {c: i + 1 for i, c in enumerate(fitted.vocab)}  # 0 is the CTC blank
        return [torch.tensor([index[c] for c in str(e.label)]) for e in train]

    def _train(
        self,
        fitted: Fitted,
        task_type: str,
        task: Task,
        train: Sequence[Example],
        feats: list[torch.Tensor],
        targets: list[torch.Tensor],
        fit_idx: np.ndarray,
        dev_idx: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        model = fitted.model
        optimiser = torch.optim.Adam(model.parameters(), lr=self.lr)
        best, best_state, stale = float("inf"), None, 0
        for _ in range(self.epochs):
            if not self.use_cache:  # measurement mode: pay the upstream again every epoch
                feats = [f.to(self.device) for f in self._example_features(task, train, model.pooled)]
            model.train()
            for batch in self._batches(fit_idx, feats, model.pooled, rng):
                optimiser.zero_grad()
                loss = self._loss(fitted, task_type, [feats[i] for i in batch], [targets[i] for i in batch])
                loss.backward()
                optimiser.step()
            model.eval()
            with torch.no_grad():
                idx = dev_idx if len(dev_idx) else fit_idx
                dev = float(self._loss(fitted, task_type, [feats[i] for i in idx], [targets[i] for i in idx]))
            if dev < best - 1e-4:
                best, best_state, stale = dev, {k: v.clone() for k, v in model.state_dict().items()}, 0
            else:
                stale += 1
                if stale >= self.patience:
                    break
        if best_state is not None:
            model.load_state_dict(best_state)
        model.eval()

    def _batches(
        self, idx: np.ndarray, feats: list[torch.Tensor], pooled: bool, rng: np.random.Generator
    ) -> list[np.ndarray]:
        """Shuffled batches; frame-level features are bucketed by length first (less padding)."""
        if not pooled:
            by_length = idx[np.argsort([feats[i].shape[0] for i in idx], kind="stable")]
            chunks = [by_length[i : i + self.batch_size] for i in range(0, len(by_length), self.batch_size)]
            return [chunks[i] for i in rng.permutation(len(chunks))]
        shuffled = rng.permutation(idx)
        return [shuffled[i : i + self.batch_size] for i in range(0, len(shuffled), self.batch_size)]

    def _normalise(self, fitted: Fitted, x: torch.Tensor) -> torch.Tensor:
        return (x - fitted.mean) / fitted.std

    def _loss(self, fitted: Fitted, task_type: str, xs: list[torch.Tensor], ys: list[torch.Tensor]) -> torch.Tensor:
        model = fitted.model
        if task_type == "classification":
            return nn.functional.cross_entropy(model(self._normalise(fitted, torch.stack(xs))), torch.stack(ys))
        if task_type == "regression":
            pred = model(self._normalise(fitted, torch.stack(xs)))[:, 0]
            return nn.functional.mse_loss(pred, torch.stack(ys).float())
        lengths = torch.tensor([x.shape[0] for x in xs])  # CTC lengths stay on the CPU, as torch expects
        padded = nn.utils.rnn.pad_sequence([self._normalise(fitted, x) for x in xs], batch_first=True)
        log_probs = model(padded).log_softmax(-1).transpose(0, 1)  # (T, B, V)
        target_lengths = torch.tensor([len(y) for y in ys])
        return nn.functional.ctc_loss(log_probs, torch.cat(ys), lengths, target_lengths, zero_infinity=True)

    # ------------------------------------------------------------ prediction

    @torch.inference_mode()
    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[str]:
        """Apply the probe trained on ``card``'s task to each query's clips."""
        fitted = self.fitted.get(card.key)
        if fitted is None:
            raise AdapterError(f"the probe has not been trained on {card.key}: call fit with its train split first")
        pooled = card.task_type != "generation"
        feats = iter(self._clip_features([c for q in batch for c in q.audio], pooled, self.use_cache))
        per_query = [[next(feats) for _ in q.audio] for q in batch]
        if not pooled:
            outputs = []
            for clips in per_query:
                h = self._normalise(fitted, clips[0].to(self.device))
                outputs.append(self._ctc_decode(fitted, fitted.model(h[None])[0]))
            return outputs
        y = fitted.model(self._normalise(fitted, torch.stack([torch.stack(c) for c in per_query]).to(self.device)))
        if card.task_type == "classification":
            return [fitted.labels[int(row.argmax())] for row in y]
        return [f"{float(row[0]) * fitted.y_std + fitted.y_mean:.4g}" for row in y]

    @staticmethod
    def _ctc_decode(fitted: Fitted, logits: torch.Tensor) -> str:
        best = logits.argmax(-1).tolist()
        chars, previous = [], 0
        for index in best:
            if index != previous and index != 0:
                chars.append(fitted.vocab[index - 1])
            previous = index
        return "".join(chars)

    def layer_weights(self, card: TaskCard) -> list[float] | None:
        """The learned softmax layer weights for ``card``'s task."""
        fitted = self.fitted.get(card.key)
        return None if fitted is None else [round(float(w), 6) for w in fitted.model.layer_weights().detach()]

    def info(self) -> dict[str, object]:
        """Trainable parameters are per task; the upstream's count is reported when known."""
        return {"description": f"SUPERB-style weighted-sum probe on {self.upstream_spec}"}
