// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC1967Utils} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Utils.sol";

/// @title KGSTProxy
/// @notice The ERC-1967 proxy in front of the UUPS-upgradeable KGST token. The constructor calls the
/// implementation's initializer in the same transaction, so nobody can initialise it first; upgrades are
/// the implementation's `upgradeToAndCall` (UUPS), gated by its UPGRADER_ROLE.
/// @dev Behaves as OpenZeppelin's ERC1967Proxy (same slot, same constructor, same `Upgraded` event) with the
/// forwarding written directly in assembly: every holder pays for the proxy on every transfer, and this saves
/// about 100 gas per call over the generic `Proxy._fallback` call chain.
contract KGSTProxy {
    // bytes32(uint256(keccak256("eip1967.proxy.implementation")) - 1), as ERC1967Utils.IMPLEMENTATION_SLOT
    bytes32 private constant IMPLEMENTATION_SLOT = 0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc;

    constructor(address implementation, bytes memory initData) payable {
        assert(IMPLEMENTATION_SLOT == ERC1967Utils.IMPLEMENTATION_SLOT);
        ERC1967Utils.upgradeToAndCall(implementation, initData);
    }

    fallback() external payable {
        assembly {
            calldatacopy(0, 0, calldatasize())
            let success := delegatecall(gas(), sload(IMPLEMENTATION_SLOT), 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if success { return(0, returndatasize()) }
            revert(0, returndatasize())
        }
    }
}
