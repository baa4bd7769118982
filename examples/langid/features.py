"""Text -> hashed n-gram features: NLTK tokens, word unigrams and bigrams, character trigrams.

NLTK's `word_tokenize` first splits sentences with Punkt, whose data cannot be downloaded here;
`word_tokenize(text, preserve_line=True)` skips that step and is NLTKWordTokenizer's tokenize,
the same tokens `word_tokenize` gives on one sentence. The n-grams are `nltk.util.ngrams`.

Each n-gram is hashed with CRC-32 (stable across runs and machines, unlike Python's salted
`hash`) into 2**bits columns; a row holds log(1 + count) per column, scaled to unit L2 norm, so
long and short texts give inputs of one size.
"""

import zlib
from dataclasses import dataclass

import numpy as np
from nltk.tokenize import word_tokenize
from nltk.util import ngrams

# Kinds of n-gram get their own prefix so that the word "the" and the trigram "the" differ.
_WORD, _BIGRAM, _CHAR3 = "w\x1f", "b\x1f", "c\x1f"


def tokenize(text):
    """NLTK's word tokens of text, without Punkt sentence splitting."""
    return word_tokenize(text, preserve_line=True)


def word_ngrams(tokens, n):
    """The word n-grams of a token list, as nltk.util.ngrams gives them (tuples)."""
    return list(ngrams(tokens, n))


def char_trigrams(text):
    """Character trigrams of the lower-cased text with a space at each end (so that the first
    and last letters make trigrams of their own), as strings."""
    return ["".join(gram) for gram in ngrams(" " + text.lower() + " ", 3)]


def feature_keys(text):
    """Every feature of text as a string: lower-cased word unigrams, word bigrams, char trigrams."""
    words = [token.lower() for token in tokenize(text)]
    keys = [_WORD + w for w in words]
    keys += [_BIGRAM + a + " " + b for a, b in word_ngrams(words, 2)]
    keys += [_CHAR3 + g for g in char_trigrams(text)]
    return keys


def hashed_row(text, bits):
    """(columns, values) of one text: unique sorted columns, L2-normalised log counts (float32)."""
    mask = (1 << bits) - 1
    columns = np.fromiter((zlib.crc32(key.encode("utf-8")) & mask for key in feature_keys(text)),
                          dtype=np.int64)
    columns, counts = np.unique(columns, return_counts=True)
    values = np.log1p(counts.astype(np.float64))
    norm = np.sqrt(np.sum(values * values))
    if norm > 0:
        values /= norm
    return columns, values.astype(np.float32)


@dataclass
class HashedRows:
    """A sparse [rows, 2**bits] matrix (CSR), densified a minibatch at a time."""
    bits: int
    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray

    def __len__(self):
        return len(self.indptr) - 1

    @property
    def width(self):
        return 1 << self.bits

    def dense(self, rows, out=None):
        """The rows (an index array) as a dense float32 [len(rows), width] array (into out)."""
        rows = np.asarray(rows)
        if out is None:
            out = np.zeros((len(rows), self.width), dtype=np.float32)
        else:
            out[:len(rows)] = 0
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        lengths = ends - starts
        which_row = np.repeat(np.arange(len(rows)), lengths)
        positions = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends)]) \
            if len(rows) else np.zeros(0, dtype=np.int64)
        out[which_row, self.indices[positions]] = self.values[positions]
        return out[:len(rows)]


def hash_texts(texts, bits):
    """HashedRows of a list of texts."""
    indptr = [0]
    indices, values = [], []
    for text in texts:
        columns, vals = hashed_row(text, bits)
        indices.append(columns)
        values.append(vals)
        indptr.append(indptr[-1] + len(columns))
    empty_i, empty_v = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    return HashedRows(bits, np.array(indptr, dtype=np.int64),
                      np.concatenate(indices) if indices else empty_i,
                      np.concatenate(values) if values else empty_v)
