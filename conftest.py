pytest_plugins = [
    "fixtures.options",
    "fixtures.sandbox",
    "fixtures.identity",
    "fixtures.targets",
    "fixtures.actions",
    "fixtures.hosts",
    "fixtures.monitoring",
    "fixtures.reporting",
    "fixtures.window",
    "fixtures.integrity",
    "fixtures.change_report",
]
