"""The predictor_nas benchmark-table format, version 1 (HDF5, written and read with h5py).

A table file holds measured metrics of every architecture of one search space, for one or more
datasets, per training seed and per fidelity (training epochs), plus optional per-epoch
curves.

Layout::

    [user block, 512 bytes]   b"PNASTBL1 sha256:<64 hex>\\n" + zero padding: SHA-256 of every byte
                              after the user block. Any flipped or missing byte is detected on open.
    /                         attrs: format = "predictor_nas.table", format_version = 1,
                              name, space, description, license, source,
                              content_hash = "sha256:<hex>"
    /archs                    (N,) ASCII strings: the space's standard arch strings, in row order
                              (for NB201: the official NAS-Bench-201 index order)
    /datasets/<dataset>/      attrs: description
        metrics/<metric>/     attrs: unit, description, higher_is_better, source
            <fidelity>        float64 (N, S): value per arch and trial position; NaN = not measured.
                              Name = fidelity in epochs ("12", "200"; "0" = a property of the
                              untrained network: zero-cost proxies, hardware latency).
                              attrs: per_seed (bool); False = column 0 holds the
                              mean over the source's trials.
        curves/<metric>       float32 (N, E, S), optional: per-epoch values. attrs: epochs (E,) int
    Metric ``train_time`` (unit "s") is the simulated training cost at each fidelity.

Every dataset is chunked with shuffle + gzip and HDF5's fletcher32 checksum. ``content_hash`` is a
SHA-256 over the logical content (paths, attrs, dtypes, shapes, values; see ``content_hash``), so
rebuilding a table from the same source gives the same hash even where HDF5 bytes differ.
"""

from __future__ import annotations

FORMAT_NAME = "predictor_nas.table"
FORMAT_VERSION = 1
USERBLOCK_SIZE = 512
MAGIC = b"PNASTBL1"
COST_METRIC = "train_time"
