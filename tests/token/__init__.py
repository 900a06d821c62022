"""KGST token tests (contracts/KGSTToken.sol behind contracts/KGSTProxy.sol)."""
