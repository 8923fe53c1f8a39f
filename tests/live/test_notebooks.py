"""The training notebooks run top to bottom, and git keeps them without outputs.

Each notebook is executed by nbclient on a kernel of this interpreter (the project's
``.venv``; see ``notebooks/support/execute.py``) and starts and stops its own stack, so
nothing here uses the session mocks. A cell that raises fails the test with its traceback.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from notebooks.support.execute import NOTEBOOKS, has_outputs, run_notebook

PATHS = sorted(NOTEBOOKS.glob("[0-9]*.ipynb"))
BUDGET_S = 120  # what CI allows one notebook; each aims for well under 45 s


def test_there_are_five_training_notebooks_or_more() -> None:
    assert len(PATHS) >= 5, [p.name for p in PATHS]


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_notebook_is_kept_without_outputs(path: Path) -> None:
    cells = has_outputs(path)
    assert cells == [], (
        f"{path.name}: code cells {cells} have outputs or execution counts; clear them "
        "(Jupyter: Edit > Clear Outputs of All Cells) before committing"
    )


@pytest.mark.slow
@pytest.mark.timeout(BUDGET_S + 60)
@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_notebook(path, cell_timeout_s=BUDGET_S)
    with capsys.disabled():  # the run time is worth seeing on every run, not only on failure
        print(f"\n  {path.name}: {run.cells} code cells in {run.seconds:.1f} s", end="")
    assert run.seconds < BUDGET_S


def test_outputs_and_execution_counts_are_both_caught(tmp_path: Path) -> None:
    ran = nbformat.v4.new_code_cell("1 + 1")
    ran.execution_count = 1
    ran.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=1)]
    counted = nbformat.v4.new_code_cell("x = 1")
    counted.execution_count = 2
    clean = nbformat.v4.new_code_cell("y = 2")
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# t"), ran, counted, clean]
    )
    path = tmp_path / "dirty.ipynb"
    nbformat.write(notebook, path)
    assert has_outputs(path) == [1, 2]


@pytest.mark.slow
def test_a_cell_that_raises_fails_the_run(tmp_path: Path) -> None:
    cells = [
        nbformat.v4.new_code_cell("x = 41"),
        nbformat.v4.new_code_cell("raise ValueError(x + 1)"),
    ]
    path = tmp_path / "broken.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    with pytest.raises(CellExecutionError) as failed:
        run_notebook(path, cell_timeout_s=60)
    assert (failed.value.ename, failed.value.evalue) == ("ValueError", "42")
    assert "raise ValueError(x + 1)" in str(failed.value)  # the cell, for the reader of the log
