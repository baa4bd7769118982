"""The corpus: Debian's fortune-cookie files, one language per package, split by a fixed seed.

Where each language lives (Debian 12, /usr/share/games/fortunes):
  en  the top-level files of `fortunes` and `fortunes-min` (regular files; the top-level
      symlinks point into it/, and `brasil` is fortunes-br's Portuguese file)
  pt  brasil (fortunes-br)
  de it es pl ru bg eo ga   the folder of the same name (fortunes-de, -it, ...)
  cs  cs/ without klasik-sk (fortunes-cs; cz/ only links into cs/)
  sk  cs/klasik-sk (the one Slovak file fortunes-cs ships, also linked as sk/klasik-sk)
Slovak is kept apart from Czech: its 289 quotes are few but separable, see README.md.
Offensive sections are excluded: the `off/` folders (top level, es/off) are never read.
"""

import os
import re
from dataclasses import dataclass

import numpy as np

FORTUNE_DIR = "/usr/share/games/fortunes"
# Folders never read: offensive sections, and the compatibility link folders of fortunes-cs.
SKIPPED_DIRS = {"off", "cz", "sk"}
# ASCII art and side-by-side translations: not text in the file's language.
SKIPPED_FILES = {"art", "ascii-art", "asciiart", "banner", "translations", "translate-me"}
SLOVAK_FILE = "klasik-sk"
LANGUAGE_DIRS = ("bg", "cs", "de", "eo", "es", "ga", "it", "pl", "ru")
PORTUGUESE_FILE = "brasil"
ALL_LANGUAGES = ("bg", "cs", "de", "en", "eo", "es", "ga", "it", "pl", "pt", "ru", "sk")
LANGUAGE_NAMES = {
    "bg": "Bulgarian", "cs": "Czech", "de": "German", "en": "English", "eo": "Esperanto",
    "es": "Spanish", "ga": "Irish", "it": "Italian", "pl": "Polish", "pt": "Portuguese",
    "ru": "Russian", "sk": "Slovak",
}
MIN_LETTERS = 12          # shorter entries (a bare name, a smiley) say nothing about a language
MIN_LETTER_SHARE = 0.5    # fewer letters than this among non-space characters: art, not text
_SEPARATOR = re.compile(r"^%\s*$", re.MULTILINE)
_SPACE = re.compile(r"\s+")


@dataclass
class Split:
    """Texts and their language indices (into `languages`) for train, validation and test."""
    languages: tuple
    train: list
    train_labels: np.ndarray
    validation: list
    validation_labels: np.ndarray
    test: list
    test_labels: np.ndarray


def parse_fortune_file(path):
    """The entries of one %-separated fortune file, whitespace-stripped, empty ones dropped."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    return [entry.strip() for entry in _SEPARATOR.split(text) if entry.strip()]


def _is_fortune_file(path):
    name = os.path.basename(path)
    return (os.path.isfile(path) and not os.path.islink(path) and not name.startswith(".")
            and not name.endswith((".dat", ".u8")) and name not in SKIPPED_FILES)


def language_files(root=FORTUNE_DIR):
    """{language: [fortune files]} for the languages whose package is installed under root."""
    files = {}
    top = sorted(os.path.join(root, n) for n in os.listdir(root))
    english = [p for p in top if _is_fortune_file(p) and os.path.basename(p) != PORTUGUESE_FILE]
    if english:
        files["en"] = english
    if _is_fortune_file(os.path.join(root, PORTUGUESE_FILE)):
        files["pt"] = [os.path.join(root, PORTUGUESE_FILE)]
    for lang in LANGUAGE_DIRS:
        folder = os.path.join(root, lang)
        if not os.path.isdir(folder) or lang in SKIPPED_DIRS:
            continue
        paths = [p for p in (os.path.join(folder, n) for n in sorted(os.listdir(folder)))
                 if _is_fortune_file(p)]  # subfolders such as es/off are not files: skipped
        if lang == "cs":
            slovak = [p for p in paths if os.path.basename(p) == SLOVAK_FILE]
            paths = [p for p in paths if os.path.basename(p) != SLOVAK_FILE]
            if slovak:
                files["sk"] = slovak
        if paths:
            files[lang] = paths
    return files


def normalise(text):
    """One line, single spaces: the form that is tokenised, and the key duplicates are found by."""
    return _SPACE.sub(" ", text).strip()


def _looks_like_text(text):
    visible = text.replace(" ", "")
    letters = sum(ch.isalpha() for ch in visible)
    return letters >= MIN_LETTERS and letters >= MIN_LETTER_SHARE * len(visible)


def load_corpus(languages=None, root=FORTUNE_DIR):
    """{language: [unique normalised entries]}. An entry found under two languages is dropped
    from both (it cannot be labelled); repeats within one language are kept once."""
    files = language_files(root)
    wanted = sorted(files) if languages is None else list(languages)
    missing = [lang for lang in wanted if lang not in files]
    if missing:
        raise ValueError(f"no fortune files for {missing} under {root} "
                         f"(install fortunes-<lang>; found {sorted(files)})")
    owners = {}
    corpus = {lang: [] for lang in wanted}
    for lang in wanted:
        for path in files[lang]:
            for entry in parse_fortune_file(path):
                text = normalise(entry)
                if not _looks_like_text(text):
                    continue
                key = text.lower()
                if key not in owners:
                    owners[key] = lang
                    corpus[lang].append(text)
                elif owners[key] != lang:
                    owners[key] = None
    return {lang: [t for t in texts if owners[t.lower()] == lang] for lang, texts in corpus.items()}


def split_corpus(corpus, max_per_language=None, seed=0, fractions=(0.8, 0.1, 0.1)):
    """A fixed-seed train/validation/test split per language (so every language is in every
    split), after capping each language at max_per_language entries drawn by the same seed.
    The corpus holds each text once, so no text is in two splits."""
    languages = tuple(sorted(corpus))
    rng = np.random.default_rng(seed)
    parts = {"train": ([], []), "validation": ([], []), "test": ([], [])}
    for index, lang in enumerate(languages):
        texts = corpus[lang]
        order = rng.permutation(len(texts))
        if max_per_language is not None:
            order = order[:max_per_language]
        n_train = int(round(fractions[0] * len(order)))
        n_val = int(round(fractions[1] * len(order)))
        bounds = {"train": order[:n_train], "validation": order[n_train:n_train + n_val],
                  "test": order[n_train + n_val:]}
        for name, picks in bounds.items():
            parts[name][0].extend(texts[i] for i in picks)
            parts[name][1].extend([index] * len(picks))
    return Split(languages,
                 parts["train"][0], np.array(parts["train"][1], dtype=np.int64),
                 parts["validation"][0], np.array(parts["validation"][1], dtype=np.int64),
                 parts["test"][0], np.array(parts["test"][1], dtype=np.int64))
