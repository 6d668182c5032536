"""Load an ontology and its owl:imports closure through an OASIS XML catalog
(catalog-v001.xml, the file Protégé uses), so the engine and Protégé see the same files.

rdflib does not follow owl:imports by itself; this module does, and refuses an import
the catalog does not map rather than fetching it from the network."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

from reasoner.errors import InputError

if TYPE_CHECKING:
    from rdflib import Graph  # imported where a file is parsed: reading the catalog (a warm start) needs no rdflib

_CATALOG_NS = "{urn:oasis:names:tc:entity:xmlns:xml:catalog}"


def read_catalog(catalog: Path) -> dict[str, Path]:
    """Map each import IRI in the catalog to its local file."""
    try:
        root = ET.parse(catalog).getroot()
    except (OSError, ET.ParseError) as exc:
        raise InputError(str(catalog), f"cannot read the catalog ({exc})") from None
    return {
        entry.attrib["name"]: (catalog.parent / entry.attrib["uri"]).resolve()
        for entry in root.iter(f"{_CATALOG_NS}uri")
    }


def ontology_graphs(catalog: Path, root_iri: str) -> list[tuple[Path, Graph]]:
    """Each file of `root_iri` and its imports, parsed once, imports before importers."""
    from rdflib import OWL, URIRef

    mapping = read_catalog(catalog)
    ordered: list[tuple[Path, Graph]] = []
    seen: set[str] = set()

    def visit(iri: str, importer: str) -> None:
        if iri in seen:
            return
        seen.add(iri)
        path = mapping.get(iri)
        if path is None:
            raise InputError(str(catalog), f"no local file for the import <{iri}>", field=importer)
        graph = _parse(path)
        for imported in sorted(str(o) for o in graph.objects(URIRef(iri), OWL.imports)):
            visit(imported, str(path))
        ordered.append((path, graph))

    visit(root_iri, "root")
    return ordered


def _parse(path: Path) -> Graph:
    from rdflib import Graph

    graph = Graph()
    try:
        graph.parse(path, format="turtle")
    except FileNotFoundError:
        raise InputError(str(path), "file not found (listed in the catalog)") from None
    except Exception as exc:  # rdflib raises several parser-specific types
        raise InputError(str(path), f"not valid Turtle ({exc})") from None
    return graph


def load_closure(catalog: Path, root_iri: str) -> tuple[Graph, list[Path]]:
    """One rdflib graph holding the root ontology and its import closure, and its files."""
    from rdflib import Graph

    merged = Graph()
    files = []
    for path, graph in ontology_graphs(catalog, root_iri):
        merged += graph
        files.append(path)
    return merged, files
