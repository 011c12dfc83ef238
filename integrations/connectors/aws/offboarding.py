"""The AWS side of offboarding and provisioning: a fresh read of one IAM user or role, and each IAM call.

Functions return plain data (dicts, lists, strings) and raise `AwsError` for a failed call, so the
callers never see boto3.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
from botocore import xform_name
from botocore.exceptions import BotoCoreError, ClientError

from integrations.connectors.aws.client import AwsError, assume_role_session, client_config

logger = logging.getLogger(__name__)

# IAM actions that an offboarding step may call.
STEP_ACTIONS = frozenset(
    {
        "DeleteLoginProfile",
        "DeleteAccessKey",
        "DetachUserPolicy",
        "RemoveUserFromGroup",
        "DeleteUserPolicy",
        "DeactivateMFADevice",
        "DeleteVirtualMFADevice",
        "DeleteSigningCertificate",
        "DeleteSSHPublicKey",
        "DeleteServiceSpecificCredential",
        "DeleteUser",
        "DetachRolePolicy",
        "DeleteRolePolicy",
        "RemoveRoleFromInstanceProfile",
        "DeleteRole",
    }
)


@dataclass
class CallResult:
    """The response of one IAM call without its metadata, and the call's request id."""

    result: dict[str, Any]
    request_id: str


def open_iam_client(*, role_arn: str, external_id: str, session_name: str = "rollcall-offboarding"):
    """Assume the integration's role and return an IAM client. Raises AwsError when AssumeRole fails."""
    session: boto3.Session = assume_role_session(role_arn=role_arn, external_id=external_id, session_name=session_name)
    return session.client("iam", config=client_config())


def _plain(value: Any) -> Any:
    """Convert a boto3 response into JSON-compatible data (datetimes become ISO 8601 strings)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items() if key != "ResponseMetadata"}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _call(iam, action: str, **parameters) -> CallResult:
    try:
        response = getattr(iam, xform_name(action))(**parameters)
    except (ClientError, BotoCoreError) as error:
        raise AwsError.from_exception(error, action=f"iam:{action}") from error
    request_id = response.get("ResponseMetadata", {}).get("RequestId", "")
    return CallResult(result=_plain(response), request_id=request_id)


def _paged(iam, action: str, result_key: str, **parameters) -> list:
    method = xform_name(action)
    if not iam.can_paginate(method):
        return _call(iam, action, **parameters).result.get(result_key, [])
    try:
        items: list = []
        for page in iam.get_paginator(method).paginate(**parameters):
            items.extend(page.get(result_key, []))
        return _plain(items)
    except (ClientError, BotoCoreError) as error:
        raise AwsError.from_exception(error, action=f"iam:{action}") from error


def call_step(iam, *, action: str, parameters: dict[str, Any]) -> CallResult:
    """Make one offboarding call. Raises AwsError on failure, including NoSuchEntity."""
    if action not in STEP_ACTIONS:
        raise ValueError(f"unknown offboarding action {action!r}")
    return _call(iam, action, **parameters)


class _Reader:
    """A reader of the lists of one fresh read, with the lists that could not be read."""

    def __init__(self, iam):
        self.iam = iam
        self.unreadable: dict[str, dict[str, str]] = {}

    def list(self, field: str, action: str, result_key: str, **parameters) -> list | None:
        try:
            return _paged(self.iam, action, result_key, **parameters)
        except AwsError as error:
            if error.code == "NoSuchEntity":
                raise
            logger.warning("Could not read %s for the offboarding plan: %s", field, error.code)
            self.unreadable[field] = {"action": f"iam:{action}", "code": error.code, "message": error.message}
            return None


# The lists a fresh read makes for each kind of account: the snapshot field, the IAM list action
# and the response key that contains the items.
USER_LISTS: tuple[tuple[str, str, str], ...] = (
    ("access_keys", "ListAccessKeys", "AccessKeyMetadata"),
    ("attached_policies", "ListAttachedUserPolicies", "AttachedPolicies"),
    ("inline_policies", "ListUserPolicies", "PolicyNames"),
    ("groups", "ListGroupsForUser", "Groups"),
    ("mfa_devices", "ListMFADevices", "MFADevices"),
    ("tags", "ListUserTags", "Tags"),
    ("signing_certificates", "ListSigningCertificates", "Certificates"),
    ("ssh_public_keys", "ListSSHPublicKeys", "SSHPublicKeys"),
    ("service_specific_credentials", "ListServiceSpecificCredentials", "ServiceSpecificCredentials"),
)
ROLE_LISTS: tuple[tuple[str, str, str], ...] = (
    ("attached_policies", "ListAttachedRolePolicies", "AttachedPolicies"),
    ("inline_policies", "ListRolePolicies", "PolicyNames"),
    ("instance_profiles", "ListInstanceProfilesForRole", "InstanceProfiles"),
)


def read_user(iam, *, user_name: str, can_get_login_profile: bool) -> dict[str, Any]:
    """Read everything DeleteUser depends on for one IAM user, fresh from AWS.

    Returns {"exists": False} when the user is gone. A list that could not be read is None and is
    named in "unreadable" with the action that failed.
    """
    reader = _Reader(iam)
    snapshot: dict[str, Any] = {"exists": True}
    try:
        for field_name, action, result_key in USER_LISTS:
            snapshot[field_name] = reader.list(field_name, action, result_key, UserName=user_name)
        snapshot["login_profile"] = _read_login_profile(iam, reader, user_name) if can_get_login_profile else None
    except AwsError as error:
        if error.code == "NoSuchEntity":
            return {"exists": False}
        raise
    snapshot["unreadable"] = reader.unreadable
    return snapshot


def _read_login_profile(iam, reader: _Reader, user_name: str) -> bool | None:
    try:
        _call(iam, "GetLoginProfile", UserName=user_name)
    except AwsError as error:
        if error.code == "NoSuchEntity":
            return False
        reader.unreadable["login_profile"] = {
            "action": "iam:GetLoginProfile",
            "code": error.code,
            "message": error.message,
        }
        return None
    return True


def read_role(iam, *, role_name: str) -> dict[str, Any]:
    """Read everything DeleteRole depends on for one IAM role, fresh from AWS.

    Returns {"exists": False} when the role is gone. A list that could not be read is None.
    """
    reader = _Reader(iam)
    snapshot: dict[str, Any] = {"exists": True}
    try:
        for field_name, action, result_key in ROLE_LISTS:
            snapshot[field_name] = reader.list(field_name, action, result_key, RoleName=role_name)
    except AwsError as error:
        if error.code == "NoSuchEntity":
            return {"exists": False}
        raise
    snapshot["unreadable"] = reader.unreadable
    return snapshot


def create_user(iam, *, user_name: str) -> CallResult:
    """Call CreateUser. Raises AwsError, with code EntityAlreadyExists when the name is taken."""
    return _call(iam, "CreateUser", UserName=user_name)


def tag_user(iam, *, user_name: str, tags: dict[str, str]) -> CallResult:
    """Call TagUser with the given tag keys and values."""
    return _call(iam, "TagUser", UserName=user_name, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
