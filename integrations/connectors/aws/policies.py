"""IAM actions that Rollcall requests for a customer's role, and the policy documents built from them."""

import json

# Read and remove actions that every integration needs. With only these, DeleteUser fails with
# DeleteConflict for a user in a group or with an MFA device or inline policy.
BASELINE_ACTIONS: tuple[str, ...] = (
    "iam:GetAccessKeyLastUsed",
    "iam:ListAccessKeys",
    "iam:ListAttachedUserPolicies",
    "iam:ListGroupsForUser",
    "iam:ListMFADevices",
    "iam:ListRolePolicies",
    "iam:ListRoles",
    "iam:ListUsers",
    "iam:ListUserTags",
    "iam:DeleteUser",
    "iam:DeleteAccessKey",
    "iam:DeleteRole",
    "iam:ListAttachedRolePolicies",
    "iam:DetachRolePolicy",
    "iam:DeleteLoginProfile",
    "iam:DetachUserPolicy",
    "iam:CreateUser",
    "iam:TagUser",
    "iam:ListUserPolicies",
    "account:GetContactInformation",
)

# Actions that let an offboarding remove everything DeleteUser and DeleteRole depend on.
OFFBOARDING_ACTIONS: tuple[str, ...] = (
    "iam:RemoveUserFromGroup",
    "iam:DeleteUserPolicy",
    "iam:DeactivateMFADevice",
    "iam:DeleteVirtualMFADevice",
    "iam:ListSigningCertificates",
    "iam:DeleteSigningCertificate",
    "iam:ListSSHPublicKeys",
    "iam:DeleteSSHPublicKey",
    "iam:ListServiceSpecificCredentials",
    "iam:DeleteServiceSpecificCredential",
    "iam:GetLoginProfile",
    "iam:DeleteRolePolicy",
    "iam:ListInstanceProfilesForRole",
    "iam:RemoveRoleFromInstanceProfile",
)

# Actions that return every user's details in a few calls instead of several calls per user.
FAST_COLLECTION_ACTIONS: tuple[str, ...] = (
    "iam:GetAccountAuthorizationDetails",
    "iam:GenerateCredentialReport",
    "iam:GetCredentialReport",
)

EXTENDED_ACTIONS: tuple[str, ...] = BASELINE_ACTIONS + OFFBOARDING_ACTIONS + FAST_COLLECTION_ACTIONS


def permission_policy(*, extended: bool = False) -> dict:
    """Build the identity policy document for the customer's role."""
    actions = EXTENDED_ACTIONS if extended else BASELINE_ACTIONS
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "RollcallAccountManagement",
                "Effect": "Allow",
                "Action": sorted(actions),
                "Resource": "*",
            }
        ],
    }


def trust_policy(*, platform_account_id: str, external_id: str, partition: str = "aws") -> dict:
    """Build the trust policy that lets only the platform account assume the role, with the external id."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{platform_account_id}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        ],
    }


def as_json(document: dict) -> str:
    return json.dumps(document, indent=2)
