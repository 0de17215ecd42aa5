"""Feeding the model: decoding ahead in a thread, and `--batch-size auto`."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from helpers import make_task, read_examples, tone, write_audio
from typer.testing import CliRunner

from benchmark.adapters.base import Adapter
from benchmark.batching import predict_stream
from benchmark.cli import app
from benchmark.runner import evaluate
from benchmark.submission import read_headers, read_records, run_path
from benchmark.task.folder import load_task

runner = CliRunner()


def varied_lengths(root: Path) -> Path:
    """ToneHeight whose test clips last 0.1 s to 1.6 s, in no particular file order."""
    folder = make_task(root)
    for i, row in enumerate(r for r in read_examples(folder) if r["split"] == "test"):
        seconds = 0.1 + 0.05 * ((i * 7) % 31)
        write_audio(folder / row["audio"], tone(880.0 + i if row["label"] == "high" else 220.0 + i, seconds))
    return folder


class Recorder(Adapter):
    """Answers the first label; remembers batch sizes and, optionally, fails above a batch size like an OOM."""

    def __init__(self, fits: int | None = None, pause: float = 0.0) -> None:
        self.fits, self.pause, self.sizes, self.windows = fits, pause, [], []

    def predict(self, card, batch):
        if self.fits is not None and len(batch) > self.fits:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        start = time.perf_counter()
        time.sleep(self.pause)
        self.sizes.append(len(batch))
        self.windows.append((start, time.perf_counter()))
        return [card.labels[0]] * len(batch)


def test_audio_is_decoded_in_a_background_thread_while_the_model_runs(tmp_path: Path, monkeypatch) -> None:
    import benchmark.task.folder as folder

    task = load_task(varied_lengths(tmp_path))
    decoded: list[tuple[float, str]] = []
    real_read = folder.read_audio

    def read_audio(path):  # wraps the real decoder to see when and where it runs
        clip = real_read(path)
        decoded.append((time.perf_counter(), threading.current_thread().name))
        return clip

    monkeypatch.setattr(folder, "read_audio", read_audio)
    adapter = Recorder(pause=0.2)
    batches = list(predict_stream(adapter, task, task.split("test"), 4))
    assert sum(len(b.examples) for b in batches) == 32
    assert all(name != threading.main_thread().name for _, name in decoded)
    first_start, first_end = adapter.windows[0]
    during = [t for t, _ in decoded if first_start < t < first_end]
    assert len(during) >= 4, "the next batch's audio is decoded while the first batch runs"


def test_auto_batch_size_settles_on_the_largest_that_fits(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks"
    make_task(tasks)
    adapter = Recorder(fits=6)
    evaluate(adapter, tasks="ToneHeight", tasks_root=tasks, out=tmp_path / "subs", name="auto", batch_size="auto")
    assert adapter.sizes[:4] == [1, 2, 4, 4] and max(adapter.sizes) == 4  # 8 did not fit: halved to 4
    records = read_records(tmp_path / "subs/auto/runs/ToneHeight@1.0.0.jsonl")
    assert sorted(r.id for r in records) == sorted({r.id for r in records}) and len(records) == 32


def test_out_of_memory_with_a_fixed_batch_size_is_not_hidden(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks"
    make_task(tasks)
    with pytest.raises(RuntimeError, match="out of memory"):
        evaluate(Recorder(fits=6), tasks="ToneHeight", tasks_root=tasks, out=tmp_path / "subs", batch_size=8)


def test_a_clip_that_cannot_be_decoded_stops_the_run_with_its_error(tmp_path: Path) -> None:
    folder = make_task(tmp_path / "tasks")
    task = load_task(folder)
    bad = task.split("test")[5]
    task.audio_files(bad)[0].write_bytes(b"not audio at all")
    adapter = Recorder()
    with pytest.raises(Exception, match="cannot be decoded"):
        list(predict_stream(adapter, task, task.split("test"), 4))


@pytest.mark.parametrize(("value", "ok"), [("auto", True), ("3", True), ("0", False), ("many", False)])
def test_batch_size_option(tmp_path: Path, value: str, ok: bool) -> None:
    make_task(tmp_path / "tasks")
    result = runner.invoke(app, ["run", "--model", "majority", "--tasks-root", str(tmp_path / "tasks"), "--out",
                                 str(tmp_path / "subs"), "--batch-size", value], catch_exceptions=False)
    assert (result.exit_code == 0) == ok, result.output
    if not ok:
        assert "--batch-size" in result.output and "auto" in result.output



def test_without_a_batch_size_the_adapter_chooses_one(tmp_path: Path) -> None:
    """No --batch-size: the adapter's ``default_batch_size`` (recorded in the run header); a given one wins."""
    tasks = tmp_path / "tasks"
    make_task(tasks)

    class Sevens(Recorder):
        default_batch_size = 7

    chosen, given = Sevens(), Sevens()
    evaluate(chosen, tasks_root=tasks, out=tmp_path / "subs", name="chosen")
    evaluate(given, tasks_root=tasks, out=tmp_path / "subs", name="given", batch_size=5)
    assert max(chosen.sizes) == 7 and max(given.sizes) == 5
    (header,) = read_headers(run_path(tmp_path / "subs" / "chosen", "ToneHeight", "1.0.0"))
    assert header.batch_size == 7
    plain = Recorder()
    evaluate(plain, tasks_root=tasks, out=tmp_path / "subs", name="plain")
    assert max(plain.sizes) == 16
