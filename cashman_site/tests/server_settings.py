"""The production settings plus test-only views (cashman_site/tests/server_urls.py): what the
server tests (test_server.py) run the production server with. Never used outside tests."""

from cashman_site.settings.production import *  # noqa: F403
from cashman_site.settings.production import env

ROOT_URLCONF = "cashman_site.tests.server_urls"
# Where the slow views leave a file as they start, so a test knows a request is in flight.
SERVER_TEST_MARKERS = env("SERVER_TEST_MARKERS", default="")
