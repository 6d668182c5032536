"""Where the project's data folders are: ontology/, shapes/, queries/ beside the package.

The install is editable (`pip install -e .`), so the folders are read in place; the
GUIDELINE_REASONER_HOME environment variable points elsewhere (a packaged copy)."""

from __future__ import annotations

import os
from pathlib import Path

from reasoner.namespaces import CONTEXT_IRI, KB_ONTOLOGY as KB_IRI  # noqa: F401  (IRIs live in namespaces.py)

HOME = Path(os.environ.get("GUIDELINE_REASONER_HOME", Path(__file__).resolve().parent.parent))
ONTOLOGY_DIR = HOME / "ontology"
CATALOG = ONTOLOGY_DIR / "catalog-v001.xml"
SHAPES_DIR = HOME / "shapes"
QUERIES_DIR = HOME / "queries"
CONTEXT_FILE = ONTOLOGY_DIR / "context.jsonld"
