import email_validator.deliverability
import pytest

from bot.addresses import (
    COMMON_MAIL_DOMAINS,
    InvalidAddress,
    address_domain,
    domain_edit_distance,
    normalize_address,
    suggest_domain_fix,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("jane@bakerlaw.example", "jane@bakerlaw.example"),
        ("  jane@bakerlaw.example \t", "jane@bakerlaw.example"),
        ("Jane.Doe@BakerLaw.Example", "jane.doe@bakerlaw.example"),
        ('"Jane Doe" <jane@bakerlaw.example>', "jane@bakerlaw.example"),
        ("Jane <jane@bakerlaw.example>", "jane@bakerlaw.example"),
        ('"Doe, Jane" <jane@bakerlaw.example>', "jane@bakerlaw.example"),
        ("<jane@bakerlaw.example>", "jane@bakerlaw.example"),
        ("jane@bakerlaw.example <jane@bakerlaw.example>", "jane@bakerlaw.example"),
        ("mailto:jane@bakerlaw.example", "jane@bakerlaw.example"),
        ("MailTo:jane@bakerlaw.example", "jane@bakerlaw.example"),
        ("<mailto:jane@bakerlaw.example>", "jane@bakerlaw.example"),
        ("<mailto:Jane@BakerLaw.example|Jane@BakerLaw.example>", "jane@bakerlaw.example"),
        ("<MAILTO:jane@bakerlaw.example|Jane at Baker>", "jane@bakerlaw.example"),
    ],
)
def test_normalize_address_accepted_forms(raw, expected):
    assert normalize_address(raw) == expected


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "the address is empty"),
        ("   ", "the address is empty"),
        ("<>", "the address is empty"),
        ("mailto:", "the address is empty"),
        ("jane.bakerlaw.example", "no @ sign"),
        ("jane.doe@", "no domain after @"),
        ("@bakerlaw.example", "nothing before @"),
        ("accounts@@bakerlaw", "more than one @ sign"),
        ("jane@bakerlaw", 'the domain "bakerlaw" is missing its ending, such as ".com"'),
        ("a@bakerlaw.example, b@bakerlaw.example", "several addresses in one value"),
        ("a@bakerlaw.example; b@bakerlaw.example", "several addresses in one value"),
        ("a@bakerlaw.example b@bakerlaw.example", "several addresses in one value"),
        ("Ann <a@bakerlaw.example>, Bob <b@bakerlaw.example>", "several addresses in one value"),
        ("a@bakerlaw.example <b@bakerlaw.example>", "several addresses in one value"),
        ("<jane@bakerlaw.example", "unbalanced or misplaced angle brackets"),
    ],
)
def test_normalize_address_rejects_with_problem(raw, problem):
    with pytest.raises(InvalidAddress) as caught:
        normalize_address(raw)
    assert caught.value.problem == problem


def test_normalize_address_rejects_space_in_local_part():
    with pytest.raises(InvalidAddress) as caught:
        normalize_address("jane doe@bakerlaw.example")
    assert "invalid characters" in caught.value.problem


def test_normalize_address_rejects_reserved_domain():
    with pytest.raises(InvalidAddress):
        normalize_address("jane@bakerlaw.test")


def test_invalid_address_is_value_error():
    with pytest.raises(ValueError):
        normalize_address("no-at-sign")


def test_invalid_address_keeps_raw_value():
    with pytest.raises(InvalidAddress) as caught:
        normalize_address("  jane.doe@ ")
    assert caught.value.value == "  jane.doe@ "


def test_invalid_address_message_names_value_and_fix():
    with pytest.raises(InvalidAddress) as caught:
        normalize_address("jane.doe@")
    message = str(caught.value)
    assert '"jane.doe@"' in message
    assert "no domain after @" in message
    assert "Correct the address" in message


def test_normalize_address_makes_no_dns_query(monkeypatch):
    def fail_on_dns(*args, **kwargs):
        raise AssertionError("a DNS deliverability check was attempted")

    monkeypatch.setattr(email_validator.deliverability, "validate_email_deliverability", fail_on_dns)
    assert normalize_address("jane@bakerlaw.example") == "jane@bakerlaw.example"


def test_address_domain_lower_cases():
    assert address_domain("Jane@BakerLaw.Example") == "bakerlaw.example"


def test_address_domain_uses_last_at_sign():
    assert address_domain('"a@b"@bakerlaw.example') == "bakerlaw.example"


@pytest.mark.parametrize("address", ["jane.bakerlaw.example", "jane@"])
def test_address_domain_rejects_missing_domain(address):
    with pytest.raises(InvalidAddress):
        address_domain(address)


@pytest.mark.parametrize(
    ("address", "suggestion"),
    [
        ("jo@gmial.com", "jo@gmail.com"),
        ("x@yaho.com", "x@yahoo.com"),
        ("x@gmail.con", "x@gmail.com"),
        ("x@gmai.com", "x@gmail.com"),
        ("x@GMIAL.COM", "x@gmail.com"),
        ("x@hotmial.con", "x@hotmail.com"),
        ("x@outlok.com", "x@outlook.com"),
        ("x@iclod.com", "x@icloud.com"),
        ("x@comcast.ent", "x@comcast.net"),
        ("x@protonmial.com", "x@protonmail.com"),
        ("x@aol.con", "x@aol.com"),
        ("x@msn.co", "x@msn.com"),
        ("x@me.cm", "x@me.com"),
        ("x@live.cmo", "x@live.com"),
        ("Jo.Ann@gmial.com", "Jo.Ann@gmail.com"),
    ],
)
def test_suggest_domain_fix_corrects_typo(address, suggestion):
    assert suggest_domain_fix(address) == suggestion


@pytest.mark.parametrize(
    "address",
    [
        "x@gmail.com",
        "x@Yahoo.com",
        "x@ymail.com",
        "x@mail.com",
        "x@mac.com",
        "x@bakerlaw.example",
        "x@ge.com",
        "x@aim.com",
        "x@ao.com",
        "x@gmaaaail.com",
    ],
)
def test_suggest_domain_fix_returns_none(address):
    assert suggest_domain_fix(address) is None


def test_suggest_domain_fix_rejects_address_without_domain():
    with pytest.raises(InvalidAddress):
        suggest_domain_fix("jo@")


def test_common_domains_are_not_typos_of_each_other():
    for domain in COMMON_MAIL_DOMAINS:
        assert suggest_domain_fix(f"x@{domain}") is None, domain


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("gmail.com", "gmail.com", 0),
        ("gmial.com", "gmail.com", 1),
        ("gmail.con", "gmail.com", 1),
        ("gmai.com", "gmail.com", 1),
        ("gmaill.com", "gmail.com", 1),
        ("hotmial.con", "hotmail.com", 2),
        ("GMAIL.com", "gmail.COM", 0),
        ("", "abc", 3),
        ("abc", "", 3),
        ("ca", "abc", 3),
    ],
)
def test_domain_edit_distance(a, b, distance):
    assert domain_edit_distance(a, b) == distance


def test_domain_edit_distance_is_symmetric():
    assert domain_edit_distance("yaho.co", "yahoo.com") == domain_edit_distance("yahoo.com", "yaho.co")
