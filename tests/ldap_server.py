"""A throwaway OpenLDAP server for the LDAP login tests: Debian's slapd, configured by a
slapd.conf in a temporary folder, listening on free ports of 127.0.0.1 (ldap://, with StartTLS,
and ldaps://, with a self-signed certificate made by openssl), its directory (dc=example,dc=org)
loaded with slapadd before it starts.

Entries: the suffix, ou=people (inetOrgPerson, uid=NAME), ou=groups (groupOfNames, cn=NAME)
and a search account cn=reader,dc=example,dc=org. Passwords are stored as {SSHA} hashes, as a
real directory keeps them; only a bind as the person (or the root DN) can compare one.

Quirks: slapd runs in the foreground (`-d`) so that stopping it is a plain terminate of the
process we started; as root it keeps root's rights (no `-u`). Debian 12 ships no AppArmor
profile for slapd; on a host that enforces one (Ubuntu ships one), a folder under /tmp may be
refused."""

import base64
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import skip_or_fail
from tests.servers import free_port

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"
MODULE_PATH = "/usr/lib/ldap"  # Debian builds the backends as modules
SCHEMA_DIR = "/etc/ldap/schema"
BASE_DN = "dc=example,dc=org"
ROOT_DN = f"cn=admin,{BASE_DN}"
READER_DN = f"cn=reader,{BASE_DN}"
STARTUP_SECONDS = 10

CONFIG = """\
include {schema}/core.schema
include {schema}/cosine.schema
include {schema}/inetorgperson.schema
modulepath {modules}
moduleload back_mdb
pidfile {folder}/slapd.pid
argsfile {folder}/slapd.args
TLSCertificateFile {folder}/cert.pem
TLSCertificateKeyFile {folder}/key.pem

database mdb
suffix "{base}"
rootdn "{root_dn}"
rootpw {root_hash}
directory {folder}/data
maxsize 10485760

# As a directory is usually set up: a password can only be used to bind, never read back.
access to attrs=userPassword
    by anonymous auth
    by * none
access to *
    by * read
"""


def make_certificate(folder: Path) -> None:
    """A self-signed certificate for 127.0.0.1 (cert.pem, which is also its own CA, and
    key.pem), for StartTLS and ldaps://."""
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
        capture_output=True, text=True)
    if made.returncode != 0:
        raise RuntimeError(f"openssl could not make a certificate:\n{made.stderr}")


def ssha(password: str) -> str:
    """The {SSHA} form slapd checks a bind against: SHA-1 of password + salt, then the salt."""
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode() + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def entry(dn: str, **attributes) -> str:
    """One LDIF record; a list value gives the attribute once per item."""
    lines = [f"dn: {dn}"]
    for name, value in attributes.items():
        lines += [f"{name}: {item}" for item in (value if isinstance(value, list) else [value])]
    return "\n".join(lines) + "\n"


def directory_ldif(people: dict, groups: dict, reader_password: str) -> str:
    """The whole directory: people maps uid -> {"cn", "mail", "password"}, groups maps
    cn -> [uid, ...]."""
    records = [
        entry(BASE_DN, objectClass=["dcObject", "organization"], dc="example", o="Example"),
        entry(f"ou=people,{BASE_DN}", objectClass="organizationalUnit", ou="people"),
        entry(f"ou=groups,{BASE_DN}", objectClass="organizationalUnit", ou="groups"),
        entry(READER_DN, objectClass=["organizationalRole", "simpleSecurityObject"],
              cn="reader", userPassword=ssha(reader_password)),
    ]
    for uid, person in people.items():
        records.append(entry(
            person_dn(uid), objectClass="inetOrgPerson", uid=uid, cn=person["cn"],
            sn=person["cn"].split()[-1], mail=person["mail"],
            userPassword=ssha(person["password"])))
    for name, members in groups.items():
        # groupOfNames needs at least one member; an empty group names the reader.
        records.append(entry(f"cn={name},ou=groups,{BASE_DN}", objectClass="groupOfNames",
                             cn=name, member=[person_dn(uid) for uid in members] or READER_DN))
    return "\n".join(records)


def person_dn(uid: str) -> str:
    return f"uid={uid},ou=people,{BASE_DN}"


@dataclass
class Slapd:
    """A configured slapd in `folder`, answering ldap:// (StartTLS offered) on `port` and
    ldaps:// on `tls_port`. start() and stop() may be called again and again; the directory and
    the ports are kept in between (for the "server down" test)."""

    folder: Path
    port: int
    tls_port: int
    bind_password: str
    base_dn: str = BASE_DN
    bind_dn: str = READER_DN
    root_dn: str = ROOT_DN
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.tls_port}"

    @property
    def ca_file(self) -> str:
        """The certificate that signed the server's (its own: it is self-signed)."""
        return str(self.folder / "cert.pem")

    @property
    def log(self) -> Path:
        return self.folder / "slapd.log"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [SLAPD, "-d", "0", "-f", str(self.folder / "slapd.conf"),
                 "-h", f"{self.url}/ {self.ldaps_url}/"], stdout=log, stderr=subprocess.STDOUT)
        self.wait_until_listening()

    def wait_until_listening(self) -> None:
        """Until both ports accept a connection; raise with slapd's output if it exits or
        stays silent."""
        deadline = time.monotonic() + STARTUP_SECONDS
        waiting = [self.port, self.tls_port]
        while waiting and time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"slapd exited with {self.process.returncode}:\n"
                                   f"{self.log.read_text(errors='replace')[-3000:]}")
            try:
                socket.create_connection(("127.0.0.1", waiting[0]), timeout=1).close()
                waiting.pop(0)
            except OSError:
                time.sleep(0.05)  # not listening yet
        if waiting:
            self.stop()
            raise RuntimeError(f"slapd did not listen on port {waiting[0]} within "
                               f"{STARTUP_SECONDS} s:\n"
                               f"{self.log.read_text(errors='replace')[-3000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def remove(self) -> None:
        """Stop it and delete its folder."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_slapd(people: dict, groups: dict, root_password: str = "root-secret",
                reader_password: str = "reader-secret") -> Slapd:
    """Configure, load and start a slapd; the caller calls .remove() when done."""
    if not (os.access(SLAPD, os.X_OK) and os.access(SLAPADD, os.X_OK)):
        skip_or_fail("slapd is not installed (Debian package slapd)")
    if not shutil.which("openssl"):
        skip_or_fail("openssl is not installed (Debian package openssl)")
    folder = Path(tempfile.mkdtemp(prefix="slapd-"))
    (folder / "data").mkdir()
    make_certificate(folder)
    config = folder / "slapd.conf"
    config.write_text(CONFIG.format(schema=SCHEMA_DIR, modules=MODULE_PATH, folder=folder,
                                    base=BASE_DN, root_dn=ROOT_DN, root_hash=ssha(root_password)))
    loaded = subprocess.run([SLAPADD, "-f", str(config), "-b", BASE_DN],
                            input=directory_ldif(people, groups, reader_password),
                            capture_output=True, text=True)
    if loaded.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"slapadd failed ({loaded.returncode}):\n{loaded.stderr}")
    server = Slapd(folder=folder, port=free_port(), tls_port=free_port(),
                   bind_password=reader_password)
    try:
        server.start()
    except BaseException:
        server.remove()
        raise
    return server
