"""Trusted-trader (AEO) programmes and the mutual recognition arrangements between them.

An AEO programme is a customs administration's implementation of the WCO SAFE Framework's
Authorised Economic Operator concept; a mutual recognition arrangement (MRA) is a bilateral
decision that each side treats the other's certified operators like its own.
https://www.wcoomd.org/en/topics/facilitation/instrument-and-tools/tools/safe_package.aspx

Each MRA row names its source. Dates are as published: ``signed`` is ``YYYY-MM-DD`` when the
day is known and ``YYYY-MM`` when a source gives only the month; ``effective`` is the day
benefits started when a source says so; ``until`` is the last day of an arrangement that has
ended (inclusive), None while it is in force. Rows with ``verified=False`` are arrangements we
believe exist but could not confirm in a primary or reputable secondary source; a trust list
can name them, but :func:`vcred.trust.build_trust_list` asks for them explicitly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Final

from ..errors import UsageError
from ._codes import EU_MEMBER_STATES

# What mutual recognition gives a recognised operator at the partner's border. CBP lists
# "fewer exams, … business resumption, front-of-the-line processing, marketability"
# (https://www.cbp.gov/newsroom/national-media-release/us-customs-and-border-protection-singapore-sign-customs-agreements);
# the EU and UK list fewer security controls, priority treatment, a business continuity
# mechanism and recognition as trusted business partners
# (https://www.gov.uk/guidance/customs-technical-handbook-authorised-economic-operator-aeo/mutual-recognition).
BENEFITS: Final[dict[str, str]] = {
    "REDUCED_EXAMINATIONS": (
        "Fewer physical and documentary security controls: the partner's customs takes the "
        "operator's status into account in its risk assessment"
    ),
    "PRIORITY_PROCESSING": (
        "Priority (front-of-the-line) treatment of consignments selected for control"
    ),
    "BUSINESS_CONTINUITY": (
        "Priority when trade resumes after a disruption such as a port closure or a security "
        "incident (joint business continuity mechanism)"
    ),
    "TRUSTED_PARTNER": (
        "Recognised as a secure business partner when operators assess the security of their "
        "suppliers and customers"
    ),
}
_STANDARD_BENEFITS: Final = (
    "REDUCED_EXAMINATIONS",
    "PRIORITY_PROCESSING",
    "BUSINESS_CONTINUITY",
    "TRUSTED_PARTNER",
)

# Who does what in the supply chain (WCO SAFE Framework, AEO section 1.2).
TRADE_ROLES: Final[dict[str, str]] = {
    "importer": "Importer",
    "exporter": "Exporter",
    "manufacturer": "Manufacturer",
    "carrier": "Carrier",
    "customs-broker": "Customs broker / agent",
    "freight-forwarder": "Freight forwarder",
    "consolidator": "Consolidator",
    "warehouse-operator": "Warehouse keeper",
    "terminal-operator": "Port or terminal operator",
    "logistics-provider": "Third-party logistics provider",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Programme:
    """One AEO programme: who runs it, where, and its tiers (levels or authorisation types)."""

    code: str
    name: str
    authority: str
    countries: frozenset[str]
    tiers: dict[str, str] = field(hash=False)
    url: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MutualRecognition:
    """A mutual recognition arrangement between two programmes.

    ``recognised_tiers`` narrows, per programme, which tiers the partner recognises (the EU
    recognises only AEO certificates with the security component, AEOS and AEOF); a
    programme absent from it has all its tiers recognised.
    """

    id: str
    programmes: tuple[str, str]
    name: str
    signed: str
    effective: date | None = None
    until: date | None = None
    recognised_tiers: dict[str, frozenset[str]] = field(default_factory=dict, hash=False)
    benefits: tuple[str, ...] = _STANDARD_BENEFITS
    source: str
    verified: bool = True
    note: str = ""

    @property
    def since(self) -> date:
        """The first day of recognition: the effective date, else the (first of the) signing."""
        if self.effective is not None:
            return self.effective
        year, month, *day = (int(part) for part in self.signed.split("-"))
        return date(year, month, day[0] if day else 1)

    def partner_of(self, programme: str) -> str:
        """The other programme of the pair. Raises UsageError if ``programme`` is not in it."""
        first, second = self.programmes
        if programme == first:
            return second
        if programme == second:
            return first
        raise UsageError(f"{programme} is not a party to {self.id}")

    def recognises(self, programme: str, tier: str | None) -> bool:
        """Whether a certificate of ``programme`` at ``tier`` falls under this arrangement."""
        if programme not in self.programmes:
            return False
        allowed = self.recognised_tiers.get(programme)
        return allowed is None or tier is None or tier in allowed

    def in_force(self, day: date) -> bool:
        """Whether recognition applies on ``day`` (``until`` is the last day, inclusive)."""
        return self.since <= day and (self.until is None or day <= self.until)


PROGRAMMES: Final[dict[str, Programme]] = {
    p.code: p
    for p in (
        Programme(
            code="US-CTPAT",
            name="Customs Trade Partnership Against Terrorism (CTPAT)",
            authority="U.S. Customs and Border Protection (CBP)",
            countries=frozenset({"US"}),
            tiers={
                "TIER1": "Tier 1 — certified",
                "TIER2": "Tier 2 — certified and validated",
                "TIER3": "Tier 3 — validated, security measures exceeding the minimum criteria",
                "TRADE_COMPLIANCE": "CTPAT Trade Compliance (importers also in CTPAT Security)",
            },
            url="https://www.cbp.gov/border-security/ports-entry/cargo-security/ctpat",
        ),
        Programme(
            code="EU-AEO",
            name="Authorised Economic Operator (Union Customs Code, Articles 38–39)",
            authority="Customs authorities of the EU Member States (coordinated by DG TAXUD)",
            countries=EU_MEMBER_STATES,
            tiers={
                "AEOC": "AEO — customs simplifications",
                "AEOS": "AEO — security and safety",
                "AEOF": "AEO — customs simplifications and security and safety (full)",
            },
            url="https://taxation-customs.ec.europa.eu/customs-4/aeo-authorised-economic-operator_en",
        ),
        Programme(
            code="UK-AEO",
            name="UK Authorised Economic Operator",
            authority="HM Revenue & Customs (HMRC)",
            countries=frozenset({"GB"}),
            tiers={
                "AEOC": "AEO — customs simplification",
                "AEOS": "AEO — security and safety",
            },
            url="https://www.gov.uk/guidance/authorised-economic-operator-certification",
        ),
        Programme(
            code="JP-AEO",
            name="Japan AEO Program",
            authority="Japan Customs (Customs and Tariff Bureau, Ministry of Finance)",
            countries=frozenset({"JP"}),
            tiers={
                "IMPORTER": "Authorized Importer",
                "EXPORTER": "Authorized Exporter",
                "WAREHOUSE": "Authorized Warehouse Operator",
                "CUSTOMS_BROKER": "Authorized Customs Broker",
                "LOGISTICS": "Authorized Logistics Operator",
                "MANUFACTURER": "Authorized Manufacturer",
            },
            url="https://www.customs.go.jp/english/aeo/",
        ),
        Programme(
            code="CA-PIP",
            name="Partners in Protection (PIP)",
            authority="Canada Border Services Agency (CBSA)",
            countries=frozenset({"CA"}),
            tiers={"PIP": "Partners in Protection member"},
            url="https://www.cbsa-asfc.gc.ca/security-securite/pip-pep/menu-eng.html",
        ),
        Programme(
            code="MX-OEA",
            name="Operador Económico Autorizado (OEA; formerly NEEC, Nuevo Esquema de "
            "Empresas Certificadas)",
            authority="Servicio de Administración Tributaria (SAT)",
            countries=frozenset({"MX"}),
            tiers={"OEA": "Operador Económico Autorizado"},
            url="https://www.sat.gob.mx/",
        ),
        Programme(
            code="KR-AEO",
            name="Korea AEO Program",
            authority="Korea Customs Service (KCS)",
            countries=frozenset({"KR"}),
            tiers={"A": "Grade A", "AA": "Grade AA", "AAA": "Grade AAA"},
            url="https://www.customs.go.kr/",
        ),
        Programme(
            code="SG-STP",
            name="Secure Trade Partnership (STP)",
            authority="Singapore Customs",
            countries=frozenset({"SG"}),
            tiers={"STP": "Secure Trade Partnership", "STP-PLUS": "Secure Trade Partnership Plus"},
            url="https://www.customs.gov.sg/businesses/customs-schemes-licences-framework/secure-trade-partnership-stp",
        ),
        Programme(
            code="CN-AEO",
            name="China Customs Enterprise Credit Management (AEO: Advanced Certified Enterprise)",
            authority="General Administration of Customs of the People's Republic of China (GACC)",
            countries=frozenset({"CN"}),
            tiers={"ACE": "Advanced Certified Enterprise"},
            url="http://english.customs.gov.cn/",
        ),
        Programme(
            code="NZ-SES",
            name="Secure Exports Scheme (SES)",
            authority="New Zealand Customs Service",
            countries=frozenset({"NZ"}),
            tiers={"SES": "Secure Exports Scheme partner"},
            url="https://www.customs.govt.nz/business/export/secure-exports-scheme/",
        ),
    )
}

_CBP_MR = (
    "https://www.cbp.gov/border-security/ports-entry/cargo-security/"
    "c-tpat-customs-trade-partnership-against-terrorism/mutual-recognition"
)
_EU_SECURITY = frozenset({"AEOS", "AEOF"})
_WCO_2010 = (
    "signed at the WCO Council Sessions, Brussels, 25 June 2010 (Korea–US, Canada–Japan, "
    "Canada–Korea, Canada–Singapore, Korea–Singapore)"
)
_COMCEC_JP = (
    "COMCEC, Authorized Economic Operators in the Islamic Countries (2018), §2.2.2: the "
    "MRAs Japan Customs has signed"
)


def _mra(
    a: str,
    b: str,
    *,
    name: str,
    signed: str,
    source: str,
    effective: date | None = None,
    recognised_tiers: dict[str, frozenset[str]] | None = None,
    verified: bool = True,
    note: str = "",
) -> MutualRecognition:
    first, second = sorted((a, b))
    return MutualRecognition(
        id=f"urn:vcred:mra:{first.lower()}:{second.lower()}",
        programmes=(first, second),
        name=name,
        signed=signed,
        effective=effective,
        recognised_tiers=recognised_tiers or {},
        source=source,
        verified=verified,
        note=note,
    )


MRAS: Final[tuple[MutualRecognition, ...]] = (
    _mra(
        "US-CTPAT",
        "NZ-SES",
        name="US–New Zealand MRA (CTPAT / Secure Exports Scheme)",
        signed="2007-06",
        source=f"{_CBP_MR} — New Zealand, June 2007 (CBP's first MRA)",
    ),
    _mra(
        "US-CTPAT",
        "CA-PIP",
        name="US–Canada MRA (CTPAT / Partners in Protection)",
        signed="2008-06",
        source=f"{_CBP_MR} — Canada, June 2008",
    ),
    _mra(
        "US-CTPAT",
        "JP-AEO",
        name="US–Japan MRA (CTPAT / Japan AEO)",
        signed="2009-06-26",
        source=(
            f"{_CBP_MR} — Japan, June 2009; Ministry of Finance press release of 26 June 2009 "
            "(http://www.mof.go.jp/jouhou/kanzei/ka210626.htm)"
        ),
    ),
    _mra(
        "US-CTPAT",
        "KR-AEO",
        name="US–Korea MRA (CTPAT / Korea AEO)",
        signed="2010-06-25",
        source=f"{_CBP_MR} — Korea, June 2010; {_WCO_2010}",
    ),
    _mra(
        "US-CTPAT",
        "EU-AEO",
        name="US–EU Mutual Recognition Decision (JCCC decision of 4 May 2012)",
        signed="2012-05-04",
        effective=date(2012, 7, 1),
        recognised_tiers={"EU-AEO": _EU_SECURITY},
        source=(
            "EU press release IP/12/449; https://taxation-customs.ec.europa.eu/customs-4/"
            "international-affairs/third-countries/united-states-america_en"
        ),
    ),
    _mra(
        "US-CTPAT",
        "MX-OEA",
        name="US–Mexico MRA (CTPAT / NEEC, now OEA)",
        signed="2014-10",
        source=f"{_CBP_MR} — Mexico, October 2014",
    ),
    _mra(
        "US-CTPAT",
        "SG-STP",
        name="US–Singapore MRA (CTPAT / Secure Trade Partnership)",
        signed="2014-12-01",
        source=(
            "https://www.cbp.gov/newsroom/national-media-release/"
            "us-customs-and-border-protection-singapore-sign-customs-agreements"
        ),
    ),
    _mra(
        "US-CTPAT",
        "UK-AEO",
        name="US–UK MRA (CTPAT / UK AEO)",
        signed="2021-01",
        recognised_tiers={"UK-AEO": frozenset({"AEOS"})},
        source=(
            f"{_CBP_MR} — United Kingdom, January 2021 (HMRC AEO); legal basis: US–UK Customs "
            "Mutual Assistance Agreement signed 16 December 2020"
        ),
    ),
    _mra(
        "EU-AEO",
        "JP-AEO",
        name="EU–Japan MRA (JCCC Decision No 1/2010, 2010/637/EU)",
        signed="2010-06-24",
        effective=date(2011, 5, 24),
        recognised_tiers={"EU-AEO": _EU_SECURITY},
        source=(
            "http://data.europa.eu/eli/dec/2010/637/oj; implementation from 24 May 2011 "
            "(JAMA, Issue No. 3, 2011)"
        ),
    ),
    _mra(
        "EU-AEO",
        "CN-AEO",
        name="EU–China MRA (JCCC decision of 16 May 2014, 2014/772/EU)",
        signed="2014-05-16",
        effective=date(2015, 11, 1),
        recognised_tiers={"EU-AEO": _EU_SECURITY, "CN-AEO": frozenset({"ACE"})},
        source=(
            "http://data.europa.eu/eli/dec/2014/772/oj; implemented from 1 November 2015 "
            "(GACC Announcement [2015] No. 52)"
        ),
    ),
    _mra(
        "EU-AEO",
        "UK-AEO",
        name="EU–UK Trade and Cooperation Agreement, Annex CUSTMS-1 (AEO)",
        signed="2020-12-30",
        effective=date(2021, 1, 1),
        recognised_tiers={"EU-AEO": _EU_SECURITY, "UK-AEO": frozenset({"AEOS"})},
        source=(
            "EU–UK TCA, provisionally applied from 1 January 2021, Annex CUSTMS-1; "
            "https://www.revenue.ie/en/customs/businesses/brexit/info-businesses/"
            "eu-uk-trade-agreement/aeo-mutual-recognition.aspx"
        ),
    ),
    _mra(
        "JP-AEO",
        "NZ-SES",
        name="Japan–New Zealand MRA",
        signed="2008-05",
        source=f"{_COMCEC_JP} — New Zealand (May 2008)",
    ),
    _mra(
        "JP-AEO",
        "CA-PIP",
        name="Canada–Japan MRA (Partners in Protection / Japan AEO)",
        signed="2010-06-25",
        source=f"{_COMCEC_JP} — Canada (June 2010); {_WCO_2010}",
    ),
    _mra(
        "JP-AEO",
        "KR-AEO",
        name="Japan–Korea MRA",
        signed="2011-05",
        source=f"{_COMCEC_JP} — Korea (May 2011)",
    ),
    _mra(
        "JP-AEO",
        "SG-STP",
        name="Japan–Singapore MRA",
        signed="2011-06",
        source=f"{_COMCEC_JP} — Singapore (June 2011)",
    ),
    _mra(
        "JP-AEO",
        "CN-AEO",
        name="China–Japan MRA",
        signed="2018-10",
        effective=date(2019, 6, 1),
        recognised_tiers={"CN-AEO": frozenset({"ACE"})},
        source="GACC notice on implementation from 1 June 2019 (Export Compliance Daily, "
        "26 April 2019)",
    ),
    _mra(
        "JP-AEO",
        "UK-AEO",
        name="Japan–UK AEO mutual recognition (UK–Japan CEPA)",
        signed="2020-10-23",
        effective=date(2021, 1, 1),
        recognised_tiers={"UK-AEO": frozenset({"AEOS"})},
        source="UK–Japan Comprehensive Economic Partnership Agreement, signed 23 October 2020",
        verified=False,
        note=(
            "The CEPA's customs chapter is understood to carry over AEO mutual recognition; "
            "not confirmed against HMRC's list of MRA partners."
        ),
    ),
    _mra(
        "CA-PIP",
        "KR-AEO",
        name="Canada–Korea MRA",
        signed="2010-06-25",
        source=f"CBSA news release, 25 June 2010; {_WCO_2010}",
    ),
    _mra(
        "CA-PIP",
        "SG-STP",
        name="Canada–Singapore MRA (PIP / STP)",
        signed="2010-06-25",
        source=(
            "Singapore Customs, inSync issue 09: first MRAs, signed 25 June 2010 with the CBSA "
            f"and the Korea Customs Service; {_WCO_2010}"
        ),
    ),
    _mra(
        "KR-AEO",
        "SG-STP",
        name="Korea–Singapore MRA (Korea AEO / STP)",
        signed="2010-06-25",
        source=f"Singapore Customs, inSync issue 09; {_WCO_2010}",
    ),
    _mra(
        "CA-PIP",
        "MX-OEA",
        name="Canada–Mexico MRA (PIP / NEEC, now OEA)",
        signed="2016-05-11",
        source=(
            "Government of Canada announcement of 13 May 2016: signed 11 May 2016 at the WCO "
            "Global AEO Conference, Cancún"
        ),
    ),
    _mra(
        "CA-PIP",
        "NZ-SES",
        name="Canada–New Zealand MRA (PIP / Secure Exports Scheme)",
        signed="2019-06",
        source=(
            "https://www.canada.ca/en/border-services-agency/news/2019/06/"
            "cbsa-signs-mutual-recognition-arrangements-with-hong-kong-and-new-zealand.html"
        ),
    ),
    _mra(
        "KR-AEO",
        "MX-OEA",
        name="Korea–Mexico MRA (Korea AEO / NEEC, now OEA)",
        signed="2014-03-11",
        effective=date(2015, 2, 16),
        source="Signed 11 March 2014, in effect from 16 February 2015 (TECMA, February 2015)",
    ),
)


def programme(code: str) -> Programme:
    """The programme with this code. Raises UsageError for an unknown code."""
    found = PROGRAMMES.get(code)
    if found is None:
        raise UsageError(f"unknown AEO programme {code!r}; known: {', '.join(sorted(PROGRAMMES))}")
    return found


def programmes_for_country(country: str) -> tuple[Programme, ...]:
    """The programmes that certify operators established in ``country`` (ISO 3166-1)."""
    return tuple(p for p in PROGRAMMES.values() if country in p.countries)


def mras_for(code: str) -> Iterator[MutualRecognition]:
    """Every arrangement ``code`` is a party to."""
    return (m for m in MRAS if code in m.programmes)


def mra_between(a: str, b: str) -> MutualRecognition | None:
    """The arrangement between two programmes, in either order, or None."""
    for mra in MRAS:
        if set(mra.programmes) == {a, b}:
            return mra
    return None


def mra_by_id(mra_id: str) -> MutualRecognition | None:
    return next((m for m in MRAS if m.id == mra_id), None)
