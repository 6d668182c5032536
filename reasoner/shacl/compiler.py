"""Compile SHACL Core shapes into one SPARQL SELECT that finds every validation result, so
validation runs inside the same store as the rest of the pipeline, over thousands of cases
at once. pyshacl stays the reference: tests/test_shacl_core_conformance.py runs the W3C
SHACL Core suite through both, and tests/test_batch.py compares reports on the case library.

Each row of the query is (?focus ?value ?path ?c): ?c numbers the constraint that produced
it (`Compiled.sources[c]`: source shape, result path, constraint component, severity,
messages); ?path is bound only where the path is not fixed by the shape (sh:closed).
reasoner/shacl/report.py turns rows into a standard sh:ValidationReport.

Supported: targets (sh:targetClass with rdfs:subClassOf*, implicit class targets,
sh:targetNode, sh:targetSubjectsOf, sh:targetObjectsOf), node and property shapes (also
top-level property shapes and nested sh:property), every SHACL path form, sh:deactivated,
sh:severity, sh:message, and the components sh:class, sh:datatype, sh:nodeKind,
sh:minCount, sh:maxCount, sh:min/maxExclusive, sh:min/maxInclusive, sh:min/maxLength,
sh:pattern (with sh:flags), sh:languageIn, sh:in, sh:hasValue, sh:equals, sh:disjoint,
sh:lessThan, sh:lessThanOrEquals, sh:node, sh:not, sh:and, sh:or, sh:xone, sh:closed.
Anything else raises UnsupportedShape naming the feature, so a shape the compiler does not
understand is never silently skipped. Terms are compared with sameTerm, as SHACL does (1 and
1.0 are different values). Spec: https://www.w3.org/TR/shacl/#core-components"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations, count
from typing import NamedTuple

import pyoxigraph as ox
from rdflib import OWL, RDF, RDFS, XSD, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection

from reasoner.namespaces import SH

TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
# Not constraints: what SHACL lets a shape say besides its constraints.
NON_VALIDATING = {SH.message, SH.severity, SH.name, SH.description, SH.deactivated, SH.order, SH.group,
                  SH.defaultValue, SH.path, SH.property, SH.flags, SH.ignoredProperties, *TARGETS}
NODE_KINDS = {SH.IRI: "isIRI({v})", SH.BlankNode: "isBLANK({v})", SH.Literal: "isLITERAL({v})",
              SH.BlankNodeOrIRI: "!isLITERAL({v})", SH.BlankNodeOrLiteral: "!isIRI({v})",
              SH.IRIOrLiteral: "!isBLANK({v})"}
# Datatypes whose lexical space SPARQL can check: a cast of the lexical form fails exactly
# when the literal is ill-typed ("maybe"^^xsd:boolean, "2020-13-45"^^xsd:date).
CASTABLE = {XSD.boolean, XSD.integer, XSD.decimal, XSD.double, XSD.float, XSD.date, XSD.dateTime}
ANY_LEXICAL = {XSD.string}
NAMESPACES = (str(XSD), str(RDF))
MULTI_VALUED_SINGLE = {SH.pattern, SH.flags, SH.severity, SH.path, SH.closed, SH.ignoredProperties}


class UnsupportedShape(ValueError):
    pass


class Violation(NamedTuple):
    """Violations of one constraint: the solutions of `pattern` (a group pattern, maybe
    empty) for which `test` holds, with the focus variable bound from outside."""
    pattern: str
    test: str | None
    value: str | None = None     # the variable holding sh:value
    path: str | None = None      # the variable holding sh:resultPath, when the shape does not fix it
    other: str | None = None     # one result per value of this variable too (sh:lessThan pairs)


@dataclass(frozen=True)
class Source:
    """What the results of one compiled constraint report besides focus node and value."""
    shape: object        # rdflib term of the shape
    path: object         # its sh:path node, None for node shapes (or when the row gives it)
    component: URIRef
    severity: URIRef
    messages: tuple


@dataclass(frozen=True)
class Compiled:
    branches: tuple      # (projected variables, pattern) per constraint
    sources: tuple       # Source per ?c
    shapes: Graph

    def where(self, graph: str | None = None) -> str:
        """The graph pattern; its solutions bind ?focus, ?c and maybe ?value, ?path. With a
        graph variable, each case graph on its own (and that variable bound): Oxigraph does
        not evaluate a sub-SELECT inside GRAPH ?g on ?g's graph, so GRAPH goes inside."""
        if not self.branches:
            return "FILTER (false)"
        return _balanced_union([
            f"{{ SELECT DISTINCT {keep} WHERE {{ {body} }} }}" if graph is None else
            f"{{ SELECT DISTINCT {graph} {keep} WHERE {{ GRAPH {graph} {{ {body} }} }} }}"
            for keep, body in self.branches])

    @property
    def query(self) -> str:
        return f"SELECT ?focus ?value ?path ?c WHERE {{\n  {self.where()}\n}}"


def _balanced_union(groups: list[str]) -> str:
    """The groups as one UNION nested as a balanced tree ({ {A UNION B} UNION {C UNION D} }):
    Oxigraph takes time quadratic in the length of a flat A UNION B UNION C ... chain to
    prepare a query (50 ms for the 87 branches of the case-input shapes, before reading a
    triple, in every chunk; 15 ms balanced). The solutions are the same."""
    if len(groups) == 1:
        return groups[0]
    half = len(groups) // 2
    return f"{{ {_balanced_union(groups[:half])}\n  UNION\n  {_balanced_union(groups[half:])} }}"


def _n3(term) -> str:
    if isinstance(term, Literal) and not _store_keeps(term):
        raise UnsupportedShape(f"the literal {term.n3()} in the shapes: the store rewrites it to its canonical form, "
                               "so sh:value, sh:focusNode and sh:in/sh:hasValue would not be that term")
    if isinstance(term, (Literal, URIRef)):
        return term.n3()
    raise UnsupportedShape(f"cannot write {term!r} in SPARQL (a blank node as a constraint value)")


@lru_cache(maxsize=None)
def _store_keeps(term: Literal) -> bool:
    """Oxigraph writes numeric literals in canonical form ("4.0"^^xsd:decimal becomes "4")."""
    row = next(iter(_ROUND_TRIP.query(f"SELECT ?x WHERE {{ VALUES ?x {{ {term.n3()} }} }}")))
    got = row["x"]
    return (isinstance(got, ox.Literal) and got.value == str(term) and (got.language or None) == term.language
            and got.datatype.value == str(term.datatype or (RDF.langString if term.language else XSD.string)))


_ROUND_TRIP = ox.Store()


def _short(term) -> str:
    text = str(term)
    return "sh:" + text[len(str(SH)):] if text.startswith(str(SH)) else f"<{text}>"


class _Compiler:
    def __init__(self, shapes: Graph):
        self.g = shapes
        self._n = count()
        self.sources: list[Source] = []
        self.branches: list[str] = []

    def var(self, stem: str) -> str:
        return f"?{stem}{next(self._n)}"

    # --- reading the shapes graph ---------------------------------------------------------

    def one(self, shape, predicate):
        values = list(self.g.objects(shape, predicate))
        if len(values) > 1:
            raise UnsupportedShape(f"{shape}: more than one {_short(predicate)}")
        return values[0] if values else None

    def members(self, node) -> list:
        if node != RDF.nil and (node, RDF.first, None) not in self.g:
            raise UnsupportedShape(f"{node}: expected an RDF list")
        return list(Collection(self.g, node))

    def path(self, path) -> str:
        g = self.g
        if isinstance(path, URIRef):
            return _n3(path)
        if (path, RDF.first, None) in g:
            return "(" + "/".join(self.path(step) for step in self.members(path)) + ")"
        for predicate, write in ((SH.inversePath, "^({})"), (SH.zeroOrMorePath, "({})*"),
                                 (SH.oneOrMorePath, "({})+"), (SH.zeroOrOnePath, "({})?")):
            if (inner := g.value(path, predicate)) is not None:
                return write.format(self.path(inner))
        if (alternatives := g.value(path, SH.alternativePath)) is not None:
            return "(" + "|".join(self.path(step) for step in self.members(alternatives)) + ")"
        raise UnsupportedShape(f"unsupported sh:path {path!r}")

    def check_supported(self, shape) -> None:
        for predicate in set(self.g.predicates(shape)):
            if str(predicate).startswith(str(SH)) and predicate not in NON_VALIDATING and predicate not in COMPONENTS:
                raise UnsupportedShape(f"{shape}: unsupported constraint {_short(predicate)}")
        for predicate in MULTI_VALUED_SINGLE:
            self.one(shape, predicate)

    def deactivated(self, shape) -> bool:
        return self.one(shape, SH.deactivated) == Literal(True)

    # --- constraints as violation patterns ------------------------------------------------
    # A violation pattern is a group pattern whose solutions, with the focus variable bound
    # from outside, are the violations: (pattern, value variable or None, path variable or None).

    def violations(self, shape, focus: str, stack: tuple) -> list[tuple[URIRef, Violation]]:
        self.check_supported(shape)
        path_node = self.one(shape, SH.path)
        if path_node is not None:
            value = self.var("v")
            values = f"{focus} {self.path(path_node)} {value} ."
        else:
            value, values = focus, ""
        out = []
        for predicate, component in COMPONENTS.items():
            for parameter in sorted(self.g.objects(shape, predicate), key=str):
                for violation in component(self, shape, parameter, focus, value, values, path_node, stack):
                    out.append((_component_iri(predicate), violation))
        return out

    def conforms(self, shape, node: str, stack: tuple) -> str:
        """A SPARQL boolean expression: `node` conforms to `shape`."""
        if shape in stack:
            raise UnsupportedShape(f"{shape}: recursive shapes are not supported")
        if self.deactivated(shape):
            return "true"
        stack = stack + (shape,)
        parts = [f"!({v.test})" if not v.pattern else f"NOT EXISTS {{ {_filtered(v)} }}"
                 for _, v in self.violations(shape, node, stack)]
        path_node = self.one(shape, SH.path)
        for prop in sorted(self.g.objects(shape, SH.property), key=str):
            if path_node is None:
                parts.append(self.conforms(prop, node, stack))
            else:
                v = self.var("v")
                parts.append(f"NOT EXISTS {{ {node} {self.path(path_node)} {v} . "
                             f"FILTER (!({self.conforms(prop, v, stack)})) }}")
        return "(" + " && ".join(parts) + ")" if parts else "true"

    # --- reported shapes ------------------------------------------------------------------

    def report(self, shape, foci, parents: tuple, stack: tuple) -> None:
        """Branches for every result of `shape` at the focus nodes `foci(var)` binds; `parents`
        are the outer focus variables of nested property shapes (a value node reached from
        two parents gives a result for each, as SHACL validates it once per parent)."""
        if shape in stack:
            raise UnsupportedShape(f"{shape}: recursive shapes are not supported")
        if self.deactivated(shape):
            return
        stack = stack + (shape,)
        severity = self.one(shape, SH.severity) or SH.Violation
        messages = tuple(sorted(self.g.objects(shape, SH.message), key=lambda m: (str(m), m.language or "")))
        path_node = self.one(shape, SH.path)
        for component, v in self.violations(shape, "?focus", stack):
            c = len(self.sources)
            self.sources.append(Source(shape, None if v.path else path_node, component, severity, messages))
            binds = [f"({c} AS ?c)"] + [f"({var} AS ?{name})" for var, name in
                                         ((v.value, "value"), (v.path, "path")) if var is not None]
            keep = " ".join(["?focus", "?value", "?path", "?c", *parents] + ([v.other] if v.other else []))
            self.branches.append((keep, f"{foci('?focus')} {_as_pattern(v)} " + " ".join(f"BIND {b}" for b in binds)))
        for prop in sorted(self.g.objects(shape, SH.property), key=str):
            if path_node is None:
                self.report(prop, foci, parents, stack)
            else:   # the value nodes of this property shape are the nested one's focus nodes
                parent, path = self.var("f"), self.path(path_node)
                self.report(prop, lambda v, parent=parent, path=path: f"{foci(parent)} {parent} {path} {v} .",
                            parents + (parent,), stack)

    def targets(self, shape):
        """A function from a variable to the pattern binding it to each focus node once."""
        found = []
        nodes = sorted(self.g.objects(shape, SH.targetNode), key=str)
        if nodes:
            if any(isinstance(node, BNode) for node in nodes):
                raise UnsupportedShape(f"{shape}: sh:targetNode with a blank node")
            found.append(lambda v, listed=" ".join(_n3(n) for n in nodes): f"VALUES {v} {{ {listed} }}")
        classes = set(self.g.objects(shape, SH.targetClass))
        if {RDFS.Class, OWL.Class} & set(self.g.objects(shape, RDF.type)):
            classes.add(shape)      # implicit class target
        for cls in sorted(classes, key=str):
            t = self.var("t")
            found.append(lambda v, t=t, cls=_n3(cls): f"{t} <{RDFS.subClassOf}>* {cls} . {v} a {t} .")
        for p in sorted(self.g.objects(shape, SH.targetSubjectsOf), key=str):
            found.append(lambda v, p=_n3(p): f"{v} {p} [] .")
        for p in sorted(self.g.objects(shape, SH.targetObjectsOf), key=str):
            found.append(lambda v, p=_n3(p): f"[] {p} {v} .")
        if len(found) == 1:
            return found[0]
        # several targets: a UNION; a focus node found twice gives the same rows, which the
        # DISTINCT of each branch (Compiled.where) folds. Not a sub-SELECT: inside GRAPH ?g
        # Oxigraph evaluates one on the default graph, leaving every case graph unvalidated.
        return lambda v: "{ " + " UNION ".join("{ " + f(v) + " }" for f in found) + " }"


def _filtered(v: Violation) -> str:
    return v.pattern + (f" FILTER ({v.test})" if v.test else "")


def _as_pattern(v: Violation) -> str:
    """A plain "nothing there" test becomes MINUS, an anti-join Oxigraph runs once for all
    foci, where FILTER NOT EXISTS is evaluated per focus (about three times slower on a
    thousand cases); equivalent here since its pattern shares only ?focus with the rest."""
    prefix = "NOT EXISTS { ?focus "
    if not v.pattern and v.test.startswith(prefix) and v.test.count("{") == 1 and "FILTER" not in v.test:
        return "MINUS" + v.test[len("NOT EXISTS"):]
    return _filtered(v)


def _component_iri(predicate: URIRef) -> URIRef:
    name = str(predicate)[len(str(SH)):]
    return SH[name[0].upper() + name[1:] + "ConstraintComponent"]


# --- the components ---------------------------------------------------------------------
# Each: (compiler, shape, parameter, focus var, value var, values pattern, path node, stack)
# -> [(violation pattern, value var or None, path var or None)].

def _each_value(condition):
    """A component checked value by value: a violation per value node where `condition`
    (a SPARQL expression over the value) holds."""
    def component(c, shape, parameter, focus, value, values, path, stack):
        return [Violation(values, condition(c, shape, parameter, value, stack), value)]
    return component


def _class(c, shape, parameter, v, stack):
    return f"NOT EXISTS {{ {v} <{RDF.type}>/<{RDFS.subClassOf}>* {_n3(parameter)} }}"


def _datatype(c, shape, dt, v, stack):
    if not isinstance(dt, URIRef):
        raise UnsupportedShape(f"sh:datatype {dt!r}")
    if dt == RDF.langString:
        return f"!(isLITERAL({v}) && LANG({v}) != \"\")"
    typed = f"isLITERAL({v}) && sameTerm(DATATYPE({v}), {_n3(dt)})"
    if dt in CASTABLE:
        return f"!({typed} && COALESCE(isLITERAL({_n3(dt)}(STR({v}))), false))"
    if dt in ANY_LEXICAL or not str(dt).startswith(NAMESPACES):
        return f"!({typed})"
    # Oxigraph also stores derived types (xsd:byte, xsd:int) as their primitive type
    raise UnsupportedShape(f"sh:datatype {dt}: its lexical space cannot be checked in the store")


def _node_kind(c, shape, kind, v, stack):
    if kind not in NODE_KINDS:
        raise UnsupportedShape(f"sh:nodeKind {kind!r}")
    return "!" + NODE_KINDS[kind].format(v=v)


def _compare(operator):
    # a value that cannot be compared (ill-typed, another type) also violates
    return lambda c, shape, bound, v, stack: f"!COALESCE({v} {operator} {_n3(bound)}, false)"


def _length(operator):
    def condition(c, shape, n, v, stack):
        return f"isBLANK({v}) || !COALESCE(STRLEN(STR({v})) {operator} {int(n)}, false)"
    return condition


def _pattern(c, shape, pattern, v, stack):
    flags = c.one(shape, SH.flags)
    args = f"STR({v}), {Literal(str(pattern)).n3()}" + (f", {Literal(str(flags)).n3()}" if flags else "")
    return f"isBLANK({v}) || !COALESCE(REGEX({args}), false)"


def _language_in(c, shape, tags, v, stack):
    tests = " || ".join(f"LANGMATCHES(LANG({v}), {Literal(str(t)).n3()})" for t in c.members(tags))
    return f"!COALESCE({tests or 'false'}, false)"


def _in(c, shape, members, v, stack):
    return "!(" + (" || ".join(f"sameTerm({v}, {_n3(m)})" for m in c.members(members)) or "false") + ")"


def _node(c, shape, other, v, stack):
    return f"!({c.conforms(other, v, stack)})"


def _not(c, shape, other, v, stack):
    return c.conforms(other, v, stack)


def _and(c, shape, shapes, v, stack):
    return "!(" + " && ".join([c.conforms(s, v, stack) for s in c.members(shapes)] or ["true"]) + ")"


def _or(c, shape, shapes, v, stack):
    return "!(" + " || ".join([c.conforms(s, v, stack) for s in c.members(shapes)] or ["false"]) + ")"


def _xone(c, shape, shapes, v, stack):
    return "(" + " + ".join([f"IF({c.conforms(s, v, stack)}, 1, 0)" for s in c.members(shapes)] or ["0"]) + ") != 1"


def _distinct_values(c, focus, path, n) -> str:
    """A pattern that matches when `focus` has at least n distinct values on the path."""
    names = [c.var("x") for _ in range(n)]
    different = " && ".join(f"!sameTerm({a}, {b})" for a, b in combinations(names, 2))
    return f"{focus} {c.path(path)} {', '.join(names)} ." + (f" FILTER ({different})" if different else "")


def _min_count(c, shape, n, focus, value, values, path, stack):
    if path is None:
        raise UnsupportedShape(f"{shape}: sh:minCount on a node shape")
    n = _count(n)
    return [Violation("", f"NOT EXISTS {{ {_distinct_values(c, focus, path, n)} }}")] if n else []


def _max_count(c, shape, n, focus, value, values, path, stack):
    if path is None:
        raise UnsupportedShape(f"{shape}: sh:maxCount on a node shape")
    return [Violation("", f"EXISTS {{ {_distinct_values(c, focus, path, _count(n) + 1)} }}")]


def _count(n) -> int:
    if not isinstance(n, Literal) or not isinstance(n.toPython(), int) or n.toPython() < 0:
        raise UnsupportedShape(f"count {n!r} is not a non-negative integer")
    if n.toPython() > 8:
        raise UnsupportedShape(f"sh:minCount/sh:maxCount of {n} (at most 8 supported)")
    return n.toPython()


def _has_value(c, shape, expected, focus, value, values, path, stack):
    if path is None:
        return [Violation("", f"!sameTerm({focus}, {_n3(expected)})")]
    return [Violation("", f"NOT EXISTS {{ {focus} {c.path(path)} {_n3(expected)} }}")]


def _equals(c, shape, other, focus, value, values, path, stack):
    w = c.var("w")
    theirs = f"{focus} {_n3(other)} {w} ."
    if path is None:
        return [Violation("", f"NOT EXISTS {{ {focus} {_n3(other)} {focus} }}", focus),
                Violation(theirs, f"!sameTerm({w}, {focus})", w)]
    return [Violation(values, f"NOT EXISTS {{ {focus} {_n3(other)} {value} }}", value),
            Violation(theirs, f"NOT EXISTS {{ {focus} {c.path(path)} {w} }}", w)]


def _disjoint(c, shape, other, focus, value, values, path, stack):
    return [Violation(f"{values} {focus} {_n3(other)} {value} .", None, value)]


def _less(operator):
    def component(c, shape, other, focus, value, values, path, stack):
        if path is None:
            raise UnsupportedShape(f"{shape}: sh:lessThan/sh:lessThanOrEquals on a node shape")
        w = c.var("w")
        # one result per pair of values, as SHACL gives
        return [Violation(f"{values} {focus} {_n3(other)} {w} .", f"!COALESCE({value} {operator} {w}, false)",
                          value, other=w)]
    return component


def _closed(c, shape, closed, focus, value, values, path, stack):
    if closed != Literal(True):
        return []
    if path is not None:
        raise UnsupportedShape(f"{shape}: sh:closed on a property shape")
    allowed = {c.g.value(p, SH.path) for p in c.g.objects(shape, SH.property)}
    if (ignored := c.one(shape, SH.ignoredProperties)) is not None:
        allowed |= set(c.members(ignored))
    allowed = sorted((p for p in allowed if isinstance(p, URIRef)), key=str)
    p, w = c.var("p"), c.var("w")
    test = f"{p} NOT IN ({', '.join(map(_n3, allowed))})" if allowed else None
    return [Violation(f"{focus} {p} {w} .", test, w, p)]


COMPONENTS = {
    SH["class"]: _each_value(_class), SH.datatype: _each_value(_datatype), SH.nodeKind: _each_value(_node_kind),
    SH.minCount: _min_count, SH.maxCount: _max_count,
    SH.minExclusive: _each_value(_compare(">")), SH.minInclusive: _each_value(_compare(">=")),
    SH.maxExclusive: _each_value(_compare("<")), SH.maxInclusive: _each_value(_compare("<=")),
    SH.minLength: _each_value(_length(">=")), SH.maxLength: _each_value(_length("<=")),
    SH.pattern: _each_value(_pattern), SH.languageIn: _each_value(_language_in),
    SH.equals: _equals, SH.disjoint: _disjoint, SH.lessThan: _less("<"), SH.lessThanOrEquals: _less("<="),
    SH["in"]: _each_value(_in), SH.hasValue: _has_value,
    SH.node: _each_value(_node), SH["not"]: _each_value(_not), SH["and"]: _each_value(_and),
    SH["or"]: _each_value(_or), SH.xone: _each_value(_xone), SH.closed: _closed,
}


def _shapes_with_targets(shapes: Graph) -> list:
    found = {s for t in TARGETS for s in shapes.subjects(t, None)}
    for kind in (SH.NodeShape, SH.PropertyShape):
        found |= {s for s in shapes.subjects(RDF.type, kind) if {RDFS.Class, OWL.Class} & set(shapes.objects(s, RDF.type))}
    return sorted(found, key=lambda s: (isinstance(s, BNode), str(s)))


def compile_report(shapes: Graph) -> Compiled:
    """Every validation result of every shape with a target, as one SELECT (see module doc)."""
    if any(shapes.subjects(RDF.type, SH.ConstraintComponent)) or any(shapes.subjects(SH.sparql, None)):
        raise UnsupportedShape("SHACL-SPARQL (sh:sparql, sh:ConstraintComponent) is not supported")
    if any(shapes.subjects(SH.target, None)):
        raise UnsupportedShape("sh:target (SPARQL-based targets) is not supported")
    compiler = _Compiler(shapes)
    for shape in _shapes_with_targets(shapes):
        compiler.report(shape, compiler.targets(shape), (), ())
    return Compiled(tuple(compiler.branches), tuple(compiler.sources), shapes)


def compile_shapes(shapes: Graph) -> str:
    """The older form, (?focus ?shape ?message) per result, from the same compilation."""
    compiled = compile_report(shapes)
    rows = []
    for c, source in enumerate(compiled.sources):
        shape = _n3(source.shape) if isinstance(source.shape, URIRef) else "UNDEF"
        message = Literal(str(source.messages[0])).n3() if source.messages else '"violation"'
        rows.append(f"({c} {shape} {message})")
    return (f"SELECT ?focus ?shape ?message WHERE {{ {{ {compiled.query} }}\n"
            f"  VALUES (?c ?shape ?message) {{ {' '.join(rows)} }} }}")
