"""The composition root: the CLI and the runtime that wires api (and, later, bot and dispatcher)."""
