import os
import sys
import tempfile
from pathlib import Path

# Nothing in the tests may reach a model or data hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
# Caches that default to ~/.cache (the cascade's transcripts) go to a throwaway folder instead.
os.environ["BENCH_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench-test-cache-")
sys.path.insert(0, str(Path(__file__).parent))
