"""The IRIs the engine refers to by name."""

from rdflib import Namespace

GR = Namespace("https://w3id.org/guideline-reasoner/ontology#")
KB = Namespace("https://w3id.org/guideline-reasoner/kb#")
SH = Namespace("http://www.w3.org/ns/shacl#")
PROV = Namespace("http://www.w3.org/ns/prov#")

PREFIXES = {
    "gr": str(GR),
    "kb": str(KB),
    "sh": str(SH),
    "prov": str(PROV),
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
}
