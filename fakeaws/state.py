"""Mutable settings and counters of one fake, shared by the layer, the control API and FakeAWS."""

import threading
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Fault:
    """One injected failure: the ``nth`` matching call from now fails once, then the fault is removed.

    ``kind`` is one of:
    - "error": an AWS-shaped error with ``code``, ``status`` and ``message``;
    - "hang": the call waits ``hang_seconds`` or until the fake is reset, then proceeds normally;
    - "malformed": HTTP 200 with the first half of moto's body, which no XML or JSON parser accepts.
    """

    action: str
    nth: int = 1
    code: str = "ServiceFailure"
    status: int = 500
    message: str | None = None
    kind: str = "error"
    hang_seconds: float = 60.0
    account_id: str | None = None
    remaining: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("error", "hang", "malformed"):
            raise ValueError(f"invalid fault kind {self.kind!r}: use 'error', 'hang' or 'malformed'")
        if self.nth < 1:
            raise ValueError(f"invalid nth {self.nth}: the first call from now is 1")
        self.remaining = self.nth

    def to_dict(self) -> dict:
        return {
            "action": self.action,
            "nth": self.nth,
            "code": self.code,
            "status": self.status,
            "message": self.message,
            "kind": self.kind,
            "hang_seconds": self.hang_seconds,
            "account_id": self.account_id,
            "remaining": self.remaining,
        }


class TokenBucket:
    """Token bucket that refills at ``rate`` tokens per second up to ``burst`` tokens."""

    def __init__(self, rate: float, burst: float):
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.updated = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class CallCounts(dict):
    """Per-action call counts (keys such as "ListUsers") with the number of throttled calls.

    Admin calls (from ``FakeAWS.client``) are not counted. Throttled, denied and faulted calls are.
    """

    def __init__(self, counts: dict[str, int], *, throttled: int, denied: int):
        super().__init__(counts)
        self.throttled = throttled
        self.denied = denied

    @property
    def total(self) -> int:
        return sum(self.values())

    def to_dict(self) -> dict:
        return {"calls": dict(self), "throttled": self.throttled, "denied": self.denied, "total": self.total}


@dataclass
class FakeState:
    """Settings, customer accounts, injected faults and counters of one fake."""

    platform_account_id: str
    latency_ms: float = 0
    rate: float | None = None
    burst: float | None = None
    contact_information: dict[str, dict] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    throttled: int = 0
    denied: int = 0
    buckets: dict[str, TokenBucket] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Set on reset and stop, so hanging calls return at once.
    release_hangs: threading.Event = field(default_factory=threading.Event)

    def configure(
        self,
        *,
        latency_ms: float | None = None,
        rate: float | None = None,
        burst: float | None = None,
        clear_rate: bool = False,
    ) -> None:
        with self.lock:
            if latency_ms is not None:
                if latency_ms < 0:
                    raise ValueError(f"invalid latency_ms {latency_ms}: must be 0 or more")
                self.latency_ms = latency_ms
            if clear_rate:
                self.rate = None
                self.burst = None
            if rate is not None:
                if rate <= 0:
                    raise ValueError(f"invalid rate {rate}: must be more than 0 requests per second")
                self.rate = rate
            if burst is not None:
                self.burst = burst
            self.buckets.clear()

    def count_call(self, action: str) -> None:
        with self.lock:
            self.counts[action] += 1

    def take_token(self, account_id: str) -> bool:
        """Return False when the account has used up its request rate, counting the call as throttled."""
        with self.lock:
            if self.rate is None:
                return True
            bucket = self.buckets.get(account_id)
            if bucket is None:
                # One second of requests is the default burst, and never less than one request.
                burst = self.burst if self.burst is not None else max(1.0, self.rate)
                bucket = self.buckets[account_id] = TokenBucket(self.rate, burst)
            if bucket.take():
                return True
            self.throttled += 1
            return False

    def count_denied(self) -> None:
        with self.lock:
            self.denied += 1

    def add_fault(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def pop_fault(self, action: str, account_id: str) -> Fault | None:
        """Count this call against every matching fault and return the first one that is due."""
        due = None
        with self.lock:
            for fault in list(self.faults):
                if fault.action != action or (fault.account_id and fault.account_id != account_id):
                    continue
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
                    due = due or fault
        return due

    def snapshot_calls(self) -> CallCounts:
        with self.lock:
            return CallCounts(dict(self.counts), throttled=self.throttled, denied=self.denied)

    def reset_counters(self) -> None:
        with self.lock:
            self.counts.clear()
            self.throttled = 0
            self.denied = 0
            self.buckets.clear()

    def reset(self) -> None:
        """Clear accounts, faults and counters, and release hanging calls; latency and rate stay."""
        self.release_hangs.set()
        with self.lock:
            self.contact_information.clear()
            self.faults.clear()
        self.reset_counters()
        self.release_hangs = threading.Event()
