"""About how many tokens a text is, without a tokenizer: for model calls that report no usage.

LangChain's fake models (``FakeListChatModel``) and many local models report no token counts.
The span then gets an estimate, marked ``spyglass.usage.estimated`` so that every view shows
it as one (``~12→5``). No tokenizer ships with the ``langchain`` extra (LlamaIndex has its own
and uses it, ``llama_index._usage``), so this counts what BPE tokenizers of the GPT family do
on average: a short English word is one token and a long one about one per six letters, other
alphabets about one per three letters, a CJK character one, digits one per three, a run of
punctuation one per two characters. On English prose, JSON and code it lands within about 20%
of OpenAI's ``cl100k`` counts.

Runs on the exporter's thread (deferred with the response), once per call that reported
nothing.
"""

from __future__ import annotations

import re

#: Letters (a run of them is a word), digits, punctuation; whitespace is skipped.
_PIECES = re.compile(r"[^\W\d_]+|\d+|[^\w\s]+|_+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def estimate_tokens(text: str) -> int:
    """About how many tokens ``text`` is (0 for no text)."""
    total = 0
    for piece in _PIECES.findall(text):
        first = piece[0]
        if first.isdigit():
            total += (len(piece) + 2) // 3
        elif first.isalpha():
            if piece.isascii():
                total += 1 + (len(piece) - 1) // 6
                continue
            wide = len(_CJK.findall(piece))
            rest = len(piece) - wide
            total += wide + (rest + 2) // 3
        else:
            total += (len(piece) + 1) // 2
    return total
