"""Reading a params YAML file into a typed model (the policy, scoring, model-specification and
indicator files all go through :func:`read_params`). A leaf module: it imports only the errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from analysis.core.errors import ParamsError

Model = TypeVar("Model", bound=BaseModel)


def read_params(path: Path | str, model: type[Model]) -> Model:
    """Read a params YAML file into ``model``; any problem raises :class:`ParamsError` naming the
    file and every key at fault. Shared by the policy, scoring and model specification files."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ParamsError(str(path), [str(exc)]) from None
    if not isinstance(raw, dict):
        raise ParamsError(str(path), ["top level must be a mapping / 顶层必须是键值映射"])
    try:
        result = model.model_validate(raw)
    except ValidationError as exc:
        raise ParamsError(
            str(path), [f"{'.'.join(str(p) for p in err['loc']) or '(file)'}: {err['msg']}" for err in exc.errors()]
        ) from None
    year = getattr(result, "year", None)
    match = re.search(r"(\d{4})", path.stem)
    if year is not None and match and int(match.group(1)) != year:
        raise ParamsError(str(path), [f"year: file name says {match.group(1)} but year is {year}"])
    return result


__all__ = ["read_params"]
