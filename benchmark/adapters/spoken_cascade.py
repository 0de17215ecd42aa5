"""``cascade-speak:<asr>+<llm>``: a spoken reply made of parts: ASR, a text LLM, then espeak-ng.

The ASR and the LLM are those of ``cascade`` (same argument syntax, same ``--model-arg`` options,
same transcript cache; ``cascade-speak`` alone is offline Whisper tiny.en + SmolLM2-135M-Instruct).
The LLM is told that its reply will be read aloud, sees the transcripts, the instruction and the
example's text (what to say, a written question), and its first line is spoken by espeak-ng.
The answer carries the reply as its text channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from benchmark.adapters.base import Adapter, OptionError, Query, float_option, int_option
from benchmark.adapters.cascade import CascadeAdapter, first_line
from benchmark.adapters.speaking import SPEED, Espeak
from benchmark.scoring.speech.answer import AudioAnswer
from benchmark.task.card import TaskCard

SPOKEN_SYSTEM_PROMPT = (
    "You reply to spoken requests. You cannot hear the audio: you are given automatic transcripts of it, "
    "which may contain recognition errors. Your reply is read aloud by a speech synthesiser: answer in one "
    "short sentence of plain words, with no lists, markup or emoji."
)


def spoken_conversation(transcripts: Sequence[str], query: Query) -> list[dict[str, str]]:
    """The chat the LLM sees: the transcripts (labelled when several), the instruction, then the example's text."""
    if len(transcripts) == 1:
        heard = [f'Transcript: "{transcripts[0]}"']
    else:
        heard = [f'Transcript of audio {i}: "{t}"' for i, t in enumerate(transcripts, start=1)]
    given = [f'Text: "{query.text}"'] if query.text is not None else []
    user = "\n\n".join(part for part in ["\n".join(heard), query.instruction, *given] if part)
    return [{"role": "system", "content": SPOKEN_SYSTEM_PROMPT}, {"role": "user", "content": user}]


class SpokenCascadeAdapter(Adapter):
    """ASR, then a text LLM, then espeak-ng: a cascade that answers aloud."""

    answers: ClassVar[frozenset[str]] = frozenset({"audio"})
    libraries = CascadeAdapter.libraries
    mixes_tasks = True

    def __init__(
        self,
        spec_argument: str | None = None,
        voice: str = "en-us",
        speed: object = SPEED,
        tts_timeout: object = 60.0,
        tts_workers: object = 4,
        **cascade_args: Any,
    ) -> None:
        if cascade_args.get("answer", "generate") != "generate":
            raise OptionError(
                "cascade-speak generates its reply; answer=rank scores labels, which a spoken task has none"
            )
        self.cascade = CascadeAdapter(spec_argument, **cascade_args)
        self.reads_transcripts = self.cascade.reads_transcripts  # text_view=oracle: a reference system
        self.default_batch_size = self.cascade.default_batch_size
        self.tts = Espeak(voice, int_option("speed", speed), float_option("tts_timeout", tts_timeout))
        self.tts_workers = int_option("tts_workers", tts_workers)
        self.last_replies: list[str] = []

    def load(self) -> None:
        """Check espeak-ng and the voice first (cheap), then load the ASR and the LLM."""
        self.tts.check()
        self.cascade.load()

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[AudioAnswer]:
        """Transcribe, reply, speak."""
        return self.predict_mixed([(card, q) for q in batch])

    def predict_mixed(self, items: Sequence[tuple[TaskCard, Query]]) -> list[AudioAnswer]:
        """One ASR pass over every clip, one batched LLM call, then one espeak-ng run per reply."""
        if self.cascade.asr is None or self.cascade.llm is None:
            self.load()
        llm = self.cascade.llm
        assert llm is not None  # load() sets it or raises
        batch = [q for _, q in items]
        transcripts = self.cascade.transcribe(batch)  # the oracle view reads the task's transcripts
        chats = [spoken_conversation(t, q) for t, q in zip(transcripts, batch, strict=True)]
        replies = [first_line(r) for r in llm.generate(chats)]
        self.last_replies = replies
        spoken = self.tts.speak_many(replies, self.tts_workers)
        return [
            AudioAnswer(samples=a.samples, rate=a.rate, text=reply) for a, reply in zip(spoken, replies, strict=True)
        ]

    def info(self) -> dict[str, object]:
        """The parts: the cascade's ASR and LLM, and espeak-ng."""
        return {
            **self.cascade.info(),
            "description": f"ASR {self.cascade.asr_spec} then LLM {self.cascade.llm_spec}, "
            f"its reply spoken by {self.tts.describe()}",
        }
