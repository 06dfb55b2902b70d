"""Distributed engines: profiles of Dask and Spark DataFrames, computed where the data lives and merged."""
