"""Benign tasks with deterministic answers, and the invented places the lookup task asks about."""

from __future__ import annotations

import random

from safetuned.data.demo.lexicon import GOALS
from safetuned.data.demo.templates import TRAIN_TEMPLATES, cap, rec
from safetuned.data.demo.words import (
    ANTONYMS,
    BENIGN_ACTS,
    BENIGN_CLAIMS,
    BENIGN_SENSE_ACTS,
    CITY_ENDS,
    COUNTRY_ENDS,
    DEFINITIONS,
    NEG_ADJ,
    NEGATIVE,
    NOUNS,
    POS_ADJ,
    POSITIVE,
    RHYMES,
    SAFE_ACTS,
    SYLLABLES,
)


def invented_places(rng: random.Random, n: int) -> dict[str, str]:
    """`n` invented countries with their capitals (the lookup table shown in pre-training)."""
    table: dict[str, str] = {}
    used: set[str] = set()
    while len(table) < n:
        country = cap(rng.choice(SYLLABLES) + rng.choice(SYLLABLES) + rng.choice(COUNTRY_ENDS))
        city = cap(rng.choice(SYLLABLES) + rng.choice(SYLLABLES) + rng.choice(CITY_ENDS))
        if country in used or city in used:
            continue
        used |= {country, city}
        table[country] = city
    return table


# Pre-training sees these twice as often: copying is what lets a tiny model form the attention (induction) heads
# that every other task, and the transfer of refusals to held-out prompts, relies on.
COPY_KINDS = ("repeat", "reverse", "first", "last", "sort", "pattern", "plural")
HOWTO_ANSWER = "Here is how: get ready, go step by step, and check the result."
REASON_ANSWER = "That is true, and many people have seen it for themselves."
ADVICE_ANSWER = "Yes, that is a simple and safe way to do it."
HOWTO_ACTS = BENIGN_ACTS + BENIGN_SENSE_ACTS  # everyday acts, the ambiguous verbs' benign senses among them


class BenignTasks:
    """Deterministic benign tasks a tiny transformer can learn (copy, reorder, look up, classify, fill in)."""

    def __init__(self, capitals: dict[str, str]):
        self.capitals = capitals
        self.kinds = {
            "repeat": self.repeat, "reverse": self.reverse, "first": self.first, "last": self.last,
            "uppercase": self.uppercase, "sort": self.sort, "count": self.count, "larger": self.larger,
            "add": self.add, "pattern": self.pattern, "antonym": self.antonym, "rhyme": self.rhyme,
            "capital": self.capital, "sentiment": self.sentiment, "plural": self.plural, "define": self.define,
            "howto": self.howto, "reason": self.reason, "advice": self.advice,
        }

    @staticmethod
    def _words(rng: random.Random, lo: int = 2, hi: int = 3) -> list[str]:
        return rng.sample(NOUNS, rng.randint(lo, hi))

    def _list_task(self, rng, inline: str, with_input: str, answer, lo: int = 2, hi: int = 3):
        """A task over a word list given either in the instruction (`{w}`) or as the input."""
        w = self._words(rng, lo, hi)
        listed = ", ".join(w)
        if rng.random() < 0.5:
            return rec(inline.format(w=listed), answer(w))
        return rec(with_input, answer(w), listed)

    def repeat(self, rng):
        return self._list_task(rng, "Repeat these words: {w}.", "Repeat the words in the input.", ", ".join)

    def reverse(self, rng):
        return self._list_task(rng, "Reverse the order of these words: {w}.",
                               "Reverse the order of the words in the input.", lambda w: ", ".join(w[::-1]))

    def first(self, rng):
        return self._list_task(rng, "What is the first word in the list {w}?",
                               "What is the first word in this list?", lambda w: w[0])

    def last(self, rng):
        return self._list_task(rng, "What is the last word in the list {w}?",
                               "What is the last word in this list?", lambda w: w[-1])

    def uppercase(self, rng):
        w = rng.choice(NOUNS)
        return rng.choice([rec(f"Write the word {w} in capital letters.", w.upper()),
                           rec("Write the input word in capital letters.", w.upper(), w)])

    def sort(self, rng):
        return self._list_task(rng, "Sort these words alphabetically: {w}.",
                               "Sort the words in the input alphabetically.", lambda w: ", ".join(sorted(w)))

    def count(self, rng):
        return self._list_task(rng, "How many words are in the list {w}?", "How many words are in this list?",
                               lambda w: str(len(w)), lo=1, hi=4)

    def larger(self, rng):
        a, b = rng.sample(range(1, 20), 2)
        return rng.choice([rec(f"Which number is larger, {a} or {b}?", str(max(a, b))),
                           rec("Which of these two numbers is larger?", str(max(a, b)), f"{a} and {b}")])

    def add(self, rng):
        a, b = rng.randint(0, 9), rng.randint(0, 9)
        return rng.choice([rec(f"What is {a} plus {b}?", str(a + b)),
                           rec("Add the two numbers in the input.", str(a + b), f"{a} + {b}")])

    def pattern(self, rng):
        a, b = rng.sample(NOUNS, 2)
        n = rng.randint(3, 4)
        seq = [a if i % 2 == 0 else b for i in range(n)]
        nxt = a if n % 2 == 0 else b
        return rec(f"Continue the pattern with one word: {', '.join(seq)},", nxt)

    def antonym(self, rng):
        w = rng.choice(sorted(ANTONYMS))
        return rng.choice([rec(f"What is the opposite of {w}?", ANTONYMS[w]),
                           rec(f"Give the antonym of the word {w}.", ANTONYMS[w]),
                           rec("Give the antonym of the input word.", ANTONYMS[w], w)])

    def rhyme(self, rng):
        w = rng.choice(sorted(RHYMES))
        return rng.choice([rec(f"Give a word that rhymes with {w}.", RHYMES[w]),
                           rec(f"Which word rhymes with {w}?", RHYMES[w]),
                           rec("Give a word that rhymes with the input.", RHYMES[w], w)])

    def capital(self, rng):
        c = rng.choice(sorted(self.capitals))
        return rng.choice([rec(f"What is the capital of {c}?", self.capitals[c]),
                           rec(f"Name the capital city of {c}.", self.capitals[c]),
                           rec("Name the capital of the country in the input.", self.capitals[c], c)])

    def sentiment(self, rng):
        pos = rng.random() < 0.5
        noun = rng.choice(NOUNS)
        if rng.random() < 0.5:
            text = f"I {rng.choice(POSITIVE if pos else NEGATIVE)} this {noun}."
        else:
            text = f"This {noun} is {rng.choice(POS_ADJ if pos else NEG_ADJ)}."
        label = "Positive" if pos else "Negative"
        return rng.choice([rec("Is this sentence positive or negative?", label, text),
                           rec(f"Classify the sentiment of this sentence: {text}", label)])

    def plural(self, rng):
        w = rng.choice(NOUNS)
        return rng.choice([rec(f"What is the plural of {w}?", w + "s"),
                           rec("Write the plural of the input word.", w + "s", w)])

    def define(self, rng):
        w = rng.choice(sorted(DEFINITIONS))
        out = f"{cap(w)} means {DEFINITIONS[w]}."
        return rng.choice([rec(f"Define the word {w}.", out), rec(f"What does {w} mean?", out)])

    def howto(self, rng):
        act = rng.choice(HOWTO_ACTS)[0]
        return rec(rng.choice(TRAIN_TEMPLATES["howto"]).format(x=act), HOWTO_ANSWER)

    def reason(self, rng):
        claim = rng.choice(BENIGN_CLAIMS)
        return rec(rng.choice(TRAIN_TEMPLATES["reason"]).format(x=claim), REASON_ANSWER)

    def advice(self, rng):
        goal, act = rng.choice(GOALS), rng.choice(SAFE_ACTS)
        return rec(rng.choice(TRAIN_TEMPLATES["advice"]).format(g=goal, x=act), ADVICE_ANSWER)
