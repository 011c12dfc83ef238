"""boto3 sessions for the platform's own principal and for customers' roles.

Everything else in Rollcall reaches AWS through this package. The platform's credentials come only
from boto3's credential chain; AWS_ENDPOINT_URL, boto3's own variable, points every client at
another endpoint (the fake AWS in development and tests).
"""

import logging
import threading
from dataclasses import dataclass, field

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException", "Rate exceeded"}
)
ASSUMED_ROLE_DURATION_SECONDS = 3600


@dataclass
class AwsError(Exception):
    """A failed AWS call, reduced to what Rollcall shows and stores; it contains no credentials."""

    code: str
    message: str
    action: str = ""
    http_status: int | None = None
    request_id: str = ""

    def __str__(self) -> str:
        prefix = f"{self.action}: " if self.action else ""
        return f"{prefix}{self.code}: {self.message}"

    @property
    def is_access_denied(self) -> bool:
        return self.code in {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}

    @property
    def is_throttling(self) -> bool:
        return self.code in THROTTLING_CODES

    @classmethod
    def from_exception(cls, error: Exception, *, action: str = "") -> "AwsError":
        """Convert a botocore exception into an AwsError with a stable code."""
        if isinstance(error, ClientError):
            details = error.response.get("Error", {})
            metadata = error.response.get("ResponseMetadata", {})
            return cls(
                code=details.get("Code") or "Unknown",
                message=details.get("Message") or str(error),
                action=action,
                http_status=metadata.get("HTTPStatusCode"),
                request_id=metadata.get("RequestId", ""),
            )
        if isinstance(error, NoCredentialsError):
            return cls(code="NoPlatformCredentials", message=str(error), action=action)
        if isinstance(error, ReadTimeoutError):
            return cls(code="Timeout", message=str(error), action=action)
        if isinstance(error, BotoConnectionError):
            return cls(code="EndpointUnreachable", message=str(error), action=action)
        if isinstance(error, BotoCoreError):
            return cls(code=type(error).__name__, message=str(error), action=action)
        return cls(code=type(error).__name__, message=str(error), action=action)


@dataclass
class CallCounter:
    """Counts HTTP attempts and throttled retries made by the clients it is attached to."""

    calls: int = 0
    throttled: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def attach(self, session: boto3.Session) -> None:
        events = session.events
        events.register("before-send", self._count_call, unique_id="rollcall-count-call")
        events.register_first("needs-retry", self._count_throttle, unique_id="rollcall-count-throttle")

    def _count_call(self, **kwargs) -> None:
        with self._lock:
            self.calls += 1

    def _count_throttle(self, response=None, **kwargs) -> None:
        if not response:
            return None
        parsed = response[1] or {}
        if parsed.get("Error", {}).get("Code") in THROTTLING_CODES:
            with self._lock:
                self.throttled += 1
        return None


def client_config(*, max_pool_connections: int | None = None) -> Config:
    """Build the botocore configuration: bounded timeouts and retries with backoff for throttling."""
    return Config(
        region_name=settings.AWS_REGION,
        connect_timeout=settings.AWS_CONNECT_TIMEOUT_SECONDS,
        read_timeout=settings.AWS_READ_TIMEOUT_SECONDS,
        retries={"mode": settings.AWS_RETRY_MODE, "max_attempts": settings.AWS_MAX_ATTEMPTS},
        max_pool_connections=max_pool_connections or max(10, settings.AWS_MAX_CONCURRENCY),
    )


def platform_session() -> boto3.Session:
    """Return a session of the platform's own principal, from boto3's credential chain."""
    return boto3.Session(region_name=settings.AWS_REGION)


PLATFORM_ACCOUNT_ID_CACHE_KEY = "rollcall:platform-aws-account-id"
PLATFORM_ACCOUNT_ID_CACHE_SECONDS = 3600


def platform_account_id() -> str:
    """Return the platform's AWS account id, from PLATFORM_AWS_ACCOUNT_ID or sts:GetCallerIdentity.

    The GetCallerIdentity result is kept in Django's cache for an hour.
    """
    if settings.PLATFORM_AWS_ACCOUNT_ID:
        return settings.PLATFORM_AWS_ACCOUNT_ID
    cached = cache.get(PLATFORM_ACCOUNT_ID_CACHE_KEY)
    if cached:
        return cached
    try:
        identity = platform_session().client("sts", config=client_config()).get_caller_identity()
    except (ClientError, BotoCoreError) as error:
        raise AwsError.from_exception(error, action="sts:GetCallerIdentity") from error
    account_id = identity["Account"]
    cache.set(PLATFORM_ACCOUNT_ID_CACHE_KEY, account_id, PLATFORM_ACCOUNT_ID_CACHE_SECONDS)
    return account_id


def assume_role_session(
    *,
    role_arn: str,
    external_id: str,
    session_name: str = "rollcall",
    counter: CallCounter | None = None,
) -> boto3.Session:
    """Assume the customer's role and return a session whose credentials renew before they expire.

    botocore renews RefreshableCredentials 15 minutes before expiry, and keeps the old ones for
    another 5 minutes when a renewal fails.

    Raises AwsError when the first AssumeRole fails.
    """
    platform = platform_session()
    if counter is not None:
        # AssumeRole calls, renewals included, count as calls of the run too.
        counter.attach(platform)
    sts = platform.client("sts", config=client_config())

    def fetch_credentials() -> dict:
        try:
            response = sts.assume_role(
                RoleArn=role_arn,
                RoleSessionName=session_name,
                ExternalId=external_id,
                DurationSeconds=ASSUMED_ROLE_DURATION_SECONDS,
            )
        except (ClientError, BotoCoreError) as error:
            raise AwsError.from_exception(error, action="sts:AssumeRole") from error
        credentials = response["Credentials"]
        logger.info("Assumed role %s (session %s)", role_arn, session_name)
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": credentials["Expiration"].isoformat(),
        }

    refreshable = RefreshableCredentials.create_from_metadata(
        metadata=fetch_credentials(),
        refresh_using=fetch_credentials,
        method="sts-assume-role",
    )
    botocore_session = botocore.session.get_session()
    # NOTE: botocore has no public setter for a session's credentials, so this sets a private
    # attribute; check it when upgrading botocore (tested with 1.44).
    botocore_session._credentials = refreshable
    session = boto3.Session(botocore_session=botocore_session, region_name=settings.AWS_REGION)
    if counter is not None:
        counter.attach(session)
    return session
