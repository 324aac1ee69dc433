"""Open Badges 3.0 on VC Data Model 2.0: the credential shapes skillcred issues.

The models are for *building* and *reading* credentials. Signing never happens on a
re-serialized model: :meth:`OpenBadgeCredential.to_json` produces the JSON object once, and
that exact object is what gets signed and emitted.

Every field maps to a term of the VC 2.0 or OB 3.0.3 context (no private context), so any
Open Badges 3.0 verifier can process skillcred credentials. What OB 3.0 has no term for goes
into ``alignment``, ``resultDescription``, ``evidence``, ``tag`` or ``otherIdentifier``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "OB_CONTEXT",
    "VC_CONTEXT",
    "Achievement",
    "AchievementDefinition",
    "AchievementSubject",
    "Alignment",
    "CredentialKind",
    "CredentialSchemaRef",
    "Criteria",
    "Evidence",
    "IdentityObject",
    "OpenBadgeCredential",
    "Profile",
    "Result",
    "ResultDescription",
    "RubricCriterionLevel",
    "StatusEntry",
    "Validity",
]

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"

CredentialKind = Literal["diploma", "skill", "on-the-job"]


class _Model(BaseModel):
    """skillcred-defined shapes: immutable, and unknown fields are errors (never dropped)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


def _typed(default: str) -> Any:
    return Field(default_factory=lambda: [default])


class Alignment(_Model):
    type: list[str] = _typed("Alignment")
    targetName: str
    targetUrl: str
    targetDescription: str | None = None
    targetFramework: str | None = None
    targetCode: str | None = None
    targetType: str | None = None


class Criteria(_Model):
    id: str | None = None
    narrative: str | None = None


class RubricCriterionLevel(_Model):
    id: str
    type: list[str] = _typed("RubricCriterionLevel")
    name: str
    description: str | None = None
    level: str
    points: str | None = None


class ResultDescription(_Model):
    id: str
    type: list[str] = _typed("ResultDescription")
    name: str
    resultType: str
    allowedValue: list[str] | None = None
    requiredLevel: str | None = None
    requiredValue: str | None = None
    valueMax: str | None = None
    valueMin: str | None = None
    rubricCriterionLevel: list[RubricCriterionLevel] | None = None


class Profile(_Model):
    id: str | None = None
    type: list[str] = _typed("Profile")
    name: str
    url: str | None = None
    description: str | None = None
    email: str | None = None


class Achievement(_Model):
    id: str
    type: list[str] = _typed("Achievement")
    achievementType: str
    name: str
    description: str
    criteria: Criteria
    alignment: list[Alignment] | None = None
    resultDescription: list[ResultDescription] | None = None
    creator: Profile | None = None
    humanCode: str | None = None
    fieldOfStudy: str | None = None
    specialization: str | None = None
    tag: list[str] | None = None
    otherIdentifier: list[dict[str, Any]] | None = None
    inLanguage: str | None = None
    version: str | None = None
    image: dict[str, Any] | None = None

    def level(self, wanted: str) -> tuple[ResultDescription, RubricCriterionLevel]:
        """Find a rubric level by its ``level`` value, name or id (case-insensitive)."""
        w = wanted.strip().lower()
        for rd in self.resultDescription or []:
            for lvl in rd.rubricCriterionLevel or []:
                if w in (lvl.level.lower(), lvl.name.lower(), lvl.id.lower()):
                    return rd, lvl
        known = [lvl.level for rd in self.resultDescription or [] for lvl in rd.rubricCriterionLevel or []]
        if not known:
            raise ValueError(f"achievement {self.name!r} defines no levels, so a level cannot be given")
        raise ValueError(f"level {wanted!r} is not one of the achievement's levels ({', '.join(known)})")


class Validity(_Model):
    years: int | None = None
    months: int | None = None


class AchievementDefinition(_Model):
    """An institute's achievement file: what it awards, and for how long."""

    kind: CredentialKind
    achievement: Achievement
    validity: Validity | None = None


class IdentityObject(_Model):
    """OB 3.0 way to put the learner's name in the credential (unhashed)."""

    type: Literal["IdentityObject"] = "IdentityObject"
    hashed: bool = False
    identityHash: str
    identityType: str = "name"


class Result(_Model):
    type: list[str] = _typed("Result")
    resultDescription: str | None = None
    achievedLevel: str | None = None
    value: str | None = None
    status: str | None = None


class AchievementSubject(_Model):
    id: str
    type: list[str] = _typed("AchievementSubject")
    achievement: Achievement
    identifier: list[IdentityObject] | None = None
    result: list[Result] | None = None
    source: Profile | None = None
    activityStartDate: str | None = None
    activityEndDate: str | None = None
    role: str | None = None

    @field_validator("id")
    @classmethod
    def _subject_is_did(cls, v: str) -> str:
        if not v.startswith("did:"):
            raise ValueError("the credential subject must be identified by a DID (the holder's)")
        return v


class Evidence(_Model):
    id: str | None = None
    type: list[str] = _typed("Evidence")
    name: str | None = None
    description: str | None = None
    narrative: str | None = None
    genre: str | None = None
    audience: str | None = None


class StatusEntry(_Model):
    id: str
    type: Literal["BitstringStatusListEntry"] = "BitstringStatusListEntry"
    statusPurpose: str
    statusListIndex: str
    statusListCredential: str


class CredentialSchemaRef(_Model):
    id: str
    type: Literal["JsonSchema"] = "JsonSchema"


class OpenBadgeCredential(_Model):
    """An OB 3.0 ``OpenBadgeCredential``; :meth:`to_json` is the exact object to sign."""

    context: list[str] = Field(default_factory=lambda: [VC_CONTEXT, OB_CONTEXT], alias="@context")
    id: str
    type: list[str] = Field(default_factory=lambda: ["VerifiableCredential", "OpenBadgeCredential"])
    name: str
    description: str | None = None
    issuer: Profile
    validFrom: str
    validUntil: str | None = None
    awardedDate: str | None = None
    credentialSubject: AchievementSubject
    evidence: list[Evidence] | None = None
    credentialSchema: list[CredentialSchemaRef] | None = None
    credentialStatus: list[StatusEntry] | None = None
