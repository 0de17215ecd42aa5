"""Models behind one interface: ``Adapter`` (one required method, ``predict``) and the registry of spec strings.

- ``base``: ``Adapter``, ``Query`` and option helpers;
- ``registry``: spec strings -> adapter classes (heavy imports happen when an adapter is built);
- ``baselines``: ``random`` and ``majority``;
- ``cascade``: ASR then a text LLM;
- ``audiollm``: end-to-end audio LLMs through transformers;
- ``probe/``: SUPERB weighted-sum probes (upstreams, featurizer and heads).
"""

from benchmark.adapters.base import Adapter, AdapterError, OptionError, Query
from benchmark.adapters.registry import REGISTRY, AdapterEntry, SpecError, build_adapter, parse_spec

__all__ = [
    "REGISTRY",
    "Adapter",
    "AdapterEntry",
    "AdapterError",
    "OptionError",
    "Query",
    "SpecError",
    "build_adapter",
    "parse_spec",
]
