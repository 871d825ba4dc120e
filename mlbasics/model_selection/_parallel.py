"""One way to run many independent fits: joblib, an optional progress bar, clean interruption.

Every loop of :mod:`mlbasics.model_selection` (folds times estimators, bootstrap rounds, rounds
times parameter values) goes through :func:`parallel_map`. It uses scikit-learn's
:class:`sklearn.utils.parallel.Parallel` (a :class:`joblib.Parallel` that carries scikit-learn's
configuration to the workers) and never names a backend, so ``joblib.parallel_config(backend=...)``
decides where the work runs: local processes (loky, the default), threads, or a Dask cluster.

The tasks are built in the calling process, with every random draw already made, so the results
do not depend on ``n_jobs`` or on the order in which the workers finish.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.parallel import Parallel, delayed


def tqdm_class():
    """``tqdm.auto.tqdm``, or a clear ImportError when tqdm is missing."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        raise ImportError(
            "verbose=1 draws a progress bar with tqdm, which is not installed: "
            "pip install tqdm (or mlbasics[progress]), or pass verbose=0"
        ) from None
    return tqdm


def progress_bar(total: int, description: str):
    """A tqdm progress bar of ``total`` steps, or a clear ImportError when tqdm is missing."""
    return tqdm_class()(total=total, desc=description, unit="fit")


def _indexed(function, index, args):
    return index, function(*args)


def parallel_map(function, tasks, *, n_jobs=None, verbose=0, description="fits", on_result=None):
    """Return ``[function(*task) for task in tasks]``, computed through joblib.

    Parameters
    ----------
    function : callable
        Must be picklable (a module-level function) for process-based backends.
    tasks : list of tuple
        Positional arguments of each call.
    n_jobs : int or None
        Passed to :class:`joblib.Parallel`: ``None`` means 1 unless a
        ``joblib.parallel_config`` context says otherwise, ``-1`` all cores.
    verbose : int
        A progress bar (tqdm) over the tasks when positive.
    description : str
        Label of the progress bar.
    on_result : callable or None
        Called as ``on_result(index, value)`` in the calling process as each result arrives (in
        order of completion); the callback support ends a group of tasks with it. Under a backend
        that cannot stream results (joblib's ``multiprocessing``) every call comes after the
        last task, in the order of ``tasks``.

    Returns
    -------
    list
        The results, in the order of ``tasks`` whatever the order of completion.

    Notes
    -----
    Ctrl-C while the tasks run raises :class:`KeyboardInterrupt` here; the results generator is
    closed on the way out, which makes joblib abort the remaining tasks and terminate its worker
    processes instead of leaving them running.
    """
    tasks = list(tasks)
    results = [None] * len(tasks)
    bar = progress_bar(len(tasks), description) if verbose else None
    try:
        parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    except ValueError:  # a backend that cannot stream its results (joblib's multiprocessing,
        # even for n_jobs=1: every loop here failed under it, a review): all of them at the end
        parallel = Parallel(n_jobs=n_jobs)
    outputs = parallel(delayed(_indexed)(function, i, args) for i, args in enumerate(tasks))
    try:
        for index, value in outputs:
            results[index] = value
            if on_result is not None:
                on_result(index, value)
            if bar is not None:
                bar.update()
    finally:
        if hasattr(outputs, "close"):  # on an early exit (Ctrl-C, an error) joblib aborts the
            outputs.close()  # streamed tasks and stops its workers
        if bar is not None:
            bar.close()
    return results


def seeds_for(random_state, size):
    """``size`` integer seeds drawn from ``random_state`` (a RandomState), for the fits."""
    return random_state.randint(np.iinfo(np.int32).max, size=size)


def with_seeded_random_states(estimator, seed):
    """Give every parameter of ``estimator`` named ``random_state`` that is None a seed of its
    own, drawn from ``seed``.

    Nested parameters (``pipeline step__random_state``, an ensemble's ``member__random_state``)
    count too. Parameters the user fixed are left alone: a fixed seed freezes the learner's own
    randomness, None lets each fit draw a new one, and seeding it here makes that draw
    reproducible and independent of ``n_jobs``. The seeds differ from one parameter to the next
    (in the sorted order of their names): one seed for all made the five randomised trees of a
    ``VotingClassifier`` five copies of one tree (a review).
    """
    params = estimator.get_params(deep=True)
    keys = sorted(
        key
        for key, value in params.items()
        if (key == "random_state" or key.endswith("__random_state")) and value is None
    )
    if keys:
        seeds = seeds_for(np.random.RandomState(seed), len(keys))
        estimator.set_params(**{key: int(s) for key, s in zip(keys, seeds, strict=True)})
    return estimator
