// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/// @title SignatureVerification
/// @notice Checks a signature for a given signer: a plain ECDSA signature first, then ERC-1271.
/// @dev OpenZeppelin 5.x `SignatureChecker.isValidSignatureNow` sends every address that has code to ERC-1271
/// only. Since EIP-7702 (live on BNB Chain) an EOA can have code (its delegation designator) and still sign
/// with its key, so trying ECDSA first keeps such accounts working. ECDSA.tryRecover rejects high-s
/// (malleable) signatures and bad `v` values.
library SignatureVerification {
    /// @notice The signature is not a valid ECDSA signature by `signer`, nor accepted by `signer` under ERC-1271.
    error InvalidSignature(address signer);

    function isValid(address signer, bytes32 digest, bytes memory signature) internal view returns (bool) {
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecover(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return true;
        return signer.code.length != 0 && SignatureChecker.isValidERC1271SignatureNow(signer, digest, signature);
    }

    function requireValid(address signer, bytes32 digest, bytes memory signature) internal view {
        if (signer == address(0) || !isValid(signer, digest, signature)) revert InvalidSignature(signer);
    }
}
