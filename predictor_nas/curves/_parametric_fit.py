"""Least-squares fits of one parametric curve family to many curves at once.

A batched Levenberg-Marquardt solver with an optional SciPy refinement.
"""

from __future__ import annotations

import numpy as np

from predictor_nas._lazy import scipy_optimize
from predictor_nas.curves._families import Family

#: Levenberg-Marquardt damping: start, factor after an accepted / a rejected step.
LM_LAMBDA0 = 1e-3


LM_DOWN = 0.2


LM_UP = 5.0


# --------------------------------------------------------------------------- fitting one family
def _evaluate(
    fam: Family, params: np.ndarray, tau: np.ndarray, jac: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """f (n, T) and, with ``jac``, J (n, T, p) for parameters (n, p) at times tau (n, T)."""
    off = int(fam.offset)
    b = params[:, off : off + 1]
    theta = [params[:, off + 1 + k : off + 2 + k] for k in range(fam.n_nonlinear)]
    g, dg = fam.shape(tau, theta, jac)
    g = np.broadcast_to(g, tau.shape)
    f = b * g + (params[:, :1] if off else 0.0)
    if not jac:
        return f, None
    cols = ([np.ones_like(g)] if off else []) + [g] + [b * d for d in dg]
    return f, np.stack(np.broadcast_arrays(*cols), axis=-1)


def _solve_linear(
    fam: Family, g: np.ndarray, u: np.ndarray, mask: np.ndarray, closed_form_rss: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Box-bounded least squares for the linear parameters (A, B) given the shape g.

    Args:
        fam: The family (its bounds on A and B are used).
        g: Shape values (..., T); u and mask broadcast against it.
        u: Normalised values (..., T), 0 where masked.
        mask: 1.0 on observed epochs, 0.0 elsewhere.
        closed_form_rss: Compute the RSS from the sufficient statistics (cheaper, for the grid;
            loses digits when the RSS is tiny compared with sum(u^2)).

    Returns:
        ``(a, b, rss)`` each of shape g.shape[:-1] (a = 0 for families without an offset).
    """
    lo, hi = fam.param_bounds()
    mg = mask * g
    s_g = mg.sum(-1)
    s_gg = (mg * g).sum(-1)
    s_gu = (mg * u).sum(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        if fam.offset:
            s_0 = mask.sum(-1)
            s_u = (mask * u).sum(-1)
            den = s_0 * s_gg - s_g**2
            b = np.where(den > 1e-12 * s_0 * s_gg, (s_0 * s_gu - s_g * s_u) / den, 0.0)
            b = np.clip(np.nan_to_num(b), lo[1], hi[1])
            a_free = (s_u - b * s_g) / s_0
            a = np.clip(a_free, lo[0], hi[0])
            # A at a bound: B is re-solved for that A (exact on that edge of the box).
            b_edge = np.where(s_gg > 0, (s_gu - a * s_g) / s_gg, 0.0)
            b = np.where(a != a_free, np.clip(np.nan_to_num(b_edge), lo[1], hi[1]), b)
        else:
            a = np.zeros_like(s_g)
            b = np.clip(np.nan_to_num(np.where(s_gg > 0, s_gu / s_gg, 0.0)), lo[0], hi[0])
        if closed_form_rss:
            s_uu = (mask * u * u).sum(-1)
            rss = s_uu - 2.0 * b * s_gu + b * b * s_gg
            if fam.offset:
                rss = rss + a * (a * s_0 - 2.0 * s_u + 2.0 * b * s_g)
            rss = np.maximum(rss, 0.0)
        else:
            rss = ((mask * (u - a[..., None] - b[..., None] * g)) ** 2).sum(-1)
    return a, b, np.where(np.isfinite(rss), rss, np.inf)


def _shape(fam: Family, theta: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """g (n, T) for nonlinear parameters theta (n, q) at times tau (n, T)."""
    g, _ = fam.shape(tau, [theta[:, k : k + 1] for k in range(fam.n_nonlinear)], False)
    return np.broadcast_to(g, tau.shape)


def _full_params(fam: Family, a: np.ndarray, b: np.ndarray, theta: np.ndarray) -> np.ndarray:
    return np.column_stack([*([a] if fam.offset else []), b, theta])


def _grid_start(
    fam: Family, tau: np.ndarray, u: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Best grid point per curve (A, B in closed form); returns (theta (n, q), rss (n,))."""
    grid = fam.grid_points()  # (G, q)
    theta = [grid[None, :, k, None] for k in range(fam.n_nonlinear)]
    g, _ = fam.shape(tau[:, None, :], theta, False)
    g = np.broadcast_to(g, (tau.shape[0], len(grid), tau.shape[1]))
    _, _, rss = _solve_linear(fam, g, u[:, None, :], mask[:, None, :], closed_form_rss=True)
    best = rss.argmin(axis=1)
    return grid[best], rss[np.arange(len(best)), best]


def _levenberg_marquardt(
    fam: Family,
    theta: np.ndarray,
    tau: np.ndarray,
    u: np.ndarray,
    mask: np.ndarray,
    max_iter: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Batched box-bounded LM on the variable-projection residual.

    Only the nonlinear parameters theta (n, q) are iterated; A and B are solved in closed form
    at every evaluation, which removes the strong A/B/theta correlations that make the full
    problem ill-conditioned. The Jacobian is by forward differences (q <= 2 extra evaluations).

    Returns:
        ``(params (n, p), rss (n,))`` with params the full vector ``[A,] B, theta``.
    """
    q = fam.n_nonlinear
    # Strictly positive parameters are iterated on a log scale (better conditioned).
    logs = np.array(fam.lower) > 0
    lo = np.where(logs, np.log(np.maximum(fam.lower, 1e-300)), fam.lower)
    hi = np.where(logs, np.log(np.maximum(fam.upper, 1e-300)), fam.upper)

    def resid(phi: np.ndarray, rows: np.ndarray | slice = slice(None)):
        tr, ur, mr = tau[rows], u[rows], mask[rows]
        g = _shape(fam, np.where(logs, np.exp(phi), phi), tr)
        a, b, rss = _solve_linear(fam, g, ur, mr)
        return mr * (ur - a[:, None] - b[:, None] * g), rss, a, b

    phi = np.clip(np.where(logs, np.log(np.where(logs, theta, 1.0)), theta), lo, hi)
    r, cost, a, b = resid(phi)
    lam = np.full(len(phi), LM_LAMBDA0)
    eye = np.eye(q)
    act = np.arange(len(phi) if q else 0)  # curves still iterating
    for _ in range(max_iter):
        if not act.size:
            break
        p_a, r_a = phi[act], r[act]
        h = 1e-6 * np.maximum(np.abs(p_a), 1e-2)
        h = np.where(p_a + h > hi, -h, h)
        jac = np.empty((*r_a.shape, q))
        for k in range(q):
            pk = p_a.copy()
            pk[:, k] += h[:, k]
            jac[..., k] = (resid(pk, act)[0] - r_a) / h[:, k : k + 1]
        jt = np.swapaxes(jac, 1, 2)  # (m, q, T)
        hess = jt @ jac
        grad = (jt @ r_a[..., None])[..., 0]
        # Parameters at a bound whose descent direction points outwards are held fixed (active
        # set); otherwise the clipped step stalls instead of sliding along the bound.
        held = ((p_a <= lo) & (grad > 0)) | ((p_a >= hi) & (grad < 0))
        free = (~held).astype(np.float64)
        hess = hess * free[:, :, None] * free[:, None, :] + held[:, :, None] * eye
        grad = grad * free
        diag = np.diagonal(hess, axis1=1, axis2=2)
        scale = diag + 1e-9 * diag.mean(axis=1, keepdims=True) + 1e-15
        lam_a = lam[act]
        with np.errstate(all="ignore"):
            damped = hess + (lam_a[:, None] * scale)[:, :, None] * eye
            step = -np.linalg.solve(damped, grad[..., None])
        cand = np.clip(p_a + np.nan_to_num(step[..., 0]), lo, hi)
        rc, cost_c, ac, bc = resid(cand, act)
        cost_a = cost[act]
        better = np.isfinite(cost_c) & (cost_c < cost_a)
        gain = np.where(better, (cost_a - cost_c) / np.maximum(cost_a, 1e-300), 0.0)
        acc = act[better]
        phi[acc], r[acc], a[acc], b[acc], cost[acc] = (
            cand[better],
            rc[better],
            ac[better],
            bc[better],
            cost_c[better],
        )
        lam_a = np.clip(np.where(better, lam_a * LM_DOWN, lam_a * LM_UP), 1e-12, 1e12)
        lam[act] = lam_a
        act = act[~np.where(better, gain < 1e-7, lam_a >= 1e8)]
    theta = np.where(logs, np.exp(phi), phi)
    return _full_params(fam, a, b, theta), cost


def _scipy_refine(
    fam: Family, params: np.ndarray, tau: np.ndarray, u: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Reference refinement: one bounded ``least_squares`` call per curve."""

    lo, hi = fam.param_bounds()
    out = params.copy()
    for i in range(len(params)):
        keep = mask[i] > 0
        ti, ui = tau[i : i + 1, keep], u[i, keep]

        def fun(pp, ti=ti, ui=ui):
            return _evaluate(fam, pp[None, :], ti, False)[0][0] - ui

        def jac(pp, ti=ti):
            return _evaluate(fam, pp[None, :], ti, True)[1][0]

        x0 = np.clip(params[i], lo + 1e-12 * (hi - lo), hi - 1e-12 * (hi - lo))
        out[i] = scipy_optimize.least_squares(fun, x0, jac=jac, bounds=(lo, hi), method="trf").x
    f, _ = _evaluate(fam, out, tau, False)
    return out, ((mask * (u - f)) ** 2).sum(-1)


def fit_family(
    fam: Family,
    u: np.ndarray,
    lengths: np.ndarray,
    final_epoch: int,
    *,
    max_iter: int = 20,
    solver: str = "batched",
) -> dict[str, np.ndarray]:
    """Fit one family to normalised prefixes and extrapolate to ``final_epoch``.

    Args:
        fam: The family.
        u: float array (n, T), normalised values (0 past each prefix).
        lengths: int array (n,) of observed lengths.
        final_epoch: Epoch to extrapolate to.
        max_iter: Levenberg-Marquardt iterations at most.
        solver: ``"batched"`` or ``"scipy"``.

    Returns:
        Dict with ``params`` (n, p), ``rss`` (n,), ``final`` (n,) (value at ``final_epoch``) and
        ``fitted_last`` (n,) (fitted value at the last observed epoch), all in normalised units.
    """
    n, width = u.shape
    epochs = np.arange(1, width + 1, dtype=np.float64)
    mask = (epochs[None, :] <= lengths[:, None]).astype(np.float64)
    t = lengths.astype(np.float64)[:, None]
    tau = np.broadcast_to(epochs, (n, width)) if fam.uses_epoch else epochs[None, :] / t
    theta, _ = _grid_start(fam, tau, u, mask)
    params, rss = _levenberg_marquardt(
        fam, theta, tau, u, mask, 0 if solver == "scipy" else max_iter
    )
    if solver == "scipy":
        params, rss = _scipy_refine(fam, params, tau, u, mask)
    ends = np.column_stack([np.full(n, float(final_epoch)), t[:, 0]])
    if not fam.uses_epoch:
        ends = ends / t
    f_end, _ = _evaluate(fam, params, ends, False)
    return {"params": params, "rss": rss, "final": f_end[:, 0], "fitted_last": f_end[:, 1]}
