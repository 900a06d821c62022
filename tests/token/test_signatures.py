"""EIP-2612 permit and EIP-3009 transfer/receive/cancel with authorization, signed independently of the
contract (signing.py), over ECDSA (EOAs, including EOAs with code as under EIP-7702) and ERC-1271
(smart-contract wallets). Replay across contracts and across chain ids (A3 #8) and signature malleability
(A3 #9) are covered here.
"""

import pytest
from eth_account import Account
from eth_utils import keccak

from tests.token.helpers import (
    ALICE_START,
    BOB_START,
    MAX_UINT256,
    UNIT,
    ZERO_ADDRESS,
    Approval,
    Ev,
    Transfer,
    assert_events,
    reverts,
    state_diff,
)
from tests.token.signing import (
    Domain,
    authorization_message,
    authorization_struct_hash,
    cancel_authorization_message,
    cancel_authorization_struct_hash,
    permit_message,
    permit_struct_hash,
    random_nonce,
    recover_digest,
    sign_cancel_authorization,
    sign_digest,
    sign_permit,
    sign_receive_authorization,
    sign_transfer_authorization,
    type_string,
    typed_data_digest,
)

DAY = 24 * 3600
WALLET_START = 300 * UNIT


@pytest.fixture(scope="module", autouse=True)
def wallet(project, token, admin, outsider, minter):
    """An ERC-1271 smart-contract wallet owned by `outsider`'s key, holding KGST."""
    wallet = admin.deploy(project.MockERC1271Wallet, outsider)
    token.mint(wallet, WALLET_START, sender=minter)
    return wallet


@pytest.fixture
def reader(make_reader, alice, bob, spender, relayer, wallet):
    return make_reader({"alice": alice, "bob": bob, "spender": spender, "relayer": relayer, "wallet": wallet})


@pytest.fixture
def now(chain):
    """The next block's timestamp, pinned so that time bounds can be tested to the second."""
    timestamp = chain.pending_timestamp
    chain.pending_timestamp = timestamp
    return timestamp


def AuthorizationUsed(authorizer, nonce):  # noqa: N802
    return Ev("AuthorizationUsed", authorizer=authorizer, nonce=nonce)


def AuthorizationCanceled(authorizer, nonce):  # noqa: N802
    return Ev("AuthorizationCanceled", authorizer=authorizer, nonce=nonce)


# --- domain and type hashes ----------------------------------------------------------------------------------


def test_domain_separator_equals_the_independent_computation(token, domain, chain):
    assert domain.chain_id == chain.chain_id == 31337
    assert token.DOMAIN_SEPARATOR() == domain.separator
    fields, name, version, chain_id, verifying_contract, salt, extensions = token.eip712Domain()
    assert (fields, name, version, chain_id, verifying_contract) == (
        b"\x0f", "Kyrgyz Som Token", "1", chain.chain_id, token.address
    )
    assert salt == b"\x00" * 32 and list(extensions) == []


def test_type_hashes_match_the_published_type_strings(token):
    assert token.PERMIT_TYPEHASH() == keccak(text=type_string("Permit"))
    assert token.TRANSFER_WITH_AUTHORIZATION_TYPEHASH() == keccak(text=type_string("TransferWithAuthorization"))
    assert token.RECEIVE_WITH_AUTHORIZATION_TYPEHASH() == keccak(text=type_string("ReceiveWithAuthorization"))
    assert token.CANCEL_AUTHORIZATION_TYPEHASH() == keccak(text=type_string("CancelAuthorization"))
    assert type_string("Permit") == "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"


def test_wallet_typed_data_digests_equal_the_hand_built_digests(domain, alice, bob):
    nonce = random_nonce()
    assert typed_data_digest(permit_message(domain, alice, bob, 5, 3, 99)) == domain.digest(
        permit_struct_hash(alice, bob, 5, 3, 99)
    )
    for kind in ("TransferWithAuthorization", "ReceiveWithAuthorization"):
        assert typed_data_digest(authorization_message(domain, kind, alice, bob, 5, 1, 2, nonce)) == domain.digest(
            authorization_struct_hash(kind, alice, bob, 5, 1, 2, nonce)
        )
    assert typed_data_digest(cancel_authorization_message(domain, alice, nonce)) == domain.digest(
        cancel_authorization_struct_hash(alice, nonce)
    )


# --- permit ----------------------------------------------------------------------------------------------------


def test_permit_with_v_r_s_sets_allowance_uses_the_nonce_and_emits_approval(
    token, reader, domain, alice, spender, relayer, now
):
    sig = sign_permit(alice.private_key, domain, alice, spender, 25 * UNIT, 0, now + DAY)
    before = reader.read()
    receipt = token.permit(alice, spender, 25 * UNIT, now + DAY, *sig.vrs, sender=relayer)
    assert state_diff(before, reader.read()) == {"allowance[alice->spender]": 25 * UNIT, "nonce[alice]": 1}
    assert_events(receipt, [Approval(alice, spender, 25 * UNIT)], token)


def test_permit_with_a_bytes_signature_works_the_same(token, reader, domain, alice, spender, relayer, now):
    sig = sign_permit(alice.private_key, domain, alice, spender, 25 * UNIT, 0, now + DAY)
    before = reader.read()
    receipt = token.permit(alice, spender, 25 * UNIT, now + DAY, sig.packed, sender=relayer)
    assert state_diff(before, reader.read()) == {"allowance[alice->spender]": 25 * UNIT, "nonce[alice]": 1}
    assert_events(receipt, [Approval(alice, spender, 25 * UNIT)], token)


def test_permit_nonces_increment_one_by_one_and_must_be_used_in_order(token, domain, alice, spender, relayer, now):
    first = sign_permit(alice.private_key, domain, alice, spender, 1, 0, now + DAY)
    second = sign_permit(alice.private_key, domain, alice, spender, 2, 1, now + DAY)
    with reverts("InvalidSignature", signer=alice):  # nonce 1 while the current nonce is 0
        token.permit(alice, spender, 2, now + DAY, *second.vrs, sender=relayer)
    token.permit(alice, spender, 1, now + DAY, *first.vrs, sender=relayer)
    assert token.nonces(alice) == 1
    token.permit(alice, spender, 2, now + DAY, *second.vrs, sender=relayer)
    assert token.nonces(alice) == 2 and token.allowance(alice, spender) == 2


def test_permit_replay_is_rejected(token, domain, alice, spender, relayer, now):
    sig = sign_permit(alice.private_key, domain, alice, spender, 5, 0, now + DAY)
    token.permit(alice, spender, 5, now + DAY, *sig.vrs, sender=relayer)
    token.approve(spender, 0, sender=alice)  # the owner revokes; a replay must not restore the allowance
    with reverts("InvalidSignature", signer=alice):
        token.permit(alice, spender, 5, now + DAY, *sig.vrs, sender=relayer)
    assert token.allowance(alice, spender) == 0 and token.nonces(alice) == 1


def test_permit_is_valid_up_to_and_including_its_deadline(token, domain, alice, spender, relayer, now):
    sig = sign_permit(alice.private_key, domain, alice, spender, 5, 0, now)
    receipt = token.permit(alice, spender, 5, now, *sig.vrs, sender=relayer)
    assert receipt.timestamp == now and token.allowance(alice, spender) == 5


def test_permit_after_its_deadline_reverts_permit_expired(token, reader, domain, alice, spender, relayer, now):
    sig = sign_permit(alice.private_key, domain, alice, spender, 5, 0, now - 1)
    before = reader.read()
    with reverts("PermitExpired", deadline=now - 1):
        token.permit(alice, spender, 5, now - 1, *sig.vrs, sender=relayer)
    assert state_diff(before, reader.read()) == {}


def test_permit_with_infinite_deadline_never_expires(token, chain, domain, alice, spender, relayer):
    chain.pending_timestamp = chain.pending_timestamp + 10 * 365 * DAY
    sig = sign_permit(alice.private_key, domain, alice, spender, MAX_UINT256, 0, MAX_UINT256)
    token.permit(alice, spender, MAX_UINT256, MAX_UINT256, *sig.vrs, sender=relayer)
    assert token.allowance(alice, spender) == MAX_UINT256


@pytest.mark.parametrize("tamper", ["signer", "value", "spender", "deadline", "owner"])
def test_permit_with_anything_other_than_what_was_signed_is_rejected(
    token, reader, domain, alice, bob, spender, relayer, now, tamper
):
    key = bob.private_key if tamper == "signer" else alice.private_key
    sig = sign_permit(key, domain, alice, spender, 5, 0, now + DAY)
    args = {"owner": alice, "spender": spender, "value": 5, "deadline": now + DAY}
    args.update({"value": {"value": 6}, "spender": {"spender": bob}, "deadline": {"deadline": now + DAY + 1},
                 "owner": {"owner": bob}}.get(tamper, {}))
    before = reader.read()
    with reverts("InvalidSignature", signer=args["owner"]):
        token.permit(args["owner"], args["spender"], args["value"], args["deadline"], *sig.vrs, sender=relayer)
    assert state_diff(before, reader.read()) == {}


def test_permit_with_the_high_s_twin_of_a_valid_signature_is_rejected(token, domain, alice, spender, relayer, now):
    sig = sign_permit(alice.private_key, domain, alice, spender, 5, 0, now + DAY)
    twin = sig.malleated()
    digest = domain.digest(permit_struct_hash(alice, spender, 5, 0, now + DAY))
    assert recover_digest(digest, twin) == alice.address  # same signer by plain ecrecover arithmetic...
    with reverts("InvalidSignature", signer=alice):  # ...but EIP-2 low-s is enforced
        token.permit(alice, spender, 5, now + DAY, *twin.vrs, sender=relayer)
    with reverts("InvalidSignature", signer=alice):
        token.permit(alice, spender, 5, now + DAY, twin.packed, sender=relayer)
    token.permit(alice, spender, 5, now + DAY, *sig.vrs, sender=relayer)  # the low-s original still works
    assert token.allowance(alice, spender) == 5


@pytest.mark.parametrize("v", [0, 1, 26, 29, 255, "flipped"])
def test_permit_with_a_bad_v_is_rejected(token, domain, alice, spender, relayer, now, v):
    sig = sign_permit(alice.private_key, domain, alice, spender, 5, 0, now + DAY)
    bad = sig.with_v(55 - sig.v if v == "flipped" else v)
    with reverts("InvalidSignature", signer=alice):
        token.permit(alice, spender, 5, now + DAY, *bad.vrs, sender=relayer)
    assert token.nonces(alice) == 0


@pytest.mark.parametrize("length", [0, 64, 66])
def test_permit_with_a_signature_of_the_wrong_length_is_rejected(token, domain, alice, spender, relayer, now, length):
    sig = sign_permit(alice.private_key, domain, alice, spender, 5, 0, now + DAY)
    with reverts("InvalidSignature", signer=alice):
        token.permit(alice, spender, 5, now + DAY, (sig.packed + b"\x00")[:length], sender=relayer)


def test_permit_for_the_zero_address_owner_is_rejected_even_with_a_garbage_signature(token, spender, relayer, now):
    # ecrecover returns address(0) for garbage: the zero owner must never be taken as "recovered".
    with reverts("InvalidSignature", signer=ZERO_ADDRESS):
        token.permit(ZERO_ADDRESS, spender, 5, now + DAY, 27, b"\x01" * 32, b"\x01" * 32, sender=relayer)


def test_permit_for_the_zero_address_spender_is_rejected(token, domain, alice, relayer, now):
    sig = sign_permit(alice.private_key, domain, alice, ZERO_ADDRESS, 5, 0, now + DAY)
    with reverts("ERC20InvalidSpender", spender=ZERO_ADDRESS):
        token.permit(alice, ZERO_ADDRESS, 5, now + DAY, *sig.vrs, sender=relayer)
    assert token.nonces(alice) == 0


def test_permit_allowance_is_spendable_by_the_spender(token, domain, alice, bob, spender, relayer, now):
    sig = sign_permit(alice.private_key, domain, alice, spender, 8 * UNIT, 0, now + DAY)
    token.permit(alice, spender, 8 * UNIT, now + DAY, *sig.vrs, sender=relayer)
    receipt = token.transferFrom(alice, bob, 8 * UNIT, sender=spender)
    assert_events(receipt, [Transfer(alice, bob, 8 * UNIT)], token)
    assert token.allowance(alice, spender) == 0


# --- EIP-3009 ---------------------------------------------------------------------------------------------------


def test_transfer_with_authorization_moves_funds_marks_the_nonce_and_emits(
    token, reader, make_reader, domain, alice, bob, relayer, now
):
    nonce = random_nonce()
    sig = sign_transfer_authorization(alice.private_key, domain, alice, bob, 30 * UNIT, now - 1, now + 1, nonce)
    reader = make_reader({"alice": alice, "bob": bob, "relayer": relayer}, authorizations=[("n", alice, nonce)])
    before = reader.read()
    assert token.authorizationState(alice, nonce) is False
    receipt = token.transferWithAuthorization(alice, bob, 30 * UNIT, now - 1, now + 1, nonce, *sig.vrs, sender=relayer)
    assert state_diff(before, reader.read()) == {
        "balance[alice]": -30 * UNIT,
        "balance[bob]": 30 * UNIT,
        "authorization[n]": 1,
    }
    assert token.authorizationState(alice, nonce) is True
    assert_events(receipt, [AuthorizationUsed(alice, nonce), Transfer(alice, bob, 30 * UNIT)], token)


def test_transfer_with_authorization_bytes_overload(token, domain, alice, bob, relayer, now):
    nonce = random_nonce()
    sig = sign_transfer_authorization(alice.private_key, domain, alice, bob, UNIT, 0, now + DAY, nonce)
    receipt = token.transferWithAuthorization(alice, bob, UNIT, 0, now + DAY, nonce, sig.packed, sender=relayer)
    assert_events(receipt, [AuthorizationUsed(alice, nonce), Transfer(alice, bob, UNIT)], token)


def test_authorization_is_not_valid_at_valid_after_itself(token, domain, alice, bob, relayer, now):
    nonce = random_nonce()
    sig = sign_transfer_authorization(alice.private_key, domain, alice, bob, UNIT, now, now + DAY, nonce)
    with reverts("AuthorizationNotYetValid", validAfter=now):  # the rule is now > validAfter
        token.transferWithAuthorization(alice, bob, UNIT, now, now + DAY, nonce, *sig.vrs, sender=relayer)
    assert token.authorizationState(alice, nonce) is False


def test_authorization_is_not_valid_at_valid_before_itself(token, domain, alice, bob, relayer, now):
    nonce = random_nonce()
    sig = sign_transfer_authorization(alice.private_key, domain, alice, bob, UNIT, 0, now, nonce)
    with reverts("AuthorizationExpired", validBefore=now):  # the rule is now < validBefore
        token.transferWithAuthorization(alice, bob, UNIT, 0, now, nonce, *sig.vrs, sender=relayer)
    assert token.authorizationState(alice, nonce) is False


def test_authorization_valid_for_exactly_one_second_works_in_that_second(token, domain, alice, bob, relayer, now):
    nonce = random_nonce()
    sig = sign_receive_authorization(alice.private_key, domain, alice, bob, UNIT, now - 1, now + 1, nonce)
    receipt = token.receiveWithAuthorization(alice, bob, UNIT, now - 1, now + 1, nonce, *sig.vrs, sender=bob)
    assert receipt.timestamp == now
    assert_events(receipt, [AuthorizationUsed(alice, nonce), Transfer(alice, bob, UNIT)], token)


def test_used_authorization_cannot_be_replayed_nor_its_nonce_reused(token, domain, alice, bob, relayer, now):
    nonce = random_nonce()
    sig = sign_transfer_authorization(alice.private_key, domain, alice, bob, UNIT, 0, now + DAY, nonce)
    token.transferWithAuthorization(alice, bob, UNIT, 0, now + DAY, nonce, *sig.vrs, sender=relayer)
    with reverts("AuthorizationAlreadyUsed", authorizer=alice, nonce=nonce):
        token.transferWithAuthorization(alice, bob, UNIT, 0, now + DAY, nonce, *sig.vrs, sender=relayer)
    receive = sign_receive_authorization(alice.private_key, domain, alice, bob, UNIT, 0, now + DAY, nonce)
    with reverts("AuthorizationAlreadyUsed", authorizer=alice, nonce=nonce):  # nonces are shared by all kinds
        token.receiveWithAuthorization(alice, bob, UNIT, 0, now + DAY, nonce, *receive.vrs, sender=bob)
    cancel = sign_cancel_authorization(alice.private_key, domain, alice, nonce)
    with reverts("AuthorizationAlreadyUsed", authorizer=alice, nonce=nonce):
        token.cancelAuthorization(alice, nonce, *cancel.vrs, sender=relayer)
    assert token.balanceOf(alice) == ALICE_START - UNIT  # moved once
    assert token.balanceOf(bob) == BOB_START + UNIT


def test_cancel_authorization_marks_the_nonce_and_emits(token, make_reader, domain, alice, relayer):
    nonce = random_nonce()
    reader = make_reader({"alice": alice}, authorizations=[("n", alice, nonce)])
    sig = sign_cancel_authorization(alice.private_key, domain, alice, nonce)
    before = reader.read()
    receipt = token.cancelAuthorization(alice, nonce, *sig.vrs, sender=relayer)
    assert state_diff(before, reader.read()) == {"authorization[n]": 1}
    assert token.authorizationState(alice, nonce) is True
    assert_events(receipt, [AuthorizationCanceled(alice, nonce)], token)


def test_cancel_authorization_bytes_overload(token, domain, alice, relayer):
    nonce = random_nonce()
    sig = sign_cancel_authorization(alice.private_key, domain, alice, nonce)
    receipt = token.cancelAuthorization(alice, nonce, sig.packed, sender=relayer)
    assert_events(receipt, [AuthorizationCanceled(alice, nonce)], token)


def test_canceled_authorization_cannot_be_used_nor_canceled_again(token, domain, alice, bob, relayer, now):
    nonce = random_nonce()
    transfer = sign_transfer_authorization(alice.private_key, domain, alice, bob, UNIT, 0, now + DAY, nonce)
    cancel = sign_cancel_authorization(alice.private_key, domain, alice, nonce)
    token.cancelAuthorization(alice, nonce, *cancel.vrs, sender=relayer)
    with reverts("AuthorizationWasCanceled", authorizer=alice, nonce=nonce):
        token.transferWithAuthorization(alice, bob, UNIT, 0, now + DAY, nonce, *transfer.vrs, sender=relayer)
    with reverts("AuthorizationWasCanceled", authorizer=alice, nonce=nonce):
        token.cancelAuthorization(alice, nonce, *cancel.vrs, sender=relayer)
    assert token.balanceOf(alice) == ALICE_START


def test_cancel_authorization_signed_by_someone_else_is_rejected(token, domain, alice, bob, relayer):
    nonce = random_nonce()
    sig = sign_cancel_authorization(bob.private_key, domain, alice, nonce)
    with reverts("InvalidSignature", signer=alice):
        token.cancelAuthorization(alice, nonce, *sig.vrs, sender=relayer)
    assert token.authorizationState(alice, nonce) is False


def test_receive_with_authorization_by_anyone_but_the_payee_is_refused(token, domain, alice, bob, relayer, now):
    nonce = random_nonce()
    sig = sign_receive_authorization(alice.private_key, domain, alice, bob, UNIT, 0, now + DAY, nonce)
    with reverts("CallerMustBePayee", caller=relayer, payee=bob):
        token.receiveWithAuthorization(alice, bob, UNIT, 0, now + DAY, nonce, *sig.vrs, sender=relayer)
    assert token.authorizationState(alice, nonce) is False
    receipt = token.receiveWithAuthorization(alice, bob, UNIT, 0, now + DAY, nonce, sig.packed, sender=bob)
    assert_events(receipt, [AuthorizationUsed(alice, nonce), Transfer(alice, bob, UNIT)], token)


def test_a_transfer_authorization_cannot_be_submitted_as_a_receive_authorization(
    token, domain, alice, bob, relayer, now
):
    nonce = random_nonce()
    sig = sign_transfer_authorization(alice.private_key, domain, alice, bob, UNIT, 0, now + DAY, nonce)
    with reverts("InvalidSignature", signer=alice):
        token.receiveWithAuthorization(alice, bob, UNIT, 0, now + DAY, nonce, *sig.vrs, sender=bob)


@pytest.mark.parametrize("tamper", ["signer", "value", "to", "validBefore", "nonce", "high-s"])
def test_transfer_authorization_with_anything_other_than_what_was_signed_is_rejected(
    token, reader, domain, alice, bob, spender, relayer, now, tamper
):
    nonce = random_nonce()
    key = bob.private_key if tamper == "signer" else alice.private_key
    sig = sign_transfer_authorization(key, domain, alice, bob, UNIT, 0, now + DAY, nonce)
    to, value, valid_before, used_nonce = bob, UNIT, now + DAY, nonce
    if tamper == "value":
        value = 2 * UNIT
    elif tamper == "to":
        to = spender
    elif tamper == "validBefore":
        valid_before = now + DAY + 1
    elif tamper == "nonce":
        used_nonce = random_nonce()
    elif tamper == "high-s":
        sig = sig.malleated()
    before = reader.read()
    with reverts("InvalidSignature", signer=alice):
        token.transferWithAuthorization(alice, to, value, 0, valid_before, used_nonce, *sig.vrs, sender=relayer)
    assert state_diff(before, reader.read()) == {}


def test_authorization_beyond_the_balance_reverts_and_leaves_the_nonce_unused(token, domain, alice, bob, relayer, now):
    nonce = random_nonce()
    value = ALICE_START + 1
    sig = sign_transfer_authorization(alice.private_key, domain, alice, bob, value, 0, now + DAY, nonce)
    with reverts("ERC20InsufficientBalance", sender=alice, balance=ALICE_START, needed=value):
        token.transferWithAuthorization(alice, bob, value, 0, now + DAY, nonce, *sig.vrs, sender=relayer)
    assert token.authorizationState(alice, nonce) is False


@pytest.mark.parametrize("to", ["zero", "token"])
def test_authorization_to_the_zero_address_or_the_token_is_refused(token, domain, alice, relayer, now, to):
    nonce = random_nonce()
    receiver = ZERO_ADDRESS if to == "zero" else token.address
    sig = sign_transfer_authorization(alice.private_key, domain, alice, receiver, UNIT, 0, now + DAY, nonce)
    with reverts("ERC20InvalidReceiver", receiver=receiver):
        token.transferWithAuthorization(alice, receiver, UNIT, 0, now + DAY, nonce, *sig.vrs, sender=relayer)
    assert token.authorizationState(alice, nonce) is False


# --- ERC-1271 smart-contract wallets ----------------------------------------------------------------------------


def test_erc1271_wallet_can_permit(token, reader, domain, wallet, outsider, spender, relayer, now):
    digest = domain.digest(permit_struct_hash(wallet, spender, 40 * UNIT, 0, now + DAY))
    sig = sign_digest(outsider.private_key, digest)  # the wallet owner's key signs the raw digest
    before = reader.read()
    receipt = token.permit(wallet, spender, 40 * UNIT, now + DAY, sig.packed, sender=relayer)
    assert state_diff(before, reader.read()) == {"allowance[wallet->spender]": 40 * UNIT, "nonce[wallet]": 1}
    assert_events(receipt, [Approval(wallet, spender, 40 * UNIT)], token)


def test_erc1271_wallet_can_transfer_with_authorization(token, reader, domain, wallet, outsider, bob, relayer, now):
    nonce = random_nonce()
    struct_hash = authorization_struct_hash("TransferWithAuthorization", wallet, bob, 20 * UNIT, 0, now + DAY, nonce)
    sig = sign_digest(outsider.private_key, domain.digest(struct_hash))
    before = reader.read()
    receipt = token.transferWithAuthorization(wallet, bob, 20 * UNIT, 0, now + DAY, nonce, *sig.vrs, sender=relayer)
    assert state_diff(before, reader.read()) == {"balance[wallet]": -20 * UNIT, "balance[bob]": 20 * UNIT}
    assert_events(receipt, [AuthorizationUsed(wallet, nonce), Transfer(wallet, bob, 20 * UNIT)], token)


def test_erc1271_wallet_signature_that_is_not_65_bytes_goes_through_the_bytes_overload(
    token, domain, wallet, outsider, spender, relayer, now
):
    digest = domain.digest(permit_struct_hash(wallet, spender, 9 * UNIT, 0, now + DAY))
    wallet.approveHash(digest, sender=outsider)  # on-chain approval: the wallet then accepts an empty signature
    receipt = token.permit(wallet, spender, 9 * UNIT, now + DAY, b"", sender=relayer)
    assert_events(receipt, [Approval(wallet, spender, 9 * UNIT)], token)


def test_erc1271_wallet_refusal_is_an_invalid_signature(token, domain, wallet, alice, outsider, spender, relayer, now):
    digest = domain.digest(permit_struct_hash(wallet, spender, 5, 0, now + DAY))
    by_stranger = sign_digest(alice.private_key, digest)
    with reverts("InvalidSignature", signer=wallet):
        token.permit(wallet, spender, 5, now + DAY, by_stranger.packed, sender=relayer)
    as_owner_eoa = sign_permit(outsider.private_key, domain, outsider, spender, 5, 0, now + DAY)
    with reverts("InvalidSignature", signer=wallet):  # a signature for the owner's own permit is not the wallet's
        token.permit(wallet, spender, 5, now + DAY, as_owner_eoa.packed, sender=relayer)
    with reverts("InvalidSignature", signer=wallet):  # no pre-approved hash: empty signature refused
        token.permit(wallet, spender, 5, now + DAY, b"", sender=relayer)
    assert token.nonces(wallet) == 0


def test_erc1271_wallet_holds_approves_and_transfers_through_execute(token, wallet, outsider, bob, spender):
    receipt = wallet.execute(token, 0, token.approve.encode_input(spender, 7 * UNIT), sender=outsider)
    assert_events(receipt, [Approval(wallet, spender, 7 * UNIT)], token)
    receipt = wallet.execute(token, 0, token.transfer.encode_input(bob, 11 * UNIT), sender=outsider)
    assert_events(receipt, [Transfer(wallet, bob, 11 * UNIT)], token)
    assert token.balanceOf(wallet) == WALLET_START - 11 * UNIT
    assert token.allowance(wallet, spender) == 7 * UNIT


# --- EOAs with code (EIP-7702): ECDSA is checked before ERC-1271 -------------------------------------------------


@pytest.mark.parametrize("code", ["7702-delegation-to-a-non-wallet", "arbitrary-bytecode"])
def test_eoa_with_code_can_still_permit_with_its_key(token, chain, domain, foreign_token, spender, relayer, now, code):
    eoa = Account.create()
    bytecode = "0xef0100" + foreign_token.address[2:] if code.startswith("7702") else "0x600060005260206000f3"
    chain.provider.make_request("anvil_setCode", [eoa.address, bytecode])
    assert len(chain.provider.web3.eth.get_code(eoa.address)) > 0
    sig = sign_permit(eoa.key, domain, eoa.address, spender, 5 * UNIT, 0, now + DAY)
    receipt = token.permit(eoa.address, spender, 5 * UNIT, now + DAY, *sig.vrs, sender=relayer)
    assert_events(receipt, [Approval(eoa.address, spender, 5 * UNIT)], token)
    # and a signature that is not the key's is still refused (the code's isValidSignature does not exist)
    other = sign_permit(Account.create().key, domain, eoa.address, spender, 5 * UNIT, 1, now + DAY)
    with reverts("InvalidSignature", signer=eoa.address):
        token.permit(eoa.address, spender, 5 * UNIT, now + DAY, *other.vrs, sender=relayer)


def test_eoa_with_code_can_transfer_with_authorization(token, chain, domain, foreign_token, minter, bob, relayer, now):
    eoa = Account.create()
    chain.provider.make_request("anvil_setCode", [eoa.address, "0xef0100" + foreign_token.address[2:]])
    token.mint(eoa.address, 3 * UNIT, sender=minter)
    nonce = random_nonce()
    sig = sign_transfer_authorization(eoa.key, domain, eoa.address, bob, 3 * UNIT, 0, now + DAY, nonce)
    receipt = token.transferWithAuthorization(eoa.address, bob, 3 * UNIT, 0, now + DAY, nonce, *sig.vrs, sender=relayer)
    assert_events(receipt, [AuthorizationUsed(eoa.address, nonce), Transfer(eoa.address, bob, 3 * UNIT)], token)


# --- replay across contracts and chains --------------------------------------------------------------------------


def test_permit_for_one_token_proxy_is_rejected_by_another(token, deploy_token, domain, alice, spender, relayer, now):
    other, _ = deploy_token()  # same implementation, name, version and chain: only the address differs
    other_domain = Domain(chain_id=domain.chain_id, verifying_contract=other.address)
    assert other.DOMAIN_SEPARATOR() == other_domain.separator != domain.separator
    sig = sign_permit(alice.private_key, domain, alice, spender, 5, 0, now + DAY)
    with reverts("InvalidSignature", signer=alice):
        other.permit(alice, spender, 5, now + DAY, *sig.vrs, sender=relayer)
    nonce = random_nonce()
    auth = sign_cancel_authorization(alice.private_key, domain, alice, nonce)
    with reverts("InvalidSignature", signer=alice):
        other.cancelAuthorization(alice, nonce, *auth.vrs, sender=relayer)
    good = sign_permit(alice.private_key, other_domain, alice, spender, 5, 0, now + DAY)  # control
    other.permit(alice, spender, 5, now + DAY, *good.vrs, sender=relayer)
    assert other.allowance(alice, spender) == 5 and token.allowance(alice, spender) == 0


def test_chain_id_change_changes_the_domain_and_voids_old_signatures(token, chain, domain, alice, spender, relayer):
    """A fork or a redeployment under another chain id (BSC 56 vs testnet 97) must not accept signatures made
    for the old id; the separator follows block.chainid. anvil's chain id is node configuration (not reverted by
    snapshots) and Ape caches it for signing transactions, so both are restored in `finally`."""
    provider = chain.provider
    original = chain.chain_id
    deadline = chain.pending_timestamp + DAY
    old_sig = sign_permit(alice.private_key, domain, alice, spender, 5, 0, deadline)
    new_domain = Domain(chain_id=97, verifying_contract=token.address)
    try:
        provider.make_request("anvil_setChainId", [97])
        provider.cached_chain_id = 97  # Ape signs transactions for the cached id
        assert provider.web3.eth.chain_id == 97
        assert token.DOMAIN_SEPARATOR() == new_domain.separator != domain.separator
        assert token.eip712Domain()[3] == 97
        with reverts("InvalidSignature", signer=alice):
            token.permit(alice, spender, 5, deadline, *old_sig.vrs, sender=relayer)
        new_sig = sign_permit(alice.private_key, new_domain, alice, spender, 5, 0, deadline)
        token.permit(alice, spender, 5, deadline, *new_sig.vrs, sender=relayer)
        assert token.allowance(alice, spender) == 5
    finally:
        provider.make_request("anvil_setChainId", [original])
        provider.cached_chain_id = original
    assert provider.web3.eth.chain_id == chain.chain_id == original
    assert token.DOMAIN_SEPARATOR() == domain.separator
