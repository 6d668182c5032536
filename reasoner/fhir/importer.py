"""FHIR bundle file -> case graph, with notes naming what could not be mapped."""

from __future__ import annotations

from pathlib import Path

from reasoner.errors import InputError
from reasoner.fhir.bundle import read_bundle
from reasoner.fhir.codes import CodeMap
from reasoner.fhir.to_rdf import ImportedBundle, bundle_case
from reasoner.namespaces import GR


def import_bundle(path: Path, codes: CodeMap) -> ImportedBundle:
    """Read, validate and map `path`; InputError when it is not valid FHIR or asks for nothing."""
    bundle = read_bundle(path)
    case_id = bundle.identifier or bundle.id or path.stem
    imported = bundle_case(bundle, codes, case_id)
    if not any(imported.graph.objects(None, GR.hasRequest)):
        raise InputError(str(path), "the bundle asks for nothing: no item of a prior-authorization Claim, and no "
                                    "active or draft ServiceRequest or MedicationRequest", field="entry")
    return imported
