// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @notice Test-only: claims to be a UUPS implementation but for another proxy standard (wrong proxiableUUID),
/// so the upgrade tests can show that `upgradeToAndCall` refuses it.
contract WrongProxiableUUIDMock {
    function proxiableUUID() external pure returns (bytes32) {
        return keccak256("not.the.erc1967.implementation.slot");
    }
}

/// @notice Test-only ERC-20 whose transfer returns false instead of reverting (as some old tokens do), so the
/// rescue tests can show that a silent failure is turned into a revert (SafeERC20).
contract FalseReturningTokenMock {
    function transfer(address, uint256) external pure returns (bool) {
        return false;
    }
}
