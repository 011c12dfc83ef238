"""Reads and writes of moto's in-process IAM and STS backends, used by the layer and by FakeAWS.

moto 5.2 keeps one IAM backend per account under the "aws" partition key, and registers every
access key (IAM user keys and STS session keys) in ``IAMBackend.access_keys`` of its account.
"""

from dataclasses import dataclass
from datetime import datetime

from moto.core.base_backend import BackendDict
from moto.core.model_instances import reset_model_data
from moto.iam.models import AccessKey, AccessKeyLastUsed, IAMBackend, Role, User, iam_backends
from moto.sts.models import AssumedRole, sts_backends

PARTITION = "aws"


def iam_backend(account_id: str) -> IAMBackend:
    return iam_backends[account_id][PARTITION]


def reset_all_backends() -> None:
    """Drop every moto resource in every account, as moto's own /moto-api/reset does."""
    BackendDict.reset()
    reset_model_data()


@dataclass(frozen=True)
class Caller:
    """The principal that signed a request."""

    account_id: str
    arn: str
    kind: str  # "user", "assumed-role" or "admin"
    role_name: str | None = None
    session: AssumedRole | None = None
    secret_access_key: str | None = None


def find_access_key(access_key_id: str) -> tuple[str, AccessKey] | None:
    """Return the account and moto key of an access key id, or None when no account has it."""
    for account_id, account in list(iam_backends.items()):
        if PARTITION not in account.keys():
            continue
        key = account[PARTITION].access_keys.get(access_key_id)
        if key is not None:
            return account_id, key
    return None


def find_session(account_id: str, access_key_id: str) -> AssumedRole | None:
    return sts_backends[account_id][PARTITION].get_assumed_role_from_access_key(access_key_id)


def all_sessions() -> list[AssumedRole]:
    sessions = []
    for account in list(sts_backends.values()):
        if PARTITION in account.keys():
            sessions.extend(account[PARTITION].assumed_roles)
    return sessions


def resolve_caller(access_key_id: str) -> Caller | None:
    """Resolve an IAM user key or an STS session key to its principal."""
    found = find_access_key(access_key_id)
    if found is None:
        return None
    account_id, key = found
    if key.role_arn:
        role_name = key.role_arn.rsplit("/", 1)[-1]
        session = find_session(account_id, access_key_id)
        session_name = session.session_name if session else "session"
        arn = f"arn:aws:sts::{account_id}:assumed-role/{role_name}/{session_name}"
        return Caller(
            account_id=account_id,
            arn=arn,
            kind="assumed-role",
            role_name=role_name,
            session=session,
            secret_access_key=key.secret_access_key,
        )
    user = iam_backend(account_id).users.get(key.user_name or "")
    arn = user.arn if user else f"arn:aws:iam::{account_id}:user/{key.user_name}"
    return Caller(account_id=account_id, arn=arn, kind="user", secret_access_key=key.secret_access_key)


def find_role(account_id: str, role_name: str) -> Role | None:
    if account_id not in iam_backends:
        return None
    for role in iam_backend(account_id).roles.values():
        if role.name == role_name:
            return role
    return None


def find_user(account_id: str, user_name: str) -> User | None:
    return iam_backend(account_id).users.get(user_name)


def role_policy_documents(role: Role) -> list[str]:
    """Return the documents of the role's inline policies and the default versions of its attached ones."""
    documents = list(role.policies.values())
    for policy in role.managed_policies.values():
        for version in policy.versions:
            if version.version_id == policy.default_version_id:
                documents.append(version.document)
    return documents


def add_access_key(account_id: str, user_name: str, access_key_id: str, secret_access_key: str) -> AccessKey:
    """Give a user an access key with a chosen id and secret, so the credentials stay stable across resets."""
    backend = iam_backend(account_id)
    key = backend.create_access_key(user_name)
    del backend.access_keys[key.access_key_id]
    key.access_key_id = access_key_id
    key.secret_access_key = secret_access_key
    backend.access_keys[access_key_id] = key
    return key


def set_access_key_last_used(account_id: str, access_key_id: str, *, when: datetime, service: str, region: str) -> None:
    key = iam_backend(account_id).access_keys.get(access_key_id)
    if key is None:
        raise KeyError(f"access key {access_key_id} not found in account {account_id}")
    key.last_used = AccessKeyLastUsed(timestamp=when, service=service, region=region)


# moto 5.2.5 gives users and groups lowercase random ids, where AWS ids start with AIDA and AGPA.
ID_PREFIXES = {"user": "AIDA", "group": "AGPA"}


def make_aws_style_id(entity, kind: str) -> tuple[str, str] | None:
    """Replace a moto user or group id with an AWS-shaped one; return (old, new) when it changed."""
    prefix = ID_PREFIXES[kind]
    old_id = entity.id
    if old_id.startswith(prefix):
        return None
    entity.id = prefix + old_id[:17].upper()
    return old_id, entity.id
