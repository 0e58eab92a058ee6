"""
One room across several processes and machines (nodes), through Redis.

The room's rules stay in L{chatroom.room}; this package only carries the
room's operations between nodes and decides when each node applies them:

  - (L{chatroom.bus}, beside the room: the interface the room talks to, and
    the in-memory default, where one process is the whole room);
  - L{wire}: operations as versioned JSON, carrying the room's events;
  - L{link}: the two Redis connections (subscribe; commands and publish),
    reconnecting for ever, with a PING to notice a dead link;
  - L{claims}: names unique across the cluster, claimed atomically in Redis;
  - L{node}: the Redis bus itself: one ordered channel for the room's
    traffic, a channel per node for private messages, heartbeats, dead
    nodes, and the split and the healing when Redis goes away and comes back.
"""
