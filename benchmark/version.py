"""The harness version: recorded in every run header, model card, task index and cell cache.

It lives at the bottom of the layers so that any module can read it without importing the package root.
"""

__version__ = "0.2.0"
