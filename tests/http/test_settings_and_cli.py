"""Settings from the environment, and the `jyntrix` command's token and model subcommands."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import jwt
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from jyntrix_adapters.dramatiq.broker import DramatiqConfig
from jyntrix_adapters.support.llm_retry import GenerationSettings
from jyntrix_bootstrap.local_secret import LOCAL_SECRET_FILE
from jyntrix_bootstrap.settings import (
    SECTIONS,
    Deployment,
    Environment,
    Settings,
    SettingsError,
    load_settings,
    variable_names,
)
from jyntrix_cli.cli import main
from jyntrix_domain.context import Budgets
from jyntrix_domain.ranking import RankFormula, RankingWeights
from jyntrix_domain.retrieval import RetrievalConfig
from jyntrix_domain.signals import SIGNAL_NAMES
from jyntrix_http.app import create_app


def test_the_old_names_of_renamed_variables_still_work_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="jyntrix.settings"):
        settings = load_settings({"JYNTRIX_PROFILE": "in_process", "RANK_PROFILE": "seed"}, create_local_secret=False)
    assert settings.jyntrix_deployment is Deployment.IN_PROCESS and settings.rank_formula is RankFormula.SEED
    assert "JYNTRIX_PROFILE is deprecated and will stop working: set JYNTRIX_DEPLOYMENT instead" in caplog.text
    assert "RANK_PROFILE is deprecated and will stop working: set RANK_FORMULA instead" in caplog.text


def test_a_renamed_variable_s_new_name_wins_over_its_old_one(caplog: pytest.LogCaptureFixture) -> None:
    env = {"JYNTRIX_PROFILE": "in_process", "JYNTRIX_DEPLOYMENT": "embedded"}
    with caplog.at_level(logging.WARNING, logger="jyntrix.settings"):
        assert load_settings(env, create_local_secret=False).jyntrix_deployment is Deployment.EMBEDDED
    assert "deprecated" not in caplog.text


def test_defaults_are_the_embedded_deployment(tmp_path: Path) -> None:
    settings = load_settings({"JYNTRIX_DATA_DIR": str(tmp_path)})
    assert settings.database_url is None and settings.qdrant_url is None and settings.redis_url is None
    assert settings.google_ai_api_key is None
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert (settings.rate_limit_requests, settings.rate_limit_window_s) == (100, 60.0)
    assert settings.gemini_model == "gemini-2.5-flash"
    assert (settings.llm.max_output_tokens, settings.llm.temperature) == (4096, 0.7)
    assert settings.jwt_audience == "authenticated"
    assert settings.analytics_retention_days == 90
    assert settings.budgets.total == 5000
    assert settings.ranking.keyword == 0.30  # measured on LoCoMo (docs/benchmarks.md); the seed had 0.35


def test_values_are_decoded_from_strings(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "JYNTRIX_DATA_DIR": str(tmp_path),
            "PORT": "9001",
            "LLM_TEMPERATURE": "0.2",
            "RANK_ADAPTIVE": "false",
            "CORS_ORIGINS": "https://a.example, https://b.example",
            "ALLOWED_HOSTS": "memory.example.com, *.corp.example, 10.0.0.5, [fd00::1], *",
            "ENVIRONMENT": "development",
            "QDRANT_URL": "   ",  # blank means unset
        }
    )
    assert settings.port == 9001
    assert settings.llm.temperature == 0.2
    assert settings.rank_adaptive is False
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.allowed_hosts == ("memory.example.com", "*.corp.example", "10.0.0.5", "[fd00::1]", "*")
    assert settings.qdrant_url is None


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"ENVIRONMENT": "staging"}, "ENVIRONMENT"),
        ({"RATE_LIMIT_REQUESTS": "0"}, "RATE_LIMIT_REQUESTS"),
        ({"RANK_WEIGHT_VECTOR": "-0.1"}, "RANK_WEIGHT_VECTOR"),
        ({"LLM_TEMPERATURE": "hot"}, "LLM_TEMPERATURE"),
        ({"LLM_TEMPERATURE": "3"}, "LLM_TEMPERATURE"),
        ({"LLM_MAX_OUTPUT_TOKENS": "0"}, "LLM_MAX_OUTPUT_TOKENS"),
        ({"LLM_TIMEOUT_S": "0"}, "LLM_TIMEOUT_S"),
        ({"CONTEXT_BUDGET_TOTAL": "-5"}, "CONTEXT_BUDGET_TOTAL"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"TASK_RUNNER": "dramatiq"}, "TASK_RUNNER"),
        ({"SUPABASE_JWT_SECRET": "short"}, "SUPABASE_JWT_SECRET"),
        ({"ENVIRONMENT": "production"}, "SUPABASE_JWT_SECRET"),
        ({"RETRIEVAL_TIMEOUT_S": "0"}, "RETRIEVAL_TIMEOUT_S"),
        ({"RETRIEVAL_LIMIT": "many"}, "RETRIEVAL_LIMIT"),
        ({"RANK_RECENCY_HALF_LIFE_DAYS": "0"}, "RANK_RECENCY_HALF_LIFE_DAYS"),
        ({"JYNTRIX_WORKER_MAX_RETRIES": "-1"}, "JYNTRIX_WORKER_MAX_RETRIES"),
        ({"JYNTRIX_SUMMARY_IDLE_S": "-1"}, "JYNTRIX_SUMMARY_IDLE_S"),
        ({"TASK_CONCURRENCY": "0"}, "TASK_CONCURRENCY"),
        ({"ALLOWED_HOSTS": "https://memory.example.com"}, "ALLOWED_HOSTS"),
        ({"ALLOWED_HOSTS": "memory.example.com:8000"}, "ALLOWED_HOSTS"),
        ({"ALLOWED_HOSTS": "memory.example.com/api"}, "ALLOWED_HOSTS"),
        ({"ALLOWED_HOSTS": "*example.com"}, "ALLOWED_HOSTS"),
        ({"TRUSTED_PROXIES": "proxy.internal"}, "TRUSTED_PROXIES"),
    ],
)
def test_an_invalid_value_names_its_variable(tmp_path: Path, env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings({"JYNTRIX_DATA_DIR": str(tmp_path), **env})


def test_sections_nest_the_config_structs_with_their_own_defaults(tmp_path: Path) -> None:
    settings = load_settings({"JYNTRIX_DATA_DIR": str(tmp_path)})
    assert settings.ranking == RankingWeights()
    assert settings.budgets == Budgets()
    assert settings.retrieval == RetrievalConfig()
    assert settings.dramatiq == DramatiqConfig()
    assert settings.llm == GenerationSettings()


def test_every_field_of_a_config_struct_is_a_variable(tmp_path: Path) -> None:
    names = set(variable_names())
    for section in SECTIONS:
        struct = type(getattr(Settings(), section.field))
        for field in msgspec.structs.fields(struct):
            assert section.renames.get(field.name, section.prefix + field.name.upper()) in names
    changed = load_settings(
        {
            "JYNTRIX_DATA_DIR": str(tmp_path),
            "RANK_WEIGHT_VECTOR": "0.5",
            "RANK_RECENCY_HALF_LIFE_DAYS": "10",
            "CONTEXT_BUDGET_TOTAL": "900",
            "RETRIEVAL_TIMEOUT_S": "2.5",
            "RETRIEVAL_MIN_VECTOR_SCORE": "0.3",
            "JYNTRIX_WORKER_QUEUE": "other",
            "JYNTRIX_SUMMARY_IDLE_S": "60",
        }
    )
    assert (changed.ranking.vector, changed.ranking.half_life_days, changed.ranking.keyword) == (0.5, 10.0, 0.30)
    assert changed.budgets.total == 900
    assert (changed.retrieval.strategy_timeout_s, changed.retrieval.min_vector_score) == (2.5, 0.3)
    assert (changed.dramatiq.queue, changed.worker.summary_idle_s) == ("other", 60.0)


def test_weights_that_are_only_wrong_together_name_every_variable_set(tmp_path: Path) -> None:
    zeros = {f"RANK_WEIGHT_{name.upper()}": "0" for name in SIGNAL_NAMES}
    with pytest.raises(SettingsError) as raised:
        load_settings({"JYNTRIX_DATA_DIR": str(tmp_path), **zeros})
    assert all(name in str(raised.value) for name in zeros)


def test_the_local_secret_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = load_settings({"JYNTRIX_DATA_DIR": str(tmp_path)})
    second = load_settings({"JYNTRIX_DATA_DIR": str(tmp_path)})
    assert first.supabase_jwt_secret and len(first.supabase_jwt_secret) >= 32
    assert first.supabase_jwt_secret == second.supabase_jwt_secret
    mode = (tmp_path / LOCAL_SECRET_FILE).stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
    configured = load_settings({"JYNTRIX_DATA_DIR": str(tmp_path), "SUPABASE_JWT_SECRET": "s" * 40})
    assert configured.supabase_jwt_secret == "s" * 40
    production = load_settings(
        {"JYNTRIX_DATA_DIR": str(tmp_path / "prod"), "ENVIRONMENT": "production", "SUPABASE_JWKS_URL": "http://x"}
    )
    assert production.environment is Environment.PRODUCTION
    assert production.supabase_jwt_secret is None
    assert not (tmp_path / "prod").exists()


async def test_jyntrix_token_mints_what_the_server_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JYNTRIX_DATA_DIR", str(tmp_path))
    for name in ("SUPABASE_JWT_SECRET", "SUPABASE_JWKS_URL", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    assert main(["token", "--user", "alice", "--hours", "2"]) == 0
    token = capsys.readouterr().out.strip()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "alice"
    assert claims["aud"] == "authenticated"
    assert claims["exp"] - claims["iat"] == 2 * 3600

    settings = msgspec.structs.replace(load_settings(), jyntrix_deployment=Deployment.IN_PROCESS)
    # A loopback name, as a local client sends: the default settings answer no other Host.
    async with AsyncTestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        response = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json()["id"] == "alice"


def test_jyntrix_token_refuses_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JYNTRIX_DATA_DIR", str(tmp_path))
    assert main(["token", "--user", "alice", "--hours", "0"]) == 2
    monkeypatch.setenv("SUPABASE_JWKS_URL", "http://127.0.0.1:1/jwks.json")
    monkeypatch.delenv("SUPABASE_JWT_SECRET", raising=False)
    assert main(["token", "--user", "alice"]) == 2
    assert "SUPABASE_JWKS_URL" in capsys.readouterr().err
    monkeypatch.setenv("PORT", "not-a-port")
    with pytest.raises(SystemExit) as exit_info:
        main(["token", "--user", "alice"])
    assert exit_info.value.code == 2
    assert "PORT" in capsys.readouterr().err


def test_jyntrix_model_builds_or_finds_the_model(
    minilm_model_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EMBEDDING_MODEL_DIR", str(minilm_model_dir))
    assert main(["model"]) == 0
    err = capsys.readouterr().err
    assert f"Ready: {minilm_model_dir}" in err
    assert (minilm_model_dir / "model.onnx").is_file()


def test_rank_formula_seed_restores_the_seed_weights_and_calibration(tmp_path: Path) -> None:
    from jyntrix_bootstrap.container import make_ranker, make_retrieval_config
    from jyntrix_domain.fusion import Calibration
    from jyntrix_domain.ranking import SEED_WEIGHTS, RankingWeights
    from jyntrix_domain.retrieval import RetrievalConfig

    env = {"JYNTRIX_DATA_DIR": str(tmp_path), "RANK_WEIGHT_KEYWORD": "0.9", "RETRIEVAL_VECTOR_CALIBRATION": "zscore"}
    seed = load_settings({**env, "RANK_FORMULA": "seed"})
    assert make_ranker(seed).weights == SEED_WEIGHTS
    config = make_retrieval_config(seed)
    assert (config.vector_calibration, config.keyword_calibration, config.graph_signal) == (
        Calibration.RAW,
        Calibration.MAX,
        "keyword",
    )
    configured = load_settings(env)
    assert make_ranker(configured).weights.keyword == 0.9
    assert make_retrieval_config(configured).vector_calibration is Calibration.ZSCORE
    # Unset, the settings are the domain's own defaults.
    defaults = load_settings({"JYNTRIX_DATA_DIR": str(tmp_path)})
    assert make_ranker(defaults).weights == RankingWeights()
    assert make_retrieval_config(defaults) == RetrievalConfig()
