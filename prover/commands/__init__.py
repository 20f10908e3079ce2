"""One module per `dco` subcommand: each defines add_arguments(parser) and run(args) -> int."""
