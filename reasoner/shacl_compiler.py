"""Compile the SHACL Core shapes this project uses into one SPARQL SELECT that returns every
violation as (?focus ?shape ?message), so validation can run inside the same store as the
rest of the pipeline, over thousands of cases at once. pyshacl stays the reference: the
tests check that both find the same violations on the whole case library.

Supported (the subset in shapes/): targets sh:targetClass; property shapes with a predicate,
sequence or inverse path; sh:minCount, sh:maxCount, sh:datatype, sh:nodeKind (IRI), sh:in,
sh:hasValue, sh:minInclusive, sh:maxInclusive, sh:lessThan, sh:lessThanOrEquals,
sh:disjoint, sh:not [sh:hasValue]; node-level sh:or of property shapes. Anything else raises,
so a shape the compiler does not understand can never be silently skipped.
Spec: https://www.w3.org/TR/shacl/#core-components"""

from __future__ import annotations

from itertools import count

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.collection import Collection

from reasoner.namespaces import SH

KNOWN = {SH.path, SH.minCount, SH.maxCount, SH.datatype, SH.nodeKind, SH["in"], SH.hasValue, SH.minInclusive,
         SH.maxInclusive, SH.lessThan, SH.lessThanOrEquals, SH.disjoint, SH["not"], SH.message, SH.severity,
         SH.name, SH.description, RDF.type}
IGNORED_NODE = {SH.targetClass, SH.property, SH["or"], SH.message, SH.severity, SH.name, SH.description, RDF.type,
                URIRef("http://www.w3.org/2000/01/rdf-schema#seeAlso")}
XSD_INTEGER = URIRef("http://www.w3.org/2001/XMLSchema#integer")
XSD_DATE = URIRef("http://www.w3.org/2001/XMLSchema#date")
# lexical forms, so ill-typed literals ("eight"^^xsd:integer) count as wrong datatype as in SHACL
LEXICAL = {XSD_INTEGER: r"^[+-]?[0-9]+$", XSD_DATE: r"^-?[0-9]{4,}-[0-9]{2}-[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})?$"}


class UnsupportedShape(ValueError):
    pass


def _n3(term) -> str:
    if isinstance(term, Literal):
        return term.n3()
    if isinstance(term, URIRef):
        return f"<{term}>"
    raise UnsupportedShape(f"cannot write {term!r} in SPARQL")


def _path(shapes: Graph, path) -> str:
    if isinstance(path, URIRef):
        return _n3(path)
    inverse = shapes.value(path, SH.inversePath)
    if inverse is not None:
        return f"^{_path(shapes, inverse)}"
    if (path, RDF.first, None) in shapes:
        return "/".join(_path(shapes, step) for step in Collection(shapes, path))
    raise UnsupportedShape(f"unsupported path {path!r}")


class _Names:
    def __init__(self):
        self._n = count()

    def __call__(self, stem: str) -> str:
        return f"?{stem}{next(self._n)}"


def _property_violations(shapes: Graph, prop, focus: str, names: _Names) -> list[str]:
    """One SPARQL boolean expression per constraint of the property shape, each true when
    that constraint is violated at ?focus."""
    unknown = set(shapes.predicates(prop)) - KNOWN
    if unknown:
        raise UnsupportedShape(f"unsupported constraint(s) {sorted(map(str, unknown))}")
    path = _path(shapes, shapes.value(prop, SH.path))
    out = []
    v = names("v")
    if (n := shapes.value(prop, SH.minCount)) is not None:
        if int(n) != 1:
            raise UnsupportedShape("sh:minCount other than 1")
        out.append(f"NOT EXISTS {{ {focus} {path} {names('x')} }}")
    if (n := shapes.value(prop, SH.maxCount)) is not None:
        a, b = names("a"), names("b")
        if int(n) != 1:
            raise UnsupportedShape("sh:maxCount other than 1")
        out.append(f"EXISTS {{ {focus} {path} {a} , {b} . FILTER ({a} != {b}) }}")
    if (dt := shapes.value(prop, SH.datatype)) is not None:
        lexical = LEXICAL.get(dt)
        check = f"(!isLITERAL({v}) || DATATYPE({v}) != {_n3(dt)}"
        check += f" || !REGEX(STR({v}), {Literal(lexical).n3()}))" if lexical else ")"
        out.append(f"EXISTS {{ {focus} {path} {v} . FILTER {check} }}")
    if (kind := shapes.value(prop, SH.nodeKind)) is not None:
        if kind != SH.IRI:
            raise UnsupportedShape("sh:nodeKind other than sh:IRI")
        w = names("w")
        out.append(f"EXISTS {{ {focus} {path} {w} . FILTER (!isIRI({w})) }}")
    if (members := shapes.value(prop, SH["in"])) is not None:
        w = names("w")
        allowed = ", ".join(_n3(m) for m in Collection(shapes, members))
        out.append(f"EXISTS {{ {focus} {path} {w} . FILTER ({w} NOT IN ({allowed})) }}")
    if (value := shapes.value(prop, SH.hasValue)) is not None:
        out.append(f"NOT EXISTS {{ {focus} {path} {_n3(value)} }}")
    for predicate, operator in ((SH.minInclusive, "<"), (SH.maxInclusive, ">")):
        if (bound := shapes.value(prop, predicate)) is not None:
            w = names("w")
            # a value that cannot be compared (ill-typed) also violates
            out.append(f"EXISTS {{ {focus} {path} {w} . FILTER (!COALESCE({w} {'>=' if operator == '<' else '<='} "
                       f"{_n3(bound)}, false)) }}")
    for predicate, operator in ((SH.lessThan, "<"), (SH.lessThanOrEquals, "<=")):
        if (other := shapes.value(prop, predicate)) is not None:
            a, b = names("a"), names("b")
            out.append(f"EXISTS {{ {focus} {path} {a} . {focus} {_n3(other)} {b} . "
                       f"FILTER (!COALESCE({a} {operator} {b}, false)) }}")
    if (other := shapes.value(prop, SH.disjoint)) is not None:
        w = names("w")
        out.append(f"EXISTS {{ {focus} {path} {w} . {focus} {_n3(other)} {w} }}")
    if (negated := shapes.value(prop, SH["not"])) is not None:
        value = shapes.value(negated, SH.hasValue)
        if value is None or set(shapes.predicates(negated)) - {SH.hasValue}:
            raise UnsupportedShape("sh:not is supported around sh:hasValue only")
        out.append(f"EXISTS {{ {focus} {path} {_n3(value)} }}")
    return out


def _as_pattern(violated: str) -> str:
    """A violation test as a graph pattern. A plain "nothing there" test becomes MINUS, an
    anti-join Oxigraph runs once for all foci, where FILTER NOT EXISTS is evaluated per
    focus (about three times slower on a thousand cases); MINUS is equivalent here since
    its pattern always binds ?focus."""
    if violated.startswith("NOT EXISTS {") and "FILTER" not in violated and violated.count("{") == 1:
        return "MINUS" + violated[len("NOT EXISTS"):]
    return f"FILTER ({violated})"


def compile_shapes(shapes: Graph) -> str:
    """One SELECT ?focus ?shape ?message listing every violation of every node shape."""
    names = _Names()
    branches = []
    for shape in sorted(shapes.subjects(RDF.type, SH.NodeShape), key=str):
        unknown = set(shapes.predicates(shape)) - IGNORED_NODE
        if unknown:
            raise UnsupportedShape(f"{shape}: unsupported node-level constraint(s) {sorted(map(str, unknown))}")
        targets = list(shapes.objects(shape, SH.targetClass))
        if len(targets) != 1:
            raise UnsupportedShape(f"{shape}: exactly one sh:targetClass is supported")
        head = f"?focus a {_n3(targets[0])} . BIND ({_n3(shape)} AS ?shape)"
        shape_message = shapes.value(shape, SH.message)
        for prop in sorted(shapes.objects(shape, SH.property), key=str):
            message = shapes.value(prop, SH.message) or shape_message or Literal("violation")
            for violated in _property_violations(shapes, prop, "?focus", names):
                branches.append(f"{{ {head} {_as_pattern(violated)} BIND ({Literal(str(message)).n3()} AS ?message) }}")
        alternatives = shapes.value(shape, SH["or"])
        if alternatives is not None:
            each = []
            for member in Collection(shapes, alternatives):
                violations = _property_violations(shapes, member, "?focus", names)
                each.append("(" + " || ".join(violations) + ")")
            message = shape_message or Literal("violation")
            branches.append(f"{{ {head} FILTER ({' && '.join(each)}) BIND ({Literal(str(message)).n3()} AS ?message) }}")
    return "SELECT ?focus ?shape ?message WHERE {\n  " + "\n  UNION\n  ".join(branches) + "\n}"
