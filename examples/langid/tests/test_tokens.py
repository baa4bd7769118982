"""The document's example: tokens, bigrams and trigrams equal NLTK's own."""

from nltk.tokenize import NLTKWordTokenizer, word_tokenize
from nltk.util import ngrams

from examples.langid import features

SENTENCE = "This is a sample sentence for tokenization and n-gram generation."


def test_tokens_equal_nltk():
    expected = NLTKWordTokenizer().tokenize(SENTENCE)
    assert features.tokenize(SENTENCE) == expected
    # word_tokenize without Punkt gives the same tokens as the tokenizer it wraps.
    assert word_tokenize(SENTENCE, preserve_line=True) == expected
    assert expected == ["This", "is", "a", "sample", "sentence", "for", "tokenization", "and",
                        "n-gram", "generation", "."]


def test_bigrams_and_trigrams_equal_nltk():
    tokens = NLTKWordTokenizer().tokenize(SENTENCE)
    for n in (1, 2, 3):
        assert features.word_ngrams(features.tokenize(SENTENCE), n) == list(ngrams(tokens, n))
    assert features.word_ngrams(tokens, 2)[0] == ("This", "is")
    assert features.word_ngrams(tokens, 3)[-1] == ("n-gram", "generation", ".")


def test_char_trigrams_are_nltk_ngrams_of_the_padded_lowercase_text():
    grams = features.char_trigrams("Ab c")
    assert grams == ["".join(g) for g in ngrams(" ab c ", 3)] == [" ab", "ab ", "b c", " c "]


def test_hashed_row_is_stable_and_unit_norm():
    columns, values = features.hashed_row(SENTENCE, 14)
    again_columns, again_values = features.hashed_row(SENTENCE, 14)
    assert (columns == again_columns).all() and (values == again_values).all()
    assert columns.min() >= 0 and columns.max() < 1 << 14
    assert len(set(columns.tolist())) == len(columns)
    assert abs(float((values.astype("float64") ** 2).sum()) - 1.0) < 1e-6
    # CRC-32 does not depend on PYTHONHASHSEED: a known column for a known key.
    import zlib
    key = "w\x1fthis"
    assert zlib.crc32(key.encode()) & ((1 << 14) - 1) in columns.tolist()
