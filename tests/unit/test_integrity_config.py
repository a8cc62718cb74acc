"""[integrity]: every key documented in environments/prod.example.toml, the example loads, bad values are one line."""

import re

import pytest
from pydantic import ValidationError

from opsproof import config
from opsproof.config import ROOT, Integrity


def test_every_key_is_documented_in_prod_example():
    text = (ROOT / "environments" / "prod.example.toml").read_text()
    section = text[text.index("[integrity]"):]
    missing = [k for k in Integrity.model_fields if not re.search(rf"^#?\s*{k}\s*=", section, re.M)]
    assert not missing, f"undocumented [integrity] keys in environments/prod.example.toml: {missing}"
    assert config.load(str(ROOT / "environments" / "prod.example.toml")).integrity.history == "reports/history.sqlite"


@pytest.mark.parametrize("keys, word", [
    ({"cloudwatch_namespace": "AWS/EC2"}, "AWS/"),
    ({"max_charts": -1}, "greater than or equal"),
    ({"pass_rate_days": [0]}, "greater than 0"),
    ({"histroy": "x"}, "Extra inputs"),
])
def test_bad_values_are_refused(keys, word):
    with pytest.raises(ValidationError, match=re.escape(word)):
        Integrity(**keys)


def test_the_sandbox_keeps_its_history_in_its_state_folder():
    env = config.load("sandbox")
    assert env.integrity.history.startswith("{sandbox}") and not env.integrity.cloudwatch
