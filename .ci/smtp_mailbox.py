"""The SMTP server of the mail tests: aiosmtpd on a loopback port, storing every message it
accepts in a Maildir (one file per message under DIR/new/, with aiosmtpd's X-RcptTo header
naming the envelope recipients).

AUTH PLAIN and LOGIN are offered without TLS (loopback only) and accept one user, given by
--user and --password; mail without AUTH is accepted too, and a wrong password gets 535.
Runs until SIGTERM or SIGINT.

Usage: python smtp_mailbox.py --port PORT --maildir DIR --user USER --password PASSWORD
"""
import argparse
import signal

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    args = parser.parse_args()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == args.user.encode()
            and auth_data.password == args.password.encode()
        )
        return AuthResult(success=ok, handled=False)

    # The signals are waited for in this thread: block them before the server's thread starts.
    stop = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop)
    controller = Controller(
        Mailbox(args.maildir),
        hostname="127.0.0.1",
        port=args.port,
        authenticator=authenticator,
        auth_required=False,
        auth_require_tls=False,
    )
    controller.start()
    print(f"mailbox listening on 127.0.0.1:{args.port}, Maildir {args.maildir}", flush=True)
    signal.sigwait(stop)
    controller.stop()


if __name__ == "__main__":
    main()
