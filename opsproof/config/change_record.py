"""Where the window's evidence goes when it ends: the change record it is attached to (ServiceNow or Jira) and the
completion email. Credentials come from environment variables only (named here, never their values); the sandbox
names files instead, holding its throwaway ones."""

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, HttpUrl, PositiveFloat, PositiveInt

from .base import Port, Section


class ServiceNow(Section):
    """The Attachment API: POST /api/now/attachment/file?table_name=change_request&table_sys_id=...&file_name=...,
    the sys_id looked up by the change's number (GET /api/now/table/change_request?number=...). Basic auth."""

    instance_url: HttpUrl
    user_env: str = "OPSPROOF_SERVICENOW_USER"
    password_env: str = "OPSPROOF_SERVICENOW_PASSWORD"


class Jira(Section):
    """POST /rest/api/3/issue/{key}/attachments, multipart field "file", header X-Atlassian-Token: no-check; Basic
    auth with the account's email and an API token."""

    base_url: HttpUrl
    email_env: str = "OPSPROOF_JIRA_EMAIL"
    token_env: str = "OPSPROOF_JIRA_TOKEN"


class Attach(Section):
    """python -m actions attach-evidence, and the window runner at its end when enabled."""

    system: Literal["servicenow", "jira"] | None = None
    """Unset: nothing is attached (the window runner says so)."""
    servicenow: ServiceNow | None = None
    jira: Jira | None = None
    credentials_file: Path | None = None
    """Sandbox only: a JSON file {"user": ..., "password": ...} instead of the environment variables."""
    files: list[str] = ["change-request.html", "junit.xml", "evidence.json"]
    """Uploaded from the run's report folder, in this order; a missing one is reported, not fatal."""
    timeout_s: PositiveFloat = 30.0
    max_bytes: PositiveInt = 10 * 1024 * 1024
    """Files larger than this are not sent (ServiceNow's default attachment limit is 1024 MB, Jira Cloud's 10 MB)."""


class Email(Section):
    """The completion email (runbook: "Send completion email to stakeholders"): SMTP with STARTTLS."""

    host: str
    port: Port = 587
    sender: str = "opsproof@localhost"
    to: Annotated[list[str], Field(min_length=1)]
    user_env: str | None = "OPSPROOF_SMTP_USER"
    password_env: str | None = "OPSPROOF_SMTP_PASSWORD"
    credentials_file: Path | None = None
    """Sandbox only: a JSON file {"user": ..., "password": ...}."""
    ca_file: Path | None = None
    """Trust this CA for the server's certificate (the sandbox's); unset: the system's trust store."""
    timeout_s: PositiveFloat = 10.0
    attach_report: bool = True
