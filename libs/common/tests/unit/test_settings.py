import pytest
from common.settings import DASHSCOPE_BASE_URL, EMULATOR_BASE_URL, Settings


def test_without_a_key_the_emulator_is_the_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DASHSCOPE_API_KEY", raising=False)
    monkeypatch.delenv("DASHSCOPE_BASE_URL", raising=False)
    assert Settings().dashscope_base_url == EMULATOR_BASE_URL


def test_a_real_key_points_at_real_dashscope(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-real-key")
    monkeypatch.delenv("DASHSCOPE_BASE_URL", raising=False)
    settings = Settings()
    assert settings.dashscope_base_url == DASHSCOPE_BASE_URL
    assert "sk-real-key" not in repr(settings)


def test_an_explicit_base_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-real-key")
    monkeypatch.setenv("DASHSCOPE_BASE_URL", "http://127.0.0.1:9999/api/v1")
    assert Settings().dashscope_base_url == "http://127.0.0.1:9999/api/v1"
