"""Error answers: one line naming the field and what was expected, the same JSON shape on every route."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

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


async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 without the offending ``input``: a body value such as ``Infinity`` has no JSON form, and
    echoing it made the error answer itself fail (a 500)."""
    errors = [{key: error[key] for key in ("loc", "msg", "type") if key in error} for error in exc.errors()]
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


def _handler(status: int):
    async def handle(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status)

    return handle
