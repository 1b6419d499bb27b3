"""``python -m helpers validate-data``: check a corpus and its questions, and print their counts."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from helpers.config import CORPUS_DIR, QUESTIONS_DIR
from helpers.data.corpus import Chunk, Document, chunk_documents, is_course_corpus, scan_corpus
from helpers.data.dataset import load_user_questions
from helpers.data.problems import NOT_IN_CORPUS, Problem, raise_if_errors
from helpers.data.questions import Question, evidence_chunks, questions_per_chunk

# The shipped data promises three questions per chunk; a user's own 30-50 questions cannot.
COURSE_MIN_PER_CHUNK = 3


def default_min_per_chunk(corpus_dir: Path) -> int:
    """3 for the course's own corpus, 0 for any other folder."""
    return COURSE_MIN_PER_CHUNK if is_course_corpus(corpus_dir) else 0


def validate_data(
    corpus_dir: Path = CORPUS_DIR,
    questions_dir: Path = QUESTIONS_DIR,
    chunk_size: int = 750,
    chunk_overlap: int = 20,
    min_questions_per_chunk: int = 0,
    problems: list[Problem] | None = None,
) -> dict:
    """Validate a corpus and its questions; every problem names its file, line and field, and what to do.

    ``questions_dir`` is a JSONL file, a folder of them, or a published/LlamaIndex pair file. Every record is
    checked: given a ``problems`` list, every problem is appended to it and the counts are those of the good
    records; without one, a DataError lists every error at once. Files of the corpus that cannot be used are
    reported in ``corpus_problems``, not raised. Returns the counts that ``validate-data`` prints.
    """
    found: list[Problem] = [] if problems is None else problems
    scan = scan_corpus(Path(corpus_dir))
    chunks = chunk_documents(scan.documents, chunk_size, chunk_overlap)
    data = load_user_questions(Path(questions_dir), scan.documents, chunks, problems=found)
    check_not_also(data.questions, {d.name for d in data.documents}, problems=found)
    if problems is None:
        raise_if_errors(found)
    unlisted = unlisted_key_facts(data.questions, data.documents, data.chunks)
    per_chunk = questions_per_chunk(data.relevant, data.chunks)
    per_doc = Counter(q.document for q in data.questions)
    values = sorted(per_chunk.values())
    report = {
        "documents": len(data.documents),
        "characters": sum(len(d.text) for d in data.documents),
        "formats": dict(Counter(Path(d.name).suffix for d in data.documents)),
        "chunks": len(data.chunks),
        "questions": len(data.questions),
        "kinds": dict(Counter(q.kind for q in data.questions)),
        "questions_per_chunk_min": values[0],
        "questions_per_chunk_median": values[len(values) // 2],
        "questions_per_chunk_max": values[-1],
        "chunks_without_questions": sum(v == 0 for v in values),
        "chunks_under_minimum": [c.id for c in data.chunks if per_chunk[c.id] < min_questions_per_chunk],
        "questions_per_document": dict(sorted(per_doc.items())),
        "documents_without_questions": sorted({d.name for d in data.documents} - set(per_doc)),
        "skipped_files": scan.skipped,
        "corpus_problems": scan.problems,
        "unlisted_facts": [str(w) for w in unlisted],
    }
    return report


# ----------------------------------------------------------------------------- complete labels

# A fact found in more chunks than this is too common to tell one passage from another.
FACT_MAX_CHUNKS = 3
# A chunk is reported when it holds at least this share of a question's telling facts, and two of them or one
# number with the same unit (or a rare decimal such as 0.75).
FACT_MIN_SHARE = 0.5

_STOPWORDS = frozenset(
    "a an and are as at be but by for from he in is it its not of on or she so than that the their then they "
    "this to was we were which with about around roughly nearly some only over under up".split()
)
# Words that belong to the number itself ("21 million", "10 percent"): its unit is the word after them.
_MAGNITUDES = frozenset("hundred thousand million billion trillion percent times fold".split())
_WORD = re.compile(r"\w+(?:[.,'’@/-]\w+)*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_YEAR = re.compile(r"1[89]\d\d|20\d\d")


@dataclass(frozen=True)
class UnlistedFacts:
    """A question whose key facts also occur together in a passage its labels do not list."""

    source: str  # "file:line" of the question record
    question: str  # question id
    document: str  # the other passage's document
    chunk: str  # id of the chunk holding the facts
    start: int  # that chunk's first character in its document
    facts: tuple[str, ...]  # the facts found there, as the evidence writes them

    def __str__(self) -> str:
        return (
            f"{self.source}: {self.question}: {', '.join(self.facts)} also occur together in {self.document} "
            f"(chunk {self.chunk}, character {self.start}); if that passage answers the question on its own, "
            f'add it to \'also\', else add "{self.document}" to \'not_also\' to mark it reviewed'
        )


@dataclass(frozen=True)
class _Fact:
    surface: str  # as the text writes it
    forms: frozenset[str]  # any of these in a chunk's forms is a match
    number: str = ""  # the bare number of a number fact, "" for a name


def _words(text: str) -> list[tuple[str, bool]]:
    """Each word (possessive 's dropped, % read as 'percent') and whether it starts a sentence."""
    text = text.replace("%", " percent")
    words = []
    for match in _WORD.finditer(text):
        j = match.start() - 1
        while j >= 0 and text[j].isspace():
            j -= 1
        words.append((re.sub(r"['’]s$", "", match.group()), j < 0 or text[j] in '.!?:"('))
    return words


def _unit(word: str) -> str:
    """A number's context word cut to a stem ("hours" -> "hour"), or "" for a stopword or non-word."""
    return word[:4] if len(word) > 2 and word.isalpha() and word.islower() and word not in _STOPWORDS else ""


class _FactReader:
    """Finds the telling facts of a text: numbers with their unit, names, acronyms and model names."""

    def __init__(self, documents: list[Document]):
        self.lowercase: set[str] = set()  # words written in lower case somewhere
        self.mid_sentence: set[str] = set()  # capitalised words seen inside a sentence, i.e. names
        for doc in documents:
            for word, starts in _words(doc.text):
                if word.islower():
                    self.lowercase.add(word)
                elif not starts:
                    self.mid_sentence.add(word)

    def facts(self, text: str) -> list[_Fact]:
        words = _words(text)
        found: dict[str, _Fact] = {}
        for i, (word, _) in enumerate(words):
            parts = re.split(r"[-/]", word)
            if _NUMBER.fullmatch(word) or (len(parts) == 2 and _NUMBER.fullmatch(parts[0]) and parts[1].isalpha()):
                number = parts[0].replace(",", "")
                if _YEAR.fullmatch(number):
                    found.setdefault(number, _Fact(word, frozenset({number}), number))
                    continue
                following = [w for w, _ in words[i + 1: i + 3]]
                if len(parts) == 1 and following and following[0] in _MAGNITUDES:
                    number, word = f"{number} {following[0]}", f"{word} {following[0]}"
                    following = following[1:]
                after = parts[1] if len(parts) == 2 else (following[0] if following else "")
                before = [w for w, _ in words[max(0, i - 3): i] if w.lower() not in _STOPWORDS][-1:]
                units = {u for u in (_unit(after), *(_unit(w) for w in before)) if u}
                forms = frozenset({number, *(f"{number} {u}" for u in units)})
                surface = f"{word} {after}" if len(parts) == 1 and _unit(after) else word
                found.setdefault(surface, _Fact(surface, forms, number))
            elif len(word) > 1 and (
                re.search(r"\d", word)
                or any(c.isupper() for c in word[1:])
                or (word[0].isupper() and word.lower() not in self.lowercase and word in self.mid_sentence)
            ):
                found.setdefault(word, _Fact(word, frozenset({word})))
        return list(found.values())

    def forms(self, text: str) -> set[str]:
        """Every form of every fact of ``text``, to match a question's facts against."""
        return {form for fact in self.facts(text) for form in fact.forms}


def unlisted_key_facts(
    questions: list[Question],
    documents: list[Document],
    chunks: list[Chunk],
    reviewed: Mapping[str, Collection[str]] | None = None,
) -> list[UnlistedFacts]:
    """Find questions whose key facts also occur together in a passage their labels leave out.

    A question's key facts are the numbers (with the word after or before them: "65 hours", "batch size
    128"), years, names, acronyms and model names of its evidence quote, less those found in more than
    ``FACT_MAX_CHUNKS`` chunks. A chunk of another document, or of the same document away from the
    evidence, that holds ``FACT_MIN_SHARE`` of them, and at least two or one number with the same unit (or a
    rare decimal), probably states the same fact: a retriever that returns it would be scored a miss. Chunks that
    touch a passage of the question (``evidence`` or ``also``) and documents in ``reviewed[question id]``
    (default: each record's ``not_also``) are skipped. One warning per question and document, the best chunk.
    """
    if reviewed is None:
        reviewed = {q.id: q.not_also for q in questions}
    reader = _FactReader(documents)
    touching = evidence_chunks(questions, documents, chunks)
    chunk_forms = {c.id: reader.forms(c.text) for c in chunks}
    chunk_count = Counter(form for forms in chunk_forms.values() for form in forms)

    def telling(fact: _Fact) -> _Fact | None:
        """The fact with only its rare forms, or None when every form is too common to tell passages apart."""
        rare = frozenset(form for form in fact.forms if chunk_count[form] <= FACT_MAX_CHUNKS)
        return _Fact(fact.surface, rare, fact.number) if rare else None

    def match(fact: _Fact, forms: set[str]) -> int:
        """2: a strong match (a name, a number with the same unit, a rare decimal), 1: a weak one, 0: none."""
        shared = fact.forms & forms
        if not shared:
            return 0
        if not fact.number or shared - {fact.number} or ("." in fact.number and chunk_count[fact.number] <= 2):
            return 2
        return 1

    warnings: list[UnlistedFacts] = []
    for q in questions:
        facts = [f for f in map(telling, reader.facts(q.evidence)) if f]
        if not facts:
            continue
        skip = set(reviewed.get(q.id, ()))
        own = set(touching[q.id])
        best: dict[str, tuple[Chunk, list[str]]] = {}
        for chunk in chunks:
            if chunk.document in skip or chunk.id in own:
                continue
            matches = {f: match(f, chunk_forms[chunk.id]) for f in facts}
            found = [f.surface for f, strength in matches.items() if strength]
            # Two facts together, or one number strongly matched (a number, not a name, is a fact by itself).
            enough = len(found) >= 2 or len(found) == 1 and any(
                strength == 2 and f.number and (len(facts) == 1 or f.number in f.forms)
                for f, strength in matches.items())
            if enough and len(found) >= FACT_MIN_SHARE * len(facts) and \
                    len(found) > len(best.get(chunk.document, (chunk, []))[1]):
                best[chunk.document] = (chunk, found)
        warnings.extend(UnlistedFacts(q.source, q.id, doc, chunk.id, chunk.start, tuple(found))
                        for doc, (chunk, found) in best.items())
    return warnings


def check_not_also(
    questions: list[Question], document_names: Collection[str], problems: list[Problem] | None = None
) -> None:
    """Each ``not_also`` document must be in the corpus; each problem names the record's file, line and field.

    Given a ``problems`` list, every one is appended to it; without one, a DataError lists them all.
    """
    found: list[Problem] = [] if problems is None else problems
    for q in questions:
        for name in q.not_also:
            if name not in document_names:
                found.append(Problem(q.source, "not_also", NOT_IN_CORPUS,
                                     f"field 'not_also' names {name!r}, which is not in the corpus; "
                                     f"use one of {', '.join(sorted(document_names))}"))
    if problems is None:
        raise_if_errors(found)
