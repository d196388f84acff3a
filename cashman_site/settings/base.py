"""Settings shared by every environment.

Everything comes from the environment (see `.env.example`). With nothing set, Cashman runs on an
SQLite file and the in-process cache, so a fresh checkout needs nothing else installed.
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A .env file at the project root is read unless DJANGO_READ_ENV_FILE=false (the settings tests
# turn it off so a developer's file cannot leak in). Real environment variables win over it.
if env.bool("DJANGO_READ_ENV_FILE", default=True) and (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-development-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "corsheaders",
    "csp",
    "accounts",
    "ledger",
]

MIDDLEWARE = [
    # First: probes answer before the HTTPS redirect and the Host check, whatever Host they send.
    "cashman_site.health.HealthCheckMiddleware",
    # Then every other request gets its id and its one JSON log line, whatever answers it.
    "cashman_site.middleware.RequestLogMiddleware",
    # Outside all the others, so that every API answer (a 413, a 500 too) says no-store.
    "cashman_site.middleware.PrivateCacheControlMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before anything parses the query or reads the body: an oversized one is a 414 or a 413.
    "cashman_site.middleware.RequestSizeLimitMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Lets history records name who made a change (DRF sets the user on the request it wraps).
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "cashman_site.middleware.RateLimitHeadersMiddleware",
    # Last, as django-axes asks: turns a lockout of the admin or browsable-API login into a 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cashman_site.urls"
CSRF_FAILURE_VIEW = "cashman_site.exception_handler.csrf_failure"
WSGI_APPLICATION = "cashman_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "cashman_site" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# DATABASE_URL switches to PostgreSQL (postgres://user:pass@host:5432/name). Connections persist
# between requests and are health-checked before reuse: opening one per request cost a list
# endpoint more than the rest of its work.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault(
        "connect_timeout", env.int("DJANGO_DB_CONNECT_TIMEOUT", default=5)
    )
else:
    # Every transaction takes SQLite's write lock when it begins, so two that read then write
    # (two imports of one ledger, an import and an edit) wait for each other instead of one
    # failing at once with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's, reusing its Redis client and incrementing in one round trip.
            "BACKEND": "cashman_site.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("DJANGO_CACHE_PREFIX", default="cashman"),
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "cashman",
        }
    }

# --- Background work (Celery) -----------------------------------------------------------------
# The broker is Redis when REDIS_URL is set (CELERY_BROKER_URL overrides it); without a broker,
# tasks run in-process at once (CELERY_TASK_ALWAYS_EAGER), so a bare checkout still imports.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A killed worker process's task goes back to the queue at once rather than being lost...
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# ...and a message a dead worker had taken comes back after this long (Redis's default is an
# hour). A long import redelivered while it still runs is not run twice: its job is claimed.
# A broker that refuses costs a request about a second, and one that hangs its socket timeouts,
# not the default retries' seconds or forever; after a failure, each process leaves the broker
# alone for a few seconds (cashman_site.celery.dispatch). The work is recorded first and queued
# again by the beat tasks below.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 600,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,  # longer than the worker's one-second BRPOP
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# `celery -A cashman_site beat` (or `worker --beat`); cron users run the management commands.
CELERY_BEAT_SCHEDULE = {
    "recover-imports": {"task": "ledger.tasks.recover_imports", "schedule": 60.0},
    "send-welcome-emails": {"task": "accounts.tasks.send_welcome_emails", "schedule": 60.0},
    "post-schedules": {
        "task": "ledger.tasks.post_schedules",
        "schedule": env.float("CASHMAN_SCHEDULES_SECONDS", default=300.0),
    },
}

# --- Email ------------------------------------------------------------------------------------
# EMAIL_URL picks SMTP (smtp+tls://user:password@smtp.example.com:587); unset, mails are printed.
if env("EMAIL_URL", default=""):
    globals().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="Cashman <cashman@localhost>")
# A mail server that hangs holds a worker this long at most (Django's default: forever).
EMAIL_TIMEOUT = env.int("DJANGO_EMAIL_TIMEOUT", default=10)

# --- Imports and exports ----------------------------------------------------------------------
MEDIA_ROOT = Path(env("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = "/media/"
CASHMAN_IMPORT_MAX_BYTES = env.int("CASHMAN_IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
CASHMAN_IMPORT_BATCH_SIZE = env.int("CASHMAN_IMPORT_BATCH_SIZE", default=2000)
# A running import whose worker has not committed a batch for this long is taken to be dead and
# resumed by another worker (ledger/imports.py); a pending one this old is queued again.
CASHMAN_IMPORT_STALE_SECONDS = env.int("CASHMAN_IMPORT_STALE_SECONDS", default=120)
CASHMAN_IMPORT_REQUEUE_SECONDS = env.int("CASHMAN_IMPORT_REQUEUE_SECONDS", default=60)
# A job interrupted this many times (a file that kills its worker) fails instead of resuming.
CASHMAN_IMPORT_MAX_ATTEMPTS = env.int("CASHMAN_IMPORT_MAX_ATTEMPTS", default=3)
CASHMAN_BATCH_MAX_ROWS = env.int("CASHMAN_BATCH_MAX_ROWS", default=1000)

# --- Accounts -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# django-axes first: it refuses a locked-out account and address before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "rest_framework:login"
LOGIN_REDIRECT_URL = "/api/v1/"
LOGOUT_REDIRECT_URL = "/api/v1/"

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "cashman_site.renderers.JSONRenderer",  # DRF's, encoding with orjson
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "cashman_site.parsers.JSONParser",  # DRF's; too deep a document is a 400, not a 500
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "cashman_site.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "cashman_site.schema.AutoSchema",
    "EXCEPTION_HANDLER": "cashman_site.exception_handler.api_exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Every throttle counts in the shared cache (Redis when REDIS_URL is set), so a limit holds
    # across server workers. ScopedRateThrottle applies only to views with a `throttle_scope`.
    "DEFAULT_THROTTLE_CLASSES": [
        "cashman_site.throttling.AnonRateThrottle",
        "cashman_site.throttling.UserRateThrottle",
        "cashman_site.throttling.ScopedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("CASHMAN_THROTTLE_ANON", default="60/min"),
        "user": env("CASHMAN_THROTTLE_USER", default="600/min"),
        "login": env("CASHMAN_THROTTLE_LOGIN", default="10/min"),
        # Failed logins per account from any address, in fixed windows (accounts/throttling.py).
        "login_account": env("CASHMAN_THROTTLE_LOGIN_ACCOUNT", default="20/15min"),
        "register": env("CASHMAN_THROTTLE_REGISTER", default="5/hour"),
        "password_change": env("CASHMAN_THROTTLE_PASSWORD_CHANGE", default="5/hour"),
        "imports": env("CASHMAN_THROTTLE_IMPORTS", default="20/hour"),
    },
    # How many proxies in front of Cashman append to X-Forwarded-For. 0: the client address is
    # REMOTE_ADDR and X-Forwarded-For is ignored, so a client cannot forge its way past a limit.
    "NUM_PROXIES": env.int("CASHMAN_NUM_PROXIES", default=0),
}
# With Redis, each worker reserves up to this many requests of a rate limit at a time and counts
# them down in memory (cashman_site/throttling.py); 1 = one Redis round trip per request.
CASHMAN_THROTTLE_LEASE = env.int("CASHMAN_THROTTLE_LEASE", default=10)
MAX_PAGE_SIZE = env.int("CASHMAN_MAX_PAGE_SIZE", default=200)
# The fast paths of cashman_site/fastpaths (statements compiled once per process, filter forms
# built once); false turns them off, to measure them or rule them out. Each is off on a release
# of its library it was not written for, whatever this says.
CASHMAN_FAST_PATHS = env.bool("CASHMAN_FAST_PATHS", default=True)
# Summaries and list counts are cached per user until that user's next write (ledger/cached_reads.py).
# On by default only with REDIS_URL, whose entries every worker shares (the in-process cache is
# correct too, each worker caching on its own); 0 = off.
CASHMAN_LEDGER_CACHE_SECONDS = env.int(
    "CASHMAN_LEDGER_CACHE_SECONDS", default=300 if REDIS_URL else 0
)
# A request body larger than this is refused with 413 before it is read (Django's own check
# answers an HTML 400, and DRF's JSON parser reads the stream past it).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("CASHMAN_MAX_BODY_BYTES", default=2_621_440)
# A query string longer than this is refused with 414 JSON before it is parsed. Every filter of
# a list together needs a few hundred bytes.
CASHMAN_MAX_QUERY_BYTES = env.int("CASHMAN_MAX_QUERY_BYTES", default=4096)
# A request target (path and query) longer than this is a 414, a header value longer than this a
# 431, both JSON under /api/ (cashman_site/middleware.py): gunicorn's limits, which the server
# (granian, cashman_site/serve.py) does not have at these sizes.
CASHMAN_MAX_REQUEST_LINE_BYTES = env.int("CASHMAN_MAX_REQUEST_LINE_BYTES", default=8190)
CASHMAN_MAX_HEADER_BYTES = env.int("CASHMAN_MAX_HEADER_BYTES", default=8190)

# --- Login lockout (django-axes) ------------------------------------------------------------
# After AXES_FAILURE_LIMIT failed logins for one account from one address, that pair is locked
# out for the cool-off; even the right password then gets 429. Every login path is covered: the
# token endpoint, the browsable API's login page and the admin's. Those three also share the
# `login` rate per address and `login_account`, failed logins per account from any address, in
# DEFAULT_THROTTLE_RATES above, whose refusals end with their window.
AXES_FAILURE_LIMIT = env.int("CASHMAN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("CASHMAN_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_USERNAME_CALLABLE = "accounts.lockout.login_username"
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# The address and browser of each attempt are enough; do not keep what was typed in the form.
AXES_SENSITIVE_PARAMETERS = ["password", "password1", "password2", "new_password", "old_password"]

# --- CORS (django-cors-headers) -------------------------------------------------------------
# Single-page apps on other origins may call the API with a bearer token. None by default.
CORS_ALLOWED_ORIGINS = env.list("CASHMAN_CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_EXPOSE_HEADERS = [
    "Retry-After",
    "X-Request-ID",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
]
CORS_PREFLIGHT_MAX_AGE = 600

# --- Content-Security-Policy (django-csp) ---------------------------------------------------
# No inline script anywhere: the admin and the browsable API load only files, Swagger UI gets its
# init script as a separate file (SpectacularSwaggerSplitView). Styles may be inline: Redoc and
# Swagger UI build theirs at run time.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env("JWT_SIGNING_KEY", default=SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "TOKEN_OBTAIN_SERIALIZER": "accounts.serializers.TokenObtainPairSerializer",
    "TOKEN_REFRESH_SERIALIZER": "accounts.serializers.TokenRefreshSerializer",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Cashman API",
    "DESCRIPTION": "Record incomes and expenses, see your balance, slice it by month and category.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
    "ENUM_NAME_OVERRIDES": {
        "ImportStatusEnum": "ledger.models.ImportJob.Status",
        "TransactionStatusEnum": "ledger.choices.TransactionStatus",
        "InvitationStatusEnum": "ledger.models.Invitation.Status",
        "BatchRowStatusEnum": ["created", "duplicate", "invalid"],
        "TransactionTypeEnum": "ledger.choices.TransactionType",
        "ScheduleTypeEnum": [("INCOME", "Income"), ("EXPENSE", "Expense")],
        "OccurrenceStatusEnum": ["posted", "skipped", "due", "planned", "not_posted"],
    },
}

# --- Logging --------------------------------------------------------------------------------
# One JSON object a line on stderr. `cashman.request` writes one line per request (see
# cashman_site/middleware.py); Django's own "Not Found: ..." lines would only repeat it.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "cashman_site.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}
