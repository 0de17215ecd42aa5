"""The answering protocol (free generation or label ranking) travels from the adapter to records, model.json and
the board."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from helpers import make_suite
from typer.testing import CliRunner

from benchmark.cli import app
from benchmark.submission.records import read_records

runner = CliRunner()

RANKER = '''
from benchmark import Adapter
from benchmark.adapters.ranking import best_label


class Ranker(Adapter):
    needs_audio = False

    def predict(self, card, batch):
        if card.task_type != "classification":
            return ["1"] * len(batch)
        return [best_label(card.labels, [-float(i) for i in range(len(card.labels))]) for _ in batch]

    def info(self):
        return {"protocol": "rank"}
'''


def bench(*args: str):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_rank_protocol_is_recorded_and_shown_next_to_the_model(tmp_path: Path) -> None:
    suite = make_suite(tmp_path / "tasks")
    subs, board = tmp_path / "subs", tmp_path / "board"
    (tmp_path / "ranker.py").write_text(RANKER)
    bench("run", "--model", f"{tmp_path / 'ranker.py'}:Ranker", "--name", "ranker", "--tasks-root", str(suite),
          "--out", str(subs), "--no-semantic")
    bench("run", "--model", "majority", "--tasks-root", str(suite), "--out", str(subs))
    records = read_records(subs / "ranker/runs/ToneHeight@1.0.0.jsonl")
    assert all(r.label_scores == {"high": 0.0, "low": -1.0} and r.output == "high" for r in records)
    assert json.loads((subs / "ranker/model.json").read_text())["protocol"] == "rank"
    assert json.loads((subs / "majority/model.json").read_text())["protocol"] == "generate"
    bench("leaderboard", "build", "--submissions", str(subs), "--tasks-root", str(suite), "--out", str(board), "--site",
          str(tmp_path / "site"))
    rows = list(csv.DictReader((board / "tasks.csv").open()))
    assert {(r["model"], r["protocol"]) for r in rows} == {("ranker", "rank"), ("majority", "generate")}
    index = (tmp_path / "site/index.html").read_text()
    assert 'ranker.html">ranker</a> <span class="tag"' in index and "majority</a> <span" not in index
    task_page = (tmp_path / "site/tasks/ToneHeight.html").read_text()
    assert "rank</span>" in task_page
