"""Tools: prompts in, engine calls, cleaned text out. No UI and no disk I/O here."""
