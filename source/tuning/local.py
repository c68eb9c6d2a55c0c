"""The search on this machine: Hyperopt's ``fmin``, its trials saved after each one."""

import pickle
from pathlib import Path

import numpy as np
from hyperopt import STATUS_OK, Trials, fmin, rand, tpe

from ..errors import StudioError
from .search import Objective, print_trial

TRIALS_FILE = "hyperopt_trials.pkl"


def _load_trials(path: Path) -> Trials:
    if not path.exists():
        return Trials()
    try:
        with open(path, "rb") as file:
            return pickle.load(file)
    except (OSError, pickle.UnpicklingError, EOFError) as error:
        raise StudioError(f"The saved trials {path} cannot be read ({error}); delete the file "
                          "to start the search over.") from error


def local_search(objective: Objective, space: dict, max_evals: int, algo: str, folder: Path,
                 seed: int) -> list[dict]:
    """Run trials until ``max_evals`` are done (counting those of an earlier, stopped run)."""
    path = folder / TRIALS_FILE
    trials = _load_trials(path)
    if len(trials.trials):
        print(f"resuming: {len(trials.trials)} trial(s) done before")

    def evaluate(sampled: dict) -> dict:
        result = objective(sampled)
        print_trial(len(trials.trials), max_evals, result)
        return {"loss": -result["macro_f1"], "status": STATUS_OK, "result": result}

    # seeded by the number of trials done, so a resumed search draws new points
    fmin(evaluate, space, algo=tpe.suggest if algo == "tpe" else rand.suggest, max_evals=max_evals,
         trials=trials, rstate=np.random.default_rng([seed, len(trials.trials)]),
         trials_save_file=str(path), show_progressbar=False)
    return [t["result"]["result"] for t in trials.trials if t["result"].get("status") == STATUS_OK]
