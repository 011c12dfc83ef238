"""A fake AWS for Rollcall's tests, demo and benchmarks: moto behind a layer that behaves like AWS.

Product code never imports this package.
"""

from .control import RemoteFakeAWS
from .fake import FakeAWS
from .state import CallCounts, Fault

__all__ = ["CallCounts", "FakeAWS", "Fault", "RemoteFakeAWS"]
