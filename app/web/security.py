"""What every answer says to the browser about safety: a Content-Security-Policy that runs only
Swarmboard's own script files (no inline script: behaviour hangs off data-attributes in
static/js/app.js), who may frame the pages, no MIME sniffing, no referrer to other sites (wall
links carry their token in the address); and cookies that are Secure whenever the request came
over TLS (directly, or through a proxy trusted with PROXY_FIX=1)."""

from urllib.parse import urlsplit

from flask import request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
          "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
          "base-uri 'self'; form-action 'self'{forms}; frame-ancestors {ancestors}")


class TlsAwareSessions(SecureCookieSessionInterface):
    """The session cookie is Secure when the request came over TLS (or the config says so)."""

    def get_cookie_secure(self, app) -> bool:
        return super().get_cookie_secure(app) or request.is_secure


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def init_security(app) -> None:
    if app.config["PROXY_FIX"]:
        # Behind a reverse proxy that sets X-Forwarded-For/-Proto/-Host (docs/serving.md).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)
    app.session_interface = TlsAwareSessions()
    ancestors = " ".join(app.config["FRAME_ANCESTORS"]) or "'none'"
    # Logging out of single sign-on is a form whose answer sends the browser on to the
    # provider's logout page: form-action must allow the provider (the browser checks where a
    # form's redirects lead too).
    oidc = app.config.get("OIDC")
    forms = f" {_origin(oidc['discovery_url'])}" if oidc else ""
    policy = POLICY.format(ancestors=ancestors, forms=forms)

    @app.after_request
    def _safety_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        if not app.config["FRAME_ANCESTORS"]:
            headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure and "Set-Cookie" in headers:
            # Flask-Login's remember-me cookie follows the session's rule.
            cookies = headers.getlist("Set-Cookie")
            headers.setlist("Set-Cookie", [c if "; Secure" in c or not c.startswith(
                "remember_token=") else c + "; Secure" for c in cookies])
        return response
