"""System-wide invariant tests: a hypothesis state machine over token, controller and registry (see conftest.py)."""
