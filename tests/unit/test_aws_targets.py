"""Every AWS section names its own region and credentials; each distinct role is assumed once per process and
reused from botocore's on-disk cache by the next process (issue 11)."""

import json
import os
import subprocess
import sys

import pytest

from opsproof import config, connect, identity
from opsproof.config import ROOT
from opsproof.errors import ConfigError
from tests.unit.fake_aws import FAKE_KEYS, fake_aws  # noqa: F401 (a fixture)

READ_ROLE = "arn:aws:iam::123456789012:role/opsproof-read"
DR_ROLE = "arn:aws:iam::123456789012:role/opsproof-dr"


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    """A process's state: no sessions or clients yet, an empty role cache, every call recorded."""
    for k, v in FAKE_KEYS.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("OPSPROOF_AWS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("OPSPROOF_RECORD_CALLS", str(tmp_path / "calls.jsonl"))
    monkeypatch.setattr(connect, "_sessions", {})
    monkeypatch.setattr(connect, "_clients", {})
    monkeypatch.setattr(connect, "_bases", {})
    return tmp_path


def env_file(tmp_path, aws="", storage="", other="", endpoint=None) -> str:
    ep = f'endpoint_url = "{endpoint}"\n' if endpoint else ""
    f = tmp_path / "prod.toml"
    f.write_text(f'kind = "aws"\n[timeouts]\nconnect_s = 1\nread_s = 5\naws_attempts = 2\n'
                 f'[aws]\nregion = "us-east-1"\naccount_id = "123456789012"\n{ep}{aws}\n'
                 f'[storage]\nreplica_region = "us-west-2"\n{storage}\n{other}')
    return str(f)


def calls(tmp_path, operation=None) -> list[dict]:
    path = tmp_path / "calls.jsonl"
    lines = [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []
    return [c for c in lines if operation in (None, c["operation"])]


# ---- configuration ---------------------------------------------------------------------------------------------
def test_a_section_takes_its_own_region_and_role_and_the_rest_from_aws(tmp_path):
    env = config.load(env_file(tmp_path, aws='profile = "ops"\n',
                               storage=f'replica_role_arn = "{DR_ROLE}"\nreplica_external_id = "x"\n'
                                       'replica_account_id = "210987654321"\n',
                               other='[services]\nregion = "eu-west-1"\n[certificates]\nregion = "us-east-1"\n'))
    svc = env.aws_target("services")
    assert (svc.region, svc.profile, svc.role_arn, svc.account_id) == ("eu-west-1", "ops", None, "123456789012")
    dr = env.aws_target("storage.replica")
    assert (dr.region, dr.profile, dr.role_arn, dr.external_id, dr.account_id) == \
        ("us-west-2", None, DR_ROLE, "x", "210987654321")
    src = env.aws_target("storage.source")
    assert (src.region, src.profile) == ("us-east-1", "ops")
    assert set(env.aws_targets()) == set(config.AWS_SECTIONS)
    with pytest.raises(ValueError, match="not an AWS section"):
        env.aws_target("timeouts")


def test_aws_takes_a_profile_and_the_role_assumed_from_it(tmp_path):
    env = config.load(env_file(tmp_path, aws=f'profile = "base"\nrole_arn = "{READ_ROLE}"\n',
                               other='[rds]\nprofile = "dba"\n'))
    assert env.aws_target("backups").credentials == ("base", READ_ROLE, None)
    assert env.aws_target("rds").credentials == ("dba", None, None)


@pytest.mark.parametrize("body, line", [
    (f'[backups]\nprofile = "p"\nrole_arn = "{DR_ROLE}"\n', "backups.role_arn: set profile or role_arn, not both"),
    ('[infrastructure]\nexternal_id = "x"\n', "infrastructure.external_id: only meaningful with role_arn"),
    ('[storage]\nreplica_profile = "p"\nreplica_role_arn = "' + DR_ROLE + '"\n',
     "storage.replica_role_arn: set replica_profile or replica_role_arn, not both"),
    ('[services]\nrole_arn = "opsproof-read"\n', "services.role_arn: String should match pattern"),
    ('[capacity]\naccount_id = "12"\n', "capacity.account_id"),
])
def test_a_credentials_mistake_is_one_line_naming_file_and_key(tmp_path, body, line):
    f = tmp_path / "bad.toml"
    f.write_text('kind = "aws"\n[aws]\naccount_id = "123456789012"\n' + body)
    with pytest.raises(ConfigError) as e:
        config.load(str(f))
    assert str(e.value).startswith(f"{f}: {line}"), str(e.value)
    assert "\n" not in str(e.value)


# ---- one AssumeRole per distinct role per process; none in the next process ------------------------------------
SERVICES = ("rds", "s3", "acm", "elbv2", "cloudfront", "ecs", "ecr", "ssm", "ec2", "secretsmanager", "cloudwatch",
            "application-autoscaling", "sts")


def _use_everything(env):
    """13 clients in several sections on [aws]'s role, the DR bucket's client on its own role; one call each side."""
    for i, service in enumerate(SERVICES):
        connect.aws_client(env, service, ("services", "infrastructure", "capacity", "aws")[i % 4])
    connect.aws_client(env, "sts", "aws").get_caller_identity()
    connect.aws_client(env, "s3", "storage.replica").list_buckets()
    connect.aws_client(env, "s3", "storage.source").list_buckets()


def test_each_role_is_assumed_once_per_process_and_cached_for_the_next(fresh, fake_aws):
    f = env_file(fresh, aws=f'role_arn = "{READ_ROLE}"\n', storage=f'replica_role_arn = "{DR_ROLE}"\n'
                 'replica_external_id = "dr-trust"\n', endpoint=fake_aws)
    env = config.load(f)
    _use_everything(env)
    assumed = calls(fresh, "AssumeRole")
    assert len(assumed) == 2, assumed
    assert {c["section"] for c in assumed} == {f"assume-role:{READ_ROLE}", f"assume-role:{DR_ROLE}"}
    assert len(list((fresh / "cache").rglob("*.json"))) == 2
    # A second process (an xdist worker, the next run) reads botocore's cache: no AssumeRole at all.
    script = ("import sys; sys.path.insert(0, %r); from opsproof import config; "
              "from tests.unit.test_aws_targets import _use_everything; _use_everything(config.load(%r))"
              % (str(ROOT), f))
    r = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=os.environ.copy(), capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert len(calls(fresh, "AssumeRole")) == 2
    assert len({c["pid"] for c in calls(fresh, "ListBuckets")}) == 2


def test_the_cache_of_one_endpoint_is_never_offered_to_another(fresh, fake_aws):
    env = config.load(env_file(fresh, aws=f'role_arn = "{READ_ROLE}"\n', endpoint=fake_aws))
    (fresh / "real").mkdir()
    other = config.load(env_file(fresh / "real", aws=f'role_arn = "{READ_ROLE}"\n'))
    assert connect._role_cache(env)._working_dir != connect._role_cache(other)._working_dir


# ---- every distinct role's account is verified and recorded ----------------------------------------------------
def test_a_section_role_in_another_account_needs_that_account_named(fresh, fake_aws):
    other_role = "arn:aws:iam::210987654321:role/opsproof-dr"
    env = config.load(env_file(fresh, storage=f'replica_role_arn = "{other_role}"\n', endpoint=fake_aws))
    with pytest.raises(ConfigError) as e:
        identity.verify(env)
    assert "storage.replica_role_arn: role " + other_role in str(e.value)
    assert "in account 210987654321, not 123456789012" in str(e.value)
    assert "set storage.replica_account_id if that account is intended" in str(e.value)

    env = config.load(env_file(fresh, storage=f'replica_role_arn = "{other_role}"\n'
                                              'replica_account_id = "210987654321"\n', endpoint=fake_aws))
    target = identity.verify(env)
    assert target.account == "123456789012"
    [dr] = target.identities
    assert dr["sections"] == ["storage.replica"] and dr["account"] == "210987654321"
    assert dr["arn"].startswith("arn:aws:sts::210987654321:assumed-role/opsproof-dr/")
    assert ("AWS caller (storage.replica)", f"{dr['arn']} (account 210987654321)") in target.lines()
    assert target.regions == {"storage.replica": "us-west-2"}

    env = config.load(env_file(fresh, storage=f'replica_role_arn = "{other_role}"\n'
                                              'replica_account_id = "111111111111"\n', endpoint=fake_aws))
    with pytest.raises(ConfigError, match="storage.replica_account_id: .* in account 210987654321, not 111111111111"):
        identity.verify(env)


def test_a_missing_profile_names_the_sections_key(fresh):
    env = config.load(env_file(fresh, other='[secrets]\nprofile = "no-such-profile"\n'))
    with pytest.raises(ConfigError, match=r"prod.toml: secrets.profile: no profile 'no-such-profile'"):
        connect.aws_client(env, "secretsmanager", "secrets")
