"""Settings for the test suite: production settings with DEBUG off and test-only values filled in."""

import os

os.environ["ENV_FILE"] = os.devnull
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-used-anywhere-else-0123456789")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ["DEBUG"] = "false"

from config.settings import *  # noqa: E402, F403

# Password hashing at full strength only slows the suite down.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Jobs run inline, right after the transaction that queued them commits, so tests see their
# results without a worker. Tests of the worker itself run a real cluster.
Q_CLUSTER = {**Q_CLUSTER, "sync": True}  # noqa: F405

# `make test-scale` may run while another copy of the suite uses the same PostgreSQL server, so each
# pytest process gets its own test database.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": f"test_rollcall_{os.getpid()}"}  # noqa: F405
