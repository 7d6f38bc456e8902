"""A command's --out table is written whole or not at all (commands/_files.write_table,
used by `e5desk map` and `e5desk mine`; `e5desk export` shares atomic_out)."""

from __future__ import annotations

import csv

import pytest

from e5desk.commands._files import write_table
from e5desk.core.errors import E5DeskError


def test_table_is_written_with_its_dialect(tmp_path):
    out = tmp_path / "pairs.tsv"
    write_table(out, ["src", "tgt"], [["Save", "Enregistrer"], ["a\tb", "ü"]],
                delimiter="\t", lineterminator="\n")
    with out.open(encoding="utf-8", newline="") as f:
        assert list(csv.reader(f, delimiter="\t")) == [["src", "tgt"], ["Save", "Enregistrer"],
                                                        ["a\tb", "ü"]]
    assert [p.name for p in tmp_path.iterdir()] == ["pairs.tsv"]


def test_a_failure_midway_keeps_the_previous_file(tmp_path):
    out = tmp_path / "map.csv"
    out.write_text("previous map\n")

    def rows():
        yield ["1", "2"]
        raise OSError(28, "No space left on device")

    with pytest.raises(E5DeskError, match="map.csv: writing failed .*No space left"):
        write_table(out, ["x", "y"], rows())
    assert out.read_text() == "previous map\n"
    assert [p.name for p in tmp_path.iterdir()] == ["map.csv"]
