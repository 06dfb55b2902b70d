"""Fixtures of the client tests: a scripted ingestion server and Wardens closed at teardown."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ingest_server import Ingest

from mlwarden.client import Warden


@pytest.fixture
def server() -> Iterator[Ingest]:
    ingest = Ingest()
    yield ingest
    ingest.stop()


@pytest.fixture
def make_warden(tmp_path: Path) -> Iterator[Callable[..., Warden]]:
    made: list[Warden] = []

    def make(url: str, **options: Any) -> Warden:
        options = {"spool_dir": tmp_path / "spool", "flush_interval": 0.05, "max_attempts": 3, **options}
        warden = Warden(url, **options)
        made.append(warden)
        return warden

    yield make
    for warden in made:
        warden.close(timeout=2)
