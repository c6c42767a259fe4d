"""An independent relying party: Python authlib (Debian python3-authlib) runs the
authorization code flow with PKCE S256 against passgrid, checks the ID token's
signature against the JWKS, the nonce and amr, calls userinfo, and then tries what
an attacker would: a reused code, a wrong verifier, a redirect URI that only shares a
prefix, alg=none and HS256 tokens offered back, a reused rotated refresh token.

Prints one JSON object of findings; the Rust test (tests/oidc.rs) asserts on it.
Usage: authlib_rp.py ISSUER CA_PEM CLIENT_ID SECRET REDIRECT_URI SESSION_TOKEN
"""
import json
import os
import sys

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oauth2.rfc7636 import create_s256_code_challenge

issuer, ca, client_id, secret, redirect_uri, session_token = sys.argv[1:7]
# requests prefers these over an explicit `verify`: the CA is passgrid's, given here.
for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
    os.environ.pop(var, None)
out = {}
browser = requests.Session()
browser.verify = ca
browser.cookies.set("passgrid_session", session_token, domain=issuer.split("//")[1].split(":")[0])

meta = browser.get(issuer + "/.well-known/openid-configuration", timeout=10).json()
out["issuer_matches"] = meta["issuer"] == issuer
jwks = JsonWebKey.import_key_set(browser.get(meta["jwks_uri"], timeout=10).json())


def rp():
    c = OAuth2Session(client_id, secret, scope="openid profile email groups",
                      redirect_uri=redirect_uri, code_challenge_method="S256",
                      token_endpoint_auth_method="client_secret_basic")
    c.verify = ca
    return c


def authorize(client, verifier, nonce, redirect=redirect_uri):
    uri, state = client.create_authorization_url(
        meta["authorization_endpoint"], nonce=nonce, code_verifier=verifier, redirect_uri=redirect)
    r = browser.get(uri, allow_redirects=False, timeout=10)
    return r, state


def code_of(location):
    from urllib.parse import parse_qs, urlparse
    return parse_qs(urlparse(location).query).get("code", [None])[0]


def token_request(data, auth=(client_id, secret)):
    r = requests.post(meta["token_endpoint"], data=data, auth=auth, verify=ca, timeout=10)
    return r.status_code, r.json()


# 1. The code flow, as a relying party does it.
client = rp()
verifier, nonce = generate_token(64), generate_token(24)
r, state = authorize(client, verifier, nonce)
out["authorize_status"] = r.status_code
location = r.headers.get("Location", "")
out["redirected_to_client"] = location.startswith(redirect_uri + "?")
token = client.fetch_token(meta["token_endpoint"], authorization_response=location,
                           code_verifier=verifier, state=state)
claims = jwt.decode(token["id_token"], jwks, claims_options={
    "iss": {"essential": True, "value": issuer},
    "aud": {"essential": True, "value": client_id},
    "nonce": {"essential": True, "value": nonce},
})
claims.validate()
out["id_token_alg"] = json.loads(
    __import__("base64").urlsafe_b64decode(token["id_token"].split(".")[0] + "==")).get("alg")
out["id_token_sub"] = claims["sub"]
out["amr"] = claims.get("amr")
out["acr"] = claims.get("acr")
out["has_auth_time"] = isinstance(claims.get("auth_time"), int)
out["has_sid"] = bool(claims.get("sid"))
userinfo = client.get(meta["userinfo_endpoint"], timeout=10)
out["userinfo"] = userinfo.json()

# 2. The same code again: refused, and what it gave is revoked.
code = code_of(location)
st, body = token_request({"grant_type": "authorization_code", "code": code,
                          "redirect_uri": redirect_uri, "code_verifier": verifier})
out["reused_code"] = [st, body.get("error"), "access_token" in body]
out["first_access_token_after_reuse"] = requests.get(
    meta["userinfo_endpoint"], headers={"Authorization": "Bearer " + token["access_token"]},
    verify=ca, timeout=10).status_code

# 3. A wrong PKCE verifier: refused, nothing issued.
client = rp()
verifier = generate_token(64)
r, _ = authorize(client, verifier, generate_token(24))
st, body = token_request({"grant_type": "authorization_code", "code": code_of(r.headers["Location"]),
                          "redirect_uri": redirect_uri, "code_verifier": generate_token(64)})
out["wrong_verifier"] = [st, body.get("error"), "access_token" in body]

# 4. A redirect URI sharing only a prefix with the registered one: an error page, no redirect.
r, _ = authorize(rp(), generate_token(64), generate_token(24), redirect=redirect_uri + "evil")
out["prefix_redirect"] = [r.status_code, r.headers.get("Location")]
r, _ = authorize(rp(), generate_token(64), generate_token(24), redirect=redirect_uri[:-1])
out["shorter_redirect"] = [r.status_code, r.headers.get("Location")]

# 5. Tokens we forge, offered back: alg=none and HS256 signed with the client secret.
forged_claims = {"iss": issuer, "aud": client_id, "sub": claims["sub"], "exp": claims["exp"],
                 "iat": claims["iat"], "sid": claims["sid"]}
b64 = lambda d: __import__("base64").urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
alg_none = b64({"alg": "none", "typ": "JWT"}) + "." + b64(forged_claims) + "."
hs256 = jwt.encode({"alg": "HS256", "kid": json.loads(__import__("base64").urlsafe_b64decode(
    token["id_token"].split(".")[0] + "=="))["kid"]}, forged_claims, secret).decode()
for name, forged in [("alg_none", alg_none), ("hs256", hs256)]:
    hint = browser.get(meta["end_session_endpoint"], params={"id_token_hint": forged},
                       allow_redirects=False, timeout=10)
    bearer = requests.get(meta["userinfo_endpoint"], headers={"Authorization": "Bearer " + forged},
                          verify=ca, timeout=10)
    out[name] = [hint.status_code, hint.headers.get("Location"), bearer.status_code]

# 6. Refresh token rotation: the spent one again revokes the family.
client = rp()
verifier = generate_token(64)
r, state = authorize(client, verifier, generate_token(24))
first = client.fetch_token(meta["token_endpoint"], authorization_response=r.headers["Location"],
                           code_verifier=verifier, state=state)
st, second = token_request({"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
out["refresh"] = [st, "access_token" in second, second.get("refresh_token") != first["refresh_token"]]
st, again = token_request({"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
out["refresh_reuse"] = [st, again.get("error"), "access_token" in again]
out["rotated_after_reuse"] = token_request(
    {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]})[1].get("error")
out["access_after_reuse"] = requests.get(
    meta["userinfo_endpoint"], headers={"Authorization": "Bearer " + second["access_token"]},
    verify=ca, timeout=10).status_code

# 7. A wrong secret and an unknown client.
st, body = token_request({"grant_type": "refresh_token", "refresh_token": "x"}, auth=(client_id, "wrong"))
out["wrong_secret"] = [st, body.get("error")]
r = browser.get(meta["authorization_endpoint"], params={
    "client_id": "nobody", "redirect_uri": redirect_uri, "response_type": "code", "scope": "openid"},
    allow_redirects=False, timeout=10)
out["unknown_client"] = [r.status_code, r.headers.get("Location")]
r = browser.get(meta["authorization_endpoint"], params={
    "client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code",
    "scope": "openid", "state": "x" * 5000}, allow_redirects=False, timeout=10)
out["oversized_state"] = [r.status_code, "error=invalid_request" in r.headers.get("Location", "")]
r = browser.get(meta["authorization_endpoint"] + "?client_id=" + client_id + "&client_id=" + client_id,
                allow_redirects=False, timeout=10)
out["repeated_param"] = [r.status_code, r.headers.get("Location")]

print(json.dumps(out))
