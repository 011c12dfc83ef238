import datetime as dt
import json

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fakeaws_support import error_of

POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)


def self_signed_certificate() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fakeaws-test")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def add_login_profile(iam):
    iam.create_login_profile(UserName="alice", Password="Test-Passw0rd-Not-Real!")


def add_access_key(iam):
    iam.create_access_key(UserName="alice")


def add_mfa_device(iam):
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(
        UserName="alice", SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
    )


def add_group(iam):
    iam.create_group(GroupName="Developers")
    iam.add_user_to_group(GroupName="Developers", UserName="alice")


def add_inline_policy(iam):
    iam.put_user_policy(UserName="alice", PolicyName="inline", PolicyDocument=POLICY)


def add_attached_policy(iam):
    arn = iam.create_policy(PolicyName="Managed", PolicyDocument=POLICY)["Policy"]["Arn"]
    iam.attach_user_policy(UserName="alice", PolicyArn=arn)


def add_signing_certificate(iam):
    iam.upload_signing_certificate(UserName="alice", CertificateBody=self_signed_certificate())


def add_ssh_key(iam):
    iam.upload_ssh_public_key(UserName="alice", SSHPublicKeyBody="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAItest alice")


@pytest.mark.parametrize(
    ("arrange", "message"),
    [
        (add_login_profile, "Cannot delete entity, must delete login profile first."),
        (add_access_key, "Cannot delete entity, must delete access keys first."),
        (add_mfa_device, "Cannot delete entity, must delete MFA device first."),
        (add_group, "Cannot delete entity, must remove users from group first."),
        (add_inline_policy, "Cannot delete entity, must delete policies first."),
        (add_attached_policy, "Cannot delete entity, must detach all policies first."),
        (add_signing_certificate, "Cannot delete entity, must delete signing certificates first."),
        (add_ssh_key, "Cannot delete entity, must delete SSH public keys first."),
    ],
    ids=["login-profile", "access-key", "mfa", "group", "inline-policy", "attached-policy", "certificate", "ssh-key"],
)
def test_delete_user_conflict(admin_iam, baseline_iam, arrange, message):
    admin_iam.create_user(UserName="alice")
    arrange(admin_iam)

    with pytest.raises(ClientError) as raised:
        baseline_iam.delete_user(UserName="alice")

    assert error_of(raised.value) == ("DeleteConflict", 409)
    assert raised.value.response["Error"]["Message"] == message
    assert admin_iam.get_user(UserName="alice")["User"]["UserName"] == "alice"


def test_delete_user_after_cleanup(admin_iam, baseline_iam):
    admin_iam.create_user(UserName="alice")
    add_login_profile(admin_iam)
    key_id = admin_iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]

    baseline_iam.delete_login_profile(UserName="alice")
    baseline_iam.delete_access_key(UserName="alice", AccessKeyId=key_id)
    baseline_iam.delete_user(UserName="alice")

    with pytest.raises(ClientError) as raised:
        admin_iam.get_user(UserName="alice")
    assert error_of(raised.value) == ("NoSuchEntity", 404)


def arrange_role_policy(iam):
    iam.put_role_policy(RoleName="app", PolicyName="inline", PolicyDocument=POLICY)


def arrange_attached_role_policy(iam):
    arn = iam.create_policy(PolicyName="AppManaged", PolicyDocument=POLICY)["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="app", PolicyArn=arn)


def arrange_instance_profile(iam):
    iam.create_instance_profile(InstanceProfileName="app")
    iam.add_role_to_instance_profile(InstanceProfileName="app", RoleName="app")


@pytest.mark.parametrize(
    ("arrange", "message"),
    [
        (arrange_role_policy, "Cannot delete entity, must delete policies first."),
        (arrange_attached_role_policy, "Cannot delete entity, must detach all policies first."),
        (arrange_instance_profile, "Cannot delete entity, must remove roles from instance profile first."),
    ],
    ids=["inline-policy", "attached-policy", "instance-profile"],
)
def test_delete_role_conflict(admin_iam, baseline_iam, arrange, message):
    admin_iam.create_role(RoleName="app", AssumeRolePolicyDocument=TRUST)
    arrange(admin_iam)

    with pytest.raises(ClientError) as raised:
        baseline_iam.delete_role(RoleName="app")

    assert error_of(raised.value) == ("DeleteConflict", 409)
    assert raised.value.response["Error"]["Message"] == message


def test_delete_service_linked_role_rejected(admin_iam, baseline_iam):
    role_name = admin_iam.create_service_linked_role(AWSServiceName="support.amazonaws.com")["Role"]["RoleName"]

    with pytest.raises(ClientError) as raised:
        baseline_iam.delete_role(RoleName=role_name)

    assert error_of(raised.value) == ("UnmodifiableEntity", 400)
