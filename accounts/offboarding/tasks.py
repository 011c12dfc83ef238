"""django-q2 tasks of offboarding: thin wrappers that take primary keys and call the services."""

import logging

from accounts.offboarding import services

logger = logging.getLogger(__name__)


def run_offboarding_task(offboarding_id: int) -> str:
    """Run one offboarding and return its final status."""
    try:
        return services.run_offboarding(offboarding_id=offboarding_id).status
    except Exception as error:
        # Anything other than an AWS error is a defect, and the record must not stay running after it.
        logger.exception("Offboarding=%s stopped on an unexpected error", offboarding_id)
        return services.fail_offboarding(offboarding_id=offboarding_id, error=error).status
