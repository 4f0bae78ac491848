"""Who is looking at a board right now. In memory for one process; in Redis when several
processes share the board's room, so every process sees every viewer."""

import json


class MemoryPresence:
    def __init__(self):
        self._boards: dict[str, dict[str, dict]] = {}

    def join(self, board_key: str, sid: str, person: dict) -> None:
        self._boards.setdefault(board_key, {})[sid] = person

    def leave(self, board_key: str, sid: str) -> None:
        self._boards.get(board_key, {}).pop(sid, None)

    def boards_of(self, sid: str) -> list[str]:
        return [key for key, sids in self._boards.items() if sid in sids]

    def viewers(self, board_key: str) -> list[dict]:
        return _unique(self._boards.get(board_key, {}).values())

    def sids_of(self, board_key: str, username: str) -> list[str]:
        people = self._boards.get(board_key, {})
        return [sid for sid, person in people.items() if person["username"] == username]


class RedisPresence:
    """One hash per board (sid → person); entries expire if a process dies without leaving."""

    TTL = 24 * 3600

    def __init__(self, url: str):
        import redis

        self._redis = redis.Redis.from_url(url)

    def join(self, board_key: str, sid: str, person: dict) -> None:
        pipe = self._redis.pipeline()
        pipe.hset(f"sb:presence:{board_key}", sid, json.dumps(person))
        pipe.expire(f"sb:presence:{board_key}", self.TTL)
        pipe.sadd(f"sb:presence-sid:{sid}", board_key)
        pipe.expire(f"sb:presence-sid:{sid}", self.TTL)
        pipe.execute()

    def leave(self, board_key: str, sid: str) -> None:
        pipe = self._redis.pipeline()
        pipe.hdel(f"sb:presence:{board_key}", sid)
        pipe.srem(f"sb:presence-sid:{sid}", board_key)
        pipe.execute()

    def boards_of(self, sid: str) -> list[str]:
        return [key.decode() for key in self._redis.smembers(f"sb:presence-sid:{sid}")]

    def viewers(self, board_key: str) -> list[dict]:
        values = self._redis.hvals(f"sb:presence:{board_key}")
        return _unique(json.loads(value) for value in values)

    def sids_of(self, board_key: str, username: str) -> list[str]:
        people = self._redis.hgetall(f"sb:presence:{board_key}")
        return [
            sid.decode() for sid, person in people.items()
            if json.loads(person)["username"] == username
        ]


def _unique(people) -> list[dict]:
    by_username = {person["username"]: person for person in people}
    return sorted(by_username.values(), key=lambda person: person["name"])


def make_presence(redis_url: str | None):
    return RedisPresence(redis_url) if redis_url else MemoryPresence()
