# -*- test-case-name: tests.test_tap -*-
"""The chat server as a twistd service: on stop, everyone is told and let go."""

from __future__ import annotations

from twisted.application.service import Service
from twisted.internet.defer import Deferred

from chatroom.protocol import ChatFactory


class ChatService(Service):
    """
    Owns the room's lifecycle.  twistd turns SIGTERM and SIGINT into a reactor
    stop, which calls L{stopService}; the reactor waits for its Deferred.
    """

    def __init__(self, factory: ChatFactory) -> None:
        self.factory = factory

    def stopService(self) -> Deferred[None]:
        super().stopService()
        return self.factory.shutdown()
