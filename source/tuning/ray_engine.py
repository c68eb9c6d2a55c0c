"""The same Hyperopt search through Ray Tune (``HyperOptSearch``): trials run as Ray tasks, on
this machine (a local Ray instance with ``--workers`` CPUs) or on a cluster (``--address``).

On a cluster every node must see the data folder, the search folder and this checkout at the
same paths (a shared file system): workers import the studio from the driver's checkout.
"""

import os
from pathlib import Path

from ..ray_cluster import start_ray
from .objective import Objective, print_trial

METRIC = "macro_f1"
EXPERIMENT = "ray"
HYPEROPT_STARTUP = 20  # random points before TPE models the results, as Hyperopt's own default


def ray_search(objective: Objective, space: dict, max_evals: int, algo: str, folder: Path,
               address: str | None, workers: int, seed: int) -> list[dict]:
    """Run ``max_evals`` trials, at most ``workers`` at once; a stopped search is restored from
    ``<folder>/ray`` and finishes the trials it had planned."""
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    import ray
    from ray import tune
    from ray.tune.search.hyperopt import HyperOptSearch

    start_ray(address, workers)
    try:
        def trainable(config: dict) -> dict:
            return objective(config)

        trainable = tune.with_resources(trainable, {"cpu": 1})
        path = folder / EXPERIMENT
        if tune.Tuner.can_restore(str(path)):
            print("resuming the Ray search in", path)
            tuner = tune.Tuner.restore(str(path), trainable, resume_unfinished=True,
                                       restart_errored=True)
        else:
            search = HyperOptSearch(space, metric=METRIC, mode="max", random_state_seed=seed,
                                    n_initial_points=max_evals if algo == "random" else HYPEROPT_STARTUP)
            tuner = tune.Tuner(
                trainable,
                tune_config=tune.TuneConfig(search_alg=search, num_samples=max_evals,
                                            max_concurrent_trials=workers),
                run_config=tune.RunConfig(name=EXPERIMENT, storage_path=str(folder), verbose=0))
        grid = tuner.fit()
    finally:
        ray.shutdown()
    results = [r.metrics for r in grid if r.error is None and r.metrics and METRIC in r.metrics]
    for number, result in enumerate(results, start=1):
        print_trial(number, len(grid), result)
    return [{key: result[key] for key in ("macro_f1", "accuracy", "parameters", "trial", "seconds")}
            for result in results]
