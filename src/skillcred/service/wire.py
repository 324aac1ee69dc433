"""The service's request and response models: the JSON bodies of the VC-API endpoints
(FastAPI validates requests with them and generates the OpenAPI document from them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, WithJsonSchema

__all__ = [
    "IssueOptions",
    "IssueRequest",
    "IssueResponse",
    "PresentationOptions",
    "StatusChange",
    "UpdateStatusRequest",
    "UpdateStatusResponse",
    "VerificationResult",
    "VerifyCredentialRequest",
    "VerifyOptions",
    "VerifyPresentationRequest",
]

# ============================================================================================
# Request and response models (the OpenAPI document is generated from these)


def _object_schema(description: str, required: Sequence[str], extra: Mapping[str, Any] | None = None
                   ) -> dict[str, Any]:
    props: dict[str, Any] = {
        "@context": {"type": "array", "minItems": 1,
                     "items": {"anyOf": [{"type": "string"}, {"type": "object"}]}},
        "id": {"type": "string"},
        "type": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
    }
    props.update(extra or {})
    return {"type": "object", "description": description, "required": list(required),
            "properties": props, "additionalProperties": True}


_CREDENTIAL_PROPS = {
    "issuer": {"anyOf": [{"type": "string"}, {"type": "object"}]},
    "credentialSubject": {"anyOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]},
    "validFrom": {"type": "string"},
    "validUntil": {"type": "string"},
    "credentialStatus": {"anyOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]},
}
CredentialJson = Annotated[dict[str, Any], WithJsonSchema(_object_schema(
    "An unsigned credential (VC Data Model 2.0, or 1.1). issuer must be this service's issuer "
    "DID (a string, or an object with it as id); a missing or null issuer is refused.",
    ["@context", "type", "issuer", "credentialSubject"], _CREDENTIAL_PROPS))]
VerifiableCredentialJson = Annotated[dict[str, Any], WithJsonSchema(_object_schema(
    "A verifiable credential (secured with a Data Integrity proof).",
    ["@context", "type"], {**_CREDENTIAL_PROPS, "proof": {"anyOf": [{"type": "object"}, {"type": "array"}]}}))]
VerifiablePresentationJson = Annotated[dict[str, Any], WithJsonSchema(_object_schema(
    "A verifiable presentation, signed (Data Integrity, proofPurpose authentication) or unsigned.",
    ["@context", "type"], {"holder": {"anyOf": [{"type": "string"}, {"type": "object"}]},
                           "verifiableCredential": {"anyOf": [{"type": "object"},
                                                              {"type": "array", "items": {"type": "object"}}]},
                           "proof": {"anyOf": [{"type": "object"}, {"type": "array"}]}}))]
AnyJson = Annotated[dict[str, Any], WithJsonSchema({"type": "object", "additionalProperties": True})]


class StatusOption(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["BitstringStatusListEntry"]
    statusPurpose: Literal["revocation", "suspension"] = "revocation"


class IssueOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    credentialStatus: StatusOption | list[StatusOption] | None = Field(
        default=None, description="Status entries to add, each allocated a random index in this "
                                  "service's status list of that purpose.")
    credentialId: str | None = Field(
        default=None, description="Id to register the credential under when it has no id of its own.")


class IssueRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    credential: CredentialJson
    options: IssueOptions | None = None


class IssueResponse(BaseModel):
    verifiableCredential: VerifiableCredentialJson


class VerifyOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    expectedProofPurpose: str | None = Field(
        default=None, description="Credentials are verified for assertionMethod; any other value fails.")
    challenge: str | None = Field(default=None, description="When given, every proof must carry it.")
    domain: str | None = Field(default=None, description="When given, every proof must carry it.")


class VerifyCredentialRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    verifiableCredential: VerifiableCredentialJson
    options: VerifyOptions | None = None


class PresentationOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    challenge: str | None = Field(default=None, description="The challenge the presentation's proof must carry.")
    domain: str | None = Field(default=None, description="The domain the presentation's proof must carry.")


class VerifyPresentationRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    verifiablePresentation: VerifiablePresentationJson
    options: PresentationOptions | None = None


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["BitstringStatusListEntry"]
    status: StrictBool = Field(default=True, description="true sets the status (revoke, suspend), "
                                                         "false clears it (unsuspend).")
    statusPurpose: Literal["revocation", "suspension"]


class UpdateStatusRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    credentialId: str = Field(min_length=1)
    credentialStatus: StatusChange | Annotated[list[StatusChange], Field(min_length=1)]


class StatusResult(BaseModel):
    type: str
    statusPurpose: str
    status: bool
    changed: bool


class UpdateStatusResponse(BaseModel):
    credentialId: str
    credentialStatus: list[StatusResult]


class ProblemDetail(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    detail: str | None = None


class VerificationResult(BaseModel):
    verified: bool
    checks: list[str]
    warnings: list[ProblemDetail]
    errors: list[ProblemDetail]


class Problem(BaseModel):
    """RFC 9457 problem details; verification rejections also carry the VC-API fields."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str | None = None
    verified: bool | None = None
    checks: list[str] | None = None
    warnings: list[ProblemDetail] | None = None
    errors: list[ProblemDetail] | None = None


class Health(BaseModel):
    status: Literal["ok"]
