"""Running a notebook top to bottom with nbclient, as the test suite and ``make notebooks`` do.

The kernel is this very interpreter (``sys.executable``, the project's ``.venv``): a
kernel spec written to a temporary folder points at it, so no kernel has to be installed
anywhere and a fresh clone runs the notebooks as soon as ``requirements-dev.txt`` is in.
The kernel starts in the notebook's own folder, as Jupyter starts it.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient

__all__ = ["NOTEBOOKS", "NotebookRun", "has_outputs", "run_notebook"]

NOTEBOOKS = Path(__file__).resolve().parents[1]
_KERNEL = "switchboard-venv"


@dataclass(frozen=True)
class NotebookRun:
    path: Path
    seconds: float
    cells: int
    notebook: nbformat.NotebookNode


def _kernel_manager(folder: Path) -> AsyncKernelManager:
    spec = folder / _KERNEL
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (Switchboard .venv)",
                "language": "python",
                # Jupyter's old path layout warns on every start: the new one is the same here.
                "env": {"JUPYTER_PLATFORM_DIRS": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"},
            }
        )
    )
    specs = KernelSpecManager(kernel_dirs=[str(folder)], ensure_native_kernel=False)
    # Local sockets in the temporary folder, not TCP: nothing else on the machine can
    # reach the kernel, and it has no reason to warn about plain-text traffic.
    return AsyncKernelManager(
        kernel_name=_KERNEL, kernel_spec_manager=specs, transport="ipc", ip=str(folder / "ipc")
    )


def _shut_down(client: NotebookClient, manager: AsyncKernelManager) -> None:
    """nbclient leaves a kernel manager it was handed alone: close the channels and stop
    the kernel here (politely first, so the notebook's own atexit hooks stop its stack)."""
    if client.kc is not None:
        client.kc.stop_channels()
        client.kc = None
    if manager.has_kernel:
        run_sync(manager.shutdown_kernel)(now=False)
    else:
        run_sync(manager.cleanup_resources)()
    manager.context.destroy(linger=0)


def run_notebook(
    path: Path, *, cell_timeout_s: float = 120, save_to: Path | None = None
) -> NotebookRun:
    """Execute every cell in order; a cell that raises stops the run with
    ``nbclient.exceptions.CellExecutionError`` (its traceback in the message)."""
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="switchboard-kernels-") as kernels:
        manager = _kernel_manager(Path(kernels))
        client = NotebookClient(
            notebook,
            km=manager,
            timeout=int(cell_timeout_s),
            # A traceback in a test log is read as plain text: no terminal colours.
            extra_arguments=["--InteractiveShell.colors=nocolor"],
            resources={"metadata": {"path": str(path.parent)}},
        )
        began = time.perf_counter()
        try:
            client.execute()
        finally:
            seconds = time.perf_counter() - began
            _shut_down(client, manager)
    if save_to is not None:
        save_to.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, save_to / path.name)
    cells = sum(1 for cell in notebook.cells if cell.cell_type == "code")
    return NotebookRun(path=path, seconds=seconds, cells=cells, notebook=notebook)


def has_outputs(path: Path) -> list[int]:
    """Indexes of code cells that carry outputs or an execution count (git keeps none)."""
    notebook = nbformat.read(path, as_version=4)
    return [
        n
        for n, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
