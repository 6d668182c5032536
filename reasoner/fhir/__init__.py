"""FHIR R4 bundles read into cases: parse and validate (bundle.py), map codes through the
ontology (codes.py, queries/fhir/code-terms.rq), write the case graph (to_rdf.py)."""
