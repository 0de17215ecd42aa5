"""Signal metrics on numpy: SI-SDR, permutation-invariant SI-SDR(i), F0 statistics, duration.

Inputs are mono float arrays at one shared rate (16 kHz in :mod:`benchmark.scoring.speech`).
An estimate is compared with its reference over the reference's length: cut when
longer, padded with silence when shorter, so a truncated answer loses what it left out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from benchmark.scoring.speech.compat import pkg_resources_stand_in

SI_SDR_FLOOR = -50.0
"""dB. A silent, orthogonal or missing estimate would be minus infinity; records and means need a number."""
_RESOLUTION = 1e-15
"""Residual energy below this fraction of the target's is numerical noise: x against x gives 150 dB, not inf."""
F0_FLOOR_HZ, F0_CEIL_HZ = 50.0, 800.0
"""The pitch search range of WORLD's DIO: below the lowest male voice, above the highest child's."""
F0_FRAME_MS = 5.0
MIN_VOICED_FRAMES = 10
"""Fewer voiced frames (50 ms) than this give no meaningful pitch statistics."""
CENTS_WORST = 2400.0
"""Two octaves: every F0 difference is capped here, the value a broken output gets."""


def fit_length(estimate: np.ndarray, length: int) -> np.ndarray:
    """``estimate`` cut to ``length`` samples, or padded with zeros up to it, as float64."""
    est = np.asarray(estimate)[:length].astype(np.float64)
    if len(est) < length:
        est = np.concatenate([est, np.zeros(length - len(est))])
    return est


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    # einsum, not ``a @ b``: float64 accumulation without a float64 copy of either signal, and no BLAS call
    # (OpenBLAS threads a long dot product; waking its parked threads costs 10 ms on a busy machine).
    return float(np.einsum("i,i->", a, b, dtype=np.float64))


def _moments(x: np.ndarray) -> tuple[float, float]:
    """``(sum, energy)`` of a signal, accumulated in float64."""
    return float(np.sum(x, dtype=np.float64)), _dot(x, x)


def _si_sdr_from(
    estimate: np.ndarray, reference: np.ndarray, est_moments: tuple[float, float], ref_moments: tuple[float, float]
) -> float:
    """SI-SDR from raw dot products and sums, never materialising the zero-mean or padded signals.

    ``estimate`` is already cut to the reference's length; the silence it is padded with adds
    nothing to any sum, so only the means need the full length ``n``.
    """
    n = len(reference)
    (se, ee), (sr, rr) = est_moments, ref_moments
    ref_energy = rr - sr * sr / n
    if ref_energy <= 0.0:
        return SI_SDR_FLOOR  # a silent or constant reference: no target to recover
    cross = _dot(estimate, reference[: len(estimate)]) - se * sr / n
    target_energy = cross * cross / ref_energy
    if target_energy <= 0.0:
        return SI_SDR_FLOOR
    # The residual is orthogonal to the target, so its energy is what the target leaves of the estimate's.
    noise_energy = max(ee - se * se / n - target_energy, _RESOLUTION * target_energy)
    return max(10.0 * math.log10(target_energy / noise_energy), SI_SDR_FLOOR)


def si_sdr(estimate: np.ndarray, reference: np.ndarray) -> float:
    """Scale-invariant signal-to-distortion ratio in dB (Le Roux et al., 2019), floored at :data:`SI_SDR_FLOOR`.

    Both signals are made zero-mean; the estimate is fitted to the reference's length (cut,
    or padded with silence). Higher is better.
    """
    reference = np.asarray(reference)
    estimate = np.asarray(estimate)[: len(reference)]
    return _si_sdr_from(estimate, reference, _moments(estimate), _moments(reference))


def pit_si_sdr(estimates: Sequence[np.ndarray], references: Sequence[np.ndarray]) -> tuple[float, tuple[int, ...]]:
    """Mean SI-SDR over the references under the best one-to-one assignment of estimates to references.

    The assignment maximises the summed SI-SDR (Hungarian algorithm, exact for any number of
    sources). A reference left without an estimate (fewer estimates than references) scores
    :data:`SI_SDR_FLOOR`.

    Returns:
        ``(mean SI-SDR in dB, assignment)``: ``assignment[i]`` is the estimate given to reference
        ``i``, or -1.
    """
    from scipy.optimize import linear_sum_assignment

    if not references:
        raise ValueError("pit_si_sdr needs at least one reference source")
    refs = [np.asarray(r) for r in references]
    # Each estimate's sum and energy are taken once per reference length (sources of one mixture share it).
    cut = {n: [np.asarray(e)[:n] for e in estimates] for n in {len(r) for r in refs}}
    moments = {n: [_moments(e) for e in cut[n]] for n in cut}
    table = np.array(
        [
            [_si_sdr_from(e, r, m, r_moments) for e, m in zip(cut[len(r)], moments[len(r)], strict=True)]
            for r, r_moments in zip(refs, (_moments(r) for r in refs), strict=True)
        ]
    ).reshape(len(refs), -1)
    rows, cols = linear_sum_assignment(table, maximize=True)
    assignment = [-1] * len(refs)
    values = [SI_SDR_FLOOR] * len(refs)
    for r, c in zip(rows, cols, strict=True):
        assignment[int(r)], values[int(r)] = int(c), float(table[r, c])
    return float(np.mean(values)), tuple(assignment)


def improvement(value: float, mixture: np.ndarray, references: Sequence[np.ndarray]) -> float:
    """SI-SDRi: ``value`` (a :func:`pit_si_sdr` result) minus the mean SI-SDR of the unprocessed mixture.

    Handing back the mixture as every source scores 0. Floored at :data:`SI_SDR_FLOOR`.
    """
    baseline = float(np.mean([si_sdr(mixture, r) for r in references]))
    return max(value - baseline, SI_SDR_FLOOR)


def pit_si_sdri(
    estimates: Sequence[np.ndarray], references: Sequence[np.ndarray], mixture: np.ndarray
) -> tuple[float, tuple[int, ...]]:
    """``(SI-SDR improvement, assignment)``: :func:`pit_si_sdr` less the mixture's own SI-SDR (:func:`improvement`)."""
    value, assignment = pit_si_sdr(estimates, references)
    return improvement(value, mixture, references), assignment


def f0_cents(audio: np.ndarray, rate: int) -> np.ndarray:
    """F0 of the voiced frames in cents above 1 Hz: WORLD's DIO refined by StoneMask (``pyworld``)."""
    with pkg_resources_stand_in():
        import pyworld

    x = np.ascontiguousarray(audio, dtype=np.float64)
    f0, times = pyworld.dio(x, rate, f0_floor=F0_FLOOR_HZ, f0_ceil=F0_CEIL_HZ, frame_period=F0_FRAME_MS)
    f0 = pyworld.stonemask(x, f0, times, rate)
    voiced = f0[f0 > 0]
    return 1200.0 * np.log2(voiced)


def f0_differences(output: np.ndarray, reference: np.ndarray, rate: int) -> tuple[float, float] | None:
    """``(|mean difference|, |std difference|)`` of log-F0 in cents, each capped at :data:`CENTS_WORST`.

    The mean says whether the voice sits at the reference's pitch; the standard deviation
    whether its intonation is as lively (a monotone answer has a small one). None when either
    signal has fewer than :data:`MIN_VOICED_FRAMES` voiced frames.
    """
    out, ref = f0_cents(output, rate), f0_cents(reference, rate)
    if len(out) < MIN_VOICED_FRAMES or len(ref) < MIN_VOICED_FRAMES:
        return None
    mean_diff = abs(float(out.mean()) - float(ref.mean()))
    std_diff = abs(float(out.std()) - float(ref.std()))
    return min(mean_diff, CENTS_WORST), min(std_diff, CENTS_WORST)


def duration_ratio(output: np.ndarray, reference: np.ndarray) -> float:
    """Output length over reference length: 1 is the reference's pace, 2 twice as slow."""
    return len(output) / len(reference) if len(reference) else math.nan
