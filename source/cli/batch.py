"""``run.py batch INPUT_DIR --out DIR``: every media file under a folder, here or on Ray."""

from pathlib import Path

from .analyze import add_analysis_arguments, options_from_args


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "batch", help="analyse every media file under a folder",
        description="Analyse every video, audio file and photo under INPUT_DIR once: each "
                    "file's outputs go to a folder named after it under --out, files already "
                    "done are skipped (unless --force), failures are listed without stopping "
                    "the run, and --out/summary.csv has one row per file. Exits with 1 when "
                    "any file failed.",
    )
    parser.add_argument("input_dir", type=Path, help="folder of media files (searched recursively)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--engine", choices=("local", "ray"), default="local",
                        help="local: worker processes on this machine; ray: Ray actors, on a "
                             "local Ray instance or the cluster at --address (default: %(default)s)")
    parser.add_argument("--address", help="Ray cluster address (e.g. 10.0.0.5:6379; 'auto' for "
                                          "the cluster this machine belongs to)")
    parser.add_argument("--workers", type=int, default=1,
                        help="files analysed at once (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="analyse files already done again")
    add_analysis_arguments(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    from ..batch import FAILED, SUMMARY_NAME, plan_batch, run_batch

    if args.address and args.engine != "ray":
        raise SystemExit("error: --address is for --engine ray")
    from ..fileio import check_output_folder

    options = options_from_args(args)
    check_output_folder(args.out)
    plan = plan_batch(args.input_dir, args.out, args.force)
    print(f"{plan.total} media file(s) under {args.input_dir}: {len(plan.done)} already done, "
          f"{len(plan.todo)} to analyse ({args.engine}, {args.workers} worker(s))")
    from .progress import progress_bar

    failures = []
    # a bar on a terminal, plain lines when piped or logged
    with progress_bar(total=plan.total, initial=len(plan.done), unit="file", desc="files") as bar:
        say = getattr(bar, "write", print)  # tqdm.write keeps the bar intact

        def report(row: dict) -> None:
            bar.update(1)
            if row["status"] == FAILED:
                failures.append(row)
                say(f"failed: {row['file']}: {row['error']}")

        rows = run_batch(plan, args.out, options, args.engine, args.workers, args.address, report)
    print(f"{len(rows) - len(plan.done) - len(failures)} analysed, {len(plan.done)} already "
          f"done, {len(failures)} failed; wrote {args.out / SUMMARY_NAME}")
    for row in failures:
        print(f"  {row['file']}: {row['error']}")
    return 1 if failures else 0
