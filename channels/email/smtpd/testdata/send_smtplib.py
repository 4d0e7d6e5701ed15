#!/usr/bin/env python3
"""Sends one message to Parley's SMTP listener with Python's smtplib and
email packages, as a script or mail client written in Python would.

usage: send_smtplib.py HOST:PORT FROM TO SUBJECT BODY_FILE [IN_REPLY_TO]

The body is read from BODY_FILE (UTF-8). An HTML alternative and a small
text attachment are added, so the listener sees a multipart message.
Exits non-zero, with the server's answer on stderr, if the message is
refused.
"""
import smtplib
import sys
from email.message import EmailMessage
from email.utils import formatdate, make_msgid


def main():
    hostport, sender, rcpt, subject, body_file = sys.argv[1:6]
    in_reply_to = sys.argv[6] if len(sys.argv) > 6 else ""
    host, port = hostport.rsplit(":", 1)
    with open(body_file, encoding="utf-8") as f:
        body = f.read()

    msg = EmailMessage()
    msg["From"] = "Robin Python <%s>" % sender
    msg["To"] = rcpt
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="python.example")
    if in_reply_to:
        msg["In-Reply-To"] = "<%s>" % in_reply_to
        msg["References"] = "<%s>" % in_reply_to
    msg.set_content(body)
    msg.add_alternative("<p>%s</p>" % body.split("\n")[0], subtype="html")
    msg.add_attachment("line one\nline two\n", filename="notes.txt")

    try:
        with smtplib.SMTP(host, int(port), timeout=30) as s:
            s.send_message(msg, from_addr=sender, to_addrs=[rcpt])
    except smtplib.SMTPException as e:
        print("refused: %s" % e, file=sys.stderr)
        sys.exit(2)
    print(msg["Message-ID"])


if __name__ == "__main__":
    main()
