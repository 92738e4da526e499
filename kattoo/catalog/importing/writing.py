"""Writing checked rows into the catalog: an upsert keyed by natural keys, so loading the same
file twice changes nothing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import models

from kattoo.core.actors import Actor

from .batches import CHUNK, chunks, ids_by_key
from .checking import Checked, Row
from .file_format import KEY_FIELD, MODELS, NOT_STORED, REFERENCES, SPECS, model_field
from .report import ImportReport, KindCount
from .teachers import TeacherChecks, teachers_write

# The model fields that identify a stored row. Houses and teachers are matched within their
# street or school, the first of their fields. Microdistrict lines and class-sets are matched
# within their school; the rest of a line may be updated in place.
_IDENTITY: dict[str, tuple[str, ...]] = {
    "regions": ("soate",),
    "districts": ("soate",),
    "settlements": ("soate",),
    "streets": ("code",),
    "houses": ("street_id", "number"),
    "schools": ("code",),
    "microdistricts": ("street_id", "house_from", "house_to", "parity"),
    "class_sets": ("campaign_id", "grade", "letter", "language", "size"),
    "teachers": ("school_id", "pin"),
}

# kind -> natural key -> id, of the rows the file refers to.
_Ids = dict[str, dict[Any, int]]
# school id -> the lines the file gives it: (identity, the other fields).
_Lines = dict[int, list[tuple[tuple[Any, ...], dict[str, Any]]]]


def _referred_ids(rows: dict[str, list[Row]], kind: str) -> dict[Any, int]:
    """The ids of the ``kind`` rows that any row of the file names."""
    named = (
        row[name]
        for referrer, fields in REFERENCES.items()
        for name, target in fields.items()
        if target == kind
        for row in rows[referrer]
    )
    return ids_by_key(MODELS[kind], KEY_FIELD[kind], named)


def _model_values(kind: str, row: Row, ids: _Ids) -> dict[str, Any]:
    """The row as model field values: a reference becomes the id of the row it names."""
    values: dict[str, Any] = {}
    for spec in SPECS[kind]:
        if spec.name in NOT_STORED.get(kind, ()):
            continue
        value = row[spec.name]
        target = REFERENCES.get(kind, {}).get(spec.name)
        if target is not None:
            value = ids[target][value] if value else None
        values[model_field(kind, spec.name)] = value
    return values


class _Batch:
    """One kind's new and changed objects, counted as they are found and written in bulk."""

    def __init__(self, model: type[models.Model], count: KindCount) -> None:
        self.model = model
        self.count = count
        self.new: list[models.Model] = []
        self.changed: list[models.Model] = []
        self.changed_fields: set[str] = set()

    def create(self, obj: models.Model) -> None:
        self.new.append(obj)
        self.count.created += 1

    def update(self, obj: models.Model, values: dict[str, Any]) -> bool:
        """Whether the object changed."""
        diff = [name for name, value in values.items() if getattr(obj, name) != value]
        if not diff:
            self.count.unchanged += 1
            return False
        for name in diff:
            setattr(obj, name, values[name])
        self.changed.append(obj)
        self.changed_fields.update(diff)
        self.count.updated += 1
        return True

    def save(self) -> None:
        manager = self.model._default_manager
        manager.bulk_create(self.new, batch_size=CHUNK)
        if self.changed:
            manager.bulk_update(self.changed, sorted(self.changed_fields), batch_size=CHUNK)


def _upsert(
    kind: str,
    rows: list[Row],
    ids: _Ids,
    count: KindCount,
    *,
    on_create: Callable[[], dict[str, Any]] | None = None,
) -> None:
    """Create what is new, update what differs. An optional field the row does not give keeps
    its stored value (a sheet without a name_en column must not erase English names); given
    empty, it is cleared."""
    model, identity = MODELS[kind], _IDENTITY[kind]
    items = [(_model_values(kind, row, ids), row) for row in rows]
    stored: dict[tuple[Any, ...], models.Model] = {}
    for chunk in chunks(sorted({values[identity[0]] for values, _row in items})):
        for obj in model._default_manager.filter(**{f"{identity[0]}__in": chunk}):
            stored[tuple(getattr(obj, name) for name in identity)] = obj
    batch = _Batch(model, count)
    for values, row in items:
        match = stored.get(tuple(values[name] for name in identity))
        if match is None:
            extra = on_create() if on_create else {}
            batch.create(model(**values, **extra))
            continue
        keep = {model_field(kind, name) for name in row["_absent"]}
        batch.update(match, {name: value for name, value in values.items() if name not in keep})
    batch.save()


def _replace_lines(
    kind: str,
    rows: list[Row],
    ids: _Ids,
    count: KindCount,
    *,
    scope: dict[str, Any] | None = None,
) -> set[int]:
    """Make each listed school's lines exactly the file's: keep matching rows (updating their
    free fields), delete the rest, create what is missing. Keeps ids and history stable when
    a file is loaded again. ``scope`` holds the fields every line shares besides its school.
    Returns the schools whose lines changed."""
    model, identity = MODELS[kind], _IDENTITY[kind]
    scope = scope or {}
    wanted: _Lines = defaultdict(list)
    for row in rows:
        values = {**_model_values(kind, row, ids), **scope}
        school_id = values.pop("school_id")
        key = tuple(values.pop(name) for name in identity)
        keep = {model_field(kind, name) for name in row["_absent"]}
        wanted[school_id].append((key, {n: v for n, v in values.items() if n not in keep}))

    old: dict[int, dict[tuple[Any, ...], list[models.Model]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for chunk in chunks(sorted(wanted)):
        for obj in model._default_manager.filter(school_id__in=chunk, **scope):
            key = tuple(getattr(obj, name) for name in identity)
            old[getattr(obj, "school_id")][key].append(obj)  # noqa: B009
    batch = _Batch(model, count)
    doomed: list[int] = []
    changed: set[int] = set()
    for school_id, lines in wanted.items():
        mine = old.get(school_id, {})
        for key, values in lines:
            matches = mine.get(key)
            if matches:
                if batch.update(matches.pop(0), values):
                    changed.add(school_id)
            else:
                fields = dict(zip(identity, key, strict=True))
                batch.create(model(school_id=school_id, **fields, **values))
                changed.add(school_id)
        for leftovers in mine.values():
            doomed.extend(obj.pk for obj in leftovers)
            if leftovers:
                changed.add(school_id)
    for chunk in chunks(doomed):
        model._default_manager.filter(pk__in=chunk).delete()
    count.deleted += len(doomed)
    batch.save()
    return changed


def write(
    checked: Checked, report: ImportReport, *, checks: TeacherChecks, actor: Actor
) -> set[int]:
    """Write the checked file. Returns the schools whose drafts' stored eligibility facts
    (enrollment ADR 0029) the file changed: a microdistrict line added, changed or gone, or a
    teacher who joined the roster. Streets are matched by their code, which never changes, and
    nothing else of the file is part of those facts."""
    rows, counts = checked.rows, report.counts
    report.school_codes = sorted(
        {r["code"] for r in rows["schools"]} | {r["school"] for r in rows["class_sets"]}
    )
    ids: _Ids = {}
    for kind in ("regions", "districts", "settlements", "streets", "houses", "schools"):
        _upsert(kind, rows[kind], ids, counts[kind])
        if kind in KEY_FIELD:
            # Written now, so every row the file names has an id for the kinds after it.
            ids[kind] = _referred_ids(rows, kind)

    # §19: the file is the school's whole microdistrict; lines it no longer lists go.
    stale = _replace_lines("microdistricts", rows["microdistricts"], ids, counts["microdistricts"])

    # §11: the actual class-sets of the campaign the quota is computed for.
    campaign = checked.campaign
    if rows["class_sets"]:
        assert campaign is not None
        report.campaign = campaign.code
        _replace_lines(
            "class_sets",
            rows["class_sets"],
            ids,
            counts["class_sets"],
            scope={"campaign_id": campaign.pk},
        )

    # §24: teachers' own children are admitted above quota at their school. Each new teacher
    # goes through the roster's service (registry-checked, frozen from the quota lock on); the
    # roster only grows here — a school removes a teacher itself.
    stale |= teachers_write(rows["teachers"], ids["schools"], checks, report, actor=actor)
    return stale
