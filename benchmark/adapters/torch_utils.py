"""Device, dtype and CPU thread options shared by every torch adapter (and the cascade's CTranslate2 ASR)."""

from __future__ import annotations

import os

import torch

from benchmark.adapters.base import OptionError

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


def cpu_threads() -> int:
    """How many CPU threads this process's models may use in all: ``OMP_NUM_THREADS`` when set, else the cores.

    A Ray worker gets ``OMP_NUM_THREADS`` set to the CPUs Ray assigned it (``scaleout.worker``), so two
    replicas on two cores each run one thread instead of each running one per core. Every model library
    the cascade uses (CTranslate2, torch) is sized from this one number.
    """
    try:
        wanted = int(os.environ.get("OMP_NUM_THREADS", "0"))
    except ValueError:
        wanted = 0
    cores = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    # More threads than cores only make the threads wait for each other.
    return min(wanted, cores) if wanted > 0 else cores
