"""An ``audio`` task's answers -> scores: stored once, scored by every metric the card reports, cached.

The scorer binds a task to its submission's :class:`AudioStore` and score cache. For each answer it
writes the clips (``AudioStore.put``), then for each metric looks the score up by (clips, task
content, example, metric, scorer identity) and computes only the misses, in one call per example
(a family's model pass serves all its metrics). An answer that is not audio a metric could read
(missing, non-finite, too long, the wrong number of clips) gets its status and every metric's worst
value: every example is scored, none skipped.

``bench score`` hands the scorer the record's :class:`StoredAnswer` instead of a fresh answer; when
a clip's file is absent (a fresh clone has records but no audio) and the cache does not hold the
score, :class:`AudioNotStored` says so and the record keeps the scores it has.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from pathlib import Path

from benchmark.scoring.metrics import METRICS
from benchmark.scoring.score import ExampleScore
from benchmark.scoring.speech.answer import AudioAnswer, StoredAnswer
from benchmark.scoring.speech.metrics import SPEECH_METRICS, References, SpeechScore, identity, score, worst_scores
from benchmark.scoring.speech.models import Models
from benchmark.scoring.speech.output import SAMPLE_RATE
from benchmark.submission.audio_store import AudioStore, ScoreCache
from benchmark.task.card import Example
from benchmark.task.folder import Task


@functools.cache
def scoring_code() -> str:
    """SHA-256 of every module of ``benchmark/scoring`` (the speech metrics, the resolver, the registry)."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parents[1].joinpath("scoring").rglob("*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


class AudioNotStored(LookupError):
    """A stored answer's clip is not on this machine and its score is not cached."""


class AudioScorer:
    """Scores answers to one ``audio`` task into ``ExampleScore`` objects (``Scorer``-compatible)."""

    def __init__(self, task: Task, store: AudioStore, cache: ScoreCache, models: Models | None = None) -> None:
        if task.card.output is None:
            raise ValueError(f"{task.key} has no output block")
        self.task, self.store, self.cache, self.models = task, store, cache, models
        self.output = task.card.output
        self.names = task.card.reported_metrics
        self._identities: dict[str, str] = {}

    def __call__(self, example: Example, answer: AudioAnswer | StoredAnswer | str) -> ExampleScore:
        """Store (a fresh answer) and score one answer to ``example``."""
        stored = (
            answer if isinstance(answer, StoredAnswer) else self.store.put(answer, max_seconds=self.output.max_seconds)
        )
        results = self._scores(example, stored)
        primary = results[self.task.card.metric]
        per = METRICS[self.task.card.metric].example(primary, example.label)
        return ExampleScore(
            answer=stored.text or None,
            tier="audio",
            score=per.score,
            errors=per.errors,
            ref_units=per.ref_units,
            audio=stored,
            speech={n: {"value": s.value, "status": s.status, "detail": dict(s.detail)} for n, s in results.items()},
        )

    def identity(self, name: str) -> str:
        """The scorer identity of one metric (model, versions, weights hash, settings) and of the scoring code.

        Read once. The code's hash (``benchmark/scoring``, the resolver, the registry's per-example rules) is part
        of it, so editing how a score is computed never leaves an old number in the cache.
        """
        if name not in self._identities:
            self._identities[name] = f"{identity(name, self.models)} code {scoring_code()}"
        return self._identities[name]

    def _scores(self, example: Example, stored: StoredAnswer) -> dict[str, SpeechScore]:
        status = stored.status
        if len(stored.statuses) not in (0, self.output.sources) and status == "ok":
            status = "wrong_count"
        if status != "ok":  # silent and too-short clips are stored (they are what the model said), not scored
            return worst_scores(self.names, status, References(text=_text(example)))
        keys = {
            n: ScoreCache.key(stored.hashes, self.task.content_hash, example.id, n, self.identity(n))
            for n in self.names
        }
        found = {n: self.cache.get(k) for n, k in keys.items()}
        missing = [n for n, hit in found.items() if hit is None]
        fresh: dict[str, SpeechScore] = {}
        if missing:
            fresh = self._compute(example, stored, missing)
            self.cache.put(
                {keys[n]: {"value": s.value, "status": s.status, "detail": dict(s.detail)} for n, s in fresh.items()}
            )
        out = {}
        for name in self.names:
            hit = found[name]
            out[name] = fresh[name] if hit is None else SpeechScore(float(hit["value"]), hit["status"], hit["detail"])
        return out

    def _compute(self, example: Example, stored: StoredAnswer, names: Sequence[str]) -> dict[str, SpeechScore]:
        clips = []
        for digest in stored.hashes:
            if digest is None or not self.store.has(digest):
                raise AudioNotStored(f"clip {digest} of {example.id} is not here")
            status, audio = self.store.read(digest, max_seconds=self.output.max_seconds)
            if status != "ok":  # a damaged or half-copied file: never scored, never cached, the record keeps its scores
                raise AudioNotStored(f"{self.store.path(digest)} cannot be read as stored ({status})")
            clips.append(audio)
        needs: set[str] = set().union(*(SPEECH_METRICS[n].needs for n in names))
        refs = self._references(example, needs)
        return score(names, clips, SAMPLE_RATE, refs, max_seconds=self.output.max_seconds, models=self.models)

    def _references(self, example: Example, needs: set[str]) -> References:
        task = self.task
        refs = task.load_references(example) if needs & {"audio", "sources"} else []
        inputs = task.load_audio(example) if "source" in needs and example.audio_paths else []
        return References(
            text=_text(example),
            audio=refs[0] if len(refs) == 1 else None,
            speaker=task.load_file(example.speaker_prompt) if "speaker" in needs and example.speaker_prompt else None,
            source=inputs[0] if inputs else None,
            sources=tuple(refs),
            distractors=tuple(task.load_file(p) for p in example.distractors or []) if "distractors" in needs else (),
        )


def _text(example: Example) -> str | None:
    return example.label if isinstance(example.label, str) else None
