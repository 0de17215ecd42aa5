"""The arguments of each constraint family, the scripts the language family knows, and a stored constraint.

User-written arguments (a task's constraints) are validated by these models: unknown
keys are rejected, and types are strict (``"5"`` is not a number of words).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "SCRIPTS",
    "BulletsArgs",
    "Constraint",
    "ConstraintArgs",
    "JsonArgs",
    "KeywordsArgs",
    "LanguageArgs",
    "NoArgs",
    "PhraseArgs",
    "Script",
    "WordsArgs",
    "WrapArgs",
]

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f\U00030000-\U000323af"
"""Han ideographs (CJK unified, extensions A-H, compatibility), as a character-class body."""
KANA = "\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f"
HANGUL = "\uac00-\ud7af\u1100-\u11ff\u3130-\u318f"


@dataclass(frozen=True)
class Script:
    """How the language family recognises one language: a share of the letters in its script."""

    names: tuple[str, ...]
    """How a phrasing may name the language (validation checks a phrasing names it)."""
    chars: str
    """The script's characters, as a regex character-class body."""
    percent: int
    """Least share of all letters (Unicode category L*) that must be in ``chars``."""
    required: str = ""
    """Characters of which at least one must appear (default: ``chars``)."""
    cased: bool = False
    """Whether the script has upper and lower case (upper/lower constraints conflict otherwise)."""


# One code per script: a script shared by several languages (Cyrillic, Arabic, Devanagari) is named by its
# most common language, and the check is of the script only (a Ukrainian answer passes "ru").
SCRIPTS: dict[str, Script] = {
    "en": Script(("English",), "A-Za-z", 95, cased=True),
    "zh": Script(("Chinese", "Mandarin", "中文", "汉语", "漢語", "普通话"), HAN, 80),
    "ja": Script(("Japanese", "日本語"), KANA + HAN, 80, required=KANA),
    "ko": Script(("Korean", "한국어"), HANGUL, 80),
    "ru": Script(("Russian", "русский"), "\u0400-\u052f", 80, cased=True),
    "el": Script(("Greek", "ελληνικά"), "\u0370-\u03ff\u1f00-\u1fff", 80, cased=True),
    "ar": Script(("Arabic", "العربية"), "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff", 80),
    "he": Script(("Hebrew", "עברית"), "\u0590-\u05ff", 80),
    "hi": Script(("Hindi", "हिन्दी", "हिंदी"), "\u0900-\u097f", 80),
    "bn": Script(("Bengali", "Bangla", "বাংলা"), "\u0980-\u09ff", 80),
    "pa": Script(("Punjabi", "ਪੰਜਾਬੀ"), "\u0a00-\u0a7f", 80),
    "gu": Script(("Gujarati", "ગુજરાતી"), "\u0a80-\u0aff", 80),
    "ta": Script(("Tamil", "தமிழ்"), "\u0b80-\u0bff", 80),
    "te": Script(("Telugu", "తెలుగు"), "\u0c00-\u0c7f", 80),
    "kn": Script(("Kannada", "ಕನ್ನಡ"), "\u0c80-\u0cff", 80),
    "ml": Script(("Malayalam", "മലയാളം"), "\u0d00-\u0d7f", 80),
    "th": Script(("Thai", "ภาษาไทย"), "\u0e00-\u0e7f", 80),
}
"""Languages the language family can check, by code."""

# Codes refused with a reason, so a task author learns why rather than seeing "unknown".
_SHARED_SCRIPT = {"uk": "ru", "bg": "ru", "sr": "ru", "fa": "ar", "ur": "ar", "mr": "hi", "ne": "hi"}


class ConstraintArgs(BaseModel):
    """Base of every family's arguments: unknown keys rejected, strict types, immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class NoArgs(ConstraintArgs):
    """upper and lower take no arguments."""


class JsonArgs(ConstraintArgs):
    """json: the keys the object must hold."""

    keys: list[str] = []
    """Keys that must be present, spelled and cased exactly; the first is the one unwrapped."""
    exact_keys: bool = False
    """Forbid keys other than ``keys``."""

    @field_validator("keys")
    @classmethod
    def _keys_not_blank(cls, keys: list[str]) -> list[str]:
        if any(not k.strip() for k in keys) or len(set(keys)) != len(keys):
            raise ValueError("keys must be non-empty and distinct")
        return keys


class WordsArgs(ConstraintArgs):
    """words: inclusive bounds on the number of words."""

    min: int | None = Field(None, ge=0)
    """Least number of words."""
    max: int | None = Field(None, ge=1)
    """Most words."""

    @model_validator(mode="after")
    def _bounds(self) -> WordsArgs:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class LanguageArgs(ConstraintArgs):
    """language: the language the answer must be written in."""

    lang: str
    """A code of :data:`SCRIPTS` (ISO 639-1)."""

    @field_validator("lang")
    @classmethod
    def _known(cls, lang: str) -> str:
        if lang in SCRIPTS:
            return lang
        if lang in _SHARED_SCRIPT:
            raise ValueError(
                f"{lang!r} shares its script with {_SHARED_SCRIPT[lang]!r}; a script check cannot tell them"
            )
        raise ValueError(
            f"{lang!r} is not supported: use one of {', '.join(SCRIPTS)} (Latin-script languages other than"
            " English have no deterministic detector)"
        )


class PhraseArgs(ConstraintArgs):
    """starts_with and ends_with: the phrase."""

    phrase: str = Field(min_length=1, max_length=500)
    """Compared casefolded with typographic quotes folded."""

    @field_validator("phrase")
    @classmethod
    def _not_blank(cls, phrase: str) -> str:
        if not phrase.strip():
            raise ValueError("phrase is blank")
        return phrase


class WrapArgs(ConstraintArgs):
    """wrap: the marks around the whole answer, e.g. ``"``/``"``, ``<<``/``>>``, ``(``/``)``, ``[``/``]``."""

    open: str = Field(min_length=1, max_length=8)
    """What the answer starts with."""
    close: str = Field(min_length=1, max_length=8)
    """What the answer ends with."""

    @field_validator("open", "close")
    @classmethod
    def _visible(cls, mark: str) -> str:
        if mark != mark.strip():
            raise ValueError("marks hold no whitespace at their ends")
        return mark


class KeywordsArgs(ConstraintArgs):
    """keywords: words the answer must and must not contain."""

    include: list[str] = []
    """Each must be found (ignoring case)."""
    exclude: list[str] = []
    """None may be found (ignoring case)."""

    @model_validator(mode="after")
    def _sensible(self) -> KeywordsArgs:
        if not self.include and not self.exclude:
            raise ValueError("give include, exclude or both")
        if any(not k.strip() for k in [*self.include, *self.exclude]):
            raise ValueError("keywords must not be blank")
        both = {k.casefold() for k in self.include} & {k.casefold() for k in self.exclude}
        if both:
            raise ValueError(f"{sorted(both)} both included and excluded")
        return self


class BulletsArgs(ConstraintArgs):
    """bullets: the exact number of bullet lines, or bounds on it."""

    count: int | None = Field(None, ge=0)
    """Exact number of bullet or numbered lines."""
    min: int | None = Field(None, ge=0)
    """Least number (instead of ``count``)."""
    max: int | None = Field(None, ge=0)
    """Most (instead of ``count``)."""

    @model_validator(mode="after")
    def _one_form(self) -> BulletsArgs:
        bounds = self.min is not None or self.max is not None
        if (self.count is None) == (not bounds):
            raise ValueError("give count, or min and/or max, not both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class Constraint(BaseModel, extra="forbid", frozen=True):
    """One constraint as stored in a task or a record: a family (or library set) id and its arguments."""

    id: str
    """A family name (``json``, ``upper``, ...) or a set of the default library."""
    args: dict[str, Any] = {}
    """The family's arguments (see its argument model)."""
