import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir

# Property-based tests keep no example database (it would be written into the checkout)
# and no deadline (the machine is shared; a slow case is not a failure).
settings.register_profile(
    "suite", database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("suite")
# Hypothesis caches Unicode tables under ./.hypothesis; keep them out of the checkout.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "speech-benchmark-hypothesis")

# Nothing in the tests may reach a model or data hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
# Caches that default to ~/.cache (the cascade's transcripts) go to a throwaway folder instead, removed at exit.
os.environ["BENCH_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench-test-cache-")
atexit.register(shutil.rmtree, os.environ["BENCH_CACHE_DIR"], ignore_errors=True)
sys.path.insert(0, str(Path(__file__).parent))

REPO = Path(__file__).resolve().parents[1]
# Caches that Python and the linters leave behind are not the tests' doing.
CACHES = ("__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".egg-info")


def checkout_state() -> set[str] | None:
    """``git status --porcelain --ignored`` of the checkout, caches aside (None outside a git checkout)."""
    try:
        done = subprocess.run(
            ["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return {line for line in done.stdout.splitlines() if not any(c in line for c in CACHES)}


@pytest.fixture(scope="session", autouse=True)
def checkout_unchanged() -> Iterator[None]:
    """Tests write only under temporary folders: the checkout looks the same after the suite as before it."""
    before = checkout_state()
    yield
    after = checkout_state()
    if before is not None and after is not None:
        assert after == before, f"the tests changed the checkout: {sorted(after ^ before)}"
