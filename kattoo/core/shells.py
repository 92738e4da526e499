"""Unsaved model instances for the opening minute's hot path, built without ``Model.__init__``.

The fast path (``enrollment.fastpath``, issue 15) reads its facts in raw SQL and hands the
serializers and the rules model instances that are never saved: the campaign, the child, the
school and the token's holder (the new registration's answer needs none of its own since ADR
0054). ``Model.__init__`` takes its keyword path for them — a descriptor and a default per
field, and the ``pre_init`` and ``post_init`` signals — about 13 µs each. A shell is the instance
those serializers read: every concrete field at its default, then the given values, a fresh
``ModelState``; related instances go into the field cache as ``Model.__init__`` puts them.

Only for models no ``pre_init``/``post_init`` receiver watches (a ``FileField``'s or an
``ImageField``'s, say): ``shell`` refuses any other. A field's callable default (a UUID, a
timestamp) is called per shell, as ``Model.__init__`` calls it.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init

M = TypeVar("M", bound=Model)

# Per model: the non-callable defaults of its concrete fields (by attname), the fields with a
# callable default, and the attname of each forward relation (by its name).
_Plan = tuple[dict[str, Any], list[tuple[str, Any]], dict[str, str]]
_PLANS: dict[type[Model], _Plan] = {}


def _plan(model: type[Model]) -> _Plan:
    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        raise TypeError(f"{model.__name__} has init signal receivers: build it with the model")
    static: dict[str, Any] = {}
    dynamic: list[tuple[str, Any]] = []
    relations: dict[str, str] = {}
    for field in model._meta.concrete_fields:
        if field.has_default() and callable(field.default):
            dynamic.append((field.attname, field.default))
        else:
            static[field.attname] = field.get_default()
        if field.is_relation:
            relations[field.name] = field.attname
    plan = (static, dynamic, relations)
    _PLANS[model] = plan
    return plan


def shell(model: type[M], /, related: dict[str, Model] | None = None, **values: Any) -> M:
    """An unsaved ``model`` with ``values`` (by attname) and ``related`` instances (by field
    name: their primary key becomes the attname's value and the instance is cached, so reading
    the relation asks the database nothing). Like ``model(**values)`` for what it sets."""
    static, dynamic, relations = _PLANS.get(model) or _plan(model)
    instance = model.__new__(model)
    fields = instance.__dict__
    fields.update(static)
    for attname, default in dynamic:
        if attname not in values:
            fields[attname] = default()
    fields.update(values)
    state = ModelState()
    instance._state = state
    if related:
        for name, other in related.items():
            fields[relations[name]] = other.pk
            state.fields_cache[name] = other
    return instance
