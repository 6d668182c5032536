"""Benchmark: our batch pipeline against the naive pipeline and a plain-Python floor, on the
same synthetic cases, in one run.

    python benchmarks/run.py                 # 1,000 / 10,000 / 100,000 cases
    python benchmarks/run.py --cases 10000   # one size
    python benchmarks/run.py --json          # machine-readable figures
    python benchmarks/run.py --repeat 3      # fastest of three pipeline runs per size

- pipeline: `decide --batch` as users run it (parse N-Quads, input checks, applicability,
  validation by compiled SHACL, decisions with explanation, JSON lines written), 2 jobs.
- naive: the same queries and shapes with general-purpose tools: one merged rdflib graph,
  rdflib SPARQL for every stage, pyshacl for validation. Skipped above --naive-max cases
  (default 1,000: it takes minutes beyond that on this machine).
- floor: a plain-Python loop over the same quads doing the visit arithmetic only; what no
  pipeline can beat.
- phases: where the pipeline's time goes, as CPU seconds per 1,000 cases in one process
  (read: the parent splitting the input into cases; then, in a worker, input parse and
  checks, derivation, validation, decisions, output rows), on the first 1,000 cases (JSON
  key `phases_cpu_s_per_1000`).
- storing alone: the quads a run stores per case (its own, in the input check's store and the
  pipeline's, and all that is derived), inserted into a fresh store with nothing evaluated:
  the floor of any pipeline that keeps its derivations in Oxigraph.
Each phase runs in a child process so its peak memory (RSS, including its workers) is its
own. Cases are generated with a fixed seed, so runs repeat."""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GR = "https://w3id.org/guideline-reasoner/ontology#"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
INT = "^^<http://www.w3.org/2001/XMLSchema#integer>"
DATE = "^^<http://www.w3.org/2001/XMLSchema#date>"
# (treatment, weight, body parts) — roughly the mix of disputed items in 2016-17 letters
MIX = [("ChiropracticManipulation", 8, ["LumbarSpine", "CervicalSpine", "Knee"]),
       ("PhysicalTherapy", 14, ["LumbarSpine", "Shoulder", "Knee", "CervicalSpine"]),
       ("MassageTherapy", 3, ["LumbarSpine"]), ("Acupuncture", 6, ["LumbarSpine", "CervicalSpine"]),
       ("MagneticResonanceImaging", 22, ["LumbarSpine", "CervicalSpine", "Shoulder", "Knee"]),
       ("Electromyography", 8, ["LowerExtremity", "UpperExtremity"]), ("XRay", 5, ["LumbarSpine", "Hip"]),
       ("Opioid", 10, []), ("NSAID", 5, []), ("ProtonPumpInhibitor", 5, []), ("CompoundedTopical", 6, []),
       ("MuscleRelaxant", 5, []), ("EpiduralSteroidInjection", 3, ["LumbarSpine"])]
DIAGNOSES = ["LumbarDiscDisorder", "LumbarSprainStrain", "CervicalSprainStrain", "MyalgiaMyositis",
             "LumbarRadiculopathy", "RotatorCuffSyndrome", "KneeSprainStrain", "LowBackPain"]
FINDINGS = ["NeurologicalDeficit", "RadiculopathyOnExamination", "MuscleSpasm", "GastrointestinalRiskFactor",
            "SurgicalCandidate", "FourAsDocumented"]
OUTCOMES = ["ObjectiveFunctionalImprovement", "TemporaryReliefOnly", "OutcomeNotDocumented"]


def generate(n: int, seed: int, path: Path) -> None:
    """n synthetic cases as N-Quads, one named graph per case."""
    rng = random.Random(seed)
    treatments = [t for t, w, _ in MIX for _ in range(w)]
    regions = {t: r for t, _, r in MIX}
    with open(path, "w") as out:
        for i in range(n):
            base = f"https://w3id.org/guideline-reasoner/synthetic/{seed}/{i}#"
            g = f"<{base}case>"
            lines = [(f"<{base}case>", RDF_TYPE, f"<{GR}Case>"),
                     (f"<{base}case>", f"<{GR}injuryDate>", f'"20{rng.randint(10, 16)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"{DATE}')]
            for d in rng.sample(DIAGNOSES, rng.randint(1, 2)):
                lines.append((f"<{base}case>", f"<{GR}hasDiagnosis>", f"<{GR}{d}>"))
            for f in rng.sample(FINDINGS, rng.randint(0, 2)):
                lines.append((f"<{base}case>", f"<{GR}hasFinding>", f"<{GR}{f}>"))
            if rng.random() < 0.7:
                lines.append((f"<{base}case>", f"<{GR}failedConservativeCareWeeks>", f'"{rng.randint(1, 30)}"{INT}'))
            for e in range(rng.randint(0, 2)):
                ep = f"<{base}episode-{e}>"
                lines += [(f"<{base}case>", f"<{GR}hasTreatmentEpisode>", ep), (ep, RDF_TYPE, f"<{GR}TreatmentEpisode>"),
                          (ep, f"<{GR}treatment>", f"<{GR}{rng.choice(treatments)}>"),
                          (ep, f"<{GR}visits>", f'"{rng.randint(1, 12)}"{INT}')]
                if rng.random() < 0.6:
                    lines.append((ep, f"<{GR}functionalOutcome>", f"<{GR}{rng.choice(OUTCOMES)}>"))
            for r in range(rng.randint(1, 3)):
                req = f"<{base}request-{r}>"
                treatment = rng.choice(treatments)
                lines += [(f"<{base}case>", f"<{GR}hasRequest>", req), (req, RDF_TYPE, f"<{GR}TreatmentRequest>"),
                          (req, f"<{GR}treatment>", f"<{GR}{treatment}>"),
                          (req, f"<{GR}quantity>", f'"{rng.randint(1, 12)}"{INT}'),
                          (req, f"<{GR}requestDate>", f'"2017-01-{rng.randint(10, 28)}"{DATE}')]
                if regions[treatment] and rng.random() < 0.8:  # a documentation gap one time in five
                    lines.append((req, f"<{GR}bodyPart>", f"<{GR}{rng.choice(regions[treatment])}>"))
            out.write("".join(f"{s} {p} {o} {g} .\n" for s, p, o in lines))


def _peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def run_pipeline(path: str) -> tuple[float, float]:
    from reasoner.pipeline import batch
    from reasoner.kb.knowledge import KnowledgeBase

    kb = KnowledgeBase().closure_ntriples
    start = time.perf_counter()
    with tempfile.TemporaryFile("w") as out:
        batch.write_records(batch.decide_batch([Path(path)], kb, jobs=2, chunk_size=batch.CHUNK), out, nquads=False)
    return time.perf_counter() - start, _peak_mb()


def run_naive(path: str) -> tuple[float, float]:
    from pyshacl import validate
    from rdflib import Dataset, Graph

    from reasoner.pipeline import queries
    from reasoner.pipeline.engine import requirement_shapes
    from reasoner.kb.knowledge import KnowledgeBase

    kb = KnowledgeBase().closure_ntriples
    start = time.perf_counter()
    dataset = Dataset()
    dataset.parse(path, format="nquads")
    merged = Graph()
    for graph in dataset.graphs():
        merged += graph
    merged.parse(data=kb, format="nt")
    for stage in queries.DERIVATION_STAGES:
        for query in queries.stage(stage):
            merged += merged.query(query.text).graph
    _, report, _ = validate(merged, shacl_graph=requirement_shapes(), inference="none")
    merged += report
    for stage in queries.DECISION_STAGES:
        for query in queries.stage(stage):
            merged += merged.query(query.text).graph
    merged.serialize(format="nt")
    return time.perf_counter() - start, _peak_mb()


def run_floor(path: str) -> tuple[float, float]:
    """Visit arithmetic over the quads in plain Python: prior visits of the treatment plus
    the quantity against a fixed limit. No applicability, no explanation."""
    start = time.perf_counter()
    visits, treatment_of, quantity, episodes, requests = {}, {}, {}, {}, {}
    with open(path) as quads:
        for line in quads:
            s, p, o, _ = line.split(" ", 3)
            if p.endswith("#treatment>"):
                treatment_of[s] = o
            elif p.endswith("#visits>"):
                visits[s] = int(o.split('"')[1])
            elif p.endswith("#quantity>"):
                quantity[s] = int(o.split('"')[1])
            elif p.endswith("#hasTreatmentEpisode>"):
                episodes.setdefault(s, []).append(o)
            elif p.endswith("#hasRequest>"):
                requests.setdefault(s, []).append(o)
    outcomes = {}
    for case, reqs in requests.items():
        for req in reqs:
            prior = sum(visits.get(e, 0) for e in episodes.get(case, []) if treatment_of.get(e) == treatment_of.get(req))
            outcomes[req] = prior + quantity.get(req, 0) <= 10
    return time.perf_counter() - start, _peak_mb()


def run_phases(path: str, limit: int = 1000) -> dict:
    """Where the pipeline's time goes: CPU seconds per phase per 1,000 cases, one process."""
    from reasoner.pipeline import batch
    from reasoner.kb.knowledge import KnowledgeBase

    return batch.phase_seconds([Path(path)], KnowledgeBase().closure_ntriples, limit)


def run_store_floor(path: str, limit: int = 1000) -> dict:
    """Storing alone: the quads a run stores for the first `limit` cases (each case's own,
    once in the input check's store and once in the pipeline's, and every triple derived
    from it), inserted into a fresh in-memory Oxigraph store with nothing evaluated. What
    no pipeline that keeps its derivations in the store can beat (JSON keys
    `stored_quads_per_case`, `store_floor_cpu_s_per_1000`)."""
    from functools import partial
    from itertools import islice

    import pyoxigraph as ox

    from reasoner.kb.knowledge import KnowledgeBase
    from reasoner.namespaces import BATCH_CASE
    from reasoner.pipeline import batch, run as pipeline
    from reasoner.pipeline.case_input import parse
    from reasoner.pipeline.stores import ChunkStore

    kb = [ox.Quad(t.subject, t.predicate, t.object)
          for t in ox.parse(KnowledgeBase().closure_ntriples, format=ox.RdfFormat.N_TRIPLES)]
    known = set(kb)
    cases = [pipeline.CaseInput.of(parse(c.data, c.format, c.id, c.base))
             for c in islice(batch.read_inputs([Path(path)]), limit)]
    stored = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(f"{BATCH_CASE}{n}"))
              for n, case in enumerate(cases) for t in case.triples]  # the input check's copy
    for start in range(0, len(cases), batch.CHUNK):
        for store, _ in pipeline.decide(partial(ChunkStore, kb), cases[start:start + batch.CHUNK]):
            stored += [q for q in store.store if q not in known]
    best = float("inf")
    for _ in range(3):
        began = time.process_time()
        ox.Store().extend(stored)
        best = min(best, time.process_time() - began)
    return {"stored_quads_per_case": round(len(stored) / len(cases), 1),
            "store_floor_cpu_s_per_1000": round(best * 1000 / len(cases), 3)}


def _child(function, path: str, results) -> None:
    results.put(function(path))


def measure(function, path: str) -> tuple[float, float]:
    """Run one phase in a fresh (non-daemon) child process so its peak memory is its own."""
    ctx = mp.get_context("fork")
    results = ctx.Queue()
    child = ctx.Process(target=_child, args=(function, path, results))
    child.start()
    answer = results.get()
    child.join()
    return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, action="append", help="one size (repeatable); default 1000, 10000, 100000")
    parser.add_argument("--naive-max", type=int, default=1000, help="largest size the naive pipeline runs at")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run the pipeline N times and report the fastest (shared machines are noisy)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.cases or [1000, 10000, 100000]:
            path = Path(tmp) / f"cases-{n}.nq"
            generate(n, args.seed, path)
            pipeline_s, pipeline_mb = min(measure(run_pipeline, str(path)) for _ in range(max(args.repeat, 1)))
            floor_s, _ = measure(run_floor, str(path))
            naive_s = None
            if n <= args.naive_max:
                naive_s, _ = measure(run_naive, str(path))
            rows.append({"cases": n, "pipeline_s": round(pipeline_s, 3), "naive_s": naive_s and round(naive_s, 3),
                         "floor_s": round(floor_s, 4),
                         "speedup_vs_naive": round(naive_s / pipeline_s, 1) if naive_s else None,
                         "peak_mb": round(pipeline_mb, 1),
                         "phases_cpu_s_per_1000": measure(run_phases, str(path)),
                         **measure(run_store_floor, str(path))})
            if not args.json:
                r = rows[-1]
                speedup = "" if naive_s is None else f", {r['speedup_vs_naive']}x faster than naive"
                print(f"{n:>7} cases: pipeline {r['pipeline_s']:.2f} s ({r['peak_mb']:.0f} MB peak), "
                      f"naive {'skipped' if naive_s is None else f'{naive_s:.1f} s'}, floor {r['floor_s']:.3f} s"
                      f"{speedup}"
                      f", {r['pipeline_s'] / r['floor_s']:.0f}x the floor", flush=True)
                print("         CPU s per 1,000 cases by phase (one process): "
                      + ", ".join(f"{k} {v:.2f}" for k, v in r["phases_cpu_s_per_1000"].items()), flush=True)
                print(f"         storing alone: {r['store_floor_cpu_s_per_1000']:.2f} CPU s per 1,000 cases "
                      f"({r['stored_quads_per_case']:.0f} quads per case into an in-memory store)", flush=True)
    if args.json:
        print(json.dumps(rows[0] if len(rows) == 1 else rows, indent=2))


if __name__ == "__main__":
    main()
