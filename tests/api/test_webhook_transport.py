"""Where deliveries go: public addresses only, the host resolved once per delivery, the connection made
to the very address that was checked, and TLS verified against the host name.

Real DNS cannot be steered from a test, so `dns` answers chosen names the way a hostile name server
would (one answer per lookup); every other name and every address literal goes to the real resolver.
"""

from __future__ import annotations

import socket
import ssl

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from core.api import transport
from core.jobs import drain
from tests.api.conftest import Receiver
from tests.api.helpers import deliveries, register_webhook
from tests.certificates import certificate_for

PUBLIC = "93.184.216.34"


class FakeDns:
    """`answers[name]` is the answer to each lookup in turn (addresses separated by commas); the last repeats."""

    def __init__(self):
        self.answers: dict[str, list[str]] = {}
        self.lookups: list[str] = []
        self.real = socket.getaddrinfo

    def getaddrinfo(self, host, port, family=0, type=0, proto=0, flags=0):  # noqa: A002  (socket's names)
        if host not in self.answers:
            return self.real(host, port, family, type, proto, flags)
        self.lookups.append(host)
        queue = self.answers[host]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return [(socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port, 0, 0)) if ":" in address
                else (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))
                for address in answer.split(",")]


@pytest.fixture
def dns(monkeypatch):
    fake = FakeDns()
    monkeypatch.setattr(socket, "getaddrinfo", fake.getaddrinfo)
    return fake


@pytest.fixture
def tls_receiver(tmp_path):
    """An HTTPS receiver on 127.0.0.1 with a self-signed certificate for "localhost" (in `ca_file`)."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = certificate_for("localhost", key, hosts=("localhost",), days=1)
    cert_file, key_file = tmp_path / "localhost.pem", tmp_path / "localhost.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server = Receiver(tls=context)
    server.start()
    server.ca_file = str(cert_file)
    yield server
    server.stop()


def send_a_case(api, new_case) -> None:
    assert api.post(f"/api/v1/cases/{new_case()['id']}/send").status_code == 200
    drain()


# --- which addresses -----------------------------------------------------------------------------


@pytest.mark.parametrize("address, kind", [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"), ("10.1.2.3", "private"),
    ("192.168.1.10", "private"), ("fd00:ec2::254", "private"), ("169.254.169.254", "link-local (cloud metadata)"),
    ("fe80::1%eth0", "link-local (cloud metadata)"), ("100.64.0.1", "non-public"), ("224.0.0.1", "multicast"),
    ("0.0.0.0", "unspecified"), (PUBLIC, None), ("2606:4700:4700::1111", None),
])
def test_only_public_addresses_are_fine(address, kind):
    assert transport.address_kind(address) == kind


@pytest.mark.parametrize("address, kind", [
    ("64:ff9b::7f00:1", "loopback"), ("64:ff9b::127.0.0.1", "loopback"),  # NAT64 (RFC 6052)
    ("64:ff9b::a9fe:a9fe", "link-local (cloud metadata)"), ("64:ff9b::c0a8:10a", "private"),
    ("64:ff9b:1::7f00:1", "non-public"), ("64:ff9b:1:ffff::5db8:d822", "non-public"),  # local-use NAT64
    ("2002:7f00:1::", "loopback"), ("2002:a00:1::1", "private"), ("2002:a9fe:a9fe::", "link-local (cloud metadata)"),
    ("::127.0.0.1", "loopback"), ("::10.0.0.1", "private"), ("::ffff:169.254.169.254", "link-local (cloud metadata)"),
    ("::ffff:0:a00:1", "private"),
    ("64:ff9b::5db8:d822", None), ("2002:5db8:d822::1", None),  # the same forms around a public address
])
def test_ipv6_forms_that_embed_an_ipv4_address_are_judged_by_it(address, kind):
    assert transport.address_kind(address) == kind


def test_a_webhook_written_as_nat64_or_6to4_loopback_is_refused(app, client, login, people, monkeypatch):
    monkeypatch.delitem(app.config, "WEBHOOK_ALLOWED_NETWORKS")
    login(people.alice)
    for url in ("http://[64:ff9b::7f00:1]:8080/hook", "http://[2002:7f00:1::]:8080/hook", "http://[::127.0.0.1]/"):
        response = register_webhook(client, url, ["case.sent"])
        assert response.status_code == 400, url
        assert "only be sent to public internet addresses" in response.get_data(as_text=True)


def test_an_allowed_ipv4_network_also_allows_its_nat64_form(dns):
    dns.answers["hooks.intranet.example"] = ["64:ff9b::a14:1e28"]  # DNS64 in front of 10.20.30.40
    with pytest.raises(transport.WebhookUrlError):
        transport.resolve("https://hooks.intranet.example/sigill")
    allowed = transport.allowed_networks("10.20.0.0/16")
    assert transport.resolve("https://hooks.intranet.example/sigill", allowed).addresses == ("64:ff9b::a14:1e28",)


def test_allowed_networks_come_from_a_list_or_a_comma_separated_setting():
    assert transport.allowed_networks("10.0.0.0/8, 192.168.1.0/24") == transport.allowed_networks(
        ["10.0.0.0/8", "192.168.1.0/24"])
    assert transport.allowed_networks(None) == ()


def test_loopback_is_refused_by_default(app, client, login, people, receiver, monkeypatch):
    monkeypatch.delitem(app.config, "WEBHOOK_ALLOWED_NETWORKS")
    login(people.alice)
    response = register_webhook(client, receiver.url, ["case.sent"])
    assert response.status_code == 400 and "only be sent to public internet addresses" in response.get_data(
        as_text=True)


def test_a_private_network_can_be_allowed_explicitly(dns):
    dns.answers["hooks.intranet.example"] = ["10.20.30.40"]
    with pytest.raises(transport.WebhookUrlError) as refused:
        transport.resolve("https://hooks.intranet.example/sigill")
    assert refused.value.detail == ("hooks.intranet.example resolves to 10.20.30.40, which is a private address; "
                                    "webhooks go to public addresses only")
    allowed = transport.allowed_networks("10.20.0.0/16")
    assert transport.resolve("https://hooks.intranet.example/sigill", allowed).addresses == ("10.20.30.40",)


# --- DNS rebinding -------------------------------------------------------------------------------


def test_a_name_that_turns_into_loopback_after_the_check_is_refused_and_nothing_is_sent(
        app, client, login, api, new_case, people, receiver, dns, monkeypatch):
    monkeypatch.delitem(app.config, "WEBHOOK_ALLOWED_NETWORKS")
    dns.answers["hooks.example.net"] = [PUBLIC, "127.0.0.1"]
    login(people.alice)
    response = register_webhook(client, receiver.url_at("hooks.example.net"), ["case.sent"])
    assert response.status_code == 302
    send_a_case(api, new_case)
    assert receiver.received == []
    [delivery] = deliveries(people.acme.id)
    refusal = ("Refused, nothing sent: hooks.example.net resolves to 127.0.0.1, which is a loopback address; "
               "webhooks go to public addresses only.")
    assert (delivery.status, delivery.response_code, delivery.last_error) == ("pending", None, refusal)
    assert refusal in client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_delivery_connects_to_the_address_it_checked_and_keeps_the_host_name(
        client, login, api, new_case, people, receiver, dns):
    # registration and delivery see 127.0.0.1; a third lookup (a second one by the delivery) would get
    # 127.0.0.2, where nothing listens
    dns.answers["hooks.example.net"] = ["127.0.0.1", "127.0.0.1", "127.0.0.2"]
    login(people.alice)
    register_webhook(client, receiver.url_at("hooks.example.net"), ["case.sent"])
    send_a_case(api, new_case)
    [received] = receiver.received
    assert received.headers["Host"] == f"hooks.example.net:{receiver.port}"
    assert dns.lookups == ["hooks.example.net"] * 2
    assert [d.status for d in deliveries(people.acme.id)] == ["delivered"]


def test_a_name_with_one_address_that_is_not_allowed_is_refused_whatever_the_others(dns):
    dns.answers["two.example.net"] = [f"{PUBLIC},127.0.0.1"]
    with pytest.raises(transport.WebhookUrlError) as refused:
        transport.resolve("https://two.example.net/hook")
    assert refused.value.code == "forbidden_address" and "127.0.0.1" in refused.value.detail


# --- TLS -----------------------------------------------------------------------------------------


def test_an_https_delivery_verifies_the_certificate_against_the_host_name(
        app, client, login, api, new_case, people, tls_receiver, dns, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_CA_BUNDLE", tls_receiver.ca_file)
    dns.answers["hooks.example.net"] = ["127.0.0.1"]  # the same server, but its certificate is for localhost
    login(people.alice)
    register_webhook(client, tls_receiver.url_at("localhost"), ["case.sent"])
    register_webhook(client, tls_receiver.url_at("hooks.example.net"), ["case.sent"])
    send_a_case(api, new_case)
    good, wrong_name = deliveries(people.acme.id)
    assert (good.status, good.response_code) == ("delivered", 200)
    assert [r.headers["Host"] for r in tls_receiver.received] == [f"localhost:{tls_receiver.port}"]
    assert wrong_name.status == "pending" and wrong_name.last_error.startswith("SSLError")
    assert "certificate is not valid for 'hooks.example.net'" in wrong_name.last_error


def test_an_https_receiver_whose_certificate_is_not_trusted_gets_nothing(
        client, login, api, new_case, people, tls_receiver):
    login(people.alice)
    register_webhook(client, tls_receiver.url_at("localhost"), ["case.sent"])
    send_a_case(api, new_case)
    [delivery] = deliveries(people.acme.id)
    assert tls_receiver.received == [] and "CERTIFICATE_VERIFY_FAILED" in delivery.last_error
