"""The issuer's configuration, and several issuers in one process (the cross-border demo)."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest

from issuer_app import IssuerConfig, create_app, issuer_of
from tests.issuer.conftest import ApiClient, auth, credential, dispose
from vcred.errors import UsageError
from vcred_service.signin import EXTENSION as SIGNIN

ENV = {"VCRED_ISSUER_PASSPHRASE": "an environment passphrase"}


def test_from_env(tmp_path: Path) -> None:
    config = IssuerConfig.from_env(
        {
            **ENV,
            "VCRED_ISSUER_DATA_DIR": str(tmp_path),
            "VCRED_ISSUER_DOMAIN": "customs.example%3A8443",
            "VCRED_ISSUER_PUBLIC_URL": "https://customs.example:8443/",
            "VCRED_ISSUER_PROGRAMME": "EU-AEO",
            "VCRED_ISSUER_COUNTRY": "DE",
            "VCRED_ISSUER_FORMATS": "vc+jwt, eddsa-rdfc-2022",
            "VCRED_ISSUER_STORE_CREDENTIALS": "0",
            "VCRED_ISSUER_STATUS_TTL": "60",
            "DATABASE_URL": "postgresql://issuer@db/vcred",
        }
    )
    assert config.data_dir == tmp_path
    assert config.domain == "customs.example:8443"
    assert config.did_web == "did:web:customs.example%3A8443"
    assert config.public_url == "https://customs.example:8443"
    assert config.country == "DE"
    assert config.formats == ("vc+jwt", "eddsa-rdfc-2022")
    assert config.store_credentials is False
    assert config.status_list_ttl == timedelta(seconds=60)
    assert config.sqlalchemy_url == "postgresql+psycopg://issuer@db/vcred"
    assert "an environment passphrase" not in repr(config)


def test_country_follows_a_single_country_programme(tmp_path: Path) -> None:
    assert IssuerConfig.from_env(ENV, data_dir=tmp_path, programme="JP-AEO").country == "JP"
    assert IssuerConfig.from_env(ENV, data_dir=tmp_path, programme="JP-AEO").authority.startswith(
        "Japan Customs"
    )


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"programme": "XX-AEO"}, "unknown programme"),
        ({"programme": "US-CTPAT", "country": "DE"}, "does not certify"),
        ({"domain": "not a host"}, "not a host name"),
        ({"public_url": "ftp://x"}, r"http\(s\) URL"),
        ({"table_prefix": "Bad-Prefix"}, "table prefix"),
        ({"key_types": ("rsa",)}, "key_types"),
    ],
)
def test_bad_configurations_are_refused(
    tmp_path: Path, overrides: dict[str, object], words: str
) -> None:
    with pytest.raises(UsageError, match=words):
        IssuerConfig.from_env(ENV, data_dir=tmp_path, **overrides)


def test_the_passphrase_comes_from_the_environment_or_a_600_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="VCRED_ISSUER_PASSPHRASE"):
        IssuerConfig.from_env({}, data_dir=tmp_path)  # production: required
    with pytest.raises(UsageError, match="1 or 0"):
        IssuerConfig.from_env({**ENV, "VCRED_ISSUER_DEV": "maybe"}, data_dir=tmp_path)
    made = IssuerConfig.from_env({}, data_dir=tmp_path, embedded=True)
    path = tmp_path / "passphrase"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(made.passphrase) >= 40
    # later starts (and the admin commands) read the same file
    assert IssuerConfig.from_env({}, data_dir=tmp_path).passphrase == made.passphrase


def test_a_wrong_passphrase_cannot_open_the_keys(tmp_path: Path) -> None:
    app = create_app(IssuerConfig.from_env(ENV, data_dir=tmp_path))
    dispose(app, drop=False)
    with pytest.raises(UsageError, match="cannot decrypt"):
        create_app(IssuerConfig(data_dir=tmp_path, passphrase="not the one"))


def test_several_issuers_in_one_process(tmp_path: Path) -> None:
    apps = [
        create_app(
            IssuerConfig(
                data_dir=tmp_path / code,
                passphrase="demo passphrase",
                programme=code,
                domain=f"{code.lower()}.example",
                public_url=f"http://127.0.0.1:{port}",
            )
        )
        for code, port in (("US-CTPAT", 8101), ("JP-AEO", 8102))
    ]
    try:
        issuers = [issuer_of(app) for app in apps]
        assert issuers[0].keyring().dids[0] == "did:web:us-ctpat.example"
        assert issuers[1].keyring().dids[0] == "did:web:jp-aeo.example"
        assert {k.tag for k in issuers[0].keyring().keys}.isdisjoint(
            k.tag for k in issuers[1].keyring().keys
        )
        assert apps[0].config["SESSION_COOKIE_NAME"] != apps[1].config["SESSION_COOKIE_NAME"]
        assert apps[0].extensions[SIGNIN].limiter is not apps[1].extensions[SIGNIN].limiter
        for app in apps:
            named = credential(issuer=issuer_of(app).keyring().dids[0])
            answer = ApiClient(app).issue(named, auth(app))
            assert answer.status_code == 201
        # a token of one issuer means nothing to the other
        foreign = auth(apps[0])
        assert ApiClient(apps[1]).issue(credential(), foreign).status_code == 401
    finally:
        for app in apps:
            dispose(app, drop=False)


def test_officer_settings_from_env(tmp_path: Path) -> None:
    secret = "the provider's client secret"  # a test value
    config = IssuerConfig.from_env(
        {
            **ENV,
            "VCRED_ISSUER_DATA_DIR": str(tmp_path),
            "VCRED_ISSUER_FOUR_EYES": "1",
            "VCRED_ISSUER_OIDC_ISSUER": "https://login.customs.example/realms/officers",
            "VCRED_ISSUER_OIDC_CLIENT_ID": "vcred-issuer",
            "VCRED_ISSUER_OIDC_CLIENT_SECRET": secret,
            "VCRED_ISSUER_OIDC_CLAIM": "sub",
            "VCRED_ISSUER_OIDC_SCOPES": "openid groups",
            "VCRED_ISSUER_OIDC_GROUPS_CLAIM": "groups",
            "VCRED_ISSUER_OIDC_GROUP_ROLES": "officers=officer, chiefs=supervisor",
        }
    )
    assert config.four_eyes is True
    settings = config.oidc()
    assert settings is not None and settings.claim == "sub"
    assert settings.role_of_group() == {"officers": "officer", "chiefs": "supervisor"}
    assert secret not in repr(config) and secret not in repr(settings)
    assert IssuerConfig.from_env({**ENV, "VCRED_ISSUER_DATA_DIR": str(tmp_path)}).oidc() is None


@pytest.mark.parametrize("name", ["VCRED_ISSUER_OIDC_CLAIM", "VCRED_ISSUER_OIDC_SCOPES"])
def test_a_provider_setting_without_the_provider_is_refused(tmp_path: Path, name: str) -> None:
    # was: accepted and ignored (officers signed in with passwords only, nothing said so)
    env = {**ENV, "VCRED_ISSUER_DATA_DIR": str(tmp_path), name: "sub"}
    with pytest.raises(UsageError, match="needs the issuer, the client id and the client secret"):
        IssuerConfig.from_env(env)
