"""Every exception predictor_nas raises on purpose, in one tree.

::

    PredictorNASError                 base class; catch this to catch all of ours
    ├── InvalidParameterError         (ValueError) a bad argument to a function or CLI option
    ├── InvalidArchitectureError      (ValueError) arch string / params / ops the space rejects
    ├── TableError                    anything about a benchmark table file
    │   ├── TableNotFoundError        (LookupError) no table of that name or path
    │   ├── TableFormatError          not a predictor_nas table, or another format version
    │   ├── TableCorruptedError       checksum / content-hash mismatch, truncated, unreadable
    │   └── TableQueryError           (LookupError) unknown arch, metric, dataset, fidelity, seed
    ├── SearchError                   a search cannot start or continue
    │   ├── StudyConfigMismatchError  resuming a stored study with a different configuration
    │   ├── StorageCorruptedError     a journal file with a torn or garbled record (names the
    │   │                             file and byte offset; fix: predictor-nas storage repair)
    │   └── StudyInUseError           another process is running the same single-process search
    └── DatasetError                  a training dataset is missing, fails its checksum, is
                                      unsafe to read (a pickle asking for code) or cannot be
                                      downloaded

User mistakes raise one of these with a message that says what was wrong and what is allowed;
the CLI prints that message (no traceback) and exits with status 2.
"""

from __future__ import annotations

__all__ = [
    "DatasetError",
    "InvalidArchitectureError",
    "InvalidParameterError",
    "PredictorNASError",
    "SearchError",
    "StorageCorruptedError",
    "StudyConfigMismatchError",
    "StudyInUseError",
    "TableCorruptedError",
    "TableError",
    "TableFormatError",
    "TableNotFoundError",
    "TableQueryError",
]


class PredictorNASError(Exception):
    """Base class of every exception raised on purpose by predictor_nas."""


class InvalidParameterError(PredictorNASError, ValueError):
    """An argument has a value outside what is allowed."""


class InvalidArchitectureError(PredictorNASError, ValueError):
    """An architecture (string, params or ops) is not valid in its search space."""


class TableError(PredictorNASError):
    """A problem with a benchmark table file."""


class TableNotFoundError(TableError, LookupError):
    """No table exists under the given name or path."""


class TableFormatError(TableError):
    """The file is not a predictor_nas table or has an unsupported format version."""


class TableCorruptedError(TableError):
    """The file fails its checksums: flipped bytes, truncation, or a content-hash mismatch."""


class TableQueryError(TableError, LookupError):
    """A query names an arch, metric, dataset, fidelity or seed the table does not hold."""


class SearchError(PredictorNASError):
    """A search cannot start or continue."""


class StudyConfigMismatchError(SearchError):
    """A stored study was created with a different configuration than the one given now."""


class StorageCorruptedError(SearchError):
    """A journal file holds a torn or garbled record; nothing was written to it."""


class StudyInUseError(SearchError):
    """Another live process holds the run lock of the same single-process study."""


class DatasetError(PredictorNASError):
    """A dataset for real training is missing, damaged, unsafe to read or cannot be downloaded."""
