"""The cases app's desk (a product with releases) and Acme's incident bank, for the
dashboards' support figures."""

from retainer.cases.tests.conftest import desk, incident_bank  # noqa: F401
