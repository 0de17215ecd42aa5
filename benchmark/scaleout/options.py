"""Options of a distributed run (``bench run --ray ADDRESS --workers N``) and the Ray import check."""

from __future__ import annotations

from dataclasses import dataclass, replace

GPU_ARG = "gpus_per_worker"
"""The ``--model-arg`` that gives each GPU worker a fraction of a GPU (small models), or several GPUs."""

INSTALL_HINT = "pip install 'speech-benchmark[ray]'"


class ScaleOutError(Exception):
    """A distributed run that cannot start or lost work: one line, records written so far kept."""


@dataclass(frozen=True)
class RayOptions:
    """How to run on Ray."""

    address: str
    """``local`` (start a cluster here), ``auto`` (the cluster this machine joined), ``ray://host:port``
    (Ray Client) or ``host:port`` (a cluster's GCS address)."""
    workers: int | None = None
    """Actors to start; None: one per GPU (per ``gpus_per_worker``), or one per 2 CPUs without GPUs."""
    gpus_per_worker: float | None = None
    """GPUs each actor requests; None: 1 on a cluster with GPUs."""
    cpus_per_worker: float | None = None
    """CPUs each actor requests (Ray sets its thread count from it); None: the CPUs shared evenly (CPU workers),
    or 1 (GPU workers)."""
    retries: int = 2
    """How often Ray restarts a dead worker and retries its units before the loss is reported."""
    chunk: int | None = None
    """Examples per unit; None: whole batches, about four units per worker and task."""
    start_timeout: float = 600.0
    """Seconds to wait for the workers to be placed and to load the model."""


def require_ray() -> None:
    """Fail with the install command when Ray is missing (checked before anything is planned).

    Raises:
        ScaleOutError: Ray is not installed.
    """
    try:
        import ray  # noqa: F401
    except ImportError as exc:
        raise ScaleOutError(f"--ray needs Ray, which is not installed here: {INSTALL_HINT}") from exc


def take_ray_args(args: dict[str, str], options: RayOptions) -> tuple[dict[str, str], RayOptions]:
    """Check that Ray is there, then move ``gpus_per_worker`` out of the model arguments (it places actors).

    Raises:
        ScaleOutError: Ray is not installed, workers below 1, or a GPU share that is not a positive number.
    """
    if not options.address:
        raise ScaleOutError("--workers sets the number of Ray workers: pass --ray too (e.g. --ray local)")
    require_ray()
    if options.workers is not None and options.workers < 1:
        raise ScaleOutError("--workers must be at least 1")
    if GPU_ARG not in args:
        return args, options
    rest = {k: v for k, v in args.items() if k != GPU_ARG}
    try:
        share = float(args[GPU_ARG])
    except ValueError:
        share = 0.0
    if not share > 0:
        raise ScaleOutError(f"--model-arg {GPU_ARG}={args[GPU_ARG]!r} must be a positive number, e.g. 0.5")
    return rest, replace(options, gpus_per_worker=share)
