"""Shared logic for the KGST operations scripts and tests."""
