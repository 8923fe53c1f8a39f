"""Options several commands share: where the running services answer."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["IntegrationUrlOpt", "MocksUrlOpt"]

IntegrationUrlOpt = Annotated[
    str | None, typer.Option(help="Where the integration service answers (default :8000).")
]
MocksUrlOpt = Annotated[
    str | None, typer.Option(help="Where the mock enterprise answers (default :8100).")
]
