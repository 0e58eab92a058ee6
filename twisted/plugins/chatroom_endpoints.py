"""The twistd dropin for C{reuseport:PORT}, a listening port several processes share."""

from chatroom.reuseport import ReusePortParser

reuseport = ReusePortParser()
