"""The longest text a client may send, per kind of input: the API's serializers and the
forms of the console and the portal take their ``max_length`` from here, so a 1 MB
description is a field error rather than a row (docs/api.md, "Limits").

Plain constants, no imports: any module of any layer may use them.
"""

#: Free text: descriptions, message bodies, notes, reasons.
TEXT_MAX_LENGTH = 50_000
#: One-line titles (a case's subject, a defect's title).
SUBJECT_MAX_LENGTH = 200
#: An e-mail address: the column's length (RFC 5321's 254 for a forward path).
EMAIL_MAX_LENGTH = 254
#: A password. It is hashed on every sign-in attempt (PBKDF2 runs over it hundreds of
#: thousands of times), so an unbounded one lets anyone make the server hash a megabyte
#: per request; 4096 is far beyond any passphrase or password manager's output.
PASSWORD_MAX_LENGTH = 4096
#: One line of a small structured text field (a weekday's working windows).
LINE_MAX_LENGTH = 500
#: A short list typed into one field (a calendar's holidays, an organization's domains).
LIST_MAX_LENGTH = 5_000
#: The largest database id accepted from input: eighteen digits, as ``<id:…>`` in URLs
#: (``lib/converters.py``); every such value fits a 64-bit key.
ID_MAX = 10**18 - 1
