"""Attention hypotheses for language models, stated over the "sequence" space (every token the
model reads, prompt then answer: `Sample.seq`):

- previous token: query i attends to i-1;
- duplicate token: to earlier positions holding the same token;
- induction (Olsson et al. 2022): to the position just after an earlier occurrence of the current
  token (on a repeated random sequence: i - L + 1, the token that came next last time);
- copy (attends to the answer): where the model is about to write an answer token, to the places
  in the prompt holding that token (a few-shot answer copied from the query or a demonstration).
"""

from __future__ import annotations

from behaviorlab.interpret.hypotheses import Hypothesis, Sample, Target


def previous_token(s: Sample) -> list[Target]:
    """i -> i - 1."""
    return [i - 1 if i > 0 else None for i in range(len(s.seq))]


def duplicate_token(s: Sample) -> list[Target]:
    """i -> every earlier j with seq[j] == seq[i]."""
    return [[j for j in range(i) if s.seq[j] == t] or None for i, t in enumerate(s.seq)]


def induction(s: Sample) -> list[Target]:
    """i -> every j + 1 < i with seq[j] == seq[i] (the token after an earlier occurrence)."""
    return [[j + 1 for j in range(i - 1) if s.seq[j] == t] or None for i, t in enumerate(s.seq)]


def answer_start(s: Sample) -> int:
    """Index in `seq` of the first answer token (the answer is tgt without its bos slot)."""
    return len(s.seq) - (len(s.tgt) - 1)


def copy_answer(s: Sample) -> list[Target]:
    """At each position that predicts an answer token, the prompt positions holding that token."""
    first = answer_start(s)
    out: list[Target] = []
    for i in range(len(s.seq)):
        nxt = s.seq[i + 1] if i + 1 < len(s.seq) else None
        if i + 1 < first or nxt is None:
            out.append(None)
        else:
            out.append([j for j in range(first) if s.seq[j] == nxt] or None)
    return out


LM: tuple[Hypothesis, ...] = (
    Hypothesis("previous token", "sequence", previous_token),
    Hypothesis("duplicate token", "sequence", duplicate_token),
    Hypothesis("induction", "sequence", induction),
    Hypothesis("copy (attends to the answer)", "sequence", copy_answer),
)
# Short names for `--ablate top:NAME:K`.
KEYS: dict[str, Hypothesis] = dict(zip(("previous", "duplicate", "induction", "copy"), LM, strict=True))
