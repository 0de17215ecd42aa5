"""Joining a Ray cluster and sizing the workers to its resources."""

from __future__ import annotations

import logging
import math
import socket
from collections.abc import Mapping
from dataclasses import dataclass

from benchmark.scaleout.options import RayOptions, ScaleOutError

CONNECT_TIMEOUT = 5.0
"""Seconds to reach a cluster's port before saying it is unreachable (Ray itself retries for minutes)."""


@dataclass(frozen=True)
class Placement:
    """How many workers, and what each one requests from Ray."""

    workers: int
    num_cpus: float
    num_gpus: float


def host_port(address: str) -> tuple[str, int] | None:
    """The host and port of ``ray://host:port`` or ``host:port``; None for ``local`` and ``auto``.

    Raises:
        ScaleOutError: an address without a numeric port.
    """
    if address in ("local", "auto"):
        return None
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ScaleOutError(f"--ray {address!r}: use local, auto, ray://HOST:PORT or HOST:PORT")
    return host, int(port)


def check_reachable(address: str) -> None:
    """Fail fast when nothing listens at the address.

    Raises:
        ScaleOutError: the port cannot be reached within ``CONNECT_TIMEOUT`` seconds.
    """
    target = host_port(address)
    if target is None:
        return
    try:
        socket.create_connection(target, timeout=CONNECT_TIMEOUT).close()
    except OSError as exc:
        raise ScaleOutError(
            f"cannot reach the Ray cluster at {address} ({exc}); start one with `ray start --head` "
            "(its address is printed there), check host and port, or use --ray local"
        ) from exc


def connect(address: str) -> bool:
    """Join (or, for ``local``, start) a cluster; True when this call connected and must disconnect.

    A process that already called ``ray.init`` keeps its connection (the Python API, tests).

    Raises:
        ScaleOutError: the cluster cannot be reached.
    """
    import ray

    if ray.is_initialized():
        return False
    check_reachable(address)
    try:
        # Worker output (model loading bars) would break the one progress bar; it stays in Ray's session logs.
        ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ScaleOutError(
            f"cannot join the Ray cluster at {address}: {first}; start one with `ray start --head`, "
            "pass its address, or use --ray local"
        ) from exc
    return True


def placement(resources: Mapping[str, float], options: RayOptions, device: str | None) -> Placement:
    """Size the workers: one per GPU (or GPU share), else one per 2 CPUs, unless ``--workers`` says.

    Raises:
        ScaleOutError: GPUs were asked for and the cluster has none, or not enough for the workers.
    """
    cpus, gpus = float(resources.get("CPU", 1.0)), float(resources.get("GPU", 0.0))
    wants_gpu = options.gpus_per_worker is not None or (device or "").startswith("cuda")
    if wants_gpu and gpus == 0:
        raise ScaleOutError(
            f"the Ray cluster has no GPU ({cpus:g} CPUs) and this run asks for one (--device or gpus_per_worker); "
            "join a cluster with GPUs, or drop the GPU options to run on CPUs"
        )
    if gpus > 0 and device != "cpu":
        share = options.gpus_per_worker or 1.0
        workers = options.workers or max(1, math.floor(gpus / share + 1e-9))
        if workers * share > gpus + 1e-9:
            raise ScaleOutError(
                f"{workers} workers x {share:g} GPU need {workers * share:g} GPUs and the cluster has {gpus:g}; "
                "lower --workers or set --model-arg gpus_per_worker to a fraction"
            )
        return Placement(workers, options.cpus_per_worker or cpu_share(cpus, workers, cap=1.0), share)
    workers = options.workers or max(1, math.floor(cpus / 2))
    return Placement(workers, options.cpus_per_worker or cpu_share(cpus, workers), 0.0)


def cpu_share(cpus: float, workers: int, cap: float | None = None) -> float:
    """The CPUs each worker requests: an even share, whole when at least one (Ray wants whole numbers above 1)."""
    share = min(cpus / workers, cap) if cap is not None else cpus / workers
    return float(math.floor(share)) if share >= 1 else round(share, 4)
