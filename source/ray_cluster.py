"""Ray for the studio's Ray engines (``batch --engine ray``, ``tune --engine ray``)."""

from .errors import StudioError
from .paths import PROJECT_ROOT, cache_dir


def start_ray(address: str | None, workers: int) -> None:
    """Join the Ray cluster at ``address``, or start a local Ray instance with ``workers`` CPUs.

    Ray's workers import the studio from this checkout and use this cache folder, so on a
    cluster every node must see both at the same paths."""
    import ray

    environment = {"PYTHONPATH": str(PROJECT_ROOT), "EMOTION_STUDIO_CACHE": str(cache_dir())}
    try:
        ray.init(address=address, num_cpus=None if address else workers, include_dashboard=False,
                 log_to_driver=False, configure_logging=False,
                 runtime_env={"env_vars": environment})
    except (ConnectionError, ValueError, RuntimeError) as error:
        where = f" at {address}" if address else ""
        raise StudioError(f"Cannot start or reach Ray{where}: {error}") from error
