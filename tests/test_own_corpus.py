"""A user's own documents: bad files get a clear message naming them, and each question route works end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures.make_pdf import write_text_pdf

from helpers.config import get_profile
from helpers.data.corpus import scan_corpus, truncation_report
from helpers.data.dataset import ICT_PROXY_LABEL, load_user_questions, question_route
from helpers.data.questions import DataError
from helpers.pipeline import step_build_pairs, step_load_corpus

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "own_corpus"
QUESTIONS = ROOT / "tests" / "fixtures" / "own_questions.jsonl"
GOOD = "Bees keep the brood warm in winter. They cluster on the combs and shiver to make heat.\n"


def _folder(tmp_path: Path, files: dict[str, bytes | str]) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, content in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)
    return folder


# ----------------------------------------------------------------------------- bad input, one test each

def test_empty_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no documents in .*docs can be used: add \.html"):
        scan_corpus(_folder(tmp_path, {}))


def test_missing_folder_names_the_variable(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist .*LAB_CORPUS"):
        scan_corpus(tmp_path / "nope")


def test_unsupported_types_are_listed_and_skipped(tmp_path):
    scan = scan_corpus(_folder(tmp_path, {"a.txt": GOOD, "report.docx": b"PK\x03\x04", "sub/table.csv": "x,y"}))
    assert [d.name for d in scan.documents] == ["a.txt"]
    assert any("2 file(s) of unsupported types skipped: report.docx, sub/table.csv" in p for p in scan.problems)


def test_undecodable_bytes_are_replaced_and_named(tmp_path):
    scan = scan_corpus(_folder(tmp_path, {"a.txt": GOOD, "latin1.txt": "Caf\xe9 au lait for the beekeeper.".encode("latin-1")}))
    assert [d.name for d in scan.documents] == ["a.txt", "latin1.txt"]
    assert "Caf\ufffd au lait" in scan.documents[1].text
    assert any("latin1.txt: 1 byte(s) are not UTF-8 (the first at byte 3)" in p and "Save the file as UTF-8" in p
               for p in scan.problems)


def test_scanned_pdf_without_text_is_skipped_with_advice(tmp_path):
    from pypdf import PdfWriter

    folder = _folder(tmp_path, {"a.txt": GOOD})
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)  # what a scan looks like to a text extractor: no text layer
    with (folder / "scan.pdf").open("wb") as fh:
        writer.write(fh)
    scan = scan_corpus(folder)
    assert scan.skipped == ["scan.pdf"]
    assert any("scan.pdf: no extractable text" in p and "OCR" in p for p in scan.problems)


def test_damaged_pdf_is_skipped(tmp_path):
    scan = scan_corpus(_folder(tmp_path, {"a.txt": GOOD, "broken.pdf": b"%PDF-1.4\nnot really a pdf"}))
    assert scan.skipped == ["broken.pdf"]
    assert any("broken.pdf: pypdf cannot read this PDF" in p for p in scan.problems)


@pytest.mark.parametrize("content, message", [("", "the file is empty"), ("  \n\n\t \n", "only whitespace")])
def test_empty_or_whitespace_file_is_skipped(tmp_path, content, message):
    scan = scan_corpus(_folder(tmp_path, {"a.txt": GOOD, "b.md": content}))
    assert [d.name for d in scan.documents] == ["a.txt"] and scan.skipped == ["b.md"]
    assert any("b.md: " in p and message in p for p in scan.problems)


def test_duplicate_documents_are_skipped(tmp_path):
    scan = scan_corpus(_folder(tmp_path, {"a.txt": GOOD, "copy/a-again.md": GOOD.replace(". ", ".  ")}))
    assert [d.name for d in scan.documents] == ["a.txt"]
    assert any("a-again.md: the same text as a.txt; skipped" in p for p in scan.problems)


def test_a_dominant_document_is_kept_with_a_warning(tmp_path):
    big = "\n\n".join(f"Paragraph {i} about hive tools and smokers." for i in range(200))
    scan = scan_corpus(_folder(tmp_path, {"a.txt": GOOD, "b.txt": GOOD.upper(), "huge.md": big}))
    assert len(scan.documents) == 3
    assert [p for p in scan.problems if "huge.md" in p and "of the corpus" in p and "dominate" in p]
    assert not [p for p in scan.problems if "a.txt" in p]


def test_truncation_is_counted_with_what_is_lost():
    report = truncation_report([100, 128, 150, 300], 128)
    assert (report.over, report.tokens_lost, report.max_lost) == (2, 22 + 172, 172)
    assert report.share_lost == pytest.approx(194 / 450)
    assert "2 of 4 chunks are longer than max_seq_length = 128 tokens" in str(report)
    assert "fit" in str(truncation_report([10, 20], 128))


def test_the_fixture_mixes_txt_md_and_pdf_and_loads_cleanly():
    scan = scan_corpus(FIXTURE)
    assert set(scan.formats) == {".txt", ".md", ".pdf"} and not scan.problems
    assert "varroa mite" in next(d.text for d in scan.documents if d.name.endswith(".pdf"))


# ----------------------------------------------------------------------------- routes

@pytest.fixture
def own_env(tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_CORPUS", str(FIXTURE))
    monkeypatch.setenv("LAB_OUTPUTS", str(tmp_path / "outputs"))
    for name in ("LAB_QUESTIONS", "LAB_QUESTIONS_FILE", "LAB_SPLIT", "LAB_MODEL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_route_defaults_and_errors(own_env):
    assert question_route() == "ict"  # own corpus, nothing chosen: offline
    assert question_route(ROOT / "data" / "corpus") == "shipped"
    own_env.setenv("LAB_QUESTIONS", "gpt")
    with pytest.raises(ValueError, match="LAB_QUESTIONS='gpt': choose one of shipped, file, llm, ict"):
        question_route()


def test_shipped_questions_on_an_own_corpus_say_what_to_do(own_env):
    profile = get_profile("smoke")
    step_load_corpus(profile)
    with pytest.raises(DataError, match="LAB_QUESTIONS=file, llm or ict"):
        step_build_pairs(profile, route="shipped")


def test_file_route_without_a_file_says_which_variable(own_env):
    profile = get_profile("smoke")
    step_load_corpus(profile)
    with pytest.raises(DataError, match="LAB_QUESTIONS_FILE="):
        step_build_pairs(profile, route="file")


def _splits(profile) -> dict:
    return json.loads((profile.outputs / "pairs" / "splits.json").read_text())


def test_file_route_gives_real_val_and_test_sets(own_env):
    own_env.setenv("LAB_QUESTIONS", "file")
    own_env.setenv("LAB_QUESTIONS_FILE", str(QUESTIONS))
    profile = get_profile("smoke")
    step_load_corpus(profile)
    paths = step_build_pairs(profile)
    splits, test_ir = _splits(profile), json.loads(paths["test"].read_text())
    ids = {json.loads(line)["id"] for line in QUESTIONS.read_text().splitlines()}
    assert splits["questions"] == "file" and not splits["proxy"] and "label" not in test_ir
    assert splits["val"] and splits["test"] and set(test_ir["queries"]) <= ids
    train_chunks = {c for q in splits["train"] for c in load_user_questions(
        QUESTIONS, *step_load_corpus(profile)).relevant[q]}
    assert not train_chunks & {c for ids_ in test_ir["relevant_docs"].values() for c in ids_}


def test_file_route_reads_the_llamaindex_format_and_locates_its_passages(own_env, tmp_path):
    profile = get_profile("smoke")
    documents, chunks = step_load_corpus(profile)
    picked = chunks[::3]
    pairs = {"queries": {f"x{i}": f"question {i}?" for i in range(len(picked))},
             # passages written with other line breaks than the extracted text: whitespace is ignored
             "corpus": {f"p{i}": c.text.replace(" ", "\n", 3) for i, c in enumerate(picked)},
             "relevant_docs": {f"x{i}": [f"p{i}"] for i in range(len(picked))}}
    path = tmp_path / "llamaindex.json"
    path.write_text(json.dumps(pairs))
    data = load_user_questions(path, documents, chunks)
    assert [data.relevant[f"x{i}"][0] for i in range(len(picked))] == [c.id for c in picked]
    pairs["corpus"]["p0"] = "A passage from some other corpus entirely, about tax returns."
    path.write_text(json.dumps(pairs))
    with pytest.raises(DataError, match=r"llamaindex.json: question 'x0': passage 'p0' is not in the extracted text"):
        load_user_questions(path, documents, chunks)


def test_ict_route_test_set_is_a_labelled_proxy_without_its_sentence(own_env):
    own_env.setenv("LAB_QUESTIONS", "ict")
    profile = get_profile("smoke")
    step_load_corpus(profile)
    paths = step_build_pairs(profile)
    splits = _splits(profile)
    assert splits["proxy"] and splits["val"] and splits["test"]
    for name in ("val", "test"):
        ir = json.loads(paths[name].read_text())
        assert ir["label"] == ICT_PROXY_LABEL and ir["queries"]
        for q, query in ir["queries"].items():
            (chunk,) = ir["relevant_docs"][q]
            assert query not in ir["corpus"][chunk]  # the sentence was removed from its passage


def test_validate_data_checks_own_questions(tmp_path):
    run = subprocess.run([sys.executable, "-m", "helpers", "validate-data", "--corpus", str(FIXTURE),
                          "--questions", str(QUESTIONS)], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "validate-data: OK" in run.stdout and "questions: 20" in run.stdout
    bad = tmp_path / "q.jsonl"
    bad.write_text(QUESTIONS.read_text().replace("every seven to ten days", "every eight to eleven days"))
    run = subprocess.run([sys.executable, "-m", "helpers", "validate-data", "--corpus", str(FIXTURE),
                          "--questions", str(bad)], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 1 and f"{bad}:1: field 'evidence' is not found" in run.stderr


def test_write_questions_records_a_checked_quote(tmp_path):
    from helpers.cli.generate import write_questions_session

    out = tmp_path / "mine.jsonl"
    answers = iter([
        "How often is the hive opened in spring?",
        "In spring, open the hive every eleven days",  # not in the chunk: asked again
        "every seven to ten days",  # short: kept, with the warning validate-data gives too
        "", "q",
    ])
    said: list[str] = []
    assert write_questions_session(FIXTURE, out, ask=lambda _: next(answers), say=said.append) == 1
    record = json.loads(out.read_text())
    assert record["evidence"] == "every seven to ten days" and record["kind"] == "factoid"
    assert any("not found in this chunk" in line for line in said)
    assert any("kept, with a warning" in line and "40-300" in line for line in said)


def test_a_pdf_written_for_the_tests_has_a_text_layer(tmp_path):
    path = write_text_pdf(tmp_path / "x.pdf", "First paragraph (with brackets).\n\nSecond one.")
    from helpers.data.corpus import pdf_to_text

    assert pdf_to_text(path) == "First paragraph (with brackets). Second one."


# ----------------------------------------------------------------------------- notebooks 01-05, as a user runs them

def _course(tmp_path: Path, *until: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("LAB_", "OPENAI_"))}
    environ.update({"LAB_CORPUS": str(FIXTURE), "LAB_OUTPUTS": str(tmp_path / "outputs"), "HF_HUB_OFFLINE": "1",
                    **env})
    return subprocess.run([sys.executable, "-m", "helpers", "course", "--profile", "smoke", *until],
                          capture_output=True, text=True, cwd=ROOT, env=environ, timeout=1200)


def _check_course(tmp_path: Path, run: subprocess.CompletedProcess, route: str, evaluated: bool = True) -> dict:
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = tmp_path / "outputs" / "smoke"
    splits = json.loads((out / "pairs" / "splits.json").read_text())
    assert splits["questions"] == route and splits["test"]
    assert (out / "results" / "summary.csv").exists() == evaluated
    return json.loads((out / "pairs" / "test_ir.json").read_text())


def test_course_on_own_documents_with_llm_questions(tmp_path):
    from fake_llm_server import FakeLLM

    with FakeLLM() as server:
        run = _course(tmp_path, LAB_QUESTIONS="llm", OPENAI_BASE_URL=server.base_url)
    test_ir = _check_course(tmp_path, run, "llm")
    assert all(q.startswith(("What does passage", "Why does passage")) for q in test_ir["queries"].values())
    assert server.total >= 16  # one call per chunk of the fixture


def test_course_on_own_documents_offline_with_ict(tmp_path):
    """Notebooks 01-02 on the ict route label its proxy test set; training and evaluating an ict route end to end is
    tests/test_own_test_route.py's course run."""
    test_ir = _check_course(tmp_path, _course(tmp_path, "--until", "2", LAB_QUESTIONS="ict"), "ict", evaluated=False)
    assert test_ir["label"] == ICT_PROXY_LABEL


def test_notebooks_01_02_write_what_the_command_line_writes(tmp_path, monkeypatch):
    """One source of truth: the notebooks' exported cells and the CLI's steps give byte-identical files."""
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("LAB_CORPUS", str(FIXTURE))
    monkeypatch.setenv("LAB_QUESTIONS", "file")
    monkeypatch.setenv("LAB_QUESTIONS_FILE", str(QUESTIONS))
    monkeypatch.setenv("LAB_PROFILE", "smoke")
    monkeypatch.setenv("LAB_OUTPUTS", str(tmp_path / "notebooks"))
    for name in ("01_load_corpus", "02_build_pairs"):
        path = ROOT / "notebooks" / f"{name}.ipynb"
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    monkeypatch.setenv("LAB_OUTPUTS", str(tmp_path / "cli"))
    profile = get_profile("smoke")
    step_load_corpus(profile)
    step_build_pairs(profile)
    for relative in ("corpus.jsonl", "chunks.jsonl", "pairs/train.jsonl", "pairs/val_ir.json", "pairs/test_ir.json",
                     "pairs/splits.json"):
        assert (tmp_path / "cli" / "smoke" / relative).read_bytes() == (
            tmp_path / "notebooks" / "smoke" / relative).read_bytes(), relative
