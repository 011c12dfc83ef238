"""IAM behaviour that moto 5.2.5 gets wrong or lacks, reproduced as AWS behaves."""

import base64
import binascii
import csv
import io
import threading
import xml.etree.ElementTree as ElementTree
from datetime import UTC, datetime

from moto.iam.models import IAMBackend, User

from .errors import QUERY_NAMESPACES, AWSError, new_request_id

IAM_NAMESPACE = QUERY_NAMESPACES["iam"]
ElementTree.register_namespace("", IAM_NAMESPACE)

# IAM list calls and the result elements that hold their items. GetAccountAuthorizationDetails pages
# over its four lists as one sequence.
PAGINATED_RESULT_KEYS: dict[str, tuple[str, ...]] = {
    "ListUsers": ("Users",),
    "ListRoles": ("Roles",),
    "ListGroups": ("Groups",),
    "ListAccessKeys": ("AccessKeyMetadata",),
    "ListGroupsForUser": ("Groups",),
    "ListUserPolicies": ("PolicyNames",),
    "ListUserTags": ("Tags",),
    "ListRoleTags": ("Tags",),
    "ListMFADevices": ("MFADevices",),
    "ListVirtualMFADevices": ("VirtualMFADevices",),
    "ListRolePolicies": ("PolicyNames",),
    "ListAttachedUserPolicies": ("AttachedPolicies",),
    "ListAttachedRolePolicies": ("AttachedPolicies",),
    "ListSigningCertificates": ("Certificates",),
    "ListSSHPublicKeys": ("SSHPublicKeys",),
    "ListInstanceProfilesForRole": ("InstanceProfiles",),
    "GetAccountAuthorizationDetails": ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"),
}

# IAM returns at most this many items per page when the request sets no MaxItems.
DEFAULT_MAX_ITEMS = 100
MAX_MAX_ITEMS = 1000
# moto pages some lists itself (ListRoles with 100 by default), so the layer requests the complete list.
UNLIMITED_MAX_ITEMS = "1000000"

CREDENTIAL_REPORT_COLUMNS = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,"
    "cert_2_active,cert_2_last_rotated"
).split(",")


def _iso(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


# DeleteConflict checks in the order the layer applies them, with the message AWS returns for each.
def user_delete_conflict(backend: IAMBackend, user: User) -> str | None:
    """Return the DeleteConflict message for a user that still has dependent resources, or None."""
    checks = (
        (user.password is not None, "Cannot delete entity, must delete login profile first."),
        (bool(user.access_keys), "Cannot delete entity, must delete access keys first."),
        (bool(user.signing_certificates), "Cannot delete entity, must delete signing certificates first."),
        (bool(user.ssh_public_keys), "Cannot delete entity, must delete SSH public keys first."),
        (bool(user.mfa_devices), "Cannot delete entity, must delete MFA device first."),
        (bool(user.policies), "Cannot delete entity, must delete policies first."),
        (bool(user.managed_policies), "Cannot delete entity, must detach all policies first."),
        (bool(backend.get_groups_for_user(user.name)), "Cannot delete entity, must remove users from group first."),
    )
    for failed, message in checks:
        if failed:
            return message
    return None


def role_delete_error(backend: IAMBackend, role) -> AWSError | None:
    """Return the error AWS gives for deleting this role, or None when the deletion may proceed."""
    if getattr(role, "_linked_service", None):
        return AWSError(
            "UnmodifiableEntity",
            f"Cannot perform the operation on the protected role '{role.name}' - this role is only modifiable by AWS",
            400,
        )
    if backend.get_instance_profiles_for_role(role.name):
        return AWSError("DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.", 409)
    if role.managed_policies:
        return AWSError("DeleteConflict", "Cannot delete entity, must detach all policies first.", 409)
    if role.policies:
        return AWSError("DeleteConflict", "Cannot delete entity, must delete policies first.", 409)
    return None


# Pagination.
def encode_marker(offset: int) -> str:
    return base64.urlsafe_b64encode(f"fakeaws:{offset}".encode()).decode()


def decode_marker(marker: str) -> int:
    try:
        text = base64.urlsafe_b64decode(marker.encode()).decode()
        prefix, offset = text.split(":")
        if prefix != "fakeaws" or int(offset) < 0:
            raise ValueError(marker)
        return int(offset)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise AWSError("ValidationError", "Invalid Marker.", 400) from None


def parse_max_items(value: str | None) -> int:
    if value is None:
        return DEFAULT_MAX_ITEMS
    try:
        max_items = int(value)
    except ValueError:
        max_items = 0
    if not 1 <= max_items <= MAX_MAX_ITEMS:
        raise AWSError(
            "ValidationError",
            f"1 validation error detected: Value '{value}' at 'maxItems' failed to satisfy constraint: "
            f"Member must have value between 1 and {MAX_MAX_ITEMS}",
            400,
        )
    return max_items


# ListUsers and GetAccountAuthorizationDetails serialize every user, which takes seconds per page with
# thousands of users, so for them the page is cut inside moto's backend before serialization. The
# window is per thread because werkzeug serves each request in its own thread.
_page_window = threading.local()


class PageWindow:
    """Offset and size of the page that the current thread's request selects, and the full list length."""

    def __init__(self, offset: int, max_items: int):
        self.offset = offset
        self.max_items = max_items
        self.total = 0

    def cut(self, items: list) -> list:
        self.total = len(items)
        return items[self.offset : self.offset + self.max_items]


def _current_window() -> PageWindow | None:
    return getattr(_page_window, "window", None)


def _install_backend_windows() -> None:
    """Wrap moto's IAMBackend.list_users and get_account_authorization_details to honour the thread's window.

    NOTE: this patches moto's class for the whole process, but the wrappers only act while the layer
    serves a request, so in-process ``mock_aws`` users see moto's usual behaviour.
    """
    list_users = IAMBackend.list_users
    account_details = IAMBackend.get_account_authorization_details
    if getattr(list_users, "fakeaws_wrapped", False):
        return

    def windowed_list_users(self, path_prefix, marker, max_items):
        users = list(list_users(self, path_prefix, marker, max_items))
        window = _current_window()
        return window.cut(users) if window else users

    def windowed_account_details(self, policy_filter):
        details = account_details(self, policy_filter)
        window = _current_window()
        if window is None:
            return details
        keys = ("users", "groups", "roles", "managed_policies")
        combined = [(key, item) for key in keys for item in details[key]]
        page = {key: [] for key in keys}
        for key, item in window.cut(combined):
            page[key].append(item)
        return {**details, **page}

    windowed_list_users.fakeaws_wrapped = True
    IAMBackend.list_users = windowed_list_users
    IAMBackend.get_account_authorization_details = windowed_account_details


_install_backend_windows()
WINDOWED_ACTIONS = ("ListUsers", "GetAccountAuthorizationDetails")


def set_page_window(window: PageWindow | None) -> None:
    _page_window.window = window


def _child(element: ElementTree.Element, name: str) -> ElementTree.Element | None:
    return element.find(f"{{{IAM_NAMESPACE}}}{name}")


def paginate_response(body: bytes, action: str, offset: int, max_items: int, total: int | None = None) -> bytes:
    """Cut moto's complete list response down to one page and set IsTruncated and Marker.

    ``total`` is the full list length when moto's backend already returned only the page.
    """
    root = ElementTree.fromstring(body)
    result = _child(root, f"{action}Result")
    if result is None:
        return body
    items = []
    for key in PAGINATED_RESULT_KEYS[action]:
        container = _child(result, key)
        if container is not None:
            items.extend((container, member) for member in list(container))
    page_end = offset + max_items
    if total is None:
        for index, (container, member) in enumerate(items):
            if not offset <= index < page_end:
                container.remove(member)
        total = len(items)
    truncated = page_end < total

    for name in ("IsTruncated", "Marker"):
        old = _child(result, name)
        if old is not None:
            result.remove(old)
    is_truncated = ElementTree.SubElement(result, f"{{{IAM_NAMESPACE}}}IsTruncated")
    is_truncated.text = "true" if truncated else "false"
    if truncated:
        marker = ElementTree.SubElement(result, f"{{{IAM_NAMESPACE}}}Marker")
        marker.text = encode_marker(page_end)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


# Credential report.
def _key_columns(key) -> list[str]:
    if key is None:
        return ["false", "N/A", "N/A", "N/A", "N/A"]
    last_used = key.last_used
    if last_used is None:
        used = ["N/A", "N/A", "N/A"]
    else:
        used = [_iso(last_used.timestamp), last_used.region, last_used.service]
    return ["true" if key.status == "Active" else "false", _iso(key.create_date), *used]


def _cert_columns(cert) -> list[str]:
    if cert is None:
        return ["false", "N/A"]
    uploaded = getattr(cert, "upload_date", None)
    return ["true" if cert.status == "Active" else "false", _iso(uploaded) if uploaded else "N/A"]


def credential_report_rows(backend: IAMBackend) -> list[list[str]]:
    rows = []
    for user in backend.users.values():
        if user.password is None:
            password = ["false", "N/A", "N/A", "N/A"]
        else:
            last_used = _iso(user.password_last_used) if user.password_last_used else "no_information"
            # moto does not record when a password was set, so the user's creation time is used instead.
            password = ["true", last_used, _iso(user.create_date), "N/A"]
        keys = list(user.access_keys) + [None, None]
        certs = list(user.signing_certificates.values()) + [None, None]
        rows.append(
            [
                user.name,
                user.arn,
                _iso(user.create_date),
                *password,
                "true" if user.mfa_devices else "false",
                *_key_columns(keys[0]),
                *_key_columns(keys[1]),
                *_cert_columns(certs[0]),
                *_cert_columns(certs[1]),
            ]
        )
    return rows


def credential_report_csv(backend: IAMBackend) -> str:
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(CREDENTIAL_REPORT_COLUMNS)
    writer.writerows(credential_report_rows(backend))
    return output.getvalue().rstrip("\n")


def credential_report_response(backend: IAMBackend, generated_at: datetime) -> bytes:
    content = base64.b64encode(credential_report_csv(backend).encode()).decode()
    generated = generated_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f'<GetCredentialReportResponse xmlns="{IAM_NAMESPACE}">\n'
        "  <GetCredentialReportResult>\n"
        f"    <Content>{content}</Content>\n"
        "    <ReportFormat>text/csv</ReportFormat>\n"
        f"    <GeneratedTime>{generated}</GeneratedTime>\n"
        "  </GetCredentialReportResult>\n"
        f"  <ResponseMetadata><RequestId>{new_request_id()}</RequestId></ResponseMetadata>\n"
        "</GetCredentialReportResponse>\n"
    ).encode()


def empty_list_response(action: str, result_key: str) -> bytes:
    """Build an empty page for a list call that moto does not implement."""
    return (
        f'<{action}Response xmlns="{IAM_NAMESPACE}">\n'
        f"  <{action}Result><{result_key}/><IsTruncated>false</IsTruncated></{action}Result>\n"
        f"  <ResponseMetadata><RequestId>{new_request_id()}</RequestId></ResponseMetadata>\n"
        f"</{action}Response>\n"
    ).encode()
