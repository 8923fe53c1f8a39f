"""``python -m notebooks [NAME ...] [--out DIR]``: run the training notebooks top to bottom.

Each one starts and stops its own stack; the run time of each is printed. With ``--out``
the executed copies (with their outputs and plots) are written there, never over the
notebooks themselves, which git keeps without outputs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from nbclient.exceptions import CellExecutionError

from notebooks.support.execute import NOTEBOOKS, run_notebook


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notebooks", description=__doc__)
    parser.add_argument("names", nargs="*", help="notebooks to run (default: all), e.g. 01")
    parser.add_argument("--out", type=Path, default=None, help="write executed copies here")
    args = parser.parse_args(argv)
    found = sorted(NOTEBOOKS.glob("[0-9]*.ipynb"))
    chosen = [p for p in found if not args.names or any(p.name.startswith(n) for n in args.names)]
    if not chosen:
        parser.error(f"no notebook matches {args.names}; there are {[p.name for p in found]}")
    failed = 0
    for path in chosen:
        print(f"{path.name} ...", end=" ", flush=True)
        try:
            run = run_notebook(path, save_to=args.out)
        except CellExecutionError as exc:
            failed += 1
            print(f"FAILED\n{exc}")
            continue
        print(f"ok, {run.cells} code cells in {run.seconds:.1f} s")
    if args.out is not None:
        print(f"executed copies in {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
