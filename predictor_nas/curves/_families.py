"""Parametric learning-curve families (after Domhan, Springenberg and Hutter, IJCAI 2015).

Every family is written as ``f = A + B * g(s; theta)`` (or ``f = B * g`` for the two families
without an offset) with ``B >= 0`` and a shape ``g`` that is non-decreasing in ``s``, so every
member is a non-decreasing curve. Fits happen on a normalised curve: the values are turned so
that they increase (losses are negated) and scaled so that the observed prefix spans [0, 1]
(``u``); time is ``s = epoch / t`` with ``t`` the observed length, so the observed prefix lies in
(0, 1] and the final epoch ``F`` sits at ``s = F / t``. Because all families except ``ilog2``
are closed under rescaling time, this is the same function set as in epochs, only better
conditioned for a shared grid of starting points; ``ilog2`` uses the epoch itself.

=================  =============================================  ==============================
name               Domhan et al. form (x = time)                  here (B >= 0)
=================  =============================================  ==============================
``pow3``           c - a x^(-alpha)                               A - B s^(-alpha)
``exp3``           c - exp(-a x + b)                              A - B exp(-k s)
``janoschek``      alpha - (alpha - beta) exp(-kappa x^delta)     A - B exp(-k s^d)
``weibull``        alpha - (alpha - beta) exp(-(kappa x)^delta)   A - B exp(-(k s)^d)
``exp4``           c - exp(-a x^alpha + b)                        A - B exp(-k s^d)
``mmf``            alpha - (alpha - beta) / (1 + (kappa x)^delta) A - B / (1 + (k s)^d)
``log_power``      a / (1 + (x / e^b)^c)                          B / (1 + exp(c (log s - b)))
``vapor_pressure`` exp(a + b / x + c log x)                       B exp(b / s + c log s)
``ilog2``          c - a / log(x)                                 A - B / log(epoch + 1)
=================  =============================================  ==============================

``janoschek``, ``weibull`` and ``exp4`` are one function set under three parametrisations
(``k_weibull^d = k_janoschek``, ``B = e^b``); only ``janoschek`` is in the default ensemble so that
this shape is not counted three times. ``log_power`` and ``vapor_pressure`` have no offset: their
lower asymptote is the observed minimum of the normalised curve (``u = 0``). ``ilog2`` uses
``log(epoch + 1)`` so that epoch 1 is defined. Bounds keep every member non-decreasing
(``c < 0`` in ``log_power``, ``b <= 0`` and ``c >= 0`` in ``vapor_pressure``) and its upper
asymptote at most ``ASYMPTOTE_MAX`` observed ranges above the observed minimum.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: Largest upper asymptote (A for offset families, B for ``log_power``) in units of the observed
#: range of the normalised curve, i.e. at most 2 more observed ranges of improvement.
ASYMPTOTE_MAX = 3.0
#: Largest B for families whose B is not an asymptote.
B_MAX = 1e6
_EXP_CLIP = 60.0

ShapeFn = Callable[[np.ndarray, list[np.ndarray], bool], tuple[np.ndarray, list[np.ndarray]]]


@dataclass(frozen=True)
class Family:
    """One parametric family ``f = A + B * g(s; theta)`` (``offset=False``: ``f = B * g``).

    Attributes:
        name: Family name.
        offset: Whether the family has the free offset A.
        shape: ``shape(s, theta, jac) -> (g, [dg/dtheta_k])``; ``s`` and each ``theta_k`` are
            broadcastable arrays; the derivative list is empty when ``jac`` is False.
        lower: Lower bounds of the nonlinear parameters theta (q,).
        upper: Upper bounds (q,).
        grid: Grid values per nonlinear parameter (starting points), q 1-D arrays.
        uses_epoch: Whether ``g`` takes the epoch instead of ``s = epoch / t``.
        b_is_asymptote: Whether B is the upper asymptote (bounded by ``ASYMPTOTE_MAX``).
    """

    name: str
    offset: bool
    shape: ShapeFn
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    grid: tuple[np.ndarray, ...]
    uses_epoch: bool = False
    b_is_asymptote: bool = False

    @property
    def n_nonlinear(self) -> int:
        """Number of nonlinear parameters q."""
        return len(self.lower)

    @property
    def n_params(self) -> int:
        """Total number of parameters p (A if present, B, theta)."""
        return int(self.offset) + 1 + self.n_nonlinear

    def grid_points(self) -> np.ndarray:
        """All grid combinations of the nonlinear parameters, shape (G, q) (G = 1 when q = 0)."""
        if not self.grid:
            return np.zeros((1, 0))
        mesh = np.meshgrid(*self.grid, indexing="ij")
        return np.stack([m.ravel() for m in mesh], axis=1)

    def param_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Bounds of the full parameter vector ``[A,] B, theta`` as two arrays (p,)."""
        lo, hi = [], []
        if self.offset:
            lo.append(0.0)
            hi.append(ASYMPTOTE_MAX)
        lo.append(0.0)
        hi.append(ASYMPTOTE_MAX if self.b_is_asymptote else B_MAX)
        return np.array(lo + list(self.lower)), np.array(hi + list(self.upper))


def _exp(z: np.ndarray) -> np.ndarray:
    return np.exp(np.minimum(z, _EXP_CLIP))


def _pow3(s, th, jac):
    (a,) = th
    p = _exp(-a * np.log(s))
    return -p, ([p * np.log(s)] if jac else [])


def _exp3(s, th, jac):
    (k,) = th
    e = _exp(-k * s)
    return -e, ([s * e] if jac else [])


def _janoschek(s, th, jac):
    k, d = th
    ls = np.log(s)
    sd = _exp(d * ls)
    e = _exp(-k * sd)
    return -e, ([sd * e, k * sd * ls * e] if jac else [])


def _weibull(s, th, jac):
    k, d = th
    lks = np.log(k * s)
    w = _exp(d * lks)
    e = _exp(-w)
    return -e, ([d * w / k * e, w * lks * e] if jac else [])


def _mmf(s, th, jac):
    k, d = th
    lks = np.log(k * s)
    w = _exp(d * lks)
    q = 1.0 / (1.0 + w)
    if not jac:
        return -q, []
    q2 = q * q
    return -q, [d * w / k * q2, w * lks * q2]


def _log_power(s, th, jac):
    b, c = th
    ls = np.log(s)
    g = 1.0 / (1.0 + _exp(c * (ls - b)))
    if not jac:
        return g, []
    gg = g * (1.0 - g)
    return g, [c * gg, -(ls - b) * gg]


def _vapor_pressure(s, th, jac):
    b, c = th
    ls = np.log(s)
    g = _exp(b / s + c * ls)
    return g, ([g / s, g * ls] if jac else [])


def _ilog2(x, th, jac):
    return -1.0 / np.log(x + 1.0), []


def _geom(lo: float, hi: float, n: int) -> np.ndarray:
    return np.geomspace(lo, hi, n)


#: Starting-point grids shared by families with the same parameters.
_KD_GRID = (_geom(0.05, 30.0, 8), _geom(0.15, 3.0, 7))  # janoschek and exp4: (k, d)
_KD_BOUNDS = ((0.02, 0.1), (60.0, 4.0))  # janoschek, weibull and exp4: (lower, upper)

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("pow3", True, _pow3, (0.05,), (3.0,), (_geom(0.05, 3.0, 16),)),
        Family("exp3", True, _exp3, (0.1,), (60.0,), (_geom(0.1, 60.0, 16),)),
        Family("janoschek", True, _janoschek, *_KD_BOUNDS, _KD_GRID),
        Family("weibull", True, _weibull, *_KD_BOUNDS, (_geom(0.1, 20.0, 8), _geom(0.15, 3.0, 7))),
        Family("exp4", True, _janoschek, *_KD_BOUNDS, _KD_GRID),
        Family(
            "mmf", True, _mmf, (0.02, 0.1), (60.0, 5.0), (_geom(0.1, 20.0, 8), _geom(0.2, 4.0, 7))
        ),
        Family(
            "log_power",
            False,
            _log_power,
            (-4.0, -5.0),
            (4.0, -0.1),
            (np.linspace(-3.0, 3.0, 7), -_geom(0.2, 4.0, 7)),
            b_is_asymptote=True,
        ),
        Family(
            "vapor_pressure",
            False,
            _vapor_pressure,
            (-3.0, 0.0),
            (0.0, 0.5),
            (-np.array([0.0, 0.05, 0.15, 0.3, 0.6, 1.0, 1.6, 2.4]), np.linspace(0.0, 0.5, 6)),
        ),
        Family("ilog2", True, _ilog2, (), (), (), uses_epoch=True),
    )
}

#: Families of the default ensemble: one per distinct function set.
DEFAULT_FAMILIES: tuple[str, ...] = (
    "pow3",
    "exp3",
    "janoschek",
    "mmf",
    "log_power",
    "vapor_pressure",
    "ilog2",
)
