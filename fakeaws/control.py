"""HTTP control API under /_fakeaws/ on the fake's own port, and a client for it.

A benchmark or a test in another process drives ``python -m fakeaws`` through ``RemoteFakeAWS``,
which offers the same control methods as ``FakeAWS``.
"""

import json
import logging
import urllib.error
import urllib.request
from datetime import datetime

from .state import Fault

logger = logging.getLogger("fakeaws")

PREFIX = "/_fakeaws"


class ControlError(Exception):
    """A control request that the fake rejected."""


def _parse_when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class ControlApp:
    """WSGI application for the control API of one ``FakeAWS``."""

    def __init__(self, fake):
        self.fake = fake

    def __call__(self, environ, start_response):
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")[len(PREFIX) :].rstrip("/")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            payload = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
            status, document = self.route(method, path, payload)
        except (ValueError, KeyError, TypeError) as error:
            logger.warning("Rejected control request %s %s: %s", method, path, error)
            status, document = 400, {"error": str(error)}
        body = json.dumps(document, default=str).encode()
        reason = {200: "OK", 201: "Created", 400: "Bad Request", 404: "Not Found"}[status]
        start_response(f"{status} {reason}", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    def route(self, method: str, path: str, payload: dict) -> tuple[int, dict]:
        routes = {
            ("GET", "/info"): self.info,
            ("GET", "/calls"): self.calls,
            ("POST", "/reset"): self.reset,
            ("GET", "/faults"): self.list_faults,
            ("POST", "/faults"): self.add_fault,
            ("DELETE", "/faults"): self.clear_faults,
            ("POST", "/config"): self.configure,
            ("POST", "/seed"): self.seed,
            ("POST", "/last-used"): self.set_last_used,
            ("POST", "/password-last-used"): self.set_password_last_used,
        }
        handler = routes.get((method, path))
        if handler is None:
            return 404, {"error": f"control endpoint not found: {method} {PREFIX}{path}; see fakeaws/README.md"}
        return handler(payload)

    def info(self, payload: dict) -> tuple[int, dict]:
        return 200, self.fake.info()

    def calls(self, payload: dict) -> tuple[int, dict]:
        return 200, self.fake.calls.to_dict()

    def reset(self, payload: dict) -> tuple[int, dict]:
        self.fake.reset()
        return 200, {}

    def list_faults(self, payload: dict) -> tuple[int, dict]:
        return 200, {"faults": [fault.to_dict() for fault in self.fake.faults]}

    def add_fault(self, payload: dict) -> tuple[int, dict]:
        fault = self.fake.inject_fault(**payload)
        return 201, fault.to_dict()

    def clear_faults(self, payload: dict) -> tuple[int, dict]:
        self.fake.clear_faults()
        return 200, {}

    def configure(self, payload: dict) -> tuple[int, dict]:
        self.fake.configure(**payload)
        return 200, self.fake.info()

    def seed(self, payload: dict) -> tuple[int, dict]:
        options = {}
        if "account_id" in payload:
            options["account_id"] = payload["account_id"]
        return 200, self.fake.seed(payload["seed"], **options)

    def set_last_used(self, payload: dict) -> tuple[int, dict]:
        self.fake.set_last_used(
            payload["account_id"],
            payload["access_key_id"],
            when=_parse_when(payload["when"]),
            service=payload.get("service", "iam"),
            region=payload.get("region", "us-east-1"),
        )
        return 200, {}

    def set_password_last_used(self, payload: dict) -> tuple[int, dict]:
        self.fake.set_password_last_used(payload["account_id"], payload["user_name"], _parse_when(payload["when"]))
        return 200, {}


class RemoteFakeAWS:
    """Client for the control API of a fake running in another process, such as ``python -m fakeaws``."""

    def __init__(self, endpoint_url: str, *, timeout: float = 30.0):
        self.endpoint_url = endpoint_url.rstrip("/")
        self.timeout = timeout
        # The fake is on loopback, so proxies from the environment must not apply.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def _request(self, method: str, path: str, payload: dict | None = None) -> dict:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(
            f"{self.endpoint_url}{PREFIX}{path}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            raise ControlError(
                f"{method} {PREFIX}{path} failed with HTTP {error.code}: {error.read().decode()}"
            ) from error

    def info(self) -> dict:
        return self._request("GET", "/info")

    @property
    def calls(self) -> dict:
        """Call counts as {"calls": {action: count}, "throttled": n, "denied": n, "total": n}."""
        return self._request("GET", "/calls")

    def reset(self) -> None:
        self._request("POST", "/reset", {})

    def inject_fault(
        self,
        action: str,
        nth: int = 1,
        code: str = "ServiceFailure",
        status: int = 500,
        message: str | None = None,
        **options,
    ) -> dict:
        Fault(action=action, nth=nth, code=code, status=status, message=message, **options)  # validate locally
        payload = {"action": action, "nth": nth, "code": code, "status": status, "message": message, **options}
        return self._request("POST", "/faults", payload)

    def clear_faults(self) -> None:
        self._request("DELETE", "/faults")

    def configure(self, **settings) -> dict:
        return self._request("POST", "/config", settings)

    def seed(self, name: str, **options) -> dict:
        return self._request("POST", "/seed", {"seed": name, **options})

    def set_last_used(
        self, account_id: str, access_key_id: str, *, when: datetime, service: str = "iam", region: str = "us-east-1"
    ) -> None:
        payload = {
            "account_id": account_id,
            "access_key_id": access_key_id,
            "when": when.isoformat(),
            "service": service,
            "region": region,
        }
        self._request("POST", "/last-used", payload)

    def set_password_last_used(self, account_id: str, user_name: str, when: datetime) -> None:
        self._request(
            "POST", "/password-last-used", {"account_id": account_id, "user_name": user_name, "when": when.isoformat()}
        )
