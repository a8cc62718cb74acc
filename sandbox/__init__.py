"""The sandbox: a local, real stand-in for production that can be broken on purpose.

    python -m sandbox up | down | status | break FAULT | heal [FAULT] | faults

Parts: a real PostgreSQL server (postgres.py), moto's AWS server with the sandbox's overlays (aws/), a TLS endpoint
and an HTTP service standing in for the product's API (web.py). Faults live in faults/, one module per area.
"""
