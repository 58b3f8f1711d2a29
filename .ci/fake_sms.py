"""A fake Tencent Cloud SMS endpoint for the browser tests (Python's standard library only).

It answers `SendSms` (API 2021-01-11) as Tencent does, HTTP 200 with a `Response` object,
after checking the request's TC3-HMAC-SHA256 signature ("Signature v3") against the one
SecretId/SecretKey it is given: a wrong or stale signature gets Tencent's own
`AuthFailure.SignatureFailure` / `AuthFailure.SignatureExpire` error. Each code it accepts is
written to DIR/<E.164 number> (the latest code for that number), so a test can read it.

Usage: python3 fake_sms.py --port PORT --dir DIR --secret-id ID --secret-key KEY
"""
import argparse
import hashlib
import hmac
import json
import os
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def hmac256(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def expected_signature(secret_key: str, headers, signed: list, body: bytes, timestamp: int, service: str) -> str:
    """Signature v3 steps 1-3, over the request as received."""
    canonical_headers = "".join(f"{name}:{(headers.get(name) or '').strip().lower()}\n" for name in signed)
    canonical_request = "\n".join(
        ["POST", "/", "", canonical_headers, ";".join(signed), hashlib.sha256(body).hexdigest()]
    )
    date = datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d")
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join(
        ["TC3-HMAC-SHA256", str(timestamp), scope, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()]
    )
    key = hmac256(hmac256(hmac256(("TC3" + secret_key).encode("utf-8"), date), service), "tc3_request")
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def make_handler(args):
    class Handler(BaseHTTPRequestHandler):
        def answer(self, response: dict) -> None:
            response["RequestId"] = str(uuid.uuid4())
            data = json.dumps({"Response": response}).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def error(self, code: str, message: str) -> None:
            self.answer({"Error": {"Code": code, "Message": message}})

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            auth = self.headers.get("Authorization") or ""
            try:
                algorithm, rest = auth.split(" ", 1)
                fields = dict(part.strip().split("=", 1) for part in rest.split(","))
                secret_id, date, service, terminator = fields["Credential"].split("/")
                signed = fields["SignedHeaders"].split(";")
                timestamp = int(self.headers.get("X-TC-Timestamp") or "")
            except (ValueError, KeyError):
                return self.error("AuthFailure.InvalidAuthorization", "Authorization header is malformed.")
            if algorithm != "TC3-HMAC-SHA256" or terminator != "tc3_request" or not {"content-type", "host"} <= set(signed):
                return self.error("AuthFailure.InvalidAuthorization", "Authorization header is malformed.")
            if secret_id != args.secret_id:
                return self.error("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
            if abs(time.time() - timestamp) > 300:
                return self.error("AuthFailure.SignatureExpire", "Signature expired.")
            want = expected_signature(args.secret_key, self.headers, signed, body, timestamp, service)
            if not hmac.compare_digest(want, fields.get("Signature", "")):
                return self.error(
                    "AuthFailure.SignatureFailure",
                    "The provided credentials could not be validated. Please check your signature is correct.",
                )
            if self.headers.get("X-TC-Action") != "SendSms" or self.headers.get("X-TC-Version") != "2021-01-11":
                return self.error("InvalidAction", "The action or version is not supported.")
            try:
                req = json.loads(body)
                numbers, code = req["PhoneNumberSet"], req["TemplateParamSet"][0]
                assert req["SmsSdkAppId"] and req["SignName"] and req["TemplateId"]
            except (ValueError, KeyError, IndexError, TypeError, AssertionError):
                return self.error("InvalidParameter", "PhoneNumberSet, TemplateParamSet, SmsSdkAppId, SignName and TemplateId are required.")
            statuses = []
            for number in numbers:
                if not (isinstance(number, str) and number.startswith("+") and number[1:].isdigit()):
                    statuses.append({"PhoneNumber": str(number), "Code": "InvalidParameterValue.IncorrectPhoneNumber",
                                     "Message": "incorrect phone number", "SerialNo": "", "Fee": 0})
                    continue
                path = os.path.join(args.dir, number)
                with open(path + ".tmp", "w") as f:
                    f.write(str(code))
                os.replace(path + ".tmp", path)
                statuses.append({"PhoneNumber": number, "Code": "Ok", "Message": "send success",
                                 "SerialNo": str(uuid.uuid4()), "Fee": 1, "IsoCode": "CN", "SessionContext": ""})
            self.answer({"SendStatusSet": statuses})

        def log_message(self, fmt, *a) -> None:
            print("fake-sms:", fmt % a, flush=True)

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--secret-id", required=True)
    parser.add_argument("--secret-key", required=True)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(args))
    print(f"fake Tencent SMS on 127.0.0.1:{args.port}, codes in {args.dir}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
