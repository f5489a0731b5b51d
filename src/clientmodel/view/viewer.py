"""Who is looking: a view is always built for a viewer, and shows only what that viewer may see.

* identifiers (phones, emails, platform ids) are masked unless one of the viewer's roles is in
  :attr:`Viewer.identifier_roles` (by default :data:`IDENTIFIER_ROLES`);
* a staff relationship's private tags and notes belong to that staff member: they are shown to
  that staff member only, never to colleagues or managers.

Nothing withheld is put into the view at all (not blanked later), so it cannot reach a repr, a
log line or the JSON.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from clientmodel._validation import boundary

__all__ = ["IDENTIFIER_ROLES", "SYSTEM", "Viewer"]

#: Roles that may see identifiers in clear by default.
IDENTIFIER_ROLES: tuple[str, ...] = ("admin", "privacy_officer")


class Viewer(BaseModel):
    """The staff member (or system) a view is built for.

    Attributes
    ----------
    staff_id:
        The staff member, or ``None`` for a system viewer (a batch job, a report).
    roles:
        The viewer's roles (``sales``, ``manager``, ``admin`` ...).
    identifier_roles:
        Roles allowed to see identifiers in clear (default :data:`IDENTIFIER_ROLES`).

    Examples
    --------
    >>> Viewer(staff_id="s1", roles=("sales",)).sees_identifiers
    False
    >>> Viewer(staff_id="s9", roles=("admin",)).sees_identifiers
    True
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    staff_id: str | None = Field(default=None, min_length=1, max_length=200)
    roles: tuple[str, ...] = ()
    identifier_roles: tuple[str, ...] = IDENTIFIER_ROLES

    @property
    def sees_identifiers(self) -> bool:
        """Whether identifiers are shown in clear to this viewer."""
        return bool(set(self.roles) & set(self.identifier_roles))

    @boundary
    def sees_private(self, staff_id: str) -> bool:
        """Whether this viewer may see the private tags and notes of ``staff_id``'s relationship.

        Examples
        --------
        >>> Viewer(staff_id="s1").sees_private("s1"), Viewer(staff_id="s1").sees_private("s2")
        (True, False)
        """
        return self.staff_id is not None and self.staff_id == staff_id


#: A viewer with no staff id and no roles: identifiers masked, no private tags or notes.
SYSTEM = Viewer()
