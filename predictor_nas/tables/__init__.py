"""Benchmark tables in HDF5: the format, the writer, the reader and the table registry."""

from predictor_nas.tables._locations import cache_dir, embedded_dir, table_paths
from predictor_nas.tables._reader import MetricInfo, Table
from predictor_nas.tables._registry import DEFAULT_TABLE, open_table
from predictor_nas.tables._schema import COST_METRIC, FORMAT_NAME, FORMAT_VERSION
from predictor_nas.tables._verify import verify_table
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
