import pytest

from cashman_site.tests.servers import Site, prepare_site


@pytest.fixture(scope="session")
def production_site(tmp_path_factory) -> Site:
    """A migrated SQLite database and collected static files, for the production server with production
    settings (cashman_site.tests.servers.production_server). Prepared once a session."""
    return prepare_site(tmp_path_factory.mktemp("site"))
