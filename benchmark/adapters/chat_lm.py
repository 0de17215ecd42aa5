"""The cascade's local text LLM: a transformers causal LM with a chat template, greedy and batched.

Every prompt of a task opens the same way: the chat template's header and the
cascade's system prompt, about 40 of its 100 tokens. That shared token prefix goes
through the model once; its key/value cache is then reused by every prompt, in
generation and in label ranking, so an example pays only for its own tokens.
Prompts are tokenized whole and split on token boundaries, and each row keeps its
true positions (the padding sits between the prefix and the row's own tokens, and
is masked), so the model computes what it would without the cache.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from benchmark.adapters.base import AdapterError, offline_hint
from benchmark.adapters.ranking import best_label, label_token_ids, rank_scores
from benchmark.adapters.torch_utils import resolve_device, resolve_dtype


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
        self.device = resolve_device(device)
        self.model.to(self.device).eval()  # type: ignore[arg-type]
        self.max_new_tokens, self.torch = max_new_tokens, torch
        self._baseline_cache: dict[str, list[float]] = {}
        self._prefix: tuple[tuple[int, ...], Any] | None = None
        self._cache_repeats = True

    def encode(self, conversations: Sequence[list[dict[str, str]]]) -> list[list[int]]:
        """The token ids of each conversation's prompt, the reply to come next."""
        prompts = [
            self.tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in conversations
        ]
        return [list(self.tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]

    def prefix_cache(self, ids: Sequence[int], rows: int = 1) -> Any:
        """A fresh key/value cache of ``ids`` for ``rows`` rows (``None`` for no ids, or a cache that cannot repeat).

        The last prefix's cache is kept, so the batches of a task share one forward pass.
        """
        if not ids or not self._cache_repeats:
            return None
        key = tuple(ids)
        if self._prefix is None or self._prefix[0] != key:
            tokens = self.torch.tensor([ids], device=self.device)
            with self.torch.inference_mode():
                cache = self.model(input_ids=tokens, use_cache=True).past_key_values
            if not hasattr(cache, "batch_repeat_interleave"):
                self._cache_repeats = False  # the model's cache type never will: stop paying for the prefix
                return None
            self._prefix = (key, cache)
        cache = copy.deepcopy(self._prefix[1])
        if rows > 1:
            cache.batch_repeat_interleave(rows)
        return cache

    def generate(self, conversations: Sequence[list[dict[str, str]]]) -> list[str]:
        """Greedy replies for a batch of conversations (each stops after its first non-empty line)."""
        torch = self.torch
        encoded = self.encode(conversations)
        shared = shared_prefix(encoded)
        cache = self.prefix_cache(encoded[0][:shared], rows=len(encoded))
        if cache is None:
            shared = 0
        longest = max(len(e) for e in encoded) - shared
        pad = self.tokenizer.pad_token_id
        ids = [e[:shared] + [pad] * (longest - len(e) + shared) + e[shared:] for e in encoded]
        mask = [[1] * shared + [0] * (longest - len(e) + shared) + [1] * (len(e) - shared) for e in encoded]
        input_ids = torch.tensor(ids, device=self.device)
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=input_ids,
                attention_mask=torch.tensor(mask, device=self.device),
                past_key_values=cache,
                do_sample=False,
                max_new_tokens=self.max_new_tokens,
                pad_token_id=pad,
                stopping_criteria=[_FirstLineDone(self.tokenizer, input_ids.shape[1], torch)],
            )
        return self.tokenizer.batch_decode(out[:, input_ids.shape[1] :], skip_special_tokens=True)

    def label_scores(self, ids: list[int], label_ids: list[list[int]], shared: int = 0) -> list[float]:
        """Log-likelihood of each label (token ids) as the reply to the prompt ``ids``.

        The first ``shared`` tokens come from the prefix cache.
        """
        prompt = {"input_ids": self.torch.tensor([ids], device=self.device)}
        prompt["attention_mask"] = self.torch.ones_like(prompt["input_ids"])
        prefix = self.prefix_cache(ids[:shared])
        return rank_scores(self.model, prompt, label_ids, self.tokenizer.pad_token_id, prefix=prefix, reuse_cache=True)

    def rank(
        self,
        conversations: Sequence[list[dict[str, str]]],
        labels: Sequence[str],
        baselines: Sequence[list[dict[str, str]]] | None = None,
    ) -> list[str]:
        """The most likely label as the reply to each conversation (scores attached).

        With ``baselines`` (the same prompts without the evidence), each label's baseline score is subtracted.
        """
        label_ids = label_token_ids(self.tokenizer, labels)
        encoded = self.encode(conversations)
        blanks = self.encode(baselines) if baselines is not None else []
        shared = shared_prefix(encoded + blanks)
        answers: list[str] = []
        for i, ids in enumerate(encoded):
            scores = self.label_scores(ids, label_ids, shared)
            if baselines is not None:
                # Many examples share an instruction, so their content-free prompt is scored once.
                key = repr((blanks[i], tuple(labels)))
                if key not in self._baseline_cache:
                    self._baseline_cache[key] = self.label_scores(blanks[i], label_ids, shared)
                scores = [s - b for s, b in zip(scores, self._baseline_cache[key], strict=True)]
            answers.append(best_label(labels, scores))
        return answers


class _FirstLineDone:
    """Stop a reply once its first non-empty line is complete.

    The cascade keeps only that line (``first_line``), and greedy decoding gives the
    same tokens up to there whether or not generation goes on.
    """

    def __init__(self, tokenizer: Any, prompt_length: int, torch: Any) -> None:
        self.tokenizer, self.prompt_length, self.torch = tokenizer, prompt_length, torch

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        texts = self.tokenizer.batch_decode(input_ids[:, self.prompt_length :], skip_special_tokens=True)
        done = [bool(t.strip()) and "\n" in t.lstrip() for t in texts]
        return self.torch.tensor(done, dtype=self.torch.bool, device=input_ids.device)
