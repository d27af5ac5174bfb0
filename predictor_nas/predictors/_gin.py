"""Graph isomorphism network (GIN) on the op-on-node cell graph, trained as a deep ensemble."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import numpy as np

from predictor_nas._lazy import torch, torch_geometric_nn
from predictor_nas._validation import check_choice, check_float, check_int, param_error
from predictor_nas.encodings import (
    ENCODINGS,
    Encoder,
    TableFeatures,
    graph_arrays,
    prune_archs,
)
from predictor_nas.predictors._base import Prediction, Predictor, check_calibration
from predictor_nas.spaces import Arch, SearchSpace

POOLINGS = ("sum", "mean")
LOSSES = ("mse", "pairwise")
#: Graphs per forward pass in ``predict`` (bounds memory: ~chunk * nodes * hidden * members).
_PREDICT_CHUNK = 4096


class GINPredictor(Predictor):
    """A deep ensemble of GINs (Xu et al. 2019) over ``to_pyg``-style op-on-node graphs.

    Each member is ``layers`` ``torch_geometric.nn.GINConv`` (a 2-layer MLP inside each conv,
    ReLU after it), a global sum or mean pooling, the optional standardised side features
    concatenated to the pooled embedding (``readout_encoding``, e.g. the per-op-subset path
    statistics, and the ``extra`` table features, e.g. zero-cost proxies), and a 2-layer MLP head.

    ``loss="mse"`` regresses standardised targets. ``loss="pairwise"`` trains a ranking: for every
    pair of archs in a batch whose targets differ, a logistic loss on the difference of their
    scores (RankNet); the scores are then mapped back to the target scale by a least-squares line
    ``y ~ a * score + b`` fitted on the training set, per member, so ``mean`` is an accuracy.

    The members differ in their initialisation and batch order (one seed each); the prediction is
    their mean and the std their spread. For speed the members are trained together: their
    weights are stacked on a leading member axis and every conv and linear layer runs one batched
    matmul for all members, each member on its own batch of graphs (all cells of a space share
    one graph structure, so batches line up node for node). This is exactly ``ensemble_size``
    independent networks with independent Adam optimisers, at the cost of about one.

    Determinism: all randomness comes from ``torch.Generator`` objects seeded from ``seed``; the
    global torch RNG state and thread count are restored after ``fit`` and ``predict``, which
    run on ``n_threads`` threads (a fixed count keeps results identical across machines).

    The batches are built directly as tensors: node features ``(members, graphs * nodes, F)``,
    the space's ``edge_index`` repeated with node offsets and the ``batch`` vector, which is what
    ``Batch.from_data_list(to_pyg(...))`` gives for these graphs, without its per-step cost.

    Defaults were tuned on NB201 cifar10 (train 100 / 500 archs, sample seeds 100..102; checked
    at 20 and 60). Two layers beat three for MSE (Kendall tau +0.04) and tie for pairwise at
    2/3 of the cost; batches of 64 with 100 epochs and lr 3e-3 (higher rates or cosine decay were
    worse); three members keep fitting a few hundred archs within a few seconds on one core.

    ``prune=True`` feeds each cell's dead-op-pruned representative (``space.prune``): the
    graph keeps its structure, dead operations become ``none`` (+0.07 Kendall tau at n = 100 on
    NB201 for the pairwise loss). ``calibrate=True`` rescales the ensemble's std by a factor
    fitted on cross-validated residuals (``Predictor._calibrate_std``; ``calibration_folds``
    extra fits).

    Args:
        space: Search space with a cell DAG (NB201).
        hidden: Width of the node embeddings and of every MLP.
        layers: Number of GIN convolutions.
        pooling: ``"sum"`` or ``"mean"`` over the nodes of a graph.
        loss: ``"mse"`` or ``"pairwise"``.
        epochs: Passes over the training set.
        lr: Adam learning rate.
        batch_size: Graphs per step (per member).
        weight_decay: Adam L2 penalty.
        ensemble_size: Number of members (1 gives ``std=None``).
        extra: Optional ``TableFeatures`` concatenated to the pooled embedding.
        readout_encoding: Optional tabular encoding (``Encoder`` names joined by ``+``, e.g.
            ``"pathstats"``) of the (pruned, with ``prune``) cell, concatenated to the pooled
            embedding before ``extra``. Path statistics summarise whole input-output paths,
            which two message-passing layers see only in part: on NB201 (n = 100, with the
            zero-cost ``extra``, sample seeds 100-111) ``"pathstats"`` lifts the GIN's Kendall
            tau by +0.01 (cifar100) to +0.04 (ImageNet16-120).
        prune: Encode ``space.prune(arch)`` (needs a space with ``prune``, e.g. NB201).
        seed: Seeds every member's initialisation and shuffling.
        n_threads: Torch threads used inside ``fit`` and ``predict``.
        calibrate: Widen the std by a scale and a floor fitted on cross-validated residuals at
            fit time (``std_scale_``, ``std_floor_``; off by default: 1 and 0).
        calibration_folds: Folds of that cross-validation.
    """

    name = "gin"

    def __init__(
        self,
        space: SearchSpace | str = "nb201",
        *,
        hidden: int = 64,
        layers: int = 2,
        pooling: str = "sum",
        loss: str = "mse",
        epochs: int = 100,
        lr: float = 3e-3,
        batch_size: int = 64,
        weight_decay: float = 0.0,
        ensemble_size: int = 3,
        extra: TableFeatures | None = None,
        readout_encoding: str | None = None,
        prune: bool = False,
        seed: int = 0,
        n_threads: int = 1,
        calibrate: bool = False,
        calibration_folds: int = 5,
    ) -> None:
        super().__init__(space, seed=seed)
        self._store_params(locals())

    # ----------------------------------------------------------------- pickling
    def __getstate__(self) -> dict[str, Any]:
        """Pickle the network as its ``state_dict`` (its classes are built lazily, unpicklable)."""
        state = self.__dict__.copy()
        state.pop("_edges_cache", None)
        if "net_" in state:
            state["net_"] = {k: v.detach().clone() for k, v in state["net_"].state_dict().items()}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        weights = state.get("net_")
        if isinstance(weights, dict):
            n_extra = len(getattr(self, "extra_mean_", ()))
            self.net_ = _build_net(
                self.ensemble_size,
                self.n_features_,
                self.hidden,
                self.layers,
                n_extra,
                self.pooling,
                None,
            )
            self.net_.load_state_dict(weights)
            self.net_.eval()

    # ----------------------------------------------------------------- helpers
    def _check_params(self) -> None:
        owner = type(self).__name__
        check_int(self.hidden, "hidden", owner, minimum=1)
        check_int(self.layers, "layers", owner, minimum=1)
        check_int(self.epochs, "epochs", owner, minimum=1)
        check_int(self.batch_size, "batch_size", owner, minimum=2)
        check_int(self.ensemble_size, "ensemble_size", owner, minimum=1)
        check_int(self.n_threads, "n_threads", owner, minimum=1)
        check_float(self.lr, "lr", owner, minimum=0.0, exclusive=True)
        check_float(self.weight_decay, "weight_decay", owner, minimum=0.0)
        check_choice(self.pooling, "pooling", owner, POOLINGS)
        check_choice(self.loss, "loss", owner, LOSSES)
        check_calibration(self, owner)
        if self.readout_encoding is not None:
            allowed = "None or encoding names joined by '+', e.g. 'pathstats'"
            if not isinstance(self.readout_encoding, str):
                raise param_error("readout_encoding", owner, allowed, self.readout_encoding)
            for part in self.readout_encoding.split("+"):
                check_choice(part, "readout_encoding", owner, list(ENCODINGS))

    def _graphs(self, archs: list[Arch]) -> tuple[np.ndarray, _Varying | None]:
        """Node features (n, nodes, features) of ``archs`` and, when their graphs do not all
        share the space's first structure (NB101 cells, chains of different depth), the
        per-graph edges and node counts (features zero-padded to the largest graph)."""
        items = [
            _graph(self.space_, a)
            for a in (prune_archs(self.space_, archs) if self.prune else archs)
        ]
        if all(e == self.edges_key_ for _, e in items):
            return np.stack([x for x, _ in items]), None
        counts = np.array([x.shape[0] for x, _ in items])
        padded = np.zeros((len(items), int(counts.max()), items[0][0].shape[1]), np.float32)
        for i, (x, _) in enumerate(items):
            padded[i, : x.shape[0]] = x
        edges = [np.frombuffer(e, dtype=np.int64).reshape(2, -1).copy() for _, e in items]
        return padded, _Varying(edges, counts)

    def _varying_batch(self, v: _Varying, idx: Any, n_nodes: int) -> tuple[Any, Any, Any, Any]:
        """``edge_index``, ``batch``, node mask and node counts of the graphs ``idx`` (b,),
        each padded to ``n_nodes`` nodes."""

        rows = [int(i) for i in idx]
        ei = torch.cat(
            [torch.from_numpy(v.edges[i]) + k * n_nodes for k, i in enumerate(rows)], dim=1
        )
        batch = torch.arange(len(rows)).repeat_interleave(n_nodes)
        counts = torch.from_numpy(v.counts[rows])
        mask = (torch.arange(n_nodes)[None, :] < counts[:, None]).reshape(-1).to(torch.float32)
        return ei, batch, mask, counts.to(torch.float32)

    def _batched_edges(self, n_graphs: int) -> tuple[Any, Any]:
        """``edge_index`` and ``batch`` vector of ``n_graphs`` copies of the space's graph."""

        cached = getattr(self, "_edges_cache", None)
        if cached is None or cached[2] < n_graphs:
            ei = torch.from_numpy(self.edge_index_)
            offsets = torch.arange(n_graphs) * self.n_nodes_
            big = (ei[:, None, :] + offsets[None, :, None]).reshape(2, -1)
            batch = torch.arange(n_graphs).repeat_interleave(self.n_nodes_)
            cached = self._edges_cache = (big, batch, n_graphs)
        big, batch, _ = cached
        return big[:, : n_graphs * self.edge_index_.shape[1]], batch[: n_graphs * self.n_nodes_]

    def _side_encoder(self) -> Encoder | None:
        """The ``readout_encoding`` encoder (``None`` without one); checks the names."""
        if self.readout_encoding is None:
            return None
        return Encoder(self.space_, self.readout_encoding, prune=self.prune)

    def _raw_side_features(self, archs: list[Arch]) -> np.ndarray | None:
        """Unscaled side features (n, k): the readout encoding, then ``extra``; or ``None``."""
        blocks = []
        encoder = self._side_encoder()
        if encoder is not None:
            blocks.append(encoder.transform(archs))
        if self.extra is not None:
            blocks.append(self.extra.transform(archs))
        if not blocks:
            return None
        return np.concatenate(blocks, axis=1).astype(np.float64)

    def _scaled(self, raw: np.ndarray) -> np.ndarray:
        """Side features standardised with the fit's mean and std, float32 (n, k)."""
        return ((raw - self.extra_mean_) / self.extra_std_).astype(np.float32)

    def _extra_features(self, archs: list[Arch]) -> np.ndarray | None:
        raw = self._raw_side_features(archs)
        return None if raw is None else self._scaled(raw)

    # ----------------------------------------------------------------- fit / predict
    def _fit(self, archs: list[Arch], y: np.ndarray, **extra: Any) -> None:
        self._check_params()
        first = prune_archs(self.space_, archs[:1])[0] if self.prune else archs[0]
        _, self.edge_index_ = graph_arrays(self.space_, first)
        self.edges_key_ = self.edge_index_.tobytes()
        graphs, varying = self._graphs(archs)
        self.n_nodes_, self.n_features_ = graphs.shape[1], graphs.shape[2]
        feats = None
        raw = self._raw_side_features(archs)
        if raw is not None:
            self.extra_mean_ = raw.mean(axis=0)
            self.extra_std_ = np.where(raw.std(axis=0) > 0, raw.std(axis=0), 1.0)
            feats = self._scaled(raw)
        else:  # a refit without side features must not keep an earlier fit's scaling
            self.__dict__.pop("extra_mean_", None)
            self.__dict__.pop("extra_std_", None)
        self.y_mean_, self.y_std_ = float(y.mean()), float(y.std() or 1.0)
        z = (y - self.y_mean_) / self.y_std_
        seeds = np.random.SeedSequence([self.seed, 0x47494E]).generate_state(self.ensemble_size)
        self._edges_cache = None
        with _torch_context(self.n_threads):
            self._train(graphs, z, feats, [int(s) for s in seeds], varying)
            scores = None if self.loss == "mse" else self._scores(graphs, feats, varying)
        if scores is None:
            self.scale_ = np.full(self.ensemble_size, self.y_std_)
            self.shift_ = np.full(self.ensemble_size, self.y_mean_)
        else:  # least-squares line per member, score -> target
            s_mean = scores.mean(axis=1)
            s_var = scores.var(axis=1)
            cov = ((scores - s_mean[:, None]) * (y - y.mean())[None, :]).mean(axis=1)
            self.scale_ = np.where(s_var > 0, cov / np.where(s_var > 0, s_var, 1.0), 0.0)
            self.shift_ = y.mean() - self.scale_ * s_mean
        self._calibrate_std(archs, y)

    def _train(
        self,
        graphs: np.ndarray,
        z: np.ndarray,
        feats: np.ndarray | None,
        seeds,
        varying: _Varying | None = None,
    ) -> None:
        """Train the stacked members. Graphs of one structure: each member its own batch
        order. Varying structures: one batch order (seeds[0]) for all members, which share
        each batch's edge list; members still differ in their initial weights."""

        members = len(seeds)
        gens = [torch.Generator().manual_seed(s) for s in seeds]
        torch.manual_seed(seeds[0])  # only inside fork_rng: nothing should draw from it
        n_extra = 0 if feats is None else feats.shape[1]
        self.net_ = _build_net(
            members, self.n_features_, self.hidden, self.layers, n_extra, self.pooling, gens
        )
        opt = torch.optim.Adam(
            self.net_.parameters(), lr=self.lr, weight_decay=self.weight_decay, fused=True
        )
        x_all = torch.from_numpy(graphs)
        z_all = torch.from_numpy(z.astype(np.float32))
        f_all = None if feats is None else torch.from_numpy(feats)
        n = len(z)
        n_batches = math.ceil(n / min(self.batch_size, n))
        self.net_.train()
        n_nodes = graphs.shape[1]
        for _ in range(self.epochs):
            if varying is None:
                perm = torch.stack([torch.randperm(n, generator=g) for g in gens])  # (members, n)
            else:
                perm = torch.randperm(n, generator=gens[0])[None].expand(members, -1)
            for idx in torch.tensor_split(perm, n_batches, dim=1):
                b = idx.shape[1]
                mask = counts = None
                if varying is None:
                    edge_index, batch = self._batched_edges(b)
                else:
                    edge_index, batch, mask, counts = self._varying_batch(varying, idx[0], n_nodes)
                x = x_all[idx].reshape(members, b * n_nodes, self.n_features_)
                f = None if f_all is None else f_all[idx]
                out = self.net_(x, edge_index, batch, b, f, mask, counts)  # (members, b)
                t = z_all[idx]
                if self.loss == "mse":
                    loss = ((out - t) ** 2).mean(dim=1).sum()
                else:
                    diff = out[:, :, None] - out[:, None, :]
                    mask = (t[:, :, None] > t[:, None, :]).to(out.dtype)
                    per_pair = torch.nn.functional.softplus(-diff) * mask
                    loss = (per_pair.sum(dim=(1, 2)) / mask.sum(dim=(1, 2)).clamp(min=1)).sum()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        self.net_.eval()

    def _scores(
        self, graphs: np.ndarray, feats: np.ndarray | None, varying: _Varying | None = None
    ) -> np.ndarray:
        """Raw network outputs, shape (members, n); call inside ``_torch_context``."""

        members = self.ensemble_size
        n_nodes = graphs.shape[1]
        out = []
        with torch.no_grad():
            for start in range(0, len(graphs), _PREDICT_CHUNK):
                g = torch.from_numpy(graphs[start : start + _PREDICT_CHUNK])
                b = g.shape[0]
                mask = counts = None
                if varying is None:
                    edge_index, batch = self._batched_edges(b)
                else:
                    rows = range(start, start + b)
                    edge_index, batch, mask, counts = self._varying_batch(varying, rows, n_nodes)
                x = g.reshape(1, b * n_nodes, self.n_features_).expand(members, -1, -1)
                f = None
                if feats is not None:
                    f = torch.from_numpy(feats[start : start + b])[None].expand(members, -1, -1)
                out.append(self.net_(x, edge_index, batch, b, f, mask, counts).numpy())
        return np.concatenate(out, axis=1).astype(np.float64)

    def _predict(self, archs: list[Arch]) -> Prediction:
        graphs, varying = self._graphs(archs)
        feats = self._extra_features(archs)
        with _torch_context(self.n_threads):
            scores = self._scores(graphs, feats, varying)
        preds = scores * self.scale_[:, None] + self.shift_[:, None]
        std = None
        if self.ensemble_size > 1:
            std = self._calibrated(preds.std(axis=0))
        return Prediction(preds.mean(axis=0), std)


@dataclass(frozen=True)
class _Varying:
    """Per-graph edge lists ((2, e_i) int64 each) and node counts (n,) of graphs that do not
    share one structure."""

    edges: list[np.ndarray]
    counts: np.ndarray


@lru_cache(maxsize=1 << 15)
def _graph(space: SearchSpace, arch: Arch) -> tuple[np.ndarray, bytes]:
    """``graph_arrays`` of one arch, cached (a search predicts the same archs again and again):
    read-only node features and the edge list as bytes (compared to check the structure)."""
    x, edge_index = graph_arrays(space, arch)
    x.setflags(write=False)
    return x, edge_index.tobytes()


@contextlib.contextmanager
def _torch_context(n_threads: int) -> Iterator[None]:
    """Run with ``n_threads`` torch threads and a forked global RNG; restore both after."""

    old = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.set_num_threads(n_threads)
        try:
            yield
        finally:
            torch.set_num_threads(old)


def _build_net(members, n_features, hidden, layers, n_extra, pooling, gens):
    """The stacked ensemble network (torch imported here, classes built once)."""
    return _classes()["net"](members, n_features, hidden, layers, n_extra, pooling, gens)


@cache
def _classes() -> dict[str, type]:
    class StackedLinear(torch.nn.Module):
        """``members`` independent linear layers: (members, N, d_in) -> (members, N, d_out).

        Initialised like ``torch.nn.Linear`` (uniform in +-1/sqrt(d_in)), member k from gens[k];
        left uninitialised when ``gens`` is None (weights about to be loaded).
        """

        def __init__(self, members: int, d_in: int, d_out: int, gens) -> None:
            super().__init__()
            bound = 1.0 / math.sqrt(d_in)
            w = torch.empty(members, d_in, d_out)
            b = torch.empty(members, 1, d_out)
            for k, g in enumerate(gens or ()):
                w[k].uniform_(-bound, bound, generator=g)
                b[k].uniform_(-bound, bound, generator=g)
            self.weight = torch.nn.Parameter(w)
            self.bias = torch.nn.Parameter(b)

        def forward(self, x):
            return torch.baddbmm(self.bias, x, self.weight)

    def mlp(members, d_in, d_out, gens):
        return torch.nn.Sequential(
            StackedLinear(members, d_in, d_out, gens),
            torch.nn.ReLU(),
            StackedLinear(members, d_out, d_out, gens),
        )

    class StackedGIN(torch.nn.Module):
        """GIN convs -> pooling -> (+ extra features) -> MLP head, for all members at once.

        Node tensors are (members, nodes, features); ``GINConv`` aggregates along dim -2.
        """

        def __init__(self, members, n_features, hidden, layers, n_extra, pooling, gens) -> None:
            super().__init__()
            self.convs = torch.nn.ModuleList(
                torch_geometric_nn.GINConv(
                    mlp(members, n_features if i == 0 else hidden, hidden, gens)
                )
                for i in range(layers)
            )
            self.pool = (
                torch_geometric_nn.global_add_pool
                if pooling == "sum"
                else torch_geometric_nn.global_mean_pool
            )
            self.head = torch.nn.Sequential(
                StackedLinear(members, hidden + n_extra, hidden, gens),
                torch.nn.ReLU(),
                StackedLinear(members, hidden, 1, gens),
            )

        def forward(self, x, edge_index, batch, n_graphs, extra=None, mask=None, counts=None):
            h = x
            for conv in self.convs:
                h = torch.relu(conv(h, edge_index))
                if mask is not None:  # padding nodes of smaller graphs stay zero
                    h = h * mask[None, :, None]
            if mask is None:
                g = self.pool(h, batch, size=n_graphs)  # (members, n_graphs, hidden)
            else:
                g = torch_geometric_nn.global_add_pool(h, batch, size=n_graphs)
                if self.pool is torch_geometric_nn.global_mean_pool:
                    g = g / counts[None, :, None]
            if extra is not None:
                g = torch.cat([g, extra], dim=-1)
            return self.head(g).squeeze(-1)

    return {"net": StackedGIN}
