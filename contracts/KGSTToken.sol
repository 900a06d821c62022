// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {AccessControlDefaultAdminRulesUpgradeable} from
    "@openzeppelin/contracts-upgradeable/access/extensions/AccessControlDefaultAdminRulesUpgradeable.sol";
import {EIP712Upgradeable} from "@openzeppelin/contracts-upgradeable/utils/cryptography/EIP712Upgradeable.sol";
import {NoncesUpgradeable} from "@openzeppelin/contracts-upgradeable/utils/NoncesUpgradeable.sol";

import {IKGSTToken} from "./interfaces/IKGSTToken.sol";
import {SignatureVerification} from "./libraries/SignatureVerification.sol";

/// @title KGST — BEP-20 stablecoin backed 1:1 by the Kyrgyz som
/// @notice Upgradeable (UUPS) ERC-20 with the compliance controls of a regulated fiat-backed coin:
/// pause, freeze (single and batch), wipe of frozen balances, rescue of foreign tokens, EIP-2612 permit and
/// EIP-3009 signed transfers. Exactly one address mints and burns: the issuance controller (`minter`).
/// @dev Every balance change goes through `_update`, which enforces pause and freeze, so no entry point can
/// move value around those rules; `wipeFrozen` is the one deliberate exception and only touches frozen
/// accounts. The frozen flag lives in bit 255 of the balance word (as in USDC v2.2): checking it costs no
/// extra storage read on transfers. Balances stay below 2^128 because the total supply does. The pause flag
/// shares a slot with the minter's address, so minting checks both with one read.
/// Approvals (approve, permit, increase/decreaseAllowance) are stopped by pause but not by freeze: an
/// allowance moves nothing by itself and every spending path checks owner, spender and recipient.
contract KGSTToken is
    Initializable,
    UUPSUpgradeable,
    AccessControlDefaultAdminRulesUpgradeable,
    EIP712Upgradeable,
    NoncesUpgradeable,
    IERC20Metadata,
    IERC20Errors,
    IKGSTToken
{
    using SafeERC20 for IERC20;

    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    bytes32 public constant ASSET_PROTECTION_ROLE = keccak256("ASSET_PROTECTION_ROLE");
    bytes32 public constant RESCUER_ROLE = keccak256("RESCUER_ROLE");
    bytes32 public constant UPGRADER_ROLE = keccak256("UPGRADER_ROLE");

    bytes32 public constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
    bytes32 public constant TRANSFER_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    bytes32 public constant RECEIVE_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    bytes32 public constant CANCEL_AUTHORIZATION_TYPEHASH =
        keccak256("CancelAuthorization(address authorizer,bytes32 nonce)");

    string private constant NAME = "Kyrgyz Som Token";
    string private constant SYMBOL = "KGST";
    string private constant SIGNING_VERSION = "1";
    uint256 private constant FROZEN_FLAG = 1 << 255;
    uint256 private constant BALANCE_MASK = FROZEN_FLAG - 1;

    enum AuthorizationState {
        Unused,
        Used,
        Canceled
    }

    /// @dev One-word structs let a function compute a mapping slot once and both read and write through it.
    struct BalanceWord {
        uint256 value; // bit 255: frozen; bits 0..254: balance
    }

    struct AllowanceWord {
        uint256 value;
    }

    /// @custom:storage-location erc7201:kgst.storage.KGSTToken
    struct TokenStorage {
        mapping(address account => BalanceWord) balanceWords;
        mapping(address owner => mapping(address spender => AllowanceWord)) allowances;
        uint128 totalSupply;
        uint128 totalMinted;
        uint128 totalBurned;
        uint128 totalWiped;
        mapping(address authorizer => mapping(bytes32 nonce => AuthorizationState)) authorizations;
        address minter; // the issuance controller: the only address that mints and burns
        bool paused;
    }

    // keccak256(abi.encode(uint256(keccak256("kgst.storage.KGSTToken")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant TOKEN_STORAGE_LOCATION = 0x3eb4256b60027827bb925b3697f061f200f71c8d73e8e67f26dd9474f6e7e500;

    /// @notice Role holders set at initialisation. The admin should be the governance timelock.
    struct InitParams {
        address admin;
        uint48 adminTransferDelay;
        address pauser;
        address assetProtector;
        address rescuer;
        address upgrader;
        address minter;
    }

    // ----------------------------------------------------------------------------------------------------
    // Errors and events (beyond IERC20, IERC20Errors, AccessControl and ERC1967)
    // ----------------------------------------------------------------------------------------------------

    /// @notice The token is paused: no transfers, approvals, signatures, mints, burns or wipes until unpaused.
    error EnforcedPause();
    /// @notice Pause when already paused, or unpause when not paused.
    error PauseStateUnchanged(bool paused);
    /// @notice Only the minter (the issuance controller) mints and burns.
    error CallerNotMinter(address caller);
    /// @notice `account` is frozen: it cannot send, receive, spend or be spent from until unfrozen.
    error AccountFrozen(address account);
    /// @notice `account` is not frozen; unfreeze and wipe apply only to frozen accounts.
    error AccountNotFrozen(address account);
    /// @notice A compliance action needs a non-zero case reference (court order or case number hash).
    error MissingCaseReference();
    /// @notice A role holder or recipient given as the zero address.
    error ZeroAddress();
    /// @notice The amount would push total supply past 2^128 - 1 base units.
    error SupplyOverflow(uint256 requestedSupply);
    /// @notice The permit's deadline has passed.
    error PermitExpired(uint256 deadline);
    /// @notice The EIP-3009 authorization cannot be used before `validAfter`.
    error AuthorizationNotYetValid(uint256 validAfter);
    /// @notice The EIP-3009 authorization expired at `validBefore`.
    error AuthorizationExpired(uint256 validBefore);
    /// @notice The EIP-3009 nonce was already used by `authorizer`.
    error AuthorizationAlreadyUsed(address authorizer, bytes32 nonce);
    /// @notice The EIP-3009 nonce was canceled by `authorizer`.
    error AuthorizationWasCanceled(address authorizer, bytes32 nonce);
    /// @notice receiveWithAuthorization must be called by the payee, so nobody can front-run it.
    error CallerMustBePayee(address caller, address payee);
    /// @notice KGST held by the token contract cannot exist (it rejects them), so it is never "rescued".
    error CannotRescueKGST();

    event Paused(address account);
    event Unpaused(address account);
    event MinterChanged(address indexed oldMinter, address indexed newMinter);
    event Frozen(address indexed account, bytes32 indexed caseRef, address indexed by);
    event Unfrozen(address indexed account, bytes32 indexed caseRef, address indexed by);
    event Wiped(address indexed account, uint256 amount, bytes32 indexed caseRef, address indexed by);
    event Rescued(address indexed asset, address indexed to, uint256 amount, address indexed by);
    event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce);
    event AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce);

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    /// @notice Sets up roles and the EIP-712 domain; called by the proxy constructor in the deploy transaction.
    function initialize(InitParams calldata p) external initializer {
        if (
            p.pauser == address(0) || p.assetProtector == address(0) || p.rescuer == address(0)
                || p.upgrader == address(0) || p.minter == address(0)
        ) revert ZeroAddress();
        __AccessControlDefaultAdminRules_init(p.adminTransferDelay, p.admin);
        __EIP712_init(NAME, SIGNING_VERSION);
        __Nonces_init();
        _grantRole(PAUSER_ROLE, p.pauser);
        _grantRole(ASSET_PROTECTION_ROLE, p.assetProtector);
        _grantRole(RESCUER_ROLE, p.rescuer);
        _grantRole(UPGRADER_ROLE, p.upgrader);
        _tokenStorage().minter = p.minter;
        emit MinterChanged(address(0), p.minter);
    }

    // ----------------------------------------------------------------------------------------------------
    // BEP-20 metadata and views
    // ----------------------------------------------------------------------------------------------------

    function name() external pure returns (string memory) {
        return NAME;
    }

    function symbol() external pure returns (string memory) {
        return SYMBOL;
    }

    /// @notice 18, as BSC-pegged stablecoins use. One tiyin (0.01 som) is 10^16 base units.
    function decimals() external pure returns (uint8) {
        return 18;
    }

    /// @notice BEP-20 owner (the default admin), still read by BSC explorers and wallets.
    function getOwner() external view returns (address) {
        return owner();
    }

    function totalSupply() external view returns (uint256) {
        return _tokenStorage().totalSupply;
    }

    function balanceOf(address account) external view returns (uint256) {
        return _tokenStorage().balanceWords[account].value & BALANCE_MASK;
    }

    function allowance(address owner_, address spender) external view returns (uint256) {
        return _tokenStorage().allowances[owner_][spender].value;
    }

    function isFrozen(address account) public view returns (bool) {
        return _tokenStorage().balanceWords[account].value & FROZEN_FLAG != 0;
    }

    /// @notice Lifetime counters, read together: totalSupply == minted - burned - wiped at all times. (No separate
    /// getter per counter: every external function lengthens the dispatcher that each transfer walks through.)
    function supplyCounters()
        external
        view
        returns (uint256 supply, uint256 minted, uint256 burned, uint256 wiped)
    {
        TokenStorage storage $ = _tokenStorage();
        return ($.totalSupply, $.totalMinted, $.totalBurned, $.totalWiped);
    }

    // ----------------------------------------------------------------------------------------------------
    // ERC-20
    // ----------------------------------------------------------------------------------------------------

    function transfer(address to, uint256 value) external returns (bool) {
        if (to == address(0)) revert ERC20InvalidReceiver(address(0));
        _update(msg.sender, to, value);
        return true;
    }

    /// @dev The spender (caller) is checked for freeze too; owner and recipient are checked in `_update`.
    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        bool eitherIsZero; // one branch on the hot path for both checks
        assembly ("memory-safe") {
            eitherIsZero := or(iszero(from), iszero(to))
        }
        if (eitherIsZero) {
            if (from == address(0)) revert ERC20InvalidSender(address(0)); // else a 0-value "mint" event
            revert ERC20InvalidReceiver(address(0));
        }
        _requireNotFrozen(msg.sender);
        _spendAllowance(from, msg.sender, value);
        _update(from, to, value);
        return true;
    }

    /// @dev Never reverts on non-zero to non-zero (that breaks integrators); use the increase/decrease
    /// functions or permit to avoid the approve race.
    function approve(address spender, uint256 value) external returns (bool) {
        _requireNotPaused();
        _approve(msg.sender, spender, value);
        return true;
    }

    function increaseAllowance(address spender, uint256 addedValue) external returns (bool) {
        _requireNotPaused();
        _approve(msg.sender, spender, _tokenStorage().allowances[msg.sender][spender].value + addedValue);
        return true;
    }

    function decreaseAllowance(address spender, uint256 subtractedValue) external returns (bool) {
        _requireNotPaused();
        uint256 current = _tokenStorage().allowances[msg.sender][spender].value;
        if (current < subtractedValue) revert ERC20InsufficientAllowance(spender, current, subtractedValue);
        unchecked {
            _approve(msg.sender, spender, current - subtractedValue);
        }
        return true;
    }

    // ----------------------------------------------------------------------------------------------------
    // Supply: only the issuance controller
    // ----------------------------------------------------------------------------------------------------

    /// @notice Mints `amount` to `to`. The controller has already applied approvals, limits and reserves.
    /// @dev Mint and burn emit only the ERC-20 Transfer from/to address(0): with a single minter, a separate
    /// Mint/Burn event would repeat it, and the controller's events carry the deposit and payout references.
    function mint(address to, uint256 amount) external returns (uint256 newTotalSupply) {
        _requireMinter();
        if (to == address(0)) revert ERC20InvalidReceiver(address(0));
        _update(address(0), to, amount);
        return _tokenStorage().totalSupply;
    }

    /// @notice Burns `amount` from `from`: the caller's own balance, or a holder's within the allowance the
    /// holder gave the caller. So not even the minter can destroy a holder's KGST without the holder's
    /// approval or signature; only `wipeFrozen` (asset protection, frozen accounts) can.
    function burn(address from, uint256 amount) external {
        _requireMinter();
        if (from != msg.sender) {
            _requireNotFrozen(msg.sender); // the minter spends an allowance here: the spender rule applies
            _spendAllowance(from, msg.sender, amount);
        }
        _update(from, address(0), amount);
    }

    // ----------------------------------------------------------------------------------------------------
    // Compliance: pause, freeze, wipe, rescue
    // ----------------------------------------------------------------------------------------------------

    /// @notice Stops transfers, approvals, permits, EIP-3009, mint, burn and wipe.
    function pause() external onlyRole(PAUSER_ROLE) {
        _setPaused(true);
        emit Paused(msg.sender);
    }

    function unpause() external onlyRole(PAUSER_ROLE) {
        _setPaused(false);
        emit Unpaused(msg.sender);
    }

    function paused() external view returns (bool) {
        return _tokenStorage().paused;
    }

    /// @notice The issuance controller: the only address that mints and burns.
    function minter() external view returns (address) {
        return _tokenStorage().minter;
    }

    /// @notice Hands minting to a new issuance controller (governance, behind the timelock). The old one
    /// loses the power in the same transaction: there is never more than one minter.
    function setMinter(address newMinter) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newMinter == address(0)) revert ZeroAddress();
        TokenStorage storage $ = _tokenStorage();
        emit MinterChanged($.minter, newMinter);
        $.minter = newMinter;
    }

    function freeze(address account, bytes32 caseRef) external onlyRole(ASSET_PROTECTION_ROLE) {
        _freeze(account, caseRef);
    }

    function freezeBatch(address[] calldata accounts, bytes32 caseRef) external onlyRole(ASSET_PROTECTION_ROLE) {
        for (uint256 i = 0; i < accounts.length; ++i) {
            _freeze(accounts[i], caseRef);
        }
    }

    function unfreeze(address account, bytes32 caseRef) external onlyRole(ASSET_PROTECTION_ROLE) {
        _unfreeze(account, caseRef);
    }

    function unfreezeBatch(address[] calldata accounts, bytes32 caseRef) external onlyRole(ASSET_PROTECTION_ROLE) {
        for (uint256 i = 0; i < accounts.length; ++i) {
            _unfreeze(accounts[i], caseRef);
        }
    }

    /// @notice Burns the whole balance of a frozen account (e.g. under a court order). The account stays
    /// frozen. The case reference is in the event so the action can be traced to its legal basis.
    function wipeFrozen(address account, bytes32 caseRef) external onlyRole(ASSET_PROTECTION_ROLE) {
        _requireNotPaused();
        if (caseRef == bytes32(0)) revert MissingCaseReference();
        TokenStorage storage $ = _tokenStorage();
        BalanceWord storage balance = $.balanceWords[account];
        uint256 word = balance.value;
        if (word & FROZEN_FLAG == 0) revert AccountNotFrozen(account);
        uint256 amount = word & BALANCE_MASK;
        balance.value = FROZEN_FLAG;
        // amount <= totalSupply < 2^128, and totalWiped <= totalMinted < 2^128
        unchecked {
            $.totalSupply -= uint128(amount);
            $.totalWiped += uint128(amount);
        }
        emit Transfer(account, address(0), amount);
        emit Wiped(account, amount, caseRef, msg.sender);
    }

    /// @notice Returns other tokens sent to this contract by mistake.
    function rescueERC20(IERC20 asset, address to, uint256 amount) external onlyRole(RESCUER_ROLE) {
        if (address(asset) == address(this)) revert CannotRescueKGST();
        if (to == address(0)) revert ZeroAddress();
        asset.safeTransfer(to, amount);
        emit Rescued(address(asset), to, amount, msg.sender);
    }

    /// @notice Returns native BNB forced into this contract (it has no payable entry point).
    function rescueNative(address payable to, uint256 amount) external onlyRole(RESCUER_ROLE) {
        if (to == address(0)) revert ZeroAddress();
        Address.sendValue(to, amount);
        emit Rescued(address(0), to, amount, msg.sender);
    }

    // ----------------------------------------------------------------------------------------------------
    // EIP-2612 permit
    // ----------------------------------------------------------------------------------------------------

    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function nonces(address owner_) public view override(IERC20Permit, NoncesUpgradeable) returns (uint256) {
        return super.nonces(owner_);
    }

    function permit(address owner_, address spender, uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
    {
        permit(owner_, spender, value, deadline, abi.encodePacked(r, s, v));
    }

    /// @notice Permit with a signature in bytes, for ERC-1271 wallets whose signatures are not 65 bytes.
    function permit(address owner_, address spender, uint256 value, uint256 deadline, bytes memory signature)
        public
    {
        _requireNotPaused();
        if (block.timestamp > deadline) revert PermitExpired(deadline);
        bytes32 structHash = keccak256(abi.encode(PERMIT_TYPEHASH, owner_, spender, value, _useNonce(owner_), deadline));
        SignatureVerification.requireValid(owner_, _hashTypedDataV4(structHash), signature);
        _approve(owner_, spender, value);
    }

    // ----------------------------------------------------------------------------------------------------
    // EIP-3009 transfer / receive / cancel with authorization
    // ----------------------------------------------------------------------------------------------------

    function authorizationState(address authorizer, bytes32 nonce) external view returns (bool) {
        return _tokenStorage().authorizations[authorizer][nonce] != AuthorizationState.Unused;
    }

    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        transferWithAuthorization(from, to, value, validAfter, validBefore, nonce, abi.encodePacked(r, s, v));
    }

    /// @dev The relayer (caller) must not be frozen either: a frozen account takes part in no transfer.
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes memory signature
    ) public {
        _requireNotFrozen(msg.sender);
        _useAuthorization(TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce, signature);
    }

    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        receiveWithAuthorization(from, to, value, validAfter, validBefore, nonce, abi.encodePacked(r, s, v));
    }

    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes memory signature
    ) public {
        if (msg.sender != to) revert CallerMustBePayee(msg.sender, to);
        _useAuthorization(RECEIVE_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce, signature);
    }

    function cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) external {
        cancelAuthorization(authorizer, nonce, abi.encodePacked(r, s, v));
    }

    /// @dev Cancelling only reduces risk, so a frozen authorizer may still cancel; pause stops it like every
    /// other signature path.
    function cancelAuthorization(address authorizer, bytes32 nonce, bytes memory signature) public {
        _requireNotPaused();
        _requireUnusedAuthorization(authorizer, nonce);
        bytes32 structHash = keccak256(abi.encode(CANCEL_AUTHORIZATION_TYPEHASH, authorizer, nonce));
        SignatureVerification.requireValid(authorizer, _hashTypedDataV4(structHash), signature);
        _tokenStorage().authorizations[authorizer][nonce] = AuthorizationState.Canceled;
        emit AuthorizationCanceled(authorizer, nonce);
    }

    // ----------------------------------------------------------------------------------------------------
    // Internals
    // ----------------------------------------------------------------------------------------------------

    /// @dev The single path for every balance change except wipe. `from == 0` mints, `to == 0` burns.
    function _update(address from, address to, uint256 value) private {
        _requireNotPaused();
        TokenStorage storage $ = _tokenStorage();
        if (from == address(0)) {
            uint256 newSupply = uint256($.totalSupply) + value;
            if (newSupply > type(uint128).max) revert SupplyOverflow(newSupply);
            $.totalSupply = uint128(newSupply);
            $.totalMinted += uint128(value); // checked: reverts rather than wrap
        } else {
            BalanceWord storage fromBalance = $.balanceWords[from];
            uint256 fromWord = fromBalance.value;
            if (int256(fromWord) < 0) revert AccountFrozen(from); // bit 255 (frozen) is the sign bit
            if (fromWord < value) revert ERC20InsufficientBalance(from, fromWord, value);
            unchecked {
                fromBalance.value = fromWord - value;
            }
        }
        if (to == address(0)) {
            unchecked {
                $.totalSupply -= uint128(value); // value <= a balance <= totalSupply
            }
            $.totalBurned += uint128(value);
        } else {
            if (to == address(this)) revert ERC20InvalidReceiver(to);
            BalanceWord storage toBalance = $.balanceWords[to];
            uint256 toWord = toBalance.value;
            if (int256(toWord) < 0) revert AccountFrozen(to);
            unchecked {
                toBalance.value = toWord + value; // stays below bit 255: balances <= totalSupply < 2^128
            }
        }
        emit Transfer(from, to, value);
    }

    function _requireNotPaused() private view {
        if (_tokenStorage().paused) revert EnforcedPause();
    }

    /// @dev The minter shares a slot with the pause flag, so `_update`'s pause check then reads warm storage.
    function _requireMinter() private view {
        if (msg.sender != _tokenStorage().minter) revert CallerNotMinter(msg.sender);
    }

    function _setPaused(bool paused_) private {
        TokenStorage storage $ = _tokenStorage();
        if ($.paused == paused_) revert PauseStateUnchanged(paused_);
        $.paused = paused_;
    }

    function _approve(address owner_, address spender, uint256 value) private {
        if (spender == address(0)) revert ERC20InvalidSpender(address(0));
        _tokenStorage().allowances[owner_][spender].value = value;
        emit Approval(owner_, spender, value);
    }

    /// @dev An allowance of 2^256 - 1 is infinite and never decreases (no event, as in OpenZeppelin).
    function _spendAllowance(address owner_, address spender, uint256 value) private {
        AllowanceWord storage allowed = _tokenStorage().allowances[owner_][spender];
        uint256 current = allowed.value;
        if (current != type(uint256).max) {
            if (current < value) revert ERC20InsufficientAllowance(spender, current, value);
            unchecked {
                allowed.value = current - value;
            }
        }
    }

    function _requireNotFrozen(address account) private view {
        if (int256(_tokenStorage().balanceWords[account].value) < 0) revert AccountFrozen(account);
    }

    function _freeze(address account, bytes32 caseRef) private {
        if (caseRef == bytes32(0)) revert MissingCaseReference();
        if (account == address(0)) revert ZeroAddress();
        BalanceWord storage balance = _tokenStorage().balanceWords[account];
        uint256 word = balance.value;
        if (word & FROZEN_FLAG != 0) revert AccountFrozen(account);
        balance.value = word | FROZEN_FLAG;
        emit Frozen(account, caseRef, msg.sender);
    }

    function _unfreeze(address account, bytes32 caseRef) private {
        if (caseRef == bytes32(0)) revert MissingCaseReference();
        BalanceWord storage balance = _tokenStorage().balanceWords[account];
        uint256 word = balance.value;
        if (word & FROZEN_FLAG == 0) revert AccountNotFrozen(account);
        balance.value = word & BALANCE_MASK;
        emit Unfrozen(account, caseRef, msg.sender);
    }

    function _requireUnusedAuthorization(address authorizer, bytes32 nonce) private view {
        AuthorizationState state = _tokenStorage().authorizations[authorizer][nonce];
        if (state == AuthorizationState.Used) revert AuthorizationAlreadyUsed(authorizer, nonce);
        if (state == AuthorizationState.Canceled) revert AuthorizationWasCanceled(authorizer, nonce);
    }

    function _useAuthorization(
        bytes32 typeHash,
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes memory signature
    ) private {
        if (block.timestamp <= validAfter) revert AuthorizationNotYetValid(validAfter);
        if (block.timestamp >= validBefore) revert AuthorizationExpired(validBefore);
        if (to == address(0)) revert ERC20InvalidReceiver(address(0));
        _requireUnusedAuthorization(from, nonce);
        bytes32 structHash = keccak256(abi.encode(typeHash, from, to, value, validAfter, validBefore, nonce));
        SignatureVerification.requireValid(from, _hashTypedDataV4(structHash), signature);
        _tokenStorage().authorizations[from][nonce] = AuthorizationState.Used;
        emit AuthorizationUsed(from, nonce);
        _update(from, to, value);
    }

    function _authorizeUpgrade(address) internal override onlyRole(UPGRADER_ROLE) {}

    function _tokenStorage() private pure returns (TokenStorage storage $) {
        assembly {
            $.slot := TOKEN_STORAGE_LOCATION
        }
    }
}
