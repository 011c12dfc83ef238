"""AWS-shaped error responses, so botocore parses the error code and HTTP status as it does for AWS."""

import json
import uuid
from xml.sax.saxutils import escape

# XML namespaces of the Query-protocol services whose errors the layer builds itself.
QUERY_NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}

HTTP_REASONS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class AWSError(Exception):
    """An error that the layer returns in place of moto's response."""

    def __init__(self, code: str, message: str, status: int = 400, *, sender: bool | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        # AWS marks client faults as "Sender" and its own faults as "Receiver".
        self.sender = status < 500 if sender is None else sender


def status_line(status: int) -> str:
    return f"{status} {HTTP_REASONS.get(status, 'Error')}"


def new_request_id() -> str:
    return str(uuid.uuid4())


def query_error_body(service: str, error: AWSError, request_id: str) -> bytes:
    """Build the XML ErrorResponse that IAM and STS return."""
    namespace = QUERY_NAMESPACES.get(service, QUERY_NAMESPACES["iam"])
    error_type = "Sender" if error.sender else "Receiver"
    text = (
        f'<ErrorResponse xmlns="{namespace}">\n'
        "  <Error>\n"
        f"    <Type>{error_type}</Type>\n"
        f"    <Code>{escape(error.code)}</Code>\n"
        f"    <Message>{escape(error.message)}</Message>\n"
        "  </Error>\n"
        f"  <RequestId>{request_id}</RequestId>\n"
        "</ErrorResponse>\n"
    )
    return text.encode("utf-8")


def json_error_body(error: AWSError) -> bytes:
    """Build the JSON body that REST-JSON services such as Account return."""
    return json.dumps({"message": error.message}).encode("utf-8")


def error_response(protocol: str, service: str, error: AWSError) -> tuple[str, list[tuple[str, str]], bytes]:
    """Return the status line, headers and body of ``error`` in the protocol of the service."""
    request_id = new_request_id()
    if protocol == "rest-json":
        body = json_error_body(error)
        headers = [
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", error.code),
            ("x-amzn-RequestId", request_id),
        ]
    else:
        body = query_error_body(service, error, request_id)
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    headers.append(("Content-Length", str(len(body))))
    return status_line(error.status), headers, body
