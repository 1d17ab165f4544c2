"""The LM corpus pipeline: text from documentation HTML, byte-bounded chunks, and train/validation
split by document (no page in both), written as recorded Parquet splits."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from behaviorlab.errors import BadInput
from behaviorlab.io import sha256_file
from behaviorlab.tasks.corpus import (
    build_corpus,
    chunks,
    find_documents,
    html_text,
    is_validation,
    read_manifest,
)

PAGE = """<html><head><title>t</title><script>var nav = 1;</script><style>p {}</style></head><body>
<div class="related">Navigation: index | modules</div>
<div class="body" role="main">
<section><h1>3. Strings<a class="headerlink" href="#s" title="Permalink">¶</a></h1>
<p>Strings can be   <em>indexed</em>,
with the first character having index&nbsp;0 &amp; no separate type.</p>
<pre>&gt;&gt;&gt; word = 'Python'
&gt;&gt;&gt; word[0]
'P'</pre>
<script>ignored()</script>
<ul><li>one</li><li>two<br/>lines</li></ul>
</section></div>
<div class="footer">© Copyright</div></body></html>"""


def test_html_text_keeps_the_main_body_only() -> None:
    text = html_text(PAGE)
    assert text.startswith("3. Strings\n")  # no-break spaces become spaces too
    assert "Strings can be indexed, with the first character having index 0 & no separate type." in text
    assert ">>> word = 'Python'\n>>> word[0]\n'P'" in text  # <pre> kept verbatim, entities decoded
    assert "one\n" in text and "two\nlines" in text
    for gone in ("¶", "Navigation", "Copyright", "ignored", "var nav", "p {}"):
        assert gone not in text


def test_chunks_are_byte_bounded_and_never_split_a_character() -> None:
    text = ("naïve café — " * 40).strip()
    pieces = chunks(text, 16, min_size=1)
    assert all(len(p.encode()) <= 16 for p in pieces)
    assert "".join(pieces) == text  # nothing lost, every piece valid UTF-8
    assert chunks("x" * 40, 16, min_size=10) == ["x" * 16, "x" * 16]  # an 8-byte tail is dropped


def _site(root: Path, n: int) -> Path:
    for i in range(n):
        sub = root / ("library" if i % 2 else "howto")
        sub.mkdir(parents=True, exist_ok=True)
        body = " ".join(f"doc{i} sentence {k} about topic {i}." for k in range(12))
        (sub / f"page{i}.html").write_text(f'<div role="main"><p>{body}</p></div>', encoding="utf-8")
    (root / "genindex-A.html").write_text('<div role="main"><p>index entries</p></div>')
    (root / "_static").mkdir(exist_ok=True)
    (root / "_static" / "x.html").write_text('<div role="main"><p>asset</p></div>')
    return root


def test_split_is_by_document_with_no_overlap(tmp_path: Path) -> None:
    root = _site(tmp_path / "html", 30)
    docs = find_documents(root)
    assert len(docs) == 30 and not any("genindex" in str(d) or "_static" in str(d) for d in docs)
    stats = build_corpus(tmp_path / "out", root, chunk_bytes=64, validation_fraction=0.3)
    train = pq.read_table(tmp_path / "out" / "train.parquet").to_pylist()
    valid = pq.read_table(tmp_path / "out" / "validation.parquet").to_pylist()
    train_docs, valid_docs = {r["doc"] for r in train}, {r["doc"] for r in valid}
    assert train_docs and valid_docs and not train_docs & valid_docs
    assert train_docs | valid_docs == set(range(30))
    # Page i's text says "doc{i} ": a chunk only ever holds text of the page its doc id names.
    for r in train + valid:
        own = int(docs[r["doc"]].stem.removeprefix("page"))
        assert all(f"doc{j} " not in r["output"] for j in range(30) if j != own)
    assert not {r["output"] for r in train} & {r["output"] for r in valid}
    assert all(r["input"] == "" and 0 < len(r["output"].encode()) <= 64 for r in train + valid)
    manifest = read_manifest(tmp_path / "out")
    listed = {f["doc"]: f["split"] for f in manifest["files"]}  # type: ignore[attr-defined]
    assert {d for d, s in listed.items() if s == "validation"} == valid_docs
    assert all(is_validation(docs[d], 0.3) for d in valid_docs)
    assert stats.documents == {"train": len(train_docs), "validation": len(valid_docs)}
    assert stats.chunks == {"train": len(train), "validation": len(valid)}


def test_build_is_deterministic_and_caps_validation(tmp_path: Path) -> None:
    root = _site(tmp_path / "html", 30)
    a = build_corpus(tmp_path / "a", root, chunk_bytes=64, validation_fraction=0.3, validation_chunks=5)
    build_corpus(tmp_path / "b", root, chunk_bytes=64, validation_fraction=0.3, validation_chunks=5)
    for name in ("train.parquet", "validation.parquet"):
        assert sha256_file(tmp_path / "a" / name) == sha256_file(tmp_path / "b" / name)
    assert a.chunks["validation"] == 5
    docs = {r["doc"] for r in pq.read_table(tmp_path / "a" / "validation.parquet").to_pylist()}
    assert len(docs) > 1  # shuffled before the cap: the first rows are not one page's


def test_missing_corpus_names_the_package(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="apt-get install python3-doc"):
        build_corpus(tmp_path / "out", tmp_path / "nowhere")
    root = _site(tmp_path / "html", 10)
    build_corpus(tmp_path / "out", root, validation_fraction=0.5)
    with pytest.raises(BadInput, match="--force"):
        build_corpus(tmp_path / "out", root, validation_fraction=0.5)
