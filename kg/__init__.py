"""kg: turn conflict reporting into an RDF knowledge graph with evidence for every fact."""

from pathlib import Path

__version__ = "0.1.0"

#: The repository root: ontologies/ and queries/ live beside the package (editable install).
PROJECT_ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY_DIR = PROJECT_ROOT / "ontologies"
QUERY_DIR = PROJECT_ROOT / "queries"
