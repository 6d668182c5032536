"""How the code is laid out (DEVELOPERS.md, Style): rules a reader relies on."""

from __future__ import annotations

from conftest import ROOT


def test_every_iri_the_engine_names_is_in_namespaces_py():
    """Every IRI in one place (DEVELOPERS.md): no module but reasoner/namespaces.py spells a
    whole IRI as a string (examples inside help texts and docstrings are sentences, not IRIs)."""
    import ast
    import re

    whole_iri = re.compile(r"^(?:https?://|urn:)\S+$")
    found = []
    for path in sorted((ROOT / "reasoner").rglob("*.py")):
        if path.name == "namespaces.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        in_fstrings = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
        found += [f"{path.relative_to(ROOT)}:{node.lineno}: {node.value}" for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in in_fstrings
                  and whole_iri.match(node.value)]
    assert not found, "\n".join(found)
