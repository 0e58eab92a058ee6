"""The twistd dropin: C{twistd chatroom}.  Everything else is imported lazily."""

from twisted.application.service import ServiceMaker

chatroom = ServiceMaker(
    "chatroom",
    "chatroom.tap",
    "A multi-user chat server for telnet, nc and chatroom-client.",
    "chatroom",
)
