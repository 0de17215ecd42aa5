"""An evaluation suite for speech foundation models and audio LLMs.

The package imports no torch and no model library: adapters import their heavy
dependencies when they are built.
"""

__version__ = "0.1.0"
