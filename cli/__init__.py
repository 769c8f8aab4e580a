"""The `homelab` command: one argparse tree, one module per command, one error reporter, one set of exit codes."""
