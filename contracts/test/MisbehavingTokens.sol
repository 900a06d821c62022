// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @notice Test-only "BEP-20 tokens" whose `balanceOf` misbehaves, listed as digital-reserve assets to show that
/// `KGSTReserveRegistry.digitalReserveBalances` never reverts because of one token: the entry is marked
/// incomplete and every other figure stays exact.

/// @notice balanceOf always reverts (with a reason string).
contract RevertingBalanceToken {
    function balanceOf(address) external pure returns (uint256) {
        revert("balanceOf disabled");
    }
}

/// @notice balanceOf never returns: it loops until it has burnt all the gas it was given.
contract GasBurnerToken {
    uint256 private _counter;

    function balanceOf(address) external view returns (uint256 spins) {
        // Reads storage every round so that the optimiser cannot drop the loop.
        while (true) {
            spins += _counter + 1;
        }
    }
}

/// @notice Answers every call, balanceOf included, successfully but with no return data.
contract NoReturnDataToken {
    fallback() external {}
}

/// @notice Answers every call, balanceOf included, with `size` bytes of return data (default 1 MB) whose first
/// word looks like a balance: a return-data bomb for a caller that copies whatever comes back.
contract HugeReturnDataToken {
    uint256 public immutable size;

    constructor(uint256 size_) {
        size = size_;
    }

    fallback() external {
        uint256 n = size;
        assembly {
            mstore(0, 1000)
            return(0, n)
        }
    }
}

/// @notice A token that works for every account except `broken`, for which balanceOf reverts; the others hold
/// `balance` each.
contract PartlyBrokenToken {
    address public immutable broken;
    uint256 public immutable balance;

    constructor(address broken_, uint256 balance_) {
        broken = broken_;
        balance = balance_;
    }

    function balanceOf(address account) external view returns (uint256) {
        require(account != broken, "cannot read this account");
        return balance;
    }
}

/// @notice Reports the largest possible balance for every account, so summing two wallets overflows uint256.
contract MaxBalanceToken {
    function balanceOf(address) external pure returns (uint256) {
        return type(uint256).max;
    }
}
