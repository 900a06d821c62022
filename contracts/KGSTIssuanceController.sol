// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {IKGSTToken} from "./interfaces/IKGSTToken.sol";
import {IKGSTReserveRegistry} from "./interfaces/IKGSTReserveRegistry.sol";
import {IKGSTIssuanceController} from "./interfaces/IKGSTIssuanceController.sol";

/// @title KGST issuance controller
/// @notice The token's only minter. KGST is minted only through a maker-checker request tied to a bank
/// deposit reference that can be used once, ever (it is the request's id); after enough distinct approvers
/// (by amount tier; never the requester; no bypass for any role) re-state recipient and amount; within a
/// per-transaction cap, the requester's allowance, and rolling per-minter and global windows; and only while
/// the latest auditor attestation is fresh and covers the new supply. Holders redeem (burn) through it with
/// a payout reference, also single-use, so a redemption retried after a crash can never burn twice.
/// @dev Amounts are KGST base units (18 decimals) at the interface and must be whole tiyin (10^16 units);
/// inside they are stored in tiyin (uint56: up to 7.2e14 som), so each set of limits fits one storage slot.
/// Powers are asymmetric: anything that raises risk (higher limits, more minters or approvers, fewer
/// approvals, longer attestation age or request life, resuming minting) needs the admin, which governance
/// puts behind the timelock; the guardian may only make things stricter, instantly. Not upgradeable: a
/// successor is deployed with this contract as `predecessor`, so deposit references stay single-use.
contract KGSTIssuanceController is AccessControlDefaultAdminRules, IKGSTIssuanceController {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");
    bytes32 public constant APPROVER_ROLE = keccak256("APPROVER_ROLE");
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    bytes32 public constant REDEMPTION_DESK_ROLE = keccak256("REDEMPTION_DESK_ROLE");

    uint256 public constant TOKEN_UNITS_PER_TIYIN = 1e16;
    uint256 public constant MAX_APPROVALS = 16;
    uint256 public constant BPS = 10_000;
    /// @notice Requests stay open at most this long (also keeps expiry timestamps far inside uint32).
    uint256 public constant MAX_REQUEST_TTL = 30 days;

    IKGSTToken public immutable token;
    IKGSTReserveRegistry public immutable registry;
    IKGSTIssuanceController public immutable predecessor;
    /// @notice Length of the rate-limit windows. Over ANY interval of this length, a minter mints at most its
    /// window limit and everyone together at most the global window limit (see `_useWindow`).
    uint256 public immutable windowSeconds;

    enum RequestStatus {
        None,
        Pending,
        Executed,
        Cancelled,
        Expired // never stored: a Pending request past its expiry reads as Expired
    }

    enum RequestKind {
        Single,
        Batch
    }

    /// @dev A request's id is its deposit reference (single) or the Merkle root of its entries (batch).
    struct Request {
        // slot 0
        address recipient; // single: the recipient; batch: address(0)
        uint56 amountTiyin; // single: the amount; batch: the total
        uint32 expiresAt;
        RequestStatus status;
        // slot 1
        address requester;
        uint32 approverEpoch; // the approvals counted in `approvals` were given in this epoch
        uint8 approvals;
        RequestKind kind;
        uint32 entryCount; // batch only
    }

    struct BatchProgress {
        uint56 executedTiyin;
        uint32 executedCount;
    }

    /// @dev Window accounting (see `_useWindow`): usage in the current fixed window and in the one before it.
    struct MinterState {
        uint32 windowId;
        uint56 previousWindowTiyin;
        uint56 currentWindowTiyin;
        uint56 allowanceTiyin; // lifetime budget, decremented by every mint; burning does not restore it
        uint56 windowLimitTiyin;
    }

    struct GlobalState {
        uint32 windowId;
        uint56 previousWindowTiyin;
        uint56 currentWindowTiyin;
        uint56 windowLimitTiyin;
        uint56 perTxCapTiyin;
    }

    struct Config {
        bool mintingHalted;
        uint32 maxAttestationAge; // seconds
        uint16 reserveMarginBps; // mint only up to reserves x (1 - margin)
        uint32 requestTtl; // seconds a request stays open
        uint56 tier1MaxTiyin; // amounts up to this need approvalsTier1
        uint56 tier2MaxTiyin; // up to this approvalsTier2, above it approvalsTier3
        uint8 approvalsTier1;
        uint8 approvalsTier2;
        uint8 approvalsTier3;
        uint32 approverEpoch; // bumped when an approver is removed: voids every pending approval
    }

    struct Tiers {
        uint256 tier1Max;
        uint256 tier2Max;
        uint8 approvalsTier1;
        uint8 approvalsTier2;
        uint8 approvalsTier3;
    }

    struct MinterInit {
        address minter;
        uint256 allowance;
        uint256 windowLimit;
    }

    struct InitParams {
        IKGSTToken token;
        IKGSTReserveRegistry registry;
        IKGSTIssuanceController predecessor; // address(0) for the first controller
        address admin; // the governance timelock
        uint48 adminTransferDelay;
        address guardian;
        address redemptionDesk;
        uint32 windowSeconds;
        uint32 maxAttestationAge;
        uint16 reserveMarginBps;
        uint32 requestTtl;
        uint256 perTxCap;
        uint256 globalWindowLimit;
        Tiers tiers;
        MinterInit[] minters;
        address[] approvers;
    }

    struct BatchEntry {
        address recipient;
        uint256 amount;
        bytes32 depositRef;
    }

    /// @notice Everything about a request that a script or auditor needs, in KGST base units.
    struct RequestView {
        RequestKind kind;
        RequestStatus status;
        address requester;
        address recipient;
        uint256 amount; // single: the amount; batch: the total
        uint256 expiresAt;
        uint256 approvals; // valid approvals (given in the current approver epoch)
        uint256 approvalsRequired; // under the current tiers
        uint256 entryCount;
        uint256 executedCount;
        uint256 executedAmount;
    }

    Config private _config;
    GlobalState private _global;
    mapping(address minter => MinterState) private _minters;
    mapping(bytes32 requestId => Request) private _requests;
    mapping(bytes32 requestId => mapping(address approver => uint32 epochPlusOne)) private _approvedInEpoch;
    mapping(bytes32 merkleRoot => BatchProgress) private _batchProgress;
    mapping(bytes32 depositRef => bool) private _mintedInBatch;
    mapping(bytes32 payoutRef => bool) public payoutRefUsed;

    // ----------------------------------------------------------------------------------------------------
    // Errors
    // ----------------------------------------------------------------------------------------------------

    error ZeroAddress();
    error InvalidRecipient(address recipient);
    error ZeroAmount();
    /// @notice Amounts must be whole tiyin (multiples of 10^16 base units): the som has 2 decimals.
    error AmountNotWholeTiyin(uint256 amount);
    error AmountTooLarge(uint256 amount);
    error MissingDepositReference();
    error MissingPayoutReference();
    /// @notice This deposit reference was already used (by a request, a batch entry, or the predecessor).
    error DepositRefAlreadyUsed(bytes32 depositRef);
    /// @notice This payout reference was already used by an earlier redemption.
    error PayoutRefAlreadyUsed(bytes32 payoutRef);
    error MintingIsHalted();
    error UnknownRequest(bytes32 requestId);
    error WrongRequestKind(bytes32 requestId);
    error RequestNotPending(bytes32 requestId, RequestStatus status);
    error RequestExpired(bytes32 requestId, uint256 expiredAt);
    /// @notice The approver re-stated a recipient/amount (or entry count/total) that differs from the request.
    error ApprovalMismatch(bytes32 requestId);
    error RequesterCannotApprove(bytes32 requestId);
    error AlreadyApproved(bytes32 requestId, address approver);
    error NotEnoughApprovals(bytes32 requestId, uint256 approvals, uint256 required);
    error NotRequesterOrGuardian(address caller);
    error NotAMinter(address account);
    error ExceedsPerTransactionCap(uint256 amount, uint256 cap);
    error ExceedsMinterAllowance(address minter, uint256 amount, uint256 allowance);
    error ExceedsMinterWindow(address minter, uint256 amount, uint256 available);
    error ExceedsGlobalWindow(uint256 amount, uint256 available);
    error NoReserveAttestation();
    error ReserveAttestationStale(uint256 asOf, uint256 maxAge);
    /// @notice The mint would take supply above the attested reserves (less the safety margin).
    error ExceedsReserves(uint256 supply, uint256 amount, uint256 mintableSupply);
    error EmptyBatch();
    error BatchTooLarge(uint256 entries, uint256 entryCount, uint256 alreadyExecuted);
    /// @notice The batch's entries would mint more than the approved total, or end short of it.
    error BatchTotalMismatch(uint256 executedAmount, uint256 total);
    error InvalidBatchProof(bytes32 merkleRoot);
    error InvalidTiers();
    error InvalidConfig();

    // ----------------------------------------------------------------------------------------------------
    // Events
    // ----------------------------------------------------------------------------------------------------

    /// @dev `depositRef` is the request's id.
    event MintRequested(
        bytes32 indexed depositRef, address indexed requester, address indexed recipient, uint256 amount, uint256 expiresAt
    );
    /// @dev `merkleRoot` is the batch request's id.
    event BatchMintRequested(
        bytes32 indexed merkleRoot, address indexed requester, uint256 entryCount, uint256 total, uint256 expiresAt
    );
    event MintApproved(bytes32 indexed requestId, address indexed approver, uint256 approvals);
    event MintExecuted(bytes32 indexed depositRef, address indexed recipient, uint256 amount);
    event BatchEntryMinted(bytes32 indexed merkleRoot, address indexed recipient, bytes32 indexed depositRef, uint256 amount);
    event BatchChunkExecuted(
        bytes32 indexed merkleRoot, uint256 entries, uint256 amount, uint256 executedCount, uint256 executedAmount
    );
    event MintRequestCancelled(bytes32 indexed requestId, address indexed by);
    event Redeemed(bytes32 indexed payoutRef, address indexed holder, uint256 amount, address indexed by);
    event MintingHalted(address indexed by);
    event MintingResumed(address indexed by);
    event ApprovalsVoided(uint256 newApproverEpoch, address indexed removedApprover);
    event PerTxCapChanged(uint256 oldCap, uint256 newCap, address indexed by);
    event GlobalWindowLimitChanged(uint256 oldLimit, uint256 newLimit, address indexed by);
    event MinterLimitsChanged(
        address indexed minter,
        uint256 oldAllowance,
        uint256 newAllowance,
        uint256 oldWindowLimit,
        uint256 newWindowLimit,
        address indexed by
    );
    event TiersChanged(Tiers oldTiers, Tiers newTiers, address indexed by);
    event MaxAttestationAgeChanged(uint256 oldMaxAge, uint256 newMaxAge, address indexed by);
    event ReserveMarginChanged(uint256 oldMarginBps, uint256 newMarginBps, address indexed by);
    event RequestTtlChanged(uint256 oldTtl, uint256 newTtl, address indexed by);

    constructor(InitParams memory p) AccessControlDefaultAdminRules(p.adminTransferDelay, p.admin) {
        if (address(p.token) == address(0) || address(p.registry) == address(0)) revert ZeroAddress();
        if (p.guardian == address(0) || p.redemptionDesk == address(0)) revert ZeroAddress();
        if (p.windowSeconds == 0 || p.maxAttestationAge == 0 || p.requestTtl == 0 || p.requestTtl > MAX_REQUEST_TTL) {
            revert InvalidConfig();
        }
        if (p.reserveMarginBps > BPS) revert InvalidConfig();
        token = p.token;
        registry = p.registry;
        predecessor = p.predecessor;
        windowSeconds = p.windowSeconds;

        _grantRole(GUARDIAN_ROLE, p.guardian);
        _grantRole(REDEMPTION_DESK_ROLE, p.redemptionDesk);
        Config storage c = _config;
        c.maxAttestationAge = p.maxAttestationAge;
        c.reserveMarginBps = p.reserveMarginBps;
        c.requestTtl = p.requestTtl;
        _storeTiers(p.tiers);
        _global.perTxCapTiyin = _toTiyin(p.perTxCap);
        _global.windowLimitTiyin = _toTiyin(p.globalWindowLimit);
        for (uint256 i = 0; i < p.minters.length; ++i) {
            _addMinter(p.minters[i].minter, p.minters[i].allowance, p.minters[i].windowLimit);
        }
        for (uint256 i = 0; i < p.approvers.length; ++i) {
            if (p.approvers[i] == address(0)) revert ZeroAddress();
            _grantRole(APPROVER_ROLE, p.approvers[i]);
        }
    }

    // ----------------------------------------------------------------------------------------------------
    // Maker: open requests
    // ----------------------------------------------------------------------------------------------------

    /// @notice Opens a request to mint `amount` to `recipient` against the bank deposit `depositRef`. The
    /// reference is the request's id and is used up now, even if the request is later cancelled or expires.
    function requestMint(address recipient, uint256 amount, bytes32 depositRef) external onlyRole(MINTER_ROLE) {
        _checkRecipient(recipient);
        uint56 amountTiyin = _toTiyin(amount);
        if (amountTiyin == 0) revert ZeroAmount();
        _checkPerTxCap(amountTiyin);
        _checkDepositRefUnused(depositRef);
        uint32 expiresAt = _openRequest(depositRef, RequestKind.Single, recipient, amountTiyin, 0);
        emit MintRequested(depositRef, msg.sender, recipient, amount, expiresAt);
    }

    /// @notice Opens one request for many (recipient, amount, depositRef) entries, committed by the Merkle root
    /// of OpenZeppelin StandardMerkleTree leaves of abi.encode(address, uint256, bytes32). Approvers approve
    /// the root, count and total once; entries then execute in chunks, each deposit reference used up as it
    /// mints.
    function requestBatchMint(bytes32 merkleRoot, uint256 entryCount, uint256 total) external onlyRole(MINTER_ROLE) {
        if (entryCount == 0) revert EmptyBatch();
        if (entryCount > type(uint32).max) revert InvalidConfig();
        uint56 totalTiyin = _toTiyin(total);
        if (totalTiyin == 0) revert ZeroAmount();
        if (merkleRoot == bytes32(0) || _requests[merkleRoot].status != RequestStatus.None) {
            revert InvalidBatchProof(merkleRoot);
        }
        uint32 expiresAt = _openRequest(merkleRoot, RequestKind.Batch, address(0), totalTiyin, uint32(entryCount));
        emit BatchMintRequested(merkleRoot, msg.sender, entryCount, total, expiresAt);
    }

    // ----------------------------------------------------------------------------------------------------
    // Checkers: approve by re-stating what is being minted
    // ----------------------------------------------------------------------------------------------------

    function approveMint(bytes32 depositRef, address recipient, uint256 amount) external onlyRole(APPROVER_ROLE) {
        Request storage r = _pendingRequest(depositRef, RequestKind.Single);
        if (r.recipient != recipient || _units(r.amountTiyin) != amount) revert ApprovalMismatch(depositRef);
        _approve(depositRef, r);
    }

    /// @notice The approver re-computes the root from the same file of entries and re-states count and total.
    function approveBatchMint(bytes32 merkleRoot, uint256 entryCount, uint256 total) external onlyRole(APPROVER_ROLE) {
        Request storage r = _pendingRequest(merkleRoot, RequestKind.Batch);
        if (r.entryCount != entryCount || _units(r.amountTiyin) != total) revert ApprovalMismatch(merkleRoot);
        _approve(merkleRoot, r);
    }

    // ----------------------------------------------------------------------------------------------------
    // Execution: permissionless, because the approvals are the authority
    // ----------------------------------------------------------------------------------------------------

    function executeMint(bytes32 depositRef) external {
        Request storage r = _pendingRequest(depositRef, RequestKind.Single);
        Config memory c = _checkExecutable(depositRef, r);
        r.status = RequestStatus.Executed;
        uint56 amountTiyin = r.amountTiyin;
        _useLimits(r.requester, amountTiyin);
        uint256 amount = _units(amountTiyin);
        address recipient = r.recipient;
        _checkReserves(c, token.mint(recipient, amount), amount);
        emit MintExecuted(depositRef, recipient, amount);
    }

    /// @notice Mints a chunk of an approved batch. `entries` must be in the order of the multiproof (`proof`,
    /// `proofFlags`) against the batch root; the per-transaction cap, allowance, windows and reserve bound
    /// apply to the chunk's total. A chunk that fails leaves the rest of the batch executable.
    function executeBatchChunk(
        bytes32 merkleRoot,
        BatchEntry[] calldata entries,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external {
        Request storage r = _pendingRequest(merkleRoot, RequestKind.Batch);
        Config memory c = _checkExecutable(merkleRoot, r);
        uint256 chunkAmount = _verifyChunk(merkleRoot, entries, proof, proofFlags);
        uint56 chunkTiyin = _recordChunk(merkleRoot, r, entries.length, chunkAmount);
        _useLimits(r.requester, chunkTiyin);
        _checkReserves(c, _mintEntries(merkleRoot, entries), chunkAmount);
    }

    /// @notice Cancels a pending (or expired) request; by its requester or a guardian. A single request's
    /// deposit reference stays used.
    function cancelRequest(bytes32 requestId) external {
        Request storage r = _requests[requestId];
        if (r.status == RequestStatus.None) revert UnknownRequest(requestId);
        if (r.status != RequestStatus.Pending) revert RequestNotPending(requestId, _statusOf(r));
        if (msg.sender != r.requester && !hasRole(GUARDIAN_ROLE, msg.sender)) revert NotRequesterOrGuardian(msg.sender);
        r.status = RequestStatus.Cancelled;
        emit MintRequestCancelled(requestId, msg.sender);
    }

    // ----------------------------------------------------------------------------------------------------
    // Redemption
    // ----------------------------------------------------------------------------------------------------

    /// @notice Burns `amount` of the caller's KGST for the som payout identified by `payoutRef` (hash of the
    /// payout instruction; single-use). Needs an allowance to this contract: the token never burns a holder's
    /// KGST without the holder's approval or signature.
    function redeem(uint256 amount, bytes32 payoutRef) external {
        _redeem(msg.sender, amount, payoutRef);
    }

    /// @notice `redeem` with an EIP-2612 permit in the same transaction. The caller must be the holder, so a
    /// relayer can never attach its own payout reference to someone else's signature.
    function redeemWithPermit(uint256 amount, bytes32 payoutRef, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
    {
        // A permit someone already submitted (front-running it) leaves the allowance in place: carry on, and
        // let the burn's allowance check decide.
        try token.permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
        _redeem(msg.sender, amount, payoutRef);
    }

    /// @notice Burns KGST that holders sent to this contract (the designated redemption address) for the
    /// payout `payoutRef`. Only the redemption desk.
    function burnRedeemed(uint256 amount, bytes32 payoutRef) external onlyRole(REDEMPTION_DESK_ROLE) {
        _redeem(address(this), amount, payoutRef);
    }

    // ----------------------------------------------------------------------------------------------------
    // Governance: the guardian only makes things stricter; the admin (timelock) does the rest
    // ----------------------------------------------------------------------------------------------------

    function haltMinting() external {
        _authorizeChange(false);
        _config.mintingHalted = true;
        emit MintingHalted(msg.sender);
    }

    function resumeMinting() external {
        _authorizeChange(true);
        _config.mintingHalted = false;
        emit MintingResumed(msg.sender);
    }

    function setPerTxCap(uint256 newCap) external {
        uint56 oldTiyin = _global.perTxCapTiyin;
        uint56 newTiyin = _toTiyin(newCap);
        _authorizeChange(newTiyin > oldTiyin);
        _global.perTxCapTiyin = newTiyin;
        emit PerTxCapChanged(_units(oldTiyin), newCap, msg.sender);
    }

    function setGlobalWindowLimit(uint256 newLimit) external {
        uint56 oldTiyin = _global.windowLimitTiyin;
        uint56 newTiyin = _toTiyin(newLimit);
        _authorizeChange(newTiyin > oldTiyin);
        _global.windowLimitTiyin = newTiyin;
        emit GlobalWindowLimitChanged(_units(oldTiyin), newLimit, msg.sender);
    }

    /// @notice Sets a minter's remaining allowance and window limit (raising either needs the admin).
    function setMinterLimits(address minter, uint256 allowance, uint256 windowLimit) external {
        MinterState storage m = _minters[minter];
        uint56 newAllowance = _toTiyin(allowance);
        uint56 newWindowLimit = _toTiyin(windowLimit);
        _authorizeChange(newAllowance > m.allowanceTiyin || newWindowLimit > m.windowLimitTiyin);
        if (!hasRole(MINTER_ROLE, minter)) revert NotAMinter(minter);
        emit MinterLimitsChanged(minter, _units(m.allowanceTiyin), allowance, _units(m.windowLimitTiyin), windowLimit, msg.sender);
        m.allowanceTiyin = newAllowance;
        m.windowLimitTiyin = newWindowLimit;
    }

    /// @notice Adds a minter with its limits (admin: adding a minter raises risk).
    function addMinter(address minter, uint256 allowance, uint256 windowLimit) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _addMinter(minter, allowance, windowLimit);
    }

    /// @notice Removes a minter instantly; its allowance goes to zero, so its open requests cannot execute.
    function removeMinter(address minter) external {
        _authorizeChange(false);
        _revokeRole(MINTER_ROLE, minter);
    }

    /// @notice Removes an approver instantly and voids every approval given so far on open requests.
    function removeApprover(address approver) external {
        _authorizeChange(false);
        _revokeRole(APPROVER_ROLE, approver);
    }

    function setTiers(Tiers calldata newTiers) external {
        Tiers memory old = tiers();
        // Stricter means: no threshold higher and no approval count lower than before.
        bool riskRaising = newTiers.tier1Max > old.tier1Max || newTiers.tier2Max > old.tier2Max
            || newTiers.approvalsTier1 < old.approvalsTier1 || newTiers.approvalsTier2 < old.approvalsTier2
            || newTiers.approvalsTier3 < old.approvalsTier3;
        _authorizeChange(riskRaising);
        _storeTiers(newTiers);
        emit TiersChanged(old, newTiers, msg.sender);
    }

    function setMaxAttestationAge(uint32 newMaxAge) external {
        if (newMaxAge == 0) revert InvalidConfig();
        uint32 old = _config.maxAttestationAge;
        _authorizeChange(newMaxAge > old);
        _config.maxAttestationAge = newMaxAge;
        emit MaxAttestationAgeChanged(old, newMaxAge, msg.sender);
    }

    function setReserveMargin(uint16 newMarginBps) external {
        if (newMarginBps > BPS) revert InvalidConfig();
        uint16 old = _config.reserveMarginBps;
        _authorizeChange(newMarginBps < old);
        _config.reserveMarginBps = newMarginBps;
        emit ReserveMarginChanged(old, newMarginBps, msg.sender);
    }

    function setRequestTtl(uint32 newTtl) external {
        if (newTtl == 0 || newTtl > MAX_REQUEST_TTL) revert InvalidConfig();
        uint32 old = _config.requestTtl;
        _authorizeChange(newTtl > old);
        _config.requestTtl = newTtl;
        emit RequestTtlChanged(old, newTtl, msg.sender);
    }

    // ----------------------------------------------------------------------------------------------------
    // Views
    // ----------------------------------------------------------------------------------------------------

    function getRequest(bytes32 requestId) external view returns (RequestView memory v) {
        Request storage r = _requests[requestId];
        if (r.status == RequestStatus.None) revert UnknownRequest(requestId);
        Config memory c = _config;
        v.kind = r.kind;
        v.status = _statusOf(r);
        v.requester = r.requester;
        v.recipient = r.recipient;
        v.amount = _units(r.amountTiyin);
        v.expiresAt = r.expiresAt;
        v.approvals = _validApprovals(r, c);
        v.approvalsRequired = _approvalsRequired(c, r.amountTiyin);
        v.entryCount = r.entryCount;
        BatchProgress memory progress = _batchProgress[requestId];
        v.executedCount = progress.executedCount;
        v.executedAmount = _units(progress.executedTiyin);
    }

    function hasApproved(bytes32 requestId, address approver) external view returns (bool) {
        return _approvedInEpoch[requestId][approver] == _config.approverEpoch + 1;
    }

    /// @inheritdoc IKGSTIssuanceController
    function depositRefUsed(bytes32 depositRef) public view returns (bool) {
        return _requests[depositRef].status != RequestStatus.None || _mintedInBatch[depositRef]
            || (address(predecessor) != address(0) && predecessor.depositRefUsed(depositRef));
    }

    function approvalsRequired(uint256 amount) external view returns (uint256) {
        return _approvalsRequired(_config, _toTiyin(amount));
    }

    function config() external view returns (Config memory) {
        return _config;
    }

    function tiers() public view returns (Tiers memory) {
        Config memory c = _config;
        return Tiers(_units(c.tier1MaxTiyin), _units(c.tier2MaxTiyin), c.approvalsTier1, c.approvalsTier2, c.approvalsTier3);
    }

    /// @notice A minter's remaining allowance, its window limit, and its use of and room in the window now.
    function minterStatus(address minter)
        external
        view
        returns (uint256 allowance, uint256 windowLimit, uint256 windowUsed, uint256 windowAvailable)
    {
        MinterState memory m = _minters[minter];
        uint256 used = _windowUsage(m.windowId, m.previousWindowTiyin, m.currentWindowTiyin);
        return (
            _units(m.allowanceTiyin), _units(m.windowLimitTiyin), _units(used), _units(_available(m.windowLimitTiyin, used))
        );
    }

    function globalStatus()
        external
        view
        returns (uint256 perTxCap, uint256 windowLimit, uint256 windowUsed, uint256 windowAvailable)
    {
        GlobalState memory g = _global;
        uint256 used = _windowUsage(g.windowId, g.previousWindowTiyin, g.currentWindowTiyin);
        return (
            _units(g.perTxCapTiyin), _units(g.windowLimitTiyin), _units(used), _units(_available(g.windowLimitTiyin, used))
        );
    }

    /// @notice How much more KGST the reserves allow now; `fresh` is false (and headroom 0) when there is no
    /// attestation or it is older than the maximum age.
    function reserveHeadroom()
        external
        view
        returns (uint256 headroom, bool fresh, uint256 mintableSupply, uint256 supply, uint256 asOf)
    {
        Config memory c = _config;
        (uint256 reserves, uint64 attestedAsOf, uint256 count) = registry.latestReserves();
        supply = token.totalSupply();
        mintableSupply = reserves * (BPS - c.reserveMarginBps) / BPS;
        fresh = count != 0 && block.timestamp <= uint256(attestedAsOf) + c.maxAttestationAge;
        headroom = fresh && mintableSupply > supply ? mintableSupply - supply : 0;
        asOf = attestedAsOf;
    }

    // ----------------------------------------------------------------------------------------------------
    // Internals
    // ----------------------------------------------------------------------------------------------------

    function _openRequest(bytes32 id, RequestKind kind, address recipient, uint56 amountTiyin, uint32 entryCount)
        private
        returns (uint32 expiresAt)
    {
        Config storage c = _config;
        if (c.mintingHalted) revert MintingIsHalted();
        expiresAt = uint32(block.timestamp + c.requestTtl);
        _requests[id] = Request({
            recipient: recipient,
            amountTiyin: amountTiyin,
            expiresAt: expiresAt,
            status: RequestStatus.Pending,
            requester: msg.sender,
            approverEpoch: c.approverEpoch,
            approvals: 0,
            kind: kind,
            entryCount: entryCount
        });
    }

    function _approve(bytes32 requestId, Request storage r) private {
        if (msg.sender == r.requester) revert RequesterCannotApprove(requestId);
        uint32 epoch = _config.approverEpoch;
        // Approvals given before an approver was removed (an older epoch) no longer count.
        uint8 approvals = r.approverEpoch == epoch ? r.approvals + 1 : 1;
        if (_approvedInEpoch[requestId][msg.sender] == epoch + 1) revert AlreadyApproved(requestId, msg.sender);
        _approvedInEpoch[requestId][msg.sender] = epoch + 1;
        (r.approverEpoch, r.approvals) = (epoch, approvals);
        emit MintApproved(requestId, msg.sender, approvals);
    }

    /// @dev The request exists, is of `kind`, is pending and has not expired.
    function _pendingRequest(bytes32 requestId, RequestKind kind) private view returns (Request storage r) {
        r = _requests[requestId];
        RequestStatus status = r.status;
        if (status == RequestStatus.None) revert UnknownRequest(requestId);
        if (r.kind != kind) revert WrongRequestKind(requestId);
        if (status != RequestStatus.Pending) revert RequestNotPending(requestId, status);
        if (block.timestamp > r.expiresAt) revert RequestExpired(requestId, r.expiresAt);
    }

    /// @dev Minting is not halted and the request has the approvals its amount needs under the current tiers.
    function _checkExecutable(bytes32 requestId, Request storage r) private view returns (Config memory c) {
        c = _config;
        if (c.mintingHalted) revert MintingIsHalted();
        uint256 approvals = _validApprovals(r, c);
        uint256 required = _approvalsRequired(c, r.amountTiyin);
        if (approvals < required) revert NotEnoughApprovals(requestId, approvals, required);
    }

    function _validApprovals(Request storage r, Config memory c) private view returns (uint256) {
        return r.approverEpoch == c.approverEpoch ? r.approvals : 0;
    }

    function _approvalsRequired(Config memory c, uint56 amountTiyin) private pure returns (uint256) {
        if (amountTiyin <= c.tier1MaxTiyin) return c.approvalsTier1;
        if (amountTiyin <= c.tier2MaxTiyin) return c.approvalsTier2;
        return c.approvalsTier3;
    }

    /// @dev Proves the chunk against the batch root, after checking each entry and using up its deposit reference.
    function _verifyChunk(
        bytes32 merkleRoot,
        BatchEntry[] calldata entries,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) private returns (uint256 chunkAmount) {
        bytes32[] memory leaves;
        (leaves, chunkAmount) = _useEntries(entries);
        if (!MerkleProof.multiProofVerifyCalldata(proof, proofFlags, merkleRoot, leaves)) {
            revert InvalidBatchProof(merkleRoot);
        }
    }

    function _useEntries(BatchEntry[] calldata entries) private returns (bytes32[] memory leaves, uint256 chunkAmount) {
        leaves = new bytes32[](entries.length);
        for (uint256 i = 0; i < entries.length; ++i) {
            BatchEntry calldata e = entries[i];
            _checkRecipient(e.recipient);
            if (_toTiyin(e.amount) == 0) revert ZeroAmount();
            _checkDepositRefUnused(e.depositRef);
            _mintedInBatch[e.depositRef] = true;
            chunkAmount += e.amount;
            leaves[i] = keccak256(bytes.concat(keccak256(abi.encode(e.recipient, e.amount, e.depositRef))));
        }
    }

    /// @dev Adds the chunk to the batch's progress; the last entries must bring it exactly to the approved total.
    function _recordChunk(bytes32 merkleRoot, Request storage r, uint256 entries, uint256 chunkAmount)
        private
        returns (uint56 chunkTiyin)
    {
        if (entries == 0) revert EmptyBatch(); // an empty multiproof would verify against any root
        BatchProgress storage progress = _batchProgress[merkleRoot];
        uint256 executedCount = progress.executedCount + entries;
        if (executedCount > r.entryCount) revert BatchTooLarge(entries, r.entryCount, progress.executedCount);
        chunkTiyin = _toTiyin(chunkAmount);
        uint256 executedTiyin = uint256(progress.executedTiyin) + chunkTiyin;
        bool complete = executedCount == r.entryCount;
        if (executedTiyin > r.amountTiyin || (complete && executedTiyin != r.amountTiyin)) {
            revert BatchTotalMismatch(_units(executedTiyin), _units(r.amountTiyin));
        }
        (progress.executedTiyin, progress.executedCount) = (uint56(executedTiyin), uint32(executedCount));
        if (complete) r.status = RequestStatus.Executed;
        emit BatchChunkExecuted(merkleRoot, entries, chunkAmount, executedCount, _units(executedTiyin));
    }

    /// @dev Returns the total supply after the last mint.
    function _mintEntries(bytes32 merkleRoot, BatchEntry[] calldata entries) private returns (uint256 newSupply) {
        for (uint256 i = 0; i < entries.length; ++i) {
            BatchEntry calldata e = entries[i];
            newSupply = token.mint(e.recipient, e.amount);
            emit BatchEntryMinted(merkleRoot, e.recipient, e.depositRef, e.amount);
        }
    }

    function _checkPerTxCap(uint56 amountTiyin) private view {
        uint56 cap = _global.perTxCapTiyin;
        if (amountTiyin > cap) revert ExceedsPerTransactionCap(_units(amountTiyin), _units(cap));
    }

    /// @dev Applies the per-transaction cap, the requester's allowance and both rate windows, and records the
    /// use. A limit of zero blocks minting; there is no "unlimited" value.
    function _useLimits(address minter, uint56 amountTiyin) private {
        GlobalState storage g = _global;
        uint56 cap = g.perTxCapTiyin;
        if (amountTiyin > cap) revert ExceedsPerTransactionCap(_units(amountTiyin), _units(cap));
        (uint32 windowId, uint56 previous, uint56 current, uint256 available) =
            _useWindow(g.windowId, g.previousWindowTiyin, g.currentWindowTiyin, g.windowLimitTiyin, amountTiyin);
        if (available < amountTiyin) revert ExceedsGlobalWindow(_units(amountTiyin), _units(available));
        (g.windowId, g.previousWindowTiyin, g.currentWindowTiyin) = (windowId, previous, current);

        MinterState storage m = _minters[minter];
        uint56 allowance = m.allowanceTiyin;
        if (amountTiyin > allowance) revert ExceedsMinterAllowance(minter, _units(amountTiyin), _units(allowance));
        (windowId, previous, current, available) =
            _useWindow(m.windowId, m.previousWindowTiyin, m.currentWindowTiyin, m.windowLimitTiyin, amountTiyin);
        if (available < amountTiyin) revert ExceedsMinterWindow(minter, _units(amountTiyin), _units(available));
        (m.windowId, m.previousWindowTiyin, m.currentWindowTiyin, m.allowanceTiyin) =
            (windowId, previous, current, allowance - amountTiyin);
    }

    /// @dev Rolling window over fixed windows of `windowSeconds`: usage in the current window plus the whole
    /// previous window must stay within the limit. Any interval of `windowSeconds` lies within one window and
    /// its predecessor, so at the last mint in such an interval everything minted in it was counted: no
    /// interval of that length ever exceeds the limit (the price is that capacity frees up over up to two
    /// windows). Returns the rolled-forward state with `amount` added if it fits, and what was available.
    function _useWindow(uint32 windowId, uint56 previousUsed, uint56 currentUsed, uint56 limit, uint56 amount)
        private
        view
        returns (uint32, uint56, uint56, uint256 available)
    {
        uint32 nowId = uint32(block.timestamp / windowSeconds);
        if (nowId != windowId) {
            previousUsed = nowId == windowId + 1 ? currentUsed : 0;
            currentUsed = 0;
        }
        available = _available(limit, uint256(previousUsed) + currentUsed);
        if (available >= amount) currentUsed += amount;
        return (nowId, previousUsed, currentUsed, available);
    }

    function _windowUsage(uint32 windowId, uint56 previousUsed, uint56 currentUsed) private view returns (uint256) {
        uint32 nowId = uint32(block.timestamp / windowSeconds);
        if (nowId == windowId) return uint256(previousUsed) + currentUsed;
        if (nowId == windowId + 1) return currentUsed;
        return 0;
    }

    function _available(uint56 limit, uint256 used) private pure returns (uint256) {
        return used >= limit ? 0 : limit - used;
    }

    /// @dev Checked right after minting, against the supply the token reports, in the same transaction: a
    /// failure reverts the mint. Fails closed: no attestation, or one older than the maximum age, blocks it.
    function _checkReserves(Config memory c, uint256 newSupply, uint256 amount) private view {
        (uint256 reserves, uint64 asOf, uint256 count) = registry.latestReserves();
        if (count == 0) revert NoReserveAttestation();
        if (block.timestamp > uint256(asOf) + c.maxAttestationAge) revert ReserveAttestationStale(asOf, c.maxAttestationAge);
        uint256 mintableSupply = reserves * (BPS - c.reserveMarginBps) / BPS;
        if (newSupply > mintableSupply) revert ExceedsReserves(newSupply - amount, amount, mintableSupply);
    }

    function _redeem(address holder, uint256 amount, bytes32 payoutRef) private {
        if (_toTiyin(amount) == 0) revert ZeroAmount();
        if (payoutRef == bytes32(0)) revert MissingPayoutReference();
        if (payoutRefUsed[payoutRef]) revert PayoutRefAlreadyUsed(payoutRef);
        payoutRefUsed[payoutRef] = true;
        token.burn(holder, amount);
        emit Redeemed(payoutRef, holder, amount, msg.sender);
    }

    function _checkDepositRefUnused(bytes32 depositRef) private view {
        if (depositRef == bytes32(0)) revert MissingDepositReference();
        if (depositRefUsed(depositRef)) revert DepositRefAlreadyUsed(depositRef);
    }

    /// @dev Refused at request time what the token would refuse at execution: no request that cannot succeed.
    function _checkRecipient(address recipient) private view {
        if (recipient == address(0) || recipient == address(this) || recipient == address(token)) {
            revert InvalidRecipient(recipient);
        }
    }

    function _addMinter(address minter, uint256 allowance, uint256 windowLimit) private {
        if (minter == address(0)) revert ZeroAddress();
        _grantRole(MINTER_ROLE, minter);
        MinterState storage m = _minters[minter];
        emit MinterLimitsChanged(minter, _units(m.allowanceTiyin), allowance, _units(m.windowLimitTiyin), windowLimit, msg.sender);
        m.allowanceTiyin = _toTiyin(allowance);
        m.windowLimitTiyin = _toTiyin(windowLimit);
    }

    function _storeTiers(Tiers memory t) private {
        uint56 tier1 = _toTiyin(t.tier1Max);
        uint56 tier2 = _toTiyin(t.tier2Max);
        if (
            tier1 > tier2 || t.approvalsTier1 == 0 || t.approvalsTier1 > t.approvalsTier2
                || t.approvalsTier2 > t.approvalsTier3 || t.approvalsTier3 > MAX_APPROVALS
        ) revert InvalidTiers();
        Config storage c = _config;
        (c.tier1MaxTiyin, c.tier2MaxTiyin) = (tier1, tier2);
        (c.approvalsTier1, c.approvalsTier2, c.approvalsTier3) = (t.approvalsTier1, t.approvalsTier2, t.approvalsTier3);
    }

    /// @dev The one place for the asymmetric-powers rule: risk-raising changes need the admin (timelock);
    /// risk-reducing ones may also come from the guardian.
    function _authorizeChange(bool riskRaising) private view {
        if (riskRaising || !hasRole(GUARDIAN_ROLE, msg.sender)) _checkRole(DEFAULT_ADMIN_ROLE);
    }

    /// @dev Every way a role is lost (guardian removal, admin revoke, renounce) goes through here, so losing
    /// MINTER_ROLE always zeroes the minter's limits and losing APPROVER_ROLE always voids pending approvals.
    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (!revoked) return revoked;
        if (role == MINTER_ROLE) {
            MinterState storage m = _minters[account];
            emit MinterLimitsChanged(account, _units(m.allowanceTiyin), 0, _units(m.windowLimitTiyin), 0, msg.sender);
            (m.allowanceTiyin, m.windowLimitTiyin) = (0, 0);
        } else if (role == APPROVER_ROLE) {
            uint32 epoch = ++_config.approverEpoch;
            emit ApprovalsVoided(epoch, account);
        }
    }

    function _statusOf(Request storage r) private view returns (RequestStatus) {
        if (r.status == RequestStatus.Pending && block.timestamp > r.expiresAt) return RequestStatus.Expired;
        return r.status;
    }

    function _toTiyin(uint256 amount) private pure returns (uint56) {
        if (amount % TOKEN_UNITS_PER_TIYIN != 0) revert AmountNotWholeTiyin(amount);
        uint256 tiyin = amount / TOKEN_UNITS_PER_TIYIN;
        if (tiyin > type(uint56).max) revert AmountTooLarge(amount);
        return uint56(tiyin);
    }

    function _units(uint256 tiyin) private pure returns (uint256) {
        return tiyin * TOKEN_UNITS_PER_TIYIN;
    }
}
