"""The [capacity] section: the runbook's defaults, the merge of metrics over the defaults, one-line errors naming the
key, and every key documented in environments/prod.example.toml."""

import re
import tomllib

import pytest

from opsproof import ROOT, config
from opsproof.config.capacity import Capacity
from opsproof.errors import ConfigError


def test_runbook_defaults():
    c = Capacity()
    assert c.database_cpu.max_percent == 60 and c.database_cpu.percentile == 95
    assert c.storage.max_used_percent == 80 and c.storage.within_months == 3
    assert c.horizons_months == [3, 6, 12]
    assert (c.users.current, c.users.monthly_growth_percent, c.users.storage_per_user_gb) == (5000, 15, 0.1)
    assert {m.kind for m in c.metrics.values()} == {"cpu", "memory", "storage", "network", "connections", "queue"}
    assert c.metrics["rds-cpu"].dimensions == {"DBInstanceIdentifier": "prod-db"}


def test_metrics_merge_over_the_defaults():
    c = Capacity.model_validate({"metrics": {
        "rds-cpu": {"dimensions": {"DBInstanceIdentifier": "main-db"}},
        "gpu-cpu": {"enabled": False},
        "alb-requests": {"label": "ALB requests", "kind": "network", "namespace": "AWS/ApplicationELB",
                         "name": "RequestCount", "stat": "Sum", "dimensions": {"LoadBalancer": "app/prod-alb/1"}}}})
    assert c.metrics["rds-cpu"].dimensions == {"DBInstanceIdentifier": "main-db"}
    assert c.metrics["rds-cpu"].unit == "Percent"  # the rest of the default kept
    assert "gpu-cpu" not in c.metrics and "alb-requests" in c.metrics
    assert len(c.metrics) == len(Capacity().metrics)


@pytest.mark.parametrize("toml, culprit", [
    ("[capacity]\nperiod_s = 300\nlookback_days = 90", "capacity: lookback_days = 90: CloudWatch keeps"),
    ("[capacity.database_cpu]\nmax_percent = 160", "capacity.database_cpu.max_percent"),
    ("[capacity.metrics.rds-cpu]\nstat = \"Median\"", "capacity.metrics.rds-cpu.stat"),
    ("[capacity.storage]\nmetric = \"nope\"", "storage.metric = 'nope': no such metric"),
    ("[capacity.queue]\nmax_mesages = 5", "capacity.queue.max_mesages: unknown key"),
])
def test_bad_values_name_the_key(tmp_path, toml, culprit):
    path = tmp_path / "bad.toml"
    path.write_text('name = "bad"\nkind = "aws"\n' + toml + '\n[aws]\naccount_id = "123456789012"\n')
    with pytest.raises(ConfigError) as e:
        config.load(str(path))
    assert culprit in str(e.value)
    assert "\n" not in str(e.value)


def _keys(model, prefix=""):
    for name, f in model.model_fields.items():
        ann = f.annotation
        if isinstance(ann, type) and hasattr(ann, "model_fields"):
            yield from _keys(ann, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}"


def test_every_key_is_documented_in_the_production_example():
    text = (ROOT / "environments" / "prod.example.toml").read_text()
    section = text[text.index("[capacity]"):]
    doc = tomllib.loads(section)["capacity"]
    missing = []
    for key in _keys(Capacity):
        if key == "metrics":
            continue
        *parents, leaf = key.split(".")
        table = doc
        for p in parents:
            table = table.get(p, {})
        if leaf not in table and not re.search(rf"#\s*{re.escape(leaf)}\s*=", section):
            missing.append(key)
    metric_doc = doc["metrics"]["rds-cpu"]
    for key in _keys(config.capacity.Metric):
        if key not in metric_doc and not re.search(rf"#\s*{key}\s*=", section):
            missing.append(f"metrics.rds-cpu.{key}")
    assert not missing, f"[capacity] keys not in prod.example.toml: {missing}"
    assert config.load("prod.example").capacity.quarterly.lookback_days == 365
