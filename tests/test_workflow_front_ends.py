"""Each workflow has one implementation (e5desk/workflows/) and the front ends call it: the
import graph (grimp, as lint-imports reads it, function-level imports included) shows every
front end listed here importing its workflow, and no workflow importing a front end."""

import grimp
import pytest

FRONT_ENDS = {
    "e5desk.workflows.open_paths": ["e5desk.gui.window_files"],
    "e5desk.workflows.embed": ["e5desk.commands.embed", "e5desk.api", "e5desk.gui.session"],
    "e5desk.workflows.score": ["e5desk.commands.score", "e5desk.api", "e5desk.gui.workbench"],
    "e5desk.workflows.map": ["e5desk.commands.map", "e5desk.api", "e5desk.gui.map.jobs"],
    "e5desk.workflows.evaluate": ["e5desk.commands.eval", "e5desk.api",
                                  "e5desk.gui.translations.evaluation"],
    "e5desk.workflows.pair": ["e5desk.commands.align", "e5desk.commands.explain",
                              "e5desk.api", "e5desk.server.app", "e5desk.gui.pair.compute"],
    "e5desk.workflows.train": ["e5desk.commands.train", "e5desk.gui.finetune"],
    "e5desk.workflows.batch": ["e5desk.commands.batch"],
}


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("e5desk", cache_dir=None)


@pytest.mark.parametrize("workflow", sorted(FRONT_ENDS))
def test_front_ends_import_the_workflow(graph, workflow):
    missing = [m for m in FRONT_ENDS[workflow]
               if not graph.direct_import_exists(importer=m, imported=workflow)]
    assert not missing, f"{', '.join(missing)} do not call {workflow}"


def test_every_workflow_is_listed_and_imports_no_front_end(graph):
    workflows = {m for m in graph.find_children("e5desk.workflows")}
    assert workflows == set(FRONT_ENDS)
    for front in ("e5desk.gui", "e5desk.commands", "e5desk.server", "e5desk.api",
                  "e5desk.cli"):
        for w in workflows:
            assert not graph.chain_exists(importer=w, imported=front, as_packages=True), (w, front)
