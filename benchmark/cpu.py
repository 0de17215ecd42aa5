"""The CPU resources a process's models use: how many threads, and how freed memory is kept.

Shared by every model that runs on the CPU (the cascade's ASR and LLM, torch adapters, the speech
scorers), so that a Ray worker's CPU share and glibc's allocator are handled in one place.
"""

from __future__ import annotations

import ctypes
import os
import sys


def cpu_threads() -> int:
    """How many CPU threads this process's models may use in all: ``OMP_NUM_THREADS`` when set, else the cores.

    A Ray worker gets ``OMP_NUM_THREADS`` set to the CPUs Ray assigned it (``scaleout.worker``), so two
    replicas on two cores each run one thread instead of each running one per core. Every model library
    (CTranslate2, torch) is sized from this one number.
    """
    try:
        wanted = int(os.environ.get("OMP_NUM_THREADS", "0"))
    except ValueError:
        wanted = 0
    cores = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    # More threads than cores only make the threads wait for each other.
    return min(wanted, cores) if wanted > 0 else cores


M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_MAX = -1, -2, -4
"""glibc ``mallopt`` parameters (malloc.h)."""


def keep_freed_memory() -> bool:
    """Make glibc's malloc keep freed memory for the next allocation instead of returning it to the kernel.

    CTranslate2 allocates every intermediate tensor of the Whisper encoder afresh, per layer and per call,
    and frees it right after: a 30-second window's attention scores alone are 54 MB (6 heads x 1500 x 1500
    float32). glibc serves blocks that large with ``mmap`` and frees them with ``munmap``, so the kernel
    zero-fills every page again on the next call: about 110,000 minor page faults (430 MB) per window, more
    system time than compute, and two threads fighting over the page tables. With ``mmap`` off, no
    trimming, and a top pad that keeps a thread's 64 MB heaps alive, the same pages are reused: no faults,
    and the encoder takes about a third of the wall time on 2 threads. The process keeps its peak heap until
    it exits (the cascade's peak RSS did not grow). Returns False where malloc is not glibc's (nothing is
    changed there).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    settings = ((M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, 2**31 - 1), (M_TOP_PAD, 256 << 20))
    return all(mallopt(option, value) == 1 for option, value in settings)
