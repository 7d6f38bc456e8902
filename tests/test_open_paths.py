"""What an opened path is (workflows/open_paths.py), decided without Qt: projects, batch
folders (or their manifest / shards), files with columns to choose, plain sentence files."""

import json
from pathlib import Path

from e5desk.core.batch import MANIFEST
from e5desk.workflows import open_paths


def _batch(folder: Path) -> Path:
    folder.mkdir()
    (folder / MANIFEST).write_text(json.dumps({"shards": [], "rows": 0}), encoding="utf-8")
    (folder / "part-00000.parquet").write_bytes(b"")
    return folder


def test_plan_sorts_paths_by_what_they_are(tmp_path):
    batch = _batch(tmp_path / "out")
    csv = tmp_path / "phrases.csv"
    csv.write_text("text,lang\nGood morning,en\nBonjour,fr\n", encoding="utf-8")
    txt = tmp_path / "lines.txt"
    txt.write_text("one line\nanother line\n", encoding="utf-8")
    po = tmp_path / "de.po"
    po.write_text('msgid "Save"\nmsgstr "Speichern"\n', encoding="utf-8")
    given = [str(tmp_path / "work.e5desk"), txt, batch / MANIFEST, csv, po,
             batch / "part-00000.parquet"]

    plan = open_paths.plan_open(given, ask_columns=True)

    kinds = [(s.kind, Path(s.path).name) for s in plan.steps]
    assert kinds == [("project", "work.e5desk"), ("batch", "out"), ("columns", "phrases.csv"),
                     ("batch", "out")]
    assert plan.steps[2].preview.columns == ["text", "lang"]
    assert plan.files == [txt, po]  # read together, in the order given


def test_without_asking_columns_files_are_read_as_they_are(tmp_path):
    csv = tmp_path / "a.csv"
    csv.write_text("text\nhello\n", encoding="utf-8")
    plan = open_paths.plan_open([csv], ask_columns=False)
    assert plan.steps == [] and plan.files == [csv]


def test_unreadable_file_is_left_to_the_reader(tmp_path):
    missing = tmp_path / "gone.csv"
    plan = open_paths.plan_open([missing])
    assert plan.files == [missing]  # the loader says what is wrong, with the file name


def test_a_folder_without_manifest_is_not_a_batch(tmp_path):
    (tmp_path / "part-1.parquet").write_bytes(b"")
    assert open_paths.batch_folder(tmp_path / "part-1.parquet") is None
    assert open_paths.batch_folder(_batch(tmp_path / "b")) == tmp_path / "b"


def test_recent_files_newest_first_without_repeats(tmp_path):
    a, b, c = (str((tmp_path / n).resolve()) for n in "abc")
    recent = open_paths.remember([a, b], [c, b], limit=3)
    assert recent == [c, b, a]
    assert open_paths.remember(recent, [tmp_path / "d"], limit=3)[-1] == b


def test_project_suffix_and_user_work(tmp_path):
    from e5desk.core.resources import resource_path

    assert open_paths.project_path("/x/work") == "/x/work.e5desk"
    assert open_paths.project_path("/x/work.e5desk") == "/x/work.e5desk"
    sample = resource_path("samples", "phrases.csv")
    assert not open_paths.is_user_work(None, [sample])
    assert open_paths.is_user_work(None, [sample, tmp_path / "mine.txt"])
    assert open_paths.is_user_work(tmp_path / "p.e5desk", [])


def test_batch_refusal_names_the_folder_and_reason():
    prov = {"model_id": "other-model", "dim": 32}
    reason = open_paths.batch_refusal("/data/out", prov, "multilingual-e5-small", 384)
    assert reason is not None and reason.startswith("out was not opened: ")
    assert open_paths.batch_refusal("/data/out", prov, None, None) is None
