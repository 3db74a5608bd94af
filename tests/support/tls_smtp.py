"""A STARTTLS-only SMTP server for wirewatch's tests (aiosmtpd).

Usage: tls_smtp.py PORT CERT KEY MAILDIR
Refuses MAIL before STARTTLS, writes each message to MAILDIR/<n>.eml, and prints READY once
it listens.
"""

import asyncio
import os
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


class Save:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        path = os.path.join(self.folder, f"{self.count:04}.eml")
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 saved"


class TlsController(Controller):
    def __init__(self, handler, context, **kw):
        self.context = context
        super().__init__(handler, **kw)

    def factory(self):
        return SMTP(self.handler, require_starttls=True, tls_context=self.context)


def main():
    port, cert, key, folder = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    controller = TlsController(Save(folder), context, hostname="127.0.0.1", port=port)
    controller.start()
    print("READY", flush=True)
    try:
        asyncio.run(asyncio.Event().wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
