// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @notice Test-only reader for the system-wide invariant machine (tests/invariants): runs many view calls on
/// several contracts (token, controller, registry) in ONE eth_call and returns their raw return data laid end to
/// end, after the block's timestamp and number. Each call states how many 32-byte words it returns (static types
/// only), so the output is allocated once and the caller slices it without ABI-decoding every value.
contract InvariantReader {
    struct Call {
        address target;
        bytes data;
        uint256 words; // exact length of the return data, in 32-byte words
    }

    /// @notice Call `index` reverted or returned other than `words` words.
    error ReadFailed(uint256 index, bytes returnData);

    function read(Call[] calldata calls) external view returns (uint256 timestamp, uint256 blockNumber, bytes memory out) {
        uint256 total;
        for (uint256 i = 0; i < calls.length; ++i) {
            total += calls[i].words;
        }
        out = new bytes(total * 32);
        uint256 offset;
        for (uint256 i = 0; i < calls.length; ++i) {
            Call calldata c = calls[i];
            (bool ok, bytes memory ret) = c.target.staticcall(c.data);
            if (!ok || ret.length != c.words * 32) revert ReadFailed(i, ret);
            assembly ("memory-safe") {
                mcopy(add(add(out, 32), offset), add(ret, 32), mload(ret))
            }
            offset += ret.length;
        }
        return (block.timestamp, block.number, out);
    }
}
