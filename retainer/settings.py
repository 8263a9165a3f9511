"""Retainer settings: every value comes from the environment (see README, "Configuration").

Two modes: ``RETAINER_MODE=demo`` (default: SQLite under ``var/``, generated secret key)
and ``RETAINER_MODE=production`` (``SECRET_KEY`` and ``ALLOWED_HOSTS`` required).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from retainer.lib.env import env
from retainer.lib.secrets import demo_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.string("RETAINER_VAR_DIR", str(BASE_DIR / "var")))

MODE = env.choice("RETAINER_MODE", ("demo", "production"), "demo")
PRODUCTION = MODE == "production"
DEBUG = env.boolean("RETAINER_DEBUG", False)

if PRODUCTION:
    SECRET_KEY = env.string("SECRET_KEY")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters in production.")
else:
    SECRET_KEY = env.optional_string("SECRET_KEY") or demo_secret_key(VAR_DIR)

ALLOWED_HOSTS = env.items(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required in production.")
CSRF_TRUSTED_ORIGINS = env.items("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "django_htmx",
    "django_tasks",
    "huey.contrib.djhuey",
    "axes",
    "retainer.lib",
    "retainer.accounts",
    "retainer.catalog",
    "retainer.contracts",
    "retainer.cases",
    "retainer.billing",
    "retainer.kb",
    "retainer.mail",
    "retainer.success",
    "retainer.metrics",
    "retainer.automation",  # webhooks and macros (docs/automation.md)
    "retainer.imports",  # taking over another helpdesk's history (docs/imports.md)
    "retainer.project",
]

AUTHENTICATION_BACKENDS = ["retainer.accounts.backends.AccountBackend"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Errors Django answers itself under /api/ leave in the API's JSON shape.
    "retainer.lib.api.JsonErrorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "retainer.lib.middleware.SecurityHeadersMiddleware",
    # Last: turns a sign-in refused by the throttle into the sign-in page's answer (429).
    "axes.middleware.AxesMiddleware",
]

# Forms render through the project's templates, so retainer/templates/django/forms/ overrides
# Django's field and form layouts for every form (accessibility: docs/accessibility.md).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

ROOT_URLCONF = "retainer.urls"
WSGI_APPLICATION = "retainer.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "retainer" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "retainer.accounts.context_processors.roles",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env.url("DATABASE_URL", ("postgres", "postgresql", "sqlite"))
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env.integer("DATABASE_CONN_MAX_AGE", 60, min_value=0),
            conn_health_checks=True,
        )
    }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "retainer.lib.sqlite",
            "NAME": str(VAR_DIR / "retainer.sqlite3"),
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so a read-then-write transaction
                # waits for busy_timeout instead of failing with "database is locked".
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                # A checkpoint copies the write-ahead log into the database and syncs it:
                # every 10,000 pages (about 40 MB) rather than SQLite's 1,000, so the hot
                # pages that every case rewrites are copied once per checkpoint, not once
                # per few dozen cases.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA busy_timeout=20000; PRAGMA foreign_keys=ON; "
                    "PRAGMA wal_autocheckpoint=10000;"
                ),
            },
            # Kept open between requests like PostgreSQL's: a new SQLite connection pays
            # for the pragmas and for parsing the schema on its first statement.
            "CONN_MAX_AGE": env.integer("DATABASE_CONN_MAX_AGE", 60, min_value=0),
            # Explicitly in memory: test runners that recognise only Django's own engine
            # name would otherwise derive a file name from NAME.
            "TEST": {"NAME": ":memory:"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2 (Django's default parameters) hashes new passwords and verifies in about a fifth
# of PBKDF2's time; PBKDF2 and scrypt hashes still verify and become Argon2 at the next
# sign-in (docs/accounts.md).
PASSWORD_HASHERS = env.items(
    "RETAINER_PASSWORD_HASHERS",
    [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.ScryptPasswordHasher",
    ],
)

# Customer success: an organization whose seat-weighted license adoption (percent of the
# seats sold in use, docs/success.md) is below this is flagged for its success owner.
RETAINER_ADOPTION_THRESHOLD = env.integer(
    "RETAINER_ADOPTION_THRESHOLD", 50, min_value=0, max_value=100
)

# Password sign-in throttling (django-axes, counted in the database: retainer/accounts/
# throttling.py, docs/accounts.md). Within the cool-off window, counted from the last
# failure, an account is locked after AXES_FAILURE_LIMIT failures and a client address
# after RETAINER_SIGN_IN_ADDRESS_LIMIT; every refused attempt restarts the window.
AXES_HANDLER = "retainer.accounts.throttling.SignInThrottle"
AXES_FAILURE_LIMIT = env.integer("RETAINER_SIGN_IN_ACCOUNT_LIMIT", 5, min_value=1)
RETAINER_SIGN_IN_ADDRESS_LIMIT = env.integer("RETAINER_SIGN_IN_ADDRESS_LIMIT", 20, min_value=1)
AXES_COOLOFF_TIME = dt.timedelta(
    minutes=env.integer("RETAINER_SIGN_IN_COOLOFF_MINUTES", 15, min_value=1)
)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_FORM_FIELD = "username"
# Sign-in links asked for from one client address per minute (0: no limit), beside the
# per-e-mail-address limit of accounts.actions.MAGIC_LINK_RATE.
RETAINER_SIGN_IN_LINKS_PER_MINUTE = env.integer(
    "RETAINER_SIGN_IN_LINKS_PER_MINUTE", 10, min_value=0
)
AXES_USERNAME_CALLABLE = "retainer.accounts.throttling.sign_in_name"
AXES_CLIENT_IP_CALLABLE = "retainer.accounts.throttling.client_address"
AXES_LOCKOUT_CALLABLE = "retainer.accounts.views.lockout_response"
AXES_RESET_ON_SUCCESS = True
# Successful sign-ins are on the user (last_login); no second log row per sign-in.
AXES_DISABLE_ACCESS_LOG = True
RETAINER_BEHIND_PROXY = env.boolean("RETAINER_BEHIND_PROXY", False)

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
# The languages e-mails are written in (docs/mail.md, "Languages"): each person picks one on
# their e-mail preferences page; RETAINER_MAIL_LANGUAGE is the language of everyone else.
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "retainer" / "locale"]
RETAINER_MAIL_LANGUAGE = env.choice(
    "RETAINER_MAIL_LANGUAGE", tuple(code for code, _name in LANGUAGES), "en"
)
TIME_ZONE = env.timezone("RETAINER_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
RETAINER_DEFAULT_CURRENCY = env.string("RETAINER_DEFAULT_CURRENCY", "EUR")
RETAINER_DEFAULT_TAX_RATE = env.number("RETAINER_DEFAULT_TAX_RATE", "0")
RETAINER_VENDOR_NAME = env.string("RETAINER_VENDOR_NAME", "Retainer Demo Vendor GmbH")
RETAINER_VENDOR_ADDRESS = env.string("RETAINER_VENDOR_ADDRESS", "Example Street 1, 10115 Berlin")
RETAINER_VENDOR_LOGO = env.string(
    "RETAINER_VENDOR_LOGO",
    str(BASE_DIR / "retainer" / "billing" / "static" / "billing" / "logo.svg"),
)
# The payment block of every invoice PDF (an empty IBAN leaves the block out).
RETAINER_VENDOR_BANK_NAME = env.string("RETAINER_VENDOR_BANK_NAME", "Example Bank AG")
RETAINER_VENDOR_BANK_IBAN = env.string("RETAINER_VENDOR_BANK_IBAN", "DE89 3704 0044 0532 0130 00")
RETAINER_VENDOR_BANK_BIC = env.string("RETAINER_VENDOR_BANK_BIC", "COBADEFFXXX")
# Load the PDF renderer and its fonts when a web or job worker starts (docs/billing.md).
RETAINER_PDF_WARM_UP = env.boolean("RETAINER_PDF_WARM_UP", True)
# Days before a contract's end date that ``contract.expiring`` is published, once per term
# (the daily job in retainer/periodic.py; docs/automation.md, "Triggers").
RETAINER_CONTRACT_EXPIRING_DAYS = env.integer(
    "RETAINER_CONTRACT_EXPIRING_DAYS", 30, min_value=1, max_value=365
)

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = Path(env.string("RETAINER_MEDIA_DIR", str(VAR_DIR / "media")))
# Knowledge-base search ranks by meaning as well as by words (retainer/kb/semantic.py).
RETAINER_KB_SEMANTIC = env.boolean("RETAINER_KB_SEMANTIC", True)
# Published articles neither reviewed nor edited for this many days are flagged for review.
RETAINER_KB_REVIEW_DAYS = env.integer("RETAINER_KB_REVIEW_DAYS", 180, min_value=1)
RETAINER_ATTACHMENT_MAX_BYTES = env.integer(
    "RETAINER_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024, min_value=1024, max_value=1024**3
)
RETAINER_ATTACHMENTS_PER_CASE = env.integer("RETAINER_ATTACHMENTS_PER_CASE", 100, min_value=1)
# Uploads larger than this go to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- E-mail (docs/mail.md) ------------------------------------------------------------------
# SMTP when EMAIL_HOST is set; otherwise every e-mail is written as a file under var/mail/sent,
# so the demo never reaches for a real server.
EMAIL_HOST = env.string("EMAIL_HOST", "localhost")
EMAIL_PORT = env.integer("EMAIL_PORT", 25, min_value=1, max_value=65535)
EMAIL_HOST_USER = env.string("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.string("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.boolean("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env.boolean("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env.integer("EMAIL_TIMEOUT", 30, min_value=1)
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if env.optional_string("EMAIL_HOST")
    else "django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = VAR_DIR / "mail" / "sent"
DEFAULT_FROM_EMAIL = env.string(
    "RETAINER_MAIL_FROM", "Retainer Support <support@retainer.localhost>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
RETAINER_BASE_URL = env.string("RETAINER_BASE_URL", "http://127.0.0.1:8000")
RETAINER_MAIL_MAX_BYTES = env.integer(
    "RETAINER_MAIL_MAX_BYTES", 25 * 1024 * 1024, min_value=64 * 1024, max_value=1024**3
)
RETAINER_MAIL_RATE_PER_HOUR = env.integer("RETAINER_MAIL_RATE_PER_HOUR", 30, min_value=1)
RETAINER_MAIL_SPOOL_DIR = VAR_DIR / "mail" / "spool"

# --- Security -------------------------------------------------------------------------------
SESSION_ENGINE = "retainer.accounts.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
HTTPS = env.boolean("RETAINER_HTTPS", PRODUCTION)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env.boolean("RETAINER_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env.integer("RETAINER_HSTS_SECONDS", 31536000 if HTTPS else 0, min_value=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.boolean("RETAINER_BEHIND_PROXY", False) else None
)

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # A bearer API token first (no cookie, no CSRF check), else the web session (CSRF
    # checked): retainer/accounts/authentication.py, docs/api.md.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "retainer.accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Reads and writes per minute and client, counted in the database (accounts/ratelimit.py).
    "DEFAULT_THROTTLE_CLASSES": ["retainer.accounts.ratelimit.ApiRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "retainer.lib.api.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "retainer.lib.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bodies are bounded in size and nesting before they are parsed (lib/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "retainer.lib.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# API rate limits per client and minute (0: no limit), shared by every worker and host.
RETAINER_API_READS_PER_MINUTE = env.integer("RETAINER_API_READS_PER_MINUTE", 600, min_value=0)
RETAINER_API_WRITES_PER_MINUTE = env.integer("RETAINER_API_WRITES_PER_MINUTE", 120, min_value=0)
# API tokens: the expiry offered by default, and the longest allowed (0: no maximum, and
# tokens without expiry are allowed).
RETAINER_API_TOKEN_DEFAULT_DAYS = env.integer("RETAINER_API_TOKEN_DEFAULT_DAYS", 90, min_value=1)
RETAINER_API_TOKEN_MAX_DAYS = env.integer("RETAINER_API_TOKEN_MAX_DAYS", 365, min_value=0)
SPECTACULAR_SETTINGS = {
    "TITLE": "Retainer API",
    "DESCRIPTION": (
        "Organizations and contacts, the catalog, plans, contracts, their ledgers and "
        "entitlement decisions, cases, and billing of a Retainer instance. Authenticate "
        "with an API token, `Authorization: Bearer rtk_…` (made on the *API tokens* page; "
        "its scopes, read or write per area, limit what it reaches; an unusable token is "
        "401), or with the web session (the `sessionid` cookie; writes send the "
        "`csrftoken` cookie's value as `X-CSRFToken`). A token acts as its user and never "
        "reaches more than they may. Each client has a budget of reads and of writes per "
        "minute: answers say `X-RateLimit-Limit` and `X-RateLimit-Remaining`; a spent "
        "budget is 429 `rate_limited` with `Retry-After`. Staff reach every organization "
        "with their role's permissions; a customer contact reaches their own organization "
        "(their own cases only when it does not share cases), and gets the smaller "
        "customer shape where the answer has two. Every error is `{code, detail}` "
        "(validation errors add `errors`, field → messages). Writes that create or move "
        "something take an `Idempotency-Key` header: a replay returns the stored response "
        "with `Idempotent-Replayed: true`. Free text is at most 50,000 characters, a body "
        "at most 5 MiB. Guide: docs/api.md."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Every operation documents its error statuses with the one error body (lib/api.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "retainer.lib.api.document_errors",
        "retainer.accounts.ratelimit.document_api_access",
    ],
    # Every choice set gets its own schema name (several share field names like "status").
    "ENUM_NAME_OVERRIDES": {
        "ContactRoleEnum": "retainer.accounts.choices.ContactRole",
        "EnvironmentKindEnum": "retainer.catalog.choices.EnvironmentKind",
        "OfferingKindEnum": "retainer.catalog.choices.OfferingKind",
        "PriceUnitEnum": "retainer.catalog.choices.PriceUnit",
        "AllowanceUnitEnum": "retainer.contracts.choices.AllowanceUnit",
        "AuthorizationPolicyEnum": "retainer.contracts.choices.AuthorizationPolicy",
        "ChannelEnum": "retainer.contracts.choices.Channel",
        "ContractStatusEnum": "retainer.contracts.choices.ContractStatus",
        "DecrementPointEnum": "retainer.contracts.choices.DecrementPoint",
        "EntryKindEnum": "retainer.contracts.choices.EntryKind",
        "ExhaustionPolicyEnum": "retainer.contracts.choices.ExhaustionPolicy",
        "OutcomeEnum": "retainer.contracts.choices.Outcome",
        "PresetEnum": "retainer.contracts.choices.Preset",
        "PriceBasisEnum": "retainer.contracts.choices.PriceBasis",
        "QuantityUnitEnum": "retainer.contracts.choices.QuantityUnit",
        "SourceTypeEnum": "retainer.contracts.choices.SourceType",
        "ThresholdKindEnum": "retainer.contracts.choices.ThresholdKind",
        "TierEnum": "retainer.contracts.choices.Tier",
        "CaseStatusEnum": "retainer.cases.choices.CaseStatus",
        "CaseTypeEnum": "retainer.cases.choices.CaseType",
        "CsatRatingEnum": "retainer.cases.choices.CsatRating",
        "DefectStatusEnum": "retainer.cases.choices.DefectStatus",
        "PriorityEnum": "retainer.cases.choices.Priority",
        "RootCauseEnum": "retainer.cases.choices.RootCause",
        "SeverityEnum": "retainer.cases.choices.Severity",
        "InvoiceStatusEnum": "retainer.billing.choices.InvoiceStatus",
        "ItemKindEnum": "retainer.billing.choices.ItemKind",
        "LineUnitEnum": "retainer.billing.choices.LineUnit",
        "QuoteStatusEnum": "retainer.billing.choices.QuoteStatus",
        "RunStatusEnum": "retainer.billing.choices.RunStatus",
        "LeadSourceEnum": "retainer.success.choices.LeadSource",
        "LeadStatusEnum": "retainer.success.choices.LeadStatus",
        "StageKindEnum": "retainer.success.choices.StageKind",
        "OpportunityStatusEnum": "retainer.success.choices.OpportunityStatus",
        "InteractionKindEnum": "retainer.success.choices.InteractionKind",
    },
}

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.string("RETAINER_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        # Configured here, the job consumer adds no handler of its own (no doubled lines).
        "huey": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # Its start banner would open every command's output; lockouts still log.
        "axes.apps": {"level": "WARNING"},
        # One INFO line per layout step of every PDF.
        "weasyprint": {"level": "WARNING"},
    },
}

# --- Background jobs (begin) ----------------------------------------------------------------
# Application code enqueues through the django-tasks API (``@task`` + ``.enqueue()``, or
# ``retainer.lib.jobs.enqueue_on_commit``); huey stores and runs the jobs. The queue lives in its
# own SQLite file so queue churn never holds the app database's write lock, or in Redis when
# REDIS_URL is set (several hosts, many consumers). Periodic schedules: retainer/periodic.py.
REDIS_URL = env.url("REDIS_URL", ("redis", "rediss"))
TASKS = {"default": {"BACKEND": "huey.contrib.djhuey.tasks_backend.HueyBackend"}}
# The periodic schedules, loaded by the consumers' huey class (retainer/lib/jobs.py).
RETAINER_PERIODIC_MODULE = "retainer.periodic"
HUEY = {
    "name": "retainer",
    # The subclasses load retainer.periodic in consumer processes only.
    "huey_class": f"retainer.lib.jobs.{'RedisHuey' if REDIS_URL else 'SqliteHuey'}",
    # Explicit: huey would otherwise run jobs inline whenever DEBUG is on.
    "immediate": env.boolean("RETAINER_JOBS_IMMEDIATE", False),
    "results": True,
    "utc": True,
    **({"url": REDIS_URL} if REDIS_URL else {"filename": str(VAR_DIR / "jobs.sqlite3")}),
    "consumer": {
        "workers": env.integer("RETAINER_JOBS_WORKERS", 2, min_value=1, max_value=64),
        "worker_type": "thread",
    },
}
# The outbox's wiring of event topics to subscribers (see retainer/lib/outbox.py).
RETAINER_SUBSCRIPTIONS = "retainer.subscriptions"
# Who e-mails a sign-in link: the mail channel's outbox (accounts cannot import mail).
RETAINER_SIGN_IN_LINK_SENDER = "retainer.mail.actions.outbound.queue_sign_in_link"
# Who e-mails a success-perception survey's link (the success app cannot import mail).
RETAINER_SURVEY_SENDER = "retainer.mail.actions.outbound.queue_success_survey"
# --- Background jobs (end) ------------------------------------------------------------------
