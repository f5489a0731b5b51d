"""The rules and the input records of identity resolution.

:class:`KindRule` says how one identifier kind takes part (priority, whether it joins, a limit per
profile with an optional time window, extra blocked values); :class:`IdentityConfig` holds one rule
per kind (:data:`DEFAULT_RULES` for the kinds it leaves out); :class:`IdentityRecord` is one input
record of :func:`clientmodel.identity.resolution.resolve`. All three are frozen pydantic models with
a JSON Schema, so a service can store and validate them.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from clientmodel._validation import boundary
from clientmodel.errors import ArgumentError, ClientModelError
from clientmodel.identity import _engine as engine
from clientmodel.identity import _prepare as prepare
from clientmodel.identity.kinds import Identifier, IdentifierKind, _prepare_value

__all__ = ["DEFAULT_RULES", "IdentityConfig", "IdentityRecord", "KindRule", "check_pattern"]

#: The longest blocked pattern accepted.
MAX_PATTERN_LENGTH = 200
_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}


def _parser() -> Any:
    try:
        return importlib.import_module("re._parser")  # Python >= 3.11
    except ImportError:  # pragma: no cover - Python 3.10
        return importlib.import_module("sre_parse")


def _parts(op: str, av: Any) -> Iterator[Any]:
    """The sub-patterns of one parsed regular-expression item."""
    if op in _REPEATS:
        yield av[2]
    elif op == "SUBPATTERN":
        yield av[3]
    elif op == "BRANCH":
        yield from av[1]
    elif op == "ATOMIC_GROUP":
        yield av
    elif op in ("ASSERT", "ASSERT_NOT"):
        yield av[1]


def _risk(items: Iterable[Any], repeated: bool) -> str | None:
    """Why a parsed pattern risks catastrophic backtracking, or ``None``."""
    for op, av in items:
        name = str(op)
        if name in ("GROUPREF", "GROUPREF_EXISTS"):
            return "it refers back to a group"
        many = name in _REPEATS and av[1] > 1
        if repeated and (many or name == "BRANCH"):
            return (
                "a repeated part contains another repetition or an alternative (as in '(a+)+' "
                "or '(a|ab)*')"
            )
        for part in _parts(name, av):
            found = _risk(part, repeated or many)
            if found:
                return found
    return None


def check_pattern(pattern: object, field: str = "blocked_patterns") -> re.Pattern[str]:
    """A blocked-value pattern compiled, once it is known to match in linear time.

    A pattern must compile, be at most 200 characters long, refer back to no group, and have no
    repeated part (``*``, ``+``, ``{m,n}`` with ``n > 1``) that itself holds a repetition or
    alternatives (``(a+)+``, ``(a|ab)*``, ``(\\w+\\.)*``): those are the shapes that make a
    backtracking matcher take exponential time on a crafted value. Patterns match the whole
    normalised value, ignoring case.

    Raises
    ------
    ArgumentError
        Naming the pattern and why it is refused.

    Examples
    --------
    >>> check_pattern(r"kiosk-[0-9]+").fullmatch("KIOSK-07") is not None
    True
    >>> check_pattern(r"(a+)+$")
    Traceback (most recent call last):
    ...
    clientmodel.errors.ArgumentError: blocked pattern '(a+)+$' is refused: a repeated part ...
    """
    if not isinstance(pattern, str) or not pattern:
        raise ArgumentError(
            f"a blocked pattern must be a non-empty string, got {pattern!r}", field=field
        )
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ArgumentError(
            f"blocked pattern {pattern[:40]!r}... is {len(pattern)} characters long; at most "
            f"{MAX_PATTERN_LENGTH} are accepted",
            field=field,
        )
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
        parsed = _parser().parse(pattern)
    except re.error as exc:
        raise ArgumentError(
            f"blocked pattern {pattern!r} is not a valid regular expression: {exc}", field=field
        ) from None
    risk = _risk(parsed, repeated=False)
    if risk:
        raise ArgumentError(
            f"blocked pattern {pattern!r} is refused: {risk}, which can take exponential time; "
            "write the repetition once (e.g. '[a-z.]+' instead of '([a-z]+\\.)*')",
            field=field,
        )
    return compiled


#: Largest ``priority`` or ``limit`` a :class:`KindRule` accepts (a 32-bit integer).
_MAX_RANK = 2**31 - 1


class KindRule(BaseModel):
    """How one identifier kind takes part in identity resolution.

    Attributes
    ----------
    priority:
        1 is the highest priority. A record offers its identifiers from the highest priority down,
        so when they disagree the higher-priority ones decide. Ties are broken by the order of
        the table of :data:`DEFAULT_RULES` (member_id, wechat_unionid, ..., cookie_id).
    joins:
        Whether values of this kind may join records into one profile. Non-joining identifiers
        are still kept on the profile.
    limit:
        The most distinct values of this kind one profile may hold (per scope, e.g. one openid per
        app); ``None`` for no limit.
    window:
        With ``limit``: count only values first seen within less than ``window`` of each other
        (e.g. at most 5 cookie ids first seen within any 7 days). Needs record timestamps.
    bridges:
        Whether a value of this kind may join two profiles that both hold values of one bridging
        kind (and scope) -- which would then hold two different phones, emails or member ids.
        ``False`` by default for ``device_id`` and ``cookie_id``: a shared device or browser (a
        shop's kiosk, a family tablet) may attach visits to a person, and may join one person's
        phone to their email, but never puts two people's phones in one profile (PostHog likewise
        never merges two identified persons). Such a merge is refused and reported like a limit.
    blocked:
        Values of this kind that never join, in addition to the placeholders every kind blocks
        (see :func:`~clientmodel.identity.kinds.is_blocked`). Normalised like the values they
        block (a blocked phone may be written in any format the phone rules accept).
    blocked_patterns:
        Regular expressions: a value of this kind that one of them matches (the whole
        normalised value, ignoring case) never joins. Each is checked by :func:`check_pattern`
        (linear-time shapes only). Applied to clear values, before hashing:
        :func:`~clientmodel.identity.kinds.hash_identifier` keeps blocked values in clear.

    Examples
    --------
    >>> KindRule(priority=1, limit=1).joins
    True
    >>> KindRule(priority=8, limit=5, window=dt.timedelta(days=7)).window
    datetime.timedelta(days=7)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # bounded so the resolution engine's integer arrays hold them
    priority: int = Field(ge=1, le=_MAX_RANK)
    joins: bool = True
    limit: int | None = Field(default=None, ge=1, le=_MAX_RANK)
    window: dt.timedelta | None = None
    blocked: tuple[str, ...] = ()
    blocked_patterns: tuple[str, ...] = ()
    bridges: bool = True

    @field_validator("blocked_patterns", mode="before")
    @classmethod
    def _patterns_as_tuple(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = (value,)
        if isinstance(value, (list, tuple, set, frozenset)):
            for pattern in value:
                check_pattern(pattern)
            return tuple(sorted(set(value))) if isinstance(value, (set, frozenset)) else value
        return value

    @field_validator("blocked", mode="before")
    @classmethod
    def _blocked_as_tuple(cls, value: Any) -> Any:
        if isinstance(value, (set, frozenset, list)):
            return tuple(sorted(value))
        if isinstance(value, str):
            return (value,)
        return value

    @model_validator(mode="after")
    def _check(self) -> KindRule:
        if self.window is not None:
            if self.window <= dt.timedelta(0):
                raise ValueError(f"window must be positive, got {self.window}")
            if self.limit is None:
                raise ValueError("a window only makes sense with a limit; set limit too")
        return self


#: The default rules: strongest (and unique per profile) first, browser cookies last. Devices and
#: cookies are limited to 5 values per profile (as Segment does), so a shared device (a shop's
#: kiosk, a family tablet) cannot chain every visitor into one profile.
DEFAULT_RULES: dict[IdentifierKind, KindRule] = {
    IdentifierKind.MEMBER_ID: KindRule(priority=1, limit=1),
    IdentifierKind.WECHAT_UNIONID: KindRule(priority=2, limit=1),
    IdentifierKind.WECOM_EXTERNAL_USERID: KindRule(priority=3, limit=1),
    IdentifierKind.WECHAT_OPENID: KindRule(priority=4, limit=1),
    IdentifierKind.PHONE: KindRule(priority=5, limit=2),
    IdentifierKind.EMAIL: KindRule(priority=6, limit=3),
    IdentifierKind.DEVICE_ID: KindRule(priority=7, limit=5, bridges=False),
    IdentifierKind.COOKIE_ID: KindRule(priority=8, limit=5, bridges=False),
}
#: Ties between equal priorities follow this order (the order of the table of defaults).
_TIE_ORDER: dict[IdentifierKind, int] = {k: i for i, k in enumerate(DEFAULT_RULES)}


class IdentityConfig(BaseModel):
    """The per-kind rules of identity resolution.

    Kinds left out of ``rules`` keep their :data:`DEFAULT_RULES`:

    ===================== ======== ================== =======
    kind                  priority limit              bridges
    ===================== ======== ================== =======
    member_id             1        1                  yes
    wechat_unionid        2        1                  yes
    wecom_external_userid 3        1 per corp (scope) yes
    wechat_openid         4        1 per app (scope)  yes
    phone                 5        2                  yes
    email                 6        3                  yes
    device_id             7        5                  no
    cookie_id             8        5                  no
    ===================== ======== ================== =======

    Examples
    --------
    >>> cfg = IdentityConfig(rules={"cookie_id": KindRule(priority=8, joins=False)})
    >>> cfg.rule("cookie_id").joins, cfg.rule("member_id").limit
    (False, 1)
    >>> cfg.with_rule("phone", blocked=("+86 138 0000 0000",)).rule("phone").blocked
    ('+8613800000000',)

    ``never_merge`` lists pairs of record ids that must never end in one profile, whatever
    identifiers they share (a merge that would join them is refused and reported, like a
    limit):

    >>> IdentityConfig(never_merge=[("crm-1", "crm-2")]).never_merge
    (('crm-1', 'crm-2'),)

    ``always_merge`` lists pairs of record ids that are one person whatever their identifiers
    say (a manual "merge these"): the records each group of pairs connects form one profile
    from the start, and the rules then decide only which of their identifiers match (one that
    would break a limit is refused, as usual). A pair that never-merge rules keep apart,
    directly or through other manual merges, is refused when the configuration is built.

    ``max_records`` and ``max_identifiers`` cap every profile (beyond the per-kind limits): a
    merge that would give a profile more records, or more matched identifiers of all kinds
    together, is refused and reported (and shows in the merge history):

    >>> IdentityConfig(always_merge=[("crm-1", "app-7")], max_records=50).max_records
    50
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: dict[IdentifierKind, KindRule] = Field(default_factory=lambda: dict(DEFAULT_RULES))
    never_merge: tuple[tuple[StrictStr | StrictInt, StrictStr | StrictInt], ...] = ()
    always_merge: tuple[tuple[StrictStr | StrictInt, StrictStr | StrictInt], ...] = ()
    max_records: int | None = Field(default=None, ge=1)
    max_identifiers: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _no_conflict(self) -> IdentityConfig:
        conflict = _merge_conflict(self.always_merge, self.never_merge)
        if conflict is not None:
            a, b = conflict
            raise ArgumentError(
                f"records {a!r} and {b!r} are joined by always_merge rules and kept apart by a "
                "never_merge rule; remove one of the rules",
                field="always_merge",
            )
        return self

    @model_validator(mode="before")
    @classmethod
    def _fill(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and isinstance(data.get("rules"), Mapping):
            given = {}
            for kind, rule in data["rules"].items():
                try:
                    k = IdentifierKind(kind)
                except ValueError as exc:
                    raise ValueError(
                        f"unknown identifier kind {kind!r} in rules; accepted kinds are "
                        f"{[k.value for k in IdentifierKind]}"
                    ) from exc
                given[k] = rule
            data = {**data, "rules": {**DEFAULT_RULES, **given}}
        return data

    @model_validator(mode="after")
    def _normalise_blocked(self) -> IdentityConfig:
        rules = dict(self.rules)
        for kind, rule in rules.items():
            values = set()
            for v in rule.blocked:
                try:
                    norm, _ = _prepare_value(kind, v)
                except ClientModelError as exc:
                    raise ValueError(
                        f"blocked {kind.value} value {v!r} is not a valid {kind.value}: "
                        f"{exc.message}. Blocked values are compared with normalised values, so "
                        "write them as valid values (phones in E.164, e.g. '+8613800000000')"
                    ) from None
                values.add(norm.lower())
            if tuple(sorted(values)) != rule.blocked:
                rules[kind] = rule.model_copy(update={"blocked": tuple(sorted(values))})
        object.__setattr__(self, "rules", rules)
        return self

    def rule(self, kind: IdentifierKind | str) -> KindRule:
        """The rule of one kind.

        Examples
        --------
        >>> IdentityConfig().rule("member_id").priority
        1
        """
        try:
            return self.rules[IdentifierKind(kind)]
        except ValueError as exc:
            raise ArgumentError(
                f"unknown identifier kind {kind!r}; accepted kinds are "
                f"{[k.value for k in IdentifierKind]}",
                field="kind",
            ) from exc

    @boundary
    def with_rule(self, kind: IdentifierKind | str, **changes: Any) -> IdentityConfig:
        """A copy with some fields of one kind's rule changed.

        Examples
        --------
        >>> IdentityConfig().with_rule("device_id", joins=False).rule("device_id").joins
        False
        """
        old = self.rule(kind)
        try:
            new = KindRule.model_validate({**old.model_dump(), **changes})
        except ValidationError as exc:
            raise ArgumentError(
                f"rule for {IdentifierKind(kind).value}: {_validation_message(exc)}",
                field=f"rules.{IdentifierKind(kind).value}",
            ) from None
        return self.updated(rules={**self.rules, IdentifierKind(kind): new})

    def updated(self, **changes: Any) -> IdentityConfig:
        """A copy with some fields changed (``never_merge``, ``always_merge``, caps, rules).

        Raises
        ------
        ArgumentError
            For an unknown field or an invalid value (naming it), or manual merges that
            never-merge rules forbid.

        Examples
        --------
        >>> cfg = IdentityConfig(never_merge=[("a", "b")])
        >>> cfg.updated(always_merge=[("a", "c")]).always_merge
        (('a', 'c'),)
        >>> cfg.updated(always_merge=[("a", "c"), ("c", "b")])
        Traceback (most recent call last):
        ...
        clientmodel.errors.ArgumentError: IdentityConfig: records 'a' and 'b' are joined by ...
        """
        try:
            return IdentityConfig.model_validate({**dict(self), **changes})
        except ValidationError as exc:
            loc = exc.errors()[0].get("loc", ()) if exc.errors() else ()
            raise ArgumentError(
                f"IdentityConfig: {_validation_message(exc)}",
                field=str(loc[0]) if loc else ", ".join(sorted(changes)) or "config",
            ) from None

    @boundary
    def blocks(self, identifier: Identifier) -> bool:
        """Whether this configuration blocks the identifier's value for its kind.

        Examples
        --------
        >>> cfg = IdentityConfig().with_rule("device_id", blocked=("kiosk-01",))
        >>> cfg.blocks(Identifier(kind="device_id", value="KIOSK-01"))
        True
        """
        if identifier.hashed:
            return False
        return prepare.extra_blocked(
            identifier.value, prepare.KIND_INDEX[identifier.kind], self._blocked()
        )

    def _arrays(self) -> engine.RuleArrays:
        kinds = prepare.KINDS
        rules = [self.rules[k] for k in kinds]
        # one number per kind: the priority, ties broken by the documented table order
        ties = len(_TIE_ORDER)
        return engine.RuleArrays(
            priority=np.array(
                [
                    r.priority * ties + _TIE_ORDER[k]
                    for k, r in zip(prepare.KINDS, rules, strict=True)
                ],
                dtype=np.int64,
            ),
            joins=np.array([r.joins for r in rules], dtype=bool),
            bridges=np.array([r.bridges for r in rules], dtype=bool),
            never=self.never_merge,
            always=self.always_merge,
            max_records=self.max_records or 0,
            max_identifiers=self.max_identifiers or 0,
            limit=np.array([r.limit or 0 for r in rules], dtype=np.int64),
            window=np.array(
                [0 if r.window is None else prepare.micros(r.window) for r in rules], dtype=np.int64
            ),
        )

    def _blocked(self) -> dict[int, prepare.Blocked]:
        return {
            i: prepare.Blocked(
                frozenset(rule.blocked),
                tuple(re.compile(p, re.IGNORECASE) for p in rule.blocked_patterns),
            )
            for i, k in enumerate(prepare.KINDS)
            if (rule := self.rules[k]).blocked or rule.blocked_patterns
        }


def _merge_conflict(
    always: Iterable[tuple[Any, Any]], never: Iterable[tuple[Any, Any]]
) -> tuple[Any, Any] | None:
    """A never-merge pair that manual merges put in one group, or ``None``."""
    parent: dict[Any, Any] = {}

    def find(x: Any) -> Any:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in always:
        parent[find(a)] = find(b)
    for a, b in never:
        if a in parent and b in parent and find(a) == find(b):
            return a, b
    return None


# --------------------------------------------------------------------------- records


def _identifier_from(item: Any) -> Identifier:
    if isinstance(item, Identifier):
        return item
    if isinstance(item, (tuple, list)) and len(item) in (2, 3):
        data = dict(zip(("kind", "value", "scope"), item, strict=False))
        return Identifier.model_validate(data)
    return Identifier.model_validate(item)


def _validation_message(exc: ValidationError) -> str:
    """The first problem of a validation error, naming its field path (never the input)."""
    errors = exc.errors()
    if not errors:
        return str(exc)
    msg = str(errors[0].get("msg", "")).removeprefix("Value error, ")
    loc = ".".join(str(part) for part in errors[0].get("loc", ()))
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return (f"field {loc!r}: {msg}" if loc else msg) + more


class IdentityRecord(BaseModel):
    """One record that carries identifiers: the input of
    :func:`~clientmodel.identity.resolution.resolve`.

    Attributes
    ----------
    record_id:
        The record's id (a string or an integer), unique among the records resolved together.
    identifiers:
        :class:`~clientmodel.identity.kinds.Identifier` objects, or their dicts, or
        ``(kind, value)`` / ``(kind, value, scope)`` tuples. Values are normalised on
        validation; a malformed one is reported with the record id and its position.
    timestamp:
        When the record was seen (timezone-aware). Sets the processing order (earlier records
        claim identifiers first) and the times that window limits count. Records without a
        timestamp come after those with one.

    Examples
    --------
    >>> r = IdentityRecord(record_id="r1", identifiers=[("phone", "+86 138 0013 8000")])
    >>> r.identifiers[0].value
    '+8613800138000'
    >>> IdentityRecord(record_id="r2", identifiers=[("email", "not-an-email")])
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for IdentityRecord
      Value error, record 'r2', identifier 0: email value 'not****mail' is not an email ...
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    record_id: StrictStr | StrictInt
    identifiers: tuple[Identifier, ...] = ()
    timestamp: AwareDatetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _identifiers(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        items = data.get("identifiers")
        if not isinstance(items, (list, tuple)):
            return data
        out = []
        for i, item in enumerate(items):
            try:
                out.append(_identifier_from(item))
            except ValidationError as exc:
                raise ValueError(
                    f"record {data.get('record_id')!r}, identifier {i}: {_validation_message(exc)}"
                ) from None
        return {**data, "identifiers": tuple(out)}

    @field_validator("record_id")
    @classmethod
    def _non_empty(cls, value: str | int) -> str | int:
        if isinstance(value, str) and not value.strip():
            raise ValueError("record_id must be a non-empty string or an integer")
        return value
