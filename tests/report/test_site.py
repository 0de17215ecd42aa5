"""The static leaderboard site: built from submissions, deterministic, and exercised in headless Chromium."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from helpers import make_suite
from typer.testing import CliRunner

from benchmark.cli import app

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _bench(*args: str) -> None:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("site")
    suite = make_suite(root / "tasks")
    subs = root / "submissions"
    for model in ("majority", "random"):
        _bench("run", "--model", model, "--tasks-root", str(suite), "--out", str(subs))
    _bench(
        "run",
        "--model",
        "random",
        "--model-arg",
        "seed=7",
        "--name",
        "tuned-random",
        "--tasks-root",
        str(suite),
        "--out",
        str(subs),
    )
    card = json.loads((subs / "tuned-random" / "model.json").read_text())
    card.update(
        trained_on=["ToneHeight"], description="<script>alert('x')</script> a <b>model</b>", link="javascript:alert(1)"
    )
    (subs / "tuned-random" / "model.json").write_text(json.dumps(card))
    (subs / "tuned-random" / "layers").mkdir()
    (subs / "tuned-random" / "layers" / "ToneHeight@1.0.0.json").write_text(json.dumps({"weights": [0.1, 0.6, 0.3]}))
    _bench(
        "leaderboard",
        "build",
        "--submissions",
        str(subs),
        "--tasks-root",
        str(suite),
        "--out",
        str(root / "tables"),
        "--site",
        str(root / "site"),
    )
    return root


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_site_is_self_contained_and_deterministic(built: Path) -> None:
    site = built / "site"
    files = _digest(site)
    assert {
        "index.html",
        "assets/app.js",
        "assets/style.css",
        "data/leaderboard.json",
        "data/tasks.csv",
        "tasks/ToneHeight.html",
        "models/tuned-random.html",
    } <= set(files)
    for path in site.rglob("*.html"):
        text = path.read_text()
        assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "https://" not in text and "<script>alert" not in text
    assert '<a href="javascript' not in (site / "models/tuned-random.html").read_text()  # only http(s) links
    _bench(
        "leaderboard",
        "build",
        "--submissions",
        str(built / "submissions"),
        "--tasks-root",
        str(built / "tasks"),
        "--out",
        str(built / "tables"),
        "--site",
        str(site),
    )
    assert _digest(site) == files


def test_charts_are_inline_svg(built: Path) -> None:
    model = (built / "site/models/tuned-random.html").read_text()
    assert model.count("<svg") >= 2 and "Learned layer weights" in model  # dimensions + layer weights
    assert "<svg" in (built / "site/tasks/ToneHeight.html").read_text()  # tier bars


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.fail("the browser test needs Debian's chromium: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _visible_models(page) -> list[str]:
    return page.eval_on_selector_all(
        ".split-view:not([hidden]) table.overview tbody tr:not([hidden]) td:first-child",
        "cells => cells.map(c => c.textContent.trim())",
    )


def _visible_overall(page) -> list[str]:
    return page.eval_on_selector_all(
        ".split-view:not([hidden]) table.overview tbody tr td:last-child", "cells => cells.map(c => c.textContent)"
    )


@pytest.mark.browser
def test_site_in_a_real_browser(built: Path, browser, tmp_path: Path) -> None:
    # Screenshots stay with the test's temporary files (pytest keeps the last runs' folders to look at).
    SCREENSHOTS = tmp_path / "screenshots"
    SCREENSHOTS.mkdir()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto((built / "site" / "index.html").as_uri())

    # every model and every dimension with results is listed
    assert sorted(_visible_models(page)) == ["majority", "random", "tuned-random"]
    headers = page.eval_on_selector_all(".split-view:not([hidden]) table.overview th", "h => h.map(x => x.textContent)")
    assert headers == ["model", "content", "audio", "overall"]
    page.screenshot(path=str(SCREENSHOTS / "overview.png"), full_page=True)

    # clicking a column header sorts the rows (descending first, then ascending)
    page.click(".split-view:not([hidden]) table.overview th:has-text('overall')")
    scores = [float(x.split()[0]) for x in _visible_overall(page)]
    assert scores == sorted(scores, reverse=True)
    page.click(".split-view:not([hidden]) table.overview th:has-text('overall')")
    scores = [float(x.split()[0]) for x in _visible_overall(page)]
    assert scores == sorted(scores)
    page.click(".split-view:not([hidden]) table.overview th:has-text('model')")
    assert _visible_models(page) == sorted(_visible_models(page), reverse=True)

    # the filter hides rows that do not match
    page.fill("#filter", "tuned")
    assert _visible_models(page) == ["tuned-random"]
    page.fill("#filter", "")
    assert len(_visible_models(page)) == 3

    # the seen/unseen switch changes the numbers
    all_numbers = _visible_overall(page)
    page.check("input[value='unseen']")
    unseen_numbers = _visible_overall(page)
    assert unseen_numbers and unseen_numbers != all_numbers
    page.check("input[value='seen']")
    assert _visible_models(page) == ["tuned-random"]  # only this model has a seen task
    page.screenshot(path=str(SCREENSHOTS / "overview-seen.png"), full_page=True)
    page.check("input[value='all']")

    # a task page and a model page open from links
    page.click("a[href='tasks/ToneHeight.html']")
    assert page.inner_text("h1").startswith("ToneHeight")
    assert page.locator("table.results tbody tr").count() == 3
    page.screenshot(path=str(SCREENSHOTS / "task.png"), full_page=True)
    page.go_back()
    page.click(".split-view:not([hidden]) a[href='models/tuned-random.html']")
    assert page.inner_text("h1") == "tuned-random"
    assert "<script>alert('x')</script>" in page.inner_text("dl.facts")  # shown as text, never run
    assert page.locator("svg.chart").count() == 2
    page.screenshot(path=str(SCREENSHOTS / "model.png"), full_page=True)
    assert errors == []


def test_every_resolution_tier_has_a_colour_so_no_answer_is_left_out_of_the_tier_bar() -> None:
    from benchmark.report.site import TIER_COLOURS
    from benchmark.scoring.labels import TIERS

    assert set(TIERS) == set(TIER_COLOURS)
