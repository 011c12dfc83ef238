"""The parts of the AWS Account service that moto 5.2.5 lacks: GetContactInformation and PutContactInformation."""

from .errors import AWSError
from .state import FakeState

REQUIRED_CONTACT_FIELDS = ("AddressLine1", "City", "CountryCode", "FullName", "PhoneNumber", "PostalCode")


def _target_account(request, caller) -> str:
    account_id = request.params.get("AccountId")
    if account_id and account_id != caller.account_id and caller.kind != "admin":
        # Reading another account's contact needs AWS Organizations, which the fake does not model.
        raise AWSError(
            "AccessDeniedException",
            f"User: {caller.arn} is not authorized to perform: account:{request.action} on account {account_id}",
            403,
        )
    return account_id or caller.account_id


def handle(state: FakeState, request, caller, forward):
    """Handle the contact information calls from the fake's state and pass other Account calls to moto."""
    from .layer import json_response

    if request.action == "GetContactInformation":
        account_id = _target_account(request, caller)
        contact = state.contact_information.get(account_id)
        if contact is None:
            raise AWSError("ResourceNotFoundException", "No contact information found for this account.", 404)
        return json_response({"ContactInformation": dict(contact)})

    if request.action == "PutContactInformation":
        account_id = _target_account(request, caller)
        contact = request.params.get("ContactInformation") or {}
        missing = [name for name in REQUIRED_CONTACT_FIELDS if not contact.get(name)]
        if missing:
            raise AWSError("ValidationException", f"Missing required contact fields: {', '.join(missing)}", 400)
        state.contact_information[account_id] = dict(contact)
        return json_response({})

    return forward()
