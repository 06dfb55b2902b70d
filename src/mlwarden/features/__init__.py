"""Feature consistency and leakage.

- :class:`FeatureSet`: one definition of the features for training and serving (same code path for a
  DataFrame and for JSON records), with a :meth:`~FeatureSet.fingerprint` of the code, parameters, dtypes
  and library versions; :func:`fingerprint_finding` flags serving batches computed by different code.
- :func:`check_skew`: distributional training/serving skew (the drift engine with half its thresholds).
- :func:`record_skew`: the same keys' features offline vs online, feature by feature.
- :func:`check_leakage`: target leakage, point-in-time violations, train/test contamination, identifiers.

Definitions and thresholds: docs/features.md.
"""

from mlwarden.features.featureset import Feature, FeatureSet
from mlwarden.features.fingerprint import fingerprint_features, fingerprint_finding
from mlwarden.features.leakage import LeakageConfig, LeakageReport, check_leakage, leakage_report
from mlwarden.features.record_skew import CRITICAL_RATE, FeatureRecordSkew, RecordSkewResult, record_skew
from mlwarden.features.skew import SKEW_THRESHOLDS, SkewConfig, check_skew, skew_result

__all__ = [
    "CRITICAL_RATE",
    "SKEW_THRESHOLDS",
    "Feature",
    "FeatureRecordSkew",
    "FeatureSet",
    "LeakageConfig",
    "LeakageReport",
    "RecordSkewResult",
    "SkewConfig",
    "check_leakage",
    "check_skew",
    "fingerprint_features",
    "fingerprint_finding",
    "leakage_report",
    "record_skew",
    "skew_result",
]
