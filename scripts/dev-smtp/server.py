"""Development SMTP server for Sluice's tests and local work (PyPI aiosmtpd).

Accepts every message and appends it to OUT_FILE as one JSON line:
  {"mail_from", "rcpt_tos", "data" (the raw message), "auth_mechanism", "auth_login",
   "message": {"headers": [[name, value], ...], "parts": [{"content_type", "text"}, ...]}}
where "message" is the raw data parsed by Python's email package (headers decoded,
leaf parts decoded from their transfer encoding), so tests need no MIME parser.

Recipients whose local part starts with "reject" are refused with 550, so callers can
test a permanent failure. With --auth, AUTH PLAIN and LOGIN are offered (any password,
also without TLS) and required before MAIL. Prints "dev-smtp port=N" once listening.
Local use only: it listens on 127.0.0.1 and accepts any password.
"""

import argparse
import asyncio
import email
import email.policy
import json
import signal

from aiosmtpd.smtp import SMTP, AuthResult


def parse(raw: bytes) -> dict:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    parts = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        try:
            text = part.get_content()
        except (LookupError, ValueError):
            text = None
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        parts.append({"content_type": part.get_content_type(), "text": text})
    return {"headers": [[k, str(v)] for k, v in msg.items()], "parts": parts}


class Handler:
    def __init__(self, out_file: str):
        self.out_file = out_file

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith("reject"):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        login = session.login_data
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": raw.decode("utf-8", errors="replace"),
            "auth_mechanism": getattr(session, "dev_smtp_mechanism", None),
            "auth_login": login.decode("utf-8", errors="replace") if login else None,
            "message": parse(raw),
        }
        # One write per message, flushed before the 250, so a reader never sees half a line
        # of a message the client was told is delivered.
        with open(self.out_file, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        return "250 Message accepted for delivery"


def accept_any(server, session, envelope, mechanism, auth_data):
    session.dev_smtp_mechanism = mechanism
    return AuthResult(success=True, auth_data=auth_data)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_file", help="file each accepted message is appended to")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--auth", action="store_true", help="offer and require AUTH")
    args = parser.parse_args()

    handler = Handler(args.out_file)
    kwargs = {"hostname": "dev-smtp"}
    if args.auth:
        # Offered over plain text too: the tests run without TLS.
        kwargs.update(authenticator=accept_any, auth_required=True, auth_require_tls=False)

    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, **kwargs), args.host, args.port)
    port = server.sockets[0].getsockname()[1]
    print(f"dev-smtp port={port}", flush=True)

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
