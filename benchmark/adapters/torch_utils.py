"""Device, dtype and CPU thread options shared by every torch adapter (and the cascade's CTranslate2 ASR)."""

from __future__ import annotations

import torch

from benchmark.adapters.base import OptionError
from benchmark.cpu import cpu_threads

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}

__all__ = ["DTYPES", "OptionError", "cpu_threads", "resolve_device", "resolve_dtype"]


def resolve_device(spec: str = "auto") -> torch.device:
    """``auto`` takes the first GPU when there is one; ``cpu``, ``cuda`` and ``cuda:N`` are taken as given."""
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec.startswith("cuda") and not torch.cuda.is_available():
        raise OptionError(f"--device {spec}: no CUDA GPU is visible here (use --device cpu or auto)")
    try:
        return torch.device(spec)
    except RuntimeError as exc:
        raise OptionError(f"--device {spec!r} is not a device (use auto, cpu, cuda or cuda:N)") from exc


def resolve_dtype(name: str = "float32") -> torch.dtype:
    """``float32``, ``bfloat16`` or ``float16``."""
    if name not in DTYPES:
        raise OptionError(f"--dtype {name!r}: use one of {', '.join(DTYPES)}")
    return DTYPES[name]
