import pytest
from django.urls import reverse

from integrations.models import Integration, SyncRun

pytestmark = pytest.mark.django_db


def test_sync_run_admin_is_read_only(admin_client):
    integration = Integration.objects.create(
        name="Production",
        role_arn="arn:aws:iam::222222222222:role/RollcallAccess",
        external_id="e" * 40,
        aws_account_id="222222222222",
    )
    run = SyncRun.objects.create(integration=integration, trigger=SyncRun.Trigger.MANUAL)
    change_url = reverse("admin:integrations_syncrun_change", args=[run.pk])

    response = admin_client.post(change_url, {"status": SyncRun.Status.FAILED})

    assert response.status_code == 403
    run.refresh_from_db()
    assert run.status == SyncRun.Status.QUEUED
    assert admin_client.get(reverse("admin:integrations_syncrun_add")).status_code == 403
    assert admin_client.post(reverse("admin:integrations_syncrun_delete", args=[run.pk])).status_code == 403
    assert SyncRun.objects.filter(pk=run.pk).exists()
