"""The emulator's run-time controls: configuration, outage window, fault draws and quotas.

Random draws are deterministic given the seed: each endpoint (and the task fates) has its own
stream, so calls to one endpoint do not shift the faults of another.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Literal

from emulators.config import FaultSpec, OutageSpec, RuntimeConfig
from emulators.quotas import Quotas

Action = Literal["pass", "error", "quota", "reset", "timeout"]
_ERRORS = {
    429: ("Throttling", "Requests throttling triggered."),
    500: ("InternalError", "An internal error has occurred, please try again later."),
    503: ("ModelServingError", "The service is temporarily unavailable, please try again later."),
    504: ("RequestTimeOut", "Request timed out, please try again later."),
}


@dataclass(frozen=True)
class Decision:
    action: Action = "pass"
    latency: float = 0.0
    status: int = 0
    code: str = ""
    message: str = ""


@dataclass(frozen=True)
class Outage:
    starts_at: float
    ends_at: float
    status: int | Literal["reset"]

    def public(self) -> dict[str, object]:
        return {"starts_at": self.starts_at, "ends_at": self.ends_at, "status": self.status}


def error_decision(status: int, codes: dict[str, str] | None = None, latency: float = 0.0) -> Decision:
    code, message = _ERRORS.get(status, ("InternalError", _ERRORS[500][1]))
    code = (codes or {}).get(str(status), code)
    return Decision("error", latency, status, code, message)


class Controls:
    def __init__(self, config: RuntimeConfig, outage: OutageSpec | None = None) -> None:
        self.quotas = Quotas()
        self.outage: Outage | None = None
        self._initial = config.model_copy(deep=True)
        self.configure(config)
        if outage is not None:
            self.start_outage(outage)

    def configure(self, config: RuntimeConfig) -> None:
        """Replace the configuration; the random streams and quota buckets start afresh."""
        self.config = config
        self._streams: dict[str, random.Random] = {}
        self.quotas.reset()

    def restore(self) -> None:
        """Back to the configuration the emulator started with, and no outage."""
        self.configure(self._initial.model_copy(deep=True))
        self.outage = None

    def rng(self, stream: str) -> random.Random:
        if stream not in self._streams:
            self._streams[stream] = random.Random(f"{self.config.seed}:{stream}")
        return self._streams[stream]

    def start_outage(self, spec: OutageSpec) -> Outage:
        starts_at = time.time() + spec.start_in
        self.outage = Outage(starts_at, starts_at + spec.seconds, spec.status)
        return self.outage

    def outage_now(self) -> Outage | None:
        outage = self.outage
        return outage if outage is not None and outage.starts_at <= time.time() < outage.ends_at else None

    def decide(self, endpoint: str) -> Decision:
        """Draw this call's latency and fault from the endpoint's spec (or the `*` one)."""
        spec = self.config.faults.get(endpoint) or self.config.faults.get("*")
        if spec is None:
            return Decision()
        rng = self.rng(endpoint)
        low, high = spec.latency_ms
        latency = rng.uniform(low, high) / 1000 if high > 0 else 0.0
        draw = rng.random()
        for fault, chance in _chances(spec):
            if draw < chance:
                if fault in ("reset", "timeout"):
                    return Decision(fault, latency)
                return error_decision(int(fault), spec.codes, latency)
            draw -= chance
        return Decision("pass", latency)


def _chances(spec: FaultSpec) -> list[tuple[Literal["429", "500", "503", "reset", "timeout"], float]]:
    return [
        ("429", spec.p429),
        ("500", spec.p500),
        ("503", spec.p503),
        ("reset", spec.preset),
        ("timeout", spec.ptimeout),
    ]
