"""A real OpenID Connect provider for tests: tests/oidc/provider.mjs (Node, oidc-provider) run
as a subprocess on 127.0.0.1; and a forged discovery document for the bad-signature test.

    with start_oidc_provider(
        clients=[{"client_id": "swarmboard", "client_secret": "s3cret",
                  "redirect_uris": [f"{base}/auth/oidc/callback"],
                  "post_logout_redirect_uris": [f"{base}/"]}],
        accounts={"alice": {"password": "pw", "email": "alice@example.test",
                            "name": "Alice", "groups": ["swarmboard-admins"]}},
    ) as provider:
        ...  # provider.issuer, provider.discovery_url

The login page has inputs name="login" and name="password" and one submit button; the
provider never asks for consent, and its logout page submits itself (see provider.mjs).
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pytest
import requests

from tests.conftest import skip_or_fail

OIDC_DIR = Path(__file__).parent / "oidc"
LISTENING = re.compile(r"oidc-provider listening on (http://127\.0\.0\.1:(\d+))")
START_SECONDS = 15


def end(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    process.stdin.close()


def installed_version() -> str | None:
    package = OIDC_DIR / "node_modules" / "oidc-provider" / "package.json"
    return json.loads(package.read_text())["version"] if package.exists() else None


def ensure_node_modules() -> None:
    """Skip (fail in CI) without Node; run `npm ci` when oidc-provider is missing or not the
    version that package-lock.json pins."""
    if shutil.which("node") is None:
        skip_or_fail("node is not installed: the OpenID Connect tests run oidc-provider on Node.js")
    lock = json.loads((OIDC_DIR / "package-lock.json").read_text())
    if installed_version() == lock["packages"]["node_modules/oidc-provider"]["version"]:
        return
    if shutil.which("npm") is None:
        skip_or_fail("npm is not installed: it installs oidc-provider into tests/oidc")
    result = subprocess.run(
        ["npm", "ci", "--prefix", str(OIDC_DIR), "--no-audit", "--no-fund", "--silent"],
        capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0:
        skip_or_fail(f"npm ci --prefix tests/oidc failed:\n{result.stdout}{result.stderr}")


class OidcProvider:
    """A running tests/oidc/provider.mjs; stop() ends it (so does leaving a `with` block)."""

    def __init__(self, process: subprocess.Popen, log: Path, issuer: str):
        self.process, self.log, self.issuer = process, log, issuer
        self.port = int(issuer.rsplit(":", 1)[1])
        self.discovery_url = f"{issuer}/.well-known/openid-configuration"
        self.jwks_url = f"{issuer}/jwks"
        self.end_session_url = f"{issuer}/session/end"

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def stop(self) -> None:
        end(self.process)
        self.log.unlink(missing_ok=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start_oidc_provider(clients: list[dict], accounts: dict[str, dict], port: int | None = None,
                        require_pkce: bool = True) -> OidcProvider:
    """Start the provider (on a free port unless `port` is given) and wait until its discovery
    document answers; fail with the provider's output if it does not within 15 s."""
    ensure_node_modules()
    env = {**os.environ, "PORT": str(port or 0), "CLIENTS": json.dumps(clients),
           "ACCOUNTS": json.dumps(accounts), "REQUIRE_PKCE": "1" if require_pkce else "0",
           "EXIT_WITH_STDIN": "1"}  # a pipe that closes if this process dies: no orphans
    handle, name = tempfile.mkstemp(prefix="oidc-provider-", suffix=".log")
    log = Path(name)
    with os.fdopen(handle, "w") as out:
        process = subprocess.Popen(["node", str(OIDC_DIR / "provider.mjs")], env=env,
                                   stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT)
    provider = None
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if provider is None and (found := LISTENING.search(log.read_text(errors="replace"))):
            provider = OidcProvider(process, log, found.group(1))
        if provider is not None:
            try:
                if requests.get(provider.discovery_url, timeout=2).status_code == 200:
                    return provider
            except (requests.ConnectionError, requests.Timeout):
                pass
        time.sleep(0.1)
    end(process)
    output = log.read_text(errors="replace")[-3000:]
    log.unlink(missing_ok=True)
    pytest.fail(f"oidc-provider did not start (exit code {process.returncode}; "
                f"{START_SECONDS} s allowed):\n{output}")


class StandIn:
    """A small HTTP server in a thread standing in front of the provider (for the tests that
    need it to answer otherwise than it would)."""

    def serve(self, handler: type[BaseHTTPRequestHandler], port: int) -> str:
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def answer_json(handler: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class ForgedDiscovery(StandIn):
    """Serves `provider`'s discovery document, but with a jwks_uri whose keys are `other`'s."""

    def __init__(self, provider: OidcProvider, other: OidcProvider, keep_kids: bool = True,
                 port: int = 0):
        document = requests.get(provider.discovery_url, timeout=5).json()
        other_keys = requests.get(other.jwks_url, timeout=5).json()["keys"]
        if keep_kids:
            # The other provider's keys under this provider's key ids: the RP finds a key for
            # the ID token's "kid", and the signature check itself fails.
            own_kids = [key["kid"] for key in requests.get(provider.jwks_url, timeout=5)
                        .json()["keys"]]
            other_keys = [{**key, "kid": kid} for key, kid in zip(other_keys, own_kids,
                                                                  strict=False)]
        bodies: dict[str, bytes] = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802  (the name http.server calls)
                body = bodies.get(self.path)
                answer_json(self, 200 if body else 404, body or b"")

            def log_message(self, *args):
                pass

        base = self.serve(Handler, port)
        self.discovery_url = f"{base}/.well-known/openid-configuration"
        self.jwks_url = f"{base}/jwks" if keep_kids else other.jwks_url
        bodies["/.well-known/openid-configuration"] = json.dumps(
            {**document, "jwks_uri": self.jwks_url}).encode()
        bodies["/jwks"] = json.dumps({"keys": other_keys}).encode()


def forged_discovery(provider: OidcProvider, other: OidcProvider,
                     keep_kids: bool = True, port: int = 0) -> ForgedDiscovery:
    """A discovery URL for `provider` whose JWKS is `other`'s: ID tokens from `provider` then
    fail signature verification. With keep_kids=False jwks_uri is `other`'s own JWKS URL, so
    the RP finds no key with the token's "kid" instead."""
    return ForgedDiscovery(provider, other, keep_kids, port)


class AudienceSwap(StandIn):
    """A relying party's view of `provider` in which every sign-in is made, unknown to it, for
    another registered client (`other` = (client id, secret)): authorization requests are sent
    on with the other client's id, token requests with its credentials. The ID tokens that come
    back are genuine and well signed, but their audience is the other client."""

    def __init__(self, provider: OidcProvider, other: tuple[str, str], port: int = 0):
        document = requests.get(provider.discovery_url, timeout=5).json()
        real_auth, real_token = document["authorization_endpoint"], document["token_endpoint"]
        other_id, other_secret = other

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802  (the name http.server calls)
                path, _, query = self.path.partition("?")
                if path == "/.well-known/openid-configuration":
                    answer_json(self, 200, json.dumps(discovery).encode())
                    return
                params = dict(parse_qsl(query))
                params["client_id"] = other_id
                self.send_response(302)
                self.send_header("Location", f"{real_auth}?{urlencode(params)}")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                form.pop("client_id", None)
                form.pop("client_secret", None)
                answer = requests.post(real_token, data=form, auth=(other_id, other_secret),
                                       timeout=10)
                answer_json(self, answer.status_code, answer.content)

            def log_message(self, *args):
                pass

        base = self.serve(Handler, port)
        discovery = {**document, "authorization_endpoint": f"{base}/auth",
                     "token_endpoint": f"{base}/token"}
        self.discovery_url = f"{base}/.well-known/openid-configuration"
