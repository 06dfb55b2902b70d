"""A batch: what one HTTP request carries, and what one spool file holds."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

Kind = Literal["batches", "labels"]  # the endpoint under /v1/models/{model}/
Wire = Literal["json", "arrow"]  # how prediction batches are encoded
ARROW_STREAM = "application/vnd.apache.arrow.stream"


@dataclass(slots=True)
class Batch:
    """Records of one kind for one model. ``batch_id`` never changes: retries and replays reuse it, so the
    server acknowledges a repeat as a duplicate instead of counting it twice."""

    kind: Kind
    model: str
    records: list[dict[str, Any]]
    batch_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    fingerprint: str | None = None
    model_version: str | None = None

    @property
    def path(self) -> str:
        return f"/v1/models/{quote(self.model, safe='')}/{self.kind}"

    def body(self) -> dict[str, Any]:
        """The JSON request body of the wire contract."""
        if self.kind == "labels":
            return {"batch_id": self.batch_id, "labels": self.records}
        return {
            "batch_id": self.batch_id,
            "fingerprint": self.fingerprint,
            "model_version": self.model_version,
            "records": self.records,
        }

    def encode(self) -> bytes:
        return json.dumps(self.body(), allow_nan=False, separators=(",", ":")).encode()

    def request(self, wire: Wire) -> tuple[bytes, str, dict[str, str]]:
        """Body, content type and query parameters of this batch's request. ``wire="arrow"`` sends prediction
        batches as an Arrow IPC table in the records' layout (about twice the server's JSON throughput);
        records whose values Arrow cannot type column by column (a feature that is a number in one record
        and text in another) go as JSON, which the server accepts as well."""
        if wire == "arrow" and self.kind == "batches":
            body = _arrow_records(self.records)
            if body is not None:
                params = {"batch_id": self.batch_id, "layout": "records"}
                params |= {
                    k: v
                    for k, v in (("fingerprint", self.fingerprint), ("model_version", self.model_version))
                    if v
                }
                return body, ARROW_STREAM, params
        return self.encode(), "application/json", {}

    def halves(self) -> tuple[Batch, Batch]:
        """Two batches with half the records each and ids derived from this one (``{id}.0``, ``{id}.1``), so
        a split that is retried or replayed splits into the same ids again."""
        mid = len(self.records) // 2
        return (
            self._with(self.records[:mid], f"{self.batch_id}.0"),
            self._with(self.records[mid:], f"{self.batch_id}.1"),
        )

    def _with(self, records: list[dict[str, Any]], batch_id: str) -> Batch:
        return Batch(self.kind, self.model, records, batch_id, self.fingerprint, self.model_version)

    def header(self) -> dict[str, Any]:
        """Everything but the records (the first line of a spool file)."""
        return {
            "kind": self.kind,
            "model": self.model,
            "batch_id": self.batch_id,
            "fingerprint": self.fingerprint,
            "model_version": self.model_version,
        }

    @classmethod
    def from_header(cls, header: dict[str, Any], records: list[dict[str, Any]]) -> Batch:
        kind = header["kind"]
        if kind not in ("batches", "labels") or not isinstance(header["batch_id"], str):
            raise ValueError(f"not a batch header: {header!r}")
        return cls(
            kind,
            str(header["model"]),
            records,
            header["batch_id"],
            header.get("fingerprint"),
            header.get("model_version"),
        )


def _arrow_records(records: list[dict[str, Any]]) -> bytes | None:
    """The records as one Arrow IPC stream, or None when their values do not fit typed columns."""
    import pyarrow as pa

    try:
        table = pa.Table.from_pylist(records)
    except (pa.ArrowException, TypeError, ValueError):
        return None
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()
