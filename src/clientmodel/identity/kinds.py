"""Identifiers of a person across channels: kinds, normalisation, blocking and salted hashing.

An :class:`Identifier` is one way to recognise a person: a phone number, an email address, a
member id, a WeChat unionid or (app-scoped) openid, a WeCom external user id, a device id or a
cookie id. Values are normalised when the identifier is built, so that two spellings of the same
phone number or email address compare equal:

* ``phone``: E.164, a ``+``, the country code and the national number, digits only
  (``"+86 138-0013-8000"`` -> ``"+8613800138000"``; ``"0044 20 7946 0018"`` ->
  ``"+442079460018"``). A national number without a country code is refused by the model; turn it
  into E.164 first with :func:`normalize_phone` and an explicit ``default_country_code``.
* ``email``: trimmed and lower-cased, with a simple structural check (one ``@``, a non-empty local
  part, a dotted domain, no spaces).
* every other kind: trimmed; control characters and over-long values are refused.

Placeholder values that systems write when they have no identifier (``""``, ``"null"``, ``"-1"``,
``"unknown"``, all-zero strings such as ``00000000-0000-0000-0000-000000000000``; see
:data:`DEFAULT_BLOCKED` and :func:`is_blocked`) are accepted as they are, trimmed but not
normalised, and flagged by :attr:`Identifier.is_placeholder`: identity resolution keeps them on the
profile and never uses them to join two people, so nothing is dropped silently.

``wechat_openid`` is only unique within one official account / mini-program, so it needs a
``scope`` (the app id). :attr:`Identifier.key` (``"kind:scope:value"``) is the identity of an
identifier for matching.

:func:`hash_identifier` replaces the value by its HMAC-SHA256 under a secret salt, so identity
resolution can run on pseudonymised data: the same salt always gives the same hash (placeholders
stay in clear, so they are still recognised as placeholders). :func:`is_blocked` recognises
placeholder values that must never join two people.

The ``repr`` of an :class:`Identifier` masks its value (``'+8…00'``), so identifiers that end up in
logs or tracebacks do not leak personal data; the value itself is of course available as
``identifier.value``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from enum import Enum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, model_validator

from clientmodel._validation import boundary, mask_identifier
from clientmodel.errors import ArgumentError, DataError

__all__ = [
    "DEFAULT_BLOCKED",
    "SCOPED_KINDS",
    "Identifier",
    "IdentifierKind",
    "hash_identifier",
    "is_blocked",
    "masked",
    "normalize_email",
    "normalize_phone",
    "normalize_value",
]


class IdentifierKind(str, Enum):
    """The kinds of identifier a profile can carry.

    Examples
    --------
    >>> IdentifierKind("wechat_openid").value
    'wechat_openid'
    """

    PHONE = "phone"
    EMAIL = "email"
    MEMBER_ID = "member_id"
    WECHAT_UNIONID = "wechat_unionid"
    WECHAT_OPENID = "wechat_openid"
    WECOM_EXTERNAL_USERID = "wecom_external_userid"
    DEVICE_ID = "device_id"
    COOKIE_ID = "cookie_id"

    def __str__(self) -> str:
        return self.value


#: Kinds whose values are only unique inside a scope (an app id); they require ``scope``.
SCOPED_KINDS: frozenset[IdentifierKind] = frozenset({IdentifierKind.WECHAT_OPENID})

#: Placeholder values (compared trimmed and lower-cased) that never identify anybody.
DEFAULT_BLOCKED: frozenset[str] = frozenset(
    {
        "",
        "null",
        "none",
        "nil",
        "nan",
        "-1",
        "0",
        "unknown",
        "undefined",
        "n/a",
        "na",
        "anonymous",
    }
)


class IdentityConfigLike(Protocol):
    """What :func:`hash_identifier` needs of an identity configuration."""

    def blocks(self, identifier: Identifier) -> bool: ...  # pragma: no cover


_PHONE_SEPARATORS = re.compile(r"[\s\-().\u00a0/]")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_EMAIL_LOCAL = re.compile(r"[^\s@]+")
_EMAIL_LABEL = re.compile(r"[a-z0-9\u00a0-\uffff]([a-z0-9\u00a0-\uffff-]*[a-z0-9\u00a0-\uffff])?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_ID_LENGTH = 512


def _kind(kind: IdentifierKind | str) -> IdentifierKind:
    try:
        return IdentifierKind(kind)
    except ValueError as exc:
        raise DataError(
            f"unknown identifier kind {kind!r}; accepted kinds are "
            f"{[k.value for k in IdentifierKind]}",
            field="kind",
        ) from exc


@boundary
def normalize_phone(value: str, default_country_code: str | None = "86") -> str:
    """Normalise a phone number to E.164 (``+`` country code and national number, digits only).

    Spaces, dashes, dots, slashes and parentheses are removed. A leading ``+`` or ``00`` marks an
    international number. Any other number is national: one leading trunk ``0`` is dropped and
    ``default_country_code`` is put in front (``None`` refuses national numbers). The result must
    have 8 to 15 digits and a country code that does not start with 0.

    Parameters
    ----------
    value:
        The phone number as typed.
    default_country_code:
        Country calling code (digits, e.g. ``"86"``, ``"1"``, ``"44"``) for national numbers.

    Raises
    ------
    DataError
        If the value is not a phone number.

    Examples
    --------
    >>> normalize_phone("138 0013 8000")
    '+8613800138000'
    >>> normalize_phone("0044 (0)20 7946 0018".replace("(0)", ""))
    '+442079460018'
    >>> normalize_phone("020 7946 0018", default_country_code="44")
    '+442079460018'
    """
    if default_country_code is not None and not (
        default_country_code.isdigit()
        and default_country_code.isascii()
        and 1 <= len(default_country_code) <= 3
        and not default_country_code.startswith("0")
    ):
        raise ArgumentError(
            f"default_country_code={default_country_code!r} is not a country calling code; "
            "pass 1 to 3 digits such as '86', '1' or '44'",
            field="default_country_code",
        )
    if not isinstance(value, str):
        raise DataError(f"phone value {masked(value)} is not a string", field="phone")
    text = _PHONE_SEPARATORS.sub("", value.strip())
    if text.startswith("+"):
        digits = text[1:]
    elif text.startswith("00"):
        digits = text[2:]
    else:
        if default_country_code is None:
            raise DataError(
                f"phone value {masked(value)} has no country code; write it in E.164 "
                "('+', the country code, the number) "
                "or use normalize_phone(value, default_country_code='86')",
                field="phone",
            )
        national = text[1:] if text.startswith("0") else text
        digits = default_country_code + national
    if not (digits.isascii() and digits.isdigit() and 8 <= len(digits) <= 15) or digits[0] == "0":
        raise DataError(
            f"phone value {masked(value)} is not a phone number; accepted: E.164 ('+', the "
            "country code and the number: 8 to 15 digits), spaces/dashes/parentheses allowed",
            field="phone",
        )
    return "+" + digits


def normalize_email(value: str) -> str:
    """Trim and lower-case an email address after a simple structural check.

    Raises
    ------
    DataError
        If the value does not look like ``local@domain.tld``.

    Examples
    --------
    >>> normalize_email("  Li.Na@Example.COM ")
    'li.na@example.com'
    """
    if not isinstance(value, str):
        raise DataError(f"email value {masked(value)} is not a string", field="email")
    text = value.strip().lower()
    local, at, domain = text.rpartition("@")
    labels = domain.split(".")
    ok = (
        at == "@"
        and len(text) <= 254
        and _EMAIL_LOCAL.fullmatch(local) is not None
        and len(labels) >= 2
        and all(_EMAIL_LABEL.fullmatch(label) for label in labels)
    )
    if not ok:
        raise DataError(
            f"email value {masked(value)} is not an email address; accepted: 'name@domain.tld' "
            "(one '@', no spaces, a dotted domain)",
            field="email",
        )
    return text


def normalize_value(
    kind: IdentifierKind | str, value: str, *, default_country_code: str | None = None
) -> str:
    """Normalise a raw value of the given kind (phone -> E.164, email -> lower case, ids trimmed).

    ``default_country_code`` applies to phone numbers only (see :func:`normalize_phone`); by
    default national phone numbers are refused. Placeholders are not special here: use
    :func:`is_blocked` first (as :class:`Identifier` does) when the data may contain them.

    Raises
    ------
    DataError
        If the kind is unknown or the value is malformed for its kind.

    Examples
    --------
    >>> normalize_value("member_id", "  M-001 ")
    'M-001'
    >>> normalize_value("phone", "13800138000", default_country_code="86")
    '+8613800138000'
    """
    k = _kind(kind)
    if k is IdentifierKind.PHONE:
        return normalize_phone(value, default_country_code)
    if k is IdentifierKind.EMAIL:
        return normalize_email(value)
    return _normalize_id(k, value)


def _normalize_id(kind: IdentifierKind, value: object) -> str:
    if not isinstance(value, str):
        raise DataError(f"{kind.value} value {masked(value)} is not a string", field=kind.value)
    text = value.strip()
    if not text or len(text) > _MAX_ID_LENGTH or _CONTROL.search(text):
        raise DataError(
            f"{kind.value} value {masked(value)} is not a valid id; accepted: a non-empty "
            "string of at "
            f"most {_MAX_ID_LENGTH} characters without control characters",
            field=kind.value,
        )
    return text


def _normalize_hash(kind: IdentifierKind, value: object) -> str:
    text = value.strip().lower() if isinstance(value, str) else ""
    if not _HEX64.fullmatch(text):
        raise DataError(
            f"hashed {kind.value} value {masked(value)} is not a 64-character hex HMAC-SHA256; "
            "build hashed identifiers with hash_identifier()",
            field=kind.value,
        )
    return text


#: Values that :func:`_prepare_value` provably returns unchanged (and not as a placeholder), as
#: anchored ASCII-only regular expressions that Python's ``re`` and RE2 (pyarrow) read alike. The
#: table face tests whole columns against them at C speed and sends only the rest through Python.
#: Keep them in step with the normalisers above (a property test checks the promise).
_CLEAN_ID = r"^[A-Za-z0-9_.:@/+=\-]{1,512}$"
_CLEAN_PHONE = r"^\+[1-9][0-9]{7,14}$"
_CLEAN_EMAIL = (
    r"^[a-z0-9._%+\-]{1,64}@[a-z0-9]([a-z0-9\-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9\-]*[a-z0-9])?)+$"
)
_CLEAN_HASH = r"^[0-9a-f]{64}$"
#: Within the characters the patterns above allow, the values :func:`is_blocked` blocks.
_CLEAN_ZEROS = r"^[0+.:/\-]+$"
_MAX_EMAIL_LENGTH = 254


def _prepare_value(
    kind: IdentifierKind,
    value: object,
    *,
    default_country_code: str | None = None,
    hashed: bool = False,
) -> tuple[str, bool]:
    """The stored form of a raw value and whether it is a placeholder.

    Placeholders (see :func:`is_blocked`) are kept trimmed and are not normalised; every other
    value is normalised for its kind (or checked as a hash). This is the single rule behind both
    :class:`Identifier` and the table face of identity resolution, so the two always agree.
    """
    if not isinstance(value, str):
        raise DataError(
            f"{kind.value} value {masked(value)} is not a string; identifier values are strings",
            field=kind.value,
        )
    if is_blocked(value):
        return value.strip(), True
    if hashed:
        return _normalize_hash(kind, value), False
    if kind is IdentifierKind.PHONE:
        return normalize_phone(value, default_country_code), False
    if kind is IdentifierKind.EMAIL:
        return normalize_email(value), False
    return _normalize_id(kind, value), False


def _check_scope(
    kind: IdentifierKind, scope: object, value: object, placeholder: bool
) -> str | None:
    """The trimmed scope, or an error when it is malformed or missing for an app-scoped kind."""
    if scope is not None:
        if not isinstance(scope, str) or not scope.strip() or _CONTROL.search(scope):
            raise DataError(
                f"{kind.value} scope {scope!r} is not a valid app id; use a non-empty string",
                field="scope",
            )
        return scope.strip()
    if kind in SCOPED_KINDS and not placeholder:
        raise DataError(
            f"{kind.value} value {masked(value)} needs a scope (the app id it belongs to): "
            f"{kind.value} values are only unique within one app",
            field="scope",
        )
    return None


def masked(value: object) -> str:
    """An identifier value as error messages show it: masked, never in full.

    The library's one masking rule (:func:`clientmodel._validation.mask_identifier`), quoted;
    a value that is not text shows its type only.

    Examples
    --------
    >>> masked("13800138000x"), masked("zhang.wei@qq"), masked(5)
    ("'138****000x'", "'z***@qq'", 'a value of type int')
    """
    if not isinstance(value, str):
        return f"a value of type {type(value).__name__}"
    return repr(mask_identifier(value.strip()))


def _mask(value: str) -> str:
    """A short masked form of a value for reprs: the first and last two characters only.

    Examples
    --------
    >>> _mask("+8613800138000"), _mask("abc")
    ('+8…00', '…')
    """
    return f"{value[:2]}…{value[-2:]}" if len(value) >= 8 else "…"


class Identifier(BaseModel):
    """One identifier of a person: its kind, normalised value and (for app-scoped kinds) scope.

    Attributes
    ----------
    kind:
        An :class:`IdentifierKind` (or its string value).
    value:
        The value; normalised on validation (phones to E.164, emails lower-cased, ids trimmed).
        When ``hashed`` is true it must be the 64-character hex HMAC from
        :func:`hash_identifier`. Placeholders (``""``, ``"null"``, ``"-1"``, all zeros, ...) are
        accepted as they are and flagged by :attr:`is_placeholder`.
    scope:
        The app id for app-scoped kinds (``wechat_openid``: required unless the value is a
        placeholder); optional otherwise (e.g. the corp id of a ``wecom_external_userid``).
    hashed:
        Whether ``value`` is a salted hash rather than the clear value.

    Examples
    --------
    >>> Identifier(kind="phone", value="+86 138 0013 8000").key
    'phone::+8613800138000'
    >>> Identifier(kind="wechat_openid", value="oX1", scope="wx123").key
    'wechat_openid:wx123:oX1'
    >>> Identifier(kind="phone", value=" NULL ").is_placeholder
    True
    >>> Identifier(kind="email", value="li.na@example.com")
    Identifier(kind=<IdentifierKind.EMAIL: 'email'>, value='li…om', scope=None, hashed=False)
    """

    # the validator's messages mask the value; pydantic must not print the raw input after them
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    kind: IdentifierKind
    value: str
    scope: str | None = None
    hashed: bool = False

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        kind = _kind(data.get("kind"))
        data["kind"] = kind
        value, placeholder = _prepare_value(
            kind, data.get("value"), hashed=data.get("hashed") is True
        )
        data["value"] = value
        data["scope"] = _check_scope(kind, data.get("scope"), data.get("value"), placeholder)
        return data

    def __repr_args__(self) -> Any:
        for name, val in super().__repr_args__():
            yield name, (_mask(val) if name == "value" and isinstance(val, str) else val)

    @property
    def key(self) -> str:
        """The matching key ``"kind:scope:value"`` (scope empty when there is none).

        Examples
        --------
        >>> Identifier(kind="email", value="A@B.CO").key
        'email::a@b.co'
        """
        return f"{self.kind.value}:{self.scope or ''}:{self.value}"

    @property
    def is_placeholder(self) -> bool:
        """Whether the value is a placeholder (``""``, ``"null"``, all zeros, ...; see
        :func:`is_blocked`) that never identifies anybody.

        Examples
        --------
        >>> Identifier(kind="device_id", value="0000-0000-0000").is_placeholder
        True
        """
        return is_blocked(self.value)


@boundary
def hash_identifier(
    identifier: Identifier, salt: bytes, *, config: IdentityConfigLike | None = None
) -> Identifier:
    """Replace an identifier's value by its HMAC-SHA256 (hex) under ``salt``.

    The normalised value is hashed, so two spellings of one phone number hash alike, and the same
    salt always gives the same hash: identity resolution works on hashed identifiers exactly as on
    clear ones. Kind and scope are kept. An identifier that is already hashed, a placeholder and
    a value that ``config`` blocks for its kind (each must stay recognisable so that it never
    joins anybody) are returned as they are: blocking is applied before hashing, so hashed data
    resolves exactly as clear data.

    Parameters
    ----------
    identifier:
        The identifier to pseudonymise.
    salt:
        The secret key (at least 16 bytes); keep it out of the data it protects.
    config:
        The :class:`~clientmodel.identity.config.IdentityConfig` the hashed data will be
        resolved with; its blocked values stay in clear.

    Raises
    ------
    ArgumentError
        If the salt is not bytes or is shorter than 16 bytes.

    Examples
    --------
    >>> salt = b"0123456789abcdef"
    >>> a = hash_identifier(Identifier(kind="phone", value="+8613800138000"), salt)
    >>> b = hash_identifier(Identifier(kind="phone", value="+86 138-0013-8000"), salt)
    >>> a == b, a.hashed, len(a.value)
    (True, True, 64)
    >>> hash_identifier(Identifier(kind="phone", value="null"), salt).value
    'null'
    >>> from clientmodel.identity.config import IdentityConfig
    >>> kiosk = IdentityConfig().with_rule("device_id", blocked=("kiosk-01",))
    >>> hash_identifier(Identifier(kind="device_id", value="kiosk-01"), salt, config=kiosk).value
    'kiosk-01'
    """
    if not isinstance(salt, (bytes, bytearray)) or len(salt) < 16:
        raise ArgumentError(
            "salt must be a secret bytes value of at least 16 bytes (e.g. os.urandom(32), "
            "stored outside the data)",
            field="salt",
        )
    if not isinstance(identifier, Identifier):
        raise ArgumentError(
            f"identifier must be an Identifier, got {type(identifier).__name__}; build one with "
            "Identifier(kind=..., value=...)",
            field="identifier",
        )
    if config is not None and not callable(getattr(config, "blocks", None)):
        raise ArgumentError(
            f"config must be an IdentityConfig or None, got {type(config).__name__}",
            field="config",
        )
    if identifier.hashed or identifier.is_placeholder:
        return identifier
    if config is not None and config.blocks(identifier):
        return identifier
    digest = hmac.new(bytes(salt), identifier.value.encode("utf-8"), hashlib.sha256).hexdigest()
    return Identifier(kind=identifier.kind, value=digest, scope=identifier.scope, hashed=True)


#: Characters a placeholder made of "zeros only" may contain: zeros, signs and separators.
_ZERO_CHARS = "0+-:()./ \t\n\r\x0b\x0c\u00a0\u3000"


def is_blocked(value: object, blocked: Iterable[str] = DEFAULT_BLOCKED) -> bool:
    """Whether a value is a placeholder that must never join two people.

    A value is blocked when it is ``None``, when its trimmed lower-cased text is in ``blocked``
    (by default empty, ``"null"``, ``"none"``, ``"-1"``, ``"unknown"``, ``"undefined"``, ...),
    or when it is made of zeros and separators (``+``, ``-``, ``:``, spaces, ...) only (e.g. the
    all-zero advertising id ``00000000-0000-0000-0000-000000000000``, ``+0000000`` or ``"--"``).
    Passing another ``blocked`` set replaces the listed values; all-zero values stay blocked.

    Parameters
    ----------
    value:
        A raw or normalised identifier value (or an :class:`Identifier`).
    blocked:
        The placeholder values, compared after trimming and lower-casing.

    Examples
    --------
    >>> is_blocked(" NULL "), is_blocked("00000000-0000-0000-0000-000000000000")
    (True, True)
    >>> is_blocked("+8613800138000")
    False
    """
    if isinstance(value, Identifier):
        value = value.value
    if value is None:
        return True
    text = str(value).strip().lower()
    if isinstance(blocked, (frozenset, set)):
        block = blocked
    elif isinstance(blocked, Iterable) and not isinstance(blocked, (str, bytes)):
        block = frozenset(blocked)
    else:
        raise ArgumentError(
            f"blocked must be a collection of placeholder texts, got {type(blocked).__name__}",
            field="blocked",
        )
    if text in block:
        return True
    return bool(text) and not text.strip(_ZERO_CHARS)  # zeros and separators only
