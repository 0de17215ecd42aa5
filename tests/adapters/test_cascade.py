"""Cascades end to end through `bench run`: the shipped real models, tiny models built from configs,
PocketSphinx, and an OpenAI-compatible endpoint on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import ChatServer, make_task, read_examples, shipped_key, write_examples
from typer.testing import CliRunner

from benchmark.adapters.base import OptionError
from benchmark.adapters.cascade import CascadeAdapter, first_line, format_conversation, parse_cascade
from benchmark.cli import app
from benchmark.runner import evaluate
from benchmark.submission.records import read_records

runner = CliRunner()
TASKS = Path(__file__).resolve().parents[2] / "tasks"
SPECIALS = [
    "<|startoftranscript|>",
    "<|en|>",
    "<|transcribe|>",
    "<|translate|>",
    "<|notimestamps|>",
    "<|nocaptions|>",
    "<|startoflm|>",
    "<|startofprev|>",
]


def bench(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def tiny_whisper_asr(tmp_path_factory) -> Path:
    """A random-weight Whisper with a character vocabulary, tokenizer built offline."""
    from transformers import (
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizer,
    )

    vocab = {c: i for i, c in enumerate(["<|endoftext|>", *"abcdefghijklmnopqrstuvwxyz ", *SPECIALS])}
    tok = WhisperTokenizer(
        vocab=vocab,
        merges=[],
        unk_token="<|endoftext|>",
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=SPECIALS,
    )
    torch.manual_seed(0)
    cfg = WhisperConfig(
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        vocab_size=len(vocab),
        max_target_positions=64,
        pad_token_id=0,
        bos_token_id=0,
        eos_token_id=0,
        decoder_start_token_id=vocab["<|startoftranscript|>"],
    )
    model = WhisperForConditionalGeneration(cfg)
    model.generation_config.no_timestamps_token_id = vocab["<|notimestamps|>"]
    folder = tmp_path_factory.mktemp("tiny-whisper-asr")
    model.save_pretrained(folder)
    WhisperProcessor(WhisperFeatureExtractor(), tok).save_pretrained(folder)
    return folder


def test_spec_parsing_and_prompt() -> None:
    assert parse_cascade(None) == ("faster-whisper", "smollm2")
    assert parse_cascade("whisper:/m+hf:/l") == ("whisper:/m", "hf:/l")
    chat = format_conversation(["hello there", "hi"], "Same speaker?")
    assert 'Transcript of audio 1: "hello there"' in chat[1]["content"]
    assert 'Transcript of audio 2: "hi"' in chat[1]["content"] and chat[1]["content"].endswith("Same speaker?")
    assert first_line("\n  seven \nThe answer is seven because") == "seven"


def test_offline_default_cascade_transcribes_real_speech(tmp_path: Path) -> None:
    """faster-whisper tiny.en + SmolLM2-135M, both shipped inside PyPI packages."""
    result = bench(
        "run",
        "--model",
        "cascade",
        "--tasks",
        "SentenceTranscription",
        "--tasks",
        "SameSpeaker",
        "--limit",
        "4",
        "--batch-size",
        "4",
        "--tasks-root",
        str(TASKS),
        "--out",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    records = read_records(tmp_path / f"cascade/runs/{shipped_key('SentenceTranscription')}.jsonl")
    assert len(records) == 4
    errors = sum(r.errors or 0 for r in records) / sum(r.ref_units or 0 for r in records)
    assert errors < 0.5, [(r.reference, r.output) for r in records]
    assert len(read_records(tmp_path / f"cascade/runs/{shipped_key('SameSpeaker')}.jsonl")) == 4
    card = json.loads((tmp_path / "cascade/model.json").read_text())
    assert card["description"] == "ASR faster-whisper then LLM smollm2"


def test_tiny_transformers_whisper_and_chat_lm(tmp_path: Path, tiny_whisper_asr: Path, tiny_chat_lm: Path) -> None:
    spec = f"cascade:whisper:{tiny_whisper_asr}+hf:{tiny_chat_lm}"
    result = bench(
        "run",
        "--model",
        spec,
        "--name",
        "tiny-cascade",
        "--tasks",
        "SpeakerGender",
        "--limit",
        "3",
        "--tasks-root",
        str(TASKS),
        "--out",
        str(tmp_path),
        "--model-arg",
        "max_new_tokens=4",
        "--device",
        "cpu",
    )
    assert result.exit_code == 0, result.output
    records = read_records(tmp_path / f"tiny-cascade/runs/{shipped_key('SpeakerGender')}.jsonl")
    assert len(records) == 3 and all(isinstance(r.output, str) for r in records)


def test_tiny_cascade_ranks_labels(tmp_path: Path, tiny_whisper_asr: Path, tiny_chat_lm: Path) -> None:
    spec = f"cascade:whisper:{tiny_whisper_asr}+hf:{tiny_chat_lm}"
    result = bench(
        "run",
        "--model",
        spec,
        "--name",
        "rank",
        "--tasks",
        "SpeakerGender",
        "--limit",
        "3",
        "--tasks-root",
        str(TASKS),
        "--out",
        str(tmp_path),
        "--device",
        "cpu",
        "--model-arg",
        "answer=rank",
    )
    assert result.exit_code == 0, result.output
    records = read_records(tmp_path / f"rank/runs/{shipped_key('SpeakerGender')}.jsonl")
    assert len(records) == 3 and {r.tier for r in records} == {"exact"}
    assert all(r.output == max(r.label_scores, key=r.label_scores.get) for r in records)
    assert json.loads((tmp_path / "rank/model.json").read_text())["protocol"] == "rank"
    result = bench(
        "run",
        "--model",
        spec,
        "--name",
        "calibrated",
        "--tasks",
        "SpeakerGender",
        "--limit",
        "3",
        "--tasks-root",
        str(TASKS),
        "--out",
        str(tmp_path),
        "--device",
        "cpu",
        "--model-arg",
        "answer=rank",
        "--model-arg",
        "rank_calibration=content-free",
    )
    assert result.exit_code == 0, result.output
    calibrated = read_records(tmp_path / f"calibrated/runs/{shipped_key('SpeakerGender')}.jsonl")
    assert [r.label_scores for r in calibrated] != [r.label_scores for r in records]
    assert json.loads((tmp_path / "calibrated/model.json").read_text())["protocol"] == "rank-calibrated"


def test_pocketsphinx_with_an_openai_compatible_endpoint(tmp_path: Path) -> None:
    with ChatServer(lambda prompt: "yes\nbecause both transcripts match") as server:
        result = bench(
            "run",
            "--model",
            "cascade:pocketsphinx+openai:served-model",
            "--model-arg",
            f"llm_url={server.url}",
            "--tasks",
            "SameSpeaker",
            "--limit",
            "6",
            "--tasks-root",
            str(TASKS),
            "--out",
            str(tmp_path),
            "--no-semantic",
        )
    assert result.exit_code == 0, result.output
    served = tmp_path / "cascade-pocketsphinx+openai-served-model"
    records = read_records(served / f"runs/{shipped_key('SameSpeaker')}.jsonl")
    assert [r.output for r in records] == ["yes"] * 6 and {r.tier for r in records} == {"exact"}
    prompts = [c["body"]["messages"][-1]["content"] for c in server.calls]
    assert len(prompts) == 6 and all("Transcript of audio 2:" in p for p in prompts)


@pytest.mark.parametrize(
    ("model", "args", "message"),
    [
        ("cascade:whisper", [], "cascade:<asr>+<llm>"),
        ("cascade:wav2letter+smollm2", [], "unknown ASR"),
        ("cascade:faster-whisper+gpt9", [], "unknown LLM"),
        ("cascade:pocketsphinx+openai:m", [], "llm_url"),
        ("cascade:faster-whisper:/no/such/dir+smollm2", [], "CTranslate2 model folder"),
        ("cascade:whisper:some-org/not-here+smollm2", [], "local folder"),
        ("cascade:pocketsphinx+openai:m", ["--model-arg", "answer=rank"], "needs a local LLM"),
        ("cascade", ["--model-arg", "answer=best"], "answer="),
    ],
)
def test_cascade_errors_are_clear(tmp_path: Path, model, args, message, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = bench(
        "run",
        "--model",
        model,
        *args,
        "--tasks",
        "SpokenDigits",
        "--limit",
        "1",
        "--tasks-root",
        str(TASKS),
        "--out",
        str(tmp_path),
    )
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output


def test_asr_sees_every_clip_in_order() -> None:
    from benchmark.adapters import Query
    from benchmark.adapters.cascade import CascadeAdapter
    from benchmark.task import load_task

    class Echo:
        def transcribe(self, clips):
            return [f"clip of {len(c)} samples" for c in clips]

    class Repeat:
        def generate(self, conversations):
            return [c[-1]["content"] for c in conversations]

    adapter = CascadeAdapter("pocketsphinx+smollm2")
    adapter.asr, adapter.llm = Echo(), Repeat()
    task = load_task(TASKS / "SameSpeaker")
    examples = task.split("test")[:2]
    queries = [Query(e.id, "Same?", tuple(task.load_audio(e))) for e in examples]
    outputs = adapter.predict(task.card, queries)
    for q, transcripts in zip(queries, adapter.last_transcripts, strict=True):
        assert transcripts == [f"clip of {len(c)} samples" for c in q.audio]
    assert outputs[0].startswith('Transcript of audio 1: "clip of') and np.all([len(q.audio) == 2 for q in queries])


def test_transcripts_are_cached_per_clip_content(tmp_path: Path) -> None:
    """A clip seen before (in any task, under any name) is never transcribed again; identities never mix."""
    from benchmark.adapters.cascade import PocketSphinxASR
    from benchmark.adapters.transcripts import CachedASR
    from benchmark.task import load_task

    class Counting(PocketSphinxASR):
        calls: list[int] = []

        def transcribe(self, clips):
            self.calls.append(len(clips))
            return super().transcribe(clips)

    task = load_task(TASKS / "SameSpeaker")
    a, b = task.load_audio(task.split("test")[0])
    asr = Counting()
    first = CachedASR(asr, tmp_path).transcribe([a, b, a.copy()])
    assert asr.calls == [2] and first[0] == first[2]
    rerun = CachedASR(asr, tmp_path)  # a new process reads the file
    assert rerun.transcribe([b, a]) == [first[1], first[0]] and asr.calls == [2] and rerun.hits == 2
    with rerun.path.open("a") as f:
        f.write('{"audio": "cut sh')  # a crash mid-write
    assert CachedASR(asr, tmp_path).transcribe([a]) == [first[0]]
    CachedASR(asr, tmp_path)._store({"new": "entry"})
    assert CachedASR(asr, tmp_path).known["new"] == "entry"  # the cut-short line did not swallow it
    asr.identity += " other options"
    assert CachedASR(asr, tmp_path).transcribe([a]) == [first[0]] and asr.calls == [2, 1]


class CountedCascade(CascadeAdapter):
    """The real cascade, remembering which tasks each batch across tasks held."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.batches: list[list[str]] = []

    def predict_mixed(self, items):
        self.batches.append([card.name for card, _ in items])
        return super().predict_mixed(items)


MIXED = ["SpeakerGender", "KeywordSpotting", "SentenceTranscription"]


@pytest.mark.parametrize("answer", ["generate", "rank"])
def test_tiny_cascade_batches_across_tasks_like_per_task_batches(
    tmp_path: Path, tiny_whisper_asr: Path, tiny_chat_lm: Path, answer: str
) -> None:
    # One ASR pass and one LLM call per batch across tasks; the records are those of per-task batches.
    parts = f"whisper:{tiny_whisper_asr}+hf:{tiny_chat_lm}"
    model = CountedCascade(parts, device="cpu", max_new_tokens=4, answer=answer, transcripts="off")
    evaluate(model, tasks=MIXED, tasks_root=TASKS, out=tmp_path, name="mixed", limit=5, batch_size=4)
    assert any(len(set(batch)) > 1 for batch in model.batches) and len(model.batches) == 4, model.batches
    alone = bench(
        "run",
        "--model",
        f"cascade:{parts}",
        "--name",
        "alone",
        "--tasks",
        ",".join(MIXED),
        "--limit",
        "5",
        "--batch-size",
        "2",
        "--per-task",
        "--tasks-root",
        str(TASKS),
        "--out",
        str(tmp_path),
        "--device",
        "cpu",
        "--model-arg",
        "max_new_tokens=4",
        "--model-arg",
        f"answer={answer}",
        "--model-arg",
        "transcripts=off",
    )
    assert alone.exit_code == 0, alone.output
    for task in MIXED:
        runs = [read_records(tmp_path / f"{name}/runs/{shipped_key(task)}.jsonl") for name in ("mixed", "alone")]
        mixed, per_task = ([r.model_dump(exclude={"seconds", "label_scores"}) for r in rs] for rs in runs)
        assert mixed == per_task and len(mixed) == 5
        # Label scores come from batches of other shapes: equal to float32 rounding, not to the last digit.
        for a, b in zip(*runs, strict=True):
            assert (a.label_scores is None) == (b.label_scores is None)
            assert a.label_scores is None or a.label_scores == pytest.approx(b.label_scores, abs=1e-4)
        assert all(
            (r.label_scores is not None) == (answer == "rank" and task != "SentenceTranscription") for r in runs[0]
        )


def test_the_encoder_takes_one_window_per_call_and_returns_the_batched_output() -> None:
    """The window-by-window encoder gives the batch's exact encoder output (same transcripts), one call each."""
    faster_whisper = pytest.importorskip("faster_whisper")
    from faster_whisper.audio import pad_or_trim

    from benchmark.adapters.cascade import FasterWhisperASR, WindowEncoder

    asr = FasterWhisperASR(None, "cpu")
    rng = np.random.default_rng(0)
    t = np.arange(16_000 * 2) / 16_000
    clips = [
        (0.3 * np.sin(2 * np.pi * f * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
        for f in (220, 440, 880)
    ]
    features = np.stack([pad_or_trim(asr.model.feature_extractor(c)[..., :-1]) for c in clips])
    calls: list[int] = []

    class Counting:
        def __init__(self, model: faster_whisper.WhisperModel) -> None:
            self.model, self.feature_extractor = model, model.feature_extractor

        def encode(self, batch: np.ndarray):
            calls.append(len(batch))
            return self.model.encode(batch)

    counting = Counting(asr.model)
    wrapped = WindowEncoder(counting)
    assert wrapped.feature_extractor is asr.model.feature_extractor  # everything else is the model's own
    windowed = np.asarray(wrapped.encode(features))
    assert calls == [1, 1, 1]
    assert np.array_equal(windowed, np.asarray(asr.model.encode(features)))
    assert isinstance(asr.pipeline.model, WindowEncoder)


def test_freed_memory_is_reused_instead_of_faulted_in_again() -> None:
    """After ``keep_freed_memory``, a 54 MB block freed and allocated again (also in a thread) costs no page faults."""
    script = """
import ctypes, resource, sys, threading
from benchmark.adapters.cascade import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
faults = []
def churn():
    for i in range(6):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        block = libc.malloc(54 << 20)
        ctypes.memset(block, 1, 54 << 20)
        libc.free(block)
        if i:  # the first allocation faults its pages in either way
            faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
churn()
thread = threading.Thread(target=churn)  # CTranslate2 allocates in its own threads (another malloc arena)
thread.start(); thread.join()
print(max(faults))
"""

    def worst(mode: str) -> int:
        done = subprocess.run([sys.executable, "-c", script, mode], capture_output=True, text=True, check=True)
        return int(done.stdout)

    pages = (54 << 20) // 4096
    assert worst("default") > pages // 2  # glibc unmaps the block: every page faults in again
    assert worst("keep") < pages // 100


@pytest.mark.parametrize(
    ("omp", "expected"),
    [(None, "cores"), ("1", 1), ("0", "cores"), ("many", "cores"), ("4096", "cores")],
)
def test_cpu_threads_follow_omp_num_threads_within_the_cores(omp, expected, monkeypatch) -> None:
    from benchmark.adapters.torch_utils import cpu_threads

    cores = len(os.sched_getaffinity(0))
    if omp is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", omp)
    assert cpu_threads() == (cores if expected == "cores" else expected)


def test_faster_whisper_runs_the_threads_it_was_given(monkeypatch) -> None:
    """A Ray replica given 1 CPU (``OMP_NUM_THREADS=1``) runs CTranslate2 on one thread, not one per core."""
    pytest.importorskip("faster_whisper")
    from benchmark.adapters.cascade import FasterWhisperASR

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert FasterWhisperASR(None, "cpu").threads == 1


def test_the_oracle_text_view_reads_the_task_transcripts_and_transcribes_only_the_rest(tmp_path: Path) -> None:
    from benchmark.adapters.base import query_for
    from benchmark.adapters.cascade import CascadeAdapter
    from benchmark.task import load_task

    class Echo:
        def __init__(self) -> None:
            self.heard = 0

        def transcribe(self, clips):
            self.heard += len(clips)
            return ["asr says hello"] * len(clips)

    class Repeat:
        def generate(self, conversations):
            return [c[-1]["content"] for c in conversations]

    folder = make_task(tmp_path)
    rows = read_examples(folder)
    for row in rows[: len(rows) - 1]:
        row["transcript"] = f"the tone of {row['id']}"
    write_examples(folder, rows)
    task = load_task(folder)
    plain, oracle = CascadeAdapter("pocketsphinx+smollm2"), CascadeAdapter("pocketsphinx+smollm2", text_view="oracle")
    assert (plain.reads_transcripts, oracle.reads_transcripts) == (False, True)
    assert oracle.info()["reference_system"] is True and "reference_system" not in plain.info()
    tests = task.split("test")[-3:]  # the last one has no transcript: the oracle view transcribes it
    for adapter in (plain, oracle):
        adapter.asr, adapter.llm = Echo(), Repeat()
        adapter.predict(task.card, [query_for(task, e, task.load_audio(e), adapter) for e in tests])
    assert plain.last_transcripts == [["asr says hello"]] * 3 and plain.asr.heard == 3
    assert oracle.last_transcripts == [
        [f"the tone of {tests[0].id}"],
        [f"the tone of {tests[1].id}"],
        ["asr says hello"],
    ]
    assert oracle.asr.heard == 1
    with pytest.raises(OptionError, match="text_view"):
        CascadeAdapter("pocketsphinx+smollm2", text_view="gold")


def test_a_transcript_per_clip_is_checked(tmp_path: Path) -> None:
    from benchmark.task.checks import validate_task

    folder = make_task(tmp_path)
    rows = read_examples(folder)
    rows[3]["transcript"] = ["one", "two"]
    write_examples(folder, rows)
    (finding,) = [f for f in validate_task(folder).findings if f.code == "T207"]
    assert (finding.field, finding.line) == ("transcript", 4)
