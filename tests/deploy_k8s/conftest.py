"""The rendered overlays, built once per session with the real `kubectl kustomize` (no cluster)."""

from __future__ import annotations

import pytest

from tests.deploy_k8s.manifests import OVERLAYS, Rendered, need_kubectl, overlay


@pytest.fixture(scope="session", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> Rendered:
    """Each overlay in turn (local, production), as kubectl renders it."""
    need_kubectl()
    return overlay(str(request.param))


@pytest.fixture(scope="session")
def local() -> Rendered:
    need_kubectl()
    return overlay("local")


@pytest.fixture(scope="session")
def production() -> Rendered:
    need_kubectl()
    return overlay("production")
