"""Descriptions of AWS errors for a customer's integration: the problem and what to change in AWS.

`describe_error` turns an AwsError (or one of Rollcall's own check codes) into a translated
problem and fix. The code and `ErrorDescription.params` are what Rollcall stores, so the text
is rendered again in the reader's language when it is shown. Messages never contain the external id.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from integrations.connectors.aws.client import THROTTLING_CODES, AwsError

# Rollcall's own codes, set by the connection check rather than returned by AWS.
ASSUME_ROLE_DENIED = "AssumeRoleDenied"
MISSING_PERMISSIONS = "MissingPermissions"
TRUST_POLICY_OTHER_PRINCIPAL = "TrustPolicyOtherPrincipal"
TRUST_POLICY_NO_EXTERNAL_ID = "TrustPolicyNoExternalId"
TRUST_POLICY_WRONG_EXTERNAL_ID = "TrustPolicyWrongExternalId"
ROLE_NOT_LISTED = "RoleNotListed"
PLATFORM_CREDENTIALS = "PlatformCredentials"
THROTTLED = "Throttled"
ENDPOINT_UNREACHABLE = "EndpointUnreachable"

# Error codes that mean the platform's own credentials are missing, wrong or expired.
PLATFORM_CREDENTIAL_CODES = frozenset(
    {
        "NoPlatformCredentials",
        "NoCredentialsError",
        "PartialCredentialsError",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "TokenRefreshRequired",
    }
)
UNREACHABLE_CODES = frozenset({"EndpointUnreachable", "Timeout", "EndpointConnectionError", "ConnectTimeoutError"})


@dataclass(frozen=True)
class ErrorDescription:
    code: str
    message: str
    fix: str
    # The keyword arguments of `describe_error` that rebuild this description in another language.
    params: dict = field(default_factory=dict)


def classify(error: AwsError) -> str:
    """Return the code Rollcall stores for an AWS error: one of the constants above or AWS's own code."""
    if error.code in PLATFORM_CREDENTIAL_CODES:
        return PLATFORM_CREDENTIALS
    if error.code in THROTTLING_CODES:
        return THROTTLED
    if error.code in UNREACHABLE_CODES:
        return ENDPOINT_UNREACHABLE
    if error.is_access_denied and error.action == "sts:AssumeRole":
        return ASSUME_ROLE_DENIED
    if error.is_access_denied:
        return MISSING_PERMISSIONS
    return error.code


def describe_error(
    code: str,
    *,
    role_arn: str = "",
    platform_account_id: str = "",
    actions: list[str] | tuple[str, ...] = (),
    aws_message: str = "",
) -> ErrorDescription:
    """Return the translated problem and fix for a code from `classify` or a trust policy check."""
    stored = {
        "role_arn": role_arn,
        "platform_account_id": platform_account_id,
        "actions": list(actions),
        "aws_message": aws_message,
    }
    params = {
        "role_arn": role_arn,
        "platform_account_id": platform_account_id or _("(unknown)"),
        "actions": ", ".join(actions),
        "aws_message": aws_message,
    }
    if code == ASSUME_ROLE_DENIED:
        message = (
            _("AWS denied Rollcall access to the role %(role_arn)s: AssumeRole failed with AccessDenied.") % params
        )
        fix = (
            _(
                "In the IAM console, open the role and check its trust policy: it must trust the AWS "
                "account %(platform_account_id)s and require exactly the external ID shown in Settings. "
                "Also check that the role ARN names the right AWS account and role name."
            )
            % params
        )
    elif code == MISSING_PERMISSIONS:
        message = _("The role is missing these permissions: %(actions)s.") % params
        fix = _(
            "Add the missing actions to the role's permission policy (the policy in the setup guide "
            "has them all), then press Retry."
        )
    elif code == TRUST_POLICY_OTHER_PRINCIPAL:
        message = _(
            "The role's trust policy lets principals other than Rollcall's AWS account assume it (%(actions)s)."
        ) % {"actions": ", ".join(actions)}
        fix = (
            _(
                "Edit the role's trust policy so that its only principal is "
                "arn:aws:iam::%(platform_account_id)s:root, then press Retry. Rollcall does not use a role "
                "that anyone else can assume."
            )
            % params
        )
    elif code == TRUST_POLICY_NO_EXTERNAL_ID:
        message = _("The role's trust policy does not require an external ID.")
        fix = _(
            "Add the condition StringEquals sts:ExternalId with the external ID shown in Settings to the "
            "role's trust policy, then press Retry. Without it, any other customer of this Rollcall "
            "platform who learns the role ARN could reach your AWS account."
        )
    elif code == TRUST_POLICY_WRONG_EXTERNAL_ID:
        message = _("The role's trust policy accepts external IDs other than this integration's own.")
        fix = _(
            "Change the trust policy's condition to StringEquals sts:ExternalId with only the external ID "
            "shown in Settings, then press Retry."
        )
    elif code == ROLE_NOT_LISTED:
        message = _("Rollcall assumed the role, but ListRoles does not return %(role_arn)s.") % params
        fix = _("Check that the role ARN in Settings matches the role's ARN in the IAM console exactly.")
    elif code == PLATFORM_CREDENTIALS:
        message = _("Rollcall's own AWS credentials are missing, invalid or expired (%(aws_message)s).") % params
        fix = _(
            "This is a problem of the Rollcall server, not of your role: give the server valid AWS "
            "credentials (environment variables, instance role or container role), then press Retry."
        )
    elif code == THROTTLED:
        message = _("AWS throttled Rollcall's requests and the retries ran out.")
        fix = _(
            "Wait a few minutes and press Retry. If this keeps happening, another tool may be using up "
            "the IAM request quota of this AWS account."
        )
    elif code == ENDPOINT_UNREACHABLE:
        message = _("Rollcall could not reach the AWS endpoint (%(aws_message)s).") % params
        fix = _("Check the Rollcall server's network access to AWS (proxy, firewall, DNS), then press Retry.")
    else:
        message = _("AWS returned the error %(code)s: %(aws_message)s") % {"code": code, **params}
        fix = _("Check the role in the IAM console and press Retry. If the error stays, contact support.")
    return ErrorDescription(code=code, message=message, fix=fix, params=stored)


def describe_aws_error(error: AwsError, *, role_arn: str = "", platform_account_id: str = "") -> ErrorDescription:
    """Classify an AwsError and describe it, naming the denied action for AccessDenied."""
    code = classify(error)
    return describe_error(
        code,
        role_arn=role_arn,
        platform_account_id=platform_account_id,
        actions=[error.action] if error.action else [],
        aws_message=error.message,
    )
