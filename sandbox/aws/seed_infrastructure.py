"""Seed the infrastructure and services area after seed.seed: what its checks look at beyond seed.py's production.

    from sandbox.aws.seed_infrastructure import seed
    seed(sb)        # the AWS server running; seed.seed done

* ECR: the previous release (v1.1.9, built 75 days ago on python:3.11.4-slim) beside the deployed v1.2.0, as a
  registry keeps it: what a wrong deploy or a rollback would run.
* The sandbox's own hosts (sandbox/hosts.py): one healthy, patched host per sandbox://NAME in [hosts] specs, rebuilt
  healthy on every start (host faults live as long as the AWS part, like the other faults this seeder restores).
* Terraform: a root module under <state>/terraform/prod (terraform_data only: no provider to download), initialised
  and applied, so `terraform plan` reports no changes. Skipped where terraform is not installed.
"""

import datetime as dt
import json
import logging
import shutil
import subprocess
import time
from pathlib import Path

from botocore.exceptions import ClientError

from .. import hosts
from .seed import ECR_REPOSITORIES, OCI_MANIFEST

log = logging.getLogger("sandbox.aws.seed")

PREVIOUS_TAG = "v1.1.9"
PREVIOUS_BASE = "python:3.11.4-slim"
PREVIOUS_BUILT_DAYS_AGO = 75
TERRAFORM_DIR = "terraform/prod"

TERRAFORM_MAIN = """terraform {
  required_version = ">= 1.6.0"
}

# The runbook's production as its Terraform holds it. terraform_data is built into Terraform: plan and apply work
# offline, with no provider to download.
resource "terraform_data" "backend_service" {
  input = {
    cluster       = "prod-cluster"
    desired_count = 2
    image         = "backend:v1.2.0"
  }
}

resource "terraform_data" "worker_service" {
  input = {
    cluster       = "prod-cluster"
    desired_count = 1
    image         = "worker:v1.2.0"
  }
}

resource "terraform_data" "patch_window" {
  input = {
    name     = "AI-Film-Studio-Patching"
    schedule = "cron(0 4 ? * SUN *)"
    duration = 4
    cutoff   = 1
  }
}

output "backend_desired_count" {
  value = terraform_data.backend_service.output.desired_count
}
"""


def seed(sb) -> dict:
    started = time.monotonic()
    done = {"images": seed_images(sb), "hosts": hosts.ensure_fleet(sb), "terraform": seed_terraform(sb)}
    done["seconds"] = round(time.monotonic() - started, 3)
    log.info("seeded infrastructure in %.2f s (%s)", done["seconds"], done)
    return done


def seed_images(sb) -> list[str]:
    ecr = sb.client("ecr")
    built = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=PREVIOUS_BUILT_DAYS_AGO)
    pushed = []
    for repo in ECR_REPOSITORIES:
        manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 6911,
                               "digest": "sha256:" + f"{repo}{PREVIOUS_TAG}".encode().hex().ljust(64, "0")[:64]},
                    "layers": [], "annotations": {"org.opencontainers.image.base.name": PREVIOUS_BASE,
                                                  "org.opencontainers.image.created": built.isoformat()}}
        try:
            ecr.put_image(repositoryName=repo, imageManifest=json.dumps(manifest),
                          imageManifestMediaType=OCI_MANIFEST, imageTag=PREVIOUS_TAG)
            pushed.append(f"{repo}:{PREVIOUS_TAG}")
        except ClientError as e:
            if e.response["Error"]["Code"] not in ("ImageAlreadyExistsException", "ImageTagAlreadyExistsException"):
                raise
    return pushed


# ---- Terraform -------------------------------------------------------------------------------------------------------
def terraform_dir(sb) -> Path:
    return sb.dir / TERRAFORM_DIR


def terraform_binary(sb) -> str | None:
    binary = sb.env.infrastructure.terraform.binary
    return binary if "/" in binary and Path(binary).exists() else shutil.which(binary)


def write_terraform(sb, main: str = TERRAFORM_MAIN) -> Path:
    d = terraform_dir(sb)
    d.mkdir(parents=True, exist_ok=True)
    (d / "main.tf").write_text(main)
    return d


def seed_terraform(sb) -> str:
    exe = terraform_binary(sb)
    if exe is None:
        return "skipped: terraform is not installed"
    d = write_terraform(sb)
    (d / ".terraform.lock.hcl").unlink(missing_ok=True)
    env = {"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "PATH": "/usr/local/bin:/usr/bin:/bin"}
    for cmd in (["init", "-input=false", "-no-color"], ["apply", "-auto-approve", "-input=false", "-no-color"]):
        p = subprocess.run([exe, *cmd], cwd=d, capture_output=True, text=True, timeout=120, env=env)
        if p.returncode != 0:
            log.warning("terraform %s in %s failed: %s", cmd[0], d, (p.stderr or p.stdout)[-500:])
            return f"failed: terraform {cmd[0]}"
    return str(d)
