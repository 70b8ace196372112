"""Bearer tokens at the gateway: the access-phase JWT check.

The stack (deploy/stack.sh) configures three keys, each pinned to one
algorithm: kid dev (HS256, the development secret), dev-rs (RS256) and
dev-es (ES256), issuer msp-gateway-dev, audience msp-gateway.  HS256
tokens are made here by hand (stdlib only) so that each can be broken in
exactly one way; RS256 and ES256 tokens come from `mspctl token`.

Every refused token is a 401 problem with
WWW-Authenticate: Bearer error="invalid_token", and nothing is served.
"""
import base64
import hashlib
import hmac
import json
import os
import pathlib
import time
import uuid

import pytest
import requests

from conftest import admin_query

ISSUER = "msp-gateway-dev"
AUDIENCE = "msp-gateway"
ME = "/v1/me"
CHALLENGE = 'Bearer error="invalid_token"'


def secrets_dir():
    state = os.environ.get("MSP_STATE")
    if not state:
        pytest.exit("MSP_STATE is not set: run the end-to-end tests with `make test`", 2)
    return pathlib.Path(state) / "secrets"


def dev_secret():
    return (secrets_dir() / "jwt-dev.key").read_bytes().rstrip()


def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(obj):
    return b64url(json.dumps(obj, separators=(",", ":")))


def claims(**changes):
    """A valid provider technician's claims; None removes a claim."""
    now = int(time.time())
    c = {"iss": ISSUER, "aud": AUDIENCE, "sub": "tech.jwt", "name": "JWT Tester",
         "msp_org": "provider", "msp_role": "technician",
         "iat": now - 60, "nbf": now - 60, "exp": now + 3600}
    for name, value in changes.items():
        if value is None:
            c.pop(name, None)
        else:
            c[name] = value
    return c


def hs256(payload, header=None, key=None):
    """header.payload.signature, HMAC-SHA256 over the first two."""
    header = header if header is not None else {"alg": "HS256", "typ": "JWT", "kid": "dev"}
    signing_input = f"{segment(header)}.{segment(payload)}"
    mac = hmac.new(key if key is not None else dev_secret(), signing_input.encode(),
                   hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def get(http, path, token=None, authorization=None, **kw):
    headers = kw.pop("headers", {})
    if authorization is not None:
        headers["Authorization"] = authorization
    elif token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.get(f"{http}{path}", headers=headers, timeout=10, **kw)


def assert_invalid_token(resp):
    """The one answer to every refused token."""
    assert resp.status_code == 401, resp.text
    assert resp.headers["WWW-Authenticate"] == CHALLENGE
    assert resp.headers["Content-Type"] == "application/problem+json"
    body = resp.json()
    assert body["status"] == 401
    assert body["title"] == "Unauthorized"
    assert body["type"] == "about:blank"
    # nothing served: the body is the problem and only the problem
    assert set(body) <= {"type", "title", "status", "detail"}
    return body


def assert_accepted(resp, sub="tech.jwt", org="provider", role="technician"):
    """Let through by the access check.  Until GET /v1/me is served any
    status but 401 will do; once it is, it names the token's principal."""
    assert resp.status_code != 401, resp.text
    assert "WWW-Authenticate" not in resp.headers
    if resp.status_code == 200:
        me = resp.json()
        assert (me["sub"], me["org"], me["role"]) == (sub, org, role)


def mspctl_token(mspctl, alg, kid, key_file, **extra):
    args = ["token", "--alg", alg, "--kid", kid, "--key", secrets_dir() / key_file,
            "--sub", "tech.jwt", "--org", "provider", "--role", "technician"]
    for name, value in extra.items():
        args += [f"--{name}", value]
    proc = mspctl(*args, check=True)
    return proc.stdout.strip()


# ---------------------------------------------------------------- accepted

def test_valid_hs256(http):
    assert_accepted(get(http, ME, hs256(claims())))


def test_valid_rs256_from_mspctl(http, mspctl):
    assert_accepted(get(http, ME, mspctl_token(mspctl, "RS256", "dev-rs", "jwt-rs256.pem")))


def test_valid_es256_from_mspctl(http, mspctl):
    assert_accepted(get(http, ME, mspctl_token(mspctl, "ES256", "dev-es", "jwt-es256.pem")))


def test_valid_hs256_from_mspctl(http, mspctl):
    proc = mspctl("token", "--sub", "tech.jwt", "--org", "provider", "--role", "technician",
                  check=True)
    assert_accepted(get(http, ME, proc.stdout.strip()))


def test_scheme_is_case_insensitive(http):
    assert_accepted(get(http, ME, authorization=f"bearer {hs256(claims())}"))
    assert_accepted(get(http, ME, authorization=f"BEARER   {hs256(claims())}"))


def test_within_leeway_is_accepted(http):
    now = int(time.time())
    assert_accepted(get(http, ME, hs256(claims(exp=now - 5))))
    assert_accepted(get(http, ME, hs256(claims(nbf=now + 5))))


def test_audience_in_an_array(http):
    assert_accepted(get(http, ME, hs256(claims(aud=["another", AUDIENCE]))))


def test_tenant_principal(http):
    assert_accepted(get(http, ME, hs256(claims(msp_org="acme", msp_role="it_staff"))),
                    org="acme", role="it_staff")


# ---------------------------------------------------------------- refused

def test_expired(http):
    now = int(time.time())
    assert_invalid_token(get(http, ME, hs256(claims(exp=now - 3600))))
    assert_invalid_token(get(http, ME, hs256(claims(exp=now - 120))))


def test_not_yet_valid(http):
    assert_invalid_token(get(http, ME, hs256(claims(nbf=int(time.time()) + 3600))))


def test_wrong_issuer(http):
    assert_invalid_token(get(http, ME, hs256(claims(iss="https://evil.example/"))))
    assert_invalid_token(get(http, ME, hs256(claims(iss=None))))


def test_wrong_audience(http):
    assert_invalid_token(get(http, ME, hs256(claims(aud="another-api"))))
    assert_invalid_token(get(http, ME, hs256(claims(aud=["a", "b"]))))
    assert_invalid_token(get(http, ME, hs256(claims(aud=None))))


def test_wrong_issuer_and_audience_from_mspctl(http, mspctl):
    assert_invalid_token(get(http, ME, mspctl_token(mspctl, "RS256", "dev-rs",
                                                    "jwt-rs256.pem", iss="someone-else")))
    assert_invalid_token(get(http, ME, mspctl_token(mspctl, "ES256", "dev-es",
                                                    "jwt-es256.pem", aud="another-api")))


def test_bad_signature(http, mspctl):
    for token in (hs256(claims()),
                  mspctl_token(mspctl, "RS256", "dev-rs", "jwt-rs256.pem"),
                  mspctl_token(mspctl, "ES256", "dev-es", "jwt-es256.pem")):
        head, payload, sig = token.split(".")
        flipped = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
        assert_invalid_token(get(http, ME, f"{head}.{payload}.{flipped}"))


def test_signed_with_another_secret(http):
    assert_invalid_token(get(http, ME, hs256(claims(), key=b"x" * 48)))


def test_payload_swapped_under_a_valid_signature(http):
    head, _, sig = hs256(claims()).split(".")
    admin = segment(claims(msp_role="admin"))
    assert_invalid_token(get(http, ME, f"{head}.{admin}.{sig}"))


def test_alg_none(http):
    payload = segment(claims(msp_role="admin"))
    for alg in ("none", "None", "NONE"):
        for kid in ("dev", "dev-rs"):
            header = segment({"alg": alg, "typ": "JWT", "kid": kid})
            assert_invalid_token(get(http, ME, f"{header}.{payload}."))
            assert_invalid_token(get(http, ME, f"{header}.{payload}.AAAA"))


def test_key_confusion_hs256_with_the_rs256_public_key(http):
    """An HS256 token keyed with the RS256 kid's public PEM: anyone holding
    the public key could make one, and libjwt alone would accept it."""
    public_pem = (secrets_dir() / "jwt-rs256.pub.pem").read_bytes()
    for key in (public_pem, public_pem.rstrip()):
        token = hs256(claims(), header={"alg": "HS256", "typ": "JWT", "kid": "dev-rs"}, key=key)
        assert_invalid_token(get(http, ME, token))
    public_pem = (secrets_dir() / "jwt-es256.pub.pem").read_bytes()
    token = hs256(claims(), header={"alg": "HS256", "typ": "JWT", "kid": "dev-es"},
                  key=public_pem)
    assert_invalid_token(get(http, ME, token))


def test_alg_not_pinned_to_kid(http):
    # a good HS256 signature, but claiming the RS256 key's kid or an HS384 alg
    assert_invalid_token(get(http, ME, hs256(claims(), header={"alg": "HS256",
                                                                "kid": "dev-rs"})))
    assert_invalid_token(get(http, ME, hs256(claims(), header={"alg": "RS256", "kid": "dev"})))


def test_unknown_kid(http):
    assert_invalid_token(get(http, ME, hs256(claims(), header={"alg": "HS256",
                                                                "kid": "retired-2019"})))


def test_missing_kid(http):
    assert_invalid_token(get(http, ME, hs256(claims(), header={"alg": "HS256",
                                                                "typ": "JWT"})))


@pytest.mark.parametrize("mangle", [
    pytest.param(lambda t: t.rsplit(".", 1)[0], id="two-segments"),
    pytest.param(lambda t: t + ".AAAA", id="four-segments"),
    pytest.param(lambda t: "no-dots-at-all", id="one-segment"),
    pytest.param(lambda t: "..", id="empty-segments"),
    pytest.param(lambda t: "e!J" + t[3:], id="bad-base64"),
    pytest.param(lambda t: t + "=", id="padding"),
    pytest.param(lambda t: b64url("not json") + t[t.index("."):], id="header-not-json"),
    pytest.param(lambda t: b64url('["HS256","dev"]') + t[t.index("."):],
                 id="header-not-object"),
])
def test_malformed(http, mangle):
    assert_invalid_token(get(http, ME, mangle(hs256(claims()))))


def test_oversized_token(http):
    token = hs256(claims(padding="x" * 10_000))
    assert len(token) > 10_000
    assert_invalid_token(get(http, ME, token))


@pytest.mark.parametrize("claim", ["sub", "msp_org", "msp_role"])
def test_missing_claim(http, claim):
    assert_invalid_token(get(http, ME, hs256(claims(**{claim: None}))))
    assert_invalid_token(get(http, ME, hs256(claims(**{claim: 42}))))


def test_missing_exp(http):
    assert_invalid_token(get(http, ME, hs256(claims(exp=None))))


def test_tenant_principal_claiming_a_provider_role(http):
    assert_invalid_token(get(http, ME, hs256(claims(msp_org="acme", msp_role="admin"))))


@pytest.mark.parametrize("authorization", [
    "Basic dGVjaDpwYXNzd29yZA==",
    "Bearer",
    "Bearer ",
    "Token abc.def.ghi",
    "Bearerabc.def.ghi",
])
def test_wrong_scheme(http, authorization):
    assert_invalid_token(get(http, ME, authorization=authorization))


def test_head_gets_headers_only(http):
    resp = requests.head(f"{http}{ME}", headers={"Authorization": "Bearer x.y.z"}, timeout=10)
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"] == CHALLENGE
    assert resp.content == b""


def test_refused_post_writes_nothing_and_keeps_the_connection_usable(http):
    """Nothing is written, and the body of the refused request is discarded
    rather than read as the next request on the same connection."""
    marker = f"jwt refused {uuid.uuid4().hex[:8]}"
    ticket = {"title": marker, "impact": "low", "urgency": "low", "requester": "someone"}
    with requests.Session() as s:
        for token in (hs256(claims(exp=1)), hs256(claims(msp_role="admin"), key=b"k" * 40)):
            resp = s.post(f"{http}/v1/tenants/acme/tickets", json=ticket, timeout=10,
                          headers={"Authorization": f"Bearer {token}"})
            assert_invalid_token(resp)
            resp = s.get(f"{http}/v1/health", timeout=10)
            assert resp.status_code == 200
            assert resp.json()["status"] == "ok"
    assert admin_query("SELECT count(*) FROM tickets WHERE title = %s", (marker,))[0][0] == 0


# ------------------------------------------------------- public routes

def test_health_without_a_token(http):
    resp = requests.get(f"{http}/v1/health", timeout=10)
    assert resp.status_code == 200


def test_health_with_a_good_token(http):
    assert get(http, "/v1/health", hs256(claims())).status_code == 200


def test_bad_token_on_a_public_route_is_refused(http):
    """Whatever the route, a token that was sent and fails is a 401: a
    client with a broken token should learn so at once."""
    assert_invalid_token(get(http, "/v1/health", "garbage"))
    assert_invalid_token(get(http, "/v1/health", hs256(claims(exp=1))))
    assert_invalid_token(get(http, "/v1/health", authorization="Basic Zm9vOmJhcg=="))


def test_bad_token_on_an_unknown_path_is_refused(http):
    assert_invalid_token(get(http, "/v1/nope", "garbage"))


def test_no_token_on_me_is_401_problem(http):
    """No token is not a bad token: the content handler asks for one
    (RFC 6750, 3.1: no error code when no credentials were sent)."""
    resp = get(http, ME)
    assert resp.status_code == 401
    assert resp.headers["Content-Type"] == "application/problem+json"
    assert resp.json()["status"] == 401
    assert resp.headers["WWW-Authenticate"] == "Bearer"


# ---------------------------------------------------------------- logs

def test_reason_is_logged_at_info_never_the_token(http):
    log = pathlib.Path(os.environ["MSP_STATE"]) / "nginx" / "error.log"
    sub = f"log-{uuid.uuid4().hex}"
    token = hs256(claims(sub=sub, exp=int(time.time()) - 3600))
    start = log.stat().st_size

    assert_invalid_token(get(http, ME, token))

    text = ""
    for _ in range(50):      # the worker writes the line as it answers; be patient
        text = log.read_bytes()[start:].decode(errors="replace")
        if "token has expired" in text:
            break
        time.sleep(0.1)
    lines = [line for line in text.splitlines() if "bearer token refused" in line]
    assert lines, text
    assert any("[info]" in line and "token has expired" in line for line in lines), lines
    for part in token.split("."):
        assert part not in text
    assert sub not in text
