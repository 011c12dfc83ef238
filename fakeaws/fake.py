"""FakeAWS: moto's server behind the AWS-faithful layer, on a loopback port, with controls for tests."""

import json
import logging
import os
import re
import threading
from datetime import datetime, timedelta

import boto3
from botocore.config import Config
from moto.core.utils import utcnow
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from integrations.connectors.aws import policies

from . import moto_state
from .control import ControlApp
from .layer import ADMIN_SECRET, AWSLayer, admin_access_key
from .state import CallCounts, FakeState, Fault

logger = logging.getLogger("fakeaws")

DEFAULT_PLATFORM_ACCOUNT_ID = "111111111111"
PLATFORM_USER_NAME = "rollcall-platform"
PLATFORM_ACCESS_KEY_ID = "AKIAROLLCALLPLATFORM"
PLATFORM_SECRET_ACCESS_KEY = "fakeaws-platform-secret-not-a-real-key00"
ACCOUNT_ID_RE = re.compile(r"\d{12}")


class QuietRequestHandler(MotoRequestHandler):
    """moto's request handler with werkzeug's per-request access log moved to DEBUG."""

    def log_request(self, code="-", size="-") -> None:
        logger.debug("%s %s -> %s", self.command, self.path, code)


def _validate_account_id(account_id: str) -> None:
    if not isinstance(account_id, str) or not ACCOUNT_ID_RE.fullmatch(account_id):
        raise ValueError(f"invalid AWS account id {account_id!r}: expected 12 digits as a string")


class FakeAWS:
    """A fake AWS endpoint for IAM, STS and Account on 127.0.0.1, with controls for tests.

    ``rate`` is the request rate per AWS account in requests per second (None means unlimited) and
    ``burst`` the bucket size (one second of requests by default). ``latency_ms`` is added to every
    non-admin call. ``verify_signatures=False`` accepts any secret key for a known access key.
    """

    def __init__(
        self,
        latency_ms: float = 0,
        rate: float | None = None,
        *,
        burst: float | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        platform_account_id: str = DEFAULT_PLATFORM_ACCOUNT_ID,
        verify_signatures: bool = True,
    ):
        _validate_account_id(platform_account_id)
        self.host = host
        self.verify_signatures = verify_signatures
        self.port = port
        self.state = FakeState(platform_account_id=platform_account_id)
        self.state.configure(latency_ms=latency_ms, rate=rate, burst=burst)
        self.accounts: set[str] = set()
        self._server = None
        self._thread: threading.Thread | None = None
        self.layer: AWSLayer | None = None

    # Lifecycle.
    def start(self) -> "FakeAWS":
        """Start moto and the layer in a daemon thread and create the platform principal."""
        if "MOTO_ACCOUNT_ID" in os.environ:
            raise RuntimeError("MOTO_ACCOUNT_ID is set, which makes moto ignore access keys: unset it to use fakeaws")
        moto_app = DomainDispatcherApplication(create_backend_app)
        self.layer = AWSLayer(moto_app, self.state, ControlApp(self), verify_signatures=self.verify_signatures)
        self._server = make_server(self.host, self.port, self.layer, threaded=True, request_handler=QuietRequestHandler)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="fakeaws", daemon=True)
        self._thread.start()
        self._create_platform_principal()
        logger.info("Started fakeaws at %s", self.endpoint_url)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self.state.release_hangs.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = None
        logger.info("Stopped fakeaws at %s", self.endpoint_url)

    def __enter__(self) -> "FakeAWS":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def reset(self) -> None:
        """Remove every account, fault and count, and recreate the platform principal. Latency and rate stay."""
        self.state.reset()
        moto_state.reset_all_backends()
        if self.layer is not None:
            self.layer.report_generated_at.clear()
        self.accounts.clear()
        self._create_platform_principal()

    # Identity.
    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def platform_account_id(self) -> str:
        return self.state.platform_account_id

    @property
    def platform_user_arn(self) -> str:
        return f"arn:aws:iam::{self.platform_account_id}:user/{PLATFORM_USER_NAME}"

    @property
    def platform_credentials(self) -> dict[str, str]:
        return {"aws_access_key_id": PLATFORM_ACCESS_KEY_ID, "aws_secret_access_key": PLATFORM_SECRET_ACCESS_KEY}

    def _create_platform_principal(self) -> None:
        backend = moto_state.iam_backend(self.platform_account_id)
        user = backend.create_user(region_name="us-east-1", user_name=PLATFORM_USER_NAME)
        moto_state.make_aws_style_id(user, "user")
        moto_state.add_access_key(
            self.platform_account_id, PLATFORM_USER_NAME, PLATFORM_ACCESS_KEY_ID, PLATFORM_SECRET_ACCESS_KEY
        )

    def info(self) -> dict:
        return {
            "endpoint_url": self.endpoint_url,
            "platform_account_id": self.platform_account_id,
            "platform_credentials": self.platform_credentials,
            "accounts": sorted(self.accounts),
            "latency_ms": self.state.latency_ms,
            "rate": self.state.rate,
            "burst": self.state.burst,
        }

    # Accounts and roles.
    def create_account(self, account_id: str, *, contact_information: dict | None = None) -> str:
        """Create a customer account. ``contact_information`` is what GetContactInformation returns for it."""
        _validate_account_id(account_id)
        if account_id == self.platform_account_id:
            raise ValueError(f"account {account_id} is the platform account: choose another id for a customer")
        moto_state.iam_backend(account_id)
        if contact_information is not None:
            self.state.contact_information[account_id] = dict(contact_information)
        self.accounts.add(account_id)
        return account_id

    def create_customer_role(
        self,
        *,
        account_id: str,
        role_name: str = "RollcallAccess",
        external_id: str,
        actions=policies.BASELINE_ACTIONS,
        trusted_account_id: str | None = None,
        require_external_id: bool = True,
        trust_policy: dict | None = None,
        permission_policy: dict | None = None,
        policy_name: str = "RollcallAccess",
        attach_as: str = "inline",
        path: str = "/",
    ) -> str:
        """Create the role a customer creates for Rollcall and return its ARN.

        By default the trust policy is the product's own with the platform account and the external
        id, and the permission policy allows ``actions``. ``trust_policy`` and ``permission_policy``
        replace the documents. ``attach_as`` is "inline" (a role policy) or "managed" (a customer
        managed policy attached to the role).
        """
        if account_id not in self.accounts:
            self.create_account(account_id)
        if trust_policy is None:
            trust_policy = policies.trust_policy(
                platform_account_id=trusted_account_id or self.platform_account_id, external_id=external_id
            )
            if not require_external_id:
                for statement in trust_policy["Statement"]:
                    statement.pop("Condition", None)
        if permission_policy is None:
            permission_policy = {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": sorted(actions), "Resource": "*"}],
            }
        backend = moto_state.iam_backend(account_id)
        role = backend.create_role(
            role_name=role_name,
            assume_role_policy_document=json.dumps(trust_policy),
            path=path,
            permissions_boundary=None,
            description="Lets Rollcall read and offboard IAM users",
            tags=[],
            max_session_duration="3600",
        )
        if attach_as == "inline":
            backend.put_role_policy(role_name, policy_name, json.dumps(permission_policy))
        elif attach_as == "managed":
            policy = backend.create_policy(
                description="",
                path="/",
                policy_document=json.dumps(permission_policy),
                policy_name=policy_name,
                tags=[],
            )
            backend.attach_role_policy(policy.arn, role_name)
        else:
            raise ValueError(f"invalid attach_as {attach_as!r}: use 'inline' or 'managed'")
        return role.arn

    # Clients.
    def client(self, service: str, account_id: str, *, region: str = "us-east-1"):
        """Return a boto3 client with full rights inside ``account_id``, never counted, slowed or throttled."""
        _validate_account_id(account_id)
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=region,
            aws_access_key_id=admin_access_key(account_id),
            aws_secret_access_key=ADMIN_SECRET,
            config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
        )

    def iam(self, account_id: str):
        return self.client("iam", account_id)

    def platform_client(self, service: str, *, region: str = "us-east-1", config: Config | None = None):
        """Return a boto3 client signed with the platform principal's credentials, like the product's own."""
        return boto3.client(
            service, endpoint_url=self.endpoint_url, region_name=region, config=config, **self.platform_credentials
        )

    def assume_role(self, role_arn: str, *, external_id: str | None, session_name: str = "rollcall") -> boto3.Session:
        """Assume a customer role as the platform and return a boto3 session with the role's credentials."""
        sts = self.platform_client("sts")
        params = {"RoleArn": role_arn, "RoleSessionName": session_name}
        if external_id is not None:
            params["ExternalId"] = external_id
        credentials = sts.assume_role(**params)["Credentials"]
        return boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name="us-east-1",
        )

    def expire_sessions(self) -> int:
        """Expire every STS session issued so far, as if its duration had passed, and return how many."""
        sessions = moto_state.all_sessions()
        for session in sessions:
            session.expiration = utcnow() - timedelta(seconds=1)
        return len(sessions)

    # Usage data that moto never records by itself.
    def set_last_used(
        self, account_id: str, access_key_id: str, *, when: datetime, service: str = "iam", region: str = "us-east-1"
    ) -> None:
        """Set what GetAccessKeyLastUsed and the credential report return for a key."""
        moto_state.set_access_key_last_used(account_id, access_key_id, when=when, service=service, region=region)

    def set_password_last_used(self, account_id: str, user_name: str, when: datetime | None) -> None:
        user = moto_state.find_user(account_id, user_name)
        if user is None:
            raise KeyError(f"user {user_name} not found in account {account_id}")
        user.password_last_used = when

    # Controls.
    def configure(
        self,
        *,
        latency_ms: float | None = None,
        rate: float | None = None,
        burst: float | None = None,
        unlimited_rate: bool = False,
    ) -> None:
        """Change latency (ms per call), rate (requests per second per account) or burst while running."""
        self.state.configure(latency_ms=latency_ms, rate=rate, burst=burst, clear_rate=unlimited_rate)

    @property
    def latency_ms(self) -> float:
        return self.state.latency_ms

    @latency_ms.setter
    def latency_ms(self, value: float) -> None:
        self.state.configure(latency_ms=value)

    @property
    def rate(self) -> float | None:
        return self.state.rate

    @rate.setter
    def rate(self, value: float | None) -> None:
        self.state.configure(rate=value, clear_rate=value is None)

    def inject_fault(
        self,
        action: str,
        nth: int = 1,
        code: str = "ServiceFailure",
        status: int = 500,
        message: str | None = None,
        *,
        kind: str = "error",
        hang_seconds: float = 60.0,
        account_id: str | None = None,
    ) -> Fault:
        """Make the ``nth`` call of ``action`` from now fail once (see ``Fault`` for the kinds)."""
        fault = Fault(
            action=action,
            nth=nth,
            code=code,
            status=status,
            message=message,
            kind=kind,
            hang_seconds=hang_seconds,
            account_id=account_id,
        )
        self.state.add_fault(fault)
        return fault

    def clear_faults(self) -> None:
        with self.state.lock:
            self.state.faults.clear()

    @property
    def faults(self) -> list[Fault]:
        with self.state.lock:
            return list(self.state.faults)

    @property
    def calls(self) -> CallCounts:
        return self.state.snapshot_calls()

    def reset_calls(self) -> None:
        self.state.reset_counters()

    # Seeds.
    def seed(self, name: str, **options) -> dict:
        """Load the seed "demo" or "large:N" (N users) and return its accounts, roles and external ids."""
        from . import seeds

        return seeds.load(self, name, **options)

    def seed_large(self, n_users: int, *, account_id: str | None = None) -> dict:
        """Create one account with ``n_users`` users for benchmarks (account 444444444444 by default)."""
        from . import seeds

        return seeds.seed_large(self, n_users, account_id=account_id or seeds.LARGE_ACCOUNT_ID)
