from __future__ import annotations

import pytest

from lean_env.coq.sentences import SentenceError, split_one, split_sentences


def texts(src: str) -> list[str]:
    return [s.text for s in split_sentences(src)]


def test_comments_strings_and_qualified_names() -> None:
    src = (
        'Require Import Coq.Arith.Arith. (* a. comment (* nested. *) "str. *)" *)\n'
        'Lemma x : "a. b" = "a. b".\nProof. idtac "x."%string. reflexivity. Qed.'
    )
    assert texts(src) == [
        "Require Import Coq.Arith.Arith.",
        'Lemma x : "a. b" = "a. b".',
        "Proof.",
        'idtac "x."%string.',
        "reflexivity.",
        "Qed.",
    ]


def test_bullets_braces_and_selectors() -> None:
    src = (
        "split.\n- auto.\n  + simpl.\n    ** lia.\n- { auto. }\n2: { reflexivity. }\n[x]: {auto. }"
    )
    assert texts(src) == [
        "split.",
        "-",
        "auto.",
        "+",
        "simpl.",
        "**",
        "lia.",
        "-",
        "{",
        "auto.",
        "}",
        "2: {",
        "reflexivity.",
        "}",
        "[x]: {",
        "auto.",
        "}",
    ]


def test_dotdot_does_not_end_a_sentence() -> None:
    src = 'Notation "[ x ; .. ; y ]" := (cons x .. (cons y nil) ..).\nCheck 1.'
    assert len(split_sentences(src)) == 2


def test_offsets_point_into_source() -> None:
    src = "  intros.\n  (* c *) auto."
    spans = [src[s.start : s.end] for s in split_sentences(src)]
    assert spans == ["intros.", "auto."]


@pytest.mark.parametrize("bad", ["intros", '"unterminated. x.', "(* open comment. x."])
def test_malformed_input_raises(bad: str) -> None:
    with pytest.raises(SentenceError):
        split_sentences(bad)


def test_split_one() -> None:
    assert split_one("auto").text == "auto."
    assert split_one("  simpl; auto.  ").text == "simpl; auto."
    with pytest.raises(SentenceError):
        split_one("intros. auto.")
    with pytest.raises(SentenceError):
        split_one("intros. auto")
