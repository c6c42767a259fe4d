#!/usr/bin/python3
"""A second, independent SAML service provider: Python pysaml2 (Debian
python3-pysaml2, which signs and verifies with xmlsec1) against the running passgrid.
tests/saml_sso.rs drives it through files and pipes (loopback only). Reads one JSON
object from stdin, writes one to stdout:

  {"mode": "metadata", ...config}   -> {"xml": the SP's metadata}
  {"mode": "request", "binding": "redirect"|"post", "sign": bool,
   "relay_state": str, "acs_url": str|null, "force_authn": bool, ...config}
                                    -> {"id": request ID, "url": for redirect,
                                        "b64": the SAMLRequest field for POST}
  {"mode": "response", "response_b64": str, "outstanding": [ids], ...config}
                                    -> whether pysaml2 accepts the Response (its own
                                       checks: signature with the IdP metadata's
                                       certificate, audience, recipient/destination,
                                       time window, InResponseTo) and what it read
config: entity_id, acs, idp_metadata (file), key_file, cert_file, sign_requests
"""
import json
import re
import sys
import urllib.parse

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256


def config(args):
    conf = {
        "entityid": args["entity_id"],
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "key_file": args["key_file"],
        "cert_file": args["cert_file"],
        "encryption_keypairs": [
            {"key_file": args["key_file"], "cert_file": args["cert_file"]}
        ],
        "allow_unknown_attributes": True,
        "service": {
            "sp": {
                "endpoints": {
                    "assertion_consumer_service": [(args["acs"], BINDING_HTTP_POST)]
                },
                "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                "authn_requests_signed": args.get("sign_requests", True),
                "want_assertions_signed": True,
                "want_response_signed": False,
                "allow_unsolicited": args.get("allow_unsolicited", False),
            }
        },
    }
    if args.get("idp_metadata"):
        conf["metadata"] = {"local": [args["idp_metadata"]]}
    c = SPConfig()
    c.load(conf)
    return c


def metadata(args):
    return {"xml": create_metadata_string(None, config(args), valid=None, sign=False).decode()}


def request(args):
    sp = Saml2Client(config=config(args))
    idp = args["idp_entity_id"]
    extra = {}
    if args.get("acs_url"):
        extra["assertion_consumer_service_url"] = args["acs_url"]
    if args.get("force_authn"):
        extra["force_authn"] = "true"
    binding = BINDING_HTTP_REDIRECT if args["binding"] == "redirect" else BINDING_HTTP_POST
    sign = args.get("sign", True)
    rid, info = sp.prepare_for_authenticate(
        entityid=idp,
        relay_state=args.get("relay_state", ""),
        binding=binding,
        sign=sign,
        sigalg=SIG_RSA_SHA256 if sign else None,
        digest_alg=DIGEST_SHA256 if sign else None,
        **extra,
    )
    if binding == BINDING_HTTP_REDIRECT:
        location = dict(info["headers"])["Location"]
        return {"id": rid, "url": location}
    field = re.search(r'name="SAMLRequest" value="([^"]+)"', info["data"])
    return {"id": rid, "b64": field.group(1) if field else None}


def response(args):
    sp = Saml2Client(config=config(args))
    outstanding = {rid: "/" for rid in args.get("outstanding", [])}
    try:
        resp = sp.parse_authn_request_response(
            args["response_b64"], BINDING_HTTP_POST, outstanding=outstanding
        )
    except Exception as err:  # a refusal is the answer, not a crash of the test
        return {"ok": False, "error": type(err).__name__, "message": str(err)[:300]}
    if resp is None or resp.assertion is None or resp.name_id is None:
        return {"ok": False, "error": "NoAssertion", "message": "nothing usable"}
    statements = resp.assertion.authn_statement
    return {
        "ok": True,
        "name_id": resp.name_id.text,
        "name_id_format": resp.name_id.format,
        "attributes": resp.ava,
        "session_index": statements[0].session_index if statements else None,
        "authn_context": statements[0].authn_context.authn_context_class_ref.text
        if statements
        else None,
        "in_response_to": resp.in_response_to,
        "issuer": resp.issuer(),
    }


def main():
    args = json.load(sys.stdin)
    out = {"metadata": metadata, "request": request, "response": response}[args["mode"]](args)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
