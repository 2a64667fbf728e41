"""Predictions as a Camtrap DP data package (https://camtrap-dp.tdwg.org, version 1.0.2), the
exchange format that biodiversity platforms (GBIF, Agouti, Wildlife Insights) import.

- `deployments.csv`: one deployment per camera (a folder, or a site of competition ids), its
  start and end the first and last capture time of its images. Latitude and longitude are
  required by the standard and unknown to the images: the caller gives them (one place for the
  whole package; edit the CSV for per-camera coordinates).
- `media.csv`: one row per image of the sequences, its path relative to the images' base folder.
- `observations.csv`: sequence-level (`observationLevel` "event", `eventID` = `seq_id`): the
  top class of the sequence's probabilities, "blank" for `empty`, `classificationMethod`
  "machine" and the probability.
- `datapackage.json`: the profile, resources with their schema URLs, project, spatial
  (a GeoJSON point), temporal and taxonomic coverage.

Capture times carry no time zone (EXIF has none); `utc_offset` says which one the cameras ran
on, and is written into every timestamp.
"""

from __future__ import annotations

import mimetypes
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from lib import fileio
from lib.serengeti.schema import KEY
from lib.serengeti.taxa import SCIENTIFIC, SEX

VERSION = "1.0.2"
BASE_URL = f"https://raw.githubusercontent.com/tdwg/camtrap-dp/{VERSION}"
PROFILE = f"{BASE_URL}/camtrap-dp-profile.json"
TABLES = ("deployments", "media", "observations")
# every field of the standard's table schemas, in their order (unused ones stay empty)
COLUMNS = {
    "deployments": [
        "deploymentID", "locationID", "locationName", "latitude", "longitude",
        "coordinateUncertainty", "deploymentStart", "deploymentEnd", "setupBy", "cameraID",
        "cameraModel", "cameraDelay", "cameraHeight", "cameraDepth", "cameraTilt",
        "cameraHeading", "detectionDistance", "timestampIssues", "baitUse", "featureType",
        "habitat", "deploymentGroups", "deploymentTags", "deploymentComments",
    ],
    "media": [
        "mediaID", "deploymentID", "captureMethod", "timestamp", "filePath", "filePublic",
        "fileName", "fileMediatype", "exifData", "favorite", "mediaComments",
    ],
    "observations": [
        "observationID", "deploymentID", "mediaID", "eventID", "eventStart", "eventEnd",
        "observationLevel", "observationType", "cameraSetupType", "scientificName", "count",
        "lifeStage", "sex", "behavior", "individualID", "individualPositionRadius",
        "individualPositionAngle", "individualSpeed", "bboxX", "bboxY", "bboxWidth",
        "bboxHeight", "classificationMethod", "classifiedBy", "classificationTimestamp",
        "classificationProbability", "observationTags", "observationComments",
    ],
}  # fmt: skip
OFFSET = re.compile(r"^[+-]\d{2}:?\d{2}$")


class PackageError(ValueError):
    """Settings a package cannot be written with; the message names the setting."""


def _stamp(when: pd.Series, offset: str) -> pd.Series:
    """ISO 8601 with the cameras' UTC offset, as the standard's datetime format wants."""
    return when.dt.strftime("%Y-%m-%dT%H:%M:%S") + offset.replace(":", "")


def deployments(images: pd.DataFrame, lat: float, lon: float, offset: str) -> pd.DataFrame:
    per = images.groupby("deploymentID", sort=True)["datetime"].agg(["min", "max"])
    return pd.DataFrame(
        {
            "deploymentID": per.index,
            "locationID": per.index,
            "locationName": per.index,
            "latitude": lat,
            "longitude": lon,
            "deploymentStart": _stamp(per["min"], offset).to_numpy(),
            "deploymentEnd": _stamp(per["max"], offset).to_numpy(),
        }
    )


def media(images: pd.DataFrame, offset: str) -> pd.DataFrame:
    kinds = [mimetypes.guess_type(f)[0] or "image/jpeg" for f in images["file"]]
    return pd.DataFrame(
        {
            "mediaID": images["file"].to_numpy(),
            "deploymentID": images["deploymentID"].to_numpy(),
            "captureMethod": "activityDetection",
            "timestamp": _stamp(images["datetime"], offset).to_numpy(),
            "filePath": images["file"].to_numpy(),
            "filePublic": "false",
            "fileName": [Path(f).name for f in images["file"]],
            "fileMediatype": kinds,
            "mediaComments": images["error"].fillna("").to_numpy(),
        }
    )


def observations(rows: pd.DataFrame, images: pd.DataFrame, offset: str) -> pd.DataFrame:
    """One event observation per sequence: its top class and that class's probability."""
    span = images.groupby(KEY)["datetime"].agg(["min", "max"])
    camera = images.groupby(KEY)["deploymentID"].first()
    seq = rows[KEY]
    blank = rows["top_class"] == "empty"
    when = pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    return pd.DataFrame(
        {
            "observationID": seq.to_numpy(),
            "deploymentID": camera.reindex(seq).to_numpy(),
            "eventID": seq.to_numpy(),
            "eventStart": _stamp(span["min"].reindex(seq), offset).to_numpy(),
            "eventEnd": _stamp(span["max"].reindex(seq), offset).to_numpy(),
            "observationLevel": "event",
            "observationType": np.where(blank, "blank", "animal"),
            "scientificName": rows["top_class"].map(SCIENTIFIC).fillna("").to_numpy(),
            "sex": rows["top_class"].map(SEX).fillna("").to_numpy(),
            "classificationMethod": "machine",
            "classifiedBy": "camtrap-kaggle serengeti bundle",
            "classificationTimestamp": when,
            "classificationProbability": rows["top_score"].round(6).to_numpy(),
            "observationComments": "class " + rows["top_class"],
        }
    )


def _descriptor(tables: dict[str, pd.DataFrame], lat: float, lon: float, bundle) -> dict:
    starts = tables["deployments"]["deploymentStart"].str[:10]
    ends = tables["deployments"]["deploymentEnd"].str[:10]
    names = sorted(set(tables["observations"]["scientificName"]) - {""})
    source = f"camtrap-kaggle serengeti bundle {bundle.folder.name}" if bundle else "serengeti"
    return {
        "profile": PROFILE,
        "name": "serengeti-predictions",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "contributors": [{"title": source, "role": "contributor"}],
        "sources": [{"title": source}],
        "project": {
            "title": "Species predicted per image sequence",
            "samplingDesign": "opportunistic",
            "captureMethod": ["activityDetection"],
            "individualAnimals": False,
            "observationLevel": ["event"],
        },
        "spatial": {"type": "Point", "coordinates": [lon, lat]},
        "temporal": {"start": min(starts), "end": max(ends)},
        "taxonomic": [{"scientificName": n} for n in names],
        "resources": [
            {
                "name": t,
                "path": f"{t}.csv",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": f"{BASE_URL}/{t}-table-schema.json",
            }
            for t in TABLES
        ],  # fmt: skip
    }


def check_settings(lat: float | None, lon: float | None, offset: str) -> None:
    """Refuse a package without a place or with an unreadable UTC offset (PackageError)."""
    if lat is None or lon is None:
        raise PackageError(
            "--camtrap-dp needs --latitude and --longitude (the standard requires the cameras' "
            "coordinates, which images do not carry)"
        )
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise PackageError(f"--latitude {lat} / --longitude {lon}: outside [-90, 90] / [-180, 180]")
    if not OFFSET.fullmatch(offset):
        raise PackageError(f"--utc-offset {offset!r}: give it as +HH:MM or -HH:MM, e.g. +03:00")


def write(
    result, folder: str | Path, bundle=None, lat: float | None = None, lon: float | None = None,
    utc_offset: str = "+00:00",
) -> Path:  # fmt: skip
    """Write the package of a `predict_images.Result` into `folder` (made atomically)."""
    check_settings(lat, lon, utc_offset)
    images = result.images.copy()
    images["datetime"] = pd.to_datetime(images["datetime"])
    images["deploymentID"] = images["site"].astype(str)
    tables = {
        "deployments": deployments(images, float(lat), float(lon), utc_offset),
        "media": media(images, utc_offset),
        "observations": observations(result.rows, images, utc_offset),
    }
    with fileio.atomic_dir(folder) as tmp:
        for name, table in tables.items():
            table.reindex(columns=COLUMNS[name]).to_csv(tmp / f"{name}.csv", index=False)
        fileio.write_json(tmp / "datapackage.json", _descriptor(tables, lat, lon, bundle))
    return Path(folder)
