"""Benchmark: the README main job end to end, each command timed, against the 6-minute target.

Not a test. Run (after the README's install):

    python benchmarks/main_job.py [--tasks-root tasks] [--keep DIR]

Runs the main job's four commands, as README.md writes them, in a temporary folder
(submissions, tables, site, and an empty model cache, so the cascade transcribes
every clip as on a fresh machine): ``majority``, ``probe:fbank``, the cascade,
then ``leaderboard build``. Prints each command's wall and CPU time (its child
processes included), with its system (kernel) time and minor page faults, the
total, the load average before and after, and the ratio to 6 minutes. The
installs are not timed. On a machine shared with other jobs, compare CPU time.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

TARGET_S = 6 * 60
CASCADE = ["--model", "cascade", "--model-arg", "answer=rank", "--model-arg", "rank_calibration=content-free"]


def main() -> None:
    """Time the four commands."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks-root", type=Path, default=Path("tasks"))
    parser.add_argument("--keep", type=Path, default=None, help="keep submissions, tables and site here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="main-job-"))
    subs, tables, site = work / "submissions", work / "tables", work / "site"
    env = {**os.environ, "BENCH_CACHE_DIR": str(work / "cache"), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    tasks = ["--tasks-root", str(args.tasks_root)]
    commands = [
        ["bench", "run", "--model", "majority", *tasks, "--out", str(subs)],
        ["bench", "run", "--model", "probe:fbank", *tasks, "--out", str(subs)],
        ["bench", "run", *CASCADE, *tasks, "--out", str(subs)],
        ["bench", "leaderboard", "build", "--submissions", str(subs), *tasks, "--out", str(tables)]
        + ["--site", str(site)],
    ]
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    total_wall = total_cpu = total_sys = 0.0
    try:
        for command in commands:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
            faults = after.ru_minflt - before.ru_minflt
            total_wall, total_cpu, total_sys = total_wall + wall, total_cpu + user + system, total_sys + system
            print(
                f"{wall:7.1f} s wall {user + system:7.1f} s CPU ({system:5.1f} s system, {faults:>10,} minor faults)  "
                f"{' '.join(command[:5])}",
                flush=True,
            )
        minutes = total_wall / 60
        print(f"total: {total_wall:.1f} s wall ({minutes:.2f} min), {total_cpu:.1f} s CPU ({total_sys:.1f} s system)")
        print(f"ratio to the 6-minute target: {total_wall / TARGET_S:.2f}")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        if args.keep:
            shutil.copytree(work, args.keep, dirs_exist_ok=True, ignore=shutil.ignore_patterns("cache"))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
