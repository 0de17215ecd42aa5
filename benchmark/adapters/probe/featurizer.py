"""The SUPERB featurizer and heads: softmax layer weights over hidden states, a linear head, a feature cache."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn


class FeatureCache:
    """Hidden states by key: float32 in memory up to a byte cap, then in files on disk.

    Lossless, so a cached clip gives exactly what a fresh extraction gives and no
    result depends on which task happened to compute a shared clip first.
    """

    def __init__(self, cap_bytes: int) -> None:
        self.cap, self.used = cap_bytes, 0
        self.memory: dict[tuple[Any, ...], torch.Tensor] = {}
        self.disk: dict[tuple[Any, ...], Path] = {}
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    def __contains__(self, key: tuple[Any, ...]) -> bool:
        return key in self.memory or key in self.disk

    def put(self, key: tuple[Any, ...], value: torch.Tensor) -> None:
        """Store a tensor (as float32, on the CPU)."""
        value = value.detach().to("cpu", torch.float32).contiguous()
        size = value.numel() * 4
        if self.used + size <= self.cap:
            self.memory[key] = value
            self.used += size
            return
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="probe-cache-")
        path = Path(self._dir.name) / f"{len(self.disk)}.pt"
        torch.save(value, path)
        self.disk[key] = path

    def get(self, key: tuple[Any, ...]) -> torch.Tensor:
        """The stored tensor."""
        if key in self.memory:
            return self.memory[key]
        return torch.load(self.disk[key], weights_only=True)


class ProbeModel(nn.Module):
    """Featurizer (softmax layer weights) plus a linear head."""

    def __init__(self, n_layers: int, dim: int, n_clips: int, n_out: int, pooled: bool) -> None:
        super().__init__()
        self.layer_logits = nn.Parameter(torch.zeros(n_layers))
        self.pooled = pooled
        self.head = nn.Linear(dim * n_clips if pooled else dim, n_out)

    def layer_weights(self) -> torch.Tensor:
        """Softmax of the layer logits: non-negative, sums to one."""
        return torch.softmax(self.layer_logits, dim=0)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """Pooled: ``(B, clips, L, D)`` -> ``(B, out)``; frames: ``(B, T, L, D)`` -> ``(B, T, out)``."""
        mixed = torch.einsum("l,...ld->...d", self.layer_weights(), h)
        if self.pooled:
            mixed = mixed.flatten(start_dim=1)
        return self.head(mixed)


@dataclass
class Fitted:
    """A probe trained on one task, with its input standardisation and output vocabulary."""

    model: ProbeModel
    mean: torch.Tensor
    std: torch.Tensor
    labels: list[str] = field(default_factory=list)
    y_mean: float = 0.0
    y_std: float = 1.0
    vocab: list[str] = field(default_factory=list)
