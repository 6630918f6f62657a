"""smol-tools: local assistant tools on SmolLM models through llama.cpp."""

__version__ = "0.1.0"
