"""The corpus reader on a fortune tree made for the test: parsing, exclusions, dedup, split."""

import os

import pytest

from examples.langid import data


def _write(path, entries):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n%\n".join(entries) + "\n%\n")


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "fortunes"
    english = [f"English sentence number {i} with words" for i in range(30)]
    _write(str(root / "people"), english + ["Shared proverb text everywhere"])
    _write(str(root / "art"), ["  ____  /  \\  |  |  \\__/  ascii art here, words"])
    _write(str(root / "off" / "rude"), ["Offensive English text that must not be read"])
    german = [f"Ein deutscher Satz Nummer {i} mit Wörtern" for i in range(30)]
    _write(str(root / "de" / "witze"), german + ["Shared proverb text everywhere"])
    _write(str(root / "de" / "witze.dat"), ["binary index"])
    _write(str(root / "es" / "off" / "racistas.fortunes"), ["Texto ofensivo que no se lee nunca"])
    _write(str(root / "es" / "vida.fortunes"),
           [f"Una frase española número {i} con palabras" for i in range(30)] * 2)
    _write(str(root / "cs" / "citace"), [f"Česká věta číslo {i} se slovy" for i in range(30)])
    _write(str(root / "cs" / "klasik-sk"), [f"Slovenská veta číslo {i} so slovami" for i in range(30)])
    _write(str(root / "brasil"), [f"Uma frase brasileira número {i} com palavras" for i in range(30)])
    return str(root)


def test_parse_splits_on_percent_lines(tmp_path):
    path = tmp_path / "f"
    path.write_text("first\nline two\n%\n\n%\nsecond  \n%\n", encoding="utf-8")
    assert data.parse_fortune_file(str(path)) == ["first\nline two", "second"]


def test_languages_exclusions_and_dedup(tree):
    files = data.language_files(tree)
    assert sorted(files) == ["cs", "de", "en", "es", "pt", "sk"]
    read = [os.path.relpath(p, tree) for paths in files.values() for p in paths]
    assert not any(p.startswith("off") or "/off/" in p or p.endswith(".dat") for p in read)
    assert "art" not in read and os.path.join("cs", "klasik-sk") in files["sk"][0]
    corpus = data.load_corpus(root=tree)
    everything = [t for texts in corpus.values() for t in texts]
    assert not any("Offensive" in t or "ofensivo" in t or "ascii" in t for t in everything)
    # the text under two languages is dropped from both; repeats within Spanish kept once
    assert not any(t.startswith("Shared proverb") for t in everything)
    assert len(corpus["es"]) == 30 and len(corpus["en"]) == 30 and len(corpus["sk"]) == 30


def test_split_is_fixed_by_seed_disjoint_and_capped(tree):
    corpus = data.load_corpus(root=tree)
    a = data.split_corpus(corpus, max_per_language=20, seed=3)
    b = data.split_corpus(corpus, max_per_language=20, seed=3)
    c = data.split_corpus(corpus, max_per_language=20, seed=4)
    assert a.train == b.train and a.test == b.test and a.train != c.train
    sets = [set(a.train), set(a.validation), set(a.test)]
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])
    assert len(a.train) + len(a.validation) + len(a.test) == 20 * len(corpus)
    for i, lang in enumerate(a.languages):  # every language in every split
        for labels in (a.train_labels, a.validation_labels, a.test_labels):
            assert (labels == i).sum() > 0
