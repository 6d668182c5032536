"""Read a FHIR R4 Bundle (or a single resource) from a JSON file and validate it with the
fhir.resources models. fhir.resources 8 carries R5, R4B and STU3 models and no R4 ones;
R4B (4.3) is R4 (4.0.1) for every resource read here: its changes are confined to the
medication-definition, evidence-based-medicine and subscription modules and Substance
(FHIR R4B, "R4B explanation"), so the R4B models validate R4 bundles. A bundle that is not valid FHIR is an InputError naming the file and the
element at fault (pydantic's location); nothing is ever fetched (references resolve
inside the bundle or not at all)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from reasoner.cases.loader import parse_json, read_text_file
from reasoner.errors import InputError

READ_ALONE = ("Claim", "ServiceRequest", "MedicationRequest")  # a resource that can be a bundle's request by itself


@dataclass
class Bundle:
    """The validated resources of a bundle, in entry order, and how references find them."""
    source: str
    id: str | None
    identifier: str | None
    resources: list  # fhir.resources R4B models
    by_reference: dict

    def of_type(self, name: str) -> list:
        return [r for r in self.resources if r.get_resource_type() == name]

    def resolve(self, reference) -> object | None:
        """The bundle resource a Reference points to (by fullUrl, Type/id or a URL ending in
        Type/id), or None: a reference outside the bundle is never fetched."""
        target = getattr(reference, "reference", None) if reference is not None else None
        if not target:
            return None
        if target in self.by_reference:
            return self.by_reference[target]
        tail = "/".join(target.rstrip("/").split("/")[-2:])
        return self.by_reference.get(tail)


def looks_like_bundle(text: str) -> bool:
    """True when the text is a JSON object with "resourceType": "Bundle" (decide reads
    such a .json file as FHIR rather than as a JSON case)."""
    try:
        document = json.loads(text, parse_int=len)  # numbers do not matter here; thousands of digits must not fail
    except (ValueError, RecursionError):
        return False
    return isinstance(document, dict) and document.get("resourceType") == "Bundle"


def read_bundle(path: Path) -> Bundle:
    source = str(path)
    text = read_text_file(path, "FHIR bundle")
    document = parse_json(text, source)
    if not isinstance(document, dict) or not isinstance(document.get("resourceType"), str):
        raise InputError(source, "not a FHIR resource: a JSON object with a resourceType is expected", field="resourceType")
    kind = document["resourceType"]
    if kind != "Bundle":
        if kind not in READ_ALONE:
            raise InputError(source, f"a FHIR Bundle is expected, not a {kind[:40]}", field="resourceType")
        document = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": document}]}
    _refuse_unknown_resources(document, source)
    model = _validated(document, source)
    resources, by_reference = [], {}
    for entry in model.entry or []:
        resource = entry.resource
        if resource is None:
            continue
        resources.append(resource)
        if entry.fullUrl:
            by_reference[entry.fullUrl] = resource
        if resource.id:
            by_reference[f"{resource.get_resource_type()}/{resource.id}"] = resource
    identifier = model.identifier.value if model.identifier is not None else None
    return Bundle(source, model.id, identifier, resources, by_reference)


def _refuse_unknown_resources(document: dict, source: str) -> None:
    """An entry whose resourceType R4 does not define (the models end in a KeyError there)."""
    from fhir.resources.R4B import get_fhir_model_class

    entries = document.get("entry")
    for n, entry in enumerate(entries if isinstance(entries, list) else []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        if resource is None or kind is None:
            continue  # left to the model, which names what is missing
        try:
            get_fhir_model_class(kind if isinstance(kind, str) else "")
        except ValueError:
            raise InputError(source, f"not a FHIR R4 resource type: {json.dumps(kind)[:60]}",
                             field=f"entry[{n}].resource.resourceType") from None


def _validated(document: dict, source: str):
    from pydantic import ValidationError

    from fhir.resources.R4B.bundle import Bundle as BundleModel

    try:
        return BundleModel.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        count = exc.error_count()
        more = f" (and {count - 1} more problems)" if count > 1 else ""
        raise InputError(source, f"not valid FHIR R4: {first['msg']}{more}", field=_location(first["loc"], document)) from None
    except RecursionError:
        raise InputError(source, "nested too deeply to validate") from None
    except (ValueError, TypeError, KeyError) as exc:  # the models raise these outside pydantic's wrapper too
        raise InputError(source, f"not valid FHIR R4: {' '.join(str(exc).split())[:200]}") from None


def _location(loc: tuple, document: dict) -> str:
    """entry[0].resource.quantityQuantity.value, with the resource type where one is named:
    entry[0].resource(ServiceRequest).quantityQuantity.value."""
    parts, node = [], document
    for step in loc:
        if isinstance(step, int):
            parts.append(f"[{step}]")
            node = node[step] if isinstance(node, list) and step < len(node) else None
            continue
        node = node.get(step) if isinstance(node, dict) else None
        kind = node.get("resourceType") if isinstance(node, dict) and step == "resource" else None
        parts.append(("." if parts else "") + str(step) + (f"({kind})" if isinstance(kind, str) else ""))
    return "".join(parts) or "Bundle"
