"""Property tests of the ingestion body parsers: whatever bytes arrive as JSON records, an Arrow IPC stream or
file (columns or records layout) or Parquet, the parser returns a batch or raises InputError (a 4xx) —
nothing else; through the API on a real store no body gets a 5xx. Examples are derandomized (conftest)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from decimal import Decimal

import pyarrow as pa
import pyarrow.ipc
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, reject, settings
from hypothesis import strategies as st

from mlwarden.client.batch import Batch as ClientBatch
from mlwarden.errors import InputError
from mlwarden.registry import create_token, service_mapping
from mlwarden.server import batches, create_app
from mlwarden.store import Store

MAPPINGS = [service_mapping({}), service_mapping({"scores": {"water": "pw", "sand": "ps"}})]
ROLE_NAMES = ["id", "timestamp", "prediction", "score", "features", "label", "pw", "ps", "x"]
names = st.sampled_from(ROLE_NAMES) | st.text(max_size=6)
hostile_text = st.text(max_size=8) | st.sampled_from(["", "\x00", "a\x00b", "x" * 250])
stamps = st.sampled_from(
    ["9999-12-31T23:30:00Z", "0001-01-01T00:00:00", "2026-02-30T00:00:00Z", "yesterday", "1e10", ""]
) | st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat)


def json_trees(floats: st.SearchStrategy[float]) -> st.SearchStrategy:
    return st.recursive(
        st.none() | st.booleans() | st.integers() | floats | hostile_text,
        lambda children: (
            st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
        ),
        max_leaves=12,
    )


json_values = json_trees(st.floats())
records = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values | st.integers(),
        "timestamp": json_values | stamps,
        "features": st.dictionaries(names, json_values, max_size=4) | json_values,
        "prediction": json_values,
        "score": json_values | st.lists(st.floats(), min_size=2, max_size=2),
    },
)
envelopes = st.fixed_dictionaries(
    {"batch_id": hostile_text | json_values, "records": st.lists(records, max_size=4) | json_values},
    optional={"fingerprint": hostile_text | json_values, "model_version": hostile_text | json_values},
)
plain = st.text("abcdefgh-_0123456789", min_size=1, max_size=10)
scalars = st.none() | st.booleans() | st.integers() | st.floats() | plain
sane_stamps = st.datetimes(datetime(1950, 1, 1), datetime(2150, 1, 1), timezones=st.just(UTC))


@st.composite
def plausible_envelopes(draw: st.DrawFn) -> dict:
    """Well-formed batches whose values are hostile: they reach profiling and the store."""
    rows = draw(st.integers(1, 4))
    with_ids = draw(st.booleans())
    feature_names = draw(st.lists(plain | plain | names, max_size=4, unique=True))
    records = [
        {
            "id": draw(plain | st.integers()) if with_ids else None,
            "timestamp": draw(st.none() | sane_stamps.map(datetime.isoformat)),
            "features": {name: draw(scalars | json_values) for name in feature_names},
            "prediction": draw(scalars),
            "score": draw(st.none() | st.floats() | st.lists(st.floats(), min_size=2, max_size=2)),
        }
        for _ in range(rows)
    ]
    meta = {key: draw(st.none() | plain) for key in ("fingerprint", "model_version")}
    return {"batch_id": draw(plain), "records": records} | meta


json_bodies = (
    envelopes.map(lambda e: json.dumps(e).encode())
    | plausible_envelopes().map(lambda e: json.dumps(e).encode())
    | st.binary(max_size=64)
    | st.integers(1, 3_000).map(
        lambda depth: b'{"batch_id": "d", "records": [' + b"[" * depth + b"]" * depth + b"]}"
    )
)

SCALAR_TYPES = [
    pa.null(),
    pa.bool_(),
    pa.int8(),
    pa.int64(),
    pa.uint64(),
    pa.float32(),
    pa.float64(),
    pa.string(),
    pa.large_string(),
    pa.binary(),
    pa.timestamp("s"),
    pa.timestamp("ns", "UTC"),
    pa.timestamp("us", "Europe/Paris"),
    pa.date32(),
    pa.duration("s"),
    pa.time64("us"),
    pa.decimal128(10, 2),
    pa.dictionary(pa.int32(), pa.string()),
]
arrow_types = st.recursive(
    st.sampled_from(SCALAR_TYPES),
    lambda child: (
        child.map(pa.list_)
        | st.lists(st.tuples(names, child), min_size=1, max_size=3).map(lambda fields: pa.struct(fields))
    ),
    max_leaves=4,
)


@st.composite
def arrow_arrays(draw: st.DrawFn, kind: pa.DataType, length: int) -> pa.Array:
    """An array of ``kind`` with hostile values: NUL text, times past year 9999, nulls anywhere."""

    def maybe(values: st.SearchStrategy) -> list:
        return draw(st.lists(st.none() | values, min_size=length, max_size=length))

    if pa.types.is_list(kind):
        sizes = draw(st.lists(st.integers(0, 2), min_size=length, max_size=length))
        offsets = pa.array([0, *[sum(sizes[: i + 1]) for i in range(length)]], pa.int32())
        return pa.ListArray.from_arrays(offsets, draw(arrow_arrays(kind.value_type, sum(sizes))))
    if pa.types.is_struct(kind):
        children = [draw(arrow_arrays(kind.field(i).type, length)) for i in range(kind.num_fields)]
        return pa.StructArray.from_arrays(children, fields=list(kind))
    if pa.types.is_dictionary(kind):
        return pa.array(maybe(hostile_text), pa.string()).dictionary_encode()
    if pa.types.is_null(kind):
        return pa.nulls(length)
    if pa.types.is_boolean(kind):
        return pa.array(maybe(st.booleans()), kind)
    if pa.types.is_integer(kind):
        info = (
            (0, 2**64 - 1)
            if kind == pa.uint64()
            else (-(2 ** (kind.bit_width - 1)), 2 ** (kind.bit_width - 1) - 1)
        )
        return pa.array(maybe(st.integers(*info)), kind)
    if pa.types.is_floating(kind):
        return pa.array(maybe(st.floats(width=kind.bit_width)), kind)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pa.array(maybe(hostile_text), kind)
    if pa.types.is_binary(kind):
        return pa.array(maybe(st.binary(max_size=6)), kind)
    if pa.types.is_decimal(kind):
        return pa.array(maybe(st.decimals(-(10**7), 10**7, places=2).map(Decimal)), kind)
    width = pa.int32() if pa.types.is_date32(kind) else pa.int64()
    bits = st.integers(-(2**31), 2**31 - 1) if width == pa.int32() else st.integers(-(2**63), 2**63 - 1)
    return pa.array(maybe(bits), width).cast(kind)  # times as raw counts: years far past 9999 included


ROLE_TYPES = {
    "id": st.sampled_from([pa.string(), pa.int64(), pa.null()]),
    "timestamp": st.sampled_from([pa.timestamp("s"), pa.timestamp("ns", "UTC"), pa.string(), pa.date32()]),
    "prediction": st.sampled_from([pa.int8(), pa.string(), pa.bool_(), pa.float64()]),
    "score": st.sampled_from([pa.float64(), pa.list_(pa.float64()), pa.struct([("water", pa.float32())])]),
}


@st.composite
def tables(draw: st.DrawFn) -> pa.Table:
    """Any columns of any types, or (as often) the roles with their usual types plus features of any type,
    flat or as the records layout's ``features`` struct."""
    length = draw(st.integers(0, 4))
    if draw(st.booleans()):
        columns = draw(st.lists(st.tuples(names, arrow_types), max_size=5))
    else:
        roles = draw(st.lists(st.sampled_from(list(ROLE_TYPES)), unique=True))
        columns = [(role, draw(ROLE_TYPES[role])) for role in roles]
        features = draw(
            st.lists(st.tuples(plain, arrow_types), min_size=1, max_size=3, unique_by=lambda f: f[0])
        )
        columns += [("features", pa.struct(features))] if draw(st.booleans()) else features
    arrays = [draw(arrow_arrays(kind, length)) for _, kind in columns]
    table = pa.Table.from_arrays(arrays, names=[name for name, _ in columns]) if columns else pa.table({})
    metadata = draw(
        st.none() | st.sampled_from([b"{not json", b'{"columns": 5}', b'{"index_columns": ["x"]}'])
    )
    return table.replace_schema_metadata({b"pandas": metadata}) if metadata else table


def encoded(table: pa.Table, content_type: str) -> bytes:
    sink = io.BytesIO()
    try:
        if content_type in batches.PARQUET_TYPES:
            pq.write_table(table, sink)
        else:
            open_writer = pyarrow.ipc.new_file if content_type.endswith(".file") else pyarrow.ipc.new_stream
            with open_writer(sink, table.schema) as writer:
                writer.write_table(table)
    except (pa.ArrowException, ValueError):  # a type this format cannot hold: nothing to send
        reject()
    return sink.getvalue()


content_types = st.sampled_from(["application/vnd.apache.parquet", *batches.ARROW_TYPES])
damage = (
    st.none() | st.tuples(st.integers(0, 10**6), st.binary(min_size=1, max_size=4)) | st.integers(1, 10**6)
)


def damaged(body: bytes, how: tuple[int, bytes] | int | None) -> bytes:
    """``body`` with a few bytes overwritten (``(where, what)``) or cut short (``keep``), or as it was."""
    if how is None or not body:
        return body
    if isinstance(how, int):
        return body[: how % len(body)]
    where, what = how
    where %= len(body)
    return body[:where] + what + body[where + len(what) :]


def parsed_or_refused(parse) -> batches.Batch | None:
    try:
        batch = parse()
    except InputError as exc:
        assert str(exc) and "\n" not in str(exc)
        event("refused")
        return None
    event("parsed")
    batch.content_hash()
    return batch


@given(body=json_bodies, mapping=st.sampled_from(MAPPINGS))
@settings(max_examples=300, deadline=None)
def test_json_bodies_parse_or_raise_input_error(body: bytes, mapping) -> None:
    parsed_or_refused(lambda: batches.from_json(batches.parse_json(body), mapping))


@given(
    table=tables(),
    content_type=content_types,
    layout=st.sampled_from(["columns", "records"]),
    mapping=st.sampled_from(MAPPINGS),
    how=damage,
)
@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
def test_table_bodies_parse_or_raise_input_error(table, content_type, layout, mapping, how) -> None:
    body = damaged(encoded(table, content_type), how)
    parsed_or_refused(lambda: batches.from_table(body, content_type, "b", mapping, layout=layout))


feature_columns = st.dictionaries(
    st.sampled_from(["x1", "x2", "plan", "flag"]),
    st.sampled_from([st.floats(allow_nan=False), st.text(max_size=4), st.booleans()]),
    max_size=3,
)


@given(data=st.data(), columns=feature_columns, rows=st.integers(1, 5))
@settings(max_examples=150, deadline=None)
def test_the_same_rows_hash_alike_over_json_and_the_arrow_wire(
    data: st.DataObject, columns, rows: int
) -> None:
    sent = []
    for i in range(rows):
        features = {name: data.draw(st.none() | values) for name, values in columns.items()}
        stamp = data.draw(
            st.none() | st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC))
        )
        sent.append(
            {
                "id": f"r{i}",
                "timestamp": None if stamp is None else stamp.isoformat(),
                "features": features,
                "prediction": data.draw(st.none() | st.integers(0, 1)),
                "score": data.draw(st.none() | st.floats(0, 1)),
            }
        )
    wire = ClientBatch("batches", "m", sent, batch_id="same", fingerprint="fp")
    body, content_type, params = wire.request("arrow")
    mapping = MAPPINGS[0]
    as_json = parsed_or_refused(lambda: batches.from_json(wire.body(), mapping))
    if content_type == "application/json" or as_json is None:
        return  # rows Arrow cannot type go as JSON; rows of ids alone are refused on both wires
    as_arrow = batches.from_table(
        body, content_type, params["batch_id"], mapping, layout=params["layout"], fingerprint="fp"
    )
    assert as_arrow.content_hash() == as_json.content_hash()


@pytest.fixture
def api(store: Store):
    with TestClient(create_app(store, evaluate_every=None, max_body=1_000_000)) as client:
        token = create_token(store, team="growth", name="admin", scopes=["admin"])
        client.headers["Authorization"] = f"Bearer {token}"
        for model in (
            {"name": "churn"},
            {"name": "land", "columns": {"scores": {"water": "pw", "sand": "ps"}}},
        ):
            assert client.post("/v1/models", json=model).status_code == 201
        yield client


@given(
    body=plausible_envelopes().map(lambda e: json.dumps(e).encode()) | json_bodies,
    table=tables(),
    content_type=content_types,
    layout=st.sampled_from(["columns", "records"]),
    model=st.sampled_from(["churn", "land"]),
    batch_id=plain,
    labels=st.lists(
        st.fixed_dictionaries(
            {"id": hostile_text, "label": json_values},
            optional={"timestamp": stamps},
        ),
        max_size=3,
    ),
)
@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_body_gets_a_5xx_from_the_api(
    api: TestClient, body, table, content_type, layout, model, batch_id, labels
) -> None:
    """Server errors raise through the test client, with their traceback, instead of answering 500."""
    json_answer = api.post(
        f"/v1/models/{model}/batches", content=body, headers={"Content-Type": "application/json"}
    )
    table_answer = api.post(
        f"/v1/models/{model}/batches",
        content=encoded(table, content_type),
        headers={"Content-Type": content_type},
        params={"batch_id": batch_id, "layout": layout},
    )
    labels_body = json.dumps({"batch_id": "l", "labels": labels}).encode()  # NaN literals included
    labels_answer = api.post(
        f"/v1/models/{model}/labels", content=labels_body, headers={"Content-Type": "application/json"}
    )
    for kind, answer in (("json", json_answer), ("table", table_answer), ("labels", labels_answer)):
        event(f"{kind} {answer.status_code}")
        assert answer.status_code in (200, 409, 413, 422), answer.text
