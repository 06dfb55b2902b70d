"""Column roles and kinds (``ColumnMapping``) and model configuration files."""

from mlwarden.schema.mapping import ColumnDriftSpec, ColumnMapping

__all__ = ["ColumnDriftSpec", "ColumnMapping"]
