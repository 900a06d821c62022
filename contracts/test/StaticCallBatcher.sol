// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @notice Test-only reader: runs many one-word view calls on one contract in a single eth_call, so a test can
/// snapshot a token's whole observable state (balances, allowances, counters, flags) in one round trip.
contract StaticCallBatcher {
    error ReadFailed(uint256 index, bytes returnData);

    /// @return words the first 32-byte word each call returned (a uint256, bool or address)
    function readWords(address target, bytes[] calldata calls) external view returns (uint256[] memory words) {
        words = new uint256[](calls.length);
        for (uint256 i = 0; i < calls.length; ++i) {
            (bool ok, bytes memory ret) = target.staticcall(calls[i]);
            if (!ok || ret.length < 32) revert ReadFailed(i, ret);
            words[i] = abi.decode(ret, (uint256));
        }
    }
}
