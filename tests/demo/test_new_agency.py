"""A customs agency the demo does not run joins the trust fabric with data only.

New Zealand Customs (programme NZ-SES, in the bundled registry) starts an issuer and delivers
an SES certificate to a sample exporter's wallet; U.S. CBP, whose MRA with New Zealand the
registry says is in force, publishes a trust list pinning New Zealand's keys, and its verifier
trusts the certificate under that MRA; the exporter answers the US verifier's OpenID4VP
request from `vcred wallet`, and the US border query recognises it by its NZBN; New Zealand
suspends it, and the US verifier and border query say so. Every step is a command of the
docs (README, docs/services.md, trust-fabric.md, wallet.md, openid4vp.md, recognition.md),
run as docs/*.md blocks run (tests/test_docs_snippets.py): free ports, processes stopped.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.test_docs_snippets import Block, Session
from tests.test_docs_snippets import session as session  # the fixture

pytestmark = pytest.mark.slow

NZBN = "9429000000000"  # the registry's NZ-SES identifier scheme, its documented example
MRA = "urn:vcred:mra:nz-ses:us-ctpat"
# Both agencies' hosts (did:web, status lists, the trust list) as the US verifier reaches them
HOST_MAPS = " ".join(
    f"--host-map {host}:{port}=http://127.0.0.1:{port}"
    for port in ("8110", "8120")
    for host in ("localhost", "127.0.0.1")
)

ISSUERS = """
VCRED_ISSUER_STATUS_TTL=1 vcred serve issuer --port 8110 --data-dir nz-issuer \\
    --domain localhost:8110 --programme NZ-SES > nz-issuer.log 2>&1 &
vcred serve issuer --port 8120 --data-dir us-issuer --domain localhost:8120 --programme US-CTPAT &
curl -s --retry 30 --retry-connrefused --retry-delay 1 http://127.0.0.1:8110/health > /dev/null
curl -s --retry 30 --retry-connrefused --retry-delay 1 http://127.0.0.1:8120/health > /dev/null
"""

# New Zealand's case system offers the certificate (with an id: to suspend it later); the
# exporter's wallet redeems the offer
NZ_CERTIFIES = """
grep -o 'vci_[A-Za-z0-9_-]*' nz-issuer.log > nz-token.txt  # the first start's admin token
cat > offer-request.json <<'EOF'
{"credential_configuration_id": "AEOCertificateCredential_vc+sd-jwt",
 "credential": {
  "@context": ["https://www.w3.org/ns/credentials/v2", "https://vcred.dev/ns/customs/v1"],
  "id": "urn:uuid:5d1c0b7e-2f3a-4e6b-9c8d-0a1b2c3d4e5f",
  "type": ["VerifiableCredential", "AEOCertificateCredential"],
  "issuer": "did:web:localhost%3A8110",
  "validFrom": "2026-01-01T00:00:00Z", "validUntil": "2029-01-01T00:00:00Z",
  "credentialSubject": {"type": "Organization", "legalName": "Example Kiwi Orchards Limited",
   "country": "NZ", "identifier": [{"scheme": "NZBN", "value": "9429000000000"}],
   "certification": {"type": "AEOCertification", "programme": "NZ-SES", "tier": "SES",
    "administeringAuthority": {"name": "New Zealand Customs Service", "country": "NZ"},
    "tradeRoles": ["exporter"], "certifiedSince": "2019-04-01"}},
  "credentialSchema": {"id": "https://vcred.dev/schemas/aeo-certificate/v1.json",
                       "type": "JsonSchema"}}}
EOF
curl -sS --fail-with-body -X POST localhost:8110/oid4vci/offers \\
     -H "Authorization: Bearer $(cat nz-token.txt)" -H 'Content-Type: application/json' \\
     -d @offer-request.json > offer.json
export VCRED_WALLET=$PWD/exporter-wallet.db VCRED_WALLET_PASSPHRASE='kiwifruit, picked 2026'
vcred wallet init > holder.txt
vcred wallet receive "$(jq -r .offerUrl offer.json)" --tx-code "$(jq -r .tx_code offer.json)" \\
    --dev --host-map localhost:8110=http://127.0.0.1:8110 > received.txt
vcred wallet export "$(cut -d' ' -f1 received.txt)" > nz-certificate.txt
"""

# the US pins each issuing key of New Zealand's did:web document (not its trust-list key)
US_TRUST_LIST = """
NZ=did:web:localhost%3A8110
vcred did resolve $NZ --host-map localhost:8110=http://127.0.0.1:8110 > nz-did.json
vcred key thumbprint --host-map localhost:8110=http://127.0.0.1:8110 \\
    $(jq -r '.assertionMethod[] | select(contains("#trust-list-") | not)' nz-did.json) \\
    > nz-pins.txt
PINS=$(jq -R '{jwkThumbprint: ., notBefore: "2026-01-01T00:00:00Z"}' nz-pins.txt | jq -cs .)
FROM=$(date -u +%Y-%m-%dT%H:%M:%SZ)
NEXT=$(date -u -d '+7 days' +%Y-%m-%dT%H:%M:%SZ)
UNTIL=$(date -u -d '+30 days' +%Y-%m-%dT%H:%M:%SZ)
cat > us-spec.json <<EOF
{"issuer": "did:web:localhost%3A8120", "programme": "US-CTPAT", "id": "urn:example:cbp-trust-list",
 "validFrom": "$FROM", "nextUpdate": "$NEXT", "validUntil": "$UNTIL",
 "recognisedIssuers": [{"issuer": "$NZ", "programme": "NZ-SES", "country": "NZ",
   "acceptedCredentialTypes": ["AEOCertificateCredential"], "pinnedKeys": $PINS}]}
EOF
vcred trust-list build us-spec.json > us-list-1.json
TOKEN=$(vcred issuer token create --scope trust-list --label "trust lists" --data-dir us-issuer)
curl -sS --fail-with-body -X POST localhost:8120/trust-lists/issue \\
     -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
     -d "{\\"credential\\": $(cat us-list-1.json)}" > /dev/null
"""

US_VERIFIER = f"""
VCRED_VERIFIER_RECOGNITION_REFRESH=1 vcred serve verifier --port 8230 --data-dir us-verifier \\
    --trust-issuer did:web:localhost%3A8120 \\
    --trust-list-url http://127.0.0.1:8120/trust-lists/current {HOST_MAPS} &
curl -s --retry 30 --retry-connrefused --retry-delay 1 http://127.0.0.1:8230/health > us-health.json
"""

WALLET_ANSWERS = """
curl -sS --fail-with-body -X POST localhost:8230/oid4vp/requests \\
     -H 'Content-Type: application/json' -d '{"query": "aeo-certificate"}' > vp-request.json
export VCRED_WALLET=$PWD/exporter-wallet.db VCRED_WALLET_PASSPHRASE='kiwifruit, picked 2026'
vcred wallet present "$(jq -r .authorization_request vp-request.json)" --dev > presented.txt
curl -sS --fail-with-body "localhost:8230/oid4vp/requests/$(jq -r .transaction vp-request.json)" \\
     > vp-outcome.json
"""

NZ_SUSPENDS = """
curl -sS --fail-with-body -X POST localhost:8110/credentials/status \\
     -H "Authorization: Bearer $(cat nz-token.txt)" -H 'Content-Type: application/json' \\
     -d '{"credentialId": "urn:uuid:5d1c0b7e-2f3a-4e6b-9c8d-0a1b2c3d4e5f",
          "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "suspended"}]}'
"""


def _run(session: Session, code: str) -> None:
    session.run(Block(Path(__file__), 1, "sh", (), code))


def _call(session: Session, port: str, path: str, body: Any = None) -> tuple[int, Any]:
    url = f"http://127.0.0.1:{session.ports[port]}{path}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=15) as answer:  # noqa: S310 - http
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


def _read(session: Session, name: str) -> Any:
    return json.loads((session.folder / name).read_text(encoding="utf-8"))


def test_new_zealand_joins_and_its_exporter_is_recognised_in_the_us(session: Session) -> None:
    # 1. New Zealand's issuer, and an SES certificate in the exporter's wallet
    _run(session, ISSUERS)
    _run(session, NZ_CERTIFIES)
    token = (session.folder / "nz-certificate.txt").read_text().strip()
    holder = (session.folder / "holder.txt").read_text().strip()
    assert holder.startswith("did:jwk:")

    # 2. the US publishes a trust list pinning New Zealand's keys; its verifier fetches it
    _run(session, US_TRUST_LIST)
    pins = _read(session, "us-list-1.json")["credentialSubject"]["recognisedIssuers"][0]
    assert pins["mutualRecognition"]["id"] == MRA
    assert len(pins["pinnedKeys"]) == 3  # its Ed25519, P-256 and P-384 keys, not the list key
    _run(session, US_VERIFIER)
    assert _read(session, "us-health.json")["trustList"]["sequenceNumber"] == 1
    status, verified = _call(
        session, "8230", "/credentials/verify", {"verifiableCredential": token}
    )
    assert (status, verified["verified"]) == (200, True), verified
    assert verified["trust"]["trusted"] is True
    assert verified["trust"]["issuer"] == "did:web:localhost%3A" + session.ports["8110"]
    assert verified["trust"]["mra"]["id"] == MRA
    assert verified["trust"]["trustList"] == {
        "id": "urn:example:cbp-trust-list",
        "sequenceNumber": 1,
    }

    # 3. the exporter answers the US verifier's OpenID4VP request; the border recognises it
    _run(session, WALLET_ANSWERS)
    assert (session.folder / "presented.txt").read_text().startswith("presented ")
    assert _read(session, "vp-outcome.json")["status"] == "verified"
    query = f"/recognitions?scheme=NZBN&id={NZBN}"
    status, recognition = _call(session, "8230", query)
    assert status == 200 and recognition["recognised"] is True, recognition
    assert (recognition["trader"], recognition["programme"], recognition["level"]) == (
        "Example Kiwi Orchards Limited",
        "NZ-SES",
        "SES",
    )
    assert recognition["arrangement"]["id"] == MRA
    _, unknown = _call(session, "8230", "/recognitions?scheme=NZBN&id=9429000000017")
    assert (unknown["recognised"], unknown["reason"]) == (False, "NOT_FOUND")

    # 4. New Zealand suspends it: within the status list's ttl (1 s here) the US verifier
    # says so, and within the refresher's next round (1 s here) the border query too
    _run(session, NZ_SUSPENDS)
    deadline = time.monotonic() + 15
    while True:
        _, verified = _call(session, "8230", "/credentials/verify", {"verifiableCredential": token})
        _, recognition = _call(session, "8230", query)
        ended = verified["verified"] is False and recognition["recognised"] is False
        if ended or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert [problem["code"] for problem in verified["problemDetails"]] == ["SUSPENDED"]
    assert (recognition["recognised"], recognition["reason"]) == (
        False,
        "SUSPENDED_BY_HOME_AGENCY",
    )
    assert recognition["evidence"]["lastStatusCheck"]["result"] == "suspended"
