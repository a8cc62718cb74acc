"""ECR images whose build and scan can be stale.

What moto 5.2.5 does: PutImage stamps imagePushedAt "now" and keeps the manifest as given; an image tag of an
IMMUTABLE repository cannot be pushed again. Nothing ever ages.

What this overlay adds: per-image overrides of what the registry reports, keyed repository:tag, on BatchGetImage
(the manifest's annotations: build time, base image) and DescribeImages (imagePushedAt). Healthy (moto's answer,
i.e. what seed.py pushed) by default. Scan findings are ecr_scans.py's.

Faults (admin API):

    POST /_sandbox/ecr/image {"repository": "backend", "tag": "v1.2.0",
                              "created": ISO 8601 (the manifest's org.opencontainers.image.created),
                              "base": "python:3.11.4-slim" (org.opencontainers.image.base.name),
                              "pushed_at": ISO 8601}
        "clear": true drops the image's override.
"""

import json

from .overlay import AdminError, Call, Overlay, Reply, admin, handles, need, parse_time

BASE = "org.opencontainers.image.base.name"
CREATED = "org.opencontainers.image.created"
FIELDS = {"created": str, "base": str, "pushed_at": str}


class Ecr(Overlay):
    name = "ecr"

    def initial_state(self) -> dict:
        return {"images": {}}  # "repository:tag" -> override fields

    def override(self, repository: str, image_id: dict) -> dict:
        tag = (image_id or {}).get("imageTag")
        with self.lock:
            return dict(self.state["images"].get(f"{repository}:{tag}", {})) if tag else {}

    @handles("ecr", "BatchGetImage")
    def batch_get_image(self, call: Call) -> Reply:
        repo = call.json.get("repositoryName", "")  # read the body before moto consumes it
        reply = call.forward()
        if not reply.ok:
            return reply
        data = reply.json()
        for image in data.get("images", []):
            o = self.override(repo, image.get("imageId"))
            if not (o.get("created") or o.get("base")):
                continue
            try:
                manifest = json.loads(image.get("imageManifest") or "{}")
            except ValueError:
                continue
            notes = dict(manifest.get("annotations") or {})
            if o.get("created"):
                notes[CREATED] = o["created"]
            if o.get("base"):
                notes[BASE] = o["base"]
            manifest["annotations"] = notes
            image["imageManifest"] = json.dumps(manifest)
        return reply.with_json(data)

    @handles("ecr", "DescribeImages")
    def describe_images(self, call: Call) -> Reply:
        repo = call.json.get("repositoryName", "")  # read the body before moto consumes it
        reply = call.forward()
        if not reply.ok:
            return reply
        data = reply.json()
        for detail in data.get("imageDetails", []):
            for tag in detail.get("imageTags") or []:
                o = self.override(repo, {"imageTag": tag})
                if o.get("pushed_at"):
                    detail["imagePushedAt"] = parse_time(o["pushed_at"]).timestamp()
        return reply.with_json(data)

    @admin("ecr/image")
    def set_image(self, payload: dict) -> dict:
        key = f"{need(payload, 'repository')}:{need(payload, 'tag')}"
        with self.lock:
            if payload.get("clear"):
                self.state["images"].pop(key, None)
                return {"image": key, "override": None}
            fields = {}
            for k, v in payload.items():
                if k in ("repository", "tag", "clear"):
                    continue
                if k not in FIELDS:
                    raise AdminError(f"unknown field {k!r} (known: {', '.join(FIELDS)})")
                need(payload, k, FIELDS[k])
                fields[k] = v
            for k in ("created", "pushed_at"):
                if k in fields:
                    parse_time(fields[k])
            self.state["images"][key] = {**self.state["images"].get(key, {}), **fields}
            return {"image": key, "override": self.state["images"][key]}

