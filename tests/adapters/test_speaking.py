"""Systems that speak: espeak-ng TTS, the floors, the reference row, the spoken cascade and ``api:`` audio replies.

Every system is called directly on small audio task folders built here (tones as inputs and
references); espeak-ng and the cascade's Whisper tiny.en and SmolLM2 run for real.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from helpers import README, ChatServer, card, make_task, tone, write_audio

from benchmark.adapters import SpecError, build_adapter
from benchmark.adapters.api import ApiAdapter
from benchmark.adapters.base import Adapter, OptionError, Query, query_for
from benchmark.adapters.registry import REGISTRY
from benchmark.adapters.speaking import Espeak, EspeakAdapter
from benchmark.scoring.speech.answer import AudioAnswer
from benchmark.submission.card import ModelCard
from benchmark.task.audio import resample
from benchmark.task.folder import Task, load_task

SPEAKERS = ["tts", "cascade-speak", "silence", "copy-input", "reference"]


def make_audio_task(root: Path, name: str, *, inputs: int, sources: int, n: int = 32) -> Path:
    """An audio task: ``inputs`` tone clips in, ``sources`` reference tones out, a text to say per example."""
    folder = root / name
    (folder / "audio").mkdir(parents=True)
    overrides = {
        "task_type": "audio",
        "metric": "WER[whisper-tiny.en]" if sources == 1 else "SI-SDR",
        "labels": None,
        "dimension": "content",
        "languages": ["en"],
        "audio_inputs": inputs,
        "instructions": ["Say the text.", "Read the text aloud.", "Speak this text.", "Please say it.", "Voice it."],
        "output": {"sources": sources, "max_seconds": 10, "speaker": "any", "language": "en"},
    }
    (folder / "task.json").write_text(json.dumps(card(name, **overrides), indent=2))
    rows = []
    for i in range(n):
        refs = [f"audio/ref{i}_{s}.flac" for s in range(sources)]
        for s, rel in enumerate(refs):
            write_audio(folder / rel, tone(300 + 40 * i + 500 * s, 0.5))
        audio = [f"audio/in{i}_{k}.flac" for k in range(inputs)]
        for k, rel in enumerate(audio):
            write_audio(folder / rel, tone(200 + 10 * i + 3 * k, 0.4))
        row = {"id": f"{i:04d}", "split": "test", "audio": audio, "label": f"hello world {i}"}
        rows.append({**row, "text": f"hello world {i}", "reference_audio": refs[0] if sources == 1 else refs})
    (folder / "examples.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (folder / "README.md").write_text(README)
    return folder


def queries(task: Task, n: int = 3, adapter: Adapter | None = None) -> list[Query]:
    """The first ``n`` test queries as ``adapter`` sees them (by default, as a model under evaluation)."""
    return [query_for(task, e, task.load_audio(e), adapter or Adapter()) for e in task.split("test")[:n]]


@pytest.fixture(scope="module")
def say(tmp_path_factory) -> Task:
    """Text to speech: no input clip, one reference clip."""
    return load_task(make_audio_task(tmp_path_factory.mktemp("say"), "SayIt", inputs=0, sources=1))


@pytest.fixture(scope="module")
def split(tmp_path_factory) -> Task:
    """Separation: one input clip, two reference clips."""
    return load_task(make_audio_task(tmp_path_factory.mktemp("split"), "SplitIt", inputs=1, sources=2))


@pytest.fixture(scope="module")
def text_task(tmp_path_factory) -> Task:
    return load_task(make_task(tmp_path_factory.mktemp("text"), n_train=0))


def decode(data: bytes) -> tuple[np.ndarray, int]:
    samples, rate = sf.read(io.BytesIO(data), dtype="float32")
    return samples, int(rate)


def test_each_speaker_is_registered_builds_and_answers_audio_only(say: Task, text_task: Task) -> None:
    for family in SPEAKERS:
        adapter = build_adapter(REGISTRY[family].example)
        assert adapter.answers == frozenset({"audio"}), family
        assert adapter.check(say.card, 0) is None, family
        assert "answered with text" in (adapter.check(text_task.card, 0) or ""), family
    for spec in [*(REGISTRY[f].example for f in SPEAKERS), "api:m"]:
        ModelCard(name="m", adapter=spec, **build_adapter(spec).info())  # what model.json accepts
    assert build_adapter("reference").reads_references
    assert build_adapter("reference").info()["reference_system"] is True
    assert not any(build_adapter(REGISTRY[f].example).reads_references for f in SPEAKERS if f != "reference")


def test_spec_and_option_errors_are_one_line() -> None:
    with pytest.raises(SpecError, match="espeak"):
        build_adapter("tts:festival")
    with pytest.raises(SpecError, match="two voices"):
        build_adapter("tts:espeak:en-us", {"voice": "de"})
    with pytest.raises(SpecError, match="seconds"):
        build_adapter("silence", {"seconds": "0"})
    with pytest.raises(SpecError, match="answer=rank"):
        build_adapter("cascade-speak", {"answer": "rank"})
    with pytest.raises(SpecError, match="endpoint"):
        build_adapter("api:m", {"endpoint": "tts"})


def test_silence_is_one_second_of_zeros_per_source(say: Task, split: Task) -> None:
    adapter = build_adapter("silence")
    (one,) = adapter.predict(say.card, queries(say, 1))
    assert isinstance(one, AudioAnswer) and one.rate == 16_000
    assert one.samples.shape == (16_000,) and not one.samples.any()
    answers = adapter.predict(split.card, queries(split))
    assert len(answers) == 3
    for answer in answers:
        assert isinstance(answer, AudioAnswer)
        assert len(answer.clips()) == 2 and all(c.shape == (16_000,) and not c.any() for c in answer.clips())


def test_copy_input_returns_the_input_once_per_source_and_nothing_without_input(say: Task, split: Task) -> None:
    adapter = build_adapter("copy-input")
    batch = queries(split)
    for answer, query in zip(adapter.predict(split.card, batch), batch, strict=True):
        assert isinstance(answer, AudioAnswer) and answer.rate == 16_000
        clips = answer.clips()
        assert len(clips) == 2 and all(np.array_equal(c, query.audio[0]) for c in clips)
    assert all(a.samples is None and not a.clips() for a in adapter.predict(say.card, queries(say)))


def test_reference_returns_each_examples_references(say: Task, split: Task) -> None:
    adapter = build_adapter("reference")
    for task, sources in ((say, 1), (split, 2)):
        batch = queries(task, adapter=adapter)
        for answer, example in zip(adapter.predict(task.card, batch), task.split("test")[:3], strict=True):
            assert isinstance(answer, AudioAnswer) and answer.rate == 16_000
            assert len(answer.clips()) == sources
            expected = task.load_references(example)
            assert all(np.array_equal(c, r) for c, r in zip(answer.clips(), expected, strict=True))
    # Handed no references (as any other adapter is), it has no audio to give.
    assert adapter.predict(say.card, queries(say, 1))[0].samples is None


@pytest.mark.espeak
def test_espeak_speaks_the_text_and_whisper_hears_it(say: Task) -> None:
    from benchmark.adapters.cascade import FasterWhisperASR

    adapter = build_adapter("tts:espeak")
    adapter.load()
    assert re.search(r"espeak-ng \d+\.\d+", str(adapter.info()["description"])), adapter.info()
    batch = queries(say)
    answers = adapter.predict(say.card, batch)
    for answer in answers:
        assert isinstance(answer, AudioAnswer) and answer.rate == 22_050
        x = answer.samples
        assert x.dtype == np.float32 and x.ndim == 1 and 0.5 < len(x) / 22_050 < 6
        assert np.isfinite(x).all() and np.sqrt(np.mean(x**2)) > 0.01
    (fox,) = adapter.predict(say.card, [Query("f", "Say it.", text="The quick brown fox jumps over the lazy dog.")])
    heard = FasterWhisperASR(None, "cpu").transcribe([resample(fox.samples, 22_050, 16_000)])[0].lower()
    assert "fox" in heard and "dog" in heard, heard
    # A query without text gets no audio; a text starting with '-' is spoken, not read as an option.
    silent, dash = adapter.predict(say.card, [Query("a", "Say it."), Query("b", "Say it.", text="-v fr hi")])
    assert silent.samples is None
    assert dash.rate == 22_050 and len(dash.samples) > 2_000


@pytest.mark.espeak
def test_espeak_voice_from_the_spec_or_an_argument_and_unknown_voices(say: Task) -> None:
    low, high = (build_adapter("tts:espeak:en-us"), build_adapter("tts:espeak", {"voice": "en-us+f3"}))
    assert isinstance(low, EspeakAdapter) and isinstance(high, EspeakAdapter)
    assert "voice en-us," in str(low.info()["description"]) and "voice en-us+f3" in str(high.info()["description"])
    (a,), (b,) = low.predict(say.card, queries(say, 1)), high.predict(say.card, queries(say, 1))
    assert not np.array_equal(a.samples[: len(b.samples)], b.samples[: len(a.samples)])
    with pytest.raises(OptionError, match="no voice 'xx-nowhere'"):
        build_adapter("tts:espeak:xx-nowhere").load()


def test_espeak_missing_names_the_install(monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(Exception, match="apt-get install espeak-ng"):
        Espeak().speak("hello")


@pytest.mark.espeak
def test_spoken_cascade_hears_replies_and_speaks_offline(tmp_path: Path) -> None:
    """Whisper tiny.en + SmolLM2-135M + espeak-ng, all offline, on a spoken question."""
    question = Espeak().speak("What colour is the sky on a sunny day?")
    clip = resample(question[0], question[1], 16_000).astype(np.float32)
    ask = load_task(make_audio_task(tmp_path, "AskIt", inputs=1, sources=1))
    adapter = build_adapter("cascade-speak", {"transcripts": "off"})
    query = Query("q", "Answer the question aloud.", audio=[clip])
    (answer,) = adapter.predict(ask.card, [query])
    assert isinstance(answer, AudioAnswer) and answer.rate == 22_050
    assert answer.text and "\n" not in answer.text  # the LLM's reply, one line
    assert len(answer.samples) > 0.3 * 22_050 and np.sqrt(np.mean(answer.samples**2)) > 0.01
    assert "sky" in adapter.cascade.last_transcripts[0][0].lower()
    info = adapter.info()
    assert "faster-whisper" in str(info["description"]) and "espeak-ng" in str(info["description"])
    assert "reference_system" not in info
    # The oracle text view (a reference system) reads the task's transcripts instead of transcribing.
    oracle = build_adapter("cascade-speak", {"text_view": "oracle"})
    assert oracle.reads_transcripts and oracle.info()["reference_system"] is True
    read = Query("t", "Answer the question aloud.", audio=[clip], transcript=["Is the sky green?"])
    (answer,) = adapter.predict(ask.card, [read])
    assert adapter.cascade.last_transcripts == [["Is the sky green?"]] and answer.text


def tone_pitch(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[spectrum.argmax()])


def api(server: ChatServer, tmp_path: Path, **args: str) -> ApiAdapter:
    adapter = build_adapter("api:speaker", {"base_url": server.url, "cache_dir": str(tmp_path / "cache"), **args})
    assert isinstance(adapter, ApiAdapter)
    return adapter


def test_api_asks_for_a_spoken_reply_and_reads_audio_and_transcript(say: Task, text_task: Task, tmp_path) -> None:
    def reply(content: list[dict]) -> str:
        texts = [p["text"] for p in content if p["type"] == "text"]
        return f"I say {texts[-1]}"

    with ChatServer(reply) as server:
        adapter = api(server, tmp_path, voice="verse")
        spoken = queries(say)
        written = queries(text_task, 1)
        items = [(say.card, spoken[0]), (text_task.card, written[0]), *((say.card, q) for q in spoken[1:])]
        answers = adapter.predict_mixed(items)
        assert isinstance(answers[1], str) and answers[1].startswith("I say")
        for answer, query in zip([answers[0], *answers[2:]], spoken, strict=True):
            assert isinstance(answer, AudioAnswer) and answer.format == "wav"
            assert answer.text == f"I say {query.text}"
            samples, rate = decode(answer.data)
            assert rate == 24_000 and abs(len(samples) / rate - (0.2 + 0.05 * len(answer.text))) < 0.01
            assert abs(tone_pitch(samples, rate) - 440) < 5
        audio_calls = [c["body"] for c in server.calls if "modalities" in c["body"]]
        assert len(audio_calls) == 3 and len(server.calls) == 4
        for body in audio_calls:
            assert body["modalities"] == ["text", "audio"] and body["audio"] == {"voice": "verse", "format": "wav"}
        # The example's text follows the instruction (requests arrive in any order: concurrency 4).
        said = sorted(body["messages"][-1]["content"][-1]["text"] for body in audio_calls)
        assert said == sorted(str(q.text) for q in spoken)
        # A repeated request is answered from the cache.
        again = adapter.predict(say.card, spoken)
        assert len(server.calls) == 4 and [a.data for a in again] == [answers[0].data, *(a.data for a in answers[2:])]


def test_api_reply_without_audio_is_missing_audio_with_its_text(say: Task, tmp_path: Path) -> None:
    with ChatServer(lambda content: "I cannot speak", speak=lambda text: None) as server:
        (answer,) = api(server, tmp_path, cache="off").predict(say.card, queries(say, 1))
    assert isinstance(answer, AudioAnswer) and answer.samples is None and answer.data is None
    assert answer.text == "I cannot speak" and answer.clips() == []


def test_api_speech_endpoint_posts_the_text_and_keeps_the_bytes(say: Task, text_task: Task, tmp_path: Path) -> None:
    with ChatServer(lambda content: "unused") as server:
        adapter = api(server, tmp_path, endpoint="speech", cache="off")
        assert "endpoint=speech only speaks" in (adapter.check(text_task.card, 0) or "")
        assert adapter.check(say.card, 0) is None
        answers = adapter.predict(say.card, [*queries(say, 2), Query("none", "Say it.")])
        assert [c["path"] for c in server.calls] == ["/v1/audio/speech"] * 2  # no text: no request
        bodies = sorted((c["body"] for c in server.calls), key=lambda b: b["input"])
        assert bodies[0] == {"model": "speaker", "input": "hello world 0", "voice": "alloy", "response_format": "wav"}
        assert bodies[1]["input"] == "hello world 1"
    for answer in answers[:2]:
        samples, rate = decode(answer.data)
        assert answer.format == "wav" and rate == 24_000 and len(samples) == int((0.2 + 0.05 * 13) * rate)
    assert answers[2].samples is None and answers[2].data is None
