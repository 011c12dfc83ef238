import os


def test_fixture_sets_boto3_environment(fake_aws):
    credentials = fake_aws.platform_credentials

    assert os.environ["AWS_ENDPOINT_URL"] == fake_aws.endpoint_url
    assert fake_aws.endpoint_url.startswith("http://127.0.0.1:")
    assert os.environ["AWS_ACCESS_KEY_ID"] == credentials["aws_access_key_id"]
    assert os.environ["AWS_SECRET_ACCESS_KEY"] == credentials["aws_secret_access_key"]
    assert os.environ["AWS_DEFAULT_REGION"] == "us-east-1"
    assert os.environ["AWS_EC2_METADATA_DISABLED"] == "true"
    assert "AWS_SESSION_TOKEN" not in os.environ


def test_fixture_starts_empty(fake_aws):
    fake_aws.create_account("222222222222")
    fake_aws.inject_fault(action="ListUsers")
    fake_aws.reset()

    assert fake_aws.accounts == set()
    assert fake_aws.faults == []
    assert [user["UserName"] for user in fake_aws.iam(fake_aws.platform_account_id).list_users()["Users"]] == [
        "rollcall-platform"
    ]
