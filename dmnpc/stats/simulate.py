"""Run a simulation's replicates serially, in local processes or on a Dask cluster, with the same result.

A simulation is a *task*: a picklable callable that takes a list of
:class:`numpy.random.SeedSequence` and returns a :class:`pandas.DataFrame` with one row per
seed (replicate ``i`` draws everything from ``numpy.random.default_rng(seeds[i])``).
:func:`run_replicates` gives replicate ``i`` the ``i``-th child of
``numpy.random.SeedSequence(seed).spawn(replicates)``, cuts the replicates into chunks, runs the
chunks

* serially (``n_jobs=1``, the default),
* in local processes (``n_jobs > 1`` or ``-1`` for every core; joblib's ``loky`` backend), or
* on a Dask cluster (``scheduler``: a ``distributed`` scheduler address such as
  ``"tcp://10.0.0.1:8786"``, or a ``distributed.Client``; the workers must be able to import the
  task's module),

and returns the rows in replicate order. Each replicate's numbers depend on its own seed only,
so the result does not depend on the backend, the number of workers or the chunk size, provided
the task computes each replicate independently of the others in its chunk (the package's tasks
do: every batched fit stops on its own; ``tests/stats/test_simulate.py`` checks serial, joblib
and Dask runs are identical). Every chunk runs with single-threaded BLAS (many small products:
threads cost more than they save, and results must not depend on the thread count).

:func:`binomial_ci` is the Monte Carlo confidence interval of a proportion of replicates.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from dmnpc.stats import _progress

__all__ = ["replicate_seeds", "run_replicates", "binomial_ci", "CI_METHOD", "DEFAULT_CHUNK"]

#: Replicates per chunk (one task call): big enough for the batched fits, small enough to share the work.
DEFAULT_CHUNK = 100
#: How :func:`binomial_ci` computes the interval.
CI_METHOD = "Clopper-Pearson exact (R's binom.test)"

Task = Callable[[Sequence[np.random.SeedSequence]], pd.DataFrame]


def replicate_seeds(seed: int, replicates: int) -> list[np.random.SeedSequence]:
    """``numpy.random.SeedSequence(seed).spawn(replicates)``: the seed of every replicate."""
    return np.random.SeedSequence(seed).spawn(replicates)


def _check_int(x: Any, name: str, low: int) -> int:
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {x!r}")
    return int(x)


def _run_chunk(task: Task, seeds: Sequence[np.random.SeedSequence]) -> pd.DataFrame:
    """One chunk with single-threaded BLAS; checks the task's answer has one row per seed."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        res = task(seeds)
    if not isinstance(res, pd.DataFrame) or len(res) != len(seeds):
        raise ValueError(f"the task must return a DataFrame with one row per seed ({len(seeds)}), got "
                         f"{type(res).__name__} of length {len(res) if hasattr(res, '__len__') else '?'}")
    return res.reset_index(drop=True)


def _bar(total: int, progress: bool, desc: str):
    return _progress.bar(total, progress, desc, unit="rep")


def run_replicates(task: Task, replicates: int, seed: int, *, n_jobs: int = 1, scheduler: Any = None,
                   chunk_size: int = DEFAULT_CHUNK, progress: bool = False, desc: str = "simulation") -> pd.DataFrame:
    """Run ``replicates`` replicates of ``task`` (see the module docstring) and return their rows in order.

    Parameters
    ----------
    task : callable
        ``task(seeds) -> DataFrame`` with one row per seed; must be picklable for ``n_jobs > 1``
        and Dask (a module-level function, or a :func:`functools.partial` of one).
    replicates : int
        Number of replicates (>= 1).
    seed : int
        Root seed (>= 0): replicate ``i`` gets ``SeedSequence(seed).spawn(replicates)[i]``.
    n_jobs : int
        1 serial (default); k > 1 local processes (joblib, loky); -1 one process per core.
        Ignored when ``scheduler`` is given.
    scheduler : str or distributed.Client, optional
        Run on a Dask cluster: a scheduler address (a client is opened and closed here) or a client.
    chunk_size : int
        Replicates per task call.
    progress : bool
        Show a tqdm progress bar on standard error (replicates done).
    desc : str
        The bar's label.

    Returns
    -------
    pandas.DataFrame
        The task's columns, preceded by ``replicate`` (0 .. replicates - 1), in replicate order.
    """
    replicates = _check_int(replicates, "the number of replicates", 1)
    seed = _check_int(seed, "the seed", 0)
    chunk_size = _check_int(chunk_size, "the chunk size", 1)
    if scheduler is None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer))
                              or not (n_jobs >= 1 or n_jobs == -1)):
        raise ValueError(f"n_jobs must be a positive integer or -1 (every core), got {n_jobs!r}")
    seeds = replicate_seeds(seed, replicates)
    chunks = [seeds[s:s + chunk_size] for s in range(0, replicates, chunk_size)]
    bar = _bar(replicates, progress, desc)
    try:
        if scheduler is not None:
            parts = _dask(task, chunks, scheduler, bar)
        elif n_jobs == 1:
            parts = []
            for c in chunks:
                parts.append(_run_chunk(task, c))
                bar.update(len(c))
        else:
            parts = _joblib(task, chunks, int(n_jobs), bar)
    finally:
        bar.close()
    res = pd.concat(parts, ignore_index=True)
    res.insert(0, "replicate", np.arange(replicates))
    return res


def _joblib(task: Task, chunks, n_jobs: int, bar) -> list[pd.DataFrame]:
    from joblib import Parallel, delayed

    parts = []
    gen = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator")(delayed(_run_chunk)(task, c) for c in chunks)
    for c, part in zip(chunks, gen):
        parts.append(part)
        bar.update(len(c))
    return parts


def _dask(task: Task, chunks, scheduler: Any, bar) -> list[pd.DataFrame]:
    from distributed import Client, as_completed

    own = not isinstance(scheduler, Client)
    client = Client(scheduler, timeout="10s") if own else scheduler
    try:
        futures = client.map(_run_chunk, [task] * len(chunks), chunks, pure=False)
        size = {f.key: len(c) for f, c in zip(futures, chunks)}
        for fut in as_completed(futures):
            bar.update(size[fut.key])
        return client.gather(futures)
    finally:
        if own:
            client.close()


def binomial_ci(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson exact confidence interval of a proportion ``k / n`` (R's ``binom.test``).

    The Monte Carlo interval of a rate estimated from ``n`` replicates: it covers the true rate
    with probability at least ``level`` whatever the rate, also near 0 and 1.

    References
    ----------
    Clopper CJ, Pearson ES. The use of confidence or fiducial limits illustrated in the case of the
    binomial. Biometrika 1934;26:404-413.
    """
    k, n = _check_int(k, "k", 0), _check_int(n, "n", 1)
    if k > n:
        raise ValueError(f"k ({k}) cannot exceed n ({n})")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level!r}")
    a = 1.0 - level
    lo = 0.0 if k == 0 else float(stats.beta.ppf(a / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - a / 2, k + 1, n - k))
    return lo, hi
