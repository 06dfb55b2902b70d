"""Silent failures in the data and the model's outputs: data quality and output sanity."""

from mlwarden.quality.data_quality import QualityConfig, check_data_quality
from mlwarden.quality.output import OutputConfig, check_output

__all__ = ["OutputConfig", "QualityConfig", "check_data_quality", "check_output"]
