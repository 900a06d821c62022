// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {KGSTToken} from "../KGSTToken.sol";

/// @notice Test-only upgrade target: KGSTToken plus a version getter and nothing that touches storage, so the
/// upgrade tests can show that every piece of state survives `upgradeToAndCall`.
contract KGSTTokenV2Mock is KGSTToken {
    function version() external pure returns (uint256) {
        return 2;
    }
}
