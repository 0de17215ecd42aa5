import pytest

from benchmark.scoring.judge import SemanticResolver, semantic_available


@pytest.fixture(scope="session")
def semantic() -> SemanticResolver:
    """One offline MiniLM resolver for every scoring test (loading it is the slow part)."""
    if not semantic_available():
        pytest.skip("install the semantic extra")
    return SemanticResolver()
