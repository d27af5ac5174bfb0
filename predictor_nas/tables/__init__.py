"""Benchmark tables in HDF5: the format, the writer, the reader and the table registry."""

from predictor_nas.tables._integrity import verify_table
from predictor_nas.tables._reader import MetricInfo, Table
from predictor_nas.tables._registry import (
    DEFAULT_TABLE,
    cache_dir,
    embedded_dir,
    open_table,
    table_paths,
)
from predictor_nas.tables._schema import COST_METRIC, FORMAT_NAME, FORMAT_VERSION
from predictor_nas.tables._writer import CurveData, DatasetData, MetricData, write_table

__all__ = [
    "COST_METRIC",
    "DEFAULT_TABLE",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "CurveData",
    "DatasetData",
    "MetricData",
    "MetricInfo",
    "Table",
    "cache_dir",
    "embedded_dir",
    "open_table",
    "table_paths",
    "verify_table",
    "write_table",
]
