"""Error answers: one line naming the field and what was expected, the same JSON shape on every route."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from mlwarden.errors import AccessDenied, ConflictError, InputError, NotFoundError


class ErrorOut(BaseModel):
    """Every error but FastAPI's own request validation: one line naming the field and what was expected."""

    detail: str


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    """FastAPI's request validation error: a list of the fields that failed."""

    detail: list[FieldError]


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "no token, or an unknown or revoked one"},
    403: {"model": ErrorOut, "description": "the token lacks the scope"},
    404: {"model": ErrorOut, "description": "no such model in the caller's team"},
    409: {"model": ErrorOut, "description": "conflict (the name is taken in the team)"},
    413: {"model": ErrorOut, "description": "body above the size limit"},
    422: {"model": ErrorOut | ValidationErrorOut, "description": "invalid input, the field named"},
}
STATUS_OF = {InputError: 422, NotFoundError: 404, ConflictError: 409, AccessDenied: 403}


def install_handlers(app: FastAPI) -> None:
    """Map mlwarden's errors to their HTTP status, and FastAPI's validation errors to a 422 without input."""
    for error, status in STATUS_OF.items():
        app.add_exception_handler(error, _handler(status))
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(DataError, _value_the_store_refuses)
    app.add_exception_handler(StarletteHTTPException, _http_error)


async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 without the offending ``input``: a body value such as ``Infinity`` has no JSON form, and
    echoing it made the error answer itself fail (a 500)."""
    errors = [{key: error[key] for key in ("loc", "msg", "type") if key in error} for error in exc.errors()]
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """FastAPI answers a body it cannot even decode (not UTF-8, say) with an undocumented 400: it is invalid
    input like any other, a 422 naming the body (found by the schemathesis fuzz test). Other HTTP errors
    (an unknown path, a wrong method) keep FastAPI's answer."""
    if exc.status_code == 400:
        return JSONResponse(
            {"detail": "body: not readable as JSON (expected UTF-8 JSON text)"}, status_code=422
        )
    return await http_exception_handler(request, exc)


def _handler(status: int):
    async def handle(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status)

    return handle


async def _value_the_store_refuses(_: Request, exc: DataError) -> JSONResponse:
    """A value the database refuses as data (SQLSTATE class 22: a NUL character, an integer out of the
    column's range, an over-long text) is the request's fault: 422, never a 500. Routes validate what they
    can name first; this is the net under them (the transaction was rolled back: nothing was stored)."""
    reason = str(exc.orig).splitlines()[0] if exc.orig is not None else "invalid value"
    return JSONResponse({"detail": f"a value does not fit the store: {reason}"}, status_code=422)
