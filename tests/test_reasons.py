import pytest

from bot import actions, reasons


@pytest.mark.parametrize("text, expected", [
    ("ISP Block", reasons.ISP_BLOCK),
    ("isp-block", reasons.ISP_BLOCK),
    ("  ISP  BLOCK. ", reasons.ISP_BLOCK),
    ("Blocked", reasons.ISP_BLOCK),
    ("100006", reasons.ISP_BLOCK),
    ("SpamNotification", reasons.ISP_BLOCK),
    ("Spam notification", reasons.ISP_BLOCK),
    ("512", reasons.ISP_BLOCK),
    ("DMARCPolicy", reasons.ISP_BLOCK),
    ("Soft Bounce", reasons.SOFT_BOUNCE),
    ("SoftBounce", reasons.SOFT_BOUNCE),
    ("soft_bounce", reasons.SOFT_BOUNCE),
    ("4096", reasons.SOFT_BOUNCE),
    ("Transient", reasons.SOFT_BOUNCE),
    ("2", reasons.SOFT_BOUNCE),
    ("DnsError", reasons.SOFT_BOUNCE),
    ("DNS error", reasons.SOFT_BOUNCE),
    ("256", reasons.SOFT_BOUNCE),
    ("Hard Bounce", reasons.HARD_BOUNCE),
    ("HardBounce", reasons.HARD_BOUNCE),
    ("hard bounce", reasons.HARD_BOUNCE),
    ("1", reasons.HARD_BOUNCE),
    ("BadEmailAddress", reasons.HARD_BOUNCE),
    ("100000", reasons.HARD_BOUNCE),
    ("SpamComplaint", reasons.HARD_BOUNCE),
    ("100001", reasons.HARD_BOUNCE),
    ("ManuallyDeactivated", reasons.HARD_BOUNCE),
    ("Ingested Invoice Does Not Exist", reasons.MISSING_INVOICE),
    ("ingested invoice does not exist.", reasons.MISSING_INVOICE),
    ("INGESTED-INVOICE-DOES-NOT-EXIST", reasons.MISSING_INVOICE),
    ("Mailbox Unavailable", reasons.OTHER),
    ("", reasons.OTHER),
    ("2048", reasons.OTHER),
])
def test_classify_aliases(text, expected):
    assert reasons.classify(text) == expected


def test_classify_integer_type_code():
    assert reasons.classify(4096) == reasons.SOFT_BOUNCE


def test_classify_none_is_other():
    assert reasons.classify(None) == reasons.OTHER


def test_unknown_key_falls_back_to_other():
    assert reasons.get("from_a_newer_version").key == reasons.OTHER


def test_isp_block_lists_all_three_ranges():
    text = "\n".join(reasons.CATALOG[reasons.ISP_BLOCK].steps)
    for cidr in ("50.31.156.96/27", "104.245.209.192/26", "50.31.205.0/24"):
        assert cidr in text


def test_support_address_in_hard_bounce_steps():
    steps = reasons.steps_for(reasons.CATALOG[reasons.HARD_BOUNCE], "help@support.example")
    assert any("help@support.example" in step for step in steps)


def test_support_address_in_missing_invoice_steps():
    steps = reasons.steps_for(reasons.CATALOG[reasons.MISSING_INVOICE], "help@support.example")
    assert any("help@support.example" in step for step in steps)


@pytest.mark.parametrize("key", reasons.REASON_ORDER)
def test_every_reason_has_known_buttons(key):
    reason = reasons.CATALOG[key]
    assert reason.buttons
    assert set(reason.buttons) <= set(actions.BUTTON_LABELS)


@pytest.mark.parametrize("key, button", [
    (reasons.ISP_BLOCK, actions.CLIENT_IT_NOTE),
    (reasons.SOFT_BOUNCE, actions.RECIPIENT_CONTACTED),
    (reasons.HARD_BOUNCE, actions.REQUEST_REACTIVATION),
    (reasons.HARD_BOUNCE, actions.CORRECT_ADDRESS),
    (reasons.MISSING_INVOICE, actions.ALREADY_PAID),
    (reasons.MISSING_INVOICE, actions.CONTACT_SUPPORT),
])
def test_reason_specific_buttons(key, button):
    assert button in reasons.CATALOG[key].buttons
