"""The [backups] and [storage] sections: the runbook's defaults, one-line errors, every key documented."""

import re

import pytest

from opsproof import ROOT, config
from opsproof.config.backups import Backups
from opsproof.config.storage import Storage


def _fields(model, prefix=""):
    for name, f in model.model_fields.items():
        yield prefix + name
        sub = f.annotation
        for t in getattr(sub, "__args__", (sub,)):
            if isinstance(t, type) and hasattr(t, "model_fields") and t not in (type(None),):
                yield from _fields(t, prefix + name + ".")


def test_defaults_are_the_runbooks():
    b, s = Backups(), Storage()
    assert b.latest_snapshot_max_age_h == 24 and b.min_retention_days == 7 and b.pre_window_snapshot_max_age_h == 24
    assert [v.name for v in b.drill.validations] == ["count(*) users", "count(*) projects", "max(created_at) jobs"]
    assert b.drill.instance_prefix == "test-restore-"
    assert (s.source_bucket, s.replica_bucket, s.replica_region) == ("ai-film-studio-media-prod",
                                                                      "ai-film-studio-media-dr-usw2", "us-west-2")
    assert s.parity.sla_min == 15 and s.parity.page_size == 1000


def test_every_key_is_documented_in_prod_example():
    text = (ROOT / "environments" / "prod.example.toml").read_text()
    missing = [k for model, sect in ((Backups, "backups"), (Storage, "storage")) for k in _fields(model, sect + ".")
               if not re.search(rf"(^|[\s#{{,]){re.escape(k.rsplit('.', 1)[-1])}\s*=", text, re.M)
               and f"[{k}]" not in text]
    assert not missing, f"undocumented keys in environments/prod.example.toml: {missing}"


@pytest.mark.parametrize("toml, key", [
    ('[backups.drill]\nrpo_min = -1\n', "backups.drill.rpo_min"),
    ('[[backups.drill.validations]]\ntable = "users; drop table x"\n', "backups.drill.validations.0.table"),
    ('[storage.parity]\nverify_max_bytes = "lots"\n', "storage.parity.verify_max_bytes"),
    ('[storage.parity]\npage_size = 5000\n', "storage.parity.page_size"),
    ('[backups]\nretention = 7\n', "backups.retention"),
])
def test_bad_values_fail_with_one_line_naming_the_key(tmp_path, toml, key):
    path = tmp_path / "bad.toml"
    path.write_text('name = "bad"\nkind = "aws"\n' + toml + '\n[aws]\naccount_id = "123456789012"\n')
    with pytest.raises(config.ConfigError) as e:
        config.load(str(path))
    assert key in str(e.value) and "\n" not in str(e.value)
