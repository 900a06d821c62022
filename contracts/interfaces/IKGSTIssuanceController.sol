// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @notice What a successor issuance controller asks its predecessor.
interface IKGSTIssuanceController {
    /// @notice Whether `depositRef` was ever used for a mint request here (or by this controller's predecessor).
    function depositRefUsed(bytes32 depositRef) external view returns (bool);
}
