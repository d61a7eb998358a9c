"""Campaign files: schema, loading with line numbers, validation, and brief variants.

Domain side of :mod:`flows.campaign` (no Prefect): a campaign file (YAML or JSON) lists briefs
(inline and/or a JSONL ``briefs_file``), A/B variants, platform presets, a budget and a schedule.
:func:`load_campaign` validates it before any run and names ``file:line: field`` on errors; see
``flows/campaign.py`` for the format and for how a campaign runs.
"""

from __future__ import annotations

import json
import re
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from reelflow.core.errors import InputError
from reelflow.core.models import Aspect, Brief, Platform

SLUG = r"^[a-z0-9][a-z0-9-]{0,62}$"

#: Platform presets: aspect and the longest video the platform's short format takes (seconds).
PLATFORM_PRESETS: dict[Platform, dict[str, Any]] = {
    Platform.TIKTOK: {"aspect": Aspect.VERTICAL, "max_duration_s": 60},
    Platform.REELS: {"aspect": Aspect.VERTICAL, "max_duration_s": 90},
    Platform.SHORTS: {"aspect": Aspect.VERTICAL, "max_duration_s": 60},
    Platform.YOUTUBE: {"aspect": Aspect.LANDSCAPE, "max_duration_s": 90},
}

# --------------------------------------------------------------------------- the file's schema
class Variant(BaseModel):
    """One A/B variant, applied to every brief. Unset fields keep the brief's own value."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=SLUG, description="Slug naming the variant (a, b, calm-voice ...).")
    hook: str | None = Field(default=None, max_length=200, description="Opening line the video must start with.")
    voice: str | None = Field(default=None, max_length=200, description="Voice name/id or description.")
    music: str | None = Field(default=None, max_length=300, description="Music mood/preference.")
    tone: str | None = Field(default=None, max_length=200, description="Tone override.")


class Schedule(BaseModel):
    """When ``reelflow campaign schedule`` runs the campaign: a cron string in a timezone."""

    model_config = ConfigDict(extra="forbid")

    cron: str = Field(description='Five-field cron, e.g. "0 9 * * MON" (09:00 every Monday).')
    timezone: str = Field(default="UTC", description="IANA timezone, e.g. Europe/Berlin.")

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str) -> str:
        # Same rules as Prefect's CronSchedule (croniter; no random/hashed "R"/"H" fields).
        from croniter import croniter

        v = " ".join(v.split())
        if len(v.split()) not in (5, 6):
            raise ValueError(f'cron "{v}" must have 5 fields (minute hour day-of-month month day-of-week)')
        if not croniter.is_valid(v) or any(f.casefold() in ("r", "h") for f in v.split()):
            raise ValueError(f'cron "{v}" does not parse; e.g. "0 9 * * MON"')
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {v!r}; use an IANA name such as Europe/Berlin or UTC") from None
        return v


class CampaignSpec(BaseModel):
    """A campaign: briefs × variants × platforms, a budget and an optional schedule."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=SLUG, description="Slug naming the campaign (artifact keys, output folder).")
    description: str = Field(default="", max_length=2000)
    briefs: list[dict[str, Any]] = Field(
        default_factory=list, description="Brief objects (fields of create_video's brief)."
    )
    briefs_file: str | None = Field(default=None, description="JSONL of briefs, relative to the campaign file.")
    variants: list[Variant] = Field(default_factory=lambda: [Variant(name="a")], min_length=1, max_length=10)
    platforms: list[Platform] = Field(default_factory=list, description="Empty = each brief's own platform.")
    budget_usd: float | None = Field(default=None, ge=0, description="Max spend in USD; 0 = local providers only.")
    max_concurrency: int = Field(default=2, ge=1, le=16, description="Videos in flight at once.")
    schedule: Schedule | None = None
    out_dir: str | None = Field(default=None, description="Output folder (default <outputs>/campaigns/...).")
    strict: bool = Field(default=False, description="Treat any invalid brief as a campaign error.")
    review: Literal["none", "plan", "final", "both"] = Field(
        default="none", description="Review points of every video (core.review): none, plan, final or both.")
    review_timeout: float | str = Field(
        default="72h", description='Time a reviewer has per review point: seconds or "30m", "72h", "3d".')

    @field_validator("review_timeout")
    @classmethod
    def _review_timeout(cls, v: float | str) -> float | str:
        from reelflow.core.review import parse_duration_s

        try:
            parse_duration_s(v)
        except InputError as exc:
            raise ValueError(exc.message) from None
        return v

    @field_validator("variants")
    @classmethod
    def _unique_variants(cls, v: list[Variant]) -> list[Variant]:
        names = [x.name for x in v]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"variant names must be unique; repeated: {', '.join(dupes)}")
        return v

    @field_validator("platforms")
    @classmethod
    def _unique_platforms(cls, v: list[Platform]) -> list[Platform]:
        return list(dict.fromkeys(v))

    @model_validator(mode="after")
    def _has_briefs(self) -> CampaignSpec:
        if not self.briefs and not self.briefs_file:
            raise ValueError("the campaign has no briefs: add `briefs:` (a list) or `briefs_file:` (a JSONL path)")
        return self


class CampaignItem(BaseModel):
    """One video to make (or one invalid brief to report)."""

    index: int
    brief_id: str
    variant: str
    platform: str
    source: str = Field(description="Where the brief came from: file:line.")
    brief: Brief | None = None
    error: str | None = None


class LoadedCampaign(BaseModel):
    """A validated campaign: the spec, where it came from and the expanded items."""

    spec: CampaignSpec
    source: str
    items: list[CampaignItem]

    @property
    def invalid(self) -> list[CampaignItem]:
        """Items whose brief did not validate."""
        return [i for i in self.items if i.error]


class VideoOutcome(BaseModel):
    """What happened to one item; one row of the campaign report."""

    index: int
    brief: str
    variant: str
    platform: str
    status: Literal["completed", "failed", "invalid", "skipped", "cancelled"]  # cancelled: rejected/unreviewed
    duration_s: float | None = None
    cost_usd: float = 0.0
    estimated_usd: float = 0.0
    providers: str = ""
    output: str = ""
    thumbnail: str = ""
    flow_run_id: str | None = None
    seconds: float = 0.0
    reason: str = ""
    costs: list[dict[str, Any]] = Field(default_factory=list, description="(part, CostEntry) from metadata.")


class CampaignReport(BaseModel):
    """What the ``campaign`` flow returns."""

    name: str
    flow_run_id: str | None
    total: int
    completed: int
    failed: int
    invalid: int
    skipped: int
    cancelled: int = 0
    cost_usd: float
    budget_usd: float | None
    out_dir: str
    rows: list[VideoOutcome]
    message: str


#: ``check_path(path, parameter_name) -> resolved path``; raises InputError to refuse a path.
PathCheck = Callable[[Path, str], Path]


# --------------------------------------------------------------------------- loading with lines
#: Largest campaign after YAML aliases are expanded (nodes); real campaigns have a few hundred.
MAX_YAML_NODES = 20_000
#: Deepest nesting of mappings/lists accepted in a campaign file.
MAX_YAML_DEPTH = 32


def _check_node_graph(root: yaml.Node, source: str) -> None:
    """Refuse alias bombs before anything is constructed.

    Composing keeps each anchored node once (aliases point at it), so the graph is small even
    when its expansion is not. Counts the expanded size with memoisation, and refuses a
    recursive alias (``&b [*b]``), an expansion above :data:`MAX_YAML_NODES` or nesting
    deeper than :data:`MAX_YAML_DEPTH`.

    Raises:
        InputError: naming the file, the line and the limit.
    """
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(n: yaml.Node, depth: int) -> int:
        if depth > MAX_YAML_DEPTH:
            raise InputError(f"{source}:{n.start_mark.line + 1}: nested deeper than {MAX_YAML_DEPTH} levels",
                             hint="a campaign file is a few levels deep; flatten it")
        key = id(n)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise InputError(f"{source}:{n.start_mark.line + 1}: a YAML alias refers to itself (recursive anchor)",
                             hint="remove the alias (*name) that points back into its own anchor (&name)")
        active.add(key)
        total = 1
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                total += size(k, depth + 1) + size(v, depth + 1)
                if total > MAX_YAML_NODES:
                    break
        elif isinstance(n, yaml.SequenceNode):
            for v in n.value:
                total += size(v, depth + 1)
                if total > MAX_YAML_NODES:
                    break
        active.discard(key)
        if total > MAX_YAML_NODES:
            raise InputError(
                f"{source}:{n.start_mark.line + 1}: the campaign expands to more than {MAX_YAML_NODES} values "
                "(YAML aliases multiply it)",
                hint="write the campaign out without nested aliases (*name), or split it into smaller campaigns",
            )
        sizes[key] = total
        return total

    size(root, 0)


def _check_flow_depth(text: str, source: str) -> None:
    """Refuse ``[[[[...`` / ``{{{{...`` nesting deeper than :data:`MAX_YAML_DEPTH` before parsing
    (PyYAML's composer recurses per level and takes seconds to hit the recursion limit).
    Brackets inside quotes and comments are skipped; the count is an upper bound of YAML's own.
    """
    depth, quote, line = 0, "", 1
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            if quote != '"':
                quote = "" if quote == "#" else quote
        elif quote:
            if quote == "'" and c == "'":
                quote = ""
            elif quote == '"' and c == "\\":
                i += 1
            elif quote == '"' and c == '"':
                quote = ""
        elif c in "'\"#":
            quote = c
        elif c in "[{":
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise InputError(f"{source}:{line}: nested deeper than {MAX_YAML_DEPTH} levels",
                                 hint="a campaign file is a few levels deep; flatten it")
        elif c in "]}":
            depth = max(0, depth - 1)
        i += 1


def _yaml_with_lines(text: str, source: str) -> tuple[Any, dict[tuple, int]]:
    """Parse YAML/JSON text; return the data and a map from key path → 1-based line.

    Raises:
        InputError: invalid YAML, or an alias bomb / too-deep nesting (:func:`_check_node_graph`).
    """
    _check_flow_depth(text, source)
    try:
        loader = yaml.SafeLoader(text)  # the reader refuses non-printable characters right here
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(f"{source}{f':{mark.line + 1}' if mark else ''}: not valid YAML/JSON: {exc}",
                         hint="remove control characters; a campaign file is plain UTF-8 text") from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        _check_node_graph(node, source)
        data = loader.construct_document(node)
    except RecursionError:
        raise InputError(f"{source}: nested too deeply to read", hint="flatten the file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"{where}: not valid YAML/JSON: {problem}", hint="fix the syntax at that line") from None
    finally:
        loader.dispose()
    lines: dict[tuple, int] = {}

    def walk(n: yaml.Node, path: tuple) -> None:
        lines.setdefault(path, n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                key = k.value if isinstance(k, yaml.ScalarNode) else str(k)
                lines[path + (key,)] = k.start_mark.line + 1
                walk_child(v, path + (key,))
        elif isinstance(n, yaml.SequenceNode):
            for i, v in enumerate(n.value):
                lines[path + (i,)] = v.start_mark.line + 1
                walk_child(v, path + (i,))

    def walk_child(n: yaml.Node, path: tuple) -> None:
        if isinstance(n, yaml.MappingNode | yaml.SequenceNode):
            first = lines.get(path)
            walk(n, path)
            if first is not None:
                lines[path] = first
        else:
            lines.setdefault(path, n.start_mark.line + 1)

    walk(node, ())
    return data, lines


def _line_for(loc: tuple, lines: dict[tuple, int]) -> int | None:
    for n in range(len(loc), -1, -1):
        if tuple(loc[:n]) in lines:
            return lines[tuple(loc[:n])]
    return None


def _fmt_loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _validation_lines(exc: ValidationError, source: str, lines: dict[tuple, int], prefix: tuple = ()) -> list[str]:
    msgs = []
    for err in exc.errors():
        loc = prefix + tuple(p for p in err["loc"] if p not in ("function-after",))
        line = _line_for(loc, lines)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "string_pattern_mismatch" and err.get("ctx", {}).get("pattern") == SLUG:
            msg = f"{err['input']!r} is not a slug: use lowercase letters, digits and dashes (e.g. spring-launch)"
        msgs.append(f"{source}:{line}: {_fmt_loc(loc)}: {msg}" if line else f"{source}: {_fmt_loc(loc)}: {msg}")
    return msgs


def load_campaign(path: Path | str, check_path: PathCheck | None = None) -> LoadedCampaign:
    """Read and validate a campaign file (YAML or JSON) and expand it into items.

    Args:
        path: the campaign file; ``briefs_file`` inside it is resolved relative to its folder.
        check_path: called as ``check_path(path, "spec.briefs_file")`` before the briefs file is
            read (a flow passes :func:`core.paths.confine`); raises to refuse it.

    Returns:
        The spec, the source and one :class:`CampaignItem` per brief × variant × platform (one
        ``error`` item per brief that does not validate).

    Raises:
        InputError: unreadable file, invalid YAML/JSON, or a structural error; every message
            line reads ``file:line: field: problem``.
    """
    from reelflow.core.storage import MAX_TEXT_INPUT_BYTES, read_capped

    path = Path(path)
    raw = read_capped(path, MAX_TEXT_INPUT_BYTES, "campaign file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot read campaign file {path}: {exc}", hint="pass a YAML or JSON campaign file") from None
    data, lines = _yaml_with_lines(text, str(path))
    if not isinstance(data, dict):
        raise InputError(f"{path}:1: the campaign file must be a mapping (name:, briefs: ...), not {type(data).__name__}")
    return validate_campaign(data, source=str(path), lines=lines, base_dir=path.parent, check_path=check_path)


def validate_campaign(
    data: dict[str, Any] | CampaignSpec,
    *,
    source: str = "campaign",
    lines: dict[tuple, int] | None = None,
    base_dir: Path | None = None,
    check_path: PathCheck | None = None,
) -> LoadedCampaign:
    """Validate a campaign mapping (or spec) and expand it; see :func:`load_campaign`.

    Raises:
        InputError: structural errors (``source:line: field: problem`` per line).
    """
    lines = lines or {}
    if isinstance(data, CampaignSpec):
        spec = data
    else:
        try:
            spec = CampaignSpec.model_validate(data)
        except ValidationError as exc:
            raise InputError(
                f"invalid campaign {source}:\n  " + "\n  ".join(_validation_lines(exc, source, lines)),
                hint="fix the fields named above; see assets/campaigns/example.yaml",
            ) from None
    raw: list[tuple[str, Any, tuple]] = []
    for i, b in enumerate(spec.briefs):
        line = lines.get(("briefs", i))
        raw.append((f"{source}:{line}" if line else f"{source}: briefs[{i}]", b, ("briefs", i)))
    if spec.briefs_file:
        bpath = Path(spec.briefs_file)
        if not bpath.is_absolute():
            bpath = (base_dir or Path.cwd()) / bpath
        if check_path is not None:
            bpath = check_path(bpath, "spec.briefs_file")
        from reelflow.core.storage import MAX_TEXT_INPUT_BYTES, read_capped

        try:
            blines = read_capped(bpath, MAX_TEXT_INPUT_BYTES, "briefs_file").decode("utf-8").splitlines()
        except (InputError, UnicodeDecodeError) as exc:
            line = lines.get(("briefs_file",))
            where = f"{source}:{line}" if line else source
            raise InputError(
                f"{where}: briefs_file: cannot read {bpath}: {getattr(exc, 'message', None) or exc}",
                hint="briefs_file is resolved relative to the campaign file's folder",
            ) from None
        for n, text in enumerate(blines, start=1):
            if not text.strip() or text.lstrip().startswith("#"):
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                raw.append((f"{bpath}:{n}", exc, ()))
                continue
            raw.append((f"{bpath}:{n}", obj, ()))
    if not raw:
        raise InputError(f"{source}: the campaign has no briefs (briefs_file is empty)")
    items: list[CampaignItem] = []
    invalid: list[str] = []
    seen: dict[str, int] = {}
    platforms = [p.value for p in spec.platforms] or [None]
    for n, (where, obj, loc) in enumerate(raw):
        brief, error = None, None
        if isinstance(obj, json.JSONDecodeError):
            error = f"{where}: not valid JSON: {obj.msg}"
        elif not isinstance(obj, dict):
            error = f"{where}: a brief must be an object, not {type(obj).__name__}"
        else:
            try:
                brief = Brief.model_validate(obj)
            except ValidationError as exc:
                file_part = where.rsplit(":", 1)[0] if loc else where
                msgs = _validation_lines(exc, file_part if loc else where, lines if loc else {}, loc)
                error = "; ".join(msgs if loc else [m.replace(f"{where}: ", f"{where}: ", 1) for m in msgs])
        base_id = _slug((brief.id if brief else None) or (obj.get("id") if isinstance(obj, dict) else None)
                        or f"brief-{n + 1}")
        if base_id in seen:
            seen[base_id] += 1
            base_id = f"{base_id}-{seen[base_id]}"
        else:
            seen[base_id] = 1
        if error:
            invalid.append(error)
            items.append(CampaignItem(index=len(items), brief_id=base_id, variant="(all)", platform="",
                                      source=where, error=error))
            continue
        assert brief is not None
        for variant in spec.variants:
            for platform in platforms:
                made = apply_variant(brief, variant, platform, base_id)
                items.append(CampaignItem(index=len(items), brief_id=base_id, variant=variant.name,
                                          platform=made.platform.value, source=where, brief=made))
    if spec.strict and invalid:
        raise InputError(f"invalid briefs in {source} (strict: true):\n  " + "\n  ".join(invalid))
    return LoadedCampaign(spec=spec, source=source, items=items)


def _slug(text: str, n: int = 60) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")[:n].rstrip("-") or "brief"


def apply_variant(brief: Brief, variant: Variant, platform: str | None, base_id: str | None = None) -> Brief:
    """The brief as this variant on this platform.

    The hook becomes the brief's first sentence (the OpenAI planner reads it as the opening; the
    template planner opens with it when it is a question or "Imagine …" line), voice,
    music and tone replace the brief's when set; a platform preset sets platform and aspect and
    caps the duration at the platform's maximum. The id becomes ``<brief>--<variant>[--<platform>]``.
    """
    update: dict[str, Any] = {}
    if variant.hook:
        hook = variant.hook.strip()
        hook = hook if hook[-1:] in ".!?" else hook + "."
        update["text"] = f"{hook} {brief.text}"[:2000]
    for field in ("voice", "music", "tone"):
        if getattr(variant, field):
            update[field] = getattr(variant, field)
    vid = f"{base_id or _slug(brief.id or 'brief')}--{variant.name}"
    if platform:
        preset = PLATFORM_PRESETS[Platform(platform)]
        update["platform"] = Platform(platform)
        update["aspect"] = preset["aspect"]
        update["duration_s"] = min(brief.duration_s, preset["max_duration_s"])
        vid += f"--{platform}"
    update["id"] = vid[:120]
    return Brief.model_validate({**brief.model_dump(), **update})




def trust_campaign_file(path: Path | str, spec: CampaignSpec) -> None:
    """Allow a campaign file the local user named (and its ``briefs_file`` and ``out_dir``) for
    flows run in this process (:func:`core.paths.trust_local`): the CLI's ``campaign run`` and a
    ``campaign schedule`` / ``server --campaign`` process serving exactly this file. A deployment
    run that names any other file is still confined to the configured roots."""
    from reelflow.core.paths import trust_local

    path = Path(path)
    trust_local(path, tree=False)
    if spec.briefs_file:
        bpath = Path(spec.briefs_file)
        trust_local(bpath if bpath.is_absolute() else path.resolve().parent / bpath, tree=False)
    if spec.out_dir:
        trust_local(spec.out_dir)
