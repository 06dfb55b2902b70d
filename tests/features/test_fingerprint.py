"""Fingerprints: any change to what computes the features changes it; nothing else does."""

import importlib.util
import os
import subprocess
import sys
import textwrap

import numpy as np

from mlwarden.features import Feature, FeatureSet, fingerprint_finding
from mlwarden.findings import Severity

MODULE = '''
import numpy as np
import pandas as pd
from scipy import special

from mlwarden.features import FeatureSet

CAP = {cap}

fs = FeatureSet()


def _clip(x):
    return x.clip(upper=CAP)


@fs.feature(inputs=["amount"])
def log_amount(amount):
    """Log of the amount."""
    return np.log1p(_clip(amount)){comment}


@fs.feature(inputs=["amount"], params={{"scale": {scale}}})
def scaled(amount, scale):
    return special.expit(amount * {constant}) * scale
'''


def load(tmp_path, name, **kw):
    values = {"cap": 1000, "scale": 2.0, "constant": 0.5, "comment": ""} | kw
    path = tmp_path / f"{name}.py"
    path.write_text(MODULE.format(**values))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.fs


def test_same_definitions_same_fingerprint_across_processes(tmp_path):
    fs = load(tmp_path, "defs_base")
    code = f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import defs_base; "
    code += "print(defs_base.fs.fingerprint())"
    runs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert runs == {fs.fingerprint()}
    assert len(fs.fingerprint()) == 64


def test_any_change_to_the_code_changes_the_fingerprint(tmp_path):
    base = load(tmp_path, "defs_a").fingerprint()
    assert load(tmp_path, "defs_b", constant=0.51).fingerprint() != base  # a constant in the function
    assert load(tmp_path, "defs_c", scale=2.5).fingerprint() != base  # a parameter
    assert load(tmp_path, "defs_d", cap=999).fingerprint() != base  # a module constant a helper reads
    # comments and layout are not code
    assert load(tmp_path, "defs_e", comment="  # a comment").fingerprint() == base


def test_fingerprint_covers_dtypes_inputs_and_libraries(tmp_path):
    def f(x):
        return x * 2

    base = FeatureSet([Feature("f", ["x"], "float64", f)]).fingerprint()
    assert FeatureSet([Feature("f", ["x"], "float32", f)]).fingerprint() != base
    assert FeatureSet([Feature("f", ["y"], "float64", f)]).fingerprint() != base
    assert FeatureSet([Feature("g", ["x"], "float64", f)]).fingerprint() != base

    from mlwarden.features.fingerprint import describe_function

    libraries: dict[str, str] = {}
    fs = load(tmp_path, "defs_libs")
    for feature in fs:
        describe_function(feature.func, libraries, set())
    assert {"numpy", "scipy"} <= set(libraries)


def test_lambdas_fall_back_to_bytecode():
    one = FeatureSet([Feature("f", ["x"], "float64", lambda x: np.round(x, 2))])
    same = FeatureSet([Feature("f", ["x"], "float64", lambda x: np.round(x, 2))])
    other = FeatureSet([Feature("f", ["x"], "float64", lambda x: np.round(x, 3))])
    assert one.fingerprint() == same.fingerprint() != other.fingerprint()


def test_functions_without_source_fall_back_to_bytecode():
    namespace: dict = {"np": np}
    exec(textwrap.dedent("def f(x):\n    return np.log(x + 1)\n"), namespace)  # no source file to read
    first = FeatureSet([Feature("f", ["x"], "float64", namespace["f"])]).fingerprint()
    exec(textwrap.dedent("def f(x):\n    return np.log(x + 2)\n"), namespace)
    assert FeatureSet([Feature("f", ["x"], "float64", namespace["f"])]).fingerprint() != first


def test_fingerprint_finding():
    assert fingerprint_finding("a" * 64, "a" * 64, "m") is None
    assert fingerprint_finding("a" * 64, None, "m") is None
    f = fingerprint_finding("a" * 64, "b" * 64, "churn")
    assert f.check == "skew.fingerprint" and f.severity is Severity.CRITICAL and f.model == "churn"
    assert f.message == (
        "serving features computed by different code than training (fingerprint bbbbbbbbbbbb != aaaaaaaaaaaa)"
    )
    assert f.evidence == {"expected": "a" * 64, "got": "b" * 64}
