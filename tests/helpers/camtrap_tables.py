"""Offline checks of a Camtrap DP package against the standard's published schemas
(tests/standards/camtrap_dp.json, version 1.0.2 without its prose): the profile (a JSON
Schema) for datapackage.json, and the three Frictionless table schemas for the CSVs (header,
required values, types, formats, enums, patterns, ranges, primary and foreign keys)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pandas as pd

SCHEMAS = json.loads((Path(__file__).parent / "standards" / "camtrap_dp.json").read_text())
# The profile refers to two schemas of other projects by URL. Offline, they are replaced by
# the parts Camtrap DP relies on (written here from their specifications).
DATA_PACKAGE = {
    "type": "object",
    "required": ["resources"],
    "properties": {
        "name": {"type": "string", "pattern": "^([-a-z0-9._/])+$"},
        "created": {"type": "string", "format": "date-time"},
        "resources": {
            "type": "array", "minItems": 1,
            "items": {"type": "object", "required": ["name", "path"]},
        },
        "contributors": {"type": "array", "items": {"type": "object", "required": ["title"]}},
    },
}  # fmt: skip
GEOJSON = {
    "type": "object",
    "required": ["type", "coordinates"],
    "properties": {
        "type": {"enum": ["Point", "MultiPoint", "LineString", "Polygon", "MultiPolygon"]},
        "coordinates": {"type": "array", "minItems": 2},
    },
}


def check_descriptor(descriptor: dict) -> list[str]:
    """Errors of datapackage.json against the Camtrap DP profile (empty when valid)."""
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    profile = SCHEMAS["profile"]
    registry = Registry().with_resources(
        [
            ("https://specs.frictionlessdata.io/schemas/data-package.json",
             Resource.from_contents(DATA_PACKAGE, default_specification=DRAFT4)),
            ("http://json.schemastore.org/geojson.json",
             Resource.from_contents(GEOJSON, default_specification=DRAFT4)),
        ]
    )  # fmt: skip
    validator = jsonschema.Draft4Validator(
        profile, registry=registry, format_checker=jsonschema.FormatChecker()
    )
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(descriptor)]


def _parse(value: str, field: dict) -> object:
    kind = field["type"]
    if kind == "string":
        return value
    if kind == "number":
        return float(value)
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", value):
            raise ValueError(f"{value!r} is not an integer")
        return int(value)
    if kind == "boolean":
        if value not in ("true", "false", "True", "False", "TRUE", "FALSE", "1", "0"):
            raise ValueError(f"{value!r} is not a boolean")
        return value
    if kind == "datetime":
        return datetime.strptime(value, field.get("format", "%Y-%m-%dT%H:%M:%S%z"))
    return value  # any


def _cell_errors(value: str, field: dict) -> list[str]:
    c = field.get("constraints", {})
    try:
        parsed = _parse(value, field)
    except ValueError as exc:
        return [f"{field['name']}: {exc}"]
    out = []
    if "enum" in c and parsed not in c["enum"]:
        out.append(f"{field['name']}: {value!r} not in {c['enum']}")
    if "pattern" in c and not re.fullmatch(c["pattern"], value):
        out.append(f"{field['name']}: {value!r} does not match {c['pattern']}")
    if "minimum" in c and parsed < c["minimum"]:
        out.append(f"{field['name']}: {value!r} < {c['minimum']}")
    if "maximum" in c and parsed > c["maximum"]:
        out.append(f"{field['name']}: {value!r} > {c['maximum']}")
    return out


def check_table(path: Path, name: str) -> list[str]:
    """Errors of one CSV against its table schema (empty when valid)."""
    schema = SCHEMAS[name]
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    names = [f["name"] for f in schema["fields"]]
    if list(table.columns) != names:
        return [f"{path.name}: header {list(table.columns)} is not {names}"]
    missing = set(schema.get("missingValues", [""]))
    errors = []
    for field in schema["fields"]:
        for line, value in enumerate(table[field["name"]], start=2):
            if value in missing:
                if field.get("constraints", {}).get("required"):
                    errors.append(f"{path.name}:{line}: {field['name']} is required")
                continue
            errors += [f"{path.name}:{line}: {e}" for e in _cell_errors(value, field)]
    key = schema.get("primaryKey")
    if key and table[key].duplicated().any():
        errors.append(f"{path.name}: primary key {key} repeats")
    return errors


def check_package(folder: Path) -> list[str]:
    """Every error of a package folder: descriptor, tables and foreign keys."""
    descriptor = json.loads((folder / "datapackage.json").read_text())
    errors = check_descriptor(descriptor)
    tables = {}
    for resource in descriptor["resources"]:
        errors += check_table(folder / resource["path"], resource["name"])
        tables[resource["name"]] = pd.read_csv(folder / resource["path"], dtype=str,
                                               keep_default_na=False)  # fmt: skip
    deployments = set(tables["deployments"]["deploymentID"])
    media = set(tables["media"]["mediaID"])
    for name in ("media", "observations"):
        if not set(tables[name]["deploymentID"]) <= deployments:
            errors.append(f"{name}: a deploymentID that deployments.csv lacks")
    linked = set(tables["observations"]["mediaID"]) - {""}
    if not linked <= media:
        errors.append("observations: a mediaID that media.csv lacks")
    return errors
