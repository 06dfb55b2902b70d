"""Silent failures in the data and the model's outputs: contracts, data quality, output sanity, ids."""

from mlwarden.quality.contract import ColumnRule, Contract, read_batch
from mlwarden.quality.data_quality import QualityConfig, check_data_quality
from mlwarden.quality.ids import check_ids
from mlwarden.quality.output import OutputConfig, check_output

__all__ = [
    "ColumnRule",
    "Contract",
    "OutputConfig",
    "QualityConfig",
    "check_data_quality",
    "check_ids",
    "check_output",
    "read_batch",
]
