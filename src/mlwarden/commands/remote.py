"""What operator commands share to talk to a running server (DESIGN §6): the ``--url``/``MLWARDEN_URL`` and
``--token``/``MLWARDEN_TOKEN`` options, an httpx client that turns error answers into one-line errors, and
table-or-JSON output. In a command::

    def alerts_list(url: UrlOption = DEFAULT_URL, token: TokenOption = None, fmt: FormatOption = "table"):
        with Remote(url, token) as remote:
            show(remote.get("/v1/alerts"), ["id", "model", "check"], fmt)
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal
from urllib.parse import quote

import httpx
import typer
from rich.console import Console
from rich.table import Column, Table

from mlwarden.errors import AccessDenied, ConflictError, InputError, MlwardenError, NotFoundError

DEFAULT_URL = "http://127.0.0.1:8000"
TIMEOUT = 30.0

UrlOption = Annotated[
    str, typer.Option("--url", envvar="MLWARDEN_URL", help="The mlwarden server (or MLWARDEN_URL).")
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token", envvar="MLWARDEN_TOKEN", help="An API token (or MLWARDEN_TOKEN).", show_default=False
    ),
]
FormatOption = Annotated[
    Literal["table", "json"], typer.Option("--format", help="table for people, json for scripts.")
]

ModelArgument = Annotated[
    str,
    typer.Argument(
        help="The model's name, one of the token's team's models (a token reaches no other team's; "
        "TEAM/NAME is for the commands that open the store, e.g. mlwarden models show).",
        show_default=False,
    ),
]

console = Console(highlight=False, soft_wrap=True)
_ERRORS: dict[int, type[MlwardenError]] = {
    401: AccessDenied,
    403: AccessDenied,
    404: NotFoundError,
    409: ConflictError,
    413: InputError,
    422: InputError,
}


class RemoteError(MlwardenError):
    """The server could not be reached, or failed (5xx): one line naming the URL and the cause."""


class Remote:
    """An authenticated client of one server. Methods return the decoded JSON (or text for non-JSON
    answers); an error answer raises the matching :mod:`mlwarden.errors` class with the server's detail
    (4xx: the CLI exits 2 with one line), and an unreachable server raises :class:`RemoteError`."""

    def __init__(self, url: str, token: str | None = None, *, timeout: float = TIMEOUT) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise RemoteError(f"{self.url}: cannot reach the server ({type(exc).__name__}: {exc})") from None
        if response.is_success:
            if response.headers.get("content-type", "").startswith("application/json"):
                return response.json()
            return response.text
        detail = _detail(response)
        error = _ERRORS.get(response.status_code)
        if error is None:
            raise RemoteError(f"{method} {path}: the server answered HTTP {response.status_code}: {detail}")
        raise error(detail)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Remote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def model_path(model: str, *parts: str) -> str:
    """``/v1/models/MODEL/PART/...`` with the model's name and each part percent-encoded as one path segment:
    a name holding ``?``, ``#``, ``%`` or a space reaches its own routes (``model_path("a?b", "windows")``
    is ``/v1/models/a%3Fb/windows``). A name holds no ``/``, and the server finds it in the token's team:
    ``TEAM/NAME`` raises :class:`InputError` rather than reaching no route."""
    if "/" in model:
        raise InputError(
            f"MODEL: {model!r} holds a '/': the server finds a model by its name in the token's team "
            "(give the NAME, with a token of that team; TEAM/NAME is for the commands that open the store)"
        )
    return "/".join(["/v1/models", *(quote(part, safe="") for part in (model, *parts))])


def _detail(response: httpx.Response) -> str:
    """The server's one-line ``detail`` (FastAPI's field list as ``loc: msg``), else the status text."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return response.text.strip()[:500] or response.reason_phrase
    if isinstance(detail, list):
        return "; ".join(
            ".".join(str(p) for p in e.get("loc", [])) + f": {e.get('msg', '')}" for e in detail[:3]
        )
    return str(detail)


def show(rows: list[dict[str, Any]] | dict[str, Any], columns: list[str], fmt: str) -> None:
    """Print ``rows`` as a table of ``columns`` (``fmt == "table"``) or as JSON (everything)."""
    if fmt == "json":
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    rows = [rows] if isinstance(rows, dict) else rows
    table = Table(*(Column(c, overflow="fold") for c in columns))  # wrapped, never cut off with …
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    console.print(table)
