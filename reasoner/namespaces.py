"""The IRIs the engine refers to by name: namespaces, and the graphs of the stores.

Two spellings of each namespace: `GR_NS.Case` is a plain string, for the code a `decide`
runs (importing rdflib costs a cold start 0.2 s), and `GR.Case` rdflib's URIRef, for code
that works on rdflib graphs; `GR` and the others are made on first use, so importing this
module does not import rdflib."""


class Names(str):
    """A namespace whose terms are plain strings: `GR_NS.Case` is its IRI + "Case"."""

    def __getattr__(self, name: str) -> str:
        if name.startswith("__"):
            raise AttributeError(name)
        return str(self) + name


GR_NS = Names("https://w3id.org/guideline-reasoner/ontology#")
KB_NS = Names("https://w3id.org/guideline-reasoner/kb#")
SH_NS = Names("http://www.w3.org/ns/shacl#")
PROV_NS = Names("http://www.w3.org/ns/prov#")
OWL_NS = Names("http://www.w3.org/2002/07/owl#")
RDFS_NS = Names("http://www.w3.org/2000/01/rdf-schema#")
SKOS_NS = Names("http://www.w3.org/2004/02/skos/core#")
SD_NS = Names("http://www.w3.org/ns/sparql-service-description#")  # the endpoint's service description
FORMATS_NS = Names("http://www.w3.org/ns/formats/")  # result formats, named in that description
_RDFLIB_NAMESPACES = {"GR": GR_NS, "KB": KB_NS, "SH": SH_NS, "PROV": PROV_NS}


def __getattr__(name: str):
    """GR, KB, SH, PROV as rdflib Namespaces, made (and rdflib imported) on first use."""
    if name not in _RDFLIB_NAMESPACES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from rdflib import Namespace

    value = globals()[name] = Namespace(str(_RDFLIB_NAMESPACES[name]))
    return value

OWL_VERSION_INFO = "http://www.w3.org/2002/07/owl#versionInfo"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_SUBCLASS_OF = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
XSD = "http://www.w3.org/2001/XMLSchema#"

# The published JSON-LD context (served from ontology/context.jsonld, never fetched).
CONTEXT_IRI = "https://w3id.org/guideline-reasoner/context.jsonld"
# Relative ids of JSON cases resolve against this base plus the file's stem (or, in a JSON
# lines batch input, the file's stem and line number).
CASE_BASE = "https://w3id.org/guideline-reasoner/case/"
# Cases written by the importers: + the letter's or bundle's id, then "#" and the node.
LETTER_BASE = "https://w3id.org/guideline-reasoner/letter/"
FHIR_BASE = "https://w3id.org/guideline-reasoner/fhir/"
# FHIR: a code system and an extension the bundle reader looks for by name.
SNOMED = "http://snomed.info/sct"
PAS_REQUESTED_SERVICE = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-requestedService"

# The knowledge base ontology, whose owl:versionInfo is the knowledge-base version.
KB_ONTOLOGY = "https://w3id.org/guideline-reasoner/kb"

# Graphs: the knowledge base (embedded and remote stores, the endpoint's store); in one
# case's embedded store, its input, what the pipeline derives and the SHACL report.
GRAPH = "urn:guideline-reasoner:graph:"
KB_GRAPH = GRAPH + "kb"
CASE_GRAPH = GRAPH + "case"
DERIVED_GRAPH = GRAPH + "derived"
REPORT_GRAPH = GRAPH + "report"
ERRORS_GRAPH = GRAPH + "errors"           # batch N-Quads output: one triple per refused case
BATCH_CASE = "urn:guideline-reasoner:batch:"  # + the case's place in its chunk: its graph there
BATCH_ERROR = BATCH_CASE + "error"
# The compiled shapes (reasoner/shacl/plan.py): a name standing for each result's blank
# node, and the graph of each source's terms in the cached plan (+ its number).
SHACL_PLAN_RESULT = "urn:guideline-reasoner:shacl-plan:result"
SHACL_PLAN_SOURCE = "urn:guideline-reasoner:shacl-plan:source:"

PREFIXES = {
    "gr": str(GR_NS),
    "kb": str(KB_NS),
    "sh": str(SH_NS),
    "prov": str(PROV_NS),
    "owl": str(OWL_NS),
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": str(RDFS_NS),
    "xsd": XSD,
    "skos": str(SKOS_NS),
    "dcterms": "http://purl.org/dc/terms/",
}


def kb_version_ask(version: str, graph: str | None = None) -> str:
    """The one question every store is asked before a run: does it hold this knowledge base?"""
    pattern = f'<{KB_ONTOLOGY}> <{OWL_VERSION_INFO}> "{version}"'
    return f"ASK {{ GRAPH <{graph}> {{ {pattern} }} }}" if graph else f"ASK {{ {pattern} }}"
