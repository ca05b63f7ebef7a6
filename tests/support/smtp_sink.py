"""A real SMTP server for wecare's tests (aiosmtpd), writing each accepted message as one
JSON line, parsed by Python's own e-mail library (a parser independent of the sender's).

    python3 smtp_sink.py PORT OUTFILE [DELAY_SECONDS]

Recipients containing "reject" are refused for good (550); "tempfail" for now (451).
A message is written only after DELAY and just before "250" is answered; if the client
goes away during the delay, aiosmtpd cancels the handler and nothing is written, as a
real server would not have accepted the message either.
"""

import asyncio
import json
import sys
import time
from email import policy
from email.parser import BytesParser

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, path, delay):
        self.path = path
        self.delay = delay

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if "reject" in address:
            return "550 5.1.1 No such mailbox here"
        if "tempfail" in address:
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        msg = BytesParser(policy=policy.default).parsebytes(envelope.original_content or envelope.content)
        text = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        attachments = []
        for part in msg.iter_attachments():
            attachments.append(
                {
                    "filename": part.get_filename(),
                    "content_type": part.get_content_type(),
                    "content": part.get_content() if part.get_content_maintype() == "text" else "",
                }
            )
        record = {
            "received_at": time.time(),
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "message_id": msg["Message-ID"],
            "subject": msg["Subject"],
            "from": msg["From"],
            "to": msg["To"],
            "headers": {k: str(v) for k, v in msg.items()},
            "content_type": msg.get_content_type(),
            "text": text.get_content() if text else None,
            "html": html.get_content() if html else None,
            "attachments": attachments,
        }
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
            f.flush()
        return "250 2.0.0 Message accepted for delivery"


async def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    loop = asyncio.get_running_loop()
    sink = Sink(path, delay)
    server = await loop.create_server(
        lambda: SMTP(sink, hostname="sink.test", enable_SMTPUTF8=True),
        host="127.0.0.1",
        port=port,
        reuse_address=True,
    )
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
