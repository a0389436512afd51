"""Named evaluations and suites, kept as data (TOML files in ``specs/`` and ``suites/``)."""
