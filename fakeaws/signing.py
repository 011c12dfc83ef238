"""Verification of SigV4 request signatures, so a wrong secret access key fails as it does on AWS."""

import hmac
import re

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SIGNED_HEADERS_RE = re.compile(r"SignedHeaders=([^,\s]+)")
SIGNATURE_RE = re.compile(r"Signature=([0-9a-f]+)")


def _environ_key(header_name: str) -> str:
    if header_name in ("content-type", "content-length"):
        return header_name.upper().replace("-", "_")
    return "HTTP_" + header_name.upper().replace("-", "_")


def is_signature_valid(
    environ, body: bytes, *, access_key_id: str, secret_access_key: str, region: str, service: str
) -> bool:
    """Recompute the request's SigV4 signature with the secret and compare it with the one sent.

    The request is rebuilt from the headers that the client listed in SignedHeaders, so headers
    added on the way (by werkzeug or a proxy) do not matter. The request time is not checked.
    """
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    signed_headers = SIGNED_HEADERS_RE.search(authorization)
    sent_signature = SIGNATURE_RE.search(authorization)
    timestamp = environ.get("HTTP_X_AMZ_DATE")
    if signed_headers is None or sent_signature is None or not timestamp:
        return False

    headers = {name: environ.get(_environ_key(name), "") for name in signed_headers.group(1).split(";")}
    # werkzeug's development server keeps the undecoded request target in RAW_URI.
    target = environ.get("RAW_URI") or environ.get("PATH_INFO", "/")
    request = AWSRequest(
        method=environ["REQUEST_METHOD"], url=f"http://{headers.get('host', '')}{target}", data=body, headers=headers
    )
    request.context["timestamp"] = timestamp

    signer = SigV4Auth(Credentials(access_key_id, secret_access_key), service, region)
    string_to_sign = signer.string_to_sign(request, signer.canonical_request(request))
    expected = signer.signature(string_to_sign, request)
    return hmac.compare_digest(expected, sent_signature.group(1))
