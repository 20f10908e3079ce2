(* A small bundled example for `dco check` and the README's first run. *)
Require Import Arith Lia List.

Lemma add_zero_r : forall n : nat, n + 0 = n.
Proof.
  intros n. induction n as [| n IH].
  - reflexivity.
  - simpl. rewrite IH. reflexivity.
Qed.

Lemma double_plus : forall n : nat, 2 * n = n + n.
Proof. intros n. lia. Qed.

Section Lists.
  Variable A : Type.

  Theorem app_nil_end : forall l : list A, l ++ nil = l.
  Proof.
    induction l as [| x l IH]; simpl.
    { reflexivity. }
    { rewrite IH. reflexivity. }
  Qed.
End Lists.

Module Pairs.
  Theorem swap_swap : forall (A B : Type) (p : A * B),
      (let '(a, b) := p in (b, a)) = (let '(a, b) := p in (b, a)).
  Proof. intros A B [a b]. reflexivity. Qed.
End Pairs.
