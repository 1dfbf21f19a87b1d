"""How long one agent round trip takes (sign request → PIN post → post-back form). Prints only; no asserts on time."""

import statistics
import time

from tests.cardagent.conftest import NHI_READER
from tests.cardagent.helpers import Client, check_login
from tests.cardbed.cards import pki_card

RUNS = 20


def median_round_trip(client: Client, card_type: str, reader_type: str) -> tuple[float, float]:
    """Median seconds of the two HTTP exchanges (page parsing excluded), and of the whole login with parsing."""
    http_times, whole = [], []
    for _ in range(RUNS):
        start = time.perf_counter()
        page = client.sign(card_type, reader_type)
        first = time.perf_counter() - start
        _action, fields = page.form(action="/v1/sign/pin")
        fields.update(pin="123456", action="confirm")
        start2 = time.perf_counter()
        reply = client.post("/v1/sign/pin", fields, origin=f"http://127.0.0.1:{client.port}")
        http_times.append(first + time.perf_counter() - start2)
        whole.append(time.perf_counter() - start)
        check_login(reply.post_back())
    return statistics.median(http_times), statistics.median(whole)


def report(capsys, name: str, times: tuple[float, float], extra: str = "") -> None:
    with capsys.disabled():
        print(f"\n[cardagent round trip] {name}: median of {RUNS}: {times[0] * 1000:.1f} ms HTTP "
              f"({times[1] * 1000:.1f} ms with page parsing){extra}")


def test_round_trip_time_soft_backend(soft, capsys):
    report(capsys, "soft backend, 醫事人員卡 RSA + cloud module RSA",
           median_round_trip(soft, "medical-staff", "nhi-reader"))


def test_round_trip_time_over_pcsc(bed, pcsc_agent, pki, capsys):
    client = pcsc_agent(NHI_READER)
    card = pki_card("medical-staff", pki.staff_rsa)
    bed.insert(0, card)
    sam = bed.slots[1].card
    before, sam_before = len(card.log), len(sam.log)
    times = median_round_trip(client, "medical-staff", "nhi-reader")
    apdus = (len(card.log) - before) / RUNS, (len(sam.log) - sam_before) / RUNS
    report(capsys, "PC/SC (pcscd + vpcd + emulator), 醫事人員卡 RSA + SAM EC", times,
           f"; APDUs per login: card {apdus[0]:.0f}, SAM {apdus[1]:.0f}")
