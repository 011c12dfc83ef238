"""Rollcall settings, read from the environment and an optional `.env` file through django-environ.

`.env.example` lists every variable. Settings fail closed: without DEBUG, a missing SECRET_KEY or
ALLOWED_HOSTS stops start-up with a message naming the variable to set.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# ENV_FILE names another file to read instead of .env. The test suite points it at /dev/null, so a
# developer's .env never changes what the tests see.
environ.Env.read_env(env.str("ENV_FILE", default="") or str(BASE_DIR / ".env"), overwrite=False)

DEBUG = env.bool("DEBUG", default=False)


def _required(name: str, value):
    if not value:
        raise ImproperlyConfigured(
            f"{name} is not set. Set {name} in the environment or in .env "
            f"(see .env.example), or set DEBUG=true for local development."
        )
    return value


SECRET_KEY = env.str("SECRET_KEY", default="")
if DEBUG and not SECRET_KEY:
    # Only a development server with DEBUG on may run on a throwaway key.
    SECRET_KEY = "insecure-development-key-set-SECRET_KEY-in-production"
_required("SECRET_KEY", SECRET_KEY)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
if not DEBUG:
    _required("ALLOWED_HOSTS", ALLOWED_HOSTS)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "audit",
    "integrations",
    "accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker write to one file: wait for the lock instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Languages: English source strings with a complete Japanese translation. The language follows
# the browser's Accept-Language header unless the user picks one in the admin header.
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("ja", _("Japanese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Keep a language chosen in the header across browser restarts, for a year.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
USE_I18N = True
USE_TZ = True
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Tokyo" if LANGUAGE_CODE == "ja" else "UTC")

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "static")

# HTTPS hardening, switched on together in deployments behind TLS.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=SECURE_SSL_REDIRECT)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=SECURE_SSL_REDIRECT)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=SECURE_HSTS_SECONDS > 0)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# AWS. The platform's own credentials come only from boto3's credential chain (environment,
# shared files, instance or container role); AWS_ENDPOINT_URL is boto3's own variable and is
# read by boto3, not here.
PLATFORM_AWS_ACCOUNT_ID = env.str("PLATFORM_AWS_ACCOUNT_ID", default="")
AWS_REGION = env.str("AWS_REGION", default=env.str("AWS_DEFAULT_REGION", default="us-east-1"))
# About 16 calls in flight reach 100 requests/s at 100-160 ms per call (measured in bench/collect.py).
AWS_MAX_CONCURRENCY = env.int("AWS_MAX_CONCURRENCY", default=16)
AWS_CONNECT_TIMEOUT_SECONDS = env.int("AWS_CONNECT_TIMEOUT_SECONDS", default=10)
AWS_READ_TIMEOUT_SECONDS = env.int("AWS_READ_TIMEOUT_SECONDS", default=30)
AWS_MAX_ATTEMPTS = env.int("AWS_MAX_ATTEMPTS", default=8)
# botocore's retry mode: "standard" (exponential backoff with jitter) or "adaptive" (standard plus a
# client-side rate limiter that slows down after each throttled call).
AWS_RETRY_MODE = env.str("AWS_RETRY_MODE", default="standard")
if AWS_RETRY_MODE not in ("standard", "adaptive"):
    raise ImproperlyConfigured(f"AWS_RETRY_MODE is {AWS_RETRY_MODE!r}: set it to 'standard' or 'adaptive'.")
SYNC_INTERVAL_MINUTES = env.int("SYNC_INTERVAL_MINUTES", default=360)

# Background jobs (django-q2). A job runs at most JOB_TIMEOUT_SECONDS. A job whose worker died is
# handed out again after JOB_RETRY_SECONDS, which must be longer, so a live job is never taken
# twice. A job is tried at most JOB_MAX_ATTEMPTS times.
JOB_TIMEOUT_SECONDS = env.int("JOB_TIMEOUT_SECONDS", default=1800)
JOB_RETRY_SECONDS = env.int("JOB_RETRY_SECONDS", default=JOB_TIMEOUT_SECONDS + 300)
if JOB_RETRY_SECONDS <= JOB_TIMEOUT_SECONDS:
    raise ImproperlyConfigured(
        f"JOB_RETRY_SECONDS ({JOB_RETRY_SECONDS}) must be greater than JOB_TIMEOUT_SECONDS "
        f"({JOB_TIMEOUT_SECONDS}), or a running job is handed to a second worker."
    )
REDIS_URL = env.str("REDIS_URL", default="")
Q_CLUSTER = {
    "name": env.str("Q_CLUSTER_NAME", default="rollcall"),
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": JOB_TIMEOUT_SECONDS,
    "retry": JOB_RETRY_SECONDS,
    "max_attempts": env.int("JOB_MAX_ATTEMPTS", default=3),
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 1000,
    "label": _("Background jobs"),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "integrations": {"level": LOG_LEVEL},
        "accounts": {"level": LOG_LEVEL},
        "audit": {"level": LOG_LEVEL},
        "django_q": {"level": LOG_LEVEL},
        # boto3 and botocore log request bodies at DEBUG, which can hold session credentials.
        "botocore": {"level": "WARNING"},
        "boto3": {"level": "WARNING"},
    },
}
