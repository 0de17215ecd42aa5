"""Text normalisation shared by answer resolution and the WER/CER metrics."""

from __future__ import annotations

import re
import unicodedata


def squash(text: str) -> str:
    """Case-fold, NFKC-normalise and collapse whitespace."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


_PUNCT = re.compile(r"[^\w\s'-]|_", re.UNICODE)


def strip_punct(text: str) -> str:
    """``squash`` and drop punctuation except in-word apostrophes and hyphens."""
    text = squash(text).replace("\u2019", "'")
    text = _PUNCT.sub(" ", text)
    text = re.sub(r"(?<!\w)['-]|['-](?!\w)", " ", text)
    return " ".join(text.split())


def normalise_transcript(text: str) -> str:
    """Text normalisation for WER/CER: NFKC, case-fold, punctuation removed, spaces collapsed.

    Applied identically to references and hypotheses. Numbers are not spelled out:
    "3" and "three" differ, as they would for a reader of the transcript.
    """
    return strip_punct(text)
