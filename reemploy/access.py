"""Who may see what: the access policy (roles and district scopes) and the audit log.

Pure: no Streamlit here. `reemploy.ui` reads the signed-in user (`st.user`) and hands its claims
to `resolve_access`; the scope it returns travels inside `Filters.scope` into every query, where
`Filters.to_params` intersects it with the district filter (see data/README.md, "Who may see
what: sign-in and scope").

The policy file (`access.toml`, or the file named by REEMPLOY_ACCESS_POLICY) maps users and
groups to a role and the districts in scope. Deny by default: a signed-in user whom no rule and
no trusted claim covers gets no access, and so does everyone when the file is missing or broken.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import tomllib
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping

from reemploy.extracts import REPO_ROOT
from reemploy.filters import Filters, _listed

POLICY_ENV_VAR = "REEMPLOY_ACCESS_POLICY"
DEFAULT_POLICY = REPO_ROOT / "access.toml"
AUDIT_ENV_VAR = "REEMPLOY_AUDIT_LOG"
DEFAULT_AUDIT_LOG = REPO_ROOT / "data" / "audit.log"

ROLES = ("viewer", "analyst", "admin")
DOWNLOAD_ROLES = ("analyst", "admin")
WHOLE_CITY = "*"


class PolicyError(ValueError):
    """The policy file cannot be used; the app then denies everyone (fails closed)."""


@dataclass(frozen=True)
class Rule:
    """One line of the policy: a user (email or subject) or a group -> role and districts.

    `districts` None means the whole city."""

    role: str
    districts: tuple[str, ...] | None
    user: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class Policy:
    rules: tuple[Rule, ...] = ()
    groups_claim: str = "groups"
    # Claims trusted to carry the role and the districts when no rule names the user (both must
    # be configured and present); None: roles come from the file only.
    role_claim: str | None = None
    districts_claim: str | None = None
    # May district-scoped users see city-wide totals (the extract's row counts, the import
    # report)? They are marked "city-wide" where shown.
    city_totals: bool = False


@dataclass(frozen=True)
class Access:
    """What this session may see. `role` None: no access at all. `districts` None: the whole
    city; a tuple: those districts only (empty: none)."""

    who: str
    role: str | None
    districts: tuple[str, ...] | None = None
    city_totals: bool = False
    open: bool = False
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.role in ROLES

    @property
    def may_download(self) -> bool:
        return self.role in DOWNLOAD_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def scoped(self) -> bool:
        return self.districts is not None

    @property
    def sees_city_totals(self) -> bool:
        return self.allowed and (not self.scoped or self.city_totals)

    def describe(self) -> str:
        """“viewer · Tiexi” for the sidebar and the audit log."""
        where = "whole city" if self.districts is None else (", ".join(self.districts) or "no district")
        return f"{self.role} · {where}"


# No sign-in configured: everyone sees everything, as before sign-in existed (README, Quick start).
OPEN_ACCESS = Access(who="anonymous", role="admin", districts=None, city_totals=True, open=True)


def _districts(value, where: str) -> tuple[str, ...] | None:
    if value == WHOLE_CITY:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise PolicyError(f"{where}: districts must be \"*\" (the whole city) or a list of names")
    if WHOLE_CITY in value:
        raise PolicyError(f"{where}: \"*\" stands alone, not inside a list")
    return tuple(dict.fromkeys(value))


def _role(value, where: str) -> str:
    if value not in ROLES:
        raise PolicyError(f"{where}: role must be one of {', '.join(ROLES)}, not {value!r}")
    return value


def parse_policy(document: Mapping) -> Policy:
    """A Policy from the parsed TOML; PolicyError names the first problem."""
    known = {"rule", "claims", "city_totals"}
    unknown = set(document) - known
    if unknown:
        raise PolicyError(f"unknown setting(s) {', '.join(sorted(unknown))}")
    rules = []
    for number, entry in enumerate(document.get("rule", []), start=1):
        where = f"rule {number}"
        if not isinstance(entry, Mapping):
            raise PolicyError(f"{where}: must be a [[rule]] table")
        extra = set(entry) - {"user", "group", "role", "districts"}
        if extra:
            raise PolicyError(f"{where}: unknown key(s) {', '.join(sorted(extra))}")
        user, group = entry.get("user"), entry.get("group")
        if (user is None) == (group is None):
            raise PolicyError(f"{where}: give exactly one of user or group")
        if not isinstance(user or group, str) or not (user or group).strip():
            raise PolicyError(f"{where}: user or group must be a non-empty text")
        if "districts" not in entry:
            raise PolicyError(f"{where}: districts missing (\"*\" for the whole city)")
        rules.append(Rule(role=_role(entry.get("role"), where),
                          districts=_districts(entry["districts"], where),
                          user=user.strip().lower() if user else None,
                          group=group.strip() if group else None))
    claims = document.get("claims", {})
    if not isinstance(claims, Mapping) or set(claims) - {"groups", "role", "districts"}:
        raise PolicyError("[claims] takes groups, role and districts (claim names)")
    for key, value in claims.items():
        if not isinstance(value, str) or not value:
            raise PolicyError(f"[claims] {key} must be a claim name")
    if ("role" in claims) != ("districts" in claims):
        raise PolicyError("[claims] role and districts go together")
    city_totals = document.get("city_totals", False)
    if not isinstance(city_totals, bool):
        raise PolicyError("city_totals must be true or false")
    return Policy(rules=tuple(rules), groups_claim=claims.get("groups", "groups"),
                  role_claim=claims.get("role"), districts_claim=claims.get("districts"),
                  city_totals=city_totals)


def policy_path() -> Path:
    return Path(os.environ.get(POLICY_ENV_VAR) or DEFAULT_POLICY)


def load_policy(path: Path | None = None) -> Policy:
    """The policy in `path` (default policy_path()); PolicyError when missing or invalid.

    Read again whenever the file changes (its size or modification time), so a change, such as
    a rule removed, applies from the next page run of every session, without a restart."""
    path = path or policy_path()
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise PolicyError(f"no policy file at {path}") from None
    except OSError as exc:
        raise PolicyError(f"{path} cannot be read: {exc}") from None
    return _parsed_policy(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _parsed_policy(path: str, mtime_ns: int, size: int) -> Policy:
    try:
        document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"no policy file at {path}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"{path} cannot be read: {exc}") from None
    return parse_policy(document)


def _identity(claims: Mapping) -> str:
    for key in ("email", "preferred_username", "sub"):
        value = claims.get(key)
        if isinstance(value, str) and value:
            return value
    return "unknown"


def _claim_list(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return []


def resolve_access(policy: Policy, claims: Mapping) -> Access:
    """What a signed-in user with these token claims may see.

    The first rule, in file order, that names the user (by email or subject, case-insensitive)
    or one of the user's groups decides, so the file reads like a firewall. An email the
    provider marks as not verified (`email_verified: false`) matches no rule: anyone could have
    typed it. Without a rule, a role and districts carried by the token's trusted claims decide,
    when the policy names both claims. Otherwise: no access.
    """
    who = _identity(claims)
    keys = ("sub",) if claims.get("email_verified") is False else ("email", "sub")
    names = {str(claims[key]).strip().lower() for key in keys
             if isinstance(claims.get(key), str) and claims[key].strip()}
    groups = set(_claim_list(claims.get(policy.groups_claim)))
    for rule in policy.rules:
        if (rule.user is not None and rule.user in names) or (rule.group is not None and rule.group in groups):
            return Access(who=who, role=rule.role, districts=rule.districts,
                          city_totals=policy.city_totals)
    if policy.role_claim and policy.districts_claim:
        role, districts = claims.get(policy.role_claim), claims.get(policy.districts_claim)
        try:
            return Access(who=who, role=_role(role, "the role claim"),
                          districts=_districts(districts, "the districts claim"),
                          city_totals=policy.city_totals)
        except PolicyError:
            pass
    return Access(who=who, role=None, reason="no rule of the access policy covers this account")


def no_access(who: str, reason: str) -> Access:
    return Access(who=who, role=None, reason=reason)


def scope_filters(filters: Filters, access: Access) -> Filters:
    """The filters with this session's scope attached: every query then binds it."""
    return replace(filters, scope=access.districts)


def narrow_link(raw_query: Mapping[str, list[str]], access: Access) -> tuple[dict, list[str]]:
    """The link's parameters with district values outside the scope removed, and a notice
    naming them. Every value outside is treated alike, whether such a district exists or not,
    so a link cannot be used to probe which districts exist."""
    query = {key: list(values) for key, values in raw_query.items()}
    if not access.scoped or "district" not in query:
        return query, []
    inside = set(access.districts or ())
    outside = [value for value in query["district"] if value not in inside and value != ""]
    if not outside:
        return query, []
    query["district"] = [value for value in query["district"] if value in inside]
    where = ", ".join(access.districts) if access.districts else "no district"
    return query, [f"Outside your access ({where}): district value(s) {_listed(outside)} ignored; "
                   f"the figures are for {where} only."]


def scope_options(options: Mapping[str, Iterable[str]], access: Access) -> dict:
    """The filter catalogue with only the districts in scope (the sidebar offers no others)."""
    out = {key: tuple(values) for key, values in options.items()}
    if access.scoped:
        inside = set(access.districts or ())
        out["districts"] = tuple(d for d in out.get("districts", ()) if d in inside)
    return out


# ------------------------------------------------------------------------------------ audit log

_AUDIT_LOCK = threading.Lock()
AUDIT_EVENTS = ("sign-in", "download", "pack")


def audit_log_path() -> Path:
    return Path(os.environ.get(AUDIT_ENV_VAR) or DEFAULT_AUDIT_LOG)


def audit(event: str, access: Access, filters: str = "", what: str = "",
          path: Path | None = None, now: dt.datetime | None = None) -> None:
    """Append one JSON line: when (UTC), what happened, who, their role and scope, the filters
    and the file. Lines are short and written with one append each, so concurrent sessions do
    not interleave them."""
    if event not in AUDIT_EVENTS:
        raise ValueError(f"event must be one of {AUDIT_EVENTS}")
    path = path or audit_log_path()
    line = json.dumps({
        "at": (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds"),
        "event": event,
        "who": access.who,
        "role": access.role,
        "scope": "whole city" if access.districts is None else list(access.districts),
        "filters": filters,
        "what": what,
    }, ensure_ascii=False)
    with _AUDIT_LOCK:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(line + "\n")


def read_audit(path: Path | None = None, last: int = 200) -> list[dict]:
    """The last `last` entries, newest first; lines that are not JSON are skipped."""
    path = path or audit_log_path()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    entries = []
    for line in reversed(lines):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
        if len(entries) >= last:
            break
    return entries


def audited(event: str, access: Access, filters: str, what: str, make):
    """`make()` (the bytes of a download), with its audit line written first: Streamlit calls a
    download button's data function only when the button is clicked."""
    audit(event, access, filters, what)
    return make()
