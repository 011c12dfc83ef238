import os
import socket
import subprocess
import sys
from pathlib import Path

import boto3
from fakeaws_support import NO_RETRIES

from fakeaws import RemoteFakeAWS

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_command_line_serves_demo():
    port = free_port()
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "fakeaws", "--port", str(port), "--seed", "demo", "--latency-ms", "1"],
        cwd=REPOSITORY_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines = []
        while len(lines) < 20:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.strip().startswith("extended") and "333333333333" in line:
                break
        output = "".join(lines)
        endpoint = f"http://127.0.0.1:{port}"

        assert f"fakeaws listening on {endpoint}" in output
        assert (
            "arn:aws:iam::222222222222:role/RollcallAccess  external id rollcall-demo-222222222222-baseline" in output
        )
        sts = boto3.client(
            "sts",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="AKIAROLLCALLPLATFORM",
            aws_secret_access_key="fakeaws-platform-secret-not-a-real-key00",
            config=NO_RETRIES,
        )
        sts.assume_role(
            RoleArn="arn:aws:iam::333333333333:role/RollcallAccessExtended",
            RoleSessionName="cli-test",
            ExternalId="rollcall-demo-333333333333-extended",
        )
        assert RemoteFakeAWS(endpoint).calls["calls"] == {"AssumeRole": 1}
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0
