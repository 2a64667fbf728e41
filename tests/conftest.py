"""Shared fixtures: one tiny demo dataset per session, and isolated output roots."""

from __future__ import annotations

import pytest

TINY = {"seed": 7, "videos": 10, "max_duration": 14, "overexposed_share": 0.3}
TINY_SERENGETI = {"seed": 7, "sequences": 60, "image_size": (320, 240)}


@pytest.fixture(scope="session")
def tiny_chimpact(tmp_path_factory):
    """A small demo folder in the real competition layout with some overexposed videos."""
    from lib.demo import chimpact

    out = tmp_path_factory.mktemp("demo") / "chimpact-tiny"
    chimpact.generate(out, progress=False, workers=2, **TINY)
    return out


@pytest.fixture(scope="session")
def tiny_extracted(tiny_chimpact, tmp_path_factory):
    """The tiny demo after stage 02: (dataset, work folder, manifest)."""
    from lib.chimpact import extract, schema

    data = schema.load(tiny_chimpact)
    work = tmp_path_factory.mktemp("work")
    manifest = extract.run(data, work, workers=2, progress=False)
    return data, work, manifest


@pytest.fixture(scope="session")
def tiny_serengeti(tmp_path_factory):
    """A small Serengeti demo folder in the real competition layout: 60 sequences over
    S1-S11 at 320x240, with herd events, night shots and a few damaged files."""
    from lib.demo import serengeti

    out = tmp_path_factory.mktemp("demo") / "serengeti-tiny"
    serengeti.generate(out, progress=False, workers=2, **TINY_SERENGETI)
    return out
