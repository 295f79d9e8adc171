"""The gateway as a JupyterHub service: a real Hub (jupyterhub from PyPI, configurable-http-proxy
from npm, installed by this test into .cache/chp) starts it, and a user's own Hub token is the
credential — the user is the Hub's name for it."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from gatewayproc import BIN, teacher_env
from helpers import ROOT
from servers import free_port, running

CHP_PREFIX = ROOT / ".cache" / "chp"
CHP = CHP_PREFIX / "node_modules" / ".bin" / "configurable-http-proxy"


def configurable_http_proxy() -> Path:
    if not CHP.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to install configurable-http-proxy for the JupyterHub test")
        done = subprocess.run([npm, "install", "--prefix", str(CHP_PREFIX), "--no-audit", "--no-fund",
                               "configurable-http-proxy@5"], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
    return CHP


@pytest.fixture
def hub(fake, tmp_path):
    pytest.importorskip("jupyterhub")
    chp = configurable_http_proxy()
    ledger = str(tmp_path / "class.sqlite3")
    port, hub_port, gw_port, proxy_api = free_port(), free_port(), free_port(), free_port()
    admin_token = secrets.token_hex(16)
    teacher = teacher_env(fake, tmp_path / "teacher-home")
    service_env = {k: teacher[k] for k in ("OPENAI_API_KEY", "GEMINI_API_KEY", "OPENAI_BASE_URL",
                                           "GOOGLE_GEMINI_BASE_URL", "PROMPTPAINT_HOME", "PATH")}
    (tmp_path / "jupyterhub_config.py").write_text(f"""
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.command = [{str(chp)!r}]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api}"
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = {{"alice", "bob"}}
c.JupyterHub.db_url = "sqlite:///{tmp_path}/hub.sqlite"
c.JupyterHub.cookie_secret_file = "{tmp_path}/cookie_secret"
# The README's lines: the gateway as a service, and users allowed to reach it.
c.JupyterHub.services = [
    {{"name": "promptpaint", "url": "http://127.0.0.1:{gw_port}",
     "command": [{str(BIN)!r}, "gateway", "serve", "--jupyterhub", "--ledger", {ledger!r}],
     "environment": {service_env!r}}},
    {{"name": "test-admin", "api_token": {admin_token!r}}},
]
c.JupyterHub.load_roles = [
    {{"name": "user", "scopes": ["self", "access:services!service=promptpaint"]}},
    {{"name": "test-admin", "scopes": ["admin:users", "tokens"], "services": ["test-admin"]}},
]
c.Spawner.server_token_scopes = ["users:activity!user", "access:servers!server", "access:services!service=promptpaint"]
""")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTERHUB_", "OPENAI", "GEMINI", "GOOGLE"))}
    base = f"http://127.0.0.1:{port}"
    # Ready when the Hub has started the gateway service and routes to it.
    with running([str(Path(sys.executable).parent / "jupyterhub"), "-f", str(tmp_path / "jupyterhub_config.py")],
                 ready_url=f"{base}/services/promptpaint/healthz", log=tmp_path / "hub.log", env=env, cwd=tmp_path,
                 name="JupyterHub or its gateway service", timeout=90):

        def user_token(name, scopes=None):
            body = {"note": "kernel"} if scopes is None else {"scopes": scopes}
            r = requests.post(f"{base}/hub/api/users/{name}/tokens", json=body,
                              headers={"Authorization": f"token {admin_token}"})
            assert r.status_code in (200, 201), r.text
            return r.json()["token"]

        yield {"base": base, "gateway": f"{base}/services/promptpaint", "direct": f"http://127.0.0.1:{gw_port}",
               "ledger": ledger, "token": user_token}


def test_a_users_own_hub_token_is_their_gateway_credential(hub, fake, monkeypatch):
    import promptpaint as pp
    from promptpaint.ledger import SQLiteLedger

    alice = hub["token"]("alice")
    r = requests.post(f"{hub['gateway']}/openai/v1/images/generations", headers={"Authorization": f"Bearer {alice}"},
                      json={"model": "gpt-image-2", "prompt": "through the hub", "quality": "low"})
    assert r.status_code == 200, r.text
    # A kernel the Hub spawned has JUPYTERHUB_API_TOKEN and the spawner's PROMPTPAINT_GATEWAY line.
    monkeypatch.setenv("PROMPTPAINT_GATEWAY", hub["gateway"])
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", hub["token"]("bob"))
    result = pp.Client("gemini").generate("bob's fox")
    assert result.image.size == (1024, 1024)
    rows = SQLiteLedger(hub["ledger"]).entries(10)
    assert [(x["user"], x["prompt"]) for x in rows] == [("bob", "bob's fox"), ("alice", "through the hub")]
    assert abs(sum(x["cost"] for x in rows) - fake.bill_total()) < Decimal("1e-6")
    # A token without access to the service, and a made-up one, are refused.
    limited = hub["token"]("alice", scopes=["read:users!user"])
    for token in (limited, "not-a-hub-token"):
        r = requests.post(f"{hub['direct']}/openai/v1/images/generations", headers={"Authorization": f"Bearer {token}"},
                          json={"model": "gpt-image-2", "prompt": "x", "quality": "low"})
        assert r.status_code == 401, r.text
    assert len(fake.requests) == 2
