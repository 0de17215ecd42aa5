"""``audiollm:<folder-or-hub-id>``: end-to-end audio LLMs through transformers (Qwen2-Audio first).

The prompt is the model's own chat template with one audio item per clip (the
Qwen2-Audio template numbers them "Audio 1:", "Audio 2:") followed by the instruction.
Batched with left padding, greedy, ``max_new_tokens`` configurable. With
``--model-arg backend=vllm`` (GPU machines where vllm imports) the same prompts and
clips go through vLLM for throughput.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from benchmark.adapters.base import Adapter, AdapterError, OptionError, Query, float_option, int_option, offline_hint
from benchmark.adapters.torch_utils import resolve_device, resolve_dtype
from benchmark.task.card import TaskCard

SUPPORTED = {"qwen2_audio": "Qwen2AudioForConditionalGeneration"}
SR = 16_000


def conversation(instruction: str, n_clips: int) -> list[dict[str, Any]]:
    """One user turn: the clips in order, then the instruction.

    Qwen2-Audio's chat template numbers the audio items itself ("Audio 1:", "Audio 2:").
    """
    content = [{"type": "audio", "audio_url": f"clip-{i + 1}"} for i in range(n_clips)]
    return [{"role": "user", "content": [*content, {"type": "text", "text": instruction}]}]


class AudioLLMAdapter(Adapter):
    """A transformers audio LLM with an audio processor and a chat template."""

    libraries = ("transformers", "accelerate", "vllm")

    def __init__(
        self,
        spec_argument: str | None = None,
        device: str = "auto",
        dtype: str = "float32",
        max_new_tokens: object = 64,
        trust_remote_code: object = "false",
        backend: str = "transformers",
        gpu_memory_utilization: object = 0.85,
    ) -> None:
        if not spec_argument:
            raise OptionError("audiollm needs a model: audiollm:/path/to/Qwen2-Audio-7B-Instruct (or a hub id)")
        if backend not in ("transformers", "vllm"):
            raise OptionError(f"backend={backend!r}: use transformers or vllm")
        self.source, self.device_spec, self.dtype_spec, self.backend = spec_argument, device, dtype, backend
        self.max_new_tokens = int_option("max_new_tokens", max_new_tokens)
        self.gpu_memory_utilization = float_option("gpu_memory_utilization", gpu_memory_utilization)
        # Remote code runs arbitrary Python from the model folder: only when the user asks for it.
        self.trust_remote_code = str(trust_remote_code).lower() in ("true", "1", "yes")
        self.processor: Any = None
        self.model: Any = None
        self.vllm: Any = None

    def load(self) -> None:
        """Load the processor and the model (transformers or vLLM)."""
        from transformers import AutoConfig, AutoProcessor

        try:
            config = AutoConfig.from_pretrained(self.source, trust_remote_code=self.trust_remote_code)
            self.processor = AutoProcessor.from_pretrained(self.source, trust_remote_code=self.trust_remote_code)
        except (OSError, ValueError) as exc:
            raise AdapterError(offline_hint(self.source, exc, "audiollm:/path/to/model")) from exc
        if config.model_type not in SUPPORTED:
            raise AdapterError(f"{self.source} is a {config.model_type!r} model; supported: {', '.join(SUPPORTED)}")
        self.processor.tokenizer.padding_side = "left"
        if self.backend == "vllm":
            self._load_vllm()
            return
        import transformers

        cls = getattr(transformers, SUPPORTED[config.model_type])
        self.device = resolve_device(self.device_spec)
        self.dtype = resolve_dtype(self.dtype_spec)
        self.model = cls.from_pretrained(self.source, dtype=self.dtype).to(self.device).eval()

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

    def prompts(self, batch: Sequence[Query]) -> list[str]:
        """The chat-template prompt of each query."""
        return [
            self.processor.apply_chat_template(
                conversation(q.instruction, len(q.audio)), add_generation_prompt=True, tokenize=False
            )
            for q in batch
        ]

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[str]:
        """Greedy replies for a batch."""
        if self.processor is None:
            self.load()
        prompts = self.prompts(batch)
        if self.vllm is not None:
            return self._predict_vllm(prompts, batch)
        import torch

        clips = [np.asarray(c, dtype=np.float32) for q in batch for c in q.audio]
        inputs = self.processor(text=prompts, audio=clips, sampling_rate=SR, return_tensors="pt", padding=True)
        inputs = {
            k: (v.to(self.device, self.dtype) if v.is_floating_point() else v.to(self.device))
            for k, v in inputs.items()
        }
        with torch.inference_mode():
            out = self.model.generate(**inputs, do_sample=False, max_new_tokens=self.max_new_tokens)
        new = out[:, inputs["input_ids"].shape[1] :]
        return [r.strip() for r in self.processor.batch_decode(new, skip_special_tokens=True)]

    def _predict_vllm(self, prompts: list[str], batch: Sequence[Query]) -> list[str]:
        from vllm import SamplingParams

        requests = [
            {"prompt": p, "multi_modal_data": {"audio": [(np.asarray(c), SR) for c in q.audio]}}
            for p, q in zip(prompts, batch, strict=True)
        ]
        outputs = self.vllm.generate(requests, SamplingParams(temperature=0.0, max_tokens=self.max_new_tokens))
        return [o.outputs[0].text.strip() for o in outputs]

    def info(self) -> dict[str, object]:
        """Parameter count once loaded (transformers backend)."""
        return {"description": f"audio LLM {self.source} ({self.backend})"}
