"""guideline-reasoner: decide whether requested treatments are supported by treatment
guidelines (California MTUS, ODG) and explain why, with RDF/OWL, SHACL and SPARQL."""

__version__ = "0.1.0"
