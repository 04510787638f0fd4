"""A real OpenLDAP server (Debian's slapd) started for a test in its own folder and port.

The suffix is dc=bcy,dc=example; people live under ou=people, groups (groupOfNames) under
ou=groups. The ppolicy overlay is loaded, so setting `pwdAccountLockedTime` to 000001010000Z
disables an account the way OpenLDAP administrators do: its binds fail from then on."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import ldap3

from tests.service_guard import absent

SLAPD = Path("/usr/sbin/slapd")
SUFFIX = "dc=bcy,dc=example"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "quan-tri-ldap"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"

CONF = """include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile {folder}/slapd.pid
database mdb
maxsize 33554432
suffix "{suffix}"
rootdn "{root}"
rootpw {password}
directory {folder}/data
overlay ppolicy
ppolicy_default "cn=default,ou=policies,{suffix}"
ppolicy_use_lockout
access to attrs=userPassword by self auth by anonymous auth by * none
access to * by * read
"""


@dataclass
class LdapServer:
    url: str

    def admin(self) -> ldap3.Connection:
        return ldap3.Connection(ldap3.Server(self.url), ROOT_DN, ROOT_PASSWORD, auto_bind=True)

    def add_person(self, uid: str, name: str, password: str, mail: str) -> str:
        dn = f"uid={uid},{PEOPLE}"
        with self.admin() as conn:
            surname = name.split(maxsplit=1)[0]
            assert conn.add(
                dn,
                ["inetOrgPerson"],
                {"cn": name, "sn": surname, "mail": mail, "userPassword": password},
            ), conn.result
        return dn

    def add_group(self, cn: str, members: list[str]) -> str:
        dn = f"cn={cn},{GROUPS}"
        with self.admin() as conn:
            assert conn.add(dn, ["groupOfNames"], {"cn": cn, "member": members}), conn.result
        return dn

    def remove_member(self, group_dn: str, member: str) -> None:
        with self.admin() as conn:
            assert conn.modify(group_dn, {"member": [(ldap3.MODIFY_DELETE, [member])]}), conn.result

    def lock(self, dn: str) -> None:
        """Disable the account (ppolicy: locked until an administrator unlocks it)."""
        with self.admin() as conn:
            assert conn.modify(
                dn, {"pwdAccountLockedTime": [(ldap3.MODIFY_REPLACE, ["000001010000Z"])]}
            ), conn.result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def ldap_server(folder: Path) -> Iterator[LdapServer]:
    if not SLAPD.exists():
        absent("Debian's slapd is not installed (scripts/install --dev installs it)")
    (folder / "data").mkdir(parents=True)
    conf = folder / "slapd.conf"
    conf.write_text(
        CONF.format(folder=folder, suffix=SUFFIX, root=ROOT_DN, password=ROOT_PASSWORD),
        encoding="utf-8",
    )
    port = _free_port()
    url = f"ldap://127.0.0.1:{port}"
    log = (folder / "slapd.log").open("wb")
    proc = subprocess.Popen(
        [str(SLAPD), "-d", "0", "-f", str(conf), "-h", f"{url}/"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "slapd did not start: " + (folder / "slapd.log").read_text(errors="replace")
                    ) from None
                time.sleep(0.1)
        server = LdapServer(url)
        with server.admin() as conn:
            conn.add(SUFFIX, ["dcObject", "organization"], {"dc": "bcy", "o": "Ban Cơ yếu"})
            conn.add(PEOPLE, ["organizationalUnit"], {"ou": "people"})
            conn.add(GROUPS, ["organizationalUnit"], {"ou": "groups"})
            conn.add(f"ou=policies,{SUFFIX}", ["organizationalUnit"], {"ou": "policies"})
            conn.add(
                f"cn=default,ou=policies,{SUFFIX}",
                ["pwdPolicy", "person"],
                {
                    "cn": "default",
                    "sn": "default",
                    "pwdAttribute": "userPassword",
                    "pwdLockout": "TRUE",
                },
            )
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
