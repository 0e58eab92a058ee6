"""
The browser door: a page and a WebSocket, served by chatroom itself.

C{render} turns the room's events into JSON for a browser (docs/websocket.md),
C{door} is the WebSocket front door to the same room and sessions as the line
door, C{site} the HTTP side (the page, its files, the origin check), and
C{static/} the page itself.
"""
