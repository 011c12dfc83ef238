"""Deterministic data sets: the "demo" seed (two customer accounts) and the "large:N" seed for benchmarks.

Seeds write straight into moto's backends, because 5,000 users over HTTP take minutes. Every random
choice comes from a fixed seed, and moto's own id generator is seeded too, so two runs produce the
same users, keys and ids. Dates are relative to the time of seeding, so "unused for months" stays true.
"""

import json
import random
from datetime import UTC, datetime, timedelta

from moto.moto_api._internal import mock_random

from integrations.connectors.aws import policies

from . import moto_state

RANDOM_SEED = 20261204
DEMO_ACCOUNTS = (
    {
        "account_id": "222222222222",
        "name": "Acme Production",
        "humans": 55,
        "services": 35,
        "contact_information": {
            "FullName": "Dana Whitfield",
            "CompanyName": "Acme Corporation",
            "PhoneNumber": "+1-206-555-0100",
            "AddressLine1": "410 Terry Avenue North",
            "City": "Seattle",
            "StateOrRegion": "WA",
            "PostalCode": "98109",
            "CountryCode": "US",
            "WebsiteUrl": "https://acme.example.com",
        },
    },
    {
        "account_id": "333333333333",
        "name": "Acme Japan",
        "humans": 35,
        "services": 25,
        "contact_information": {
            "FullName": "Haruka Sato",
            "CompanyName": "Acme Japan K.K.",
            "PhoneNumber": "+81-3-5555-0100",
            "AddressLine1": "1-2-3 Shibuya",
            "City": "Shibuya-ku",
            "StateOrRegion": "Tokyo",
            "PostalCode": "150-0002",
            "CountryCode": "JP",
        },
    },
)
LARGE_ACCOUNT_ID = "444444444444"
BASELINE_ROLE_NAME = "RollcallAccess"
EXTENDED_ROLE_NAME = "RollcallAccessExtended"

FIRST_NAMES = (
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj",
    "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yuki", "kenji", "aiko", "hiro", "mei",
)  # fmt: skip
LAST_NAMES = (
    "smith", "jones", "garcia", "miller", "davis", "martin", "lee", "walker", "hall", "young", "king",
    "wright", "tanaka", "suzuki", "kato", "ito", "nakamura", "kobayashi",
)  # fmt: skip
SERVICE_NAMES = (
    "svc-backup", "svc-billing-export", "ci-deployer", "terraform", "github-actions", "datadog-integration",
    "svc-log-shipper", "svc-reporting", "jenkins", "svc-s3-sync", "legacy-ftp-bridge", "svc-metrics",
)  # fmt: skip
GROUPS = ("Developers", "Admins", "ReadOnly", "Billing", "DataScience")
SERVICES_USED = ("s3", "iam", "ec2", "sts", "dynamodb", "lambda", "cloudwatch")
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1")
# Service principals and the role names AWS gives their service-linked roles. moto 5.2.5 would name
# the first two AWSServiceRoleForsupport and AWSServiceRoleFortrustedadvisor.
SERVICE_LINKED_ROLES = {
    "support.amazonaws.com": "AWSServiceRoleForSupport",
    "trustedadvisor.amazonaws.com": "AWSServiceRoleForTrustedAdvisor",
    "autoscaling.amazonaws.com": "AWSServiceRoleForAutoScaling",
}
DEMO_PASSWORD = "Demo-Passw0rd-Not-Real!"
DEVELOPER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:*", "dynamodb:*", "logs:*"], "Resource": "*"}],
}
INLINE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"}],
}


def external_id_for(account_id: str, policy: str) -> str:
    """Return the fixed demo external id of a role: 35 characters or more, like the product's own."""
    return f"rollcall-demo-{account_id}-{policy}"


def email_tag(rng: random.Random, first: str, last: str) -> dict[str, str] | None:
    """Return an email tag in one of the spellings found in real accounts, or None for no tag."""
    address = f"{first}.{last}@acme.example.com"
    variants = (
        {"Key": "email", "Value": address},
        {"Key": "Email", "Value": address.title()},
        {"Key": "EMAIL", "Value": f"  {address.upper()} "},
        {"Key": "e-mail", "Value": address},
        {"Key": "Email", "Value": f"{first}.{last} at acme"},
        None,
    )
    return rng.choices(variants, weights=(30, 25, 10, 5, 5, 25))[0]


def days_ago(now: datetime, days: float) -> datetime:
    return now - timedelta(days=days)


class Seeder:
    """Writes users, groups, policies and roles of one account into moto's backends."""

    def __init__(self, fake, account_id: str, rng: random.Random, now: datetime):
        self.fake = fake
        self.account_id = account_id
        self.rng = rng
        self.now = now
        self.backend = moto_state.iam_backend(account_id)
        self.managed_policy_arn: str | None = None

    def create_groups(self) -> None:
        if self.backend.users or self.backend.groups:
            raise ValueError(f"account {self.account_id} already has users or groups: reset the fake before seeding it")
        policy = self.backend.create_policy(
            description="Developer access to data stores",
            path="/",
            policy_document=json.dumps(DEVELOPER_POLICY),
            policy_name="DeveloperAccess",
            tags=[],
        )
        self.managed_policy_arn = policy.arn
        for name in GROUPS:
            group = self.backend.create_group(name)
            moto_state.make_aws_style_id(group, "group")

    def create_user(self, name: str, *, path: str = "/", tags: list | None = None, created_days_ago: float):
        user = self.backend.create_user(region_name="us-east-1", user_name=name, path=path, tags=tags or [])
        moto_state.make_aws_style_id(user, "user")
        user.create_date = days_ago(self.now, created_days_ago)
        return user

    def add_key(self, user, *, created_days_ago: float, used_days_ago: float | None, active: bool = True):
        key = self.backend.create_access_key(user.name, status="Active" if active else "Inactive")
        key.create_date = days_ago(self.now, created_days_ago)
        if used_days_ago is not None:
            self.fake.set_last_used(
                self.account_id,
                key.access_key_id,
                when=days_ago(self.now, used_days_ago),
                service=self.rng.choice(SERVICES_USED),
                region=self.rng.choice(REGIONS),
            )
        return key

    def create_human(self, first: str, last: str, index: int) -> None:
        rng = self.rng
        name = rng.choice((f"{first}.{last}", f"{first[0]}{last}", f"{first}-{last}{index}"))
        if name in self.backend.users:
            name = f"{name}{index}"
        tag = email_tag(rng, first, last)
        tags = [tag] if tag else []
        if rng.random() < 0.3:
            tags.append({"Key": "team", "Value": rng.choice(("platform", "data", "web", "finance"))})
        created = rng.uniform(30, 1500)
        user = self.create_user(name, path=rng.choice(("/", "/", "/people/")), tags=tags, created_days_ago=created)

        if rng.random() < 0.85:
            self.backend.create_login_profile(name, DEMO_PASSWORD)
            usage = rng.random()
            if usage < 0.55:
                user.password_last_used = days_ago(self.now, rng.uniform(0, min(30, created)))
            elif usage < 0.85:
                user.password_last_used = days_ago(self.now, rng.uniform(90, max(91, created)))
        if user.password is not None and rng.random() < 0.6:
            serial = f"arn:aws:iam::{self.account_id}:mfa/{name}"
            self.backend.enable_mfa_device(name, serial, "123456", "654321")
        for group in rng.sample(GROUPS, k=rng.choice((0, 1, 1, 2))):
            self.backend.add_user_to_group(group, name)
        if rng.random() < 0.25:
            self.add_key(user, created_days_ago=rng.uniform(1, created), used_days_ago=rng.choice((None, 2, 45, 200)))
        if rng.random() < 0.1:
            self.backend.put_user_policy(name, "personal-s3", json.dumps(INLINE_POLICY))
        if rng.random() < 0.1:
            self.backend.attach_user_policy(self.managed_policy_arn, name)
        if rng.random() < 0.04:
            self.backend.upload_ssh_public_key(name, f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{index:04d}demo {name}")

    def create_service(self, base: str, index: int) -> None:
        rng = self.rng
        name = base if base not in self.backend.users else f"{base}-{index}"
        path = rng.choice(("/", "/service/", "/automation/"))
        tags = [{"Key": "owner", "Value": rng.choice(("platform", "data", "finance"))}] if rng.random() < 0.5 else []
        created = rng.uniform(60, 2000)
        user = self.create_user(name, path=path, tags=tags, created_days_ago=created)
        pattern = rng.random()
        if pattern < 0.4:
            self.add_key(user, created_days_ago=rng.uniform(30, created), used_days_ago=rng.uniform(0, 3))
        elif pattern < 0.6:
            self.add_key(user, created_days_ago=rng.uniform(30, created), used_days_ago=None)
        elif pattern < 0.85:
            self.add_key(
                user, created_days_ago=rng.uniform(200, max(201, created)), used_days_ago=rng.uniform(120, 400)
            )
        else:
            self.add_key(
                user, created_days_ago=rng.uniform(300, max(301, created)), used_days_ago=rng.uniform(200, 300)
            )
            self.add_key(
                user, created_days_ago=rng.uniform(1, 30), used_days_ago=rng.uniform(0, 1), active=rng.random() < 0.7
            )
        if rng.random() < 0.2:
            self.backend.put_user_policy(name, "service-access", json.dumps(INLINE_POLICY))

    def create_workload_roles(self) -> None:
        for service_name, role_name in SERVICE_LINKED_ROLES.items():
            role = self.backend.create_service_linked_role(service_name, description="", suffix="")
            role.name = role_name
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
        self.backend.create_role(
            "app-server", json.dumps(trust), "/", None, "Instance role of the web servers", [], "3600"
        )
        self.backend.put_role_policy("app-server", "app-data", json.dumps(INLINE_POLICY))
        self.backend.create_instance_profile("app-server", "/", ["app-server"])


def _description(fake, accounts: list[dict]) -> dict:
    return {"endpoint_url": fake.endpoint_url, "platform_account_id": fake.platform_account_id, "accounts": accounts}


def _customer_roles(fake, account_id: str) -> list[dict]:
    roles = []
    for role_name, policy, actions in (
        (BASELINE_ROLE_NAME, "baseline", policies.BASELINE_ACTIONS),
        (EXTENDED_ROLE_NAME, "extended", policies.EXTENDED_ACTIONS),
    ):
        external_id = external_id_for(account_id, policy)
        arn = fake.create_customer_role(
            account_id=account_id, role_name=role_name, external_id=external_id, actions=actions, policy_name=role_name
        )
        roles.append({"role_name": role_name, "role_arn": arn, "external_id": external_id, "policy": policy})
    return roles


def seed_demo(fake) -> dict:
    """Create the demo accounts: about 150 users, groups, policies, workload and customer roles."""
    mock_random.seed(RANDOM_SEED)
    rng = random.Random(RANDOM_SEED)
    now = datetime.now(UTC)
    accounts = []
    for spec in DEMO_ACCOUNTS:
        account_id = spec["account_id"]
        fake.create_account(account_id, contact_information=spec["contact_information"])
        seeder = Seeder(fake, account_id, rng, now)
        seeder.create_groups()
        for index in range(spec["humans"]):
            seeder.create_human(rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), index)
        for index in range(spec["services"]):
            seeder.create_service(SERVICE_NAMES[index % len(SERVICE_NAMES)], index)
        seeder.create_workload_roles()
        accounts.append(
            {
                "account_id": account_id,
                "name": spec["name"],
                "users": len(seeder.backend.users),
                "roles": _customer_roles(fake, account_id),
            }
        )
    return _description(fake, accounts)


def seed_large(fake, n_users: int, *, account_id: str = LARGE_ACCOUNT_ID) -> dict:
    """Create one account with ``n_users`` users: two thirds humans, one third services with keys."""
    if n_users < 1:
        raise ValueError(f"invalid user count {n_users}: must be 1 or more")
    mock_random.seed(RANDOM_SEED + n_users)
    rng = random.Random(RANDOM_SEED + n_users)
    now = datetime.now(UTC)
    fake.create_account(
        account_id,
        contact_information={**DEMO_ACCOUNTS[0]["contact_information"], "CompanyName": f"Large Corp ({n_users} users)"},
    )
    seeder = Seeder(fake, account_id, rng, now)
    seeder.create_groups()
    for index in range(n_users):
        if index % 3 == 2:
            seeder.create_service(f"svc-{index:06d}", index)
        else:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            seeder.create_human(f"{first}{index:06d}", last, index)
    seeder.create_workload_roles()
    account = {
        "account_id": account_id,
        "name": f"Large Corp ({n_users} users)",
        "users": len(seeder.backend.users),
        "roles": _customer_roles(fake, account_id),
    }
    return _description(fake, [account])


def load(fake, name: str, **options) -> dict:
    """Load a seed by name: "demo" or "large:N"."""
    if name == "demo":
        if options:
            raise ValueError(f"the demo seed takes no options, got {sorted(options)}")
        return seed_demo(fake)
    if name.startswith("large:"):
        count = name.split(":", 1)[1]
        if not count.isdigit():
            raise ValueError(f"invalid seed {name!r}: expected large:N with N a whole number of users")
        return seed_large(fake, int(count), **options)
    raise ValueError(f"unknown seed {name!r}: use 'demo' or 'large:N'")
