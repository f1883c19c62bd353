"""The table contract (io/contract.py): declared once, filled by labels, written by io, and io/
importing nothing from the stages that make scenes."""
from __future__ import annotations

import subprocess
import sys

import pyarrow as pa
import pytest

from synthdata.io.contract import APPEARANCE, CONTRACT, OBJECTS, WRITER_CLIP_COLUMNS, col, contract_for
from synthdata.recipe.schema import Recipe
from synthdata.world.appearance import APPEARANCE_COLUMNS

ARROW = {str: pa.string(), float: pa.float64(), int: pa.int64(), bool: pa.bool_()}


@pytest.fixture(scope="module")
def clip():
    from synthdata.pipeline import generate_clip

    recipe = Recipe.model_validate({
        "name": "c", "seed": 3, "output": {"clips": 1, "frames_per_clip": 3, "fps": 10, "resolution": [64, 48]},
        "actors": [{"type": "person", "count": 3, "enters": False},
                   {"type": "vehicle", "count": 1, "enters": False}]})
    c = generate_clip(recipe, 0, device="cpu")
    return c, list(c.chunks)


def test_appearance_columns_match_what_the_sampler_fills():
    clips = CONTRACT["clips"]
    sampled = {n: ARROW[t] for n, t in APPEARANCE_COLUMNS}
    declared = {c.name: c.type for c in APPEARANCE}
    assert sampled.pop("weather") == clips.schema.field("weather").type
    assert declared == sampled
    assert set(declared) <= set(clips.names)


def test_labels_fill_every_objects_column(clip):
    _, chunks = clip
    objects = chunks[0].objects
    assert len(objects["frame"]) > 0
    assert list(sorted(objects)) == sorted(OBJECTS.names)
    assert {len(v) for v in objects.values()} == {len(objects["frame"])}


def test_clip_rows_name_contract_columns(clip):
    c, _ = clip
    clips = CONTRACT["clips"]
    assert set(clips.required) <= set(c.clip_row)
    assert set(c.clip_row) <= set(clips.names)           # nothing spills into `attributes`
    assert not set(WRITER_CLIP_COLUMNS) & set(c.clip_row)


def test_contract_is_consistent_and_extensible():
    for name, table in CONTRACT.items():
        assert table.name == name and set(table.sort_keys) <= set(table.names)
        assert set(table.required) <= set(table.names)
        assert all(table.schema.field(c).type == pa.string() for c in table.categorical)
    v4 = CONTRACT["clips"].with_columns(col("lens_serial", pa.string()), before="attributes")
    at = v4.names.index("attributes")
    assert v4.names[at - 1:at + 1] == ("lens_serial", "attributes") and len(v4.names) == len(CONTRACT["clips"].names) + 1
    with pytest.raises(ValueError, match="duplicate"):
        CONTRACT["clips"].with_columns(col("fps", pa.float64()))


def test_action_columns_are_version_3_and_older_datasets_still_match():
    for name in ("objects", "tracks"):
        assert "action" in contract_for(name, 3).names
        for old in (1, 2):
            assert "action" not in contract_for(name, old).names
            assert set(contract_for(name, old).names) == set(contract_for(name, 3).names) - {"action", "camera"}


def test_io_imports_no_scene_stage():
    code = ("import sys, synthdata.io.shard, synthdata.io.manifest, synthdata.io.reader, synthdata.io.verify, "
            "synthdata.io.inspect, synthdata.io.cli\n"
            "bad = sorted(m for m in sys.modules if m.startswith(('synthdata.recipe', 'synthdata.plan', "
            "'synthdata.pipeline', 'synthdata.world', 'synthdata.render')))\n"
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
