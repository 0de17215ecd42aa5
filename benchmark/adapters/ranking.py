"""Label ranking (``--model-arg answer=rank``): score every label by its log-likelihood after the prompt.

Free generation (Dynamic-SUPERB's protocol) asks the model to write an answer that
the resolver then maps to a label; ranking asks the model how likely each label
text is as the reply and takes the most likely one, so nothing needs parsing and no
answer is N/A. The two are different protocols, so model.json records which one
ran (``protocol``) and the board shows it.

The score of a label is the sum of the log-probabilities of its tokens, each
conditioned on the prompt (audio included for audio LLMs) and the label tokens
before it: the plain log-likelihood of the label text as the reply.

Small models have strong priors over label texts (SmolLM2-135M prefers "yes" to
"left" whatever the transcript says). ``rank_calibration=content-free`` subtracts
each label's log-likelihood under the same prompt with the evidence removed (an
empty transcript, or silent clips of the same length), so the score says how much
the evidence raised the label (pointwise mutual information; "contextual
calibration", Zhao et al. 2021; Holtzman et al. 2021). That is protocol
``rank-calibrated``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from benchmark.task.card import TaskCard

PROTOCOLS = ("generate", "rank")
"""Values of ``--model-arg answer=``."""
CALIBRATIONS = ("none", "content-free")
"""Values of ``--model-arg rank_calibration=``."""


def protocol_name(answer: str, calibration: str) -> str:
    """What model.json and the board call the protocol: ``generate``, ``rank`` or ``rank-calibrated``."""
    if answer != "rank":
        return "generate"
    return "rank-calibrated" if calibration == "content-free" else "rank"


def check_rank_options(answer: str, calibration: str) -> None:
    """Raise ``ValueError`` with the fix for an unknown ``answer=`` or ``rank_calibration=``."""
    if answer not in PROTOCOLS:
        raise ValueError(f"answer={answer!r}: use generate (free generation) or rank (label log-likelihood)")
    if calibration not in CALIBRATIONS:
        raise ValueError(f"rank_calibration={calibration!r}: use none or content-free")


class RankedAnswer(str):
    """The chosen label as the raw output, carrying every label's score (kept in the record)."""

    label_scores: dict[str, float]

    def __new__(cls, label: str, scores: Mapping[str, float]) -> RankedAnswer:
        """The label text, with ``label_scores`` attached."""
        answer = super().__new__(cls, label)
        answer.label_scores = {k: round(float(v), 6) for k, v in scores.items()}
        return answer

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle (e.g. across processes) with the scores."""
        return (RankedAnswer, (str(self), self.label_scores))


def answer_mixed(
    cards: Sequence[TaskCard],
    answer: str,
    rank: Callable[[Sequence[str], list[int]], list[str]],
    generate: Callable[[list[int]], list[str]],
) -> list[str]:
    """Answers to a batch whose queries may belong to several tasks (``cards[i]`` is query i's task).

    With ``answer=rank``, each task's classification queries are ranked over its labels
    (``rank(labels, positions)``); every other query is generated, all in one call
    (``generate(positions)``).
    """
    out = [""] * len(cards)
    free: list[int] = []
    ranked: dict[str, tuple[list[str], list[int]]] = {}
    for i, card in enumerate(cards):
        if answer == "rank" and card.task_type == "classification" and card.labels:
            ranked.setdefault(card.key, (card.labels, []))[1].append(i)
        else:
            free.append(i)
    for labels, positions in ranked.values():
        for i, reply in zip(positions, rank(labels, positions), strict=True):
            out[i] = reply
    if free:
        for i, reply in zip(free, generate(free), strict=True):
            out[i] = reply
    return out


def best_label(labels: Sequence[str], scores: Sequence[float]) -> RankedAnswer:
    """The argmax label (the first one on a tie, so runs repeat exactly)."""
    best = max(range(len(labels)), key=lambda i: (scores[i], -i))
    return RankedAnswer(labels[best], dict(zip(labels, scores, strict=True)))


def label_token_ids(tokenizer: Any, labels: Sequence[str]) -> list[list[int]]:
    """Token ids of each label text as a reply (no special tokens).

    Raises:
        ValueError: a label tokenizes to nothing.
    """
    ids = [list(tokenizer(label, add_special_tokens=False)["input_ids"]) for label in labels]
    if empty := [label for label, i in zip(labels, ids, strict=True) if not i]:
        raise ValueError(f"labels {empty} tokenize to nothing with this tokenizer")
    return ids


TOKEN_ALIGNED = frozenset({"token_type_ids", "mm_token_type_ids"})
"""Prompt tensors besides ``input_ids`` and ``attention_mask`` with one entry per token (e.g. Gemma 3n's).

Told apart by name, not shape: an audio feature tensor can happen to have the
prompt's length in its second dimension (Qwen2-Audio's 128 mel bins, a 128-token prompt).
"""


def _widen(key: str, value: Any, rows: int, extra: int) -> Any:
    """Repeat one prompt's tensor for ``rows`` label continuations.

    Token-aligned tensors (``TOKEN_ALIGNED``, shape ``(1, prompt_len, ...)``) are padded
    with zeros over the label tokens; everything else (audio features and their
    masks: one row per clip) is repeated whole.
    """
    import torch

    if not isinstance(value, torch.Tensor) or value.dim() == 0:
        return value
    if key in TOKEN_ALIGNED:
        pad = torch.zeros((1, extra, *value.shape[2:]), dtype=value.dtype, device=value.device)
        value = torch.cat([value, pad], dim=1)
    return value.repeat(rows, *([1] * (value.dim() - 1)))


def rank_scores(model: Any, prompt: Mapping[str, Any], label_ids: Sequence[Sequence[int]], pad_id: int) -> list[float]:
    """Log-likelihood of each label after one encoded prompt (``input_ids`` of shape ``(1, P)`` and its extras).

    The prompt is repeated in full for every label, right-padded, and all labels go
    through the model in one forward pass: that works for every architecture,
    whatever its position scheme (Qwen-Omni's 3-D rotary positions included). The
    cascade's text LLM, a causal LM with plain 1-D positions, scores many prompts
    per pass over a shared key/value cache instead (``chat_lm.TransformersLLM``).
    """
    import torch

    input_ids = prompt["input_ids"]
    prompt_len, rows = input_ids.shape[1], len(label_ids)
    longest = max(len(ids) for ids in label_ids)
    ids = torch.full((rows, prompt_len + longest), pad_id, dtype=input_ids.dtype, device=input_ids.device)
    mask = torch.zeros_like(ids)
    prompt_mask = prompt.get("attention_mask", torch.ones_like(input_ids))
    for row, label in enumerate(label_ids):
        ids[row, :prompt_len] = input_ids[0]
        ids[row, prompt_len : prompt_len + len(label)] = torch.tensor(label, dtype=ids.dtype)
        mask[row, :prompt_len] = prompt_mask[0]
        mask[row, prompt_len : prompt_len + len(label)] = 1
    extras = {k: _widen(k, v, rows, longest) for k, v in prompt.items() if k not in ("input_ids", "attention_mask")}
    with torch.inference_mode():
        logits = model(input_ids=ids, attention_mask=mask, **extras).logits
    # The logit at position t predicts token t + 1: the label tokens are predicted from P - 1 on.
    logp = torch.log_softmax(logits[:, prompt_len - 1 : prompt_len + longest - 1].float(), dim=-1)
    targets = ids[:, prompt_len:]
    picked = logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1) * mask[:, prompt_len:]
    return [float(x) for x in picked.sum(dim=1)]
