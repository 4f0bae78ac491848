"""A person's own profile: their picture as avatar (initials by default), shown wherever they
appear, served at an address that changes with each picture."""

import io
import re
import struct
import zlib

from tests import factories as make

AVATAR = re.compile(r'<img class="avatar picture[^"]*" src="(/avatars/[^"]+)"')


def png(width: int = 4, height: int = 4) -> bytes:
    """A real (tiny, grey) PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0,
                                                               0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def upload(client, data: bytes, name: str = "me.png"):
    return client.post("/profile/avatar", data={"picture": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_a_picture_replaces_the_initials_wherever_the_person_appears(app, simple, client, login):
    board, ann, bob = simple
    make.card(board, ann, "owned by ann", owner="ann")
    login("ann")
    assert AVATAR.search(client.get("/profile").get_data(as_text=True)) is None
    picture = png()
    assert upload(client, picture).status_code == 302
    profile = client.get("/profile").get_data(as_text=True)
    address = AVATAR.search(profile).group(1)
    assert AVATAR.search(client.get("/boards/SIM").get_data(as_text=True)).group(1) == address
    outsider = app.test_client()  # no login: a wall display shows it too
    served = outsider.get(address)
    assert served.status_code == 200 and served.data == picture
    assert served.headers["Content-Type"] == "image/png"
    assert "immutable" in served.headers["Cache-Control"]

    assert upload(client, png(8, 8)).status_code == 302
    assert outsider.get(address).status_code == 404  # the old picture's address is gone
    client.post("/profile/avatar/remove")
    assert AVATAR.search(client.get("/profile").get_data(as_text=True)) is None


def test_only_small_png_jpeg_or_webp_pictures_are_taken(simple, client, login):
    login("bob")
    for data, says in [(b"<svg onload=alert(1)>", "not a PNG, JPEG or WebP"),
                       (b"GIF89a....", "not a PNG, JPEG or WebP"),
                       (b"\x89PNG\r\n\x1a\n" + b"\0" * (300 * 1024), "at most 256 KiB"),
                       (b"", "Choose a picture file")]:
        answer = upload(client, data)
        assert answer.status_code == 422 and says in answer.get_data(as_text=True)
    assert AVATAR.search(client.get("/profile").get_data(as_text=True)) is None


def test_a_forged_picture_address_finds_nothing(app, simple):
    assert app.test_client().get("/avatars/WzEsIDFd.forged").status_code == 404
