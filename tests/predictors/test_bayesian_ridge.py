"""The Bayesian ridge baseline passes the shared predictor contract (one-hot, path and
evidence-chosen encodings), and ``encoding="auto"`` chooses by evidence."""

from __future__ import annotations

from scipy.stats import kendalltau
from sklearn.linear_model import BayesianRidge

from predictor_nas.predictors import BayesianRidgePredictor
from predictor_nas.predictors._bayesian_ridge import AUTO_ENCODINGS
from predictor_nas.spaces import get_space
from predictor_nas.testing.pytest_predictors import PredictorContract, space_sample

SPACE = get_space("nb201")


class TestBayesianRidgeContract(PredictorContract):
    """The Bayesian ridge baseline passes the predictor contract."""

    @staticmethod
    def make_predictor(seed):
        return BayesianRidgePredictor(seed=seed)


class TestBayesianRidgePathContract(PredictorContract):
    """The baseline on path encoding passes the contract too."""

    @staticmethod
    def make_predictor(seed):
        return BayesianRidgePredictor(encoding="onehot+path", seed=seed)


class TestBayesianRidgeAutoContract(PredictorContract):
    """The baseline with the encoding chosen by evidence passes the contract too."""

    @staticmethod
    def make_predictor(seed):
        return BayesianRidgePredictor(encoding="auto", seed=seed)


def test_fixed_encoding_is_recorded_as_chosen():
    """With a fixed encoding, ``encoding_`` is that encoding (one model, no search)."""
    xa, ya, _, _ = space_sample("nb201", 30, 10, seed=0)
    p = BayesianRidgePredictor(encoding="onehot+counts").fit(xa, ya)
    assert p.encoding_ == "onehot+counts"


def test_auto_picks_path_statistics_on_nb101_and_ranks_better_than_one_hot():
    """On NB101 cells (real values) accuracy follows the graph's paths, which one-hot decisions do
    not see: ``auto`` picks path statistics by evidence and its held-out tau beats one-hot's."""
    xa, ya, xb, yb = space_sample("nb101", 100, 300, seed=3)
    auto = BayesianRidgePredictor("nb101", encoding="auto").fit(xa, ya)
    onehot = BayesianRidgePredictor("nb101", encoding="onehot").fit(xa, ya)
    assert auto.encoding_ == "onehot+pathstats"
    assert auto.encoder_.encoding == "onehot+pathstats"
    tau_auto = kendalltau(auto.predict(xb).mean, yb).statistic
    tau_onehot = kendalltau(onehot.predict(xb).mean, yb).statistic
    assert tau_auto > tau_onehot + 0.1, (tau_auto, tau_onehot)


def test_auto_evidence_is_the_highest_of_the_candidates():
    """The chosen encoding's fitted model has the highest log marginal likelihood of the
    ``AUTO_ENCODINGS`` models fitted alone on the same data."""
    xa, ya, _, _ = space_sample("nas_bench_macro", 80, 10, seed=2)
    auto = BayesianRidgePredictor("nas_bench_macro", encoding="auto").fit(xa, ya)
    evidence = {}
    for enc in AUTO_ENCODINGS:
        p = BayesianRidgePredictor("nas_bench_macro", encoding=enc).fit(xa, ya)
        x = p.scaler_.transform(p.encoder_.transform(xa))
        model = BayesianRidge(compute_score=True).fit(x, (ya - p.y_mean_) / p.y_std_)
        evidence[enc] = model.scores_[-1]
    assert auto.encoding_ == max(evidence, key=evidence.get)
