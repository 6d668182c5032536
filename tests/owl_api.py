"""Run tests/owlapi/CheckOntology.java on Debian's OWL API (libowlapi-java), the library
Protégé is built on. The Debian jars carry no manifest class path, so the class path is
listed here (see ../shared/research/toolchain.md, gotcha 4)."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

JAVA_DIR = Path("/usr/share/java")
JARS = ("owlapi-distribution", "guava", "caffeine", "commons-rdf-api", "commons-io", "commons-codec",
        "hppcrt", "xz", "slf4j-api", "slf4j-nop", "atinject-jsr330-api", "jsr305", "jackson-core",
        "jackson-databind", "jackson-annotations", "jsonld-java", "httpclient", "httpcore", "commons-logging")
PROGRAM = Path(__file__).resolve().parent / "owlapi" / "CheckOntology.java"


@dataclass
class ProfileReport:
    ontologies: int
    axioms: int
    violations: list[str]
    exit_code: int
    output: str


def classpath() -> str:
    jars = [JAVA_DIR / f"{name}.jar" for name in JARS]
    # The unversioned names are symlinks to the versioned jars: take each jar once.
    jars += sorted(p for p in JAVA_DIR.glob("rdf4j-*.jar") if not re.search(r"-\d+\.\d+", p.stem))
    missing = [str(j) for j in jars if not j.exists()]
    if missing or shutil.which("java") is None:
        raise RuntimeError("the OWL API is not installed (run scripts/test, which installs "
                           f"default-jre-headless and libowlapi-java); missing: {missing[:3]}")
    return ":".join(str(j) for j in jars)


def check_dl_profile(catalog: Path, root_iri: str) -> ProfileReport:
    run = subprocess.run(["java", "-cp", classpath(), str(PROGRAM), str(catalog), root_iri],
                         capture_output=True, text=True, timeout=300)
    counts = {}
    violations = []
    for line in run.stdout.splitlines():
        key, _, rest = line.partition(" ")
        if key == "violation":
            violations.append(rest)
        elif key in ("ontologies", "axioms", "violations"):
            counts[key] = int(rest)
    if "ontologies" not in counts:
        raise RuntimeError(f"the OWL API check did not run:\n{run.stdout}\n{run.stderr}")
    return ProfileReport(counts["ontologies"], counts["axioms"], violations, run.returncode, run.stdout)
