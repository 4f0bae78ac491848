"""Single sign-on with OpenID Connect, through Authlib: /login/sso sends the browser to the
provider (authorization code with PKCE), /login/sso/callback checks its answer (the ID token's
signature, issuer, audience, expiry and nonce) and logs the person in; logging out of a
single-sign-on session also ends it at the provider. Who the claims name is decided by
app.accounts.sso."""

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, current_app, render_template, request, session, url_for
from joserfc.errors import JoseError

from app.accounts.sso import person_for_claims
from app.errors import DomainError
from app.extensions import db
from app.web.signin import INVITE_KEY, NEXT_KEY, signed_in

bp = Blueprint("sso", __name__)
ID_TOKEN_KEY = "sb_sso_id_token"  # kept for the provider's logout (id_token_hint)


def init_sso(app) -> None:
    """One Authlib registry per app (a process may hold several apps, as the tests do)."""
    oauth = app.extensions["sb_oauth"] = OAuth(app)
    settings = app.config.get("OIDC")
    if settings:
        oauth.register(
            "oidc", client_id=settings["client_id"], client_secret=settings["client_secret"],
            server_metadata_url=settings["discovery_url"],
            client_kwargs={"scope": settings["scopes"], "code_challenge_method": "S256",
                           "timeout": 10},
        )

    @app.template_global("sso_name")
    def sso_name() -> str | None:
        settings = current_app.config.get("OIDC")
        return settings["name"] if settings else None


def _refused(message: str, status: int):
    return render_template("accounts/sso_error.html", message=message), status


def _client():
    if not current_app.config.get("OIDC"):
        return None
    return current_app.extensions["sb_oauth"].create_client("oidc")


@bp.get("/login/sso")
def start():
    client = _client()
    if client is None:
        return _refused("Single sign-on is not set up on this server.", 404)
    if target := request.args.get("next"):
        session[NEXT_KEY] = target
    if token := request.args.get("invite"):
        session[INVITE_KEY] = token
    try:
        return client.authorize_redirect(url_for("sso.callback", _external=True))
    except (requests.RequestException, ValueError) as error:
        current_app.logger.warning("Identity provider unreachable: %s", error)
        return _refused(f"{current_app.config['OIDC']['name'].capitalize()} cannot be reached "
                        "just now; try again in a moment, or log in with a password.", 503)


@bp.get("/login/sso/callback")
def callback():
    client = _client()
    if client is None:
        return _refused("Single sign-on is not set up on this server.", 404)
    if error := request.args.get("error"):
        description = request.args.get("error_description") or error
        return _refused(f"The identity provider refused the sign-in: {description[:200]}", 401)
    try:
        token = client.authorize_access_token()
    except requests.RequestException as error:
        current_app.logger.warning("Identity provider unreachable: %s", error)
        return _refused("The identity provider cannot be reached just now; try again.", 503)
    except (AuthlibBaseError, JoseError, ValueError, KeyError) as error:
        # A bad signature, the wrong audience or issuer, an expired token, a replayed state.
        current_app.logger.warning("Single sign-on answer refused: %r", error)
        return _refused("The identity provider's answer could not be trusted (its signature, "
                        "audience or state did not check out), so nobody was logged in. Try "
                        "again; if it keeps happening, tell a site admin.", 401)
    claims = token.get("userinfo") or {}
    issuer = client.load_server_metadata().get("issuer", "")
    try:
        user = person_for_claims(issuer, dict(claims), current_app.config["OIDC"],
                                 invited=bool(session.get(INVITE_KEY)))
    except DomainError as refused:
        db.session.rollback()
        return _refused(refused.message, refused.status)
    db.session.flush()
    response = signed_in(user, "login.sso", issuer=issuer)
    session[ID_TOKEN_KEY] = token.get("id_token")
    return response


def provider_logout_url() -> str | None:
    """Where to send the browser to end a single-sign-on session at the provider too."""
    id_token = session.pop(ID_TOKEN_KEY, None)
    client = _client()
    if not id_token or client is None:
        return None
    try:
        end = client.load_server_metadata().get("end_session_endpoint")
    except (requests.RequestException, ValueError):
        return None
    if not end:
        return None
    query = requests.compat.urlencode({
        "id_token_hint": id_token,
        "post_logout_redirect_uri": url_for("accounts.login", _external=True)})
    return f"{end}?{query}"
