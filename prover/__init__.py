"""What a user runs: dco / prove commands, evaluation, ensembles, expert iteration."""
