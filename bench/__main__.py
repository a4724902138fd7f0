"""``python -m bench`` (``make bench``): eltflow's numbers next to moto's, from one run.

Exit status: 0 when every benchmark ran and both engines agreed on every output; 1 when
outputs differ (or, with ``--strict``, when a target is missed); 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import platform
import sys
from collections.abc import Sequence

from bench import asl_bench, peer_bench
from bench.common import asl_cases, machine_note


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Executions per second of eltflow vs moto's Step Functions interpreter.",
    )
    p.add_argument(
        "--seconds",
        type=float,
        default=3.0,
        help="time budget per case per side (default 3; each side runs at least once)",
    )
    p.add_argument(
        "--cases",
        nargs="+",
        choices=[c.name for c in asl_cases()],
        help="run only these ASL cases (default: all)",
    )
    p.add_argument(
        "--poll-interval",
        type=float,
        default=0.001,
        help="first pause between moto describe_execution polls; grows 1.5x per poll up to "
        "20 ms (default 0.001)",
    )
    p.add_argument("--no-runtime", action="store_true", help="skip the durable runtime benchmark")
    p.add_argument(
        "--no-peer", action="store_true", help="skip the aws-local-stepfunctions comparison"
    )
    p.add_argument(
        "--pipeline-sf",
        type=float,
        default=1.0,
        help="TPC-H scale factor of the pipeline benchmark (default 1; 0 or --no-runtime skip it)",
    )
    p.add_argument(
        "--map-items",
        type=int,
        default=100_000,
        help="items of the Distributed Map run, in memory and on SQLite (default 100,000; "
        "0 skips it)",
    )
    p.add_argument(
        "--waiting",
        type=int,
        default=100_000,
        help="executions held waiting by one worker, on a Wait and on a task token (default "
        "100,000; 0 skips it)",
    )
    p.add_argument(
        "--pg-sf",
        type=float,
        default=1.0,
        help="TPC-H scale factor of the PostgreSQL Parallel-vs-sequential dimension loads "
        "(default 1; 0 or --no-runtime skip it)",
    )
    p.add_argument(
        "--profile",
        metavar="CASE",
        choices=[c.name for c in asl_cases()],
        help="instead of benchmarking, profile eltflow on one case (cProfile) and print hotspots",
    )
    p.add_argument(
        "--strict", action="store_true", help="exit 1 when a target is missed, not only on errors"
    )
    return p


def _run_runtime_bench(seconds: float) -> int | None:
    """Run bench/runtime_bench.py's entry point if that module exists (it is optional)."""
    if importlib.util.find_spec("bench.runtime_bench") is None:
        return None
    module = importlib.import_module("bench.runtime_bench")
    main = getattr(module, "main", None)
    if main is None:
        print("bench/runtime_bench.py has no main(); skipped", file=sys.stderr)
        return None
    code = main(["--seconds", str(seconds)]) if inspect.signature(main).parameters else main()
    return code if isinstance(code, int) else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.seconds < 0 or args.poll_interval < 0:
        _parser().error("--seconds and --poll-interval must not be negative")
    cases = [c for c in asl_cases() if args.cases is None or c.name in args.cases]
    if args.profile:
        from bench.profiling import render_profile

        print(render_profile(next(c for c in asl_cases() if c.name == args.profile)))
        return 0

    print(
        f"eltflow benchmarks: Python {platform.python_version()}, {machine_note()}, "
        f"{args.seconds:g} s per case per side"
    )
    print()
    print(
        "ASL in memory: executions/s, eltflow.execute vs moto (mock_aws, "
        "execute_state_machine=True; start_execution + describe_execution polling)"
    )
    try:
        results = asl_bench.run(cases, seconds=args.seconds, poll_interval=args.poll_interval)
    except asl_bench.OutputMismatch as e:
        print(f"\n!!! OUTPUT MISMATCH — benchmark aborted !!!\n{e}", file=sys.stderr)
        return 1
    print(asl_bench.render(results))
    print(asl_bench.NOTE)
    missed = [r.case.title for r in results if not r.target_met]
    target = f"target: eltflow >= {asl_bench.TARGET_RATIO:.0f}x moto on each case"
    print(f"{target}: {'MET' if not missed else 'NOT MET for ' + ', '.join(missed)}")
    status = 1 if missed and args.strict else 0
    if not args.no_peer:  # issue 16: the fastest peer, aws-local-stepfunctions on node
        only = ["--cases", *args.cases] if args.cases else []
        status = status or peer_bench.main(["--seconds", str(args.seconds), *only])
    # issue 16: a Task machine in memory and the payload path's µs per KB
    status = status or importlib.import_module("bench.memory_bench").main(
        ["--seconds", str(args.seconds)]
    )

    if not args.no_runtime:
        code = _run_runtime_bench(args.seconds)
        if code is None:
            print("\n(durable runtime benchmark: bench/runtime_bench.py not present yet)")
        elif code != 0:
            status = status or code
    if not args.no_runtime:  # issue 16: durable vs in memory, round trips, latency, workers
        status = status or importlib.import_module("bench.durable_bench").main(
            ["--seconds", str(args.seconds)]
        )
    if not args.no_runtime:  # issue 16: the store's floor under the durable Pass-chain ratio
        status = status or importlib.import_module("bench.durable_floor_bench").main([])
    if not args.no_runtime:  # issue 16: Map linearity, SQLite start -> SUCCEEDED latency
        status = status or importlib.import_module("bench.scale_bench").main([])
    if not args.no_runtime and args.map_items > 0:  # issue 16: Distributed Map at scale
        status = status or importlib.import_module("bench.distributed_map_bench").main(
            ["--items", str(args.map_items)]
        )
    if not args.no_runtime and args.waiting > 0:  # issue 16: executions waiting in one worker
        status = status or importlib.import_module("bench.waiting_bench").main(
            ["--count", str(args.waiting)]
        )
    if not args.no_runtime:  # StartExecution over the AWS endpoint vs in process
        status = status or importlib.import_module("bench.endpoint_bench").main(
            ["--seconds", str(args.seconds)]
        )
    if not args.no_runtime:  # EXPRESS: StartSyncExecution in memory, in process, over HTTP
        status = status or importlib.import_module("bench.express_bench").main(
            ["--seconds", str(args.seconds)]
        )
    if args.pipeline_sf > 0 and not args.no_runtime:  # it runs on the durable runtime too
        status = status or importlib.import_module("bench.pipeline_bench").main(
            ["--pipeline-sf", str(args.pipeline_sf)]
        )
    if args.pg_sf > 0 and not args.no_runtime:
        try:
            status = status or importlib.import_module("bench.parallel_dims_bench").main(
                ["--pg-sf", str(args.pg_sf)]
            )
        except Exception as e:  # no PostgreSQL here: say so, the other numbers still stand
            print(f"\n(PostgreSQL dimension-load benchmark skipped: {e})")
    return status


if __name__ == "__main__":
    sys.exit(main())
