"""Evaluation (and, with the fine-tune issue, training): BFCL for the agent (`bfcl`) and the
agent's own request sets (`agent_eval`). Only the CLI's `eval` command imports this package."""
