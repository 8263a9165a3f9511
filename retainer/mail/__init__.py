"""The e-mail channel: mailboxes, inbound messages into cases, outbound notifications."""
