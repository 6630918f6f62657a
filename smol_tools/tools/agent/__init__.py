"""The function-calling agent: registry of typed functions, built-ins, the decide/run loop."""
