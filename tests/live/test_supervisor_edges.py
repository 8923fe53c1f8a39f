"""`switchboard up`'s edges: a port already taken is refused before anything starts, and
nothing is left running."""

from __future__ import annotations

import socket

import pytest

from app.supervisor import Part, Supervisor


def test_a_taken_port_is_refused_before_any_part_starts() -> None:
    lines: list[str] = []
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        part = Part("mocks", ("mocks", "--port", str(port)), f"http://127.0.0.1:{port}/", port=port)
        supervisor = Supervisor([part], out=lines.append)
        with pytest.raises(RuntimeError, match=f"port {port} is in use"):
            supervisor.run()
    assert supervisor.running == {}
    assert lines == []  # `up` says why it stopped (the error above), and nothing ran
