"""Retraining with a strategy: the champion/challenger gate (DESIGN.md §8, docs/retrain.md).

>>> from mlwarden.retrain import gate
>>> result = gate(frame, target="churned", champion="score_v1", challenger="score_v2", slices=["region"])
>>> result.decision, result.to_dict()
"""

from mlwarden.retrain.gate import gate
from mlwarden.retrain.metrics import METRICS
from mlwarden.retrain.result import GateResult, SliceResult

__all__ = ["METRICS", "GateResult", "SliceResult", "gate"]
