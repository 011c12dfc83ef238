"""Run the fake AWS in the foreground: ``python -m fakeaws --port PORT [--seed demo | --seed large:N]``."""

import argparse
import logging
import signal
import sys
import threading

from .fake import DEFAULT_PLATFORM_ACCOUNT_ID, FakeAWS

logger = logging.getLogger("fakeaws")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m fakeaws",
        description="Serve a fake AWS (IAM, STS, Account) on 127.0.0.1 for Rollcall's demo and benchmarks.",
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: a free port)")
    parser.add_argument("--seed", help="data to load at start: 'demo', or 'large:N' for one account with N users")
    parser.add_argument("--latency-ms", type=float, default=0, help="delay added to every call, in milliseconds")
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="requests per second per AWS account before Throttling (default: no limit)",
    )
    parser.add_argument(
        "--burst", type=float, default=None, help="token bucket size in requests (default: one second of --rate)"
    )
    parser.add_argument(
        "--platform-account-id",
        default=DEFAULT_PLATFORM_ACCOUNT_ID,
        help="account id of the Rollcall platform principal",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request at DEBUG level")
    return parser.parse_args(argv)


def print_description(fake: FakeAWS, description: dict | None) -> None:
    credentials = fake.platform_credentials
    print(f"fakeaws listening on {fake.endpoint_url}")
    print(f"  AWS_ENDPOINT_URL={fake.endpoint_url}")
    print(
        f"  platform account {fake.platform_account_id}: AWS_ACCESS_KEY_ID={credentials['aws_access_key_id']} "
        f"AWS_SECRET_ACCESS_KEY={credentials['aws_secret_access_key']}"
    )
    print(f"  control API: {fake.endpoint_url}/_fakeaws/ (info, calls, reset, faults, config, seed)")
    for account in (description or {}).get("accounts", []):
        print(f"account {account['account_id']} ({account['name']}, {account['users']} users)")
        for role in account["roles"]:
            print(f"  {role['policy']:<9} role {role['role_arn']}  external id {role['external_id']}")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    fake = FakeAWS(
        latency_ms=args.latency_ms,
        rate=args.rate,
        burst=args.burst,
        port=args.port,
        platform_account_id=args.platform_account_id,
    )
    fake.start()
    try:
        description = fake.seed(args.seed) if args.seed else None
    except ValueError as error:
        logger.error("Seeding failed: %s", error)
        fake.stop()
        return 2
    print_description(fake, description)

    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
