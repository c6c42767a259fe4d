#!/usr/bin/python3
"""A pysaml2 service provider that saml/tests/pysaml2.rs drives (loopback only:
files in, JSON out). Reads one JSON object from stdin:

  {"mode": "request", ...config}  -> signed AuthnRequests by HTTP-POST and
                                     HTTP-Redirect, with their IDs
  {"mode": "response", "response_b64": ..., "outstanding": [ids], ...config}
                                  -> whether pysaml2 accepts the Response, and
                                     what it read from it
"""
import base64
import json
import re
import sys
import urllib.parse

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256


def client(args):
    conf = {
        "entityid": args["entity_id"],
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "metadata": {"local": [args["idp_metadata"]]},
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
                "authn_requests_signed": True,
                "want_assertions_signed": args.get("want_assertions_signed", True),
                "want_response_signed": args.get("want_response_signed", False),
                "allow_unsolicited": args.get("allow_unsolicited", False),
            }
        },
    }
    config = SPConfig()
    config.load(conf)
    return Saml2Client(config=config)


def make_requests(sp, args):
    idp = args["idp_entity_id"]
    post_id, post_info = sp.prepare_for_authenticate(
        entityid=idp,
        relay_state="rs-post",
        binding=BINDING_HTTP_POST,
        sign=True,
        sigalg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
    )
    form = post_info["data"]
    field = re.search(r'name="SAMLRequest" value="([^"]+)"', form)
    redirect_id, redirect_info = sp.prepare_for_authenticate(
        entityid=idp,
        relay_state="rs redirect/1",
        binding=BINDING_HTTP_REDIRECT,
        sign=True,
        sigalg=SIG_RSA_SHA256,
    )
    location = dict(redirect_info["headers"])["Location"]
    return {
        "post_id": post_id,
        "post_b64": field.group(1) if field else None,
        "redirect_id": redirect_id,
        "redirect_query": urllib.parse.urlsplit(location).query,
    }


def read_response(sp, args):
    outstanding = {rid: "/" for rid in args.get("outstanding", [])}
    try:
        resp = sp.parse_authn_request_response(
            args["response_b64"], BINDING_HTTP_POST, outstanding=outstanding
        )
    except Exception as err:  # any refusal is the answer, not a test crash
        return {"ok": False, "error": type(err).__name__, "message": str(err)[:300]}
    if resp is None or resp.assertion is None or resp.name_id is None:
        # pysaml2 logs some refusals (e.g. a Destination not among its ACS URLs)
        # and hands back nothing usable instead of raising.
        return {"ok": False, "error": "NoAssertion", "message": "nothing usable"}
    statements = resp.assertion.authn_statement
    return {
        "ok": True,
        "name_id": resp.name_id.text,
        "name_id_format": resp.name_id.format,
        "attributes": resp.ava,
        "session_index": statements[0].session_index if statements else None,
        "in_response_to": resp.in_response_to,
        "issuer": resp.issuer(),
    }


def main():
    args = json.load(sys.stdin)
    sp = client(args)
    if args["mode"] == "request":
        out = make_requests(sp, args)
    else:
        out = read_response(sp, args)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
