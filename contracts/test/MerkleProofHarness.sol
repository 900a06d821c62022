// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @notice Test-only wrapper that exposes OpenZeppelin's MerkleProof, so the tests can check that proofs built by
/// kgst.merkle verify exactly as the mint contracts will verify them.
contract MerkleProofHarness {
    /// @notice The leaf of a mint (recipient, amount, depositRef), hashed twice as @openzeppelin/merkle-tree does.
    function leafHash(address recipient, uint256 amount, bytes32 depositRef) external pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(recipient, amount, depositRef))));
    }

    function verify(bytes32[] calldata proof, bytes32 root, bytes32 leaf) external pure returns (bool) {
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    function multiProofVerify(
        bytes32[] calldata proof,
        bool[] calldata proofFlags,
        bytes32 root,
        bytes32[] calldata leaves
    ) external pure returns (bool) {
        return MerkleProof.multiProofVerifyCalldata(proof, proofFlags, root, leaves);
    }
}
