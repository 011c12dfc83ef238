"""Run Rollcall in the foreground: the web server and one django-q2 worker, and the fake AWS demo
when no AWS credentials are configured. One Ctrl-C stops them all.

`make run` calls this after installing and compiling messages. Variables: RUN_HOST and RUN_PORT
(web server address, default 127.0.0.1:8000), FAKEAWS_PORT (default 4566), USE_FAKE_AWS
(auto, true or false; default auto), and ADMIN_USERNAME / ADMIN_EMAIL / ADMIN_PASSWORD.
"""

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
ENV_FILE = PROJECT / ".env"
# django-q2's cluster finishes the jobs it is running before it stops.
STOP_GRACE_SECONDS = 30


def ensure_env_file() -> None:
    """Create a local .env on first run, so the product starts without any step done by hand."""
    if ENV_FILE.exists():
        return
    ENV_FILE.write_text(
        "# Created by `make run` for local use. See .env.example for every variable.\n"
        "DEBUG=true\n"
        f"SECRET_KEY={secrets.token_urlsafe(50)}\n",
        encoding="utf-8",
    )
    print(f"Created {ENV_FILE.name} for local use (DEBUG on, a new secret key).")


def manage(*arguments: str, environment: dict[str, str]) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *arguments],
        cwd=PROJECT,
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


def aws_credentials_configured(environment: dict[str, str]) -> bool:
    """Tell whether boto3's credential chain finds credentials, without asking instance metadata.

    Instance metadata is left out because asking it sends a request to a link-local address that
    only exists on EC2; set USE_FAKE_AWS=false to use an instance role there.
    """
    probe = "import boto3, sys; sys.exit(0 if boto3.Session().get_credentials() is not None else 1)"
    result = subprocess.run(
        [PYTHON, "-c", probe],
        env={**environment, "AWS_EC2_METADATA_DISABLED": "true"},
        capture_output=True,
    )
    return result.returncode == 0


def use_fake_aws(environment: dict[str, str]) -> bool:
    choice = environment.get("USE_FAKE_AWS", "auto").strip().lower()
    if choice in {"true", "1", "yes"}:
        return True
    if choice in {"false", "0", "no"}:
        return False
    return not aws_credentials_configured(environment)


def start_fake_aws(environment: dict[str, str], port: int) -> tuple[subprocess.Popen, dict]:
    """Start the fake AWS with the demo seed and return its process and its connection details."""
    details_file = PROJECT / "var" / "fakeaws.json"
    details_file.parent.mkdir(exist_ok=True)
    details_file.unlink(missing_ok=True)
    process = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "fakeaws",
            "--port",
            str(port),
            "--seed",
            "demo",
            "--write-details",
            str(details_file),
        ],
        cwd=PROJECT,
        env=environment,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not details_file.exists():
        if process.poll() is not None:
            sys.exit(f"The fake AWS stopped with exit status {process.returncode}; see its output above.")
        if time.monotonic() > deadline:
            process.terminate()
            sys.exit("The fake AWS did not start within 120 seconds.")
        time.sleep(0.2)
    return process, json.loads(details_file.read_text(encoding="utf-8"))


def print_demo_instructions(details: dict) -> None:
    print("\nFake AWS demo: no AWS credentials were found, so Rollcall talks to a fake AWS at")
    print(f"  {details['endpoint_url']}")
    print("In the admin, open Integrations > Add integration and paste one of these:")
    for role in details["roles"]:
        print(f"  {role['description']}")
        print(f"    Role ARN:    {role['role_arn']}")
        print(f"    External ID: {role['external_id']}")


def stop_all(processes: list[subprocess.Popen]) -> None:
    """Stop every process group, giving each up to STOP_GRACE_SECONDS before SIGKILL.

    A second Ctrl-C while stopping is ignored, so it cannot leave a process behind.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for process in processes:
        if process.poll() is None:
            # Only the group's leader, because django-q2's cluster stops its own workers. With
            # django-q2 1.11.1, a SIGTERM to the whole group left the cluster running past 10 s.
            process.terminate()
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes:
        remaining = max(0.1, deadline - time.monotonic())
        try:
            process.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            print(f"{' '.join(process.args[:3])} did not stop within {STOP_GRACE_SECONDS} s; killing it.")
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def interrupt(signal_number, frame) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # Ctrl-C and `kill` both stop everything. A shell that starts this in the background may have
    # set SIGINT to be ignored, so the handlers are set here explicitly.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    ensure_env_file()
    environment = dict(os.environ)
    host = environment.get("RUN_HOST", "127.0.0.1")
    port = environment.get("RUN_PORT", "8000")
    processes: list[subprocess.Popen] = []

    demo_details = None
    if use_fake_aws(environment):
        fake, demo_details = start_fake_aws(environment, int(environment.get("FAKEAWS_PORT", "4566")))
        processes.append(fake)
        environment.update(
            {
                "AWS_ENDPOINT_URL": demo_details["endpoint_url"],
                "AWS_ACCESS_KEY_ID": demo_details["platform_credentials"]["aws_access_key_id"],
                "AWS_SECRET_ACCESS_KEY": demo_details["platform_credentials"]["aws_secret_access_key"],
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_EC2_METADATA_DISABLED": "true",
                "PLATFORM_AWS_ACCOUNT_ID": demo_details["platform_account_id"],
            }
        )

    try:
        manage("migrate", "--no-input", environment=environment)
        manage("ensure_schedules", environment=environment)
        print(manage("ensure_admin_user", environment=environment), end="")
    except subprocess.CalledProcessError as error:
        stop_all(processes)
        sys.stderr.write(error.stdout + error.stderr)
        return error.returncode

    processes.append(
        subprocess.Popen(
            [PYTHON, "manage.py", "runserver", f"{host}:{port}", "--noreload"],
            cwd=PROJECT,
            env=environment,
            start_new_session=True,
        )
    )
    processes.append(
        subprocess.Popen([PYTHON, "manage.py", "qcluster"], cwd=PROJECT, env=environment, start_new_session=True)
    )

    if demo_details:
        print_demo_instructions(demo_details)
    print(f"\nRollcall is at http://{host}:{port}/admin/ (log in with the admin user above).")
    print("Press Ctrl-C to stop the web server, the worker and the fake AWS.\n")

    exit_status = 0
    try:
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        stopped = next(process for process in processes if process.poll() is not None)
        exit_status = stopped.returncode or 1
        print(f"{' '.join(stopped.args[:3])} stopped with exit status {stopped.returncode}; stopping the rest.")
    except KeyboardInterrupt:
        print("\nStopping.")
    finally:
        stop_all(processes)
    return exit_status


if __name__ == "__main__":
    sys.exit(main())
