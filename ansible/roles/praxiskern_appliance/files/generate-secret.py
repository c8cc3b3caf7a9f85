#!/usr/bin/env python3
"""Writes one new secret to a file that must not exist yet (mode 0600, owned by uid:gid).

    generate-secret.py KIND PATH UID GID      KIND: password | key | passphrase

password: 40 URL-safe characters; key: 32 random bytes as base64url (43 characters);
passphrase: six groups of five lower-case letters and digits, for typing by hand.
The value is never printed.
"""
import os
import secrets
import string
import sys


def make(kind: str) -> str:
    if kind == "password":
        return secrets.token_urlsafe(30)
    if kind == "key":
        return secrets.token_urlsafe(32)
    if kind == "passphrase":
        alphabet = string.ascii_lowercase + string.digits
        return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(6))
    raise SystemExit(f"unknown secret kind {kind}")


def main() -> None:
    kind, path, uid, gid = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    value = make(kind)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchown(fd, uid, gid)
        os.write(fd, (value + "\n").encode())
    finally:
        os.close(fd)


if __name__ == "__main__":
    main()
