"""The coordinator lease: at most one live coordinator per study, judged by a beat counter that
its holder bumps, never by clocks."""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import Any

import optuna

from predictor_nas.distributed._common import LEASE_ATTR, HeartbeatSettings
from predictor_nas.exceptions import SearchError

log = logging.getLogger(__name__)


class CoordinatorLease:
    """At most one live coordinator per study.

    The lease is a study user attr whose ``beat`` counter the holder increments every
    ``interval`` seconds. A new coordinator that finds another's unreleased lease watches it for
    ``grace_period`` seconds: if the counter moved, that coordinator is alive and this one is
    refused; if not, it is dead (e.g. SIGKILL) and the lease is taken over. Only counters are
    compared, never clocks, so machines need not agree on the time. Two coordinators started in
    the same instant may both take it; the one whose write lost notices at its next renewal and
    stops.
    """

    def __init__(self, study: optuna.Study, owner: str, settings: HeartbeatSettings) -> None:
        self.study = study
        self.owner = owner
        self.settings = settings
        self._beat = 0
        self._last = 0.0

    def _read(self) -> dict[str, Any] | None:
        return self.study.user_attrs.get(LEASE_ATTR)

    def _write(self, released: bool = False) -> None:
        host, pid = socket.gethostname(), os.getpid()
        self.study.set_user_attr(
            LEASE_ATTR,
            {"id": self.owner, "host": host, "pid": pid, "beat": self._beat, "released": released},
        )
        self._last = time.monotonic()

    def acquire(self) -> None:
        """Take the lease, waiting out a dead holder; raises ``SearchError`` if one is alive."""
        cur = self._read()
        if cur is not None and not cur.get("released") and cur.get("id") != self.owner:
            log.warning(
                "study %s has a coordinator lease held by %s; watching it for %d s",
                self.study.study_name,
                cur.get("id"),
                self.settings.grace_period,
            )
            time.sleep(self.settings.grace_period)
            now = self._read()
            if now is not None and not now.get("released") and now != cur:
                raise SearchError(
                    f"Another coordinator ({now.get('id')}) is running study "
                    f"{self.study.study_name!r}; stop it first (one coordinator per study)."
                )
            log.warning("lease of %s expired; taking over", cur.get("id"))
        self._write()

    def renew(self) -> None:
        """Bump the counter (at most once per interval); raise if another took the lease."""
        if time.monotonic() - self._last < self.settings.interval:
            return
        cur = self._read()
        if cur is not None and cur.get("id") != self.owner:
            raise SearchError(
                f"Coordinator lease of study {self.study.study_name!r} was taken over by "
                f"{cur.get('id')}; this coordinator stops."
            )
        self._beat += 1
        self._write()

    def release(self) -> None:
        """Mark the lease released (a clean exit: the next coordinator need not wait)."""
        cur = self._read()
        if cur is None or cur.get("id") == self.owner:
            self._write(released=True)
