"""Fixtures for offboarding and provisioning tests: a customer account in the fake AWS and its rows."""

import itertools
import json

import pytest

from accounts.models import Person, SaaSAccount
from integrations.connectors.aws import policies
from integrations.models import Integration

CUSTOMER_ACCOUNT_ID = "222222222222"
_external_ids = itertools.count(1)


@pytest.fixture
def make_integration(fake_aws, db):
    """Create a customer role in the fake AWS and the Integration row that reaches it."""

    def make(*, extended: bool = False, name: str = "Production") -> Integration:
        external_id = f"rollcall-test-external-id-{next(_external_ids):08d}-abcdefgh"
        actions = policies.BASELINE_ACTIONS + policies.OFFBOARDING_ACTIONS if extended else policies.BASELINE_ACTIONS
        role_arn = fake_aws.create_customer_role(
            account_id=CUSTOMER_ACCOUNT_ID,
            role_name=f"RollcallAccess{name}",
            external_id=external_id,
            actions=actions,
        )
        return Integration.objects.create(
            name=name,
            role_arn=role_arn,
            external_id=external_id,
            aws_account_id=CUSTOMER_ACCOUNT_ID,
            status=Integration.Status.CONNECTED,
            can_offboard_fully=extended,
        )

    return make


@pytest.fixture
def iam(fake_aws):
    """An IAM client with full rights in the customer account, to arrange and inspect data."""
    return fake_aws.iam(CUSTOMER_ACCOUNT_ID)


@pytest.fixture
def make_user(iam):
    """Create an IAM user in the fake AWS with the given dependents, and its SaaSAccount row."""

    def make(
        integration: Integration,
        name: str = "alice",
        *,
        password: bool = True,
        keys: int = 1,
        policies: tuple[str, ...] = ("ReadOnly",),
        groups: tuple[str, ...] = (),
        inline_policies: tuple[str, ...] = (),
        mfa: bool = False,
        ssh_key: bool = False,
        person: Person | None = None,
    ) -> SaaSAccount:
        user = iam.create_user(UserName=name, Tags=[{"Key": "team", "Value": "platform"}])["User"]
        if password:
            iam.create_login_profile(UserName=name, Password="Correct-Horse-Battery-9")
        for _ in range(keys):
            iam.create_access_key(UserName=name)
        for policy_name in policies:
            iam.attach_user_policy(UserName=name, PolicyArn=managed_policy_arn(iam, policy_name))
        for group in groups:
            try:
                iam.create_group(GroupName=group)
            except iam.exceptions.EntityAlreadyExistsException:
                pass
            iam.add_user_to_group(GroupName=group, UserName=name)
        for policy_name in inline_policies:
            iam.put_user_policy(UserName=name, PolicyName=policy_name, PolicyDocument=INLINE_POLICY)
        if mfa:
            device = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"{name}-mfa")["VirtualMFADevice"]
            iam.enable_mfa_device(
                UserName=name,
                SerialNumber=device["SerialNumber"],
                AuthenticationCode1="123456",
                AuthenticationCode2="654321",
            )
        if ssh_key:
            iam.upload_ssh_public_key(UserName=name, SSHPublicKeyBody=SSH_PUBLIC_KEY)
        return SaaSAccount.objects.create(
            integration=integration,
            kind=SaaSAccount.Kind.IAM_USER,
            provider_id=user["UserId"],
            name=name,
            arn=user["Arn"],
            path=user["Path"],
            person=person,
        )

    return make


def managed_policy_arn(iam, name: str) -> str:
    """Return the ARN of a customer managed policy, creating it on first use."""
    try:
        return iam.create_policy(PolicyName=name, PolicyDocument=INLINE_POLICY)["Policy"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        return f"arn:aws:iam::{CUSTOMER_ACCOUNT_ID}:policy/{name}"


INLINE_POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}
)
SSH_PUBLIC_KEY = (
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDHgf6LL8nCCdFdGTvGtZjjdxqCbJ+R9wQXYbtQ5Ut5jpSzXNkDN3aYrUWb9Zn1G"
    "kVDZdXRt3KeKoP4WDeOhRl3hDmdD0ABRyxhaJbhJDbSBv6D9JA+HeUmv9YtVvzj1sC/x4gY+f8y0Gk3mCkTiDmUDSzsX+f5wnBS"
    "ITZQGcLukMTJbbI8SqYfHmH3VeBcShVzT3yRCPp6Uu/DaTFbQsVP6vTEHhU1c6YF3FaI2N4jQaSrhq5hT2fp3O4KDbEVJf4fgu8"
    "NCiSq6S2uZlJIZlXgO3ZwS9qWv2RfcYVxfJd6V6Vt8MZZS9Pk9ugdXuHGzErFaCMvlRyG0TVpCoEXAMPLE test@example.com"
)
