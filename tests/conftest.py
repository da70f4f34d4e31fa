"""Shared fixtures: the spaCy pipeline and extractor (loaded once), articles and stores in tmp_path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "kmia-russia-intercepts-55-drones.txt"
EVAL_DEV = ROOT.parent / "shared" / "eval-dev"


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="Rewrite tests/golden/ from current output.")


@pytest.fixture(scope="session")
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")


@pytest.fixture(scope="session")
def extractor():
    from kg.extract import Extractor

    return Extractor()


@pytest.fixture(scope="session")
def catalog():
    from kg.catalog import load_catalog

    return load_catalog()


@pytest.fixture
def extract_text(extractor):
    """Extract a short article written in the test: returns (extraction, labels by IRI)."""
    from kg.ingest import make_article

    def run(body: str, title: str | None = None, published: str | None = None):
        extraction = extractor.extract(make_article(body, title=title, published=published, path="<test>"))
        labels = {e.id: e.label for e in extraction.entities}
        return extraction, labels

    return run


def kg_command() -> list[str]:
    exe = shutil.which("kg", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "kg.cli"]


@pytest.fixture
def run_kg(tmp_path):
    """Run the real ``kg`` console script; returns CompletedProcess."""
    def run(*args: str, stdin: bytes | None = None, cwd: Path | None = None, check_rc: int | None = None):
        env = {**os.environ, "KG_STORE": str(tmp_path / "store"), "COLUMNS": "200"}
        proc = subprocess.run([*kg_command(), *args], input=stdin, capture_output=True, env=env,
                              cwd=cwd or tmp_path, timeout=600)
        if check_rc is not None:
            assert proc.returncode == check_rc, (proc.returncode, proc.stdout.decode()[-2000:],
                                                 proc.stderr.decode()[-2000:])
        return proc

    return run
