"""WSGI middleware in front of moto's server that makes IAM, STS and Account behave like AWS.

For every signed IAM, STS or Account request, the layer resolves the caller from the SigV4 access
key and counts the call. It then adds the configured latency and applies the account's rate limit
and any injected fault. Next it checks the permissions of assumed-role sessions and the trust
policy of AssumeRole. Last, it either builds the response itself or forwards the request to moto
and corrects moto's response. Requests for other services go to moto unchanged.
"""

import io
import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode

from moto.core.utils import utcnow

from . import account_service, evaluation, iam_corrections, moto_state, signing
from .errors import AWSError, error_response, status_line
from .moto_state import Caller
from .state import FakeState, Fault

logger = logging.getLogger("fakeaws")

ADMIN_KEY_PREFIX = "AKIAFAKEADMIN"
ADMIN_SECRET = "fakeaws-admin-secret-not-a-real-key"
CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
ENFORCED_SERVICES = ("iam", "account")


def admin_access_key(account_id: str) -> str:
    return f"{ADMIN_KEY_PREFIX}{account_id}"


@dataclass
class ParsedRequest:
    service: str
    region: str
    access_key_id: str
    action: str
    protocol: str  # "query" (IAM, STS) or "rest-json" (Account)
    params: dict[str, str]
    body: bytes


class Response:
    """A complete response, captured from moto or built by the layer."""

    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def status_code(self) -> int:
        return int(self.status.split()[0])

    def replace_body(self, body: bytes) -> None:
        self.body = body
        self.headers = [(name, value) for name, value in self.headers if name.lower() != "content-length"]
        self.headers.append(("Content-Length", str(len(body))))


def xml_response(body: bytes) -> Response:
    return Response(status_line(200), [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))], body)


def json_response(document: dict, status: int = 200) -> Response:
    body = json.dumps(document).encode()
    return Response(
        status_line(status), [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], body
    )


class AWSLayer:
    """The WSGI application that wraps moto's ``DomainDispatcherApplication``."""

    def __init__(self, moto_app, state: FakeState, control_app=None, *, verify_signatures: bool = True):
        self.moto_app = moto_app
        self.verify_signatures = verify_signatures
        self.state = state
        self.control_app = control_app
        self.report_generated_at: dict[str, datetime] = {}

    # WSGI entry point.
    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_fakeaws/") and self.control_app is not None:
            return self.control_app(environ, start_response)
        parsed = self.parse(environ)
        if parsed is None:
            return self.moto_app(environ, start_response)
        try:
            response = self.handle(environ, parsed)
        except AWSError as error:
            response = Response(*error_response(parsed.protocol, parsed.service, error))
        except Exception:
            # A bug in the layer or in moto: return a 500 as AWS does for its own faults, and log the trace.
            logger.exception("Failed to handle %s:%s", parsed.service, parsed.action)
            error = AWSError("InternalFailure", "fakeaws failed to handle the request; see its log for the trace", 500)
            response = Response(*error_response(parsed.protocol, parsed.service, error))
        start_response(response.status, response.headers)
        return [response.body]

    def parse(self, environ) -> ParsedRequest | None:
        """Parse a signed IAM, STS or Account request, or return None for anything else."""
        match = CREDENTIAL_RE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if match is None:
            return None
        access_key_id, region, service = match.groups()
        if service not in ("iam", "sts", "account"):
            if access_key_id.startswith(ADMIN_KEY_PREFIX):
                environ["HTTP_X_MOTO_ACCOUNT_ID"] = access_key_id[len(ADMIN_KEY_PREFIX) :]
            return None

        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        if service == "account":
            # Account is a REST-JSON service: POST /getContactInformation and so on.
            name = environ.get("PATH_INFO", "").strip("/")
            action = name[:1].upper() + name[1:]
            try:
                params = json.loads(body) if body else {}
            except ValueError:
                params = {}
            return ParsedRequest(service, region, access_key_id, action, "rest-json", params, body)

        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            query.update(parse_qs(body.decode(), keep_blank_values=True))
        params = {name: values[-1] for name, values in query.items()}
        return ParsedRequest(service, region, access_key_id, params.get("Action", ""), "query", params, body)

    # Request handling.
    def handle(self, environ, request: ParsedRequest) -> Response:
        caller = self.authenticate(environ, request)
        if caller.kind != "admin":
            fault = self.apply_limits(request, caller)
            if fault is not None and fault.kind == "error":
                raise AWSError(fault.code, fault.message or f"Injected {fault.code} for {request.action}", fault.status)
            self.authorize(request, caller)
        else:
            fault = None

        response = self.dispatch(environ, request, caller)

        if fault is not None and fault.kind == "malformed":
            logger.info("Returning a truncated body for %s", request.action)
            response.replace_body(response.body[: len(response.body) // 2])
        return response

    def authenticate(self, environ, request: ParsedRequest) -> Caller:
        key = request.access_key_id
        if key.startswith(ADMIN_KEY_PREFIX):
            account_id = key[len(ADMIN_KEY_PREFIX) :]
            environ["HTTP_X_MOTO_ACCOUNT_ID"] = account_id
            caller = Caller(
                account_id=account_id,
                arn=f"arn:aws:iam::{account_id}:root",
                kind="admin",
                secret_access_key=ADMIN_SECRET,
            )
            if self.verify_signatures:
                self.check_signature(environ, request, caller.secret_access_key)
            return caller
        caller = moto_state.resolve_caller(key)
        if caller is None:
            logger.info("Rejecting %s: access key %s is unknown", request.action, key)
            if request.protocol == "rest-json":
                raise AWSError(
                    "UnrecognizedClientException", "The security token included in the request is invalid.", 403
                )
            raise AWSError("InvalidClientTokenId", "The security token included in the request is invalid.", 403)
        if self.verify_signatures:
            self.check_signature(environ, request, caller.secret_access_key)
        if caller.kind == "assumed-role":
            self.check_session_token(environ, request, caller)
        return caller

    @staticmethod
    def check_signature(environ, request: ParsedRequest, secret_access_key: str | None) -> None:
        valid = secret_access_key is not None and signing.is_signature_valid(
            environ,
            request.body,
            access_key_id=request.access_key_id,
            secret_access_key=secret_access_key,
            region=request.region,
            service=request.service,
        )
        if valid:
            return
        logger.info("Rejecting %s: signature does not match for access key %s", request.action, request.access_key_id)
        message = (
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
        )
        code = "InvalidSignatureException" if request.protocol == "rest-json" else "SignatureDoesNotMatch"
        raise AWSError(code, message, 403)

    @staticmethod
    def check_session_token(environ, request: ParsedRequest, caller: Caller) -> None:
        """Reject STS session keys sent without their own session token, or after they expired."""
        session = caller.session
        if session is None or environ.get("HTTP_X_AMZ_SECURITY_TOKEN") != session.session_token:
            logger.info("Rejecting %s: session token missing or wrong for %s", request.action, caller.arn)
            code = "UnrecognizedClientException" if request.protocol == "rest-json" else "InvalidClientTokenId"
            raise AWSError(code, "The security token included in the request is invalid.", 403)
        if utcnow() >= session.expiration:
            logger.info("Rejecting %s: session of %s expired", request.action, caller.arn)
            if request.protocol == "rest-json":
                raise AWSError("ExpiredTokenException", "The security token included in the request is expired", 403)
            raise AWSError("ExpiredToken", "The security token included in the request is expired", 400)

    def apply_limits(self, request: ParsedRequest, caller: Caller) -> Fault | None:
        """Count the call, then apply latency, the rate limit and injected faults; return the due fault."""
        state = self.state
        state.count_call(request.action)
        if state.latency_ms:
            time.sleep(state.latency_ms / 1000)
        if not state.take_token(caller.account_id):
            # DEBUG, because a benchmark may throttle thousands of calls; FakeAWS.calls counts them.
            logger.debug("Throttling %s for account %s", request.action, caller.account_id)
            raise AWSError("Throttling", "Rate exceeded", 400)
        fault = state.pop_fault(request.action, caller.account_id)
        if fault is None:
            return None
        logger.info("Injecting a %s fault into %s for account %s", fault.kind, request.action, caller.account_id)
        if fault.kind == "hang":
            state.release_hangs.wait(fault.hang_seconds)
        return fault

    def authorize(self, request: ParsedRequest, caller: Caller) -> None:
        """Raise AccessDenied unless the assumed role's policies allow the action."""
        if caller.kind != "assumed-role" or request.service not in ENFORCED_SERVICES:
            return
        role = moto_state.find_role(caller.account_id, caller.role_name)
        documents = moto_state.role_policy_documents(role) if role else []
        action = f"{request.service}:{request.action}"
        decision = evaluation.evaluate_action(documents, action)
        if decision == evaluation.ALLOW:
            return
        self.state.count_denied()
        reason = (
            "with an explicit deny in an identity-based policy"
            if decision == evaluation.EXPLICIT_DENY
            else f"because no identity-based policy allows the {action} action"
        )
        logger.info("Denying %s to %s", action, caller.arn)
        if request.protocol == "rest-json":
            resource = f"arn:aws:account::{caller.account_id}:account"
            raise AWSError(
                "AccessDeniedException",
                f"User: {caller.arn} is not authorized to perform: {action} on resource: {resource} {reason}",
                403,
            )
        resource = self.resource_arn(request, caller.account_id)
        raise AWSError(
            "AccessDenied",
            f"User: {caller.arn} is not authorized to perform: {action} on resource: {resource} {reason}",
            403,
        )

    @staticmethod
    def resource_arn(request: ParsedRequest, account_id: str) -> str:
        params = request.params
        if params.get("UserName"):
            user = moto_state.find_user(account_id, params["UserName"])
            return user.arn if user else f"arn:aws:iam::{account_id}:user/{params['UserName']}"
        if params.get("RoleName"):
            role = moto_state.find_role(account_id, params["RoleName"])
            return role.arn if role else f"arn:aws:iam::{account_id}:role/{params['RoleName']}"
        if "User" in request.action:
            return f"arn:aws:iam::{account_id}:user/"
        if "Role" in request.action:
            return f"arn:aws:iam::{account_id}:role/"
        return "*"

    def dispatch(self, environ, request: ParsedRequest, caller: Caller) -> Response:
        if request.service == "account":
            return account_service.handle(self.state, request, caller, lambda: self.forward(environ))
        if request.service == "sts":
            if request.action == "AssumeRole":
                self.check_trust(request, caller)
            return self.forward(environ)
        return self.dispatch_iam(environ, request, caller)

    def check_trust(self, request: ParsedRequest, caller: Caller) -> None:
        """Raise AccessDenied, as STS does, unless the role exists and its trust policy lets the caller in."""
        if caller.kind == "admin":
            return
        role_arn = request.params.get("RoleArn", "")
        match = re.fullmatch(r"arn:aws:iam::(\d{12}):role/(?:.*/)?([\w+=,.@-]+)", role_arn)
        role = moto_state.find_role(match.group(1), match.group(2)) if match else None
        trust = evaluation.TrustRequest(
            caller_account_id=caller.account_id, caller_arn=caller.arn, external_id=request.params.get("ExternalId")
        )
        if role is not None and evaluation.is_assume_role_allowed(role.assume_role_policy_document, trust):
            return
        self.state.count_denied()
        logger.info("Denying sts:AssumeRole on %s to %s", role_arn, caller.arn)
        raise AWSError(
            "AccessDenied",
            f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
            403,
        )

    def dispatch_iam(self, environ, request: ParsedRequest, caller: Caller) -> Response:
        backend = moto_state.iam_backend(caller.account_id)
        action = request.action
        params = request.params

        if action == "DeleteUser":
            user = moto_state.find_user(caller.account_id, params.get("UserName", ""))
            message = iam_corrections.user_delete_conflict(backend, user) if user else None
            if message:
                raise AWSError("DeleteConflict", message, 409)
        elif action == "DeleteRole":
            role = moto_state.find_role(caller.account_id, params.get("RoleName", ""))
            error = iam_corrections.role_delete_error(backend, role) if role else None
            if error:
                raise error
        elif action == "GenerateCredentialReport":
            self.report_generated_at[caller.account_id] = datetime.now(UTC)
        elif action == "GetCredentialReport":
            generated_at = self.report_generated_at.get(caller.account_id)
            if generated_at is None or not backend.credential_report:
                raise AWSError("ReportNotPresent", "Credential report not present", 410)
            return xml_response(iam_corrections.credential_report_response(backend, generated_at))
        elif action == "ListServiceSpecificCredentials":
            # NOTE: moto 5.2.5 has no service-specific credentials, so every user has none.
            return xml_response(iam_corrections.empty_list_response(action, "ServiceSpecificCredentials"))
        elif action in iam_corrections.PAGINATED_RESULT_KEYS:
            return self.forward_paginated(environ, request)
        elif action in ("CreateUser", "CreateGroup"):
            return self.forward_with_aws_style_id(environ, request, caller)
        return self.forward(environ)

    def forward_with_aws_style_id(self, environ, request: ParsedRequest, caller: Caller) -> Response:
        """Create the user or group in moto, then give it an AWS-shaped id (AIDA..., AGPA...)."""
        response = self.forward(environ)
        if response.status_code != 200:
            return response
        backend = moto_state.iam_backend(caller.account_id)
        if request.action == "CreateUser":
            entity, kind = backend.users.get(request.params.get("UserName", "")), "user"
        else:
            entity, kind = backend.groups.get(request.params.get("GroupName", "")), "group"
        changed = moto_state.make_aws_style_id(entity, kind) if entity else None
        if changed:
            old_id, new_id = changed
            response.replace_body(response.body.replace(old_id.encode(), new_id.encode()))
        return response

    def forward_paginated(self, environ, request: ParsedRequest) -> Response:
        """Ask moto for the complete list, then return the page that Marker and MaxItems select."""
        params = dict(request.params)
        offset = iam_corrections.decode_marker(params.pop("Marker")) if params.get("Marker") else 0
        max_items = iam_corrections.parse_max_items(params.pop("MaxItems", None))
        params["MaxItems"] = iam_corrections.UNLIMITED_MAX_ITEMS
        body = urlencode(params).encode()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded; charset=utf-8"
        environ["QUERY_STRING"] = ""
        window = None
        if request.action in iam_corrections.WINDOWED_ACTIONS:
            window = iam_corrections.PageWindow(offset, max_items)
        iam_corrections.set_page_window(window)
        try:
            response = self.forward(environ)
        finally:
            iam_corrections.set_page_window(None)
        if response.status_code != 200:
            return response
        total = window.total if window else None
        page = iam_corrections.paginate_response(response.body, request.action, offset, max_items, total)
        response.replace_body(page)
        return response

    def forward(self, environ) -> Response:
        """Pass the request to moto and capture its complete response."""
        captured: dict = {}
        chunks: list[bytes] = []

        def start_response(status, headers, exc_info=None):
            captured["status"] = status
            captured["headers"] = list(headers)
            return chunks.append

        result = self.moto_app(environ, start_response)
        try:
            chunks.extend(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return Response(captured["status"], captured["headers"], b"".join(chunks))
