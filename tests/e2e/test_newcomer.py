"""A newcomer's first hour, as a test: clone, `make up`, the README's tour, Ctrl-C.

The repository is cloned into a temporary folder with `git clone`, and the working tree's
uncommitted changes are laid over it (what the next commit will hold; on a clean tree the
two are the same). The clone gets a `.venv` of its own whose packages are this
repository's `.venv` (one `.pth` line), so `make up` installs nothing but the project's
own `switchboard` command: fast, and offline on a warm package cache.

`make up` runs in the background on a terminal of its own (a pty), as a shell would run
it, on free ports and without background traffic (so the newest call on the dashboard is
the tour's): `UP_ARGS` carries those, and the docs' blocks have their default ports
changed to these; every other word runs verbatim. Then: the README's tour (its write-path
step must show the replayed dead letter delivered and applied once), the dashboard's
Calls page in headless Chromium showing the tour's call, every runnable block of docs/,
a Ctrl-C typed at make's terminal (a pty the test holds): make exits 0, the last line
says what stopped, nothing is left listening. The wall time of each stage is printed
(`-s` shows it).
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import termios
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mocks.dataset.cast import CLEAN
from tests._support.runnable_docs import ROOT, Block, on_ports, runnable_blocks

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
LIVE_GOAL_S = 60.0
BANNER = "Switchboard is up"
CTRL_C = b"\x03"  # what the terminal turns into SIGINT for its foreground process group


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True
    ).stdout


def _clone(dest: Path) -> None:
    """`git clone`, then the working tree's changes (added, modified, deleted) over it."""
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(dest)], check=True)
    for name in _git("ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0"):
        source = ROOT / name
        if name and source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    for name in _git("ls-files", "-z", "--deleted").split("\0"):
        if name:
            (dest / name).unlink(missing_ok=True)


def _venv(dest: Path) -> None:
    """A venv of the clone's own that sees this repository's installed packages (pip among
    them, so the venv needs no copy of its own)."""
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(dest / ".venv")], check=True)
    shared = sysconfig.get_paths()["purelib"]
    (site,) = (dest / ".venv" / "lib").glob("python*/site-packages")
    (site / "_switchboard_shared_venv.pth").write_text(shared + "\n", encoding="utf-8")


_MAKE_VARIABLES = frozenset(
    {"MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES", "MAKE_TERMOUT", "MAKE_TERMERR"}
)


def _clean_env() -> dict[str, str]:
    """The environment a newcomer's terminal has: none of the suite's SWITCHBOARD_* settings,
    and no make around it (under `make test`, make's own variables would make the inner make
    print the directories it enters and leaves)."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SWITCHBOARD_") and k not in _MAKE_VARIABLES
    }


@dataclass
class Newcomer:
    home: Path
    ports: dict[str, int]
    log: Path
    make: subprocess.Popen[bytes] | None = None
    terminal: int = -1  # the pty's controlling side
    timings: dict[str, float] = field(default_factory=dict)

    def run(
        self, blocks: list[Block], *, timeout: float = 120, busy_note: list[str] | None = None
    ) -> str:
        """Run ``blocks`` in one bash session; each must exit 0.

        One failure is noted instead (in ``busy_note``, when given): a scenario whose only
        missed expectation is a latency percentile on a machine running more than three
        runnable processes per core, where the latency measured is the machine's, not the
        layer's. Everything else the scenario checks (no failed or degraded call, no
        write lost or duplicated) must still have passed.
        """
        script = ["set -euo pipefail"]
        for block in blocks:
            script += [f"echo '>>> {block.where}' >&2", on_ports(block.code, self.ports)]
        # Commands that take no URL find the services through their settings: the same
        # ports change, said the one way those commands read.
        env = {
            **_clean_env(),
            "SWITCHBOARD_SIMULATOR_INTEGRATION_URL": self.url("integration"),
            "SWITCHBOARD_SIMULATOR_MOCKS_URL": self.url("mocks"),
        }
        done = subprocess.run(
            ["bash", "-c", "\n".join(script)],
            cwd=self.home,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        where = [line for line in done.stderr.splitlines() if line.startswith(">>> ")]
        missed = re.findall(r"\[FAIL\] (\S+)", done.stdout)
        load, cores = os.getloadavg()[0], os.cpu_count() or 1
        if (
            busy_note is not None
            and done.returncode == 1
            and missed
            and all(name.endswith("_p95_ms") or name.endswith("_p99_ms") for name in missed)
            and load > 3 * cores
        ):
            busy_note.append(
                f"{where[-1][4:]}: the scenario missed {', '.join(missed)} with load "
                f"{load:.1f} on {cores} cores; every other expectation held"
            )
            return done.stdout
        assert done.returncode == 0, (
            f"runnable block {where[-1][4:] if where else '?'} failed ({done.returncode}):\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
        return done.stdout

    def url(self, part: str) -> str:
        return f"http://127.0.0.1:{self.ports[part]}"


@pytest.fixture(scope="module")
def newcomer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Newcomer]:
    if not (ROOT / ".git").exists() or shutil.which("make") is None:
        pytest.skip("needs a git checkout and make")
    home = tmp_path_factory.mktemp("newcomer") / "switchboard"
    began = time.monotonic()
    _clone(home)
    _venv(home)
    mocks, integration, dashboard = _free_ports(3)
    person = Newcomer(
        home, {"mocks": mocks, "integration": integration, "dashboard": dashboard}, home / "up.log"
    )
    person.timings["clone and venv"] = time.monotonic() - began
    up_args = (
        f"--mocks-port {mocks} --integration-port {integration} "
        f"--dashboard-port {dashboard} --traffic 0"
    )
    began = time.monotonic()
    # A terminal of its own (a pty whose session make leads, as a shell's job in the
    # foreground), so that Ctrl-C is the terminal's: a ^C written to it.
    person.terminal, tty = os.openpty()
    person.make = subprocess.Popen(
        ["make", "up", f"UP_ARGS={up_args}"],
        cwd=home,
        env=_clean_env(),
        stdin=tty,
        stdout=tty,
        stderr=tty,
        start_new_session=True,
        preexec_fn=_controlling_terminal,
    )
    os.close(tty)
    person.log.touch()
    threading.Thread(target=_keep, args=(person.terminal, person.log), daemon=True).start()
    try:
        while BANNER not in person.log.read_text(errors="replace"):
            assert person.make.poll() is None, f"make up ended early:\n{_tail(person.log)}"
            assert time.monotonic() - began < 240, f"not up in 240 s:\n{_tail(person.log)}"
            time.sleep(0.2)
        person.timings["make up until live"] = time.monotonic() - began
        yield person
    finally:
        if person.make.poll() is None:  # the test failed before its own Ctrl-C
            os.write(person.terminal, CTRL_C)
            try:
                person.make.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(person.make.pid, signal.SIGKILL)
                person.make.wait()


def _controlling_terminal() -> None:
    """In make, after its new session began: stdin, the pty, becomes its terminal."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _keep(terminal: int, log: Path) -> None:
    """Everything the terminal shows, into the log (a pty nobody reads blocks its writer)."""
    with log.open("ab") as out:
        while True:
            try:
                chunk = os.read(terminal, 65536)
            except OSError:  # the last process holding the pty is gone
                return
            if not chunk:
                return
            out.write(chunk.replace(b"\r\n", b"\n"))
            out.flush()


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@pytest.mark.timeout(480)  # clone, install, start, the tour and the docs: minutes when busy
def test_a_newcomer_follows_the_readme(newcomer: Newcomer) -> None:
    # The tour's first block only sets variables; each step after it runs in a shell of its
    # own that begins with it, in the README's order.
    prelude, *steps = runnable_blocks(ROOT / "README.md")
    assert "curl" not in prelude.code
    latency_missed: list[str] = []

    began = time.monotonic()
    for n, step in enumerate(steps):
        printed = newcomer.run([prelude, step], timeout=240, busy_note=latency_missed)
        if "/outbox/dead/" in step.code:  # the lesson: a dead letter replayed lands once
            assert '"dead_reason":"rejected"' in printed, printed
            assert '"status":"delivered"' in printed, printed
            assert '{"applied":1,"duplicate_keys":[]}' in printed, printed
        if n == 1:  # the CRM is down: the dashboard, before the tour puts things back
            newcomer.timings["tour: one call, break the CRM"] = time.monotonic() - began
            _the_dashboard_shows_the_call(newcomer)
            began = time.monotonic()
    newcomer.timings["tour: reset, write path, scenario, load test"] = time.monotonic() - began

    began = time.monotonic()
    for page in sorted((ROOT / "docs").glob("*.md")):
        blocks = runnable_blocks(page)
        if blocks:
            newcomer.run(blocks)
    newcomer.timings["docs' runnable blocks"] = time.monotonic() - began

    _ctrl_c_stops_everything(newcomer)
    total = sum(newcomer.timings.values())
    report = ", ".join(f"{k} {v:.1f} s" for k, v in newcomer.timings.items())
    print(f"\nnewcomer: {report}; total {total:.1f} s")
    live = newcomer.timings["make up until live"]
    if live > LIVE_GOAL_S:
        print(f"newcomer: live in {live:.0f} s, over the {LIVE_GOAL_S:.0f} s goal")
    for note in latency_missed:
        print(f"newcomer: {note}")


def _the_dashboard_shows_the_call(newcomer: Newcomer) -> None:
    if not CHROMIUM.exists():
        print("newcomer: no /usr/bin/chromium, the dashboard was not looked at")
        return
    sync_api = pytest.importorskip("playwright.sync_api")
    began = time.monotonic()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{newcomer.url('dashboard')}/calls")
            page.get_by_role("heading", name="Calls", exact=True).wait_for(timeout=30_000)
            page.get_by_text(f"Caller {CLEAN.phone}").first.wait_for(timeout=30_000)
        finally:
            browser.close()
    newcomer.timings["dashboard shows the call"] = time.monotonic() - began


def _ctrl_c_stops_everything(newcomer: Newcomer) -> None:
    assert newcomer.make is not None
    began = time.monotonic()
    os.write(newcomer.terminal, CTRL_C)  # Ctrl-C, typed at make's terminal
    code = newcomer.make.wait(timeout=30)
    time.sleep(0.3)  # the last of the terminal's output into the log
    newcomer.timings["Ctrl-C until stopped"] = time.monotonic() - began
    lines = [line for line in newcomer.log.read_text(errors="replace").splitlines() if line]
    assert code == 0, _tail(newcomer.log)
    assert "Interrupt" not in lines[-1] and "***" not in "\n".join(lines[-3:])
    assert lines[-1].lstrip("^C").startswith("[up] stopped mocks, integration, dashboard"), lines[
        -3:
    ]
    assert "Error" not in lines[-1] and "(Ctrl-C)" in lines[-1]
    for port in newcomer.ports.values():
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still answers"
