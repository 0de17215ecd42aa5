"""``audiollm:<folder-or-hub-id>``: any transformers audio-chat model, through its own processor and chat template.

Works for every model whose processor takes chat messages with audio parts. The
model class is found the way transformers users find it:
``AutoModelForMultimodalLM``, then ``AutoModelForImageTextToText``, then the seq2seq
auto classes, then the class the checkpoint's ``config.json`` names. A model that
also speaks (Qwen2.5-Omni, Qwen3-Omni) is loaded as its text-writing thinker only.
The prompt is the model's own chat template with one user turn: the task's clips as
audio parts, in order, then the instruction (after an optional ``system=`` turn).
Batched with left padding, greedy, ``max_new_tokens`` configurable. With
``answer=rank`` a classification task is answered by the label the model finds most
likely after the prompt (see ``benchmark.adapters.ranking``).

Several clips per example: the adapter checks, before loading the model, that the
template gives each clip its own audio placeholder; a model that cannot gets a
clear error naming the task's ``audio_inputs``, or runs with
``--model-arg multi_audio=concat`` (the clips joined by 0.5 s of silence into one;
recorded in model.json with the other arguments).

With ``--model-arg backend=vllm`` (GPU machines where vllm imports) the same prompts
and clips go through vLLM for throughput.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from benchmark.adapters.base import Adapter, AdapterError, OptionError, Query, float_option, int_option, offline_hint
from benchmark.adapters.ranking import (
    answer_mixed,
    best_label,
    check_rank_options,
    label_token_ids,
    protocol_name,
    rank_scores,
)
from benchmark.adapters.torch_utils import resolve_device, resolve_dtype
from benchmark.task.card import TaskCard

SR = 16_000
AUTO_CLASSES = ("AutoModelForMultimodalLM", "AutoModelForImageTextToText", "AutoModelForSpeechSeq2Seq")
GAP = np.zeros(SR // 2, dtype=np.float32)


def conversation(instruction: str, clips: Sequence[np.ndarray], system: str | None = None) -> list[dict[str, Any]]:
    """The chat: an optional system turn, then one user turn with the clips in order and the instruction."""
    content: list[dict[str, Any]] = [{"type": "audio", "audio": np.asarray(c, dtype=np.float32)} for c in clips]
    head = [{"role": "system", "content": [{"type": "text", "text": system}]}] if system else []
    return [*head, {"role": "user", "content": [*content, {"type": "text", "text": instruction}]}]


def model_class(config: Any) -> Any:
    """The transformers class that generates text for ``config``.

    Raises:
        AdapterError: no auto class maps it and its ``architectures`` name no generating class.
    """
    import transformers

    for name in AUTO_CLASSES:
        auto = getattr(transformers, name, None)
        if auto is not None and type(config) in auto._model_mapping:
            return auto
    for arch in getattr(config, "architectures", None) or []:
        cls = getattr(transformers, arch, None)
        if cls is not None and hasattr(cls, "generate"):
            return cls
    raise AdapterError(
        f"unknown architecture: model_type {config.model_type!r} (architectures {config.architectures}) is not an "
        "audio-chat model this transformers version knows; upgrade transformers, or pass "
        "--model-arg trust_remote_code=true if the model ships its own code"
    )


def text_part(config: Any) -> tuple[Any, str]:
    """The config of the part that writes text, and the prefix of its weights in the checkpoint.

    Models that also speak (Qwen2.5-Omni, Qwen3-Omni) keep their text model as a
    ``thinker`` beside a talker and a vocoder. The benchmark reads text, so only the
    thinker is loaded (its weights under ``thinker.``); the rest stays on disk.
    """
    thinker = getattr(config, "thinker_config", None)
    return (thinker, r"thinker\.") if thinker is not None else (config, "")


def missing_pieces(processor: Any) -> list[str]:
    """What an audio-chat processor lacks: an audio feature extractor, a tokenizer, a chat template."""
    missing = []
    if getattr(processor, "feature_extractor", None) is None and getattr(processor, "audio_processor", None) is None:
        missing.append("an audio feature extractor (preprocessor_config.json)")
    if getattr(processor, "tokenizer", None) is None:
        missing.append("a tokenizer")
    if not getattr(processor, "chat_template", None):
        missing.append("a chat template (chat_template.jinja or chat_template.json)")
    return missing


def adopt_tokenizer_template(processor: Any) -> None:
    """Give the processor its tokenizer's chat template when it loaded none of its own.

    Some processors (e.g. Phi-4-multimodal's) do not pick up ``chat_template.jinja``
    on loading, and some model folders keep the template only in the tokenizer's
    config; either way the model's own template is the tokenizer's.
    """
    template = getattr(getattr(processor, "tokenizer", None), "chat_template", None)
    if not getattr(processor, "chat_template", None) and template:
        processor.chat_template = template


class AudioLLMAdapter(Adapter):
    """A transformers audio LLM with an audio processor and a chat template."""

    libraries = ("transformers", "accelerate", "vllm")
    mixes_tasks = True

    def __init__(
        self,
        spec_argument: str | None = None,
        device: str = "auto",
        dtype: str = "float32",
        max_new_tokens: object = 64,
        trust_remote_code: object = "false",
        backend: str = "transformers",
        gpu_memory_utilization: object = 0.85,
        system: str | None = None,
        answer: str = "generate",
        multi_audio: str = "native",
        rank_calibration: str = "none",
    ) -> None:
        if not spec_argument:
            raise OptionError("audiollm needs a model: audiollm:/path/to/Qwen2-Audio-7B-Instruct (or a hub id)")
        if backend not in ("transformers", "vllm"):
            raise OptionError(f"backend={backend!r}: use transformers or vllm")
        try:
            check_rank_options(answer, rank_calibration)
        except ValueError as exc:
            raise OptionError(str(exc)) from exc
        if answer == "rank" and backend == "vllm":
            raise OptionError("answer=rank needs backend=transformers (it reads the model's logits)")
        if multi_audio not in ("native", "concat"):
            raise OptionError(f"multi_audio={multi_audio!r}: use native (one audio part per clip) or concat")
        self.source, self.device_spec, self.dtype_spec, self.backend = spec_argument, device, dtype, backend
        self.max_new_tokens = int_option("max_new_tokens", max_new_tokens)
        self.gpu_memory_utilization = float_option("gpu_memory_utilization", gpu_memory_utilization)
        # Remote code runs arbitrary Python from the model folder: only when the user asks for it.
        self.trust_remote_code = str(trust_remote_code).lower() in ("true", "1", "yes")
        self.system, self.answer, self.multi_audio = system or None, answer, multi_audio
        self.calibration = rank_calibration
        self._baseline_cache: dict[str, list[float]] = {}
        self._audio_rate: float | None = None
        self._text_tokens: dict[str, int] = {}
        self.processor: Any = None
        self.model: Any = None
        self.vllm: Any = None

    # ------------------------------------------------------------ loading

    def load_processor(self) -> None:
        """Load the processor (cheap: no weights) and check it has every piece an audio chat needs."""
        if self.processor is not None:
            return
        from transformers import AutoProcessor

        try:
            processor = AutoProcessor.from_pretrained(self.source, trust_remote_code=self.trust_remote_code)
        except (OSError, ValueError) as exc:
            raise AdapterError(offline_hint(self.source, exc, "audiollm:/path/to/model")) from exc
        adopt_tokenizer_template(processor)
        if missing := missing_pieces(processor):
            lacks = " and ".join(missing)
            raise AdapterError(f"{self.source}: the processor lacks {lacks}; add it to the model folder")
        extractor = getattr(processor, "feature_extractor", None) or getattr(processor, "audio_processor", None)
        rate = getattr(extractor, "sampling_rate", SR)
        if rate != SR:
            raise AdapterError(f"{self.source} expects {rate} Hz audio; tasks are 16 kHz")
        processor.tokenizer.padding_side = "left"
        self.processor = processor

    def load(self) -> None:
        """Load the processor and the model (transformers or vLLM)."""
        self.load_processor()
        if self.backend == "vllm":
            self._load_vllm()
            return
        from transformers import AutoConfig

        config, prefix = text_part(AutoConfig.from_pretrained(self.source, trust_remote_code=self.trust_remote_code))
        cls = model_class(config)
        if self.answer == "rank" and config.is_encoder_decoder:
            raise AdapterError(f"answer=rank supports decoder-only models; {self.source} is an encoder-decoder")
        self.device, self.dtype = resolve_device(self.device_spec), resolve_dtype(self.dtype_spec)
        mapping = {"key_mapping": {f"^{prefix}": ""}} if prefix else {}
        try:
            model = cls.from_pretrained(
                self.source, config=config, dtype=self.dtype, trust_remote_code=self.trust_remote_code, **mapping
            )
        except (OSError, ValueError) as exc:
            raise AdapterError(f"cannot load the weights of {self.source}: {exc}") from exc
        self.model = model.to(self.device).eval()
        self.encoder_decoder = bool(config.is_encoder_decoder)

    def _load_vllm(self) -> None:
        try:
            from vllm import LLM
        except ImportError as exc:
            raise AdapterError("backend=vllm needs vllm (GPU machines): pip install vllm") from exc
        self.vllm = LLM(
            model=self.source,
            dtype=self.dtype_spec,
            trust_remote_code=self.trust_remote_code,
            limit_mm_per_prompt={"audio": 4},
            gpu_memory_utilization=self.gpu_memory_utilization,
        )

    # ------------------------------------------------------------ checks

    def check(self, card: TaskCard, n_train: int) -> str | None:
        """Tasks with several clips need a template that places each one (or ``multi_audio=concat``)."""
        if card.audio_inputs < 2 or self.multi_audio == "concat":
            return None
        try:
            self.load_processor()
        except AdapterError:
            return None  # load() reports it with the whole context
        probe = conversation("?", [np.zeros(SR // 10, dtype=np.float32)] * card.audio_inputs, self.system)
        fix = "pass --model-arg multi_audio=concat to join the clips with 0.5 s of silence"
        try:
            text = self.processor.apply_chat_template(probe, add_generation_prompt=True, tokenize=False)
            self.processor.apply_chat_template(probe, add_generation_prompt=True, tokenize=True, return_dict=True)
        except (ValueError, TypeError, IndexError) as exc:
            return f"{card.name} has audio_inputs={card.audio_inputs}; the processor refuses that ({exc}); {fix}"
        token = getattr(self.processor, "audio_token", None)
        placed = text.count(token) if token else card.audio_inputs
        if placed != card.audio_inputs:
            return (
                f"{card.name} has audio_inputs={card.audio_inputs}, but {self.source}'s chat template places "
                f"{placed} audio item(s); {fix}"
            )
        return None

    # ------------------------------------------------------------ answering

    def clips(self, query: Query) -> list[np.ndarray]:
        """The query's clips, joined into one when ``multi_audio=concat``."""
        clips = [np.asarray(c, dtype=np.float32) for c in query.audio]
        if self.multi_audio == "concat" and len(clips) > 1:
            joined = [part for c in clips for part in (c, GAP)][:-1]
            return [np.concatenate(joined)]
        return clips

    def conversations(self, batch: Sequence[Query]) -> list[list[dict[str, Any]]]:
        """The chat of each query."""
        return [conversation(q.instruction, self.clips(q), self.system) for q in batch]

    def prompts(self, batch: Sequence[Query]) -> list[str]:
        """The chat-template prompt text of each query."""
        return [
            self.processor.apply_chat_template(c, add_generation_prompt=True, tokenize=False)
            for c in self.conversations(batch)
        ]

    def encode(self, conversations: list[list[dict[str, Any]]]) -> dict[str, Any]:
        """Token ids, masks and audio features of a batch, on the model's device."""
        inputs = self.processor.apply_chat_template(
            conversations,
            add_generation_prompt=True,
            tokenize=True,
            return_dict=True,
            return_tensors="pt",
            processor_kwargs={"text_kwargs": {"padding": True}},  # audio keeps its own padding (e.g. 30 s)
        )
        return {
            k: (v.to(self.device, self.dtype) if v.is_floating_point() else v.to(self.device))
            for k, v in inputs.items()
            if hasattr(v, "to")
        }

    def input_length(self, instruction: str, seconds: float) -> float:
        """Prompt tokens: the instruction's, and the audio's at the processor's rate (measured once)."""
        if self.processor is None:
            return seconds
        if self._audio_rate is None:
            self._audio_rate = self.audio_tokens_per_second()
        if instruction not in self._text_tokens:
            ids = self.processor.tokenizer(instruction, add_special_tokens=False)["input_ids"]
            self._text_tokens[instruction] = len(ids)
        return self._audio_rate * seconds + self._text_tokens[instruction]

    def audio_tokens_per_second(self) -> float:
        """Prompt tokens per second of audio (0 for a model that gives every clip the same number)."""
        sizes = []
        for seconds in (1, 3):
            chat = conversation("?", [np.zeros(SR * seconds, dtype=np.float32)], self.system)
            ids = self.processor.apply_chat_template(chat, add_generation_prompt=True, tokenize=True, return_dict=True)
            sizes.append(len(ids["input_ids"][0]))
        return (sizes[1] - sizes[0]) / 2

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[str]:
        """Greedy replies for a batch, or ranked labels with ``answer=rank`` on classification tasks."""
        return self.predict_mixed([(card, q) for q in batch])

    def predict_mixed(self, items: Sequence[tuple[TaskCard, Query]]) -> list[str]:
        """Replies to queries of any tasks: one generate call for all of them (ranked queries per task)."""
        if self.processor is None or (self.model is None and self.vllm is None):
            self.load()
        queries = [q for _, q in items]
        return answer_mixed(
            [card for card, _ in items],
            self.answer,
            lambda labels, positions: self.rank(labels, [queries[i] for i in positions]),
            lambda positions: self.generate([queries[i] for i in positions]),
        )

    def generate(self, batch: Sequence[Query]) -> list[str]:
        """Greedy replies for a batch of queries, whatever their tasks (one padded ``generate`` call)."""
        if self.vllm is not None:
            return self._predict_vllm(self.prompts(batch), batch)
        import torch

        inputs = self.encode(self.conversations(batch))
        with torch.inference_mode():
            out = self.model.generate(**inputs, do_sample=False, max_new_tokens=self.max_new_tokens)
        new = out if self.encoder_decoder else out[:, inputs["input_ids"].shape[1] :]
        return [r.strip() for r in self.processor.batch_decode(new, skip_special_tokens=True)]

    def rank(self, labels: Sequence[str], batch: Sequence[Query]) -> list[str]:
        """The most likely label of each query (one forward pass per query over all labels)."""
        tokenizer = self.processor.tokenizer
        try:
            ids = label_token_ids(tokenizer, labels)
        except ValueError as exc:
            raise AdapterError(f"{self.source}: {exc}") from exc
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        answers: list[str] = []
        for query, conv in zip(batch, self.conversations(batch), strict=True):
            scores = rank_scores(self.model, self.encode([conv]), ids, pad)
            if self.calibration == "content-free":
                base = self.silent_scores(query, labels, ids, pad)
                scores = [s - b for s, b in zip(scores, base, strict=True)]
            answers.append(best_label(labels, scores))
        return answers

    def silent_scores(self, query: Query, labels: Sequence[str], ids: list[list[int]], pad: int) -> list[float]:
        """Label scores for the same prompt with silent clips of the same lengths (cached: many queries share it)."""
        silent = [np.zeros_like(c) for c in self.clips(query)]
        key = repr((query.instruction, [len(c) for c in silent], tuple(labels)))
        if key not in self._baseline_cache:
            conv = conversation(query.instruction, silent, self.system)
            self._baseline_cache[key] = rank_scores(self.model, self.encode([conv]), ids, pad)
        return self._baseline_cache[key]

    def _predict_vllm(self, prompts: list[str], batch: Sequence[Query]) -> list[str]:
        from vllm import SamplingParams

        requests = [
            {"prompt": p, "multi_modal_data": {"audio": [(c, SR) for c in self.clips(q)]}}
            for p, q in zip(prompts, batch, strict=True)
        ]
        outputs = self.vllm.generate(requests, SamplingParams(temperature=0.0, max_tokens=self.max_new_tokens))
        return [o.outputs[0].text.strip() for o in outputs]

    def info(self) -> dict[str, object]:
        """What was evaluated and under which protocol."""
        return {
            "description": f"audio LLM {self.source} ({self.backend})",
            "protocol": protocol_name(self.answer, self.calibration),
        }
