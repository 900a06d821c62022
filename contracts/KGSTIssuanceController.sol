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
/// deposit reference that can be used once, ever; after enough distinct approvers (by amount tier, never the
/// requester, no bypass for any role) re-state recipient and amount; within a per-transaction cap, the
/// requester's allowance, and rolling per-minter and global windows; and only while the latest auditor
/// attestation is fresh and covers the new supply. Holders redeem (burn) through it with a payout reference.
/// @dev Amounts are KGST base units (18 decimals) at the interface and must be whole tiyin (10^16 units);
/// inside they are stored in tiyin (uint56: up to 7.2e14 som), so each limit set fits one storage slot.
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
        // slot 2
        bytes32 ref; // single: the deposit reference; batch: the Merkle root of the entries
        // slot 3 (batch only)
        uint56 executedTiyin;
        uint32 executedCount;
    }

    /// @dev Window accounting shared by minters and the global limit: usage in the current fixed window and
    /// in the one before it; both count against the limit (see `_useWindow`).
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
        uint256 amount;
        bytes32 ref;
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
    mapping(uint256 requestId => Request) private _requests;
    mapping(uint256 requestId => mapping(address approver => uint32 epochPlusOne)) private _approvedInEpoch;
    mapping(bytes32 depositRef => uint256 requestId) private _depositRefRequest;
    uint256 public requestCount;
    uint256 public redemptionCount;

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
    /// @notice This deposit reference was already used by request `requestId` (or by the predecessor).
    error DepositRefAlreadyUsed(bytes32 depositRef, uint256 requestId);
    error MintingIsHalted();
    error UnknownRequest(uint256 requestId);
    error WrongRequestKind(uint256 requestId);
    error RequestNotPending(uint256 requestId, RequestStatus status);
    error RequestExpired(uint256 requestId, uint256 expiredAt);
    /// @notice The approver re-stated a recipient/amount (or root/total) that differs from the request.
    error ApprovalMismatch(uint256 requestId);
    error RequesterCannotApprove(uint256 requestId);
    error AlreadyApproved(uint256 requestId, address approver);
    error NotEnoughApprovals(uint256 requestId, uint256 approvals, uint256 required);
    error NotRequesterOrGuardian(address caller);
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
    error InvalidBatchProof(uint256 requestId);
    error InvalidTiers();
    error InvalidConfig();

    // ----------------------------------------------------------------------------------------------------
    // Events
    // ----------------------------------------------------------------------------------------------------

    event MintRequested(
        uint256 indexed requestId,
        address indexed requester,
        address indexed recipient,
        uint256 amount,
        bytes32 depositRef,
        uint256 expiresAt
    );
    event BatchMintRequested(
        uint256 indexed requestId,
        address indexed requester,
        bytes32 indexed merkleRoot,
        uint256 entryCount,
        uint256 total,
        uint256 expiresAt
    );
    event MintApproved(uint256 indexed requestId, address indexed approver, uint256 approvals);
    event MintExecuted(
        uint256 indexed requestId, address indexed recipient, bytes32 indexed depositRef, uint256 amount, address executor
    );
    event BatchEntryMinted(
        uint256 indexed requestId, address indexed recipient, bytes32 indexed depositRef, uint256 amount
    );
    event BatchChunkExecuted(
        uint256 indexed requestId, uint256 entries, uint256 amount, uint256 executedCount, uint256 executedAmount
    );
    event MintRequestCancelled(uint256 indexed requestId, address indexed by);
    event Redeemed(
        uint256 indexed redemptionId, address indexed holder, bytes32 indexed payoutRef, uint256 amount, address by
    );
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
        if (p.windowSeconds == 0 || p.maxAttestationAge == 0 || p.requestTtl == 0) revert InvalidConfig();
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
            MinterInit memory m = p.minters[i];
            if (m.minter == address(0)) revert ZeroAddress();
            _grantRole(MINTER_ROLE, m.minter);
            _minters[m.minter].allowanceTiyin = _toTiyin(m.allowance);
            _minters[m.minter].windowLimitTiyin = _toTiyin(m.windowLimit);
        }
        for (uint256 i = 0; i < p.approvers.length; ++i) {
            if (p.approvers[i] == address(0)) revert ZeroAddress();
            _grantRole(APPROVER_ROLE, p.approvers[i]);
        }
    }

    // ----------------------------------------------------------------------------------------------------
    // Maker: open requests
    // ----------------------------------------------------------------------------------------------------

    /// @notice Opens a request to mint `amount` to `recipient` against the bank deposit `depositRef`, which is
    /// used up now, even if the request is later cancelled or expires.
    function requestMint(address recipient, uint256 amount, bytes32 depositRef)
        external
        onlyRole(MINTER_ROLE)
        returns (uint256 requestId)
    {
        _checkRecipient(recipient);
        uint56 amountTiyin = _toTiyin(amount);
        if (amountTiyin == 0) revert ZeroAmount();
        _checkPerTxCap(amountTiyin);
        requestId = _openRequest(RequestKind.Single, recipient, amountTiyin, depositRef, 0);
        _useDepositRef(depositRef, requestId);
        emit MintRequested(requestId, msg.sender, recipient, amount, depositRef, _requests[requestId].expiresAt);
    }

    /// @notice Opens one request for many (recipient, amount, depositRef) entries committed by a Merkle root
    /// (OpenZeppelin StandardMerkleTree leaves of abi.encode(address, uint256, bytes32)). Approvers approve the
    /// root and total once; the entries then execute in chunks, each deposit reference used up as it mints.
    function requestBatchMint(bytes32 merkleRoot, uint256 entryCount, uint256 total)
        external
        onlyRole(MINTER_ROLE)
        returns (uint256 requestId)
    {
        if (merkleRoot == bytes32(0)) revert InvalidBatchProof(0);
        if (entryCount == 0 || entryCount > type(uint32).max) revert EmptyBatch();
        uint56 totalTiyin = _toTiyin(total);
        if (totalTiyin == 0) revert ZeroAmount();
        requestId = _openRequest(RequestKind.Batch, address(0), totalTiyin, merkleRoot, uint32(entryCount));
        emit BatchMintRequested(requestId, msg.sender, merkleRoot, entryCount, total, _requests[requestId].expiresAt);
    }

    // ----------------------------------------------------------------------------------------------------
    // Checkers: approve by re-stating what is being minted
    // ----------------------------------------------------------------------------------------------------

    function approveMint(uint256 requestId, address recipient, uint256 amount) external onlyRole(APPROVER_ROLE) {
        Request storage r = _pendingRequest(requestId, RequestKind.Single);
        if (r.recipient != recipient || uint256(r.amountTiyin) * TOKEN_UNITS_PER_TIYIN != amount) {
            revert ApprovalMismatch(requestId);
        }
        _approve(requestId, r);
    }

    function approveBatchMint(uint256 requestId, bytes32 merkleRoot, uint256 total) external onlyRole(APPROVER_ROLE) {
        Request storage r = _pendingRequest(requestId, RequestKind.Batch);
        if (r.ref != merkleRoot || uint256(r.amountTiyin) * TOKEN_UNITS_PER_TIYIN != total) {
            revert ApprovalMismatch(requestId);
        }
        _approve(requestId, r);
    }

    // ----------------------------------------------------------------------------------------------------
    // Execution: permissionless, because the approvals are the authority
    // ----------------------------------------------------------------------------------------------------

    function executeMint(uint256 requestId) external {
        Request storage r = _pendingRequest(requestId, RequestKind.Single);
        Config memory c = _config;
        _checkExecutable(requestId, r, c);
        r.status = RequestStatus.Executed;
        uint256 amount = uint256(r.amountTiyin) * TOKEN_UNITS_PER_TIYIN;
        _useLimits(r.requester, r.amountTiyin);
        _checkReserves(c, amount);
        address recipient = r.recipient;
        token.mint(recipient, amount);
        emit MintExecuted(requestId, recipient, r.ref, amount, msg.sender);
    }

    /// @notice Mints a chunk of an approved batch. `entries` must be in the order of the multiproof
    /// (`proof`, `proofFlags`) against the batch root; every limit and the reserve bound apply to the chunk's
    /// total. A chunk that fails leaves the rest of the batch executable.
    function executeBatchChunk(
        uint256 requestId,
        BatchEntry[] calldata entries,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external {
        Request storage r = _pendingRequest(requestId, RequestKind.Batch);
        Config memory c = _config;
        _checkExecutable(requestId, r, c);
        uint256 chunkAmount = _verifyChunk(requestId, r, entries, proof, proofFlags);
        uint56 chunkTiyin = _recordChunk(r, entries.length, chunkAmount);
        _checkPerTxCap(chunkTiyin);
        _useLimits(r.requester, chunkTiyin);
        _checkReserves(c, chunkAmount);
        for (uint256 i = 0; i < entries.length; ++i) {
            BatchEntry calldata e = entries[i];
            token.mint(e.recipient, e.amount);
            emit BatchEntryMinted(requestId, e.recipient, e.depositRef, e.amount);
        }
        emit BatchChunkExecuted(requestId, entries.length, chunkAmount, r.executedCount, _units(r.executedTiyin));
    }

    /// @notice Cancels a pending (or expired) request; by its requester or a guardian. Its deposit reference
    /// stays used.
    function cancelRequest(uint256 requestId) external {
        Request storage r = _requests[requestId];
        if (r.status != RequestStatus.Pending) revert RequestNotPending(requestId, _statusOf(r));
        if (msg.sender != r.requester && !hasRole(GUARDIAN_ROLE, msg.sender)) revert NotRequesterOrGuardian(msg.sender);
        r.status = RequestStatus.Cancelled;
        emit MintRequestCancelled(requestId, msg.sender);
    }

    // ----------------------------------------------------------------------------------------------------
    // Redemption
    // ----------------------------------------------------------------------------------------------------

    /// @notice Burns `amount` of the caller's KGST for a som payout identified by `payoutRef` (hash of the
    /// payout instruction). Needs an allowance to this contract: the token never burns a holder's KGST
    /// without the holder's approval or signature.
    function redeem(uint256 amount, bytes32 payoutRef) external returns (uint256 redemptionId) {
        return _redeem(msg.sender, amount, payoutRef);
    }

    /// @notice `redeem` with an EIP-2612 permit in the same transaction. The caller must be the holder, so a
    /// relayer can never attach its own payout reference to someone else's signature.
    function redeemWithPermit(uint256 amount, bytes32 payoutRef, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        returns (uint256 redemptionId)
    {
        // A permit already submitted by someone else (front-running) leaves the allowance in place: go on.
        try token.permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
        return _redeem(msg.sender, amount, payoutRef);
    }

    /// @notice Burns KGST that holders sent to this contract (the designated redemption address), for the
    /// payout `payoutRef`. Only the redemption desk.
    function burnRedeemed(uint256 amount, bytes32 payoutRef)
        external
        onlyRole(REDEMPTION_DESK_ROLE)
        returns (uint256 redemptionId)
    {
        return _redeem(address(this), amount, payoutRef);
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
        if ((newAllowance != 0 || newWindowLimit != 0) && !hasRole(MINTER_ROLE, minter)) revert InvalidConfig();
        emit MinterLimitsChanged(
            minter, _units(m.allowanceTiyin), allowance, _units(m.windowLimitTiyin), windowLimit, msg.sender
        );
        m.allowanceTiyin = newAllowance;
        m.windowLimitTiyin = newWindowLimit;
    }

    /// @notice Adds a minter with its limits (admin: adding a minter raises risk).
    function addMinter(address minter, uint256 allowance, uint256 windowLimit) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (minter == address(0)) revert ZeroAddress();
        _grantRole(MINTER_ROLE, minter);
        MinterState storage m = _minters[minter];
        emit MinterLimitsChanged(minter, 0, allowance, 0, windowLimit, msg.sender);
        m.allowanceTiyin = _toTiyin(allowance);
        m.windowLimitTiyin = _toTiyin(windowLimit);
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
        if (newTtl == 0) revert InvalidConfig();
        uint32 old = _config.requestTtl;
        _authorizeChange(newTtl > old);
        _config.requestTtl = newTtl;
        emit RequestTtlChanged(old, newTtl, msg.sender);
    }

    // ----------------------------------------------------------------------------------------------------
    // Views
    // ----------------------------------------------------------------------------------------------------

    function getRequest(uint256 requestId) external view returns (RequestView memory v) {
        Request storage r = _requests[requestId];
        if (r.status == RequestStatus.None) revert UnknownRequest(requestId);
        Config memory c = _config;
        v.kind = r.kind;
        v.status = _statusOf(r);
        v.requester = r.requester;
        v.recipient = r.recipient;
        v.amount = _units(r.amountTiyin);
        v.ref = r.ref;
        v.expiresAt = r.expiresAt;
        v.approvals = r.approverEpoch == c.approverEpoch ? r.approvals : 0;
        v.approvalsRequired = _approvalsRequired(c, r.amountTiyin);
        v.entryCount = r.entryCount;
        v.executedCount = r.executedCount;
        v.executedAmount = _units(r.executedTiyin);
    }

    function hasApproved(uint256 requestId, address approver) external view returns (bool) {
        return _approvedInEpoch[requestId][approver] == _config.approverEpoch + 1;
    }

    /// @inheritdoc IKGSTIssuanceController
    function depositRefUsed(bytes32 depositRef) public view returns (bool) {
        return _depositRefRequest[depositRef] != 0
            || (address(predecessor) != address(0) && predecessor.depositRefUsed(depositRef));
    }

    /// @notice The request that used `depositRef` here (0 if none).
    function depositRefRequest(bytes32 depositRef) external view returns (uint256) {
        return _depositRefRequest[depositRef];
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

    /// @notice A minter's remaining allowance, its window limit and what it may still mint in the window now.
    function minterStatus(address minter)
        external
        view
        returns (uint256 allowance, uint256 windowLimit, uint256 windowUsed, uint256 windowAvailable)
    {
        MinterState memory m = _minters[minter];
        uint256 used = _windowUsage(m.windowId, m.previousWindowTiyin, m.currentWindowTiyin);
        return (_units(m.allowanceTiyin), _units(m.windowLimitTiyin), _units(used), _available(m.windowLimitTiyin, used));
    }

    function globalStatus()
        external
        view
        returns (uint256 perTxCap, uint256 windowLimit, uint256 windowUsed, uint256 windowAvailable)
    {
        GlobalState memory g = _global;
        uint256 used = _windowUsage(g.windowId, g.previousWindowTiyin, g.currentWindowTiyin);
        return (_units(g.perTxCapTiyin), _units(g.windowLimitTiyin), _units(used), _available(g.windowLimitTiyin, used));
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

    function _openRequest(RequestKind kind, address recipient, uint56 amountTiyin, bytes32 ref, uint32 entryCount)
        private
        returns (uint256 requestId)
    {
        Config memory c = _config;
        if (c.mintingHalted) revert MintingIsHalted();
        requestId = ++requestCount;
        Request storage r = _requests[requestId];
        r.recipient = recipient;
        r.amountTiyin = amountTiyin;
        r.expiresAt = uint32(block.timestamp + c.requestTtl);
        r.status = RequestStatus.Pending;
        r.requester = msg.sender;
        r.approverEpoch = c.approverEpoch;
        r.kind = kind;
        r.entryCount = entryCount;
        r.ref = ref;
    }

    function _approve(uint256 requestId, Request storage r) private {
        if (msg.sender == r.requester) revert RequesterCannotApprove(requestId);
        uint32 epoch = _config.approverEpoch;
        if (r.approverEpoch != epoch) {
            // An approver was removed since these approvals were given: they no longer count.
            r.approverEpoch = epoch;
            r.approvals = 0;
        }
        if (_approvedInEpoch[requestId][msg.sender] == epoch + 1) revert AlreadyApproved(requestId, msg.sender);
        _approvedInEpoch[requestId][msg.sender] = epoch + 1;
        uint8 approvals = r.approvals + 1;
        r.approvals = approvals;
        emit MintApproved(requestId, msg.sender, approvals);
    }

    /// @dev The request exists, is of `kind`, is pending and has not expired.
    function _pendingRequest(uint256 requestId, RequestKind kind) private view returns (Request storage r) {
        r = _requests[requestId];
        if (r.status == RequestStatus.None) revert UnknownRequest(requestId);
        if (r.kind != kind) revert WrongRequestKind(requestId);
        if (r.status != RequestStatus.Pending) revert RequestNotPending(requestId, r.status);
        if (block.timestamp > r.expiresAt) revert RequestExpired(requestId, r.expiresAt);
    }

    function _checkExecutable(uint256 requestId, Request storage r, Config memory c) private view {
        if (c.mintingHalted) revert MintingIsHalted();
        uint256 approvals = r.approverEpoch == c.approverEpoch ? r.approvals : 0;
        uint256 required = _approvalsRequired(c, r.amountTiyin);
        if (approvals < required) revert NotEnoughApprovals(requestId, approvals, required);
    }

    function _approvalsRequired(Config memory c, uint56 amountTiyin) private pure returns (uint256) {
        if (amountTiyin <= c.tier1MaxTiyin) return c.approvalsTier1;
        if (amountTiyin <= c.tier2MaxTiyin) return c.approvalsTier2;
        return c.approvalsTier3;
    }

    /// @dev Checks each entry, uses up its deposit reference and proves the chunk against the batch root.
    function _verifyChunk(
        uint256 requestId,
        Request storage r,
        BatchEntry[] calldata entries,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) private returns (uint256 chunkAmount) {
        uint256 n = entries.length;
        if (n == 0) revert EmptyBatch(); // an empty multiproof would verify against any root
        if (r.executedCount + n > r.entryCount) revert BatchTooLarge(n, r.entryCount, r.executedCount);
        bytes32[] memory leaves = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            BatchEntry calldata e = entries[i];
            _checkRecipient(e.recipient);
            if (_toTiyin(e.amount) == 0) revert ZeroAmount();
            _useDepositRef(e.depositRef, requestId);
            chunkAmount += e.amount;
            leaves[i] = keccak256(bytes.concat(keccak256(abi.encode(e.recipient, e.amount, e.depositRef))));
        }
        if (!MerkleProof.multiProofVerifyCalldata(proof, proofFlags, r.ref, leaves)) {
            revert InvalidBatchProof(requestId);
        }
    }

    /// @dev Adds the chunk to the batch's progress; the last entries must bring it exactly to the approved total.
    function _recordChunk(Request storage r, uint256 entries, uint256 chunkAmount) private returns (uint56 chunkTiyin) {
        chunkTiyin = _toTiyin(chunkAmount);
        uint256 executedTiyin = uint256(r.executedTiyin) + chunkTiyin;
        uint32 executedCount = r.executedCount + uint32(entries);
        bool complete = executedCount == r.entryCount;
        if (executedTiyin > r.amountTiyin || (complete && executedTiyin != r.amountTiyin)) {
            revert BatchTotalMismatch(_units(executedTiyin), _units(r.amountTiyin));
        }
        r.executedTiyin = uint56(executedTiyin);
        r.executedCount = executedCount;
        if (complete) r.status = RequestStatus.Executed;
    }

    function _checkPerTxCap(uint56 amountTiyin) private view {
        uint56 cap = _global.perTxCapTiyin;
        if (amountTiyin > cap) revert ExceedsPerTransactionCap(_units(amountTiyin), _units(cap));
    }

    /// @dev Applies the per-transaction cap, the requester's allowance and both rate windows, and records the
    /// use. A limit of zero blocks minting; there is no "unlimited" value.
    function _useLimits(address minter, uint56 amountTiyin) private {
        GlobalState memory g = _global;
        if (amountTiyin > g.perTxCapTiyin) revert ExceedsPerTransactionCap(_units(amountTiyin), _units(g.perTxCapTiyin));
        uint256 available;
        (g.windowId, g.previousWindowTiyin, g.currentWindowTiyin, available) =
            _useWindow(g.windowId, g.previousWindowTiyin, g.currentWindowTiyin, g.windowLimitTiyin, amountTiyin);
        if (available < amountTiyin) revert ExceedsGlobalWindow(_units(amountTiyin), _units(available));
        _global = g;

        MinterState memory m = _minters[minter];
        if (amountTiyin > m.allowanceTiyin) {
            revert ExceedsMinterAllowance(minter, _units(amountTiyin), _units(m.allowanceTiyin));
        }
        (m.windowId, m.previousWindowTiyin, m.currentWindowTiyin, available) =
            _useWindow(m.windowId, m.previousWindowTiyin, m.currentWindowTiyin, m.windowLimitTiyin, amountTiyin);
        if (available < amountTiyin) revert ExceedsMinterWindow(minter, _units(amountTiyin), _units(available));
        m.allowanceTiyin -= amountTiyin;
        _minters[minter] = m;
    }

    /// @dev Rolling window over fixed windows of `windowSeconds`: usage in the current window plus the whole
    /// previous window must stay within the limit. Any interval of `windowSeconds` lies within one window and
    /// its predecessor, so at the last mint in such an interval everything minted in it was counted: no
    /// interval of that length ever exceeds the limit (the price is that the limit frees up gradually over up
    /// to two windows). Returns the rolled-forward state with `amount` added, and what was available before.
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

    /// @dev Fails closed: no attestation, or one older than the maximum age, blocks minting.
    function _checkReserves(Config memory c, uint256 amount) private view {
        (uint256 reserves, uint64 asOf, uint256 count) = registry.latestReserves();
        if (count == 0) revert NoReserveAttestation();
        if (block.timestamp > uint256(asOf) + c.maxAttestationAge) revert ReserveAttestationStale(asOf, c.maxAttestationAge);
        uint256 mintableSupply = reserves * (BPS - c.reserveMarginBps) / BPS;
        uint256 supply = token.totalSupply();
        if (supply + amount > mintableSupply) revert ExceedsReserves(supply, amount, mintableSupply);
    }

    function _redeem(address holder, uint256 amount, bytes32 payoutRef) private returns (uint256 redemptionId) {
        if (_toTiyin(amount) == 0) revert ZeroAmount();
        if (payoutRef == bytes32(0)) revert MissingPayoutReference();
        token.burn(holder, amount);
        redemptionId = ++redemptionCount;
        emit Redeemed(redemptionId, holder, payoutRef, amount, msg.sender);
    }

    function _useDepositRef(bytes32 depositRef, uint256 requestId) private {
        if (depositRef == bytes32(0)) revert MissingDepositReference();
        uint256 usedBy = _depositRefRequest[depositRef];
        if (usedBy != 0) revert DepositRefAlreadyUsed(depositRef, usedBy);
        if (address(predecessor) != address(0) && predecessor.depositRefUsed(depositRef)) {
            revert DepositRefAlreadyUsed(depositRef, 0);
        }
        _depositRefRequest[depositRef] = requestId;
    }

    function _checkRecipient(address recipient) private view {
        if (recipient == address(0) || recipient == address(this)) revert InvalidRecipient(recipient);
    }

    function _storeTiers(Tiers memory t) private {
        uint56 tier1 = _toTiyin(t.tier1Max);
        uint56 tier2 = _toTiyin(t.tier2Max);
        if (
            tier1 > tier2 || t.approvalsTier1 == 0 || t.approvalsTier1 > t.approvalsTier2
                || t.approvalsTier2 > t.approvalsTier3 || t.approvalsTier3 > MAX_APPROVALS
        ) revert InvalidTiers();
        Config storage c = _config;
        c.tier1MaxTiyin = tier1;
        c.tier2MaxTiyin = tier2;
        c.approvalsTier1 = t.approvalsTier1;
        c.approvalsTier2 = t.approvalsTier2;
        c.approvalsTier3 = t.approvalsTier3;
    }

    /// @dev The one place for the asymmetric-powers rule: risk-raising changes need the admin (timelock),
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
            m.allowanceTiyin = 0;
            m.windowLimitTiyin = 0;
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
