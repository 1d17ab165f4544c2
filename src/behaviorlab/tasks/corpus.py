"""A language-modelling corpus of real English: the Python documentation's HTML pages (Debian's
`python3-doc`), turned into recorded Parquet splits that train like any other recorded data.

Each page is one document. Its text is read with the standard library's `html.parser` (the page's
main body only: no navigation, scripts or permalink marks), cut into chunks of at most
`chunk_bytes` UTF-8 bytes, and written as rows `input = ""`, `output = chunk`, `doc = id`.
Train and validation are split **by document** (a hash of the page's path), so no page has text
in both.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from behaviorlab.errors import BadInput
from behaviorlab.io import atomic_write, atomic_write_json
from behaviorlab.limits import Need, require
from behaviorlab.rundir import CORPUS_MANIFEST, check_output_dir, split_file
from behaviorlab.validate import check_int

PYDOCS_PACKAGE = "python3-doc"
PYDOCS_ROOT = Path("/usr/share/doc/python3-doc/html")
MANIFEST = CORPUS_MANIFEST
# Generated pages that are lists of names or links, not prose.
_SKIP = re.compile(r"^(genindex.*|search|py-modindex|contents|index)\.html$")
_BLOCK = {
    "p", "div", "section", "pre", "li", "dt", "dd", "tr", "br", "table", "blockquote",
    "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "figure", "caption",
}  # fmt: skip
_SILENT = {"script", "style"}
_VOID = {"br", "img", "hr", "input", "meta", "link", "wbr"}  # no end tag


class _MainText(HTMLParser):
    """Collects the text of the `role="main"` element; blocks become lines, `<pre>` stays verbatim."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0  # element depth inside main (0: outside)
        self.silent = 0  # inside script/style/permalink anchors
        self.pre = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if self.depth == 0:
            if a.get("role") == "main":
                self.depth = 1
            return
        if tag in _VOID:
            if tag == "br":
                self.parts.append("\n")
            return
        self.depth += 1
        if tag in _SILENT or (tag == "a" and "headerlink" in (a.get("class") or "")) or self.silent:
            self.silent += 1
        if tag == "pre":
            self.pre += 1
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self.depth == 0 or tag in _VOID:
            return
        self.depth -= 1
        if self.silent:
            self.silent -= 1
        if tag == "pre" and self.pre:
            self.pre -= 1
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.depth == 0 or self.silent:
            return
        # Outside <pre>, HTML source line breaks are not text: collapse whitespace runs.
        self.parts.append(data if self.pre else re.sub(r"\s+", " ", data))


def html_text(html: str, where: object = "page") -> str:
    """The main body's text of one documentation page: lines stripped, no blank-line runs.
    BadInput names `where` when the parser cannot read it (a file that only claims to be HTML)."""
    parser = _MainText()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError, IndexError) as e:  # html.parser's checks on bad markup
        raise BadInput(f"{where}: not an HTML page the parser can read ({e or type(e).__name__})") from None
    lines = [ln.rstrip() for ln in "".join(parser.parts).split("\n")]
    text = "\n".join(ln if ln.startswith(" ") and ln.strip() else ln.strip() for ln in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def find_documents(root: Path) -> list[Path]:
    """Every prose page under `root` (relative paths, sorted); BadInput names the package if none."""
    if not root.is_dir():
        raise BadInput(
            f"{root}: corpus not found; install it with `apt-get install {PYDOCS_PACKAGE}` (as root)"
        )
    pages = [
        p.relative_to(root)
        for p in root.rglob("*.html")
        if not any(part.startswith("_") for part in p.relative_to(root).parts) and not _SKIP.match(p.name)
    ]
    if not pages:
        raise BadInput(f"{root}: no HTML pages; is {PYDOCS_PACKAGE} installed completely?")
    return sorted(pages)


def is_validation(doc: Path | str, fraction: float) -> bool:
    """Whether a document belongs to validation: a hash of its path, stable across machines."""
    h = hashlib.sha256(str(doc).encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64 < fraction


def chunks(text: str, size: int, min_size: int = 32) -> list[str]:
    """Consecutive pieces of at most `size` UTF-8 bytes, cut at character boundaries; a tail
    shorter than `min_size` bytes is dropped (too little context to score)."""
    out: list[str] = []
    raw = text.encode("utf-8")
    start = 0
    while start < len(raw):
        end = min(start + size, len(raw))
        while end < len(raw) and (raw[end] & 0xC0) == 0x80:  # never split a character
            end -= 1
        if end - start >= min_size:
            out.append(raw[start:end].decode("utf-8"))
        start = end
    return out


@dataclass(frozen=True)
class CorpusStats:
    """What was written: documents, chunks and bytes per split."""

    documents: dict[str, int]
    chunks: dict[str, int]
    bytes: dict[str, int]


def _write_split(path: Path, rows: list[tuple[str, int]]) -> None:
    table = pa.table(
        {
            "input": pa.array([""] * len(rows), pa.string()),
            "output": pa.array([c for c, _ in rows], pa.string()),
            "doc": pa.array([d for _, d in rows], pa.int32()),
        }
    )
    atomic_write(path, lambda tmp: pq.write_table(table, tmp))


def build_corpus(
    out: Path,
    root: Path = PYDOCS_ROOT,
    *,
    chunk_bytes: int = 128,
    validation_fraction: float = 0.1,
    validation_chunks: int | None = 2048,
    max_documents: int | None = None,
    force: bool = False,
) -> CorpusStats:
    """Extract, split by document and write `train.parquet`, `validation.parquet` and a manifest.

    Validation rows are shuffled with a fixed seed, so any prefix (a monitor's first N examples)
    samples every held-out page; `validation_chunks` caps them (None keeps all)."""
    if not 0 < validation_fraction < 1:
        raise BadInput(f"validation_fraction must be in (0, 1), got {validation_fraction}")
    check_int("chunk_bytes", chunk_bytes, 8)
    if validation_chunks is not None:
        check_int("validation_chunks", validation_chunks, 0)
    if max_documents is not None:
        check_int("max_documents", max_documents, 1)
    check_output_dir(out, force, lambda d: (d / MANIFEST).is_file(), "a corpus directory")
    docs = find_documents(root)[:max_documents]
    total = sum((root / d).stat().st_size for d in docs)
    # Every page's text is held at once (as text, then as chunks): at least twice its bytes.
    require(
        f"lm-corpus from {root}", Need(memory=2 * total, disk=total // 4), out=out, hint="use fewer pages"
    )
    rows: dict[str, list[tuple[str, int]]] = {"train": [], "validation": []}
    listing = []
    for i, doc in enumerate(docs):
        text = html_text((root / doc).read_text(encoding="utf-8", errors="replace"), root / doc)
        split = "validation" if is_validation(doc, validation_fraction) else "train"
        pieces = chunks(text, chunk_bytes, min_size=min(32, chunk_bytes))
        rows[split] += [(c, i) for c in pieces]
        listing.append({"doc": i, "path": str(doc), "split": split, "chunks": len(pieces)})
    if not rows["train"] or not rows["validation"]:
        raise BadInput(f"{root}: too few documents ({len(docs)}) for a train and a validation split")
    held_out = len(rows["validation"])
    random.Random(0).shuffle(rows["validation"])
    rows["validation"] = rows["validation"][:validation_chunks]
    out.mkdir(parents=True, exist_ok=True)
    for split, split_rows in rows.items():
        _write_split(split_file(out, split), split_rows)
    stats = CorpusStats(
        documents={s: sum(d["split"] == s for d in listing) for s in rows},
        chunks={s: len(r) for s, r in rows.items()},
        bytes={s: sum(len(c.encode()) for c, _ in r) for s, r in rows.items()},
    )
    manifest = {
        "source": str(root),
        "package": PYDOCS_PACKAGE,
        "chunk_bytes": chunk_bytes,
        "validation_fraction": validation_fraction,
        "validation_chunks_held_out": held_out,
        **{k: getattr(stats, k) for k in ("documents", "chunks", "bytes")},
        "files": listing,
    }
    atomic_write_json(out / MANIFEST, manifest)
    return stats


def read_manifest(out: Path) -> dict[str, object]:
    """A built corpus's manifest (documents, split, sizes)."""
    return dict(json.loads((out / MANIFEST).read_text(encoding="utf-8")))
