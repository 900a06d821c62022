// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IKGSTReserveRegistry} from "./interfaces/IKGSTReserveRegistry.sol";
import {SignatureVerification} from "./libraries/SignatureVerification.sol";

/// @title KGST reserve registry
/// @notice The public, append-only record of what backs KGST: the custodian bank accounts that hold the som
/// reserves, the auditors who attest them, and every attestation ever accepted. An attestation counts only
/// with EIP-712 signatures from `auditorThreshold` distinct registered auditors over exactly its content, so
/// anyone may submit it: the signatures are the authority. A second section lists the state's digital-asset
/// reserve wallets and reports their live balances.
/// @dev Not upgradeable on purpose: the rules that accepted an attestation can never be changed behind the
/// history. Risk-raising changes (add custodian/auditor/wallet/asset, change the threshold) are for the
/// admin, which governance puts behind the timelock; deactivating a custodian or removing an auditor only
/// reduces what can be attested and is instant for the guardian. Removing auditors below the threshold is
/// allowed: attestation then stops, and minting with it, which is the safe failure.
contract KGSTReserveRegistry is AccessControlDefaultAdminRules, EIP712, IKGSTReserveRegistry {
    using SafeCast for uint256;

    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "Attestation(uint64 asOf,uint256 totalReservesTiyin,uint256[] custodianIds,uint256[] custodianAmountsTiyin,bytes32 reportHash,string reportURI)"
    );
    /// @notice One tiyin (0.01 som) in KGST base units (18 decimals).
    uint256 public constant TOKEN_UNITS_PER_TIYIN = 1e16;
    uint256 public constant MAX_AUDITORS = 32;
    uint256 public constant MAX_RESERVE_WALLETS = 32;
    uint256 public constant MAX_RESERVE_ASSETS = 16;
    /// @dev Each balance query in the digital-reserve view gets at most this much gas, so one misbehaving
    /// token cannot make the view revert or run out of gas (32 wallets x 16 assets x 30k = 15.4M).
    uint256 private constant BALANCE_QUERY_GAS = 30_000;

    struct Custodian {
        string name;
        bytes32 accountRefHash; // keccak of the bank account reference (kgst.refs.account_ref)
        bool active;
    }

    struct InitialCustodian {
        string name;
        bytes32 accountRefHash;
    }

    /// @notice What auditors sign and anyone submits.
    struct AttestationInput {
        uint64 asOf; // when the reserves were measured (unix seconds)
        uint256 totalReservesTiyin;
        uint256[] custodianIds; // strictly increasing
        uint256[] custodianAmountsTiyin; // same length; sums to totalReservesTiyin
        bytes32 reportHash; // hash of the auditor's report document
        string reportURI; // where the report can be read
    }

    struct AuditorSignature {
        address auditor;
        bytes signature; // 65-byte ECDSA, or whatever the auditor's ERC-1271 wallet accepts
    }

    struct Attestation {
        uint64 asOf;
        uint64 submittedAt;
        uint128 totalReservesTiyin;
        bytes32 reportHash;
        string reportURI;
        uint256[] custodianIds;
        uint256[] custodianAmountsTiyin;
        address[] signers;
        address submitter;
    }

    /// @dev The latest attestation's figures in one slot, so the issuance controller reads them cheaply.
    struct LatestSummary {
        uint128 totalReservesTiyin;
        uint64 asOf;
        uint64 count;
    }

    struct ReserveAsset {
        address asset; // address(0) is native BNB
        string symbol;
    }

    struct ReserveWallet {
        address wallet;
        string label;
    }

    /// @notice Everything the registry starts with; later additions are admin (timelocked) actions.
    struct InitParams {
        address admin; // the governance timelock
        uint48 adminTransferDelay; // delay of a two-step admin hand-over
        address guardian; // holder of the instant risk-reducing powers
        address[] auditors;
        uint256 auditorThreshold;
        InitialCustodian[] custodians;
        ReserveWallet[] reserveWallets;
        ReserveAsset[] reserveAssets;
    }

    struct AssetBalance {
        address asset;
        string symbol;
        uint256 total; // summed over every reserve wallet, in the asset's own base units
        bool complete; // false if any wallet's balance could not be read (then `total` omits it)
    }

    Custodian[] private _custodians;
    mapping(bytes32 accountRefHash => bool) private _custodianAccountRegistered;

    address[] private _auditors;
    mapping(address auditor => bool) public isAuditor;
    uint256 public auditorThreshold;

    Attestation[] private _attestations;
    LatestSummary private _latest;
    mapping(bytes32 digest => bool) public attestationSubmitted;

    address[] private _reserveWallets;
    mapping(address wallet => string) public reserveWalletLabel;
    ReserveAsset[] private _reserveAssets;

    // ----------------------------------------------------------------------------------------------------
    // Errors and events
    // ----------------------------------------------------------------------------------------------------

    error ZeroAddress();
    error EmptyName();
    error MissingAccountReference();
    error CustodianAccountAlreadyRegistered(bytes32 accountRefHash);
    error UnknownCustodian(uint256 custodianId);
    error CustodianInactive(uint256 custodianId);
    error CustodianAlreadyActive(uint256 custodianId);
    error AlreadyAuditor(address account);
    error NotAuditor(address account);
    error TooManyAuditors(uint256 max);
    /// @notice The threshold must be at least 1 and at most the number of registered auditors.
    error InvalidThreshold(uint256 threshold, uint256 auditorCount);
    error AttestationAlreadySubmitted(bytes32 digest);
    error AttestationFromFuture(uint64 asOf, uint256 nowTimestamp);
    /// @notice asOf must be later than the latest accepted attestation's.
    error AttestationNotNewer(uint64 asOf, uint64 latestAsOf);
    error EmptyCustodianBreakdown();
    error CustodianBreakdownLengthMismatch(uint256 ids, uint256 amounts);
    /// @notice Custodian ids must be strictly increasing (each custodian once, in a canonical order).
    error CustodiansNotSorted(uint256 position);
    error CustodianSumMismatch(uint256 sumTiyin, uint256 totalTiyin);
    error MissingReportHash();
    error NotEnoughSignatures(uint256 provided, uint256 required);
    error UnknownAuditor(address signer);
    error DuplicateSigner(address signer);
    error NoAttestation();
    error AttestationIndexOutOfRange(uint256 index, uint256 count);
    error ReserveWalletAlreadyListed(address wallet);
    error ReserveWalletNotListed(address wallet);
    error ReserveAssetAlreadyListed(address asset);
    error ReserveAssetNotListed(address asset);
    error TooManyReserveEntries(uint256 max);

    event CustodianAdded(uint256 indexed custodianId, string name, bytes32 indexed accountRefHash);
    event CustodianActiveChanged(uint256 indexed custodianId, bool active, address indexed by);
    event AuditorAdded(address indexed auditor, uint256 auditorCount);
    event AuditorRemoved(address indexed auditor, uint256 auditorCount, address indexed by);
    event AuditorThresholdChanged(uint256 oldThreshold, uint256 newThreshold);
    event AttestationSubmitted(
        uint256 indexed index,
        uint64 asOf,
        uint256 totalReservesTiyin,
        bytes32 indexed reportHash,
        string reportURI,
        address[] signers,
        address indexed submitter
    );
    event CustodianBalanceAttested(uint256 indexed index, uint256 indexed custodianId, uint256 amountTiyin);
    event ReserveWalletAdded(address indexed wallet, string label);
    event ReserveWalletRemoved(address indexed wallet);
    event ReserveAssetAdded(address indexed asset, string symbol);
    event ReserveAssetRemoved(address indexed asset);

    modifier onlyAdminOrGuardian() {
        if (!hasRole(GUARDIAN_ROLE, msg.sender)) _checkRole(DEFAULT_ADMIN_ROLE);
        _;
    }

    constructor(InitParams memory p)
        AccessControlDefaultAdminRules(p.adminTransferDelay, p.admin)
        EIP712("KGST Reserve Registry", "1")
    {
        if (p.guardian == address(0)) revert ZeroAddress();
        _grantRole(GUARDIAN_ROLE, p.guardian);
        for (uint256 i = 0; i < p.auditors.length; ++i) {
            _addAuditor(p.auditors[i]);
        }
        _setThreshold(p.auditorThreshold);
        for (uint256 i = 0; i < p.custodians.length; ++i) {
            _addCustodian(p.custodians[i].name, p.custodians[i].accountRefHash);
        }
        for (uint256 i = 0; i < p.reserveWallets.length; ++i) {
            _addReserveWallet(p.reserveWallets[i].wallet, p.reserveWallets[i].label);
        }
        for (uint256 i = 0; i < p.reserveAssets.length; ++i) {
            _addReserveAsset(p.reserveAssets[i].asset, p.reserveAssets[i].symbol);
        }
    }

    // ----------------------------------------------------------------------------------------------------
    // Custodians
    // ----------------------------------------------------------------------------------------------------

    function addCustodian(string calldata name, bytes32 accountRefHash)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
        returns (uint256 custodianId)
    {
        return _addCustodian(name, accountRefHash);
    }

    /// @notice Stops a custodian's balance from counting in new attestations (past ones are history).
    function deactivateCustodian(uint256 custodianId) external onlyAdminOrGuardian {
        Custodian storage c = _custodian(custodianId);
        if (!c.active) revert CustodianInactive(custodianId);
        c.active = false;
        emit CustodianActiveChanged(custodianId, false, msg.sender);
    }

    function reactivateCustodian(uint256 custodianId) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Custodian storage c = _custodian(custodianId);
        if (c.active) revert CustodianAlreadyActive(custodianId);
        c.active = true;
        emit CustodianActiveChanged(custodianId, true, msg.sender);
    }

    function custodianCount() external view returns (uint256) {
        return _custodians.length;
    }

    function custodian(uint256 custodianId) external view returns (Custodian memory) {
        return _custodian(custodianId);
    }

    // ----------------------------------------------------------------------------------------------------
    // Auditors
    // ----------------------------------------------------------------------------------------------------

    function addAuditor(address auditor) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _addAuditor(auditor);
    }

    function removeAuditor(address auditor) external onlyAdminOrGuardian {
        if (!isAuditor[auditor]) revert NotAuditor(auditor);
        isAuditor[auditor] = false;
        _swapAndPop(_auditors, auditor);
        emit AuditorRemoved(auditor, _auditors.length, msg.sender);
    }

    function setAuditorThreshold(uint256 threshold) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setThreshold(threshold);
    }

    function auditors() external view returns (address[] memory) {
        return _auditors;
    }

    // ----------------------------------------------------------------------------------------------------
    // Attestations
    // ----------------------------------------------------------------------------------------------------

    /// @notice The EIP-712 digest auditors sign for `input` (domain: this registry on this chain).
    function attestationDigest(AttestationInput calldata input) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    ATTESTATION_TYPEHASH,
                    input.asOf,
                    input.totalReservesTiyin,
                    keccak256(abi.encodePacked(input.custodianIds)),
                    keccak256(abi.encodePacked(input.custodianAmountsTiyin)),
                    input.reportHash,
                    keccak256(bytes(input.reportURI))
                )
            )
        );
    }

    /// @notice Appends an attestation. Anyone may submit; the auditors' signatures are the authority.
    function submitAttestation(AttestationInput calldata input, AuditorSignature[] calldata signatures)
        external
        returns (uint256 index)
    {
        bytes32 digest = attestationDigest(input);
        if (attestationSubmitted[digest]) revert AttestationAlreadySubmitted(digest);
        _checkContent(input);
        address[] memory signers = _checkSignatures(digest, signatures);

        attestationSubmitted[digest] = true;
        index = _attestations.length;
        Attestation storage a = _attestations.push();
        a.asOf = input.asOf;
        a.submittedAt = uint64(block.timestamp);
        a.totalReservesTiyin = input.totalReservesTiyin.toUint128();
        a.reportHash = input.reportHash;
        a.reportURI = input.reportURI;
        a.custodianIds = input.custodianIds;
        a.custodianAmountsTiyin = input.custodianAmountsTiyin;
        a.signers = signers;
        a.submitter = msg.sender;
        _latest = LatestSummary(a.totalReservesTiyin, input.asOf, uint64(index + 1));

        emit AttestationSubmitted(
            index, input.asOf, input.totalReservesTiyin, input.reportHash, input.reportURI, signers, msg.sender
        );
        for (uint256 i = 0; i < input.custodianIds.length; ++i) {
            emit CustodianBalanceAttested(index, input.custodianIds[i], input.custodianAmountsTiyin[i]);
        }
    }

    function attestationCount() external view returns (uint256) {
        return _attestations.length;
    }

    function attestation(uint256 index) external view returns (Attestation memory) {
        if (index >= _attestations.length) revert AttestationIndexOutOfRange(index, _attestations.length);
        return _attestations[index];
    }

    function latestAttestation() external view returns (Attestation memory) {
        if (_attestations.length == 0) revert NoAttestation();
        return _attestations[_attestations.length - 1];
    }

    /// @inheritdoc IKGSTReserveRegistry
    function latestReserves() external view returns (uint256 reservesTokenUnits, uint64 asOf, uint256 count) {
        LatestSummary memory latest = _latest;
        return (uint256(latest.totalReservesTiyin) * TOKEN_UNITS_PER_TIYIN, latest.asOf, latest.count);
    }

    /// @notice Seconds since the latest attestation's asOf.
    function reservesAge() external view returns (uint256) {
        if (_latest.count == 0) revert NoAttestation();
        return block.timestamp - _latest.asOf;
    }

    /// @notice Attested reserves divided by `token`'s supply, as an 18-decimal fraction (1e18 = 100 %);
    /// type(uint256).max when the supply is zero.
    function coverageRatio(IERC20 token) external view returns (uint256) {
        if (_latest.count == 0) revert NoAttestation();
        uint256 supply = token.totalSupply();
        if (supply == 0) return type(uint256).max;
        return uint256(_latest.totalReservesTiyin) * TOKEN_UNITS_PER_TIYIN * 1e18 / supply;
    }

    // ----------------------------------------------------------------------------------------------------
    // National digital-asset reserve
    // ----------------------------------------------------------------------------------------------------

    function addReserveWallet(address wallet, string calldata label) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _addReserveWallet(wallet, label);
    }

    function removeReserveWallet(address wallet) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (bytes(reserveWalletLabel[wallet]).length == 0) revert ReserveWalletNotListed(wallet);
        delete reserveWalletLabel[wallet];
        _swapAndPop(_reserveWallets, wallet);
        emit ReserveWalletRemoved(wallet);
    }

    /// @param asset a BEP-20 token, or address(0) for native BNB
    function addReserveAsset(address asset, string calldata symbol) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _addReserveAsset(asset, symbol);
    }

    function removeReserveAsset(address asset) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 position = _reserveAssetPosition(asset);
        if (position == type(uint256).max) revert ReserveAssetNotListed(asset);
        _reserveAssets[position] = _reserveAssets[_reserveAssets.length - 1];
        _reserveAssets.pop();
        emit ReserveAssetRemoved(asset);
    }

    function reserveWallets() external view returns (address[] memory) {
        return _reserveWallets;
    }

    function reserveAssets() external view returns (ReserveAsset[] memory) {
        return _reserveAssets;
    }

    /// @notice Live balance of every tracked asset, summed over the reserve wallets. Never reverts because
    /// of a token: a balance that cannot be read is left out and marks that asset incomplete.
    function digitalReserveBalances() external view returns (AssetBalance[] memory balances) {
        balances = new AssetBalance[](_reserveAssets.length);
        for (uint256 a = 0; a < balances.length; ++a) {
            ReserveAsset storage asset = _reserveAssets[a];
            AssetBalance memory b = AssetBalance(asset.asset, asset.symbol, 0, true);
            for (uint256 w = 0; w < _reserveWallets.length; ++w) {
                (bool ok, uint256 amount) = _balanceOf(asset.asset, _reserveWallets[w]);
                uint256 total;
                // A token can report absurd balances; an overflowing sum marks the asset incomplete instead of
                // making the whole view revert.
                if (ok) (ok, total) = Math.tryAdd(b.total, amount);
                if (ok) b.total = total;
                else b.complete = false;
            }
            balances[a] = b;
        }
    }

    // ----------------------------------------------------------------------------------------------------
    // Internals
    // ----------------------------------------------------------------------------------------------------

    function _addCustodian(string memory name, bytes32 accountRefHash) private returns (uint256 custodianId) {
        if (bytes(name).length == 0) revert EmptyName();
        if (accountRefHash == bytes32(0)) revert MissingAccountReference();
        if (_custodianAccountRegistered[accountRefHash]) revert CustodianAccountAlreadyRegistered(accountRefHash);
        _custodianAccountRegistered[accountRefHash] = true;
        custodianId = _custodians.length;
        _custodians.push(Custodian(name, accountRefHash, true));
        emit CustodianAdded(custodianId, name, accountRefHash);
    }

    function _custodian(uint256 custodianId) private view returns (Custodian storage) {
        if (custodianId >= _custodians.length) revert UnknownCustodian(custodianId);
        return _custodians[custodianId];
    }

    function _addAuditor(address auditor) private {
        if (auditor == address(0)) revert ZeroAddress();
        if (isAuditor[auditor]) revert AlreadyAuditor(auditor);
        if (_auditors.length == MAX_AUDITORS) revert TooManyAuditors(MAX_AUDITORS);
        isAuditor[auditor] = true;
        _auditors.push(auditor);
        emit AuditorAdded(auditor, _auditors.length);
    }

    /// @dev Removes `item` by moving the last element into its slot. Callers have checked that `item` is
    ///      listed, so the scan always stops on it.
    function _swapAndPop(address[] storage list, address item) private {
        uint256 i;
        while (list[i] != item) ++i;
        list[i] = list[list.length - 1];
        list.pop();
    }

    function _setThreshold(uint256 threshold) private {
        if (threshold == 0 || threshold > _auditors.length) revert InvalidThreshold(threshold, _auditors.length);
        emit AuditorThresholdChanged(auditorThreshold, threshold);
        auditorThreshold = threshold;
    }

    function _checkContent(AttestationInput calldata input) private view {
        if (input.asOf > block.timestamp) revert AttestationFromFuture(input.asOf, block.timestamp);
        if (_latest.count != 0 && input.asOf <= _latest.asOf) revert AttestationNotNewer(input.asOf, _latest.asOf);
        if (input.reportHash == bytes32(0)) revert MissingReportHash();
        uint256 n = input.custodianIds.length;
        if (n == 0) revert EmptyCustodianBreakdown();
        if (n != input.custodianAmountsTiyin.length) {
            revert CustodianBreakdownLengthMismatch(n, input.custodianAmountsTiyin.length);
        }
        uint256 sum;
        for (uint256 i = 0; i < n; ++i) {
            uint256 id = input.custodianIds[i];
            if (i > 0 && id <= input.custodianIds[i - 1]) revert CustodiansNotSorted(i);
            if (!_custodian(id).active) revert CustodianInactive(id);
            sum += input.custodianAmountsTiyin[i];
        }
        if (sum != input.totalReservesTiyin) revert CustodianSumMismatch(sum, input.totalReservesTiyin);
    }

    /// @dev Signers may come in any order; each must be a registered auditor, appear once, and have signed.
    function _checkSignatures(bytes32 digest, AuditorSignature[] calldata signatures)
        private
        view
        returns (address[] memory signers)
    {
        if (signatures.length < auditorThreshold) revert NotEnoughSignatures(signatures.length, auditorThreshold);
        signers = new address[](signatures.length);
        for (uint256 i = 0; i < signatures.length; ++i) {
            address signer = signatures[i].auditor;
            if (!isAuditor[signer]) revert UnknownAuditor(signer);
            for (uint256 j = 0; j < i; ++j) {
                if (signers[j] == signer) revert DuplicateSigner(signer);
            }
            SignatureVerification.requireValid(signer, digest, signatures[i].signature);
            signers[i] = signer;
        }
    }

    function _addReserveWallet(address wallet, string memory label) private {
        if (wallet == address(0)) revert ZeroAddress();
        if (bytes(label).length == 0) revert EmptyName();
        if (bytes(reserveWalletLabel[wallet]).length != 0) revert ReserveWalletAlreadyListed(wallet);
        if (_reserveWallets.length == MAX_RESERVE_WALLETS) revert TooManyReserveEntries(MAX_RESERVE_WALLETS);
        _reserveWallets.push(wallet);
        reserveWalletLabel[wallet] = label;
        emit ReserveWalletAdded(wallet, label);
    }

    function _addReserveAsset(address asset, string memory symbol) private {
        if (bytes(symbol).length == 0) revert EmptyName();
        if (_reserveAssetPosition(asset) != type(uint256).max) revert ReserveAssetAlreadyListed(asset);
        if (_reserveAssets.length == MAX_RESERVE_ASSETS) revert TooManyReserveEntries(MAX_RESERVE_ASSETS);
        _reserveAssets.push(ReserveAsset(asset, symbol));
        emit ReserveAssetAdded(asset, symbol);
    }

    function _reserveAssetPosition(address asset) private view returns (uint256) {
        for (uint256 i = 0; i < _reserveAssets.length; ++i) {
            if (_reserveAssets[i].asset == asset) return i;
        }
        return type(uint256).max;
    }

    /// @dev A bounded, non-reverting balance query: fixed gas, fixed-size return copy (no returndata bomb).
    function _balanceOf(address asset, address wallet) private view returns (bool ok, uint256 amount) {
        if (asset == address(0)) return (true, wallet.balance);
        bytes memory query = abi.encodeCall(IERC20.balanceOf, (wallet));
        assembly ("memory-safe") {
            let out := mload(0x40)
            ok := staticcall(BALANCE_QUERY_GAS, asset, add(query, 0x20), mload(query), out, 0x20)
            ok := and(ok, gt(returndatasize(), 0x1f))
            if ok { amount := mload(out) }
        }
    }
}
