"""Who is looking at a board right now. In memory for one process; in Redis when several
processes share the board's room, so every process sees every viewer.

Besides each socket, the store keeps each person once with a count of their sockets, so a join
or a leave costs the same with 5 viewers or 1,000 and says whether the list of people changed:
the room hears about it only then (a wall of screens logged in as one account joins quietly).
"""

import json


class MemoryPresence:
    def __init__(self):
        self._boards: dict[str, dict[str, dict]] = {}  # board → sid → person
        # board → username → (person, number of their sockets)
        self._people: dict[str, dict[str, tuple[dict, int]]] = {}

    def join(self, board_key: str, sid: str, person: dict) -> bool:
        """Add a socket; True when its person was not looking yet."""
        sids = self._boards.setdefault(board_key, {})
        if sid in sids:
            return False
        sids[sid] = person
        people = self._people.setdefault(board_key, {})
        _, sockets = people.get(person["username"], (person, 0))
        people[person["username"]] = (person, sockets + 1)
        return sockets == 0

    def leave(self, board_key: str, sid: str) -> bool:
        """Remove a socket; True when that was its person's last view of the board."""
        person = self._boards.get(board_key, {}).pop(sid, None)
        if person is None:
            return False
        people = self._people[board_key]
        known, sockets = people[person["username"]]
        if sockets > 1:
            people[person["username"]] = (known, sockets - 1)
            return False
        del people[person["username"]]
        return True

    def boards_of(self, sid: str) -> list[str]:
        return [key for key, sids in self._boards.items() if sid in sids]

    def watched(self, board_key: str) -> bool:
        return bool(self._boards.get(board_key))

    def viewers(self, board_key: str) -> list[dict]:
        return _by_name(person for person, _ in self._people.get(board_key, {}).values())

    def sids_of(self, board_key: str, username: str) -> list[str]:
        people = self._boards.get(board_key, {})
        return [sid for sid, person in people.items() if person["username"] == username]


# Joining and leaving are atomic: another process may be adding or removing a socket of the
# same person meanwhile.
_JOIN = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HSET', KEYS[3], ARGV[3], ARGV[2])
redis.call('SADD', KEYS[4], ARGV[5])
for i = 1, 4 do redis.call('EXPIRE', KEYS[i], ARGV[4]) end
if redis.call('HINCRBY', KEYS[2], ARGV[3], 1) == 1 then return 1 end
return 0
"""
_LEAVE = """
local person = redis.call('HGET', KEYS[1], ARGV[1])
if not person then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[4], ARGV[2])
local username = cjson.decode(person)['username']
if redis.call('HINCRBY', KEYS[2], username, -1) > 0 then return 0 end
redis.call('HDEL', KEYS[2], username)
redis.call('HDEL', KEYS[3], username)
return 1
"""


class RedisPresence:
    """Per board: a hash sid → person, a hash username → person and one username → number of
    sockets. Entries expire if a process dies without leaving."""

    TTL = 24 * 3600

    def __init__(self, url: str):
        import redis

        self._redis = redis.Redis.from_url(url)
        self._join = self._redis.register_script(_JOIN)
        self._leave = self._redis.register_script(_LEAVE)

    @staticmethod
    def _keys(board_key: str) -> tuple[str, str, str]:
        return (f"sb:presence:{board_key}", f"sb:presence-count:{board_key}",
                f"sb:presence-people:{board_key}")

    def join(self, board_key: str, sid: str, person: dict) -> bool:
        keys = [*self._keys(board_key), f"sb:presence-sid:{sid}"]
        args = [sid, json.dumps(person), person["username"], self.TTL, board_key]
        return bool(self._join(keys=keys, args=args))

    def leave(self, board_key: str, sid: str) -> bool:
        keys = [*self._keys(board_key), f"sb:presence-sid:{sid}"]
        return bool(self._leave(keys=keys, args=[sid, board_key]))

    def boards_of(self, sid: str) -> list[str]:
        return [key.decode() for key in self._redis.smembers(f"sb:presence-sid:{sid}")]

    def watched(self, board_key: str) -> bool:
        return bool(self._redis.exists(f"sb:presence:{board_key}"))

    def viewers(self, board_key: str) -> list[dict]:
        values = self._redis.hvals(f"sb:presence-people:{board_key}")
        return _by_name(json.loads(value) for value in values)

    def sids_of(self, board_key: str, username: str) -> list[str]:
        people = self._redis.hgetall(f"sb:presence:{board_key}")
        return [
            sid.decode() for sid, person in people.items()
            if json.loads(person)["username"] == username
        ]


def _by_name(people) -> list[dict]:
    return sorted(people, key=lambda person: person["name"])


def make_presence(redis_url: str | None):
    return RedisPresence(redis_url) if redis_url else MemoryPresence()
