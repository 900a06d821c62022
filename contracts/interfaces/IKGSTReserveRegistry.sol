// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @notice What the issuance controller reads from the reserve registry.
interface IKGSTReserveRegistry {
    /// @notice The latest attested reserves converted exactly to KGST base units (18 decimals), the time they
    /// were measured, and how many attestations exist (0: none yet, and the other values are 0).
    function latestReserves() external view returns (uint256 reservesTokenUnits, uint64 asOf, uint256 count);
}
