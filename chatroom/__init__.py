"""chatroom: a multi-user chat server on Twisted (telnet, nc, or chatroom-client)."""

__version__ = "1.0.0"
