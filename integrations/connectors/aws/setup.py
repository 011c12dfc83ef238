"""Documents a customer needs to create Rollcall's role: policies, a CloudFormation template, Terraform.

Every document is built for one external id and the platform's AWS account id; none of them
contain credentials.
"""

import json
from dataclasses import dataclass

from integrations.connectors.aws import policies
from integrations.connectors.aws.connection import generate_external_id

__all__ = ["SetupDocuments", "build_setup_documents", "generate_external_id"]

DEFAULT_ROLE_NAME = "RollcallAccess"
POLICY_NAME = "RollcallAccountManagement"


@dataclass(frozen=True)
class SetupDocuments:
    platform_account_id: str
    external_id: str
    role_name: str
    trust_policy: str
    permission_policy: str
    extended_permission_policy: str
    cloudformation: str
    cloudformation_extended: str
    terraform: str
    terraform_extended: str


def _indent(text: str, spaces: int) -> str:
    padding = " " * spaces
    return "\n".join(padding + line if line else line for line in text.splitlines())


def cloudformation_template(
    *,
    platform_account_id: str,
    external_id: str,
    role_name: str = DEFAULT_ROLE_NAME,
    partition: str = "aws",
    extended: bool = False,
) -> str:
    """Build a CloudFormation template (YAML) that creates the role with both policies."""
    trust = policies.trust_policy(platform_account_id=platform_account_id, external_id=external_id, partition=partition)
    # JSON is valid YAML, so the policy documents are embedded as JSON flow mappings.
    trust_json = json.dumps(trust, indent=2)
    permission_json = json.dumps(policies.permission_policy(extended=extended), indent=2)
    description = (
        "Rollcall access role with the extended policy (collection and complete offboarding)"
        if extended
        else "Rollcall access role with the baseline policy (collection and offboarding)"
    )
    return (
        'AWSTemplateFormatVersion: "2010-09-09"\n'
        f"Description: {json.dumps(description)}\n"
        "Resources:\n"
        "  RollcallAccessRole:\n"
        "    Type: AWS::IAM::Role\n"
        "    Properties:\n"
        f"      RoleName: {json.dumps(role_name)}\n"
        f"      Description: {json.dumps(description)}\n"
        "      MaxSessionDuration: 3600\n"
        "      AssumeRolePolicyDocument:\n"
        f"{_indent(trust_json, 8)}\n"
        "      Policies:\n"
        f"        - PolicyName: {POLICY_NAME}\n"
        "          PolicyDocument:\n"
        f"{_indent(permission_json, 12)}\n"
        "Outputs:\n"
        "  RoleArn:\n"
        "    Description: Paste this ARN into Rollcall's Role ARN field.\n"
        "    Value: !GetAtt RollcallAccessRole.Arn\n"
    )


def terraform_snippet(
    *,
    platform_account_id: str,
    external_id: str,
    role_name: str = DEFAULT_ROLE_NAME,
    partition: str = "aws",
    extended: bool = False,
) -> str:
    """Build a Terraform configuration (HCL) that creates the role with both policies."""
    trust = policies.trust_policy(platform_account_id=platform_account_id, external_id=external_id, partition=partition)
    trust_json = json.dumps(trust, indent=2)
    permission_json = json.dumps(policies.permission_policy(extended=extended), indent=2)
    return (
        'resource "aws_iam_role" "rollcall" {\n'
        f"  name                 = {json.dumps(role_name)}\n"
        '  description          = "Lets Rollcall read and offboard IAM users"\n'
        "  max_session_duration = 3600\n"
        "  assume_role_policy   = <<-POLICY\n"
        f"{_indent(trust_json, 4)}\n"
        "  POLICY\n"
        "}\n"
        "\n"
        'resource "aws_iam_role_policy" "rollcall" {\n'
        f"  name   = {json.dumps(POLICY_NAME)}\n"
        "  role   = aws_iam_role.rollcall.id\n"
        "  policy = <<-POLICY\n"
        f"{_indent(permission_json, 4)}\n"
        "  POLICY\n"
        "}\n"
        "\n"
        'output "rollcall_role_arn" {\n'
        '  description = "Paste this ARN into Rollcall\'s Role ARN field."\n'
        "  value       = aws_iam_role.rollcall.arn\n"
        "}\n"
    )


def build_setup_documents(
    *, platform_account_id: str, external_id: str, role_name: str = DEFAULT_ROLE_NAME, partition: str = "aws"
) -> SetupDocuments:
    """Build every document of the setup guide for one external id, in the role's partition."""
    common = {
        "platform_account_id": platform_account_id,
        "external_id": external_id,
        "role_name": role_name,
        "partition": partition,
    }
    return SetupDocuments(
        platform_account_id=platform_account_id,
        external_id=external_id,
        role_name=role_name,
        trust_policy=policies.as_json(
            policies.trust_policy(platform_account_id=platform_account_id, external_id=external_id, partition=partition)
        ),
        permission_policy=policies.as_json(policies.permission_policy()),
        extended_permission_policy=policies.as_json(policies.permission_policy(extended=True)),
        cloudformation=cloudformation_template(**common),
        cloudformation_extended=cloudformation_template(**common, extended=True),
        terraform=terraform_snippet(**common),
        terraform_extended=terraform_snippet(**common, extended=True),
    )
