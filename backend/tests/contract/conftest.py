"""Fixtures: one Prism mock of Twilio's v2010 API per session, and a gateway pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.contract.prism import (
    INSTALL_HINT,
    PRISM_BIN,
    TWILIO_SPEC,
    PrismServer,
    SpecCheckingTransport,
    TwilioSpec,
    run_prism,
)
from warm_transfer.telephony.gateway import TwilioGateway

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "contract-test-auth-token"


def _require_install() -> None:
    missing = [str(p) for p in (PRISM_BIN, TWILIO_SPEC) if not p.exists()]
    if missing:
        pytest.fail(
            f"Contract tests need Prism and Twilio's OpenAPI description: {INSTALL_HINT}. "
            f"Missing: {', '.join(missing)}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def twilio_spec() -> TwilioSpec:
    _require_install()
    return TwilioSpec(TWILIO_SPEC)


@pytest.fixture(scope="session")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrismServer]:
    _require_install()
    yield from run_prism(tmp_path_factory.mktemp("prism"))


@pytest.fixture
def transport(twilio_spec: TwilioSpec) -> SpecCheckingTransport:
    return SpecCheckingTransport(spec=twilio_spec)


@pytest.fixture
async def http(transport: SpecCheckingTransport) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=transport, timeout=10.0) as client:
        yield client


@pytest.fixture
def gateway(prism: PrismServer, http: httpx.AsyncClient) -> TwilioGateway:
    return TwilioGateway(
        account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, http=http, base_url=prism.base_url
    )
