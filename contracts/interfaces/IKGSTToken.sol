// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";

/// @notice What the issuance controller needs from the KGST token beyond ERC-20 and EIP-2612.
interface IKGSTToken is IERC20, IERC20Permit {
    /// @return newTotalSupply the total supply after minting, so the minter can check its bound cheaply
    function mint(address to, uint256 amount) external returns (uint256 newTotalSupply);
    function burn(address from, uint256 amount) external;
}
