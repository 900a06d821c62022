// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title KGSTTimelock
/// @notice OpenZeppelin's TimelockController, unchanged: the admin of the token, controller and registry.
/// Every risk-raising change waits `minDelay` seconds in public view, and the guardian (a canceller) can stop
/// it before it runs.
contract KGSTTimelock is TimelockController {
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
