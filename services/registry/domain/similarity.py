"""Vietnamese-aware similarity of two initiative texts, for flagging possible duplicates.

Text is NFC-normalised and folded (lower case, no diacritics, đ → d), so "Sáng kiến" typed with or
without accents compares equal. Vietnamese words are syllables, so single words say little: word
bigrams carry the meaning, character trigrams catch typos and reordering. The score blends both
Jaccard overlaps (0..1).
"""

import itertools
import re
import sys
import unicodedata
from dataclasses import dataclass

from shared.text import fold

_word_re = re.compile(r"[a-z0-9]+")
# Syllables so common in registrations that sharing them means nothing.
STOP = frozenset(
    "va cua cho cac cong doan trong nhung mot de voi tai la duoc co khong nham ve tu theo tren hoat dong".split()
)
WORD_WEIGHT = 0.6


def words(text: str) -> list[str]:
    return _word_re.findall(fold(unicodedata.normalize("NFC", text)))


@dataclass(frozen=True)
class Features:
    terms: frozenset[str]  # content words and word bigrams: what the index looks up
    grams: frozenset[str]  # character trigrams of the folded text


def features(text: str) -> Features:
    tokens = words(text)
    # Interned: every index entry shares one object per term and trigram (less memory, and a set
    # intersection finds equal strings identical without comparing their characters).
    terms = {sys.intern(w) for w in tokens if w not in STOP}
    terms.update(sys.intern(f"{a}_{b}") for a, b in itertools.pairwise(tokens) if not (a in STOP and b in STOP))
    joined = " ".join(tokens)
    grams = {sys.intern(joined[i : i + 3]) for i in range(max(len(joined) - 2, 0))}
    return Features(frozenset(terms), frozenset(grams))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    shared = len(a & b)  # |a ∪ b| from the sizes: no union set is built
    return shared / (len(a) + len(b) - shared)


def similarity(a: Features, b: Features) -> float:
    score = WORD_WEIGHT * jaccard(a.terms, b.terms) + (1 - WORD_WEIGHT) * jaccard(a.grams, b.grams)
    return round(score, 3)
