"""Command-line interface behind run.py: one module per subcommand, each with ``register``."""
