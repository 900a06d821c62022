// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";

/// @notice Test-only smart-contract wallet for the ERC-1271 paths of KGST's permit and EIP-3009.
/// @dev Accepts (a) a 65-byte ECDSA signature by its owner key over the raw hash (no prefix), and (b) an
/// empty signature for a hash the owner pre-approved on chain (as Safe's approved hashes), which shows that
/// the `bytes` overloads carry signatures that are not 65 bytes long. The owner drives the wallet's token
/// holdings through `execute`.
contract MockERC1271Wallet is IERC1271 {
    bytes4 private constant INVALID = 0xffffffff;

    address public immutable owner;
    mapping(bytes32 hash => bool) public approvedHashes;

    error NotOwner(address caller);

    constructor(address owner_) {
        owner = owner_;
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    function isValidSignature(bytes32 hash, bytes memory signature) external view returns (bytes4) {
        if (signature.length == 0) return approvedHashes[hash] ? IERC1271.isValidSignature.selector : INVALID;
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        return err == ECDSA.RecoverError.NoError && recovered == owner ? IERC1271.isValidSignature.selector : INVALID;
    }

    function approveHash(bytes32 hash) external onlyOwner {
        approvedHashes[hash] = true;
    }

    function execute(address target, uint256 value, bytes calldata data) external payable onlyOwner returns (bytes memory) {
        return Address.functionCallWithValue(target, data, value);
    }

    receive() external payable {}
}
