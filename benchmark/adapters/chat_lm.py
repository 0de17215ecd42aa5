"""The cascade's local text LLM: a transformers causal LM with a chat template, greedy and batched.

Every prompt of a task opens the same way: the chat template's header and the
cascade's system prompt, about 40 of its 100 tokens. That shared token prefix goes
through the model once; its key/value cache is then repeated for every row of a
batch, in generation and in label ranking, so an example pays only for its own
tokens. Prompts are tokenized whole and split on token boundaries; each row keeps
its true positions (the padding sits between the prefix and the row's own tokens,
is masked, and positions count only real tokens), so the model computes what it
would for the prompt alone.

Generation is plain greedy decoding (the argmax token at each step; a model's
``generation_config`` sampling or penalty settings are not applied), written out
rather than left to ``model.generate`` so that a row leaves the batch as soon as
its first line is complete: the cascade keeps only that line, and one long reply
no longer holds every other row of its batch in the model until it ends.

Label ranking scores many prompts per forward pass: the prompts once (only the
last position's logits), then every label's remaining tokens over the prompts'
repeated cache.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Sequence
from typing import Any

from benchmark.adapters.base import AdapterError, offline_hint
from benchmark.adapters.ranking import RankedAnswer, best_label, label_token_ids, rank_scores

RANK_ROWS = 128
MASK_POSITIONED = frozenset({"bloom", "falcon"})
"""Models without ``position_ids`` whose relative positions come from the attention mask (ALiBi from its cumsum)."""
"""Most (prompt, label) rows per ranking pass: a chunk of ``RANK_ROWS // len(labels)`` prompts at a time."""


def cache_can(cache: Any, method: str) -> bool:
    """Whether a key/value cache and each of its layers have ``method`` (conv and linear-attention layers lack it)."""
    layers = getattr(cache, "layers", None)
    return hasattr(cache, method) and (layers is None or all(hasattr(layer, method) for layer in layers))


def sliding_window(config: Any) -> int | None:
    """The smallest sliding attention window of a model's config (None: every layer sees the whole prompt)."""
    windows = [getattr(c, "sliding_window", None) for c in (config, getattr(config, "text_config", None)) if c]
    return min((w for w in windows if isinstance(w, int) and w > 0), default=None)


def shared_prefix(rows: Sequence[Sequence[int]]) -> int:
    """How many leading tokens every row has in common, leaving each row at least one token of its own."""
    if not rows:
        return 0
    first, limit = rows[0], min(len(r) for r in rows) - 1
    n = 0
    while n < limit and all(r[n] == first[n] for r in rows):
        n += 1
    return n


class TransformersLLM:
    """A causal LM with a chat template; batched greedy generation and label ranking over a cached prefix."""

    def __init__(self, source: str, gguf_file: str | None, device: str, dtype: str, max_new_tokens: int) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from benchmark.adapters.torch_utils import cpu_threads, resolve_device, resolve_dtype

        kwargs: dict[str, Any] = {"gguf_file": gguf_file} if gguf_file else {}
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False, **kwargs)
            self.model: Any = AutoModelForCausalLM.from_pretrained(
                source, dtype=resolve_dtype(dtype), trust_remote_code=False, **kwargs
            )
        except OSError as exc:
            raise AdapterError(offline_hint(source, exc, "hf:/path/to/model or gguf:/path/model.gguf")) from exc
        if self.tokenizer.chat_template is None:
            raise AdapterError(f"{source} has no chat template; use an instruction-tuned model")
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        # Padded positions are masked, so any id pads where the tokenizer names none.
        self.pad_id: int = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        self.device = resolve_device(device)
        if self.device.type == "cpu":
            # As many intra-op threads as the CPUs this process was given (a Ray replica: its share), not one
            # per core of the machine; the cascade's CTranslate2 ASR is sized from the same number.
            torch.set_num_threads(cpu_threads())
        self.model.to(self.device).eval()  # type: ignore[arg-type]
        self.max_new_tokens, self.torch = max_new_tokens, torch
        eos = self.model.generation_config.eos_token_id
        eos = self.tokenizer.eos_token_id if eos is None else eos
        self.eos: frozenset[int] = frozenset([eos] if isinstance(eos, int) else eos or [])
        parameters = inspect.signature(self.model.forward).parameters
        self._last_only = {"logits_to_keep": 1} if "logits_to_keep" in parameters else {}
        self._takes_positions = "position_ids" in parameters
        # Padding between a cached prefix and a row's own tokens is exact only where each row's positions come
        # from the mask: position ids, or ALiBi from the mask (BLOOM); MPT's ALiBi counts cache slots.
        model_type = str(getattr(self.model.config, "model_type", ""))
        self._middle_padding = self._takes_positions or model_type in MASK_POSITIONED
        self._window = sliding_window(self.model.config)
        # Rows share a batch only where the cache can repeat and drop rows in every layer: a conv, linear-attention
        # or state-space layer would read the padding, so such models run one prompt at a time (no padding).
        with torch.inference_mode():
            probe = self.model(input_ids=torch.tensor([[self.pad_id]], device=self.device), use_cache=True)
        probe_cache = getattr(probe, "past_key_values", None)
        self._batchable = cache_can(probe_cache, "batch_repeat_interleave") and cache_can(
            probe_cache, "batch_select_indices"
        )
        self._baseline_cache: dict[str, list[float]] = {}
        self._prefix: tuple[tuple[int, ...], Any] | None = None

    def encode(self, conversations: Sequence[list[dict[str, str]]]) -> list[list[int]]:
        """The token ids of each conversation's prompt, the reply to come next."""
        prompts = [
            self.tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in conversations
        ]
        return [list(self.tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]

    def prefix_cache(self, encoded: Sequence[Sequence[int]], new_tokens: int = 0) -> tuple[int, Any]:
        """How many leading tokens the rows of ``encoded`` take from a cache, and that cache (one row each).

        The last prefix computed is kept: while it opens every row (as the chat
        header and system prompt open every prompt of the cascade), batches reuse
        it without a forward pass; otherwise the rows' own shared prefix is computed
        and kept. ``(0, None)``: no shared tokens, a model whose cache cannot repeat,
        or one where padding after the prefix would change what a row sees (then
        rows are left-padded, as transformers' ``generate`` pads them): positions
        counted by cache slot, or a sliding window that the padded rows plus
        ``new_tokens`` would outgrow (windows count cache slots, padding included).
        """
        if not self._batchable or not encoded or not self._middle_padding:
            return 0, None
        if self._window is not None and max(len(e) for e in encoded) + new_tokens > self._window:
            return 0, None
        known = self._prefix[0] if self._prefix is not None else ()
        if not known or not all(len(e) > len(known) and tuple(e[: len(known)]) == known for e in encoded):
            shared = shared_prefix(encoded)
            if not shared:
                return 0, None
            tokens = self.torch.tensor([encoded[0][:shared]], device=self.device)
            with self.torch.inference_mode():
                cache = self.model(input_ids=tokens, use_cache=True, **self._last_only).past_key_values
            self._prefix = (tuple(encoded[0][:shared]), cache)
        assert self._prefix is not None
        cache = copy.deepcopy(self._prefix[1])
        if len(encoded) > 1:
            cache.batch_repeat_interleave(len(encoded))
        return len(self._prefix[0]), cache

    def _positions(self, positions: Any) -> dict[str, Any]:
        """``position_ids`` for the forward pass, for models that take them: each row counts only its real tokens."""
        return {"position_ids": positions} if self._takes_positions else {}

    def _prefill(self, encoded: Sequence[Sequence[int]], new_tokens: int) -> tuple[Any, Any, Any]:
        """Run a batch of prompts, padded between the shared prefix and each row's own tokens.

        Returns the last position's logits (one row per prompt), the key/value cache
        and the attention mask over it.
        """
        torch = self.torch
        shared, cache = self.prefix_cache(encoded, new_tokens)
        longest = max(len(e) for e in encoded) - shared
        pad = self.pad_id
        ids = [[pad] * (longest - len(e) + shared) + [*e[shared:]] for e in encoded]
        mask = torch.tensor(
            [[1] * shared + [0] * (longest - len(e) + shared) + [1] * (len(e) - shared) for e in encoded],
            device=self.device,
        )
        positions = (mask.cumsum(-1) - 1).clamp(min=0)[:, shared:]
        with torch.inference_mode():
            out = self.model(
                input_ids=torch.tensor(ids, device=self.device),
                attention_mask=mask,
                past_key_values=cache,
                use_cache=True,
                **self._positions(positions),
                **self._last_only,
            )
        return out.logits[:, -1], getattr(out, "past_key_values", None), mask

    def generate(self, conversations: Sequence[list[dict[str, str]]]) -> list[str]:
        """Greedy replies for a batch of conversations, each ending with its first non-empty line.

        A row stops at the end-of-sequence token, once its reply holds a complete
        non-empty line, or after ``max_new_tokens``; finished rows leave the batch
        (or, with a cache that cannot drop rows, stay in it and are ignored).
        """
        torch = self.torch
        if not conversations:
            return []
        if not self._batchable and len(conversations) > 1:
            return [reply for c in conversations for reply in self.generate([c])]
        logits, cache, mask = self._prefill(self.encode(conversations), self.max_new_tokens)
        if cache is None and self.max_new_tokens > 1:
            raise AdapterError(
                f"{type(self.model).__name__} returns no key/value cache (past_key_values); the cascade's LLM "
                "needs a transformers causal LM that does (an attention model)"
            )
        replies: list[list[int]] = [[] for _ in conversations]
        done = [False] * len(conversations)
        active = list(range(len(conversations)))
        for step in range(self.max_new_tokens):
            chosen = logits.argmax(-1)
            for row, token in zip(active, chosen.tolist(), strict=True):
                if done[row] or token in self.eos:
                    done[row] = True
                    continue
                replies[row].append(token)
                text = str(self.tokenizer.decode(replies[row], skip_special_tokens=True))
                done[row] = bool(text.strip()) and "\n" in text.lstrip()
            if all(done[row] for row in active) or step == self.max_new_tokens - 1:
                break
            keep = [j for j, row in enumerate(active) if not done[row]]
            if len(keep) < len(active):  # only batchable models get several rows
                kept = torch.tensor(keep, device=self.device)
                cache.batch_select_indices(kept)
                mask, chosen, active = mask[kept], chosen[kept], [active[j] for j in keep]
            mask = torch.cat([mask, mask.new_ones((len(active), 1))], dim=1)
            with torch.inference_mode():
                logits = self.model(
                    input_ids=chosen[:, None],
                    attention_mask=mask,
                    past_key_values=cache,
                    use_cache=True,
                    **self._positions(mask.sum(-1, keepdim=True) - 1),
                    **self._last_only,
                ).logits[:, -1]
        return [str(self.tokenizer.decode(r, skip_special_tokens=True)) for r in replies]

    def label_scores(self, encoded: Sequence[Sequence[int]], label_ids: Sequence[Sequence[int]]) -> list[list[float]]:
        """Log-likelihood of each label (token ids) as the reply to each prompt (token ids), in batches."""
        if not label_ids:
            raise ValueError("no labels to rank")
        chunk = max(1, RANK_ROWS // len(label_ids)) if self._batchable else 1
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))  # chunks of similar lengths pad less
        scores: list[list[float]] = [[] for _ in encoded]
        for start in range(0, len(order), chunk):
            rows = order[start : start + chunk]
            for i, row in zip(rows, self._score([encoded[i] for i in rows], label_ids), strict=True):
                scores[i] = row
        return scores

    def _score(self, encoded: Sequence[Sequence[int]], label_ids: Sequence[Sequence[int]]) -> list[list[float]]:
        torch = self.torch
        logits, cache, mask = self._prefill(encoded, max(len(ids) for ids in label_ids) - 1)
        first = torch.log_softmax(logits.float(), dim=-1)
        scores = [[float(first[r, ids[0]]) for ids in label_ids] for r in range(len(encoded))]
        longest = max(len(ids) for ids in label_ids)
        if longest == 1:
            return scores
        if not cache_can(cache, "batch_repeat_interleave"):
            # A cache that cannot repeat: each prompt in full, once per label (any architecture).
            prompts = [{"input_ids": torch.tensor([e], device=self.device)} for e in encoded]
            return [rank_scores(self.model, prompt, label_ids, self.pad_id) for prompt in prompts]
        labels = len(label_ids)
        cache.batch_repeat_interleave(labels)
        follow = torch.full((len(encoded) * labels, longest - 1), self.pad_id, device=self.device)
        extra = torch.zeros_like(follow)
        for row in range(len(encoded)):
            for k, ids in enumerate(label_ids):
                follow[row * labels + k, : len(ids) - 1] = torch.tensor(ids[:-1])
                extra[row * labels + k, : len(ids) - 1] = 1
        mask = torch.cat([mask.repeat_interleave(labels, dim=0), extra], dim=1)
        start = mask[:, : -(longest - 1)].sum(-1, keepdim=True)
        positions = start + torch.arange(longest - 1, device=self.device)
        with torch.inference_mode():
            out = self.model(
                input_ids=follow,
                attention_mask=mask,
                past_key_values=cache,
                use_cache=True,
                **self._positions(positions),
            )
        # The logit at continuation position j predicts label token j + 1.
        logp = torch.log_softmax(out.logits.float(), dim=-1)
        for row in range(len(encoded)):
            for k, ids in enumerate(label_ids):
                rest = torch.tensor(ids[1:], device=logp.device)
                picked = logp[row * labels + k, : len(ids) - 1].gather(-1, rest.unsqueeze(-1))
                scores[row][k] += float(picked.sum())
        return scores

    def rank(
        self,
        conversations: Sequence[list[dict[str, str]]],
        labels: Sequence[str],
        baselines: Sequence[list[dict[str, str]]] | None = None,
    ) -> list[RankedAnswer]:
        """The most likely label as the reply to each conversation (scores attached).

        With ``baselines`` (the same prompts without the evidence), each label's baseline score is subtracted.
        """
        label_ids = label_token_ids(self.tokenizer, labels)
        encoded = self.encode(conversations)
        keys: list[str] = []
        new: dict[str, list[int]] = {}
        if baselines is not None:
            # Many examples share an instruction, so their content-free prompt is scored once.
            blanks = self.encode(baselines)
            keys = [repr((b, tuple(labels))) for b in blanks]
            new = {k: b for k, b in zip(keys, blanks, strict=True) if k not in self._baseline_cache}
        scores = self.label_scores(encoded + list(new.values()), label_ids) if encoded else []
        self._baseline_cache.update(zip(new, scores[len(encoded) :], strict=True))
        scores = scores[: len(encoded)]
        if baselines is not None:
            scores = [
                [s - b for s, b in zip(row, self._baseline_cache[key], strict=True)]
                for row, key in zip(scores, keys, strict=True)
            ]
        return [best_label(labels, row) for row in scores]
