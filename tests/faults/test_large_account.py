"""One AWS account with 5,000 IAM users syncs whole."""

import pytest

from accounts.models import SaaSAccount
from integrations.models import SyncRun
from tests.integrations.test_sync import connect_seed, sync

pytestmark = [pytest.mark.django_db, pytest.mark.large]

USERS = 5000


def test_five_thousand_users_sync_whole(fake_aws):
    integration = connect_seed(fake_aws, USERS, account_id="666666666666", fast=True)

    run = sync(integration)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error_message
    assert SaaSAccount.objects.filter(integration=integration, kind="iam_user").count() == USERS
    assert run.seen_count >= USERS
