"""Random JSON-LD credentials for the fast-path differential test (a helper, not a test module).

:func:`generate` builds one document from a seeded :class:`random.Random`: credentials,
presentations, status lists, proof configurations and DID-ish documents over the bundled
contexts (VC 1.1 / 2.0, Open Badges 3.0.2 / 3.0.3, examples with ``@vocab``, status, Data
Integrity, citizenship) plus inline contexts, with varied shapes: nesting, arrays, shared and
anonymous blank nodes, nodes merged through a repeated ``@id``, ``@list`` / ``@set`` /
``@graph`` / ``@json`` terms, type-scoped and property-scoped contexts, value objects with
languages and datatypes, numbers and booleans of every JSON kind, IRIs and compact IRIs, and
unicode (controls, quotes, backslashes, astral, U+2028, RTL, combining marks).

A share of documents (``rng.random() < bad``) also gets one mutation the reference path treats
specially: an undefined or issuer-dependent term or type, a relative or unwritable IRI, an
unknown context, a protected redefinition, a keyword the fast path does not handle
(``@reverse``, ``@index``, ``@included``, ``@direction``, ``@nest``), a bad language tag, ...
"""

from __future__ import annotations

import random
from typing import Any

VC1 = "https://www.w3.org/2018/credentials/v1"
VC2 = "https://www.w3.org/ns/credentials/v2"
EX2 = "https://www.w3.org/ns/credentials/examples/v2"
OB3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB2 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json"
DI2 = "https://w3id.org/security/data-integrity/v2"
STATUS = "https://www.w3.org/ns/credentials/status/v1"
CIT = "https://w3id.org/citizenship/v4rc1"
MULTIKEY = "https://w3id.org/security/multikey/v1"
DID1 = "https://www.w3.org/ns/did/v1"

EX = "https://example.org/ns#"
INLINE: dict[str, Any] = {
    "ex": EX,
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "knows": {"@id": "ex:knows", "@type": "@id"},
    "tags": {"@id": "ex:tags", "@container": "@list"},
    "labelNl": {"@id": "ex:label", "@language": "nl"},
    "amount": {"@id": "ex:amount", "@type": "xsd:decimal"},
    "score": {"@id": "ex:score", "@type": "xsd:double"},
    "flag": {"@id": "ex:flag", "@type": "xsd:boolean"},
    "kind": {"@id": "ex:kind", "@type": "@vocab"},
    "meta": {"@id": "ex:meta", "@type": "@json"},
    "members": {"@id": "ex:members", "@container": "@set", "@type": "@id"},
    "subThing": {"@id": "ex:sub",
                 "@context": {"inner": "ex:inner", "innerRef": {"@id": "ex:innerRef", "@type": "@id"}}},
    "Gadget": "ex:Gadget",
    "Widget": {"@id": "ex:Widget", "@context": {"size": {"@id": "ex:size", "@type": "xsd:integer"}, "part": "ex:part"}},
    "plain": "ex:plain",
    "nested": "ex:nested",
}
INLINE_TERMS = ["knows", "tags", "labelNl", "amount", "score", "flag", "kind", "meta", "members",
                "subThing", "plain", "nested", "ex:free", f"{EX}absoluteKey"]

# (contexts, credential types, subject types, subject terms) families
FAMILIES: list[dict[str, Any]] = [
    {"ctx": [VC2, OB3], "types": ["VerifiableCredential", "OpenBadgeCredential"], "ob": True},
    {"ctx": [VC2, OB2], "types": ["VerifiableCredential", "AchievementCredential"], "ob": True},
    {"ctx": [VC2, EX2], "types": ["VerifiableCredential", "ExampleSkillCredential"], "vocab": True},
    {"ctx": [VC2], "types": ["VerifiableCredential"]},
    {"ctx": [VC2, INLINE], "types": ["VerifiableCredential", "Gadget"], "inline": True},
    {"ctx": [VC2, OB3, INLINE], "types": ["VerifiableCredential", "OpenBadgeCredential"], "ob": True, "inline": True},
    {"ctx": [VC1, EX2], "types": ["VerifiableCredential"], "vocab": True, "v1": True},
    {"ctx": [VC2, CIT], "types": ["VerifiableCredential", "PermanentResidentCardCredential"], "cit": True},
]

OB_NODES = {
    "Achievement": ["name", "description", "achievementType", "criteria", "alignment", "humanCode",
                    "fieldOfStudy", "tag", "version", "inLanguage", "image", "resultDescription",
                    "creditsAvailable", "specialization"],
    "Alignment": ["targetName", "targetUrl", "targetCode", "targetFramework", "targetType",
                  "targetDescription"],
    "Profile": ["name", "url", "email", "phone", "address", "image", "givenName", "familyName",
                "official", "parentOrg", "description"],
    "Address": ["addressCountry", "addressLocality", "postalCode", "streetAddress", "geo"],
    "GeoCoordinates": ["latitude", "longitude"],
    "Result": ["achievedLevel", "resultDescription", "status", "value"],
    "ResultDescription": ["name", "resultType", "rubricCriterionLevel", "allowedValue",
                          "requiredLevel", "valueMax", "valueMin"],
    "RubricCriterionLevel": ["name", "description", "level", "points"],
    "Image": ["caption"],
    "Evidence": ["name", "description", "narrative", "genre", "audience"],
    "IdentityObject": ["hashed", "identityHash", "identityType", "salt"],
}
OB_SUBJECT = ["achievement", "result", "creditsEarned", "activityStartDate", "activityEndDate",
              "licenseNumber", "role", "term", "image", "source"]
CIT_SUBJECT = {"Person": ["givenName", "familyName", "gender", "birthDate", "birthCountry", "image"],
               "PermanentResident": ["residentSince", "commuterClassification", "formerNationality",
                                     "residence"]}

STRINGS = [
    "", "a", "Jan de Vries", "MIG/MAG lassen", "niveau 3", 'quote " inside', "back\\slash",
    "tab\tnew\nline\rcr", "bell\x07 nul\x00 del\x7f esc\x1b", "ÿ é ü ß", "Ωμέγα", "日本語のテキスト",
    "emoji 🎓🔧", "\U0001f600\U00010348", "line\u2028sep\u2029para", "rtl \u05e9\u05dc\u05d5\u05dd",
    "combining e\u0301", "zero\u200bwidth", "\ufeffbom", "  padded  ", "1", "true", "null",
    "2025-07-04T00:00:00Z", "<not an iri>", "_:notablank", "did:example:abc",
]
IRIS = [
    "https://example.org/a", "https://example.org/b#frag", "did:example:alice",
    "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "urn:uuid:3f6a1d2e-8c47-4b0a-9e51-7d2c6b8f0a14",
    "mailto:jan@example.org", "http://data.europa.eu/esco/skill/abc", "https://example.org/ünïcode/päth",
    "https://example.org/q?x=1&y=2", "tag:example.org,2025:x", "https://example.org/%20encoded",
]
NUMBERS: list[Any] = [0, 1, -1, 42, 10**21, -(10**22), 2**63, 1.0, -0.0, 0.5, 3.14159, 1e21, 1e-7,
                      12345.678, True, False]


def _id_typed_terms() -> frozenset[str]:
    """Names of terms that some bundled context coerces to ``@id`` / ``@vocab``."""
    import json
    from pathlib import Path

    out: set[str] = {"knows", "members", "innerRef", "localRef"}

    def walk(ctx: Any) -> None:
        if isinstance(ctx, list):
            for c in ctx:
                walk(c)
        elif isinstance(ctx, dict):
            for k, v in ctx.items():
                if isinstance(v, dict):
                    if v.get("@type") in ("@id", "@vocab"):
                        out.add(k)
                    walk(v.get("@context"))

    folder = Path(__file__).resolve().parents[1] / "contexts"
    for f in folder.glob("*.json*"):
        if f.name != "MANIFEST.json":
            walk(json.loads(f.read_text(encoding="utf-8")).get("@context"))
    return frozenset(out)


ID_TYPED = _id_typed_terms()


class Gen:
    def __init__(self, rng: random.Random, bad: float = 0.0) -> None:
        self.rng = rng
        self.bad = bad
        self.bnodes = ["_:x", "_:y", "_:shared"]
        self.ids: list[str] = []  # ids already used in this document (for merges)

    # -- values ----------------------------------------------------------------------------------
    def string(self) -> str:
        r = self.rng
        s = r.choice(STRINGS)
        if r.random() < 0.3:
            s = s + " " + "".join(chr(r.choice([r.randint(0x20, 0x7e), r.randint(0xa0, 0x2fff),
                                                r.randint(0, 0x1f), r.randint(0x10000, 0x1ffff)]))
                                  for _ in range(r.randint(1, 6)))
        return s

    def iri(self, inline: bool = False) -> str:
        r = self.rng
        if inline and r.random() < 0.2:
            return f"ex:thing{r.randint(0, 3)}"
        if r.random() < 0.15 and self.ids:
            return r.choice(self.ids)
        if r.random() < 0.15:
            return r.choice(self.bnodes)
        return r.choice(IRIS) + (f"/{r.randint(0, 5)}" if r.random() < 0.4 else "")

    def date(self) -> str:
        r = self.rng
        return f"20{r.randint(10, 35)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T{r.randint(0, 23):02d}:00:00Z"

    def scalar(self, inline: bool) -> Any:
        r = self.rng
        x = r.random()
        if x < 0.55:
            return self.string()
        if x < 0.7:
            return self.iri(inline)
        if x < 0.85:
            return r.choice(NUMBERS)
        if x < 0.9:
            return self.date()
        if x < 0.95:
            lang = r.choice(["nl", "en", "en-GB", "de-CH-1996", "NL", "zh-Hant"])
            return {"@value": self.string(), "@language": lang}
        dt = r.choice(["http://www.w3.org/2001/XMLSchema#date", "http://www.w3.org/2001/XMLSchema#integer",
                       "http://www.w3.org/2001/XMLSchema#double", "https://example.org/dt#custom",
                       "http://www.w3.org/2001/XMLSchema#string"])
        v: Any = r.choice([self.string(), "5", "1.5", "abc", 7])
        return {"@value": v, "@type": dt}

    def value_for(self, term: str, depth: int, family: dict[str, Any], kind: str = "") -> Any:
        r = self.rng
        inline = bool(family.get("inline"))
        if kind == "list" or term == "tags" or term == "allowedValue":
            return [self.scalar(inline) for _ in range(r.randint(0, 4))] if r.random() < 0.8 else self.scalar(inline)
        if term == "meta":
            return r.choice([{"a": [1, 2.5, None, True], "b": {"c": "ü\n"}}, [3, "x"], "plain", 1.0, None])
        if term in ("flag",):
            return r.choice([True, False, "true", 1])
        if term in ("score", "amount", "size", "points", "creditsEarned", "creditsAvailable",
                    "latitude", "longitude", "valueMax"):
            return r.choice([*NUMBERS, "7.25", "x"])
        if term == "kind":
            return r.choice(["Gadget", "Widget", "ex:Other", "https://example.org/k", "Undefinedish"])
        x = r.random()
        if term in ID_TYPED and r.random() < 0.9:
            if depth > 0 and x < 0.3:
                return self.node(depth - 1, family)
            if x < 0.45:
                return [self.iri(inline) for _ in range(r.randint(0, 3))]
            return self.iri(inline)
        if depth > 0 and x < 0.25:
            return self.node(depth - 1, family)
        if depth > 0 and x < 0.35:
            return [self.node(depth - 1, family) if r.random() < 0.6 else self.scalar(inline)
                    for _ in range(r.randint(0, 3))]
        if x < 0.45:
            return [self.scalar(inline) for _ in range(r.randint(0, 3))]
        if x < 0.48:
            return {"@list": [self.scalar(inline) for _ in range(r.randint(0, 3))]}
        if x < 0.5:
            return {"@set": [self.scalar(inline) for _ in range(r.randint(0, 2))]}
        if x < 0.52:
            return {}
        if x < 0.53:
            return None
        return self.scalar(inline)

    # -- nodes -----------------------------------------------------------------------------------
    def node_id(self, node: dict[str, Any], inline: bool) -> None:
        r = self.rng
        x = r.random()
        if x < 0.35:
            return
        if x < 0.5:
            node["id"] = r.choice(self.bnodes)
        elif x < 0.6 and self.ids:
            node["id"] = r.choice(self.ids)  # the same node again: pyld merges them
        else:
            node["id"] = self.iri(inline) if r.random() < 0.3 else r.choice(IRIS) + f"#n{r.randint(0, 99)}"
        if node["id"][:2] != "_:":
            self.ids.append(node["id"])

    def node(self, depth: int, family: dict[str, Any]) -> dict[str, Any]:
        r = self.rng
        node: dict[str, Any] = {}
        inline = bool(family.get("inline"))
        self.node_id(node, inline)
        terms: list[str] = ["name", "description"]
        if family.get("ob"):
            t = r.choice([*OB_NODES, None])
            if t is not None:
                node["type"] = t if r.random() < 0.5 else [t]
                terms = OB_NODES[t]
        elif family.get("vocab"):
            terms = ["skill", "level", "name", "description", "näme", "score2", "evidenceOf",
                     "nested2", "x_y", "CamelCase"]
            if r.random() < 0.5:
                node["type"] = r.choice(["Skill", ["Skill", "Thing"], "ExampleThing"])
        elif family.get("cit"):
            t = r.choice(["Person", "PermanentResident"])
            node["type"] = [t]
            terms = CIT_SUBJECT[t]
        if inline:
            terms = terms + INLINE_TERMS
            if r.random() < 0.2:
                node["type"] = r.choice(["Widget", "Gadget", ["Gadget", "Widget"]])
                if "Widget" in node["type"]:
                    terms = [*terms, "size", "part"]
            if r.random() < 0.1:
                node["@context"] = {"localTerm": "ex:localTerm", "localRef": {"@id": "ex:localRef", "@type": "@id"}}
                terms = [*terms, "localTerm", "localRef"]
        for term in r.sample(terms, k=min(len(terms), r.randint(0 if depth < 2 else 1, 4))):
            if term == "subThing" and inline:
                node[term] = {"inner": self.string(), "innerRef": self.iri(True)} if r.random() < 0.7 else self.string()
                continue
            node[term] = self.value_for(term, depth, family)
        return node

    def subject(self, family: dict[str, Any]) -> dict[str, Any]:
        r = self.rng
        subject: dict[str, Any] = {}
        if r.random() < 0.8:
            subject["id"] = r.choice(IRIS[:5])
            self.ids.append(subject["id"])
        if family.get("ob"):
            subject["type"] = ["AchievementSubject"] if r.random() < 0.7 else "AchievementSubject"
            for term in r.sample(OB_SUBJECT, k=r.randint(1, 4)):
                if term == "achievement":
                    ach = self.node(2, family)
                    ach["type"] = ["Achievement"]
                    for t in r.sample(OB_NODES["Achievement"], k=3):
                        ach[t] = self.ob_value(t, family)
                    subject[term] = ach
                elif term == "result":
                    subject[term] = [{"type": ["Result"], "resultDescription": self.iri(),
                                      "achievedLevel": self.iri(),
                                      **({"value": self.string()} if r.random() < 0.5 else {})}
                                     for _ in range(r.randint(1, 2))]
                else:
                    subject[term] = self.ob_value(term, family)
        else:
            node = self.node(2, family)
            subject.update({k: v for k, v in node.items() if k != "id"})
        return subject

    def ob_value(self, term: str, family: dict[str, Any]) -> Any:
        r = self.rng
        if term == "alignment":
            return [{"type": ["Alignment"], "targetName": self.string(), "targetUrl": self.iri(),
                     "targetCode": self.string()} for _ in range(r.randint(0, 2))]
        if term == "criteria":
            return {"narrative": self.string()} if r.random() < 0.8 else {"id": self.iri()}
        if term == "resultDescription":
            return [{"id": self.iri(), "type": ["ResultDescription"], "name": self.string(),
                     "resultType": r.choice(["RubricCriterionLevel", "ext:Custom", "Status"]),
                     "allowedValue": [self.string() for _ in range(r.randint(0, 3))],
                     "rubricCriterionLevel": [{"id": self.iri(), "type": ["RubricCriterionLevel"],
                                               "name": self.string(), "level": str(i)}
                                              for i in range(r.randint(0, 3))]}]
        if term == "image":
            return self.iri() if r.random() < 0.5 else {"id": self.iri(), "type": "Image", "caption": self.string()}
        if term in ("activityStartDate", "activityEndDate"):
            return self.date()
        return self.value_for(term, 1, family)

    def status(self) -> dict[str, Any]:
        r = self.rng
        base = r.choice(IRIS[:2])
        entry: dict[str, Any] = {"id": f"{base}/status#{r.randint(0, 99999)}", "type": "BitstringStatusListEntry",
                                 "statusPurpose": r.choice(["revocation", "suspension", "message"]),
                                 "statusListIndex": str(r.randint(0, 131071)), "statusListCredential": f"{base}/status"}
        if r.random() < 0.2:
            entry["statusSize"] = r.choice([1, 2, "2"])
            entry["statusMessage"] = [{"status": "0x0", "message": self.string()}]
        return entry

    def proof(self, ctx: list[Any] | None = None) -> dict[str, Any]:
        r = self.rng
        p: dict[str, Any] = {"type": "DataIntegrityProof",
                             "cryptosuite": r.choice(["eddsa-rdfc-2022", "ecdsa-rdfc-2019"]),
                             "created": self.date(), "verificationMethod": f"{r.choice(IRIS[2:4])}#key-1",
                             "proofPurpose": r.choice(["assertionMethod", "authentication"]),
                             "proofValue": "z" + "".join(r.choice("123456789ABCDEFGHJKLMNPQRSTUVWXYZabc")
                                                         for _ in range(20))}
        if r.random() < 0.3:
            p["challenge"] = self.string()
            p["domain"] = r.choice(["https://verifier.example", ["https://a.example", "https://b.example"]])
        if r.random() < 0.2:
            p["id"] = f"urn:uuid:{r.randint(0, 10**6)}"
        if r.random() < 0.1:
            p["previousProof"] = "urn:uuid:1"
        if ctx is not None:
            p["@context"] = ctx
        return p

    # -- documents ---------------------------------------------------------------------------------
    def credential(self, family: dict[str, Any] | None = None, proof: bool | None = None) -> dict[str, Any]:
        r = self.rng
        family = family or r.choice(FAMILIES)
        ctx = list(family["ctx"])
        if r.random() < 0.2 and not family.get("v1"):
            ctx.append(STATUS if r.random() < 0.5 else DI2)
        doc: dict[str, Any] = {"@context": ctx if len(ctx) > 1 or r.random() < 0.5 else ctx[0]}
        if r.random() < 0.8:
            doc["id"] = f"urn:uuid:{r.randint(0, 10**9)}"
        types = list(family["types"])
        doc["type"] = types if len(types) > 1 or r.random() < 0.5 else types[0]
        iss: Any = r.choice(IRIS[2:5])
        if r.random() < 0.5:
            iss = {"id": iss, "type": ["Profile"] if family.get("ob") else "Thing" if family.get("vocab") else None,
                   "name": self.string()}
            if iss["type"] is None:
                del iss["type"]
            if family.get("ob") and r.random() < 0.5:
                iss["url"] = self.iri()
                iss["address"] = {"type": ["Address"], "addressCountry": self.string(),
                                  "geo": {"type": "GeoCoordinates", "latitude": r.choice(NUMBERS), "longitude": 4.9}}
        doc["issuer"] = iss
        if family.get("v1"):
            doc["issuanceDate"] = self.date()
        else:
            doc["validFrom"] = self.date()
            if r.random() < 0.5:
                doc["validUntil"] = self.date()
        if r.random() < 0.5:
            doc["name"] = (self.string() if r.random() < 0.8
                           else [self.string(), {"@value": self.string(), "@language": "nl"}])
        if r.random() < 0.3:
            doc["description"] = self.string()
        subjects = [self.subject(family) for _ in range(1 if r.random() < 0.85 else r.randint(2, 3))]
        doc["credentialSubject"] = subjects[0] if len(subjects) == 1 else subjects
        if r.random() < 0.4 and not family.get("v1"):
            if STATUS not in ctx and not isinstance(doc["@context"], str):
                pass
            doc["credentialStatus"] = self.status() if r.random() < 0.8 else [self.status(), self.status()]
        if r.random() < 0.15 and not family.get("v1"):
            doc["credentialSchema"] = {"id": self.iri(), "type": "JsonSchema"}
            if r.random() < 0.5:
                doc["credentialSchema"]["jsonSchema"] = {"$schema": "x", "type": "object", "n": [1, 2.0, "ü"]}
        if r.random() < 0.1 and not family.get("v1"):
            doc["evidence"] = [self.node(1, family) for _ in range(r.randint(1, 2))]
        if proof if proof is not None else r.random() < 0.3:
            doc["proof"] = self.proof() if r.random() < 0.8 else [self.proof(), self.proof()]
        return doc

    def presentation(self) -> dict[str, Any]:
        r = self.rng
        fam = r.choice([f for f in FAMILIES if not f.get("v1")])
        vp: dict[str, Any] = {"@context": list(fam["ctx"]), "type": "VerifiablePresentation"}
        if r.random() < 0.7:
            vp["id"] = f"urn:uuid:{r.randint(0, 10**9)}"
        if r.random() < 0.7:
            vp["holder"] = r.choice(IRIS[2:4])
        creds = [self.credential(fam, proof=r.random() < 0.8) for _ in range(r.randint(0, 3))]
        if creds:
            vp["verifiableCredential"] = creds if len(creds) > 1 or r.random() < 0.5 else creds[0]
        if r.random() < 0.2:
            vp["verifiableCredential"] = self.iri()
        if r.random() < 0.5:
            vp["proof"] = self.proof()
        return vp

    def status_list(self) -> dict[str, Any]:
        r = self.rng
        return {"@context": [VC2] if r.random() < 0.7 else [VC2, STATUS], "id": f"{r.choice(IRIS[:2])}/status",
                "type": ["VerifiableCredential", "BitstringStatusListCredential"], "issuer": r.choice(IRIS[2:4]),
                "validFrom": self.date(),
                "credentialSubject": {"id": f"{r.choice(IRIS[:2])}/status#list", "type": "BitstringStatusList",
                                      "statusPurpose": r.choice(["revocation", "suspension"]),
                                      "encodedList": "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAA"
                                                     "AAAAAAAAIC3AYbSVKsAQAAA",
                                      **({"ttl": 86400000} if r.random() < 0.5 else {})}}

    def proof_config(self) -> dict[str, Any]:
        r = self.rng
        fam = r.choice(FAMILIES)
        return self.proof(list(fam["ctx"]) if r.random() < 0.8 else [DI2])

    def did_document(self) -> dict[str, Any]:
        r = self.rng
        did = r.choice(IRIS[2:4])
        vm = {"id": f"{did}#key-1", "type": "Multikey", "controller": did,
              "publicKeyMultibase": "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}
        return {"@context": [DID1, MULTIKEY], "id": did, "verificationMethod": [vm],
                "assertionMethod": [vm["id"]] if r.random() < 0.5 else [vm],
                "authentication": [vm["id"]]}

    def document(self) -> dict[str, Any]:
        r = self.rng
        x = r.random()
        if x < 0.62:
            doc = self.credential()
        elif x < 0.77:
            doc = self.presentation()
        elif x < 0.85:
            doc = self.status_list()
        elif x < 0.95:
            doc = self.proof_config()
        else:
            doc = self.did_document()
        if r.random() < self.bad:
            mutate(r, doc)
        return doc


def _nodes(doc: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    stack = [doc]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            if "@value" not in n and "@list" not in n and "@set" not in n:
                out.append(n)
            stack.extend(v for k, v in n.items() if k not in ("@context", "meta", "jsonSchema"))
        elif isinstance(n, list):
            stack.extend(n)
    return out


MUTATIONS = [
    lambda r, n: n.__setitem__("favouriteColour", "blue"),  # undefined / issuer-dependent term
    lambda r, n: n.__setitem__("type", "SkillBadge"),  # undefined type
    lambda r, n: n.__setitem__("id", "relative/path"),  # relative @id
    lambda r, n: n.__setitem__("id", "https://example.org/with space"),  # unwritable @id
    lambda r, n: n.__setitem__("id", "https://example.org/a\u00a0b"),  # not absolute for pyld
    lambda r, n: n.__setitem__("issuer", "not an iri"),
    lambda r, n: n.__setitem__("@foo", "x"),  # keyword-like key
    lambda r, n: n.__setitem__("@reverse", {"https://example.org/ns#rev": {"id": "https://example.org/r"}}),
    lambda r, n: n.__setitem__("@index", "i1"),
    lambda r, n: n.__setitem__("@included", [{"id": "https://example.org/inc", "name": "x"}]),
    lambda r, n: n.__setitem__("name", {"@value": "x", "@direction": "rtl", "@language": "ar"}),
    lambda r, n: n.__setitem__("name", {"@value": "x", "@language": "en us"}),
    lambda r, n: n.__setitem__("name", {"@value": "x", "@language": ""}),
    lambda r, n: n.__setitem__("name", {"@value": "x", "@type": "relative"}),
    lambda r, n: n.__setitem__("name", {"@value": "x", "@type": "https://www.w3.org/ns/credentials/issuer-dependent#T"}),
    lambda r, n: n.__setitem__("name", {"@value": "x", "@language": "nl", "@type": "https://e.org/t"}),
    lambda r, n: n.__setitem__("name", {"@value": ["x"]}),
    lambda r, n: n.__setitem__("name", {"@value": None}),
    lambda r, n: n.__setitem__("name", {"@language": "nl"}),
    lambda r, n: n.__setitem__("type", "_:blanktype"),
    lambda r, n: n.__setitem__("_:bnodeprop", "x"),
    lambda r, n: n.__setitem__("https://example.org/ns#p", {"@id": "https://e.org/x y"}),
    lambda r, n: n.__setitem__("https://example.org/ns#p", {"@id": "@keywordish"}),
    lambda r, n: n.__setitem__("https://example.org/ns#p", {"@list": [[1, 2], [3]]}),
    lambda r, n: n.__setitem__("https://example.org/ns#p", {"@value": 1, "@type": "http://www.w3.org/2001/XMLSchema#double"}),
    lambda r, n: n.__setitem__("https://example.org/ns#p", [{"@value": 1}, {"@value": 1.0}, {"@value": True}]),
    lambda r, n: n.__setitem__("@context", {"name": "https://example.org/ns#name"}),  # protected redefinition
    lambda r, n: n.__setitem__("@context", {"@vocab": "https://example.org/vocab#"}),
    lambda r, n: n.__setitem__("@context", "https://unknown.example/context.jsonld"),
    lambda r, n: n.__setitem__("@context", [VC1]),  # protected redefinition (v1 after v2)
    lambda r, n: n.__setitem__("@context", {"@propagate": False, "localP": "https://example.org/ns#lp"}),
    lambda r, n: n.__setitem__("@context", None),
    lambda r, n: n.__setitem__("@type", ["Thing"]),  # two keys for @type
    lambda r, n: n.__setitem__("@id", "https://example.org/dup"),  # colliding keywords maybe
    lambda r, n: n.__setitem__("id", 5),
    lambda r, n: n.__setitem__("type", {"x": 1}),
    lambda r, n: n.__setitem__("name", float("nan")),
    lambda r, n: n.__setitem__("name", {"@value": "x", "@index": "i"}),
    lambda r, n: n.__setitem__("https://example.org/ns#p",
                               {"@graph": {"id": "https://e.org/g", "https://e.org/p": "v"}}),
    lambda r, n: n.pop("type", None),
    lambda r, n: n.clear(),
]


def mutate(r: random.Random, doc: dict[str, Any]) -> None:
    nodes = _nodes(doc)
    node = r.choice(nodes)
    m = r.choice(MUTATIONS)
    m(r, node)
    if r.random() < 0.05:
        doc["@context"] = [VC2, "https://unknown.example/ctx"]


def generate(seed: int, bad: float = 0.0) -> dict[str, Any]:
    return Gen(random.Random(seed), bad).document()
