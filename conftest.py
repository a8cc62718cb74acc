pytest_plugins = [
    "fixtures.options",
    "fixtures.sandbox",
    "fixtures.targets",
    "fixtures.actions",
    "fixtures.reporting",
]
