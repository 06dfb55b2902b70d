"""Fingerprints of feature definitions: did serving compute its features with the same code as training?

The fingerprint is the sha256 of a canonical JSON document holding, per feature in order: its name, input
columns and their dtypes, output dtype, parameters (canonical JSON), and its code — the function's source
parsed and re-printed with ``ast.unparse`` (so comments, blank lines, quoting and decorators do not count,
the docstring neither), or, when no source is available (lambdas, ``exec``'d code), the bytecode, constants
and names of its code objects plus the Python version. Module-level helper functions the feature calls
are described the same way (recursively), module-level constants it reads by value, and every library it
references (a module, or a function or class from a package with a version) by that package's version;
numpy's and pandas' versions are always included. Nothing process-specific (addresses, hash seeds, file
paths) enters the document, so the same definitions give the same fingerprint in any process.
"""

from __future__ import annotations

import ast
import dis
import hashlib
import importlib.metadata
import inspect
import json
import math
import sys
import textwrap
import types
from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlwarden.findings import Finding, Severity

if TYPE_CHECKING:
    from mlwarden.features.featureset import Feature

ALWAYS_VERSIONED = ("numpy", "pandas")
_SCALARS = (bool, int, float, str, bytes, type(None))


def fingerprint_features(features: list[Feature]) -> str:
    """The sha256 hex digest of ``features``' definitions and the versions of the libraries they use."""
    libraries: dict[str, str] = {}
    described = [
        {
            "name": f.name,
            "inputs": [[c, d] for c, d in f.input_types.items()],
            "dtype": f.dtype,
            "params": canonical(f.params),
            "code": describe_function(f.func, libraries, set()),
        }
        for f in features
    ]
    for name in ALWAYS_VERSIONED:
        libraries[name] = _package_version(name) or "unknown"
    document = {"features": described, "libraries": dict(sorted(libraries.items()))}
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def fingerprint_finding(expected: str, got: str | None, model: str | None = None) -> Finding | None:
    """A critical ``skew.fingerprint`` finding when serving's fingerprint ``got`` differs from training's.

    ``None`` when they match, and when ``got`` is ``None`` (the batch carries no fingerprint to compare).
    """
    if got is None or got == expected:
        return None
    return Finding(
        check="skew.fingerprint",
        severity=Severity.CRITICAL,
        message=(
            f"serving features computed by different code than training "
            f"(fingerprint {got[:12]} != {expected[:12]})"
        ),
        model=model,
        evidence={"expected": expected, "got": got},
    )


def canonical(value: Any) -> Any:
    """``value`` as JSON-ready data with a canonical form (sorted sets, lists for arrays and tuples)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, np.generic):
        return canonical(value.item())
    if isinstance(value, np.ndarray | pd.Series | pd.Index):
        return [canonical(v) for v in np.asarray(value).tolist()]
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, set | frozenset):
        return sorted((canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if callable(value) and hasattr(value, "__code__"):
        return describe_function(value, {}, set())
    if callable(value):
        name = getattr(value, "__qualname__", None) or getattr(value, "__name__", "")
        return f"<{getattr(value, '__module__', None) or type(value).__module__}.{name}>"
    return f"<{type(value).__module__}.{type(value).__qualname__}>"


def describe_function(func: Callable[..., Any], libraries: dict[str, str], seen: set[int]) -> dict[str, Any]:
    """The canonical description of ``func``'s code and of what it references; fills ``libraries``."""
    func = inspect.unwrap(func)
    code = getattr(func, "__code__", None)
    if code is None:  # a builtin, a numpy ufunc, a callable object: identified by its library's version
        _note_library(func, libraries)
        return {
            "callable": f"{getattr(func, '__module__', None)}.{getattr(func, '__qualname__', repr(func))}"
        }
    seen.add(id(code))
    source = _normalised_source(func)
    description: dict[str, Any] = (
        {"source": source}
        if source is not None
        else {"bytecode": _bytecode(code), "python": f"{sys.version_info.major}.{sys.version_info.minor}"}
    )
    description["defaults"] = canonical(func.__defaults__ or ())
    description["kwdefaults"] = canonical(func.__kwdefaults__ or {})
    referenced: dict[str, Any] = {}
    names = _global_names(code)
    namespace = getattr(func, "__globals__", {})
    closure = dict(zip(code.co_freevars, (c.cell_contents for c in func.__closure__ or ()), strict=False))
    for name in sorted(names | set(closure)):
        if name in closure:
            value = closure[name]
        elif name in namespace:
            value = namespace[name]
        else:
            continue  # a builtin or an attribute name
        referenced[name] = _describe_reference(value, libraries, seen)
    description["references"] = {k: v for k, v in referenced.items() if v is not None}
    return description


def _describe_reference(value: Any, libraries: dict[str, str], seen: set[int]) -> Any:
    if isinstance(value, types.ModuleType):
        _note_library(value, libraries)
        return {"module": value.__name__}
    if isinstance(value, types.FunctionType):
        if _library_of(value) is not None:
            _note_library(value, libraries)
            return {"function": f"{value.__module__}.{value.__qualname__}"}
        if id(value.__code__) in seen:
            return {"function": value.__qualname__}
        return {"helper": describe_function(value, libraries, seen)}
    if isinstance(value, (*_SCALARS, tuple, list, dict, set, frozenset, np.ndarray, np.generic)):
        return {"value": canonical(value)}
    if _library_of(value) is not None:
        _note_library(value, libraries)
        return {"object": f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', '')}"}
    return None


def _normalised_source(func: Callable[..., Any]) -> str | None:
    """``func``'s definition re-printed by ``ast.unparse``, without decorators and docstring (or None)."""
    if func.__name__ == "<lambda>":
        return None
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError):
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == func.__name__:
            node.decorator_list = []
            if len(node.body) > 1 and ast.get_docstring(node, clean=False) is not None:
                node.body = node.body[1:]
            return ast.unparse(node)
    return None


def _bytecode(code: types.CodeType) -> dict[str, Any]:
    """Bytecode, constants (nested code objects recursively) and names of a code object."""
    consts = [_bytecode(c) if isinstance(c, types.CodeType) else canonical(c) for c in code.co_consts]
    return {
        "code": code.co_code.hex(),
        "consts": consts,
        "names": list(code.co_names),
        "varnames": list(code.co_varnames),
    }


def _global_names(code: types.CodeType) -> set[str]:
    """Names a code object (and the code objects nested in it) loads from globals or reads as attributes."""
    names = {
        ins.argval
        for ins in dis.get_instructions(code)
        if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME") and isinstance(ins.argval, str)
    }
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _library_of(value: Any) -> str | None:
    """The top-level package ``value`` comes from, when that package has a version (else None)."""
    module = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
    if not isinstance(module, str) or module == "__main__":
        return None
    top = module.split(".")[0]
    return top if _package_version(top) is not None else None


def _note_library(value: Any, libraries: dict[str, str]) -> None:
    top = _library_of(value)
    if top is not None:
        libraries[top] = _package_version(top) or "unknown"


@cache
def _package_version(top: str) -> str | None:
    module = sys.modules.get(top)
    version = getattr(module, "__version__", None)
    if isinstance(version, str):
        return version
    try:
        return importlib.metadata.version(top)
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return None
