"""Building an offboarding plan from a fresh read of one IAM user or role.

A plan is the ordered list of IAM calls, the blockers (dependent resources that the integration's
role has no permission to remove, with the action to add) and warnings. Planning is pure: it takes
the read and the granted actions and calls nothing.
"""

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from integrations.connectors.aws import policies

DELETE = "delete"
CONTAIN = "contain"

# Blockers and warnings are stored as codes with parameters and rendered in the reader's language.
MESSAGES = {
    "missing_action": _("%(count)s step(s) of type %(step)s need %(action)s, which the role lacks."),
    "groups": _("The user is in %(count)s group(s). Removing it from them needs %(action)s."),
    "inline_policies": _("The account has %(count)s inline policy(ies). Deleting them needs %(action)s."),
    "mfa_devices": _("The user has %(count)s MFA device(s). Deactivating them needs %(action)s."),
    "signing_certificates": _("The user has %(count)s signing certificate(s). Deleting them needs %(action)s."),
    "ssh_public_keys": _("The user has %(count)s SSH public key(s). Deleting them needs %(action)s."),
    "service_specific_credentials": _(
        "The user has %(count)s service-specific credential(s). Deleting them needs %(action)s."
    ),
    "instance_profiles": _("The role is in %(count)s instance profile(s). Removing it from them needs %(action)s."),
    "integration_role": _("This is the role Rollcall uses for this integration, so it is never offboarded here."),
    "service_linked_role": _(
        "This is a service-linked role, which only its AWS service may delete, so it is never offboarded here."
    ),
    "unreadable": _(
        "Could not read the %(field)s (%(error_code)s from %(action)s), so the plan may miss some and "
        "the final delete may fail with DeleteConflict. Add %(action)s to the role to plan them."
    ),
    "unreadable_contain": _(
        "Could not read the %(field)s (%(error_code)s from %(action)s), so containment may keep some of them, "
        "and the user could still reach AWS through them. Add %(action)s to the role to plan them."
    ),
    "access_path_kept": _(
        "Containment keeps the user's %(field)s (%(count)s), so the user can still reach AWS through them. "
        "Add %(action)s to the integration's role and plan again to remove them."
    ),
    "not_found": _("The account no longer exists in AWS, so there is nothing to remove."),
    "login_profile_unknown": _(
        "Without %(action)s the plan cannot tell whether a console password exists, so it deletes it "
        "anyway; AWS's NoSuchEntity answer counts as done."
    ),
}

# The dependent resources of a user that only full deletion removes, in plan order: the read field
# and the step action that removes one item of it.
USER_DEPENDENTS: tuple[tuple[str, str], ...] = (
    ("groups", "RemoveUserFromGroup"),
    ("inline_policies", "DeleteUserPolicy"),
    ("mfa_devices", "DeactivateMFADevice"),
    ("signing_certificates", "DeleteSigningCertificate"),
    ("ssh_public_keys", "DeleteSSHPublicKey"),
    ("service_specific_credentials", "DeleteServiceSpecificCredential"),
)

USER_DEPENDENTS_FIELDS = tuple(field_name for field_name, _action in USER_DEPENDENTS)

# The dependents through which a contained user could still reach AWS: credentials that sign in
# without a password or access key, and the permissions of groups and inline policies. Containment
# removes them when the role has the action, and warns about each one when it does not.
CONTAIN_USER_DEPENDENTS: tuple[tuple[str, str], ...] = tuple(
    (field_name, action) for field_name, action in USER_DEPENDENTS if field_name != "mfa_devices"
)

# The read field that each step removes, so a blocker names the resource and not only the call.
STEP_FIELDS = {action: field_name for field_name, action in USER_DEPENDENTS} | {
    "DeleteVirtualMFADevice": "mfa_devices",
    "DeleteRolePolicy": "inline_policies",
    "RemoveRoleFromInstanceProfile": "instance_profiles",
}


@dataclass
class Plan:
    """Ordered IAM calls with what blocks them and what the reader should know."""

    mode: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    blockers: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def add(self, action: str, **parameters: Any) -> None:
        self.steps.append({"action": action, "parameters": parameters})


def granted_actions(*, missing_actions: list[str], can_offboard_fully: bool) -> frozenset[str]:
    """Return the IAM actions the integration's role has, from its last connection check."""
    # NOTE: the connection check stores one flag for all offboarding actions, so a role that has only
    # some of them is planned as if it had none of them.
    granted = set(policies.BASELINE_ACTIONS)
    if can_offboard_fully:
        granted |= set(policies.OFFBOARDING_ACTIONS)
    return frozenset(granted - set(missing_actions))


# Names of the read fields, as the warnings show them.
FIELD_LABELS = {
    "access_keys": _("access keys"),
    "attached_policies": _("attached policies"),
    "inline_policies": _("inline policies"),
    "groups": _("groups"),
    "mfa_devices": _("MFA devices"),
    "tags": _("tags"),
    "signing_certificates": _("signing certificates"),
    "ssh_public_keys": _("SSH public keys"),
    "service_specific_credentials": _("service-specific credentials"),
    "instance_profiles": _("instance profiles"),
}


def render(entry: dict[str, Any]) -> str:
    """Render a stored blocker or warning in the active language."""
    parameters = dict(entry)
    if "field" in parameters:
        parameters["field"] = FIELD_LABELS.get(parameters["field"], parameters["field"])
    return str(MESSAGES[entry["code"]]) % parameters


def plan_user(*, name: str, read: dict[str, Any], mode: str, granted: frozenset[str]) -> Plan:
    """Plan the offboarding of one IAM user from a fresh read."""
    plan = Plan(mode=mode)
    if not read.get("exists"):
        plan.warnings.append({"code": "not_found"})
        return plan

    if read.get("login_profile") is not False:
        plan.add("DeleteLoginProfile", UserName=name)
        if read.get("login_profile") is None:
            plan.warnings.append({"code": "login_profile_unknown", "action": "iam:GetLoginProfile"})
    for key in read.get("access_keys") or []:
        plan.add("DeleteAccessKey", UserName=name, AccessKeyId=key["AccessKeyId"])
    for policy in read.get("attached_policies") or []:
        plan.add("DetachUserPolicy", UserName=name, PolicyArn=policy["PolicyArn"])

    if mode == DELETE:
        for field_name, _action in USER_DEPENDENTS:
            _add_dependent_steps(plan, name, field_name, read.get(field_name) or [])
        plan.add("DeleteUser", UserName=name)
        _warn_unreadable(plan, read, USER_DEPENDENTS_FIELDS + ("access_keys", "attached_policies"))
    else:
        for field_name, action in CONTAIN_USER_DEPENDENTS:
            items = read.get(field_name) or []
            if not items:
                continue
            if f"iam:{action}" in granted:
                _add_dependent_steps(plan, name, field_name, items)
            else:
                plan.warnings.append(
                    {"code": "access_path_kept", "field": field_name, "count": len(items), "action": f"iam:{action}"}
                )
        contained_fields = tuple(field_name for field_name, _action in CONTAIN_USER_DEPENDENTS)
        _warn_unreadable(plan, read, ("access_keys", "attached_policies") + contained_fields, code="unreadable_contain")

    _block_missing_actions(plan, read, granted)
    return plan


def plan_role(*, name: str, read: dict[str, Any], mode: str, granted: frozenset[str]) -> Plan:
    """Plan the offboarding of one IAM role from a fresh read."""
    plan = Plan(mode=mode)
    if not read.get("exists"):
        plan.warnings.append({"code": "not_found"})
        return plan

    for policy in read.get("attached_policies") or []:
        plan.add("DetachRolePolicy", RoleName=name, PolicyArn=policy["PolicyArn"])
    for policy_name in read.get("inline_policies") or []:
        plan.add("DeleteRolePolicy", RoleName=name, PolicyName=policy_name)
    if mode == DELETE:
        for profile in read.get("instance_profiles") or []:
            plan.add(
                "RemoveRoleFromInstanceProfile",
                RoleName=name,
                InstanceProfileName=profile["InstanceProfileName"],
            )
        plan.add("DeleteRole", RoleName=name)
        _warn_unreadable(plan, read, ("attached_policies", "inline_policies", "instance_profiles"))
    else:
        _warn_unreadable(plan, read, ("attached_policies", "inline_policies"))

    _block_missing_actions(plan, read, granted)
    return plan


def _add_dependent_steps(plan: Plan, name: str, field_name: str, items: list[Any]) -> None:
    """Add the steps that remove each item of one dependent list of an IAM user."""
    for item in items:
        if field_name == "groups":
            plan.add("RemoveUserFromGroup", UserName=name, GroupName=item["GroupName"])
        elif field_name == "inline_policies":
            plan.add("DeleteUserPolicy", UserName=name, PolicyName=item)
        elif field_name == "mfa_devices":
            serial = item["SerialNumber"]
            plan.add("DeactivateMFADevice", UserName=name, SerialNumber=serial)
            if serial.startswith("arn:") and ":mfa/" in serial:
                plan.add("DeleteVirtualMFADevice", SerialNumber=serial)
        elif field_name == "signing_certificates":
            plan.add("DeleteSigningCertificate", UserName=name, CertificateId=item["CertificateId"])
        elif field_name == "ssh_public_keys":
            plan.add("DeleteSSHPublicKey", UserName=name, SSHPublicKeyId=item["SSHPublicKeyId"])
        elif field_name == "service_specific_credentials":
            plan.add(
                "DeleteServiceSpecificCredential",
                UserName=name,
                ServiceSpecificCredentialId=item["ServiceSpecificCredentialId"],
            )


def _block_missing_actions(plan: Plan, read: dict[str, Any], granted: frozenset[str]) -> None:
    """Add one blocker for each kind of step whose IAM action the role lacks."""
    counts: dict[str, int] = {}
    for step in plan.steps:
        if f"iam:{step['action']}" not in granted:
            counts[step["action"]] = counts.get(step["action"], 0) + 1
    for action, count in counts.items():
        field_name = STEP_FIELDS.get(action)
        if field_name:
            plan.blockers.append(
                {"code": field_name, "count": len(read.get(field_name) or []), "action": f"iam:{action}"}
            )
        else:
            plan.blockers.append({"code": "missing_action", "count": count, "step": action, "action": f"iam:{action}"})


def _warn_unreadable(plan: Plan, read: dict[str, Any], fields: tuple[str, ...], code: str = "unreadable") -> None:
    for field_name in fields:
        problem = read.get("unreadable", {}).get(field_name)
        if problem:
            plan.warnings.append(
                {
                    "code": code,
                    "field": field_name,
                    "action": problem["action"],
                    "error_code": problem["code"],
                }
            )
