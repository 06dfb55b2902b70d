"""Reading request bodies within a size limit: raw bodies, and multipart file uploads."""

from __future__ import annotations

from fastapi import HTTPException, Request

from mlwarden.errors import InputError

UPLOAD_TYPES = {
    "parquet": "application/vnd.apache.parquet",
    "pq": "application/vnd.apache.parquet",
    "arrow": "application/vnd.apache.arrow.file",
    "feather": "application/vnd.apache.arrow.file",
    "csv": "text/csv",
    "mlwprof": "application/octet-stream",
}


async def read_upload(request: Request, limit: int) -> tuple[bytes, str]:
    """A raw body, or the ``file`` field of a multipart upload with a type told by its file name."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "multipart/form-data":
        return await read_body(request, limit)
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit() or int(declared) > limit:
        raise HTTPException(413, f"multipart uploads need a Content-Length of at most {limit:,} bytes")
    form = await request.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise InputError("file: expected a multipart field named 'file' holding the data or profile")
    suffix = (upload.filename or "").rsplit(".", 1)[-1].lower()
    return await upload.read(), UPLOAD_TYPES.get(suffix, upload.content_type or "application/octet-stream")


async def read_body(request: Request, limit: int) -> tuple[bytes, str]:
    """The request body and its media type, refusing (413) anything above ``limit`` bytes before reading
    it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body of {int(declared):,} bytes exceeds the limit of {limit:,}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"body exceeds the limit of {limit:,} bytes")
        chunks.append(chunk)
    content_type = (
        request.headers.get("content-type", "application/octet-stream").split(";")[0].strip().lower()
    )
    return b"".join(chunks), content_type
