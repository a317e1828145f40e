"""What every benchmark script's command line shares: ``--quick`` and skipping cleanly.

``--quick`` runs the same code paths at tiny sizes in a few seconds, so CI can check that
each script still works (``.ci/run``). Its numbers are not measurements: timing targets
are printed but do not set the exit status; correctness checks (identical results from two
implementations, request counts) still do.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any

QUICK_HELP = "tiny sizes, a few seconds: checks the code paths, not the speed (options given "
QUICK_HELP += "explicitly still win)"


def parse_args(ap: argparse.ArgumentParser, quick: Mapping[str, Any],
               argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Adds ``--quick`` to ``ap`` and parses ``argv``.

    Args:
        ap: The script's parser, with all its other options added.
        quick: Option defaults (by ``dest``) that ``--quick`` puts in place; every key must
            be an option of ``ap``.
        argv: Arguments to parse (``None``: the process's own).

    Returns:
        The parsed options; under ``--quick``, the ``quick`` values for every option not
        given explicitly.

    Raises:
        KeyError: If ``quick`` names an option that ``ap`` does not have.
    """
    ap.add_argument("--quick", action="store_true", help=QUICK_HELP)
    args = ap.parse_args(argv)
    unknown = sorted(k for k in quick if not hasattr(args, k))
    if unknown:
        raise KeyError(f"quick defaults name no option of this script: {unknown}")
    if args.quick:
        ap.set_defaults(**quick)
        args = ap.parse_args(argv)
    return args


def skip(reason: str) -> int:
    """Prints why the benchmark does not run here; returns the exit status 0."""
    print(f"SKIPPED: {reason}")
    return 0
