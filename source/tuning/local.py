"""The search on this machine: Hyperopt's ``fmin``, its trials saved as JSON after each one.

The search state is plain data (``hyperopt_trials.json``: each trial's sampled values and
result), never a pickle: a search folder may be shared between users, and unpickling a file runs
whatever code it names. A ``hyperopt_trials.pkl`` left by an older studio is refused, not read.
"""

import json
from datetime import datetime
from numbers import Number
from pathlib import Path

import numpy as np
from hyperopt import JOB_STATE_DONE, STATUS_OK, Trials, fmin, rand, tpe

from ..fileio import atomic_path
from ..errors import StudioError
from .objective import Objective, print_trial

TRIALS_FILE = "hyperopt_trials.json"
LEGACY_TRIALS_FILE = "hyperopt_trials.pkl"  # an older studio's pickle: never loaded
_FORMAT = "emotion-studio hyperopt trials 1"


def _plain(value):
    """JSON for numpy numbers and arrays (the trial results hold them)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON data")


def save_trials(path: Path, trials: Trials) -> None:
    """The finished trials as JSON, replacing ``path`` atomically."""
    docs = [{"tid": doc["tid"], "result": doc["result"],
             "vals": doc["misc"]["vals"], "idxs": doc["misc"]["idxs"],
             "book_time": doc.get("book_time"), "refresh_time": doc.get("refresh_time")}
            for doc in trials.trials if doc["state"] == JOB_STATE_DONE]
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps({"format": _FORMAT, "trials": docs}, default=_plain, indent=1),
                             encoding="utf-8")


def _trial_doc(entry: dict) -> dict:
    """A Hyperopt trial document from one saved entry, every field checked to be plain data."""
    tid = entry["tid"]
    vals, idxs, result = entry["vals"], entry["idxs"], entry["result"]
    if not (isinstance(tid, int) and isinstance(vals, dict) and isinstance(idxs, dict)
            and isinstance(result, dict) and set(vals) == set(idxs)):
        raise ValueError(f"trial {tid!r} is malformed")
    for name in vals:
        if not (isinstance(vals[name], list) and isinstance(idxs[name], list)
                and all(isinstance(v, Number) and not isinstance(v, bool) for v in vals[name])
                and all(isinstance(i, int) for i in idxs[name])):
            raise ValueError(f"trial {tid}: the values of {name!r} are not numbers")
    if not isinstance(result.get("loss"), Number) or result.get("status") != STATUS_OK:
        raise ValueError(f"trial {tid} has no finished result")
    times = {key: datetime.fromisoformat(entry[key]) if entry.get(key) else None
             for key in ("book_time", "refresh_time")}
    return {"state": JOB_STATE_DONE, "tid": tid, "spec": None, "result": result,
            "misc": {"tid": tid, "cmd": ("domain_attachment", "FMinIter_Domain"), "workdir": None,
                     "idxs": idxs, "vals": vals},
            "exp_key": None, "owner": None, "version": 0, **times}


def load_trials(folder: Path) -> Trials:
    """The trials saved in ``folder`` (none: a new search). Refuses a pickled state."""
    path, legacy = folder / TRIALS_FILE, folder / LEGACY_TRIALS_FILE
    if not path.exists():
        if legacy.exists():
            raise StudioError(f"{legacy} is a pickled search state, which the studio no longer "
                              "reads (unpickling a file can run any code in it). Delete it to start "
                              "the search over.")
        return Trials()
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
            raise ValueError("it is not a search state written by the studio")
        docs = [_trial_doc(entry) for entry in payload["trials"]]
        if len({doc["tid"] for doc in docs}) != len(docs):
            raise ValueError("two trials share an id")
        trials = Trials()
        trials.insert_trial_docs(docs)
        trials.refresh()
        return trials
    except (OSError, ValueError, KeyError, TypeError, AttributeError, AssertionError) as error:
        raise StudioError(f"The saved trials {path} cannot be read ({error}); delete the file "
                          "to start the search over.") from error


def local_search(objective: Objective, space: dict, max_evals: int, algo: str, folder: Path,
                 seed: int) -> list[dict]:
    """Run trials until ``max_evals`` are done (counting those of an earlier, stopped run)."""
    path = folder / TRIALS_FILE
    trials = load_trials(folder)
    if len(trials.trials):
        print(f"resuming: {len(trials.trials)} trial(s) done before")

    def evaluate(sampled: dict) -> dict:
        result = objective(sampled)
        print_trial(len(trials.trials), max_evals, result)
        return {"loss": -result["macro_f1"], "status": STATUS_OK, "result": result}

    while len(trials.trials) < max_evals:  # one trial per fmin call, saved as it ends
        done = len(trials.trials)
        # seeded by the number of trials done, so a resumed search draws new points
        fmin(evaluate, space, algo=tpe.suggest if algo == "tpe" else rand.suggest,
             max_evals=len(trials.trials) + 1, trials=trials,
             rstate=np.random.default_rng([seed, len(trials.trials)]), show_progressbar=False)
        save_trials(path, trials)
        if len(trials.trials) == done:  # fmin ran nothing (it cannot, but never spin)
            break
    return [t["result"]["result"] for t in trials.trials if t["result"].get("status") == STATUS_OK]
